// The transformer forward pass over a context's KV cache.
//
// Tokens go through in micro-batches of up to n_batch: a prompt is a few
// matrix-matrix products per layer, a decode step is the same code with T=1.
// Threads split the rows of each matrix product and the (token, head) pairs
// of attention; every output value is computed by exactly one thread in a
// fixed order, so results do not depend on the thread count.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "mathx.h"


static void *alloc64(slm_context *c, size_t bytes) {
    bytes = (bytes + 63) / 64 * 64;
    void *p = aligned_alloc(64, bytes ? bytes : 64);
    if (p) c->bytes += bytes;
    return p;
}

slm_context_params slm_context_default_params(void) {
    return (slm_context_params){.n_ctx = 0, .n_threads = 1, .kernels = NULL, .n_batch = 0};
}

// cos/sin of the angle pos * scale * theta^(-2i/head_dim) / factor_i (factor:
// Llama 3's rope_freqs, else 1), from deterministic double math.
static void rope_tables(slm_context *c, double theta, float *cos_out, float *sin_out) {
    const slm_model *m = c->m;
    int half = m->info.head_dim / 2;
    const float *factor = m->rope_freqs.data;
    double log_theta = slm_log_d(theta), scale = (double)m->arch_p.rope_freq_scale;
    for (int i = 0; i < half; i++) {
        double freq = slm_exp_d(-(double)(2 * i) / (double)m->info.head_dim * log_theta) * scale;
        if (factor) freq = freq / (double)factor[i];
        for (int p = 0; p < c->n_ctx; p++) {
            double s, co;
            slm_sincos_d((double)p * freq, &s, &co);
            cos_out[(size_t)p * half + i] = (float)co;
            sin_out[(size_t)p * half + i] = (float)s;
        }
    }
}

void slm_context_free(slm_context *c) {
    if (!c) return;
    pool_free(c->pool);
    if (c->swa_cos != c->rope_cos) free(c->swa_cos), free(c->swa_sin);
    free(c->kcache); free(c->vcache); free(c->rope_cos); free(c->rope_sin);
    free(c->x); free(c->xb); free(c->xb2); free(c->q); free(c->hb); free(c->hb2); free(c->scores);
    free(c->acts.q); free(c->acts.d); free(c->acts.g); free(c->acts.aux);
    free(c);
}

