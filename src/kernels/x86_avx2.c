// AVX2 kernels: the same bits as scalar.c, eight lanes at a time.
//
// A ymm register of accumulators is exactly the eight lanes of kernels.h:
// element i of a row lands in lane i%8, each lane adds in increasing i, and
// the lanes are combined in the contract's order at the end. Elements past
// the last multiple of 8 are added in scalar code to the stored lanes.
// No FMA instruction is used (this file is built with -mfma only because the
// flag set is shared); every a*b+c is a multiply, then an add.
// x86_avxvnni.c and x86_avx512vnni.c include this file with SLM_X86_VNNI
// defined (the latter also SLM_X86_VNNI_EVEX).
#if (defined(__x86_64__) || defined(__i386__)) && \
    (!defined(SLM_X86_VNNI) || defined(__AVXVNNI__) || (defined(__AVX512VNNI__) && defined(__AVX512VL__)))

#include <immintrin.h>
#include <math.h>

#include "../mathx.h"
#include "kernels.h"

// ---- lane sums ---------------------------------------------------------------

// ((l0+l4) + (l2+l6)) + ((l1+l5) + (l3+l7))
static inline float lanes_combine(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));  // l0+l4, l1+l5, l2+l6, l3+l7
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));                                           // (l0+l4)+(l2+l6), (l1+l5)+(l3+l7)
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

// Lanes v plus the scalar tail terms a[i]*b[i] for i in [i0, n), then combined.
static inline float lanes_finish_dot(__m256 v, const float *a, const float *b, int i0, int n) {
    float l[8];
    _mm256_storeu_ps(l, v);
    for (int i = i0; i < n; i++) l[i % 8] = l[i % 8] + a[i] * b[i];
    return slm_lanes_combine(l);
}

static float dot(const float *a, const float *b, int n) {
    __m256 acc = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= n; i += 8)
        acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    return lanes_finish_dot(acc, a, b, i, n);
}

// ---- activation quantization -------------------------------------------------

// The bits of |v| as int32 lanes.
static inline __m256i abs_bits(__m256 v) { return _mm256_and_si256(_mm256_castps_si256(v), _mm256_set1_epi32(0x7fffffff)); }

static void quantize_acts(const float *x, int T, int n, slm_acts *a) {
    const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
    const __m256i unzip = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    int nb = n / SLM_QK;
    for (size_t blk = 0; blk < (size_t)T * nb; blk++) {
        const float *xb = x + blk * SLM_QK;
        __m256 v0 = _mm256_loadu_ps(xb), v1 = _mm256_loadu_ps(xb + 8);
        __m256 v2 = _mm256_loadu_ps(xb + 16), v3 = _mm256_loadu_ps(xb + 24);
        // amax as bits: the largest |x| as an integer (kernels.h)
        __m256i m = _mm256_max_epi32(_mm256_max_epi32(abs_bits(v0), abs_bits(v1)), _mm256_max_epi32(abs_bits(v2), abs_bits(v3)));
        __m128i m4 = _mm_max_epi32(_mm256_castsi256_si128(m), _mm256_extracti128_si256(m, 1));
        m4 = _mm_max_epi32(m4, _mm_shuffle_epi32(m4, 0x4e));
        m4 = _mm_max_epi32(m4, _mm_shuffle_epi32(m4, 0xb1));
        uint32_t amax_bits = (uint32_t)_mm_cvtsi128_si32(m4);
        if (slm_acts_unscaled(amax_bits, a, blk)) continue;
        float d = slm_bits_to_f32(amax_bits) / 127.0f;
        __m256 id = _mm256_set1_ps(1.0f / d);
        // round to nearest even (the default MXCSR mode, as nearbyintf uses)
        __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(v0, id)), i1 = _mm256_cvtps_epi32(_mm256_mul_ps(v1, id));
        __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(v2, id)), i3 = _mm256_cvtps_epi32(_mm256_mul_ps(v3, id));
        // the packs work per 128-bit half; the permute puts the 32 bytes back in order
        __m256i q = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
        q = _mm256_permutevar8x32_epi32(q, unzip);
        _mm256_storeu_si256((__m256i *)(a->q + blk * SLM_QK), q);
        __m256i g = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, q), ones16);
        _mm256_storeu_si256((__m256i *)(a->g + blk * SLM_QK / 4), g);
#ifdef SLM_X86_VNNI
        // the sums' starts of unsigned_dot: -8g (Q4_0), -128g (Q8_0)
        __m256i *aux = (__m256i *)((uint8_t *)a->aux + blk * SLM_ACTS_AUX);
        _mm256_storeu_si256(aux, _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(g, 3)));
        _mm256_storeu_si256(aux + 1, _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(g, 7)));
#endif
        a->d[blk] = d;
    }
    a->T = T;
    a->n = n;
}

// ---- quantized matrix products -----------------------------------------------
//
// The exact integer p of each lane (kernels.h), AVX2: maddubs multiplies
// unsigned by signed bytes and adds neighbours into int16 (at most
// 2*128*127 = 32512 here: it never saturates), then madd with ones adds
// those pairs. AVX-VNNI (x86_avxvnni.c builds this file again): vpdpbusd does
// the same multiply and the whole group-of-4 sum in one instruction, added
// to its accumulator. Two forms:
//   unsigned weights u: Q4_0 nibbles 0..15 (the -8 taken out as -8*g, g
//     being the group sums in slm_acts), and for VNNI also Q8_0 as w + 128
//     (-128*g);
//   signed weights w (AVX2: Q8_0, and Q4_0's nibble - 8 in panels):
//     maddubs(|w|, a with w's sign); |-128| is 128 as an unsigned byte, so
//     Q8_0's -128 is exact.
// Then lane = lane + (float)p * s, s broadcast from memory.
//
// T = 1 (decoding) streams 2 rows at a time from memory, unpacking on the fly.
// T > 1 goes by 4 rows and 2 tokens: 8 accumulators of 8 lanes, each unpacked
// weight block used for 2 tokens and each activation block for 4 rows. A panel
// holds 4 rows x KC blocks of weights unpacked once and serves every token.

// The 32 nibbles of a Q4_0 block as bytes in element order: bytes 0..15 are
// qs & 15 (elements 0..15), bytes 16..31 are qs >> 4 (elements 16..31).
static inline __m256i q4_unpack(const uint8_t *qs) {
    __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qs));
    return _mm256_and_si256(_mm256_srlv_epi32(v, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4)), _mm256_set1_epi8(15));
}

