// ggml's quantized block layouts, each read as the matrix products' common
// form (slm_qblock, kernels.h): 32 integer weights, an integer scale and min
// per half, two float scales. Then the reference matrix product and row
// dequantization of all of them: the scalar backend's, which the SIMD
// backends match bit for bit.
//
// Layouts (docs/FORMAT.md): bytes of one block, values per block.
//   Q4_1   20 / 32   d, m (f16); 16 bytes of nibbles: value e < 16 low, e >= 16 high of byte e%16
//   Q5_0   22 / 32   d; qh (32 bits: bit e = value e's 5th bit); nibbles as Q4_1; value - 16
//   Q5_1   24 / 32   d, m; qh; nibbles
//   IQ4_NL 18 / 32   d; nibbles index kvalues_iq4nl
//   Q2_K   84 / 256  scales[16] (4-bit scale | 4-bit min << 4 per 16 values); qs[64] 2 bits; d, dmin
//   Q3_K  110 / 256  hmask[32]; qs[64] 2 bits; scales[12] (16 6-bit scales, +32); d
//   Q4_K  144 / 256  d, dmin; scales[12] (8 6-bit scales and mins per 32 values); qs[128] nibbles
//   Q5_K  176 / 256  d, dmin; scales[12]; qh[32]; qs[128]
//   Q6_K  210 / 256  ql[128] nibbles; qh[64] 2 bits; scales[16] (int8 per 16 values); d
//   IQ4_XS 136 / 256 d; scales_h (16 bits); scales_l[4] (8 6-bit scales, +32); qs[128] nibbles
#include <string.h>

#include "../mathx.h"
#include "kernels.h"

static const int8_t kvalues_iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

static float f16_at(const uint8_t *p) { return slm_f16_to_f32((uint16_t)(p[0] | p[1] << 8)); }

// Value e (0..31) of 16 bytes of nibbles: the low nibbles are values 0..15.
static int nibble(const uint8_t *qs, int e) { return e < 16 ? qs[e] & 15 : qs[e - 16] >> 4; }

