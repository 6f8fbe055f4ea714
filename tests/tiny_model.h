// Tiny models for tests and fuzz targets, written by the weights tools: a
// SentencePiece-style vocabulary and random weights of any shape and type.
#ifndef SLM_TINY_MODEL_H
#define SLM_TINY_MODEL_H

#include <stdio.h>
#include <stdlib.h>

#include "../weights-tools/wtools.h"

typedef struct {
    int dim, n_heads, n_kv_heads, ffn, n_layers, ctx;
    int qk_norm, untied, encoder, byte_tokens;
    slm_type type;
    int embd_q2_k;              // an encoder's token embedding in Q2_K (else as the quantizer chooses)
} tiny_cfg;

// <unk> <s> </s>, optionally the 256 byte tokens, "▁" and a few letters with
// and without it. Returns the vocabulary's size, or -1.
static inline int tiny_write_vocab(gguf_writer *w, int byte_tokens) {
    char text[300][16];
    const char *tok[300];
    float score[300];
    int32_t type[300];
    int n = 0;
    static const char *special[3] = {"<unk>", "<s>", "</s>"};
    for (; n < 3; n++) snprintf(text[n], 16, "%s", special[n]), type[n] = n ? 3 : 2;
    for (int c = 0; byte_tokens && c < 256; c++, n++) snprintf(text[n], 16, "<0x%02X>", c), type[n] = 6;
    snprintf(text[n], 16, "\xe2\x96\x81"), type[n++] = 1;
    for (char c = 'a'; c <= 'f'; c++) {
        snprintf(text[n], 16, "%c", c), type[n++] = 1;
        snprintf(text[n], 16, "\xe2\x96\x81%c", c), type[n++] = 1;
    }
    for (int i = 0; i < n; i++) tok[i] = text[i], score[i] = type[i] == 1 ? -(float)i : 0.0f;
    int rc = gguf_w_str(w, "tokenizer.ggml.model", "llama") || gguf_w_arr_str(w, "tokenizer.ggml.tokens", tok, NULL, n) ||
             gguf_w_arr_f32(w, "tokenizer.ggml.scores", score, n) ||
             gguf_w_arr_i32(w, "tokenizer.ggml.token_type", type, n) ||
             gguf_w_u32(w, "tokenizer.ggml.bos_token_id", 1) || gguf_w_u32(w, "tokenizer.ggml.eos_token_id", 2);
    return rc ? -1 : n;
}

// A tensor of uniform weights in [-0.1, 0.1] (xorshift64* from *seed), or ones.
static inline void tiny_add(wt_model *m, const char *name, int rows, int cols, int ones, uint64_t *seed) {
    float *p = wt_add(m, name, rows, cols);
    if (!p) abort();
    for (int i = 0; i < (rows ? rows : 1) * cols; i++) {
        *seed ^= *seed >> 12, *seed ^= *seed << 25, *seed ^= *seed >> 27;
        p[i] = ones ? 1.0f : ((float)((*seed * 0x2545f4914f6cdd1dull) >> 40) / 16777216.0f - 0.5f) * 0.2f;
    }
}

// Writes a tiny model of shape c with weights from seed.
static inline slm_status tiny_write(const char *path, const tiny_cfg *c, uint64_t seed, slm_error *err) {
    gguf_writer *w = gguf_writer_new();
    int vocab = w ? tiny_write_vocab(w, c->byte_tokens) : -1;
    if (vocab < 0) {
        gguf_writer_free(w);
        return SLM_ERR_OUT_OF_MEMORY;
    }
    static const char *const labels[2] = {"no", "yes"};
    wt_model m = {.name = "tiny", .class_labels = labels};
    m.cfg = (slm_model_info){.is_encoder = c->encoder, .dim = c->dim, .n_layers = c->n_layers, .n_heads = c->n_heads,
                             .n_kv_heads = c->n_kv_heads, .head_dim = c->dim / c->n_heads, .ffn_dim = c->ffn,
                             .vocab_size = vocab, .context_length = c->ctx, .rope_theta = 10000.0f,
                             .norm_eps = 1e-5f, .qk_norm = c->qk_norm, .n_classes = c->encoder ? 2 : 0};
    int kv = c->n_kv_heads * (c->dim / c->n_heads);
    seed |= 1;
    tiny_add(&m, "token_embd.weight", vocab, c->dim, 0, &seed);
    for (int l = 0; l < c->n_layers; l++) {
        char name[64];
#define LAYER(suffix, rows, cols, ones) \
    (snprintf(name, sizeof name, "blk.%d." suffix, l), tiny_add(&m, name, rows, cols, ones, &seed))
        LAYER("attn_norm.weight", 0, c->dim, 1);
        LAYER("attn_q.weight", c->dim, c->dim, 0);
        LAYER("attn_k.weight", kv, c->dim, 0);
        LAYER("attn_v.weight", kv, c->dim, 0);
        LAYER("attn_output.weight", c->dim, c->dim, 0);
        if (c->qk_norm) {
            LAYER("attn_q_norm.weight", 0, c->dim / c->n_heads, 1);
            LAYER("attn_k_norm.weight", 0, c->dim / c->n_heads, 1);
        }
        LAYER("ffn_norm.weight", 0, c->dim, 1);
        LAYER("ffn_gate.weight", c->ffn, c->dim, 0);
        LAYER("ffn_up.weight", c->ffn, c->dim, 0);
        LAYER("ffn_down.weight", c->dim, c->ffn, 0);
#undef LAYER
    }
    tiny_add(&m, "output_norm.weight", 0, c->dim, 1, &seed);
    if (c->untied) tiny_add(&m, "output.weight", vocab, c->dim, 0, &seed);
    if (c->encoder) {
        tiny_add(&m, "cls.weight", 2, c->dim, 0, &seed);
        tiny_add(&m, "cls.bias", 0, 2, 0, &seed);
    }
    slm_quantize_params qp = slm_quantize_default_params(c->type);
    if (c->embd_q2_k) qp.embd_type = SLM_TYPE_Q2_K;
    slm_status st = wt_write(w, &m, &qp, path, err);
    gguf_writer_free(w);
    wt_free(&m);
    return st;
}

#endif
