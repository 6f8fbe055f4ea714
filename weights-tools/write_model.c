// Writing a model: config keys, tensors converted to their target types,
// FFN padding where Q4_0/Q8_0 blocks cannot fit.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/kernels/kernels.h"
#include "../src/mathx.h"
#include "../src/model.h"
#include "wtools.h"

float *wt_add(wt_model *m, const char *name, int rows, int cols) {
    if (m->n_tensors == m->cap) {
        int cap = m->cap ? 2 * m->cap : 64;
        wt_tensor *t = realloc(m->tensors, (size_t)cap * sizeof *t);
        if (!t) return NULL;
        m->tensors = t;
        m->cap = cap;
    }
    wt_tensor *t = &m->tensors[m->n_tensors];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->rows = rows;
    t->cols = cols;
    if (!(t->data = calloc((size_t)(rows ? rows : 1) * cols, sizeof(float)))) return NULL;
    m->n_tensors++;
    return t->data;
}

void wt_free(wt_model *m) {
    for (int i = 0; i < m->n_tensors; i++) free(m->tensors[i].data);
    free(m->tensors);
    memset(m, 0, sizeof *m);
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

// Zero-pads every FFN matrix from ffn to ffn_new hidden units: gate/up get
// zero rows, down gets zero columns. Exact: a padded unit computes
// silu(0) * 0 = 0 and its zero column in down adds nothing.
static int pad_ffn(wt_model *m, int ffn_new) {
    for (int i = 0; i < m->n_tensors; i++) {
        wt_tensor *t = &m->tensors[i];
        int down = ends_with(t->name, "ffn_down.weight");
        if (!down && !ends_with(t->name, "ffn_gate.weight") && !ends_with(t->name, "ffn_up.weight")) continue;
        int rows = down ? t->rows : ffn_new, cols = down ? ffn_new : t->cols;
        float *p = calloc((size_t)rows * cols, sizeof(float));
        if (!p) return -1;
        for (int r = 0; r < t->rows; r++) memcpy(p + (size_t)r * cols, t->data + (size_t)r * t->cols, t->cols * sizeof(float));
        free(t->data);
        t->data = p;
        t->rows = rows;
        t->cols = cols;
    }
    m->cfg.ffn_dim = ffn_new;
    return 0;
}

static void note(const slm_quantize_params *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const slm_quantize_params *p, const char *fmt, ...) {
    if (!p->note) return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->note(p->user, msg);
}

static int write_config(gguf_writer *w, const wt_model *m, uint32_t file_type) {
    const slm_model_info *c = &m->cfg;
    const char *arch = c->is_encoder ? "slm360-encoder" : m->arch ? m->arch : "llama";
    char k[128];
    int rc = gguf_w_str(w, "general.architecture", arch) || gguf_w_str(w, "general.name", m->name ? m->name : "") ||
             gguf_w_u32(w, "general.file_type", file_type) || gguf_w_u32(w, "general.quantization_version", 2);
#define KEY(suffix) (snprintf(k, sizeof k, "%s." suffix, arch), k)
    rc = rc || gguf_w_u32(w, KEY("context_length"), (uint32_t)c->context_length) ||
         gguf_w_u32(w, KEY("embedding_length"), (uint32_t)c->dim) ||
         gguf_w_u32(w, KEY("block_count"), (uint32_t)c->n_layers) ||
         gguf_w_u32(w, KEY("feed_forward_length"), (uint32_t)c->ffn_dim) ||
         gguf_w_u32(w, KEY("attention.head_count"), (uint32_t)c->n_heads) ||
         gguf_w_u32(w, KEY("attention.head_count_kv"), (uint32_t)c->n_kv_heads) ||
         gguf_w_f32(w, KEY("attention.layer_norm_rms_epsilon"), c->norm_eps) ||
         gguf_w_f32(w, KEY("rope.freq_base"), c->rope_theta) ||
         gguf_w_u32(w, KEY("rope.dimension_count"), (uint32_t)c->head_dim) ||
         gguf_w_u32(w, KEY("vocab_size"), (uint32_t)c->vocab_size);
    if (c->is_encoder) {
        rc = rc || gguf_w_u32(w, KEY("num_classes"), (uint32_t)c->n_classes) ||
             gguf_w_arr_str(w, KEY("class_labels"), m->class_labels, NULL, (uint64_t)c->n_classes) ||
             gguf_w_f32(w, KEY("temperature"), m->temperature > 0.0f ? m->temperature : 1.0f);
        if (m->ngram.buckets)
            rc = rc || gguf_w_u32(w, KEY("ngram.buckets"), m->ngram.buckets) ||
                 gguf_w_u32(w, KEY("ngram.dim"), (uint32_t)m->ngram_dim) ||
                 gguf_w_u32(w, KEY("ngram.word_max"), (uint32_t)m->ngram.word_max) ||
                 gguf_w_u32(w, KEY("ngram.char_min"), (uint32_t)m->ngram.char_min) ||
                 gguf_w_u32(w, KEY("ngram.char_max"), (uint32_t)m->ngram.char_max);
    }
    if (m->arch && c->head_dim * c->n_heads != c->dim)   // heads wider than dim / heads (Qwen3, Gemma 3)
        rc = rc || gguf_w_u32(w, KEY("attention.key_length"), (uint32_t)c->head_dim) ||
             gguf_w_u32(w, KEY("attention.value_length"), (uint32_t)c->head_dim);
    if (m->swa_window)
        rc = rc || gguf_w_u32(w, KEY("attention.sliding_window"), (uint32_t)m->swa_window) ||
             gguf_w_u32(w, KEY("attention.sliding_window_pattern"), (uint32_t)m->swa_every);
#undef KEY
    // our own decoders' q/k norms; qwen3 and gemma3 have them by architecture
    if (c->qk_norm && !m->arch) rc = rc || gguf_w_bool(w, "slm360.qk_norm", 1);
    return rc;
}

// The type a tensor is stored in.
static uint32_t target_type(const wt_tensor *t, const slm_quantize_params *p, int embd_type) {
    if (t->rows == 0 || !strncmp(t->name, "cls.", 4)) return SLM_TYPE_F32;   // norms, biases, classifier
    uint32_t type = !strcmp(t->name, "token_embd.weight") ? (uint32_t)embd_type : (uint32_t)p->type;
    if ((type == SLM_TYPE_Q4_0 || type == SLM_TYPE_Q8_0) && t->cols % SLM_QK) return SLM_TYPE_F32;
    return type;
}

static int model_type(int t) { return t == SLM_TYPE_F32 || t == SLM_TYPE_F16 || t == SLM_TYPE_Q4_0 || t == SLM_TYPE_Q8_0; }

slm_status wt_write(gguf_writer *w, wt_model *m, const slm_quantize_params *p, const char *path, slm_error *err) {
    if (!model_type(p->type) || (p->embd_type >= 0 && !model_type(p->embd_type) && p->embd_type != SLM_TYPE_Q2_K))
        return slm_fail(err, SLM_ERR_INVALID_ARG, "unsupported target type (F32, F16, Q8_0, Q4_0; Q2_K for an encoder's token embedding)");
    int embd_type = p->embd_type >= 0 ? p->embd_type : (int)p->type;
    if (embd_type == SLM_TYPE_Q2_K && (!m->cfg.is_encoder || m->cfg.dim % SLM_QK_K))
        return slm_fail(err, SLM_ERR_INVALID_ARG, "Q2_K is for an encoder's token embedding (only looked up) of a width "
                        "that is a multiple of %d; this model is %s of width %d", SLM_QK_K,
                        m->cfg.is_encoder ? "an encoder" : "a decoder", m->cfg.dim);
    // Q4_0 decoders keep the token embedding (also the LM head) at Q8_0; an
    // encoder's is only an input table
    if (p->embd_type < 0 && p->type == SLM_TYPE_Q4_0 && !m->cfg.is_encoder) embd_type = SLM_TYPE_Q8_0;
    int quantized = p->type == SLM_TYPE_Q4_0 || p->type == SLM_TYPE_Q8_0;
    int ffn = m->cfg.ffn_dim;
    if (quantized && ffn % SLM_QK) {
        int padded = (ffn + SLM_QK - 1) / SLM_QK * SLM_QK;
        if (pad_ffn(m, padded)) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory padding the FFN");
        note(p, "FFN dimension %d is not a multiple of %d: zero-padded to %d (exact)", ffn, SLM_QK, padded);
    }
    static const uint32_t file_types[] = {[SLM_TYPE_F32] = 0, [SLM_TYPE_F16] = 1, [SLM_TYPE_Q4_0] = 2, [SLM_TYPE_Q8_0] = 7};
    if (write_config(w, m, file_types[p->type]))
        return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "%s: cannot build the metadata", path);

    void **bufs = calloc((size_t)m->n_tensors, sizeof *bufs);
    if (!bufs) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    slm_status rc = SLM_OK;
    for (int i = 0; i < m->n_tensors && !rc; i++) {
        wt_tensor *t = &m->tensors[i];
        uint32_t type = target_type(t, p, embd_type);
        int rows = t->rows ? t->rows : 1;
        uint64_t row_bytes = ggml_row_size(type, (uint64_t)t->cols), size = row_bytes * rows;
        if (type != (uint32_t)p->type && t->rows && strcmp(t->name, "token_embd.weight") && strncmp(t->name, "cls.", 4))
            note(p, "%s: rows of %d values do not fill %s blocks: kept in F32", t->name, t->cols, slm_type_name(p->type));
        size_t bad = slm_first_nonfinite(t->data, (size_t)rows * t->cols);
        if (bad < (size_t)rows * t->cols) {
            rc = slm_fail(err, SLM_ERR_BAD_MODEL, "tensor '%s' holds %s at row %zu, column %zu: damaged weights are not written",
                          t->name, slm_nonfinite_name(t->data[bad]), bad / (size_t)t->cols, bad % (size_t)t->cols);
            break;
        }
        if (!(bufs[i] = malloc(size ? size : 1))) { rc = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory"); break; }
        for (int r = 0; r < rows; r++) {
            const float *x = t->data + (size_t)r * t->cols;
            uint8_t *o = (uint8_t *)bufs[i] + (size_t)r * row_bytes;
            switch (type) {
            case SLM_TYPE_Q4_0: wt_quantize_q4_0(x, o, t->cols, p->smart_scales); break;
            case SLM_TYPE_Q8_0: wt_quantize_q8_0(x, o, t->cols); break;
            case SLM_TYPE_Q2_K: wt_quantize_q2_k(x, o, t->cols); break;
            case SLM_TYPE_F16: wt_to_f16(x, (uint16_t *)o, t->cols); break;
            default: memcpy(o, x, t->cols * sizeof(float)); break;
            }
        }
        uint64_t ne[2] = {(uint64_t)t->cols, (uint64_t)rows};
        if (gguf_w_tensor(w, t->name, type, t->rows ? 2 : 1, ne, bufs[i], size))
            rc = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "%s: cannot add tensor %s", path, t->name);
        if (p->progress) p->progress(p->user, "converting", (double)(i + 1) / m->n_tensors);
    }
    char msg[256];
    if (!rc && gguf_writer_write(w, path, msg, sizeof msg)) rc = slm_fail(err, SLM_ERR_IO, "%s", msg);
    for (int i = 0; i < m->n_tensors; i++) free(bufs[i]);
    free(bufs);
    return rc;
}

int wt_copy_keys(gguf_writer *w, const gguf_file *g, const char *prefix) {
    size_t n = strlen(prefix);
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (!strncmp(g->kv[i].key, prefix, n) && gguf_w_copy_kv(w, &g->kv[i])) return -1;
    return 0;
}

int wt_copy_tokenizer(gguf_writer *w, const gguf_file *g) { return wt_copy_keys(w, g, "tokenizer."); }
