// AdamW with decoupled weight decay, warmup then cosine or warmup-stable-decay
// learning rates, and global gradient-norm clipping.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"

struct tr_optim {
    tr_optim_cfg cfg;
    float *m, *v;           // first and second moments, one per parameter
    size_t n;
};

tr_optim *tr_optim_new(const tr_optim_cfg *cfg, size_t n) {
    tr_optim *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->cfg = *cfg;
    o->n = n;
    o->m = calloc(n ? n : 1, sizeof(float));
    o->v = calloc(n ? n : 1, sizeof(float));
    if (!o->m || !o->v) {
        tr_optim_free(o);
        return NULL;
    }
    return o;
}

void tr_optim_free(tr_optim *o) {
    if (!o) return;
    free(o->m);
    free(o->v);
    free(o);
}

// Linear warmup to lr over `warmup` steps, then
//   cosine: lr -> min_lr along half a cosine over the remaining steps;
//   WSD:    lr held, then linear decay to min_lr over the last decay_frac.
float tr_lr_at(const tr_optim_cfg *c, int step) {
    if (step < c->warmup) return c->lr * (float)(step + 1) / (float)c->warmup;
    int rest = c->total - c->warmup;
    if (rest <= 0) return c->lr;
    double f = (double)(step - c->warmup) / rest;
    if (f > 1.0) f = 1.0;
    if (c->schedule == TR_WSD) {
        double start = 1.0 - c->decay_frac;
        if (f <= start) return c->lr;
        return c->min_lr + (c->lr - c->min_lr) * (float)((1.0 - f) / (c->decay_frac > 0 ? c->decay_frac : 1));
    }
    return c->min_lr + (c->lr - c->min_lr) * 0.5f * (float)(1.0 + cos(3.14159265358979323846 * f));
}

double tr_clip_grads(float *g, size_t n, float clip) {
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) ss += (double)g[i] * g[i];
    double norm = sqrt(ss);
    if (clip > 0.0f && norm > clip && isfinite(norm)) {
        float s = (float)(clip / norm);
        for (size_t i = 0; i < n; i++) g[i] *= s;
    }
    return norm;
}

// p -= lr * (mhat / (sqrt(vhat) + eps) + wd * p), with
// m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, mhat = m / (1 - b1^t), vhat = v / (1 - b2^t), t = step + 1.
void tr_adamw_update(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1, float beta2,
                     float eps, float wd, int step) {
    float c1 = 1.0f / (1.0f - powf(beta1, (float)(step + 1))), c2 = 1.0f / (1.0f - powf(beta2, (float)(step + 1)));
    for (size_t i = 0; i < n; i++) {
        m[i] = beta1 * m[i] + (1.0f - beta1) * g[i];
        v[i] = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
        float mh = m[i] * c1, vh = v[i] * c2;
        p[i] -= lr * (mh / (sqrtf(vh) + eps) + wd * p[i]);
    }
}

typedef struct {
    tr_optim *o;
    const tr_tensor *t;
    int n_t, step;
    float *params;
    const float *grads;
    float lr;
} adam_job;

// Every tensor split across the threads: elementwise, so any split gives the same bits.
static void adam_task(void *arg, int ith, int nth) {
    adam_job *j = arg;
    const tr_optim_cfg *c = &j->o->cfg;
    for (int i = 0; i < j->n_t; i++) {
        const tr_tensor *t = &j->t[i];
        int n = (t->rows ? t->rows : 1) * t->cols, lo, hi;
        pool_split(n, ith, nth, 64, &lo, &hi);
        if (lo >= hi) continue;
        float lr = j->lr * c->lr_mult[t->group];
        size_t at = t->off + lo;
        tr_adamw_update(j->params + at, j->grads + at, j->o->m + at, j->o->v + at, (size_t)(hi - lo), lr, c->beta1,
                        c->beta2, c->eps, t->decay ? c->weight_decay : 0.0f, j->step);
    }
}

void tr_adamw_step(tr_optim *o, slm_pool *pool, const tr_tensor *t, int n_tensors, float *params, const float *grads,
                   int step) {
    adam_job j = {o, t, n_tensors, step, params, grads, tr_lr_at(&o->cfg, step)};
    pool_run(pool, adam_task, &j);
}
