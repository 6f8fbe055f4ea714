// The nano classifier in wasm under Node against native, side by side:
// each round runs build/nano_bench (native, one thread) and then
// model.classify through the public JS API (the single-thread SIMD128 build
// in its worker, the message round trip included) on the same 16-token
// utterance; medians over rounds of the per-round medians.
//
// With --llama, each round also runs the nano's layers as a causal decoder
// (build/bench/nano-causal-q4_0.gguf, from `build/nano_bench --causal`):
// a 16-token prefill by `slm bench` and by llama.cpp (bench/llama_cpp.mjs,
// installed in build/peer by bench/compare.mjs).
//
//   node bench/nano_bench.mjs [--rounds 5] [--reps 500] [--threads 1] [--llama] [--model build/bench/nano-q4_0.gguf]
// --threads: the wasm side's (the pthreads build for more than one); native stays on one.
// Needs `make wasm` and build/nano_bench (see bench/nano_bench.c).
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadModel } from '../js/node.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, def) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : def; };
const rounds = +arg('--rounds', 5), reps = +arg('--reps', 500), threads = +arg('--threads', 1);
const model = arg('--model', join(root, 'build/bench/nano-q4_0.gguf'));
const median = (a) => { const b = [...a].sort((x, y) => x - y), k = b.length >> 1; return b.length % 2 ? b[k] : (b[k - 1] + b[k]) / 2; };

const llama = process.argv.includes('--llama'), causal = join(root, 'build/bench/nano-causal-q4_0.gguf');
const nat = [], wasm = [], ours = [], peer = [];
let text, kernels;
for (let r = 0; r < rounds; r++) {
  if (llama) {
    const run = (cmd, args, cwd) => JSON.parse(execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n').find((l) => l.startsWith('{')));
    ours.push(run(join(root, 'build/slm'), ['bench', '-m', causal, '-p', '16', '-n', '0', '--reps', String(reps), '--json'], root).prefill_ms);
    peer.push(run('node', ['llama_cpp.mjs', causal, '16', '0', '1', String(reps)], join(root, 'build/peer')).prefill_ms);
    console.error(`round ${r + 1}: causal 16-token prefill: slm360 ${ours.at(-1).toFixed(3)} ms, llama.cpp ${peer.at(-1).toFixed(3)} ms`);
  }
  const out = execFileSync(join(root, 'build/nano_bench'), ['--reps', String(reps), model], { cwd: root, encoding: 'utf8' });
  nat.push(Number(out.split('\n').find((l) => l.startsWith(model) || l.includes('.gguf')).trim().split(/\s+/)[3]));
  text = out.match(/^text: "(.*)"$/m)[1];
  kernels = out.match(/, (\w+) kernels,/)[1];

  const m = await loadModel(model, { threads });
  const ms = [];
  for (let i = -Math.ceil(reps / 10); i < reps; i++) {
    const t0 = performance.now();
    await m.classify(text);
    if (i >= 0) ms.push(performance.now() - t0);
  }
  wasm.push(median(ms));
  await m.dispose();
  console.error(`round ${r + 1}: native ${nat.at(-1).toFixed(3)} ms, wasm ${wasm.at(-1).toFixed(3)} ms`);
}
const n = median(nat), w = median(wasm);
console.log(`"${text}" on ${model}, ${rounds} rounds of ${reps} classifications, native on one thread, wasm on ${threads}`);
console.log(`native (${kernels})`.padEnd(21) + `${n.toFixed(3)} ms`);
console.log(`wasm SIMD128 (Node)  ${w.toFixed(3)} ms  (${(w / n).toFixed(2)} x native)${threads > 1 ? `, ${threads} threads` : ''}`);
if (llama) {
  console.log(`causal decoder of the same layers, 16-token prefill, one thread:`);
  console.log(`slm360 (${kernels})`.padEnd(21) + `${median(ours).toFixed(3)} ms`);
  console.log(`llama.cpp (prebuilt) ${median(peer).toFixed(3)} ms`);
}
