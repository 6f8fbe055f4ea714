// A learner's beginning and its saved state (docs/FORMAT.md, "Learned state").
//
// From a model: the model's classifier, its n-gram table in f32, and the
// examples the trainer stored in the file (replay: training texts; guard:
// dev texts). From a state: the same model, plus what earlier updates
// changed. Either way every stored example's features are computed here
// once, and a state is checked as hostile input: it must belong to this
// model, and every count, index and shape must fit.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/mathx.h"
#include "learn.h"

#define STORED "slm360-encoder.learn."    // the trainer's examples in a model file
#define STATE "slm360-learned."           // a saved state's keys
#define STATE_ARCH "slm360-learned"
#define MAX_STORED (1 << 17)              // examples per buffer in a file

void slm_learner_free(slm_learner *l) {
    if (!l) return;
    for (int c = 0; l->bag_w && c < l->C; c++) free(l->bag_w[c]);
    free(l->bag_w);
    free(l->labels), free(l->w), free(l->b), free(l->table), free(l->changed), free(l->fw), free(l->fb), free(l->ft);
    learn_set_free(&l->replay);
    learn_set_free(&l->guard);
    free(l);
}

// FNV-1a over what a state depends on: the shapes, the classifier and the n-gram table as stored.
static uint32_t fnv(uint32_t h, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 16777619u;
    return h;
}

static uint32_t model_fingerprint(const slm_model *m) {
    int32_t shape[6] = {m->info.dim, m->ngram_dim, (int32_t)m->ngram.buckets, m->info.n_classes, m->ngram.word_max,
                        m->ngram.char_max * 100 + m->ngram.char_min};
    uint32_t h = fnv(2166136261u, shape, sizeof shape);
    const slm_weight *ws[3] = {&m->cls_w, &m->cls_b, &m->ngram_embd};
    for (int i = 0; i < 3; i++) {
        if (!ws[i]->data) continue;
        uint64_t bytes = ggml_row_size(ws[i]->type, (uint64_t)ws[i]->cols) * (uint64_t)(ws[i]->rows ? ws[i]->rows : 1);
        h = fnv(h, ws[i]->data, (size_t)bytes);
    }
    return h;
}

static void progress(const slm_learner *l, const char *stage, double f) {
    if (l->p.progress) l->p.progress(l->p.user, stage, f);
}

// The shapes, the model's classifier and table, no examples yet.
static slm_learner *learner_alloc(slm_context *enc, const slm_learn_params *p) {
    const slm_model *m = slm_context_model(enc);
    slm_learner *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->enc = enc, l->m = m;
    l->p = p ? *p : slm_learn_default_params();
    l->dim = m->info.dim, l->nd = m->ngram_dim, l->F = l->dim + l->nd;
    l->C = l->model_C = m->info.n_classes;
    l->buckets = l->nd ? m->ngram.buckets : 0;
    size_t nw = (size_t)l->C * l->F, nt = (size_t)l->buckets * l->nd;
    l->labels = malloc((size_t)l->C * MAX_LABEL);
    l->w = malloc(nw * sizeof(float)), l->fw = calloc(nw, sizeof(float));
    l->b = malloc((size_t)l->C * sizeof(float)), l->fb = calloc((size_t)l->C, sizeof(float));
    l->table = malloc((nt ? nt : 1) * sizeof(float)), l->ft = calloc(nt ? nt : 1, sizeof(float));
    l->changed = calloc(l->buckets ? l->buckets : 1, 1);
    l->bag_w = calloc((size_t)l->C, sizeof *l->bag_w);
    if (!l->labels || !l->w || !l->fw || !l->b || !l->fb || !l->table || !l->ft || !l->changed || !l->bag_w) {
        slm_learner_free(l);
        return NULL;
    }
    for (int c = 0; c < l->C; c++) snprintf(l->labels[c], MAX_LABEL, "%s", m->class_labels[c]);
    memcpy(l->w, m->cls_w.data, nw * sizeof(float));
    memcpy(l->b, m->cls_b.data, (size_t)l->C * sizeof(float));
    for (uint32_t r = 0; r < l->buckets; r++) forward_row(enc, &m->ngram_embd, (int)r, l->table + (size_t)r * l->nd);
    l->fingerprint = model_fingerprint(m);
    l->rng = tr_hash(l->p.seed ^ 0x1ea2a11ull);
    return l;
}