// The group sums' offset of unsigned weights u = w + k (k = 8 or 128) with
// activations q of group sums g: p = sum u*q - k*g. The "bias" is what
// unsigned_dot needs: AVX2 subtracts k*g, VNNI starts its sums at -k*g
// (ready in slm_acts.aux). bias_row points at token t's block b0,
// act_bias(row, b, q8) gives the bias of block b0 + b.
static inline const uint8_t *bias_row(const slm_acts *a, int t, int b0, int q8) {
    size_t blk = (size_t)t * (a->n / SLM_QK) + (size_t)b0;
#ifdef SLM_X86_VNNI
    return (const uint8_t *)a->aux + blk * SLM_ACTS_AUX + (q8 ? 32 : 0);
#else
    (void)q8;
    return (const uint8_t *)(a->g + blk * (SLM_QK / 4));
#endif
}

static inline __m256i act_bias(const uint8_t *row, int b, int q8) {
#ifdef SLM_X86_VNNI
    (void)q8;
    return _mm256_loadu_si256((const __m256i *)(row + (size_t)b * SLM_ACTS_AUX));
#else
    return _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(row + (size_t)b * 32)), q8 ? 7 : 3);
#endif
}

// p of unsigned weights u with activations q (bias from act_bias).
static inline __m256i unsigned_dot(__m256i u, __m256i q, __m256i bias) {
#if defined(SLM_X86_VNNI_EVEX)
    return _mm256_dpbusd_epi32(bias, u, q);
#elif defined(SLM_X86_VNNI)
    return _mm256_dpbusd_avx_epi32(bias, u, q);
#else
    return _mm256_sub_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(u, q), _mm256_set1_epi16(1)), bias);
#endif
}

// p of signed weights w (|w| given as unsigned bytes) with activations q.
static inline __m256i signed_dot(__m256i w_abs, __m256i w, __m256i q) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(w_abs, _mm256_sign_epi8(q, w)), _mm256_set1_epi16(1));
}

// lane = lane + (float)p * s
static inline __m256 lanes_add(__m256 acc, __m256i p, const float *s) {
    return _mm256_add_ps(acc, _mm256_mul_ps(_mm256_cvtepi32_ps(p), _mm256_broadcast_ss(s)));
}

// Token t's activations of block b.
static inline __m256i act_q(const slm_acts *a, int t, int b) {
    return _mm256_loadu_si256((const __m256i *)(a->q + (size_t)t * a->n + (size_t)b * SLM_QK));
}

// ---- T = 1: one pass over the weights, straight from memory ----

// p of one row's block (blk: its quants) with the activations q.
static inline __m256i row_block_dot(const uint8_t *blk, __m256i q, __m256i bias, int q8) {
    if (!q8) return unsigned_dot(q4_unpack(blk), q, bias);
    __m256i w = _mm256_loadu_si256((const __m256i *)blk);
#ifdef SLM_X86_VNNI
    return unsigned_dot(_mm256_xor_si256(w, _mm256_set1_epi8(-128)), q, bias);  // w + 128 as unsigned
#else
    return signed_dot(_mm256_abs_epi8(w), w, q);
#endif
}

// Bytes the mat-vec prefetches ahead of its reads: about DRAM latency times
// bandwidth. Measured on a Zen 4 EPYC (4 rows per pass then): a token ~15%
// faster than prefetching just the next rows; anything from 3 to 12 KB about
// the same. On a Xeon (Sapphire Rapids class, bench_kernels --cpu): 2.3 to
// 4 KB ~5 % faster than 4.6 KB, 1.2 KB 15 % slower; prefetching each row's
// own blocks ahead instead of sweeping the rows' bytes, or into L2 only
// (T1, T2), no better.
#define PREFETCH_AHEAD 3072

// Weight scale times activation scale for blocks [0, cnt) (cnt <= 8) of a row
// whose blocks lie block_bytes apart (the fp16 scale first in each).
static inline __m256 row_scales(const uint8_t *blk, size_t block_bytes, const float *ad, int cnt) {
    if (cnt == 8) {  // one insert per half: cheaper here than a gather or a stack round trip
        __m128i h = _mm_cvtsi32_si128(*(const uint16_t *)blk);
        h = _mm_insert_epi16(h, *(const short *)(blk + block_bytes), 1);
        h = _mm_insert_epi16(h, *(const short *)(blk + 2 * block_bytes), 2);
        h = _mm_insert_epi16(h, *(const short *)(blk + 3 * block_bytes), 3);
        h = _mm_insert_epi16(h, *(const short *)(blk + 4 * block_bytes), 4);
        h = _mm_insert_epi16(h, *(const short *)(blk + 5 * block_bytes), 5);
        h = _mm_insert_epi16(h, *(const short *)(blk + 6 * block_bytes), 6);
        h = _mm_insert_epi16(h, *(const short *)(blk + 7 * block_bytes), 7);
        return _mm256_mul_ps(_mm256_cvtph_ps(h), _mm256_loadu_ps(ad));
    }
    short h[8] = {0};
    float d[8] = {0};
    for (int k = 0; k < cnt; k++) h[k] = *(const short *)(blk + k * block_bytes), d[k] = ad[k];
    return _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)h)), _mm256_loadu_ps(d));
}

