// A small pthread pool: pool_run calls fn(arg, i, n) on n threads at once (the
// caller is thread 0) and returns when all are done.
#ifndef SLM_POOL_H
#define SLM_POOL_H

#include <stdatomic.h>

typedef struct slm_pool slm_pool;
typedef void (*slm_task_fn)(void *arg, int thread, int n_threads);

// NULL if threads cannot be started or memory is short.
slm_pool *pool_new(int n_threads);
void pool_free(slm_pool *p);
int pool_threads(const slm_pool *p);
void pool_run(slm_pool *p, slm_task_fn fn, void *arg);

// The share [*lo, *hi) of n items for thread i of nt, in whole multiples of
// `align` (so kernels see row groups they like).
static inline void pool_split(int n, int i, int nt, int align, int *lo, int *hi) {
    int units = (n + align - 1) / align;
    int a = (int)((long long)units * i / nt) * align, b = (int)((long long)units * (i + 1) / nt) * align;
    *lo = a < n ? a : n;
    *hi = b < n ? b : n;
}

// Work handed out on demand: each call takes the next chunk [*lo, *hi) of n
// items from the shared counter *next (0 before pool_run), 0 when none are
// left. Whichever threads are running take the work, so one that the OS
// keeps waiting (a busy machine) holds up no one; every item still goes to
// exactly one thread.
static inline int pool_take(atomic_int *next, int n, int chunk, int *lo, int *hi) {
    int a = atomic_fetch_add_explicit(next, chunk, memory_order_relaxed);
    if (a >= n) return 0;
    *lo = a;
    *hi = n - a < chunk ? n : a + chunk;
    return 1;
}
#endif
