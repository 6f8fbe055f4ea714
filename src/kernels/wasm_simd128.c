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

// Lanes (lo, hi) plus the scalar tail terms a[i]*b[i] for i in [i0, n), combined.
static inline float dot_finish(v128_t lo, v128_t hi, const float *a, const float *b, int i0, int n) {
    float l[8];
    lanes_store(l, lo, hi);
    for (int i = i0; i < n; i++) l[i % 8] = l[i % 8] + a[i] * b[i];
    return slm_lanes_combine(l);
}

static float dot(const float *a, const float *b, int n) {
    v128_t lo = wasm_f32x4_const_splat(0.0f), hi = lo;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        lo = wasm_f32x4_add(lo, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
        hi = wasm_f32x4_add(hi, wasm_f32x4_mul(wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4)));
    }
    return dot_finish(lo, hi, a, b, i, n);
}

// ---- fp16 --------------------------------------------------------------------

// Four halves in the high 16 bits of each 32-bit lane to f32, as
// slm_f16_to_f32. Shifted down arithmetically by 3 and masked, a half becomes
// the f32 sign | exponent | mantissa << 13, which is the value times 2^-112
// (zero and subnormal halves included: they land on f32 subnormals); one
// exact multiply by 2^112 rescales it. Infinities and NaNs (exponent 31) take
// the f32 exponent 255 instead, payload kept.
static inline v128_t f16hi_to_f32(v128_t h) {
    v128_t x = wasm_v128_and(wasm_i32x4_shr(h, 3), wasm_u32x4_const_splat(0x8fffe000));
    v128_t v = wasm_f32x4_mul(x, wasm_f32x4_const_splat(0x1p112f));
    v128_t infnan = wasm_i32x4_eq(wasm_v128_and(x, wasm_i32x4_const_splat(0x0f800000)), wasm_i32x4_const_splat(0x0f800000));
    return wasm_v128_bitselect(wasm_v128_or(x, wasm_i32x4_const_splat(0x7f800000)), v, infnan);
}

// The same for halves in the low 16 bits of each lane.
static inline v128_t f16x4_to_f32(v128_t h) { return f16hi_to_f32(wasm_i32x4_shl(h, 16)); }

static inline v128_t load_f16x4(const uint16_t *p) { return wasm_u32x4_load16x4(p); }

// ---- activation quantization -------------------------------------------------
//
// Besides q, d and g, each block's 32 values go to aux as int16 ("q16"), in
// the order the matrix products want (see below): A0 = elements 0,2,..,14,
// A1 = 1,3,..,15, A2 = 16,18,..,30, A3 = 17,19,..,31, 8 lanes each.

static void quantize_acts(const float *x, int T, int n, slm_acts *a) {
    int nb = n / SLM_QK;
    for (size_t blk = 0; blk < (size_t)T * nb; blk++) {
        const float *xb = x + blk * SLM_QK;
        v128_t v[8];
        for (int k = 0; k < 8; k++) v[k] = wasm_v128_load(xb + 4 * k);
        // amax as bits: the largest |x| as an integer (kernels.h)
        const v128_t abs_mask = wasm_i32x4_const_splat(0x7fffffff);
        v128_t m = wasm_v128_and(v[0], abs_mask);
        for (int k = 1; k < 8; k++) m = wasm_u32x4_max(m, wasm_v128_and(v[k], abs_mask));
        m = wasm_u32x4_max(m, wasm_i32x4_shuffle(m, m, 2, 3, 0, 1));
        m = wasm_u32x4_max(m, wasm_i32x4_shuffle(m, m, 1, 0, 3, 2));
        uint32_t amax_bits = wasm_u32x4_extract_lane(m, 0);
        if (slm_acts_unscaled(amax_bits, a, blk)) continue;
        float d = slm_bits_to_f32(amax_bits) / 127.0f;
        v128_t id = wasm_f32x4_splat(1.0f / d);
        // nearbyintf, ties to even: |v * id| <= 127 plus 1.5 * 2^23 lands where
        // floats are the integers, rounded to nearest even, and the integer is
        // the low bits (one add and one subtract; V8 spends 7 instructions on
        // nearest and trunc_sat)
        const v128_t magic = wasm_f32x4_const_splat(SLM_ROUND_MAGIC);
        v128_t i32[8];
        for (int k = 0; k < 8; k++) i32[k] = wasm_i32x4_sub(wasm_f32x4_add(wasm_f32x4_mul(v[k], id), magic), magic);
        v128_t q0 = wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(i32[0], i32[1]), wasm_i16x8_narrow_i32x4(i32[2], i32[3]));
        v128_t q1 = wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(i32[4], i32[5]), wasm_i16x8_narrow_i32x4(i32[6], i32[7]));
        wasm_v128_store(a->q + blk * SLM_QK, q0);
        wasm_v128_store(a->q + blk * SLM_QK + 16, q1);
        wasm_v128_store(a->g + blk * SLM_QK / 4, wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_extadd_pairwise_i8x16(q0)));
        wasm_v128_store(a->g + blk * SLM_QK / 4 + 4, wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_extadd_pairwise_i8x16(q1)));
        // seen as i16x8, lane k of q0 holds elements 2k (low byte) and 2k+1 (high)
        int16_t *q16 = (int16_t *)a->aux + blk * SLM_QK;
        wasm_v128_store(q16, wasm_i16x8_shr(wasm_i16x8_shl(q0, 8), 8));
        wasm_v128_store(q16 + 8, wasm_i16x8_shr(q0, 8));
        wasm_v128_store(q16 + 16, wasm_i16x8_shr(wasm_i16x8_shl(q1, 8), 8));
        wasm_v128_store(q16 + 24, wasm_i16x8_shr(q1, 8));
        a->d[blk] = d;
    }
    a->T = T;
    a->n = n;
}

