// loadModel from every kind of source, progress, abort, bad files, dispose.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

import { readGgufHeader } from '../../js/gguf-header.js';
import { loadModel, SlmError } from '../../js/node.js';
import { smallModel } from './helpers.mjs';

const path = smallModel();
const bytes = new Uint8Array(readFileSync(path));

// A well-formed GGUF whose token embedding does not have the shape its config says.
function wrongShape() {
  const b = bytes.slice();
  const at = Buffer.from(b).indexOf('token_embd.weight') + 'token_embd.weight'.length + 4;   // after n_dims: ne[0]
  new DataView(b.buffer).setBigUint64(at, 128n, true);
  return b;
}

/** A ReadableStream of `data` in chunks of `size` bytes, optionally stalling forever after `stallAt`. */
function chunked(data, size, stallAt = Infinity) {
  let off = 0;
  return new ReadableStream({
    pull(c) {
      if (off >= stallAt) return new Promise(() => {});
      if (off >= data.length) return c.close();
      c.enqueue(data.slice(off, (off += size)));
    },
  });
}

const rejectsWith = (p, code, re = /./) =>
  assert.rejects(p, (e) => e instanceof SlmError && e.code === code && re.test(e.message) || assert.fail(`${e.code}: ${e.message}`));

async function generates(model) {
  let n = 0;
  for await (const t of model.generate('hello', { maxTokens: 3, temperature: 0 })) n += t.done ? 0 : 1;
  return n;
}

test('from a file path, with the model described in info', async () => {
  const m = await loadModel(path);   // threads: 'auto' is one thread for a model this small
  const { info } = m;
  assert.equal(info.architecture, 'llama');
  assert.equal(info.dim, 256);
  assert.equal(info.vocabSize, 8192);
  assert.equal(info.fileBytes, bytes.length);
  assert.equal(info.build, 'simd');
  assert.equal(info.threads, 1);
  assert.equal(info.kernels, 'wasm');
  assert.equal(info.weightType, 'Q4_0');
  assert.equal(Object.values(info.tensorTypes).reduce((a, b) => a + b), info.weightsBytes);
  assert.equal(info.ctx, info.contextLength);
  assert.equal(await generates(m), 3);
  await m.dispose();
});

