// Loading a model: map the file, parse GGUF, read the config, bind every
// tensor to its place after checking its shape and type.
#include "model.h"
#include "models/models.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define ERRLEN 256

// ---- config ------------------------------------------------------------------

static int cfg_u32(const gguf_file *g, const char *arch, const char *key, int required, uint32_t def,
                   uint32_t lo, uint32_t hi, int *out, char *err, size_t errlen) {
    char full[160];
    snprintf(full, sizeof full, "%s.%s", arch, key);
    uint32_t v = def;
    int rc = gguf_get_u32(g, full, &v);
    if (rc < 0) { snprintf(err, errlen, "%s is not an unsigned integer", full); return -1; }
    if (rc > 0 && required) { snprintf(err, errlen, "missing %s", full); return -1; }
    if (v < lo || v > hi) { snprintf(err, errlen, "%s = %u is out of range [%u, %u]", full, v, lo, hi); return -1; }
    *out = (int)v;
    return 0;
}

int arch_u32(const gguf_file *g, const char *arch, const char *key, uint32_t def, uint32_t lo, uint32_t hi, int *out,
             char *err, size_t errlen) {
    return cfg_u32(g, arch, key, 0, def, lo, hi, out, err, errlen);
}

int arch_f32(const gguf_file *g, const char *arch, const char *key, float def, float lo, float hi, float *out,
             char *err, size_t errlen) {
    char full[160];
    snprintf(full, sizeof full, "%s.%s", arch, key);
    float v = def;
    if (gguf_get_f32(g, full, &v) < 0) { snprintf(err, errlen, "%s is not a float", full); return -1; }
    if (!(v >= lo && v <= hi)) { snprintf(err, errlen, "%s = %g is out of range [%g, %g]", full, v, lo, hi); return -1; }
    *out = v;
    return 0;
}

// The architectures slm360 runs, each a file of src/models/.
static const struct { const char *name; slm_arch_config_fn config; } archs[] = {
    {"llama", arch_llama},
    {"qwen2", arch_qwen2},
    {"qwen3", arch_qwen3},
    {"gemma3", arch_gemma3},
    {"slm360-encoder", arch_slm360_encoder},
};

// RoPE scaling: none, or linear (positions divided by the factor).
static int read_rope_scaling(const gguf_file *g, const char *arch, slm_arch *a, char *err, size_t errlen) {
    char key[160];
    gguf_str type = {"none", 4};
    snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
    if (gguf_get_str(g, key, &type) < 0) { snprintf(err, errlen, "%s is not a string", key); return -1; }
    int linear = type.len == 6 && !memcmp(type.ptr, "linear", 6);
    if (!linear && !(type.len == 4 && !memcmp(type.ptr, "none", 4))) {
        snprintf(err, errlen, "RoPE scaling '%.*s' is not supported (none, linear)", (int)(type.len < 40 ? type.len : 40),
                 type.ptr);
        return -1;
    }
    float factor = 0.0f;
    if (arch_f32(g, arch, "rope.scaling.factor", 0.0f, 0.0f, 1e6f, &factor, err, errlen)) return -1;
    if (factor == 0.0f && arch_f32(g, arch, "rope.scale_linear", 0.0f, 0.0f, 1e6f, &factor, err, errlen)) return -1;
    a->rope_freq_scale = factor > 0.0f ? 1.0f / factor : 1.0f;
    return 0;
}

