// WebAssembly SIMD128 kernels: the same bits as scalar.c.
//
// The eight lanes of kernels.h live in two f32x4 vectors, lanes 0..3 and 4..7;
// elements past the last multiple of 8 are added in scalar code to the stored
// lanes. No relaxed SIMD (its results may differ between engines). There is
// no fp16 hardware here, so halves are widened with integer operations that
// mirror slm_f16_to_f32.
#if defined(__wasm_simd128__)

#include <math.h>
#include <wasm_simd128.h>

#include "../mathx.h"
#include "kernels.h"

// ---- lane sums ---------------------------------------------------------------

// ((l0+l4) + (l2+l6)) + ((l1+l5) + (l3+l7)) of lanes lo = l0..l3, hi = l4..l7
static inline float lanes_combine(v128_t lo, v128_t hi) {
    v128_t s = wasm_f32x4_add(lo, hi);                                  // l0+l4, l1+l5, l2+l6, l3+l7
    v128_t t = wasm_f32x4_add(s, wasm_i32x4_shuffle(s, s, 2, 3, 2, 3));  // (l0+l4)+(l2+l6), (l1+l5)+(l3+l7)
    return wasm_f32x4_extract_lane(t, 0) + wasm_f32x4_extract_lane(t, 1);
}

static inline void lanes_store(float l[8], v128_t lo, v128_t hi) {
    wasm_v128_store(l, lo);
    wasm_v128_store(l + 4, hi);
}

static float dot(const float *a, const float *b, int n) {
    v128_t lo = wasm_f32x4_const_splat(0.0f), hi = lo;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        lo = wasm_f32x4_add(lo, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
        hi = wasm_f32x4_add(hi, wasm_f32x4_mul(wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4)));
    }
    float l[8];
    lanes_store(l, lo, hi);
    for (; i < n; i++) l[i % 8] = l[i % 8] + a[i] * b[i];
    return slm_lanes_combine(l);
}

// ---- fp16 --------------------------------------------------------------------

// Four halves (in the low 16 bits of each u32 lane) to f32, as slm_f16_to_f32.
static inline v128_t f16x4_to_f32(v128_t h) {
    v128_t sign = wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_const_splat(0x8000)), 16);
    v128_t exp = wasm_v128_and(h, wasm_i32x4_const_splat(0x7c00));
    v128_t mant = wasm_v128_and(h, wasm_i32x4_const_splat(0x3ff));
    v128_t em = wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_const_splat(0x7fff)), 13);
    v128_t normal = wasm_i32x4_add(em, wasm_i32x4_const_splat(112 << 23));
    v128_t infnan = wasm_v128_or(em, wasm_i32x4_const_splat(0x7f800000));
    // zero and subnormal: mant * 2^-24, exact
    v128_t sub = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(mant), wasm_f32x4_const_splat(5.9604644775390625e-8f));
    v128_t v = wasm_v128_bitselect(infnan, normal, wasm_i32x4_eq(exp, wasm_i32x4_const_splat(0x7c00)));
    v = wasm_v128_bitselect(sub, v, wasm_i32x4_eq(exp, wasm_i32x4_const_splat(0)));
    return wasm_v128_or(v, sign);
}

static inline v128_t load_f16x4(const uint16_t *p) { return wasm_u32x4_load16x4(p); }

// ---- activation quantization -------------------------------------------------

