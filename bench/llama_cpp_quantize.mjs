// llama.cpp's quantizer on a GGUF file: the files benchmarks compare on (a
// Q4_K_M slm360-base, say) and the reference for our own quantizer.
//
//   node bench/llama_cpp_quantize.mjs IN.gguf OUT.gguf TYPE     TYPE: q4_k_m, q8_0, q5_0, q6_k, ... (llama.h's names)
// Without arguments: build/bench/base-f32.gguf (made with `slm init` if
// missing) to build/bench/base-q4_k_m.gguf. llama.cpp: bench/llama_cpp_peer.mjs.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { readGgufHeader } from '../js/gguf-header.js';
import { llamaCppTool } from './llama_cpp_peer.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FTYPES = { q4_0: 2, q4_1: 3, q8_0: 7, q5_0: 8, q5_1: 9, q2_k: 10, q3_k_s: 11, q3_k_m: 12, q3_k_l: 13, q4_k_s: 14,
  q4_k_m: 15, q5_k_s: 16, q5_k_m: 17, q6_k: 18, iq4_nl: 25, iq4_xs: 30 };
let [input, output, type] = process.argv.slice(2);
if (!input) {
  input = join(root, 'build/bench/base-f32.gguf'), output = join(root, 'build/bench/base-q4_k_m.gguf'), type = 'q4_k_m';
  if (!existsSync(join(root, 'build/slm'))) execFileSync('make', ['-C', root], { stdio: 'inherit' });
  if (!existsSync(input))
    execFileSync(join(root, 'build/slm'), ['init', '--preset', 'slm360-base', '--random', '--seed', '1', '--type', 'f32', '-o', input], { stdio: 'inherit' });
}
if (!(type in FTYPES)) {
  console.error(`usage: node bench/llama_cpp_quantize.mjs IN.gguf OUT.gguf TYPE (one of ${Object.keys(FTYPES).join(', ')})`);
  process.exit(2);
}
// llama.cpp writes a truncated file from an input with general.alignment = 64
// (slm360's files): give it a copy with 32, the data moved to its new start
// (tensor offsets, multiples of 64, stay as they are)
const bytes = readFileSync(input), h = readGgufHeader(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
const key = Buffer.from('general.alignment'), at = bytes.indexOf(key);
let src = input;
if (h.alignment !== 32 && at >= 0 && at < h.headerEnd) {
  const head = Buffer.from(bytes.subarray(0, h.headerEnd));
  head.writeUInt32LE(32, at + key.length + 4);   // after the key: u32 type, then the value
  const start = Math.ceil(h.headerEnd / 32) * 32;
  src = join(root, 'build/bench/quantize-input.gguf');
  writeFileSync(src, Buffer.concat([head, Buffer.alloc(start - h.headerEnd), bytes.subarray(h.dataOffset)]));
}
const { tool, bins } = llamaCppTool('llama_cpp_quantize');
execFileSync(tool, [bins, src, output, String(FTYPES[type])], { stdio: ['ignore', 'ignore', 'inherit'] });
console.log(`${output}: llama.cpp ${type}`);
