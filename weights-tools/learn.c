// Continual learning of an encoder's classifier on the device (slm.h,
// "continual learning"): the classifier and the n-gram table learn, in f32,
// while the transformer's pooled features u of every stored example are
// computed once and cached.
//
//   features  f = [u; v]            u (dim) frozen, v (nd) = mean of table rows
//   logits    W f + b + s           W (C, F), b (C), F = dim + nd
//   bag term  s_c = BAG_SCALE * mean over the text's buckets k of S_c[k]
//   loss      cross-entropy + (lambda / 2) sum F_i (theta_i - theta*_i)^2
//
// theta* is the learner as it was before the update, which is also what a
// refused update returns to: the classifier is copied whole, table rows when
// an update first touches them. Fisher F is the mean over the replay buffer
// of each example's squared gradient (the empirical Fisher), recomputed after
// every accepted update. Everything runs on the calling thread.
//
// S_c, a class's own weight of each n-gram bucket, exists for the classes
// taught here only (zero until then) and learns with their rows in phase 1:
// a new intent gets words of its own without moving the shared table, which
// the pooled features alone do not give it (they were trained for the
// other intents: on CLINC150, 1-NN over them finds 48.5 % of 10 new
// intents). It has no Fisher: only its class uses it, and the guard checks it.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn.h"

#define BATCH 32
#define ROW_EPOCHS 30       // phase 1's passes at most
#define ROW_BATCH 64
#define BAG_SCALE 3.0f      // of S against W: on CLINC150 (bench/learn_clinc.sh) 1, 2, 3, 4, 8 gave
                            // new 76.5, 77.0, 78.5, 77.5, 75.0 % and old drops 1.14, 1.00, 0.93, 0.93, 0.86
#define CONFIDENT 0.7f      // new examples are learnt when all are right, their label this probable on average

slm_learn_params slm_learn_default_params(void) {
    return (slm_learn_params){.epochs = 10, .lr = 1e-2f, .ewc_lambda = 100.0f, .replay = 1, .replay_ratio = 4,
                              .replay_capacity = 4000, .guard_capacity = 2000, .max_drop = 0.01f,
                              .max_class_drop = 0.3f, .min_fit = 0.75f, .seed = 1};
}

// ---- examples ----------------------------------------------------------------------

void learn_example_free(example *e) {
    free(e->text);
    free(e->bag);
    free(e->u);
    memset(e, 0, sizeof *e);
}

void learn_set_free(example_set *s) {
    for (int i = 0; i < s->n; i++) learn_example_free(&s->ex[i]);
    free(s->ex);
    memset(s, 0, sizeof *s);
}

slm_status learn_example_make(slm_learner *l, const char *text, int label, example *e, slm_error *err) {
    memset(e, 0, sizeof *e);
    size_t len = strlen(text);
    e->label = label;
    e->text = malloc(len + 1);
    e->u = malloc((size_t)l->dim * sizeof(float));
    if (!e->text || !e->u) goto oom;
    memcpy(e->text, text, len + 1);
    slm_status st = encoder_pool(l->enc, text, len, e->u, NULL, err);
    if (st) {
        learn_example_free(e);
        return st;
    }
    e->n_bag = l->nd ? ngram_features(&l->m->ngram, text, len, NULL, 0) : 0;
    if (!(e->bag = malloc((size_t)(e->n_bag ? e->n_bag : 1) * sizeof(uint32_t)))) goto oom;
    if (e->n_bag) ngram_features(&l->m->ngram, text, len, e->bag, e->n_bag);
    return SLM_OK;
oom:
    learn_example_free(e);
    return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
}

static int example_copy(const slm_learner *l, const example *e, example *out) {
    size_t len = strlen(e->text) + 1;
    *out = (example){.label = e->label, .n_bag = e->n_bag, .text = malloc(len),
                     .bag = malloc((size_t)(e->n_bag ? e->n_bag : 1) * sizeof(uint32_t)),
                     .u = malloc((size_t)l->dim * sizeof(float))};
    if (!out->text || !out->bag || !out->u) {
        learn_example_free(out);
        return -1;
    }
    memcpy(out->text, e->text, len);
    memcpy(out->bag, e->bag, (size_t)e->n_bag * sizeof(uint32_t));
    memcpy(out->u, e->u, (size_t)l->dim * sizeof(float));
    return 0;
}

int learn_set_push(example_set *s, example *e) {
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 64;
        example *p = realloc(s->ex, (size_t)cap * sizeof *p);
        if (!p) return -1;
        s->ex = p, s->cap = cap;
    }
    s->ex[s->n++] = *e;
    return 0;
}

static uint64_t next_rand(slm_learner *l) {
    l->rng += 0x9e3779b97f4a7c15ull;
    return tr_hash(l->rng);
}

// Reservoir sampling: the buffer stays a uniform sample of all examples
// offered. Takes e (stores it or frees it).
static int reservoir_add(slm_learner *l, example_set *s, int capacity, example *e) {
    s->seen++;
    if (s->n < capacity) return learn_set_push(s, e);
    uint64_t j = next_rand(l) % s->seen;
    if (j < (uint64_t)capacity && s->n) {
        learn_example_free(&s->ex[j]);
        s->ex[j] = *e;
    } else {
        learn_example_free(e);
    }
    return 0;
}

// ---- the classifier ------------------------------------------------------------------

