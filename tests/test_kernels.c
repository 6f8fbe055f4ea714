// Kernel tests. Two questions:
// 1. Is the scalar reference right? Each kernel against a plain double-
//    precision computation, within a tolerance; fp16 conversion exhaustively.
// 2. Does every SIMD backend in this build return the scalar's exact bits?
//    memcmp on random data (fixed seed) over many shapes, tails, row ranges
//    and extreme values.
// 3. Are damaged numbers (NaN, infinities, magnitudes at the edges) defined
//    and handled alike by every backend (same bits where finite, same kind
//    where not)?
#include <float.h>
#include <math.h>
#include <stdint.h>

#include "../weights-tools/wtools.h"
#include "tiny_model.h"
#include "kernels/kernels.h"
#include "mathx.h"
#include "test.h"

// ---- data --------------------------------------------------------------------

static uint64_t rng_state = 0x5eed1234abcdULL;

static uint64_t rng_next(void) {  // splitmix64
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static float rng_uniform(void) { return (float)(rng_next() >> 40) * (1.0f / 16777216.0f); }  // [0, 1)
static float rng_sym(void) { return 2.0f * rng_uniform() - 1.0f; }                             // [-1, 1)
static int rng_int(int n) { return (int)(rng_next() % (uint64_t)n); }

// Roughly normal, with the occasional outlier and exact zero, like activations.
static float rng_act(void) {
    int k = rng_int(64);
    if (k == 0) return 0.0f;
    if (k == 1) return -0.0f;
    float v = rng_sym() + rng_sym() + rng_sym() + rng_sym();
    return k == 2 ? 40.0f * v : v;
}

static void *xmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(1); }
    return p;
}

static float *rand_floats(size_t n, float scale) {
    float *x = xmalloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = scale * rng_act();
    return x;
}

// A weight scale as fp16: mostly ordinary, sometimes zero, subnormal or huge.
static uint16_t rand_scale(void) {
    switch (rng_int(16)) {
    case 0: return 0;
    case 1: return (uint16_t)(1 + rng_int(1023));  // subnormal
    case 2: return 0x7bff;                          // 65504, the largest
    case 3: return (uint16_t)(0x8000 | rng_int(31) << 10 | rng_int(1024));  // any finite negative
    default: return slm_f32_to_f16(0.001f + 0.05f * rng_uniform());
    }
}

static void *rand_q4_0(int m, int n) {
    slm_block_q4_0 *w = xmalloc((size_t)m * (n / SLM_QK) * sizeof *w);
    for (size_t b = 0; b < (size_t)m * (n / SLM_QK); b++) {
        w[b].d = rand_scale();
        for (int i = 0; i < SLM_QK / 2; i++) w[b].qs[i] = (uint8_t)rng_next();
    }
    return w;
}

// Q8_0 with -128 included (other tools' files may hold it), sometimes a whole block.
static void *rand_q8_0(int m, int n) {
    slm_block_q8_0 *w = xmalloc((size_t)m * (n / SLM_QK) * sizeof *w);
    for (size_t b = 0; b < (size_t)m * (n / SLM_QK); b++) {
        w[b].d = rand_scale();
        int all_min = rng_int(8) == 0;
        for (int i = 0; i < SLM_QK; i++) w[b].qs[i] = all_min ? -128 : (int8_t)rng_next();
    }
    return w;
}

static uint16_t *rand_f16(size_t n) {
    uint16_t *w = xmalloc(n * sizeof *w);
    for (size_t i = 0; i < n; i++) w[i] = slm_f32_to_f16(rng_act());
    return w;
}

static void acts_alloc(slm_acts *a, int T, int n) {
    a->q = xmalloc((size_t)T * n);
    a->d = xmalloc((size_t)T * (n / SLM_QK) * sizeof(float));
    a->g = xmalloc((size_t)T * (n / 4) * sizeof(int32_t));
    a->aux = xmalloc((size_t)T * (n / SLM_QK) * SLM_ACTS_AUX);
    a->T = T;
    a->n = n;
}

static void acts_free(slm_acts *a) {
    free(a->q);
    free(a->d);
    free(a->g);
    free(a->aux);
}

// Activations for the matmul tests: random rows, some extreme blocks.
static float *rand_act_rows(int T, int n) {
    float *x = rand_floats((size_t)T * n, 1.0f);
    for (int b = 0; b < T * n / SLM_QK; b++) {
        int kind = rng_int(12);
        for (int i = 0; i < SLM_QK; i++) {
            float *v = &x[b * SLM_QK + i];
            if (kind == 0) *v = 0.0f;                                  // d = 0
            if (kind == 1) *v = (i & 1) ? 127.0f : -127.0f;            // |q| = 127 everywhere
            if (kind == 2) *v = (i & 1) ? -127.0f : 127.0f;
        }
    }
    return x;
}

// x (T, n) quantized by backend k into a (allocated here).
static void make_acts(const slm_kernels *k, const float *x, int T, int n, slm_acts *a) {
    acts_alloc(a, T, n);
    k->quantize_acts(x, T, n, a);
}

// ---- 1. the reference against double precision --------------------------------

static int near(double got, double want, double tol) { return fabs(got - want) <= tol; }

static void test_f16_conversion(void) {
    int roundtrip_bad = 0, value_bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = slm_f16_to_f32((uint16_t)h);
        int e = (h >> 10) & 31, mant = h & 1023;
        double want = e == 0 ? mant * ldexp(1.0, -24) : ldexp(1.0 + mant / 1024.0, e - 15);
        if (h & 0x8000) want = -want;
        if (e == 31) {
            if (mant == 0 ? !isinf(f) || (f < 0) != !!(h & 0x8000) : !isnan(f)) value_bad++;
            uint16_t back = slm_f32_to_f16(f);
            if (mant ? ((back & 0x7c00) != 0x7c00 || !(back & 0x3ff)) : back != h) roundtrip_bad++;
            continue;
        }
        if ((double)f != want || !!signbit(f) != !!(h & 0x8000)) value_bad++;
        if (slm_f32_to_f16(f) != h) roundtrip_bad++;
    }
    CHECK(value_bad == 0, "%d halves convert to the wrong float", value_bad);
    CHECK(roundtrip_bad == 0, "%d halves do not round-trip", roundtrip_bad);

    // float -> half rounds to nearest, ties to even: compare with the two
    // neighbouring halves in double.
    int round_bad = 0;
    for (int i = 0; i < 200000; i++) {
        float f;
        if (i % 4 == 0) {  // exactly halfway between two halves (normal or subnormal)
            uint16_t h = (uint16_t)(rng_next() % 0x7bff);
            f = (float)(0.5 * ((double)slm_f16_to_f32(h) + (double)slm_f16_to_f32((uint16_t)(h + 1))));
        } else {
            f = ldexpf(rng_uniform(), rng_int(44) - 28);
        }
        uint16_t h = slm_f32_to_f16(f);
        double err = fabs((double)slm_f16_to_f32(h) - f);
        double up = h < 0x7bff ? fabs((double)slm_f16_to_f32((uint16_t)(h + 1)) - f) : INFINITY;
        double dn = h > 0 ? fabs((double)slm_f16_to_f32((uint16_t)(h - 1)) - f) : INFINITY;
        if (f > 65520.0f) { round_bad += h != 0x7c00; continue; }
        if (err > up || err > dn || ((err == up || err == dn) && (h & 1))) round_bad++;
    }
    CHECK(round_bad == 0, "%d floats round to the wrong half", round_bad);
    CHECK(slm_f32_to_f16(65519.0f) == 0x7bff && slm_f32_to_f16(65520.0f) == 0x7c00, "overflow edge");
    CHECK(slm_f32_to_f16(-0.0f) == 0x8000 && slm_f32_to_f16(1e-9f) == 0, "zero and underflow");
}

