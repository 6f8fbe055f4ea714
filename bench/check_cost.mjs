// What the weights check costs (slm_model_check: every float scanned for NaN
// and infinity), to decide whether it can be on by default. The slm360-base
// shape with random weights in F32, F16, Q8_0 and Q4_0:
// - native: `slm info --check`'s own timer around the scan (the file already
//   in the page cache: what is left is the scan itself);
// - wasm in Node: the engine's 'init' -> 'ready' time of loadModel with
//   check: true minus without, the two interleaved (the bytes are already in
//   wasm memory by 'init'), beside the whole load's time without it.
// Medians of --rounds runs, in ms and ms per 100 MB of weights.
//
//   make && make wasm    (or: make test, which builds both)
//   node bench/check_cost.mjs [--rounds 5] [--types f32,f16,q8_0,q4_0]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { median } from './wasm_measure.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, def) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : def; };
const rounds = +arg('--rounds', 5), types = arg('--types', 'f32,f16,q8_0,q4_0').split(',');
const slm = join(root, 'build/slm');
const log = (s) => process.stderr.write(`${s}\n`);

if (!existsSync(slm) || !existsSync(join(root, 'dist/slm360.js'))) {
  log('bench/check_cost.mjs needs build/slm and the wasm engine: run `make && make wasm` first');
  process.exit(2);
}
const { loadModel } = await import('../js/node.js');

function model(type) {
  const path = join(root, `build/bench/base-${type}.gguf`);
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    log(`making ${path}`);
    execFileSync(slm, ['init', '--preset', 'slm360-base', '--random', '--seed', '1', '--type', type, '-o', path], { stdio: 'ignore' });
  }
  return path;
}

function nativeMs(path) {
  const out = execFileSync(slm, ['info', '--check', path], { encoding: 'utf8' });
  const m = out.match(/check\s+every float finite \(([\d.]+) MB in ([\d.]+) ms\)/);
  if (!m) throw new Error(`slm info --check printed no timing:\n${out}`);
  return { mb: +m[1], ms: +m[2] };
}

// ms from the 'init' progress event to the model being ready, and of the whole load.
async function loadMs(bytes, check) {
  let t0 = 0;
  const start = performance.now();
  const m = await loadModel(bytes, { check, threads: 1, ctx: 64, onProgress: (p) => { if (p.phase === 'init') t0 = performance.now(); } });
  const end = performance.now();
  await m.dispose();
  return { init: end - t0, total: end - start };
}

const rows = [];
for (const type of types) {
  const path = model(type), bytes = new Uint8Array(readFileSync(path));
  const native = [], wasmOn = [], wasmOff = [], total = [];
  let mb = 0;
  nativeMs(path);   // warm the page cache
  for (let r = 0; r < rounds; r++) {
    const n = nativeMs(path);
    mb = n.mb;
    native.push(n.ms);
    const off = await loadMs(bytes, false);
    wasmOff.push(off.init);
    total.push(off.total);
    wasmOn.push((await loadMs(bytes, true)).init);
  }
  const nat = median(native), wasm = median(wasmOn) - median(wasmOff), load = median(total);
  rows.push({ type: type.toUpperCase(), mb, nat, wasm, load });
  log(`${type}: ${mb} MB, native ${nat.toFixed(1)} ms, wasm ${wasm.toFixed(1)} ms (whole load without check ${load.toFixed(1)} ms)`);
}

const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
console.log(`\n${cpus()[0].model}, ${cpus().length} cores, commit ${commit}, medians of ${rounds}:\n`);
console.log('| weights | MB | native scan ms | native ms / 100 MB | wasm (Node) scan ms | wasm ms / 100 MB | wasm load without it, ms |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows)
  console.log(`| ${r.type} | ${r.mb.toFixed(0)} | ${r.nat.toFixed(1)} | ${(r.nat / r.mb * 100).toFixed(1)} | ${r.wasm.toFixed(1)} | ${(r.wasm / r.mb * 100).toFixed(1)} | ${r.load.toFixed(0)} |`);