// ---- quantized matrix products -----------------------------------------------
//
// The exact integer p of each lane (kernels.h) comes from i32x4.dot_i16x8,
// which multiplies int16 lanes and adds neighbouring pairs, on values ordered
// so that two dots add up to the group-of-4 sums with no shuffle. Seen as
// i16x8, the 16 bytes qs of a Q4_0 block hold in lane k the bytes 2k (low)
// and 2k+1: the nibbles of elements 2k (bits 0-3), 2k+16 (4-7), 2k+1 (8-11)
// and 2k+17 (12-15). Taken apart in the order of q16 (W0 = elements
// 0,2,..,14, W1 = 1,3,..,15, W2 = 16,..,30, W3 = 17,..,31), dot(W0, A0) +
// dot(W1, A1) is lanes [p0 p1 p2 p3] and dot(W2, A2) + dot(W3, A3) is
// [p4 .. p7]. The nibble - 8 is the nibble xor 8 read as a signed 4-bit
// number: one xor per block, then each nibble shifted to the top and back
// arithmetically. Q8_0's two halves give even and odd elements by
// (v << 8) >> 8 and v >> 8. Then lane = lane + (float)p * s.
//
// T = 1 (decoding) streams 2 rows at a time from memory, taking the weights
// apart on the fly. T > 1 takes each 4-row group's weights apart once into a
// panel (int16, plus the scales as f32) that every token then reuses.

// The 32 weights of a block (blk: its first byte, the fp16 scale) as int16
// in q16 order, w[i] pairing with Ai.
static inline void block_i16(const uint8_t *blk, int q8, v128_t w[4]) {
    if (q8) {
        v128_t lo = wasm_v128_load(blk + 2), hi = wasm_v128_load(blk + 18);
        w[0] = wasm_i16x8_shr(wasm_i16x8_shl(lo, 8), 8);
        w[1] = wasm_i16x8_shr(lo, 8);
        w[2] = wasm_i16x8_shr(wasm_i16x8_shl(hi, 8), 8);
        w[3] = wasm_i16x8_shr(hi, 8);
    } else {
        v128_t v = wasm_v128_xor(wasm_v128_load(blk + 2), wasm_u16x8_const_splat(0x8888));
        w[0] = wasm_i16x8_shr(wasm_i16x8_shl(v, 12), 12);
        w[1] = wasm_i16x8_shr(wasm_i16x8_shl(v, 4), 12);
        w[2] = wasm_i16x8_shr(wasm_i16x8_shl(v, 8), 12);
        w[3] = wasm_i16x8_shr(v, 12);
    }
}

// acc += (float)p * s for half a block, lanes 0..3 or 4..7: weights w[0],
// w[1] with activations A0, A1; s is the scale in every lane.
static inline void half_acc(const v128_t w[2], v128_t A0, v128_t A1, v128_t s, v128_t *acc) {
    v128_t p = wasm_i32x4_add(wasm_i32x4_dot_i16x8(w[0], A0), wasm_i32x4_dot_i16x8(w[1], A1));
    *acc = wasm_f32x4_add(*acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(p), s));
}

// The same for a whole block of weights w and activations A (q16 order) into
// lo, hi (lanes 0..3, 4..7).
static inline void block_acc(const v128_t w[4], const v128_t A[4], v128_t s, v128_t *lo, v128_t *hi) {
    half_acc(w, A[0], A[1], s, lo);
    half_acc(w + 2, A[2], A[3], s, hi);
}

