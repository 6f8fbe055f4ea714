// The main thread's end of one engine worker: numbered requests, their
// events and results, aborts, and keeping Node's process alive only while a
// request is pending. Every model in the worker (one for loadModel, several
// for an assistant) sends its requests through it.
import { SlmError } from './errors.js';

export class Channel {
  #port;
  #pending = new Map();   // id -> {resolve, reject, onEvent}
  #nextId = 1;
  #closed = null;         // why the worker no longer takes requests

  /** @param {import('./model.js').WorkerPort} port */
  constructor(port) {
    this.#port = port;
    port.listen(
      (msg) => {
        const p = this.#pending.get(msg.id);
        if (!p) return;   // a request aborted here already
        if (msg.type === 'event') return p.onEvent?.(msg.event);
        if (msg.type === 'result') p.resolve(msg.value);
        else p.reject(new SlmError(msg.code, msg.message));
      },
      (e) => this.close(new SlmError('INTERNAL', `the engine's worker failed: ${e.message}`)),
    );
  }

  get closed() {
    return this.#closed;
  }

  /**
   * Sends one request; resolves with its result.
   * @returns {Promise<any>}
   */
  request(type, args, { signal, transfer, onEvent } = {}) {
    if (this.#closed) return Promise.reject(this.#closed);
    if (signal?.aborted) return Promise.reject(new SlmError('ABORTED', 'aborted'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#port.post({ type: 'abort', id });
        done();
        reject(new SlmError('ABORTED', 'aborted'));
      };
      const done = () => {
        this.#pending.delete(id);
        signal?.removeEventListener('abort', onAbort);
        if (!this.#pending.size) this.#port.keepAlive(false);
      };
      this.#pending.set(id, {
        resolve: (v) => { done(); resolve(v); },
        reject: (e) => { done(); reject(e); },
        onEvent,
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#port.keepAlive(true);
      this.#port.post({ id, type, ...args }, transfer);
    });
  }

  /**
   * A request whose events (then its result, unless null) come out of an
   * async iterator. The request is sent now, whether or not you iterate;
   * leaving the loop early, or `signal`, aborts it.
   * @returns {AsyncIterableIterator<any>}
   */
  stream(type, args, { signal } = {}) {
    // our own controller: breaking out of the loop aborts the request too
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) stop.abort();
    const events = [];
    let wake = () => {}, failed = null, finished = false;
    this.request(type, args, {
      signal: stop.signal,
      onEvent: (ev) => { events.push(ev); wake(); },
    }).then(
      (last) => { if (last !== null) events.push(last); finished = true; wake(); },
      (e) => { failed = e; wake(); },
    ).finally(() => signal?.removeEventListener('abort', onAbort));
    return (async function* () {
      try {
        for (;;) {
          if (events.length) yield events.shift();
          else if (finished) return;
          else if (failed) throw failed;
          else await new Promise((r) => (wake = r));
        }
      } finally {
        if (!finished) stop.abort();
      }
    })();
  }

  /** Aborts what is pending in the worker (they fail with ABORTED here). */
  abortAll() {
    for (const id of this.#pending.keys()) this.#port.post({ type: 'abort', id });
  }

  /** Ends the worker and fails what is pending with `why`. */
  close(why = new SlmError('INVALID_ARG', 'the model has been disposed')) {
    this.#closed ??= why;
    for (const p of this.#pending.values()) p.reject(why);
    this.#port.terminate();
  }
}