static void test_expf(void) {
    double worst = 0;
    for (int i = 0; i <= 1750000; i++) {
        float x = -87.0f + (float)i * 1e-4f;
        double want = exp((double)x), got = slm_expf(x);
        double rel = fabs(got - want) / want;
        if (rel > worst) worst = rel;
    }
    CHECK(worst < 3.0e-7, "slm_expf max relative error %.3g over [-87, 88]", worst);
    CHECK(slm_expf(0.0f) == 1.0f && slm_expf(-0.0f) == 1.0f, "exp(0) = 1");
    CHECK(slm_expf(-1000.0f) == slm_expf(-87.0f) && slm_expf(1000.0f) == slm_expf(88.0f), "clamped");
    double silu_worst = 0;
    for (int i = 0; i < 20000; i++) {
        float x = -30.0f + (float)i * 3e-3f;
        double want = x / (1.0 + exp(-(double)x)), got = slm_siluf(x);
        double err = fabs(got - want) / (fabs(want) + 1e-30);
        if (err > silu_worst) silu_worst = err;
    }
    CHECK(silu_worst < 1e-6, "slm_siluf max relative error %.3g", silu_worst);
    // GELU (tanh form) against its textbook formula; the error is absolute near
    // its zero crossing at x -> -inf, relative elsewhere
    double gelu_worst = 0;
    for (int i = 0; i < 20000; i++) {
        float xf = -12.0f + (float)i * 1.2e-3f;
        double x = xf, want = 0.5 * x * (1.0 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))), got = slm_geluf(xf);
        double err = fabs(got - want) / (fabs(want) + 1e-6);
        if (err > gelu_worst) gelu_worst = err;
    }
    CHECK(gelu_worst < 2e-6, "slm_geluf max error %.3g", gelu_worst);
}

// Tolerance for a float lane sum of terms whose magnitudes sum to mag.
static double sum_tol(double mag, int n) { return 1e-6 * mag * (1.0 + n / 64.0) + 1e-30; }

static double q4_value(const slm_block_q4_0 *blk, int e) {
    return ((e < 16 ? blk->qs[e] & 15 : blk->qs[e - 16] >> 4) - 8) * (double)slm_f16_to_f32(blk->d);
}

static void test_reference_quant(void) {
    int T = 3, n = 256, m = 17, nb = n / SLM_QK;
    float *x = rand_floats((size_t)T * n, 1.0f);
    slm_acts a;
    acts_alloc(&a, T, n);
    slm_kernels_scalar.quantize_acts(x, T, n, &a);
    int bad = 0;
    for (int t = 0; t < T; t++)
        for (int b = 0; b < nb; b++) {
            float amax = 0;
            for (int i = 0; i < SLM_QK; i++) amax = fmaxf(amax, fabsf(x[t * n + b * SLM_QK + i]));
            float d = a.d[t * nb + b];
            if (d != amax / 127.0f) bad++;
            for (int i = 0; i < SLM_QK; i++) {
                int q = a.q[t * n + b * SLM_QK + i];
                if (q < -127 || q > 127 || fabs(q * (double)d - x[t * n + b * SLM_QK + i]) > 0.5001 * d) bad++;
            }
            for (int j = 0; j < 8; j++) {
                const int8_t *q = a.q + t * n + b * SLM_QK + 4 * j;
                if (a.g[(t * n + b * SLM_QK) / 4 + j] != q[0] + q[1] + q[2] + q[3]) bad++;
            }
        }
    CHECK(bad == 0, "quantize_acts: %d values wrong", bad);

    // matmuls against the dequantized double dot product
    slm_block_q4_0 *w4 = rand_q4_0(m, n);
    slm_block_q8_0 *w8 = rand_q8_0(m, n);
    float *y4 = xmalloc((size_t)T * m * sizeof *y4), *y8 = xmalloc((size_t)T * m * sizeof *y8);
    slm_kernels_scalar.matmul_q4_0(w4, &a, 0, m, y4, m);
    slm_kernels_scalar.matmul_q8_0(w8, &a, 0, m, y8, m);
    int bad4 = 0, bad8 = 0;
    for (int t = 0; t < T; t++)
        for (int r = 0; r < m; r++) {
            double s4 = 0, s8 = 0, m4 = 0, m8 = 0;
            for (int i = 0; i < n; i++) {
                double av = a.q[t * n + i] * (double)a.d[t * nb + i / SLM_QK];
                const slm_block_q8_0 *b8 = &w8[r * nb + i / SLM_QK];
                double v4 = q4_value(&w4[r * nb + i / SLM_QK], i % SLM_QK) * av;
                double v8 = b8->qs[i % SLM_QK] * (double)slm_f16_to_f32(b8->d) * av;
                s4 += v4, m4 += fabs(v4), s8 += v8, m8 += fabs(v8);
            }
            bad4 += !near(y4[t * m + r], s4, sum_tol(m4, n));
            bad8 += !near(y8[t * m + r], s8, sum_tol(m8, n));
        }
    CHECK(bad4 == 0, "matmul_q4_0 reference: %d of %d outputs off", bad4, T * m);
    CHECK(bad8 == 0, "matmul_q8_0 reference: %d of %d outputs off", bad8, T * m);

    // row dequantization is exact
    float *row = xmalloc(n * sizeof *row);
    int rbad = 0;
    slm_kernels_scalar.row_q4_0(w4, 5, n, row);
    for (int i = 0; i < n; i++) rbad += row[i] != (float)q4_value(&w4[5 * nb + i / SLM_QK], i % SLM_QK);
    slm_kernels_scalar.row_q8_0(w8, 6, n, row);
    for (int i = 0; i < n; i++) {
        const slm_block_q8_0 *b8 = &w8[6 * nb + i / SLM_QK];
        rbad += row[i] != (float)(b8->qs[i % SLM_QK] * (double)slm_f16_to_f32(b8->d));
    }
    CHECK(rbad == 0, "row_q4_0/row_q8_0 reference: %d values wrong", rbad);
    free(row), free(w4), free(w8), free(y4), free(y8), free(x);
    acts_free(&a);
}