// An array key of n elements of type t; NULL if absent, *bad if present but wrong.
static const gguf_kv *array_kv(const gguf_file *g, const char *key, uint32_t t, int *bad) {
    const gguf_kv *kv = gguf_find(g, key);
    if (kv && (kv->type != GGUF_ARRAY || kv->arr_type != t || kv->arr_n > (1u << 24))) *bad = 1;
    return *bad ? NULL : kv;
}

static int32_t i32_at(const gguf_kv *kv, uint64_t i) {
    int32_t v;
    memcpy(&v, kv->arr_data + 4 * i, 4);
    return v;
}

// Examples from parallel arrays PREFIX.text (strings) and PREFIX.label (i32
// class indices) into s; the features are computed here. what names the
// source in messages.
static slm_status read_examples(slm_learner *l, const gguf_file *g, const char *prefix, example_set *s, const char *what,
                                double *done, double total, slm_error *err) {
    char kt[96], kl[96];
    snprintf(kt, sizeof kt, "%stext", prefix);
    snprintf(kl, sizeof kl, "%slabel", prefix);
    int bad = 0;
    const gguf_kv *texts = array_kv(g, kt, GGUF_STRING, &bad), *labels = array_kv(g, kl, GGUF_I32, &bad);
    if (bad || !texts != !labels || (texts && texts->arr_n != labels->arr_n))
        return slm_fail(err, SLM_ERR_BAD_MODEL, "%s: %s and %s must be arrays of texts and class indices of one length",
                        what, kt, kl);
    if (!texts) return SLM_OK;
    if (texts->arr_n > MAX_STORED)
        return slm_fail(err, SLM_ERR_BAD_MODEL, "%s: %llu stored examples in %s (at most %d)", what,
                        (unsigned long long)texts->arr_n, kt, MAX_STORED);
    for (uint64_t i = 0; i < texts->arr_n; i++) {
        int32_t y = i32_at(labels, i);
        gguf_str t = texts->strs[i];
        if (y < 0 || y >= l->C) return slm_fail(err, SLM_ERR_BAD_MODEL, "%s: %s[%llu] = %d is not a class", what, kl, (unsigned long long)i, y);
        if (memchr(t.ptr, 0, t.len)) return slm_fail(err, SLM_ERR_BAD_MODEL, "%s: %s[%llu] holds a NUL byte", what, kt, (unsigned long long)i);
        char *text = malloc(t.len + 1);
        if (!text) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
        memcpy(text, t.ptr, t.len);
        text[t.len] = 0;
        example e;
        slm_error e_err;
        slm_status st = learn_example_make(l, text, y, &e, &e_err);
        free(text);
        if (st) return slm_fail(err, st == SLM_ERR_INVALID_ARG ? SLM_ERR_BAD_MODEL : st, "%s: %s[%llu]: %s", what, kt,
                                (unsigned long long)i, e_err.message);
        if (learn_set_push(s, &e)) {
            learn_example_free(&e);
            return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
        }
        progress(l, "reading", ++*done / total);
    }
    s->seen = (uint32_t)s->n;
    return SLM_OK;
}

static uint64_t array_len(const gguf_file *g, const char *key) {
    const gguf_kv *kv = gguf_find(g, key);
    return kv && kv->type == GGUF_ARRAY ? kv->arr_n : 0;
}

