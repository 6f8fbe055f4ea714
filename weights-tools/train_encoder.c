// The encoder for training: parameters in one buffer (gradients alike), the
// activations a batch keeps for backward, and the forward and backward passes
// built from train_ops.c.
//
//   x = embed(ids)                                   (N, dim)  [dropout]
//   for each layer:
//     xn = rmsnorm(x) ; q, k, v = xn Wq^T, xn Wk^T, xn Wv^T ; rope(q, k)
//     x += dropout(attn(q, k, v) Wo^T)               bidirectional within each text
//     xn = rmsnorm(x) ; x += dropout((silu(xn Wg^T) * (xn Wu^T)) Wd^T)
//   u = meanpool(rmsnorm(x))                         (B, dim)
//   v = mean of ngram_embd rows of each text's buckets (B, ngram_dim)
//   logits = cls_w [u; v] + cls_b                    [dropout on [u; v]]
//   loss = CE(logits) + aux * (CE(cls_w[:, :dim] u + b) + CE(cls_w[:, dim:] v + b))
//
// The auxiliary losses make each branch a classifier of its own, so the
// file's single linear layer is a sum (an ensemble) of two trained heads.
//
// Masked-LM pretraining (tr_mlm_backward) runs the same layers on texts with
// some tokens masked and predicts those through the token embedding:
//   logits (M, vocab) = xf[masked rows] . tok_embd^T,  loss = mean CE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/mathx.h"
#include "../src/model.h"
#include "train.h"

typedef struct {
    float *xin, *rstd1, *xn1, *q, *k, *v, *P, *att, *xmid, *rstd2, *xn2, *g, *u, *h;
} layer_acts;

struct tr_model {
    tr_config c;
    tr_exec e;
    int max_B, max_N, max_len;
    size_t p_cap;               // floats of P per layer
    tr_tensor *t;
    int n_t;
    size_t n_params, n_t_floats;
    float *params, *grads, *wt; // wt: transposed copies of the matmul weights
    tr_weights w, gw;           // views into params and grads
    tr_layer *wl, *gl;
    const float **wT;           // per layer 7 transposed matrices
    float *rope_cos, *rope_sin; // (max_len, head_dim / 2)
    layer_acts *acts;
    float *xL, *rstdf, *xf;     // final residual, its norm
    float *feat, *logits, *probs, *logits_u, *probs_u, *logits_v, *probs_v;
    // backward scratch
    float *dx, *dxn, *dq, *dk, *dv, *datt, *dy, *dg, *du, *dh, *dfeat, *dlogits;
    float *mlm, *mlm_Et;        // masked-LM scratch (mlm_cap rows), the token embedding transposed
    int mlm_cap;
    int last_B;
};

const tr_config *tr_model_config(const tr_model *m) { return &m->c; }
const tr_tensor *tr_model_tensors(const tr_model *m, int *n) { *n = m->n_t; return m->t; }
float *tr_model_params(tr_model *m, size_t *n) { if (n) *n = m->n_params; return m->params; }
float *tr_model_grads(tr_model *m) { return m->grads; }
tr_weights *tr_model_weights(tr_model *m) { return &m->w; }
slm_pool *tr_model_pool(tr_model *m) { return m->e.pool; }
const float *tr_features(const tr_model *m) { return m->feat; }

