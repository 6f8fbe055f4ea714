// The incremental GGUF header reader: file size and layout from the first bytes.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';

import { GgufError, readGgufHeader } from '../../js/gguf-header.js';
import { smallModel } from './helpers.mjs';

// A tiny GGUF by hand: one u32 key, one F32 tensor of 4 values. Version 1
// has 32-bit counts and lengths.
function tiny(version, alignment = 64) {
  const parts = [];
  const u32 = (v) => parts.push(new Uint8Array(new Uint32Array([v]).buffer));
  const len = (v) => (version === 1 ? u32(v) : parts.push(new Uint8Array(new BigUint64Array([BigInt(v)]).buffer)));
  const str = (s) => { len(s.length); parts.push(new TextEncoder().encode(s)); };
  u32(0x46554747); u32(version); len(1); len(1);
  str('general.alignment'); u32(4); u32(alignment);
  str('w'); u32(1); len(4); u32(0); parts.push(new Uint8Array(new BigUint64Array([0n]).buffer));
  const head = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(Math.ceil(head / alignment) * alignment + 16);
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return { bytes: out, headerEnd: head };
}

test('a real model: the size and layout from the header alone', () => {
  const path = smallModel(), bytes = readFileSync(path);
  const h = readGgufHeader(bytes);
  assert.equal(h.fileSize, statSync(path).size);
  assert.equal(h.version, 3);
  assert.equal(h.dataOffset % h.alignment, 0);
  assert.ok(h.tensors.some((t) => t.name === 'token_embd.weight'));
  assert.ok(h.tensors.some((t) => t.type === 'Q4_0'));
  // the header alone is enough; its first bytes are not
  assert.deepEqual(readGgufHeader(bytes.subarray(0, h.dataOffset)), h);
  for (const n of [0, 3, 10, 100, 4096])
    assert.equal(readGgufHeader(bytes.subarray(0, n)), null, `${n} bytes`);
});

test('versions 1 and 3, and the alignment key', () => {
  for (const version of [1, 3]) {
    const { bytes, headerEnd } = tiny(version);
    const h = readGgufHeader(bytes);
    assert.equal(h.version, version);
    assert.equal(h.alignment, 64);
    assert.equal(h.dataOffset, Math.ceil(headerEnd / 64) * 64);
    assert.equal(h.fileSize, h.dataOffset + 16);
    assert.deepEqual(h.tensors, [{ name: 'w', type: 'F32', dims: [4], offset: 0, bytes: 16 }]);
    for (let n = 0; n < headerEnd; n++) assert.equal(readGgufHeader(bytes.subarray(0, n)), null);
  }
});

test('malformed headers are BAD_MODEL errors', () => {
  const { bytes, headerEnd } = tiny(3);
  const bad = (b, size, re) => assert.throws(() => readGgufHeader(b, size), (e) => e instanceof GgufError && e.code === 'BAD_MODEL' && re.test(e.message));
  const magic = bytes.slice();
  magic[0] = 0x47 ^ 0xff;
  bad(magic, undefined, /not a GGUF file/);
  const version = bytes.slice();
  version[4] = 9;
  bad(version, undefined, /version 9/);
  bad(bytes.subarray(0, 30), 30, /truncated/);            // the file is known to end inside the header
  bad(tiny(3, 48).bytes, undefined, /power of two/);
  const type = bytes.slice();
  new DataView(type.buffer).setUint32(headerEnd - 12, 99, true);   // the tensor's type, before its offset
  bad(type, undefined, /unknown type 99/);
});
