// The assistant's requests in the engine's worker (engine.js): one C
// slm_assistant (src/assistant.c) over the encoder and the decoder loaded in
// the worker's slots. Tier 4 generates here, streaming tokens like generate.

const utf8 = new TextEncoder();

/**
 * @param {{ engine: () => Promise<any>, need: (slot: number) => {m: number, c: number}, put: (v: any) => number,
 *   cstr: (p: number) => string, engineError: () => Error, tokenize: Function, generate: Function,
 *   EngineError: typeof Error }} core  what engine.js shares
 */
export function assistantHandlers(core) {
  const { need, put, cstr, engineError, tokenize, generate, EngineError } = core;
  let M = null;                       // the emscripten module, once started
  let a = 0;                          // the slm_assistant
  let nano = null, decoder = null;    // the slots it uses

  const needAssistant = () => {
    if (!a) throw new EngineError('INVALID_ARG', 'no assistant in this worker');
  };
  // a string the engine malloc'd, as text (and freed)
  const take = (p) => {
    if (!p) throw engineError();
    try {
      return cstr(p);
    } finally {
      M._free(p);
    }
  };
  // fn(pointer, byte length) with text in wasm memory for the call
  const withText = (text, fn) => {
    const bytes = utf8.encode(text), p = put(bytes);
    try {
      return fn(p, bytes.length);
    } finally {
      M._free(p);
    }
  };
  const cacheText = () => take(M._api_assistant_cache_text(a));

  const handlers = {
    // cache: the saved text of the confirmed requests; one that does not
    // read is reported and left out (the assistant starts with an empty one)
    async assistant_new({ patterns, nano: ns = null, decoder: ds = null, cache }) {
      if (a) throw new EngineError('INVALID_ARG', 'this worker already has an assistant');
      M = await core.engine();
      const enc = ns === null ? 0 : need(ns).c, dec = ds === null ? 0 : need(ds).m;
      a = withText(patterns, (p, n) => M._api_assistant_new(p, n, enc, dec));
      if (!a) throw engineError();
      nano = ns;
      decoder = ds;
      if (ns !== null && need(ns).learner) M._api_assistant_set_learner(a, need(ns).learner);
      let cacheError = null;
      if (cache && withText(cache, (p, n) => M._api_assistant_load_cache(a, p, n)) < 0) cacheError = engineError().message;
      return { intents: JSON.parse(take(M._api_assistant_intents(a))), cacheError };
    },

    async assistant_decoder({ slot = null }) {
      needAssistant();
      M._api_assistant_set_decoder(a, slot === null ? 0 : need(slot).m);
      decoder = slot;
    },

    async assistant_document({ text, embedWeight = -1 }) {
      needAssistant();
      const t = performance.now();
      const n = withText(text, (p, len) => M._api_assistant_set_document(a, p, len, embedWeight));
      if (n < 0) throw engineError();
      return { sentences: n, ms: performance.now() - t };
    },

    // the answer first (an event), then tier 4's tokens; returns the last token, or null
    async assistant_ask({ text, intent, params: q, generation }, signal, emit) {
      needAssistant();
      const ip = intent ? put(intent) : 0;
      const json = withText(text, (p, n) =>
        M._api_assistant_ask(a, p, n, ip, q.forceTier, q.maxTier, q.patternThreshold, q.nanoThreshold, q.answerThreshold,
          q.summarySentences, q.questions, q.promptTokens));
      if (ip) M._free(ip);
      const answer = JSON.parse(take(json));
      emit({ answer });
      if (answer.tier !== 4) return null;
      const s = need(decoder);
      return generate(s, tokenize(s.m, answer.prompt, true), generation, signal, emit);
    },

    async assistant_confirm({ text, intent }) {
      needAssistant();
      const ip = put(intent);
      const rc = withText(text, (p, n) => M._api_assistant_confirm(a, p, n, ip));
      M._free(ip);
      if (rc < 0) throw engineError();
      return cacheText();
    },

    async assistant_forget({ text }) {
      needAssistant();
      withText(text, (p, n) => M._api_assistant_forget(a, p, n));
      return cacheText();
    },
  };

  return {
    handlers,
    // a slot's learner appeared, changed or went (0): tier 2 follows it
    learnerChanged(slot, learner) {
      if (a && slot === nano) M._api_assistant_set_learner(a, learner);
    },
    // a slot is about to be freed (null: all of them): let go of it first
    unloading(slot) {
      if (!a) return;
      if (slot === null || slot === nano) {
        M._api_assistant_free(a);
        a = 0;
        nano = decoder = null;
      } else if (slot === decoder) {
        M._api_assistant_set_decoder(a, 0);
        decoder = null;
      }
    },
  };
}
