// Tiny models for tests and fuzz targets, written by the weights tools: a
// SentencePiece-style vocabulary and random weights of any shape and type.
#ifndef SLM_TINY_MODEL_H
#define SLM_TINY_MODEL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/mathx.h"

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

// ---- any architecture and tensor type, from random bytes -------------------------
//
// The weights tools quantize only to some types; this writes any type the
// engine reads, each block random with finite scales (F32/F16/BF16: random
// values), for tests and fuzz targets that need every type and architecture.

// Where a block type keeps its f16 scales (byte offsets), its block size.
static inline int tiny_scale_fields(uint32_t type, uint32_t *block_bytes, uint32_t *block_values, uint16_t off[2]) {
    static const struct { uint32_t type, bytes, values; int n; uint16_t off[2]; } t[] = {
        {SLM_TYPE_F32, 4, 1, 0, {0}},       {SLM_TYPE_F16, 2, 1, 0, {0}},       {SLM_TYPE_BF16, 2, 1, 0, {0}},
        {SLM_TYPE_Q4_0, 18, 32, 1, {0}},    {SLM_TYPE_Q4_1, 20, 32, 2, {0, 2}}, {SLM_TYPE_Q5_0, 22, 32, 1, {0}},
        {SLM_TYPE_Q5_1, 24, 32, 2, {0, 2}}, {SLM_TYPE_Q8_0, 34, 32, 1, {0}},    {SLM_TYPE_IQ4_NL, 18, 32, 1, {0}},
        {SLM_TYPE_Q2_K, 84, 256, 2, {80, 82}}, {SLM_TYPE_Q3_K, 110, 256, 1, {108}}, {SLM_TYPE_Q4_K, 144, 256, 2, {0, 2}},
        {SLM_TYPE_Q5_K, 176, 256, 2, {0, 2}}, {SLM_TYPE_Q6_K, 210, 256, 1, {208}}, {SLM_TYPE_IQ4_XS, 136, 256, 1, {0}},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].type == type) {
            *block_bytes = t[i].bytes, *block_values = t[i].values;
            off[0] = t[i].off[0], off[1] = t[i].off[1];
            return t[i].n;
        }
    abort();
}