// f (F) = [u; v] of an example, v from the learner's table, summed with the
// kernels in the order slm_classify uses.
static void features(const slm_learner *l, const example *e, float *f) {
    const slm_kernels *k = l->enc->k;
    memcpy(f, e->u, (size_t)l->dim * sizeof(float));
    float *v = f + l->dim;
    memset(v, 0, (size_t)l->nd * sizeof(float));
    if (!e->n_bag) return;
    for (int i = 0; i < e->n_bag; i++) k->add(v, l->table + (size_t)e->bag[i] * l->nd, l->nd);
    for (int j = 0; j < l->nd; j++) v[j] /= (float)e->n_bag;
}

// A class's bag term of an example (s_c above; 0 without S_c).
static float bag_logit(const float *bag_w, const example *e) {
    if (!bag_w || !e->n_bag) return 0.0f;
    float sum = 0.0f;
    for (int k = 0; k < e->n_bag; k++) sum += bag_w[e->bag[k]];
    return BAG_SCALE * sum / (float)e->n_bag;
}

// logits (C) of an example, and its features into f (F). Without bag weights
// these are slm_classify's logits, bit for bit (before the temperature).
static void logits_of(const slm_learner *l, const example *e, float *f, float *logits) {
    features(l, e, f);
    l->enc->k->matmul_f32(l->w, f, 1, l->F, 0, l->C, logits, l->C);
    for (int c = 0; c < l->C; c++) logits[c] = logits[c] + l->b[c] + bag_logit(l->bag_w[c], e);
}

