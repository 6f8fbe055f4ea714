// Bad input at the model level: config and tensor validation through
// slm_model_load_file/_memory, the CLI's one-line errors with exit status 2,
// outputs never written half-way, prompts longer than the context, a full KV
// cache, bad token ids, invalid UTF-8 and non-finite weights. Every model is
// a tiny one built here, in a temporary directory.
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../weights-tools/wtools.h"
#include "gguf.h"
#include "slm.h"
#include "test.h"
#include "tiny_model.h"

#define SLM_BIN "build/asan/slm"

static char tmpdir[64];

// A path in the temporary directory; valid for the next 32 calls.
static char *tmp_path(const char *name) {
    static char path[32][256];
    static int next;
    char *p = path[next++ % 32];
    snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
    return p;
}

static uint8_t *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) { free(p); p = NULL; }
    fclose(f);
    if (p) { p[n] = 0; *size = (size_t)n; }
    return p;
}

static int write_all(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static float rand_weight(void) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return ((float)(rng_state >> 40) / 16777216.0f - 0.5f) * 0.2f;
}

// ---- tiny models ---------------------------------------------------------------

// Tokenizer variants, each breaking one thing.
typedef enum {
    VOCAB_OK, VOCAB_NO_TOKENS, VOCAB_SHORT_SCORES, VOCAB_STRING_TYPES, VOCAB_GPT2, VOCAB_NONE, VOCAB_BAD_BOS,
    VOCAB_255_BYTES,
} vocab_kind;

// <unk> <s> </s>, the 256 byte tokens <0xNN>, "▁", a-z with and without "▁"
// and a few longer pieces: a SentencePiece-style vocabulary of 315 tokens.
enum { N_VOCAB = 315, BOS = 1, EOS = 2, BYTE0 = 3 };

static int write_vocab(gguf_writer *w, vocab_kind kind) {
    static char text[N_VOCAB][16];
    const char *tok[N_VOCAB];
    float score[N_VOCAB];
    int32_t type[N_VOCAB];
    int n = 0;
    static const char *special[3] = {"<unk>", "<s>", "</s>"};
    for (; n < 3; n++) snprintf(text[n], 16, "%s", special[n]), type[n] = n ? 3 : 2;
    for (int c = 0; c < 256; c++, n++) snprintf(text[n], 16, "<0x%02X>", c), type[n] = 6;
    snprintf(text[n], 16, "\xe2\x96\x81"), type[n++] = 1;
    for (char c = 'a'; c <= 'z'; c++) {
        snprintf(text[n], 16, "%c", c), type[n++] = 1;
        snprintf(text[n], 16, "\xe2\x96\x81%c", c), type[n++] = 1;
    }
    static const char *longer[3] = {"he", "\xe2\x96\x81th", "\xe2\x96\x81the"};
    for (int i = 0; i < 3; i++) snprintf(text[n], 16, "%s", longer[i]), type[n++] = 1;
    for (int i = 0; i < n; i++) tok[i] = text[i], score[i] = type[i] == 1 ? -(float)i : 0.0f;
    if (kind == VOCAB_NONE) return 0;
    if (kind == VOCAB_255_BYTES) type[BYTE0 + 255] = 1;
    int rc = gguf_w_str(w, "tokenizer.ggml.model", kind == VOCAB_GPT2 ? "gpt2" : "llama");
    if (kind != VOCAB_NO_TOKENS) rc = rc || gguf_w_arr_str(w, "tokenizer.ggml.tokens", tok, NULL, n);
    rc = rc || gguf_w_arr_f32(w, "tokenizer.ggml.scores", score, kind == VOCAB_SHORT_SCORES ? n - 1 : n);
    if (kind == VOCAB_STRING_TYPES) rc = rc || gguf_w_arr_str(w, "tokenizer.ggml.token_type", tok, NULL, n);
    else rc = rc || gguf_w_arr_i32(w, "tokenizer.ggml.token_type", type, n);
    rc = rc || gguf_w_u32(w, "tokenizer.ggml.bos_token_id", kind == VOCAB_BAD_BOS ? 5000 : BOS) ||
         gguf_w_u32(w, "tokenizer.ggml.eos_token_id", EOS);
    return rc ? -1 : 0;
}

static void add_tensor(wt_model *m, const char *name, int rows, int cols, float fill) {
    float *p = wt_add(m, name, rows, cols);
    if (!p) abort();
    for (int i = 0; i < (rows ? rows : 1) * cols; i++) p[i] = fill != 0.0f ? fill : rand_weight();
}

// A decoder: dim 64, 2 layers, 4 query and 2 KV heads, FFN 96, context 32
// (or the same shape at another dim and layer count).
static void build_model(wt_model *m, int dim, int n_layers) {
    memset(m, 0, sizeof *m);
    m->name = "tiny";
    m->cfg = (slm_model_info){.dim = dim, .n_layers = n_layers, .n_heads = 4, .n_kv_heads = 2, .head_dim = dim / 4,
                              .ffn_dim = 96, .vocab_size = N_VOCAB, .context_length = 32, .rope_theta = 10000.0f,
                              .norm_eps = 1e-5f};
    int kv = 2 * (dim / 4);
    add_tensor(m, "token_embd.weight", N_VOCAB, dim, 0.0f);
    // BOS and EOS rows at zero: their logits stay 0 so greedy decoding of the
    // tied head never stops early on them
    memset(m->tensors[0].data + (size_t)BOS * dim, 0, 2 * (size_t)dim * sizeof(float));
    char name[64];
    for (int l = 0; l < n_layers; l++) {
#define LAYER(suffix, rows, cols, fill) \
    (snprintf(name, sizeof name, "blk.%d." suffix, l), add_tensor(m, name, rows, cols, fill))
        LAYER("attn_norm.weight", 0, dim, 1.0f);
        LAYER("attn_q.weight", dim, dim, 0.0f);
        LAYER("attn_k.weight", kv, dim, 0.0f);
        LAYER("attn_v.weight", kv, dim, 0.0f);
        LAYER("attn_output.weight", dim, dim, 0.0f);
        LAYER("ffn_norm.weight", 0, dim, 1.0f);
        LAYER("ffn_gate.weight", 96, dim, 0.0f);
        LAYER("ffn_up.weight", 96, dim, 0.0f);
        LAYER("ffn_down.weight", dim, 96, 0.0f);
#undef LAYER
    }
    add_tensor(m, "output_norm.weight", 0, dim, 1.0f);
}

