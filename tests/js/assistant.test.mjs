// The assistant in the worker (loadAssistant): the same routing as the native
// `slm assist`, each tier, the document's answers, tier 4's tokens, the cache
// of confirmed requests, bringing another decoder, and bad input. Models: the
// assistant's nano classifier (make assistant-model) and a random slm10m
// decoder.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { loadAssistant, SlmError } from '../../js/node.js';
import { native, root, smallModel } from './helpers.mjs';

const patternsPath = join(root, 'data/assistant/patterns.txt');
const patterns = readFileSync(patternsPath, 'utf8');
const nano = join(root, 'build/models/assistant-nano-q4_0.gguf');
const threshold = Number(readFileSync(join(root, 'build/models/assistant-nano.threshold'), 'utf8'));
const docPath = join(root, 'web-demo/sample.txt');
const doc = readFileSync(docPath, 'utf8');

let assistant;
before(async () => {
  assistant = await loadAssistant({ patterns, nano, decoder: smallModel(), nanoThreshold: threshold, threads: 1 });
});
after(() => assistant.dispose());

const isError = (code) => (e) => (e instanceof SlmError && e.code === code) || assert.fail(`${e.code}: ${e.message}`);

// "tier N (name) · intent · confidence X[ · guessing] · T ms" lines of `slm assist`
function nativeRoutes(requests, ...args) {
  const out = native('assist', '--patterns', patternsPath, '-m', nano, '--threshold', String(threshold), ...args, ...requests);
  return out.split('\n').filter((l) => l.startsWith('tier ')).map((l) => {
    const [head, intent, confidence] = l.split(' · ');
    return { tier: Number(head.split(' ')[1]), intent, confidence: Number(confidence.split(' ')[1]) };
  });
}

test('loads the models into one worker; the pattern file gives the intents', () => {
  assert.equal(assistant.nano.info.isEncoder, true);
  assert.equal(assistant.decoder.info.isEncoder, false);
  assert.deepEqual([...assistant.intents].sort(),
    ['ask_document', 'goodbye', 'greeting', 'help', 'out_of_scope', 'suggest_questions', 'summarize', 'thanks']);
  assert.equal(assistant.cacheError, null);
});

test('routes the request set as the native CLI does, with tiers 1 and 2 both answering', async () => {
  const requests = readFileSync(join(root, 'data/assistant/dev.tsv'), 'utf8').trim().split('\n').slice(0, 60).map((l) => l.split('\t')[0]);
  const want = nativeRoutes(requests);
  const tiers = new Set();
  for (const [i, r] of requests.entries()) {
    const a = await assistant.ask(r, { maxTier: 2 });
    tiers.add(a.tier);
    assert.equal(a.tier, want[i].tier, r);
    assert.equal(a.intent || 'no intent', want[i].intent, r);
    assert.ok(Math.abs(a.confidence - want[i].confidence) < 0.006, `${r}: ${a.confidence} vs ${want[i].confidence}`);
    assert.ok(a.ms >= 0 && a.tierMs[1] >= 0 && typeof a.guessing === 'boolean');
  }
  assert.deepEqual([...tiers].sort(), [1, 2]);
});

test('tier 1 answers from the rules without running the encoder', async () => {
  const a = await assistant.ask('hello');
  assert.equal(a.tier, 1);
  assert.equal(a.intent, 'greeting');
  assert.equal(a.confidence, 1);
  assert.equal(a.tierMs[2], 0);
  assert.match(a.text, /^Hello!/);
});

test('a document: summary, suggested questions and an answer from tier 3; tier 4 streams tokens', async () => {
  const { sentences } = await assistant.setDocument(doc);
  assert.ok(sentences > 20);
  const summary = await assistant.ask('Summarize the document', { intent: 'summarize' });
  assert.equal(summary.tier, 3);
  assert.equal(summary.sentences.length, 3);
  assert.equal(summary.text.split('\n').length, 3);
  const questions = await assistant.ask('Suggest questions', { intent: 'suggest_questions' });
  assert.equal(questions.tier, 3);
  assert.ok(questions.text.split('\n').every((q) => q.endsWith('?')), questions.text);
  const answer = await assistant.ask('who built the lighthouse?', { intent: 'ask_document' });
  assert.equal(answer.tier, 3);
  assert.match(answer.text, /Margaret Oduya/);
  // the same answers as the native CLI
  const cli = native('assist', '--patterns', patternsPath, '-m', nano, '--doc', docPath, '--intent', 'ask_document', 'who built the lighthouse?');
  assert.equal(cli.split('\n')[1], answer.text);

  const forced = await assistant.ask('summarize it', { forceTier: 4, maxTokens: 12, seed: 5 });
  assert.equal(forced.tier, 4);
  assert.match(forced.prompt, /^Summarize the following text/);
  let text = '', last;
  for await (const t of forced.tokens) (text += t.text), (last = t);
  assert.equal(last.done, true);
  assert.equal(last.stats.generatedTokens, 12);
  const want = native('assist', '--patterns', patternsPath, '-m', nano, '--doc', docPath, '--decoder', smallModel(),
    '--tier', '4', '-n', '12', '--seed', '5', '--temp', '0.8', 'summarize it');
  assert.equal(text, want.slice(want.indexOf('\n') + 1).replace(/\n\n$/, ''), 'the native CLI\'s tokens');
});

