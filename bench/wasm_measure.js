// One wasm measurement through the public JS API, the way `slm bench`
// measures natively: load (bytes in -> ready), then prefill of P tokens and
// N decode steps, medians of `reps` runs after a warm-up. Runs in Node
// (bench/wasm_bench.mjs --child) and in Chromium (the page it serves).

export const median = (a) => {
  const b = [...a].sort((x, y) => x - y), k = b.length >> 1;
  return b.length % 2 ? b[k] : (b[k - 1] + b[k]) / 2;
};

/** The same pseudo-random prompt ids as `slm bench` (a 64-bit LCG). */
export function benchIds(n, vocab) {
  let s = 0x1234567n;
  const ids = [];
  for (let i = 0; i < n; i++) {
    s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    ids.push(Number((s >> 33n) % BigInt(vocab)));
  }
  return ids;
}

export async function measure(loadModel, source, { threads, P, N, reps }) {
  const t0 = performance.now();
  const model = await loadModel(source, { threads, ctx: P + N });
  const loadMs = performance.now() - t0;
  const prompt = benchIds(P, model.info.vocabSize);
  const pre = [], dec = [];
  let generated = N;
  for (let rep = 0; rep <= reps; rep++) {
    let last;
    // greedy: the argmax over the vocabulary is all that sampling adds to a step
    for await (const t of model.generate(prompt, { maxTokens: N, temperature: 0 })) last = t;
    generated = Math.min(generated, last.stats.generatedTokens);
    if (rep) {
      pre.push(last.stats.prefillMs);
      dec.push(last.stats.msPerToken);
    }
  }
  const { build, kernels } = model.info;
  await model.dispose();
  return { build, kernels, threads, loadMs, prefillMs: median(pre), msPerToken: median(dec), generated };
}
