// Training kernels, AVX2 + FMA (see train_kernels.h). Built with -mavx2 -mfma
// and called only after the run-time CPU check (train_scalar.c).
//
// gemm: blocked as the classic BLAS papers describe. K in chunks of KC,
// columns in chunks of NC (the B panel, KC x NC, stays in L2), rows in
// blocks of 6 packed contiguously (A may be strided or transposed), and a 6x16
// register tile: per k, two loads of B, six broadcasts of A, twelve FMAs.
// Each C[i, j] is one accumulator fed k = 0, 1, ... in order, so chunking
// and thread splits never change a bit.
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <string.h>

#include "train_kernels.h"

#define MR 6
#define NR 16
#define KC 256
#define NC 512

// The 6x16 tile c[0..mr, 0..nr) (+)= ap (kc x 6, packed) . b (kc x nr).
static void tile(int kc, const float *ap, const float *b, int ldb, float *c, int ldc, int mr, int nr, int first) {
    __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
    int full = nr == NR;
    __m256i m0 = _mm256_setzero_si256(), m1 = m0;
    if (!full) {
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), lane);
        m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr - 8), lane);
    }
#define LOADC(r, x0, x1)                                                                           \
    if (first || r >= mr) x0 = x1 = _mm256_setzero_ps();                                           \
    else if (full) x0 = _mm256_loadu_ps(c + (size_t)r * ldc), x1 = _mm256_loadu_ps(c + (size_t)r * ldc + 8); \
    else x0 = _mm256_maskload_ps(c + (size_t)r * ldc, m0), x1 = _mm256_maskload_ps(c + (size_t)r * ldc + 8, m1);
    LOADC(0, c00, c01) LOADC(1, c10, c11) LOADC(2, c20, c21) LOADC(3, c30, c31) LOADC(4, c40, c41) LOADC(5, c50, c51)
#undef LOADC
#define STEP(b0, b1)                                                                \
    {                                                                               \
        __m256 a;                                                                   \
        a = _mm256_broadcast_ss(ap + 0); c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01); \
        a = _mm256_broadcast_ss(ap + 1); c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11); \
        a = _mm256_broadcast_ss(ap + 2); c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21); \
        a = _mm256_broadcast_ss(ap + 3); c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31); \
        a = _mm256_broadcast_ss(ap + 4); c40 = _mm256_fmadd_ps(a, b0, c40); c41 = _mm256_fmadd_ps(a, b1, c41); \
        a = _mm256_broadcast_ss(ap + 5); c50 = _mm256_fmadd_ps(a, b0, c50); c51 = _mm256_fmadd_ps(a, b1, c51); \
        ap += MR;                                                                   \
    }
    if (full) {
        for (int k = 0; k < kc; k++, b += ldb) {
            __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
            STEP(b0, b1)
        }
    } else {
        for (int k = 0; k < kc; k++, b += ldb) {
            __m256 b0 = _mm256_maskload_ps(b, m0), b1 = _mm256_maskload_ps(b + 8, m1);
            STEP(b0, b1)
        }
    }
#undef STEP
#define STOREC(r, x0, x1)                                                                           \
    if (r < mr) {                                                                                   \
        if (full) _mm256_storeu_ps(c + (size_t)r * ldc, x0), _mm256_storeu_ps(c + (size_t)r * ldc + 8, x1); \
        else _mm256_maskstore_ps(c + (size_t)r * ldc, m0, x0), _mm256_maskstore_ps(c + (size_t)r * ldc + 8, m1, x1); \
    }
    STOREC(0, c00, c01) STOREC(1, c10, c11) STOREC(2, c20, c21) STOREC(3, c30, c31) STOREC(4, c40, c41) STOREC(5, c50, c51)
#undef STOREC
}

static void gemm_avx2(int M, int N, int K, const float *A, int sai, int sak, const float *B, int ldb, float *C, int ldc,
                      int accumulate) {
    _Alignas(32) float ap[KC * MR];
    if (K <= 0) {   // C = 0 (or unchanged): nothing to sum
        if (!accumulate)
            for (int i = 0; i < M; i++) memset(C + (size_t)i * ldc, 0, (size_t)N * sizeof(float));
        return;
    }
    for (int pc = 0; pc < K; pc += KC) {
        int kc = K - pc < KC ? K - pc : KC, first = !accumulate && pc == 0;
        for (int jb = 0; jb < N; jb += NC) {
            int nb = N - jb < NC ? N - jb : NC;
            for (int ic = 0; ic < M; ic += MR) {
                int mr = M - ic < MR ? M - ic : MR;
                // pack A[ic.., pc..] as (kc, 6), rows past M as zeros
                for (int k = 0; k < kc; k++)
                    for (int r = 0; r < MR; r++)
                        ap[k * MR + r] = r < mr ? A[(size_t)(ic + r) * sai + (size_t)(pc + k) * sak] : 0.0f;
                for (int jc = 0; jc < nb; jc += NR) {
                    int nr = nb - jc < NR ? nb - jc : NR;
                    tile(kc, ap, B + (size_t)pc * ldb + jb + jc, ldb, C + (size_t)ic * ldc + jb + jc, ldc, mr, nr, first);
                }
            }
        }
    }
}

const slm_train_kernels slm_train_kernels_avx2 = {"avx2", gemm_avx2};
#endif
