// The scalar reference: plain loops that define every kernel's result.
// SIMD backends must return exactly these bits (see kernels.h).
#include <math.h>

#include "../mathx.h"
#include "kernels.h"

static float lane_sum_dot(const float *a, const float *b, int n) {
    float l[8] = {0};
    for (int i = 0; i < n; i++) l[i % 8] = l[i % 8] + a[i] * b[i];
    return slm_lanes_combine(l);
}

static void quantize_acts(const float *x, int T, int n, slm_acts *a) {
    int nb = n / SLM_QK;
    for (int t = 0; t < T; t++) {
        for (int b = 0; b < nb; b++) {
            const float *xb = x + (size_t)t * n + b * SLM_QK;
            int8_t *q = a->q + (size_t)t * n + b * SLM_QK;
            uint32_t amax_bits = 0;
            for (int i = 0; i < SLM_QK; i++) {
                uint32_t v = slm_f32_to_bits(xb[i]) & 0x7fffffffu;
                amax_bits = v > amax_bits ? v : amax_bits;
            }
            if (slm_acts_unscaled(amax_bits, a, (size_t)t * nb + b)) continue;
            float d = slm_bits_to_f32(amax_bits) / 127.0f, id = 1.0f / d;
            for (int i = 0; i < SLM_QK; i++) q[i] = (int8_t)nearbyintf(xb[i] * id);  // ties to even
            a->d[(size_t)t * nb + b] = d;
            for (int j = 0; j < SLM_QK / 4; j++)
                a->g[((size_t)t * n + b * SLM_QK) / 4 + j] = q[4 * j] + q[4 * j + 1] + q[4 * j + 2] + q[4 * j + 3];
        }
    }
    a->T = T;
    a->n = n;
}

// Weight value e of a Q4_0 block, offset removed: -8..7.
static inline int q4_0_value(const slm_block_q4_0 *blk, int e) {
    return (e < 16 ? blk->qs[e] & 15 : blk->qs[e - 16] >> 4) - 8;
}

static void matmul_q4_0(const void *W, const slm_acts *a, int r0, int r1, float *Y, int ldy) {
    int n = a->n, nb = n / SLM_QK;
    for (int r = r0; r < r1; r++) {
        const slm_block_q4_0 *row = (const slm_block_q4_0 *)W + (size_t)r * nb;
        for (int t = 0; t < a->T; t++) {
            const int8_t *q = a->q + (size_t)t * n;
            float l[8] = {0};
            for (int b = 0; b < nb; b++) {
                float s = slm_f16_to_f32(row[b].d) * a->d[(size_t)t * nb + b];
                for (int j = 0; j < 8; j++) {
                    int p = 0;
                    for (int k = 0; k < 4; k++) p += q4_0_value(&row[b], 4 * j + k) * q[b * SLM_QK + 4 * j + k];
                    l[j] = l[j] + (float)p * s;
                }
            }
            Y[(size_t)t * ldy + r] = slm_lanes_combine(l);
        }
    }
}

static void matmul_q8_0(const void *W, const slm_acts *a, int r0, int r1, float *Y, int ldy) {
    int n = a->n, nb = n / SLM_QK;
    for (int r = r0; r < r1; r++) {
        const slm_block_q8_0 *row = (const slm_block_q8_0 *)W + (size_t)r * nb;
        for (int t = 0; t < a->T; t++) {
            const int8_t *q = a->q + (size_t)t * n;
            float l[8] = {0};
            for (int b = 0; b < nb; b++) {
                float s = slm_f16_to_f32(row[b].d) * a->d[(size_t)t * nb + b];
                for (int j = 0; j < 8; j++) {
                    int p = 0;
                    for (int k = 0; k < 4; k++) p += row[b].qs[4 * j + k] * q[b * SLM_QK + 4 * j + k];
                    l[j] = l[j] + (float)p * s;
                }
            }
            Y[(size_t)t * ldy + r] = slm_lanes_combine(l);
        }
    }
}

static void matmul_f32(const float *W, const float *X, int T, int n, int r0, int r1, float *Y, int ldy) {
    for (int r = r0; r < r1; r++)
        for (int t = 0; t < T; t++) Y[(size_t)t * ldy + r] = lane_sum_dot(W + (size_t)r * n, X + (size_t)t * n, n);
}

