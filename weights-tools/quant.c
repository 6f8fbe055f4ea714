// Row quantizers: f32 -> Q4_0, Q8_0, Q2_K, F16, and back to f32.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../src/kernels/kernels.h"
#include "../src/mathx.h"
#include "wtools.h"

// Q4_0 codes for one block at scale d: q = clamp(round(x/d) + 8, 0, 15).
static float q4_block_sse(const float *x, float d, uint8_t *q) {
    float id = d != 0.0f ? 1.0f / d : 0.0f, sse = 0.0f;
    for (int i = 0; i < SLM_QK; i++) {
        int v = slm_clamp_int(floorf(x[i] * id + 8.5f), 0, 15);
        q[i] = (uint8_t)v;
        float e = x[i] - (float)(v - 8) * d;
        sse += e * e;
    }
    return sse;
}

static void q4_block(const float *x, slm_block_q4_0 *out, int smart) {
    float amax = 0.0f, max = 0.0f;
    for (int i = 0; i < SLM_QK; i++)
        if (fabsf(x[i]) > amax) { amax = fabsf(x[i]); max = x[i]; }
    // ggml's rule: the largest magnitude maps to -8
    float best_d = slm_f16_to_f32(slm_f32_to_f16(max / -8.0f));
    uint8_t q[SLM_QK], tq[SLM_QK];
    float best = q4_block_sse(x, best_d, q);
    if (smart && amax > 0.0f) {
        // try scales putting the extreme at -8.5..-6.5 or +6.5..+7.5 steps,
        // then refit d by least squares for the chosen codes
        for (int s = -34; s <= 30; s++) {
            float k = (float)s * 0.25f;
            if (k > -6.5f && k < 6.5f) continue;
            float d = slm_f16_to_f32(slm_f32_to_f16(max / k));
            float e = q4_block_sse(x, d, tq);
            if (e < best) { best = e; best_d = d; memcpy(q, tq, sizeof q); }
        }
        for (int it = 0; it < 2; it++) {
            float num = 0.0f, den = 0.0f;
            for (int i = 0; i < SLM_QK; i++) {
                num += x[i] * (float)(q[i] - 8);
                den += (float)((q[i] - 8) * (q[i] - 8));
            }
            if (den == 0.0f) break;
            float d = slm_f16_to_f32(slm_f32_to_f16(num / den));
            float e = q4_block_sse(x, d, tq);
            if (!(e < best)) break;
            best = e; best_d = d; memcpy(q, tq, sizeof q);
        }
    }
    out->d = slm_f32_to_f16(best_d);
    for (int i = 0; i < SLM_QK / 2; i++) out->qs[i] = (uint8_t)(q[i] | (q[i + SLM_QK / 2] << 4));
}

void wt_quantize_q4_0(const float *x, void *out, int n, int smart) {
    for (int b = 0; b < n / SLM_QK; b++) q4_block(x + b * SLM_QK, (slm_block_q4_0 *)out + b, smart);
}

void wt_quantize_q8_0(const float *x, void *out, int n) {
    for (int b = 0; b < n / SLM_QK; b++) {
        const float *xb = x + b * SLM_QK;
        slm_block_q8_0 *o = (slm_block_q8_0 *)out + b;
        float amax = 0.0f;
        for (int i = 0; i < SLM_QK; i++) amax = fabsf(xb[i]) > amax ? fabsf(xb[i]) : amax;
        float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        for (int i = 0; i < SLM_QK; i++) o->qs[i] = (int8_t)slm_clamp_int(roundf(xb[i] * id), -127, 127);
        o->d = slm_f32_to_f16(d);
    }
}

// Q2_K codes of one group for x ~ s*q - m: q = clamp(round((x + m) / s), 0, 3).
static float q2_group_sse(const float *x, float s, float m, uint8_t q[16]) {
    float is = s > 0.0f ? 1.0f / s : 0.0f, sse = 0.0f;
    for (int i = 0; i < 16; i++) {
        int v = slm_clamp_int(floorf((x[i] + m) * is + 0.5f), 0, 3);
        q[i] = (uint8_t)v;
        float e = x[i] - ((float)v * s - m);
        sse += e * e;
    }
    return sse;
}