static void quantize_acts(const float *x, int T, int n, slm_acts *a) {
    int nb = n / SLM_QK;
    for (size_t blk = 0; blk < (size_t)T * nb; blk++) {
        const float *xb = x + blk * SLM_QK;
        v128_t v[8];
        for (int k = 0; k < 8; k++) v[k] = wasm_v128_load(xb + 4 * k);
        v128_t m = wasm_f32x4_abs(v[0]);
        for (int k = 1; k < 8; k++) m = wasm_f32x4_pmax(m, wasm_f32x4_abs(v[k]));
        m = wasm_f32x4_pmax(m, wasm_i32x4_shuffle(m, m, 2, 3, 0, 1));
        m = wasm_f32x4_pmax(m, wasm_i32x4_shuffle(m, m, 1, 0, 3, 2));
        float d = wasm_f32x4_extract_lane(m, 0) / 127.0f;
        v128_t id = wasm_f32x4_splat(d != 0.0f ? 1.0f / d : 0.0f);
        // nearest: round to nearest, ties to even, as nearbyintf in the default mode
        v128_t i32[8];
        for (int k = 0; k < 8; k++) i32[k] = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(v[k], id)));
        v128_t q0 = wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(i32[0], i32[1]), wasm_i16x8_narrow_i32x4(i32[2], i32[3]));
        v128_t q1 = wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(i32[4], i32[5]), wasm_i16x8_narrow_i32x4(i32[6], i32[7]));
        wasm_v128_store(a->q + blk * SLM_QK, q0);
        wasm_v128_store(a->q + blk * SLM_QK + 16, q1);
        wasm_v128_store(a->g + blk * SLM_QK / 4, wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_extadd_pairwise_i8x16(q0)));
        wasm_v128_store(a->g + blk * SLM_QK / 4 + 4, wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_extadd_pairwise_i8x16(q1)));
        a->d[blk] = d;
    }
    a->T = T;
    a->n = n;
}

// ---- quantized matrix products -----------------------------------------------

// 16 int8 values widened to two i16x8 (elements 0..7, 8..15).
typedef struct { v128_t lo, hi; } i16x16;

static inline i16x16 widen(v128_t q) {
    i16x16 w = {wasm_i16x8_extend_low_i8x16(q), wasm_i16x8_extend_high_i8x16(q)};
    return w;
}

// Exact group-of-4 sums of w*a: lane j = sum of elements 4j..4j+3. The i16
// dot gives pair sums; the shuffles add neighbouring pairs.
static inline v128_t dot16(i16x16 w, i16x16 a) {
    v128_t p0 = wasm_i32x4_dot_i16x8(w.lo, a.lo), p1 = wasm_i32x4_dot_i16x8(w.hi, a.hi);
    return wasm_i32x4_add(wasm_i32x4_shuffle(p0, p1, 0, 2, 4, 6), wasm_i32x4_shuffle(p0, p1, 1, 3, 5, 7));
}

// A block's 32 weights as signed bytes: lo = elements 0..15, hi = 16..31.
static inline void block_weights(const uint8_t *blk, int q8, v128_t *lo, v128_t *hi) {
    if (q8) {
        const slm_block_q8_0 *b = (const slm_block_q8_0 *)blk;
        *lo = wasm_v128_load(b->qs);
        *hi = wasm_v128_load(b->qs + 16);
    } else {
        const slm_block_q4_0 *b = (const slm_block_q4_0 *)blk;
        v128_t qs = wasm_v128_load(b->qs), eight = wasm_i8x16_const_splat(8);
        *lo = wasm_i8x16_sub(wasm_v128_and(qs, wasm_i8x16_const_splat(15)), eight);
        *hi = wasm_i8x16_sub(wasm_u8x16_shr(qs, 4), eight);
    }
}

// Adds one block of one row to its lanes (lo: 0..3, hi: 4..7): lane j gets
// (float)p_j * s, with a0, a1 the activation block's two halves (widened) and
// ad its scale.
static inline void row_block(const uint8_t *blk, int q8, i16x16 a0, i16x16 a1, float ad, v128_t *lo, v128_t *hi) {
    v128_t w0, w1;
    block_weights(blk, q8, &w0, &w1);
    v128_t s = wasm_f32x4_splat(slm_f16_to_f32(*(const uint16_t *)blk) * ad);
    *lo = wasm_f32x4_add(*lo, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(dot16(widen(w0), a0)), s));
    *hi = wasm_f32x4_add(*hi, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(dot16(widen(w1), a1)), s));
}

