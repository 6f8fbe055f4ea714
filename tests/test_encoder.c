// The encoder classifier (slm_classify, slm_embed) on a tiny slm360-encoder
// built here (trained tokenizer, random weights, n-gram branch, an FFN that
// needs padding): a plain double-precision forward written out below agrees;
// probabilities sum to 1 and embeddings are unit vectors; threads and
// kernels change no bit; Q8_0/Q4_0 stay close; long texts are truncated and
// say so; bad input is refused; bad files are refused; the nano preset; and
// `slm classify`, text and --eval, including malformed and unknown lines.
#include <math.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../weights-tools/wtools.h"
#include "kernels/kernels.h"
#include "model.h"
#include "slm.h"
#include "test.h"

#define SLM_BIN "build/asan/slm"
#define N_CLASSES 5

static char tmp_dir[] = "/tmp/slm_test_enc_XXXXXX";

static const char *tmp_path(const char *name) {
    static char paths[16][256];
    static int k;
    char *p = paths[k++ % 16];
    snprintf(p, 256, "%s/%s", tmp_dir, name);
    return p;
}

static uint64_t rng = 0x2545f4914f6cdd1dull;
static float uniform(float a) {   // in [-a, a)
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return ((float)(rng >> 40) / 16777216.0f * 2.0f - 1.0f) * a;
}

static const char *sentences[] = {
    "set an alarm for seven tomorrow morning", "what is the weather like in paris today",
    "play some jazz music in the kitchen", "how much money is in my savings account",
    "book a table for two at an italian restaurant", "remind me to call my mother tonight",
    "turn off the lights in the living room", "what time does the pharmacy close",
    "transfer fifty dollars to my checking account", "will it rain this weekend in london",
};
#define N_SENTENCES (int)(sizeof sentences / sizeof sentences[0])
static const char *labels[N_CLASSES] = {"alarm", "weather", "music", "banking", "other"};

// ---- the tiny encoder ------------------------------------------------------------

typedef struct {
    wt_model wt;        // its f32 weights, kept for the reference
    const float *embd, *out_norm, *ngram, *cls_w, *cls_b;
    const float *attn_norm[2], *wq[2], *wk[2], *wv[2], *wo[2], *ffn_norm[2], *wg[2], *wu[2], *wd[2];
} tiny;

static const float *tensor(const wt_model *m, const char *name) {
    for (int i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->tensors[i].name, name)) return m->tensors[i].data;
    return NULL;
}

static float *add_random(wt_model *m, const char *name, int rows, int cols, float a, float center) {
    float *p = wt_add(m, name, rows, cols);
    for (size_t i = 0; p && i < (size_t)(rows ? rows : 1) * cols; i++) p[i] = center + uniform(a);
    return p;
}

// dim 64, 2 layers, heads 4/2, FFN 80 (padded to 96 when quantized),
// context 24, 5 classes, n-gram branch 512 x 32, temperature 0.7.
static slm_status build_tiny(tiny *t, const char *vocab_path, const char *out, slm_error *err) {
    slm_model *v;
    slm_status st = slm_model_load_file(vocab_path, SLM_LOAD_VOCAB_ONLY, &v, err);
    if (st) return st;
    wt_model *m = &t->wt;
    *m = (wt_model){.name = "tiny encoder", .class_labels = labels, .temperature = 0.7f, .ngram_dim = 32};
    m->cfg = (slm_model_info){.is_encoder = 1, .dim = 64, .n_layers = 2, .n_heads = 4, .n_kv_heads = 2, .head_dim = 16,
                              .ffn_dim = 80, .vocab_size = v->info.vocab_size, .context_length = 24,
                              .rope_theta = 10000.0f, .norm_eps = 1e-5f, .n_classes = N_CLASSES};
    m->ngram = (slm_ngram_cfg){.buckets = 512, .word_max = 2, .char_min = 3, .char_max = 4};
    const slm_model_info *c = &m->cfg;
    int kv = c->n_kv_heads * c->head_dim;
    add_random(m, "token_embd.weight", c->vocab_size, c->dim, 1.0f, 0.0f);
    for (int l = 0; l < c->n_layers; l++) {
        char name[64];
#define T(suffix, rows, cols, a, center) \
    (snprintf(name, sizeof name, "blk.%d." suffix, l), add_random(m, name, rows, cols, a, center))
        T("attn_norm.weight", 0, c->dim, 0.2f, 1.0f);
        T("attn_q.weight", c->dim, c->dim, 0.25f, 0.0f);
        T("attn_k.weight", kv, c->dim, 0.25f, 0.0f);
        T("attn_v.weight", kv, c->dim, 0.25f, 0.0f);
        T("attn_output.weight", c->dim, c->dim, 0.15f, 0.0f);
        T("ffn_norm.weight", 0, c->dim, 0.2f, 1.0f);
        T("ffn_gate.weight", c->ffn_dim, c->dim, 0.25f, 0.0f);
        T("ffn_up.weight", c->ffn_dim, c->dim, 0.25f, 0.0f);
        T("ffn_down.weight", c->dim, c->ffn_dim, 0.15f, 0.0f);
#undef T
    }
    add_random(m, "output_norm.weight", 0, c->dim, 0.2f, 1.0f);
    add_random(m, "ngram_embd.weight", (int)m->ngram.buckets, m->ngram_dim, 1.0f, 0.0f);
    add_random(m, "cls.weight", c->n_classes, c->dim + m->ngram_dim, 1.0f, 0.0f);
    add_random(m, "cls.bias", 0, c->n_classes, 0.3f, 0.0f);
    t->embd = tensor(m, "token_embd.weight");
    t->out_norm = tensor(m, "output_norm.weight");
    t->ngram = tensor(m, "ngram_embd.weight");
    t->cls_w = tensor(m, "cls.weight");
    t->cls_b = tensor(m, "cls.bias");
    for (int l = 0; l < c->n_layers; l++) {
        char name[64];
#define G(field, suffix) (snprintf(name, sizeof name, "blk.%d." suffix, l), t->field[l] = tensor(m, name))
        G(attn_norm, "attn_norm.weight"), G(wq, "attn_q.weight"), G(wk, "attn_k.weight"), G(wv, "attn_v.weight");
        G(wo, "attn_output.weight"), G(ffn_norm, "ffn_norm.weight"), G(wg, "ffn_gate.weight"), G(wu, "ffn_up.weight");
        G(wd, "ffn_down.weight");
#undef G
    }
    gguf_writer *w = gguf_writer_new();
    slm_quantize_params qp = slm_quantize_default_params(SLM_TYPE_F32);
    st = wt_copy_tokenizer(w, &v->gguf) ? slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "oom") : wt_write(w, m, &qp, out, err);
    gguf_writer_free(w);
    slm_model_free(v);
    return st;
}