// The group's (s >= 0, m >= 0) of least squared error: ranges from its
// min (or 0, as m cannot be negative) to max, shrunk in steps, each refitted
// by least squares for its codes.
static void q2_group_fit(const float *x, float *s_out, float *m_out) {
    float lo = 0.0f, hi = x[0];
    for (int i = 0; i < 16; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    float best = INFINITY, bs = 0.0f, bm = -lo;
    uint8_t q[16];
    for (int k = 0; k <= 12 && hi > lo; k++) {
        float shrink = 1.0f - 0.04f * (float)k, s = (hi - lo) * shrink / 3.0f, m = -lo * shrink;
        for (int it = 0; it < 3; it++) {
            float e = q2_group_sse(x, s, m, q);
            if (e < best) { best = e; bs = s; bm = m; }
            // least squares of x = s*q - m over the codes, m kept >= 0
            float n = 16.0f, sq = 0.0f, sqq = 0.0f, sx = 0.0f, sxq = 0.0f;
            for (int i = 0; i < 16; i++) sq += q[i], sqq += (float)(q[i] * q[i]), sx += x[i], sxq += x[i] * q[i];
            float det = n * sqq - sq * sq;
            if (det <= 0.0f) break;
            s = (n * sxq - sq * sx) / det;
            m = (sq * sxq - sqq * sx) / det;
            if (m < 0.0f) { m = 0.0f; s = sqq > 0.0f ? sxq / sqq : 0.0f; }
            if (s < 0.0f) break;
        }
    }
    *s_out = bs;
    *m_out = bm;
}

void wt_quantize_q2_k(const float *x, void *out, int n) {
    for (int b = 0; b < n / SLM_QK_K; b++) {
        const float *xb = x + (size_t)b * SLM_QK_K;
        slm_block_q2_k *o = (slm_block_q2_k *)out + b;
        float s[16], m[16], smax = 0.0f, mmax = 0.0f;
        for (int g = 0; g < 16; g++) {
            q2_group_fit(xb + 16 * g, &s[g], &m[g]);
            smax = s[g] > smax ? s[g] : smax;
            mmax = m[g] > mmax ? m[g] : mmax;
        }
        o->d = slm_f32_to_f16(smax / 15.0f);
        o->dmin = slm_f32_to_f16(mmax / 15.0f);
        float d = slm_f16_to_f32(o->d), dmin = slm_f16_to_f32(o->dmin);
        memset(o->qs, 0, sizeof o->qs);
        for (int g = 0; g < 16; g++) {
            int sc = d > 0.0f ? slm_clamp_int(floorf(s[g] / d + 0.5f), 0, 15) : 0;
            int mc = dmin > 0.0f ? slm_clamp_int(floorf(m[g] / dmin + 0.5f), 0, 15) : 0;
            o->scales[g] = (uint8_t)(sc | mc << 4);
            // the codes for the scale and min as stored
            uint8_t q[16];
            q2_group_sse(xb + 16 * g, d * (float)sc, dmin * (float)mc, q);
            for (int i = 0; i < 16; i++) {
                int e = 16 * g + i;
                o->qs[q2_k_byte(e)] |= (uint8_t)(q[i] << q2_k_shift(e));
            }
        }
    }
}

void wt_to_f16(const float *x, uint16_t *out, int n) {
    for (int i = 0; i < n; i++) out[i] = slm_f32_to_f16(x[i]);
}

int wt_dequantize(uint32_t type, const void *data, float *out, int rows, int cols) {
    const slm_kernels *k = &slm_kernels_scalar;
    for (int r = 0; r < rows; r++) {
        float *o = out + (size_t)r * cols;
        switch (type) {
        case SLM_TYPE_F32: memcpy(o, (const float *)data + (size_t)r * cols, cols * sizeof(float)); break;
        case SLM_TYPE_F16: k->row_f16(data, r, cols, o); break;
        case SLM_TYPE_Q8_0: k->row_q8_0(data, r, cols, o); break;
        case SLM_TYPE_Q4_0: k->row_q4_0(data, r, cols, o); break;
        case SLM_TYPE_BF16: k->row_bf16(data, r, cols, o); break;
        default:
            if (!slm_quant_row_bytes(type, cols)) return -1;
            k->row_quant(type, data, r, cols, o);
            break;
        }
    }
    return 0;
}