// Q2_K rows against the layout as ggml's dequantizer walks it: each half of
// 128 values takes 32 bytes of qs, 4 times (shift 0, 2, 4, 6), 16 values from
// bytes 0..15 and 16 from bytes 16..31, each 16 with the next scales byte.
static void test_reference_q2_k(void) {
    int n = 512, rows = 3, nb = n / SLM_QK_K;
    slm_block_q2_k *w = xmalloc((size_t)rows * nb * sizeof *w);
    for (int i = 0; i < rows * nb; i++) {
        for (int j = 0; j < 16; j++) w[i].scales[j] = (uint8_t)rng_int(256);
        for (int j = 0; j < 64; j++) w[i].qs[j] = (uint8_t)rng_int(256);
        w[i].d = slm_f32_to_f16(0.01f + 0.1f * fabsf(rng_sym()));
        w[i].dmin = slm_f32_to_f16(0.05f * fabsf(rng_sym()));
    }
    float *row = xmalloc(n * sizeof *row);
    int bad = 0;
    for (int r = 0; r < rows; r++) {
        slm_row_quant_ref(SLM_TYPE_Q2_K, w, r, n, row);
        const float *y = row;
        for (int b = 0; b < nb; b++) {
            const slm_block_q2_k *x = &w[r * nb + b];
            float d = slm_f16_to_f32(x->d), dmin = slm_f16_to_f32(x->dmin);
            const uint8_t *q = x->qs;
            int is = 0;
            for (int half = 0; half < 2; half++, q += 32)
                for (int shift = 0; shift < 8; shift += 2)
                    for (int part = 0; part < 2; part++) {
                        int sc = x->scales[is++];
                        float dl = d * (float)(sc & 15), ml = dmin * (float)(sc >> 4);
                        for (int l = 0; l < 16; l++) bad += *y++ != dl * (float)((q[16 * part + l] >> shift) & 3) - ml;
                    }
        }
    }
    CHECK(bad == 0, "Q2_K rows: %d values off ggml's layout", bad);
    free(w), free(row);
}

static const uint32_t other_types[] = {SLM_TYPE_Q4_1, SLM_TYPE_Q5_0, SLM_TYPE_Q5_1, SLM_TYPE_IQ4_NL, SLM_TYPE_Q2_K,
                                       SLM_TYPE_Q3_K, SLM_TYPE_Q4_K, SLM_TYPE_Q5_K, SLM_TYPE_Q6_K, SLM_TYPE_IQ4_XS};
#define N_OTHER_TYPES (sizeof other_types / sizeof other_types[0])

// m rows of n random values of `type`, with finite scales (rand_scale) in every f16 field.
static uint8_t *rand_type(uint32_t type, int m, int n) {
    size_t rb = (size_t)slm_quant_row_bytes(type, n);
    uint8_t *w = xmalloc(rb * m);
    for (size_t i = 0; i < rb * m; i++) w[i] = (uint8_t)rng_next();
    uint32_t bb, bv;
    uint16_t off[2];
    int n_fields = tiny_scale_fields(type, &bb, &bv, off);
    for (size_t b = 0; b < rb * m / bb; b++)
        for (int j = 0; j < n_fields; j++) {
            uint16_t h = rand_scale();
            memcpy(w + b * bb + off[j], &h, 2);
        }
    return w;
}

// Every other quantized type: the reference product against its own rows
// dequantized, in double (random blocks with sane scales).
static void test_reference_types(void) {
    int n = 512, m = 5, T = 19, nb = n / SLM_QK;
    float *x = rand_floats((size_t)T * n, 1.0f), *row = xmalloc(n * sizeof *row), *y = xmalloc((size_t)T * m * sizeof *y);
    slm_acts a;
    acts_alloc(&a, T, n);
    slm_kernels_scalar.quantize_acts(x, T, n, &a);
    for (size_t ti = 0; ti < N_OTHER_TYPES; ti++) {
        uint32_t type = other_types[ti];
        uint8_t *w = rand_type(type, m, n);
        slm_matmul_quant_ref(type, w, &a, 0, m, y, m);
        int bad = 0;
        for (int r = 0; r < m; r++) {
            slm_row_quant_ref(type, w, r, n, row);
            for (int t = 0; t < T; t++) {
                double s = 0, mag = 0;
                for (int i = 0; i < n; i++) {
                    double v = row[i] * (a.q[t * n + i] * (double)a.d[t * nb + i / SLM_QK]);
                    s += v, mag += fabs(v);
                }
                bad += !near(y[t * m + r], s, 4 * sum_tol(mag, n));
            }
        }
        CHECK(bad == 0, "type %u reference product: %d of %d outputs off its rows", type, bad, T * m);
        free(w);
    }
    acts_free(&a);
    free(x), free(row), free(y);
}