int model_read_config(const gguf_file *g, slm_model_info *in, slm_arch *a, char *err, size_t errlen) {
    gguf_str s;
    if (gguf_get_str(g, "general.architecture", &s)) { snprintf(err, errlen, "missing general.architecture"); return -1; }
    char arch[64];
    snprintf(arch, sizeof arch, "%.*s", (int)(s.len < 63 ? s.len : 63), s.ptr);
    slm_arch_config_fn config = NULL;
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++)
        if (!strcmp(arch, archs[i].name)) config = archs[i].config;
    if (!config) {
        snprintf(err, errlen, "architecture '%s' is not supported (llama, qwen2, qwen3, gemma3, slm360-encoder)", arch);
        return -1;
    }
    memset(a, 0, sizeof *a);
    if (cfg_u32(g, arch, "context_length", 1, 0, 1, 1 << 20, &in->context_length, err, errlen) ||
        cfg_u32(g, arch, "embedding_length", 1, 0, 1, 1 << 16, &in->dim, err, errlen) ||
        cfg_u32(g, arch, "block_count", 1, 0, 1, SLM_MAX_LAYERS, &in->n_layers, err, errlen) ||
        cfg_u32(g, arch, "feed_forward_length", 1, 0, 1, 1 << 20, &in->ffn_dim, err, errlen) ||
        cfg_u32(g, arch, "attention.head_count", 1, 0, 1, 1024, &in->n_heads, err, errlen) ||
        cfg_u32(g, arch, "attention.head_count_kv", 0, (uint32_t)in->n_heads, 1, 1024, &in->n_kv_heads, err, errlen) ||
        arch_f32(g, arch, "attention.layer_norm_rms_epsilon", 1e-5f, 1e-12f, 0.1f, &in->norm_eps, err, errlen) ||
        arch_f32(g, arch, "rope.freq_base", 10000.0f, 1.0f, 1e9f, &in->rope_theta, err, errlen))
        return -1;
    if (in->n_heads % in->n_kv_heads) {
        snprintf(err, errlen, "head_count_kv %d does not divide head_count %d", in->n_kv_heads, in->n_heads);
        return -1;
    }
    // heads are width / heads wide unless the file says (Qwen3, Gemma 3)
    int by_width = in->dim % in->n_heads ? 0 : in->dim / in->n_heads, v_dim;
    if (cfg_u32(g, arch, "attention.key_length", 0, (uint32_t)by_width, 0, 1 << 12, &in->head_dim, err, errlen) ||
        cfg_u32(g, arch, "attention.value_length", 0, (uint32_t)in->head_dim, 0, 1 << 12, &v_dim, err, errlen))
        return -1;
    if (!in->head_dim) {
        snprintf(err, errlen, "embedding_length %d is not a multiple of head_count %d", in->dim, in->n_heads);
        return -1;
    }
    if (v_dim != in->head_dim) {
        snprintf(err, errlen, "value heads of %d and key heads of %d are not supported (only equal widths)", v_dim, in->head_dim);
        return -1;
    }
    if (in->head_dim % 2) { snprintf(err, errlen, "head dimension %d is odd (RoPE rotates pairs)", in->head_dim); return -1; }
    int rope_dims;
    if (cfg_u32(g, arch, "rope.dimension_count", 0, (uint32_t)in->head_dim, 1, 1 << 16, &rope_dims, err, errlen)) return -1;
    if (rope_dims != in->head_dim) {
        snprintf(err, errlen, "partial RoPE (%d of %d head dimensions) is not supported", rope_dims, in->head_dim);
        return -1;
    }
    in->qk_norm = 0;
    in->is_encoder = 0;
    if (read_rope_scaling(g, arch, a, err, errlen) || config(g, arch, in, a, err, errlen)) return -1;
    if (!a->rope_theta_swa) a->rope_theta_swa = in->rope_theta;
    return 0;
}

