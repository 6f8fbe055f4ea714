// Training the slm360-nano encoder classifier in C.
//
//   train_ops.c         forward and backward of every op, side by side
//   train_encoder.c     the model: parameters, activations, forward, backward
//   train_optim.c       AdamW, learning-rate schedules, gradient clipping
//   train_classifier.c  TSV data, the training loop, dev evaluation,
//                       checkpoints, temperature calibration
//
// Conventions: row-major f32, shapes in comments as (rows, cols). A batch of
// B texts is packed into N token rows: text b owns rows off[b] .. off[b] +
// len[b] - 1 (rows in between, e.g. padding, are never read or written).
// Backward functions ADD into every gradient they produce; callers zero them.
// Randomness (init, shuffling, dropout) comes from our own generator, and
// each output value is summed by one thread in a fixed order, so the same
// seed and thread count give bit-identical weights.
#ifndef SLM_TRAIN_H
#define SLM_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "../src/gguf.h"
#include "../src/kernels/train_kernels.h"
#include "../src/ngram.h"
#include "../src/pool.h"
#include "../src/slm.h"

// ---- random numbers ---------------------------------------------------------

uint64_t tr_hash(uint64_t x);                           // splitmix64 finalizer
float tr_uniform(uint64_t *state);                      // [0, 1)
float tr_normal(uint64_t *state);                       // N(0, 1), Box-Muller

// ---- ops (train_ops.c) ------------------------------------------------------

typedef struct {
    const slm_train_kernels *k;
    slm_pool *pool;
} tr_exec;

typedef struct {
    int n;                  // texts
    const int *off, *len;   // rows of text b: off[b] .. off[b] + len[b] - 1
} tr_seqs;

// out (N, D) = E[ids] (E: (V, D))
void op_embed_fwd(float *out, const float *E, const int32_t *ids, int N, int D);
void op_embed_bwd(float *dE, const float *dout, const int32_t *ids, int N, int D);

// out = x * rstd * w per row, rstd = 1 / sqrt(mean(x^2) + eps); rstd (N) saved
void op_rmsnorm_fwd(float *out, float *rstd, const float *x, const float *w, const tr_seqs *s, int D, float eps);
void op_rmsnorm_bwd(float *dx, float *dw, const float *dout, const float *x, const float *w, const float *rstd,
                    const tr_seqs *s, int D);

// y (N, O) = x (N, I) . W^T, W (O, I); Wt (I, O) is W transposed (kept by the model)
void op_matmul_fwd(const tr_exec *e, float *y, const float *x, const float *Wt, const tr_seqs *s, int I, int O);
// dx (N, I) += dy . W;  dW (O, I) += dy^T . x   (either may be NULL)
void op_matmul_bwd(const tr_exec *e, float *dx, float *dW, const float *dy, const float *x, const float *W,
                   const tr_seqs *s, int I, int O);

// RoPE in place on rows of n_heads * hd values (row stride ld): the pair
// (x[2i], x[2i+1]) of each head turns by pos * theta^(-2i/hd), pos counted
// from each text's first row. cos/sin: (max_pos, hd/2). Backward turns back.
void op_rope_fwd(float *x, const tr_seqs *s, int ld, int n_heads, int hd, const float *cos, const float *sin);
void op_rope_bwd(float *dx, const tr_seqs *s, int ld, int n_heads, int hd, const float *cos, const float *sin);

// Multi-head attention with grouped KV heads within each text (the padding
// mask), causal or bidirectional: q (N, H*hd), k and v (N, KV*hd),
// out (N, H*hd). P keeps the softmax weights: text b, head h at
// P + tr_attn_offset(s, b) * H + h * len[b]^2, (len[b], len[b]).
size_t tr_attn_size(const tr_seqs *s, int H);   // floats P needs
void op_attn_fwd(const tr_exec *e, float *out, float *P, const float *q, const float *k, const float *v,
                 const tr_seqs *s, int H, int KV, int hd, int causal);
void op_attn_bwd(const tr_exec *e, float *dq, float *dk, float *dv, const float *dout, const float *P,
                 const float *q, const float *k, const float *v, const tr_seqs *s, int H, int KV, int hd, int causal);

// h = silu(g) * u over rows of F values
void op_swiglu_fwd(float *h, const float *g, const float *u, const tr_seqs *s, int F);
void op_swiglu_bwd(float *dg, float *du, const float *dh, const float *g, const float *u, const tr_seqs *s, int F);

// out (B, D) row b (stride ldo) = mean of text b's rows of x (N, D)
void op_meanpool_fwd(float *out, int ldo, const float *x, const tr_seqs *s, int D);
void op_meanpool_bwd(float *dx, const float *dout, int ldo, const tr_seqs *s, int D);