static inline void load_acts(const int16_t *q16, v128_t A[4]) {
    for (int i = 0; i < 4; i++) A[i] = wasm_v128_load(q16 + 8 * i);
}

// The fp16 scales at p0..p3 as f32.
static inline v128_t scales4(const void *p0, const void *p1, const void *p2, const void *p3) {
    v128_t h = wasm_i32x4_const_splat(0);
    h = wasm_v128_load16_lane(p0, h, 1);
    h = wasm_v128_load16_lane(p1, h, 3);
    h = wasm_v128_load16_lane(p2, h, 5);
    h = wasm_v128_load16_lane(p3, h, 7);
    return f16hi_to_f32(h);
}

#define SPLAT(v, i) wasm_i32x4_shuffle(v, v, i, i, i, i)

// ---- T = 1: one pass over the weights, straight from memory ----

// Without a prefetch instruction in wasm, plain loads of one byte per cache
// line this far ahead of the 2 rows being read start the next lines early:
// the weights come from DRAM while decoding. A load that misses holds up the
// instructions behind it until its line arrives, so the loads go in batches
// (the lines of 12 blocks of the 2 rows, 7 lines for Q4_0) whose waits
// overlap. bench_kernels --cpu in Node: one load per block ~10 % faster than
// none, batches ~12 % faster again; 2 rows per pass (fewer DRAM streams)
// ~8 % faster than 4 with batches of 12 blocks (4, 8, 16, 24 slower).
#define TOUCH_AHEAD 9216
#define TOUCH_BATCH 12

// One block of 2 rows (blocks at x0, x1) with activations qa (q16 order),
// scales s0, s1 in every lane, into c[0], c[1] (row 0) and c[2], c[3].
static inline void rows2_block(const uint8_t *x0, const uint8_t *x1, const int16_t *qa, int q8, v128_t s0, v128_t s1,
                               v128_t c[4]) {
    v128_t A[4], w[4];
    load_acts(qa, A);
    block_i16(x0, q8, w);
    block_acc(w, A, s0, &c[0], &c[1]);
    block_i16(x1, q8, w);
    block_acc(w, A, s1, &c[2], &c[3]);
}

// y[r] for rows [r0, r1), 2 rows per pass sharing each activation block,
// blocks in pairs (one scale conversion for 2 rows x 2 blocks). The touches
// stay inside rows [0, r1): memory past them may not exist.
static inline __attribute__((always_inline)) void
matvec_quant(const void *W, const slm_acts *a, int r0, int r1, float *y, int q8) {
    int nb = a->n / SLM_QK;
    size_t bb = q8 ? sizeof(slm_block_q8_0) : sizeof(slm_block_q4_0);
    const uint8_t *last = (const uint8_t *)W + (size_t)r1 * nb * bb - 1;
    for (int r = r0; r < r1; r += 2) {
        const uint8_t *row0 = (const uint8_t *)W + (size_t)r * nb * bb;
        const uint8_t *row1 = (const uint8_t *)W + (size_t)(r + 1 < r1 ? r + 1 : r) * nb * bb;  // past r1: row r again
        v128_t zero = wasm_f32x4_const_splat(0.0f), c[4] = {zero, zero, zero, zero};  // row 0 lanes 0..3, 4..7, row 1
        for (int b0 = 0; b0 < nb; b0 += TOUCH_BATCH) {
            int b1 = nb - b0 < TOUCH_BATCH ? nb : b0 + TOUCH_BATCH;
            // the 2 rows lie together and are read 2 blocks per step: touch
            // what this batch reads, TOUCH_AHEAD further on
            const uint8_t *ahead = row0 + 2 * (size_t)b0 * bb + TOUCH_AHEAD;
            for (size_t k = 0; k < 2 * (size_t)(b1 - b0) * bb; k += 64)
                (void)*(volatile const uint8_t *)(ahead + k < last ? ahead + k : last);
            // pointers stepped block by block (see panel_token)
            const uint8_t *x0 = row0 + (size_t)b0 * bb, *x1 = row1 + (size_t)b0 * bb;
            const int16_t *qa = (const int16_t *)a->aux + (size_t)b0 * SLM_QK;
            int b = b0;
            for (; b + 2 <= b1; b += 2, x0 += 2 * bb, x1 += 2 * bb, qa += 2 * SLM_QK) {
                v128_t d2 = wasm_v128_load64_zero(a->d + b);  // scales: row 0, row 1 of block b, then of b + 1
                v128_t s = wasm_f32x4_mul(scales4(x0, x1, x0 + bb, x1 + bb), wasm_i32x4_shuffle(d2, d2, 0, 0, 1, 1));
                rows2_block(x0, x1, qa, q8, SPLAT(s, 0), SPLAT(s, 1), c);
                rows2_block(x0 + bb, x1 + bb, qa + SLM_QK, q8, SPLAT(s, 2), SPLAT(s, 3), c);
            }
            if (b < b1) {
                v128_t s = wasm_f32x4_mul(scales4(x0, x1, x0, x1), wasm_f32x4_splat(a->d[b]));
                rows2_block(x0, x1, qa, q8, SPLAT(s, 0), SPLAT(s, 1), c);
            }
        }
        y[r] = lanes_combine(c[0], c[1]);
        if (r + 1 < r1) y[r + 1] = lanes_combine(c[2], c[3]);
    }
}

