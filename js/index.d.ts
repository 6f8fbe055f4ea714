// Types of the slm360 package (the same API in browsers and in Node).

/** An engine failure. `message` is the engine's own one-line explanation. */
export class SlmError extends Error {
  readonly name: 'SlmError';
  readonly code: 'BAD_MODEL' | 'UNSUPPORTED' | 'IO' | 'OUT_OF_MEMORY' | 'CONTEXT_FULL' | 'ABORTED' | 'INVALID_ARG' | 'BAD_DATA' | 'NUMERIC' | 'INTERNAL';
}

export interface LoadProgress {
  /** Bytes of the file received so far. */
  loaded: number;
  /** The file size: from the start if the source knows it, else once the GGUF header has arrived. */
  total: number | undefined;
  /** 'read' while bytes arrive, 'init' while the engine checks the file (with `check`, every tensor) and builds the context, then 'ready'. */
  phase: 'read' | 'init' | 'ready';
}

export interface LoadOptions {
  onProgress?: (p: LoadProgress) => void;
  /** Cancels the download and the load. */
  signal?: AbortSignal;
  /**
   * 'auto' (default): for models of 32 MiB of weights or more, the cores available (at most 8) if the
   * environment allows threads (Node; cross-origin isolated pages), else one. A number asks for that many
   * (more than one: the pthreads build, where allowed). 1 picks the single-thread build.
   */
  threads?: 'auto' | number;
  /** Context size in tokens, at most the model's (default: the model's). */
  ctx?: number;
  /**
   * Scan every tensor for NaN and infinity (values and block scales) before use: a damaged file fails
   * with BAD_MODEL naming the tensor and block. Default true: about 20 ms per 100 MB, a tenth of loading
   * from memory (docs/BENCHMARKS.md). With false, damage surfaces as NUMERIC when a token reaches it.
   */
  check?: boolean;
}

export interface ModelInfo {
  architecture: string;
  name: string;
  isEncoder: boolean;
  dim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  ffnDim: number;
  vocabSize: number;
  contextLength: number;
  ropeTheta: number;
  normEps: number;
  qkNorm: boolean;
  tiedEmbeddings: boolean;
  nClasses: number;
  bosId: number;
  eosId: number;
  nParams: number;
  /** Bytes of tensor data, and the type of most of them. */
  weightsBytes: number;
  weightType: 'F32' | 'F16' | 'Q4_0' | 'Q8_0';
  /** Bytes of tensor data by type, e.g. { Q4_0: 62e6, Q8_0: 26e6, F32: 1e5 }. */
  tensorTypes: Record<string, number>;
  fileBytes: number;
  /** The context in use: its size in tokens and its memory (KV cache, scratch). */
  ctx: number;
  contextBytes: number;
  /** The engine's linear memory after loading: the file, the context, the rest of the engine. */
  memoryBytes: number;
  /** Kernel backend ("wasm": SIMD128). */
  kernels: string;
  /** The WebAssembly build picked: 'simd' (one thread) or 'threads' (SIMD128 + pthreads). */
  build: 'simd' | 'threads';
  threads: number;
}

export interface GenerateOptions {
  /** Default 128. */
  maxTokens?: number;
  /** 0 = greedy. Default 0.8. */
  temperature?: number;
  /** 0 = off. Default 40. */
  topK?: number;
  /** 1 = off. Default 0.95. */
  topP?: number;
  /** 0 = off. Default 0. */
  minP?: number;
  /** 1 = off. Default 1. */
  repeatPenalty?: number;
  /** Default 64. */
  repeatLastN?: number;
  /** Default 42. Same seed, same text as `slm generate --seed`. */
  seed?: number;
  /** Ends generation before the first occurrence of any of these strings (which is not returned). */
  stop?: string | string[];
  /** Aborts the generation (within one token), or removes it from the queue. */
  signal?: AbortSignal;
}

export interface GenerateStats {
  promptTokens: number;
  generatedTokens: number;
  prefillMs: number;
  /** Decode time per token after the first. */
  msPerToken: number;
  tokensPerSecond: number;
  /** On the last event: why generation ended. */
  stopReason?: 'eos' | 'length' | 'context' | 'stop';
}

export interface Token {
  /** Text to append (complete UTF-8 characters; may be empty). */
  text: string;
  /** The token id; -1 on a last event that carries no token. */
  id: number;
  /** True on the last event. */
  done: boolean;
  stats: GenerateStats;
}

