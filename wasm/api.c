// The C side of the JS package: a thin layer over slm.h with flat, number-only
// signatures that JS calls directly (pointers are offsets into linear memory).
//
// Generation is step-wise (prefill a slice of the prompt, then one token per
// call) so the worker can stream each token, check for an abort and return to
// its event loop between steps. The steps replay slm_generate's loop exactly,
// so a seed gives the same tokens here as in the native CLI.
//
// A failing call returns 0 or a negative number; api_error_* then describe it.
// This file may keep global state (the last error): one wasm instance serves
// one worker, which runs one request at a time.
#include <emscripten.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slm.h"

#define API EMSCRIPTEN_KEEPALIVE

static slm_error last_error;

static int fail(slm_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    last_error.code = code;
    vsnprintf(last_error.message, sizeof last_error.message, fmt, ap);
    va_end(ap);
    return -1;
}

API const char *api_error_name(void) { return slm_status_name(last_error.code); }
API const char *api_error_message(void) { return last_error.message; }

// ---- models and contexts -------------------------------------------------------

// Takes the malloc'd file bytes (freed with the model, or now on failure).
API slm_model *api_model_load(void *data, size_t size) {
    slm_model *m = NULL;
    return slm_model_load_memory(data, size, 1, 0, &m, &last_error) ? NULL : m;
}

API void api_model_free(slm_model *m) { slm_model_free(m); }

// n_ctx is an upper bound (JS asks for e.g. 1024 whatever the model): 0 or
// more than the model's context length means the model's.
API slm_context *api_context_new(const slm_model *m, int n_ctx, int n_threads) {
    slm_model_info in;
    slm_model_get_info(m, &in);
    slm_context_params p = slm_context_default_params();
    p.n_ctx = n_ctx > 0 && n_ctx < in.context_length ? n_ctx : in.context_length;
    p.n_threads = n_threads;
    slm_context *c = NULL;
    return slm_context_new(m, &p, &c, &last_error) ? NULL : c;
}

API void api_context_free(slm_context *c) { slm_context_free(c); }

// JSON string body: quotes, backslashes and control bytes escaped.
static int json_str(char *out, int cap, const char *s) {
    int n = 0;
    for (; *s && n < cap - 8; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') n += snprintf(out + n, cap - n, "\\%c", ch);
        else if (ch < 0x20) n += snprintf(out + n, cap - n, "\\u%04x", ch);
        else out[n++] = (char)ch;
    }
    out[n] = 0;
    return n;
}

// The model's config and the context's settings as one JSON object.
API const char *api_info_json(const slm_model *m, const slm_context *c) {
    static char buf[2048];
    char name[512];
    slm_model_info in;
    slm_model_get_info(m, &in);
    json_str(name, sizeof name, in.name);
    snprintf(buf, sizeof buf,
             "{\"architecture\":\"%s\",\"name\":\"%s\",\"isEncoder\":%s,\"dim\":%d,\"nLayers\":%d,\"nHeads\":%d,"
             "\"nKvHeads\":%d,\"headDim\":%d,\"ffnDim\":%d,\"vocabSize\":%d,\"contextLength\":%d,\"ropeTheta\":%.9g,"
             "\"normEps\":%.9g,\"qkNorm\":%s,\"tiedEmbeddings\":%s,\"nClasses\":%d,\"bosId\":%d,\"eosId\":%d,"
             "\"nParams\":%llu,\"weightsBytes\":%llu,\"weightType\":\"%s\",\"ctx\":%d,\"kernels\":\"%s\","
             "\"contextBytes\":%zu}",
             in.architecture, name, in.is_encoder ? "true" : "false", in.dim, in.n_layers, in.n_heads, in.n_kv_heads,
             in.head_dim, in.ffn_dim, in.vocab_size, in.context_length, in.rope_theta, in.norm_eps,
             in.qk_norm ? "true" : "false", in.tied_embeddings ? "true" : "false", in.n_classes, in.bos_id, in.eos_id,
             (unsigned long long)in.n_params, (unsigned long long)in.weights_bytes, slm_type_name(in.weight_type),
             slm_context_size(c), slm_context_kernels(c), slm_context_memory(c));
    return buf;
}

// ---- tokens ----------------------------------------------------------------------

// slm_tokenize's contract: the count needed (retry if above max), or -1.
API int api_tokenize(const slm_model *m, const char *text, int len, int add_bos, int32_t *ids, int max) {
    return slm_tokenize(m, text, (size_t)len, add_bos, ids, max, &last_error);
}

