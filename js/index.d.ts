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
