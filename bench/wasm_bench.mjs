// Side by side in one run: native `slm bench` and the wasm engine through the
// JS API, in Node (worker_threads) and in headless Chromium, one thread (SIMD
// build) and two (pthreads build), rounds interleaved so all see the same
// machine noise; then the peak memory while loading. Prints medians, ratios
// and a markdown table for docs/BENCHMARKS.md.
//
//   node bench/wasm_bench.mjs [--model F] [--rounds 3] [--reps 3] [-p 128] [-n 128] [--no-chromium]
// Without --model it makes build/bench/base-q4_0.gguf (slm360-base, Q4_0, random).
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

import { measure, median } from './wasm_measure.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, def) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : def; };
const P = +arg('-p', 128), N = +arg('-n', 128), reps = +arg('--reps', 3), rounds = +arg('--rounds', 3);
const slm = join(root, 'build/slm');
const execFileAsync = promisify(execFile);
const log = (s) => process.stderr.write(`${s}\n`);
const rssMiB = (key) => +readFileSync('/proc/self/status', 'utf8').match(new RegExp(`${key}:\\s+(\\d+) kB`))[1] / 1024;

// ---- children: one measurement each, in a fresh process --------------------------
if (process.argv.includes('--child')) {
  const { loadModel } = await import('../js/node.js');
  console.log(JSON.stringify(await measure(loadModel, arg('--model'), { threads: +arg('--threads'), P, N, reps })));
  process.exit(0);
}
if (process.argv.includes('--child-memory')) {
  // Peak memory while loading, two ways. "engine": the worker's engine run on
  // this thread (one isolate): resident memory and JS heap over what they were
  // before, plus the wasm memory. "api": loadModel as users call it, whole
  // process, which adds a worker thread (its isolate, stacks, compiled code).
  const source = arg('--source'), ctx = +arg('--ctx');
  // JS memory: the heap and array buffers (wasm memory is neither: counted apart)
  const js = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const before = rssMiB('VmRSS'), js0 = js();
  let jsPeak = js0, info;
  const t0 = performance.now();
  if (arg('--mode') === 'engine') {
    const { nodeEnv } = await import('../js/worker-node.js');
    const { serve } = await import('../js/engine.js');
    let listener;
    info = await new Promise((res, rej) => {
      serve({
        listen: (fn) => (listener = fn),
        post: (msg) => {
          jsPeak = Math.max(jsPeak, js());   // at every progress event (each MiB) and at the end
          if (msg.type === 'result') res(msg.value);
          if (msg.type === 'error') rej(new Error(msg.message));
        },
      }, nodeEnv);
      const kind = /^https?:/.test(source) ? { kind: 'url', url: source } : { kind: 'path', path: source };
      listener({ id: 1, type: 'load', source: kind, threads: 1, auto: false, ctx });
    });
  } else {
    const { loadModel } = await import('../js/node.js');
    info = (await loadModel(source, { threads: 1, ctx })).info;
  }
  const loadMs = performance.now() - t0;
  const MiB = (b) => b / 2 ** 20;
  console.log(JSON.stringify({
    mode: arg('--mode'), kind: /^https?:/.test(source) ? 'url' : 'path', loadMs, rssOver: rssMiB('VmHWM') - before,
    jsOver: MiB(jsPeak - js0), wasm: MiB(info.memoryBytes), context: MiB(info.contextBytes),
  }));
  process.exit(0);
}

// ---- the run -------------------------------------------------------------------------
if (!existsSync(slm)) execFileSync('make', ['-C', root], { stdio: 'inherit' });
execFileSync('make', ['-C', root, 'wasm'], { stdio: ['ignore', 'ignore', 'inherit'] });
let model = arg('--model', null);
if (!model) {
  model = join(root, 'build/bench/base-q4_0.gguf');
  if (!existsSync(model)) {
    mkdirSync(dirname(model), { recursive: true });
    execFileSync(slm, ['init', '--preset', 'slm360-base', '--random', '--seed', '1', '--type', 'q4_0', '-o', model], { stdio: 'inherit' });
  }
}
model = resolve(model);
const chromium = !process.argv.includes('--no-chromium') && existsSync('/usr/bin/chromium');