// The text of n ids, as streaming would print it: writes up to cap bytes and
// returns the length the whole text needs, or -1 for a bad id.
API int api_detokenize(const slm_model *m, const int32_t *ids, int n, char *out, int cap) {
    slm_detok d;
    slm_detok_init(&d);
    char piece[512];
    int total = 0;
    for (int i = 0; i <= n; i++) {
        int len = i < n ? slm_detok_push(m, &d, ids[i], piece, (int)sizeof piece)
                        : slm_detok_flush(&d, piece, (int)sizeof piece);
        if (len < 0) return fail(SLM_ERR_INVALID_ARG, "token id %d is out of range", ids[i]);
        if (total < cap) memcpy(out + total, piece, (size_t)(len < cap - total ? len : cap - total));
        total += len;
    }
    return total;
}

// ---- generation ----------------------------------------------------------------

enum { GEN_EOS = -2, GEN_LENGTH = -3, GEN_CONTEXT = -4 };   // api_gen_next's stops; -1 is an error

typedef struct {
    slm_context *ctx;
    const slm_model *m;
    slm_sampler *smp;
    slm_model_info info;
    int32_t *hist;          // prompt, then generated ids
    int n_prompt, n_fed, n_hist, generated, max_tokens;
    float *logits;
    slm_detok dt;
    int text_len;
    char text[512];         // the text of the last step
} gen;

API void api_gen_free(gen *g) {
    if (!g) return;
    slm_sampler_free(g->smp);
    free(g->hist);
    free(g->logits);
    free(g);
}

// Starts a generation from an empty context of model m. The prompt is fed as given.
API gen *api_gen_new(const slm_model *m, slm_context *c, const int32_t *ids, int n, int max_tokens, float temperature,
                     int top_k, float top_p, float min_p, float repeat_penalty, int repeat_last_n, double seed) {
    slm_context_rewind(c, 0);
    if (n <= 0) return fail(SLM_ERR_INVALID_ARG, "the prompt is empty"), NULL;
    if (max_tokens < 0) return fail(SLM_ERR_INVALID_ARG, "max tokens %d is negative", max_tokens), NULL;
    if (n > slm_context_size(c) - 1)
        return fail(SLM_ERR_CONTEXT_FULL,
                    "the prompt has %d tokens but the context has room for %d (with one to generate); "
                    "use a larger context",
                    n, slm_context_size(c) - 1), NULL;
    gen *g = calloc(1, sizeof *g);
    if (!g) return fail(SLM_ERR_OUT_OF_MEMORY, "out of memory"), NULL;
    g->ctx = c;
    g->m = m;
    slm_model_get_info(m, &g->info);
    slm_sampling_params sp = {.temperature = temperature, .top_k = top_k, .top_p = top_p, .min_p = min_p,
                              .repeat_penalty = repeat_penalty, .repeat_last_n = repeat_last_n,
                              .seed = (uint64_t)seed};
    g->hist = malloc(((size_t)n + max_tokens + 1) * sizeof *g->hist);
    g->logits = malloc((size_t)g->info.vocab_size * sizeof *g->logits);
    if (slm_sampler_new(&sp, g->info.vocab_size, &g->smp, &last_error)) { api_gen_free(g); return NULL; }
    if (!g->hist || !g->logits) { api_gen_free(g); return fail(SLM_ERR_OUT_OF_MEMORY, "out of memory"), NULL; }
    memcpy(g->hist, ids, (size_t)n * sizeof *ids);
    g->n_prompt = g->n_hist = n;
    g->max_tokens = max_tokens;
    slm_detok_init(&g->dt);
    g->dt.prev_id = ids[n - 1];
    return g;
}

// Feeds up to max_n more prompt tokens (micro-batching never changes a bit).
// Returns how many remain, or -1.
API int api_gen_prefill(gen *g, int max_n) {
    int n = g->n_prompt - g->n_fed;
    if (n > max_n) n = max_n;
    int last = g->n_fed + n == g->n_prompt;
    if (slm_eval(g->ctx, g->hist + g->n_fed, n, last ? g->logits : NULL, 0, &last_error)) return -1;
    g->n_fed += n;
    return g->n_prompt - g->n_fed;
}

// One step: evaluates the previous token (if any), samples the next one and
// puts its text in api_gen_text. Returns its id, a GEN_* stop, or -1.
API int api_gen_next(gen *g) {
    g->text_len = 0;
    if (g->generated >= g->max_tokens) return GEN_LENGTH;
    if (g->generated > 0) {
        if (slm_context_pos(g->ctx) >= slm_context_size(g->ctx)) return GEN_CONTEXT;
        if (slm_eval(g->ctx, &g->hist[g->n_hist - 1], 1, g->logits, 0, &last_error)) return -1;
    }
    int32_t id = slm_sampler_sample(g->smp, g->logits, g->hist, g->n_hist);
    if (id == g->info.eos_id || id == g->info.bos_id) return GEN_EOS;
    g->hist[g->n_hist++] = id;
    g->generated++;
    g->text_len = slm_detok_push(g->m, &g->dt, id, g->text, (int)sizeof g->text);
    return id;
}