static void test_reference_float(void) {
    const slm_kernels *S = &slm_kernels_scalar;
    int T = 2, n = 513, m = 9;
    float *w = rand_floats((size_t)m * n, 1.0f), *x = rand_floats((size_t)T * n, 1.0f);
    uint16_t *wh = rand_f16((size_t)m * n);
    float *y = xmalloc((size_t)T * m * sizeof *y), *yh = xmalloc((size_t)T * m * sizeof *yh);
    S->matmul_f32(w, x, T, n, 0, m, y, m);
    S->matmul_f16(wh, x, T, n, 0, m, yh, m);
    int bad = 0, badh = 0;
    for (int t = 0; t < T; t++)
        for (int r = 0; r < m; r++) {
            double s = 0, mag = 0, sh = 0, magh = 0;
            for (int i = 0; i < n; i++) {
                double v = (double)w[r * n + i] * x[t * n + i], vh = (double)slm_f16_to_f32(wh[r * n + i]) * x[t * n + i];
                s += v, mag += fabs(v), sh += vh, magh += fabs(vh);
            }
            bad += !near(y[t * m + r], s, sum_tol(mag, n));
            badh += !near(yh[t * m + r], sh, sum_tol(magh, n));
        }
    CHECK(bad == 0, "matmul_f32 reference: %d outputs off", bad);
    CHECK(badh == 0, "matmul_f16 reference: %d outputs off", badh);

    double s = 0, mag = 0;
    for (int i = 0; i < n; i++) s += (double)w[i] * x[i], mag += fabs((double)w[i] * x[i]);
    CHECK(near(S->dot(w, x, n), s, sum_tol(mag, n)), "dot reference");

    // rmsnorm
    float *out = xmalloc(n * sizeof *out);
    S->rmsnorm(out, x, w, n, 1e-5f);
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
    double r = 1.0 / sqrt(ss / n + 1e-5);
    int rbad = 0;
    for (int i = 0; i < n; i++) rbad += !near(out[i], x[i] * r * w[i], 1e-6 * fabs(x[i] * r * w[i]) + 1e-30);
    CHECK(rbad == 0, "rmsnorm reference: %d values off", rbad);

    // softmax
    float *sm = xmalloc(n * sizeof *sm);
    for (int i = 0; i < n; i++) sm[i] = 8.0f * x[i];
    S->softmax(sm, n);
    double mx = -INFINITY, den = 0;
    for (int i = 0; i < n; i++) mx = fmax(mx, 8.0 * x[i]);
    for (int i = 0; i < n; i++) den += exp(8.0 * x[i] - mx);
    int sbad = 0;
    double total = 0;
    for (int i = 0; i < n; i++) {
        double want = exp(8.0 * x[i] - mx) / den;
        sbad += !near(sm[i], want, 2e-6 * want + 1e-37);
        total += sm[i];
    }
    CHECK(sbad == 0 && fabs(total - 1.0) < 1e-5, "softmax reference: %d values off, sum %.9f", sbad, total);

    // swiglu
    S->swiglu(out, x, w, n);
    int gbad = 0;
    for (int i = 0; i < n; i++) {
        double want = x[i] / (1.0 + exp(-(double)x[i])) * w[i];
        gbad += !near(out[i], want, 1e-6 * fabs(want) + 1e-30);
    }
    CHECK(gbad == 0, "swiglu reference: %d values off", gbad);

    // rope: the rotation of each pair
    int heads = 3, hd = 16;
    float *v = rand_floats((size_t)heads * hd, 1.0f), *v0 = xmalloc((size_t)heads * hd * sizeof *v0), c[8], sn[8];
    memcpy(v0, v, (size_t)heads * hd * sizeof *v0);
    for (int i = 0; i < hd / 2; i++) c[i] = cosf(0.3f * i), sn[i] = sinf(0.3f * i);
    S->rope(v, heads, hd, c, sn);
    int pbad = 0;
    for (int h = 0; h < heads; h++)
        for (int i = 0; i < hd / 2; i++) {
            double x0 = v0[h * hd + 2 * i], x1 = v0[h * hd + 2 * i + 1], tol = 1e-6 * (fabs(x0) + fabs(x1)) + 1e-30;
            pbad += !near(v[h * hd + 2 * i], x0 * c[i] - x1 * sn[i], tol);  // outliers are large: relative
            pbad += !near(v[h * hd + 2 * i + 1], x0 * sn[i] + x1 * c[i], tol);
        }
    CHECK(pbad == 0, "rope reference: %d values off", pbad);

    // axpy, add
    float *ya = xmalloc(n * sizeof *ya), *yb = xmalloc(n * sizeof *yb);
    memcpy(ya, x, n * sizeof *ya);
    memcpy(yb, x, n * sizeof *yb);
    S->axpy(0.75f, w, ya, n);
    S->add(yb, w, n);
    int abad = 0;
    for (int i = 0; i < n; i++) {
        abad += ya[i] != (float)((double)x[i] + (double)(0.75f * w[i]));
        abad += yb[i] != (float)((double)x[i] + w[i]);
    }
    CHECK(abad == 0, "axpy/add reference: %d values off", abad);
    free(w), free(x), free(wh), free(y), free(yh), free(out), free(sm), free(v), free(v0), free(ya), free(yb);
}

// ---- 2. SIMD backends against the reference, bit for bit ---------------------

static const slm_kernels *K;  // the backend under test
static const slm_kernels *const S = &slm_kernels_scalar;

static int same(const void *a, const void *b, size_t bytes) { return memcmp(a, b, bytes) == 0; }

// Index of the first differing float, for the failure message.
static int first_diff(const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], 4)) return (int)i;
    return -1;
}

static void check_quantize(int T, int n, float *x) {
    slm_acts a, b;
    acts_alloc(&a, T, n);
    acts_alloc(&b, T, n);
    S->quantize_acts(x, T, n, &a);
    K->quantize_acts(x, T, n, &b);
    int ok = same(a.q, b.q, (size_t)T * n) && same(a.d, b.d, (size_t)T * n / SLM_QK * sizeof(float)) &&
             same(a.g, b.g, (size_t)T * n / 4 * sizeof(int32_t)) && a.T == b.T && a.n == b.n;
    CHECK(ok, "%s quantize_acts T=%d n=%d", K->name, T, n);
    acts_free(&a);
    acts_free(&b);
}

static void test_quantize(void) {
    static const int shapes[][2] = {{1, 32}, {1, 64}, {2, 96}, {3, 768}, {7, 256}, {33, 64}, {1, 2048}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int T = shapes[s][0], n = shapes[s][1];
        float *x = rand_floats((size_t)T * n, 1.0f);
        check_quantize(T, n, x);
        free(x);
    }
    // Extremes, one kind per block: zeros (d = 0), -0, huge and tiny magnitudes,
    // and exact ties: with amax = 127 (d = 1, id = 1) and amax = 63.5 (id = 2),
    // x*id lands on k + 0.5 and must round to even.
    int n = 32 * 12;
    float *x = xmalloc(n * sizeof *x);
    for (int i = 0; i < SLM_QK; i++) {
        float k = (float)(i - 16);
        x[0 * 32 + i] = 0.0f;
        x[1 * 32 + i] = -0.0f;
        x[2 * 32 + i] = i == 0 ? 127.0f : k + 0.5f;
        x[3 * 32 + i] = i == 0 ? -127.0f : -(k + 0.5f);
        x[4 * 32 + i] = i == 0 ? 63.5f : (k + 0.5f) * 0.5f;
        x[5 * 32 + i] = 3.0e38f * rng_sym();
        x[6 * 32 + i] = i == 5 ? -3.4e38f : 1e38f * rng_sym();
        x[7 * 32 + i] = 1e-30f * rng_sym();
        x[8 * 32 + i] = i == 31 ? 1.0f : 0.0f;
        x[9 * 32 + i] = i == 7 ? -1e-20f : (i & 1 ? -0.0f : 0.0f);
        x[10 * 32 + i] = (float)(i * 8 - 127);  // q = +-127 and near
        x[11 * 32 + i] = i == 3 ? 127.0f : (float)(i % 5) - 2.5f;
    }
    check_quantize(1, n, x);
    free(x);
}