export interface ClassScore {
  label: string;
  /** The class probability (softmax over the model's calibrated temperature). */
  score: number;
}

export type ClassifyResult = ClassScore[] & { truncated: number };

export interface LearnOptions {
  /** Passes over the examples. Default 10 (and at least 60 steps of 32 examples). */
  epochs?: number;
  /** Adam learning rate. Default 0.01. */
  lr?: number;
  /** EWC strength; 0 = off. Default 100. */
  ewc?: number;
  /** Mix replayed past examples into the update. Default true. */
  replay?: boolean;
  /** Replayed examples per new one (at least 128 a pass). Default 4. */
  replayRatio?: number;
  /** Held-out accuracy may drop by at most this. Default 0.01. */
  maxDrop?: number;
  /** ... and any class's (with 3 or more held-out examples) by at most this. Default 0.3. */
  maxClassDrop?: number;
  /** Share of the examples the update must classify right. Default 0.75. */
  minFit?: number;
  seed?: number;
  signal?: AbortSignal;
  /** While the stored examples' features are computed ('reading', once) and while learning. */
  onProgress?: (p: { phase: 'reading' | 'learning'; fraction: number }) => void;
}

export interface LearnResult {
  /** False: the update was refused and nothing changed (see `reason`). */
  accepted: boolean;
  /** Accuracy on the held-out examples before and after (null when there are none). */
  devAccuracyBefore: number | null;
  devAccuracyAfter: number | null;
  /** Share of the given examples classified right before and after. */
  fitBefore: number;
  fitAfter: number;
  /** Classes the examples added. */
  newClasses: number;
  /** Sizes of the held-out and replay buffers after the update. */
  heldOut: number;
  replay: number;
  /** Why it was refused; '' if accepted. */
  reason: string;
}

export class Model {
  readonly info: ModelInfo;
  /** Streams a continuation of `prompt`: text (BOS is added) or token ids (fed as given). */
  generate(prompt: string | number[] | Int32Array, options?: GenerateOptions): AsyncIterableIterator<Token>;
  /** Log-likelihood (natural log) of each choice as a continuation of `context`. */
  score(context: string, choices: string[], options?: { signal?: AbortSignal }): Promise<number[]>;
  tokenize(text: string, options?: { bos?: boolean; signal?: AbortSignal }): Promise<number[]>;
  detokenize(ids: number[] | Int32Array, options?: { signal?: AbortSignal }): Promise<string>;
  /**
   * An encoder's classes for `text`, most likely first, with probabilities summing to 1. `truncated`:
   * tokens past the context that were not read (0 unless the text is longer than the context).
   */
  classify(text: string, options?: { signal?: AbortSignal }): Promise<ClassifyResult>;
  /** An encoder's pooled vector of `text`, L2-normalized (the dot product of two is their cosine). */
  embed(text: string, options?: { signal?: AbortSignal }): Promise<Float32Array>;
  /**
   * Teaches an encoder labelled texts on the device (new labels become new classes) without
   * forgetting: replay, EWC, and a held-out check that refuses an update that would hurt.
   */
  learn(examples: Array<{ text: string; label: string }>, options?: LearnOptions): Promise<LearnResult>;
  /** The learned state as a GGUF file's bytes, for `loadLearnedState`. */
  learnedState(options?: { signal?: AbortSignal }): Promise<Uint8Array>;
  /** Continues from a learned state of this model. */
  loadLearnedState(bytes: Uint8Array, options?: { signal?: AbortSignal; onProgress?: LearnOptions['onProgress'] }): Promise<{ classes: string[] }>;
  /** Back to the model's own classifier. */
  forgetLearned(options?: { signal?: AbortSignal }): Promise<void>;
  /** Frees the model, its memory and its worker. */
  dispose(): Promise<void>;
}

/**
 * Loads a GGUF model into a worker: a URL, a Blob or File, an ArrayBuffer or typed array, a
 * ReadableStream of bytes, or (in Node) a file path. The bytes stream straight into wasm memory.
 */
export function loadModel(
  source: string | URL | Blob | ArrayBuffer | ArrayBufferView | ReadableStream<Uint8Array>,
  options?: LoadOptions,
): Promise<Model>;