static wt_tensor *find(wt_model *m, const char *name) {
    for (int i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->tensors[i].name, name)) return &m->tensors[i];
    return NULL;
}

static void drop_tensor(wt_model *m, const char *name) {
    wt_tensor *t = find(m, name);
    if (!t) abort();
    free(t->data);
    *t = m->tensors[--m->n_tensors];
}

static void reshape_tensor(wt_model *m, const char *name, int rows, int cols) {
    wt_tensor *t = find(m, name);
    if (!t) abort();
    free(t->data);
    t->rows = rows;
    t->cols = cols;
    if (!(t->data = calloc((size_t)(rows ? rows : 1) * cols, sizeof(float)))) abort();
}

// Writes m with a tokenizer of the given kind; frees m.
static int write_model(const char *path, wt_model *m, vocab_kind kind, slm_type type) {
    gguf_writer *w = gguf_writer_new();
    slm_quantize_params qp = slm_quantize_default_params(type);
    slm_error err = {0};
    slm_status st = write_vocab(w, kind) ? SLM_ERR_OUT_OF_MEMORY : wt_write(w, m, &qp, path, &err);
    CHECK(st == SLM_OK, "writing %s: %s", path, err.message);
    gguf_writer_free(w);
    wt_free(m);
    return st == SLM_OK ? 0 : -1;
}

static int write_good(const char *path) {
    wt_model m;
    build_model(&m, 64, 2);
    return write_model(path, &m, VOCAB_OK, SLM_TYPE_F32);
}

// Rewrites a file with another architecture name (and its keys' prefix)
// and/or one tensor given another type (its data zeroed to the new size).
static int rewrite(const char *src, const char *dst, const char *arch, const char *tensor, uint32_t type) {
    size_t size;
    uint8_t *file = read_all(src, &size);
    gguf_file g;
    char err[256];
    if (!file || gguf_parse(&g, file, size, err, sizeof err)) { free(file); return -1; }
    gguf_writer *w = gguf_writer_new();
    int rc = 0;
    for (uint64_t i = 0; i < g.n_kv && !rc; i++) {
        gguf_kv kv = g.kv[i];
        char renamed[160];
        if (arch && !strncmp(kv.key, "llama.", 6)) {   // the architecture's keys follow its name
            snprintf(renamed, sizeof renamed, "%s.%s", arch, kv.key + 6);
            kv.key = renamed;
        }
        rc = arch && !strcmp(kv.key, "general.architecture") ? gguf_w_str(w, kv.key, arch) : gguf_w_copy_kv(w, &kv);
    }
    void *zeros = NULL;
    for (uint64_t i = 0; i < g.n_tensors && !rc; i++) {
        const gguf_tensor *t = &g.tensors[i];
        if (tensor && !strcmp(t->name, tensor)) {
            uint64_t bytes = ggml_row_size(type, t->ne[0]) * t->ne[1];
            zeros = calloc(bytes ? bytes : 1, 1);
            rc = !zeros || gguf_w_tensor(w, t->name, type, t->n_dims, t->ne, zeros, bytes);
        } else {
            rc = gguf_w_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data, t->size);
        }
    }
    if (!rc) rc = gguf_writer_write(w, dst, err, sizeof err);
    gguf_writer_free(w);
    free(zeros);
    gguf_free(&g);
    free(file);
    return rc;
}

// ---- loading errors --------------------------------------------------------------

// Loads path and expects status want with `what` in a message naming the file.
static void expect_load(const char *path, unsigned flags, slm_status want, const char *what, const char *label) {
    slm_model *m = NULL;
    slm_error e = {0};
    slm_status st = slm_model_load_file(path, flags, &m, &e);
    if (want == SLM_OK) {
        CHECK(st == SLM_OK && m, "%s: %s", label, e.message);
    } else {
        CHECK(st == want && !m && e.code == st, "%s: %s '%s', wanted %s", label, slm_status_name(st), e.message,
              slm_status_name(want));
        CHECK(strstr(e.message, path) && strstr(e.message, what), "%s: '%s' should name the file and say '%s'", label,
              e.message, what);
    }
    slm_model_free(m);
}

// A model whose config is changed after its tensors were made.
typedef struct {
    const char *label, *what;
    slm_status want;
    int n_heads, n_kv_heads, head_dim, ctx, n_layers;
    float eps, theta;
} config_case;

static void test_config_errors(void) {
    static const config_case cases[] = {
        {"n_kv_heads 3 of 4 heads", "divide", SLM_ERR_BAD_MODEL, 4, 3, 16, 32, 2, 1e-5f, 1e4f},
        {"n_kv_heads 8 of 4 heads", "divide", SLM_ERR_BAD_MODEL, 4, 8, 16, 32, 2, 1e-5f, 1e4f},
        {"dim 64 over 5 heads", "multiple", SLM_ERR_BAD_MODEL, 5, 5, 12, 32, 2, 1e-5f, 1e4f},
        {"dim 64 over 0 heads", "head_count", SLM_ERR_BAD_MODEL, 0, 2, 16, 32, 2, 1e-5f, 1e4f},
        {"context length 0", "context_length", SLM_ERR_BAD_MODEL, 4, 2, 16, 0, 2, 1e-5f, 1e4f},
        {"context length 2^20+1", "context_length", SLM_ERR_BAD_MODEL, 4, 2, 16, (1 << 20) + 1, 2, 1e-5f, 1e4f},
        {"0 layers", "block_count", SLM_ERR_BAD_MODEL, 4, 2, 16, 32, 0, 1e-5f, 1e4f},
        {"257 layers", "block_count", SLM_ERR_BAD_MODEL, 4, 2, 16, 32, 257, 1e-5f, 1e4f},
        {"3 layers for 2 layers of tensors", "missing tensor", SLM_ERR_BAD_MODEL, 4, 2, 16, 32, 3, 1e-5f, 1e4f},
        {"norm eps 1", "epsilon", SLM_ERR_BAD_MODEL, 4, 2, 16, 32, 2, 1.0f, 1e4f},
        {"rope theta 0.5", "freq_base", SLM_ERR_BAD_MODEL, 4, 2, 16, 32, 2, 1e-5f, 0.5f},
        {"partial RoPE", "RoPE", SLM_ERR_UNSUPPORTED, 4, 2, 8, 32, 2, 1e-5f, 1e4f},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const config_case *c = &cases[i];
        wt_model m;
        build_model(&m, 64, 2);
        m.cfg.n_heads = c->n_heads;
        m.cfg.n_kv_heads = c->n_kv_heads;
        m.cfg.head_dim = c->head_dim;
        m.cfg.context_length = c->ctx;
        m.cfg.n_layers = c->n_layers;
        m.cfg.norm_eps = c->eps;
        m.cfg.rope_theta = c->theta;
        const char *path = tmp_path("config.gguf");
        if (write_model(path, &m, VOCAB_OK, SLM_TYPE_F32)) continue;
        expect_load(path, 0, c->want, c->what, c->label);
        // the tokenizer alone still loads
        expect_load(path, SLM_LOAD_VOCAB_ONLY, SLM_OK, "", c->label);
    }
    // an odd head dimension needs a dim that is no multiple of 32: F32 only
    wt_model m;
    build_model(&m, 60, 1);
    const char *path = tmp_path("odd.gguf");
    if (!write_model(path, &m, VOCAB_OK, SLM_TYPE_F32)) expect_load(path, 0, SLM_ERR_BAD_MODEL, "odd", "head dim 15");
}

