// slm360 for Node.js: the engine runs in a worker_threads Worker.
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import { Assistant, createLoadAssistant } from './assistant.js';
import { createLoadModel, Model, SlmError } from './model.js';

export { Assistant, Model, SlmError };

const host = {
  cores: availableParallelism(),
  threadsAllowed: true,
  spawn() {
    const w = new Worker(new URL('./worker-node.js', import.meta.url));
    let ending = false;
    return {
      post: (msg, transfer) => w.postMessage(msg, transfer),
      listen: (onMessage, onError) =>
        w.on('message', onMessage).on('error', onError).on('exit', (code) => ending || onError(new Error(`exit code ${code}`))),
      terminate: () => { ending = true; w.terminate(); },
      // an idle model does not keep the process alive
      keepAlive: (busy) => (busy ? w.ref() : w.unref()),
    };
  },
  source(input) {
    const url = input instanceof URL ? input : typeof input === 'string' && /^[a-z][a-z0-9+.-]+:\/\//i.test(input) ? new URL(input) : null;
    if (url?.protocol === 'file:') return { source: { kind: 'path', path: fileURLToPath(url) } };
    if (url) return { source: { kind: 'url', url: url.href } };
    if (typeof input === 'string') return { source: { kind: 'path', path: resolve(input) } };
    return null;
  },
};

/**
 * Loads a model: a file path, a file: or http(s): URL, a Blob, an
 * ArrayBuffer or typed array, or a ReadableStream of bytes.
 * @type {typeof import('./index.js').loadModel}
 */
export const loadModel = createLoadModel(host);

/** @type {typeof import('./index.js').loadAssistant} */
export const loadAssistant = createLoadAssistant(host);
