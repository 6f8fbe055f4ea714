// Our logits against llama.cpp's on the same GGUF files, over a prompt long
// enough to cross Gemma 3's sliding window (300 tokens by default): the
// golden files' prompts are 42 and 48 tokens, so this is where the window and
// long-range RoPE are checked. Prints, per model, mean and worst cosine and
// top-1 agreement, in all and past the first 128 positions.
//
//   node bench/archs_vs_llama_cpp.mjs [--tokens 300] [MODEL.gguf ...]
// Without models: every file of ../shared/golden/archs. llama.cpp: see
// bench/llama_cpp_peer.mjs (installed into build/peer on first use).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { llamaCppTool } from './llama_cpp_peer.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const at = argv.indexOf('--tokens'), nTokens = at >= 0 ? +argv.splice(at, 2)[1] : 300;
const slm = join(root, 'build/slm');
if (!existsSync(slm)) execFileSync('make', ['-C', root], { stdio: 'inherit' });

const { tool, bins } = llamaCppTool('llama_cpp_logits');

// the prompt: BOS, then ids from a 64-bit LCG over the vocabulary (as `slm bench`)
function promptIds(vocab) {
  let s = 0x1234567n;
  const ids = [1];
  while (ids.length < nTokens) {
    s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    ids.push(Number((s >> 33n) % BigInt(vocab)));
  }
  return ids;
}

function compare(a, b, vocab) {
  const n = a.length / vocab, per = [];
  let agree = 0, agreeLate = 0;
  for (let t = 0; t < n; t++) {
    let ab = 0, aa = 0, bb = 0, ia = 0, ib = 0;
    for (let i = 0; i < vocab; i++) {
      const x = a[t * vocab + i], y = b[t * vocab + i];
      ab += x * y, aa += x * x, bb += y * y;
      if (x > a[t * vocab + ia]) ia = i;
      if (y > b[t * vocab + ib]) ib = i;
    }
    per.push(ab / Math.sqrt(aa * bb));
    agree += ia === ib;
    if (t >= 128) agreeLate += ia === ib;
  }
  const mean = (v) => v.reduce((x, y) => x + y, 0) / v.length;
  return { n, mean: mean(per), min: Math.min(...per), late: mean(per.slice(128)), agree, agreeLate };
}

const dir = join(root, '../shared/golden/archs');
const models = argv.length ? argv : readdirSync(dir).filter((f) => f.endsWith('.gguf')).sort().map((f) => join(dir, f));
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
console.log(`${nTokens}-token prompts, commit ${commit}\n`);
console.log('| model | cosine mean | cosine min | past 128: mean | top-1 | past 128: top-1 |');
console.log('|---|---|---|---|---|---|');
for (const model of models) {
  const info = execFileSync(slm, ['info', model], { encoding: 'utf8' });
  const vocab = +info.match(/vocabulary\s+(\d+) tokens/)[1];
  const ids = promptIds(vocab).join(' ');
  execFileSync(slm, ['logits', '-m', model, '--prompt-ids', ids, '-o', join(root, 'build/bench/ours.f32'), '-t', '2'], { stdio: 'ignore' });
  execFileSync(tool, [bins, model, join(root, 'build/bench/theirs.f32'), ...ids.split(' ')]);
  const r = compare(new Float32Array(readFileSync(join(root, 'build/bench/ours.f32')).buffer),
    new Float32Array(readFileSync(join(root, 'build/bench/theirs.f32')).buffer), vocab);
  const name = model.split('/').pop().replace(/\.gguf$/, '');
  console.log(`| ${name} | ${r.mean.toFixed(6)} | ${r.min.toFixed(6)} | ${r.late.toFixed(6)} | ${r.agree}/${r.n} | ${r.agreeLate}/${r.n - 128} |`);
}
