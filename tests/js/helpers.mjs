// Shared by the JS tests: paths, test models (made with build/slm), the
// native CLI, and the rule for tests that need ../shared/data.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const slm = join(root, 'build/slm');
export const shared = resolve(root, '../shared');
const dir = join(root, 'build/js-test');

/** Runs the native CLI; returns its stdout. */
export const native = (...args) => execFileSync(slm, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function make(name, ...args) {
  const path = join(dir, name);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    native(...args, '-o', path);   // the CLI writes atomically: parallel test files cannot see half a file
  }
  return path;
}

/** slm10m's shape with random weights, Q4_0 (about 7 MB): no shared data needed. */
export const smallModel = () => make('slm10m-q4_0.gguf', 'init', '--preset', 'slm10m', '--random', '--seed', '1', '--type', 'q4_0');

/**
 * stories260K in F32, Q8_0 or Q4_0, imported from ../shared/data; null if
 * the data is missing (the test then skips, or fails in CI).
 */
export function stories(type, t) {
  const models = join(shared, 'data/models');
  if (!existsSync(join(models, 'stories260K.bin'))) {
    if (process.env.CI === 'true') throw new Error('../shared/data not found (required in CI)');
    console.log('skipped: ../shared/data not found');
    t.skip('skipped: ../shared/data not found');
    return null;
  }
  const f32 = make('stories260K-f32.gguf', 'import-llama2c', join(models, 'stories260K.bin'), '--tokenizer', join(models, 'tok512.bin'));
  return type === 'f32' ? f32 : make(`stories260K-${type}.gguf`, 'quantize', f32, '--type', type);
}
