// The compute kernels: one table of functions per backend (scalar reference,
// AVX2, NEON, wasm SIMD128). Model code calls only these; it has no intrinsics.
//
// Every backend returns the same bits as the scalar reference for every
// kernel, so a model gives bit-identical logits everywhere. That fixes the
// order of every floating-point operation, defined here once:
//
// * No fused multiply-add anywhere: a*b+c is the product rounded, then the sum
//   rounded (the project builds with -ffp-contract=off).
// * A sum of terms t_0..t_{n-1} ("lane sum") accumulates in 8 lanes: lane
//   i%8 takes t_i, each lane in increasing i, starting from +0.0f. The lanes
//   are then combined as ((l0+l4) + (l2+l6)) + ((l1+l5) + (l3+l7)).
// * Quantized dot products (Q8_0 or Q4_0 weights w, int8 activations a, one
//   block b = 32 values): lane j (0..7) of block b gets the exact integer
//   p = sum over k=0..3 of w[32b+4j+k] * a[32b+4j+k] (Q4_0: w = nibble - 8),
//   converted to float, times s = (weight scale as f32) * (activation scale),
//   i.e. lane_j = lane_j + (float)p * s. Lanes combine as above.
// * Elementwise ops: each element goes through the scalar code's exact
//   sequence of operations (see scalar.c and mathx.h for exp and SiLU).
// * Damaged inputs (NaN, Inf, huge or tiny values) are defined too: every
//   float-to-integer conversion is of a value known to be in range. Results
//   are then the same bits where finite and the same kind where not (NaN,
//   +Inf, -Inf): which NaN bits an operation returns is the hardware's choice.
#ifndef SLM_KERNELS_H
#define SLM_KERNELS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../slm.h"

#define SLM_QK 32  // values per quantization block (ggml's QK4_0 == QK8_0)
#define SLM_ACTS_AUX 64  // bytes of slm_acts.aux per block

// ggml's blocks, bit for bit: fp16 scale, then the quants.
// Q4_0 value e of a block: (e < 16 ? qs[e] & 15 : qs[e - 16] >> 4) - 8, times d.
typedef struct { uint16_t d; uint8_t qs[SLM_QK / 2]; } slm_block_q4_0;  // 18 bytes
typedef struct { uint16_t d; int8_t qs[SLM_QK]; } slm_block_q8_0;        // 34 bytes
// ggml's Q2_K: 256 values in 16 groups of 16, value = d*scale*q - dmin*min
// with 4-bit scale and min per group (scales[g] low and high nibble) and
// 2-bit q; value e's q sits in qs[q2_k_byte(e)] at bit q2_k_shift(e).
#define SLM_QK_K 256
typedef struct { uint8_t scales[SLM_QK_K / 16]; uint8_t qs[SLM_QK_K / 4]; uint16_t d, dmin; } slm_block_q2_k;  // 84 bytes
static inline int q2_k_byte(int e) { return 32 * (e / 128) + e % 32; }
static inline int q2_k_shift(int e) { return 2 * ((e % 128) / 32); }

// Activations quantized to int8 for the integer matrix products: T rows of n
// values (n % 32 == 0). amax is the block's largest |x|, found as the largest
// of the values' bits with the sign cleared (integer order is float order,
// and NaN bits lie above Inf's). An ordinary block (2^-119 <= amax < Inf):
// scale d = amax / 127 (f32, not rounded to fp16) and q =
// round-to-nearest-even(x * (1/d)), always in [-127, 127]. Any other block
// is not scaled (slm_acts_unscaled): d = NaN if it holds a NaN, +Inf if it
// holds an infinity, 0 if amax < 2^-119 (there 1/d could overflow), and its
// q, g and aux are all 0. So no input converts a NaN or an out-of-range float
// to an integer, and a damaged value turns every product with its block into
// NaN, which the forward pass reports. g holds each group of 4 consecutive q summed (lets Q4_0
// kernels fold the -8 offset into one subtraction per lane). aux is the
// backend's own scratch, 64 bytes per block (wasm: q as int16 in the order
// of its dot products; AVX-VNNI: each block's -8g and -128g), written by its
// quantize_acts and read only by its own matrix products: a backend's matrix
// products take activations that the same backend quantized.
typedef struct {
    int8_t *q;     // (T, n)
    float *d;      // (T, n/32)
    int32_t *g;    // (T, n/4)
    void *aux;     // (T, n/32) x SLM_ACTS_AUX bytes
    int T, n;
} slm_acts;

#define SLM_ACTS_TINY_BITS 0x04000000u   // 2^-119: amax * 127 / amax stays finite above it
#define SLM_F32_INF_BITS 0x7f800000u