// y[r] for rows [r0, r1), 2 rows per pass sharing each activation block; the
// scales of 8 blocks at a time are converted together. (2 rows: the weights
// stream from DRAM, and fewer streams read faster than 4 with the same
// prefetching: a token 4 % faster on a Xeon, as fast as 1 row per pass.)
static inline __attribute__((always_inline)) void
matvec_quant(const void *W, const slm_acts *a, int r0, int r1, float *y, int q8) {
    int nb = a->n / SLM_QK;
    size_t bb = q8 ? sizeof(slm_block_q8_0) : sizeof(slm_block_q4_0);
#ifdef SLM_X86_VNNI
    int use_bias = 1;  // both types go unsigned
#else
    int use_bias = !q8;
#endif
    const uint8_t *biases = bias_row(a, 0, 0, q8);
    for (int r = r0; r < r1; r += 2) {
        const uint8_t *x0 = (const uint8_t *)W + (size_t)r * nb * bb;
        const uint8_t *x1 = (const uint8_t *)W + (size_t)(r + 1 < r1 ? r + 1 : r) * nb * bb;  // past r1: row r again
        __m256 c0 = _mm256_setzero_ps(), c1 = c0;
        for (int b0 = 0; b0 < nb; b0 += 8) {
            int cnt = nb - b0 < 8 ? nb - b0 : 8;
            float s[2][8];
            _mm256_storeu_ps(s[0], row_scales(x0 + b0 * bb, bb, a->d + b0, cnt));
            _mm256_storeu_ps(s[1], row_scales(x1 + b0 * bb, bb, a->d + b0, cnt));
            // The 2 rows lie together in memory and this pass reads them at 2
            // blocks per step: prefetch that far past the current position
            // (an address, not a pointer: it may pass the end of W).
            uintptr_t next = (uintptr_t)x0 + 2 * b0 * bb + PREFETCH_AHEAD;
            for (size_t off = 0; off < 2 * 8 * bb; off += 64) _mm_prefetch((const char *)(next + off), _MM_HINT_T0);
            for (int k = 0; k < cnt; k++) {
                size_t b = (size_t)(b0 + k), off = b * bb + 2;
                __m256i q = act_q(a, 0, (int)b);
                __m256i bias = use_bias ? act_bias(biases, (int)b, q8) : _mm256_setzero_si256();
                c0 = lanes_add(c0, row_block_dot(x0 + off, q, bias, q8), &s[0][k]);
                c1 = lanes_add(c1, row_block_dot(x1 + off, q, bias, q8), &s[1][k]);
            }
        }
        y[r] = lanes_combine(c0);
        if (r + 1 < r1) y[r + 1] = lanes_combine(c1);
    }
}

// ---- T > 1: panels of unpacked weights that every token reuses ----
//
// AVX2: a panel holds both types the same way, as signed weights w (Q4_0:
// nibble - 8) and |w|, so that each product is signed_dot: no g needed, and
// the sign op costs what the subtraction of 8*g would. VNNI: unsigned
// weights (as for T = 1), each token's block starting its sums at the bias.

#define KC 64  // blocks per panel
#define TC 32  // tokens per pass; their accumulators wait on the stack between panels

typedef struct {
#ifndef SLM_X86_VNNI
    __m256i w_abs[KC][4];  // [block][row] |w| (as unsigned bytes)
#endif
    __m256i w[KC][4];      // [block][row] w (VNNI: unsigned)
    float d[KC][4];        // [block][row] weight scales
} panel;

static inline __m128 f16x4_to_f32(uint16_t h0, uint16_t h1, uint16_t h2, uint16_t h3) {
    return _mm_cvtph_ps(_mm_setr_epi16((short)h0, (short)h1, (short)h2, (short)h3, 0, 0, 0, 0));
}

// Blocks b0..b0+nblk-1 of 4 rows (rows[i] = row i's first block) into p.
static void panel_fill(panel *p, const uint8_t *const rows[4], int b0, int nblk, int q8) {
    size_t bb = q8 ? sizeof(slm_block_q8_0) : sizeof(slm_block_q4_0);
    for (int b = 0; b < nblk; b++) {
        uint16_t d[4];
        for (int i = 0; i < 4; i++) {
            const uint8_t *blk = rows[i] + (size_t)(b0 + b) * bb;  // fp16 scale, then the quants
#ifdef SLM_X86_VNNI
            p->w[b][i] = q8 ? _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(blk + 2)), _mm256_set1_epi8(-128))
                            : q4_unpack(blk + 2);
#else
            __m256i w = q8 ? _mm256_loadu_si256((const __m256i *)(blk + 2))
                           : _mm256_sub_epi8(q4_unpack(blk + 2), _mm256_set1_epi8(8));
            p->w_abs[b][i] = _mm256_abs_epi8(w);
            p->w[b][i] = w;
#endif
            memcpy(&d[i], blk, 2);
        }
        _mm_store_ps(p->d[b], f16x4_to_f32(d[0], d[1], d[2], d[3]));
    }
}

// Scales s = (weight scale) * (activation scale) of panel blocks [0, nblk)
// for token t, s[b][i] for row i, computed ahead so that the block loop only
// broadcasts them from memory.
static inline void panel_scales(const panel *p, int nblk, const slm_acts *a, int t, int b0, float s[][4]) {
    const float *ad = a->d + (size_t)t * (a->n / SLM_QK) + b0;
    for (int b = 0; b < nblk; b++) _mm_storeu_ps(s[b], _mm_mul_ps(_mm_load_ps(p->d[b]), _mm_set1_ps(ad[b])));
}

// p of panel block b, row i, with activations q (bias: panel_bias).
static inline __m256i panel_dot(const panel *p, int b, int i, __m256i q, __m256i bias) {
#ifdef SLM_X86_VNNI
    return unsigned_dot(p->w[b][i], q, bias);
#else
    (void)bias;
    return signed_dot(p->w_abs[b][i], p->w[b][i], q);
#endif
}

// Token t's biases for panel_dot from block b0 on (none for AVX2's signed panels).
static inline const uint8_t *panel_biases(const slm_acts *a, int t, int b0, int q8) {
#ifdef SLM_X86_VNNI
    return bias_row(a, t, b0, q8);
#else
    (void)a, (void)t, (void)b0, (void)q8;
    return NULL;
#endif
}

// The bias of panel block b (biases from panel_biases).
static inline __m256i panel_bias(const uint8_t *biases, int b, int q8) {
#ifdef SLM_X86_VNNI
    return act_bias(biases, b, q8);
#else
    (void)biases, (void)b, (void)q8;
    return _mm256_setzero_si256();
#endif
}

// Accumulates panel blocks [0, nblk) (activation blocks b0..) of 4 rows into
// acc[i] (row i) for token t.
static inline __attribute__((always_inline)) void
panel_token(const panel *p, int nblk, const slm_acts *a, int t, int b0, __m256 acc[4], int q8) {
    float s[KC][4];
    panel_scales(p, nblk, a, t, b0, s);
    const uint8_t *biases = panel_biases(a, t, b0, q8);
    __m256 c0 = acc[0], c1 = acc[1], c2 = acc[2], c3 = acc[3];
    for (int b = 0; b < nblk; b++) {
        __m256i q = act_q(a, t, b0 + b), bias = panel_bias(biases, b, q8);
        c0 = lanes_add(c0, panel_dot(p, b, 0, q, bias), &s[b][0]);
        c1 = lanes_add(c1, panel_dot(p, b, 1, q, bias), &s[b][1]);
        c2 = lanes_add(c2, panel_dot(p, b, 2, q, bias), &s[b][2]);
        c3 = lanes_add(c3, panel_dot(p, b, 3, q, bias), &s[b][3]);
    }
    acc[0] = c0, acc[1] = c1, acc[2] = c2, acc[3] = c3;
}