// The stored examples of both buffers, with one progress count for all.
static slm_status read_both(slm_learner *l, const gguf_file *g, const char *prefix, const char *what, slm_error *err) {
    char r[96], gd[96], rt[128], gt[128];
    snprintf(r, sizeof r, "%sreplay.", prefix), snprintf(gd, sizeof gd, "%sguard.", prefix);
    snprintf(rt, sizeof rt, "%stext", r), snprintf(gt, sizeof gt, "%stext", gd);
    double done = 0, total = (double)(array_len(g, rt) + array_len(g, gt));
    slm_status st = read_examples(l, g, r, &l->replay, what, &done, total ? total : 1, err);
    return st ? st : read_examples(l, g, gd, &l->guard, what, &done, total ? total : 1, err);
}

// An F32 tensor of exactly rows x cols (rows 0: a vector); NULL with a message otherwise.
static const float *f32_tensor(const gguf_file *g, const char *name, int rows, int cols, int required, int *bad,
                               char *msg, size_t cap) {
    const gguf_tensor *t = gguf_find_tensor(g, name);
    if (!t) {
        if (required && !*bad) *bad = 1, snprintf(msg, cap, "tensor %s is missing", name);
        return NULL;
    }
    int ok = t->type == SLM_TYPE_F32 && t->ne[0] == (uint64_t)cols &&
             (rows ? t->n_dims == 2 && t->ne[1] == (uint64_t)rows : t->n_dims == 1);
    if (!ok && !*bad) *bad = 1, snprintf(msg, cap, "tensor %s must be F32 of %d x %d", name, rows ? rows : 1, cols);
    if (!ok) return NULL;
    const float *x = (const float *)t->data;
    size_t n = (size_t)(rows ? rows : 1) * cols, i = slm_first_nonfinite(x, n);
    if (i < n) {
        if (!*bad) *bad = 1, snprintf(msg, cap, "tensor %s holds %s at index %zu: the file is damaged", name, slm_nonfinite_name(x[i]), i);
        return NULL;
    }
    return x;
}

// Rows of the table given as an i32 array of indices and an F32 tensor of
// (n, nd): copied into dst, flagging them in changed (may be NULL).
static int read_rows(const slm_learner *l, const gguf_file *g, const char *key, const char *tensor, float *dst,
                     uint8_t *changed, char *msg, size_t cap) {
    int bad = 0;
    const gguf_kv *rows = array_kv(g, key, GGUF_I32, &bad);
    if (bad) return snprintf(msg, cap, "%s must be an array of row indices", key), -1;
    if (!rows || !rows->arr_n) return 0;
    const float *data = f32_tensor(g, tensor, (int)rows->arr_n, l->nd, 1, &bad, msg, cap);
    if (!data) return -1;
    for (uint64_t i = 0; i < rows->arr_n; i++) {
        int32_t r = i32_at(rows, i);
        if (r < 0 || (uint32_t)r >= l->buckets) return snprintf(msg, cap, "%s[%llu] = %d is not a row of the n-gram table", key, (unsigned long long)i, r), -1;
        memcpy(dst + (size_t)r * l->nd, data + i * l->nd, (size_t)l->nd * sizeof(float));
        if (changed) changed[r] = 1;
    }
    return 0;
}

