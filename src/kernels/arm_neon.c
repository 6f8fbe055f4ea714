// NEON kernels (aarch64): the same bits as scalar.c.
//
// The eight lanes of kernels.h live in two float32x4 registers, lanes 0..3 and
// 4..7; elements past the last multiple of 8 are added in scalar code to the
// stored lanes. Multiplies and adds stay separate instructions (vmlaq may
// fuse on aarch64; the build passes -ffp-contract=off so a*b+c is not fused).
// Quantized dot products use vdotq_s32 where the CPU has it (armv8.2-a
// +dotprod), else widening multiplies and pairwise adds: both give the exact
// group-of-4 integer sums.
#if defined(__aarch64__)

#include <arm_neon.h>
#include <math.h>

#include "../mathx.h"
#include "kernels.h"

// ---- lane sums ---------------------------------------------------------------

// ((l0+l4) + (l2+l6)) + ((l1+l5) + (l3+l7)) of lanes lo = l0..l3, hi = l4..l7
static inline float lanes_combine(float32x4_t lo, float32x4_t hi) {
    float32x4_t s = vaddq_f32(lo, hi);                              // l0+l4, l1+l5, l2+l6, l3+l7
    float32x2_t t = vadd_f32(vget_low_f32(s), vget_high_f32(s));   // (l0+l4)+(l2+l6), (l1+l5)+(l3+l7)
    return vget_lane_f32(t, 0) + vget_lane_f32(t, 1);
}

// Lanes (lo, hi) plus the scalar tail a[i]*b[i] for i in [i0, n), combined.
static inline float lanes_finish_dot(float32x4_t lo, float32x4_t hi, const float *a, const float *b, int i0, int n) {
    float l[8];
    vst1q_f32(l, lo);
    vst1q_f32(l + 4, hi);
    for (int i = i0; i < n; i++) l[i % 8] = l[i % 8] + a[i] * b[i];
    return slm_lanes_combine(l);
}

static float dot(const float *a, const float *b, int n) {
    float32x4_t lo = vdupq_n_f32(0.0f), hi = lo;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        lo = vaddq_f32(lo, vmulq_f32(vld1q_f32(a + i), vld1q_f32(b + i)));
        hi = vaddq_f32(hi, vmulq_f32(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4)));
    }
    return lanes_finish_dot(lo, hi, a, b, i, n);
}

// ---- activation quantization -------------------------------------------------

static void quantize_acts(const float *x, int T, int n, slm_acts *a) {
    int nb = n / SLM_QK;
    for (size_t blk = 0; blk < (size_t)T * nb; blk++) {
        const float *xb = x + blk * SLM_QK;
        float32x4_t v[8];
        for (int k = 0; k < 8; k++) v[k] = vld1q_f32(xb + 4 * k);
        // amax as bits: the largest |x| as an integer (kernels.h)
        const uint32x4_t abs_mask = vdupq_n_u32(0x7fffffffu);
        uint32x4_t m = vandq_u32(vreinterpretq_u32_f32(v[0]), abs_mask);
        for (int k = 1; k < 8; k++) m = vmaxq_u32(m, vandq_u32(vreinterpretq_u32_f32(v[k]), abs_mask));
        uint32_t amax_bits = vmaxvq_u32(m);
        if (slm_acts_unscaled(amax_bits, a, blk)) continue;
        float d = slm_bits_to_f32(amax_bits) / 127.0f, id = 1.0f / d;
        // vcvtn: round to nearest, ties to even, as nearbyintf in the default mode
        int16x8_t h[4];
        for (int k = 0; k < 4; k++)
            h[k] = vcombine_s16(vqmovn_s32(vcvtnq_s32_f32(vmulq_n_f32(v[2 * k], id))),
                                vqmovn_s32(vcvtnq_s32_f32(vmulq_n_f32(v[2 * k + 1], id))));
        int8x16_t q0 = vcombine_s8(vqmovn_s16(h[0]), vqmovn_s16(h[1]));
        int8x16_t q1 = vcombine_s8(vqmovn_s16(h[2]), vqmovn_s16(h[3]));
        vst1q_s8(a->q + blk * SLM_QK, q0);
        vst1q_s8(a->q + blk * SLM_QK + 16, q1);
        vst1q_s32(a->g + blk * SLM_QK / 4, vpaddlq_s16(vpaddlq_s8(q0)));
        vst1q_s32(a->g + blk * SLM_QK / 4 + 4, vpaddlq_s16(vpaddlq_s8(q1)));
        a->d[blk] = d;
    }
    a->T = T;
    a->n = n;
}