static void test_tensor_errors(void) {
    const char *path = tmp_path("tensors.gguf");
    wt_model m;
    build_model(&m, 64, 2);
    drop_tensor(&m, "blk.1.ffn_down.weight");
    if (!write_model(path, &m, VOCAB_OK, SLM_TYPE_F32))
        expect_load(path, 0, SLM_ERR_BAD_MODEL, "blk.1.ffn_down.weight", "missing tensor");

    build_model(&m, 64, 2);
    reshape_tensor(&m, "blk.0.attn_k.weight", 64, 64);
    if (!write_model(path, &m, VOCAB_OK, SLM_TYPE_F32))
        expect_load(path, 0, SLM_ERR_BAD_MODEL, "shape", "attn_k of 64 rows, not 32");

    build_model(&m, 64, 2);
    reshape_tensor(&m, "output_norm.weight", 2, 64);
    if (!write_model(path, &m, VOCAB_OK, SLM_TYPE_F32))
        expect_load(path, 0, SLM_ERR_BAD_MODEL, "shape", "a matrix for a norm vector");

    build_model(&m, 64, 2);
    reshape_tensor(&m, "token_embd.weight", N_VOCAB - 1, 64);
    if (!write_model(path, &m, VOCAB_OK, SLM_TYPE_F32))
        expect_load(path, 0, SLM_ERR_BAD_MODEL, "token_embd.weight", "vocabulary size != embedding rows");

    build_model(&m, 64, 2);
    add_tensor(&m, "blk.0.attn_qkv.weight", 192, 64, 0.0f);
    if (!write_model(path, &m, VOCAB_OK, SLM_TYPE_F32))
        expect_load(path, 0, SLM_ERR_UNSUPPORTED, "blk.0.attn_qkv.weight", "unexpected extra tensor");

    // biases (allowed on any architecture) and rope_freqs of the wrong shape
    build_model(&m, 64, 2);
    add_tensor(&m, "blk.0.attn_q.bias", 0, 32, 0.0f);
    if (!write_model(path, &m, VOCAB_OK, SLM_TYPE_F32))
        expect_load(path, 0, SLM_ERR_BAD_MODEL, "blk.0.attn_q.bias", "a q bias of 32 values, not 64");
    build_model(&m, 64, 2);
    add_tensor(&m, "rope_freqs.weight", 0, 16, 1.0f);
    if (!write_model(path, &m, VOCAB_OK, SLM_TYPE_F32))
        expect_load(path, 0, SLM_ERR_BAD_MODEL, "rope_freqs.weight", "rope_freqs of 16 values, not head_dim/2 = 8");

    build_model(&m, 64, 2);
    m.cfg.qk_norm = 1;
    if (!write_model(path, &m, VOCAB_OK, SLM_TYPE_F32))
        expect_load(path, 0, SLM_ERR_BAD_MODEL, "attn_q_norm", "qk_norm without its tensors");

    // types: Q8_1 (activations only in ggml) for a matrix and F16 for a norm
    // are refused; a 256-value type on rows of 64 is a malformed file; BF16
    // and the K-quants run
    const char *good = tmp_path("good.gguf");
    if (write_good(good)) return;
    if (!rewrite(good, path, NULL, "blk.0.attn_q.weight", 9))
        expect_load(path, 0, SLM_ERR_UNSUPPORTED, "Q8_1", "Q8_1 matrix");
    if (!rewrite(good, path, NULL, "blk.1.ffn_norm.weight", SLM_TYPE_F16))
        expect_load(path, 0, SLM_ERR_UNSUPPORTED, "F16", "F16 norm");
    if (!rewrite(good, path, NULL, "blk.0.attn_q.weight", SLM_TYPE_Q4_K))
        expect_load(path, 0, SLM_ERR_BAD_MODEL, "not a multiple of the Q4_K block", "Q4_K on rows of 64");
    if (!rewrite(good, path, NULL, "blk.0.attn_q.weight", SLM_TYPE_BF16)) expect_load(path, 0, SLM_OK, "", "BF16 matrix");
    build_model(&m, 256, 1);
    const char *wide = tmp_path("wide.gguf");
    if (!write_model(wide, &m, VOCAB_OK, SLM_TYPE_F32)) {
        if (!rewrite(wide, path, NULL, "token_embd.weight", SLM_TYPE_Q6_K)) expect_load(path, 0, SLM_OK, "", "Q6_K embedding");
        if (!rewrite(wide, path, NULL, "blk.0.ffn_up.weight", SLM_TYPE_IQ4_XS)) expect_load(path, 0, SLM_OK, "", "IQ4_XS matrix");
    }
    unlink(wide);
    if (!rewrite(good, path, "gpt2", NULL, 0)) expect_load(path, 0, SLM_ERR_UNSUPPORTED, "gpt2", "architecture gpt2");
    // architectures whose tensors are missing: qwen2 without its biases, qwen3
    // without q/k norms, gemma3 without post-norms
    if (!rewrite(good, path, "qwen2", NULL, 0)) expect_load(path, 0, SLM_ERR_BAD_MODEL, "attn_q.bias", "qwen2 without biases");
    if (!rewrite(good, path, "qwen3", NULL, 0)) expect_load(path, 0, SLM_ERR_BAD_MODEL, "attn_q_norm", "qwen3 without q/k norms");
    build_model(&m, 64, 1);
    m.cfg.qk_norm = 1;
    add_tensor(&m, "blk.0.attn_q_norm.weight", 0, 16, 1.0f);
    add_tensor(&m, "blk.0.attn_k_norm.weight", 0, 16, 1.0f);
    const char *qk = tmp_path("qk.gguf");
    if (!write_model(qk, &m, VOCAB_OK, SLM_TYPE_F32)) {
        if (!rewrite(qk, path, "gemma3", NULL, 0))
            expect_load(path, 0, SLM_ERR_BAD_MODEL, "post_attention_norm", "gemma3 without post-norms");
        if (!rewrite(qk, path, "qwen3", NULL, 0)) expect_load(path, 0, SLM_OK, "", "qwen3 with its norms");
    }
    unlink(qk);
}