test('from bytes, a Blob, a file: URL and over HTTP', async () => {
  const server = createServer((req, res) => {
    if (req.url !== '/model.gguf') return res.writeHead(404).end();
    res.writeHead(200, { 'content-length': bytes.length });
    res.end(bytes);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const http = `http://127.0.0.1:${server.address().port}`;
  try {
    for (const source of [bytes, bytes.buffer.slice(0), new Blob([bytes]), pathToFileURL(path), `${http}/model.gguf`]) {
      const m = await loadModel(source, { threads: 1, ctx: 64 });
      assert.equal(m.info.fileBytes, bytes.length);
      assert.equal(m.info.ctx, 64);
      assert.equal(await generates(m), 3);
      await m.dispose();
    }
    await rejectsWith(loadModel(`${http}/missing.gguf`, { threads: 1 }), 'IO', /HTTP 404/);
  } finally {
    server.close();
  }
});

test('from a ReadableStream: progress adds up to the file size', async () => {
  const events = [];
  const m = await loadModel(chunked(bytes, 100_003), { threads: 1, onProgress: (p) => events.push(p) });
  const reads = events.filter((e) => e.phase === 'read');
  assert.ok(reads.length > 3);
  for (let i = 1; i < reads.length; i++) assert.ok(reads[i].loaded > reads[i - 1].loaded);
  assert.equal(reads.at(-1).loaded, bytes.length);
  assert.equal(reads.at(-1).total, bytes.length);   // learned from the header
  assert.deepEqual(events.slice(-2).map((e) => e.phase), ['init', 'ready']);
  assert.equal(await generates(m), 3);
  await m.dispose();
});

test('abort during the load', async () => {
  const controller = new AbortController();
  let first;
  const started = new Promise((r) => (first = r));
  const load = loadModel(chunked(bytes, 65536, 3 << 20), { threads: 1, signal: controller.signal, onProgress: () => first() });
  await started;
  const t0 = performance.now();
  controller.abort();
  await rejectsWith(load, 'ABORTED');
  assert.ok(performance.now() - t0 < 1000);
  await rejectsWith(loadModel(path, { signal: AbortSignal.abort() }), 'ABORTED');
});

test('truncated, corrupt and missing files', async () => {
  await rejectsWith(loadModel(bytes.subarray(0, bytes.length >> 1), { threads: 1 }), 'BAD_MODEL', /truncated/);
  await rejectsWith(loadModel(chunked(bytes.subarray(0, bytes.length - 1), 1 << 20), { threads: 1 }), 'BAD_MODEL', /truncated/);
  await rejectsWith(loadModel(bytes.subarray(0, 1000), { threads: 1 }), 'BAD_MODEL', /truncated/);
  await rejectsWith(loadModel(new Uint8Array(0), { threads: 1 }), 'BAD_MODEL', /empty/);
  const junk = bytes.slice();
  junk.set(new TextEncoder().encode('NOPE'));
  await rejectsWith(loadModel(junk, { threads: 1 }), 'BAD_MODEL', /not a GGUF/);
  await rejectsWith(loadModel(wrongShape(), { threads: 1 }), 'BAD_MODEL', /token_embd.weight/);
  await rejectsWith(loadModel('/nonexistent/model.gguf', { threads: 1 }), 'IO', /no such file/);
  await assert.rejects(loadModel(42), (e) => e.code === 'INVALID_ARG');
});

// The model with one block scale of `tensor` overwritten by NaN (F16 0x7e00): a damaged download.
function damaged(tensor) {
  const b = bytes.slice(), h = readGgufHeader(b);
  const t = h.tensors.find((x) => x.name === tensor);
  new DataView(b.buffer).setUint16(h.dataOffset + t.offset, 0x7e00, true);
  return b;
}

test('damaged weights: BAD_MODEL at load (the check is on by default), NUMERIC without the check', async () => {
  await rejectsWith(loadModel(damaged('blk.1.attn_q.weight')), 'BAD_MODEL',
    /'blk\.1\.attn_q\.weight' \(Q4_0\) holds NaN in the scale of block 0 \(row 0/);
  const m = await loadModel(damaged('blk.1.attn_q.weight'), { check: false });
  await rejectsWith(generates(m), 'NUMERIC', /NaN at layer 1 \(blk\.1\), position 0.*damaged/);
  await rejectsWith(m.score('hello', [' a', ' b']), 'NUMERIC', /layer 1/);
  await m.dispose();
  const ok = await loadModel(bytes);   // a good model passes the default check
  assert.equal(await generates(ok), 3);
  await ok.dispose();
});

test('the worker keeps serving after a bad model', async () => {
  // speak the worker's protocol directly: the same worker gets a bad file, then a good one
  const w = new Worker(new URL('../../js/worker-node.js', import.meta.url));
  const replies = new Map();
  w.on('message', (m) => m.type !== 'event' && replies.get(m.id)(m));
  const ask = (id, req) => new Promise((r) => { replies.set(id, r); w.postMessage({ id, ...req }); });
  try {
    const load = (source) => ({ type: 'load', source, threads: 1, auto: false, ctx: 0 });
    const bad = await ask(1, load({ kind: 'blob', blob: new Blob([bytes.subarray(0, 5000)]) }));
    assert.equal(bad.code, 'BAD_MODEL');
    assert.equal((await ask(2, load({ kind: 'blob', blob: new Blob([wrongShape()]) }))).code, 'BAD_MODEL');
    assert.equal((await ask(3, { type: 'generate', prompt: [1], options: {} })).code, 'INVALID_ARG');
    const good = await ask(4, load({ kind: 'path', path }));
    assert.equal(good.type, 'result', good.message);
    const gen = await ask(5, { type: 'generate', prompt: [1, 300], options: { maxTokens: 2, temperature: 0, topK: 0, topP: 1, minP: 0, repeatPenalty: 1, repeatLastN: 0, seed: 1, stop: [] } });
    assert.equal(gen.type, 'result', gen.message);
    assert.equal(gen.value.stats.generatedTokens, 2);
  } finally {
    await w.terminate();
  }
});

test('dispose() releases the worker and its memory', async () => {
  const rss = () => process.memoryUsage().rss;
  const m0 = await loadModel(path, { threads: 1 });
  await m0.dispose();
  await rejectsWith(m0.tokenize('x'), 'INVALID_ARG', /disposed/);
  await m0.dispose();   // twice is fine
  // after a few rounds the allocators hold what they keep; then memory stays flat
  const cycle = async (n) => {
    for (let i = 0; i < n; i++) await (await loadModel(bytes, { threads: 1 + (i % 2) })).dispose();
  };
  await cycle(4);
  const before = rss();
  await cycle(8);
  // eight models of this size (file, context, engine) kept alive would take over 150 MB; a
  // terminated worker's memory is returned a little later, on a busy machine up to seconds
  const grown = () => rss() - before, limit = 50e6;
  for (let i = 0; i < 50 && grown() >= limit; i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(grown() < limit, `rss grew by ${(grown() / 1e6).toFixed(1)} MB`);
});

test('a pthreads build with two threads loads and generates the same tokens', async () => {
  const ids = async (threads) => {
    const m = await loadModel(path, { threads });
    const out = [];
    for await (const t of m.generate('once upon', { maxTokens: 12, seed: 7 })) if (!t.done) out.push(t.id);
    const { build } = m.info;
    await m.dispose();
    return { build, out };
  };
  const one = await ids(1), two = await ids(2);
  assert.equal(one.build, 'simd');
  assert.equal(two.build, 'threads');
  assert.deepEqual(two.out, one.out);
});