// The same for tokens t and t+1 into acc and acc_next.
static inline __attribute__((always_inline)) void
panel_token_pair(const panel *p, int nblk, const slm_acts *a, int t, int b0, __m256 acc[4], __m256 acc_next[4], int q8) {
    float s[KC][4], se[KC][4];
    panel_scales(p, nblk, a, t, b0, s);
    panel_scales(p, nblk, a, t + 1, b0, se);
    __m256 c0 = acc[0], c1 = acc[1], c2 = acc[2], c3 = acc[3];
    __m256 e0 = acc_next[0], e1 = acc_next[1], e2 = acc_next[2], e3 = acc_next[3];
    const uint8_t *biases = panel_biases(a, t, b0, q8), *biases_e = panel_biases(a, t + 1, b0, q8);
    for (int b = 0; b < nblk; b++) {
        __m256i q = act_q(a, t, b0 + b), qe = act_q(a, t + 1, b0 + b);
        __m256i bias = panel_bias(biases, b, q8), bias_e = panel_bias(biases_e, b, q8);
        c0 = lanes_add(c0, panel_dot(p, b, 0, q, bias), &s[b][0]);
        e0 = lanes_add(e0, panel_dot(p, b, 0, qe, bias_e), &se[b][0]);
        c1 = lanes_add(c1, panel_dot(p, b, 1, q, bias), &s[b][1]);
        e1 = lanes_add(e1, panel_dot(p, b, 1, qe, bias_e), &se[b][1]);
        c2 = lanes_add(c2, panel_dot(p, b, 2, q, bias), &s[b][2]);
        e2 = lanes_add(e2, panel_dot(p, b, 2, qe, bias_e), &se[b][2]);
        c3 = lanes_add(c3, panel_dot(p, b, 3, q, bias), &s[b][3]);
        e3 = lanes_add(e3, panel_dot(p, b, 3, qe, bias_e), &se[b][3]);
    }
    acc[0] = c0, acc[1] = c1, acc[2] = c2, acc[3] = c3;
    acc_next[0] = e0, acc_next[1] = e1, acc_next[2] = e2, acc_next[3] = e3;
}

// Y rows [r0, r1) for either quantized type.
static void matmul_quant(const void *W, const slm_acts *a, int r0, int r1, float *Y, int ldy, int q8) {
    int nb = a->n / SLM_QK;
    size_t row_bytes = (size_t)nb * (q8 ? sizeof(slm_block_q8_0) : sizeof(slm_block_q4_0));
    panel p;
    __m256 accs[TC][4];  // [token][row]
    for (int r = r0; r < r1; r += 4) {
        const uint8_t *rows[4];
        for (int i = 0; i < 4; i++)  // past r1, repeat the last row (its results are dropped)
            rows[i] = (const uint8_t *)W + (size_t)(r + i < r1 ? r + i : r1 - 1) * row_bytes;
        // one panel holds the whole row (our models' widths, up to 2048): fill it once for all tokens
        if (nb <= KC) panel_fill(&p, rows, 0, nb, q8);
        for (int t0 = 0; t0 < a->T; t0 += TC) {
            int nt = a->T - t0 < TC ? a->T - t0 : TC;
            for (int t = 0; t < nt; t++)
                for (int i = 0; i < 4; i++) accs[t][i] = _mm256_setzero_ps();
            for (int b0 = 0; b0 < nb; b0 += KC) {
                int nblk = nb - b0 < KC ? nb - b0 : KC;
                if (nb > KC) panel_fill(&p, rows, b0, nblk, q8);
                int t = 0;
                for (; t + 2 <= nt; t += 2) panel_token_pair(&p, nblk, a, t0 + t, b0, accs[t], accs[t + 1], q8);
                if (t < nt) panel_token(&p, nblk, a, t0 + t, b0, accs[t], q8);
            }
            for (int t = 0; t < nt; t++)
                for (int i = 0; i < 4 && r + i < r1; i++)
                    Y[(size_t)(t0 + t) * ldy + r + i] = lanes_combine(accs[t][i]);
        }
    }
}

static void matmul_q4_0(const void *W, const slm_acts *a, int r0, int r1, float *Y, int ldy) {
    if (a->T == 1) matvec_quant(W, a, r0, r1, Y, 0);
    else matmul_quant(W, a, r0, r1, Y, ldy, 0);
}

static void matmul_q8_0(const void *W, const slm_acts *a, int r0, int r1, float *Y, int ldy) {
    if (a->T == 1) matvec_quant(W, a, r0, r1, Y, 1);
    else matmul_quant(W, a, r0, r1, Y, ldy, 1);
}

// ---- float matrix products ---------------------------------------------------
//
// 4 rows x 2 tokens per pass, like the quantized ones; f16 weights are widened
// with F16C (exact).

static inline __m256 load_w8(const void *W, size_t i, int f16) {
    if (f16) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)W + i)));
    return _mm256_loadu_ps((const float *)W + i);
}

static inline float w_at(const void *W, size_t i, int f16) {
    return f16 ? slm_f16_to_f32(((const uint16_t *)W)[i]) : ((const float *)W)[i];
}

// acc = acc + w*x for the 8 weights at W[i..] (row offset i)
static inline __m256 mul_add_w8(__m256 acc, const void *W, size_t i, __m256 x, int f16) {
    return _mm256_add_ps(acc, _mm256_mul_ps(load_w8(W, i, f16), x));
}

// Lanes acc plus the scalar tail k..n-1 of row (offset row into W) times x, combined.
static inline float float_finish(__m256 acc, const void *W, size_t row, const float *x, int k, int n, int f16) {
    float l[8];
    _mm256_storeu_ps(l, acc);
    for (int j = k; j < n; j++) l[j % 8] = l[j % 8] + w_at(W, row + j, f16) * x[j];
    return slm_lanes_combine(l);
}

