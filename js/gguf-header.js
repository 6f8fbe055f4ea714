// Reads the header of a GGUF file (docs/FORMAT.md) from its first bytes, to
// learn how long the whole file is before the rest arrives: the worker then
// allocates the wasm memory once and copies each later chunk to its final place.
// The engine checks everything again when it loads the file; this reader only
// needs to be safe on hostile input, not thorough.

/** ggml tensor types: [name, values per block, bytes per block] (as src/gguf.c). */
const TYPES = {
  0: ['F32', 1, 4], 1: ['F16', 1, 2], 2: ['Q4_0', 32, 18], 3: ['Q4_1', 32, 20], 6: ['Q5_0', 32, 22],
  7: ['Q5_1', 32, 24], 8: ['Q8_0', 32, 34], 9: ['Q8_1', 32, 36], 10: ['Q2_K', 256, 84], 11: ['Q3_K', 256, 110],
  12: ['Q4_K', 256, 144], 13: ['Q5_K', 256, 176], 14: ['Q6_K', 256, 210], 15: ['Q8_K', 256, 292], 20: ['IQ4_NL', 32, 18], 23: ['IQ4_XS', 256, 136],
  24: ['I8', 1, 1], 25: ['I16', 1, 2], 26: ['I32', 1, 4], 27: ['I64', 1, 8], 28: ['F64', 1, 8], 30: ['BF16', 1, 2],
};
/** Sizes of metadata value types; 8 (string) and 9 (array) are variable. */
const VALUE_SIZE = [1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8];

const MORE = Symbol('more');   // thrown when the header runs past the bytes we have
const utf8 = new TextDecoder();

/** A malformed header: the worker reports it as BAD_MODEL. */
export class GgufError extends Error {
  constructor(message) {
    super(message);
    this.code = 'BAD_MODEL';
  }
}

/**
 * @typedef {object} GgufTensor
 * @property {string} name
 * @property {string} type      ggml type name, e.g. "Q4_0"
 * @property {number[]} dims    ne[0] first (the contiguous dimension)
 * @property {number} offset    from the start of the data section
 * @property {number} bytes
 *
 * @typedef {object} GgufHeader
 * @property {number} version
 * @property {number} alignment
 * @property {number} dataOffset  where the tensor data starts
 * @property {number} fileSize    bytes the whole file needs (the end of the last tensor)
 * @property {GgufTensor[]} tensors
 */

/**
 * Parses the header in `bytes` (the start of a file of `fileSize` bytes, if
 * known). Returns null when more bytes are needed, the header when it is
 * complete; throws GgufError if it is malformed.
 * @param {Uint8Array} bytes
 * @param {number} [fileSize]
 * @returns {GgufHeader | null}
 */
export function readGgufHeader(bytes, fileSize = Infinity) {
  try {
    return parse(bytes, fileSize);
  } catch (e) {
    if (e === MORE) return null;
    throw e;
  }
}

function parse(bytes, fileSize) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 0;
  const need = (n, what) => {
    if (off + n <= bytes.length) return;
    if (off + n > fileSize) throw new GgufError(`truncated: ${what} at byte ${off} runs past the end of the file (${fileSize} bytes)`);
    throw MORE;
  };
  const u32 = (what) => { need(4, what); off += 4; return view.getUint32(off - 4, true); };
  const u64 = (what) => {
    need(8, what);
    off += 8;
    const v = view.getBigUint64(off - 8, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new GgufError(`${what} at byte ${off - 8} is impossibly large`);
    return Number(v);
  };
  if (bytes.length >= 4 && view.getUint32(0, true) !== 0x46554747) throw new GgufError('not a GGUF file (bad magic)');
  u32('magic');
  const version = u32('version');
  if (version < 1 || version > 3) throw new GgufError(`unsupported GGUF version ${version} (1 to 3 are read)`);
  // counts and lengths are 32-bit in v1, 64-bit since v2
  const len = version === 1 ? u32 : u64;
  const skip = (n, what) => { need(n, what); off += n; };
  const str = (what) => {
    const n = len(what);
    skip(n, what);
    return utf8.decode(bytes.subarray(off - n, off));
  };
  const nTensors = len('tensor count'), nKv = len('metadata count');

  let alignment = 32;
  for (let i = 0; i < nKv; i++) {
    const key = str('metadata key');
    const type = u32(key);
    if (type === 8) str(key);
    else if (type === 9) {
      const elType = u32(key), n = len(key);
      if (elType === 8) for (let j = 0; j < n; j++) skip(len(key), key);
      else if (VALUE_SIZE[elType]) skip(n * VALUE_SIZE[elType], key);
      else throw new GgufError(`metadata '${key}' is an array of unknown type ${elType}`);
    } else if (VALUE_SIZE[type]) {
      need(VALUE_SIZE[type], key);
      if (key === 'general.alignment' && type === 4) alignment = view.getUint32(off, true);
      off += VALUE_SIZE[type];
    } else throw new GgufError(`metadata '${key}' has unknown type ${type}`);
  }
  if (!alignment || alignment & (alignment - 1)) throw new GgufError(`general.alignment ${alignment} is not a power of two`);

  const tensors = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str('tensor name');
    const nDims = u32(name);
    if (nDims < 1 || nDims > 4) throw new GgufError(`tensor '${name}' has ${nDims} dimensions`);
    const dims = [];
    for (let d = 0; d < nDims; d++) dims.push(len(name));
    const typeId = u32(name), offset = u64(name);
    const t = TYPES[typeId];
    if (!t) throw new GgufError(`tensor '${name}' has unknown type ${typeId}`);
    const values = dims.reduce((a, b) => a * b, 1);
    if (dims[0] % t[1] || !Number.isSafeInteger(values)) throw new GgufError(`tensor '${name}' has an impossible shape`);
    tensors.push({ name, type: t[0], dims, offset, bytes: (values / t[1]) * t[2] });
  }
  const dataOffset = Math.ceil(off / alignment) * alignment;
  const end = tensors.reduce((m, t) => Math.max(m, t.offset + t.bytes), 0);
  return { version, alignment, headerEnd: off, dataOffset, fileSize: tensors.length ? dataOffset + end : off, tensors };
}
