// The error every part of the package throws.

/** An engine failure: `code` is BAD_MODEL, UNSUPPORTED, IO, OUT_OF_MEMORY, CONTEXT_FULL, ABORTED, INVALID_ARG, BAD_DATA, NUMERIC (the model computed NaN or infinity: damaged weights) or INTERNAL. */
export class SlmError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'SlmError';
    this.code = code;
  }
}
