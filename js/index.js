// slm360 in browsers (and any environment with module Web Workers): the engine
// runs in a Web Worker, so the page never blocks.
import { Assistant, createLoadAssistant } from './assistant.js';
import { createLoadModel, Model, SlmError } from './model.js';

export { Assistant, Model, SlmError };

const host = {
  cores: globalThis.navigator?.hardwareConcurrency ?? 1,
  // the threads build needs shared memory: pages served cross-origin isolated
  threadsAllowed: typeof SharedArrayBuffer === 'function' && globalThis.crossOriginIsolated === true,
  spawn() {
    const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    return {
      post: (msg, transfer) => w.postMessage(msg, transfer ?? []),
      listen(onMessage, onError) {
        w.onmessage = (e) => onMessage(e.data);
        w.onerror = (e) => { e.preventDefault(); onError(new Error(e.message ?? 'the worker failed to start')); };
      },
      terminate: () => w.terminate(),
      keepAlive() {},
    };
  },
  source(input) {
    if (typeof input === 'string' || input instanceof URL)
      return { source: { kind: 'url', url: new URL(input, globalThis.location?.href).href } };
    return null;
  },
};

/**
 * Loads a model: a URL (relative to the page), a Blob or File, an
 * ArrayBuffer or typed array, or a ReadableStream of bytes.
 */
export const loadModel = createLoadModel(host);

/** Starts the 4-tier assistant (patterns, nano encoder, decoder) in one worker. */
export const loadAssistant = createLoadAssistant(host);