static void check_matmul_quant(int q8, int m, int n, int T, int r0, int r1, int ldy) {
    void *w = q8 ? rand_q8_0(m, n) : rand_q4_0(m, n);
    float *x = rand_act_rows(T, n);
    slm_acts a, b;  // each backend's matmuls take its own quantize_acts' output
    make_acts(S, x, T, n, &a);
    make_acts(K, x, T, n, &b);
    size_t ny = (size_t)(T - 1) * ldy + m;
    float *ya = xmalloc(ny * sizeof *ya), *yb = xmalloc(ny * sizeof *yb);
    for (size_t i = 0; i < ny; i++) ya[i] = yb[i] = -12345.0f;  // untouched outside rows r0..r1
    if (q8) {
        S->matmul_q8_0(w, &a, r0, r1, ya, ldy);
        K->matmul_q8_0(w, &b, r0, r1, yb, ldy);
    } else {
        S->matmul_q4_0(w, &a, r0, r1, ya, ldy);
        K->matmul_q4_0(w, &b, r0, r1, yb, ldy);
    }
    CHECK(same(ya, yb, ny * sizeof *ya), "%s matmul_%s m=%d n=%d T=%d rows %d..%d ldy=%d: first diff at %d", K->name,
          q8 ? "q8_0" : "q4_0", m, n, T, r0, r1, ldy, first_diff(ya, yb, ny));
    free(w), free(x), free(ya), free(yb);
    acts_free(&a);
    acts_free(&b);
}

static void test_matmul_quant(void) {
    // m, n, T, r0, r1, ldy (n = 2080 and 4128 cross the panel width of 64 blocks, T = 33 and 35
    // the token pass of 32, also together; T = 1 with n/32 not a multiple of 8 ends the AVX2
    // mat-vec on a partial batch of scales and the wasm one on a partial batch of touches)
    static const int cases[][6] = {
        {1, 32, 1, 0, 1, 1},      {4, 32, 1, 0, 4, 4},       {5, 64, 2, 0, 5, 7},        {7, 96, 3, 1, 6, 9},
        {16, 256, 7, 3, 14, 20},  {9, 768, 1, 0, 9, 9},      {13, 768, 33, 2, 11, 16},   {6, 1056, 2, 0, 6, 6},
        {5, 2080, 3, 1, 5, 8},    {3, 128, 33, 0, 3, 3},     {37, 64, 5, 5, 36, 40},     {8, 2048, 1, 4, 8, 8},
        {2, 32, 64, 0, 2, 2},     {11, 160, 2, 10, 11, 11},  {12, 64, 67, 0, 12, 12},   {7, 96, 1, 0, 7, 7},
        {10, 320, 1, 1, 10, 12},  {6, 544, 1, 2, 5, 6},      {3, 1056, 1, 0, 3, 3},      {5, 4128, 3, 0, 5, 5},
        {4, 64, 2, 2, 2, 4},      {6, 2080, 35, 1, 6, 7},    {9, 4128, 33, 0, 9, 9},
    };
    for (int q8 = 0; q8 < 2; q8++)
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
            check_matmul_quant(q8, cases[c][0], cases[c][1], cases[c][2], cases[c][3], cases[c][4], cases[c][5]);
}

static void check_matmul_float(int f16, int m, int n, int T, int r0, int r1, int ldy) {
    float *w = rand_floats((size_t)m * n, 1.0f), *x = rand_floats((size_t)T * n, 1.0f);
    uint16_t *wh = rand_f16((size_t)m * n);
    size_t ny = (size_t)(T - 1) * ldy + m;
    float *ya = xmalloc(ny * sizeof *ya), *yb = xmalloc(ny * sizeof *yb);
    for (size_t i = 0; i < ny; i++) ya[i] = yb[i] = -12345.0f;
    if (f16) {
        S->matmul_f16(wh, x, T, n, r0, r1, ya, ldy);
        K->matmul_f16(wh, x, T, n, r0, r1, yb, ldy);
    } else {
        S->matmul_f32(w, x, T, n, r0, r1, ya, ldy);
        K->matmul_f32(w, x, T, n, r0, r1, yb, ldy);
    }
    CHECK(same(ya, yb, ny * sizeof *ya), "%s matmul_%s m=%d n=%d T=%d rows %d..%d: first diff at %d", K->name,
          f16 ? "f16" : "f32", m, n, T, r0, r1, first_diff(ya, yb, ny));
    free(w), free(x), free(wh), free(ya), free(yb);
}

static void test_matmul_float(void) {
    static const int cases[][6] = {
        {1, 1, 1, 0, 1, 1},    {3, 7, 2, 0, 3, 3},      {4, 8, 1, 0, 4, 4},     {5, 9, 3, 1, 5, 6},
        {9, 172, 7, 0, 9, 9},  {6, 513, 2, 2, 6, 10},   {17, 768, 1, 0, 17, 17}, {5, 64, 33, 1, 4, 5},
        {2, 15, 3, 1, 2, 2},   {11, 100, 4, 3, 10, 12},
    };
    for (int f16 = 0; f16 < 2; f16++)
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
            check_matmul_float(f16, cases[c][0], cases[c][1], cases[c][2], cases[c][3], cases[c][4], cases[c][5]);
}

// Vectors for the elementwise kernels: random, with a run of extremes.
static float *elem_data(int n) {
    float *x = rand_floats(n, 1.0f);
    static const float extremes[] = {0.0f, -0.0f, 1e30f, -1e30f, 88.5f, -88.5f, 87.0f, -87.0f, 1e-38f, -1e-41f, 3.4e38f};
    for (int i = 0; i < n; i++)
        if (rng_int(16) == 0) x[i] = extremes[rng_int(sizeof extremes / sizeof extremes[0])];
    return x;
}