slm_status slm_context_new(const slm_model *m, const slm_context_params *p, slm_context **out, slm_error *err) {
    *out = NULL;
    slm_context_params dp = slm_context_default_params();
    if (!p) p = &dp;
    const slm_model_info *in = &m->info;
    if (!in->has_weights) return slm_fail(err, SLM_ERR_INVALID_ARG, "the model was loaded without weights");
    if (p->n_ctx < 0 || p->n_ctx > in->context_length)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "context size %d is out of range (1 to the model's %d)", p->n_ctx,
                        in->context_length);
    if (p->n_threads < 0 || p->n_threads > 256)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "thread count %d is out of range (1 to 256)", p->n_threads);
    const slm_kernels *k = slm_kernels_by_name(p->kernels);
    if (!k) return slm_fail(err, SLM_ERR_INVALID_ARG, "kernels '%s' are not available in this build or on this CPU", p->kernels);

    slm_context *c = calloc(1, sizeof *c);
    if (!c) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    c->m = m;
    c->k = k;
    c->n_ctx = p->n_ctx ? p->n_ctx : in->context_length;
    c->n_batch = p->n_batch > 0 ? p->n_batch : 128;
    // an encoder reads a whole text in one batch (attention sees every token)
    if (c->n_batch > c->n_ctx || in->is_encoder) c->n_batch = c->n_ctx;
    int nt = p->n_threads ? p->n_threads : 1;
    size_t B = (size_t)c->n_batch, kv_dim = (size_t)in->n_kv_heads * in->head_dim, q_dim = (size_t)m->q_dim;
    size_t wide = q_dim > (size_t)in->dim ? q_dim : (size_t)in->dim;   // attention's output, before wo
    size_t widest = (size_t)in->ffn_dim > wide ? (size_t)in->ffn_dim : wide;
    const slm_arch *a = &m->arch_p;
    int swa_tables = 0;   // sliding-window layers with a RoPE base of their own
    for (int l = 0; l < in->n_layers; l++) swa_tables |= a->swa_window && a->swa[l] && a->rope_theta_swa != in->rope_theta;
    size_t cache = (size_t)in->n_layers * c->n_ctx * kv_dim * sizeof(float);
    size_t rope = (size_t)c->n_ctx * (in->head_dim / 2) * sizeof(float);
    c->pool = pool_new(nt);
    c->kcache = alloc64(c, cache);
    c->vcache = alloc64(c, cache);
    c->rope_cos = alloc64(c, rope);
    c->rope_sin = alloc64(c, rope);
    c->swa_cos = swa_tables ? alloc64(c, rope) : c->rope_cos;
    c->swa_sin = swa_tables ? alloc64(c, rope) : c->rope_sin;
    c->x = alloc64(c, B * in->dim * sizeof(float));
    c->xb = alloc64(c, B * wide * sizeof(float));
    c->xb2 = alloc64(c, B * wide * sizeof(float));
    c->q = alloc64(c, B * q_dim * sizeof(float));
    c->hb = alloc64(c, B * in->ffn_dim * sizeof(float));
    c->hb2 = alloc64(c, B * in->ffn_dim * sizeof(float));
    c->scores = alloc64(c, (size_t)nt * c->n_ctx * sizeof(float));
    c->acts.q = alloc64(c, B * widest);
    c->acts.d = alloc64(c, B * widest / SLM_QK * sizeof(float) + sizeof(float));
    c->acts.g = alloc64(c, B * widest / 4 * sizeof(int32_t) + sizeof(int32_t));
    c->acts.aux = alloc64(c, B * widest / SLM_QK * SLM_ACTS_AUX);
    if (!c->pool || !c->kcache || !c->vcache || !c->rope_cos || !c->rope_sin || !c->swa_cos || !c->swa_sin || !c->x || !c->xb || !c->xb2 ||
        !c->q || !c->hb || !c->hb2 || !c->scores || !c->acts.q || !c->acts.d || !c->acts.g ||
        !c->acts.aux) {
        size_t want = 2 * cache;
        slm_context_free(c);
        return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory allocating the context (KV cache %.1f MB)",
                        (double)want / 1e6);
    }
    rope_tables(c, (double)in->rope_theta, c->rope_cos, c->rope_sin);
    if (swa_tables) rope_tables(c, (double)a->rope_theta_swa, c->swa_cos, c->swa_sin);
    *out = c;
    return SLM_OK;
}

const slm_model *slm_context_model(const slm_context *c) { return c->m; }
int slm_context_pos(const slm_context *c) { return c->pos; }
int slm_context_size(const slm_context *c) { return c->n_ctx; }
const char *slm_context_kernels(const slm_context *c) { return c->k->name; }
size_t slm_context_memory(const slm_context *c) { return c->bytes; }

void slm_context_rewind(slm_context *c, int pos) {
    if (pos >= 0 && pos < c->pos) c->pos = pos;
}

// ---- matrix products, split across threads ------------------------------------

typedef struct {
    const slm_weight *w;
    float *y;       // (T, ldy)
    int ldy;
} mm_out;

typedef struct {
    const slm_kernels *k;
    const float *x;         // (T, cols)
    const slm_acts *a;      // x as int8, when any weight is quantized
    int T, n_out;
    mm_out out[3];          // products sharing the input, e.g. q, k, v
    atomic_int next;        // the next row to hand out (pool_take)
} mm_job;

