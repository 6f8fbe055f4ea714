// Training kernels, scalar reference (see train_kernels.h), and the run-time
// choice of backend.
#include <string.h>

#include "kernels.h"
#include "train_kernels.h"

// C (M, N) = [C +] A (M, K) . B (K, N), one output at a time, k increasing.
static void gemm_scalar(int M, int N, int K, const float *A, int sai, int sak, const float *B, int ldb, float *C,
                        int ldc, int accumulate) {
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * ldc;
        if (!accumulate) memset(c, 0, (size_t)N * sizeof(float));
        for (int k = 0; k < K; k++) {
            float a = A[(size_t)i * sai + (size_t)k * sak];
            const float *b = B + (size_t)k * ldb;
            for (int j = 0; j < N; j++) c[j] += a * b[j];
        }
    }
}

const slm_train_kernels slm_train_kernels_scalar = {"scalar", gemm_scalar};

const slm_train_kernels *slm_train_kernels_best(void) {
#if defined(__x86_64__) || defined(__i386__)
    // the inference side asks the CPU and the OS (AVX2, FMA, F16C, ymm state);
    // its best may be a VNNI backend, which has AVX2 too
    if (slm_kernels_by_name("avx2")) return &slm_train_kernels_avx2;
#endif
    return &slm_train_kernels_scalar;
}

const slm_train_kernels *slm_train_kernels_by_name(const char *name) {
    if (!name || !strcmp(name, "best")) return slm_train_kernels_best();
    if (!strcmp(name, "scalar")) return &slm_train_kernels_scalar;
#if defined(__x86_64__) || defined(__i386__)
    if (!strcmp(name, "avx2")) return slm_train_kernels_best() == &slm_train_kernels_avx2 ? &slm_train_kernels_avx2 : NULL;
#endif
    return NULL;
}
