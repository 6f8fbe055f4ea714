// llama.cpp as a reference for bench/ scripts: the libllama that the npm
// package node-llama-cpp ships, installed into build/peer (or PEER_DIR) on
// first use, its source bundle cloned for the headers, and our small C
// programs against it (bench/llama_cpp_*.c) compiled into build/bench.
// Never a dependency of slm360.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const log = (s) => process.stderr.write(`${s}\n`);

/** Installs what is missing and compiles bench/NAME.c; returns { tool, bins } (bins: the libraries' folder). */
export function llamaCppTool(name) {
  const peer = process.env.PEER_DIR ?? join(root, 'build/peer');
  const nlc = join(peer, 'node_modules/node-llama-cpp');
  if (!existsSync(nlc)) {
    mkdirSync(peer, { recursive: true });
    log(`installing node-llama-cpp into ${peer} (the reference, never a dependency of slm360)`);
    execFileSync('npm', ['install', '--no-audit', '--no-fund', 'node-llama-cpp@3.22.1'], { cwd: peer, stdio: 'inherit' });
  }
  const src = join(peer, 'llama.cpp-src');
  if (!existsSync(join(src, 'include/llama.h')))
    execFileSync('git', ['clone', '-q', join(nlc, 'llama/gitRelease.bundle'), src], { stdio: 'inherit' });
  const bins = join(peer, 'node_modules/@node-llama-cpp/linux-x64/bins/linux-x64');
  const lib = (prefix) => readdirSync(bins).find((f) => f.startsWith(prefix) && f.endsWith('.so'));
  const tool = join(root, 'build/bench', name);
  mkdirSync(dirname(tool), { recursive: true });
  execFileSync('cc', ['-O1', '-I', join(src, 'include'), '-I', join(src, 'ggml/include'), '-o', tool,
    join(root, `bench/${name}.c`), '-L', bins, `-l:${lib('libllama.')}`, `-l:${lib('libggml.')}`,
    '-l:libggml-base.so', `-Wl,-rpath,${bins}`]);
  return { tool, bins };
}