// For quantize_acts: block blk, whose largest |x| has amax_bits, when it is
// not an ordinary one (see above) gets its d and zeroed q, g and aux here;
// returns 1 then, 0 for an ordinary block (nothing written).
static inline int slm_acts_unscaled(uint32_t amax_bits, slm_acts *a, size_t blk) {
    if (amax_bits >= SLM_ACTS_TINY_BITS && amax_bits < SLM_F32_INF_BITS) return 0;
    a->d[blk] = amax_bits > SLM_F32_INF_BITS ? NAN : amax_bits == SLM_F32_INF_BITS ? INFINITY : 0.0f;
    memset(a->q + blk * SLM_QK, 0, SLM_QK);
    memset(a->g + blk * (SLM_QK / 4), 0, SLM_QK / 4 * sizeof(int32_t));
    memset((uint8_t *)a->aux + blk * SLM_ACTS_AUX, 0, SLM_ACTS_AUX);
    return 1;
}

typedef struct slm_kernels {
    const char *name;

    // x (T, n) -> a; a's buffers are sized by the caller for T*n values.
    void (*quantize_acts)(const float *x, int T, int n, slm_acts *a);

    // Matrix products with weights W (m, n), row-major, rows r0..r1-1 only
    // (the caller splits rows across threads):
    //   Y[t*ldy + r] = lane sum over the row of W[r, :] . X[t, :],  t < T.
    // Quantized weights take the int8 activations; float weights take X (T, n).
    void (*matmul_q4_0)(const void *W, const slm_acts *a, int r0, int r1, float *Y, int ldy);
    void (*matmul_q8_0)(const void *W, const slm_acts *a, int r0, int r1, float *Y, int ldy);
    void (*matmul_f32)(const float *W, const float *X, int T, int n, int r0, int r1, float *Y, int ldy);
    void (*matmul_f16)(const uint16_t *W, const float *X, int T, int n, int r0, int r1, float *Y, int ldy);

    float (*dot)(const float *a, const float *b, int n);           // lane sum of a[i]*b[i]
    void (*axpy)(float a, const float *x, float *y, int n);        // y[i] = y[i] + a*x[i]
    // The same over m rows lying stride floats apart (attention over a KV
    // cache), exactly as m calls: out[r] = dot(x, rows + r*stride, n), and
    // axpy(a[r], rows + r*stride, y, n) for r = 0, 1, .., m-1 in turn.
    void (*dot_rows)(const float *x, const float *rows, size_t stride, int m, int n, float *out);
    void (*axpy_rows)(const float *a, const float *rows, size_t stride, int m, int n, float *y);
    void (*add)(float *y, const float *x, int n);                  // y[i] = y[i] + x[i]

    // out[i] = (x[i] * r) * w[i], r = 1 / sqrtf(lane sum of x[i]*x[i] / n + eps)
    void (*rmsnorm)(float *out, const float *x, const float *w, int n, float eps);
    // m = max x[i]; e[i] = slm_expf(x[i] - m); x[i] = e[i] * (1 / lane sum of e)
    void (*softmax)(float *x, int n);
    // out[i] = slm_siluf(gate[i]) * up[i]
    void (*swiglu)(float *out, const float *gate, const float *up, int n);
    // out[i] = slm_geluf(gate[i]) * up[i]   (GELU, tanh form: Gemma's FFN)
    void (*geglu)(float *out, const float *gate, const float *up, int n);
    // Rotate pairs (x[2i], x[2i+1]) of each of n_heads heads of head_dim by
    // the angle with cos[i], sin[i] (i < head_dim/2):
    //   x0' = x0*c - x1*s;  x1' = x0*s + x1*c
    void (*rope)(float *x, int n_heads, int head_dim, const float *cos, const float *sin);
    // The same with the pairs (x[i], x[i + head_dim/2]) (GPT-NeoX's layout:
    // Qwen, Gemma).
    void (*rope_neox)(float *x, int n_heads, int head_dim, const float *cos, const float *sin);

    // One row of a (rows, n) weight matrix of each type, dequantized (exact).
    void (*row_q4_0)(const void *W, int row, int n, float *out);
    void (*row_q8_0)(const void *W, int row, int n, float *out);
    void (*row_f16)(const uint16_t *W, int row, int n, float *out);

    // Every other type (Q4_1, Q5_0, Q5_1, IQ4_NL, Q2_K .. Q6_K, IQ4_XS; BF16):
    // by the common form below. Each SIMD backend unpacks blocks and takes one
    // product for all (AVX2 and wasm with own loops for Q4_K and Q6_K); rows
    // and BF16 use the reference (slm_row_quant_ref ...) everywhere.
    void (*matmul_quant)(uint32_t type, const void *W, const slm_acts *a, int r0, int r1, float *Y, int ldy);
    void (*row_quant)(uint32_t type, const void *W, int row, int n, float *out);
    void (*matmul_bf16)(const uint16_t *W, const float *X, int T, int n, int r0, int r1, float *Y, int ldy);
    void (*row_bf16)(const uint16_t *W, int row, int n, float *out);
} slm_kernels;