// The taught classes' bag weights: their class indices as an i32 array and
// their weights as an F32 tensor of (n, buckets). -1 bad (msg says why), -2 out of memory.
static int read_bag(slm_learner *l, const gguf_file *g, char *msg, size_t cap) {
    int bad = 0;
    const gguf_kv *cls = array_kv(g, STATE "bag.classes", GGUF_I32, &bad);
    if (bad) return snprintf(msg, cap, STATE "bag.classes must be an array of class indices"), -1;
    if (!cls || !cls->arr_n) return 0;
    if (!l->buckets || cls->arr_n > (uint64_t)l->C)
        return snprintf(msg, cap, "bag weights of %llu classes (%d classes, %u n-gram buckets)", (unsigned long long)cls->arr_n, l->C, l->buckets), -1;
    const float *data = f32_tensor(g, "bag.weight", (int)cls->arr_n, (int)l->buckets, 1, &bad, msg, cap);
    if (!data) return -1;
    for (uint64_t i = 0; i < cls->arr_n; i++) {
        int32_t c = i32_at(cls, i);
        if (c < 0 || c >= l->C || l->bag_w[c])
            return snprintf(msg, cap, STATE "bag.classes[%llu] = %d is not a class, or a repeated one", (unsigned long long)i, c), -1;
        if (!(l->bag_w[c] = malloc((size_t)l->buckets * sizeof(float)))) return -2;
        memcpy(l->bag_w[c], data + i * l->buckets, (size_t)l->buckets * sizeof(float));
    }
    return 0;
}

static slm_status load_state(slm_learner *l, const void *data, size_t size, const char *what, slm_error *err) {
    gguf_file g;
    char msg[256] = "";
    int rc = gguf_parse(&g, data, size, msg, sizeof msg);
    if (rc == -2) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    if (rc) return slm_fail(err, SLM_ERR_BAD_MODEL, "%s: %s", what, msg);
    gguf_str arch;
    uint32_t fp = 0, C = 0, model_C = 0;
    slm_status st = SLM_OK;
    if (gguf_get_str(&g, "general.architecture", &arch) || arch.len != strlen(STATE_ARCH) ||
        memcmp(arch.ptr, STATE_ARCH, arch.len))
        st = slm_fail(err, SLM_ERR_BAD_MODEL, "%s: not a learned state (general.architecture is not %s)", what, STATE_ARCH);
    else if (gguf_get_u32(&g, STATE "fingerprint", &fp) || gguf_get_u32(&g, STATE "model_classes", &model_C) ||
             gguf_get_u32(&g, STATE "num_classes", &C))
        st = slm_fail(err, SLM_ERR_BAD_MODEL, "%s: fingerprint, model_classes and num_classes are required", what);
    else if (fp != l->fingerprint || model_C != (uint32_t)l->model_C)
        st = slm_fail(err, SLM_ERR_INVALID_ARG, "%s: this state was learnt by another model (fingerprint %08x, the model's %08x)",
                      what, fp, l->fingerprint);
    else if (C < model_C || C > MAX_CLASSES)
        st = slm_fail(err, SLM_ERR_BAD_MODEL, "%s: %u classes (the model has %u, at most %d)", what, C, model_C, MAX_CLASSES);
    int bad = 0;
    const gguf_kv *labels = st ? NULL : array_kv(&g, STATE "class_labels", GGUF_STRING, &bad);
    if (!st && (!labels || labels->arr_n != C))
        st = slm_fail(err, SLM_ERR_BAD_MODEL, "%s: " STATE "class_labels must hold %u labels", what, C);
    for (uint32_t c = 0; !st && c < C; c++) {
        gguf_str s = labels->strs[c];
        int ok = s.len > 0 && s.len < MAX_LABEL;
        for (uint64_t i = 0; ok && i < s.len; i++) ok = (unsigned char)s.ptr[i] >= 0x20;
        for (uint32_t k = 0; ok && k < c; k++) ok = strlen(l->labels[k]) != s.len || memcmp(l->labels[k], s.ptr, s.len);
        if (!ok) { st = slm_fail(err, SLM_ERR_BAD_MODEL, "%s: class label %u is empty, too long, a duplicate or has control bytes", what, c); break; }
        if (c >= (uint32_t)l->model_C) continue;
        if (strlen(l->labels[c]) != s.len || memcmp(l->labels[c], s.ptr, s.len))
            st = slm_fail(err, SLM_ERR_INVALID_ARG, "%s: class %u is '%.*s' here and '%s' in the model", what, c, (int)s.len, s.ptr, l->labels[c]);
    }
    if (!st && learn_grow_classes(l, (int)C)) st = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    if (!st) {
        for (uint32_t c = (uint32_t)l->model_C; c < C; c++)
            snprintf(l->labels[c], MAX_LABEL, "%.*s", (int)labels->strs[c].len, labels->strs[c].ptr);
        l->C = (int)C;
        const float *w = f32_tensor(&g, "cls.weight", (int)C, l->F, 1, &bad, msg, sizeof msg);
        const float *b = f32_tensor(&g, "cls.bias", 0, (int)C, 1, &bad, msg, sizeof msg);
        const float *fw = f32_tensor(&g, "fisher.cls.weight", (int)C, l->F, 1, &bad, msg, sizeof msg);
        const float *fb = f32_tensor(&g, "fisher.cls.bias", 0, (int)C, 1, &bad, msg, sizeof msg);
        if (bad) st = slm_fail(err, SLM_ERR_BAD_MODEL, "%s: %s", what, msg);
        else {
            memcpy(l->w, w, (size_t)C * l->F * sizeof(float));
            memcpy(l->b, b, C * sizeof(float));
            memcpy(l->fw, fw, (size_t)C * l->F * sizeof(float));
            memcpy(l->fb, fb, C * sizeof(float));
        }
    }
    if (!st && l->nd &&
        (read_rows(l, &g, STATE "ngram.rows", "ngram_embd.rows", l->table, l->changed, msg, sizeof msg) ||
         read_rows(l, &g, STATE "fisher.ngram.rows", "fisher.ngram.rows", l->ft, NULL, msg, sizeof msg)))
        st = slm_fail(err, SLM_ERR_BAD_MODEL, "%s: %s", what, msg);
    if (!st && (rc = read_bag(l, &g, msg, sizeof msg)))
        st = rc == -2 ? slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory") : slm_fail(err, SLM_ERR_BAD_MODEL, "%s: %s", what, msg);
    uint32_t seen_r = 0, seen_g = 0;
    if (!st) st = read_both(l, &g, STATE, what, err);
    if (!st && (gguf_get_u32(&g, STATE "replay.seen", &seen_r) < 0 || gguf_get_u32(&g, STATE "guard.seen", &seen_g) < 0))
        st = slm_fail(err, SLM_ERR_BAD_MODEL, "%s: replay.seen and guard.seen must be u32", what);
    if (!st) {
        l->replay.seen = seen_r > (uint32_t)l->replay.n ? seen_r : (uint32_t)l->replay.n;
        l->guard.seen = seen_g > (uint32_t)l->guard.n ? seen_g : (uint32_t)l->guard.n;
        l->rng = tr_hash(l->p.seed ^ ((uint64_t)l->replay.seen << 32 | l->guard.seen));
    }
    gguf_free(&g);
    return st;
}