// The encoder's head: softmax temperature and the n-gram branch.
static int read_encoder_config(const gguf_file *g, slm_model *m, char *err, size_t errlen) {
    const char *arch = "slm360-encoder";
    int buckets = 0;
    slm_ngram_cfg *ng = &m->ngram;
    if (arch_f32(g, arch, "temperature", 1.0f, 1e-3f, 1e3f, &m->temperature, err, errlen) ||
        cfg_u32(g, arch, "ngram.buckets", 0, 0, 0, 1 << 24, &buckets, err, errlen))
        return -1;
    if (!buckets) return 0;
    if (cfg_u32(g, arch, "ngram.dim", 1, 0, 1, 1 << 16, &m->ngram_dim, err, errlen) ||
        cfg_u32(g, arch, "ngram.word_max", 0, 0, 0, 8, &ng->word_max, err, errlen) ||
        cfg_u32(g, arch, "ngram.char_max", 0, 0, 0, 16, &ng->char_max, err, errlen) ||
        cfg_u32(g, arch, "ngram.char_min", 0, 1, ng->char_max ? 1 : 0, ng->char_max ? (uint32_t)ng->char_max : 16,
                &ng->char_min, err, errlen))
        return -1;
    if (!ng->word_max && !ng->char_max) {
        snprintf(err, errlen, "%s.ngram.buckets is %d but there are neither word nor character n-grams", arch, buckets);
        return -1;
    }
    ng->buckets = (uint32_t)buckets;
    return 0;
}

// ---- tensors -----------------------------------------------------------------

typedef struct {
    slm_model *m;
    unsigned char *used;    // (n_tensors) which tensors were bound
    char *err;
    size_t errlen;
    slm_status status;
} binder;

// Type masks: bit t for ggml type t. Matrices may be any type slm_type lists.
#define T_F32 (1u << SLM_TYPE_F32)
#define T_MATRIX (T_F32 | 1u << SLM_TYPE_F16 | 1u << SLM_TYPE_BF16 | 1u << SLM_TYPE_Q4_0 | 1u << SLM_TYPE_Q4_1 | \
                  1u << SLM_TYPE_Q5_0 | 1u << SLM_TYPE_Q5_1 | 1u << SLM_TYPE_Q8_0 | 1u << SLM_TYPE_Q2_K | \
                  1u << SLM_TYPE_Q3_K | 1u << SLM_TYPE_Q4_K | 1u << SLM_TYPE_Q5_K | 1u << SLM_TYPE_Q6_K | \
                  1u << SLM_TYPE_IQ4_NL | 1u << SLM_TYPE_IQ4_XS)

static int bind_fail(binder *b, slm_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->err, b->errlen, fmt, ap);
    va_end(ap);
    b->status = st;
    return -1;
}

// Binds tensor `name` of shape (rows, cols) (rows == 0: a vector of cols).
// Absent and not required: w stays zeroed.
static int bind(binder *b, slm_weight *w, const char *name, int rows, int cols, unsigned types, int required) {
    const gguf_file *g = &b->m->gguf;
    const gguf_tensor *t = gguf_find_tensor(g, name);
    memset(w, 0, sizeof *w);
    if (!t) return required ? bind_fail(b, SLM_ERR_BAD_MODEL, "missing tensor '%s'", name) : 0;
    uint64_t want0 = (uint64_t)cols, want1 = rows ? (uint64_t)rows : 1;
    if (t->ne[0] != want0 || t->ne[1] != want1 || t->ne[2] != 1 || t->ne[3] != 1)
        return bind_fail(b, SLM_ERR_BAD_MODEL, "tensor '%s' has shape [%llu, %llu, %llu, %llu], expected [%d, %d]", name,
                         (unsigned long long)t->ne[0], (unsigned long long)t->ne[1], (unsigned long long)t->ne[2],
                         (unsigned long long)t->ne[3], cols, rows ? rows : 1);
    if (t->type > 31 || !((1u << t->type) & types))
        return bind_fail(b, SLM_ERR_UNSUPPORTED, "tensor '%s' has type %s, which slm360 does not run here (%s)", name,
                         ggml_type_name(t->type), types == T_F32 ? "F32 only" : "F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, "
                         "Q2_K to Q6_K, IQ4_NL, IQ4_XS");
    w->type = t->type;
    w->data = t->data;
    w->rows = rows ? rows : 1;
    w->cols = cols;
    b->used[t - g->tensors] = 1;
    return 0;
}

