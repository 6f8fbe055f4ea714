// Row quantizers: f32 -> Q4_0, Q8_0, F16, and back to f32.
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
        int v = (int)floorf(x[i] * id + 8.5f);
        v = v < 0 ? 0 : v > 15 ? 15 : v;
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
        for (int i = 0; i < SLM_QK; i++) o->qs[i] = (int8_t)roundf(xb[i] * id);
        o->d = slm_f32_to_f16(d);
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
        default: return -1;
        }
    }
    return 0;
}