// ---- quantized matrix products -----------------------------------------------

// Exact group-of-4 sums of w*a over 16 bytes: lane j = sum of bytes 4j..4j+3.
static inline int32x4_t dot16(int8x16_t w, int8x16_t a) {
#ifdef __ARM_FEATURE_DOTPROD
    return vdotq_s32(vdupq_n_s32(0), w, a);
#else
    // products fit int16 (|w*a| <= 128*127), and so do pairs of them
    int16x8_t pairs = vpaddq_s16(vmull_s8(vget_low_s8(w), vget_low_s8(a)), vmull_high_s8(w, a));
    return vpaddlq_s16(pairs);
#endif
}

// A block's 32 weights as signed bytes: lo = elements 0..15, hi = 16..31.
static inline void block_weights(const void *blk, int q8, int8x16_t *lo, int8x16_t *hi) {
    if (q8) {
        const slm_block_q8_0 *b = blk;
        *lo = vld1q_s8(b->qs);
        *hi = vld1q_s8(b->qs + 16);
    } else {
        const slm_block_q4_0 *b = blk;
        uint8x16_t qs = vld1q_u8(b->qs);
        const int8x16_t eight = vdupq_n_s8(8);
        *lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(qs, vdupq_n_u8(15))), eight);
        *hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(qs, 4)), eight);
    }
}

// f32 of 4 fp16 scales (the hardware conversion is exact).
static inline float32x4_t f16x4_to_f32(uint16_t h0, uint16_t h1, uint16_t h2, uint16_t h3) {
    uint64_t h = h0 | (uint64_t)h1 << 16 | (uint64_t)h2 << 32 | (uint64_t)h3 << 48;
    return vcvt_f32_f16(vreinterpret_f16_u16(vcreate_u16(h)));
}

// Adds one block of one row to its lanes (lo: 0..3, hi: 4..7): lane j gets
// (float)p_j * s, with a0, a1 the activation block's two halves.
static inline void row_block(const uint8_t *blk, int q8, int8x16_t a0, int8x16_t a1, float32x4_t s,
                             float32x4_t *lo, float32x4_t *hi) {
    int8x16_t w0, w1;
    block_weights(blk, q8, &w0, &w1);
    *lo = vaddq_f32(*lo, vmulq_f32(vcvtq_f32_s32(dot16(w0, a0)), s));
    *hi = vaddq_f32(*hi, vmulq_f32(vcvtq_f32_s32(dot16(w1, a1)), s));
}

// out[i] = row i (blocks at rows[i]) . activations of token t, for 4 rows.
static inline __attribute__((always_inline)) void
rows4_token(const uint8_t *const rows[4], size_t bb, const slm_acts *a, int t, int q8, float out[4]) {
    int n = a->n, nb = n / SLM_QK;
    const int8_t *q = a->q + (size_t)t * n;
    const float *ad = a->d + (size_t)t * nb;
    float32x4_t lo0 = vdupq_n_f32(0.0f), lo1 = lo0, lo2 = lo0, lo3 = lo0, hi0 = lo0, hi1 = lo0, hi2 = lo0, hi3 = lo0;
    for (int b = 0; b < nb; b++) {
        int8x16_t a0 = vld1q_s8(q + b * SLM_QK), a1 = vld1q_s8(q + b * SLM_QK + 16);
        const uint8_t *b0 = rows[0] + b * bb, *b1 = rows[1] + b * bb, *b2 = rows[2] + b * bb, *b3 = rows[3] + b * bb;
        float32x4_t s = vmulq_n_f32(f16x4_to_f32(*(const uint16_t *)b0, *(const uint16_t *)b1, *(const uint16_t *)b2,
                                                 *(const uint16_t *)b3),
                                    ad[b]);
        row_block(b0, q8, a0, a1, vdupq_laneq_f32(s, 0), &lo0, &hi0);
        row_block(b1, q8, a0, a1, vdupq_laneq_f32(s, 1), &lo1, &hi1);
        row_block(b2, q8, a0, a1, vdupq_laneq_f32(s, 2), &lo2, &hi2);
        row_block(b3, q8, a0, a1, vdupq_laneq_f32(s, 3), &lo3, &hi3);
    }
    out[0] = lanes_combine(lo0, hi0);
    out[1] = lanes_combine(lo1, hi1);
    out[2] = lanes_combine(lo2, hi2);
    out[3] = lanes_combine(lo3, hi3);
}