static int argmax(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

// How many examples first, first + stride, ... of s the classifier gets
// right, overall and per class (per_class: NULL or (C, 2) counts right, total).
static int count_right(const slm_learner *l, const example_set *s, int first, int stride, int *per_class, float *f,
                       float *lg) {
    int right = 0;
    for (int i = first; i < s->n; i += stride) {
        logits_of(l, &s->ex[i], f, lg);
        int ok = argmax(lg, l->C) == s->ex[i].label;
        right += ok;
        if (per_class) per_class[2 * s->ex[i].label] += ok, per_class[2 * s->ex[i].label + 1]++;
    }
    return right;
}

// Whether every example of s is classified right and, on average, with
// probability CONFIDENT (softmax at temperature 1, as the loss sees it).
static int learnt(const slm_learner *l, const example_set *s, float *f, float *lg) {
    double sum = 0.0;
    for (int i = 0; i < s->n; i++) {
        logits_of(l, &s->ex[i], f, lg);
        if (argmax(lg, l->C) != s->ex[i].label) return 0;
        l->enc->k->softmax(lg, l->C);
        sum += lg[s->ex[i].label];
    }
    return s->n && sum / s->n >= CONFIDENT;
}

slm_status slm_learner_classify(slm_learner *l, const char *text, size_t len, float *probs, int *truncated,
                                slm_error *err) {
    if (truncated) *truncated = 0;
    if (!probs) return slm_fail(err, SLM_ERR_INVALID_ARG, "no room for the probabilities");
    int n = l->nd && text ? ngram_features(&l->m->ngram, text, len, NULL, 0) : 0;
    example e = {.n_bag = n, .u = malloc((size_t)l->dim * sizeof(float)), .bag = malloc((size_t)(n ? n : 1) * sizeof(uint32_t))};
    float *f = malloc((size_t)l->F * sizeof *f);
    slm_status st = e.u && e.bag && f ? SLM_OK : slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    if (!st) st = encoder_pool(l->enc, text, len, e.u, truncated, err);
    if (!st) {
        if (n) ngram_features(&l->m->ngram, text, len, e.bag, n);
        logits_of(l, &e, f, probs);
        for (int c = 0; c < l->C; c++) probs[c] = probs[c] / l->m->temperature;
        st = forward_check(probs, 1, l->C, -1, -1, "the classifier's logits", err);
        if (!st) l->enc->k->softmax(probs, l->C);
    }
    free(e.u), free(e.bag), free(f);
    return st;
}

int slm_learner_class_count(const slm_learner *l) { return l->C; }

const char *slm_learner_class_label(const slm_learner *l, int i) { return i >= 0 && i < l->C ? l->labels[i] : NULL; }

void slm_learner_set_params(slm_learner *l, const slm_learn_params *p) { l->p = p ? *p : slm_learn_default_params(); }

// ---- Fisher ----------------------------------------------------------------------------

// The empirical Fisher over the replay buffer: the mean of each example's
// squared gradient of -log p(label).
slm_status learn_fisher_update(slm_learner *l, slm_error *err) {
    size_t nw = (size_t)l->C * l->F, nt = (size_t)l->buckets * l->nd;
    memset(l->fw, 0, nw * sizeof(float));
    memset(l->fb, 0, (size_t)l->C * sizeof(float));
    if (l->nd) memset(l->ft, 0, nt * sizeof(float));
    const example_set *s = &l->replay;
    if (!s->n) return SLM_OK;
    float *f = malloc((size_t)l->F * sizeof *f), *g = malloc((size_t)l->C * sizeof *g);
    float *dv = malloc((size_t)(l->nd ? l->nd : 1) * sizeof *dv);
    uint32_t *ids = NULL;
    int cap = 0;
    slm_status st = f && g && dv ? SLM_OK : slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < s->n && !st; i++) {
        const example *e = &s->ex[i];
        logits_of(l, e, f, g);
        op_ce_fwd(g, g, &e->label, 1, l->C, 0.0f);   // g = probabilities
        g[e->label] -= 1.0f;                         // g = dloss / dlogits
        for (int c = 0; c < l->C; c++) {
            float gc2 = g[c] * g[c];
            l->fb[c] += gc2;
            for (int j = 0; j < l->F; j++) l->fw[(size_t)c * l->F + j] += gc2 * f[j] * f[j];
        }
        if (!l->nd || !e->n_bag) continue;
        for (int j = 0; j < l->nd; j++) {
            float d = 0.0f;
            for (int c = 0; c < l->C; c++) d += g[c] * l->w[(size_t)c * l->F + l->dim + j];
            dv[j] = d;
        }
        // a row's gradient is (its count / n_bag) * dv: count the duplicates
        if (e->n_bag > cap) {
            uint32_t *p = realloc(ids, (size_t)e->n_bag * sizeof *p);
            if (!p) { st = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory"); break; }
            ids = p, cap = e->n_bag;
        }
        memcpy(ids, e->bag, (size_t)e->n_bag * sizeof *ids);
        for (int a = 1; a < e->n_bag; a++)   // insertion sort: bags are short
            for (int b = a; b > 0 && ids[b - 1] > ids[b]; b--) { uint32_t t = ids[b]; ids[b] = ids[b - 1]; ids[b - 1] = t; }
        for (int a = 0; a < e->n_bag;) {
            int z = a;
            while (z < e->n_bag && ids[z] == ids[a]) z++;
            float share = (float)(z - a) / (float)e->n_bag;
            float *row = l->ft + (size_t)ids[a] * l->nd;
            for (int j = 0; j < l->nd; j++) row[j] += share * share * dv[j] * dv[j];
            a = z;
        }
    }
    if (!st) {
        float inv = 1.0f / (float)s->n;
        for (size_t i = 0; i < nw; i++) l->fw[i] *= inv;
        for (int c = 0; c < l->C; c++) l->fb[c] *= inv;
        for (size_t i = 0; l->nd && i < nt; i++) l->ft[i] *= inv;
    }
    free(f), free(g), free(dv), free(ids);
    return st;
}

// ---- an update -------------------------------------------------------------------------

// What an update needs for its duration: the classifier as it was (theta*,
// and the rollback), table rows as they were when first touched, and the
// optimizer's state.
typedef struct {
    float *w0, *b0;             // (C, F), (C) before
    int C0;
    float *mw, *vw, *mb, *vb;   // Adam moments of w, b
    float *mt, *vt;             // (buckets, nd) Adam moments of the table, touched rows only
    float *t0;                  // (n_touched, nd) rows before
    uint32_t *touched;          // rows touched, in order
    int32_t *slot;              // (buckets) index into touched, -1 if not
    int n_touched, cap_touched;
    uint8_t *changed0;          // changed flags before, of touched rows (n_touched)
    float *gt;                  // (buckets, nd) gradient of the batch's rows
    int32_t *stamp;             // (buckets) last batch that zeroed the row's gradient
    int C1;                     // classes after the update
    uint8_t *bag_taught;        // (C1) classes whose bag weights the update learns
    float **bag0;               // (C1) their bag weights before: a copy, or NULL if they had none
} update;

static void update_free(update *u) {
    free(u->w0), free(u->b0), free(u->mw), free(u->vw), free(u->mb), free(u->vb), free(u->mt), free(u->vt);
    free(u->t0), free(u->touched), free(u->slot), free(u->changed0), free(u->gt), free(u->stamp);
    for (int c = 0; u->bag0 && c < u->C1; c++) free(u->bag0[c]);
    free(u->bag0), free(u->bag_taught);
}

static int update_init(update *u, const slm_learner *l, int C_new) {
    memset(u, 0, sizeof *u);
    size_t nw = (size_t)C_new * l->F, nt = (size_t)l->buckets * l->nd;
    u->C0 = l->C, u->C1 = C_new;
    u->bag_taught = calloc((size_t)C_new, 1), u->bag0 = calloc((size_t)C_new, sizeof *u->bag0);
    u->w0 = malloc((size_t)l->C * l->F * sizeof(float));
    u->b0 = malloc((size_t)l->C * sizeof(float));
    u->mw = calloc(nw, sizeof(float)), u->vw = calloc(nw, sizeof(float));
    u->mb = calloc((size_t)C_new, sizeof(float)), u->vb = calloc((size_t)C_new, sizeof(float));
    if (!u->w0 || !u->b0 || !u->mw || !u->vw || !u->mb || !u->vb || !u->bag_taught || !u->bag0) return -1;
    memcpy(u->w0, l->w, (size_t)l->C * l->F * sizeof(float));
    memcpy(u->b0, l->b, (size_t)l->C * sizeof(float));
    if (!l->nd) return 0;
    u->mt = calloc(nt, sizeof(float)), u->vt = calloc(nt, sizeof(float)), u->gt = malloc(nt * sizeof(float));
    u->slot = malloc((size_t)l->buckets * sizeof(int32_t)), u->stamp = malloc((size_t)l->buckets * sizeof(int32_t));
    if (!u->mt || !u->vt || !u->gt || !u->slot || !u->stamp) return -1;
    for (uint32_t r = 0; r < l->buckets; r++) u->slot[r] = -1, u->stamp[r] = -1;
    return 0;
}

// Row r joins the update (its value before is kept); -1 when out of memory.
static int touch(update *u, slm_learner *l, uint32_t r) {
    if (u->slot[r] >= 0) return 0;
    if (u->n_touched == u->cap_touched) {
        int cap = u->cap_touched ? 2 * u->cap_touched : 1024;
        float *t0 = realloc(u->t0, (size_t)cap * l->nd * sizeof(float));
        if (t0) u->t0 = t0;
        uint32_t *tr = realloc(u->touched, (size_t)cap * sizeof(uint32_t));
        if (tr) u->touched = tr;
        uint8_t *c0 = realloc(u->changed0, (size_t)cap);
        if (c0) u->changed0 = c0;
        if (!t0 || !tr || !c0) return -1;
        u->cap_touched = cap;
    }
    memcpy(u->t0 + (size_t)u->n_touched * l->nd, l->table + (size_t)r * l->nd, (size_t)l->nd * sizeof(float));
    u->touched[u->n_touched] = r;
    u->changed0[u->n_touched] = l->changed[r];
    u->slot[r] = u->n_touched++;
    return 0;
}

// Class c's bag weights join the update (a new one starts at zero); -1 when out of memory.
static int bag_touch(update *u, slm_learner *l, int c) {
    size_t bytes = (size_t)l->buckets * sizeof(float);
    if (l->bag_w[c] && !(u->bag0[c] = malloc(bytes))) return -1;
    if (l->bag_w[c]) memcpy(u->bag0[c], l->bag_w[c], bytes);
    else if (!(l->bag_w[c] = calloc(l->buckets, sizeof(float)))) return -1;
    u->bag_taught[c] = 1;
    return 0;
}

// Back to the learner as it was before the update, bit for bit.
static void rollback(slm_learner *l, const update *u) {
    for (int c = 0; c < u->C1; c++) {
        if (!u->bag_taught[c]) continue;
        if (u->bag0[c]) {
            memcpy(l->bag_w[c], u->bag0[c], (size_t)l->buckets * sizeof(float));
        } else {
            free(l->bag_w[c]);
            l->bag_w[c] = NULL;
        }
    }
    l->C = u->C0;
    memcpy(l->w, u->w0, (size_t)l->C * l->F * sizeof(float));
    memcpy(l->b, u->b0, (size_t)l->C * sizeof(float));
    for (int i = 0; i < u->n_touched; i++) {
        uint32_t r = u->touched[i];
        memcpy(l->table + (size_t)r * l->nd, u->t0 + (size_t)i * l->nd, (size_t)l->nd * sizeof(float));
        l->changed[r] = u->changed0[i];
    }
}

typedef struct {
    const example *ex[BATCH];
    int n;
} batch;

// x = argmin lambda/2 F (x - x0)^2 + 1/2 (x - x')^2 from x' = x: the pull of
// the EWC penalty towards x0, strongest where the Fisher F is.
static void pull_back(float *x, const float *x0, const float *fisher, size_t n, float lam) {
    for (size_t i = 0; i < n; i++) x[i] = x0[i] + (x[i] - x0[i]) / (1.0f + lam * fisher[i]);
}

// One Adam step on a batch: cross-entropy of the batch plus the EWC pull.
static int train_step(slm_learner *l, update *u, const batch *bt, int step, float *f, float *lg, float *dlg,
                      float *gw, float *gb, float *df) {
    const slm_learn_params *p = &l->p;
    int C = l->C, F = l->F, nd = l->nd;
    size_t nw = (size_t)C * F;
    memset(gw, 0, nw * sizeof(float));
    memset(gb, 0, (size_t)C * sizeof(float));
    // the rows this batch reads: zero their gradients once
    for (int i = 0; i < bt->n; i++)
        for (int k = 0; k < bt->ex[i]->n_bag; k++) {
            uint32_t r = bt->ex[i]->bag[k];
            if (u->stamp[r] == step) continue;
            u->stamp[r] = step;
            if (touch(u, l, r)) return -1;
            memset(u->gt + (size_t)r * nd, 0, (size_t)nd * sizeof(float));
        }
    float scale = 1.0f / (float)bt->n;
    for (int i = 0; i < bt->n; i++) {
        const example *e = bt->ex[i];
        logits_of(l, e, f, lg);
        op_ce_fwd(dlg, lg, &e->label, 1, C, 0.0f);
        dlg[e->label] -= 1.0f;
        for (int c = 0; c < C; c++) dlg[c] *= scale;
        memset(df, 0, (size_t)F * sizeof(float));
        op_linear_bwd(df, F, gw, F, gb, dlg, f, l->w, 1, F, C);
        for (int k = 0; k < e->n_bag; k++) {
            float *g = u->gt + (size_t)e->bag[k] * nd, inv = 1.0f / (float)e->n_bag;
            for (int j = 0; j < nd; j++) g[j] += df[l->dim + j] * inv;
        }
    }
    // Adam on the cross-entropy, then the EWC penalty lambda/2 F (theta -
    // theta*)^2 as its proximal step (exact for a quadratic, whatever the
    // strength: a gradient term would fight Adam's normalization and jitter
    // every weight by ~lr); new classes have no Fisher and no theta*
    float lam = p->ewc_lambda;
    tr_adamw_update(l->w, gw, u->mw, u->vw, nw, p->lr, 0.9f, 0.999f, 1e-8f, 0.0f, step);
    tr_adamw_update(l->b, gb, u->mb, u->vb, (size_t)C, p->lr, 0.9f, 0.999f, 1e-8f, 0.0f, step);
    if (lam > 0.0f) {
        pull_back(l->w, u->w0, l->fw, (size_t)u->C0 * F, lam);
        pull_back(l->b, u->b0, l->fb, (size_t)u->C0, lam);
    }
    // the table: the rows of this batch (lazy Adam: other rows keep their moments)
    for (int i = 0; i < bt->n; i++)
        for (int k = 0; k < bt->ex[i]->n_bag; k++) {
            uint32_t r = bt->ex[i]->bag[k];
            if (u->stamp[r] != step) continue;   // done already
            u->stamp[r] = -2 - step;
            size_t at = (size_t)r * nd;
            float *row = l->table + at;
            tr_adamw_update(row, u->gt + at, u->mt + at, u->vt + at, (size_t)nd, p->lr, 0.9f, 0.999f, 1e-8f, 0.0f, step);
            if (lam > 0.0f) pull_back(row, u->t0 + (size_t)u->slot[r] * nd, l->ft + at, (size_t)nd, lam);
            l->changed[r] = 1;
        }
    return 0;
}

static void shuffle(slm_learner *l, const example **a, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(next_rand(l) % (uint64_t)(i + 1));
        const example *t = a[i];
        a[i] = a[j], a[j] = t;
    }
}

