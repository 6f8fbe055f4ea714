// slm init: a model of a preset's shape with random weights, for tests and
// benchmarks (and, later, as the starting point of training).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/mathx.h"
#include "../src/model.h"
#include "wtools.h"

typedef struct {
    const char *name;
    int encoder, dim, n_layers, n_heads, n_kv_heads, ffn_dim, vocab, ctx, qk_norm;
    float theta;
    const char *arch;       // NULL: llama
    int head_dim;           // 0: dim / heads
    int llama3_rope;        // rope_freqs.weight, Llama 3.x's (factor 32, window 8192)
} preset;

// slm360's own shapes, then the small models people run, in their shapes
// (from their config.json; random weights, for benchmarks and tests).
static const preset presets[] = {
    {"slm360-base", 0, 768, 16, 12, 4, 2048, 32000, 2048, 0, 10000.0f, NULL, 0, 0},
    {"slm10m", 0, 256, 12, 8, 2, 640, 8192, 1024, 1, 100000.0f, NULL, 0, 0},
    {"slm360-nano", 1, 256, 6, 8, 4, 682, 8192, 512, 0, 10000.0f, NULL, 0, 0},
    {"smollm2-135m", 0, 576, 30, 9, 3, 1536, 49152, 8192, 0, 100000.0f, NULL, 0, 0},
    {"smollm2-360m", 0, 960, 32, 15, 5, 2560, 49152, 8192, 0, 100000.0f, NULL, 0, 0},
    {"qwen2.5-0.5b", 0, 896, 24, 14, 2, 4864, 151936, 32768, 0, 1000000.0f, "qwen2", 0, 0},
    {"qwen3-0.6b", 0, 1024, 28, 16, 8, 3072, 151936, 40960, 1, 1000000.0f, "qwen3", 128, 0},
    {"llama3.2-1b", 0, 2048, 16, 32, 8, 8192, 128256, 131072, 0, 500000.0f, NULL, 0, 1},
    {"gemma3-270m", 0, 640, 18, 4, 1, 2048, 262144, 32768, 1, 1000000.0f, "gemma3", 256, 0},
};

#define N_PRESETS (int)(sizeof presets / sizeof presets[0])
#define NANO_RANDOM_CLASSES 8

const char *const *slm_preset_names(void) {
    static const char *const names[] = {"slm360-base",  "slm10m",       "slm360-nano", "smollm2-135m", "smollm2-360m",
                                        "qwen2.5-0.5b", "qwen3-0.6b",   "llama3.2-1b", "gemma3-270m",  NULL};
    return names;
}

// xorshift64*; a normal-ish draw as the centered sum of four uniforms (variance
// matched): plenty for random weights and far cheaper than Box-Muller.
static float rand_normal(uint64_t *s) {
    float sum = 0.0f;
    for (int i = 0; i < 4; i++) {
        *s ^= *s >> 12;
        *s ^= *s << 25;
        *s ^= *s >> 27;
        sum += (float)((*s * 0x2545f4914f6cdd1dull) >> 40) * (1.0f / 16777216.0f);
    }
    return (sum - 2.0f) * 1.7320508f;
}

static void fill(float *x, size_t n, float std, uint64_t *s) {
    for (size_t i = 0; i < n; i++) x[i] = rand_normal(s) * std;
}

// A valid SentencePiece-style vocabulary with no training: <unk> <s> </s>,
// the 256 byte tokens, "▁", then a-z strings of growing length with and
// without "▁" (every piece's halves are pieces, so BPE can reach it).
static slm_status synthetic_vocab(gguf_writer *w, int vocab, slm_error *err) {
    char **tok = calloc((size_t)vocab, sizeof *tok);
    float *score = malloc((size_t)vocab * sizeof *score);
    int32_t *type = malloc((size_t)vocab * sizeof *type);
    slm_status rc = tok && score && type ? SLM_OK : slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    int n = 0;
    char buf[16];
    static const char *special[3] = {"<unk>", "<s>", "</s>"};
    for (; !rc && n < vocab && n < 3; n++) tok[n] = strdup(special[n]), type[n] = n ? 3 : 2;
    for (int b = 0; !rc && n < vocab && b < 256; b++, n++) snprintf(buf, sizeof buf, "<0x%02X>", b), tok[n] = strdup(buf), type[n] = 6;
    if (!rc && n < vocab) tok[n] = strdup("\xe2\x96\x81"), type[n++] = 1;
    for (int len = 1; !rc && n < vocab && len <= 4; len++) {
        long count = 1;
        for (int i = 0; i < len; i++) count *= 26;
        for (long v = 0; v < count && n < vocab; v++)
            for (int space = 1; space >= 0 && n < vocab; space--) {
                int k = 0;
                if (space) k += snprintf(buf, sizeof buf, "\xe2\x96\x81");
                for (int i = len - 1, x = (int)v; i >= 0; i--, x /= 26) buf[k + i] = (char)('a' + x % 26);
                buf[k + len] = 0;
                tok[n] = strdup(buf);
                type[n++] = 1;
            }
    }
    for (int i = 0; i < n && !rc; i++) {
        if (!tok[i]) rc = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
        score[i] = type[i] == 1 ? -(float)i : 0.0f;
    }
    if (!rc && (gguf_w_str(w, "tokenizer.ggml.model", "llama") ||
                gguf_w_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)tok, NULL, (uint64_t)n) ||
                gguf_w_arr_f32(w, "tokenizer.ggml.scores", score, (uint64_t)n) ||
                gguf_w_arr_i32(w, "tokenizer.ggml.token_type", type, (uint64_t)n) ||
                gguf_w_u32(w, "tokenizer.ggml.bos_token_id", 1) || gguf_w_u32(w, "tokenizer.ggml.eos_token_id", 2) ||
                gguf_w_u32(w, "tokenizer.ggml.unknown_token_id", 0) || gguf_w_bool(w, "tokenizer.ggml.add_bos_token", 1)))
        rc = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    if (tok)
        for (int i = 0; i < vocab; i++) free(tok[i]);
    free(tok);
    free(score);
    free(type);
    return rc;
}