// Rows in groups of 4 (each activation block loaded once for 4 rows); every
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

static inline float32x4_t load_w4(const void *W, size_t i, int f16) {
    if (f16) return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16((const uint16_t *)W + i)));
    return vld1q_f32((const float *)W + i);
}

static inline float w_at(const void *W, size_t i, int f16) {
    return f16 ? slm_f16_to_f32(((const uint16_t *)W)[i]) : ((const float *)W)[i];
}

// Lanes (lo, hi) plus the scalar tail k..n-1 of the row at offset row times x, combined.
static inline float float_finish(float32x4_t lo, float32x4_t hi, const void *W, size_t row, const float *x, int k,
                                 int n, int f16) {
    float l[8];
    vst1q_f32(l, lo);
    vst1q_f32(l + 4, hi);
    for (int j = k; j < n; j++) l[j % 8] = l[j % 8] + w_at(W, row + j, f16) * x[j];
    return slm_lanes_combine(l);
}

// lo, hi += the 8 weights at W[i..] (row offset i) times x0, x1
static inline void mul_add_w8(const void *W, size_t i, float32x4_t x0, float32x4_t x1, int f16, float32x4_t *lo,
                              float32x4_t *hi) {
    *lo = vaddq_f32(*lo, vmulq_f32(load_w4(W, i, f16), x0));
    *hi = vaddq_f32(*hi, vmulq_f32(load_w4(W, i + 4, f16), x1));
}

// out[i] = row i (offset row[i] into W) . x, for 4 rows.
static inline __attribute__((always_inline)) void
float_rows4(const void *W, const size_t row[4], const float *x, int n, float out[4], int f16) {
    float32x4_t lo0 = vdupq_n_f32(0.0f), lo1 = lo0, lo2 = lo0, lo3 = lo0, hi0 = lo0, hi1 = lo0, hi2 = lo0, hi3 = lo0;
    int k = 0;
    for (; k + 8 <= n; k += 8) {
        float32x4_t x0 = vld1q_f32(x + k), x1 = vld1q_f32(x + k + 4);
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
    int i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vaddq_f32(vld1q_f32(y + i), vmulq_n_f32(vld1q_f32(x + i), a)));
    for (; i < n; i++) y[i] = y[i] + a * x[i];
}

// 2 rows at a time, sharing the loads of x.
static void dot_rows(const float *x, const float *rows, size_t stride, int m, int n, float *out) {
    int r = 0;
    for (; r + 2 <= m; r += 2) {
        const float *w0 = rows + (size_t)r * stride, *w1 = w0 + stride;
        float32x4_t lo0 = vdupq_n_f32(0.0f), hi0 = lo0, lo1 = lo0, hi1 = lo0;
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            float32x4_t x0 = vld1q_f32(x + i), x1 = vld1q_f32(x + i + 4);
            lo0 = vaddq_f32(lo0, vmulq_f32(x0, vld1q_f32(w0 + i)));
            hi0 = vaddq_f32(hi0, vmulq_f32(x1, vld1q_f32(w0 + i + 4)));
            lo1 = vaddq_f32(lo1, vmulq_f32(x0, vld1q_f32(w1 + i)));
            hi1 = vaddq_f32(hi1, vmulq_f32(x1, vld1q_f32(w1 + i + 4)));
        }
        out[r] = lanes_finish_dot(lo0, hi0, x, w0, i, n);
        out[r + 1] = lanes_finish_dot(lo1, hi1, x, w1, i, n);
    }
    for (; r < m; r++) out[r] = dot(x, rows + (size_t)r * stride, n);
}

