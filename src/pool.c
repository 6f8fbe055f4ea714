// Thread pool. A decode step runs dozens of short parallel matrix products,
// so workers spin briefly on a generation counter before sleeping on a
// condition variable: wake-up costs microseconds, not a scheduler round trip.
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#define SPIN_ITERS 20000

struct slm_pool {
    int n;
    pthread_t *threads;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_uint generation;   // bumped for each job
    atomic_int pending;       // workers still running the current job
    atomic_int sleeping;      // workers blocked on `wake`
    atomic_int quit;
    slm_task_fn fn;
    void *arg;
};

typedef struct {
    slm_pool *p;
    int index;
} worker_arg;

static void *worker(void *v) {
    worker_arg wa = *(worker_arg *)v;
    free(v);
    slm_pool *p = wa.p;
    unsigned seen = 0;
    for (;;) {
        unsigned gen;
        int spins = 0;
        while ((gen = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen) {
            if (++spins < SPIN_ITERS) continue;
            pthread_mutex_lock(&p->lock);
            atomic_fetch_add(&p->sleeping, 1);
            while ((gen = atomic_load(&p->generation)) == seen) pthread_cond_wait(&p->wake, &p->lock);
            atomic_fetch_sub(&p->sleeping, 1);
            pthread_mutex_unlock(&p->lock);
            break;
        }
        seen = gen;
        if (atomic_load(&p->quit)) return NULL;
        p->fn(p->arg, wa.index, p->n);
        atomic_fetch_sub_explicit(&p->pending, 1, memory_order_release);
    }
}

slm_pool *pool_new(int n_threads) {
    slm_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = n_threads < 1 ? 1 : n_threads;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    if (p->n > 1 && !(p->threads = calloc((size_t)p->n - 1, sizeof *p->threads))) {
        pool_free(p);
        return NULL;
    }
    for (int i = 1; i < p->n; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (!wa) { p->n = i; pool_free(p); return NULL; }
        wa->p = p;
        wa->index = i;
        if (pthread_create(&p->threads[i - 1], NULL, worker, wa)) {
            free(wa);
            p->n = i;
            pool_free(p);
            return NULL;
        }
    }
    return p;
}

static void publish(slm_pool *p) {
    atomic_fetch_add(&p->generation, 1);   // seq_cst: ordered before the load of `sleeping`
    if (atomic_load(&p->sleeping)) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
    }
}

void pool_run(slm_pool *p, slm_task_fn fn, void *arg) {
    if (p->n == 1) { fn(arg, 0, 1); return; }
    p->fn = fn;
    p->arg = arg;
    atomic_store(&p->pending, p->n - 1);
    publish(p);
    fn(arg, 0, p->n);
    // a worker may be descheduled on a busy machine: after a short spin,
    // give the core away instead of burning it
    for (int spins = 0; atomic_load_explicit(&p->pending, memory_order_acquire) > 0;)
        if (++spins > 2000) sched_yield();
}

int pool_threads(const slm_pool *p) { return p->n; }

void pool_free(slm_pool *p) {
    if (!p) return;
    if (p->n > 1) {
        atomic_store(&p->quit, 1);
        // publish under the lock so a worker between its check and its wait cannot miss it
        pthread_mutex_lock(&p->lock);
        atomic_fetch_add(&p->generation, 1);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
        for (int i = 1; i < p->n; i++) pthread_join(p->threads[i - 1], NULL);
    }
    free(p->threads);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    free(p);
}