static void matmul_f16(const uint16_t *W, const float *X, int T, int n, int r0, int r1, float *Y, int ldy) {
    for (int r = r0; r < r1; r++) {
        const uint16_t *w = W + (size_t)r * n;
        for (int t = 0; t < T; t++) {
            const float *x = X + (size_t)t * n;
            float l[8] = {0};
            for (int i = 0; i < n; i++) l[i % 8] = l[i % 8] + slm_f16_to_f32(w[i]) * x[i];
            Y[(size_t)t * ldy + r] = slm_lanes_combine(l);
        }
    }
}

static void axpy(float a, const float *x, float *y, int n) {
    for (int i = 0; i < n; i++) y[i] = y[i] + a * x[i];
}

static void dot_rows(const float *x, const float *rows, size_t stride, int m, int n, float *out) {
    for (int r = 0; r < m; r++) out[r] = lane_sum_dot(x, rows + (size_t)r * stride, n);
}

static void axpy_rows(const float *a, const float *rows, size_t stride, int m, int n, float *y) {
    for (int r = 0; r < m; r++) axpy(a[r], rows + (size_t)r * stride, y, n);
}

static void add(float *y, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] = y[i] + x[i];
}

static void rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
    float r = 1.0f / sqrtf(lane_sum_dot(x, x, n) / (float)n + eps);
    for (int i = 0; i < n; i++) out[i] = (x[i] * r) * w[i];
}

static void softmax(float *x, int n) {
    float m = x[0];
    for (int i = 1; i < n; i++) m = x[i] > m ? x[i] : m;
    float l[8] = {0};
    for (int i = 0; i < n; i++) {
        x[i] = slm_expf(x[i] - m);
        l[i % 8] = l[i % 8] + x[i];
    }
    float inv = 1.0f / slm_lanes_combine(l);
    for (int i = 0; i < n; i++) x[i] = x[i] * inv;
}

static void swiglu(float *out, const float *gate, const float *up, int n) {
    for (int i = 0; i < n; i++) out[i] = slm_siluf(gate[i]) * up[i];
}

static void geglu(float *out, const float *gate, const float *up, int n) {
    for (int i = 0; i < n; i++) out[i] = slm_geluf(gate[i]) * up[i];
}

static void rope_neox(float *x, int n_heads, int head_dim, const float *cos, const float *sin) {
    for (int h = 0; h < n_heads; h++) slm_rope_neox_pairs(x + (size_t)h * head_dim, 0, head_dim / 2, cos, sin);
}

static void rope(float *x, int n_heads, int head_dim, const float *cos, const float *sin) {
    for (int h = 0; h < n_heads; h++) {
        float *v = x + (size_t)h * head_dim;
        for (int i = 0; i < head_dim / 2; i++) {
            float x0 = v[2 * i], x1 = v[2 * i + 1], c = cos[i], s = sin[i];
            v[2 * i] = x0 * c - x1 * s;
            v[2 * i + 1] = x0 * s + x1 * c;
        }
    }
}

static void row_q4_0(const void *W, int row, int n, float *out) {
    const slm_block_q4_0 *blk = (const slm_block_q4_0 *)W + (size_t)row * (n / SLM_QK);
    for (int b = 0; b < n / SLM_QK; b++) {
        float d = slm_f16_to_f32(blk[b].d);
        for (int e = 0; e < SLM_QK; e++) out[b * SLM_QK + e] = (float)q4_0_value(&blk[b], e) * d;
    }
}

static void row_q8_0(const void *W, int row, int n, float *out) {
    const slm_block_q8_0 *blk = (const slm_block_q8_0 *)W + (size_t)row * (n / SLM_QK);
    for (int b = 0; b < n / SLM_QK; b++) {
        float d = slm_f16_to_f32(blk[b].d);
        for (int e = 0; e < SLM_QK; e++) out[b * SLM_QK + e] = (float)blk[b].qs[e] * d;
    }
}

static void row_f16(const uint16_t *W, int row, int n, float *out) {
    for (int i = 0; i < n; i++) out[i] = slm_f16_to_f32(W[(size_t)row * n + i]);
}

const slm_kernels slm_kernels_scalar = {
    .name = "scalar",
    .quantize_acts = quantize_acts,
    .matmul_q4_0 = matmul_q4_0,
    .matmul_q8_0 = matmul_q8_0,
    .matmul_f32 = matmul_f32,
    .matmul_f16 = matmul_f16,
    .dot = lane_sum_dot,
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
    .matmul_quant = slm_matmul_quant_ref,
    .row_quant = slm_row_quant_ref,
    .matmul_bf16 = slm_matmul_bf16_ref,
    .row_bf16 = slm_row_bf16_ref,
};
