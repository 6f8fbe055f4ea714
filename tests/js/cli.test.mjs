// js/cli.js (`npx slm360`): the native CLI's output, exit codes and messages.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

import { native, root, smallModel } from './helpers.mjs';

const cli = (...args) => spawnSync('node', ['js/cli.js', ...args], { cwd: root, encoding: 'utf8' });

test('generate prints what slm generate prints', () => {
  const m = smallModel();
  const args = ['-m', m, '-p', 'the sun', '-n', '24', '--temp', '0.7', '--top-k', '20', '--repeat-penalty', '1.1', '--seed', '9'];
  const r = cli('generate', ...args, '-t', '1');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, native('generate', ...args));
  assert.match(r.stderr, /24 generated, .* ms\/token .*simd build, 1 thread/);
  const ids = cli('generate', '-m', m, '--prompt-ids', '1 300 301', '-n', '5', '--temp', '0', '--print-ids');
  assert.equal(ids.stdout, native('generate', '-m', m, '--prompt-ids', '1 300 301', '-n', '5', '--temp', '0', '--print-ids'));
});

test('tokenize, score, info', () => {
  const m = smallModel();
  assert.equal(cli('tokenize', '-m', m, 'hello world').stdout, native('tokenize', '-m', m, 'hello world'));
  const score = cli('score', '-m', m, '--context', 'a b', '--choices', ' c| d');
  assert.equal(score.status, 0, score.stderr);
  assert.match(score.stdout, /^0\t-\d+\.\d{4}\t" c"\n1\t-\d+\.\d{4}\t" d"\nbest: [01] /);
  assert.equal(JSON.parse(cli('info', '-m', m).stdout).dim, 256);
});

test('usage errors exit 1, model errors 2 with the engine message', () => {
  assert.equal(cli().status, 1);
  assert.equal(cli('frobnicate').status, 1);
  assert.equal(cli('generate', '-p', 'x').status, 1);
  assert.equal(cli('generate', '-m', smallModel(), '-p', 'x', '-n', 'many').status, 1);
  const r = cli('info', '-m', 'tests/js/cli.test.mjs');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^slm360: error: tests\/js\/cli.test.mjs: not a GGUF file \(bad magic\) \(BAD_MODEL\)\n$/);
  assert.match(cli('info', '-m', 'missing.gguf').stderr, /no such file \(IO\)/);
});