static void test_elementwise(void) {
    static const int sizes[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 64, 100, 172, 513, 768, 2048};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int n = sizes[s];
        float *a = rand_floats(n, 1.0f), *b = rand_floats(n, 1.0f), *big = elem_data(n);
        float *ya = xmalloc(n * sizeof *ya), *yb = xmalloc(n * sizeof *yb);
        size_t bytes = n * sizeof *ya;

        float da = S->dot(a, b, n), db = K->dot(a, b, n);
        CHECK(same(&da, &db, 4), "%s dot n=%d", K->name, n);

        memcpy(ya, b, bytes), memcpy(yb, b, bytes);
        S->axpy(-0.37f, a, ya, n), K->axpy(-0.37f, a, yb, n);
        CHECK(same(ya, yb, bytes), "%s axpy n=%d", K->name, n);

        memcpy(ya, b, bytes), memcpy(yb, b, bytes);
        S->add(ya, a, n), K->add(yb, a, n);
        CHECK(same(ya, yb, bytes), "%s add n=%d", K->name, n);

        S->rmsnorm(ya, a, b, n, 1e-5f), K->rmsnorm(yb, a, b, n, 1e-5f);
        CHECK(same(ya, yb, bytes), "%s rmsnorm n=%d", K->name, n);

        // softmax: ordinary logits, then logits far apart (exp's clamp)
        for (int i = 0; i < n; i++) ya[i] = yb[i] = 10.0f * a[i];
        S->softmax(ya, n), K->softmax(yb, n);
        CHECK(same(ya, yb, bytes), "%s softmax n=%d: first diff at %d", K->name, n, first_diff(ya, yb, n));
        for (int i = 0; i < n; i++) ya[i] = yb[i] = i % 3 ? 1e4f * a[i] : -0.0f;
        S->softmax(ya, n), K->softmax(yb, n);
        CHECK(same(ya, yb, bytes), "%s softmax wide n=%d: first diff at %d", K->name, n, first_diff(ya, yb, n));

        S->swiglu(ya, big, b, n), K->swiglu(yb, big, b, n);
        CHECK(same(ya, yb, bytes), "%s swiglu n=%d: first diff at %d", K->name, n, first_diff(ya, yb, n));
        S->geglu(ya, big, b, n), K->geglu(yb, big, b, n);
        CHECK(same(ya, yb, bytes), "%s geglu n=%d: first diff at %d", K->name, n, first_diff(ya, yb, n));
        for (int i = 0; i < n; i++) ya[i] = 30.0f * a[i];
        S->swiglu(yb, ya, b, n), K->swiglu(ya, ya, b, n);  // out may alias gate
        CHECK(same(ya, yb, bytes), "%s swiglu in place n=%d", K->name, n);
        free(a), free(b), free(big), free(ya), free(yb);
    }
    // dot_rows, axpy_rows: m rows stride apart (a KV cache's heads), against
    // the reference and against m calls of the backend's own dot and axpy
    static const int rows_shapes[][3] = {{1, 1, 1}, {3, 8, 8}, {5, 16, 24}, {7, 17, 40}, {33, 32, 128},
                                         {2, 64, 256}, {200, 64, 256}, {9, 100, 130}, {4, 31, 31}};
    for (size_t c = 0; c < sizeof rows_shapes / sizeof rows_shapes[0]; c++) {
        int m = rows_shapes[c][0], n = rows_shapes[c][1], stride = rows_shapes[c][2];
        float *rows = elem_data(m * stride), *x = rand_floats(n, 1.0f), *a = rand_floats(m, 1.0f);
        float *oa = xmalloc(m * sizeof *oa), *ob = xmalloc(m * sizeof *ob), *oc = xmalloc(m * sizeof *oc);
        float *ya = rand_floats(n, 1.0f), *yb = xmalloc(n * sizeof *yb), *yc = xmalloc(n * sizeof *yc);
        memcpy(yb, ya, n * sizeof *ya), memcpy(yc, ya, n * sizeof *ya);
        S->dot_rows(x, rows, stride, m, n, oa), K->dot_rows(x, rows, stride, m, n, ob);
        for (int r = 0; r < m; r++) oc[r] = K->dot(x, rows + (size_t)r * stride, n);
        CHECK(same(oa, ob, m * sizeof *oa) && same(ob, oc, m * sizeof *ob), "%s dot_rows m=%d n=%d stride=%d", K->name,
              m, n, stride);
        S->axpy_rows(a, rows, stride, m, n, ya), K->axpy_rows(a, rows, stride, m, n, yb);
        for (int r = 0; r < m; r++) K->axpy(a[r], rows + (size_t)r * stride, yc, n);
        CHECK(same(ya, yb, n * sizeof *ya) && same(yb, yc, n * sizeof *yb), "%s axpy_rows m=%d n=%d stride=%d: first diff at %d",
              K->name, m, n, stride, first_diff(ya, yb, n));
        free(rows), free(x), free(a), free(oa), free(ob), free(oc), free(ya), free(yb), free(yc);
    }

    // slm_expf's whole clamped range, through swiglu's exp(-x), lane by lane
    int n = 1 << 20;
    float *g = xmalloc(n * sizeof *g), *one = xmalloc(n * sizeof *one);
    float *ya = xmalloc(n * sizeof *ya), *yb = xmalloc(n * sizeof *yb);
    for (int i = 0; i < n; i++) g[i] = -100.0f + 200.0f * (float)i / (float)n, one[i] = 1.0f;
    S->swiglu(ya, g, one, n), K->swiglu(yb, g, one, n);
    CHECK(same(ya, yb, n * sizeof *ya), "%s swiglu over [-100, 100]: first diff at %d", K->name, first_diff(ya, yb, n));
    S->geglu(ya, g, one, n), K->geglu(yb, g, one, n);
    CHECK(same(ya, yb, n * sizeof *ya), "%s geglu over [-100, 100]: first diff at %d", K->name, first_diff(ya, yb, n));
    free(g), free(one), free(ya), free(yb);
}

static void test_rope(void) {
    static const int shapes[][2] = {{1, 2}, {1, 8}, {2, 6}, {3, 10}, {4, 64}, {2, 34}, {12, 64}, {1, 130}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int heads = shapes[s][0], hd = shapes[s][1], len = heads * hd;
        float *x = rand_floats(len, 3.0f), *c = rand_floats(hd / 2, 1.0f), *sn = rand_floats(hd / 2, 1.0f);
        float *ya = xmalloc(len * sizeof *ya), *yb = xmalloc(len * sizeof *yb);
        memcpy(ya, x, len * sizeof *x), memcpy(yb, x, len * sizeof *x);
        S->rope(ya, heads, hd, c, sn), K->rope(yb, heads, hd, c, sn);
        CHECK(same(ya, yb, len * sizeof *ya), "%s rope heads=%d head_dim=%d", K->name, heads, hd);
        memcpy(ya, x, len * sizeof *x), memcpy(yb, x, len * sizeof *x);
        S->rope_neox(ya, heads, hd, c, sn), K->rope_neox(yb, heads, hd, c, sn);
        CHECK(same(ya, yb, len * sizeof *ya), "%s rope_neox heads=%d head_dim=%d", K->name, heads, hd);
        free(x), free(c), free(sn), free(ya), free(yb);
    }
}

static void test_rows(void) {
    int m = 5, n = 320;
    void *w4 = rand_q4_0(m, n), *w8 = rand_q8_0(m, n);
    float *ya = xmalloc(n * sizeof *ya), *yb = xmalloc(n * sizeof *yb);
    for (int r = 0; r < m; r++) {
        S->row_q4_0(w4, r, n, ya), K->row_q4_0(w4, r, n, yb);
        CHECK(same(ya, yb, n * sizeof *ya), "%s row_q4_0 row %d", K->name, r);
        S->row_q8_0(w8, r, n, ya), K->row_q8_0(w8, r, n, yb);
        CHECK(same(ya, yb, n * sizeof *ya), "%s row_q8_0 row %d", K->name, r);
    }
    free(w4), free(w8), free(ya), free(yb);

    // row_f16 over every half but the signaling NaNs (hardware converters
    // quiet them; the reference keeps the payload as is), with odd row lengths
    int nh = 0, len = 65536 - 2 * 511;
    uint16_t *h = xmalloc(len * sizeof *h);
    for (uint32_t v = 0; v < 65536; v++)
        if (!((v & 0x7c00) == 0x7c00 && (v & 0x3ff) && !(v & 0x200))) h[nh++] = (uint16_t)v;
    float *fa = xmalloc(len * sizeof *fa), *fb = xmalloc(len * sizeof *fb);
    const int widths[] = {len, 7, 13, 4096};
    for (size_t k = 0; k < sizeof widths / sizeof widths[0]; k++) {
        int rows = len / widths[k], wd = widths[k];
        for (int r = 0; r < rows; r++) {
            S->row_f16(h, r, wd, fa + r * wd);
            K->row_f16(h, r, wd, fb + r * wd);
        }
        CHECK(same(fa, fb, (size_t)rows * wd * sizeof *fa), "%s row_f16 width %d: first diff at %d", K->name, wd,
              first_diff(fa, fb, (size_t)rows * wd));
    }
    free(h), free(fa), free(fb);
}

