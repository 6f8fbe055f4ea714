#!/usr/bin/env node
// The demo's default decoder where ../shared/data is missing: stories260K
// from a public copy (crabml's GGUF of it, at a fixed commit), checked against
// its sha256, then written as F32 and Q4_0 by `slm quantize`. Without a
// network (or on a bad checksum) it says so and the demo starts with tiers 1
// to 3. Never fails the build.
//
//   node weights-tools/fetch-stories.mjs build/slm build/models
// STORIES_URL overrides the address (a path reads a local file).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const URL_ = process.env.STORIES_URL ??
  'https://raw.githubusercontent.com/crabml/crabml/700bca3c69b964c043bb66816694937f4d346dfb/testdata/tinyllamas-stories-260k-f32.gguf';
const SHA256 = 'c14806920629b6c217445c69d7ac61bd0e4047289f8ab824c3f0b4f827a5d1cb';
const [slm, out] = process.argv.slice(2);
const none = (why) => {
  console.log(`stories260K: ${why}: the demo starts with tiers 1 to 3 (open a GGUF model in its Settings to add a decoder)`);
  process.exit(0);
};

if (existsSync(join(out, 'stories260K-q4_0.gguf'))) process.exit(0);
console.log(`stories260K: ../shared/data/models is missing; fetching ${URL_}`);
let bytes;
try {
  if (/^(\/|\.|file:)/.test(URL_)) bytes = readFileSync(URL_.startsWith('file:') ? new URL(URL_) : URL_);
  else {
    const res = await fetch(URL_, { signal: AbortSignal.timeout(60_000) });
    if (!res.ok) none(`HTTP ${res.status}`);
    bytes = new Uint8Array(await res.arrayBuffer());
  }
} catch (e) {
  none(`no download (${e.cause?.code ?? e.message})`);
}
const sha = createHash('sha256').update(bytes).digest('hex');
if (sha !== SHA256) none(`the download's sha256 is ${sha}, not ${SHA256}`);
mkdirSync(out, { recursive: true });
const tmp = join(out, 'stories260K-download.gguf.tmp');
writeFileSync(tmp, bytes);
try {
  execFileSync(slm, ['quantize', tmp, '-o', join(out, 'stories260K.gguf'), '--type', 'f32'], { stdio: 'inherit' });
  execFileSync(slm, ['quantize', join(out, 'stories260K.gguf'), '-o', join(out, 'stories260K-q4_0.gguf'), '--type', 'q4_0'], { stdio: 'inherit' });
} finally {
  rmSync(tmp, { force: true });
}