// ---- the reference: the encoder in plain double precision ----------------------------

static void ref_rmsnorm(double *out, const double *x, const float *w, int n, double eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    double r = 1.0 / sqrt(ss / n + eps);
    for (int i = 0; i < n; i++) out[i] = x[i] * r * w[i];
}

// y (rows) = W (rows, cols) x
static void ref_matvec(double *y, const float *W, const double *x, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
        double s = 0;
        for (int k = 0; k < cols; k++) s += (double)W[(size_t)r * cols + k] * x[k];
        y[r] = s;
    }
}

static void ref_rope(double *x, int n_heads, int hd, int pos, double theta) {
    for (int h = 0; h < n_heads; h++)
        for (int i = 0; i < hd / 2; i++) {
            double a = pos * pow(theta, -2.0 * i / hd), c = cos(a), s = sin(a);
            double *p = x + h * hd + 2 * i, x0 = p[0], x1 = p[1];
            p[0] = x0 * c - x1 * s;
            p[1] = x0 * s + x1 * c;
        }
}

// [u; v] of the text (the first max_tokens tokens) and class probabilities.
static void reference(const tiny *t, const slm_model *m, const char *text, int max_tokens, double *feat, double *probs) {
    const slm_model_info *c = &t->wt.cfg;
    int D = c->dim, H = c->n_heads, hd = c->head_dim, kvd = c->n_kv_heads * hd, F = c->ffn_dim, group = H / c->n_kv_heads;
    int32_t ids[256];
    int T = slm_tokenize(m, text, strlen(text), 0, ids, 256, NULL);
    if (T > max_tokens) T = max_tokens;
    double *x = calloc((size_t)T * D, sizeof *x), *h = malloc(D * sizeof *h), *q = malloc((size_t)T * D * sizeof *q);
    double *k = malloc((size_t)T * kvd * sizeof *k), *v = malloc((size_t)T * kvd * sizeof *v), *att = malloc(T * sizeof *att);
    double *o = malloc(D * sizeof *o), *y = malloc(D * sizeof *y), *g = malloc(F * sizeof *g), *up = malloc(F * sizeof *up);
    double *attn_out = malloc((size_t)T * D * sizeof *attn_out);
    for (int i = 0; i < T; i++)
        for (int j = 0; j < D; j++) x[i * D + j] = t->embd[(size_t)ids[i] * D + j];
    for (int l = 0; l < c->n_layers; l++) {
        for (int i = 0; i < T; i++) {
            ref_rmsnorm(h, x + i * D, t->attn_norm[l], D, c->norm_eps);
            ref_matvec(q + i * D, t->wq[l], h, D, D);
            ref_matvec(k + i * kvd, t->wk[l], h, kvd, D);
            ref_matvec(v + i * kvd, t->wv[l], h, kvd, D);
            ref_rope(q + i * D, H, hd, i, c->rope_theta);
            ref_rope(k + i * kvd, c->n_kv_heads, hd, i, c->rope_theta);
        }
        for (int i = 0; i < T; i++) {   // every token sees every token: no mask
            for (int hh = 0; hh < H; hh++) {
                const double *qi = q + i * D + hh * hd;
                int kh = hh / group;
                double mx = -1e300, sum = 0;
                for (int j = 0; j < T; j++) {
                    double s = 0;
                    for (int e = 0; e < hd; e++) s += qi[e] * k[j * kvd + kh * hd + e];
                    att[j] = s / sqrt((double)hd);
                    mx = att[j] > mx ? att[j] : mx;
                }
                for (int j = 0; j < T; j++) sum += att[j] = exp(att[j] - mx);
                for (int e = 0; e < hd; e++) {
                    double s = 0;
                    for (int j = 0; j < T; j++) s += att[j] / sum * v[j * kvd + kh * hd + e];
                    o[hh * hd + e] = s;
                }
            }
            ref_matvec(attn_out + i * D, t->wo[l], o, D, D);
        }
        for (int i = 0; i < T * D; i++) x[i] += attn_out[i];
        for (int i = 0; i < T; i++) {
            ref_rmsnorm(h, x + i * D, t->ffn_norm[l], D, c->norm_eps);
            ref_matvec(g, t->wg[l], h, F, D);
            ref_matvec(up, t->wu[l], h, F, D);
            for (int j = 0; j < F; j++) g[j] = g[j] / (1.0 + exp(-g[j])) * up[j];
            ref_matvec(y, t->wd[l], g, D, F);
            for (int j = 0; j < D; j++) x[i * D + j] += y[j];
        }
    }
    for (int j = 0; j < D; j++) feat[j] = 0;
    for (int i = 0; i < T; i++) {
        ref_rmsnorm(h, x + i * D, t->out_norm, D, c->norm_eps);
        for (int j = 0; j < D; j++) feat[j] += h[j] / T;
    }
    uint32_t buckets[512];
    int nb = ngram_features(&t->wt.ngram, text, strlen(text), buckets, 512), nd = t->wt.ngram_dim;
    for (int j = 0; j < nd; j++) {
        double s = 0;
        for (int b = 0; b < nb; b++) s += t->ngram[(size_t)buckets[b] * nd + j];
        feat[D + j] = nb ? s / nb : 0.0;
    }
    double logits[N_CLASSES], mx = -1e300, sum = 0;
    ref_matvec(logits, t->cls_w, feat, N_CLASSES, D + nd);
    for (int i = 0; i < N_CLASSES; i++) {
        logits[i] = (logits[i] + t->cls_b[i]) / t->wt.temperature;
        mx = logits[i] > mx ? logits[i] : mx;
    }
    for (int i = 0; i < N_CLASSES; i++) sum += probs[i] = exp(logits[i] - mx);
    for (int i = 0; i < N_CLASSES; i++) probs[i] /= sum;
    free(x), free(h), free(q), free(k), free(v), free(att), free(o), free(y), free(g), free(up), free(attn_out);
}