// Puts this pass's replayed examples first in rep (all of the replay
// buffer): half are those the taught classes threaten most (the highest
// taught-class logit above their own: what the update would break first),
// half at random. risk: room for the buffer's size.
static void pick_replay(slm_learner *l, const example **rep, int k, const uint8_t *taught, float *f, float *lg, float *risk) {
    int n = l->replay.n;
    for (int i = 0; i < n; i++) rep[i] = &l->replay.ex[i];
    shuffle(l, rep, n);
    for (int i = 0; i < n; i++) {
        logits_of(l, rep[i], f, lg);
        float worst = -1e30f;
        for (int c = 0; c < l->C; c++)
            if (taught[c] && c != rep[i]->label && lg[c] > worst) worst = lg[c];
        risk[i] = worst - lg[rep[i]->label];
    }
    // selection of the k/2 riskiest to the front (k is small next to n)
    for (int a = 0; a < k / 2 && a < n; a++) {
        int best = a;
        for (int b = a + 1; b < n; b++)
            if (risk[b] > risk[best]) best = b;
        const example *t = rep[a];
        rep[a] = rep[best], rep[best] = t;
        float r = risk[a];
        risk[a] = risk[best], risk[best] = r;
    }
}

static int valid_label(const char *s) {
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n >= MAX_LABEL) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20) return 0;   // tabs, new lines: labels go in TSV files
    return 1;
}

