// The worker side of slm360: one wasm engine instance holding models in
// numbered slots (loadModel's is slot 0; an assistant has several), requests
// served one at a time in arrival order. The entry points (worker.js in a
// browser, worker-node.js in Node) give it a message port and the little that
// differs between the two: how to get the wasm bytes and how to read a file.
//
// Protocol. In: {id, type, slot, ...args} for a request, {type: 'abort', id}.
// Out: {id, type: 'event', event} while it runs (progress, tokens), then
// {id, type: 'result', value} or {id, type: 'error', code, message}.
import { assistantHandlers } from './assistant-engine.js';
import { GgufError, readGgufHeader } from './gguf-header.js';

const PREFILL_SLICE = 64;        // prompt tokens fed between two abort checks
const READ_SLICE = 4 << 20;      // bytes per file read, straight into wasm memory
const PROGRESS_STEP = 1 << 20;   // bytes between two progress events
// threads: 'auto' uses threads only for models this big: for smaller ones the
// threads' hand-offs (a few per layer and token) cost more than they save
const AUTO_THREADS_BYTES = 32 << 20;

const BUILDS = {
  simd: { glue: () => import('../dist/slm360.js'), wasm: new URL('../dist/slm360.wasm', import.meta.url) },
  threads: { glue: () => import('../dist/slm360-threads.js'), wasm: new URL('../dist/slm360-threads.wasm', import.meta.url) },
};

/** An error for the caller: `code` is one of the engine's status names. */
export class EngineError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

// Back to the event loop (so abort messages get through) without the 4 ms
// clamp nested timers get in browsers.
const tick = globalThis.setImmediate
  ? () => new Promise((r) => setImmediate(r))
  : (() => {
      const ch = new MessageChannel(), waiting = [];
      ch.port1.onmessage = () => waiting.shift()();
      return () => new Promise((r) => { waiting.push(r); ch.port2.postMessage(0); });
    })();

/**
 * A source of model bytes: its size if known, the next chunk (null at the
 * end), optionally a read straight into a destination, and a way to stop.
 * @typedef {{ size?: number, next(): Promise<Uint8Array|null>, readInto?(dest: Uint8Array): Promise<number>, close(): void }} Source
 */

/**
 * Serves requests from `port` until the worker is terminated.
 * @param {{ post(msg: object, transfer?: Transferable[]): void, listen(fn: (msg: any) => void): void }} port
 * @param {{ compile(url: URL): Promise<WebAssembly.Module>, openFile?(path: string): Promise<Source> }} env
 */