// ---- helpers ----------------------------------------------------------------------------

static slm_model *load(const char *path) {
    slm_model *m = NULL;
    slm_error err;
    if (slm_model_load_file(path, 0, &m, &err)) fprintf(stderr, "load %s: %s\n", path, err.message);
    return m;
}

static slm_context *context(const slm_model *m, int threads, const char *kernels, int n_ctx) {
    slm_context_params p = slm_context_default_params();
    p.n_threads = threads;
    p.kernels = kernels;
    p.n_ctx = n_ctx;
    slm_context *c = NULL;
    slm_error err;
    if (slm_context_new(m, &p, &c, &err)) fprintf(stderr, "context: %s\n", err.message);
    return c;
}

static const char *long_text =
    "please set an alarm for seven tomorrow morning and then play some jazz music in the kitchen while "
    "you tell me what the weather is like in paris today and remind me to call my mother tonight";

// ---- checks -------------------------------------------------------------------------

static void check_reference(const tiny *t, const char *path) {
    slm_model *m = load(path);
    slm_context *c = m ? context(m, 1, NULL, 0) : NULL;
    CHECK(c != NULL, "tiny encoder loads");
    if (!c) { slm_model_free(m); return; }
    CHECK(slm_embed_dim(m) == 64 + 32, "embed dim %d", slm_embed_dim(m));
    double worst = 0, worst_embed = 0;
    float probs[N_CLASSES], vec[96];
    double ref_probs[N_CLASSES], feat[96];
    slm_error err;
    for (int s = 0; s <= N_SENTENCES; s++) {
        const char *text = s < N_SENTENCES ? sentences[s] : long_text;
        int truncated = -1;
        CHECK(!slm_classify(c, text, strlen(text), probs, &truncated, &err), "classify: %s", err.message);
        CHECK(!slm_embed(c, text, strlen(text), vec, &err), "embed: %s", err.message);
        reference(t, m, text, 24, feat, ref_probs);
        double sum = 0, norm = 0, ref_norm = 0;
        for (int i = 0; i < N_CLASSES; i++) {
            sum += probs[i];
            worst = fmax(worst, fabs(probs[i] - ref_probs[i]));
        }
        for (int i = 0; i < 96; i++) norm += (double)vec[i] * vec[i], ref_norm += feat[i] * feat[i];
        for (int i = 0; i < 96; i++) worst_embed = fmax(worst_embed, fabs(vec[i] - feat[i] / sqrt(ref_norm)));
        CHECK(fabs(sum - 1.0) < 1e-5, "'%s': probabilities sum to %.7f", text, sum);
        CHECK(fabs(norm - 1.0) < 1e-5, "'%s': embedding norm %.7f", text, sqrt(norm));
        int n = slm_tokenize(m, text, strlen(text), 0, NULL, 0, &err);
        CHECK(truncated == (n > 24 ? n - 24 : 0), "'%s': %d tokens, %d reported truncated", text, n, truncated);
    }
    CHECK(worst < 1e-4, "probabilities differ from the double-precision reference by %.2e", worst);
    CHECK(worst_embed < 1e-4, "embeddings differ from the reference by %.2e", worst_embed);
    printf("reference: max |p - p_ref| %.2e, max |e - e_ref| %.2e\n", worst, worst_embed);

    // a smaller context reads fewer tokens
    slm_context *small = context(m, 1, NULL, 6);
    int truncated = 0;
    CHECK(small && !slm_classify(small, sentences[0], strlen(sentences[0]), probs, &truncated, &err), "n_ctx 6");
    reference(t, m, sentences[0], 6, feat, ref_probs);
    worst = 0;
    for (int i = 0; i < N_CLASSES; i++) worst = fmax(worst, fabs(probs[i] - ref_probs[i]));
    CHECK(truncated > 0 && worst < 1e-4, "n_ctx 6: %d truncated, off by %.2e", truncated, worst);
    slm_context_free(small);

    // bad input
    CHECK(slm_classify(c, "", 0, probs, NULL, &err) == SLM_ERR_INVALID_ARG && strstr(err.message, "empty"), "empty: %s", err.message);
    CHECK(slm_classify(c, " \t\n ", 4, probs, NULL, &err) == SLM_ERR_INVALID_ARG, "white space only");
    CHECK(slm_embed(c, "", 0, vec, &err) == SLM_ERR_INVALID_ARG, "embed of nothing");
    CHECK(slm_classify(c, "hi", 2, NULL, NULL, &err) == SLM_ERR_INVALID_ARG, "no output buffer");
    // text with no n-gram features (punctuation only) and invalid UTF-8 still work
    CHECK(!slm_classify(c, "?!", 2, probs, NULL, &err) && !slm_classify(c, "\xff\xfe bad", 6, probs, NULL, &err),
          "punctuation, invalid bytes: %s", err.message);
    int32_t id = 5;
    CHECK(slm_eval(c, &id, 1, NULL, 0, &err) == SLM_ERR_INVALID_ARG, "slm_eval refuses an encoder");
    slm_context_free(c);
    slm_model_free(m);
}