static int find_class(const slm_learner *l, const char *label, int C) {
    for (int c = 0; c < C; c++)
        if (!strcmp(l->labels[c], label)) return c;
    return -1;
}

int learn_grow_classes(slm_learner *l, int C) {
    float *w = realloc(l->w, (size_t)C * l->F * sizeof(float));
    if (w) l->w = w;
    float *fw = realloc(l->fw, (size_t)C * l->F * sizeof(float));
    if (fw) l->fw = fw;
    float *b = realloc(l->b, (size_t)C * sizeof(float));
    if (b) l->b = b;
    float *fb = realloc(l->fb, (size_t)C * sizeof(float));
    if (fb) l->fb = fb;
    char(*lab)[MAX_LABEL] = realloc(l->labels, (size_t)C * MAX_LABEL);
    if (lab) l->labels = lab;
    float **bag_w = realloc(l->bag_w, (size_t)C * sizeof *bag_w);
    if (bag_w) l->bag_w = bag_w;
    for (int c = l->C; bag_w && c < C; c++) bag_w[c] = NULL;
    return w && fw && b && fb && lab && bag_w ? 0 : -1;
}

// New classes start at zero weights and the mean bias (phase 1 fits them:
// for one row against fixed others, the start hardly matters); the labels
// come from added.
static void init_new_classes(slm_learner *l, int C_new, char (*added)[MAX_LABEL]) {
    float mean_b = 0.0f;
    for (int c = 0; c < l->C; c++) mean_b += l->b[c];
    mean_b = l->C ? mean_b / (float)l->C : 0.0f;
    for (int c = l->C; c < C_new; c++) {
        memset(l->w + (size_t)c * l->F, 0, (size_t)l->F * sizeof(float));
        memset(l->fw + (size_t)c * l->F, 0, (size_t)l->F * sizeof(float));
        l->b[c] = mean_b, l->fb[c] = 0.0f;
        snprintf(l->labels[c], MAX_LABEL, "%s", added[c - l->C]);
    }
    l->C = C_new;
}

// The i-th stored example phase 1 learns from (i < 0: the new one given):
// the replay buffer, then the held-out buffer's even examples.
static const example *stored_at(const slm_learner *l, int i, const example *given) {
    if (i < 0) return given;
    return i < l->replay.n ? &l->replay.ex[i] : &l->guard.ex[2 * (i - l->replay.n)];
}

