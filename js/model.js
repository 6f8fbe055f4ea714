// The main-thread side, shared by the browser (index.js) and Node (node.js)
// entry points: loadModel starts a worker holding the engine and returns a
// Model that sends it requests. The worker serves them one at a time in the
// order they were made; a signal aborts one, queued or running.

/** An engine failure: `code` is BAD_MODEL, UNSUPPORTED, IO, OUT_OF_MEMORY, CONTEXT_FULL, ABORTED, INVALID_ARG, BAD_DATA or INTERNAL. */
export class SlmError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'SlmError';
    this.code = code;
  }
}

const CHUNK = 4 << 20;     // bytes per message when streaming a buffer to the worker
const MAX_THREADS = 16;

// The engine's own defaults (slm_generate_default_params), so that the same
// seed gives the same text as `slm generate`.
const GENERATE_DEFAULTS = {
  maxTokens: 128, temperature: 0.8, topK: 40, topP: 0.95, minP: 0, repeatPenalty: 1, repeatLastN: 64, seed: 42, stop: [],
};

// slm_learn_default_params
const LEARN_DEFAULTS = {
  epochs: 10, lr: 1e-2, ewc: 100, replay: true, replayRatio: 4, maxDrop: 0.01, maxClassDrop: 0.3, minFit: 0.75, seed: 1,
};

/**
 * How an environment runs the engine.
 * @typedef {object} Host
 * @property {() => WorkerPort} spawn          starts the engine's worker
 * @property {(input: any) => {source: object, transfer?: Transferable[]} | null} source  environment-specific inputs
 * @property {number} cores
 * @property {boolean} threadsAllowed          shared memory available (Node, cross-origin isolated pages)
 *
 * @typedef {object} WorkerPort
 * @property {(msg: object, transfer?: Transferable[]) => void} post
 * @property {(onMessage: (msg: any) => void, onError: (e: Error) => void) => void} listen
 * @property {() => void} terminate
 * @property {(busy: boolean) => void} keepAlive  Node: whether the worker keeps the process alive
 */

/** @param {Host} host */
export function createLoadModel(host) {
  return async function loadModel(input, options = {}) {
    const { onProgress, signal, ctx = 0 } = options;
    const auto = (options.threads ?? 'auto') === 'auto';
    let threads = auto ? Math.min(host.cores, 8) : options.threads;
    if (!Number.isInteger(threads) || threads < 1) throw new SlmError('INVALID_ARG', `threads must be 'auto' or a positive integer, not ${options.threads}`);
    if (!Number.isInteger(ctx) || ctx < 0) throw new SlmError('INVALID_ARG', `ctx must be a non-negative integer, not ${ctx}`);
    // the worker picks the build: more than one thread, the pthreads build
    threads = host.threadsAllowed ? Math.min(threads, MAX_THREADS) : 1;
    const { source, transfer } = host.source(input) ?? commonSource(input);
    const model = new Model(host.spawn());
    try {
      model.info = await model._request('load', { source, threads, auto, ctx }, { signal, transfer, onEvent: onProgress });
    } catch (e) {
      model._close();
      throw e;
    }
    return model;
  };
}

function commonSource(input) {
  if (typeof Blob !== 'undefined' && input instanceof Blob) return { source: { kind: 'blob', blob: input } };
  if (input instanceof ReadableStream) return { source: { kind: 'stream', stream: input }, transfer: [input] };
  if (input instanceof ArrayBuffer || ArrayBuffer.isView(input)) {
    // sent in slices: the worker copies each into wasm memory as it comes
    const bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    let off = 0;
    const stream = new ReadableStream({
      pull(c) {
        if (off >= bytes.length) return c.close();
        c.enqueue(bytes.slice(off, (off += CHUNK)));
      },
    });
    return { source: { kind: 'stream', stream, size: bytes.length }, transfer: [stream] };
  }
  throw new SlmError('INVALID_ARG', 'a model is a URL, a file path (Node), a Blob or File, an ArrayBuffer or typed array, or a ReadableStream of bytes');
}

