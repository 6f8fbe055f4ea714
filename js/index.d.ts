// Types of the slm360 package (the same API in browsers and in Node).

/** An engine failure. `message` is the engine's own one-line explanation. */
export class SlmError extends Error {
  readonly name: 'SlmError';
  readonly code: 'BAD_MODEL' | 'UNSUPPORTED' | 'IO' | 'OUT_OF_MEMORY' | 'CONTEXT_FULL' | 'ABORTED' | 'INVALID_ARG' | 'BAD_DATA' | 'INTERNAL';
}

export interface LoadProgress {
  /** Bytes of the file received so far. */
  loaded: number;
  /** The file size: from the start if the source knows it, else once the GGUF header has arrived. */
  total: number | undefined;
  /** 'read' while bytes arrive, 'init' while the engine checks the file and builds the context, then 'ready'. */
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