export interface AssistantLoadOptions {
  /** The text of tier 1's pattern file (docs/PATTERNS.md). */
  patterns: string;
  /** Tier 2's encoder (an slm360-encoder GGUF), also tier 3's sentence embeddings: a source as for loadModel. */
  nano?: string | URL | Blob | ArrayBuffer | ArrayBufferView | ReadableStream<Uint8Array>;
  /** Tier 4's decoder. */
  decoder?: string | URL | Blob | ArrayBuffer | ArrayBufferView | ReadableStream<Uint8Array>;
  /** The saved text of the confirmed requests (from confirm/forget); one that does not read sets cacheError. */
  cache?: string;
  /** Tier 2's default threshold (0.5): choose it on dev data (`slm assist --eval dev.tsv --sweep`). */
  nanoThreshold?: number;
  /** Progress of each model's load. */
  onProgress?: (p: LoadProgress & { model: 'nano' | 'decoder' }) => void;
  signal?: AbortSignal;
  /** As for loadModel; the first model loaded picks the engine's build for the worker. */
  threads?: 'auto' | number;
}

export interface AskOptions extends Omit<GenerateOptions, 'signal'> {
  /** The request's intent, when the caller knows it (a button): tiers 1 and 2 are skipped. */
  intent?: string;
  /** 0 (default): the cheapest confident tier. 1 or 2: that tier alone finds the intent and answers; 3 or 4: that tier answers. */
  forceTier?: 0 | 1 | 2 | 3 | 4;
  /** Escalation stops at this tier (default 4). */
  maxTier?: 1 | 2 | 3 | 4;
  /** Rules answer at or above their confidence (0.9); cache hits always. */
  patternThreshold?: number;
  /** Tier 2 answers at or above this probability (the assistant's nanoThreshold). */
  nanoThreshold?: number;
  /** Tier 3 answers a question when its best sentence scores this (0.25); below, tier 4 does. */
  answerThreshold?: number;
  /** Sentences of an extractive summary (3). */
  summarySentences?: number;
  /** Suggested questions (3). */
  questions?: number;
  signal?: AbortSignal;
}

export interface Answer {
  /** The tier that answered: 1 patterns, 2 nano, 3 retrieval, 4 decoder. */
  tier: 1 | 2 | 3 | 4;
  /** The tier that found the intent (0: the caller gave it). */
  intentTier: 0 | 1 | 2;
  /** The intent acted on ('' if none). */
  intent: string;
  /** The answering tier's confidence: the rule's, the probability, the sentence score (tier 4: the intent's). */
  confidence: number;
  intentConfidence: number;
  /** No tier was confident enough: this is a best guess. */
  guessing: boolean;
  /** The answer of tiers 1-3; null at tier 4. */
  text: string | null;
  /** Tier 4: the decoder's prompt (with what tier 3 found). */
  prompt: string | null;
  /** The document's sentences used, best first (indices). */
  sentences: number[];
  /** Time spent in each tier (index = tier; tier 4: building the prompt). */
  tierMs: [number, number, number, number, number];
  /** The whole request in the engine, without tier 4's generation. */
  ms: number;
  /** Tier 4: the generated tokens (the last one has `done: true` and the statistics). */
  tokens?: AsyncIterableIterator<Token>;
}

export class Assistant {
  /** Tier 2's encoder, or null. */
  readonly nano: Model | null;
  /** Tier 4's decoder, or null. */
  readonly decoder: Model | null;
  /** The pattern file's intents. */
  readonly intents: string[];
  /** Why the saved cache could not be read, or null. */
  readonly cacheError: string | null;
  /** Answers a request from the cheapest confident tier. */
  ask(text: string, options?: AskOptions): Promise<Answer>;
  /**
   * Opens a document (splits and embeds its sentences); empty text closes it. embedWeight: the encoder
   * embeddings' share in sentence scores (0.2); 0 = words only, the encoder does not run (much faster).
   */
  setDocument(text: string, options?: { embedWeight?: number; signal?: AbortSignal }): Promise<{ sentences: number; ms: number }>;
  /** Remembers that `text` means `intent`: tier 1 answers it from now on. Returns the cache's text to save. */
  confirm(text: string, intent: string): Promise<string>;
  /** Forgets a confirmed request. Returns the cache's text to save. */
  forget(text: string): Promise<string>;
  /** Replaces the decoder (null: none); on failure the old one stays. */
  setDecoder(source: AssistantLoadOptions['decoder'] | null, options?: LoadOptions): Promise<Model | null>;
  /** Frees the models and the worker. */
  dispose(): Promise<void>;
}

/** Starts the 4-tier assistant in one worker: the pattern file, the nano encoder and a decoder. */
export function loadAssistant(options: AssistantLoadOptions): Promise<Assistant>;