static int bind_all(binder *b) {
    slm_model *m = b->m;
    const slm_model_info *in = &m->info;
    const slm_arch *a = &m->arch_p;
    int kv_dim = in->n_kv_heads * in->head_dim, q_dim = m->q_dim = in->n_heads * in->head_dim;
    char name[96];
    if (bind(b, &m->tok_embd, "token_embd.weight", in->vocab_size, in->dim, T_MATRIX, 1) ||
        bind(b, &m->output_norm, "output_norm.weight", 0, in->dim, T_F32, 1) ||
        (a->rope_freqs && bind(b, &m->rope_freqs, "rope_freqs.weight", 0, in->head_dim / 2, T_F32, 0)))
        return -1;
    if (in->is_encoder) {
        if ((m->ngram_dim && bind(b, &m->ngram_embd, "ngram_embd.weight", (int)m->ngram.buckets, m->ngram_dim, T_MATRIX, 1)) ||
            bind(b, &m->cls_w, "cls.weight", in->n_classes, in->dim + m->ngram_dim, T_F32, 1) ||
            bind(b, &m->cls_b, "cls.bias", 0, in->n_classes, T_F32, 1))
            return -1;
    } else {
        if (bind(b, &m->output, "output.weight", in->vocab_size, in->dim, T_MATRIX, 0)) return -1;
        if (!m->output.data) m->output = m->tok_embd;
    }
    m->info.tied_embeddings = m->output.data == m->tok_embd.data;
    for (int l = 0; l < in->n_layers; l++) {
        slm_layer *L = &m->layers[l];
#define BIND(field, suffix, rows, cols, types, req) \
    (snprintf(name, sizeof name, "blk.%d." suffix, l), bind(b, &L->field, name, rows, cols, types, req))
        if (BIND(attn_norm, "attn_norm.weight", 0, in->dim, T_F32, 1) ||
            BIND(wq, "attn_q.weight", q_dim, in->dim, T_MATRIX, 1) ||
            BIND(wk, "attn_k.weight", kv_dim, in->dim, T_MATRIX, 1) ||
            BIND(wv, "attn_v.weight", kv_dim, in->dim, T_MATRIX, 1) ||
            BIND(wo, "attn_output.weight", in->dim, q_dim, T_MATRIX, 1) ||
            BIND(bq, "attn_q.bias", 0, q_dim, T_F32, a->qkv_bias) ||
            BIND(bk, "attn_k.bias", 0, kv_dim, T_F32, a->qkv_bias) ||
            BIND(bv, "attn_v.bias", 0, kv_dim, T_F32, a->qkv_bias) ||
            BIND(bo, "attn_output.bias", 0, in->dim, T_F32, 0) ||
            BIND(q_norm, "attn_q_norm.weight", 0, in->head_dim, T_F32, a->qk_norm) ||
            BIND(k_norm, "attn_k_norm.weight", 0, in->head_dim, T_F32, a->qk_norm) ||
            BIND(attn_post_norm, "post_attention_norm.weight", 0, in->dim, T_F32, a->post_norms) ||
            BIND(ffn_norm, "ffn_norm.weight", 0, in->dim, T_F32, 1) ||
            BIND(w_gate, "ffn_gate.weight", in->ffn_dim, in->dim, T_MATRIX, 1) ||
            BIND(w_up, "ffn_up.weight", in->ffn_dim, in->dim, T_MATRIX, 1) ||
            BIND(w_down, "ffn_down.weight", in->dim, in->ffn_dim, T_MATRIX, 1) ||
            BIND(ffn_post_norm, "post_ffw_norm.weight", 0, in->dim, T_F32, a->post_norms))
            return -1;
#undef BIND
        // a norm the architecture does not use would be ignored: refuse it
        if ((L->q_norm.data || L->k_norm.data) && !a->qk_norm)
            return bind_fail(b, SLM_ERR_UNSUPPORTED, "blk.%d has q/k norms, which %s does not use", l, m->arch);
        if ((L->attn_post_norm.data || L->ffn_post_norm.data) && !a->post_norms)
            return bind_fail(b, SLM_ERR_UNSUPPORTED, "blk.%d has post-norms, which %s does not use", l, m->arch);
    }
    const gguf_file *g = &m->gguf;
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (!b->used[i])
            return bind_fail(b, SLM_ERR_UNSUPPORTED, "unexpected tensor '%s' (a feature slm360 does not run)",
                             g->tensors[i].name);
    return 0;
}

