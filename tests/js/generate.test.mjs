// generate, score, tokenize: results, stop strings, the request queue, aborts, errors.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { loadModel, SlmError } from '../../js/node.js';
import { native, smallModel } from './helpers.mjs';

const path = smallModel();
let model;
before(async () => { model = await loadModel(path, { threads: 1, ctx: 256 }); });
after(() => model.dispose());

async function collect(iterable) {
  const events = [];
  for await (const t of iterable) events.push(t);
  return events;
}
const isError = (code) => (e) => (e instanceof SlmError && e.code === code) || assert.fail(`${e.code}: ${e.message}`);

test('tokens stream one by one, then a last event with the statistics', async () => {
  const events = await collect(model.generate('the cat', { maxTokens: 20, seed: 3 }));
  const last = events.at(-1);
  assert.equal(last.done, true);
  assert.ok(events.slice(0, -1).every((t) => !t.done && t.id >= 0 && typeof t.text === 'string'));
  const s = last.stats;
  assert.equal(s.promptTokens, (await model.tokenize('the cat')).length);
  assert.equal(s.generatedTokens, events.filter((t) => t.id >= 0).length);
  assert.ok(s.stopReason === 'length' ? s.generatedTokens === 20 : s.stopReason === 'eos');
  assert.ok(s.prefillMs > 0 && s.msPerToken > 0 && Math.abs(s.tokensPerSecond - 1000 / s.msPerToken) < 1e-6);
  // the streamed text is the text of the ids, as they continue the prompt
  const prompt = await model.tokenize('the cat'), ids = events.filter((t) => t.id >= 0).map((t) => t.id);
  assert.equal('the cat' + events.map((t) => t.text).join(''), await model.detokenize([...prompt, ...ids]));
});

test('same seed, same tokens; and the same as the native CLI', async () => {
  const ids = async (o) => (await collect(model.generate('a b c', { maxTokens: 16, ...o }))).filter((t) => !t.done).map((t) => t.id);
  const a = await ids({ seed: 5 }), b = await ids({ seed: 5 }), c = await ids({ seed: 6 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const cli = native('generate', '-m', path, '-p', 'a b c', '-n', '16', '--seed', '5', '--print-ids').trim().split(' ').map(Number);
  assert.deepEqual(a, cli);
});

test('stop strings end the text before them', async () => {
  const full = (await collect(model.generate('x', { maxTokens: 40, temperature: 0 }))).map((t) => t.text).join('');
  const stop = full.slice(10, 13);
  const events = await collect(model.generate('x', { maxTokens: 40, temperature: 0, stop: ['@@never@@', stop] }));
  assert.equal(events.map((t) => t.text).join(''), full.slice(0, full.indexOf(stop)));
  assert.equal(events.at(-1).stats.stopReason, 'stop');
});

test('requests run in the order they were made', async () => {
  const order = [];
  const gen = collect(model.generate('one', { maxTokens: 8 })).then(() => order.push('generate'));
  const score = model.score('two', [' three', ' four']).then(() => order.push('score'));
  const tok = model.tokenize('five').then(() => order.push('tokenize'));
  await Promise.all([gen, score, tok]);
  assert.deepEqual(order, ['generate', 'score', 'tokenize']);
});

test('abort stops a generation within one token; the model serves the next request', async () => {
  const controller = new AbortController();
  let n = 0, afterAbort = 0, t0;
  await assert.rejects(async () => {
    for await (const t of model.generate('go', { maxTokens: 200, signal: controller.signal })) {
      if (controller.signal.aborted) afterAbort++;
      if (++n === 3) {
        controller.abort();
        t0 = performance.now();
      }
      assert.ok(!t.done);
    }
  }, isError('ABORTED'));
  assert.equal(afterAbort, 0);
  // the worker stopped within a token: the next request is served at once
  assert.ok((await model.tokenize('next')).length > 0);
  assert.ok(performance.now() - t0 < 500, `${performance.now() - t0} ms`);
});

test('breaking out of the loop stops the generation', async () => {
  let n = 0;
  for await (const t of model.generate('go', { maxTokens: 200 })) if (++n === 2 || t.done) break;
  const t0 = performance.now();
  await model.tokenize('next');
  assert.ok(performance.now() - t0 < 500);
});

test('a queued request can be aborted before it runs', async () => {
  const controller = new AbortController();
  const gen = collect(model.generate('long', { maxTokens: 30, temperature: 0 }));
  const queued = model.score('a', [' b'], { signal: controller.signal });
  controller.abort();
  await assert.rejects(queued, isError('ABORTED'));
  assert.equal((await gen).at(-1).done, true);
  await assert.rejects(model.tokenize('x', { signal: AbortSignal.abort() }), isError('ABORTED'));
});

test('errors carry the engine code, and the model keeps working', async () => {
  await assert.rejects(collect(model.generate(Array(300).fill(5))), isError('CONTEXT_FULL'));
  await assert.rejects(collect(model.generate('x', { temperature: -1 })), isError('INVALID_ARG'));
  await assert.rejects(collect(model.generate('x', { seed: 1.5 })), isError('INVALID_ARG'));
  await assert.rejects(collect(model.generate([])), isError('INVALID_ARG'));
  await assert.rejects(model.detokenize([1e6]), isError('INVALID_ARG'));
  await assert.rejects(model.score('x', []), isError('INVALID_ARG'));
  // the context fills up: generation stops, it does not fail
  const events = await collect(model.generate(Array(250).fill(5), { maxTokens: 100, temperature: 0 }));
  assert.equal(events.at(-1).stats.stopReason, 'context');
  assert.equal(events.at(-1).stats.generatedTokens, 256 - 250 + 1);   // the last one is sampled, not fed
});

test('score, tokenize and detokenize', async () => {
  const ll = await model.score('the quick brown', [' fox', ' dog jumps']);
  assert.equal(ll.length, 2);
  assert.ok(ll.every((v) => Number.isFinite(v) && v < 0));
  const cli = native('score', '-m', path, '--context', 'the quick brown', '--choices', ' fox| dog jumps');
  const want = cli.split('\n').slice(0, 2).map((l) => Number(l.split('\t')[1]));
  assert.deepEqual(ll.map((v) => Number(v.toFixed(4))), want);
  const ids = await model.tokenize('hello world');
  assert.equal(ids[0], model.info.bosId);
  assert.deepEqual(await model.tokenize('hello world', { bos: false }), ids.slice(1));
  assert.equal(await model.detokenize(ids), 'hello world');
  assert.equal(await model.detokenize(new Int32Array(ids)), 'hello world');
  const text = 'Ünïcödé ☃ 🙂';
  assert.equal(await model.detokenize(await model.tokenize(text)), text);
});