test('leaving a tier-4 stream early stops the generation', async () => {
  const a = await assistant.ask('hello', { forceTier: 4, maxTokens: 200 });
  for await (const t of a.tokens) if (t) break;
  const b = await assistant.ask('hello');
  assert.equal(b.tier, 1);
});

test('a confirmed request routes at tier 1 at once, and the cache text restores it', async () => {
  const before = await assistant.ask('zorp the flimflam');
  assert.notEqual(before.tier, 1);
  const cache = await assistant.confirm('Zorp the flimflam!', 'summarize');
  assert.match(cache, /^summarize\tzorp the flimflam$/m);
  const a = await assistant.ask('zorp the FLIMFLAM');
  assert.equal(a.intentTier, 1);
  assert.equal(a.intent, 'summarize');
  assert.equal(a.intentConfidence, 1);
  const other = await loadAssistant({ patterns, cache });
  try {
    assert.equal((await other.ask('zorp the flimflam')).intent, 'summarize');
  } finally {
    await other.dispose();
  }
  assert.doesNotMatch(await assistant.forget('zorp the flimflam'), /zorp/);
  const broken = await loadAssistant({ patterns, cache: 'not a cache line\n' });
  try {
    assert.match(broken.cacheError, /cache:1: /);
    assert.equal((await broken.ask('hi')).tier, 1);
  } finally {
    await broken.dispose();
  }
});

test('bring another decoder: a bad file changes nothing, a good one replaces the old', async () => {
  const bad = join(root, 'build/js-test/not-a-model.gguf');
  writeFileSync(bad, 'GGUF but not really');
  const old = assistant.decoder;
  await assert.rejects(assistant.setDecoder(bad), isError('BAD_MODEL'));
  assert.equal(assistant.decoder, old);
  assert.equal((await assistant.ask('hi', { forceTier: 4, maxTokens: 2 })).tier, 4);
  const next = await assistant.setDecoder(smallModel(), { threads: 1 });
  assert.equal(assistant.decoder, next);
  await assert.rejects(old.tokenize('hi'), isError('INVALID_ARG'));
  const a = await assistant.ask('hi', { forceTier: 4, maxTokens: 3 });
  for await (const t of a.tokens) assert.equal(typeof t.text, 'string');
  await assistant.setDecoder(null);
  assert.equal(assistant.decoder, null);
  await assert.rejects(assistant.ask('hi', { forceTier: 4 }), (e) => isError('INVALID_ARG')(e) && /decoder/.test(e.message));
});

test('bad input: a bad pattern file names its line; empty requests, bad documents and bad options are refused', async () => {
  await assert.rejects(loadAssistant({ patterns: '[greeting]\nexactly hi\n' }), (e) => isError('BAD_DATA')(e) && /:2:/.test(e.message));
  await assert.rejects(loadAssistant({}), isError('INVALID_ARG'));
  await assert.rejects(assistant.ask('   '), isError('INVALID_ARG'));
  await assert.rejects(assistant.ask(42), isError('INVALID_ARG'));
  await assert.rejects(assistant.ask('hi', { forceTier: 9 }), isError('INVALID_ARG'));
  await assert.rejects(assistant.ask('hi', { seed: -1 }), isError('INVALID_ARG'));
  await assert.rejects(assistant.setDocument('... !!!'), isError('INVALID_ARG'));
  assert.equal((await assistant.ask('summarize', { intent: 'summarize' })).tier, 3, 'the open document stays');
  const rulesOnly = await loadAssistant({ patterns });
  try {
    await assert.rejects(rulesOnly.ask('hi', { forceTier: 2 }), (e) => isError('INVALID_ARG')(e) && /encoder/.test(e.message));
    assert.equal((await rulesOnly.ask('thanks a lot')).tier, 1);
  } finally {
    await rulesOnly.dispose();
  }
});
