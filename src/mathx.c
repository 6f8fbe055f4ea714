// Double-precision exp, log, sin/cos from + - * / only (see mathx.h for why).
#include <math.h>

#include "mathx.h"

static double ldexp_bits(double y, int k) {
    // y * 2^k for k in [-1022, 1023], by building 2^k from its exponent bits
    uint64_t bits = (uint64_t)(k + 1023) << 52;
    double p;
    memcpy(&p, &bits, 8);
    return y * p;
}

double slm_exp_d(double x) {
    if (x != x) return x;
    if (x > 700.0) x = 700.0;
    if (x < -700.0) x = -700.0;
    const double magic = 6755399441055744.0;          // 1.5 * 2^52
    const double ln2_hi = 6.93147180369123816490e-01; // low bits zero: k*ln2_hi exact
    const double ln2_lo = 1.90821492927058770002e-10;
    double k = (x * 1.44269504088896338700 + magic) - magic;
    double r = (x - k * ln2_hi) - k * ln2_lo;          // |r| <= 0.35
    double term = 1.0, sum = 1.0;
    for (int i = 1; i <= 16; i++) {
        term = term * r / (double)i;
        sum = sum + term;
    }
    return ldexp_bits(sum, (int)k);
}

double slm_log_d(double x) {
    if (!(x > 0.0)) return -1e308;
    uint64_t bits;
    memcpy(&bits, &x, 8);
    int e = (int)((bits >> 52) & 0x7ff) - 1023;
    bits = (bits & 0x000fffffffffffffull) | 0x3ff0000000000000ull;   // m in [1, 2)
    double m;
    memcpy(&m, &bits, 8);
    if (m > 1.4142135623730951) { m = m * 0.5; e++; }                // m in [0.707, 1.414]
    double s = (m - 1.0) / (m + 1.0), s2 = s * s, pow = s, sum = 0.0;
    for (int i = 1; i <= 41; i += 2) {                                // 2 atanh(s)
        sum = sum + pow / (double)i;
        pow = pow * s2;
    }
    return (double)e * 0.69314718055994530942 + 2.0 * sum;
}

void slm_sincos_d(double x, double *s, double *c) {
    // NaN, infinities and angles past 2^50 (only damaged RoPE factors make
    // them) have no meaningful value here: NaN, which the forward pass reports
    if (!(x > -1125899906842624.0 && x < 1125899906842624.0)) {
        *s = *c = NAN;
        return;
    }
    const double magic = 6755399441055744.0;
    const double pio2_1 = 1.57079632673412561417e+00;  // pi/2 in three parts; k*pio2_1 exact
    const double pio2_2 = 6.07710050630396597660e-11;
    const double pio2_3 = 2.02226624871116645580e-21;
    double k = (x * 6.36619772367581382433e-01 + magic) - magic;
    double r = ((x - k * pio2_1) - k * pio2_2) - k * pio2_3;   // |r| <= pi/4
    double r2 = r * r, sn = 0.0, cs = 0.0, ts = r, tc = 1.0;
    for (int i = 1; i <= 21; i += 2) {                          // Taylor to r^21
        sn = sn + ts;
        cs = cs + tc;
        ts = -ts * r2 / (double)((i + 1) * (i + 2));
        tc = -tc * r2 / (double)(i * (i + 1));
    }
    long q = (long)k & 3;
    if (k < 0) q = (4 - ((long)(-k) & 3)) & 3;
    switch (q) {
    case 0: *s = sn; *c = cs; break;
    case 1: *s = cs; *c = -sn; break;
    case 2: *s = -sn; *c = -cs; break;
    default: *s = -cs; *c = sn; break;
    }
}
