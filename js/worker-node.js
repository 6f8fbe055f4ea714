// The engine's worker in Node.js (worker_threads): the same engine as in a
// browser, with files read straight into wasm memory.
import { open, readFile } from 'node:fs/promises';
import { Worker as NodeWorker, parentPort } from 'node:worker_threads';

import { EngineError, serve } from './engine.js';

// Emscripten's pthreads build starts its threads as Web Workers: give it a
// Web-Worker-shaped wrapper of worker_threads (pthread-node.js sets up the
// other side).
globalThis.Worker = class {
  constructor(url) {
    this.worker = new NodeWorker(new URL('./pthread-node.js', import.meta.url), { workerData: String(url) });
    this.worker.on('message', (data) => this.onmessage?.({ data }));
    this.worker.on('error', (e) => this.onerror?.(e));
  }
  postMessage(msg, transfer) { this.worker.postMessage(msg, transfer); }
  terminate() { this.worker.terminate(); }
};

const ioError = (path, e) => new EngineError('IO', `${path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);

/** How the engine gets its wasm and reads files in Node (also used in-process by bench/wasm_bench.mjs). */
export const nodeEnv = {
  compile: async (url) => WebAssembly.compile(await readFile(url)),
  async openFile(path) {
    const fh = await open(path, 'r').catch((e) => { throw ioError(path, e); });
    const { size } = await fh.stat();
    let pos = 0;
    const read = async (dest) => {
      const { bytesRead } = await fh.read(dest, 0, dest.length, pos).catch((e) => { throw ioError(path, e); });
      pos += bytesRead;
      return bytesRead;
    };
    return {
      size,
      next: async () => {
        const buf = new Uint8Array(Math.min(1 << 20, size - pos));
        const n = buf.length && (await read(buf));
        return n ? buf.subarray(0, n) : null;
      },
      readInto: read,
      close: () => fh.close().catch(() => {}),
    };
  },
};

if (parentPort) serve({ post: (msg, transfer) => parentPort.postMessage(msg, transfer), listen: (fn) => parentPort.on('message', fn) }, nodeEnv);