// Quantized weights take int8 activations; F32, F16 and BF16 the floats.
static int is_quantized(uint32_t type) { return type != SLM_TYPE_F32 && type != SLM_TYPE_F16 && type != SLM_TYPE_BF16; }

static void matmul_rows(const slm_kernels *k, const slm_weight *w, const float *x, const slm_acts *a, int T, int r0,
                        int r1, float *y, int ldy) {
    switch (w->type) {
    case SLM_TYPE_Q4_0: k->matmul_q4_0(w->data, a, r0, r1, y, ldy); break;
    case SLM_TYPE_Q8_0: k->matmul_q8_0(w->data, a, r0, r1, y, ldy); break;
    case SLM_TYPE_F16: k->matmul_f16(w->data, x, T, w->cols, r0, r1, y, ldy); break;
    case SLM_TYPE_BF16: k->matmul_bf16(w->data, x, T, w->cols, r0, r1, y, ldy); break;
    case SLM_TYPE_F32: k->matmul_f32(w->data, x, T, w->cols, r0, r1, y, ldy); break;
    default: k->matmul_quant(w->type, w->data, a, r0, r1, y, ldy); break;
    }
}

// The outputs' rows laid end to end, handed out in chunks of a multiple of
// 16 rows, about 8 per thread: balances q/k/v of different heights in one
// dispatch, and threads that run get the work of one that waits.
static void mm_task(void *arg, int ith, int nth) {
    mm_job *j = arg;
    (void)ith;
    int total = 0;
    for (int i = 0; i < j->n_out; i++) total += j->out[i].w->rows;
    int chunk = (total + 16 * 8 * nth - 1) / (16 * 8 * nth) * 16, lo, hi;
    while (pool_take(&j->next, total, chunk, &lo, &hi))
        for (int i = 0, base = 0; i < j->n_out; base += j->out[i].w->rows, i++) {
            int r0 = lo - base, r1 = hi - base, rows = j->out[i].w->rows;
            r0 = r0 < 0 ? 0 : r0;
            r1 = r1 > rows ? rows : r1;
            if (r0 < r1) matmul_rows(j->k, j->out[i].w, j->x, j->a, j->T, r0, r1, j->out[i].y, j->out[i].ldy);
        }
}

void forward_matmul(slm_context *c, const float *x, int T, int n_out, const slm_weight *w0, float *y0, int ldy0,
                   const slm_weight *w1, float *y1, int ldy1, const slm_weight *w2, float *y2, int ldy2) {
    mm_job j = {.k = c->k, .x = x, .a = &c->acts, .T = T, .n_out = n_out,
                .out = {{w0, y0, ldy0}, {w1, y1, ldy1}, {w2, y2, ldy2}}};
    int quantized = 0;
    for (int i = 0; i < n_out; i++) quantized |= is_quantized(j.out[i].w->type);
    if (quantized) c->k->quantize_acts(x, T, w0->cols, &c->acts);
    pool_run(c->pool, mm_task, &j);
}


// ---- attention --------------------------------------------------------------

typedef struct {
    slm_context *c;
    int layer, T, pos0, causal;
    float *out;     // (T, dim)
    atomic_int next;  // the next (token, head) pair to hand out
} attn_job;