// y stays in registers, 16 values at a time, while every row is added to it:
// each y[i] still takes a[0]*x_0[i], a[1]*x_1[i], ... in turn.
static void axpy_rows(const float *a, const float *rows, size_t stride, int m, int n, float *y) {
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        float32x4_t y0 = vld1q_f32(y + i), y1 = vld1q_f32(y + i + 4), y2 = vld1q_f32(y + i + 8), y3 = vld1q_f32(y + i + 12);
        for (int r = 0; r < m; r++) {
            const float *x = rows + (size_t)r * stride + i;
            y0 = vaddq_f32(y0, vmulq_n_f32(vld1q_f32(x), a[r]));
            y1 = vaddq_f32(y1, vmulq_n_f32(vld1q_f32(x + 4), a[r]));
            y2 = vaddq_f32(y2, vmulq_n_f32(vld1q_f32(x + 8), a[r]));
            y3 = vaddq_f32(y3, vmulq_n_f32(vld1q_f32(x + 12), a[r]));
        }
        vst1q_f32(y + i, y0), vst1q_f32(y + i + 4, y1), vst1q_f32(y + i + 8, y2), vst1q_f32(y + i + 12, y3);
    }
    if (i < n)
        for (int r = 0; r < m; r++) axpy(a[r], rows + (size_t)r * stride + i, y + i, n - i);
}

static void add(float *y, const float *x, int n) {
    int i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vaddq_f32(vld1q_f32(y + i), vld1q_f32(x + i)));
    for (; i < n; i++) y[i] = y[i] + x[i];
}

static void rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
    float r = 1.0f / sqrtf(dot(x, x, n) / (float)n + eps);
    int i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(out + i, vmulq_f32(vmulq_n_f32(vld1q_f32(x + i), r), vld1q_f32(w + i)));
    for (; i < n; i++) out[i] = (x[i] * r) * w[i];
}

// slm_expf, step for step (mathx.h); the clamps are selects, so NaN passes
// through as in the scalar code.
static inline float32x4_t expf4(float32x4_t x) {
    const float32x4_t lo = vdupq_n_f32(SLM_EXP_LO), hi = vdupq_n_f32(SLM_EXP_HI);
    x = vbslq_f32(vcltq_f32(x, lo), lo, x);
    x = vbslq_f32(vcgtq_f32(x, hi), hi, x);
    const float32x4_t magic = vdupq_n_f32(SLM_ROUND_MAGIC);
    float32x4_t k = vsubq_f32(vaddq_f32(vmulq_n_f32(x, SLM_LOG2E), magic), magic);
    float32x4_t r = vsubq_f32(x, vmulq_n_f32(k, SLM_LN2_HI));
    r = vsubq_f32(r, vmulq_n_f32(k, SLM_LN2_LO));
    float32x4_t p = vdupq_n_f32(SLM_EXP_P0);
    p = vaddq_f32(vmulq_f32(p, r), vdupq_n_f32(SLM_EXP_P1));
    p = vaddq_f32(vmulq_f32(p, r), vdupq_n_f32(SLM_EXP_P2));
    p = vaddq_f32(vmulq_f32(p, r), vdupq_n_f32(SLM_EXP_P3));
    p = vaddq_f32(vmulq_f32(p, r), vdupq_n_f32(SLM_EXP_P4));
    p = vaddq_f32(vmulq_f32(p, r), vdupq_n_f32(SLM_EXP_P5));
    float32x4_t y = vaddq_f32(vaddq_f32(vmulq_f32(p, vmulq_f32(r, r)), r), vdupq_n_f32(1.0f));
    int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(k), vdupq_n_s32(127)), 23);
    return vmulq_f32(y, vreinterpretq_f32_s32(e));
}

// The maximum's sign of zero may differ from the scalar scan's when +0 and -0
// tie, which cannot change any x - m that slm_expf sees (both give r = +0).
static void softmax(float *x, int n) {
    float32x4_t mv = vdupq_n_f32(x[0]);
    int i = 0;
    for (; i + 4 <= n; i += 4) mv = vmaxq_f32(mv, vld1q_f32(x + i));
    float m = vmaxvq_f32(mv);
    for (; i < n; i++) m = x[i] > m ? x[i] : m;

    float32x4_t mb = vdupq_n_f32(m), lo = vdupq_n_f32(0.0f), hi = lo;
    for (i = 0; i + 8 <= n; i += 8) {
        float32x4_t e0 = expf4(vsubq_f32(vld1q_f32(x + i), mb)), e1 = expf4(vsubq_f32(vld1q_f32(x + i + 4), mb));
        vst1q_f32(x + i, e0);
        vst1q_f32(x + i + 4, e1);
        lo = vaddq_f32(lo, e0);
        hi = vaddq_f32(hi, e1);
    }
    float l[8];
    vst1q_f32(l, lo);
    vst1q_f32(l + 4, hi);
    for (int j = i; j < n; j++) {
        x[j] = slm_expf(x[j] - m);
        l[j % 8] = l[j % 8] + x[j];
    }
    float inv = 1.0f / slm_lanes_combine(l);
    for (i = 0; i + 4 <= n; i += 4) vst1q_f32(x + i, vmulq_n_f32(vld1q_f32(x + i), inv));
    for (; i < n; i++) x[i] = x[i] * inv;
}