// Serves the repository and the model on 127.0.0.1, cross-origin isolated (the
// threads build needs SharedArrayBuffer); the page posts its results back.
let onResult = () => {};
const page = `<!doctype html><script type="module">
  import { loadModel } from '/js/index.js';
  import { measure } from '/bench/wasm_measure.js';
  const q = new URLSearchParams(location.search), post = (r) => fetch('/result', { method: 'POST', body: JSON.stringify(r) });
  addEventListener('unhandledrejection', (e) => post({ error: String(e.reason?.stack ?? e.reason) }));
  if (q.get('mode') === 'reference') {
    // the same bytes fetched into a wasm memory by a bare worker: Chromium's own cost of the download
    const worker = new Worker('/reference.js');
    await fetch('/mark?at=before', { method: 'POST' });
    const t0 = performance.now();
    await new Promise((r) => { worker.onmessage = r; worker.postMessage(0); });
    const loadMs = performance.now() - t0;
    await fetch('/mark?at=after', { method: 'POST' });
    post({ loadMs });
  } else if (q.get('mode') === 'memory') {
    // the server reads this page's renderer process memory at both marks
    await fetch('/mark?at=before', { method: 'POST' });
    const t0 = performance.now();
    const m = await loadModel('/model.gguf', { threads: 1, ctx: +q.get('ctx') });
    const loadMs = performance.now() - t0;
    await fetch('/mark?at=after', { method: 'POST' });
    post({ loadMs, wasm: m.info.memoryBytes / 2 ** 20, context: m.info.contextBytes / 2 ** 20 });
  } else {
    post(await measure(loadModel, '/model.gguf', { threads: +q.get('threads'), P: +q.get('p'), N: +q.get('n'), reps: +q.get('reps') }));
  }
</script>`;

// The reference for memory in Chromium (runs there, in a worker): the model's
// bytes fetched into a wasm memory of their size, nothing else.
function referenceWorker() {
  onmessage = async () => {
    const r = await fetch('/model.gguf'), reader = r.body.getReader({ mode: 'byob' });
    const memory = new WebAssembly.Memory({ initial: Math.ceil(+r.headers.get('content-length') / 65536) });
    let buf = new ArrayBuffer(4 << 20), off = 0;
    for (;;) {
      const { done, value } = await reader.read(new Uint8Array(buf));
      if (done) break;
      new Uint8Array(memory.buffer).set(value, off);
      off += value.length;
      buf = value.buffer;
    }
    postMessage(off);
  };
}