static void test_vocab_errors(void) {
    static const struct { vocab_kind kind; slm_status want; const char *what, *label; } cases[] = {
        {VOCAB_NO_TOKENS, SLM_ERR_BAD_MODEL, "tokenizer.ggml.tokens", "no tokens array"},
        {VOCAB_SHORT_SCORES, SLM_ERR_BAD_MODEL, "length", "scores one short"},
        {VOCAB_STRING_TYPES, SLM_ERR_BAD_MODEL, "token_type", "token types as strings"},
        {VOCAB_GPT2, SLM_ERR_UNSUPPORTED, "gpt2", "tokenizer model gpt2"},
        {VOCAB_NONE, SLM_ERR_BAD_MODEL, "tokenizer", "no tokenizer at all"},
        {VOCAB_BAD_BOS, SLM_ERR_BAD_MODEL, "bos_token_id", "BOS id 5000"},
        {VOCAB_255_BYTES, SLM_ERR_BAD_MODEL, "byte", "255 of the 256 byte tokens"},
    };
    const char *path = tmp_path("vocab.gguf");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wt_model m;
        build_model(&m, 64, 1);
        if (write_model(path, &m, cases[i].kind, SLM_TYPE_F32)) continue;
        expect_load(path, 0, cases[i].want, cases[i].what, cases[i].label);
        expect_load(path, SLM_LOAD_VOCAB_ONLY, cases[i].want, cases[i].what, cases[i].label);
    }
}

static void test_file_errors(void) {
    const char *missing = tmp_path("missing.gguf");
    expect_load(missing, 0, SLM_ERR_IO, "", "missing file");
    expect_load(missing, SLM_LOAD_VOCAB_ONLY, SLM_ERR_IO, "", "missing file, vocabulary only");
    expect_load(tmpdir, 0, SLM_ERR_IO, "", "a directory");
    const char *empty = tmp_path("empty.gguf");
    write_all(empty, "", 0);
    expect_load(empty, 0, SLM_ERR_BAD_MODEL, "", "empty file");
    write_all(empty, "GGUF\3\0\0", 7);
    expect_load(empty, 0, SLM_ERR_BAD_MODEL, "", "7-byte file");

    // from memory the message names "model"
    slm_model *m;
    slm_error e = {0};
    char *junk = strdup("not a model at all");
    CHECK(slm_model_load_memory(junk, strlen(junk), 1, 0, &m, &e) == SLM_ERR_BAD_MODEL && m == NULL &&
              !strncmp(e.message, "model: ", 7),
          "junk from memory: %s", e.message);
    // a borrowed buffer is left alone and a NULL err is fine
    char borrowed[] = "GGUF";
    CHECK(slm_model_load_memory(borrowed, 4, 0, 0, &m, NULL) == SLM_ERR_BAD_MODEL && !strcmp(borrowed, "GGUF"), "borrowed");
}

// A weights-less file loads as a vocabulary; a context on it fails cleanly.
static void test_vocab_only(void) {
    const char *path = tmp_path("vocab_only.gguf");
    gguf_writer *w = gguf_writer_new();
    char err[256];
    int rc = write_vocab(w, VOCAB_OK) || gguf_w_str(w, "general.architecture", "llama") ||
             gguf_w_u32(w, "llama.context_length", 32) || gguf_w_u32(w, "llama.embedding_length", 64) ||
             gguf_w_u32(w, "llama.block_count", 1) || gguf_w_u32(w, "llama.feed_forward_length", 96) ||
             gguf_w_u32(w, "llama.attention.head_count", 4) || gguf_writer_write(w, path, err, sizeof err);
    gguf_writer_free(w);
    CHECK(rc == 0, "vocab-only file");
    if (rc) return;
    expect_load(path, 0, SLM_ERR_BAD_MODEL, "no weights", "full load of a vocabulary-only file");
    slm_model *m;
    slm_error e = {0};
    CHECK(slm_model_load_file(path, SLM_LOAD_VOCAB_ONLY, &m, &e) == SLM_OK, "vocab only: %s", e.message);
    if (!m) return;
    slm_model_info in;
    slm_model_get_info(m, &in);
    CHECK(in.has_weights == 0 && in.vocab_size == N_VOCAB && in.bos_id == BOS && in.eos_id == EOS, "vocab-only info");
    int32_t ids[16];
    int n = slm_tokenize(m, "the cat", 7, 1, ids, 16, &e);
    CHECK(n >= 3 && n <= 16 && ids[0] == BOS, "tokenizes: %d", n);
    slm_context *c = (slm_context *)&c;
    CHECK(slm_context_new(m, NULL, &c, &e) == SLM_ERR_INVALID_ARG && c == NULL, "no context without weights: %s", e.message);
    slm_model_free(m);

    // a full model loaded for its vocabulary only has no weights either
    const char *good = tmp_path("good.gguf");
    if (write_good(good) || slm_model_load_file(good, SLM_LOAD_VOCAB_ONLY, &m, &e)) return;
    slm_model_get_info(m, &in);
    CHECK(in.has_weights == 0 && in.vocab_size == N_VOCAB, "vocab-only load of a full model");
    CHECK(slm_context_new(m, NULL, &c, &e) == SLM_ERR_INVALID_ARG && c == NULL, "no context: %s", e.message);
    slm_model_free(m);
}

// ---- the command line --------------------------------------------------------------

