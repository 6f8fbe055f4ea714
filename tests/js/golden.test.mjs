// The wasm engine gives the native CLI's tokens, id for id: stories260K's
// golden cases (../shared/golden) in F32, Q8_0 and Q4_0, greedy and seeded
// sampling, in the single-thread and the pthreads build.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { loadModel } from '../../js/node.js';
import { native, shared, stories } from './helpers.mjs';

const readCases = () => [0, 1, 2, 3, 4, 5].map((i) => {
  const text = readFileSync(join(shared, `golden/stories260k/case0${i}.txt`), 'utf8');
  const ids = (key) => text.match(new RegExp(`^${key} (.*)$`, 'm'))[1].trim().split(/\s+/).map(Number);
  return { name: `case0${i}`, prompt: ids('prompt_ids'), n: ids('greedy_ids').length };
});
const CONFIGS = {
  greedy: { js: { temperature: 0 }, cli: ['--temp', '0'] },
  seeded: {
    js: { temperature: 0.8, topK: 40, topP: 0.9, repeatPenalty: 1.1, seed: 42 },
    cli: ['--temp', '0.8', '--top-k', '40', '--top-p', '0.9', '--repeat-penalty', '1.1', '--seed', '42'],
  },
};

for (const type of ['f32', 'q8_0', 'q4_0']) {
  test(`stories260K ${type}: wasm ids = native ids`, async (t) => {
    const path = stories(type, t);
    if (!path) return;
    const cases = readCases(), want = {};
    for (const c of cases)
      for (const [name, cfg] of Object.entries(CONFIGS))
        want[`${c.name} ${name}`] = native('generate', '-m', path, '--prompt-ids', c.prompt.join(' '), '-n', String(c.n), '--print-ids', ...cfg.cli)
          .trim().split(/\s+/).filter(Boolean).map(Number);
    for (const threads of [1, 2]) {
      const model = await loadModel(path, { threads });
      try {
        for (const c of cases)
          for (const [name, cfg] of Object.entries(CONFIGS)) {
            const got = [];
            for await (const tok of model.generate(c.prompt, { maxTokens: c.n, ...cfg.js })) if (!tok.done) got.push(tok.id);
            assert.deepEqual(got, want[`${c.name} ${name}`], `${c.name} ${name}, ${model.info.build} build`);
          }
      } finally {
        await model.dispose();
      }
    }
  });
}