// After an EOS, length or context stop: a trailing incomplete character as U+FFFD.
API int api_gen_flush(gen *g) { return g->text_len = slm_detok_flush(&g->dt, g->text, (int)sizeof g->text); }

API const char *api_gen_text(const gen *g) { return g->text; }
API int api_gen_text_len(const gen *g) { return g->text_len; }

// ---- scoring ---------------------------------------------------------------------

API int api_score(slm_context *c, const char *context, const char *const *choices, int n, double *loglik) {
    return slm_score(c, context, choices, n, loglik, NULL, &last_error) ? -1 : 0;
}

// ---- encoders --------------------------------------------------------------------

// The label of encoder class i (NUL-terminated), NULL past the last.
API const char *api_class_label(const slm_model *m, int i) { return slm_model_class_label(m, i); }
API int api_embed_dim(const slm_model *m) { return slm_embed_dim(m); }

// Class probabilities of len bytes of text into probs (the model's class
// count): returns the tokens past the context that were not read, or -1.
API int api_classify(slm_context *c, const char *text, int len, float *probs) {
    int truncated = 0;
    return slm_classify(c, text, (size_t)len, probs, &truncated, &last_error) ? -1 : truncated;
}

// The pooled, L2-normalized vector into vec (api_embed_dim floats): 0, or -1.
API int api_embed(slm_context *c, const char *text, int len, float *vec) {
    return slm_embed(c, text, (size_t)len, vec, &last_error) ? -1 : 0;
}

// ---- on-device learning ------------------------------------------------------------

// Progress of a learner's long steps, to the worker (Module.onProgress):
// stage 0 = reading (stored examples' features), 1 = learning.
EM_JS(void, api_js_progress, (int stage, double fraction), {
    if (Module.onProgress) Module.onProgress(stage, fraction);
});

static void learn_progress(void *user, const char *stage, double fraction) {
    api_js_progress(strcmp(stage, "reading") ? 1 : 0, fraction);
}

// A learner over the context, from the model (state NULL) or a saved state.
API slm_learner *api_learner_new(slm_context *c, const void *state, int size) {
    slm_learn_params p = slm_learn_default_params();
    p.progress = learn_progress;
    slm_learner *l = NULL;
    return slm_learner_new(c, &p, state, (size_t)size, &l, &last_error) ? NULL : l;
}

API void api_learner_free(slm_learner *l) { slm_learner_free(l); }

API void api_learner_params(slm_learner *l, int epochs, float lr, float ewc, int replay, int replay_ratio,
                            float max_drop, float max_class_drop, float min_fit, double seed) {
    slm_learn_params p = slm_learn_default_params();
    p.epochs = epochs, p.lr = lr, p.ewc_lambda = ewc, p.replay = replay, p.replay_ratio = replay_ratio;
    p.max_drop = max_drop, p.max_class_drop = max_class_drop, p.min_fit = min_fit, p.seed = (uint64_t)seed;
    p.progress = learn_progress;
    slm_learner_set_params(l, &p);
}

// Learns n examples (texts[i], labels[i]: NUL-terminated UTF-8); the result
// as a JSON object, or NULL on an error.
API const char *api_learn(slm_learner *l, const char *const *texts, const char *const *labels, int n) {
    static char buf[512];
    slm_learn_result r;
    if (slm_learn(l, texts, labels, n, &r, &last_error)) return NULL;
    char reason[400];
    json_str(reason, sizeof reason, r.reason);
    snprintf(buf, sizeof buf,
             "{\"accepted\":%s,\"devAccuracyBefore\":%.9g,\"devAccuracyAfter\":%.9g,\"fitBefore\":%.9g,"
             "\"fitAfter\":%.9g,\"newClasses\":%d,\"heldOut\":%d,\"replay\":%d,\"reason\":\"%s\"}",
             r.accepted ? "true" : "false", r.dev_accuracy_before, r.dev_accuracy_after, r.fit_before, r.fit_after,
             r.new_classes, r.n_guard, r.n_replay, reason);
    return buf;
}

API const char *api_learner_label(const slm_learner *l, int i) { return slm_learner_class_label(l, i); }

// As api_classify, with the learner's classes.
API int api_learner_classify(slm_learner *l, const char *text, int len, float *probs) {
    int truncated = 0;
    return slm_learner_classify(l, text, (size_t)len, probs, &truncated, &last_error) ? -1 : truncated;
}

// The state as a malloc'd buffer: its address, its size in *size; 0 on failure.
API void *api_learner_save(const slm_learner *l, int *size) {
    void *data = NULL;
    size_t n = 0;
    if (slm_learner_save_memory(l, &data, &n, &last_error)) return NULL;
    *size = (int)n;
    return data;
}
