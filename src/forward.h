// Internal: the context and the pieces of the forward pass, shared by the
// decoder (forward.c) and the encoder (encoder.c).
#ifndef SLM_FORWARD_H
#define SLM_FORWARD_H

#include "kernels/kernels.h"
#include "model.h"
#include "pool.h"

struct slm_context {
    const slm_model *m;
    const slm_kernels *k;
    slm_pool *pool;
    int n_ctx, n_batch, pos;
    size_t bytes;
    float *kcache, *vcache;     // (n_layers, n_ctx, kv_dim)
    float *rope_cos, *rope_sin; // (n_ctx, head_dim/2)
    float *swa_cos, *swa_sin;   // the same for sliding-window layers' base (= rope_* when it is the same)
    float *x;                   // (B, dim) the residual stream
    float *xb, *xb2;            // (B, max(dim, q_dim)) scratch
    float *q;                   // (B, q_dim)
    float *hb, *hb2;            // (B, ffn_dim)
    float *scores;              // (n_threads, n_ctx) attention weights
    slm_acts acts;              // int8 activations, room for (B, max(dim, ffn_dim))
};

// out (w->cols) = row `row` of w, dequantized.
void forward_row(const slm_context *c, const slm_weight *w, int row, float *out);
// x (T, dim) = token embeddings of ids.
void forward_embed(slm_context *c, const int32_t *ids, int T);
// One transformer block over c->x for tokens at positions pos0..pos0+T-1;
// causal attention, or bidirectional over all pos0+T positions.
void forward_layer(slm_context *c, int l, int T, int pos0, int causal);
// out (T, stride) = rmsnorm of each row of x with weight w (n values per row).
void forward_rmsnorm_rows(slm_context *c, float *out, const float *x, const slm_weight *w, int T, int n, int stride);
// y_i (T, rows_i) = x (T, cols) . W_i^T for up to three weights of the same
// cols, in one dispatch over the pool (int8 activations made once if needed).
void forward_matmul(slm_context *c, const float *x, int T, int n_out, const slm_weight *w0, float *y0, int ldy0,
                    const slm_weight *w1, float *y1, int ldy1, const slm_weight *w2, float *y2, int ldy2);
// u (dim) = an encoder's final-normed token vectors of text, mean-pooled (the
// transformer side of the classifier's features; no n-gram branch). The text
// is cut to the context; *truncated (optional) receives how many tokens were.
slm_status encoder_pool(slm_context *c, const char *text, size_t len, float *u, int *truncated, slm_error *err);
// SLM_OK, or SLM_ERR_NUMERIC saying where x (T rows of n values; row t is
// position pos0 + t, no position if pos0 < 0) first holds a NaN or an
// infinity: after layer `layer`, or, with layer < 0, in `what` ("the token
// embedding", "the logits").
slm_status forward_check(const float *x, int T, int n, int pos0, int layer, const char *what, slm_error *err);
#define FORWARD_MATMUL1(c, x, T, w, y, ldy) forward_matmul(c, x, T, 1, w, y, ldy, NULL, NULL, 0, NULL, NULL, 0)

#endif