// Parameter count, bytes and the dominant weight type, over bound tensors.
static void count_weights(slm_model *m) {
    const gguf_file *g = &m->gguf;
    uint64_t bytes_by_type[32] = {0};
    m->info.n_params = 0;
    m->info.weights_bytes = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        m->info.n_params += t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
        m->info.weights_bytes += t->size;
        if (t->type < 32) bytes_by_type[t->type] += t->size;
    }
    int best = 0;
    for (int t = 1; t < 32; t++)
        if (bytes_by_type[t] > bytes_by_type[best]) best = t;
    m->info.weight_type = (slm_type)best;
}

static char *str_dup(gguf_str s) {
    char *c = malloc(s.len + 1);
    if (c) { memcpy(c, s.ptr, s.len); c[s.len] = 0; }
    return c;
}

static slm_status read_class_labels(slm_model *m, char *err, size_t errlen) {
    const gguf_kv *kv = gguf_find(&m->gguf, "slm360-encoder.class_labels");
    int n = m->info.n_classes;
    if (!kv || kv->type != GGUF_ARRAY || kv->arr_type != GGUF_STRING || kv->arr_n != (uint64_t)n) {
        snprintf(err, errlen, "slm360-encoder.class_labels must be an array of %d strings", n);
        return SLM_ERR_BAD_MODEL;
    }
    if (!(m->class_labels = calloc((size_t)n, sizeof(char *)))) return SLM_ERR_OUT_OF_MEMORY;
    for (int i = 0; i < n; i++)
        if (!(m->class_labels[i] = str_dup(kv->strs[i]))) return SLM_ERR_OUT_OF_MEMORY;
    return SLM_OK;
}

// Everything after the bytes are in memory.
static slm_status load_parsed(slm_model *m, unsigned flags, char *err, size_t errlen) {
    int rc = gguf_parse(&m->gguf, m->bytes, m->size, err, errlen);
    if (rc == -2) return SLM_ERR_OUT_OF_MEMORY;
    if (rc) return SLM_ERR_BAD_MODEL;

    gguf_str s;
    m->arch = gguf_get_str(&m->gguf, "general.architecture", &s) ? calloc(1, 1) : str_dup(s);
    m->name = gguf_get_str(&m->gguf, "general.name", &s) ? calloc(1, 1) : str_dup(s);
    if (!m->arch || !m->name) return SLM_ERR_OUT_OF_MEMORY;
    m->info.architecture = m->arch;
    m->info.name = m->name;

    rc = vocab_load(&m->vocab, &m->gguf, err, errlen);
    if (rc == -2) return SLM_ERR_OUT_OF_MEMORY;
    if (rc) return strstr(err, "not supported") ? SLM_ERR_UNSUPPORTED : SLM_ERR_BAD_MODEL;
    m->info.vocab_size = vocab_size(m->vocab);
    m->info.bos_id = vocab_bos(m->vocab);
    m->info.eos_id = vocab_eos(m->vocab);
    if (flags & SLM_LOAD_VOCAB_ONLY) return SLM_OK;

    // before the config: vocabulary-only files need not have one
    if (m->gguf.n_tensors == 0) {
        snprintf(err, errlen, "the file has no weights (a vocabulary-only file?)");
        return SLM_ERR_BAD_MODEL;
    }
    if (model_read_config(&m->gguf, &m->info, &m->arch_p, err, errlen))
        return strstr(err, "not supported") ? SLM_ERR_UNSUPPORTED : SLM_ERR_BAD_MODEL;
    if (m->info.is_encoder && read_encoder_config(&m->gguf, m, err, errlen)) return SLM_ERR_BAD_MODEL;
    if (!(m->layers = calloc((size_t)m->info.n_layers, sizeof *m->layers))) return SLM_ERR_OUT_OF_MEMORY;
    binder b = {.m = m, .used = calloc(m->gguf.n_tensors, 1), .err = err, .errlen = errlen};
    if (!b.used) return SLM_ERR_OUT_OF_MEMORY;
    rc = bind_all(&b);
    free(b.used);
    if (rc) return b.status;
    if (m->info.is_encoder) {
        slm_status st = read_class_labels(m, err, errlen);
        if (st) return st;
    }
    m->info.has_weights = 1;
    count_weights(m);
    if (flags & SLM_LOAD_CHECK) {
        slm_error e;
        if (slm_model_check(m, &e)) {
            snprintf(err, errlen, "%.240s", e.message);
            return e.code;
        }
    }
    return SLM_OK;
}

