// Kernel benchmark: Q4_0 matrix products of slm360-base's shapes, per backend.
//
// Build (after `make build/libslm.a`) and run:
//   cc -O2 -std=c11 -ffp-contract=off -D_POSIX_C_SOURCE=200809L -Isrc bench/bench_kernels.c
//      build/libslm.a -lm -lpthread -o build/bench_kernels
//   build/bench_kernels [--cached] [--cpu] [--only matvec|gemm|token|prefill|nano] [backend...]
// WebAssembly (one thread; the .js runs in node):
//   NODE_PATH=/usr/share/nodejs emcc -O3 -msimd128 -std=c11 -ffp-contract=off -D_POSIX_C_SOURCE=200809L
//      -Isrc -sINITIAL_MEMORY=512MB -sSINGLE_FILE=1 -o build/bench_kernels.cjs bench/bench_kernels.c
//      src/mathx.c src/kernels/scalar.c src/kernels/select.c src/kernels/wasm_simd128.c
//   node build/bench_kernels.cjs wasm
//
// Reports medians of several runs. Mat-vec weights rotate through copies
// larger than the last-level cache, so the GB/s are from memory, as when
// decoding (--cached: one copy, the speed of the arithmetic alone). The token figure runs one slm360-base token's 113 products
// (16 layers of q, k, v, o, gate, up, down, then the 32000-row head) on
// distinct weights, ~70 MB, on one thread and on two (rows split in halves);
// the prefill figure does the same for 128 tokens (the head for the last);
// the nano figure runs the 42 products of slm360-nano's 6 layers for one
// 16-token utterance (its encoder's batch).
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/kernels.h"
#include "mathx.h"

#define ROTATE_BYTES (96u << 20)  // beyond the 32 MB L3

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
// node's CPU time of the process (this program runs one thread)
EM_JS(double, cpu_ms, (void), { const u = process.cpuUsage(); return (u.user + u.system) / 1000; });
#else
static double cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}
#endif

static int use_cpu_time;  // --cpu

// Wall time, or with --cpu this thread's CPU time: on a loaded machine, the
// time the benchmark was actually running (one-thread figures only).
static double now_ms(void) {
    if (use_cpu_time) return cpu_ms();
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void *xmalloc(size_t bytes) {
    void *p = malloc(bytes);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(1); }
    return p;
}