// Threads and kernels change no bit, for every weight type.
static void check_identical(const char *path, const char *what) {
    slm_model *m = load(path);
    if (!m) { CHECK(0, "%s loads", what); return; }
    float want[N_CLASSES], got[N_CLASSES], want_e[96], got_e[96];
    slm_error err;
    const char *kernels[] = {"scalar", NULL, NULL, NULL};
    int threads[] = {1, 1, 2, 3};
    for (int s = 0; s <= N_SENTENCES; s++) {
        const char *text = s < N_SENTENCES ? sentences[s] : long_text;
        for (int k = 0; k < 4; k++) {
            slm_context *c = context(m, threads[k], kernels[k], 0);
            float *p = k ? got : want, *e = k ? got_e : want_e;
            int ok = c && !slm_classify(c, text, strlen(text), p, NULL, &err) && !slm_embed(c, text, strlen(text), e, &err);
            slm_context_free(c);
            if (k == 0) { CHECK(ok, "%s scalar", what); continue; }
            CHECK(ok && !memcmp(want, got, sizeof want) && !memcmp(want_e, got_e, sizeof want_e),
                  "%s, '%s': best kernels on %d threads differ from scalar", what, text, threads[k]);
        }
    }
    slm_model_free(m);
}

static double cosine(const double *a, const double *b, int n) {
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < n; i++) ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i];
    return ab / sqrt(aa * bb);
}

