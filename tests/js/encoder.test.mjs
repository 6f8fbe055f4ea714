// The encoder in the worker: classify and embed on a random slm360-nano
// (Q4_0), against the native CLI; truncation; bad input; decoders refused.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { loadModel, SlmError } from '../../js/node.js';
import { native, root, smallModel } from './helpers.mjs';

const path = join(root, 'build/js-test/nano-q4_0.gguf');
if (!existsSync(path)) {
  mkdirSync(join(root, 'build/js-test'), { recursive: true });
  native('init', '--preset', 'slm360-nano', '--random', '--seed', '1', '--type', 'q4_0', '-o', path);
}
let model;
before(async () => { model = await loadModel(path, { threads: 1 }); });
after(() => model.dispose());

const isError = (code) => (e) => (e instanceof SlmError && e.code === code) || assert.fail(`${e.code}: ${e.message}`);
const text = 'please set an alarm for seven tomorrow morning';

test('classify: every class, most likely first, probabilities summing to 1', async () => {
  assert.equal(model.info.isEncoder, true);
  const r = await model.classify(text);
  assert.equal(r.length, model.info.nClasses);
  assert.equal(r.truncated, 0);
  assert.deepEqual(r.map((c) => c.label).sort(), Array.from({ length: 8 }, (_, i) => `class${i}`));
  for (let i = 1; i < r.length; i++) assert.ok(r[i - 1].score >= r[i].score);
  assert.ok(Math.abs(r.reduce((s, c) => s + c.score, 0) - 1) < 1e-5);
});

test('classify gives what the native CLI prints', async () => {
  const r = await model.classify(text);
  const cli = native('classify', '-m', path, '--top', '8', text).trim().split('\n').map((l) => l.split('\t'));
  assert.deepEqual(r.map((c) => c.label), cli.map(([, label]) => label));
  // the wasm kernels give the native bits; the CLI rounds to 4 decimals
  r.forEach((c, i) => assert.ok(Math.abs(c.score - Number(cli[i][0])) <= 5e-5, `${c.label}: ${c.score} vs ${cli[i][0]}`));
});

test('embed: the pooled vector, unit length, the same for the same text', async () => {
  const v = await model.embed(text), w = await model.embed(text), u = await model.embed('what is the weather in paris');
  assert.ok(v instanceof Float32Array);
  assert.equal(v.length, 256 + 64);
  const dot = (a, b) => a.reduce((s, x, i) => s + x * b[i], 0);
  assert.ok(Math.abs(dot(v, v) - 1) < 1e-5);
  assert.deepEqual(v, w);
  assert.ok(dot(v, u) < 0.9999);
});

test('a text longer than the context is truncated, and says so', async () => {
  const small = await loadModel(path, { threads: 1, ctx: 8 });
  try {
    const r = await small.classify(text + ' and remind me to call my mother tonight');
    assert.ok(r.truncated > 0);
    assert.equal(r.length, 8);
    assert.equal((await small.classify('hi')).truncated, 0);
  } finally {
    await small.dispose();
  }
});

test('bad input: empty text, not a string; a decoder cannot classify', async () => {
  await assert.rejects(model.classify(''), isError('INVALID_ARG'));
  await assert.rejects(model.classify('   '), isError('INVALID_ARG'));
  await assert.rejects(model.embed(''), isError('INVALID_ARG'));
  await assert.rejects(model.classify(42), isError('INVALID_ARG'));
  await assert.rejects(model.embed(null), isError('INVALID_ARG'));
  assert.equal((await model.classify('still fine')).length, 8);
  const decoder = await loadModel(smallModel(), { threads: 1, ctx: 64 });
  try {
    await assert.rejects(decoder.classify(text), (e) => isError('INVALID_ARG')(e) && /encoder/.test(e.message));
    await assert.rejects(decoder.embed(text), isError('INVALID_ARG'));
  } finally {
    await decoder.dispose();
  }
});
