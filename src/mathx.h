// Deterministic math: the same bits on every platform, compiler and backend.
//
// libm's expf/sinf differ between glibc, musl (wasm) and Apple's libm in the
// last bit, which would break bit-identical logits across builds. Everything
// here uses only IEEE-754 +, -, *, / and sqrt, in a fixed order, and the whole
// project is compiled with -ffp-contract=off so no multiply-add is fused.
// SIMD kernels replicate slm_expf operation by operation, lane by lane.
#ifndef SLM_MATHX_H
#define SLM_MATHX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline float slm_bits_to_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t slm_f32_to_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

// exp(x) for float, within ~1 ulp for x in [-87, 88]; inputs are clamped to
// that range (so exp(-inf) = 1.6e-38, not 0: harmless where it is used).
// Steps, which every SIMD version repeats exactly:
//   x = min(max(x, -87), 88)
//   k = round-to-nearest-even(x * log2(e))   via the 1.5*2^23 trick
//   r = (x - k*LN2_HI) - k*LN2_LO             (k*LN2_HI is exact)
//   p = Cephes polynomial in r, Horner order below
//   y = ((p * (r*r)) + r) + 1, times 2^k built from the exponent bits
#define SLM_EXP_LO      (-87.0f)
#define SLM_EXP_HI      88.0f
#define SLM_LOG2E       1.44269504088896341f
#define SLM_ROUND_MAGIC 12582912.0f /* 1.5 * 2^23 */
#define SLM_LN2_HI      0.693359375f
#define SLM_LN2_LO      (-2.12194440e-4f)
#define SLM_EXP_P0      1.9875691500E-4f
#define SLM_EXP_P1      1.3981999507E-3f
#define SLM_EXP_P2      8.3334519073E-3f
#define SLM_EXP_P3      4.1665795894E-2f
#define SLM_EXP_P4      1.6666665459E-1f
#define SLM_EXP_P5      5.0000001201E-1f

static inline float slm_expf(float x) {
    x = x < SLM_EXP_LO ? SLM_EXP_LO : x;
    x = x > SLM_EXP_HI ? SLM_EXP_HI : x;
    float k = (x * SLM_LOG2E + SLM_ROUND_MAGIC) - SLM_ROUND_MAGIC;
    float r = x - k * SLM_LN2_HI;
    r = r - k * SLM_LN2_LO;
    float p = SLM_EXP_P0;
    p = p * r + SLM_EXP_P1;
    p = p * r + SLM_EXP_P2;
    p = p * r + SLM_EXP_P3;
    p = p * r + SLM_EXP_P4;
    p = p * r + SLM_EXP_P5;
    float y = (p * (r * r) + r) + 1.0f;
    int32_t ki = k == k ? (int32_t)k : INT32_MIN;   // NaN in: NaN out, as cvttps gives
    return y * slm_bits_to_f32(((uint32_t)ki + 127u) << 23);
}

// (int)v made defined for every float: v clamped to [lo, hi] first, NaN
// taken as lo. For quantizers, whose inputs may be damaged.
static inline int slm_clamp_int(float v, int lo, int hi) {
    return v >= (float)lo ? (v <= (float)hi ? (int)v : hi) : lo;
}

// Index of the first NaN or infinity of x (n values), or n; and its name.
static inline size_t slm_first_nonfinite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!(x[i] - x[i] == 0.0f)) return i;
    return n;
}
static inline const char *slm_nonfinite_name(float v) { return v != v ? "NaN" : v > 0 ? "+Inf" : "-Inf"; }

// SiLU as every backend computes it: x / (1 + exp(-x)).
static inline float slm_siluf(float x) { return x / (1.0f + slm_expf(-x)); }

// GELU, tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), which is
// x / (1 + exp(-u)) with u = x (K1 + K3 x^2), K1 = 2 sqrt(2/pi), K3 = K1 * 0.044715;
// every backend computes u in that order.
#define SLM_GELU_K1 1.5957691216057308f
#define SLM_GELU_K3 0.0713548162726009f
static inline float slm_geluf(float x) { return x / (1.0f + slm_expf(-(x * (SLM_GELU_K1 + SLM_GELU_K3 * (x * x))))); }

// IEEE half <-> float. Half to float is exact; float to half rounds to
// nearest even, with overflow to infinity, like F16C and ggml.
static inline float slm_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    if (exp == 0x1f) return slm_bits_to_f32(sign | 0x7f800000u | (mant << 13));
    if (exp == 0) {
        if (mant == 0) return slm_bits_to_f32(sign);
        // subnormal half: value = mant * 2^-24, exact in float
        float f = (float)mant * 5.9604644775390625e-8f;
        return sign ? -f : f;
    }
    return slm_bits_to_f32(sign | ((exp + 112) << 23) | (mant << 13));
}

static inline uint16_t slm_f32_to_f16(float f) {
    uint32_t u = slm_f32_to_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    uint32_t exp = (u >> 23) & 0xff, mant = u & 0x7fffff;
    if (exp == 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);   // inf, nan
    int e = (int)exp - 127 + 15;
    if (e >= 0x1f) return sign | 0x7c00;                            // overflow
    if (e <= 0) {                                                   // subnormal or zero
        if (e < -10) return sign;
        mant |= 0x800000;
        int shift = 14 - e;
        uint32_t half = mant >> shift, rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return sign | (uint16_t)half;
    }
    uint32_t half = ((uint32_t)e << 10) | (mant >> 13), rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) half++;     // may carry into exp: correct
    return sign | (uint16_t)half;
}

// Double-precision helpers built from + - * / only, for tables computed once
// (RoPE angles, random init). Accurate to a few ulp of double, which is far
// below float resolution, and identical everywhere.
double slm_exp_d(double x);
double slm_log_d(double x);
void slm_sincos_d(double x, double *s, double *c);

#endif