/** A loaded model in its worker. Make one with loadModel. */
export class Model {
  /** Architecture, sizes, vocabulary, tensor types, and the build and threads in use. */
  info = null;
  #port;
  #pending = new Map();   // id -> {resolve, reject, onEvent}
  #nextId = 1;
  #closed = null;         // why the model no longer takes requests

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
      (e) => this._close(new SlmError('INTERNAL', `the engine's worker failed: ${e.message}`)),
    );
  }

  /**
   * Sends one request; resolves with its result. Internal: use the methods.
   * @returns {Promise<any>}
   */
  _request(type, args, { signal, transfer, onEvent } = {}) {
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
   * Streams a continuation of `prompt` (text, BOS added; or token ids, fed as
   * given), one event per token; the last event has `done: true` and the final
   * statistics. The request is queued now, whether or not you iterate.
   * @returns {AsyncIterableIterator<{text: string, id: number, done: boolean, stats: object}>}
   */
  generate(prompt, options = {}) {
    const { signal, ...rest } = { ...GENERATE_DEFAULTS, ...options };
    const invalid =
      typeof prompt !== 'string' && !Array.isArray(prompt) && !(prompt instanceof Int32Array) ? 'the prompt is a string or an array of token ids'
      : !Number.isSafeInteger(rest.seed) || rest.seed < 0 ? `seed ${rest.seed} is not an integer in [0, 2^53)`
      : ['maxTokens', 'topK', 'repeatLastN'].filter((k) => !Number.isInteger(rest[k])).map((k) => `${k} ${rest[k]} is not an integer`)[0];
    if (invalid) return (async function* () { throw new SlmError('INVALID_ARG', invalid); })();
    if (!Array.isArray(rest.stop)) rest.stop = [rest.stop];
    // our own controller: breaking out of the loop aborts the request too
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) stop.abort();
    const events = [];
    let wake = () => {}, failed = null, finished = false;
    this._request('generate', { prompt, options: rest }, {
      signal: stop.signal,
      onEvent: (ev) => { events.push(ev); wake(); },
    }).then(
      (last) => { events.push(last); finished = true; wake(); },
      (e) => { failed = e; wake(); },
    ).finally(() => signal?.removeEventListener('abort', onAbort));
    return (async function* () {
      try {
        for (;;) {
          if (events.length) {
            const ev = events.shift();
            yield ev;
            if (ev.done) return;
          } else if (failed) throw failed;
          else await new Promise((r) => (wake = r));
        }
      } finally {
        if (!finished) stop.abort();
      }
    })();
  }

  /**
   * Log-likelihood (natural log, summed over its tokens) of each choice as a
   * continuation of `context`: rank multiple-choice answers.
   * @returns {Promise<number[]>}
   */
  score(context, choices, { signal } = {}) {
    return this._request('score', { context, choices }, { signal });
  }

  /** @returns {Promise<number[]>} token ids, BOS first unless `bos: false` */
  tokenize(text, { bos = true, signal } = {}) {
    return this._request('tokenize', { text, bos }, { signal });
  }

  /** @returns {Promise<string>} */
  detokenize(ids, { signal } = {}) {
    return this._request('detokenize', { ids: Array.from(ids) }, { signal });
  }

  /**
   * An encoder's (slm360-encoder) classes for `text` with their probabilities,
   * most likely first. `truncated` on the array: tokens past the context that
   * were not read (0 unless the text is longer than the context).
   * @returns {Promise<Array<{label: string, score: number}> & {truncated: number}>}
   */
  async classify(text, { signal } = {}) {
    if (typeof text !== 'string') throw new SlmError('INVALID_ARG', 'the text to classify is a string');
    const { results, truncated } = await this._request('classify', { text }, { signal });
    return Object.assign(results, { truncated });
  }

  /**
   * An encoder's pooled vector of `text`, the one its classifier reads
   * (L2-normalized: a dot product of two is their cosine).
   * @returns {Promise<Float32Array>}
   */
  async embed(text, { signal } = {}) {
    if (typeof text !== 'string') throw new SlmError('INVALID_ARG', 'the text to embed is a string');
    return this._request('embed', { text }, { signal });
  }

  /**
   * Teaches an encoder labelled texts on the device (a label it does not know
   * becomes a new class), mixed with replayed past examples and held by EWC.
   * The update is checked on held-out examples: if it would hurt them, or not
   * learn the texts, it is refused and nothing changes (`accepted: false`,
   * `reason`). Afterwards `classify` uses what was learnt.
   * @param {Array<{text: string, label: string}>} examples
   * @returns {Promise<{accepted: boolean, devAccuracyBefore: number|null, devAccuracyAfter: number|null,
   *   fitBefore: number, fitAfter: number, newClasses: number, heldOut: number, replay: number, reason: string}>}
   */
  async learn(examples, options = {}) {
    const bad = !Array.isArray(examples) || !examples.length ||
      examples.some((e) => typeof e?.text !== 'string' || typeof e?.label !== 'string');
    if (bad) throw new SlmError('INVALID_ARG', 'examples are a non-empty array of {text, label} strings');
    const { signal, onProgress, ...rest } = options;
    const o = { ...LEARN_DEFAULTS, ...rest };
    return this._request('learn', { examples: examples.map(({ text, label }) => ({ text, label })), options: o },
      { signal, onEvent: onProgress });
  }

  /** What `learn` taught, as bytes (a GGUF file) to keep and give back to `loadLearnedState`. @returns {Promise<Uint8Array>} */
  learnedState({ signal } = {}) {
    return this._request('learnedState', {}, { signal });
  }

  /**
   * Continues from a saved learned state of this same model (else `INVALID_ARG`;
   * a corrupt one is `BAD_MODEL`). @returns {Promise<{classes: string[]}>}
   */
  loadLearnedState(bytes, { signal, onProgress } = {}) {
    if (!(bytes instanceof Uint8Array)) return Promise.reject(new SlmError('INVALID_ARG', 'a learned state is a Uint8Array'));
    return this._request('loadLearnedState', { bytes }, { signal, onEvent: onProgress });
  }

  /** Back to the model's own classifier: forgets what `learn` taught. */
  forgetLearned({ signal } = {}) {
    return this._request('forgetLearned', {}, { signal });
  }

  /** Frees the model and its worker; requests still queued are aborted. */
  async dispose() {
    if (this.#closed) return;
    for (const id of this.#pending.keys()) this.#port.post({ type: 'abort', id });
    await this._request('dispose', {}).catch(() => {});
    this._close(new SlmError('INVALID_ARG', 'the model has been disposed'));
  }

  /** Ends the worker and fails what is pending with `why`. Internal. */
  _close(why = new SlmError('INVALID_ARG', 'the model has been disposed')) {
    this.#closed ??= why;
    for (const p of this.#pending.values()) p.reject(why);
    this.#port.terminate();
  }
}