// out[i][u] = row i (offset row[i] into W) . x_u, for x0 and, if two, x1.
static inline __attribute__((always_inline)) void
float_tile(const void *W, const size_t row[4], const float *x0, const float *x1, int two, int n, float out[4][2], int f16) {
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, e0 = c0, e1 = c0, e2 = c0, e3 = c0;
    int k = 0;
    for (; k + 8 <= n; k += 8) {
        __m256 xv0 = _mm256_loadu_ps(x0 + k);
        c0 = mul_add_w8(c0, W, row[0] + k, xv0, f16);
        c1 = mul_add_w8(c1, W, row[1] + k, xv0, f16);
        c2 = mul_add_w8(c2, W, row[2] + k, xv0, f16);
        c3 = mul_add_w8(c3, W, row[3] + k, xv0, f16);
        if (two) {
            __m256 xv1 = _mm256_loadu_ps(x1 + k);
            e0 = mul_add_w8(e0, W, row[0] + k, xv1, f16);
            e1 = mul_add_w8(e1, W, row[1] + k, xv1, f16);
            e2 = mul_add_w8(e2, W, row[2] + k, xv1, f16);
            e3 = mul_add_w8(e3, W, row[3] + k, xv1, f16);
        }
    }
    out[0][0] = float_finish(c0, W, row[0], x0, k, n, f16);
    out[1][0] = float_finish(c1, W, row[1], x0, k, n, f16);
    out[2][0] = float_finish(c2, W, row[2], x0, k, n, f16);
    out[3][0] = float_finish(c3, W, row[3], x0, k, n, f16);
    if (two) {
        out[0][1] = float_finish(e0, W, row[0], x1, k, n, f16);
        out[1][1] = float_finish(e1, W, row[1], x1, k, n, f16);
        out[2][1] = float_finish(e2, W, row[2], x1, k, n, f16);
        out[3][1] = float_finish(e3, W, row[3], x1, k, n, f16);
    }
}

static inline __attribute__((always_inline)) void
matmul_float(const void *W, const float *X, int T, int n, int r0, int r1, float *Y, int ldy, int f16) {
    for (int r = r0; r < r1; r += 4) {
        size_t row[4];
        for (int i = 0; i < 4; i++) row[i] = (size_t)(r + i < r1 ? r + i : r1 - 1) * n;
        for (int t = 0; t < T; t += 2) {
            int ntok = T - t >= 2 ? 2 : 1;
            float out[4][2];
            const float *x0 = X + (size_t)t * n;
            if (ntok == 2) float_tile(W, row, x0, x0 + n, 1, n, out, f16);
            else float_tile(W, row, x0, x0, 0, n, out, f16);
            for (int i = 0; i < 4 && r + i < r1; i++)
                for (int u = 0; u < ntok; u++) Y[(size_t)(t + u) * ldy + r + i] = out[i][u];
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
    __m256 av = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_mul_ps(av, _mm256_loadu_ps(x + i))));
    for (; i < n; i++) y[i] = y[i] + a * x[i];
}

// 4 rows at a time, sharing the loads of x.
static void dot_rows(const float *x, const float *rows, size_t stride, int m, int n, float *out) {
    int r = 0;
    for (; r + 4 <= m; r += 4) {
        const float *w0 = rows + (size_t)r * stride, *w1 = w0 + stride, *w2 = w1 + stride, *w3 = w2 + stride;
        __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            __m256 xv = _mm256_loadu_ps(x + i);
            c0 = _mm256_add_ps(c0, _mm256_mul_ps(xv, _mm256_loadu_ps(w0 + i)));
            c1 = _mm256_add_ps(c1, _mm256_mul_ps(xv, _mm256_loadu_ps(w1 + i)));
            c2 = _mm256_add_ps(c2, _mm256_mul_ps(xv, _mm256_loadu_ps(w2 + i)));
            c3 = _mm256_add_ps(c3, _mm256_mul_ps(xv, _mm256_loadu_ps(w3 + i)));
        }
        if (i == n) {
            out[r] = lanes_combine(c0), out[r + 1] = lanes_combine(c1);
            out[r + 2] = lanes_combine(c2), out[r + 3] = lanes_combine(c3);
        } else {
            out[r] = lanes_finish_dot(c0, x, w0, i, n), out[r + 1] = lanes_finish_dot(c1, x, w1, i, n);
            out[r + 2] = lanes_finish_dot(c2, x, w2, i, n), out[r + 3] = lanes_finish_dot(c3, x, w3, i, n);
        }
    }
    for (; r < m; r++) out[r] = dot(x, rows + (size_t)r * stride, n);
}

// y stays in registers, 32 values at a time, while every row is added to it:
// each y[i] still takes a[0]*x_0[i], a[1]*x_1[i], ... in turn.
static void axpy_rows(const float *a, const float *rows, size_t stride, int m, int n, float *y) {
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 y0 = _mm256_loadu_ps(y + i), y1 = _mm256_loadu_ps(y + i + 8);
        __m256 y2 = _mm256_loadu_ps(y + i + 16), y3 = _mm256_loadu_ps(y + i + 24);
        for (int r = 0; r < m; r++) {
            const float *x = rows + (size_t)r * stride + i;
            __m256 av = _mm256_set1_ps(a[r]);
            y0 = _mm256_add_ps(y0, _mm256_mul_ps(av, _mm256_loadu_ps(x)));
            y1 = _mm256_add_ps(y1, _mm256_mul_ps(av, _mm256_loadu_ps(x + 8)));
            y2 = _mm256_add_ps(y2, _mm256_mul_ps(av, _mm256_loadu_ps(x + 16)));
            y3 = _mm256_add_ps(y3, _mm256_mul_ps(av, _mm256_loadu_ps(x + 24)));
        }
        _mm256_storeu_ps(y + i, y0), _mm256_storeu_ps(y + i + 8, y1);
        _mm256_storeu_ps(y + i + 16, y2), _mm256_storeu_ps(y + i + 24, y3);
    }
    if (i < n)
        for (int r = 0; r < m; r++) axpy(a[r], rows + (size_t)r * stride + i, y + i, n - i);
}

static void add(float *y, const float *x, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_loadu_ps(x + i)));
    for (; i < n; i++) y[i] = y[i] + x[i];
}

static void rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
    float r = 1.0f / sqrtf(dot(x, x, n) / (float)n + eps);
    __m256 rv = _mm256_set1_ps(r);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), rv), _mm256_loadu_ps(w + i)));
    for (; i < n; i++) out[i] = (x[i] * r) * w[i];
}

