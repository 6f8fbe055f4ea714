// The main-thread side, shared by the browser (index.js) and Node (node.js)
// entry points: loadModel starts a worker holding the engine and returns a
// Model that sends it requests. The worker serves them one at a time in the
// order they were made; a signal aborts one, queued or running. A worker can
// hold several models (an assistant's), each in its own slot.
import { Channel } from './channel.js';
import { SlmError } from './errors.js';

export { SlmError };

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
 * Sampling options with the engine's defaults: `{generation}`, or `{invalid}`
 * saying what is wrong.
 */
export function generationOptions(options) {
  const o = { ...GENERATE_DEFAULTS };
  for (const k of Object.keys(GENERATE_DEFAULTS)) if (options[k] !== undefined) o[k] = options[k];
  const invalid =
    !Number.isSafeInteger(o.seed) || o.seed < 0 ? `seed ${o.seed} is not an integer in [0, 2^53)`
    : ['maxTokens', 'topK', 'repeatLastN'].filter((k) => !Number.isInteger(o[k])).map((k) => `${k} ${o[k]} is not an integer`)[0];
  if (!Array.isArray(o.stop)) o.stop = [o.stop];
  return invalid ? { invalid } : { generation: o };
}

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
    const channel = new Channel(host.spawn());
    try {
      return await loadInto(host, channel, 0, input, options, true);
    } catch (e) {
      channel.close();
      throw e;
    }
  };
}

/**
 * Loads a model into a slot of the worker behind `channel`. The model that
 * owns the channel ends the worker when disposed; the others free their slot.
 * @returns {Promise<Model>}
 */
export async function loadInto(host, channel, slot, input, options, owner) {
  const { onProgress, signal, ctx = 0, check = true } = options;
  const auto = (options.threads ?? 'auto') === 'auto';
  let threads = auto ? Math.min(host.cores, 8) : options.threads;
  if (!Number.isInteger(threads) || threads < 1) throw new SlmError('INVALID_ARG', `threads must be 'auto' or a positive integer, not ${options.threads}`);
  if (!Number.isInteger(ctx) || ctx < 0) throw new SlmError('INVALID_ARG', `ctx must be a non-negative integer, not ${ctx}`);
  // the worker picks the build: more than one thread, the pthreads build
  threads = host.threadsAllowed ? Math.min(threads, MAX_THREADS) : 1;
  const { source, transfer } = host.source(input) ?? commonSource(input);
  const model = new Model(channel, slot, owner);
  model.info = await channel.request('load', { slot, source, threads, auto, ctx, check: !!check }, { signal, transfer, onEvent: onProgress });
  return model;
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
  #channel;
  #slot;
  #owner;               // ends the worker when disposed
  #disposed = false;

  constructor(channel, slot = 0, owner = true) {
    this.#channel = channel;
    this.#slot = slot;
    this.#owner = owner;
  }

  #request(type, args, opts) {
    if (this.#disposed) return Promise.reject(new SlmError('INVALID_ARG', 'the model has been disposed'));
    return this.#channel.request(type, { slot: this.#slot, ...args }, opts);
  }

  /**
   * Streams a continuation of `prompt` (text, BOS added; or token ids, fed as
   * given), one event per token; the last event has `done: true` and the final
   * statistics. The request is queued now, whether or not you iterate.
   * @returns {AsyncIterableIterator<{text: string, id: number, done: boolean, stats: object}>}
   */
  generate(prompt, options = {}) {
    const fail = (message) => (async function* () { throw new SlmError('INVALID_ARG', message); })();
    if (typeof prompt !== 'string' && !Array.isArray(prompt) && !(prompt instanceof Int32Array))
      return fail('the prompt is a string or an array of token ids');
    const { signal, ...rest } = options;
    const { generation, invalid } = generationOptions(rest);
    if (invalid) return fail(invalid);
    if (this.#disposed) return fail('the model has been disposed');
    return this.#channel.stream('generate', { slot: this.#slot, prompt, options: generation }, { signal });
  }

  /**
   * Log-likelihood (natural log, summed over its tokens) of each choice as a
   * continuation of `context`: rank multiple-choice answers.
   * @returns {Promise<number[]>}
   */
  score(context, choices, { signal } = {}) {
    return this.#request('score', { context, choices }, { signal });
  }

  /** @returns {Promise<number[]>} token ids, BOS first unless `bos: false` */
  tokenize(text, { bos = true, signal } = {}) {
    return this.#request('tokenize', { text, bos }, { signal });
  }

  /** @returns {Promise<string>} */
  detokenize(ids, { signal } = {}) {
    return this.#request('detokenize', { ids: Array.from(ids) }, { signal });
  }

  /**
   * An encoder's (slm360-encoder) classes for `text` with their probabilities,
   * most likely first. `truncated` on the array: tokens past the context that
   * were not read (0 unless the text is longer than the context).
   * @returns {Promise<Array<{label: string, score: number}> & {truncated: number}>}
   */
  async classify(text, { signal } = {}) {
    if (typeof text !== 'string') throw new SlmError('INVALID_ARG', 'the text to classify is a string');
    const { results, truncated } = await this.#request('classify', { text }, { signal });
    return Object.assign(results, { truncated });
  }

  /**
   * An encoder's pooled vector of `text`, the one its classifier reads
   * (L2-normalized: a dot product of two is their cosine).
   * @returns {Promise<Float32Array>}
   */
  async embed(text, { signal } = {}) {
    if (typeof text !== 'string') throw new SlmError('INVALID_ARG', 'the text to embed is a string');
    return this.#request('embed', { text }, { signal });
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
    return this.#request('learn', { examples: examples.map(({ text, label }) => ({ text, label })), options: o },
      { signal, onEvent: onProgress });
  }

  /** What `learn` taught, as bytes (a GGUF file) to keep and give back to `loadLearnedState`. @returns {Promise<Uint8Array>} */
  learnedState({ signal } = {}) {
    return this.#request('learnedState', {}, { signal });
  }

  /**
   * Continues from a saved learned state of this same model (else `INVALID_ARG`;
   * a corrupt one is `BAD_MODEL`). @returns {Promise<{classes: string[]}>}
   */
  loadLearnedState(bytes, { signal, onProgress } = {}) {
    if (!(bytes instanceof Uint8Array)) return Promise.reject(new SlmError('INVALID_ARG', 'a learned state is a Uint8Array'));
    return this.#request('loadLearnedState', { bytes }, { signal, onEvent: onProgress });
  }

  /** Back to the model's own classifier: forgets what `learn` taught. */
  forgetLearned({ signal } = {}) {
    return this.#request('forgetLearned', {}, { signal });
  }

  /**
   * Frees the model and its worker (an assistant's models: their slot);
   * requests still queued are aborted.
   */
  async dispose() {
    if (this.#disposed || this.#channel.closed) return;
    if (!this.#owner) {
      this.#disposed = true;
      return this.#channel.request('unload', { slot: this.#slot }).catch(() => {});
    }
    this.#channel.abortAll();
    await this.#channel.request('dispose', {}).catch(() => {});
    this.#disposed = true;
    this.#channel.close(new SlmError('INVALID_ARG', 'the model has been disposed'));
  }
}
