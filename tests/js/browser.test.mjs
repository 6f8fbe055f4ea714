// The browser entry in headless Chromium: the module worker, fetch and Blob
// sources with progress, and the pthreads build on a cross-origin isolated
// page, each giving the native CLI's tokens.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { test } from 'node:test';

import { native, root, smallModel } from './helpers.mjs';

const CHROMIUM = '/usr/bin/chromium';

// The page loads the model three ways and posts what it saw to /result.
const page = `<!doctype html><script type="module">
  import { loadModel } from '/js/index.js';
  const run = async (source, threads) => {
    const events = [];
    const model = await loadModel(source, { threads, onProgress: (p) => events.push(p) });
    const ids = [];
    for await (const t of model.generate('the sun', { maxTokens: 12, seed: 3 })) if (!t.done) ids.push(t.id);
    const { build } = model.info;
    await model.dispose();
    return { build, ids: ids.join(' '), loaded: events.filter((e) => e.phase === 'read').at(-1).loaded, isolated: crossOriginIsolated };
  };
  const post = (r) => fetch('/result', { method: 'POST', body: JSON.stringify(r) });
  try {
    const blob = await (await fetch('/model.gguf')).blob();
    post({ url: await run('/model.gguf', 1), blob: await run(blob, 1), threads: await run('/model.gguf', 2) });
  } catch (e) {
    post({ error: e.code + ': ' + e.message });
  }
</script>`;

test('in Chromium: URL, Blob, and the pthreads build', { timeout: 120_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI === 'true') throw new Error(`${CHROMIUM} not found (required in CI: .ci/debian-packages)`);
    return t.skip(`${CHROMIUM} not found`);
  }
  const model = smallModel();
  let report;
  const result = new Promise((r) => (report = r));
  const server = createServer((req, res) => {
    const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
    if (req.method === 'POST') {
      let body = '';
      return req.on('data', (d) => (body += d)).on('end', () => { res.end(); report(JSON.parse(body)); });
    }
    if (req.url === '/page.html') return res.writeHead(200, { ...headers, 'Content-Type': 'text/html' }).end(page);
    const file = req.url === '/model.gguf' ? model : join(root, req.url);
    if (!/^\/(js|dist)\/[\w.-]+$|^\/model.gguf$/.test(req.url) || !existsSync(file)) return res.writeHead(404).end();
    res.writeHead(200, { ...headers, 'Content-Type': extname(file) === '.js' ? 'text/javascript' : 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const profile = mkdtempSync(join(tmpdir(), 'slm360-chromium-'));
  const browser = spawn(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`, `http://127.0.0.1:${server.address().port}/page.html`,
  ], { stdio: 'ignore', detached: true });
  const exited = new Promise((r) => browser.on('exit', r));
  try {
    const r = await Promise.race([result, exited.then(() => ({ error: 'Chromium exited' }))]);
    assert.equal(r.error, undefined, r.error);
    const want = native('generate', '-m', model, '-p', 'the sun', '-n', '12', '--seed', '3', '--print-ids').trim();
    for (const [name, build] of [['url', 'simd'], ['blob', 'simd'], ['threads', 'threads']]) {
      assert.equal(r[name].build, build, name);
      assert.equal(r[name].ids, want, name);
      assert.equal(r[name].loaded, statSync(model).size, name);
      assert.equal(r[name].isolated, true);
    }
  } finally {
    process.kill(-browser.pid, 'SIGKILL');
    await exited;
    server.close();
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
});