// out[i] = row i (blocks at rows[i]) . activations of token t, for 4 rows.
static inline __attribute__((always_inline)) void
rows4_token(const uint8_t *const rows[4], size_t bb, const slm_acts *a, int t, int q8, float out[4]) {
    int n = a->n, nb = n / SLM_QK;
    const int8_t *q = a->q + (size_t)t * n;
    const float *ad = a->d + (size_t)t * nb;
    v128_t lo0 = wasm_f32x4_const_splat(0.0f), lo1 = lo0, lo2 = lo0, lo3 = lo0, hi0 = lo0, hi1 = lo0, hi2 = lo0, hi3 = lo0;
    for (int b = 0; b < nb; b++) {
        i16x16 a0 = widen(wasm_v128_load(q + b * SLM_QK)), a1 = widen(wasm_v128_load(q + b * SLM_QK + 16));
        row_block(rows[0] + b * bb, q8, a0, a1, ad[b], &lo0, &hi0);
        row_block(rows[1] + b * bb, q8, a0, a1, ad[b], &lo1, &hi1);
        row_block(rows[2] + b * bb, q8, a0, a1, ad[b], &lo2, &hi2);
        row_block(rows[3] + b * bb, q8, a0, a1, ad[b], &lo3, &hi3);
    }
    out[0] = lanes_combine(lo0, hi0);
    out[1] = lanes_combine(lo1, hi1);
    out[2] = lanes_combine(lo2, hi2);
    out[3] = lanes_combine(lo3, hi3);
}

// Rows in groups of 4 (each activation block widened once for 4 rows); every
// token reuses the group's weights from cache.
static inline __attribute__((always_inline)) void
matmul_quant(const void *W, const slm_acts *a, int r0, int r1, float *Y, int ldy, int q8) {
    size_t bb = q8 ? sizeof(slm_block_q8_0) : sizeof(slm_block_q4_0);
    size_t row_bytes = (size_t)(a->n / SLM_QK) * bb;
    for (int r = r0; r < r1; r += 4) {
        const uint8_t *rows[4];
        for (int i = 0; i < 4; i++)  // past r1, repeat the last row (its results are dropped)
            rows[i] = (const uint8_t *)W + (size_t)(r + i < r1 ? r + i : r1 - 1) * row_bytes;
        for (int t = 0; t < a->T; t++) {
            float out[4];
            rows4_token(rows, bb, a, t, q8, out);
            for (int i = 0; i < 4 && r + i < r1; i++) Y[(size_t)t * ldy + r + i] = out[i];
        }
    }
}

static void matmul_q4_0(const void *W, const slm_acts *a, int r0, int r1, float *Y, int ldy) {
    matmul_quant(W, a, r0, r1, Y, ldy, 0);
}

static void matmul_q8_0(const void *W, const slm_acts *a, int r0, int r1, float *Y, int ldy) {
    matmul_quant(W, a, r0, r1, Y, ldy, 1);
}

// ---- float matrix products ---------------------------------------------------

static inline v128_t load_w4(const void *W, size_t i, int f16) {
    if (f16) return f16x4_to_f32(load_f16x4((const uint16_t *)W + i));
    return wasm_v128_load((const float *)W + i);
}

static inline float w_at(const void *W, size_t i, int f16) {
    return f16 ? slm_f16_to_f32(((const uint16_t *)W)[i]) : ((const float *)W)[i];
}

// lo, hi += the 8 weights at W[i..] (row offset i) times x0, x1
static inline void mul_add_w8(const void *W, size_t i, v128_t x0, v128_t x1, int f16, v128_t *lo, v128_t *hi) {
    *lo = wasm_f32x4_add(*lo, wasm_f32x4_mul(load_w4(W, i, f16), x0));
    *hi = wasm_f32x4_add(*hi, wasm_f32x4_mul(load_w4(W, i + 4, f16), x1));
}

// Lanes (lo, hi) plus the scalar tail k..n-1 of the row at offset row times x, combined.
static inline float float_finish(v128_t lo, v128_t hi, const void *W, size_t row, const float *x, int k, int n,
                                 int f16) {
    float l[8];
    lanes_store(l, lo, hi);
    for (int j = k; j < n; j++) l[j % 8] = l[j % 8] + w_at(W, row + j, f16) * x[j];
    return slm_lanes_combine(l);
}