// ---- T > 1: panels of weights taken apart once, reused by every token ----

#define KC 64  // blocks per panel: 4 rows of 64 blocks are 16 KB of int16 weights
#define TC 32  // tokens per pass; their accumulators wait on the stack between panels

// A block's scales sit with its weights: one pointer steps through both.
typedef struct {
    v128_t w[4][4];  // [row] the 4 vectors of block_i16
    float d[4];      // [row] weight scales
    v128_t s;        // [row] d times the activation scale of the token at hand
} panel_block;

typedef struct {
    panel_block b[KC];
} panel;

// Blocks b0..b0+nblk-1 of 4 rows (rows[i] = row i's first block) into p.
static void panel_fill(panel *p, const uint8_t *const rows[4], int b0, int nblk, int q8) {
    size_t bb = q8 ? sizeof(slm_block_q8_0) : sizeof(slm_block_q4_0);
    // the row pointers stepped in locals (not reloaded from rows[] and offset per block)
    const uint8_t *x0 = rows[0] + b0 * bb, *x1 = rows[1] + b0 * bb, *x2 = rows[2] + b0 * bb, *x3 = rows[3] + b0 * bb;
    for (panel_block *pb = p->b, *end = p->b + nblk; pb != end; pb++, x0 += bb, x1 += bb, x2 += bb, x3 += bb) {
        block_i16(x0, q8, pb->w[0]);
        block_i16(x1, q8, pb->w[1]);
        block_i16(x2, q8, pb->w[2]);
        block_i16(x3, q8, pb->w[3]);
        wasm_v128_store(pb->d, scales4(x0, x1, x2, x3));
    }
}

// Accumulates panel blocks [0, nblk) of 4 rows into acc[i] (row i: lanes
// 0..3, 4..7; from zero for the first panel) for one token, its activation
// blocks at q16 (q16 order) with scales ad: lanes 0..3 over all blocks, then
// lanes 4..7, so that the 4 accumulators of a pass stay in registers. The
// callers step q16 and ad token by token (no index arithmetic per token).
static inline void panel_token(panel *p, int nblk, const int16_t *q16, const float *ad, int first, v128_t acc[4][2]) {
    // the scales once for both halves, and one register fewer in their passes
    for (panel_block *pb = p->b, *end = p->b + nblk; pb != end; pb++, ad++)
        pb->s = wasm_f32x4_mul(wasm_v128_load(pb->d), wasm_f32x4_splat(*ad));
    for (int h = 0; h < 2; h++) {
        v128_t c0 = acc[0][h], c1 = acc[1][h], c2 = acc[2][h], c3 = acc[3][h];
        if (first) c0 = c1 = c2 = c3 = wasm_f32x4_const_splat(0.0f);
        // pointers stepped block by block, the loop ending on one (no
        // counter): the engines do not strength-reduce index arithmetic (and
        // emcc turns LLVM's off)
        const int16_t *qa = q16 + 16 * h;
        for (const panel_block *pb = p->b, *end = p->b + nblk; pb != end; pb++, qa += SLM_QK) {
            const v128_t *w = pb->w[0] + 2 * h;
            v128_t A0 = wasm_v128_load(qa), A1 = wasm_v128_load(qa + 8), s = pb->s;
            half_acc(w, A0, A1, SPLAT(s, 0), &c0);
            half_acc(w + 4, A0, A1, SPLAT(s, 1), &c1);
            half_acc(w + 8, A0, A1, SPLAT(s, 2), &c2);
            half_acc(w + 12, A0, A1, SPLAT(s, 3), &c3);
        }
        acc[0][h] = c0, acc[1][h] = c1, acc[2][h] = c2, acc[3][h] = c3;
    }
}