static slm_status finish_load(slm_model *m, unsigned flags, const char *what, slm_model **out, slm_error *err) {
    char msg[ERRLEN] = "";
    slm_status st = load_parsed(m, flags, msg, sizeof msg);
    if (st) {
        slm_model_free(m);
        if (st == SLM_ERR_OUT_OF_MEMORY) return slm_fail(err, st, "%s: out of memory while loading", what);
        return slm_fail(err, st, "%s: %s", what, msg);
    }
    *out = m;
    return SLM_OK;
}

slm_status slm_model_load_file(const char *path, unsigned flags, slm_model **out, slm_error *err) {
    *out = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return slm_fail(err, SLM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return slm_fail(err, SLM_ERR_IO, "%s: not a regular file", path);
    }
    if (st.st_size < 8) {
        close(fd);
        return slm_fail(err, SLM_ERR_BAD_MODEL, "%s: not a GGUF file: too short (%lld bytes)", path, (long long)st.st_size);
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return slm_fail(err, SLM_ERR_IO, "%s: cannot map: %s", path, strerror(errno));
    slm_model *m = calloc(1, sizeof *m);
    if (!m) {
        munmap(map, (size_t)st.st_size);
        return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    }
    m->bytes = m->map = map;
    m->size = (size_t)st.st_size;
    return finish_load(m, flags, path, out, err);
}

slm_status slm_model_load_memory(void *data, size_t size, int take_ownership, unsigned flags, slm_model **out,
                                 slm_error *err) {
    *out = NULL;
    slm_model *m = calloc(1, sizeof *m);
    if (!m) {
        if (take_ownership) free(data);
        return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "model: out of memory");
    }
    m->bytes = data;
    m->size = size;
    if (take_ownership) m->owned = data;
    return finish_load(m, flags, "model", out, err);
}

void slm_model_free(slm_model *m) {
    if (!m) return;
    gguf_free(&m->gguf);
    vocab_free(m->vocab);
    if (m->class_labels)
        for (int i = 0; i < m->info.n_classes; i++) free(m->class_labels[i]);
    free(m->class_labels);
    free(m->layers);
    free(m->arch);
    free(m->name);
    if (m->map) munmap(m->map, m->size);
    free(m->owned);
    free(m);
}

void slm_model_get_info(const slm_model *m, slm_model_info *info) { *info = m->info; }

const char *slm_model_class_label(const slm_model *m, int i) {
    return m->class_labels && i >= 0 && i < m->info.n_classes ? m->class_labels[i] : NULL;
}

const slm_vocab *slm_model_vocab(const slm_model *m) { return m->vocab; }

// ---- tokenizer wrappers --------------------------------------------------------

int slm_tokenize(const slm_model *m, const char *text, size_t len, int add_bos, int32_t *ids, int max_ids,
                 slm_error *err) {
    int n = vocab_tokenize(m->vocab, text, len, add_bos, ids, max_ids);
    if (n < 0) slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "tokenize: out of memory");
    return n;
}

int slm_token_bytes(const slm_model *m, int32_t id, int32_t prev_id, char *buf, int cap) {
    return vocab_token_bytes(m->vocab, id, prev_id, buf, cap);
}

const char *slm_token_piece(const slm_model *m, int32_t id) { return vocab_piece(m->vocab, id); }