// Phase 1 of an update: only the taught classes' rows (w, b, S) learn, from the
// new examples, the whole replay buffer and half the held-out one as one set,
// every other row and the table held, so the other classes' logits are
// computed once. A new class's row learns against every stored example of
// the others, not a sample (with a sample it takes whatever the sample did
// not show it), and against held-out ones, which the model is as unsure of
// as of what it will meet (the replayed training texts it knows too well).
// The new examples weigh as much as two of the known classes' stored
// examples do on average (with fewer than 8 classes, a quarter of all of
// them): more, and a new row takes old intents' texts (on
// CLINC150, 10 intents taught to a 140-intent model: weighing a quarter of
// all stored examples, new 83.5 % and old 92.4 -> 83.1 %; as 2 classes,
// 76.5 % and 89.1 %; as 1, 76.0 % and 89.6 %). With replay off, the rows see
// the new examples alone.
static int fit_rows(slm_learner *l, const example_set *news, const uint8_t *taught, const update *u) {
    const example *ex = news->ex;
    // without replay (plain fine-tuning), nothing stored: the new examples alone
    int n = news->n, F = l->F, C = l->C, R = l->p.replay ? l->replay.n + (l->guard.n + 1) / 2 : 0, N = n + R, nt = 0;
    int *rows = malloc((size_t)C * sizeof *rows), *order = malloc((size_t)N * sizeof *order);
    float *feat = malloc((size_t)N * F * sizeof(float)), *lg = malloc((size_t)N * C * sizeof(float));   // (N, F), (N, C)
    float *gw = malloc((size_t)C * F * sizeof(float)), *gb = malloc((size_t)C * sizeof(float));
    float *mw = calloc((size_t)C * F, sizeof(float)), *vw = calloc((size_t)C * F, sizeof(float));
    float *mb = calloc((size_t)C, sizeof(float)), *vb = calloc((size_t)C, sizeof(float));
    float *z = malloc((size_t)C * sizeof(float));
    int ok = rows && order && feat && lg && gw && gb && mw && vw && mb && vb && z;
    for (int c = 0; ok && c < C; c++)
        if (taught[c]) rows[nt++] = c;
    // the taught rows' bag weights S: their gradient and Adam moments, (nt, buckets)
    size_t B = l->buckets, nsb = (size_t)nt * B > 0 ? (size_t)nt * B : 1;
    float *gs = calloc(nsb, sizeof(float)), *ms = calloc(nsb, sizeof(float)), *vs = calloc(nsb, sizeof(float));
    ok = ok && gs && ms && vs;
    for (int i = 0; ok && i < N; i++) {
        const example *e = stored_at(l, i - n, ex + i);
        logits_of(l, e, feat + (size_t)i * F, lg + (size_t)i * C);
        order[i] = i;
    }
    int C0 = u->C0 > 8 ? u->C0 : 8;   // a quarter of the stored weight at most
    float w_new = 2.0f * (float)R / ((float)C0 * n), lam = l->p.ewc_lambda;
    if (w_new < 1.0f) w_new = 1.0f;
    for (int ep = 0, step = 0; ok && ep < ROW_EPOCHS; ep++) {
        for (int i = N - 1; i > 0; i--) {
            int j = (int)(next_rand(l) % (uint64_t)(i + 1)), t = order[i];
            order[i] = order[j], order[j] = t;
        }
        for (int s0 = 0; s0 < N; s0 += ROW_BATCH, step++) {
            for (int k = 0; k < nt; k++) memset(gw + (size_t)rows[k] * F, 0, (size_t)F * sizeof(float)), gb[rows[k]] = 0.0f;
            float wsum = 0.0f;
            for (int s = s0; s < N && s < s0 + ROW_BATCH; s++) {
                int i = order[s];
                const example *e = stored_at(l, i - n, ex + i);
                const float *f = feat + (size_t)i * F;
                memcpy(z, lg + (size_t)i * C, (size_t)C * sizeof(float));
                for (int k = 0; k < nt; k++) {   // the taught rows as they are now
                    int r = rows[k];
                    float d = l->b[r];
                    for (int j = 0; j < F; j++) d += l->w[(size_t)r * F + j] * f[j];
                    z[r] = d + bag_logit(l->bag_w[r], e);
                }
                float mx = z[0], sum = 0.0f, wi = i < n ? w_new : 1.0f;
                for (int c = 1; c < C; c++) mx = z[c] > mx ? z[c] : mx;
                for (int c = 0; c < C; c++) sum += z[c] = expf(z[c] - mx);
                wsum += wi;
                for (int k = 0; k < nt; k++) {   // d(cross-entropy)/d(logit r), weighted
                    int r = rows[k];
                    float g = wi * (z[r] / sum - (r == e->label ? 1.0f : 0.0f));
                    gb[r] += g;
                    for (int j = 0; j < F; j++) gw[(size_t)r * F + j] += g * f[j];
                    for (int q = 0; B && q < e->n_bag; q++) gs[(size_t)k * B + e->bag[q]] += g * BAG_SCALE / (float)e->n_bag;
                }
            }
            for (int k = 0; k < nt; k++) {
                int r = rows[k];
                float *w = l->w + (size_t)r * F, *g = gw + (size_t)r * F;
                for (int j = 0; j < F; j++) g[j] /= wsum;
                gb[r] /= wsum;
                tr_adamw_update(w, g, mw + (size_t)r * F, vw + (size_t)r * F, (size_t)F, l->p.lr, 0.9f, 0.999f, 1e-8f, 0.0f, step);
                tr_adamw_update(l->b + r, gb + r, mb + r, vb + r, 1, l->p.lr, 0.9f, 0.999f, 1e-8f, 0.0f, step);
                if (B) {
                    float *gsk = gs + (size_t)k * B;
                    for (size_t q = 0; q < B; q++) gsk[q] /= wsum;
                    tr_adamw_update(l->bag_w[r], gsk, ms + (size_t)k * B, vs + (size_t)k * B, B, l->p.lr, 0.9f, 0.999f, 1e-8f, 0.0f, step);
                    memset(gsk, 0, B * sizeof(float));
                }
                if (lam > 0.0f && r < u->C0) {   // a class the model knew: EWC holds it
                    pull_back(w, u->w0 + (size_t)r * F, l->fw + (size_t)r * F, (size_t)F, lam);
                    pull_back(l->b + r, u->b0 + r, l->fb + r, 1, lam);
                }
            }
        }
    }
    free(rows), free(order), free(feat), free(lg), free(gw), free(gb), free(mw), free(vw), free(mb), free(vb), free(z);
    free(gs), free(ms), free(vs);
    return ok ? 0 : -1;
}