// out[i] = row i (offset row[i] into W) . x, for 4 rows.
static inline __attribute__((always_inline)) void
float_rows4(const void *W, const size_t row[4], const float *x, int n, float out[4], int f16) {
    v128_t lo0 = wasm_f32x4_const_splat(0.0f), lo1 = lo0, lo2 = lo0, lo3 = lo0, hi0 = lo0, hi1 = lo0, hi2 = lo0, hi3 = lo0;
    int k = 0;
    for (; k + 8 <= n; k += 8) {
        v128_t x0 = wasm_v128_load(x + k), x1 = wasm_v128_load(x + k + 4);
        mul_add_w8(W, row[0] + k, x0, x1, f16, &lo0, &hi0);
        mul_add_w8(W, row[1] + k, x0, x1, f16, &lo1, &hi1);
        mul_add_w8(W, row[2] + k, x0, x1, f16, &lo2, &hi2);
        mul_add_w8(W, row[3] + k, x0, x1, f16, &lo3, &hi3);
    }
    out[0] = float_finish(lo0, hi0, W, row[0], x, k, n, f16);
    out[1] = float_finish(lo1, hi1, W, row[1], x, k, n, f16);
    out[2] = float_finish(lo2, hi2, W, row[2], x, k, n, f16);
    out[3] = float_finish(lo3, hi3, W, row[3], x, k, n, f16);
}

static inline __attribute__((always_inline)) void
matmul_float(const void *W, const float *X, int T, int n, int r0, int r1, float *Y, int ldy, int f16) {
    for (int r = r0; r < r1; r += 4) {
        size_t row[4];
        for (int i = 0; i < 4; i++) row[i] = (size_t)(r + i < r1 ? r + i : r1 - 1) * n;
        for (int t = 0; t < T; t++) {
            float out[4];
            float_rows4(W, row, X + (size_t)t * n, n, out, f16);
            for (int i = 0; i < 4 && r + i < r1; i++) Y[(size_t)t * ldy + r + i] = out[i];
        }
    }
}

static void matmul_f32(const float *W, const float *X, int T, int n, int r0, int r1, float *Y, int ldy) {
    matmul_float(W, X, T, n, r0, r1, Y, ldy, 0);
}

static void matmul_f16(const uint16_t *W, const float *X, int T, int n, int r0, int r1, float *Y, int ldy) {
    matmul_float(W, X, T, n, r0, r1, Y, ldy, 1);
}

// ---- elementwise -------------------------------------------------------------

static void axpy(float a, const float *x, float *y, int n) {
    v128_t av = wasm_f32x4_splat(a);
    int i = 0;
    for (; i + 4 <= n; i += 4)
        wasm_v128_store(y + i, wasm_f32x4_add(wasm_v128_load(y + i), wasm_f32x4_mul(av, wasm_v128_load(x + i))));
    for (; i < n; i++) y[i] = y[i] + a * x[i];
}

static void add(float *y, const float *x, int n) {
    int i = 0;
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, wasm_f32x4_add(wasm_v128_load(y + i), wasm_v128_load(x + i)));
    for (; i < n; i++) y[i] = y[i] + x[i];
}

static void rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
    float r = 1.0f / sqrtf(dot(x, x, n) / (float)n + eps);
    v128_t rv = wasm_f32x4_splat(r);
    int i = 0;
    for (; i + 4 <= n; i += 4)
        wasm_v128_store(out + i, wasm_f32x4_mul(wasm_f32x4_mul(wasm_v128_load(x + i), rv), wasm_v128_load(w + i)));
    for (; i < n; i++) out[i] = (x[i] * r) * w[i];
}