slm_status slm_learner_new(slm_context *enc, const slm_learn_params *p, const void *state, size_t state_size,
                           slm_learner **out, slm_error *err) {
    *out = NULL;
    const slm_model *m = slm_context_model(enc);
    if (!m->info.is_encoder || !m->cls_w.data)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "only an encoder's classifier can learn; this model is a decoder");
    slm_learner *l = learner_alloc(enc, p);
    if (!l) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    slm_status st = state ? load_state(l, state, state_size, "learned state", err)
                          : read_both(l, &m->gguf, STORED, "model", err);
    if (!st && !state) st = learn_fisher_update(l, err);
    if (st) {
        slm_learner_free(l);
        return st;
    }
    *out = l;
    return SLM_OK;
}

slm_status slm_learner_load(slm_context *enc, const slm_learn_params *p, const char *path, slm_learner **out,
                            slm_error *err) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return slm_fail(err, SLM_ERR_IO, "%s: cannot open", path);
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            uint8_t *b = realloc(buf, cap *= 2);
            if (!b) free(buf);
            buf = b;
        }
    }
    int ioerr = ferror(f);
    fclose(f);
    if (!buf) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory reading %s", path);
    if (ioerr) { free(buf); return slm_fail(err, SLM_ERR_IO, "%s: read error", path); }
    slm_status st = slm_learner_new(enc, p, buf, n, out, err);
    free(buf);
    if (st && err) {
        char m[sizeof err->message];
        snprintf(m, sizeof m, "%s", err->message);
        if (!strncmp(m, "learned state: ", 15)) snprintf(err->message, sizeof err->message, "%s: %s", path, m + 15);
    }
    return st;
}

