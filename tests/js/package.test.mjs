// `npm pack` makes a tarball that installs into an empty project, offline,
// and runs there: from a script (import 'slm360') and as `npx slm360`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { native, root, smallModel } from './helpers.mjs';

const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

test('npm pack, install in an empty project, generate', async () => {
  const model = smallModel();
  const tmp = mkdtempSync(join(tmpdir(), 'slm360-pack-'));
  try {
    run('npm', ['pack', '--silent', '--pack-destination', tmp], root);
    const tarball = join(tmp, readdirSync(tmp).find((f) => f.endsWith('.tgz')));
    const files = run('tar', ['tzf', tarball]).split('\n');
    for (const f of ['js/index.js', 'js/node.js', 'js/index.d.ts', 'js/cli.js', 'dist/slm360.wasm', 'dist/slm360-threads.worker.js'])
      assert.ok(files.includes(`package/${f}`), f);
    assert.ok(!files.some((f) => /^package\/(src|tests|wasm|build)\//.test(f)), 'only the package files');

    const project = join(tmp, 'project');
    run('mkdir', ['-p', project]);
    run('npm', ['init', '-y'], project);
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], project);
    writeFileSync(join(project, 'run.mjs'), `
      import { loadModel } from 'slm360';
      const model = await loadModel(process.argv[2]);
      const ids = [];
      for await (const t of model.generate('hello there', { maxTokens: 8, seed: 1 })) if (!t.done) ids.push(t.id);
      console.log(ids.join(' '));
      await model.dispose();
    `);
    const want = native('generate', '-m', model, '-p', 'hello there', '-n', '8', '--seed', '1', '--print-ids').trim();
    assert.equal(run('node', ['run.mjs', model], project).trim(), want);
    assert.equal(run('npm', ['exec', '--offline', '--', 'slm360', 'generate', '-m', model, '-p', 'hello there', '-n', '8', '--seed', '1', '--print-ids'], project).trim(), want);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