extern const slm_kernels slm_kernels_scalar;
#if defined(__x86_64__) || defined(__i386__)
extern const slm_kernels slm_kernels_avx2;
extern const slm_kernels slm_kernels_avxvnni;  // AVX2 + AVX-VNNI (vpdpbusd)
extern const slm_kernels slm_kernels_avx512vnni;  // AVX2 + AVX512-VNNI's vpdpbusd on ymm (Zen 4)
#endif
#if defined(__aarch64__)
extern const slm_kernels slm_kernels_neon;
#endif
#if defined(__wasm_simd128__)
extern const slm_kernels slm_kernels_wasm;
#endif

// The fastest backend this CPU runs (x86: AVX-VNNI, else AVX512-VNNI, else AVX2, if the CPU
// and OS have it).
const slm_kernels *slm_kernels_best(void);
// A backend by name ("scalar", "avx2", "avxvnni", "avx512vnni", "neon", "wasm"), or NULL if
// this build or CPU lacks it.
const slm_kernels *slm_kernels_by_name(const char *name);

// ---- every other quantized type: the common form ---------------------------------
//
// Any quantized block of 32 weights reads as integers w[0..31] (int8 range),
// an integer scale sc and min mn for each half (values 0-15, 16-31: lanes 0-3
// and 4-7) and two float scales d and dm:
//     weight[e] = (d * sc[h]) * w[e] + dm * mn[h],   h = e / 16,
// the second term only for types with mins (Q4_1, Q5_1: dm = the block's
// min, mn = 1; Q2_K, Q4_K, Q5_K: dm = -dmin, mn the sub-block's min). The
// layouts are in blocks.c and docs/FORMAT.md. A matrix product over such
// blocks extends the quantized contract above: lane j of block b gets
//     P = sc[j/4] * (sum over k=0..3 of w[4j+k] * a[4j+k])       (exact)
//     lane_j = lane_j + (float)P * (d * da)
//     lane_j = lane_j + (float)(mn[j/4] * g_j) * (dm * da)      (types with mins)
// which for Q4_0 and Q8_0 is the contract above.
typedef struct {
    int8_t w[SLM_QK];
    int16_t sc[2], mn[2];
    float d, dm;
    int has_min;
} slm_qblock;

// Block b (of 32 values) of one row of a quantized type: all of it, or only
// its scales, mins and float scales (for backends that unpack w themselves).
void slm_qblock_decode(uint32_t type, const void *row, int b, slm_qblock *out);
void slm_qblock_scales(uint32_t type, const void *row, int b, slm_qblock *out);
// Bytes of a row of n values of a quantized type (0 if not one).
int slm_quant_row_bytes(uint32_t type, int n);
// The reference product and row of the common form, for every quantized type,
// and of BF16 weights (as matmul_f16, with bf16 values): the scalar backend's,
// and what the others must match bit for bit (tests/test_kernels.c).
void slm_matmul_quant_ref(uint32_t type, const void *W, const slm_acts *a, int r0, int r1, float *Y, int ldy);
void slm_row_quant_ref(uint32_t type, const void *W, int row, int n, float *out);
void slm_matmul_bf16_ref(const uint16_t *W, const float *X, int T, int n, int r0, int r1, float *Y, int ldy);
void slm_row_bf16_ref(const uint16_t *W, int row, int n, float *out);

// rope_neox on pairs i0 .. half-1 of one head v: the scalar code every backend's tail shares.
static inline void slm_rope_neox_pairs(float *v, int i0, int half, const float *cos, const float *sin) {
    for (int i = i0; i < half; i++) {
        float x0 = v[i], x1 = v[i + half], c = cos[i], s = sin[i];
        v[i] = x0 * c - x1 * s;
        v[i + half] = x0 * s + x1 * c;
    }
}

// The 8 scales and mins of a Q4_K/Q5_K super-block (its 12 packed bytes), as floats.
static inline void slm_k4_scales(const uint8_t *s, float sc[8], float mn[8]) {
    for (int j = 0; j < 4; j++) {
        sc[j] = (float)(s[j] & 63), mn[j] = (float)(s[j + 4] & 63);
        sc[j + 4] = (float)((s[j + 8] & 15) | (s[j] >> 6) << 4), mn[j + 4] = (float)((s[j + 8] >> 4) | (s[j + 4] >> 6) << 4);
    }
}

// The lane-sum combine, shared by every backend's scalar tail code.
static inline float slm_lanes_combine(const float l[8]) {
    return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
}

#endif