// Y rows [r0, r1) for either quantized type.
static void matmul_quant(const void *W, const slm_acts *a, int r0, int r1, float *Y, int ldy, int q8) {
    int nb = a->n / SLM_QK;
    size_t row_bytes = (size_t)nb * (q8 ? sizeof(slm_block_q8_0) : sizeof(slm_block_q4_0));
    panel p;
    v128_t accs[TC][4][2];  // [token][row][lanes 0..3, 4..7]
    for (int r = r0; r < r1; r += 4) {
        const uint8_t *rows[4];
        for (int i = 0; i < 4; i++)  // past r1, repeat the last row (its results are dropped)
            rows[i] = (const uint8_t *)W + (size_t)(r + i < r1 ? r + i : r1 - 1) * row_bytes;
        // one panel holds the whole row (our models' widths, up to 2048): fill it once for all tokens,
        // each token's sums go straight to Y
        if (nb <= KC) {
            panel_fill(&p, rows, 0, nb, q8);
            const int16_t *q16 = a->aux;
            const float *ad = a->d;
            float *y = Y + r;
            for (int t = 0; t < a->T; t++, q16 += a->n, ad += nb, y += ldy) {
                v128_t acc[4][2];
                panel_token(&p, nb, q16, ad, 1, acc);
                for (int i = 0; i < 4 && r + i < r1; i++) y[i] = lanes_combine(acc[i][0], acc[i][1]);
            }
            continue;
        }
        for (int t0 = 0; t0 < a->T; t0 += TC) {
            int nt = a->T - t0 < TC ? a->T - t0 : TC;
            for (int b0 = 0; b0 < nb; b0 += KC) {
                int nblk = nb - b0 < KC ? nb - b0 : KC;
                panel_fill(&p, rows, b0, nblk, q8);
                const int16_t *q16 = (const int16_t *)a->aux + (size_t)t0 * a->n + (size_t)b0 * SLM_QK;
                const float *ad = a->d + (size_t)t0 * nb + b0;
                for (int t = 0; t < nt; t++, q16 += a->n, ad += nb) panel_token(&p, nblk, q16, ad, b0 == 0, accs[t]);
            }
            for (int t = 0; t < nt; t++)
                for (int i = 0; i < 4 && r + i < r1; i++)
                    Y[(size_t)(t0 + t) * ldy + r + i] = lanes_combine(accs[t][i][0], accs[t][i][1]);
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

// 2 rows at a time, sharing the loads of x.
static void dot_rows(const float *x, const float *rows, size_t stride, int m, int n, float *out) {
    int r = 0;
    for (; r + 2 <= m; r += 2) {
        const float *w0 = rows + (size_t)r * stride, *w1 = w0 + stride;
        v128_t lo0 = wasm_f32x4_const_splat(0.0f), hi0 = lo0, lo1 = lo0, hi1 = lo0;
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            v128_t x0 = wasm_v128_load(x + i), x1 = wasm_v128_load(x + i + 4);
            lo0 = wasm_f32x4_add(lo0, wasm_f32x4_mul(x0, wasm_v128_load(w0 + i)));
            hi0 = wasm_f32x4_add(hi0, wasm_f32x4_mul(x1, wasm_v128_load(w0 + i + 4)));
            lo1 = wasm_f32x4_add(lo1, wasm_f32x4_mul(x0, wasm_v128_load(w1 + i)));
            hi1 = wasm_f32x4_add(hi1, wasm_f32x4_mul(x1, wasm_v128_load(w1 + i + 4)));
        }
        if (i == n) {
            out[r] = lanes_combine(lo0, hi0), out[r + 1] = lanes_combine(lo1, hi1);
        } else {
            out[r] = dot_finish(lo0, hi0, x, w0, i, n), out[r + 1] = dot_finish(lo1, hi1, x, w1, i, n);
        }
    }
    for (; r < m; r++) out[r] = dot(x, rows + (size_t)r * stride, n);
}

// y stays in registers, 16 values at a time, while every row is added to it:
// each y[i] still takes a[0]*x_0[i], a[1]*x_1[i], ... in turn.
static void axpy_rows(const float *a, const float *rows, size_t stride, int m, int n, float *y) {
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        v128_t y0 = wasm_v128_load(y + i), y1 = wasm_v128_load(y + i + 4);
        v128_t y2 = wasm_v128_load(y + i + 8), y3 = wasm_v128_load(y + i + 12);
        for (int r = 0; r < m; r++) {
            const float *x = rows + (size_t)r * stride + i;
            v128_t av = wasm_f32x4_splat(a[r]);
            y0 = wasm_f32x4_add(y0, wasm_f32x4_mul(av, wasm_v128_load(x)));
            y1 = wasm_f32x4_add(y1, wasm_f32x4_mul(av, wasm_v128_load(x + 4)));
            y2 = wasm_f32x4_add(y2, wasm_f32x4_mul(av, wasm_v128_load(x + 8)));
            y3 = wasm_f32x4_add(y3, wasm_f32x4_mul(av, wasm_v128_load(x + 12)));
        }
        wasm_v128_store(y + i, y0), wasm_v128_store(y + i + 4, y1);
        wasm_v128_store(y + i + 8, y2), wasm_v128_store(y + i + 12, y3);
    }
    if (i < n)
        for (int r = 0; r < m; r++) axpy(a[r], rows + (size_t)r * stride + i, y + i, n - i);
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
    v128_t t = wasm_f32x4_add(wasm_f32x4_mul(x, wasm_f32x4_const_splat(SLM_LOG2E)), magic);
    v128_t k = wasm_f32x4_sub(t, magic);
    v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(k, wasm_f32x4_const_splat(SLM_LN2_HI)));
    r = wasm_f32x4_sub(r, wasm_f32x4_mul(k, wasm_f32x4_const_splat(SLM_LN2_LO)));
    v128_t p = wasm_f32x4_const_splat(SLM_EXP_P0);
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_const_splat(SLM_EXP_P1));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_const_splat(SLM_EXP_P2));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_const_splat(SLM_EXP_P3));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_const_splat(SLM_EXP_P4));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_const_splat(SLM_EXP_P5));
    v128_t y = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(p, wasm_f32x4_mul(r, r)), r), wasm_f32x4_const_splat(1.0f));
    // 2^k: t's bits are magic's plus k, and magic's shift out of the exponent
    // field (for NaN, y is NaN whatever e is)
    v128_t e = wasm_i32x4_shl(wasm_i32x4_add(t, wasm_i32x4_const_splat(127)), 23);
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