// out = act(gate) * up with act SiLU (x / (1 + exp(-x))) or GELU (x / (1 + exp(-u)), u as mathx.h says).
static inline void gated(float *out, const float *gate, const float *up, int n, int gelu) {
    const float32x4_t one = vdupq_n_f32(1.0f), k1 = vdupq_n_f32(SLM_GELU_K1), k3 = vdupq_n_f32(SLM_GELU_K3);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t g = vld1q_f32(gate + i);
        float32x4_t u = gelu ? vmulq_f32(g, vaddq_f32(k1, vmulq_f32(k3, vmulq_f32(g, g)))) : g;
        float32x4_t act = vdivq_f32(g, vaddq_f32(one, expf4(vnegq_f32(u))));
        vst1q_f32(out + i, vmulq_f32(act, vld1q_f32(up + i)));
    }
    for (; i < n; i++) out[i] = (gelu ? slm_geluf(gate[i]) : slm_siluf(gate[i])) * up[i];
}

static void swiglu(float *out, const float *gate, const float *up, int n) { gated(out, gate, up, n, 0); }
static void geglu(float *out, const float *gate, const float *up, int n) { gated(out, gate, up, n, 1); }

// Four pairs at a time: the halves are contiguous, no shuffles.
static void rope_neox(float *x, int n_heads, int head_dim, const float *cos, const float *sin) {
    int half = head_dim / 2;
    for (int h = 0; h < n_heads; h++) {
        float *v = x + (size_t)h * head_dim;
        int i = 0;
        for (; i + 4 <= half; i += 4) {
            float32x4_t x0 = vld1q_f32(v + i), x1 = vld1q_f32(v + half + i);
            float32x4_t c = vld1q_f32(cos + i), s = vld1q_f32(sin + i);
            vst1q_f32(v + i, vsubq_f32(vmulq_f32(x0, c), vmulq_f32(x1, s)));
            vst1q_f32(v + half + i, vaddq_f32(vmulq_f32(x0, s), vmulq_f32(x1, c)));
        }
        slm_rope_neox_pairs(v, i, half, cos, sin);
    }
}

// vld2q splits four pairs into x0 (even) and x1 (odd) registers.
static void rope(float *x, int n_heads, int head_dim, const float *cos, const float *sin) {
    int half = head_dim / 2;
    for (int h = 0; h < n_heads; h++) {
        float *v = x + (size_t)h * head_dim;
        int i = 0;
        for (; i + 4 <= half; i += 4) {
            float32x4x2_t p = vld2q_f32(v + 2 * i), out;
            float32x4_t c = vld1q_f32(cos + i), s = vld1q_f32(sin + i);
            out.val[0] = vsubq_f32(vmulq_f32(p.val[0], c), vmulq_f32(p.val[1], s));
            out.val[1] = vaddq_f32(vmulq_f32(p.val[0], s), vmulq_f32(p.val[1], c));
            vst2q_f32(v + 2 * i, out);
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
static inline void store_scaled_i8(float *out, int8x16_t q, float d) {
    int16x8_t lo = vmovl_s8(vget_low_s8(q)), hi = vmovl_high_s8(q);
    vst1q_f32(out, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))), d));
    vst1q_f32(out + 4, vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(lo)), d));
    vst1q_f32(out + 8, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))), d));
    vst1q_f32(out + 12, vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(hi)), d));
}

static void row_quant(const void *W, int row, int n, float *out, int q8) {
    size_t bb = q8 ? sizeof(slm_block_q8_0) : sizeof(slm_block_q4_0);
    const uint8_t *blk = (const uint8_t *)W + (size_t)row * (n / SLM_QK) * bb;
    for (int b = 0; b < n / SLM_QK; b++, blk += bb) {
        int8x16_t lo, hi;
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
    for (; i + 4 <= n; i += 4) vst1q_f32(out + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(w + i))));
    for (; i < n; i++) out[i] = slm_f16_to_f32(w[i]);
}

