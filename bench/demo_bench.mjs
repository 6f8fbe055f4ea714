#!/usr/bin/env node
// The demo in headless Chromium: per-tier latency, the decoder's time to first
// token and tokens/s, and page load to ready, cold (a fresh profile: the
// models are downloaded) and cached (a reload: the Cache API and the service
// worker). Needs `make demo-site`; the 2,000-word document is RACE's articles
// end to end, as in bench/docqa.c (../shared/data/docqa).
//
//   node bench/demo_bench.mjs [--reps 50] [--loads 5]
// Latencies are medians; "engine" is the time the C code measured in wasm,
// "round trip" adds the worker's message passing (page -> worker -> page).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { serveDir } from '../web-demo/serve.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, def) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : def);
const REPS = arg('--reps', 50), LOADS = arg('--loads', 5);
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

// RACE's articles, each once, until 2,000 words
function document2000() {
  let doc = '', words = 0, prev = '';
  for (const line of readFileSync(join(root, '../shared/data/docqa/race/race_sample1000.jsonl'), 'utf8').split('\n')) {
    if (!line || words >= 2000) continue;
    const { article } = JSON.parse(line);
    if (article === prev) continue;
    doc += article + '\n\n';
    words += article.split(/\s+/).filter(Boolean).length;
    prev = article;
  }
  return { doc, words };
}

// Opens the page in a profile; returns the time from navigation to ready.
async function load(context, url) {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(url);
  await page.waitForSelector('body[data-state="ready"]', { timeout: 120_000 });
  return { page, ms: await page.evaluate(() => performance.getEntriesByName('slm360-ready')[0].startTime) };
}

const server = await serveDir(join(root, 'build/web-demo'), { port: 0 });
const url = `http://127.0.0.1:${server.address().port}/`;
const { doc, words } = document2000();
const cold = [], cached = [];
let results;
for (let i = 0; i < LOADS; i++) {
  const profile = mkdtempSync(join(tmpdir(), 'slm360-bench-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: FLAGS });
  try {
    let { page, ms } = await load(context, url);
    cold.push(ms);
    await page.waitForSelector('body[data-offline="ready"]', { timeout: 60_000 });
    await page.reload();
    await page.waitForSelector('body[data-state="ready"]');
    cached.push(await page.evaluate(() => performance.getEntriesByName('slm360-ready')[0].startTime));
    if (i === 0) results = await page.evaluate(measure, { reps: REPS, doc });
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}
server.close();

// In the page: each tier's requests, repeated.
async function measure({ reps, doc }) {
  const a = window.slm360.assistant, med = (v) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)];
  const run = async (text, options, tier) => {
    const engine = [], trip = [];
    for (let i = 0; i < reps + 5; i++) {
      const t = performance.now();
      const r = await a.ask(text, options);
      const ms = performance.now() - t;
      if (r.tier !== tier) throw new Error(`'${text}' went to tier ${r.tier}, not ${tier}`);
      if (i >= 5) engine.push(r.tierMs[tier]), trip.push(ms);   // 5 warm-up rounds
    }
    return { engine: med(engine), trip: med(trip) };
  };
  const out = {};
  out.patterns = await run('hello', {}, 1);
  out.nano = await run('what does this app do', {}, 2);
  // the document with the encoder's embeddings (the engine's default), then words alone (the page's)
  const index = [], indexEmbed = [];
  for (let i = 0; i < 3; i++) indexEmbed.push((await a.setDocument(doc)).ms);
  out.indexEmbed = med(indexEmbed);
  out.questionEmbed = await run('How thick are the walls of the hotel?', { intent: 'ask_document', forceTier: 3 }, 3);
  for (let i = 0; i < 5; i++) index.push((await a.setDocument(doc, { embedWeight: 0 })).ms);
  out.index = med(index);
  out.sentences = (await a.setDocument(doc, { embedWeight: 0 })).sentences;
  out.question = await run('How thick are the walls of the hotel?', { intent: 'ask_document', forceTier: 3 }, 3);
  out.summary = await run('summarize', { intent: 'summarize' }, 3);
  out.questions = await run('questions', { intent: 'suggest_questions' }, 3);
  // tier 4: the time to the first token seen here, and the decoder's own rates
  const ttft = [], tps = [], prefill = [], promptTokens = [];
  for (let i = 0; i < Math.min(reps, 20) + 2; i++) {
    const t = performance.now();
    const r = await a.ask('summarize', { intent: 'summarize', forceTier: 4, maxTokens: 128, seed: i });
    let first = 0, last;
    for await (const tok of r.tokens) (first ||= performance.now() - t), (last = tok);
    if (i < 2) continue;
    ttft.push(first);
    tps.push(last.stats.tokensPerSecond);
    prefill.push(last.stats.prefillMs);
    promptTokens.push(last.stats.promptTokens);
  }
  out.decoder = { ttft: med(ttft), tokensPerSecond: med(tps), prefillMs: med(prefill), promptTokens: med(promptTokens),
    name: a.decoder.info.name, fileBytes: a.decoder.info.fileBytes, build: a.decoder.info.build };
  return out;
}

const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
const f = (x) => x.toFixed(x < 1 ? 3 : x < 10 ? 2 : 1);
console.log(`commit ${commit}; Chromium ${execFileSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).trim()}; ` +
  `load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}; ${REPS} requests per tier, ${LOADS} page loads`);
console.log(`tier 1 patterns ("hello"):                 engine ${f(results.patterns.engine)} ms, round trip ${f(results.patterns.trip)} ms`);
console.log(`tier 2 nano ("what does this app do"):      engine ${f(results.nano.engine)} ms, round trip ${f(results.nano.trip)} ms`);
console.log(`tier 3 on a ${words}-word document (${results.sentences} sentences), words only: index ${f(results.index)} ms once; ` +
  `a question ${f(results.question.engine)} ms (round trip ${f(results.question.trip)}), a summary ${f(results.summary.engine)} ms, ` +
  `3 questions ${f(results.questions.engine)} ms`);
console.log(`tier 3 with nano embeddings (weight 0.2): index ${f(results.indexEmbed)} ms once; a question ` +
  `${f(results.questionEmbed.engine)} ms (round trip ${f(results.questionEmbed.trip)})`);
const d = results.decoder;
console.log(`tier 4 ${d.name} (${d.fileBytes} bytes, ${d.build} build), summary prompt of ${d.promptTokens} tokens: ` +
  `first token ${f(d.ttft)} ms (prefill ${f(d.prefillMs)} ms), ${f(d.tokensPerSecond)} tokens/s`);
console.log(`page load to ready: cold ${f(median(cold))} ms, cached ${f(median(cached))} ms (medians of ${LOADS}: ` +
  `cold ${cold.map(f).join(', ')}; cached ${cached.map(f).join(', ')})`);