static void progress(const slm_learner *l, const char *stage, double f) {
    if (l->p.progress) l->p.progress(l->p.user, stage, f);
}

slm_status slm_learn(slm_learner *l, const char *const *texts, const char *const *labels, int n,
                     slm_learn_result *res, slm_error *err) {
    memset(res, 0, sizeof *res);
    const slm_learn_params *p = &l->p;
    if (n <= 0 || !texts || !labels) return slm_fail(err, SLM_ERR_INVALID_ARG, "no examples to learn");
    if (p->epochs < 1 || !(p->lr > 0.0f) || p->ewc_lambda < 0.0f || p->replay_ratio < 0 || p->replay_capacity < 0 ||
        p->guard_capacity < 0)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "learning parameters out of range");
    // labels: known classes, then new ones in order of appearance
    int C_new = l->C;
    char (*added)[MAX_LABEL] = NULL;
    int *y = malloc((size_t)n * sizeof *y);
    if (!y) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < n; i++) {
        if (!texts[i]) { free(y), free(added); return slm_fail(err, SLM_ERR_INVALID_ARG, "example %d has no text", i + 1); }
        if (!valid_label(labels[i])) {
            free(y), free(added);
            return slm_fail(err, SLM_ERR_INVALID_ARG, "example %d: a label is 1 to %d bytes without control characters",
                            i + 1, MAX_LABEL - 1);
        }
        int c = find_class(l, labels[i], l->C);
        for (int k = l->C; c < 0 && k < C_new; k++)
            if (!strcmp(added[k - l->C], labels[i])) c = k;
        if (c < 0) {
            if (C_new == MAX_CLASSES) { free(y), free(added); return slm_fail(err, SLM_ERR_INVALID_ARG, "more than %d classes", MAX_CLASSES); }
            char(*a)[MAX_LABEL] = realloc(added, (size_t)(C_new - l->C + 1) * MAX_LABEL);
            if (!a) { free(y), free(added); return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory"); }
            added = a;
            snprintf(added[C_new - l->C], MAX_LABEL, "%s", labels[i]);
            c = C_new++;
        }
        y[i] = c;
    }
    // the new examples' features (errors, e.g. an empty text, change nothing)
    example *ex = calloc((size_t)n, sizeof *ex);
    slm_status st = ex ? SLM_OK : slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < n && !st; i++) {
        slm_error e;
        if ((st = learn_example_make(l, texts[i], y[i], &ex[i], &e))) slm_fail(err, st, "example %d: %s", i + 1, e.message);
        progress(l, "reading", (double)(i + 1) / n);
    }
    free(y);
    update u = {0};
    float *buf = NULL;
    const example **order = NULL;
    int *pc_before = NULL, *pc_after = NULL;
    float *risk = NULL;
    uint8_t *taught = NULL;
    if (!st && (update_init(&u, l, C_new) || learn_grow_classes(l, C_new)))
        st = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    if (st) goto done;

    // before: held-out and fit, with the classes as they are (new examples
    // of a new class count as wrong)
    int F = l->F;
    buf = malloc(((size_t)F * 2 + (size_t)C_new * 3 + (size_t)C_new * F + C_new) * sizeof(float));
    pc_before = calloc((size_t)C_new * 2, sizeof(int)), pc_after = calloc((size_t)C_new * 2, sizeof(int));
    int want = n * p->replay_ratio > 128 ? n * p->replay_ratio : 128;
    int n_replay = !p->replay ? 0 : l->replay.n < want ? l->replay.n : want;
    order = malloc((size_t)(n * (l->replay.n / (3 * n) + 2) + l->replay.n) * sizeof *order);
    if (!buf || !pc_before || !pc_after || !order) { st = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory"); goto done; }
    float *f = buf, *df = f + F, *lg = df + F, *dlg = lg + C_new, *gb = dlg + C_new, *gw = gb + C_new;
    // the held-out buffer's odd examples check the update; phase 1 calibrates on the even ones
    int right_before = count_right(l, &l->guard, 1, 2, pc_before, f, lg);
    example_set news = {.ex = ex, .n = n};
    int fit_before = count_right(l, &news, 0, 1, NULL, f, lg);   // a new class's examples count as wrong

    init_new_classes(l, C_new, added);

    // phase 1: the taught rows alone (fit_rows); phase 2, if the examples are
    // not learnt yet: everything, the table included, in passes of the new
    // examples (repeated to be at least a quarter of each) and replayed ones,
    // until they are (no more: every step also moves what was known)
    risk = malloc((size_t)(l->replay.n ? l->replay.n : 1) * sizeof *risk);
    taught = calloc((size_t)C_new, 1);
    if (!risk || !taught) { st = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory"); rollback(l, &u); goto done; }
    for (int i = 0; i < n; i++) taught[ex[i].label] = 1;
    for (int c = 0; l->buckets && c < C_new && !st; c++)
        if (taught[c] && bag_touch(&u, l, c)) st = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    if (st) { rollback(l, &u); goto done; }
    if (fit_rows(l, &news, taught, &u)) { st = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory"); rollback(l, &u); goto done; }
    int repeat = n_replay > 3 * n ? (n_replay + 3 * n - 1) / (3 * n) : 1, n_new = n * repeat;
    const example **rep = order + n_new;
    for (int i = 0; i < l->replay.n; i++) rep[i] = &l->replay.ex[i];
    int step = 0, per_epoch = n_new + n_replay;
    for (int ep = 0; ep < p->epochs && !learnt(l, &news, f, lg); ep++) {
        for (int i = 0; i < n_new; i++) order[i] = &ex[i % n];
        pick_replay(l, rep, n_replay, taught, f, lg, risk);   // rep's first n_replay: this pass's
        const example **all = malloc((size_t)per_epoch * sizeof *all);
        if (!all) { st = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory"); break; }
        memcpy(all, order, (size_t)per_epoch * sizeof *all);
        shuffle(l, all, per_epoch);
        for (int s = 0; s < per_epoch && !st; s += BATCH, step++) {
            batch bt = {.n = per_epoch - s < BATCH ? per_epoch - s : BATCH};
            memcpy(bt.ex, all + s, (size_t)bt.n * sizeof *bt.ex);
            if (train_step(l, &u, &bt, step, f, lg, dlg, gw, gb, df)) st = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
        }
        free(all);
        progress(l, "learning", (double)(ep + 1) / p->epochs);
    }
    if (st) { rollback(l, &u); goto done; }
    progress(l, "learning", 1.0);

    // after: the guard's verdict
    int right_after = count_right(l, &l->guard, 1, 2, pc_after, f, lg);
    int fit_after = count_right(l, &news, 0, 1, NULL, f, lg);
    int ng = l->guard.n / 2;   // the odd examples
    res->dev_accuracy_before = ng ? (float)right_before / ng : -1.0f;
    res->dev_accuracy_after = ng ? (float)right_after / ng : -1.0f;
    res->fit_before = (float)fit_before / n;
    res->fit_after = (float)fit_after / n;
    // a drop of one example is noise however small the held-out set
    float allowed = p->max_drop * (float)ng > 1.0f ? p->max_drop * (float)ng : 1.0f;
    if (ng && (float)(right_before - right_after) > allowed)
        snprintf(res->reason, sizeof res->reason,
                 "held-out accuracy would drop from %.1f%% to %.1f%% (%d of %d examples; at most %.0f may turn wrong)",
                 100.0 * res->dev_accuracy_before, 100.0 * res->dev_accuracy_after, right_before - right_after, ng, allowed);
    for (int c = 0; c < u.C0 && !res->reason[0]; c++) {
        int tot = pc_before[2 * c + 1], lost = pc_before[2 * c] - pc_after[2 * c];
        if (tot < 3 || lost < 2) continue;   // one example is noise here too
        float a0 = (float)pc_before[2 * c] / tot, a1 = (float)pc_after[2 * c] / tot;
        if (a1 < a0 - p->max_class_drop)
            snprintf(res->reason, sizeof res->reason,
                     "class '%s' would drop from %.0f%% to %.0f%% on its held-out examples: the labels contradict it",
                     l->labels[c], 100.0 * a0, 100.0 * a1);
    }
    if (!res->reason[0] && res->fit_after < p->min_fit)
        snprintf(res->reason, sizeof res->reason, "only %d of the %d examples are learnt (%.0f%%, at least %.0f%% needed)",
                 fit_after, n, 100.0 * res->fit_after, 100.0 * p->min_fit);
    if (res->reason[0]) {
        rollback(l, &u);
        goto done;
    }

    // accepted: the examples join both buffers, and the Fisher follows
    res->accepted = 1;
    res->new_classes = C_new - u.C0;
    for (int i = 0; i < n && !st; i++) {
        example copy;
        if (example_copy(l, &ex[i], &copy) || reservoir_add(l, &l->guard, p->guard_capacity, &copy))
            st = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
        if (!st && reservoir_add(l, &l->replay, p->replay_capacity, &ex[i])) st = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
        else if (!st) ex[i].text = NULL, ex[i].bag = NULL, ex[i].u = NULL;   // moved into the buffer
    }
    if (!st) st = learn_fisher_update(l, err);

done:
    res->n_guard = l->guard.n;
    res->n_replay = l->replay.n;
    for (int i = 0; ex && i < n; i++) learn_example_free(&ex[i]);
    free(ex);
    free(added);
    free(buf), free(order), free(pc_before), free(pc_after), free(risk), free(taught);
    update_free(&u);
    return st;
}