// Attention for tokens pos0..pos0+T-1 over the cache, one (token, head) pair
// at a time: causal (each token sees positions up to its own, or only the last
// `window` of them on a sliding-window layer) or, for encoders, bidirectional
// (every token sees all pos0+T positions).
static void attn_task(void *arg, int ith, int nth) {
    attn_job *j = arg;
    (void)nth;
    slm_context *c = j->c;
    const slm_model *m = c->m;
    const slm_model_info *in = &m->info;
    const slm_kernels *k = c->k;
    int hd = in->head_dim, kv_dim = in->n_kv_heads * hd, group = in->n_heads / in->n_kv_heads;
    int window = m->arch_p.swa_window && m->arch_p.swa[j->layer] ? m->arch_p.swa_window : 0;
    size_t layer_off = (size_t)j->layer * c->n_ctx * kv_dim;
    // queries the architecture scales itself (Gemma 3) are not scaled again
    float scale = m->arch_p.attn_scale ? 1.0f : 1.0f / sqrtf((float)hd);
    float *att = c->scores + (size_t)ith * c->n_ctx;
    int lo, hi;
    while (pool_take(&j->next, j->T * in->n_heads, 1, &lo, &hi))
        for (int u = lo; u < hi; u++) {
            int t = u / in->n_heads, h = u % in->n_heads, pos = j->causal ? j->pos0 + t : j->pos0 + j->T - 1;
            int first = window && pos - window + 1 > 0 ? pos - window + 1 : 0, n = pos - first + 1;
            const float *q = c->q + (size_t)t * m->q_dim + h * hd;
            const float *kc = c->kcache + layer_off + (size_t)first * kv_dim + (size_t)(h / group) * hd;
            const float *vc = c->vcache + layer_off + (size_t)first * kv_dim + (size_t)(h / group) * hd;
            k->dot_rows(q, kc, kv_dim, n, hd, att);
            if (scale != 1.0f)
                for (int p = 0; p < n; p++) att[p] = att[p] * scale;
            k->softmax(att, n);
            float *o = j->out + (size_t)t * m->q_dim + h * hd;
            memset(o, 0, hd * sizeof(float));
            k->axpy_rows(att, vc, kv_dim, n, hd, o);
        }
}

// ---- the layers -------------------------------------------------------------

void forward_row(const slm_context *c, const slm_weight *w, int row, float *out) {
    switch (w->type) {
    case SLM_TYPE_Q4_0: c->k->row_q4_0(w->data, row, w->cols, out); break;
    case SLM_TYPE_Q8_0: c->k->row_q8_0(w->data, row, w->cols, out); break;
    case SLM_TYPE_F16: c->k->row_f16(w->data, row, w->cols, out); break;
    case SLM_TYPE_BF16: c->k->row_bf16(w->data, row, w->cols, out); break;
    case SLM_TYPE_F32: memcpy(out, (const float *)w->data + (size_t)row * w->cols, w->cols * sizeof(float)); break;
    default: c->k->row_quant(w->type, w->data, row, w->cols, out); break;
    }
}

void forward_embed(slm_context *c, const int32_t *ids, int T) {
    int dim = c->m->info.dim;
    float scale = c->m->arch_p.embd_scale;
    for (int t = 0; t < T; t++) {
        float *x = c->x + (size_t)t * dim;
        forward_row(c, &c->m->tok_embd, ids[t], x);
        if (scale)
            for (int i = 0; i < dim; i++) x[i] = x[i] * scale;
    }
}

void forward_rmsnorm_rows(slm_context *c, float *out, const float *x, const slm_weight *w, int T, int n, int stride) {
    for (int t = 0; t < T; t++) c->k->rmsnorm(out + (size_t)t * stride, x + (size_t)t * stride, w->data, n, c->m->info.norm_eps);
}

// y (T, n) += bias (n) on each row, if the weight has one.
static void add_bias(slm_context *c, float *y, const slm_weight *bias, int T, int n, int ldy) {
    if (!bias->data)
        return;
    for (int t = 0; t < T; t++) c->k->add(y + (size_t)t * ldy, bias->data, n);
}