// The n-gram bag: out (B, D) row b (stride ldo) = mean of E's rows for text
// b's bucket ids (bag rows given by s over ids); zeros for an empty bag.
void op_bag_fwd(float *out, int ldo, const float *E, const uint32_t *ids, const tr_seqs *s, int D);
void op_bag_bwd(float *dE, const float *dout, int ldo, const uint32_t *ids, const tr_seqs *s, int D);

// y (B, O) = x (B, I; stride ldx) . W^T (W: O rows of stride ldw) + b (b may be NULL)
void op_linear_fwd(float *y, const float *x, int ldx, const float *W, int ldw, const float *b, int B, int I, int O);
void op_linear_bwd(float *dx, int ldx, float *dW, int ldw, float *db, const float *dy, const float *x, const float *W,
                   int B, int I, int O);

// Softmax cross-entropy with label smoothing eps (target 1 - eps on the
// label plus eps / C everywhere), averaged over B: returns the loss, keeps
// the probabilities. Backward: dlogits += scale * (p - target) / B.
float op_ce_fwd(float *probs, const float *logits, const int *y, int B, int C, float eps);
void op_ce_bwd(float *dlogits, const float *probs, const int *y, int B, int C, float eps, float scale);

// Inverted dropout in place, the same mask forward and backward: element i
// is kept (times 1 / (1 - p)) unless hash(seed, i) < p.
void op_dropout(float *x, size_t n, float p, uint64_t seed);

// ---- the model (train_encoder.c) ---------------------------------------------

typedef struct {
    int vocab, dim, n_layers, n_heads, n_kv_heads, head_dim, ffn, ctx, n_classes;
    float eps, theta;
    slm_ngram_cfg ngram;    // buckets 0: no n-gram branch
    int ngram_dim;
    int transformer;        // 0: the transformer's u is zero (n-gram branch alone)
} tr_config;

typedef struct {
    float *attn_norm, *wq, *wk, *wv, *wo, *ffn_norm, *w_gate, *w_up, *w_down;
} tr_layer;

typedef struct {
    float *tok_embd;        // (vocab, dim)
    tr_layer *layers;
    float *output_norm;     // (dim)
    float *ngram_embd;      // (buckets, ngram_dim)
    float *cls_w, *cls_b;   // (n_classes, dim + ngram_dim), (n_classes)
} tr_weights;

typedef struct {
    char name[48];
    size_t off;             // into the parameter buffer
    int rows, cols;         // rows 0: a vector
    int decay;              // AdamW weight decay applies
    int group;              // 0 transformer, 1 n-gram table, 2 classifier
    size_t t_off;           // matrices used by matmul: offset of the transposed copy, else SIZE_MAX
} tr_tensor;

typedef struct {
    int B, N;               // texts, token rows
    int32_t *ids;           // (N)
    int *off, *len;         // (B) token rows
    uint32_t *bag;          // n-gram bucket ids
    int *boff, *blen;       // (B)
    int *y;                 // (B) labels (-1: unknown)
} tr_batch;

typedef struct tr_model tr_model;

typedef struct {
    float drop_resid;       // dropout on attention and FFN outputs
    float drop_embd;        // dropout on token embeddings
    float drop_feat;        // dropout on the pooled features [u; v]
    float label_smoothing;
    float aux_weight;       // weight of the per-branch auxiliary losses
} tr_train_opts;

// A zero-initialised model of cfg's shape, able to run batches of up to
// max_B texts, max_N token rows and texts of up to max_len tokens.
tr_model *tr_model_new(const tr_config *cfg, int max_B, int max_N, int max_len, int n_threads, const char *kernels,
                       slm_error *err);
void tr_model_free(tr_model *m);
const tr_config *tr_model_config(const tr_model *m);
// The tensors in file order, and the parameter, gradient buffers.
const tr_tensor *tr_model_tensors(const tr_model *m, int *n);
float *tr_model_params(tr_model *m, size_t *n);
float *tr_model_grads(tr_model *m);
tr_weights *tr_model_weights(tr_model *m);
slm_pool *tr_model_pool(tr_model *m);
// GPT-2 style init: N(0, 0.02), residual outputs / sqrt(2 L), norms 1, zero
// classifier. Refreshes the transposed copies.
void tr_model_init(tr_model *m, uint64_t seed);
// After changing the parameters: refresh the transposed weight copies.
void tr_model_sync(tr_model *m);
// Forward of a batch: logits (B, n_classes) of the whole classifier. With
// opts (training), dropout is on (seeded by seed); without, it is off.
const float *tr_forward(tr_model *m, const tr_batch *b, const tr_train_opts *opts, uint64_t seed);
// After tr_forward with opts: the loss over b->y (labels >= 0), and the
// gradients (zeroed first) of the loss.
float tr_backward(tr_model *m, const tr_batch *b, const tr_train_opts *opts, uint64_t seed);
// Masked-LM pretraining: the token rows pos (M) of b, whose ids the caller
// masked, predict target (M) through the tied token embedding; *loss is the
// mean cross-entropy, the gradients the model's (forward included).
slm_status tr_mlm_backward(tr_model *m, const tr_batch *b, const int32_t *pos, const int32_t *target, int M,
                           const tr_train_opts *opts, uint64_t seed, float *loss, slm_error *err);