// out = act(gate) * up with act SiLU (x / (1 + exp(-x))) or GELU (x / (1 + exp(-u)), u as mathx.h says).
static inline void gated(float *out, const float *gate, const float *up, int n, int gelu) {
    const v128_t one = wasm_f32x4_const_splat(1.0f);
    const v128_t k1 = wasm_f32x4_const_splat(SLM_GELU_K1), k3 = wasm_f32x4_const_splat(SLM_GELU_K3);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        v128_t g = wasm_v128_load(gate + i);
        v128_t u = gelu ? wasm_f32x4_mul(g, wasm_f32x4_add(k1, wasm_f32x4_mul(k3, wasm_f32x4_mul(g, g)))) : g;
        v128_t act = wasm_f32x4_div(g, wasm_f32x4_add(one, expf4(wasm_f32x4_neg(u))));
        wasm_v128_store(out + i, wasm_f32x4_mul(act, wasm_v128_load(up + i)));
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
            v128_t x0 = wasm_v128_load(v + i), x1 = wasm_v128_load(v + half + i);
            v128_t c = wasm_v128_load(cos + i), s = wasm_v128_load(sin + i);
            wasm_v128_store(v + i, wasm_f32x4_sub(wasm_f32x4_mul(x0, c), wasm_f32x4_mul(x1, s)));
            wasm_v128_store(v + half + i, wasm_f32x4_add(wasm_f32x4_mul(x0, s), wasm_f32x4_mul(x1, c)));
        }
        slm_rope_neox_pairs(v, i, half, cos, sin);
    }
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