// slm_expf, step for step (mathx.h). max_ps(LO, x) is "LO > x ? LO : x",
// exactly the scalar clamp, NaN included.
static inline __m256 expf8(__m256 x) {
    x = _mm256_max_ps(_mm256_set1_ps(SLM_EXP_LO), x);
    x = _mm256_min_ps(_mm256_set1_ps(SLM_EXP_HI), x);
    const __m256 magic = _mm256_set1_ps(SLM_ROUND_MAGIC);
    __m256 k = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(SLM_LOG2E)), magic), magic);
    __m256 r = _mm256_sub_ps(x, _mm256_mul_ps(k, _mm256_set1_ps(SLM_LN2_HI)));
    r = _mm256_sub_ps(r, _mm256_mul_ps(k, _mm256_set1_ps(SLM_LN2_LO)));
    __m256 p = _mm256_set1_ps(SLM_EXP_P0);
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(SLM_EXP_P1));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(SLM_EXP_P2));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(SLM_EXP_P3));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(SLM_EXP_P4));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(SLM_EXP_P5));
    __m256 y = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(p, _mm256_mul_ps(r, r)), r), _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(k), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

// The maximum's sign of zero may differ from the scalar scan's when +0 and -0
// tie, which cannot change any x - m that slm_expf sees (both give r = +0).
static void softmax(float *x, int n) {
    __m256 mv = _mm256_set1_ps(x[0]);
    int i = 0;
    for (; i + 8 <= n; i += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(x + i));
    float l[8];
    _mm256_storeu_ps(l, mv);
    float m = l[0];
    for (int j = 1; j < 8; j++) m = l[j] > m ? l[j] : m;
    for (; i < n; i++) m = x[i] > m ? x[i] : m;

    __m256 mb = _mm256_set1_ps(m), sum = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 e = expf8(_mm256_sub_ps(_mm256_loadu_ps(x + i), mb));
        _mm256_storeu_ps(x + i, e);
        sum = _mm256_add_ps(sum, e);
    }
    _mm256_storeu_ps(l, sum);
    for (int j = i; j < n; j++) {
        x[j] = slm_expf(x[j] - m);
        l[j % 8] = l[j % 8] + x[j];
    }
    float inv = 1.0f / slm_lanes_combine(l);
    __m256 iv = _mm256_set1_ps(inv);
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), iv));
    for (; i < n; i++) x[i] = x[i] * inv;
}

// out = act(gate) * up with act SiLU (x / (1 + exp(-x))) or GELU (x / (1 + exp(-u)), u as mathx.h says).
static inline void gated(float *out, const float *gate, const float *up, int n, int gelu) {
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
    const __m256 k1 = _mm256_set1_ps(SLM_GELU_K1), k3 = _mm256_set1_ps(SLM_GELU_K3);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 g = _mm256_loadu_ps(gate + i);
        __m256 u = gelu ? _mm256_mul_ps(g, _mm256_add_ps(k1, _mm256_mul_ps(k3, _mm256_mul_ps(g, g)))) : g;
        __m256 act = _mm256_div_ps(g, _mm256_add_ps(one, expf8(_mm256_xor_ps(u, sign))));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(act, _mm256_loadu_ps(up + i)));
    }
    for (; i < n; i++) out[i] = (gelu ? slm_geluf(gate[i]) : slm_siluf(gate[i])) * up[i];
}

static void swiglu(float *out, const float *gate, const float *up, int n) { gated(out, gate, up, n, 0); }
static void geglu(float *out, const float *gate, const float *up, int n) { gated(out, gate, up, n, 1); }

// Eight pairs at a time: the halves are contiguous, no shuffles.
static void rope_neox(float *x, int n_heads, int head_dim, const float *cos, const float *sin) {
    int half = head_dim / 2;
    for (int h = 0; h < n_heads; h++) {
        float *v = x + (size_t)h * head_dim;
        int i = 0;
        for (; i + 8 <= half; i += 8) {
            __m256 x0 = _mm256_loadu_ps(v + i), x1 = _mm256_loadu_ps(v + half + i);
            __m256 c = _mm256_loadu_ps(cos + i), s = _mm256_loadu_ps(sin + i);
            _mm256_storeu_ps(v + i, _mm256_sub_ps(_mm256_mul_ps(x0, c), _mm256_mul_ps(x1, s)));
            _mm256_storeu_ps(v + half + i, _mm256_add_ps(_mm256_mul_ps(x0, s), _mm256_mul_ps(x1, c)));
        }
        slm_rope_neox_pairs(v, i, half, cos, sin);
    }
}

// Four pairs per register: with v = (x0, x1, ...) and its pair-swap (x1, x0, ...),
// addsub(v*c, swap*s) = (x0*c - x1*s, x1*c + x0*s); the odd sum is the
// scalar's x0*s + x1*c, since addition commutes exactly.
static void rope(float *x, int n_heads, int head_dim, const float *cos, const float *sin) {
    int half = head_dim / 2;
    for (int h = 0; h < n_heads; h++) {
        float *v = x + (size_t)h * head_dim;
        int i = 0;
        for (; i + 4 <= half; i += 4) {
            __m128 c4 = _mm_loadu_ps(cos + i), s4 = _mm_loadu_ps(sin + i);
            __m256 c = _mm256_set_m128(_mm_unpackhi_ps(c4, c4), _mm_unpacklo_ps(c4, c4));
            __m256 s = _mm256_set_m128(_mm_unpackhi_ps(s4, s4), _mm_unpacklo_ps(s4, s4));
            __m256 xv = _mm256_loadu_ps(v + 2 * i);
            __m256 sw = _mm256_permute_ps(xv, 0xb1);
            _mm256_storeu_ps(v + 2 * i, _mm256_addsub_ps(_mm256_mul_ps(xv, c), _mm256_mul_ps(sw, s)));
        }
        for (; i < half; i++) {
            float x0 = v[2 * i], x1 = v[2 * i + 1], c = cos[i], s = sin[i];
            v[2 * i] = x0 * c - x1 * s;
            v[2 * i + 1] = x0 * s + x1 * c;
        }
    }
}

// ---- row dequantization ------------------------------------------------------

// 32 int8 values times d, into out[0..31].
static inline void store_scaled_i8(float *out, __m256i q, float d) {
    __m256 dv = _mm256_set1_ps(d);
    __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    _mm256_storeu_ps(out, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo)), dv));
    _mm256_storeu_ps(out + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8))), dv));
    _mm256_storeu_ps(out + 16, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi)), dv));
    _mm256_storeu_ps(out + 24, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8))), dv));
}

