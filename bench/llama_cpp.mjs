// The peer for side-by-side benchmarks: llama.cpp (prebuilt, through the
// node-llama-cpp npm package) on the same GGUF file as `slm bench`, measured
// the same way: prefill of P tokens, then N decode steps, medians of reps
// after one warm-up. Never a dependency of the product: bench/compare.sh
// installs it into build/peer on demand.
//
//   node bench/llama_cpp.mjs MODEL.gguf P N THREADS REPS   -> one JSON line
import { getLlama } from "node-llama-cpp";

const [model, P, N, threads, reps] = process.argv.slice(2);
const nPrompt = +P, nGen = +N, nThreads = +threads, nReps = +reps;
const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
const m = await llama.loadModel({ modelPath: model, useMmap: true });
const ctx = await m.createContext({
  contextSize: nPrompt + nGen + 16, batchSize: Math.max(512, nPrompt),
  threads: { ideal: nThreads, min: nThreads },
});

// the same pseudo-random prompt ids as `slm bench` (a 64-bit LCG)
const nVocab = m.fileInfo.metadata.tokenizer?.ggml?.tokens?.length ?? 32000;
let s = 0x1234567n;
const ids = [];
for (let i = 0; i < nPrompt + nGen; i++) {
  s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
  ids.push(Number((s >> 33n) % BigInt(nVocab)));
}

const median = (a) => { const b = [...a].sort((x, y) => x - y); const k = b.length >> 1; return b.length % 2 ? b[k] : (b[k - 1] + b[k]) / 2; };
const pre = [], dec = [];
for (let rep = 0; rep <= nReps; rep++) {
  const seq = ctx.getSequence();
  const t0 = performance.now();
  await seq.evaluateWithoutGeneratingNewTokens(ids.slice(0, nPrompt));
  const t1 = performance.now();
  // decode: one token at a time, as generation does
  for (let i = 0; i < nGen; i++) await seq.evaluateWithoutGeneratingNewTokens([ids[nPrompt + i]]);
  const t2 = performance.now();
  if (rep > 0) { pre.push(t1 - t0); dec.push((t2 - t1) / nGen); }
  seq.dispose();
}
console.log(JSON.stringify({ engine: "llama.cpp", build: llama.buildType, model, threads: nThreads,
  n_prompt: nPrompt, n_gen: nGen, prefill_ms: median(pre), decode_ms_per_token: median(dec) }));
await ctx.dispose();
await m.dispose();