// ---- 3. damaged numbers: NaN, infinities, extreme magnitudes -------------------

// Index of the first value where a and b differ: in bits where either is
// finite, in kind (NaN, +Inf, -Inf) otherwise (kernels.h); -1 if none.
static int first_kind_diff(const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (isfinite(a[i]) || isfinite(b[i])) {
            if (memcmp(&a[i], &b[i], 4)) return (int)i;
        } else if (isnan(a[i]) != isnan(b[i]) || (!isnan(a[i]) && a[i] != b[i])) {
            return (int)i;
        }
    }
    return -1;
}

// Blocks of 32 activations, one kind each, in an ordinary row; want_d says
// what the reference must make of each: 'N' NaN, 'I' +Inf, '0' zero (all
// three unscaled: q = 0), 'o' ordinary.
#define N_DAMAGED 11
static const char want_d[N_DAMAGED + 1] = "NNIINo00oo0";
static float *damaged_acts(int T) {
    int n = N_DAMAGED * SLM_QK;
    float *x = rand_floats((size_t)T * n, 1.0f);
    for (int t = 0; t < T; t++) {
        float *r = x + (size_t)t * n;
        int at = (t * 7 + 5) % SLM_QK;   // where the odd value sits moves with the row
        r[0 * SLM_QK + at] = NAN;
        r[1 * SLM_QK + at] = -NAN;
        r[2 * SLM_QK + at] = INFINITY;
        r[3 * SLM_QK + at] = -INFINITY;
        r[4 * SLM_QK + at] = INFINITY, r[4 * SLM_QK + (at + 1) % SLM_QK] = NAN;
        r[5 * SLM_QK + at] = FLT_MAX;                                          // ordinary, d near FLT_MAX/127
        for (int i = 0; i < SLM_QK; i++) {
            r[6 * SLM_QK + i] = (i & 1 ? -1e-37f : 1e-37f) * (float)(i + 1) / 32.0f;   // below 2^-119
            r[7 * SLM_QK + i] = i % 3 ? 1e-40f : -0.0f;                        // subnormals
            r[8 * SLM_QK + i] = r[6 * SLM_QK + i];
            r[9 * SLM_QK + i] = i & 1 ? -1e-38f : 3e-39f;                     // with 2^-100: ordinary, tiny d
        }
        r[8 * SLM_QK + at] = -0x1p-119f;                                       // exactly the edge: ordinary
        r[9 * SLM_QK + at] = 0x1p-100f;
        r[10 * SLM_QK + at] = 0x1p-120f;
        for (int i = 0; i < SLM_QK; i++)
            if (i != at) r[10 * SLM_QK + i] = 0.0f;                            // amax 2^-120: unscaled
    }
    return x;
}

static void test_reference_damaged(void) {
    int T = 3, n = N_DAMAGED * SLM_QK, bad = 0;
    float *x = damaged_acts(T);
    slm_acts a;
    acts_alloc(&a, T, n);
    slm_kernels_scalar.quantize_acts(x, T, n, &a);
    for (int t = 0; t < T; t++)
        for (int b = 0; b < N_DAMAGED; b++) {
            float d = a.d[t * N_DAMAGED + b];
            const int8_t *q = a.q + (size_t)t * n + b * SLM_QK;
            int zeros = 1;
            for (int i = 0; i < SLM_QK; i++) zeros &= q[i] == 0;
            for (int j = 0; j < 8; j++) zeros &= a.g[(t * n + b * SLM_QK) / 4 + j] == 0;
            switch (want_d[b]) {
            case 'N': bad += !(isnan(d) && zeros); break;
            case 'I': bad += !(d == INFINITY && zeros); break;
            case '0': bad += !(d == 0.0f && zeros); break;
            default: {
                float amax = 0.0f;
                for (int i = 0; i < SLM_QK; i++) amax = fmaxf(amax, fabsf(x[(size_t)t * n + b * SLM_QK + i]));
                bad += d != amax / 127.0f || !isfinite(1.0f / d);
                for (int i = 0; i < SLM_QK; i++) bad += q[i] == -128;
            }
            }
        }
    CHECK(bad == 0, "quantize_acts on damaged blocks: %d wrong", bad);
    free(x);
    acts_free(&a);

    // the quantizers' float-to-int steps stay defined on damaged rows
    float row[2 * SLM_QK_K];
    for (int i = 0; i < 2 * SLM_QK_K; i++) row[i] = i % 7 == 0 ? NAN : i % 11 == 0 ? -INFINITY : i % 13 == 0 ? FLT_MAX : rng_sym();
    uint8_t out[2 * sizeof(slm_block_q2_k) + 2 * SLM_QK_K * 2];
    wt_quantize_q4_0(row, out, 2 * SLM_QK_K, 0);
    wt_quantize_q4_0(row, out, 2 * SLM_QK_K, 1);
    wt_quantize_q8_0(row, out, 2 * SLM_QK_K);
    wt_quantize_q2_k(row, out, 2 * SLM_QK_K);
    CHECK(1, "quantizers survive NaN and infinities (UBSan would stop here)");
}

// Weights with some NaN, infinite and huge scales.
static void damage_scales(void *w, size_t n_blocks, size_t block_bytes) {
    static const uint16_t specials[] = {0x7e00, 0xfe00, 0x7c00, 0xfc00, 0x7bff, 0x7d01};
    for (size_t b = 0; b < n_blocks; b++)
        if (rng_int(5) == 0) {
            uint16_t h = specials[rng_int(6)];
            memcpy((uint8_t *)w + b * block_bytes, &h, 2);
        }
}

