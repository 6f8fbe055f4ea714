// Every architecture and tensor type in the wasm engine gives the native CLI's
// tokens, id for id (the bit-identical promise across backends): the
// llama.cpp-made files of ../shared/golden/archs (llama, Llama 3, Qwen2,
// Qwen3, Gemma 3; Q4_0 to Q8_0, the K-quants, IQ4), their first prompt,
// greedy and seeded sampling, in the single-thread and the pthreads build.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { loadModel } from '../../js/node.js';
import { native, shared } from './helpers.mjs';

const dir = join(shared, 'golden/archs');
const N = 16;
const CONFIGS = {
  greedy: { js: { temperature: 0 }, cli: ['--temp', '0'] },
  seeded: { js: { temperature: 0.8, topK: 40, topP: 0.9, seed: 7 }, cli: ['--temp', '0.8', '--top-k', '40', '--top-p', '0.9', '--seed', '7'] },
};

test('golden architectures: wasm ids = native ids', async (t) => {
  if (!existsSync(join(dir, 'prompts.txt'))) {
    if (process.env.CI === 'true') throw new Error('../shared/data not found (required in CI)');
    console.log('skipped: ../shared/data not found');
    t.skip('skipped: ../shared/data not found');
    return;
  }
  const prompts = readFileSync(join(dir, 'prompts.txt'), 'utf8').trim().split('\n').slice(0, 1).map((l) => l.trim().split(/\s+/).map(Number));
  const files = readdirSync(dir).filter((f) => f.endsWith('.gguf')).sort();
  assert.ok(files.length >= 19, `${files.length} models in ${dir}`);
  for (const file of files) {
    const path = join(dir, file), want = {};
    for (const [p, prompt] of prompts.entries())
      for (const [name, cfg] of Object.entries(CONFIGS))
        want[`${p} ${name}`] = native('generate', '-m', path, '--prompt-ids', prompt.join(' '), '-n', String(N), '--print-ids', ...cfg.cli)
          .trim().split(/\s+/).filter(Boolean).map(Number);
    for (const threads of [1, 2]) {
      const model = await loadModel(path, { threads });
      try {
        for (const [p, prompt] of prompts.entries())
          for (const [name, cfg] of Object.entries(CONFIGS)) {
            const got = [];
            for await (const tok of model.generate(prompt, { maxTokens: N, ...cfg.js })) if (!tok.done) got.push(tok.id);
            assert.deepEqual(got, want[`${p} ${name}`], `${file} prompt ${p + 1} ${name}, ${model.info.build} build`);
          }
      } finally {
        await model.dispose();
      }
    }
  }
});