// A block's 32 weights as signed bytes: lo = elements 0..15, hi = 16..31.
static inline void block_weights(const uint8_t *blk, int q8, v128_t *lo, v128_t *hi) {
    if (q8) {
        *lo = wasm_v128_load(blk + 2);
        *hi = wasm_v128_load(blk + 18);
    } else {
        v128_t qs = wasm_v128_load(blk + 2), eight = wasm_i8x16_const_splat(8);
        *lo = wasm_i8x16_sub(wasm_v128_and(qs, wasm_i8x16_const_splat(15)), eight);
        *hi = wasm_i8x16_sub(wasm_u8x16_shr(qs, 4), eight);
    }
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

// ---- every other quantized type: the common form (kernels.h) -------------------
//
// As on AVX2: blocks unpacked to int8 (blocks.c), one product for every type,
// and own loops for Q4_K and Q6_K. Weights are taken to int16 in q16 order
// (even and odd elements of each half), so that two i32x4 dots give the
// group-of-4 sums, as for Q4_0 and Q8_0 above.

// 16 weights (bytes, signed or below 128) as int16: even and odd elements.
static inline void w_i16(v128_t v, v128_t w[2]) {
    w[0] = wasm_i16x8_shr(wasm_i16x8_shl(v, 8), 8);
    w[1] = wasm_i16x8_shr(v, 8);
}

// lanes (lo: 0..3, hi: 4..7) + ((float)p * sc) * s [+ ((float)g * mn) * sm]; p = w . a less off * g.
static inline void common_lanes(const v128_t w[4], const int16_t *q16, const int32_t *g, int off, v128_t sc_lo,
                                v128_t sc_hi, float s, int has_min, v128_t mn_lo, v128_t mn_hi, float sm, v128_t *lo,
                                v128_t *hi) {
    v128_t A[4];
    load_acts(q16, A);
    v128_t g_lo = wasm_v128_load(g), g_hi = wasm_v128_load(g + 4);
    v128_t p_lo = wasm_i32x4_add(wasm_i32x4_dot_i16x8(w[0], A[0]), wasm_i32x4_dot_i16x8(w[1], A[1]));
    v128_t p_hi = wasm_i32x4_add(wasm_i32x4_dot_i16x8(w[2], A[2]), wasm_i32x4_dot_i16x8(w[3], A[3]));
    if (off) {
        p_lo = wasm_i32x4_sub(p_lo, wasm_i32x4_shl(g_lo, off));
        p_hi = wasm_i32x4_sub(p_hi, wasm_i32x4_shl(g_hi, off));
    }
    v128_t sv = wasm_f32x4_splat(s);
    *lo = wasm_f32x4_add(*lo, wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(p_lo), sc_lo), sv));
    *hi = wasm_f32x4_add(*hi, wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(p_hi), sc_hi), sv));
    if (has_min) {
        v128_t smv = wasm_f32x4_splat(sm);
        *lo = wasm_f32x4_add(*lo, wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(g_lo), mn_lo), smv));
        *hi = wasm_f32x4_add(*hi, wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(g_hi), mn_hi), smv));
    }
}

typedef struct {
    v128_t w[4];            // int16, q16 order
    v128_t sc[2], mn[2];    // the halves' scales and mins as f32, in every lane
    float d, dm;
    int has_min;
} wblock;

static void unpack_wblock(uint32_t type, const uint8_t *row, int b, wblock *o) {
    slm_qblock q;
    slm_qblock_decode(type, row, b, &q);
    w_i16(wasm_v128_load(q.w), o->w);
    w_i16(wasm_v128_load(q.w + 16), o->w + 2);
    for (int h = 0; h < 2; h++) o->sc[h] = wasm_f32x4_splat((float)q.sc[h]), o->mn[h] = wasm_f32x4_splat((float)q.mn[h]);
    o->d = q.d, o->dm = q.dm, o->has_min = q.has_min;
}

// A Q4_K or Q6_K super-block unpacked for the lanes: 8 blocks of unsigned
// weights (int16, q16 order), their halves' scales and mins as f32, the float scales.
typedef struct {
    v128_t w[8][4];
    v128_t sc[8][2], mn[8];
    float d, dm;
    int has_min, off;   // the mins term; off: the weights' offset as a shift of g (Q6_K: 32 g)
} ksuper;

static inline void unpack_q4_k(const uint8_t *x, ksuper *k) {
    const v128_t low4 = wasm_i8x16_const_splat(15);
    float sc[8], mn[8];
    slm_k4_scales(x + 4, sc, mn);
    for (int c = 0; c < 4; c++)
        for (int h = 0; h < 2; h++) {
            v128_t v = wasm_v128_load(x + 16 + 32 * c + 16 * h);
            w_i16(wasm_v128_and(v, low4), k->w[2 * c] + 2 * h);
            w_i16(wasm_u8x16_shr(v, 4), k->w[2 * c + 1] + 2 * h);
        }
    for (int j = 0; j < 8; j++) k->sc[j][0] = k->sc[j][1] = wasm_f32x4_splat(sc[j]), k->mn[j] = wasm_f32x4_splat(mn[j]);
    k->d = slm_f16_to_f32((uint16_t)(x[0] | x[1] << 8)), k->dm = -slm_f16_to_f32((uint16_t)(x[2] | x[3] << 8));
    k->has_min = 1, k->off = 0;
}