// Quantized versions: close to f32 (cosine of the centered log-probabilities,
// i.e. of the logits, and of the embeddings); the right tensor types.
static void check_quantized(const char *f32, const char *q8, const char *q4) {
    slm_model *m[3] = {load(f32), load(q8), load(q4)};
    if (!m[0] || !m[1] || !m[2]) { CHECK(0, "quantized models load"); goto done; }
    CHECK(m[1]->info.ffn_dim == 96 && m[2]->info.ffn_dim == 96 && m[0]->info.ffn_dim == 80, "FFN 80 padded to 96");
    CHECK(m[2]->tok_embd.type == SLM_TYPE_Q4_0 && m[2]->ngram_embd.type == SLM_TYPE_Q4_0 && m[1]->ngram_embd.type == SLM_TYPE_Q8_0,
          "token and n-gram tables quantized");
    CHECK(m[2]->cls_w.type == SLM_TYPE_F32 && m[2]->temperature == 0.7f && m[2]->ngram.buckets == 512 && m[2]->ngram.char_max == 4,
          "cls F32, temperature and n-gram config carried over");
    double worst[3] = {1, 1, 1}, worst_e[3] = {1, 1, 1};
    slm_error err;
    for (int s = 0; s < N_SENTENCES; s++) {
        double lp[3][N_CLASSES], e[3][96];
        for (int k = 0; k < 3; k++) {
            slm_context *c = context(m[k], 1, NULL, 0);
            float p[N_CLASSES], v[96];
            if (!c || slm_classify(c, sentences[s], strlen(sentences[s]), p, NULL, &err) ||
                slm_embed(c, sentences[s], strlen(sentences[s]), v, &err)) {
                CHECK(0, "quantized classify");
                slm_context_free(c);
                goto done;
            }
            slm_context_free(c);
            double mean = 0;
            for (int i = 0; i < N_CLASSES; i++) mean += (lp[k][i] = log(p[i])) / N_CLASSES;
            for (int i = 0; i < N_CLASSES; i++) lp[k][i] -= mean;
            for (int i = 0; i < 96; i++) e[k][i] = v[i];
        }
        for (int k = 1; k < 3; k++) {
            worst[k] = fmin(worst[k], cosine(lp[0], lp[k], N_CLASSES));
            worst_e[k] = fmin(worst_e[k], cosine(e[0], e[k], 96));
        }
    }
    printf("quantized: logits cosine Q8_0 %.5f Q4_0 %.5f; embeddings Q8_0 %.5f Q4_0 %.5f\n", worst[1], worst[2], worst_e[1], worst_e[2]);
    CHECK(worst[1] > 0.999 && worst_e[1] > 0.999, "Q8_0 close to F32: %.5f %.5f", worst[1], worst_e[1]);
    // a tiny random model (rows of 2 blocks, uniform weights) is hard on Q4_0
    CHECK(worst[2] > 0.85 && worst_e[2] > 0.95, "Q4_0 close to F32: %.5f %.5f", worst[2], worst_e[2]);
done:
    for (int k = 0; k < 3; k++) slm_model_free(m[k]);
}

// Files the loader must refuse: written from the tiny model with one thing wrong.
static void check_bad_files(tiny *t, const char *vocab_path) {
    slm_model *v = NULL;
    slm_error err;
    if (slm_model_load_file(vocab_path, SLM_LOAD_VOCAB_ONLY, &v, &err)) { CHECK(0, "vocab"); return; }
    wt_model *m = &t->wt;
    struct { const char *what; slm_status want; const char *msg; } cases[] = {
        {"temperature out of range", SLM_ERR_BAD_MODEL, "slm360-encoder.temperature"},
        {"n-gram dim wrong", SLM_ERR_BAD_MODEL, "ngram_embd.weight"},
        {"no n-gram branch, cls over it", SLM_ERR_BAD_MODEL, "tensor 'cls.weight' has shape"},
        {"no n-gram kinds", SLM_ERR_BAD_MODEL, "neither word nor character"},
    };
    for (int k = 0; k < 4; k++) {
        wt_model bad = *m;
        if (k == 0) bad.temperature = 5000.0f;
        if (k == 1) bad.ngram_dim = 16;
        if (k == 2) bad.ngram.buckets = 0;
        if (k == 3) bad.ngram.word_max = bad.ngram.char_max = 0;
        const char *path = tmp_path("bad.gguf");
        gguf_writer *w = gguf_writer_new();
        slm_quantize_params qp = slm_quantize_default_params(SLM_TYPE_F32);
        int rc = wt_copy_tokenizer(w, &v->gguf) || wt_write(w, &bad, &qp, path, &err);
        gguf_writer_free(w);
        slm_model *mm = NULL;
        slm_status st = rc ? SLM_OK : slm_model_load_file(path, 0, &mm, &err);
        CHECK(!rc && st == cases[k].want && strstr(err.message, cases[k].msg), "%s: status %d, '%s'", cases[k].what, st,
              err.message);
        slm_model_free(mm);
    }
    slm_model_free(v);
}