// Q4_K/Q5_K: scale and min j (0..7) of the 12 packed bytes.
static void scale_min_k4(const uint8_t *q, int j, int *sc, int *mn) {
    if (j < 4) {
        *sc = q[j] & 63;
        *mn = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 15) | ((q[j - 4] >> 6) << 4);
        *mn = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

// Q3_K: scale i (0..15) of the 12 packed bytes, -32..31.
static int scale_q3_k(const uint8_t *s, int i) {
    int lo = i < 8 ? s[i] & 15 : s[i - 8] >> 4;
    int hi = (s[8 + i % 4] >> (2 * (i / 4))) & 3;
    return (lo | hi << 4) - 32;
}

static void set_scales(slm_qblock *q, int sc0, int sc1, int mn0, int mn1, float d, float dm, int has_min) {
    q->sc[0] = (int16_t)sc0, q->sc[1] = (int16_t)sc1, q->mn[0] = (int16_t)mn0, q->mn[1] = (int16_t)mn1;
    q->d = d, q->dm = dm, q->has_min = has_min;
}

// Where block b starts: 32-value types have one block per 32 values, the
// others a super-block per 256 (b / 8), of which b is the (b % 8)-th 32.
static const uint8_t *block_at(uint32_t type, const void *row, int b) {
    int bytes_256 = slm_quant_row_bytes(type, 256), per_256 = (type >= SLM_TYPE_Q2_K && type <= SLM_TYPE_Q6_K) ||
                                                             type == SLM_TYPE_IQ4_XS;
    return (const uint8_t *)row + (per_256 ? (size_t)(b / 8) * bytes_256 : (size_t)b * (bytes_256 / 8));
}

void slm_qblock_scales(uint32_t type, const void *row, int b, slm_qblock *q) {
    const uint8_t *x = block_at(type, row, b);
    int sub = b % 8, sc, mn;
    switch (type) {
    case SLM_TYPE_Q4_1: case SLM_TYPE_Q5_1: set_scales(q, 1, 1, 1, 1, f16_at(x), f16_at(x + 2), 1); return;
    case SLM_TYPE_Q2_K:
        set_scales(q, x[2 * sub] & 15, x[2 * sub + 1] & 15, x[2 * sub] >> 4, x[2 * sub + 1] >> 4, f16_at(x + 80),
                   -f16_at(x + 82), 1);
        return;
    case SLM_TYPE_Q3_K:
        set_scales(q, scale_q3_k(x + 96, 2 * sub), scale_q3_k(x + 96, 2 * sub + 1), 0, 0, f16_at(x + 108), 0.0f, 0);
        return;
    case SLM_TYPE_Q4_K: case SLM_TYPE_Q5_K:
        scale_min_k4(x + 4, sub, &sc, &mn);
        set_scales(q, sc, sc, mn, mn, f16_at(x), -f16_at(x + 2), 1);
        return;
    case SLM_TYPE_Q6_K: {
        const int8_t *s = (const int8_t *)(x + 192) + 8 * (sub / 4) + 2 * (sub % 4);
        set_scales(q, s[0], s[1], 0, 0, f16_at(x + 208), 0.0f, 0);
        return;
    }
    case SLM_TYPE_IQ4_XS: {
        int ls = ((x[4 + sub / 2] >> (4 * (sub % 2))) & 15) | (((x[2] | x[3] << 8) >> (2 * sub)) & 3) << 4;
        set_scales(q, ls - 32, ls - 32, 0, 0, f16_at(x), 0.0f, 0);
        return;
    }
    default:   // Q4_0, Q5_0, Q8_0, IQ4_NL: one f16 scale first
        set_scales(q, 1, 1, 0, 0, f16_at(x), 0.0f, 0);
        return;
    }
}

void slm_qblock_decode(uint32_t type, const void *row, int b, slm_qblock *q) {
    const uint8_t *x = block_at(type, row, b);
    int sub = b % 8;
    slm_qblock_scales(type, row, b, q);
    switch (type) {
    case SLM_TYPE_Q4_0:
        for (int e = 0; e < 32; e++) q->w[e] = (int8_t)(nibble(x + 2, e) - 8);
        return;
    case SLM_TYPE_Q8_0: memcpy(q->w, x + 2, 32); return;
    case SLM_TYPE_Q4_1:
        for (int e = 0; e < 32; e++) q->w[e] = (int8_t)nibble(x + 4, e);
        return;
    case SLM_TYPE_Q5_0:
    case SLM_TYPE_Q5_1: {
        int q5_1 = type == SLM_TYPE_Q5_1;
        const uint8_t *qh = x + (q5_1 ? 4 : 2);
        uint32_t h = (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 | (uint32_t)qh[3] << 24;
        for (int e = 0; e < 32; e++) q->w[e] = (int8_t)((nibble(qh + 4, e) | ((h >> e) & 1) << 4) - (q5_1 ? 0 : 16));
        return;
    }
    case SLM_TYPE_IQ4_NL:
        for (int e = 0; e < 32; e++) q->w[e] = kvalues_iq4nl[nibble(x + 2, e)];
        return;
    case SLM_TYPE_Q2_K: {
        const uint8_t *qs = x + 16;
        for (int i = 0; i < 32; i++) {
            int e = 32 * sub + i;
            q->w[i] = (int8_t)((qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3);
        }
        return;
    }
    case SLM_TYPE_Q3_K: {
        const uint8_t *hm = x, *qs = x + 32;
        int n = sub / 4, j = sub % 4;
        for (int i = 0; i < 32; i++) {
            int lo = (qs[32 * n + i] >> (2 * j)) & 3, high = (hm[i] >> (4 * n + j)) & 1;
            q->w[i] = (int8_t)(lo - (high ? 0 : 4));
        }
        return;
    }
    case SLM_TYPE_Q4_K:
    case SLM_TYPE_Q5_K: {
        int q5 = type == SLM_TYPE_Q5_K;
        const uint8_t *qh = x + 16, *qs = x + (q5 ? 48 : 16) + 32 * (sub / 2);
        for (int i = 0; i < 32; i++) {
            int v = sub % 2 ? qs[i] >> 4 : qs[i] & 15;
            if (q5) v |= ((qh[i] >> sub) & 1) << 4;
            q->w[i] = (int8_t)v;
        }
        return;
    }
    case SLM_TYPE_Q6_K: {
        const uint8_t *ql = x, *qh = x + 128;
        int n = sub / 4, k = sub % 4;   // the 128-value half, the quarter in it
        for (int l = 0; l < 32; l++) {
            int lo = ql[64 * n + l + 32 * (k & 1)], v = (k < 2 ? lo & 15 : lo >> 4) | ((qh[32 * n + l] >> (2 * k)) & 3) << 4;
            q->w[l] = (int8_t)(v - 32);
        }
        return;
    }
    case SLM_TYPE_IQ4_XS: {
        const uint8_t *qs = x + 8 + 16 * sub;
        for (int e = 0; e < 32; e++) q->w[e] = kvalues_iq4nl[nibble(qs, e)];
        return;
    }
    }
}

// ---- the reference products of the decoded form -------------------------------

void slm_row_quant_ref(uint32_t type, const void *W, int row, int n, float *out) {
    size_t row_bytes = (size_t)slm_quant_row_bytes(type, n);
    const uint8_t *r = (const uint8_t *)W + (size_t)row * row_bytes;
    slm_qblock q;
    for (int b = 0; b < n / SLM_QK; b++) {
        slm_qblock_decode(type, r, b, &q);
        // ggml's own order: (d * scale) * w + dm * min, so rows are its bits
        for (int e = 0; e < SLM_QK; e++) {
            float v = (q.d * (float)q.sc[e / 16]) * (float)q.w[e];
            out[b * SLM_QK + e] = q.has_min ? v + q.dm * (float)q.mn[e / 16] : v;
        }
    }
}

// Rows r0..r1-1 of W (rows of n values of `type`) against T quantized
// activation rows, by the lane contract of kernels.h. Blocks are decoded 64 at
// a time and used by up to 16 tokens each time, so decoding stays cheap while
// every lane still takes its blocks in order.
void slm_matmul_quant_ref(uint32_t type, const void *W, const slm_acts *a, int r0, int r1, float *Y, int ldy) {
    enum { BLOCKS = 64, TOKENS = 16 };
    int n = a->n, nb = n / SLM_QK;
    size_t row_bytes = (size_t)slm_quant_row_bytes(type, n);
    slm_qblock q[BLOCKS];
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)W + (size_t)r * row_bytes;
        for (int t0 = 0; t0 < a->T; t0 += TOKENS) {
            int t1 = t0 + TOKENS < a->T ? t0 + TOKENS : a->T;
            float lanes[TOKENS][8] = {{0}};
            for (int b0 = 0; b0 < nb; b0 += BLOCKS) {
                int b1 = b0 + BLOCKS < nb ? b0 + BLOCKS : nb;
                for (int b = b0; b < b1; b++) slm_qblock_decode(type, row, b, &q[b - b0]);
                for (int t = t0; t < t1; t++)
                    for (int b = b0; b < b1; b++) {
                        const slm_qblock *w = &q[b - b0];
                        const int8_t *x = a->q + (size_t)t * n + b * SLM_QK;
                        const int32_t *g = a->g + ((size_t)t * n + b * SLM_QK) / 4;
                        float da = a->d[(size_t)t * nb + b], s = w->d * da, sm = w->dm * da;
                        for (int j = 0; j < 8; j++) {
                            int p = 0;
                            for (int k = 0; k < 4; k++) p += w->w[4 * j + k] * x[4 * j + k];
                            float *l = &lanes[t - t0][j];
                            *l = *l + (float)(w->sc[j / 4] * p) * s;
                            if (w->has_min) *l = *l + (float)(w->mn[j / 4] * g[j]) * sm;
                        }
                    }
            }
            for (int t = t0; t < t1; t++) Y[(size_t)t * ldy + r] = slm_lanes_combine(lanes[t - t0]);
        }
    }
}

// ---- BF16 ---------------------------------------------------------------------------

static float bf16_to_f32(uint16_t h) { return slm_bits_to_f32((uint32_t)h << 16); }

void slm_matmul_bf16_ref(const uint16_t *W, const float *X, int T, int n, int r0, int r1, float *Y, int ldy) {
    for (int r = r0; r < r1; r++)
        for (int t = 0; t < T; t++) {
            const uint16_t *w = W + (size_t)r * n;
            const float *x = X + (size_t)t * n;
            float l[8] = {0};
            for (int i = 0; i < n; i++) l[i % 8] = l[i % 8] + bf16_to_f32(w[i]) * x[i];
            Y[(size_t)t * ldy + r] = slm_lanes_combine(l);
        }
}

void slm_row_bf16_ref(const uint16_t *W, int row, int n, float *out) {
    for (int i = 0; i < n; i++) out[i] = bf16_to_f32(W[(size_t)row * n + i]);
}

int slm_quant_row_bytes(uint32_t type, int n) {
    switch (type) {
    case SLM_TYPE_Q4_0: return n / 32 * 18;
    case SLM_TYPE_Q8_0: return n / 32 * 34;
    case SLM_TYPE_Q4_1: return n / 32 * 20;
    case SLM_TYPE_Q5_0: return n / 32 * 22;
    case SLM_TYPE_Q5_1: return n / 32 * 24;
    case SLM_TYPE_IQ4_NL: return n / 32 * 18;
    case SLM_TYPE_Q2_K: return n / 256 * 84;
    case SLM_TYPE_Q3_K: return n / 256 * 110;
    case SLM_TYPE_Q4_K: return n / 256 * 144;
    case SLM_TYPE_Q5_K: return n / 256 * 176;
    case SLM_TYPE_Q6_K: return n / 256 * 210;
    case SLM_TYPE_IQ4_XS: return n / 256 * 136;
    }
    return 0;
}