// slm_expf, step for step (mathx.h). pmax(x, LO) is "x < LO ? LO : x" and
// pmin(x, HI) is "HI < x ? HI : x": the scalar clamps exactly.
static inline v128_t expf4(v128_t x) {
    x = wasm_f32x4_pmax(x, wasm_f32x4_const_splat(SLM_EXP_LO));
    x = wasm_f32x4_pmin(x, wasm_f32x4_const_splat(SLM_EXP_HI));
    const v128_t magic = wasm_f32x4_const_splat(SLM_ROUND_MAGIC);
    v128_t k = wasm_f32x4_sub(wasm_f32x4_add(wasm_f32x4_mul(x, wasm_f32x4_const_splat(SLM_LOG2E)), magic), magic);
    v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(k, wasm_f32x4_const_splat(SLM_LN2_HI)));
    r = wasm_f32x4_sub(r, wasm_f32x4_mul(k, wasm_f32x4_const_splat(SLM_LN2_LO)));
    v128_t p = wasm_f32x4_const_splat(SLM_EXP_P0);
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_const_splat(SLM_EXP_P1));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_const_splat(SLM_EXP_P2));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_const_splat(SLM_EXP_P3));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_const_splat(SLM_EXP_P4));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_const_splat(SLM_EXP_P5));
    v128_t y = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(p, wasm_f32x4_mul(r, r)), r), wasm_f32x4_const_splat(1.0f));
    v128_t e = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(k), wasm_i32x4_const_splat(127)), 23);
    return wasm_f32x4_mul(y, e);
}

// The maximum's sign of zero may differ from the scalar scan's when +0 and -0
// tie, which cannot change any x - m that slm_expf sees (both give r = +0).
static void softmax(float *x, int n) {
    v128_t mv = wasm_f32x4_splat(x[0]);
    int i = 0;
    for (; i + 4 <= n; i += 4) mv = wasm_f32x4_pmax(mv, wasm_v128_load(x + i));
    float l4[4];
    wasm_v128_store(l4, mv);
    float m = l4[0];
    for (int j = 1; j < 4; j++) m = l4[j] > m ? l4[j] : m;
    for (; i < n; i++) m = x[i] > m ? x[i] : m;

    v128_t mb = wasm_f32x4_splat(m), lo = wasm_f32x4_const_splat(0.0f), hi = lo;
    for (i = 0; i + 8 <= n; i += 8) {
        v128_t e0 = expf4(wasm_f32x4_sub(wasm_v128_load(x + i), mb));
        v128_t e1 = expf4(wasm_f32x4_sub(wasm_v128_load(x + i + 4), mb));
        wasm_v128_store(x + i, e0);
        wasm_v128_store(x + i + 4, e1);
        lo = wasm_f32x4_add(lo, e0);
        hi = wasm_f32x4_add(hi, e1);
    }
    float l[8];
    lanes_store(l, lo, hi);
    for (int j = i; j < n; j++) {
        x[j] = slm_expf(x[j] - m);
        l[j % 8] = l[j % 8] + x[j];
    }
    float inv = 1.0f / slm_lanes_combine(l);
    v128_t iv = wasm_f32x4_splat(inv);
    for (i = 0; i + 4 <= n; i += 4) wasm_v128_store(x + i, wasm_f32x4_mul(wasm_v128_load(x + i), iv));
    for (; i < n; i++) x[i] = x[i] * inv;
}

static void swiglu(float *out, const float *gate, const float *up, int n) {
    const v128_t one = wasm_f32x4_const_splat(1.0f);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        v128_t g = wasm_v128_load(gate + i);
        v128_t silu = wasm_f32x4_div(g, wasm_f32x4_add(one, expf4(wasm_f32x4_neg(g))));
        wasm_v128_store(out + i, wasm_f32x4_mul(silu, wasm_v128_load(up + i)));
    }
    for (; i < n; i++) out[i] = slm_siluf(gate[i]) * up[i];
}