// The nano preset straight from slm init, in Q4_0: its size, and it classifies.
static void check_nano(void) {
    const char *path = tmp_path("nano-q4_0.gguf");
    slm_init_params ip = {.preset = "slm360-nano", .seed = 3, .type = SLM_TYPE_Q4_0};
    slm_error err;
    CHECK(!slm_init_random(&ip, path, &err), "init nano: %s", err.message);
    slm_model *m = load(path);
    if (!m) return;
    CHECK(m->size <= 4500000, "nano Q4_0 is %zu bytes (at most 4.5 MB)", m->size);
    CHECK(slm_embed_dim(m) == 256 + 64 && m->ngram.buckets == 1 << 14 && m->info.ffn_dim == 704, "nano shape");
    float a[8], b[8];
    const char *text = sentences[4];
    slm_context *c1 = context(m, 1, NULL, 0), *c2 = context(m, 2, "scalar", 64);
    CHECK(c1 && c2 && !slm_classify(c1, text, strlen(text), a, NULL, &err) && !slm_classify(c2, text, strlen(text), b, NULL, &err) &&
              !memcmp(a, b, sizeof a),
          "nano: same bits on 1 thread (best kernels) and 2 (scalar)");
    slm_context_free(c1);
    slm_context_free(c2);
    slm_model_free(m);
}

