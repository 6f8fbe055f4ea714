// Runs one of emscripten's pthread workers (dist/slm360-threads.worker.js, a
// Web Worker script) inside a Node worker_threads Worker: it expects the
// globals a Web Worker has.
import { parentPort, workerData } from 'node:worker_threads';

Object.assign(globalThis, {
  self: globalThis,
  location: { href: workerData },
  postMessage: (msg, transfer) => parentPort.postMessage(msg, transfer),
});
await import(workerData);
parentPort.on('message', (data) => globalThis.onmessage({ data }));