static void add_tensor(tr_model *m, const char *name, int rows, int cols, int decay, int group, int matmul) {
    tr_tensor *t = &m->t[m->n_t++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->rows = rows;
    t->cols = cols;
    t->decay = decay;
    t->group = group;
    t->off = m->n_params;
    t->t_off = matmul ? m->n_t_floats : SIZE_MAX;
    size_t n = (size_t)(rows ? rows : 1) * cols;
    m->n_params += n;
    if (matmul) m->n_t_floats += n;
}

static float *falloc(size_t n) {
    float *p = aligned_alloc(64, ((n ? n : 1) * sizeof(float) + 63) / 64 * 64);
    if (p) memset(p, 0, (n ? n : 1) * sizeof(float));
    return p;
}

void tr_model_free(tr_model *m) {
    if (!m) return;
    pool_free(m->e.pool);
    free(m->t);
    free(m->params);
    free(m->grads);
    free(m->wt);
    free(m->wl);
    free(m->gl);
    free(m->wT);
    free(m->rope_cos);
    free(m->rope_sin);
    free(m->mlm), free(m->mlm_Et);
    if (m->acts)
        for (int l = 0; l < m->c.n_layers; l++) {
            layer_acts *a = &m->acts[l];
            float *bufs[] = {a->xin, a->rstd1, a->xn1, a->q, a->k, a->v, a->P, a->att, a->xmid, a->rstd2, a->xn2, a->g, a->u, a->h};
            for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
        }
    free(m->acts);
    float *bufs[] = {m->xL, m->rstdf, m->xf, m->feat, m->logits, m->probs, m->logits_u, m->probs_u, m->logits_v,
                     m->probs_v, m->dx, m->dxn, m->dq, m->dk, m->dv, m->datt, m->dy, m->dg, m->du, m->dh, m->dfeat, m->dlogits};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    free(m);
}

tr_model *tr_model_new(const tr_config *cfg, int max_B, int max_N, int max_len, int n_threads, const char *kernels,
                       slm_error *err) {
    const tr_config *c = cfg;
    if (c->dim % c->n_heads || c->n_heads % c->n_kv_heads || (c->dim / c->n_heads) % 2 || c->n_classes < 1 ||
        max_len < 1 || max_N < max_len || max_B < 1) {
        slm_fail(err, SLM_ERR_INVALID_ARG, "bad model shape");
        return NULL;
    }
    const slm_train_kernels *k = slm_train_kernels_by_name(kernels);
    if (!k) {
        slm_fail(err, SLM_ERR_INVALID_ARG, "training kernels '%s' are not available on this CPU", kernels);
        return NULL;
    }
    tr_model *m = calloc(1, sizeof *m);
    if (!m) goto oom;
    m->c = *cfg;
    m->c.head_dim = c->dim / c->n_heads;
    c = &m->c;
    m->e.k = k;
    m->max_B = max_B, m->max_N = max_N, m->max_len = max_len;
    int D = c->dim, KV = c->n_kv_heads * c->head_dim, F = c->ffn, L = c->n_layers, ND = c->ngram.buckets ? c->ngram_dim : 0;
    if (!c->ngram.buckets) m->c.ngram_dim = 0;

    // the tensors, in the order the file lists them
    if (!(m->t = calloc((size_t)(9 * L + 5), sizeof *m->t))) goto oom;
    char name[48];
    add_tensor(m, "token_embd.weight", c->vocab, D, 1, 0, 0);
    for (int l = 0; l < L; l++) {
#define T(suffix, rows, cols, decay, mm) (snprintf(name, sizeof name, "blk.%d." suffix, l), add_tensor(m, name, rows, cols, decay, 0, mm))
        T("attn_norm.weight", 0, D, 0, 0);
        T("attn_q.weight", D, D, 1, 1);
        T("attn_k.weight", KV, D, 1, 1);
        T("attn_v.weight", KV, D, 1, 1);
        T("attn_output.weight", D, D, 1, 1);
        T("ffn_norm.weight", 0, D, 0, 0);
        T("ffn_gate.weight", F, D, 1, 1);
        T("ffn_up.weight", F, D, 1, 1);
        T("ffn_down.weight", D, F, 1, 1);
#undef T
    }
    add_tensor(m, "output_norm.weight", 0, D, 0, 0, 0);
    if (ND) add_tensor(m, "ngram_embd.weight", (int)c->ngram.buckets, ND, 1, 1, 0);
    add_tensor(m, "cls.weight", c->n_classes, D + ND, 1, 2, 0);
    add_tensor(m, "cls.bias", 0, c->n_classes, 0, 2, 0);

    if (!(m->params = falloc(m->n_params)) || !(m->grads = falloc(m->n_params)) || !(m->wt = falloc(m->n_t_floats)))
        goto oom;
    if (!(m->wl = calloc((size_t)L, sizeof *m->wl)) || !(m->gl = calloc((size_t)L, sizeof *m->gl)) ||
        !(m->wT = calloc((size_t)L * 7, sizeof *m->wT)))
        goto oom;
    m->w.layers = m->wl;
    m->gw.layers = m->gl;
    int ti = 0;
#define BIND(field) (m->w.field = m->params + m->t[ti].off, m->gw.field = m->grads + m->t[ti].off, ti++)
    BIND(tok_embd);
    for (int l = 0; l < L; l++) {
        int t0 = ti;
        BIND(layers[l].attn_norm); BIND(layers[l].wq); BIND(layers[l].wk); BIND(layers[l].wv); BIND(layers[l].wo);
        BIND(layers[l].ffn_norm); BIND(layers[l].w_gate); BIND(layers[l].w_up); BIND(layers[l].w_down);
        static const int mats[7] = {1, 2, 3, 4, 6, 7, 8};
        for (int i = 0; i < 7; i++) m->wT[l * 7 + i] = m->wt + m->t[t0 + mats[i]].t_off;
    }
    BIND(output_norm);
    if (ND) BIND(ngram_embd);
    BIND(cls_w);
    BIND(cls_b);
#undef BIND

    // RoPE tables, the runtime's formula: pos * theta^(-2i / head_dim)
    int half = c->head_dim / 2;
    if (!(m->rope_cos = falloc((size_t)max_len * half)) || !(m->rope_sin = falloc((size_t)max_len * half))) goto oom;
    double log_theta = slm_log_d((double)c->theta);
    for (int i = 0; i < half; i++) {
        double freq = slm_exp_d(-(double)(2 * i) / (double)c->head_dim * log_theta);
        for (int p = 0; p < max_len; p++) {
            double s, co;
            slm_sincos_d((double)p * freq, &s, &co);
            m->rope_cos[(size_t)p * half + i] = (float)co;
            m->rope_sin[(size_t)p * half + i] = (float)s;
        }
    }

    size_t N = (size_t)max_N, B = (size_t)max_B, C = (size_t)c->n_classes;
    m->p_cap = N * (size_t)max_len * c->n_heads;
    if (c->transformer) {
        if (!(m->acts = calloc((size_t)L, sizeof *m->acts))) goto oom;
        for (int l = 0; l < L; l++) {
            layer_acts *a = &m->acts[l];
            if (!(a->xin = falloc(N * D)) || !(a->rstd1 = falloc(N)) || !(a->xn1 = falloc(N * D)) || !(a->q = falloc(N * D)) ||
                !(a->k = falloc(N * KV)) || !(a->v = falloc(N * KV)) || !(a->P = falloc(m->p_cap)) ||
                !(a->att = falloc(N * D)) || !(a->xmid = falloc(N * D)) || !(a->rstd2 = falloc(N)) ||
                !(a->xn2 = falloc(N * D)) || !(a->g = falloc(N * F)) || !(a->u = falloc(N * F)) || !(a->h = falloc(N * F)))
                goto oom;
        }
        if (!(m->xL = falloc(N * D)) || !(m->rstdf = falloc(N)) || !(m->xf = falloc(N * D)) || !(m->dx = falloc(N * D)) ||
            !(m->dxn = falloc(N * D)) || !(m->dq = falloc(N * D)) || !(m->dk = falloc(N * KV)) || !(m->dv = falloc(N * KV)) ||
            !(m->datt = falloc(N * D)) || !(m->dy = falloc(N * D)) || !(m->dg = falloc(N * F)) || !(m->du = falloc(N * F)) ||
            !(m->dh = falloc(N * F)))
            goto oom;
    }
    if (!(m->feat = falloc(B * (D + ND))) || !(m->dfeat = falloc(B * (D + ND))) || !(m->logits = falloc(B * C)) ||
        !(m->probs = falloc(B * C)) || !(m->logits_u = falloc(B * C)) || !(m->probs_u = falloc(B * C)) ||
        !(m->logits_v = falloc(B * C)) || !(m->probs_v = falloc(B * C)) || !(m->dlogits = falloc(B * C)))
        goto oom;
    if (!(m->e.pool = pool_new(n_threads > 0 ? n_threads : 1))) goto oom;
    return m;
oom:
    tr_model_free(m);
    slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory allocating the training model");
    return NULL;
}

// ---- init and transposed copies ------------------------------------------------

typedef struct {
    tr_model *m;
} sync_job;

static void sync_task(void *arg, int ith, int nth) {
    tr_model *m = ((sync_job *)arg)->m;
    for (int i = 0; i < m->n_t; i++) {
        const tr_tensor *t = &m->t[i];
        if (t->t_off == SIZE_MAX) continue;
        int lo, hi;
        pool_split(t->cols, ith, nth, 8, &lo, &hi);
        const float *w = m->params + t->off;
        float *wt = m->wt + t->t_off;
        for (int c = lo; c < hi; c++)   // wt (cols, rows) = w^T
            for (int r = 0; r < t->rows; r++) wt[(size_t)c * t->rows + r] = w[(size_t)r * t->cols + c];
    }
}

void tr_model_sync(tr_model *m) {
    if (!m->c.transformer) return;   // no matmul reads the copies
    sync_job j = {m};
    pool_run(m->e.pool, sync_task, &j);
}

void tr_model_init(tr_model *m, uint64_t seed) {
    uint64_t s = tr_hash(seed ^ 0x5eed5eedull);
    float std = 0.02f, proj = 0.02f / sqrtf(2.0f * m->c.n_layers);
    for (int i = 0; i < m->n_t; i++) {
        const tr_tensor *t = &m->t[i];
        float *p = m->params + t->off;
        size_t n = (size_t)(t->rows ? t->rows : 1) * t->cols;
        if (!t->rows) {     // norms 1, biases 0
            float v = strstr(t->name, "norm") ? 1.0f : 0.0f;
            for (size_t k = 0; k < n; k++) p[k] = v;
        } else if (!strcmp(t->name, "cls.weight")) {
            memset(p, 0, n * sizeof(float));
        } else {
            float sd = strstr(t->name, "attn_output") || strstr(t->name, "ffn_down") ? proj : std;
            if (!strcmp(t->name, "ngram_embd.weight")) sd = 0.1f;
            for (size_t k = 0; k < n; k++) p[k] = tr_normal(&s) * sd;
        }
    }
    tr_model_sync(m);
}

// ---- forward ---------------------------------------------------------------------

static uint64_t site_seed(uint64_t seed, int layer, int which) { return tr_hash(seed * 1000003ull + (uint64_t)layer * 16 + which); }

// The transformer up to its final norm: m->xf (N, dim).
static void forward_layers(tr_model *m, const tr_batch *b, const tr_train_opts *o, uint64_t seed) {
    const tr_config *c = &m->c;
    int D = c->dim, KV = c->n_kv_heads * c->head_dim, F = c->ffn, H = c->n_heads, hd = c->head_dim;
    tr_seqs s = {b->B, b->off, b->len};
    float *x = m->acts[0].xin;
    op_embed_fwd(x, m->w.tok_embd, b->ids, b->N, D);
    if (o) op_dropout(x, (size_t)b->N * D, o->drop_embd, site_seed(seed, 99, 0));
    for (int l = 0; l < c->n_layers; l++) {
        layer_acts *a = &m->acts[l];
        const tr_layer *W = &m->w.layers[l];
        const float **Wt = m->wT + l * 7;
        float *xout = l + 1 < c->n_layers ? m->acts[l + 1].xin : m->xL;
        op_rmsnorm_fwd(a->xn1, a->rstd1, a->xin, W->attn_norm, &s, D, c->eps);
        op_matmul_fwd(&m->e, a->q, a->xn1, Wt[0], &s, D, D);
        op_matmul_fwd(&m->e, a->k, a->xn1, Wt[1], &s, D, KV);
        op_matmul_fwd(&m->e, a->v, a->xn1, Wt[2], &s, D, KV);
        op_rope_fwd(a->q, &s, D, H, hd, m->rope_cos, m->rope_sin);
        op_rope_fwd(a->k, &s, KV, c->n_kv_heads, hd, m->rope_cos, m->rope_sin);
        op_attn_fwd(&m->e, a->att, a->P, a->q, a->k, a->v, &s, H, c->n_kv_heads, hd, 0);
        op_matmul_fwd(&m->e, m->dy, a->att, Wt[3], &s, D, D);     // dy: scratch
        if (o) op_dropout(m->dy, (size_t)b->N * D, o->drop_resid, site_seed(seed, l, 1));
        for (size_t i = 0; i < (size_t)b->N * D; i++) a->xmid[i] = a->xin[i] + m->dy[i];
        op_rmsnorm_fwd(a->xn2, a->rstd2, a->xmid, W->ffn_norm, &s, D, c->eps);
        op_matmul_fwd(&m->e, a->g, a->xn2, Wt[4], &s, D, F);
        op_matmul_fwd(&m->e, a->u, a->xn2, Wt[5], &s, D, F);
        op_swiglu_fwd(a->h, a->g, a->u, &s, F);
        op_matmul_fwd(&m->e, m->dy, a->h, Wt[6], &s, F, D);
        if (o) op_dropout(m->dy, (size_t)b->N * D, o->drop_resid, site_seed(seed, l, 2));
        for (size_t i = 0; i < (size_t)b->N * D; i++) xout[i] = a->xmid[i] + m->dy[i];
    }
    op_rmsnorm_fwd(m->xf, m->rstdf, m->xL, m->w.output_norm, &s, D, c->eps);
}

const float *tr_forward(tr_model *m, const tr_batch *b, const tr_train_opts *o, uint64_t seed) {
    const tr_config *c = &m->c;
    int D = c->dim, ND = c->ngram_dim, FD = D + ND, C = c->n_classes, B = b->B;
    tr_seqs s = {B, b->off, b->len};
    m->last_B = B;
    if (c->transformer) {
        forward_layers(m, b, o, seed);
        op_meanpool_fwd(m->feat, FD, m->xf, &s, D);
    } else {
        for (int i = 0; i < B; i++) memset(m->feat + (size_t)i * FD, 0, D * sizeof(float));
    }
    if (ND) {
        tr_seqs bs = {B, b->boff, b->blen};
        op_bag_fwd(m->feat + D, FD, m->w.ngram_embd, b->bag, &bs, ND);
    }
    if (o) op_dropout(m->feat, (size_t)B * FD, o->drop_feat, site_seed(seed, 98, 0));
    op_linear_fwd(m->logits, m->feat, FD, m->w.cls_w, FD, m->w.cls_b, B, FD, C);
    return m->logits;
}

// ---- backward ----------------------------------------------------------------------

static void backward_layers(tr_model *m, const tr_batch *b, const tr_train_opts *o, uint64_t seed);

float tr_backward(tr_model *m, const tr_batch *b, const tr_train_opts *o, uint64_t seed) {
    const tr_config *c = &m->c;
    int D = c->dim, ND = c->ngram_dim, FD = D + ND, C = c->n_classes, B = b->B;
    tr_seqs s = {B, b->off, b->len};
    size_t ND_ = (size_t)b->N * D;
    memset(m->grads, 0, m->n_params * sizeof(float));

    // the loss: the whole classifier, then each branch's own head
    float eps = o->label_smoothing;
    float loss = op_ce_fwd(m->probs, m->logits, b->y, B, C, eps);
    memset(m->dlogits, 0, (size_t)B * C * sizeof(float));
    memset(m->dfeat, 0, (size_t)B * FD * sizeof(float));
    op_ce_bwd(m->dlogits, m->probs, b->y, B, C, eps, 1.0f);
    op_linear_bwd(m->dfeat, FD, m->gw.cls_w, FD, m->gw.cls_b, m->dlogits, m->feat, m->w.cls_w, B, FD, C);
    if (o->aux_weight > 0.0f && ND && c->transformer) {
        struct { int col, n; float *lg, *pr; } br[2] = {{0, D, m->logits_u, m->probs_u}, {D, ND, m->logits_v, m->probs_v}};
        for (int i = 0; i < 2; i++) {
            op_linear_fwd(br[i].lg, m->feat + br[i].col, FD, m->w.cls_w + br[i].col, FD, m->w.cls_b, B, br[i].n, C);
            loss += o->aux_weight * op_ce_fwd(br[i].pr, br[i].lg, b->y, B, C, eps);
            memset(m->dlogits, 0, (size_t)B * C * sizeof(float));
            op_ce_bwd(m->dlogits, br[i].pr, b->y, B, C, eps, o->aux_weight);
            op_linear_bwd(m->dfeat + br[i].col, FD, m->gw.cls_w + br[i].col, FD, m->gw.cls_b, m->dlogits,
                          m->feat + br[i].col, m->w.cls_w + br[i].col, B, br[i].n, C);
        }
    }
    op_dropout(m->dfeat, (size_t)B * FD, o->drop_feat, site_seed(seed, 98, 0));
    if (ND) {
        tr_seqs bs = {B, b->boff, b->blen};
        op_bag_bwd(m->gw.ngram_embd, m->dfeat + D, FD, b->bag, &bs, ND);
    }
    if (!c->transformer) return loss;
    memset(m->dxn, 0, ND_ * sizeof(float));
    op_meanpool_bwd(m->dxn, m->dfeat, FD, &s, D);
    backward_layers(m, b, o, seed);
    return loss;
}

// From m->dxn, the gradient of m->xf (N, dim): the final norm, then the
// layers last to first; dx is the residual stream's gradient.
static void backward_layers(tr_model *m, const tr_batch *b, const tr_train_opts *o, uint64_t seed) {
    const tr_config *c = &m->c;
    int D = c->dim, KV = c->n_kv_heads * c->head_dim, F = c->ffn, H = c->n_heads, hd = c->head_dim;
    tr_seqs s = {b->B, b->off, b->len};
    size_t ND_ = (size_t)b->N * D;
    memset(m->dx, 0, ND_ * sizeof(float));
    op_rmsnorm_bwd(m->dx, m->gw.output_norm, m->dxn, m->xL, m->w.output_norm, m->rstdf, &s, D);
    for (int l = c->n_layers - 1; l >= 0; l--) {
        layer_acts *a = &m->acts[l];
        const tr_layer *W = &m->w.layers[l], *G = &m->gw.layers[l];
        // feed-forward: x_out = x_mid + drop(h Wd^T)
        memcpy(m->dy, m->dx, ND_ * sizeof(float));
        op_dropout(m->dy, ND_, o->drop_resid, site_seed(seed, l, 2));
        memset(m->dh, 0, (size_t)b->N * F * sizeof(float));
        op_matmul_bwd(&m->e, m->dh, G->w_down, m->dy, a->h, W->w_down, &s, F, D);
        memset(m->dg, 0, (size_t)b->N * F * sizeof(float));
        memset(m->du, 0, (size_t)b->N * F * sizeof(float));
        op_swiglu_bwd(m->dg, m->du, m->dh, a->g, a->u, &s, F);
        memset(m->dxn, 0, ND_ * sizeof(float));
        op_matmul_bwd(&m->e, m->dxn, G->w_gate, m->dg, a->xn2, W->w_gate, &s, D, F);
        op_matmul_bwd(&m->e, m->dxn, G->w_up, m->du, a->xn2, W->w_up, &s, D, F);
        op_rmsnorm_bwd(m->dx, G->ffn_norm, m->dxn, a->xmid, W->ffn_norm, a->rstd2, &s, D);
        // attention: x_mid = x_in + drop(attn Wo^T)
        memcpy(m->dy, m->dx, ND_ * sizeof(float));
        op_dropout(m->dy, ND_, o->drop_resid, site_seed(seed, l, 1));
        memset(m->datt, 0, ND_ * sizeof(float));
        op_matmul_bwd(&m->e, m->datt, G->wo, m->dy, a->att, W->wo, &s, D, D);
        memset(m->dq, 0, ND_ * sizeof(float));
        memset(m->dk, 0, (size_t)b->N * KV * sizeof(float));
        memset(m->dv, 0, (size_t)b->N * KV * sizeof(float));
        op_attn_bwd(&m->e, m->dq, m->dk, m->dv, m->datt, a->P, a->q, a->k, a->v, &s, H, c->n_kv_heads, hd, 0);
        op_rope_bwd(m->dq, &s, D, H, hd, m->rope_cos, m->rope_sin);
        op_rope_bwd(m->dk, &s, KV, c->n_kv_heads, hd, m->rope_cos, m->rope_sin);
        memset(m->dxn, 0, ND_ * sizeof(float));
        op_matmul_bwd(&m->e, m->dxn, G->wq, m->dq, a->xn1, W->wq, &s, D, D);
        op_matmul_bwd(&m->e, m->dxn, G->wk, m->dk, a->xn1, W->wk, &s, D, KV);
        op_matmul_bwd(&m->e, m->dxn, G->wv, m->dv, a->xn1, W->wv, &s, D, KV);
        op_rmsnorm_bwd(m->dx, G->attn_norm, m->dxn, a->xin, W->attn_norm, a->rstd1, &s, D);
    }
    op_dropout(m->dx, ND_, o->drop_embd, site_seed(seed, 99, 0));
    op_embed_bwd(m->gw.tok_embd, m->dx, b->ids, b->N, D);
}

// ---- masked-LM pretraining -----------------------------------------------------------

// One masked-LM step's loss and gradients (into the model's): b's ids come
// with some rows masked, and rows pos[0..M) must predict target[0..M) with
// the token embedding as the output layer (tied):
//   logits (M, vocab) = xf[pos] . tok_embd^T,  loss = mean CE
slm_status tr_mlm_backward(tr_model *m, const tr_batch *b, const int32_t *pos, const int32_t *target, int M,
                           const tr_train_opts *o, uint64_t seed, float *loss, slm_error *err) {
    const tr_config *c = &m->c;
    int D = c->dim, V = c->vocab;
    if (!c->transformer || M < 1) return slm_fail(err, SLM_ERR_INVALID_ARG, "masked-LM training needs the transformer and a masked token");
    if (M > m->mlm_cap) {   // scratch for M rows: x, dx (M, D), logits, probs (M, V)
        float *p = realloc(m->mlm, ((size_t)M * 2 * D + (size_t)M * 2 * V) * sizeof(float));
        if (!p) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
        m->mlm = p, m->mlm_cap = M;
    }
    if (!m->mlm_Et && !(m->mlm_Et = malloc((size_t)V * D * sizeof(float)))) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    float *x = m->mlm, *dx = x + (size_t)M * D, *logits = dx + (size_t)M * D, *probs = logits + (size_t)M * V;
    forward_layers(m, b, o, seed);
    for (int i = 0; i < M; i++) memcpy(x + (size_t)i * D, m->xf + (size_t)pos[i] * D, D * sizeof(float));
    const float *E = m->w.tok_embd;   // (V, D), transposed for the forward matmul
    for (int v = 0; v < V; v++)
        for (int d = 0; d < D; d++) m->mlm_Et[(size_t)d * V + v] = E[(size_t)v * D + d];
    int start = 0;
    tr_seqs rows = {1, &start, &M};
    op_matmul_fwd(&m->e, logits, x, m->mlm_Et, &rows, D, V);
    memset(m->grads, 0, m->n_params * sizeof(float));
    *loss = op_ce_fwd(probs, logits, target, M, V, 0.0f);
    memset(logits, 0, (size_t)M * V * sizeof(float));   // now the logits' gradient
    op_ce_bwd(logits, probs, target, M, V, 0.0f, 1.0f);
    memset(dx, 0, (size_t)M * D * sizeof(float));
    op_matmul_bwd(&m->e, dx, m->gw.tok_embd, logits, x, E, &rows, D, V);
    memset(m->dxn, 0, (size_t)b->N * D * sizeof(float));
    for (int i = 0; i < M; i++)
        for (int d = 0; d < D; d++) m->dxn[(size_t)pos[i] * D + d] += dx[(size_t)i * D + d];
    backward_layers(m, b, o, seed);
    return SLM_OK;
}