// ---- saving -----------------------------------------------------------------------------

// Texts and class indices of a buffer as parallel arrays.
static int write_examples(gguf_writer *w, const char *prefix, const example_set *s) {
    const char **texts = malloc((size_t)(s->n ? s->n : 1) * sizeof *texts);
    int32_t *labels = malloc((size_t)(s->n ? s->n : 1) * sizeof *labels);
    int rc = texts && labels ? 0 : -1;
    for (int i = 0; !rc && i < s->n; i++) texts[i] = s->ex[i].text, labels[i] = s->ex[i].label;
    char k[96];
    if (!rc) snprintf(k, sizeof k, "%stext", prefix), rc = gguf_w_arr_str(w, k, texts, NULL, (uint64_t)s->n);
    if (!rc) snprintf(k, sizeof k, "%slabel", prefix), rc = gguf_w_arr_i32(w, k, labels, (uint64_t)s->n);
    if (!rc) snprintf(k, sizeof k, "%sseen", prefix), rc = gguf_w_u32(w, k, s->seen);
    free(texts), free(labels);
    return rc;
}

// Rows of src (buckets, nd) for which keep(row) holds: their indices as an
// i32 array and their values as an F32 tensor (packed into *rows_out, which
// the caller frees after writing).
static int write_rows(gguf_writer *w, const slm_learner *l, const char *key, const char *tensor, const float *src,
                      const uint8_t *flags, float **rows_out, int32_t **idx_out) {
    int n = 0;
    for (uint32_t r = 0; r < l->buckets; r++) {
        int keep = 0;
        if (flags) keep = flags[r];
        else for (int j = 0; j < l->nd && !keep; j++) keep = src[(size_t)r * l->nd + j] != 0.0f;
        n += keep;
    }
    *rows_out = malloc((size_t)(n ? n : 1) * l->nd * sizeof(float));
    *idx_out = malloc((size_t)(n ? n : 1) * sizeof(int32_t));
    if (!*rows_out || !*idx_out) return -1;
    int k = 0;
    for (uint32_t r = 0; r < l->buckets; r++) {
        int keep = 0;
        if (flags) keep = flags[r];
        else for (int j = 0; j < l->nd && !keep; j++) keep = src[(size_t)r * l->nd + j] != 0.0f;
        if (!keep) continue;
        memcpy(*rows_out + (size_t)k * l->nd, src + (size_t)r * l->nd, (size_t)l->nd * sizeof(float));
        (*idx_out)[k++] = (int32_t)r;
    }
    uint64_t ne[2] = {(uint64_t)l->nd, (uint64_t)n};
    if (gguf_w_arr_i32(w, key, *idx_out, (uint64_t)n)) return -1;
    return n ? gguf_w_tensor(w, tensor, SLM_TYPE_F32, 2, ne, *rows_out, (uint64_t)n * l->nd * sizeof(float)) : 0;
}