static slm_status vocab_from_file(gguf_writer *w, const char *path, int vocab, slm_error *err) {
    slm_model *v;
    slm_status rc = slm_model_load_file(path, SLM_LOAD_VOCAB_ONLY, &v, err);
    if (rc) return rc;
    if (v->info.vocab_size != vocab)
        rc = slm_fail(err, SLM_ERR_INVALID_ARG, "%s: vocabulary of %d tokens, the preset needs %d", path, v->info.vocab_size, vocab);
    else if (wt_copy_tokenizer(w, &v->gguf))
        rc = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    slm_model_free(v);
    return rc;
}

// GPT-2 style init: N(0, 0.02), residual projections scaled by 1/sqrt(2L),
// norms at 1.
static slm_status random_weights(wt_model *m, const slm_init_params *p, slm_error *err) {
    const slm_model_info *in = &m->cfg;
    uint64_t s = p->seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
    s = s ? s : 1;
    int kv = in->n_kv_heads * in->head_dim, q_dim = in->n_heads * in->head_dim;
    int bias = m->arch && !strcmp(m->arch, "qwen2"), post = m->arch && !strcmp(m->arch, "gemma3");
    float std = 0.02f, proj_std = 0.02f / sqrtf(2.0f * in->n_layers);
    float *embd = wt_add(m, "token_embd.weight", in->vocab_size, in->dim);
    if (!embd) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    fill(embd, (size_t)in->vocab_size * in->dim, std, &s);
    for (int l = 0; l < in->n_layers; l++) {
        // want: 1 always, 2 with q/k norms, 3 with biases (Qwen2), 4 with post-norms (Gemma 3);
        // vectors (rows 0) are norms at 1, or biases (std > 0)
        struct { const char *name; int rows, cols; float std; int want; } t[] = {
            {"attn_norm.weight", 0, in->dim, 0, 1}, {"attn_q.weight", q_dim, in->dim, std, 1},
            {"attn_k.weight", kv, in->dim, std, 1}, {"attn_v.weight", kv, in->dim, std, 1},
            {"attn_q.bias", 0, q_dim, std, 3}, {"attn_k.bias", 0, kv, std, 3}, {"attn_v.bias", 0, kv, std, 3},
            {"attn_output.weight", in->dim, q_dim, proj_std, 1},
            {"attn_q_norm.weight", 0, in->head_dim, 0, 2}, {"attn_k_norm.weight", 0, in->head_dim, 0, 2},
            {"post_attention_norm.weight", 0, in->dim, 0, 4},
            {"ffn_norm.weight", 0, in->dim, 0, 1}, {"ffn_gate.weight", in->ffn_dim, in->dim, std, 1},
            {"ffn_up.weight", in->ffn_dim, in->dim, std, 1}, {"ffn_down.weight", in->dim, in->ffn_dim, proj_std, 1},
            {"post_ffw_norm.weight", 0, in->dim, 0, 4},
        };
        for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
            if ((t[k].want == 2 && !in->qk_norm) || (t[k].want == 3 && !bias) || (t[k].want == 4 && !post)) continue;
            char name[64];
            snprintf(name, sizeof name, "blk.%d.%s", l, t[k].name);
            float *w = wt_add(m, name, t[k].rows, t[k].cols);
            if (!w) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
            size_t n = (size_t)(t[k].rows ? t[k].rows : 1) * t[k].cols;
            if (t[k].std > 0.0f) fill(w, n, t[k].std, &s);
            else for (size_t i = 0; i < n; i++) w[i] = 1.0f;
        }
        if (p->progress) p->progress(p->user, "random weights", (double)(l + 1) / in->n_layers);
    }
    float *norm = wt_add(m, "output_norm.weight", 0, in->dim);
    if (!norm) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < in->dim; i++) norm[i] = 1.0f;
    if (in->is_encoder) {
        int cols = in->dim + m->ngram_dim;
        float *ng = wt_add(m, "ngram_embd.weight", (int)m->ngram.buckets, m->ngram_dim);
        float *cw = wt_add(m, "cls.weight", in->n_classes, cols), *cb = wt_add(m, "cls.bias", 0, in->n_classes);
        if (!ng || !cw || !cb) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
        fill(ng, (size_t)m->ngram.buckets * m->ngram_dim, std, &s);
        fill(cw, (size_t)in->n_classes * cols, std, &s);
    }
    return SLM_OK;
}