static uint64_t rng = 88172645463325252ull;
static uint32_t rand_u32(void) {  // xorshift64
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

static size_t q4_bytes(int m, int n) { return (size_t)m * (n / SLM_QK) * sizeof(slm_block_q4_0); }

static slm_block_q4_0 *rand_q4_0(int m, int n) {
    slm_block_q4_0 *w = xmalloc(q4_bytes(m, n));
    for (size_t b = 0; b < (size_t)m * (n / SLM_QK); b++) {
        w[b].d = slm_f32_to_f16(0.001f + 0.02f * (float)(rand_u32() >> 8) / 16777216.0f);
        for (int i = 0; i < SLM_QK / 2; i++) w[b].qs[i] = (uint8_t)rand_u32();
    }
    return w;
}

static slm_acts *rand_acts(const slm_kernels *k, int T, int n) {
    slm_acts *a = xmalloc(sizeof *a);
    float *x = xmalloc((size_t)T * n * sizeof *x);
    for (size_t i = 0; i < (size_t)T * n; i++) x[i] = (float)(int)(rand_u32() % 2001 - 1000) / 500.0f;
    a->q = xmalloc((size_t)T * n);
    a->d = xmalloc((size_t)T * (n / SLM_QK) * sizeof(float));
    a->g = xmalloc((size_t)T * (n / 4) * sizeof(int32_t));
    a->aux = xmalloc((size_t)T * (n / SLM_QK) * SLM_ACTS_AUX);
    k->quantize_acts(x, T, n, a);
    free(x);
    return a;
}

static void free_acts(slm_acts *a) {
    free(a->q), free(a->d), free(a->g), free(a->aux), free(a);
}

// One (m, n) Q4_0 product with T tokens: median ms over reps, weights rotating.
static int cached;         // --cached
static const char *only;   // --only PART: matvec, gemm, token, prefill or nano

static int wanted(const char *part) { return !only || !strcmp(only, part); }

static double time_matmul(const slm_kernels *k, int m, int n, int T, int reps) {
    int copies = T == 1 && !cached ? (int)(ROTATE_BYTES / q4_bytes(m, n)) + 1 : 1;
    slm_block_q4_0 **w = xmalloc(copies * sizeof *w);
    for (int c = 0; c < copies; c++) w[c] = rand_q4_0(m, n);
    slm_acts *a = rand_acts(k, T, n);
    float *y = xmalloc((size_t)T * m * sizeof *y);
    double *ms = xmalloc(reps * sizeof *ms);
    k->matmul_q4_0(w[0], a, 0, m, y, m);  // warm up
    for (int r = 0; r < reps; r++) {
        double t0 = now_ms();
        k->matmul_q4_0(w[(r + 1) % copies], a, 0, m, y, m);
        ms[r] = now_ms() - t0;
    }
    double med = median(ms, reps);
    for (int c = 0; c < copies; c++) free(w[c]);
    free(w), free(y), free(ms);
    free_acts(a);
    return med;
}

// ---- one slm360-base token, one nano utterance ----------------------------------

// A model's products: `layers` times q k v o gate up down (rows, cols), then
// the head (head_rows x cols of q) for the last token, if any.
typedef struct {
    int layers, head_rows;
    int shapes[7][2];
} model_shape;

static const model_shape base_shape = {16, 32000, {{768, 768}, {256, 768}, {256, 768}, {768, 768},
                                                   {2048, 768}, {2048, 768}, {768, 2048}}};
static const model_shape nano_shape = {6, 0, {{256, 256}, {128, 256}, {128, 256}, {256, 256},
                                              {704, 256}, {704, 256}, {256, 704}}};  // FFN 682 padded

#define MAX_MATS (16 * 7 + 1)

// T tokens through every product of a model (decoding: T = 1; prefill: T = 128).
typedef struct {
    const slm_kernels *k;
    int n_mats;
    slm_block_q4_0 *w[MAX_MATS];
    slm_acts *a[MAX_MATS];  // activations of each product's width (shared)
    int m[MAX_MATS], n[MAX_MATS];
    slm_acts *a_in, *a_ffn, *a_last;
    float *y;
} token;

static void token_init(token *tk, const slm_kernels *k, const model_shape *ms, int T) {
    tk->k = k;
    tk->n_mats = ms->layers * 7 + (ms->head_rows > 0);
    int dim = ms->shapes[0][1], ffn = ms->shapes[6][1];
    tk->a_in = rand_acts(k, T, dim);
    tk->a_ffn = rand_acts(k, T, ffn);
    tk->a_last = rand_acts(k, 1, dim);
    size_t ymax = 0;
    for (int i = 0; i < tk->n_mats; i++) {
        int head = i == ms->layers * 7;
        tk->m[i] = head ? ms->head_rows : ms->shapes[i % 7][0];
        tk->n[i] = head ? dim : ms->shapes[i % 7][1];
        tk->w[i] = rand_q4_0(tk->m[i], tk->n[i]);
        tk->a[i] = head ? tk->a_last : tk->n[i] == dim ? tk->a_in : tk->a_ffn;
        size_t ny = (size_t)tk->a[i]->T * tk->m[i];
        ymax = ny > ymax ? ny : ymax;
    }
    tk->y = xmalloc(ymax * sizeof(float));
}

static void token_free(token *tk) {
    for (int i = 0; i < tk->n_mats; i++) free(tk->w[i]);
    free_acts(tk->a_in), free_acts(tk->a_ffn), free_acts(tk->a_last), free(tk->y);
}

// Matrix i, rows of share `part` of `parts` (in multiples of 16, as the engine splits).
static void token_matmul(const token *tk, int i, int part, int parts) {
    int m = tk->m[i], units = m / 16, r0 = units * part / parts * 16, r1 = units * (part + 1) / parts * 16;
    if (part == parts - 1) r1 = m;
    tk->k->matmul_q4_0(tk->w[i], tk->a[i], r0, r1, tk->y, m);
}

// The second thread: spins until the main thread posts matrix i, does its half.
typedef struct {
    const token *tk;
    atomic_int next;  // matrix to do; -2 at first, -1 = quit
    atomic_int done;  // 1 + the last matrix it finished
} helper;

// Spin briefly, then give the core away: when another process holds the other
// core, a pure spin would keep the thread we wait for off it.
static void backoff(int *spins) {
    if (++*spins > 2000) sched_yield();
}

static void *helper_main(void *arg) {
    helper *h = arg;
    for (int last = -2;;) {
        int i, spins = 0;
        while ((i = atomic_load(&h->next)) == last) backoff(&spins);
        if (i == -1) return NULL;
        token_matmul(h->tk, i, 1, 2);
        last = i;
        atomic_store(&h->done, i + 1);
    }
}

static double time_token(const token *tk, helper *h) {
    double t0 = now_ms();
    for (int i = 0; i < tk->n_mats; i++) {
        if (!h) {
            token_matmul(tk, i, 0, 1);
            continue;
        }
        atomic_store(&h->next, i);
        token_matmul(tk, i, 0, 2);
        int spins = 0;
        while (atomic_load(&h->done) != i + 1) backoff(&spins);
    }
    return now_ms() - t0;
}

// wasm without pthreads has no second thread
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
#define MAX_THREADS 1
#else
#define MAX_THREADS 2
#endif

static void bench_token(const slm_kernels *k, const model_shape *ms, const char *what, int T, int reps) {
    token tk;
    token_init(&tk, k, ms, T);
    size_t bytes = 0;
    for (int i = 0; i < tk.n_mats; i++) bytes += q4_bytes(tk.m[i], tk.n[i]);
    double *ms_rep = xmalloc(reps * sizeof *ms_rep);
    for (int threads = 1; threads <= (use_cpu_time ? 1 : MAX_THREADS); threads++) {
        helper h = {.tk = &tk};
        atomic_init(&h.next, -2);
        atomic_init(&h.done, 0);
        pthread_t th;
        if (threads == 2) pthread_create(&th, NULL, helper_main, &h);
        time_token(&tk, threads == 2 ? &h : NULL);  // warm up
        for (int r = 0; r < reps; r++) ms_rep[r] = time_token(&tk, threads == 2 ? &h : NULL);
        if (threads == 2) {
            atomic_store(&h.next, -1);
            pthread_join(th, NULL);
        }
        double med = median(ms_rep, reps);
        printf("  %s (%d products, %.1f MB, T=%d), %d thread%s: %8.3f ms", what, tk.n_mats, bytes / 1e6, T, threads,
               threads > 1 ? "s" : " ", med);
        if (T == 1) printf("  %6.2f GB/s", bytes / med / 1e6);
        printf("\n");
    }
    free(ms_rep);
    token_free(&tk);
}

int main(int argc, char **argv) {
    static const char *const all[] = {"scalar", "avx2", "avxvnni", "avx512vnni", "neon", "wasm"};
    for (; argc > 1 && argv[1][0] == '-'; argc--, argv++) {
        if (!strcmp(argv[1], "--cached")) cached = 1;
        else if (!strcmp(argv[1], "--cpu")) use_cpu_time = 1;
        else if (!strcmp(argv[1], "--only") && argc > 2) only = argv[2], argc--, argv++;
        else { fprintf(stderr, "unknown option %s\n", argv[1]); return 2; }
    }
    const char *const *names = argc > 1 ? (const char *const *)argv + 1 : all;
    int count = argc > 1 ? argc - 1 : (int)(sizeof all / sizeof all[0]);
    static const int matvecs[][2] = {{768, 768}, {2048, 768}, {768, 2048}, {32000, 768}};
    for (int b = 0; b < count; b++) {
        const slm_kernels *k = slm_kernels_by_name(names[b]);
        if (!k) continue;
        int slow = !strcmp(k->name, "scalar");
        printf("%s\n", k->name);
        for (size_t s = 0; s < sizeof matvecs / sizeof matvecs[0] && wanted("matvec"); s++) {
            int m = matvecs[s][0], n = matvecs[s][1];
            double ms = time_matmul(k, m, n, 1, slow ? 5 : 21);
            printf("  q4_0 %5d x %4d, T=1:   %8.3f ms  %6.2f GB/s\n", m, n, ms, q4_bytes(m, n) / ms / 1e6);
        }
        if (wanted("gemm")) {
            double ms = time_matmul(k, 2048, 768, 128, slow ? 3 : 11);
            printf("  q4_0  2048 x  768, T=128: %8.3f ms  %6.2f GB/s  %6.1f GMAC/s\n", ms, q4_bytes(2048, 768) / ms / 1e6,
                   2048.0 * 768 * 128 / ms / 1e6);
        }
        if (wanted("token")) bench_token(k, &base_shape, "base token  ", 1, slow ? 3 : 15);
        if (wanted("prefill") && !slow) bench_token(k, &base_shape, "base prefill", 128, 3);
        if (wanted("nano")) bench_token(k, &nano_shape, "nano utterance", 16, slow ? 5 : 101);
    }
    return 0;
}