export function serve(port, env) {
  let M = null;                 // the emscripten module
  let built = null;             // its build and thread count
  const slots = new Map();      // slot -> {m, c, learner}: engine pointers of a model, its context, its learner (once it learns)
  const queue = [], controllers = new Map();
  let busy = false;

  port.listen((msg) => {
    if (msg.type === 'abort') return controllers.get(msg.id)?.abort();
    controllers.set(msg.id, new AbortController());
    queue.push(msg);
    if (!busy) pump();
  });

  async function pump() {
    busy = true;
    while (queue.length) {
      const req = queue.shift(), signal = controllers.get(req.id).signal;
      const emit = (event) => port.post({ id: req.id, type: 'event', event });
      try {
        if (signal.aborted) throw aborted();
        if (!Object.hasOwn(handlers, req.type)) throw new EngineError('INVALID_ARG', `unknown request '${req.type}'`);
        port.post({ id: req.id, type: 'result', value: await handlers[req.type](req, signal, emit) });
      } catch (e) {
        // anything but our own errors (a trap, a missing dist/ file) is on us, not the input
        const code = signal.aborted ? 'ABORTED' : e instanceof EngineError || e instanceof GgufError ? e.code : 'INTERNAL';
        port.post({ id: req.id, type: 'error', code, message: signal.aborted ? 'aborted' : e.message });
      }
      controllers.delete(req.id);
    }
    busy = false;
  }

  // ---- engine calls ----------------------------------------------------------

  const aborted = () => new EngineError('ABORTED', 'aborted');
  const engineError = () => new EngineError(cstr(M._api_error_name()), cstr(M._api_error_message()));
  // (slice: TextDecoder refuses views of the threads build's shared memory)
  const decode = (p, n) => fromUtf8.decode(M.HEAPU8.slice(p, p + n));
  const cstr = (p) => decode(p, M.HEAPU8.indexOf(0, p) - p);
  const need = (slot = 0) => {
    const s = slots.get(slot);
    if (!s) throw new EngineError('INVALID_ARG', 'no model is loaded');
    return s;
  };

  /** Copies bytes, a string (UTF-8, NUL-terminated) or an Int32Array into wasm memory; free it with M._free. */
  function put(value) {
    const bytes = typeof value === 'string' ? utf8.encode(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    const p = M._malloc(bytes.length + 1);
    if (!p) throw new EngineError('OUT_OF_MEMORY', 'out of memory');
    M.HEAPU8.set(bytes, p);
    M.HEAPU8[p + bytes.length] = 0;
    return p;
  }

  async function start(build, threads) {
    const { glue, wasm } = BUILDS[build];
    const [factory, module] = await Promise.all([
      glue().then((g) => g.default),
      env.compile(wasm).catch((e) => {
        if (!(e instanceof WebAssembly.CompileError)) throw e;
        throw new EngineError('UNSUPPORTED', `this JavaScript engine cannot run slm360's WebAssembly (it needs SIMD128): ${e.message}`);
      }),
    ]);
    let failed;
    const failure = new Promise((_, reject) => (failed = reject));
    const ready = factory({
      pthreadPoolSize: threads - 1,
      instantiateWasm(imports, done) {
        WebAssembly.instantiate(module, imports).then((instance) => done(instance, module), failed);
        return {};
      },
      // our "main" wasm thread is a worker, where waiting on a lock is fine
      printErr: (s) => s.startsWith('Blocking on the main thread') || console.error(s),
    });
    return Promise.race([ready, failure]);
  }

  // The engine, started with one thread if no model has started it yet.
  async function engine() {
    if (!M) {
      M = await start('simd', 1);
      built = { build: 'simd', threads: 1 };
    }
    return M;
  }

  // ---- loading ------------------------------------------------------------------

  async function open(src, signal) {
    const fromStream = (body, size) => {
      // A byte stream (fetch, Blob) reads into one buffer of ours, used over and
      // over: no garbage chunk per read for the GC to catch up with.
      let byob = null, buf = null;
      try {
        byob = body.getReader({ mode: 'byob' });
        buf = new ArrayBuffer(READ_SLICE);
      } catch {}   // not a byte stream
      const reader = byob ?? body.getReader();
      signal.addEventListener('abort', () => reader.cancel().catch(() => {}));
      const read = async (max) => {
        const { done, value } = await (byob ? reader.read(new Uint8Array(buf, 0, Math.min(max, buf.byteLength))) : reader.read()).catch((e) => {
          throw signal.aborted ? aborted() : new EngineError('IO', `reading the model: ${e.message}`);
        });
        if (done) return null;
        if (byob) buf = value.buffer;
        if (value instanceof Uint8Array) return value;
        if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
        if (value instanceof ArrayBuffer) return new Uint8Array(value);
        throw new EngineError('INVALID_ARG', 'the stream gave a chunk that is not bytes');
      };
      return {
        size,
        next: async () => {
          const chunk = await read(Infinity);
          return byob && chunk ? chunk.slice() : chunk;   // the header keeps its chunks: copies
        },
        readInto: byob && (async (dest) => {
          const chunk = await read(dest.length);
          dest.set(chunk ?? []);
          return chunk ? chunk.length : 0;
        }),
        close: () => reader.cancel().catch(() => {}),
      };
    };
    switch (src.kind) {
      case 'url': {
        const r = await fetch(src.url, { signal }).catch((e) => {
          throw signal.aborted ? aborted() : new EngineError('IO', `${src.url}: ${e.message}`);
        });
        if (!r.ok) throw new EngineError('IO', `${src.url}: HTTP ${r.status} ${r.statusText}`);
        // a compressed response's Content-Length is not the file size
        const len = r.headers.get('content-encoding') ? 0 : Number(r.headers.get('content-length'));
        return fromStream(r.body, len > 0 ? len : undefined);
      }
      case 'blob': return fromStream(src.blob.stream(), src.blob.size);
      case 'stream': return fromStream(src.stream, src.size);
      case 'path':
        if (env.openFile) return env.openFile(src.path);
    }
    throw new EngineError('INVALID_ARG', `cannot read a model from a ${src.kind}`);
  }

  // Streams the file into one malloc'd block: the header first (to learn the
  // size and pick the engine), then every chunk straight to its place.
  async function readModel(src, signal, emit, engineFor, check) {
    let posted = 0;
    const progress = (loaded, total) => {
      if (loaded - posted < PROGRESS_STEP && loaded !== total) return;
      posted = loaded;
      emit({ loaded, total, phase: 'read' });
    };
    const bad = (msg) => new EngineError('BAD_MODEL', msg);
    if (src.size === 0) throw bad('the file is empty');
    // the header: read until it parses, trying again each time the bytes double
    let head = new Uint8Array(0), header = null, chunks = [], have = 0, tryAt = 1;
    while (!header) {
      if (signal.aborted) throw aborted();
      const chunk = await src.next();
      if (signal.aborted) throw aborted();
      if (chunk) {
        chunks.push(chunk);
        have += chunk.length;
        progress(have, src.size);
      }
      if (have >= tryAt || !chunk) {
        head = concat(head, chunks);
        chunks = [];
        header = readGgufHeader(head, src.size);
        tryAt = 2 * have;
      }
      if (!header && !chunk) throw bad(have ? `truncated: the file ends inside its header, at byte ${have}` : 'the file is empty');
    }
    const total = src.size ?? header.fileSize;
    if (total < header.fileSize)
      throw bad(`truncated: the header describes ${header.fileSize} bytes, the file has ${total}`);
    M = await engineFor(header);
    if (signal.aborted) throw aborted();
    const ptr = M._malloc(total);
    if (!ptr) throw new EngineError('OUT_OF_MEMORY', `out of memory for a model of ${total} bytes`);
    try {
      let off = Math.min(have, total);
      M.HEAPU8.set(head.subarray(0, off), ptr);
      head = null;
      while (off < total) {
        if (signal.aborted) throw aborted();
        let n;
        if (src.readInto) {
          n = await src.readInto(M.HEAPU8.subarray(ptr + off, ptr + Math.min(total, off + READ_SLICE)));
        } else {
          const chunk = await src.next();
          n = chunk ? Math.min(chunk.length, total - off) : 0;
          if (n) M.HEAPU8.set(chunk.subarray(0, n), ptr + off);
        }
        if (signal.aborted) throw aborted();
        if (!n) throw bad(`truncated: the file ends at byte ${off}, its header describes ${total}`);
        off += n;
        progress(off, total);
      }
    } catch (e) {
      M._free(ptr);
      throw e;
    }
    emit({ loaded: total, total, phase: 'init' });
    const m = M._api_model_load(ptr, total, check ? 1 : 0);   // owns ptr from here, also on failure
    if (!m) throw engineError();
    return { m, header, total };
  }

  // ---- requests -------------------------------------------------------------------

  /** One entry per request type: (request, abort signal, emit event) -> result. */
  const handlers = {
    async load({ slot = 0, source, threads, auto, ctx: nCtx, check = false }, signal, emit) {
      if (slots.has(slot)) throw new EngineError('INVALID_ARG', 'this worker already holds a model');
      const src = await open(source, signal);
      try {
        const { m, header, total } = await readModel(src, signal, emit, async (h) => {
          if (M) return M;   // a worker whose earlier load failed keeps its engine
          if (auto && h.tensors.reduce((n, t) => n + t.bytes, 0) < AUTO_THREADS_BYTES) threads = 1;
          // one thread: the plain SIMD build (no atomics, no thread workers)
          const build = threads > 1 ? 'threads' : 'simd', engine = await start(build, threads);
          built = { build, threads };
          return engine;
        }, check);
        const c = M._api_context_new(m, nCtx, built.threads);
        if (!c) {
          const e = engineError();
          M._api_model_free(m);
          throw e;
        }
        slots.set(slot, { m, c });
        const tensorTypes = {};
        for (const t of header.tensors) tensorTypes[t.type] = (tensorTypes[t.type] ?? 0) + t.bytes;
        const info = JSON.parse(cstr(M._api_info_json(m, c)));
        emit({ loaded: total, total, phase: 'ready' });
        return { ...info, fileBytes: total, tensorTypes, memoryBytes: M.HEAPU8.length, ...built };
      } finally {
        src.close();
      }
    },

    async generate({ slot, prompt, options }, signal, emit) {
      const s = need(slot);
      return generate(s, typeof prompt === 'string' ? tokenize(s.m, prompt, true) : Int32Array.from(prompt), options, signal, emit);
    },

    async score({ slot, context, choices }) {
      const { c } = need(slot);
      const ptrs = [put(context), ...choices.map(put)];
      const table = put(Int32Array.from(ptrs.slice(1)));
      const out = M._malloc(8 * choices.length);
      try {
        if (!out) throw new EngineError('OUT_OF_MEMORY', 'out of memory');
        if (M._api_score(c, ptrs[0], table, choices.length, out) < 0) throw engineError();
        return Array.from(M.HEAPF64.subarray(out / 8, out / 8 + choices.length));
      } finally {
        for (const p of [...ptrs, table, out]) M._free(p);
      }
    },

    async tokenize({ slot, text: s, bos }) {
      return Array.from(tokenize(need(slot).m, s, bos));
    },

    async detokenize({ slot, ids }) {
      const { m } = need(slot);
      const p = put(Int32Array.from(ids));
      try {
        for (let cap = 4 * ids.length + 16; ;) {
          const out = M._malloc(cap);
          if (!out) throw new EngineError('OUT_OF_MEMORY', 'out of memory');
          const n = M._api_detokenize(m, p, ids.length, out, cap);
          const s = n <= cap && n >= 0 ? decode(out, n) : null;
          M._free(out);
          if (n < 0) throw engineError();
          if (s !== null) return s;
          cap = n;
        }
      } finally {
        M._free(p);
      }
    },

    // encoders: the classes by probability (ties in class order), and the pooled vector
    async classify({ slot, text: s }) {
      const sl = need(slot);
      const labels = classLabels(sl);
      const bytes = utf8.encode(s), p = put(bytes), out = M._malloc(4 * Math.max(labels.length, 1));
      try {
        if (!out) throw new EngineError('OUT_OF_MEMORY', 'out of memory');
        const truncated = sl.learner ? M._api_learner_classify(sl.learner, p, bytes.length, out) : M._api_classify(sl.c, p, bytes.length, out);
        if (truncated < 0) throw engineError();
        const probs = M.HEAPF32.slice(out / 4, out / 4 + labels.length);
        const results = labels.map((label, i) => ({ label, score: probs[i] })).sort((a, b) => b.score - a.score);
        return { results, truncated };
      } finally {
        M._free(p);
        M._free(out);
      }
    },

    async embed({ slot, text: s }) {
      const { m, c } = need(slot);
      const dim = M._api_embed_dim(m), bytes = utf8.encode(s), p = put(bytes), out = M._malloc(4 * Math.max(dim, 1));
      try {
        if (!out) throw new EngineError('OUT_OF_MEMORY', 'out of memory');
        if (M._api_embed(c, p, bytes.length, out) < 0) throw engineError();
        return M.HEAPF32.slice(out / 4, out / 4 + dim);
      } finally {
        M._free(p);
        M._free(out);
      }
    },

    // on-device learning (slm_learn): a slot's learner starts at its first call
    async learn({ slot, examples, options: o }, signal, emit) {
      const sl = need(slot);
      if (!sl.learner) setLearner(slot, sl, newLearner(sl.c, 0, 0, emit));
      M._api_learner_params(sl.learner, o.epochs, o.lr, o.ewc, o.replay ? 1 : 0, o.replayRatio, o.maxDrop, o.maxClassDrop, o.minFit, o.seed);
      const ptrs = examples.flatMap((e) => [put(e.text), put(e.label)]);
      const texts = put(Int32Array.from(ptrs.filter((_, i) => i % 2 === 0)));
      const labels = put(Int32Array.from(ptrs.filter((_, i) => i % 2 === 1)));
      try {
        M.onProgress = (stage, fraction) => emit({ phase: stage ? 'learning' : 'reading', fraction });
        const r = M._api_learn(sl.learner, texts, labels, examples.length);
        if (!r) throw engineError();
        const res = JSON.parse(cstr(r));
        for (const k of ['devAccuracyBefore', 'devAccuracyAfter']) if (res[k] < 0) res[k] = null;
        return res;
      } finally {
        M.onProgress = null;
        for (const p of [...ptrs, texts, labels]) M._free(p);
      }
    },

    async learnedState({ slot }) {
      const sl = need(slot);
      if (!sl.learner) setLearner(slot, sl, newLearner(sl.c, 0, 0));
      const size = M._malloc(4);
      if (!size) throw new EngineError('OUT_OF_MEMORY', 'out of memory');
      const p = M._api_learner_save(sl.learner, size);
      const n = M.HEAP32[size / 4];
      M._free(size);
      if (!p) throw engineError();
      const bytes = M.HEAPU8.slice(p, p + n);
      M._free(p);
      return bytes;
    },

    async loadLearnedState({ slot, bytes }, signal, emit) {
      const sl = need(slot);
      const p = put(bytes);
      try {
        setLearner(slot, sl, newLearner(sl.c, p, bytes.length, emit));
        return { classes: classLabels(sl) };
      } finally {
        M._free(p);
      }
    },

    async forgetLearned({ slot }) {
      setLearner(slot, need(slot), 0);
    },

    // frees one model (what uses it lets go first), or all of them
    async unload({ slot }) {
      assistant.unloading(slot);
      const { m, c, learner } = need(slot);
      if (learner) M._api_learner_free(learner);
      M._api_context_free(c);
      M._api_model_free(m);
      slots.delete(slot);
    },

    async dispose() {
      assistant.unloading(null);
      for (const slot of [...slots.keys()]) await handlers.unload({ slot });
    },
  };

  // the assistant's requests, which use the models in their slots
  const assistant = assistantHandlers({ engine, need, put, cstr, engineError, tokenize, generate, EngineError });
  Object.assign(handlers, assistant.handlers);

  // A generation from ids on the model and context s: one event per token,
  // the last one returned.
  async function generate({ m, c }, ids, o, signal, emit) {
    const p = put(ids);
    const g = M._api_gen_new(m, c, p, ids.length, o.maxTokens, o.temperature, o.topK, o.topP, o.minP,
      o.repeatPenalty, o.repeatLastN, o.seed);
    M._free(p);
    if (!g) throw engineError();
    const stops = o.stop.filter((s) => s.length);
    let pending = '', generated = 0, prefillMs = 0, decodeMs = 0;
    const stats = () => {
      const msPerToken = generated > 1 ? decodeMs / (generated - 1) : 0;
      return { promptTokens: ids.length, generatedTokens: generated, prefillMs, msPerToken,
        tokensPerSecond: msPerToken ? 1000 / msPerToken : 0 };
    };
    // text that might be the start of a stop string waits for the next token
    const release = (text) => {
      pending += text;
      let cut = -1;
      for (const s of stops) {
        const i = pending.indexOf(s);
        if (i >= 0 && (cut < 0 || i < cut)) cut = i;
      }
      if (cut >= 0) return { out: pending.slice(0, cut), stop: true };
      let keep = 0;
      for (const s of stops)
        for (let k = Math.min(s.length - 1, pending.length); k > keep; k--)
          if (s.startsWith(pending.slice(pending.length - k))) { keep = k; break; }
      const out = pending.slice(0, pending.length - keep);
      pending = pending.slice(pending.length - keep);
      return { out, stop: false };
    };
    try {
      for (let left = ids.length; left > 0;) {
        const t = performance.now();
        left = M._api_gen_prefill(g, PREFILL_SLICE);
        prefillMs += performance.now() - t;
        if (left < 0) throw engineError();
        if (left) {
          await tick();
          if (signal.aborted) throw aborted();
        }
      }
      for (;;) {
        await tick();
        if (signal.aborted) throw aborted();
        const t = performance.now();
        const id = M._api_gen_next(g);
        decodeMs += performance.now() - t;
        if (id === -1) throw engineError();
        if (id < 0) {
          const end = release(M._api_gen_flush(g) ? text(g) : '');
          const why = { [-2]: 'eos', [-3]: 'length', [-4]: 'context' }[id];
          return { text: end.out + (end.stop ? '' : pending), id: -1, done: true, stats: { ...stats(), stopReason: end.stop ? 'stop' : why } };
        }
        generated++;
        const { out, stop } = release(text(g));
        if (stop) return { text: out, id, done: true, stats: { ...stats(), stopReason: 'stop' } };
        emit({ text: out, id, done: false, stats: stats() });
      }
    } finally {
      M._api_gen_free(g);
    }
  }

  function tokenize(m, s, bos) {
    const bytes = utf8.encode(s), p = put(bytes), len = bytes.length;
    try {
      for (let max = len + 8; ;) {
        const ids = M._malloc(4 * max);
        if (!ids) throw new EngineError('OUT_OF_MEMORY', 'out of memory');
        const n = M._api_tokenize(m, p, len, bos ? 1 : 0, ids, max);
        const out = n >= 0 && n <= max ? M.HEAP32.slice(ids / 4, ids / 4 + n) : null;
        M._free(ids);
        if (n < 0) throw engineError();
        if (out) return out;
        max = n;
      }
    } finally {
      M._free(p);
    }
  }

  const text = (g) => decode(M._api_gen_text(g), M._api_gen_text_len(g));

  // A slot's learner replaced (the old one freed), the assistant told.
  function setLearner(slot, sl, learner) {
    assistant.learnerChanged(slot, learner);
    if (sl.learner) M._api_learner_free(sl.learner);
    sl.learner = learner;
  }

  // The classes of a slot: its learner's if it has one, else its model's.
  function classLabels({ m, learner }) {
    const labels = [];
    for (let i = 0, q; (q = learner ? M._api_learner_label(learner, i) : M._api_class_label(m, i)); i++) labels.push(cstr(q));
    return labels;
  }

  // A learner over context c, from its model (state 0) or a state in wasm
  // memory; progress events while the stored examples' features are computed.
  function newLearner(c, state, size, emit) {
    M.onProgress = emit ? (stage, fraction) => emit({ phase: stage ? 'learning' : 'reading', fraction }) : null;
    try {
      const l = M._api_learner_new(c, state, size);
      if (!l) throw engineError();
      return l;
    } finally {
      M.onProgress = null;
    }
  }
}

function concat(head, chunks) {
  const out = new Uint8Array(head.length + chunks.reduce((n, c) => n + c.length, 0));
  out.set(head);
  let off = head.length;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
