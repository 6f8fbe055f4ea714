// The slm360-encoder: one whole text through bidirectional layers, mean
// pooling, the hashed n-gram branch, a linear classifier, softmax over the
// calibrated temperature (docs/FORMAT.md, "Encoders").
//
//   ids = tokenize(text), no BOS, cut to n_ctx      (T tokens)
//   x = embed(ids); every layer with attention over all T tokens (no mask)
//   u = mean over t of rmsnorm(x[t])                 (dim)
//   v = mean of ngram_embd rows of the text's n-gram buckets  (ngram_dim)
//   logits = cls_w . [u; v] + cls_b;  probs = softmax(logits / temperature)
//
// Every step is a kernel or plain sequential C, so results are the same bits
// on every backend and thread count, like the decoder's.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "forward.h"

int slm_embed_dim(const slm_model *m) { return m->info.is_encoder ? m->info.dim + m->ngram_dim : 0; }

static int is_space(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v'; }

// u (dim) = mean over the T rows of xb (T, dim).
static void mean_pool(const float *xb, int T, int dim, float *u) {
    memset(u, 0, dim * sizeof(float));
    for (int t = 0; t < T; t++)
        for (int i = 0; i < dim; i++) u[i] += xb[(size_t)t * dim + i];
    for (int i = 0; i < dim; i++) u[i] /= (float)T;
}

// v (ngram_dim) = mean of the n-gram table's rows for the text's features;
// zeros for a text without any (only punctuation).
static slm_status ngram_mean(slm_context *c, const char *text, size_t len, float *v, slm_error *err) {
    const slm_model *m = c->m;
    int nd = m->ngram_dim;
    memset(v, 0, nd * sizeof(float));
    int n = ngram_features(&m->ngram, text, len, NULL, 0);
    if (n == 0) return SLM_OK;
    uint32_t *buckets = malloc((size_t)n * sizeof *buckets);
    float *row = malloc(nd * sizeof *row);
    if (!buckets || !row) {
        free(buckets);
        free(row);
        return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    }
    ngram_features(&m->ngram, text, len, buckets, n);
    for (int i = 0; i < n; i++) {
        forward_row(c, &m->ngram_embd, (int)buckets[i], row);
        c->k->add(v, row, nd);
    }
    for (int j = 0; j < nd; j++) v[j] /= (float)n;
    free(buckets);
    free(row);
    return SLM_OK;
}

slm_status encoder_pool(slm_context *c, const char *text, size_t len, float *u, int *truncated, slm_error *err) {
    const slm_model *m = c->m;
    const slm_model_info *in = &m->info;
    if (!in->is_encoder)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "this model is a decoder: classification and embeddings need an encoder");
    if (!text && len) return slm_fail(err, SLM_ERR_INVALID_ARG, "no text");
    size_t blank = 0;
    while (blank < len && is_space(text[blank])) blank++;
    if (blank == len) return slm_fail(err, SLM_ERR_INVALID_ARG, len ? "the text is only white space" : "the text is empty");

    int32_t *ids = malloc((size_t)c->n_ctx * sizeof *ids);
    if (!ids) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    int n = slm_tokenize(m, text, len, 0, ids, c->n_ctx, err);
    if (n < 0) {
        free(ids);
        return SLM_ERR_OUT_OF_MEMORY;
    }
    int T = n < c->n_ctx ? n : c->n_ctx;
    if (truncated) *truncated = n - T;

    forward_embed(c, ids, T);
    free(ids);
    slm_status st = forward_check(c->x, T, in->dim, 0, -1, "the token embedding", err);
    for (int l = 0; l < in->n_layers && !st; l++) {
        forward_layer(c, l, T, 0, 0);
        st = forward_check(c->x, T, in->dim, 0, l, NULL, err);
    }
    if (st) return st;
    forward_rmsnorm_rows(c, c->xb, c->x, &m->output_norm, T, in->dim, in->dim);
    mean_pool(c->xb, T, in->dim, u);
    return forward_check(u, 1, in->dim, -1, -1, "the pooled vector", err);
}

// feat (dim + ngram_dim) = [u; v] for text. *truncated: tokens cut off.
static slm_status features(slm_context *c, const char *text, size_t len, float *feat, int *truncated, slm_error *err) {
    slm_status st = encoder_pool(c, text, len, feat, truncated, err);
    if (st || !c->m->ngram_dim) return st;
    if ((st = ngram_mean(c, text, len, feat + c->m->info.dim, err))) return st;
    return forward_check(feat + c->m->info.dim, 1, c->m->ngram_dim, -1, -1, "the n-gram features", err);
}

slm_status slm_classify(slm_context *c, const char *text, size_t len, float *probs, int *truncated, slm_error *err) {
    const slm_model *m = c->m;
    if (truncated) *truncated = 0;
    if (!probs) return slm_fail(err, SLM_ERR_INVALID_ARG, "no room for the probabilities");
    int cols = slm_embed_dim(m), n = m->info.n_classes;
    float *feat = malloc((size_t)(cols ? cols : 1) * sizeof *feat);
    if (!feat) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    slm_status st = features(c, text, len, feat, truncated, err);
    if (!st) {
        const float *bias = m->cls_b.data;
        c->k->matmul_f32(m->cls_w.data, feat, 1, cols, 0, n, probs, n);
        for (int i = 0; i < n; i++) probs[i] = (probs[i] + bias[i]) / m->temperature;
        if (!(st = forward_check(probs, 1, n, -1, -1, "the classifier's logits", err))) c->k->softmax(probs, n);
    }
    free(feat);
    return st;
}

slm_status slm_embed(slm_context *c, const char *text, size_t len, float *vec, slm_error *err) {
    if (!vec) return slm_fail(err, SLM_ERR_INVALID_ARG, "no room for the vector");
    slm_status st = features(c, text, len, vec, NULL, err);
    if (st) return st;
    int n = slm_embed_dim(c->m);
    float ss = c->k->dot(vec, vec, n);
    if (ss > 0.0f) {
        float s = 1.0f / sqrtf(ss);
        for (int i = 0; i < n; i++) vec[i] *= s;
    }
    return SLM_OK;
}
