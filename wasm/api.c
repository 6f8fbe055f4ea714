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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

slm_error api_last_error;

int api_fail(slm_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    api_last_error.code = code;
    vsnprintf(api_last_error.message, sizeof api_last_error.message, fmt, ap);
    va_end(ap);
    return -1;
}

API const char *api_error_name(void) { return slm_status_name(api_last_error.code); }
API const char *api_error_message(void) { return api_last_error.message; }

// ---- models and contexts -------------------------------------------------------

// Takes the malloc'd file bytes (freed with the model, or now on failure);
// check: scan every tensor for NaN and infinity first (SLM_LOAD_CHECK).
API slm_model *api_model_load(void *data, size_t size, int check) {
    slm_model *m = NULL;
    return slm_model_load_memory(data, size, 1, check ? SLM_LOAD_CHECK : 0, &m, &api_last_error) ? NULL : m;
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
    return slm_context_new(m, &p, &c, &api_last_error) ? NULL : c;
}

API void api_context_free(slm_context *c) { slm_context_free(c); }

// JSON string body: quotes, backslashes and control bytes escaped. Writes
// what fits in cap bytes with a NUL (never half an escape) and returns the
// length the whole string needs, like snprintf.
size_t json_quote(char *out, size_t cap, const char *s) {
    size_t n = 0, written = 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        char esc[8];
        int k = ch == '"' || ch == '\\' ? snprintf(esc, sizeof esc, "\\%c", ch)
              : ch < 0x20             ? snprintf(esc, sizeof esc, "\\u%04x", ch)
                                      : (esc[0] = (char)ch, 1);
        if (written == n && n + k < cap) memcpy(out + n, esc, (size_t)k), written += (size_t)k;
        n += (size_t)k;
    }
    if (cap) out[written] = 0;
    return n;
}

// The model's config and the context's settings as one JSON object.
API const char *api_info_json(const slm_model *m, const slm_context *c) {
    static char buf[2048];
    char name[512];
    slm_model_info in;
    slm_model_get_info(m, &in);
    json_quote(name, sizeof name, in.name);
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
    return slm_tokenize(m, text, (size_t)len, add_bos, ids, max, &api_last_error);
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
        if (len < 0) return api_fail(SLM_ERR_INVALID_ARG, "token id %d is out of range", ids[i]);
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
    if (n <= 0) return api_fail(SLM_ERR_INVALID_ARG, "the prompt is empty"), NULL;
    if (max_tokens < 0) return api_fail(SLM_ERR_INVALID_ARG, "max tokens %d is negative", max_tokens), NULL;
    if (n > slm_context_size(c) - 1)
        return api_fail(SLM_ERR_CONTEXT_FULL,
                    "the prompt has %d tokens but the context has room for %d (with one to generate); "
                    "use a larger context",
                    n, slm_context_size(c) - 1), NULL;
    gen *g = calloc(1, sizeof *g);
    if (!g) return api_fail(SLM_ERR_OUT_OF_MEMORY, "out of memory"), NULL;
    g->ctx = c;
    g->m = m;
    slm_model_get_info(m, &g->info);
    slm_sampling_params sp = {.temperature = temperature, .top_k = top_k, .top_p = top_p, .min_p = min_p,
                              .repeat_penalty = repeat_penalty, .repeat_last_n = repeat_last_n,
                              .seed = (uint64_t)seed};
    g->hist = malloc(((size_t)n + max_tokens + 1) * sizeof *g->hist);
    g->logits = malloc((size_t)g->info.vocab_size * sizeof *g->logits);
    if (slm_sampler_new(&sp, g->info.vocab_size, &g->smp, &api_last_error)) { api_gen_free(g); return NULL; }
    if (!g->hist || !g->logits) { api_gen_free(g); return api_fail(SLM_ERR_OUT_OF_MEMORY, "out of memory"), NULL; }
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
    if (slm_eval(g->ctx, g->hist + g->n_fed, n, last ? g->logits : NULL, 0, &api_last_error)) return -1;
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
        if (slm_eval(g->ctx, &g->hist[g->n_hist - 1], 1, g->logits, 0, &api_last_error)) return -1;
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
    return slm_score(c, context, choices, n, loglik, NULL, &api_last_error) ? -1 : 0;
}

// ---- encoders --------------------------------------------------------------------

// The label of encoder class i (NUL-terminated), NULL past the last.
API const char *api_class_label(const slm_model *m, int i) { return slm_model_class_label(m, i); }
API int api_embed_dim(const slm_model *m) { return slm_embed_dim(m); }

// Class probabilities of len bytes of text into probs (the model's class
// count): returns the tokens past the context that were not read, or -1.
API int api_classify(slm_context *c, const char *text, int len, float *probs) {
    int truncated = 0;
    return slm_classify(c, text, (size_t)len, probs, &truncated, &api_last_error) ? -1 : truncated;
}

// The pooled, L2-normalized vector into vec (api_embed_dim floats): 0, or -1.
API int api_embed(slm_context *c, const char *text, int len, float *vec) {
    return slm_embed(c, text, (size_t)len, vec, &api_last_error) ? -1 : 0;
}