static void row_q4_0(const void *W, int row, int n, float *out) {
    const slm_block_q4_0 *blk = (const slm_block_q4_0 *)W + (size_t)row * (n / SLM_QK);
    const __m128i low4 = _mm_set1_epi8(15), eight = _mm_set1_epi8(8);
    for (int b = 0; b < n / SLM_QK; b++) {
        __m128i qs = _mm_loadu_si128((const __m128i *)blk[b].qs);
        __m128i lo = _mm_sub_epi8(_mm_and_si128(qs, low4), eight);
        __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(qs, 4), low4), eight);
        store_scaled_i8(out + b * SLM_QK, _mm256_set_m128i(hi, lo), slm_f16_to_f32(blk[b].d));
    }
}

static void row_q8_0(const void *W, int row, int n, float *out) {
    const slm_block_q8_0 *blk = (const slm_block_q8_0 *)W + (size_t)row * (n / SLM_QK);
    for (int b = 0; b < n / SLM_QK; b++)
        store_scaled_i8(out + b * SLM_QK, _mm256_loadu_si256((const __m256i *)blk[b].qs), slm_f16_to_f32(blk[b].d));
}

static void row_f16(const uint16_t *W, int row, int n, float *out) {
    const uint16_t *w = W + (size_t)row * n;
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + i))));
    for (; i < n; i++) out[i] = slm_f16_to_f32(w[i]);
}

// ---- every other quantized type: the common form (kernels.h) -------------------
//
// Q4_K and Q6_K have their own loop (matmul_k). The other types' blocks are
// unpacked to int8 (here Q5_K and Q5_0, by blocks.c the rest), then one
// product serves them all: the exact group-of-4 sums as for Q8_0, times the
// half's integer scale, into the lanes, and the min term.

// 32 bytes with byte e = 16 if bit e of h is set, else 0.
static inline __m256i bit_bytes_16(uint32_t h) {
    const __m256i which = _mm256_setr_epi64x(0, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32((int)h), which);   // byte e: byte e/8 of h
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit), _mm256_set1_epi8(16));
}

static inline void unpack_block(uint32_t type, const uint8_t *row, int b, slm_qblock *q) {
    const __m256i low4 = _mm256_set1_epi8(15);
    int sub = b % 8;
    __m256i w;
    switch (type) {
    case SLM_TYPE_Q5_K: {   // (Q4_K and Q6_K have matmul_k)
        const uint8_t *x = row + (size_t)(b / 8) * 176;
        __m256i v = _mm256_loadu_si256((const __m256i *)(x + 48 + 32 * (sub / 2)));
        __m256i h = _mm256_srl_epi16(_mm256_loadu_si256((const __m256i *)(x + 16)), _mm_cvtsi32_si128(sub));   // bit `sub` of qh
        w = _mm256_or_si256(_mm256_and_si256(sub % 2 ? _mm256_srli_epi16(v, 4) : v, low4),
                            _mm256_slli_epi16(_mm256_and_si256(h, _mm256_set1_epi8(1)), 4));
        break;
    }
    case SLM_TYPE_Q5_0: {
        const uint8_t *x = row + (size_t)b * 22;
        uint32_t h;
        memcpy(&h, x + 2, 4);
        __m128i qs = _mm_loadu_si128((const __m128i *)(x + 6));
        __m256i nib = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(qs, 4), _mm_set1_epi8(15)), _mm_and_si128(qs, _mm_set1_epi8(15)));
        w = _mm256_sub_epi8(_mm256_or_si256(nib, bit_bytes_16(h)), _mm256_set1_epi8(16));
        break;
    }
    default:
        slm_qblock_decode(type, row, b, q);
        return;
    }
    slm_qblock_scales(type, row, b, q);
    _mm256_storeu_si256((__m256i *)q->w, w);
}

// lanes + sc * (w . a in groups of 4) * (d * da) [+ mn * g * (dm * da)], as kernels.h says.
static inline __m256 qblock_lanes(__m256 lanes, const slm_qblock *q, const int8_t *x, const int32_t *g, float da) {
    __m256i w = _mm256_loadu_si256((const __m256i *)q->w), a = _mm256_loadu_si256((const __m256i *)x);
    __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w)), _mm256_set1_epi16(1));
    __m256i sc = _mm256_setr_epi32(q->sc[0], q->sc[0], q->sc[0], q->sc[0], q->sc[1], q->sc[1], q->sc[1], q->sc[1]);
    lanes = _mm256_add_ps(lanes, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_mullo_epi32(p, sc)), _mm256_set1_ps(q->d * da)));
    if (q->has_min) {
        __m256i mn = _mm256_setr_epi32(q->mn[0], q->mn[0], q->mn[0], q->mn[0], q->mn[1], q->mn[1], q->mn[1], q->mn[1]);
        __m256i m = _mm256_mullo_epi32(_mm256_loadu_si256((const __m256i *)g), mn);
        lanes = _mm256_add_ps(lanes, _mm256_mul_ps(_mm256_cvtepi32_ps(m), _mm256_set1_ps(q->dm * da)));
    }
    return lanes;
}

// Q4_K and Q6_K (all of a Q4_K_M file but its Q8_0/Q5_0 fallbacks) have
// their own loops: a super-block's header is read once for its 8 blocks and
// its weights unpacked once for up to 8 tokens; the lanes follow the common
// form's rule exactly ((float)(sc * p) is (float)p * (float)sc, both exact).

// lanes + ((float)p * sc) * s: p the exact group-of-4 sums of unsigned u and a, less off * g.
static inline __m256 k_lanes(__m256 lanes, __m256i u, const int8_t *x, __m256i off_g, __m256 sc, float s) {
    __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(u, _mm256_loadu_si256((const __m256i *)x)), _mm256_set1_epi16(1));
    p = _mm256_sub_epi32(p, off_g);
    return _mm256_add_ps(lanes, _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(p), sc), _mm256_set1_ps(s)));
}

// A Q4_K or Q6_K super-block unpacked for the lanes: 8 blocks of unsigned
// weights, their scales (one per half) and mins as floats, and the float scales.
typedef struct {
    __m256i u[8];
    __m256 sc[8];
    float mn[8], d, dm;
    int has_min, off;   // the mins term; off: the weights' offset as a shift of g (Q6_K: 32 g)
} ksuper;

static inline void unpack_q4_k(const uint8_t *x, ksuper *k) {
    const __m256i low4 = _mm256_set1_epi8(15);
    float sc[8];
    slm_k4_scales(x + 4, sc, k->mn);
    for (int c = 0; c < 4; c++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(x + 16 + 32 * c));
        k->u[2 * c] = _mm256_and_si256(v, low4), k->u[2 * c + 1] = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
    }
    for (int j = 0; j < 8; j++) k->sc[j] = _mm256_set1_ps(sc[j]);
    k->d = slm_f16_to_f32((uint16_t)(x[0] | x[1] << 8)), k->dm = -slm_f16_to_f32((uint16_t)(x[2] | x[3] << 8));
    k->has_min = 1, k->off = 0;
}