// Q6_K's 6-bit values unpacked unsigned (0..63); the -32 comes off as 32 g.
static inline void unpack_q6_k(const uint8_t *x, ksuper *k) {
    const v128_t low4 = wasm_i8x16_const_splat(15), three = wasm_i8x16_const_splat(3);
    const int8_t *scales = (const int8_t *)(x + 192);
    for (int half = 0; half < 2; half++)
        for (int e = 0; e < 2; e++) {   // values 0..15, 16..31 of each quarter
            v128_t l0 = wasm_v128_load(x + 64 * half + 16 * e), l1 = wasm_v128_load(x + 64 * half + 32 + 16 * e);
            v128_t h = wasm_v128_load(x + 128 + 32 * half + 16 * e);
            v128_t nib[4] = {wasm_v128_and(l0, low4), wasm_v128_and(l1, low4), wasm_u8x16_shr(l0, 4), wasm_u8x16_shr(l1, 4)};
            for (int q = 0; q < 4; q++) {
                v128_t hq = wasm_v128_and(wasm_u8x16_shr(h, 2 * q), three);
                w_i16(wasm_v128_or(nib[q], wasm_i8x16_shl(hq, 4)), k->w[4 * half + q] + 2 * e);
            }
        }
    for (int j = 0; j < 8; j++) {
        const int8_t *s2 = scales + 8 * (j / 4) + 2 * (j % 4);
        k->sc[j][0] = wasm_f32x4_splat((float)s2[0]), k->sc[j][1] = wasm_f32x4_splat((float)s2[1]);
        k->mn[j] = wasm_f32x4_const_splat(0.0f);
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
            v128_t lo[TOKENS], hi[TOKENS];
            for (int t = 0; t < t1 - t0; t++) lo[t] = hi[t] = wasm_f32x4_const_splat(0.0f);
            for (int sb = 0; sb < ns; sb++) {
                if (type == SLM_TYPE_Q4_K) unpack_q4_k(row + (size_t)sb * bytes, &k);
                else unpack_q6_k(row + (size_t)sb * bytes, &k);
                for (int t = t0; t < t1; t++) {
                    int b0 = sb * 8;
                    const int16_t *q16 = (const int16_t *)a->aux + ((size_t)t * nb + b0) * SLM_QK;
                    const int32_t *g = a->g + ((size_t)t * n + (size_t)b0 * SLM_QK) / 4;
                    const float *da = a->d + (size_t)t * nb + b0;
                    for (int j = 0; j < 8; j++)
                        common_lanes(k.w[j], q16 + j * SLM_QK, g + 8 * j, k.off, k.sc[j][0], k.sc[j][1], k.d * da[j],
                                     k.has_min, k.mn[j], k.mn[j], k.dm * da[j], &lo[t - t0], &hi[t - t0]);
                }
            }
            for (int t = t0; t < t1; t++) Y[(size_t)t * ldy + r] = lanes_combine(lo[t - t0], hi[t - t0]);
        }
    }
}

static void matmul_common(uint32_t type, const void *W, const slm_acts *a, int r0, int r1, float *Y, int ldy) {
    enum { BLOCKS = 32, TOKENS = 8 };
    if (type == SLM_TYPE_Q4_K || type == SLM_TYPE_Q6_K) {
        matmul_k(type, W, a, r0, r1, Y, ldy);
        return;
    }
    int n = a->n, nb = n / SLM_QK;
    size_t row_bytes = (size_t)slm_quant_row_bytes(type, n);
    wblock q[BLOCKS];
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)W + (size_t)r * row_bytes;
        for (int t0 = 0; t0 < a->T; t0 += TOKENS) {
            int t1 = t0 + TOKENS < a->T ? t0 + TOKENS : a->T;
            v128_t lo[TOKENS], hi[TOKENS];
            for (int t = 0; t < t1 - t0; t++) lo[t] = hi[t] = wasm_f32x4_const_splat(0.0f);
            for (int b0 = 0; b0 < nb; b0 += BLOCKS) {
                int b1 = b0 + BLOCKS < nb ? b0 + BLOCKS : nb;
                for (int b = b0; b < b1; b++) unpack_wblock(type, row, b, &q[b - b0]);
                for (int t = t0; t < t1; t++)
                    for (int b = b0; b < b1; b++) {
                        const wblock *w = &q[b - b0];
                        float da = a->d[(size_t)t * nb + b];
                        common_lanes(w->w, (const int16_t *)a->aux + ((size_t)t * nb + b) * SLM_QK,
                                     a->g + ((size_t)t * n + (size_t)b * SLM_QK) / 4, 0, w->sc[0], w->sc[1], w->d * da,
                                     w->has_min, w->mn[0], w->mn[1], w->dm * da, &lo[t - t0], &hi[t - t0]);
                    }
            }
            for (int t = t0; t < t1; t++) Y[(size_t)t * ldy + r] = lanes_combine(lo[t - t0], hi[t - t0]);
        }
    }
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
