// A real model's shape end to end: `slm init --preset gemma3-270m` (Gemma 3:
// heads of 256, a window of 512 on 5 of 6 layers, post-norms, GELU, a vocabulary
// of 262,144) loads in the wasm engine and gives the native CLI's tokens.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { loadModel } from '../../js/node.js';
import { native, root } from './helpers.mjs';

test('gemma3-270m preset: native info, wasm ids = native ids', async () => {
  const dir = join(root, 'build/js-test'), path = join(dir, 'gemma3-270m-q4_0.gguf');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(path)) native('init', '--preset', 'gemma3-270m', '--random', '--seed', '3', '--type', 'q4_0', '-o', path);
  const info = native('info', path);
  assert.match(info, /architecture\s+gemma3/);
  assert.match(info, /dim 640, 18 layers, heads 4\/1 \(head dim 256\), FFN 2048/);
  const prompt = [2, 1000, 2000, 3000, 40000, 262000];
  const want = native('generate', '-m', path, '--prompt-ids', prompt.join(' '), '-n', '6', '--temp', '0', '--print-ids', '-c', '64')
    .trim().split(/\s+/).map(Number);
  const model = await loadModel(path, { ctx: 64 });
  try {
    assert.equal(model.info.architecture, 'gemma3');
    const got = [];
    for await (const t of model.generate(prompt, { maxTokens: 6, temperature: 0 })) if (!t.done) got.push(t.id);
    assert.deepEqual(got, want);
  } finally {
    await model.dispose();
  }
});