// Runs `slm args` with stdout discarded; returns the exit status (-1 if it
// did not exit) and the stderr text in out.
static int run_slm(const char *args, char *out, size_t cap) {
    char cmd[2048], errfile[256];
    snprintf(errfile, sizeof errfile, "%s/stderr.txt", tmpdir);
    snprintf(cmd, sizeof cmd, "%s %s >/dev/null 2>%s", SLM_BIN, args, errfile);
    int rc = system(cmd);
    size_t n = 0;
    uint8_t *text = read_all(errfile, &n);
    snprintf(out, cap, "%s", text ? (char *)text : "");
    free(text);
    unlink(errfile);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static void expect_cli_error(const char *args, const char *file, const char *label) {
    char out[4096];
    int status = run_slm(args, out, sizeof out);
    CHECK(status == 2, "%s: exit status %d\n%s", label, status, out);
    CHECK(count_lines(out) == 1 && !strncmp(out, "slm: error: ", 12) && strstr(out, file),
          "%s: wanted one line 'slm: error: ...%s...', got:\n%s", label, file, out);
}

// A file with a hostile header: 2^40 metadata entries in 24 bytes.
static void write_hostile(const char *path) {
    uint8_t b[32] = "GGUF";
    uint32_t version = 3;
    uint64_t n_tensors = 0, n_kv = (uint64_t)1 << 40;
    memcpy(b + 4, &version, 4);
    memcpy(b + 8, &n_tensors, 8);
    memcpy(b + 16, &n_kv, 8);
    write_all(path, b, sizeof b);
}

// Names of the files in the temporary directory, concatenated.
static void list_dir(char *out, size_t cap) {
    out[0] = 0;
    DIR *d = opendir(tmpdir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.') strncat(out, e->d_name, cap - strlen(out) - 2), strcat(out, " ");
    if (d) closedir(d);
}

static void test_cli(void) {
    if (access(SLM_BIN, X_OK)) {
        CHECK(0, "%s is not built (run from the repository root after make)", SLM_BIN);
        return;
    }
    const char *good = tmp_path("cli_good.gguf"), *truncated = tmp_path("cli_truncated.gguf");
    const char *missing = tmp_path("cli_missing.gguf"), *hostile = tmp_path("cli_hostile.gguf");
    if (write_good(good)) return;
    size_t size;
    uint8_t *file = read_all(good, &size);
    if (!file) return;
    write_all(truncated, file, size / 2);
    free(file);
    write_hostile(hostile);

    const char *bad[3] = {truncated, missing, hostile};
    const char *kind[3] = {"truncated", "missing", "hostile"};
    char args[1024], label[128];
    const char *out = tmp_path("cli_out.gguf");
    for (int i = 0; i < 3; i++) {
        snprintf(args, sizeof args, "info %s", bad[i]);
        snprintf(label, sizeof label, "info, %s file", kind[i]);
        expect_cli_error(args, bad[i], label);
        snprintf(args, sizeof args, "generate -m %s -p hello -n 2", bad[i]);
        snprintf(label, sizeof label, "generate, %s file", kind[i]);
        expect_cli_error(args, bad[i], label);
        snprintf(args, sizeof args, "quantize %s -o %s --type q8_0", bad[i], out);
        snprintf(label, sizeof label, "quantize, %s file", kind[i]);
        expect_cli_error(args, bad[i], label);
    }

    // quantize onto an existing output with a bad input: the old output
    // stays as it was and no temporary file is left
    write_all(out, "precious", 8);
    char before[2048], after[2048];
    list_dir(before, sizeof before);
    snprintf(args, sizeof args, "quantize %s -o %s --type q4_0", truncated, out);
    expect_cli_error(args, truncated, "quantize over an existing output");
    list_dir(after, sizeof after);
    uint8_t *kept = read_all(out, &size);
    CHECK(kept && size == 8 && !memcmp(kept, "precious", 8), "the old output is untouched");
    free(kept);
    CHECK(!strcmp(before, after), "no files come or go: before '%s', after '%s'", before, after);
    // a good input replaces it, again leaving nothing else behind
    char msg[4096];
    snprintf(args, sizeof args, "quantize %s -o %s --type q8_0", good, out);
    CHECK(run_slm(args, msg, sizeof msg) == 0, "quantize: %s", msg);
    list_dir(after, sizeof after);
    CHECK(!strcmp(before, after), "no temporary files: before '%s', after '%s'", before, after);
    expect_load(out, 0, SLM_OK, "", "the quantized model");
    // an unwritable output: progress lines may come first, the error is last
    snprintf(args, sizeof args, "quantize %s -o %s/no/such/dir/out.gguf --type q8_0", good, tmpdir);
    int status = run_slm(args, msg, sizeof msg);
    const char *last = strstr(msg, "slm: error: ");
    CHECK(status == 2 && last && strstr(last, "no/such/dir/out.gguf") && count_lines(last) == 1,
          "quantize into a missing directory: %d\n%s", status, msg);

    // a prompt of 20 ids in a context of 16: both lengths in the error, or
    // --truncate keeps the tail
    const char *ids = "1 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48";
    snprintf(args, sizeof args, "generate -m %s -c 16 --prompt-ids \"%s\" -n 2 --temp 0", good, ids);
    CHECK(run_slm(args, msg, sizeof msg) == 2 && count_lines(msg) == 1 && strstr(msg, "20") && strstr(msg, "context"),
          "prompt too long for the CLI: %s", msg);
    snprintf(args, sizeof args, "generate -m %s -c 16 --prompt-ids \"%s\" -n 2 --temp 0 --truncate", good, ids);
    CHECK(run_slm(args, msg, sizeof msg) == 0 && strstr(msg, "truncated"), "--truncate: %s", msg);

    // KNOWN BUG until names are sanitized: an architecture name with a
    // newline splits the error line
    const char *nl = tmp_path("cli_newline.gguf");
    if (!rewrite(good, nl, "gpt2\nslm: fake second line", NULL, 0)) {
        snprintf(args, sizeof args, "info %s", nl);
        expect_cli_error(args, nl, "info, architecture name with a newline (known bug: names quoted raw)");
    }
}

// ---- running ------------------------------------------------------------------------

typedef struct {
    int32_t ids[64];
    int n;
} collected;

static int collect(void *user, int32_t id, const char *text, int len) {
    collected *c = user;
    if (id >= 0 && c->n < 64) c->ids[c->n++] = id;
    return 0;
}

static void test_context_limits(slm_model *m) {
    slm_context_params cp = slm_context_default_params();
    cp.n_ctx = 16;
    slm_context *c;
    slm_error e = {0};
    if (slm_context_new(m, &cp, &c, &e)) { CHECK(0, "context: %s", e.message); return; }
    int32_t prompt[20];
    prompt[0] = BOS;
    for (int i = 1; i < 20; i++) prompt[i] = BYTE0 + 256 + i;   // "▁" and letters
    slm_generate_params gp = slm_generate_default_params();
    gp.sampling.temperature = 0.0f;
    gp.max_tokens = 4;
    slm_generate_stats st;
    collected got = {0};
    slm_status s = slm_generate(c, prompt, 20, &gp, collect, &got, &st, &e);
    CHECK(s == SLM_ERR_CONTEXT_FULL && strstr(e.message, "20") && (strstr(e.message, "16") || strstr(e.message, "15")),
          "prompt of 20 in 16: %s '%s'", slm_status_name(s), e.message);
    CHECK(slm_context_pos(c) == 0 && got.n == 0, "nothing evaluated");

    gp.truncate = 1;
    s = slm_generate(c, prompt, 20, &gp, collect, &got, &st, &e);
    CHECK(s == SLM_OK, "truncate: %s", e.message);
    CHECK(st.truncated_tokens > 0 && st.prompt_tokens + st.truncated_tokens == 20 && st.prompt_tokens < 16,
          "kept %d, dropped %d", st.prompt_tokens, st.truncated_tokens);
    // what was kept is BOS and the tail: the first token generated is what a
    // fresh context predicts after exactly those
    int kept = st.prompt_tokens;
    int32_t expect_ids[20];
    expect_ids[0] = BOS;
    memcpy(expect_ids + 1, prompt + 20 - (kept - 1), (size_t)(kept - 1) * sizeof *prompt);
    slm_model_info in;
    slm_model_get_info(m, &in);
    float *logits = malloc((size_t)in.vocab_size * sizeof *logits);
    slm_context *fresh;
    if (got.n > 0 && kept > 1 && !slm_context_new(m, &cp, &fresh, &e)) {
        CHECK(slm_eval(fresh, expect_ids, kept, logits, 0, &e) == SLM_OK, "eval: %s", e.message);
        int best = 0;
        for (int i = 1; i < in.vocab_size; i++)
            if (logits[i] > logits[best]) best = i;
        CHECK(got.ids[0] == best, "the first token after the kept tail: %d, expected %d", got.ids[0], best);
        slm_context_free(fresh);
    } else {
        CHECK(0, "truncate generated %d tokens from %d kept", got.n, kept);
    }

    // a full KV cache stops generation cleanly
    slm_context_rewind(c, 0);
    gp.max_tokens = 100;
    s = slm_generate(c, prompt, 4, &gp, NULL, NULL, &st, &e);
    CHECK(s == SLM_OK && st.stop_reason == SLM_STOP_CONTEXT, "full cache: %s, stop %d", e.message, (int)st.stop_reason);
    CHECK(st.generated_tokens == 16 - 4 + 1 && slm_context_pos(c) == 16, "generated %d, pos %d", st.generated_tokens,
          slm_context_pos(c));
    int32_t one = 40;
    s = slm_eval(c, &one, 1, logits, 0, &e);
    CHECK(s == SLM_ERR_CONTEXT_FULL && slm_context_pos(c) == 16, "eval into a full cache: %s", e.message);
    s = slm_generate(c, prompt, 1, &gp, NULL, NULL, &st, &e);
    CHECK(s == SLM_ERR_CONTEXT_FULL, "generate into a full cache: %s", slm_status_name(s));

    // token ids outside the vocabulary
    slm_context_rewind(c, 0);
    const int32_t bad[5] = {-1, N_VOCAB, N_VOCAB + 1, INT32_MAX, INT32_MIN};
    for (int i = 0; i < 5; i++) {
        int32_t two[2] = {BOS, bad[i]};
        s = slm_eval(c, two, 2, logits, 0, &e);
        CHECK(s == SLM_ERR_INVALID_ARG && slm_context_pos(c) == 0, "id %d: %s", bad[i], slm_status_name(s));
    }
    CHECK(slm_eval(c, prompt, 0, logits, 0, &e) == SLM_ERR_INVALID_ARG, "no tokens");
    free(logits);
    slm_context_free(c);
}

static void test_invalid_utf8(slm_model *m) {
    static const char text[] = "\xff\xfe h\xc3 the \xe2\x82 \xed\xa0\x80 \xc0\xaf end\xf0\x9f";
    int32_t ids[64];
    slm_error e = {0};
    int n = slm_tokenize(m, text, sizeof text - 1, 1, ids, 64, &e);
    CHECK(n > 0 && n <= 64, "tokenize: %d %s", n, e.message);
    if (n <= 0 || n > 64) return;
    int has_ff = 0;
    for (int i = 0; i < n; i++) has_ff |= ids[i] == BYTE0 + 0xFF;
    CHECK(has_ff && !strcmp(slm_token_piece(m, BYTE0 + 0xFF), "<0xFF>"), "0xFF goes through its byte token");
    slm_context *c;
    if (slm_context_new(m, NULL, &c, &e)) { CHECK(0, "context: %s", e.message); return; }
    slm_generate_params gp = slm_generate_default_params();
    gp.max_tokens = 3;
    slm_generate_stats st;
    CHECK(slm_generate(c, ids, n, &gp, NULL, NULL, &st, &e) == SLM_OK && st.generated_tokens >= 1,
          "generate after invalid UTF-8: %s", e.message);
    slm_context_free(c);
}

// ---- damaged numbers ----------------------------------------------------------------
//
// A damaged download: good files with one float of one tensor overwritten
// (a block scale, an F32/F16 value) by NaN or an infinity. The forward pass
// stops with SLM_ERR_NUMERIC saying where, leaves the context as it was, and
// slm_model_check / SLM_LOAD_CHECK name the tensor and block.

// Copies src to dst with n bytes at `at` in tensor `tensor`'s data replaced.
static int damage(const char *src, const char *dst, const char *tensor, uint64_t at, const void *bytes, size_t n) {
    size_t size;
    uint8_t *file = read_all(src, &size);
    gguf_file g;
    char err[256];
    if (!file || gguf_parse(&g, file, size, err, sizeof err)) { free(file); return -1; }
    const gguf_tensor *t = gguf_find_tensor(&g, tensor);
    int rc = !t || at + n > t->size;
    if (!rc) {
        memcpy(file + (t->data - file) + at, bytes, n);
        rc = write_all(dst, file, size);
    }
    gguf_free(&g);
    free(file);
    return rc;
}

// Byte offset in a (rows, cols) tensor of `type` of the first float of row r
// (a block's scale, or the value itself), and that float as damage bytes.
static uint64_t row_at(uint32_t type, int cols, int r) { return ggml_row_size(type, (uint64_t)cols) * (uint64_t)r; }
static size_t bad_float(uint32_t type, int nan, uint8_t out[4]) {
    if (type == SLM_TYPE_F32) {
        float v = nan ? NAN : -INFINITY;
        memcpy(out, &v, 4);
        return 4;
    }
    uint16_t h = nan ? 0x7e00 : 0xfc00;   // F16 values and every block scale
    memcpy(out, &h, 2);
    return 2;
}

static uint32_t tensor_type(const char *path, const char *tensor) {
    size_t size;
    uint8_t *file = read_all(path, &size);
    gguf_file g;
    char err[256];
    uint32_t type = 999;
    if (file && !gguf_parse(&g, file, size, err, sizeof err)) {
        const gguf_tensor *t = gguf_find_tensor(&g, tensor);
        if (t) type = t->type;
        gguf_free(&g);
    }
    free(file);
    return type;
}

// Evaluates ids on a fresh context with every backend: wants SLM_ERR_NUMERIC
// with `where` in the message (or SLM_OK if where is NULL) and the context
// left at position 0; the same again gives the same message, and then the
// first n_clean ids (0: none) evaluate as if nothing had happened.
static void expect_numeric(slm_model *m, const int32_t *ids, int n, const char *where, int n_clean, const char *label) {
    static const char *const kernels[] = {NULL, "scalar"};
    float *logits = malloc((size_t)n * N_VOCAB * sizeof *logits);
    for (int k = 0; k < 2 && logits; k++) {
        slm_context_params cp = slm_context_default_params();
        cp.kernels = kernels[k];
        cp.n_batch = 2;   // the damage lands in a later micro-batch too
        slm_context *c;
        if (slm_context_new(m, &cp, &c, NULL)) { CHECK(0, "%s: no context", label); break; }
        slm_error e = {0}, again = {0};
        slm_status st = slm_eval(c, ids, n, logits, 1, &e);
        if (!where) {
            CHECK(st == SLM_OK, "%s [%s]: %s", label, slm_context_kernels(c), e.message);
        } else {
            CHECK(st == SLM_ERR_NUMERIC && e.code == st && strstr(e.message, where) && strstr(e.message, "damaged"),
                  "%s [%s]: %s '%s', wanted NUMERIC '%s'", label, slm_context_kernels(c), slm_status_name(st), e.message, where);
            CHECK(slm_context_pos(c) == 0, "%s: the context moved to %d", label, slm_context_pos(c));
            st = slm_eval(c, ids, n, logits, 1, &again);
            CHECK(st == SLM_ERR_NUMERIC && !strcmp(e.message, again.message), "%s: again: %s", label, again.message);
            if (n_clean) {
                st = slm_eval(c, ids, n_clean, logits, 1, &e);
                CHECK(st == SLM_OK && slm_context_pos(c) == n_clean, "%s: a clean prompt after it: %s", label, e.message);
            }
        }
        slm_context_free(c);
    }
    free(logits);
}

// Loads path; wants slm_model_check (and SLM_LOAD_CHECK) to name tensor and `what`.
static void expect_check(const char *path, const char *tensor, const char *what, const char *label) {
    slm_model *m = NULL;
    slm_error e = {0};
    if (slm_model_load_file(path, 0, &m, &e)) { CHECK(0, "%s: %s", label, e.message); return; }
    slm_status st = slm_model_check(m, &e);
    CHECK(st == SLM_ERR_BAD_MODEL && strstr(e.message, tensor) && strstr(e.message, what), "%s: check gave %s '%s'",
          label, slm_status_name(st), e.message);
    slm_model_free(m);
    expect_load(path, SLM_LOAD_CHECK, SLM_ERR_BAD_MODEL, tensor, label);
}

static void test_damaged_weights(void) {
    static const slm_type types[] = {SLM_TYPE_F32, SLM_TYPE_F16, SLM_TYPE_Q8_0, SLM_TYPE_Q4_0};
    const int32_t prompt[5] = {BOS, 40, 41, 42, 43};   // token 42 (position 3) is the one damaged below
    char label[160];
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        wt_model wm;
        build_model(&wm, 64, 2);
        add_tensor(&wm, "output.weight", N_VOCAB, 64, 0.0f);   // untied: the embedding is only looked up
        const char *good = tmp_path("damage_good.gguf"), *bad = tmp_path("damage_bad.gguf");
        if (write_model(good, &wm, VOCAB_OK, types[ti])) continue;
        slm_model *m = NULL;
        CHECK(slm_model_load_file(good, SLM_LOAD_CHECK, &m, NULL) == SLM_OK, "the good %s model passes the check",
              slm_type_name(types[ti]));
        slm_model_free(m);
        // the column moves the damage across the lanes of the check's 8-byte words
        static const struct { const char *tensor, *where; int cols, row, col; } cases[] = {
            {"blk.1.attn_q.weight", "at layer 1 (blk.1), position 0", 64, 0, 3},
            {"blk.0.ffn_down.weight", "at layer 0 (blk.0), position 0", 96, 5, 1},
            {"token_embd.weight", "in the token embedding, position 3", 64, 42, 2},
            {"output_norm.weight", "in the logits, position 0", 64, 0, 63},
        };
        for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++)
            for (int nan = 0; nan < 2; nan++) {
                uint32_t type = tensor_type(good, cases[ci].tensor);
                uint8_t v[4];
                size_t nv = bad_float(type, nan, v);
                snprintf(label, sizeof label, "%s model, %s %s in %s", slm_type_name(types[ti]), nan ? "NaN" : "-Inf",
                         type == SLM_TYPE_F32 || type == SLM_TYPE_F16 ? "value" : "scale", cases[ci].tensor);
                int fl = type == SLM_TYPE_F32 || type == SLM_TYPE_F16, col = cases[ci].col;
                uint64_t at = row_at(type, cases[ci].cols, cases[ci].row) + (fl ? (uint64_t)col * nv : 0);
                if (damage(good, bad, cases[ci].tensor, at, v, nv)) {
                    CHECK(0, "%s: cannot damage the file", label);
                    continue;
                }
                if (slm_model_load_file(bad, 0, &m, NULL)) { CHECK(0, "%s: does not load", label); continue; }
                // the token embedding: prompts without token 42 are unaffected
                int embd = !strcmp(cases[ci].tensor, "token_embd.weight");
                expect_numeric(m, prompt, 5, cases[ci].where, embd ? 3 : 0, label);
                if (embd) expect_numeric(m, prompt, 3, NULL, 0, label);
                slm_model_free(m);
                char what[64];
                if (fl) snprintf(what, sizeof what, "row %d, column %d", cases[ci].row, col);
                else snprintf(what, sizeof what, "scale of block %d (row %d", cases[ci].row * cases[ci].cols / 32, cases[ci].row);
                expect_check(bad, cases[ci].tensor, what, label);
            }
    }

    // an encoder: classification and learning stop with NUMERIC too
    const char *enc = tmp_path("damage_enc.gguf"), *enc_bad = tmp_path("damage_enc_bad.gguf");
    const tiny_cfg ec = {.dim = 32, .n_heads = 2, .n_kv_heads = 1, .ffn = 64, .n_layers = 1, .ctx = 16, .encoder = 1,
                         .type = SLM_TYPE_Q8_0};
    uint16_t inf16 = 0x7c00;
    slm_error e = {0};
    slm_model *m = NULL;
    if (!tiny_write(enc, &ec, 7, &e) && !damage(enc, enc_bad, "blk.0.ffn_up.weight", 0, &inf16, 2) &&
        !slm_model_load_file(enc_bad, 0, &m, &e)) {
        slm_context *c = NULL;
        slm_learner *l = NULL;
        float probs[8];
        CHECK(!slm_context_new(m, NULL, &c, &e), "encoder context: %s", e.message);
        slm_status st = slm_classify(c, "abc", 3, probs, NULL, &e);
        CHECK(st == SLM_ERR_NUMERIC && strstr(e.message, "at layer 0 (blk.0)"), "classify: %s", e.message);
        CHECK(!slm_learner_new(c, NULL, NULL, 0, &l, &e), "learner: %s", e.message);
        const char *texts[2] = {"abc", "def"}, *labels[2] = {"yes", "no"};
        slm_learn_result res;
        st = slm_learn(l, texts, labels, 2, &res, &e);
        CHECK(st == SLM_ERR_NUMERIC && strstr(e.message, "at layer 0"), "learn: %s '%s'", slm_status_name(st), e.message);
        st = slm_learner_classify(l, "abc", 3, probs, NULL, &e);
        CHECK(st == SLM_ERR_NUMERIC, "learner classify: %s '%s'", slm_status_name(st), e.message);
        slm_learner_free(l);
        slm_context_free(c);
        slm_model_free(m);
    } else {
        CHECK(0, "the damaged encoder: %s", e.message);
    }

    // the CLI: one line and exit 2, from generate and from info --check
    const char *good = tmp_path("damage_cli.gguf"), *bad = tmp_path("damage_cli_bad.gguf");
    wt_model wm;
    build_model(&wm, 64, 2);
    uint16_t nan16 = 0x7e00;
    if (write_model(good, &wm, VOCAB_OK, SLM_TYPE_Q8_0) || damage(good, bad, "blk.0.attn_k.weight", 0, &nan16, 2)) return;
    char args[1024], msg[4096];
    snprintf(args, sizeof args, "generate -m %s --prompt-ids \"1 40 41\" -n 4 --temp 0", bad);
    CHECK(run_slm(args, msg, sizeof msg) == 2 && count_lines(msg) == 1 && strstr(msg, "slm: error: the model produced NaN at layer 0"),
          "generate on a damaged model: %s", msg);
    snprintf(args, sizeof args, "info --check %s", bad);
    CHECK(run_slm(args, msg, sizeof msg) == 2 && count_lines(msg) == 1 && strstr(msg, "blk.0.attn_k.weight") &&
          strstr(msg, "NaN in the scale of block 0"), "info --check on a damaged model: %s", msg);
    snprintf(args, sizeof args, "info --check %s", good);
    CHECK(run_slm(args, msg, sizeof msg) == 0, "info --check on a good model: %s", msg);

    // the weights tools refuse to write NaN rather than quantize it away
    build_model(&wm, 64, 1);
    find(&wm, "blk.0.attn_v.weight")->data[70] = NAN;
    gguf_writer *w = gguf_writer_new();
    slm_quantize_params qp = slm_quantize_default_params(SLM_TYPE_Q4_0);
    slm_status st = write_vocab(w, VOCAB_OK) ? SLM_ERR_OUT_OF_MEMORY : wt_write(w, &wm, &qp, bad, &e);
    CHECK(st == SLM_ERR_BAD_MODEL && strstr(e.message, "blk.0.attn_v.weight") && strstr(e.message, "row 1, column 6"),
          "writing NaN weights: %s '%s'", slm_status_name(st), e.message);
    gguf_writer_free(w);
    wt_free(&wm);

    // the fuzz finding kept in ../shared (a Q8_0 model whose embedding
    // holds a NaN scale; tests/fuzz/corpus/gguf/regress-nan-scale.gguf is
    // our own file with the same damage): required in CI, optional elsewhere
    const char *finding = "../shared/data/fuzz-findings/gguf-nan-activations.gguf";
    const char *ci = getenv("CI");
    if (access(finding, R_OK)) {
        CHECK(!(ci && !strcmp(ci, "true")), "%s is missing (required in CI)", finding);
        return;
    }
    snprintf(args, sizeof args, "generate -m %s --prompt-ids \"1 2 3\" -n 4", finding);
    CHECK(run_slm(args, msg, sizeof msg) == 2 && strstr(msg, "NaN"), "the fuzz finding: %s", msg);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/slm_test_model_XXXXXX");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    test_config_errors();
    test_tensor_errors();
    test_vocab_errors();
    test_file_errors();
    test_vocab_only();
    test_cli();

    const char *path = tmp_path("run.gguf");
    slm_model *m = NULL;
    slm_error e = {0};
    if (!write_good(path) && slm_model_load_file(path, 0, &m, &e) == SLM_OK) {
        test_context_limits(m);
        test_invalid_utf8(m);
        slm_model_free(m);
    } else {
        CHECK(0, "the tiny model does not load");
    }
    test_damaged_weights();

    char names[4096];
    list_dir(names, sizeof names);
    for (char *s = strtok(names, " "); s; s = strtok(NULL, " ")) unlink(tmp_path(s));
    rmdir(tmpdir);
    TEST_END();
}