// The pooled features [u; v] (B, dim + ngram_dim) of the last forward.
const float *tr_features(const tr_model *m);

// ---- optimization (train_optim.c) -------------------------------------------

typedef struct {
    float lr, min_lr;       // peak and final learning rate
    float beta1, beta2, eps, weight_decay;
    float clip;             // global gradient-norm clip (0: off)
    int warmup, total;      // steps
    int schedule;           // TR_COSINE or TR_WSD
    float decay_frac;       // WSD: the last fraction of steps decays
    float lr_mult[3];       // per tensor group (transformer, n-gram table, classifier)
} tr_optim_cfg;

enum { TR_COSINE = 0, TR_WSD = 1 };

typedef struct tr_optim tr_optim;

tr_optim *tr_optim_new(const tr_optim_cfg *cfg, size_t n_params);
void tr_optim_free(tr_optim *o);
float tr_lr_at(const tr_optim_cfg *cfg, int step);
// Global L2 norm of the gradients (double, fixed order), scaled down to
// cfg->clip when above. Returns the norm before clipping.
double tr_clip_grads(float *g, size_t n, float clip);
// One AdamW step over every tensor (decoupled weight decay where the tensor
// allows it, lr times its group's multiplier) at step `step` (0-based).
void tr_adamw_step(tr_optim *o, slm_pool *pool, const tr_tensor *t, int n_tensors, float *params, const float *grads,
                   int step);
// The bias-free pieces, for tests: one AdamW update of n values.
void tr_adamw_update(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1, float beta2,
                     float eps, float wd, int step);

// ---- classifier training (train_classifier.c) --------------------------------

typedef struct {
    const char *train_path, *dev_path, *out_path;
    const char *vocab_path;     // GGUF with the tokenizer (vocabulary-only is fine)
    const char *oos_path;       // optional: out-of-scope dev texts, to choose a confidence threshold
    const char *preset;         // "slm360-nano"
    const char *kernels;        // NULL: best
    int epochs, batch, threads, max_len, eval_every;
    int mlm_epochs;             // masked-LM pretraining passes over the training texts first (0: none)
    const char *mlm_text_path;  // optional plain text those passes also read (one piece per line, cut to the longest training text)
    float mlm_mask;             // share of the tokens masked (0.15)
    uint64_t seed;
    tr_optim_cfg optim;
    tr_train_opts opts;
    slm_ngram_cfg ngram;
    int ngram_dim;
    int transformer;            // 0: n-gram branch alone (ablation)
    int replay_per_class;       // training examples stored in the model for on-device learning (20)
    int guard_per_class;        // dev examples stored as its held-out set (10)
    int max_steps;              // stop after this many steps (0: all), for tests
    float nan_at_step;          // tests: poison the loss at this step (0: never)
    volatile int *interrupted;  // set asynchronously to stop after the best checkpoint
    slm_progress_fn progress;   // unused
    void (*log)(void *user, const char *line, int transient);   // progress lines
    void *user;
} tr_classifier_params;

typedef struct {
    float best_dev_acc;         // fraction
    int best_epoch, epochs_run, steps;
    float temperature;
    double seconds;
    int diverged, interrupted;
    float oos_threshold, oos_recall, oos_inscope_acc;
} tr_classifier_result;

tr_classifier_params tr_classifier_default_params(void);
slm_status tr_train_classifier(const tr_classifier_params *p, tr_classifier_result *res, slm_error *err);

// TSV data: "text<TAB>label" lines (no label column: labels NULL). Errors name
// the file and line.
typedef struct {
    int n;
    char **text, **label;
} tr_tsv;
slm_status tr_tsv_read(const char *path, tr_tsv *out, slm_error *err);
void tr_tsv_free(tr_tsv *t);

// train_vocab.c: a stand-in vocabulary of `vocab` pieces from the texts
// (specials, bytes, characters, then words as prefix chains), written into
// w as tokenizer keys. For training without a tokenizer file.
slm_status tr_prefix_vocab(gguf_writer *w, char *const *texts, int n, int vocab, slm_error *err);

#endif