// ---- every other quantized type: the common form (kernels.h) -------------------
//
// Blocks unpacked to int8 by blocks.c, then one product for every type: the
// group-of-4 sums as for Q8_0, times the halves' integer scales (exact in
// float), and the min term. (AVX2 and wasm have own loops for Q4_K and Q6_K.)
static void matmul_common(uint32_t type, const void *W, const slm_acts *a, int r0, int r1, float *Y, int ldy) {
    enum { BLOCKS = 32, TOKENS = 8 };
    int n = a->n, nb = n / SLM_QK;
    size_t row_bytes = (size_t)slm_quant_row_bytes(type, n);
    slm_qblock q[BLOCKS];
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)W + (size_t)r * row_bytes;
        for (int t0 = 0; t0 < a->T; t0 += TOKENS) {
            int t1 = t0 + TOKENS < a->T ? t0 + TOKENS : a->T;
            float32x4_t lo[TOKENS], hi[TOKENS];
            for (int t = 0; t < t1 - t0; t++) lo[t] = hi[t] = vdupq_n_f32(0.0f);
            for (int b0 = 0; b0 < nb; b0 += BLOCKS) {
                int b1 = b0 + BLOCKS < nb ? b0 + BLOCKS : nb;
                for (int b = b0; b < b1; b++) slm_qblock_decode(type, row, b, &q[b - b0]);
                for (int t = t0; t < t1; t++)
                    for (int b = b0; b < b1; b++) {
                        const slm_qblock *w = &q[b - b0];
                        const int8_t *x = a->q + (size_t)t * n + (size_t)b * SLM_QK;
                        const int32_t *g = a->g + ((size_t)t * n + (size_t)b * SLM_QK) / 4;
                        float da = a->d[(size_t)t * nb + b];
                        float32x4_t s = vdupq_n_f32(w->d * da);
                        int32x4_t p_lo = dot16(vld1q_s8(w->w), vld1q_s8(x)), p_hi = dot16(vld1q_s8(w->w + 16), vld1q_s8(x + 16));
                        lo[t - t0] = vaddq_f32(lo[t - t0], vmulq_f32(vmulq_n_f32(vcvtq_f32_s32(p_lo), (float)w->sc[0]), s));
                        hi[t - t0] = vaddq_f32(hi[t - t0], vmulq_f32(vmulq_n_f32(vcvtq_f32_s32(p_hi), (float)w->sc[1]), s));
                        if (w->has_min) {
                            float32x4_t sm = vdupq_n_f32(w->dm * da);
                            lo[t - t0] = vaddq_f32(lo[t - t0], vmulq_f32(vmulq_n_f32(vcvtq_f32_s32(vld1q_s32(g)), (float)w->mn[0]), sm));
                            hi[t - t0] = vaddq_f32(hi[t - t0], vmulq_f32(vmulq_n_f32(vcvtq_f32_s32(vld1q_s32(g + 4)), (float)w->mn[1]), sm));
                        }
                    }
            }
            for (int t = t0; t < t1; t++) Y[(size_t)t * ldy + r] = lanes_combine(lo[t - t0], hi[t - t0]);
        }
    }
}

const slm_kernels slm_kernels_neon = {
    .name = "neon",
    .quantize_acts = quantize_acts,
    .matmul_q4_0 = matmul_q4_0,
    .matmul_q8_0 = matmul_q8_0,
    .matmul_f32 = matmul_f32,
    .matmul_f16 = matmul_f16,
    .dot = dot,
    .axpy = axpy,
    .dot_rows = dot_rows,
    .axpy_rows = axpy_rows,
    .add = add,
    .rmsnorm = rmsnorm,
    .softmax = softmax,
    .swiglu = swiglu,
    .geglu = geglu,
    .rope = rope,
    .rope_neox = rope_neox,
    .row_q4_0 = row_q4_0,
    .row_q8_0 = row_q8_0,
    .row_f16 = row_f16,
    .matmul_quant = matmul_common,
    .row_quant = slm_row_quant_ref,
    .matmul_bf16 = slm_matmul_bf16_ref,
    .row_bf16 = slm_row_bf16_ref,
};

#endif