// Four pairs at a time: shuffles split them into x0 (even) and x1 (odd)
// vectors and interleave the results back.
static void rope(float *x, int n_heads, int head_dim, const float *cos, const float *sin) {
    int half = head_dim / 2;
    for (int h = 0; h < n_heads; h++) {
        float *v = x + (size_t)h * head_dim;
        int i = 0;
        for (; i + 4 <= half; i += 4) {
            v128_t a = wasm_v128_load(v + 2 * i), b = wasm_v128_load(v + 2 * i + 4);
            v128_t x0 = wasm_i32x4_shuffle(a, b, 0, 2, 4, 6), x1 = wasm_i32x4_shuffle(a, b, 1, 3, 5, 7);
            v128_t c = wasm_v128_load(cos + i), s = wasm_v128_load(sin + i);
            v128_t e = wasm_f32x4_sub(wasm_f32x4_mul(x0, c), wasm_f32x4_mul(x1, s));
            v128_t o = wasm_f32x4_add(wasm_f32x4_mul(x0, s), wasm_f32x4_mul(x1, c));
            wasm_v128_store(v + 2 * i, wasm_i32x4_shuffle(e, o, 0, 4, 1, 5));
            wasm_v128_store(v + 2 * i + 4, wasm_i32x4_shuffle(e, o, 2, 6, 3, 7));
        }
        for (; i < half; i++) {
            float x0 = v[2 * i], x1 = v[2 * i + 1], c = cos[i], s = sin[i];
            v[2 * i] = x0 * c - x1 * s;
            v[2 * i + 1] = x0 * s + x1 * c;
        }
    }
}

// ---- row dequantization ------------------------------------------------------

// 16 int8 values times d, into out[0..15].
static inline void store_scaled_i8(float *out, v128_t q, float d) {
    v128_t dv = wasm_f32x4_splat(d);
    v128_t lo = wasm_i16x8_extend_low_i8x16(q), hi = wasm_i16x8_extend_high_i8x16(q);
    wasm_v128_store(out, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_i32x4_extend_low_i16x8(lo)), dv));
    wasm_v128_store(out + 4, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_i32x4_extend_high_i16x8(lo)), dv));
    wasm_v128_store(out + 8, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_i32x4_extend_low_i16x8(hi)), dv));
    wasm_v128_store(out + 12, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_i32x4_extend_high_i16x8(hi)), dv));
}

static void row_quant(const void *W, int row, int n, float *out, int q8) {
    size_t bb = q8 ? sizeof(slm_block_q8_0) : sizeof(slm_block_q4_0);
    const uint8_t *blk = (const uint8_t *)W + (size_t)row * (n / SLM_QK) * bb;
    for (int b = 0; b < n / SLM_QK; b++, blk += bb) {
        v128_t lo, hi;
        block_weights(blk, q8, &lo, &hi);
        float d = slm_f16_to_f32(*(const uint16_t *)blk);
        store_scaled_i8(out + b * SLM_QK, lo, d);
        store_scaled_i8(out + b * SLM_QK + 16, hi, d);
    }
}

static void row_q4_0(const void *W, int row, int n, float *out) { row_quant(W, row, n, out, 0); }
static void row_q8_0(const void *W, int row, int n, float *out) { row_quant(W, row, n, out, 1); }

static void row_f16(const uint16_t *W, int row, int n, float *out) {
    const uint16_t *w = W + (size_t)row * n;
    int i = 0;
    for (; i + 4 <= n; i += 4) wasm_v128_store(out + i, f16x4_to_f32(load_f16x4(w + i)));
    for (; i < n; i++) out[i] = slm_f16_to_f32(w[i]);
}

const slm_kernels slm_kernels_wasm = {
    .name = "wasm",
    .quantize_acts = quantize_acts,
    .matmul_q4_0 = matmul_q4_0,
    .matmul_q8_0 = matmul_q8_0,
    .matmul_f32 = matmul_f32,
    .matmul_f16 = matmul_f16,
    .dot = dot,
    .axpy = axpy,
    .add = add,
    .rmsnorm = rmsnorm,
    .softmax = softmax,
    .swiglu = swiglu,
    .rope = rope,
    .row_q4_0 = row_q4_0,
    .row_q8_0 = row_q8_0,
    .row_f16 = row_f16,
};

#endif