// The classes that have bag weights: their indices and their weights packed
// into *packed (n, buckets), which the caller frees after writing.
static int write_bag(gguf_writer *w, const slm_learner *l, float **packed, int32_t **cls) {
    int n = 0;
    for (int c = 0; c < l->C; c++) n += l->bag_w[c] != NULL;
    if (!n) return 0;
    *packed = malloc((size_t)n * l->buckets * sizeof(float));
    *cls = malloc((size_t)n * sizeof(int32_t));
    if (!*packed || !*cls) return -1;
    for (int c = 0, k = 0; c < l->C; c++) {
        if (!l->bag_w[c]) continue;
        memcpy(*packed + (size_t)k * l->buckets, l->bag_w[c], (size_t)l->buckets * sizeof(float));
        (*cls)[k++] = c;
    }
    uint64_t ne[2] = {l->buckets, (uint64_t)n};
    return gguf_w_arr_i32(w, STATE "bag.classes", *cls, (uint64_t)n) ||
           gguf_w_tensor(w, "bag.weight", SLM_TYPE_F32, 2, ne, *packed, (uint64_t)n * l->buckets * sizeof(float));
}

// The state into a writer; bufs keep the packed rows alive until it is written.
static int build_state(const slm_learner *l, gguf_writer *w, void *bufs[6]) {
    const char **labels = malloc((size_t)l->C * sizeof *labels);
    if (!labels) return -1;
    for (int c = 0; c < l->C; c++) labels[c] = l->labels[c];
    uint64_t ne_w[2] = {(uint64_t)l->F, (uint64_t)l->C}, ne_b[1] = {(uint64_t)l->C};
    size_t wb = (size_t)l->C * l->F * sizeof(float), bb = (size_t)l->C * sizeof(float);
    int rc = gguf_w_str(w, "general.architecture", STATE_ARCH) || gguf_w_u32(w, STATE "fingerprint", l->fingerprint) ||
             gguf_w_u32(w, STATE "model_classes", (uint32_t)l->model_C) || gguf_w_u32(w, STATE "num_classes", (uint32_t)l->C) ||
             gguf_w_arr_str(w, STATE "class_labels", labels, NULL, (uint64_t)l->C) ||
             gguf_w_tensor(w, "cls.weight", SLM_TYPE_F32, 2, ne_w, l->w, wb) ||
             gguf_w_tensor(w, "cls.bias", SLM_TYPE_F32, 1, ne_b, l->b, bb) ||
             gguf_w_tensor(w, "fisher.cls.weight", SLM_TYPE_F32, 2, ne_w, l->fw, wb) ||
             gguf_w_tensor(w, "fisher.cls.bias", SLM_TYPE_F32, 1, ne_b, l->fb, bb) ||
             write_examples(w, STATE "replay.", &l->replay) || write_examples(w, STATE "guard.", &l->guard);
    free(labels);
    if (!rc && l->nd)
        rc = write_rows(w, l, STATE "ngram.rows", "ngram_embd.rows", l->table, l->changed, (float **)&bufs[0], (int32_t **)&bufs[1]) ||
             write_rows(w, l, STATE "fisher.ngram.rows", "fisher.ngram.rows", l->ft, NULL, (float **)&bufs[2], (int32_t **)&bufs[3]);
    return rc || write_bag(w, l, (float **)&bufs[4], (int32_t **)&bufs[5]);
}

slm_status slm_learner_save_memory(const slm_learner *l, void **data, size_t *size, slm_error *err) {
    gguf_writer *w = gguf_writer_new();
    void *bufs[6] = {0};
    int rc = !w || build_state(l, w, bufs) || gguf_writer_to_memory(w, data, size);
    gguf_writer_free(w);
    for (int i = 0; i < 6; i++) free(bufs[i]);
    return rc ? slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory saving the learned state") : SLM_OK;
}

slm_status slm_learner_save(const slm_learner *l, const char *path, slm_error *err) {
    gguf_writer *w = gguf_writer_new();
    void *bufs[6] = {0};
    char msg[320] = "";
    slm_status st = !w || build_state(l, w, bufs) ? slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory saving %s", path) : SLM_OK;
    if (!st && gguf_writer_write(w, path, msg, sizeof msg)) st = slm_fail(err, SLM_ERR_IO, "%s", msg);
    gguf_writer_free(w);
    for (int i = 0; i < 6; i++) free(bufs[i]);
    return st;
}