// Q2_K: the quantizer's error on normal rows, an exactly representable row,
// the nano with a Q2_K token embedding (smaller, same bits everywhere, close
// to Q4_0), and the models it must refuse.
static void check_q2_k(void) {
    int n = 2048, nb = n / SLM_QK_K;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    slm_block_q2_k *q = malloc(nb * sizeof *q);
    if (!x || !y || !q) { CHECK(0, "memory"); goto done; }
    uint32_t s = 12345;
    for (int i = 0; i < n; i++) {  // roughly normal: a sum of four uniforms
        float v = 0;
        for (int k = 0; k < 4; k++) v += (float)((s = s * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
        x[i] = v;
    }
    wt_quantize_q2_k(x, q, n);
    wt_dequantize(SLM_TYPE_Q2_K, q, y, 1, n);
    double se = 0, ss = 0;
    for (int i = 0; i < n; i++) se += (double)(x[i] - y[i]) * (x[i] - y[i]), ss += (double)x[i] * x[i];
    // 4 levels per 16 values: a uniform quantizer of a normal variable is at ~0.12 of its variance
    CHECK(se / ss < 0.15, "Q2_K relative squared error %.4f", se / ss);
    for (int i = 0; i < n; i++) x[i] = 0.25f * (float)((i * 7 + i / 16) % 4) - 0.5f;
    wt_quantize_q2_k(x, q, n);
    wt_dequantize(SLM_TYPE_Q2_K, q, y, 1, n);
    float worst = 0;
    for (int i = 0; i < n; i++) worst = fmaxf(worst, fabsf(x[i] - y[i]));
    CHECK(worst < 2e-3f, "Q2_K on a row of 4 levels: worst error %g", worst);

    slm_error err;
    const char *q4 = tmp_path("nano-q4_0.gguf"), *q2 = tmp_path("nano-q2_k.gguf"), *bad = tmp_path("q2-bad.gguf");
    slm_quantize_params p = slm_quantize_default_params(SLM_TYPE_Q4_0);
    p.embd_type = SLM_TYPE_Q2_K;
    CHECK(!slm_quantize_file(q4, q2, &p, &err), "nano with a Q2_K embedding: %s", err.message);
    slm_model *m4 = load(q4), *m2 = load(q2);
    if (m4 && m2) {
        CHECK(m2->tok_embd.type == SLM_TYPE_Q2_K && m2->ngram_embd.type == SLM_TYPE_Q4_0 && m2->size + 480000 < m4->size,
              "Q2_K token embedding: %zu bytes against %zu", m2->size, m4->size);
        float a[8], b[8], c4[8];
        const char *text = sentences[4];
        slm_context *c1 = context(m2, 1, NULL, 0), *c2 = context(m2, 2, "scalar", 64), *c3 = context(m4, 1, NULL, 0);
        int ok = c1 && c2 && c3 && !slm_classify(c1, text, strlen(text), a, NULL, &err) &&
                 !slm_classify(c2, text, strlen(text), b, NULL, &err) && !slm_classify(c3, text, strlen(text), c4, NULL, &err);
        CHECK(ok && !memcmp(a, b, sizeof a), "Q2_K nano: same bits on 1 thread (best kernels) and 2 (scalar)");
        double la[8], l4[8], ma = 0, m4s = 0;
        for (int i = 0; ok && i < 8; i++) ma += (la[i] = log(a[i])) / 8, m4s += (l4[i] = log(c4[i])) / 8;
        for (int i = 0; ok && i < 8; i++) la[i] -= ma, l4[i] -= m4s;
        CHECK(ok && cosine(la, l4, 8) > 0.9, "Q2_K nano close to Q4_0: cosine %.4f", ok ? cosine(la, l4, 8) : 0.0);
        slm_context_free(c1);
        slm_context_free(c2);
        slm_context_free(c3);
    }
    slm_model_free(m4);
    slm_model_free(m2);
    // a width that is not a multiple of 256, and a type for a whole model
    CHECK(slm_quantize_file(tmp_path("tiny-f32.gguf"), bad, &p, &err) == SLM_ERR_INVALID_ARG && strstr(err.message, "multiple of 256"),
          "Q2_K refused for a width of 64: %s", err.message);
    p.type = SLM_TYPE_Q2_K;
    p.embd_type = -1;
    CHECK(slm_quantize_file(q4, bad, &p, &err) == SLM_ERR_INVALID_ARG, "Q2_K refused as a whole model's type");
done:
    free(x), free(y), free(q);
}

// ---- the command line ------------------------------------------------------------------

static int run_slm(const char *args, char *out, size_t cap) {
    char cmd[2048], file[256];
    snprintf(file, sizeof file, "%s/out.txt", tmp_dir);
    snprintf(cmd, sizeof cmd, "%s %s >%s 2>&1", SLM_BIN, args, file);
    int rc = system(cmd);
    FILE *f = fopen(file, "rb");
    size_t n = f ? fread(out, 1, cap - 1, f) : 0;
    out[n] = 0;
    if (f) fclose(f);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f);
}

static void check_cli(const char *model_path) {
    if (access(SLM_BIN, X_OK)) {
        CHECK(0, "%s is not built (run from the repository root after make)", SLM_BIN);
        return;
    }
    char out[8192], args[1024];
    slm_model *m = load(model_path);
    slm_context *c = m ? context(m, 1, NULL, 0) : NULL;
    if (!c) { slm_model_free(m); return; }
    // a file labelled with the model's own predictions, and its last 2 labels changed
    const char *tsv = tmp_path("eval.tsv");
    FILE *f = fopen(tsv, "wb");
    int pred[N_SENTENCES];
    for (int s = 0; f && s < N_SENTENCES; s++) {
        float p[N_CLASSES];
        slm_classify(c, sentences[s], strlen(sentences[s]), p, NULL, NULL);
        pred[s] = 0;
        for (int k = 1; k < N_CLASSES; k++) pred[s] = p[k] > p[pred[s]] ? k : pred[s];
        fprintf(f, "%s\t%s\n", sentences[s], labels[s < N_SENTENCES - 2 ? pred[s] : (pred[s] + 1) % N_CLASSES]);
    }
    if (f) fclose(f);
    slm_context_free(c);

    snprintf(args, sizeof args, "classify -m %s --top 3 \"%s\"", model_path, sentences[0]);
    int rc = run_slm(args, out, sizeof out);
    CHECK(rc == 0 && strstr(out, labels[pred[0]]) == out + 7, "classify prints the top label first:\n%s", out);

    snprintf(args, sizeof args, "classify -m %s --eval %s", model_path, tsv);
    rc = run_slm(args, out, sizeof out);
    CHECK(rc == 0 && strstr(out, "accuracy      0.8000 (8 of 10)") && strstr(out, "latency") && strstr(out, "median") &&
              strstr(out, "worst classes"),
          "eval:\n%s", out);
    // macro-F1 by hand, over the labels the file has
    int tp[N_CLASSES] = {0}, fp[N_CLASSES] = {0}, support[N_CLASSES] = {0}, n_labels = 0;
    for (int s = 0; s < N_SENTENCES; s++) {
        int gold = s < N_SENTENCES - 2 ? pred[s] : (pred[s] + 1) % N_CLASSES;
        support[gold]++;
        if (gold == pred[s]) tp[gold]++;
        else fp[pred[s]]++;
    }
    double f1_sum = 0;
    for (int k = 0; k < N_CLASSES; k++) {
        if (!support[k]) continue;
        double p = tp[k] + fp[k] ? (double)tp[k] / (tp[k] + fp[k]) : 0, r = (double)tp[k] / support[k];
        f1_sum += p + r > 0 ? 2 * p * r / (p + r) : 0;
        n_labels++;
    }
    char want[64];
    snprintf(want, sizeof want, "macro-F1      %.4f (over the file's %d labels)", f1_sum / n_labels, n_labels);
    CHECK(strstr(out, want) != NULL, "wanted '%s' in:\n%s", want, out);

    // unknown labels: errors, listed, said so
    const char *unk = tmp_path("unknown.tsv");
    write_text(unk, "set an alarm for seven\talarm\nwhat is this\tnot_a_class\nhello there\tnot_a_class\r\n\n");
    snprintf(args, sizeof args, "classify -m %s --eval %s", model_path, unk);
    rc = run_slm(args, out, sizeof out);
    CHECK(rc == 0 && strstr(out, "unknown labels") && strstr(out, "not_a_class (2)") && strstr(out, "3 examples"),
          "unknown labels:\n%s", out);

    // out of scope: a threshold above any probability predicts oos everywhere
    const char *oos = tmp_path("oos.tsv");
    write_text(oos, "set an alarm for seven\talarm\nwho won the game\toos\nwhat is a circle\toos\n");
    snprintf(args, sizeof args, "classify -m %s --eval %s --oos-threshold 1", model_path, oos);
    rc = run_slm(args, out, sizeof out);
    CHECK(rc == 0 && strstr(out, "oos recall    1.0000 (2 of 2)") && strstr(out, "in-scope acc. 0.0000 (0 of 1)"),
          "oos:\n%s", out);

    // malformed lines: one line naming the file and line, exit 2
    struct { const char *text, *msg; } bad[] = {
        {"fine\talarm\nno tab on this line\n", ":2: no tab"},
        {"fine\talarm\n\tmusic\n", ":2: empty text"},
        {"fine\talarm\nok\tmusic\nx\ty\tz\n", ":3: more than two columns"},
        {"fine\t\n", ":1: empty label"},
        {"a\tno_such\nb\tnone_either\n", "none of its labels"},
        {"\n", "no examples"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        const char *p = tmp_path("bad.tsv");
        write_text(p, bad[k].text);
        snprintf(args, sizeof args, "classify -m %s --eval %s", model_path, p);
        rc = run_slm(args, out, sizeof out);
        CHECK(rc == 2 && !strncmp(out, "slm: error: ", 12) && strstr(out, "bad.tsv") && strstr(out, bad[k].msg) &&
                  strchr(out, '\n') == out + strlen(out) - 1,
              "malformed %zu: exit %d:\n%s", k, rc, out);
    }
    snprintf(args, sizeof args, "classify -m %s --eval %s/missing.tsv", model_path, tmp_dir);
    CHECK(run_slm(args, out, sizeof out) == 2 && strstr(out, "missing.tsv"), "missing file:\n%s", out);
    snprintf(args, sizeof args, "classify -m %s \"\"", model_path);
    CHECK(run_slm(args, out, sizeof out) == 2 && strstr(out, "empty"), "empty text:\n%s", out);
    snprintf(args, sizeof args, "classify -m %s \"%s\"", model_path, long_text);
    CHECK(run_slm(args, out, sizeof out) == 0 && strstr(out, "note: the text is longer than the context"), "truncation:\n%s", out);
    slm_model_free(m);
}

int main(void) {
    if (!mkdtemp(tmp_dir)) return printf("0 passed, 1 failed\n"), 1;
    // a vocabulary trained on the sentences, then the model
    const char *corpus = tmp_path("corpus.txt"), *vocab = tmp_path("vocab.gguf");
    FILE *f = fopen(corpus, "wb");
    for (int r = 0; f && r < 3; r++)
        for (int s = 0; s < N_SENTENCES; s++) fprintf(f, "%s\n", sentences[s]);
    if (f) fclose(f);
    const char *files[] = {corpus};
    slm_tokenizer_train_params tp = {.vocab_size = 320};
    slm_error err;
    tiny t = {0};
    const char *f32 = tmp_path("tiny-f32.gguf"), *q8 = tmp_path("tiny-q8_0.gguf"), *q4 = tmp_path("tiny-q4_0.gguf");
    slm_quantize_params q8p = slm_quantize_default_params(SLM_TYPE_Q8_0), q4p = slm_quantize_default_params(SLM_TYPE_Q4_0);
    int ok = !slm_train_tokenizer(files, 1, &tp, vocab, &err) && !build_tiny(&t, vocab, f32, &err) &&
             !slm_quantize_file(f32, q8, &q8p, &err) && !slm_quantize_file(f32, q4, &q4p, &err);
    CHECK(ok, "building the tiny encoder: %s", err.message);
    if (ok) {
        check_reference(&t, f32);
        check_identical(f32, "F32");
        check_identical(q8, "Q8_0");
        check_identical(q4, "Q4_0");
        check_quantized(f32, q8, q4);
        check_bad_files(&t, vocab);
        check_cli(f32);
    }
    wt_free(&t.wt);
    check_nano();
    if (ok) check_q2_k();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp_dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmp_dir);
    TEST_END();
}
