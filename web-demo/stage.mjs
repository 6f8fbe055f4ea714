#!/usr/bin/env node
// Stages the demo site in build/web-demo: the page (web-demo/), the package
// it imports (js/, dist/ under lib/), and the models (from build/models) with
// models/manifest.json: their names, sizes and checksums, tier 2's threshold.
// version.json lists the files the service worker keeps for offline use
// (everything but the models, which the page keeps in the Cache API itself).
//
//   node web-demo/stage.mjs [--out build/web-demo]
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const out = resolve(args.includes('--out') ? args[args.indexOf('--out') + 1] : join(root, 'build/web-demo'));
const models = join(root, 'build/models');

// the decoders the page offers when make has built them
const DECODERS = [
  { file: 'stories260K-q4_0.gguf', name: 'stories260K, Q4_0' },
  { file: 'stories260K.gguf', name: 'stories260K, F32' },
];
const ABOUT_STORIES = "Karpathy's TinyStories model (260K parameters): it writes short children's stories. " +
  'It does not understand the document: its answers are made up.';

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

function copy(from, to) {
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}

function model(file, name, about) {
  const hash = sha256(join(models, file));
  copy(join(models, file), join(out, 'models', file));
  return { name, about, file, url: `models/${file}?v=${hash.slice(0, 12)}`, bytes: statSync(join(models, file)).size, sha256: hash };
}

const nanoFile = join(models, 'assistant-nano-q4_0.gguf');
if (!existsSync(nanoFile)) {
  console.error('stage-demo: build/models/assistant-nano-q4_0.gguf is missing (make assistant-model)');
  process.exit(1);
}
rmSync(out, { recursive: true, force: true });
// the page's files (its build scripts, *.mjs and *.mk, stay behind)
for (const f of readdirSync(join(root, 'web-demo')).filter((f) => !/\.(mjs|mk)$/.test(f))) copy(join(root, 'web-demo', f), join(out, f));
for (const f of readdirSync(join(root, 'js')).filter((f) => f.endsWith('.js'))) copy(join(root, 'js', f), join(out, 'lib/js', f));
for (const f of ['slm360.js', 'slm360.wasm', 'slm360-threads.js', 'slm360-threads.wasm', 'slm360-threads.worker.js'])
  copy(join(root, 'dist', f), join(out, 'lib/dist', f));
copy(join(root, 'data/assistant/patterns.txt'), join(out, 'models/patterns.txt'));

const manifest = {
  patterns: 'models/patterns.txt',
  nano: {
    ...model('assistant-nano-q4_0.gguf', 'assistant nano, Q4_0',
      'The slm360-nano classifier trained by `make assistant-model` on data/assistant (8 intents).'),
    threshold: Number(readFileSync(join(models, 'assistant-nano.threshold'), 'utf8')),
  },
  decoders: DECODERS.filter((d) => existsSync(join(models, d.file))).map((d) => model(d.file, d.name, ABOUT_STORIES)),
};
writeFileSync(join(out, 'models/manifest.json'), JSON.stringify(manifest, null, 2) + '\n');

// everything but the models, with a version that changes when any byte does
const files = [];
const walk = (dir) => {
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) walk(p);
    else if (!f.endsWith('.gguf')) files.push(relative(out, p));
  }
};
walk(out);
const version = createHash('sha256');
for (const f of files) version.update(f).update(readFileSync(join(out, f)));
writeFileSync(join(out, 'version.json'), JSON.stringify({ version: version.digest('hex').slice(0, 16), files: ['./', 'version.json', ...files] }, null, 2) + '\n');
console.log(`staged ${out}: ${files.length} files, nano ${manifest.nano.bytes} bytes (threshold ${manifest.nano.threshold}), ` +
  `${manifest.decoders.length ? manifest.decoders.map((d) => d.name).join(' and ') : 'no decoder (tiers 1-3 only)'}`);
