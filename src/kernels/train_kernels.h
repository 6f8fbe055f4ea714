// Matrix kernels for training (weights-tools/train_*.c): f32 products with
// strided operands, a scalar reference and an AVX2+FMA version.
//
// Unlike the inference kernels (kernels.h), these do not promise the same bits
// on every backend: training needs run-to-run determinism at a fixed thread
// count, which both give (each output value is summed by one thread, in a
// fixed order), not bit identity across CPUs. The AVX2 version uses FMA.
#ifndef SLM_TRAIN_KERNELS_H
#define SLM_TRAIN_KERNELS_H

typedef struct {
    const char *name;
    // C (M, N) = [C +] A (M, K) . B (K, N)
    //   A[i, k] at A[i * sai + k * sak]  (any strides: A or A^T)
    //   B[k, j] at B[k * ldb + j]        (rows contiguous)
    //   C[i, j] at C[i * ldc + j]
    // Each C[i, j] is summed in increasing k, so splitting rows i (or
    // columns j) across threads never changes a bit.
    void (*gemm)(int M, int N, int K, const float *A, int sai, int sak, const float *B, int ldb, float *C, int ldc,
                 int accumulate);
} slm_train_kernels;

extern const slm_train_kernels slm_train_kernels_scalar;
#if defined(__x86_64__) || defined(__i386__)
extern const slm_train_kernels slm_train_kernels_avx2;
#endif

// AVX2+FMA where the inference kernels found it (same CPU check), else scalar.
const slm_train_kernels *slm_train_kernels_best(void);
// "scalar", "avx2" or NULL for best; NULL if this CPU lacks it.
const slm_train_kernels *slm_train_kernels_by_name(const char *name);

#endif