// Per-head RMSNorm (QK-norm), then RoPE, then the architecture's query scale,
// of T tokens' q and k.
static void qk_prepare(slm_context *c, int l, float *kcache_at, int T, int pos0) {
    const slm_model *m = c->m;
    const slm_model_info *in = &m->info;
    const slm_arch *a = &m->arch_p;
    const slm_layer *L = &m->layers[l];
    int hd = in->head_dim, kv_dim = in->n_kv_heads * hd, half = hd / 2, swa = a->swa_window && a->swa[l];
    const float *cos_table = swa ? c->swa_cos : c->rope_cos, *sin_table = swa ? c->swa_sin : c->rope_sin;
    void (*rope)(float *, int, int, const float *, const float *) = a->rope_neox ? c->k->rope_neox : c->k->rope;
    for (int t = 0; t < T; t++) {
        float *q = c->q + (size_t)t * m->q_dim, *kk = kcache_at + (size_t)t * kv_dim;
        if (a->qk_norm) {
            for (int h = 0; h < in->n_heads; h++) c->k->rmsnorm(q + h * hd, q + h * hd, L->q_norm.data, hd, in->norm_eps);
            for (int h = 0; h < in->n_kv_heads; h++) c->k->rmsnorm(kk + h * hd, kk + h * hd, L->k_norm.data, hd, in->norm_eps);
        }
        const float *cs = cos_table + (size_t)(pos0 + t) * half, *sn = sin_table + (size_t)(pos0 + t) * half;
        rope(q, in->n_heads, hd, cs, sn);
        rope(kk, in->n_kv_heads, hd, cs, sn);
        if (a->attn_scale)
            for (int i = 0; i < m->q_dim; i++) q[i] = q[i] * a->attn_scale;
    }
}

void forward_layer(slm_context *c, int l, int T, int pos0, int causal) {
    const slm_model *m = c->m;
    const slm_model_info *in = &m->info;
    const slm_arch *a = &m->arch_p;
    const slm_layer *L = &m->layers[l];
    int dim = in->dim, ffn = in->ffn_dim, kv_dim = in->n_kv_heads * in->head_dim, q_dim = m->q_dim;
    size_t at = ((size_t)l * c->n_ctx + pos0) * kv_dim;

    // attention: x += [post_norm] (wo . attn(rope(q), rope(k), v)), k and v written straight into the cache
    forward_rmsnorm_rows(c, c->xb, c->x, &L->attn_norm, T, dim, dim);
    forward_matmul(c, c->xb, T, 3, &L->wq, c->q, q_dim, &L->wk, c->kcache + at, kv_dim, &L->wv, c->vcache + at, kv_dim);
    add_bias(c, c->q, &L->bq, T, q_dim, q_dim);
    add_bias(c, c->kcache + at, &L->bk, T, kv_dim, kv_dim);
    add_bias(c, c->vcache + at, &L->bv, T, kv_dim, kv_dim);
    qk_prepare(c, l, c->kcache + at, T, pos0);
    attn_job aj = {.c = c, .layer = l, .T = T, .pos0 = pos0, .causal = causal, .out = c->xb};
    pool_run(c->pool, attn_task, &aj);
    FORWARD_MATMUL1(c, c->xb, T, &L->wo, c->xb2, dim);
    add_bias(c, c->xb2, &L->bo, T, dim, dim);
    if (a->post_norms) forward_rmsnorm_rows(c, c->xb2, c->xb2, &L->attn_post_norm, T, dim, dim);
    c->k->add(c->x, c->xb2, T * dim);

    // feed-forward: x += [post_norm] (w_down . (act(w_gate . x) * (w_up . x))), act SiLU or GELU
    forward_rmsnorm_rows(c, c->xb, c->x, &L->ffn_norm, T, dim, dim);
    forward_matmul(c, c->xb, T, 2, &L->w_gate, c->hb, ffn, &L->w_up, c->hb2, ffn, NULL, NULL, 0);
    if (a->gelu) c->k->geglu(c->hb, c->hb, c->hb2, T * ffn);
    else c->k->swiglu(c->hb, c->hb, c->hb2, T * ffn);
    FORWARD_MATMUL1(c, c->hb, T, &L->w_down, c->xb2, dim);
    if (a->post_norms) forward_rmsnorm_rows(c, c->xb2, c->xb2, &L->ffn_post_norm, T, dim, dim);
    c->k->add(c->x, c->xb2, T * dim);
}