// Resident memory (MiB) of the renderer processes of the browser we started:
// at 'before' their peak is reset to now (root can write /proc/PID/clear_refs).
let browserPid = 0;
const marks = {};
function rendererMemory(at) {
  const parent = {};
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try { parent[pid] = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]; } catch {}
  }
  const fromBrowser = (pid) => { for (; pid && pid !== '1'; pid = parent[pid]) if (+pid === browserPid) return true; return false; };
  let total = 0;
  for (const pid of Object.keys(parent).filter(fromBrowser)) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) continue;
      if (at === 'before') writeFileSync(`/proc/${pid}/clear_refs`, '5');
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      total += +status.match(at === 'before' ? /VmRSS:\s+(\d+)/ : /VmHWM:\s+(\d+)/)[1] / 1024;
    } catch {}
  }
  return total;
}
const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };
const server = createServer((req, res) => {
  const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cache-Control': 'no-store' };
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/mark') {
    marks[url.searchParams.get('at')] = rendererMemory(url.searchParams.get('at'));
    return res.writeHead(204).end();
  }
  if (req.method === 'POST') {
    let body = '';
    req.on('data', (d) => (body += d)).on('end', () => { res.writeHead(204).end(); onResult(JSON.parse(body)); });
    return;
  }
  if (url.pathname === '/bench.html') return res.writeHead(200, { ...headers, 'Content-Type': 'text/html' }).end(page);
  if (url.pathname === '/reference.js') return res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript' }).end(`(${referenceWorker})()`);
  const file = url.pathname === '/model.gguf' ? model : join(root, url.pathname);
  if (!file.startsWith(root) && file !== model || !existsSync(file) || !statSync(file).isFile()) return res.writeHead(404).end();
  res.writeHead(200, { ...headers, 'Content-Type': types[extname(file)] ?? 'application/octet-stream', 'Content-Length': statSync(file).size });
  createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${server.address().port}`;

function inChromium(query) {
  const profile = mkdtempSync(join(tmpdir(), 'slm360-chromium-'));
  const browser = spawn('/usr/bin/chromium', [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`, `${origin}/bench.html?${query}`,
  ], { stdio: 'ignore', detached: true });   // its own process group: we end all its processes at once
  browserPid = browser.pid;
  const exited = new Promise((r) => browser.on('exit', r));
  let timer;
  return new Promise((res, rej) => {
    timer = setTimeout(() => rej(new Error('Chromium timed out')), 600e3);
    onResult = (r) => (r.error ? rej(new Error(`in Chromium: ${r.error}`)) : res(r));
    exited.then((code) => rej(new Error(`Chromium exited (${code}) before reporting`)));
  }).finally(async () => {
    clearTimeout(timer);
    process.kill(-browser.pid, 'SIGKILL');
    await exited;
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });
}

// a child process (async: the children may fetch from our server)
const run = async (args) => {
  const t0 = performance.now();
  const { stdout } = await execFileAsync(process.execPath, [fileURLToPath(import.meta.url), ...args], { encoding: 'utf8' });
  log(`${args.slice(0, 3).join(' ')}: ${((performance.now() - t0) / 1e3).toFixed(1)} s`);
  return JSON.parse(stdout.trim().split('\n').at(-1));
};

const results = {};   // engine -> [result per round]
const add = (key, r) => (results[key] ??= []).push(r);
for (let round = 0; round < (process.argv.includes("--memory-only") ? 0 : rounds); round++) {
  const nativeRuns = execFileSync(slm, ['bench', '-m', model, '-p', String(P), '-n', String(N), '--threads', '1,2', '--reps', String(reps), '--json'], { encoding: 'utf8' })
    .trim().split('\n').map((l) => JSON.parse(l));
  for (const r of nativeRuns) add(`native/${r.threads}`, { prefillMs: r.prefill_ms, msPerToken: r.decode_ms_per_token, kernels: r.kernels });
  for (const threads of [1, 2]) {
    add(`node/${threads}`, await run(['--child', '--model', model, '--threads', String(threads), '-p', String(P), '-n', String(N), '--reps', String(reps)]));
    if (!chromium) continue;
    const t0 = performance.now();
    add(`chromium/${threads}`, await inChromium(`threads=${threads}&p=${P}&n=${N}&reps=${reps}`));
    log(`chromium ${threads} thread(s): ${((performance.now() - t0) / 1e3).toFixed(1)} s`);
  }
  log(`round ${round + 1}/${rounds} done`);
}
const memory = [];
for (const mode of ['engine', 'api'])
  for (const source of [model, `${origin}/model.gguf`]) memory.push(await run(['--child-memory', '--mode', mode, '--source', source, '--ctx', String(P + N)]));
const browserMemory = chromium && { ...(await inChromium(`mode=memory&ctx=${P + N}`)), rssOver: marks.after - marks.before };
const browserReference = chromium && { ...(await inChromium('mode=reference')), rssOver: marks.after - marks.before };
server.close();

