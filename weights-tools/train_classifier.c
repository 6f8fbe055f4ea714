// slm train-classifier: TSV data in, an slm360-encoder GGUF out.
//
// Reads "text<TAB>label" files (errors name the file and line), tokenizes
// (no BOS, cut to the context) and hashes the n-gram features once, then
// trains with AdamW in shuffled mini-batches, evaluates dev after each epoch
// and writes the best-on-dev checkpoint each time dev accuracy improves, with
// its softmax temperature fitted on dev (temperature scaling). A NaN loss
// stops training and leaves the best checkpoint in place; so does an
// interruption.
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/model.h"
#include "train.h"
#include "wtools.h"

// ---- TSV ------------------------------------------------------------------------

void tr_tsv_free(tr_tsv *t) {
    for (int i = 0; i < t->n; i++) {
        free(t->text[i]);
        if (t->label) free(t->label[i]);
    }
    free(t->text);
    free(t->label);
    memset(t, 0, sizeof *t);
}

static int blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\v' && s[i] != '\f') return 0;
    return 1;
}

static char *dup_n(const char *s, size_t n) {
    char *c = malloc(n + 1);
    if (c) memcpy(c, s, n), c[n] = 0;
    return c;
}

slm_status tr_tsv_read(const char *path, tr_tsv *out, slm_error *err) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return slm_fail(err, SLM_ERR_IO, "%s: cannot open", path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, room = 0;
    slm_status rc = SLM_OK;
    while (!rc && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (blank(line, (size_t)len)) continue;   // empty lines are skipped
        if (memchr(line, 0, (size_t)len)) { rc = slm_fail(err, SLM_ERR_BAD_DATA, "%s:%d: NUL byte in the line", path, lineno); break; }
        char *tab = memchr(line, '\t', (size_t)len);
        if (!tab) { rc = slm_fail(err, SLM_ERR_BAD_DATA, "%s:%d: expected text<TAB>label, found no tab", path, lineno); break; }
        if (memchr(tab + 1, '\t', (size_t)(line + len - tab - 1))) {
            rc = slm_fail(err, SLM_ERR_BAD_DATA, "%s:%d: expected text<TAB>label, found more than one tab", path, lineno);
            break;
        }
        size_t tl = (size_t)(tab - line), ll = (size_t)(line + len - tab - 1);
        if (blank(line, tl)) { rc = slm_fail(err, SLM_ERR_BAD_DATA, "%s:%d: empty text", path, lineno); break; }
        while (ll > 0 && tab[ll] == ' ') ll--;   // trailing spaces of the label
        const char *lab = tab + 1;
        while (ll > 0 && *lab == ' ') lab++, ll--;
        if (!ll) { rc = slm_fail(err, SLM_ERR_BAD_DATA, "%s:%d: empty label", path, lineno); break; }
        if (out->n == room) {
            room = room ? 2 * room : 1024;
            char **t = realloc(out->text, (size_t)room * sizeof *t), **l = t ? realloc(out->label, (size_t)room * sizeof *l) : NULL;
            if (t) out->text = t;
            if (l) out->label = l;
            if (!t || !l) { rc = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory reading %s", path); break; }
        }
        out->text[out->n] = dup_n(line, tl);
        out->label[out->n] = dup_n(lab, ll);
        if (!out->text[out->n] || !out->label[out->n]) {
            free(out->text[out->n]);
            free(out->label[out->n]);
            rc = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory reading %s", path);
            break;
        }
        out->n++;
    }
    if (!rc && ferror(f)) rc = slm_fail(err, SLM_ERR_IO, "%s: read error", path);
    if (!rc && !out->n) rc = slm_fail(err, SLM_ERR_BAD_DATA, "%s: no examples", path);
    free(line);
    fclose(f);
    if (rc) tr_tsv_free(out);
    return rc;
}

// ---- examples -------------------------------------------------------------------

typedef struct {
    int n;
    int32_t **tok;
    int *ntok;
    uint32_t **bag;
    int *nbag;
    int *y;                 // label index, -1 unknown
    int truncated, unknown;
    int first_unknown;      // index of the first text with an unknown label
} dataset;

static void data_free(dataset *d) {
    for (int i = 0; i < d->n; i++) {
        if (d->tok) free(d->tok[i]);
        if (d->bag) free(d->bag[i]);
    }
    free(d->tok);
    free(d->ntok);
    free(d->bag);
    free(d->nbag);
    free(d->y);
    memset(d, 0, sizeof *d);
}

static int find_label(char **labels, int n, const char *s) {
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(labels[mid], s);
        if (!c) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

static slm_status encode(dataset *d, const tr_tsv *t, const slm_model *vm, const slm_ngram_cfg *ng, int max_len,
                         char **labels, int n_labels, slm_error *err) {
    memset(d, 0, sizeof *d);
    d->n = t->n;
    d->first_unknown = -1;
    d->tok = calloc((size_t)t->n, sizeof *d->tok);
    d->ntok = calloc((size_t)t->n, sizeof *d->ntok);
    d->bag = calloc((size_t)t->n, sizeof *d->bag);
    d->nbag = calloc((size_t)t->n, sizeof *d->nbag);
    d->y = calloc((size_t)t->n, sizeof *d->y);
    int32_t *ids = malloc((size_t)(max_len + 1) * sizeof *ids);
    slm_status rc = d->tok && d->ntok && d->bag && d->nbag && d->y && ids ? SLM_OK : SLM_ERR_OUT_OF_MEMORY;
    for (int i = 0; i < t->n && !rc; i++) {
        size_t len = strlen(t->text[i]);
        int n = slm_tokenize(vm, t->text[i], len, 0, ids, max_len + 1, err);
        if (n < 0) { rc = SLM_ERR_OUT_OF_MEMORY; break; }
        if (n > max_len) d->truncated++, n = max_len;
        if (!(d->tok[i] = malloc((size_t)(n ? n : 1) * sizeof(int32_t)))) { rc = SLM_ERR_OUT_OF_MEMORY; break; }
        memcpy(d->tok[i], ids, (size_t)n * sizeof(int32_t));
        d->ntok[i] = n;
        int nb = ng->buckets ? ngram_features(ng, t->text[i], len, NULL, 0) : 0;
        if (!(d->bag[i] = malloc((size_t)(nb ? nb : 1) * sizeof(uint32_t)))) { rc = SLM_ERR_OUT_OF_MEMORY; break; }
        if (nb) ngram_features(ng, t->text[i], len, d->bag[i], nb);
        d->nbag[i] = nb;
        d->y[i] = t->label ? find_label(labels, n_labels, t->label[i]) : -1;
        if (t->label && d->y[i] < 0 && d->unknown++ == 0) d->first_unknown = i;
    }
    free(ids);
    if (rc == SLM_ERR_OUT_OF_MEMORY) slm_fail(err, rc, "out of memory encoding the texts");
    return rc;
}

// Appends a text of k token ids to d, without n-grams or a label (for the
// masked LM); *room is the arrays' capacity.
static int data_push(dataset *d, int *room, const int32_t *ids, int k) {
    if (d->n == *room) {
        int r = *room ? 2 * *room : 1024;
        int32_t **tok = realloc(d->tok, (size_t)r * sizeof *tok);
        if (tok) d->tok = tok;
        int *ntok = tok ? realloc(d->ntok, (size_t)r * sizeof *ntok) : NULL;
        if (ntok) d->ntok = ntok;
        uint32_t **bag = ntok ? realloc(d->bag, (size_t)r * sizeof *bag) : NULL;
        if (bag) d->bag = bag;
        int *nbag = bag ? realloc(d->nbag, (size_t)r * sizeof *nbag) : NULL;
        if (nbag) d->nbag = nbag;
        int *y = nbag ? realloc(d->y, (size_t)r * sizeof *y) : NULL;
        if (y) d->y = y;
        if (!y) return -1;
        *room = r;
    }
    d->tok[d->n] = malloc((size_t)(k ? k : 1) * sizeof(int32_t));
    d->bag[d->n] = malloc(sizeof(uint32_t));   // batch_fill copies from it, data_free frees it
    if (!d->tok[d->n] || !d->bag[d->n]) return free(d->tok[d->n]), free(d->bag[d->n]), -1;
    memcpy(d->tok[d->n], ids, (size_t)k * sizeof(int32_t));
    d->ntok[d->n] = k, d->nbag[d->n] = 0, d->y[d->n] = -1;
    d->n++;
    return 0;
}

// The masked LM's texts: those of train, then every non-blank line of path,
// tokenized and cut into pieces of at most `chunk` tokens (pieces shorter
// than 4 are dropped). Lines needn't be valid UTF-8: the tokenizer takes any
// bytes.
static slm_status read_mlm_texts(dataset *d, const dataset *train, const char *path, const slm_model *vm, int chunk,
                                 slm_error *err) {
    memset(d, 0, sizeof *d);
    int room = 0;
    for (int i = 0; i < train->n; i++)
        if (data_push(d, &room, train->tok[i], train->ntok[i])) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    FILE *f = fopen(path, "rb");
    if (!f) return slm_fail(err, SLM_ERR_IO, "%s: cannot open", path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int32_t *ids = NULL;
    int ids_cap = 0, lineno = 0;
    slm_status rc = SLM_OK;
    while (!rc && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (blank(line, (size_t)len)) continue;
        if (len >= (1 << 28)) { rc = slm_fail(err, SLM_ERR_BAD_DATA, "%s:%d: line longer than 256 MB", path, lineno); break; }
        int n;
        while ((n = slm_tokenize(vm, line, (size_t)len, 0, ids, ids_cap, err)) > ids_cap) {   // room to spare, and again
            int32_t *p = realloc(ids, (size_t)n * 2 * sizeof *p);
            if (!p) break;
            ids = p, ids_cap = 2 * n;
        }
        if (n < 0 || n > ids_cap) { rc = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory reading %s", path); break; }
        for (int s = 0; chunk >= 4 && s + 4 <= n && !rc; s += chunk)
            if (data_push(d, &room, ids + s, n - s < chunk ? n - s : chunk))
                rc = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory reading %s", path);
    }
    if (!rc && ferror(f)) rc = slm_fail(err, SLM_ERR_IO, "%s: read error", path);
    free(line), free(ids);
    fclose(f);
    return rc;
}

// Sum of the k largest values of a[0..n): bounds the rows of any batch of k.
static long top_sum(const int *a, int n, int k) {
    if (n <= 0) return 0;
    int *c = malloc((size_t)(n ? n : 1) * sizeof *c);
    if (!c) return -1;
    memcpy(c, a, (size_t)n * sizeof *c);
    long s = 0;
    for (int i = 0; i < k && i < n; i++) {   // partial selection: k is small
        int best = i;
        for (int j = i + 1; j < n; j++)
            if (c[j] > c[best]) best = j;
        int tmp = c[i]; c[i] = c[best]; c[best] = tmp;
        s += c[i];
    }
    free(c);
    return s;
}

typedef struct {
    tr_batch b;
    int cap_N, cap_bag;
} batch_buf;

static int batch_alloc(batch_buf *bb, int B, int N, int bag) {
    bb->cap_N = N, bb->cap_bag = bag;
    bb->b.ids = malloc((size_t)(N ? N : 1) * sizeof(int32_t));
    bb->b.off = malloc((size_t)B * sizeof(int));
    bb->b.len = malloc((size_t)B * sizeof(int));
    bb->b.bag = malloc((size_t)(bag ? bag : 1) * sizeof(uint32_t));
    bb->b.boff = malloc((size_t)B * sizeof(int));
    bb->b.blen = malloc((size_t)B * sizeof(int));
    bb->b.y = malloc((size_t)B * sizeof(int));
    return bb->b.ids && bb->b.off && bb->b.len && bb->b.bag && bb->b.boff && bb->b.blen && bb->b.y ? 0 : -1;
}

static void batch_free(batch_buf *bb) {
    free(bb->b.ids); free(bb->b.off); free(bb->b.len); free(bb->b.bag); free(bb->b.boff); free(bb->b.blen); free(bb->b.y);
}

// The batch of examples idx[0..n), packed.
static void batch_fill(batch_buf *bb, const dataset *d, const int *idx, int n) {
    tr_batch *b = &bb->b;
    int N = 0, G = 0;
    for (int i = 0; i < n; i++) {
        int e = idx[i];
        b->off[i] = N, b->len[i] = d->ntok[e];
        memcpy(b->ids + N, d->tok[e], (size_t)d->ntok[e] * sizeof(int32_t));
        N += d->ntok[e];
        b->boff[i] = G, b->blen[i] = d->nbag[e];
        memcpy(b->bag + G, d->bag[e], (size_t)d->nbag[e] * sizeof(uint32_t));
        G += d->nbag[e];
        b->y[i] = d->y[e];
    }
    b->B = n, b->N = N;
}

// ---- evaluation and calibration ---------------------------------------------------

// logits (n, C) of every example, dropout off; and their pooled features
// [u; v] (n, dim + ngram_dim) if feat is not NULL.
static void eval_logits(tr_model *m, batch_buf *bb, int max_B, const dataset *d, float *logits, float *feat) {
    const tr_config *c = tr_model_config(m);
    int C = c->n_classes, FD = c->dim + c->ngram_dim, *idx = malloc((size_t)max_B * sizeof *idx);
    if (!idx) abort();
    for (int s = 0; s < d->n; s += max_B) {
        int n = d->n - s < max_B ? d->n - s : max_B;
        for (int i = 0; i < n; i++) idx[i] = s + i;
        batch_fill(bb, d, idx, n);
        const float *lg = tr_forward(m, &bb->b, NULL, 0);
        memcpy(logits + (size_t)s * C, lg, (size_t)n * C * sizeof(float));
        if (feat) memcpy(feat + (size_t)s * FD, tr_features(m), (size_t)n * FD * sizeof(float));
    }
    free(idx);
}

static int argmax(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

static float accuracy(const float *logits, const dataset *d, int C) {
    int ok = 0, n = 0;
    for (int i = 0; i < d->n; i++) {
        if (d->y[i] < 0) continue;
        n++;
        ok += argmax(logits + (size_t)i * C, C) == d->y[i];
    }
    return n ? (float)ok / n : 0.0f;
}

// Mean negative log-likelihood of the labels under softmax(logits / T).
static double nll_at(const float *logits, const dataset *d, int C, double T) {
    double sum = 0.0;
    int n = 0;
    for (int i = 0; i < d->n; i++) {
        if (d->y[i] < 0) continue;
        const float *l = logits + (size_t)i * C;
        double mx = l[argmax(l, C)] / T, z = 0.0;
        for (int c = 0; c < C; c++) z += exp(l[c] / T - mx);
        sum += log(z) + mx - l[d->y[i]] / T;
        n++;
    }
    return n ? sum / n : 0.0;
}

// ---- mixing the branches ---------------------------------------------------------------
//
// The classifier is the sum of two heads, z = W_u u + W_v v + b, each also
// trained alone (the auxiliary losses), and their sum is not always the best
// mix: on CLINC150 the n-gram head alone beats it. Dev picks weights
// z = a W_u u + c W_v v + b from a grid, and the file stores the scaled
// columns, so runtime and format stay as they are.

#define MIX_STEPS 16          // a, c in {0, 1/8, ..., 2}

// logits (n, C) of features feat (n, D + ND) with the branches weighted by mix.
static void mixed_logits(const float *feat, int n, const float *W, const float *b, int D, int ND, int C,
                         const float mix[2], float *logits) {
    int FD = D + ND;
    for (int i = 0; i < n; i++) {
        const float *f = feat + (size_t)i * FD;
        for (int k = 0; k < C; k++) {
            const float *w = W + (size_t)k * FD;
            float zu = 0.0f, zv = 0.0f;
            for (int j = 0; j < D; j++) zu += w[j] * f[j];
            for (int j = D; j < FD; j++) zv += w[j] * f[j];
            logits[(size_t)i * C + k] = mix[0] * zu + mix[1] * zv + b[k];
        }
    }
}

// The branch weights with the best dev accuracy (ties: the nearest to 1, 1);
// returns that accuracy. zu, zv: room for 2 (n, C).
static float best_mix(const float *feat, const dataset *d, const float *W, const float *b, int D, int ND, int C,
                      float *zu, float *zv, float mix[2]) {
    static const float none[2] = {1.0f, 0.0f}, only_v[2] = {0.0f, 1.0f};
    mixed_logits(feat, d->n, W, b, D, ND, C, none, zu);     // W_u u + b
    mixed_logits(feat, d->n, W, b, D, ND, C, only_v, zv);   // W_v v + b
    int best_ok = -1;
    float best_dist = 0.0f;
    for (int ia = 0; ia <= MIX_STEPS; ia++)
        for (int ic = 0; ic <= MIX_STEPS; ic++) {
            float a = 2.0f * ia / MIX_STEPS, cv = 2.0f * ic / MIX_STEPS, dist = fabsf(a - 1.0f) + fabsf(cv - 1.0f);
            if (a == 0.0f && cv == 0.0f) continue;
            int ok = 0;
            for (int i = 0; i < d->n; i++) {
                if (d->y[i] < 0) continue;
                const float *pu = zu + (size_t)i * C, *pv = zv + (size_t)i * C;
                int top = 0;
                float top_z = -INFINITY;
                for (int k = 0; k < C; k++) {
                    float z = a * (pu[k] - b[k]) + cv * (pv[k] - b[k]) + b[k];
                    if (z > top_z) top_z = z, top = k;
                }
                ok += top == d->y[i];
            }
            if (ok > best_ok || (ok == best_ok && dist < best_dist)) best_ok = ok, best_dist = dist, mix[0] = a, mix[1] = cv;
        }
    int n = 0;
    for (int i = 0; i < d->n; i++) n += d->y[i] >= 0;
    return n ? (float)best_ok / n : 0.0f;
}

// Temperature scaling: the T minimizing dev NLL, by golden-section search
// over log T in [log 0.05, log 20] (NLL is unimodal in T).
static float fit_temperature(const float *logits, const dataset *d, int C) {
    double a = log(0.05), b = log(20.0), g = 0.6180339887498949;
    double x1 = b - g * (b - a), x2 = a + g * (b - a);
    double f1 = nll_at(logits, d, C, exp(x1)), f2 = nll_at(logits, d, C, exp(x2));
    for (int it = 0; it < 60; it++) {
        if (f1 < f2) b = x2, x2 = x1, f2 = f1, x1 = b - g * (b - a), f1 = nll_at(logits, d, C, exp(x1));
        else a = x1, x1 = x2, f1 = f2, x2 = a + g * (b - a), f2 = nll_at(logits, d, C, exp(x2));
    }
    return (float)exp((a + b) / 2);
}

static float max_prob(const float *l, int C, float T) {
    float mx = l[argmax(l, C)], z = 0.0f;
    for (int c = 0; c < C; c++) z += expf((l[c] - mx) / T);
    return 1.0f / z;
}

// ---- checkpoints ------------------------------------------------------------------

// Up to k examples of every class of d, in a seeded random order, as the
// parallel arrays PREFIX.text and PREFIX.label (class indices): what
// on-device learning starts its replay and held-out buffers from.
static int write_examples(gguf_writer *w, const char *prefix, const dataset *d, char *const *texts, int n_classes,
                          int k, uint64_t seed) {
    int *idx = malloc((size_t)(d->n ? d->n : 1) * sizeof *idx), *taken = calloc((size_t)n_classes, sizeof *taken);
    const char **pick = malloc((size_t)(d->n ? d->n : 1) * sizeof *pick);
    int32_t *lab = malloc((size_t)(d->n ? d->n : 1) * sizeof *lab);
    int rc = idx && taken && pick && lab ? 0 : -1, n = 0;
    for (int i = 0; !rc && i < d->n; i++) idx[i] = i;
    for (int i = d->n - 1; !rc && i > 0; i--) {
        int j = (int)(tr_hash(seed + (uint64_t)i) % (uint64_t)(i + 1)), t = idx[i];
        idx[i] = idx[j], idx[j] = t;
    }
    for (int i = 0; !rc && i < d->n; i++) {
        int e = idx[i], y = d->y[e];
        if (y < 0 || taken[y] >= k) continue;
        taken[y]++;
        pick[n] = texts[e], lab[n++] = y;
    }
    char key[96];
    if (!rc) snprintf(key, sizeof key, "%s.text", prefix), rc = gguf_w_arr_str(w, key, pick, NULL, (uint64_t)n);
    if (!rc) snprintf(key, sizeof key, "%s.label", prefix), rc = gguf_w_arr_i32(w, key, lab, (uint64_t)n);
    free(idx), free(taken), free(pick), free(lab);
    return rc;
}

typedef struct {
    const dataset *train, *dev;
    char *const *train_text, *const *dev_text;
    int replay_per_class, guard_per_class;
    uint64_t seed;
} stored_examples;

static slm_status write_checkpoint(tr_model *m, const char *path, const slm_model *vm, char **labels, float T,
                                   const float mix[2], const stored_examples *se, slm_error *err) {
    const tr_config *c = tr_model_config(m);
    wt_model wm = {.name = "slm360-nano", .class_labels = (const char *const *)labels, .temperature = T,
                   .ngram = c->ngram, .ngram_dim = c->ngram_dim};
    wm.cfg = (slm_model_info){.is_encoder = 1, .dim = c->dim, .n_layers = c->n_layers, .n_heads = c->n_heads,
                              .n_kv_heads = c->n_kv_heads, .head_dim = c->head_dim, .ffn_dim = c->ffn,
                              .vocab_size = c->vocab, .context_length = c->ctx, .rope_theta = c->theta,
                              .norm_eps = c->eps, .n_classes = c->n_classes};
    int n_t;
    const tr_tensor *t = tr_model_tensors(m, &n_t);
    const float *params = tr_model_params(m, NULL);
    slm_status rc = SLM_OK;
    for (int i = 0; i < n_t && !rc; i++) {
        float *d = wt_add(&wm, t[i].name, t[i].rows, t[i].cols);
        if (!d) rc = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory writing %s", path);
        else memcpy(d, params + t[i].off, (size_t)(t[i].rows ? t[i].rows : 1) * t[i].cols * sizeof(float));
        if (d && !strcmp(t[i].name, "cls.weight"))   // the branches' mix, in the columns
            for (int r = 0; r < t[i].rows; r++)
                for (int j = 0; j < t[i].cols; j++) d[(size_t)r * t[i].cols + j] *= mix[j < c->dim ? 0 : 1];
    }
    gguf_writer *w = rc ? NULL : gguf_writer_new();
    if (!rc && (!w || wt_copy_tokenizer(w, &vm->gguf) ||
                write_examples(w, "slm360-encoder.learn.replay", se->train, se->train_text, c->n_classes,
                               se->replay_per_class, se->seed) ||
                write_examples(w, "slm360-encoder.learn.guard", se->dev, se->dev_text, c->n_classes, se->guard_per_class,
                               se->seed + 1)))
        rc = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory writing %s", path);
    slm_quantize_params qp = slm_quantize_default_params(SLM_TYPE_F32);
    if (!rc) rc = wt_write(w, &wm, &qp, path, err);
    gguf_writer_free(w);
    wt_free(&wm);
    return rc;
}

// ---- the loop ----------------------------------------------------------------------

tr_classifier_params tr_classifier_default_params(void) {
    tr_classifier_params p = {0};
    p.preset = "slm360-nano";
    p.epochs = 20;
    p.mlm_mask = 0.15f;
    p.batch = 32;
    p.threads = 1;
    p.max_len = 512;
    p.seed = 1;
    p.optim = (tr_optim_cfg){.lr = 1e-3f, .min_lr = 1e-5f, .beta1 = 0.9f, .beta2 = 0.98f, .eps = 1e-8f,
                             .weight_decay = 0.01f, .clip = 1.0f, .warmup = 0, .schedule = TR_COSINE,
                             .decay_frac = 0.2f, .lr_mult = {1.0f, 30.0f, 3.0f}};
    p.opts = (tr_train_opts){.drop_resid = 0.1f, .drop_embd = 0.1f, .drop_feat = 0.1f, .label_smoothing = 0.1f,
                             .aux_weight = 0.5f};
    p.ngram = (slm_ngram_cfg){.buckets = 16384, .word_max = 2, .char_min = 2, .char_max = 5};
    p.ngram_dim = 64;
    p.transformer = 1;
    p.replay_per_class = 20;
    p.guard_per_class = 10;
    return p;
}

static void logf_(const tr_classifier_params *p, int transient, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void logf_(const tr_classifier_params *p, int transient, const char *fmt, ...) {
    if (!p->log) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    p->log(p->user, line, transient);
}

static void fmt_time(char *buf, size_t n, double s) {
    if (s >= 3600) snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
    else if (s >= 60) snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else snprintf(buf, n, "%.0fs", s);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int preset_config(const char *name, tr_config *c) {
    if (!strcmp(name, "slm360-nano"))
        *c = (tr_config){.vocab = 8192, .dim = 256, .n_layers = 6, .n_heads = 8, .n_kv_heads = 4, .ffn = 682, .ctx = 512,
                         .eps = 1e-5f, .theta = 10000.0f};
    else if (!strcmp(name, "test-tiny"))   // for tests: the same architecture, tiny
        *c = (tr_config){.vocab = 512, .dim = 32, .n_layers = 2, .n_heads = 4, .n_kv_heads = 2, .ffn = 48, .ctx = 64,
                         .eps = 1e-5f, .theta = 10000.0f};
    else return -1;
    c->head_dim = c->dim / c->n_heads;
    return 0;
}

// The tokenizer: from a file, or a stand-in built from the training texts.
static slm_status load_vocab(const tr_classifier_params *p, const tr_tsv *train, int vocab, slm_model **vm, slm_error *err) {
    if (p->vocab_path) return slm_model_load_file(p->vocab_path, SLM_LOAD_VOCAB_ONLY, vm, err);
    gguf_writer *w = gguf_writer_new();
    if (!w) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    slm_status rc = tr_prefix_vocab(w, train->text, train->n, vocab, err);
    char path[] = "/tmp/slm-vocab-XXXXXX", msg[256];
    int fd = rc ? -1 : mkstemp(path);
    if (!rc && fd < 0) rc = slm_fail(err, SLM_ERR_IO, "cannot create a temporary file");
    if (fd >= 0) close(fd);
    if (!rc && gguf_writer_write(w, path, msg, sizeof msg)) rc = slm_fail(err, SLM_ERR_IO, "%s", msg);
    gguf_writer_free(w);
    if (!rc) rc = slm_model_load_file(path, SLM_LOAD_VOCAB_ONLY, vm, err);
    if (fd >= 0) unlink(path);
    return rc;
}

// Fisher-Yates over order (n), from the generator state *rng.
static void shuffle(int *order, int n, uint64_t *rng) {
    for (int i = n - 1; i > 0; i--) {
        *rng += 0x9e3779b97f4a7c15ull;
        int j = (int)(tr_hash(*rng) % (uint64_t)(i + 1)), tmp = order[i];
        order[i] = order[j], order[j] = tmp;
    }
}

// Masked-LM pretraining of the transformer on the texts of d (the training
// texts, and any plain text), before the classifier: in every batch a share
// p->mlm_mask of the tokens (at least one) is to be predicted from the others, BERT's way (of those, 80 % replaced by
// the mask token, 10 % by a random token, 10 % kept). The mask token is BOS,
// which an encoder's input never holds. Its own AdamW state and schedule
// (warmup, cosine); the classifier phase starts afresh.
static slm_status pretrain_mlm(const tr_classifier_params *p, tr_model *m, const dataset *d, batch_buf *bb, int mask_id,
                               slm_error *err) {
    const tr_config *c = tr_model_config(m);
    int B = p->batch, steps_per_epoch = (d->n + B - 1) / B, total = steps_per_epoch * p->mlm_epochs;
    tr_optim_cfg oc = p->optim;
    oc.total = total, oc.warmup = total / 20 > 1 ? total / 20 : 1, oc.schedule = TR_COSINE;
    size_t n_params;
    float *params = tr_model_params(m, &n_params);
    int n_t;
    const tr_tensor *tens = tr_model_tensors(m, &n_t);
    tr_optim *opt = tr_optim_new(&oc, n_params);
    int32_t *pos = malloc((size_t)bb->cap_N * sizeof *pos), *target = malloc((size_t)bb->cap_N * sizeof *target);
    int *order = malloc((size_t)d->n * sizeof *order);
    slm_status rc = opt && pos && target && order ? SLM_OK : slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    uint64_t rng = tr_hash(p->seed ^ 0x3a5cull);
    double t0 = slm_now_ms(), loss_sum = 0.0;
    int loss_n = 0;
    for (int i = 0; !rc && i < d->n; i++) order[i] = i;
    for (int ep = 0, step = 0; ep < p->mlm_epochs && !rc; ep++) {
        shuffle(order, d->n, &rng);
        for (int s = 0; s < steps_per_epoch && !rc; s++, step++) {
            if (p->interrupted && *p->interrupted) {
                rc = slm_fail(err, SLM_ERR_ABORTED, "interrupted during masked-LM pretraining: nothing written");
                break;
            }
            int n = d->n - s * B < B ? d->n - s * B : B, M = 0;
            batch_fill(bb, d, order + s * B, n);
            tr_batch *b = &bb->b;
            for (int t = 0; t < b->N; t++) {
                rng += 0x9e3779b97f4a7c15ull;
                uint64_t r = tr_hash(rng);
                if ((float)(r >> 40) / (float)(1u << 24) >= p->mlm_mask && !(t == b->N - 1 && M == 0)) continue;
                pos[M] = t, target[M++] = b->ids[t];
                int how = (int)((r >> 8) % 10);
                if (how < 8) b->ids[t] = mask_id;
                else if (how == 8) b->ids[t] = (int32_t)((r >> 16) % (uint64_t)c->vocab);
            }
            uint64_t seed = tr_hash(p->seed * 0x100000001b3ull + (uint64_t)step + 0x7777);
            float loss = 0.0f;
            if ((rc = tr_mlm_backward(m, b, pos, target, M, &p->opts, seed, &loss, err))) break;
            double gnorm = tr_clip_grads(tr_model_grads(m), n_params, oc.clip);
            if (!isfinite(loss) || !isfinite(gnorm)) {
                rc = slm_fail(err, SLM_ERR_ABORTED, "masked-LM pretraining diverged at epoch %d, step %d (loss %g): nothing "
                              "written; try a lower learning rate", ep + 1, step + 1, loss);
                break;
            }
            tr_adamw_step(opt, tr_model_pool(m), tens, n_t, params, tr_model_grads(m), step);
            tr_model_sync(m);
            loss_sum += loss, loss_n++;
            if (p->log && (s % 20 == 19 || s + 1 == steps_per_epoch)) {
                double el = slm_now_ms() - t0, left = el / (step + 1) * (total - step - 1) / 1000.0;
                char tl[32];
                fmt_time(tl, sizeof tl, left);
                logf_(p, s + 1 < steps_per_epoch, "masked LM: epoch %d/%d  step %d/%d  loss %.4f  lr %.2e  %s left", ep + 1,
                      p->mlm_epochs, step + 1, total, loss_sum / loss_n, tr_lr_at(&oc, step), tl);
                if (s + 1 == steps_per_epoch) loss_sum = 0.0, loss_n = 0;
            }
        }
    }
    tr_optim_free(opt);
    free(pos), free(target), free(order);
    return rc;
}

slm_status tr_train_classifier(const tr_classifier_params *p, tr_classifier_result *res, slm_error *err) {
    memset(res, 0, sizeof *res);
    tr_config cfg;
    if (!p->preset || preset_config(p->preset, &cfg))
        return slm_fail(err, SLM_ERR_INVALID_ARG, "unknown preset '%s' (slm360-nano)", p->preset ? p->preset : "");
    if (p->epochs < 1 || p->batch < 1 || p->max_len < 1)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "epochs, batch and max length must be positive");
    double t0 = slm_now_ms();
    tr_tsv train = {0}, dev = {0}, oos = {0};
    dataset dtr = {0}, ddev = {0}, doos = {0}, dmlm = {0};   // dmlm: the training texts and p->mlm_text_path's
    slm_model *vm = NULL;
    char **labels = NULL;
    tr_model *m = NULL;
    tr_optim *opt = NULL;
    batch_buf bb = {0};
    float *dev_logits = NULL, *best_params = NULL, *dev_feat = NULL, *zu = NULL, *zv = NULL;
    int *order = NULL, n_labels = 0;
    slm_status rc = tr_tsv_read(p->train_path, &train, err);
    if (!rc) rc = tr_tsv_read(p->dev_path, &dev, err);
    if (!rc && p->oos_path) rc = tr_tsv_read(p->oos_path, &oos, err);
    if (!rc) rc = load_vocab(p, &train, cfg.vocab, &vm, err);
    if (rc) goto done;
    if (vm->info.vocab_size != cfg.vocab)
        logf_(p, 0, "note: the vocabulary has %d tokens (the %s preset: %d); the model follows the vocabulary",
              vm->info.vocab_size, p->preset, cfg.vocab);
    cfg.vocab = vm->info.vocab_size;

    // labels: the training set's, sorted
    if (!(labels = malloc((size_t)train.n * sizeof *labels))) { rc = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory"); goto done; }
    memcpy(labels, train.label, (size_t)train.n * sizeof *labels);
    qsort(labels, (size_t)train.n, sizeof *labels, cmp_str);
    for (int i = 0; i < train.n; i++)
        if (!n_labels || strcmp(labels[n_labels - 1], labels[i])) labels[n_labels++] = labels[i];
    if (n_labels < 2) { rc = slm_fail(err, SLM_ERR_BAD_DATA, "%s: a classifier needs at least 2 labels, found %d", p->train_path, n_labels); goto done; }

    cfg.n_classes = n_labels;
    cfg.ngram = p->ngram;
    cfg.ngram_dim = p->ngram.buckets ? p->ngram_dim : 0;
    cfg.transformer = p->transformer;
    int ctx = p->max_len < cfg.ctx ? p->max_len : cfg.ctx;
    if ((rc = encode(&dtr, &train, vm, &cfg.ngram, ctx, labels, n_labels, err)) ||
        (rc = encode(&ddev, &dev, vm, &cfg.ngram, ctx, labels, n_labels, err)))
        goto done;
    if (p->oos_path) {
        for (int i = 0; i < oos.n; i++) free(oos.label[i]);
        free(oos.label);
        oos.label = NULL;
        if ((rc = encode(&doos, &oos, vm, &cfg.ngram, ctx, labels, n_labels, err))) goto done;
    }
    if (dtr.truncated || ddev.truncated)
        logf_(p, 0, "note: %d training and %d dev texts are longer than %d tokens: cut to their first %d", dtr.truncated,
              ddev.truncated, ctx, ctx);
    if (ddev.unknown)
        logf_(p, 0, "note: %s: %d texts have labels the training data lacks (first: line %d, '%s'): left out of dev accuracy",
              p->dev_path, ddev.unknown, ddev.first_unknown + 1, dev.label[ddev.first_unknown]);
    if (ddev.unknown == ddev.n) { rc = slm_fail(err, SLM_ERR_BAD_DATA, "%s: no text has a label of the training data", p->dev_path); goto done; }

    // buffers sized for the largest possible batch
    int B = p->batch, max_len = 1;
    for (int i = 0; i < dtr.n; i++) max_len = dtr.ntok[i] > max_len ? dtr.ntok[i] : max_len;
    for (int i = 0; i < ddev.n; i++) max_len = ddev.ntok[i] > max_len ? ddev.ntok[i] : max_len;
    for (int i = 0; i < doos.n; i++) max_len = doos.ntok[i] > max_len ? doos.ntok[i] : max_len;
    if (p->mlm_text_path && p->mlm_epochs > 0 && cfg.transformer) {
        if ((rc = read_mlm_texts(&dmlm, &dtr, p->mlm_text_path, vm, max_len, err))) goto done;
        logf_(p, 0, "masked LM: %d training texts and %d pieces of %s (at most %d tokens each)", dtr.n, dmlm.n - dtr.n,
              p->mlm_text_path, max_len);
    }
    long maxN = top_sum(dtr.ntok, dtr.n, B), maxG = top_sum(dtr.nbag, dtr.n, B);
    long mN2 = top_sum(ddev.ntok, ddev.n, B), mG2 = top_sum(ddev.nbag, ddev.n, B);
    long mN3 = top_sum(doos.ntok, doos.n, B), mG3 = top_sum(doos.nbag, doos.n, B);
    long mN4 = top_sum(dmlm.ntok, dmlm.n, B);
    maxN = maxN > mN2 ? maxN : mN2, maxN = maxN > mN3 ? maxN : mN3, maxN = maxN > mN4 ? maxN : mN4;
    maxG = maxG > mG2 ? maxG : mG2, maxG = maxG > mG3 ? maxG : mG3;
    if (maxN < max_len) maxN = max_len;
    if (!(m = tr_model_new(&cfg, B, (int)maxN, max_len, p->threads, p->kernels, err))) { rc = err ? err->code : SLM_ERR_OUT_OF_MEMORY; goto done; }
    if (batch_alloc(&bb, B, (int)maxN, (int)maxG)) { rc = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory"); goto done; }
    tr_model_init(m, p->seed);
    size_t n_params;
    float *params = tr_model_params(m, &n_params);
    int n_t;
    const tr_tensor *tens = tr_model_tensors(m, &n_t);
    if (!cfg.transformer) {   // the n-gram branch alone: the optimizer skips the unused transformer (all first)
        int first = 0;
        while (first < n_t && tens[first].group == 0) first++;
        tens += first, n_t -= first;
    }
    int steps_per_epoch = (dtr.n + B - 1) / B, total = steps_per_epoch * p->epochs;
    if (p->max_steps > 0 && p->max_steps < total) total = p->max_steps;
    tr_optim_cfg oc = p->optim;
    oc.total = total;
    if (oc.warmup <= 0) oc.warmup = steps_per_epoch / 2 > 1 ? steps_per_epoch / 2 : 1;
    if (oc.warmup > total) oc.warmup = total;
    int C = n_labels;
    int mixing = cfg.transformer && cfg.ngram_dim > 0;   // two branches to mix
    const tr_weights *tw = tr_model_weights(m);
    float best_mix_w[2] = {1.0f, 1.0f};
    if (!(opt = tr_optim_new(&oc, n_params)) || !(order = malloc((size_t)dtr.n * sizeof *order)) ||
        !(dev_logits = malloc((size_t)ddev.n * C * sizeof(float))) || !(best_params = malloc(n_params * sizeof(float))) ||
        !(dev_feat = malloc((size_t)ddev.n * (cfg.dim + cfg.ngram_dim) * sizeof(float))) ||
        !(zu = malloc((size_t)ddev.n * C * sizeof(float))) || !(zv = malloc((size_t)ddev.n * C * sizeof(float)))) {
        rc = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    logf_(p, 0, "train %d texts, dev %d, %d labels; %zu parameters (n-grams: %u x %d); %d epochs of %d steps, %d thread%s",
          dtr.n, ddev.n, C, n_params, cfg.ngram.buckets, cfg.ngram_dim, p->epochs, steps_per_epoch, p->threads,
          p->threads == 1 ? "" : "s");
    if (p->mlm_epochs > 0 && cfg.transformer) {
        int mask_id = vm->info.bos_id >= 0 && vm->info.bos_id < cfg.vocab ? vm->info.bos_id : 0;
        if ((rc = pretrain_mlm(p, m, dmlm.n ? &dmlm : &dtr, &bb, mask_id, err))) goto done;
    }

    uint64_t rng = tr_hash(p->seed ^ 0xda7aull);
    for (int i = 0; i < dtr.n; i++) order[i] = i;
    int step = 0, have_best = 0, stop = 0;
    float best_acc = -1.0f, best_T = 1.0f;
    double best_nll = INFINITY;
    double train_ms = 0.0, loss_sum = 0.0;
    int loss_n = 0;
    for (int ep = 0; ep < p->epochs && !stop; ep++) {
        shuffle(order, dtr.n, &rng);
        double ep_t0 = slm_now_ms();
        for (int s = 0; s < steps_per_epoch && step < total; s++, step++) {
            if (p->interrupted && *p->interrupted) { stop = 2; break; }
            int n = dtr.n - s * B < B ? dtr.n - s * B : B;
            batch_fill(&bb, &dtr, order + s * B, n);
            uint64_t seed = tr_hash(p->seed * 0x100000001b3ull + (uint64_t)step);
            tr_forward(m, &bb.b, &p->opts, seed);
            float loss = tr_backward(m, &bb.b, &p->opts, seed);
            if (p->nan_at_step > 0 && step + 1 == (int)p->nan_at_step) loss = NAN;
            double gnorm = tr_clip_grads(tr_model_grads(m), n_params, oc.clip);
            if (!isfinite(loss) || !isfinite(gnorm)) {
                res->diverged = 1;
                if (have_best)
                    rc = slm_fail(err, SLM_ERR_ABORTED,
                                  "training diverged at epoch %d, step %d (loss %g, gradient norm %g): %s keeps the best "
                                  "checkpoint (epoch %d, dev accuracy %.2f%%)", ep + 1, step + 1, loss, gnorm,
                                  p->out_path, res->best_epoch, 100.0 * best_acc);
                else
                    rc = slm_fail(err, SLM_ERR_ABORTED,
                                  "training diverged at epoch %d, step %d (loss %g, gradient norm %g) before any checkpoint: "
                                  "nothing written; try a lower learning rate", ep + 1, step + 1, loss, gnorm);
                stop = 1;
                break;
            }
            tr_adamw_step(opt, tr_model_pool(m), tens, n_t, params, tr_model_grads(m), step);
            tr_model_sync(m);
            loss_sum += loss, loss_n++;
            if (p->log && (s % 20 == 19 || s + 1 == steps_per_epoch)) {
                double el = train_ms + slm_now_ms() - ep_t0, left = el / (step + 1) * (total - step - 1) / 1000.0;
                char tl[32];
                fmt_time(tl, sizeof tl, left);
                logf_(p, 1, "epoch %d/%d  step %d/%d  loss %.4f  lr %.2e  %s left", ep + 1, p->epochs, step + 1, total,
                      loss_sum / loss_n, tr_lr_at(&oc, step), tl);
            }
        }
        train_ms += slm_now_ms() - ep_t0;
        if (stop == 1) break;
        if (stop == 2 && have_best) break;
        // dev: keep the best, with the branches' best mix
        eval_logits(m, &bb, B, &ddev, dev_logits, dev_feat);
        float acc = accuracy(dev_logits, &ddev, C), mix[2] = {1.0f, 1.0f};
        char mixed[64] = "";
        if (mixing) {
            float raw = acc;
            acc = best_mix(dev_feat, &ddev, tw->cls_w, tw->cls_b, cfg.dim, cfg.ngram_dim, C, zu, zv, mix);
            mixed_logits(dev_feat, ddev.n, tw->cls_w, tw->cls_b, cfg.dim, cfg.ngram_dim, C, mix, dev_logits);
            snprintf(mixed, sizeof mixed, " (%.2f%% unmixed; u x%.3g + v x%.3g)", 100.0 * raw, mix[0], mix[1]);
        }
        res->epochs_run = ep + 1;
        // better: more accurate, or as accurate with a lower dev loss (at T = 1, the training loss: a
        // model that is right with little confidence is less trained, not better calibrated)
        float T = fit_temperature(dev_logits, &ddev, C);
        double nll = nll_at(dev_logits, &ddev, C, 1.0);
        int better = acc > best_acc || (acc == best_acc && nll < best_nll);
        if (better) {
            best_acc = acc, best_nll = nll;
            best_T = T;
            best_mix_w[0] = mix[0], best_mix_w[1] = mix[1];
            res->best_epoch = ep + 1;
            memcpy(best_params, params, n_params * sizeof(float));
            have_best = 1;
            stored_examples se = {&dtr, &ddev, train.text, dev.text, p->replay_per_class, p->guard_per_class, p->seed};
            if (p->out_path && (rc = write_checkpoint(m, p->out_path, vm, labels, best_T, mix, &se, err))) goto done;
        }
        char tl[32];
        fmt_time(tl, sizeof tl, train_ms / (step ? step : 1) * (total - step) / 1000.0);
        logf_(p, 0, "epoch %d/%d  loss %.4f  dev acc %.2f%%%s%s  best %.2f%% (epoch %d)  %.0f s/epoch  %s left", ep + 1,
              p->epochs, loss_n ? loss_sum / loss_n : 0.0, 100.0 * acc, mixed, better ? " *" : "", 100.0 * best_acc,
              res->best_epoch, (slm_now_ms() - ep_t0) / 1000.0, tl);
        loss_sum = 0.0, loss_n = 0;
        if (step >= total) break;
    }
    res->steps = step;
    res->interrupted = stop == 2;
    res->best_dev_acc = best_acc < 0 ? 0.0f : best_acc;
    res->temperature = best_T;
    if (have_best && doos.n && !rc) {
        // the best model's confidences: in-scope dev, then out-of-scope; threshold by balanced accuracy
        memcpy(params, best_params, n_params * sizeof(float));
        tr_model_sync(m);
        float *ol = malloc((size_t)doos.n * C * sizeof(float)), *of = malloc((size_t)doos.n * (cfg.dim + cfg.ngram_dim) * sizeof(float));
        if (!ol || !of) { free(ol), free(of); rc = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory"); goto done; }
        eval_logits(m, &bb, B, &ddev, dev_logits, dev_feat);
        eval_logits(m, &bb, B, &doos, ol, of);
        mixed_logits(dev_feat, ddev.n, tw->cls_w, tw->cls_b, cfg.dim, cfg.ngram_dim, C, best_mix_w, dev_logits);
        mixed_logits(of, doos.n, tw->cls_w, tw->cls_b, cfg.dim, cfg.ngram_dim, C, best_mix_w, ol);
        free(of);
        float best_score = -1.0f;
        for (int k = 0; k <= 100; k++) {
            float th = k / 100.0f;
            int ok = 0, n_in = 0, rec = 0;
            for (int i = 0; i < ddev.n; i++) {
                if (ddev.y[i] < 0) continue;
                const float *l = dev_logits + (size_t)i * C;
                n_in++;
                ok += max_prob(l, C, best_T) >= th && argmax(l, C) == ddev.y[i];
            }
            for (int i = 0; i < doos.n; i++) rec += max_prob(ol + (size_t)i * C, C, best_T) < th;
            float in_acc = n_in ? (float)ok / n_in : 0.0f, recall = (float)rec / doos.n, score = (in_acc + recall) / 2;
            if (score > best_score) best_score = score, res->oos_threshold = th, res->oos_recall = recall, res->oos_inscope_acc = in_acc;
        }
        free(ol);
    }
    if (stop == 2 && !have_best && !rc) rc = slm_fail(err, SLM_ERR_ABORTED, "interrupted before the first dev evaluation: nothing written");

done:
    res->seconds = (slm_now_ms() - t0) / 1000.0;
    free(best_params);
    free(dev_logits);
    free(dev_feat), free(zu), free(zv);
    free(order);
    tr_optim_free(opt);
    batch_free(&bb);
    tr_model_free(m);
    free(labels);   // the strings belong to train
    data_free(&dtr);
    data_free(&ddev);
    data_free(&doos);
    data_free(&dmlm);
    slm_model_free(vm);
    tr_tsv_free(&train);
    tr_tsv_free(&dev);
    tr_tsv_free(&oos);
    return rc;
}