// Q6_K's 6-bit values unpacked unsigned (0..63); the -32 comes off as 32 g.
static inline void unpack_q6_k(const uint8_t *x, ksuper *k) {
    const __m256i low4 = _mm256_set1_epi8(15), three = _mm256_set1_epi8(3);
    const int8_t *scales = (const int8_t *)(x + 192);
    for (int half = 0; half < 2; half++) {
        __m256i l0 = _mm256_loadu_si256((const __m256i *)(x + 64 * half));
        __m256i l1 = _mm256_loadu_si256((const __m256i *)(x + 64 * half + 32));
        __m256i h = _mm256_loadu_si256((const __m256i *)(x + 128 + 32 * half));
        __m256i lo[4] = {_mm256_and_si256(l0, low4), _mm256_and_si256(l1, low4),
                         _mm256_and_si256(_mm256_srli_epi16(l0, 4), low4), _mm256_and_si256(_mm256_srli_epi16(l1, 4), low4)};
        for (int q = 0; q < 4; q++) {
            __m256i hq = _mm256_and_si256(_mm256_srli_epi16(h, 2 * q), three);
            k->u[4 * half + q] = _mm256_or_si256(lo[q], _mm256_slli_epi16(hq, 4));
            const int8_t *s2 = scales + 8 * half + 2 * q;
            k->sc[4 * half + q] = _mm256_set_m128(_mm_set1_ps((float)s2[1]), _mm_set1_ps((float)s2[0]));
        }
    }
    k->d = slm_f16_to_f32((uint16_t)(x[208] | x[209] << 8)), k->dm = 0.0f;
    k->has_min = 0, k->off = 5;
}

// Q4_K and Q6_K: a super-block unpacked once for its 8 blocks and up to 8 tokens.
static void matmul_k(uint32_t type, const void *W, const slm_acts *a, int r0, int r1, float *Y, int ldy) {
    enum { TOKENS = 8 };
    int n = a->n, nb = n / SLM_QK, ns = n / SLM_QK_K, bytes = type == SLM_TYPE_Q4_K ? 144 : 210;
    ksuper k;
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)W + (size_t)r * ns * bytes;
        for (int t0 = 0; t0 < a->T; t0 += TOKENS) {
            int t1 = t0 + TOKENS < a->T ? t0 + TOKENS : a->T;
            __m256 lanes[TOKENS];
            for (int t = t0; t < t1; t++) lanes[t - t0] = _mm256_setzero_ps();
            for (int sb = 0; sb < ns; sb++) {
                if (type == SLM_TYPE_Q4_K) unpack_q4_k(row + (size_t)sb * bytes, &k);
                else unpack_q6_k(row + (size_t)sb * bytes, &k);
                for (int t = t0; t < t1; t++) {
                    int b0 = sb * 8;
                    const int8_t *q = a->q + (size_t)t * n + (size_t)b0 * SLM_QK;
                    const int32_t *g = a->g + ((size_t)t * n + (size_t)b0 * SLM_QK) / 4;
                    const float *da = a->d + (size_t)t * nb + b0;
                    __m256 l = lanes[t - t0];
                    for (int j = 0; j < 8; j++) {
                        __m256i gj = _mm256_loadu_si256((const __m256i *)(g + 8 * j));
                        __m256i off = k.off ? _mm256_slli_epi32(gj, k.off) : _mm256_setzero_si256();
                        l = k_lanes(l, k.u[j], q + j * SLM_QK, off, k.sc[j], k.d * da[j]);
                        if (k.has_min) {
                            __m256 m = _mm256_mul_ps(_mm256_cvtepi32_ps(gj), _mm256_set1_ps(k.mn[j]));
                            l = _mm256_add_ps(l, _mm256_mul_ps(m, _mm256_set1_ps(k.dm * da[j])));
                        }
                    }
                    lanes[t - t0] = l;
                }
            }
            for (int t = t0; t < t1; t++) Y[(size_t)t * ldy + r] = lanes_combine(lanes[t - t0]);
        }
    }
}

// As slm_matmul_quant_ref: blocks unpacked 64 at a time, used by up to 16 tokens.
static void matmul_common(uint32_t type, const void *W, const slm_acts *a, int r0, int r1, float *Y, int ldy) {
    enum { BLOCKS = 64, TOKENS = 16 };
    int n = a->n, nb = n / SLM_QK;
    size_t row_bytes = (size_t)slm_quant_row_bytes(type, n);
    if (type == SLM_TYPE_Q4_K || type == SLM_TYPE_Q6_K) {
        matmul_k(type, W, a, r0, r1, Y, ldy);
        return;
    }
    slm_qblock q[BLOCKS];
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)W + (size_t)r * row_bytes;
        for (int t0 = 0; t0 < a->T; t0 += TOKENS) {
            int t1 = t0 + TOKENS < a->T ? t0 + TOKENS : a->T;
            __m256 lanes[TOKENS];
            for (int t = t0; t < t1; t++) lanes[t - t0] = _mm256_setzero_ps();
            for (int b0 = 0; b0 < nb; b0 += BLOCKS) {
                int b1 = b0 + BLOCKS < nb ? b0 + BLOCKS : nb;
                for (int b = b0; b < b1; b++) unpack_block(type, row, b, &q[b - b0]);
                for (int t = t0; t < t1; t++) {
                    const int8_t *x = a->q + (size_t)t * n;
                    const int32_t *g = a->g + (size_t)t * n / 4;
                    const float *da = a->d + (size_t)t * nb;
                    __m256 l = lanes[t - t0];
                    for (int b = b0; b < b1; b++) l = qblock_lanes(l, &q[b - b0], x + b * SLM_QK, g + b * 8, da[b]);
                    lanes[t - t0] = l;
                }
            }
            for (int t = t0; t < t1; t++) Y[(size_t)t * ldy + r] = lanes_combine(lanes[t - t0]);
        }
    }
}

#if defined(SLM_X86_VNNI_EVEX)
const slm_kernels slm_kernels_avx512vnni = {
    .name = "avx512vnni",
#elif defined(SLM_X86_VNNI)
const slm_kernels slm_kernels_avxvnni = {
    .name = "avxvnni",
#else
const slm_kernels slm_kernels_avx2 = {
    .name = "avx2",
#endif
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