static inline uint64_t tiny_rand(uint64_t *s) {
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

// A (rows, cols) tensor of `type` (rows 0: an F32 vector of ones, a norm):
// bytes appended to *buf, which the writer points into once complete.
typedef struct {
    uint8_t *buf;
    size_t len, cap;
    int n;
    struct { char name[64]; uint32_t type; int rows, cols; size_t at, size; } t[64];
} tiny_tensors;

static inline void tiny_tensor(tiny_tensors *tt, const char *name, uint32_t type, int rows, int cols, uint64_t *seed) {
    uint32_t bb, bv;
    uint16_t off[2];
    if (!rows) type = SLM_TYPE_F32;
    int n_fields = tiny_scale_fields(type, &bb, &bv, off);
    size_t size = (size_t)(rows ? rows : 1) * cols / bv * bb;
    if (tt->n == 64 || cols % (int)bv) abort();
    if (tt->len + size > tt->cap) {
        tt->cap = (tt->len + size) * 2;
        if (!(tt->buf = realloc(tt->buf, tt->cap))) abort();
    }
    uint8_t *p = tt->buf + tt->len;
    for (size_t i = 0; i < size; i++) p[i] = (uint8_t)(tiny_rand(seed) >> 56);
    if (type == SLM_TYPE_F32)
        for (size_t i = 0; i < size / 4; i++) {
            float v = rows ? ((float)(tiny_rand(seed) >> 40) / 16777216.0f - 0.5f) * 0.2f : 1.0f;
            memcpy(p + 4 * i, &v, 4);
        }
    else if (type == SLM_TYPE_F16 || type == SLM_TYPE_BF16)
        for (size_t i = 0; i < size / 2; i++) {
            float v = ((float)(tiny_rand(seed) >> 40) / 16777216.0f - 0.5f) * 0.2f;
            uint32_t u;
            memcpy(&u, &v, 4);
            uint16_t h = type == SLM_TYPE_F16 ? slm_f32_to_f16(v) : (uint16_t)(u >> 16);
            memcpy(p + 2 * i, &h, 2);
        }
    else
        for (size_t b = 0; b < size / bb; b++)
            for (int k = 0; k < n_fields; k++) {   // scales 0.002 .. 0.01, mins alike
                uint16_t h = slm_f32_to_f16(0.002f + 0.008f * (float)(tiny_rand(seed) >> 40) / 16777216.0f);
                memcpy(p + b * bb + off[k], &h, 2);
            }
    snprintf(tt->t[tt->n].name, sizeof tt->t[0].name, "%s", name);
    tt->t[tt->n].type = type, tt->t[tt->n].rows = rows, tt->t[tt->n].cols = cols;
    tt->t[tt->n].at = tt->len, tt->t[tt->n].size = size;
    tt->n++;
    tt->len += size;
}

typedef struct {
    const char *arch;           // llama, qwen2, qwen3, gemma3
    int dim, n_heads, n_kv_heads, head_dim, ffn, n_layers, ctx, swa_window;
    uint32_t type, embd_type;   // the matrices' type, the token embedding's
    int byte_tokens;            // the vocabulary has the 256 byte tokens (272 tokens, else 16)
    int rope_freqs;             // Llama 3's rope_freqs.weight
} tiny_arch_cfg;

// Writes a decoder of any architecture and types to path, from seed.
static inline slm_status tiny_write_arch(const char *path, const tiny_arch_cfg *c, uint64_t seed, char *err, size_t errlen) {
    gguf_writer *w = gguf_writer_new();
    int vocab = w ? tiny_write_vocab(w, c->byte_tokens) : -1;
    if (vocab < 0) { gguf_writer_free(w); return SLM_ERR_OUT_OF_MEMORY; }
    char key[96];
    int rc = gguf_w_str(w, "general.architecture", c->arch);
#define KEY(k, v) (snprintf(key, sizeof key, "%s." k, c->arch), rc = rc || gguf_w_u32(w, key, (uint32_t)(v)))
    KEY("context_length", c->ctx);
    KEY("embedding_length", c->dim);
    KEY("block_count", c->n_layers);
    KEY("feed_forward_length", c->ffn);
    KEY("attention.head_count", c->n_heads);
    KEY("attention.head_count_kv", c->n_kv_heads);
    KEY("attention.key_length", c->head_dim);
    KEY("attention.value_length", c->head_dim);
    if (c->swa_window) KEY("attention.sliding_window", c->swa_window);
#undef KEY
    int qk_norm = !strcmp(c->arch, "qwen3") || !strcmp(c->arch, "gemma3"), gemma = !strcmp(c->arch, "gemma3");
    int bias = !strcmp(c->arch, "qwen2"), q_dim = c->n_heads * c->head_dim, kv = c->n_kv_heads * c->head_dim;
    tiny_tensors tt = {0};
    seed |= 1;
    tiny_tensor(&tt, "token_embd.weight", c->embd_type, vocab, c->dim, &seed);
    tiny_tensor(&tt, "output_norm.weight", SLM_TYPE_F32, 0, c->dim, &seed);
    if (c->rope_freqs) tiny_tensor(&tt, "rope_freqs.weight", SLM_TYPE_F32, 0, c->head_dim / 2, &seed);   // ones
    char name[64];
    for (int l = 0; l < c->n_layers; l++) {
#define T(suffix, type, rows, cols) (snprintf(name, sizeof name, "blk.%d." suffix, l), tiny_tensor(&tt, name, type, rows, cols, &seed))
        T("attn_norm.weight", SLM_TYPE_F32, 0, c->dim);
        T("attn_q.weight", c->type, q_dim, c->dim);
        T("attn_k.weight", c->type, kv, c->dim);
        T("attn_v.weight", c->type, kv, c->dim);
        T("attn_output.weight", c->type, c->dim, q_dim);
        if (bias) {
            T("attn_q.bias", SLM_TYPE_F32, 0, q_dim);
            T("attn_k.bias", SLM_TYPE_F32, 0, kv);
            T("attn_v.bias", SLM_TYPE_F32, 0, kv);
        }
        if (qk_norm) {
            T("attn_q_norm.weight", SLM_TYPE_F32, 0, c->head_dim);
            T("attn_k_norm.weight", SLM_TYPE_F32, 0, c->head_dim);
        }
        T("ffn_norm.weight", SLM_TYPE_F32, 0, c->dim);
        T("ffn_gate.weight", c->type, c->ffn, c->dim);
        T("ffn_up.weight", c->type, c->ffn, c->dim);
        T("ffn_down.weight", c->type, c->dim, c->ffn);
        if (gemma) {
            T("post_attention_norm.weight", SLM_TYPE_F32, 0, c->dim);
            T("post_ffw_norm.weight", SLM_TYPE_F32, 0, c->dim);
        }
#undef T
    }
    for (int i = 0; i < tt.n && !rc; i++) {
        uint64_t ne[2] = {(uint64_t)tt.t[i].cols, (uint64_t)(tt.t[i].rows ? tt.t[i].rows : 1)};
        rc = gguf_w_tensor(w, tt.t[i].name, tt.t[i].type, tt.t[i].rows ? 2 : 1, ne, tt.buf + tt.t[i].at, tt.t[i].size);
    }
    char msg[256] = "out of memory";
    slm_status st = rc ? SLM_ERR_OUT_OF_MEMORY : gguf_writer_write(w, path, msg, sizeof msg) ? SLM_ERR_IO : SLM_OK;
    if (st && err) snprintf(err, errlen, "%s", msg);
    gguf_writer_free(w);
    free(tt.buf);
    return st;
}

#endif