// Damaged weights (a flipped bit in a scale is enough) make NaN or infinities
// that would otherwise come out as sampled garbage: every layer's output is
// checked, T * dim comparisons against the layer's T * dim * dim products.
slm_status forward_check(const float *x, int T, int n, int pos0, int layer, const char *what, slm_error *err) {
    size_t i = slm_first_nonfinite(x, (size_t)T * n);
    if (i == (size_t)T * n) return SLM_OK;
    char where[96], at[32] = "";
    if (layer >= 0) snprintf(where, sizeof where, "at layer %d (blk.%d)", layer, layer);
    else snprintf(where, sizeof where, "in %s", what);
    if (pos0 >= 0) snprintf(at, sizeof at, ", position %d", pos0 + (int)(i / (size_t)n));
    return slm_fail(err, SLM_ERR_NUMERIC, "the model produced %s %s%s: its weights may be damaged (slm info --check "
                    "scans them)", slm_nonfinite_name(x[i]), where, at);
}

// Final norm and LM head for the last n_logits of the T tokens in the batch;
// soft-capped if the architecture says (tanh from exp: the same bits everywhere).
static void lm_head(slm_context *c, int T, int n_logits, float *logits) {
    const slm_model *m = c->m;
    int dim = m->info.dim, first = T - n_logits;
    forward_rmsnorm_rows(c, c->xb, c->x + (size_t)first * dim, &m->output_norm, n_logits, dim, dim);
    FORWARD_MATMUL1(c, c->xb, n_logits, &m->output, logits, m->info.vocab_size);
    float cap = m->arch_p.logit_softcap;
    if (cap)
        for (size_t i = 0; i < (size_t)n_logits * m->info.vocab_size; i++) {
            float e = slm_expf(2.0f * (logits[i] / cap));   // tanh(u) = 1 - 2 / (exp(2u) + 1)
            logits[i] = cap * (1.0f - 2.0f / (e + 1.0f));
        }
}

slm_status slm_eval(slm_context *c, const int32_t *ids, int n, float *logits, int all_logits, slm_error *err) {
    const slm_model_info *in = &c->m->info;
    if (in->is_encoder) return slm_fail(err, SLM_ERR_INVALID_ARG, "slm_eval runs decoders; this model is an encoder");
    if (n <= 0) return slm_fail(err, SLM_ERR_INVALID_ARG, "no tokens to evaluate");
    if (n > c->n_ctx - c->pos)
        return slm_fail(err, SLM_ERR_CONTEXT_FULL, "%d tokens do not fit: the context holds %d of %d", n, c->pos, c->n_ctx);
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= in->vocab_size)
            return slm_fail(err, SLM_ERR_INVALID_ARG, "token id %d is out of range (vocabulary of %d)", ids[i], in->vocab_size);
    int pos_start = c->pos;
    for (int done = 0; done < n;) {
        int T = n - done < c->n_batch ? n - done : c->n_batch;
        forward_embed(c, ids + done, T);
        slm_status st = forward_check(c->x, T, in->dim, c->pos, -1, "the token embedding", err);
        for (int l = 0; l < in->n_layers && !st; l++) {
            forward_layer(c, l, T, c->pos, 1);
            st = forward_check(c->x, T, in->dim, c->pos, l, NULL, err);
        }
        if (!st && logits && (all_logits || done + T == n)) {
            int n_logits = all_logits ? T : 1;
            float *out = all_logits ? logits + (size_t)done * in->vocab_size : logits;
            lm_head(c, T, n_logits, out);
            st = forward_check(out, n_logits, in->vocab_size, c->pos + T - n_logits, -1, "the logits", err);
        }
        if (st) {
            c->pos = pos_start;   // the cache past it holds nothing valid
            return st;
        }
        c->pos += T;
        done += T;
    }
    return SLM_OK;
}