static void test_damaged(void) {
    int T = 5, n = N_DAMAGED * SLM_QK, m = 9;
    float *x = damaged_acts(T);
    check_quantize(T, n, x);
    // integer matmuls: damaged activations, and damaged weight scales
    slm_acts a, b;
    make_acts(S, x, T, n, &a);
    make_acts(K, x, T, n, &b);
    float *ya = xmalloc((size_t)T * m * sizeof *ya), *yb = xmalloc((size_t)T * m * sizeof *yb);
    for (int q8 = 0; q8 < 2; q8++) {
        size_t bb = q8 ? sizeof(slm_block_q8_0) : sizeof(slm_block_q4_0);
        void *w = q8 ? rand_q8_0(m, n) : rand_q4_0(m, n);
        for (int pass = 0; pass < 2; pass++) {
            if (pass) damage_scales(w, (size_t)m * N_DAMAGED, bb);
            if (q8) S->matmul_q8_0(w, &a, 0, m, ya, m), K->matmul_q8_0(w, &b, 0, m, yb, m);
            else S->matmul_q4_0(w, &a, 0, m, ya, m), K->matmul_q4_0(w, &b, 0, m, yb, m);
            CHECK(first_kind_diff(ya, yb, (size_t)T * m) < 0, "%s matmul_%s on damaged %s: first diff at %d", K->name,
                  q8 ? "q8_0" : "q4_0", pass ? "weights and activations" : "activations", first_kind_diff(ya, yb, (size_t)T * m));
        }
        free(w);
    }
    // float matmuls, rows and elementwise kernels on the damaged values themselves
    float *wf = damaged_acts(m);
    uint16_t *wh = xmalloc((size_t)m * n * sizeof *wh);
    for (size_t i = 0; i < (size_t)m * n; i++) wh[i] = slm_f32_to_f16(wf[i]);
    S->matmul_f32(wf, x, T, n, 0, m, ya, m), K->matmul_f32(wf, x, T, n, 0, m, yb, m);
    CHECK(first_kind_diff(ya, yb, (size_t)T * m) < 0, "%s matmul_f32 damaged", K->name);
    S->matmul_f16(wh, x, T, n, 0, m, ya, m), K->matmul_f16(wh, x, T, n, 0, m, yb, m);
    CHECK(first_kind_diff(ya, yb, (size_t)T * m) < 0, "%s matmul_f16 damaged", K->name);
    float *ea = xmalloc(n * sizeof *ea), *eb = xmalloc(n * sizeof *eb);
    S->rmsnorm(ea, x, wf, n, 1e-5f), K->rmsnorm(eb, x, wf, n, 1e-5f);
    CHECK(first_kind_diff(ea, eb, n) < 0, "%s rmsnorm damaged", K->name);
    S->swiglu(ea, x, wf, n), K->swiglu(eb, x, wf, n);
    CHECK(first_kind_diff(ea, eb, n) < 0, "%s swiglu damaged", K->name);
    S->geglu(ea, x, wf, n), K->geglu(eb, x, wf, n);
    CHECK(first_kind_diff(ea, eb, n) < 0, "%s geglu damaged", K->name);
    memcpy(ea, x, n * sizeof *ea), memcpy(eb, x, n * sizeof *eb);
    S->softmax(ea, n), K->softmax(eb, n);
    CHECK(first_kind_diff(ea, eb, n) < 0, "%s softmax damaged", K->name);
    memcpy(ea, x, n * sizeof *ea), memcpy(eb, x, n * sizeof *eb);
    S->rope(ea, N_DAMAGED, SLM_QK, wf, wf + SLM_QK / 2), K->rope(eb, N_DAMAGED, SLM_QK, wf, wf + SLM_QK / 2);
    CHECK(first_kind_diff(ea, eb, n) < 0, "%s rope damaged", K->name);
    memcpy(ea, x, n * sizeof *ea), memcpy(eb, x, n * sizeof *eb);
    S->rope_neox(ea, N_DAMAGED, SLM_QK, wf, wf + SLM_QK / 2), K->rope_neox(eb, N_DAMAGED, SLM_QK, wf, wf + SLM_QK / 2);
    CHECK(first_kind_diff(ea, eb, n) < 0, "%s rope_neox damaged", K->name);
    float da = S->dot(x, wf, n), db = K->dot(x, wf, n);
    CHECK(first_kind_diff(&da, &db, 1) < 0, "%s dot damaged", K->name);
    free(x), free(wf), free(wh), free(ya), free(yb), free(ea), free(eb);
    acts_free(&a);
    acts_free(&b);
}

// The other types' products against the reference, bit for bit: shapes that
// cross the 16-token and 64-block chunks, damaged activations too.
static void test_matmul_types(void) {
    static const int cases[][6] = {{3, 256, 1, 0, 3, 3}, {5, 512, 19, 1, 5, 7}, {2, 2304, 3, 0, 2, 2}, {4, 256, 33, 2, 4, 4}};
    for (size_t ti = 0; ti < N_OTHER_TYPES; ti++)
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            int m = cases[c][0], n = cases[c][1], T = cases[c][2], r0 = cases[c][3], r1 = cases[c][4], ldy = cases[c][5];
            uint8_t *w = rand_type(other_types[ti], m, n);
            float *x = c == 3 ? NULL : rand_act_rows(T, n);
            if (!x) {   // rows of damaged blocks, repeated across the width
                x = xmalloc((size_t)T * n * sizeof *x);
                float *d = damaged_acts(T);
                for (int t = 0; t < T; t++)
                    for (int i = 0; i < n; i++) x[(size_t)t * n + i] = d[(size_t)t * N_DAMAGED * SLM_QK + i % (N_DAMAGED * SLM_QK)];
                free(d);
            }
            slm_acts a, b;
            make_acts(S, x, T, n, &a);
            make_acts(K, x, T, n, &b);
            size_t ny = (size_t)(T - 1) * ldy + m;
            float *ya = xmalloc(ny * sizeof *ya), *yb = xmalloc(ny * sizeof *yb);
            for (size_t i = 0; i < ny; i++) ya[i] = yb[i] = -12345.0f;
            S->matmul_quant(other_types[ti], w, &a, r0, r1, ya, ldy);
            K->matmul_quant(other_types[ti], w, &b, r0, r1, yb, ldy);
            CHECK(first_kind_diff(ya, yb, ny) < 0, "%s matmul_quant type %u m=%d n=%d T=%d: first diff at %d", K->name,
                  other_types[ti], m, n, T, first_kind_diff(ya, yb, ny));
            free(w), free(x), free(ya), free(yb);
            acts_free(&a);
            acts_free(&b);
        }
}

int main(void) {
    test_f16_conversion();
    test_expf();
    test_reference_quant();
    test_reference_q2_k();
    test_reference_types();
    test_reference_float();
    test_reference_damaged();

    static const char *const backends[] = {"avx2", "avxvnni", "avx512vnni", "neon", "wasm"};
    int tested = 0;
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        K = slm_kernels_by_name(backends[i]);
        if (!K) continue;
        tested++;
        printf("backend %s\n", K->name);
        test_quantize();
        test_matmul_quant();
        test_matmul_float();
        test_elementwise();
        test_rope();
        test_rows();
        test_damaged();
        test_matmul_types();
    }
    if (!tested) printf("no SIMD backend in this build; only the reference was checked\n");
    TEST_END();
}