// ---- report --------------------------------------------------------------------------
const fileMiB = statSync(model).size / 2 ** 20;
const med = (key, field) => median(results[key].map((r) => r[field]));
const commit = spawnSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? '?';
console.log('\nsizes (gzip -9): ' + ['slm360.wasm', 'slm360.js', 'slm360-threads.wasm', 'slm360-threads.js', 'slm360-threads.worker.js']
  .map((f) => `${f} ${(gzipSync(readFileSync(join(root, 'dist', f)), { level: 9 }).length / 1024).toFixed(1)} KiB`).join(', '));
console.log(`model ${model} (${fileMiB.toFixed(1)} MiB), prefill ${P} tokens, decode ${N}, ${rounds} rounds x ${reps} reps (medians)`);
console.log(`machine: ${cpu}, node ${process.version}, commit ${commit}\n`);
console.log('| engine | threads | build | load ms | prefill ms | x native | decode ms/token | x native | tokens/s |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const key of Object.keys(results).sort()) {
  const [engine, threads] = key.split('/'), nat = `native/${threads}`;
  const pre = med(key, 'prefillMs'), dec = med(key, 'msPerToken');
  const load = engine === 'native' ? '' : med(key, 'loadMs').toFixed(0);
  const build = results[key][0].build ?? results[key][0].kernels ?? '';
  console.log(`| ${engine} | ${threads} | ${build} | ${load} | ${pre.toFixed(0)} | ${(pre / med(nat, 'prefillMs')).toFixed(2)} | ` +
    `${dec.toFixed(2)} | ${(dec / med(nat, 'msPerToken')).toFixed(2)} | ${(1000 / dec).toFixed(1)} |`);
}
for (const engine of ['node', 'chromium'].filter((e) => results[`${e}/2`])) {
  console.log(`${engine}: 2 threads (pthreads build) vs 1 (SIMD build): prefill x${(med(`${engine}/1`, 'prefillMs') / med(`${engine}/2`, 'prefillMs')).toFixed(2)}, ` +
    `decode x${(med(`${engine}/1`, 'msPerToken') / med(`${engine}/2`, 'msPerToken')).toFixed(2)} faster`);
}
console.log(`\npeak memory while loading, Node (budget: file + 16 MiB = ${(fileMiB + 16).toFixed(1)} MiB):`);
console.log('| source | JS heap + buffers, MiB | wasm memory without / with the context, MiB | total without / with, MiB | resident added: engine / loadModel, MiB | load ms |');
console.log('|---|---|---|---|---|---|');
for (const kind of ['path', 'url']) {
  const e = memory.find((m) => m.mode === 'engine' && m.kind === kind), a = memory.find((m) => m.mode === 'api' && m.kind === kind);
  const f = (x) => x.toFixed(1);
  console.log(`| ${kind === 'path' ? 'file path' : 'URL (fetch)'} | ${f(e.jsOver)} | ${f(e.wasm - e.context)} / ${f(e.wasm)} | ` +
    `${f(e.jsOver + e.wasm - e.context)} / ${f(e.jsOver + e.wasm)} | ${f(e.rssOver)} / ${f(a.rssOver)} | ${a.loadMs.toFixed(0)} |`);
}
if (browserMemory)
  console.log(`| URL in Chromium (loadModel) | - | ${(browserMemory.wasm - browserMemory.context).toFixed(1)} / ${browserMemory.wasm.toFixed(1)} | | ` +
    `- / ${browserMemory.rssOver.toFixed(1)} (renderer processes) | ${browserMemory.loadMs.toFixed(0)} |`);
if (browserReference)
  console.log(`| reference: the same URL fetched into a wasm memory by a bare worker, Chromium | - | ${fileMiB.toFixed(1)} | | ` +
    `- / ${browserReference.rssOver.toFixed(1)} (renderer processes) | ${browserReference.loadMs.toFixed(0)} |`);
console.log(`(the context, ${P + N} tokens: ${memory[0].context.toFixed(1)} MiB of wasm memory, allocated at load, resident as tokens fill it;`);
console.log(' resident memory also holds the compiled engine and, for loadModel, a worker thread with its own isolate)');
