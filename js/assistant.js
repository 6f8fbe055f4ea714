// The 4-tier assistant on the main thread: one worker holding the pattern
// file, the cache of confirmed requests, the open document, the nano encoder
// and a decoder (each model in its own slot), behind loadAssistant.
import { Channel } from './channel.js';
import { SlmError } from './errors.js';
import { generationOptions, loadInto } from './model.js';

// The engine's routing defaults (slm_assistant_default_params).
const ASK_DEFAULTS = {
  forceTier: 0, maxTier: 4, patternThreshold: 0.9, nanoThreshold: 0.5, answerThreshold: 0.25,
  summarySentences: 3, questions: 3,
};

/** @param {import('./model.js').Host} host */
export function createLoadAssistant(host) {
  return async function loadAssistant(options = {}) {
    const { patterns, nano, decoder, cache, nanoThreshold, onProgress, signal, threads } = options;
    if (typeof patterns !== 'string') throw new SlmError('INVALID_ARG', "the assistant needs its pattern file's text (patterns)");
    const channel = new Channel(host.spawn());
    const assistant = new Assistant(host, channel, nanoThreshold);
    const progress = (model) => onProgress && ((p) => onProgress({ model, ...p }));
    try {
      // the encoder first: the first model picks the engine's build, and it is the small one
      if (nano) assistant.nano = await loadInto(host, channel, 1, nano, { signal, threads, onProgress: progress('nano') }, false);
      if (decoder) assistant.decoder = await loadInto(host, channel, 2, decoder, { signal, threads, onProgress: progress('decoder') }, false);
      const r = await channel.request('assistant_new', { patterns, nano: nano ? 1 : null, decoder: decoder ? 2 : null, cache }, { signal });
      assistant.intents = r.intents;
      assistant.cacheError = r.cacheError;
    } catch (e) {
      channel.close();
      throw e;
    }
    return assistant;
  };
}

/**
 * An answer: which tier gave it, for which intent, how sure, how fast. Tier 4
 * answers come as `tokens` (the last one has `done: true` and the statistics).
 * @typedef {object} Answer
 */

export class Assistant {
  /** @type {import('./model.js').Model | null} tier 2's encoder */
  nano = null;
  /** @type {import('./model.js').Model | null} tier 4's decoder */
  decoder = null;
  /** The pattern file's intents. */
  intents = [];
  /** Why the saved cache given to loadAssistant could not be read, or null. */
  cacheError = null;
  #host;
  #channel;
  #nanoThreshold;
  #nextSlot = 3;

  constructor(host, channel, nanoThreshold) {
    this.#host = host;
    this.#channel = channel;
    this.#nanoThreshold = nanoThreshold ?? ASK_DEFAULTS.nanoThreshold;
  }

  /**
   * Answers a request from the cheapest confident tier.
   * @returns {Promise<Answer>}
   */
  async ask(text, options = {}) {
    if (typeof text !== 'string') throw new SlmError('INVALID_ARG', 'a request is a string');
    const { signal, intent = null } = options;
    const params = { ...ASK_DEFAULTS, nanoThreshold: this.#nanoThreshold };
    for (const k of Object.keys(ASK_DEFAULTS)) if (options[k] !== undefined) params[k] = options[k];
    const { generation, invalid } = generationOptions(options);
    if (invalid) throw new SlmError('INVALID_ARG', invalid);
    // the prompt leaves room for the answer in the decoder's context
    params.promptTokens = this.decoder ? Math.max(this.decoder.info.ctx - generation.maxTokens, 0) : 0;
    const events = this.#channel.stream('assistant_ask', { text, intent, params, generation }, { signal });
    const { value } = await events.next();
    const answer = value.answer;
    if (answer.tier === 4) answer.tokens = events;
    else await events.next();   // the request's end
    return answer;
  }

  /**
   * Opens a document (indexes its sentences); empty text closes it.
   * embedWeight: the encoder embeddings' share in sentence scores (0.2; 0:
   * words only, the encoder does not run: much faster).
   */
  setDocument(text, { embedWeight, signal } = {}) {
    if (typeof text !== 'string') return Promise.reject(new SlmError('INVALID_ARG', 'a document is a string'));
    if (embedWeight !== undefined && !(embedWeight >= 0 && embedWeight <= 1))
      return Promise.reject(new SlmError('INVALID_ARG', `embedWeight ${embedWeight} is not in [0, 1]`));
    return this.#channel.request('assistant_document', { text, embedWeight }, { signal });
  }

  /** Remembers that `text` means `intent` (tier 1 answers it from now on); returns the cache's text to save. */
  confirm(text, intent) {
    return this.#channel.request('assistant_confirm', { text, intent });
  }

  /** Forgets a confirmed request; returns the cache's text to save. */
  forget(text) {
    return this.#channel.request('assistant_forget', { text });
  }

  /**
   * Replaces the decoder (null: none). The new model loads beside the old
   * one, which stays in use if the load fails.
   */
  async setDecoder(source, options = {}) {
    let next = null;
    if (source !== null) {
      const slot = this.#nextSlot++;
      next = await loadInto(this.#host, this.#channel, slot, source, options, false);
      await this.#channel.request('assistant_decoder', { slot });
    } else {
      await this.#channel.request('assistant_decoder', { slot: null });
    }
    const old = this.decoder;
    this.decoder = next;
    await old?.dispose();
    return next;
  }

  /** Frees the models and the worker. */
  async dispose() {
    if (this.#channel.closed) return;
    this.#channel.abortAll();
    await this.#channel.request('dispose', {}).catch(() => {});
    this.#channel.close(new SlmError('INVALID_ARG', 'the assistant has been disposed'));
  }
}