// Llama 3.x's RoPE frequency divisors (its "llama3" rope scaling: factor 32,
// original context 8192, low/high frequency factors 1 and 4), as its GGUF
// files carry them in rope_freqs.weight.
static void llama3_rope_factors(float *f, int head_dim, float theta) {
    const double factor = 32.0, old_ctx = 8192.0, low = 1.0, high = 4.0, pi = 3.14159265358979323846;
    for (int i = 0; i < head_dim / 2; i++) {
        double freq = slm_exp_d(-(double)(2 * i) / head_dim * slm_log_d((double)theta)), wavelen = 2.0 * pi / freq;
        if (wavelen < old_ctx / high) f[i] = 1.0f;
        else if (wavelen > old_ctx / low) f[i] = (float)factor;
        else {
            double smooth = (old_ctx / wavelen - low) / (high - low);
            f[i] = (float)(1.0 / ((1.0 - smooth) / factor + smooth));
        }
    }
}

slm_status slm_init_random(const slm_init_params *p, const char *out_path, slm_error *err) {
    const preset *ps = NULL;
    for (int i = 0; i < N_PRESETS; i++)
        if (p->preset && !strcmp(p->preset, presets[i].name)) ps = &presets[i];
    if (!ps) return slm_fail(err, SLM_ERR_INVALID_ARG, "unknown preset '%s' (slm init --help lists them)", p->preset ? p->preset : "");
    wt_model m = {.name = ps->name, .arch = ps->arch};
    if (ps->arch && !strcmp(ps->arch, "gemma3")) m.swa_window = 512, m.swa_every = 6;   // Gemma 3's 270m and 1b
    m.cfg = (slm_model_info){.is_encoder = ps->encoder, .dim = ps->dim, .n_layers = ps->n_layers, .n_heads = ps->n_heads,
                             .n_kv_heads = ps->n_kv_heads, .head_dim = ps->head_dim ? ps->head_dim : ps->dim / ps->n_heads,
                             .ffn_dim = ps->ffn_dim,
                             .vocab_size = ps->vocab, .context_length = ps->ctx, .rope_theta = ps->theta,
                             .norm_eps = 1e-5f, .qk_norm = ps->qk_norm, .n_classes = ps->encoder ? NANO_RANDOM_CLASSES : 0};
    static const char *const labels[NANO_RANDOM_CLASSES] = {"class0", "class1", "class2", "class3",
                                                            "class4", "class5", "class6", "class7"};
    m.class_labels = labels;
    if (ps->encoder) {   // the nano's hashed n-gram branch: 2^14 buckets x 64
        m.ngram = (slm_ngram_cfg){.buckets = 1u << 14, .word_max = 2, .char_min = 3, .char_max = 5};
        m.ngram_dim = 64;
    }
    gguf_writer *w = gguf_writer_new();
    slm_status rc = w ? SLM_OK : slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    if (!rc) rc = p->vocab_path ? vocab_from_file(w, p->vocab_path, ps->vocab, err) : synthetic_vocab(w, ps->vocab, err);
    if (!rc) rc = random_weights(&m, p, err);
    if (!rc && ps->llama3_rope) {
        float *f = wt_add(&m, "rope_freqs.weight", 0, m.cfg.head_dim / 2);
        if (f) llama3_rope_factors(f, m.cfg.head_dim, ps->theta);
        else rc = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    }
    slm_quantize_params qp = slm_quantize_default_params(p->type);
    qp.embd_type = (int)p->type;     // random weights: one type throughout, as benchmarks expect
    qp.progress = p->progress;
    qp.note = p->note;
    qp.user = p->user;
    if (!rc) rc = wt_write(w, &m, &qp, out_path, err);
    gguf_writer_free(w);
    wt_free(&m);
    return rc;
}
