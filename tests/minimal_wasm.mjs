// The pattern-only wasm build (wasm/minimal.mk) in Node: its size limit, the
// one import it needs, and tier 1 working through raw exports: parse the
// assistant's pattern file, match requests, use the cache, report a bad file.
// Usage: node tests/minimal_wasm.mjs dist/slm360-minimal.wasm
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const bytes = readFileSync(process.argv[2] ?? 'dist/slm360-minimal.wasm');
const gz = gzipSync(bytes, { level: 9 }).length;
assert.ok(bytes.length <= 50 * 1024, `${bytes.length} bytes: over the 50 KB limit`);

const module = new WebAssembly.Module(bytes);
assert.deepEqual(WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`),
  ['env.emscripten_notify_memory_growth']);
const { exports: w } = new WebAssembly.Instance(module, { env: { emscripten_notify_memory_growth() {} } });
w._initialize();

const enc = new TextEncoder(), dec = new TextDecoder();
const u8 = () => new Uint8Array(w.memory.buffer);
const i32 = () => new Int32Array(w.memory.buffer);
function str(text) {            // -> [pointer, byte length], NUL-terminated
  const b = enc.encode(text), p = w.malloc(b.length + 1);
  u8().set(b, p);
  u8()[p + b.length] = 0;
  return [p, b.length];
}
function cstr(p) {
  if (!p) return null;
  const m = u8();
  let e = p;
  while (m[e]) e++;
  return dec.decode(m.subarray(p, e));
}
const ERR = 4 + 320;            // slm_error: int code, char message[320]
const err = w.malloc(ERR), out = w.malloc(4), match = w.malloc(24);

// parse the assistant's patterns
const [file, fileLen] = str(readFileSync(new URL('../data/assistant/patterns.txt', import.meta.url), 'utf8'));
const [name] = str('patterns.txt');
assert.equal(w.slm_patterns_parse(file, fileLen, name, out, err), 0, cstr(err + 4));
const pats = i32()[out >> 2];
assert.ok(w.slm_patterns_intent_count(pats) >= 6);

// slm_pattern_match: int intent, char *name, char *reply, float confidence, int priority, int line
function intentOf(text) {
  const [p, n] = str(text);
  const r = w.slm_patterns_match(pats, p, n, match);
  w.free(p);
  return r === 1 ? cstr(i32()[(match >> 2) + 1]) : null;
}
assert.equal(intentOf('Hello there!'), 'greeting');
assert.equal(intentOf('hi, can you summarize this?'), 'summarize');
assert.equal(intentOf('QUIZ ME on chapter 2'), 'suggest_questions');
assert.equal(intentOf('thanks a lot'), 'thanks');
assert.equal(intentOf('who is the main character?'), null);

// the cache: add, normalized lookup, text form
assert.equal(w.slm_cache_new(16, out, err), 0);
const cache = i32()[out >> 2];
const [req, reqLen] = str('Who is the main character?');
const [intent] = str('ask_document');
assert.equal(w.slm_cache_add(cache, req, reqLen, intent, err), 0, cstr(err + 4));
const [again, againLen] = str('who is the MAIN character');
assert.equal(cstr(w.slm_cache_lookup(cache, again, againLen)), 'ask_document');
const need = w.slm_cache_write(cache, 0, 0), buf = w.malloc(need);
w.slm_cache_write(cache, buf, need);
assert.equal(dec.decode(u8().subarray(buf, buf + need)), 'ask_document\twho is the main character\n');

// a bad file: a line-numbered error
const [bad, badLen] = str('[greeting]\nexact hi\nsometimes hello\n');
assert.equal(w.slm_patterns_parse(bad, badLen, name, out, err), 8 /* SLM_ERR_BAD_DATA */);
assert.match(cstr(err + 4), /^patterns\.txt:3: unknown directive/);

w.slm_cache_free(cache);
w.slm_patterns_free(pats);
console.log(`minimal wasm: ${bytes.length} bytes, ${gz} gzipped; patterns, cache and errors work`);
