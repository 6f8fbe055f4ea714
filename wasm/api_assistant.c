// The assistant for the JS package's worker: slm_assistant over flat
// signatures, its answers as JSON (a malloc'd string the caller frees).
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

// encoder: a context or NULL; decoder: a model or NULL.
API slm_assistant *api_assistant_new(const char *patterns, int len, slm_context *encoder, const slm_model *decoder) {
    slm_assistant *a = NULL;
    return slm_assistant_new(patterns, (size_t)len, "patterns.txt", encoder, decoder, 0, &a, &api_last_error) ? NULL : a;
}

API void api_assistant_free(slm_assistant *a) { slm_assistant_free(a); }
API void api_assistant_set_decoder(slm_assistant *a, const slm_model *decoder) { slm_assistant_set_decoder(a, decoder); }
API void api_assistant_set_learner(slm_assistant *a, slm_learner *l) { slm_assistant_set_learner(a, l); }

// The document's sentence count (0: closed), or -1. embed_weight < 0: the default.
API int api_assistant_set_document(slm_assistant *a, const char *text, int len, float embed_weight) {
    slm_doc_params p = slm_doc_default_params();
    if (embed_weight >= 0.0f) p.embed_weight = embed_weight;
    if (slm_assistant_set_document(a, text, (size_t)len, &p, &api_last_error)) return -1;
    return slm_doc_sentence_count(slm_assistant_document(a));
}

// A growing JSON text.
typedef struct {
    char *s;
    size_t len, cap;
    int failed;
} json;

static void put(json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(json *j, const char *fmt, ...) {
    for (int tries = 0; tries < 2 && !j->failed; tries++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(j->s + j->len, j->cap - j->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && j->len + (size_t)n < j->cap) {
            j->len += (size_t)n;
            return;
        }
        size_t cap = 2 * (j->len + (size_t)n) + 64;
        char *s = n < 0 ? NULL : realloc(j->s, cap);
        if (!s) j->failed = 1;
        else j->s = s, j->cap = cap;
    }
}

static void put_string(json *j, const char *key, const char *s) {
    if (!s) return put(j, "\"%s\":null,", key);
    size_t n = json_quote(NULL, 0, s);
    char *q = malloc(n + 1);
    if (!q) return (void)(j->failed = 1);
    json_quote(q, n + 1, s);
    put(j, "\"%s\":\"%s\",", key, q);
    free(q);
}

// Answers a request: intent NULL to find it. The answer as JSON, or NULL.
API char *api_assistant_ask(slm_assistant *a, const char *text, int len, const char *intent, int force_tier,
                            int max_tier, float pattern_threshold, float nano_threshold, float answer_threshold,
                            int summary_sentences, int questions, int prompt_tokens) {
    slm_assistant_params p = slm_assistant_default_params();
    p.force_tier = force_tier;
    p.max_tier = max_tier;
    p.pattern_threshold = pattern_threshold;
    p.nano_threshold = nano_threshold;
    p.answer_threshold = answer_threshold;
    p.summary_sentences = summary_sentences;
    p.questions = questions;
    p.prompt_tokens = prompt_tokens;
    slm_answer ans;
    if (slm_assistant_ask(a, text, (size_t)len, intent, &p, &ans, &api_last_error)) return NULL;
    json j = {malloc(1024), 0, 1024, 0};
    if (!j.s) return api_fail(SLM_ERR_OUT_OF_MEMORY, "out of memory"), NULL;
    put(&j, "{\"tier\":%d,\"intentTier\":%d,", ans.tier, ans.intent_tier);
    put_string(&j, "intent", ans.intent);
    put(&j, "\"confidence\":%.4f,\"intentConfidence\":%.4f,\"guessing\":%s,", ans.confidence, ans.intent_confidence,
        ans.guessing ? "true" : "false");
    put_string(&j, "text", ans.text);
    put_string(&j, "prompt", ans.prompt);
    put(&j, "\"sentences\":[");
    for (int i = 0; i < ans.n_sentences; i++) put(&j, "%s%d", i ? "," : "", ans.sentences[i]);
    put(&j, "],\"tierMs\":[%.4f,%.4f,%.4f,%.4f,%.4f],\"ms\":%.4f}", ans.tier_ms[0], ans.tier_ms[1], ans.tier_ms[2],
        ans.tier_ms[3], ans.tier_ms[4], ans.ms);
    if (j.failed) {
        free(j.s);
        return api_fail(SLM_ERR_OUT_OF_MEMORY, "out of memory"), NULL;
    }
    return j.s;
}

// ---- the cache of confirmed requests ----------------------------------------------

API int api_assistant_confirm(slm_assistant *a, const char *text, int len, const char *intent) {
    return slm_cache_add(slm_assistant_cache(a), text, (size_t)len, intent, &api_last_error) ? -1 : 0;
}

API int api_assistant_forget(slm_assistant *a, const char *text, int len) {
    return slm_cache_remove(slm_assistant_cache(a), text, (size_t)len);
}

// The cache as text (malloc'd, NUL-terminated), or NULL.
API char *api_assistant_cache_text(slm_assistant *a) {
    const slm_cache *c = slm_assistant_cache(a);
    size_t n = slm_cache_write(c, NULL, 0);
    char *s = malloc(n + 1);
    if (!s) return api_fail(SLM_ERR_OUT_OF_MEMORY, "out of memory"), NULL;
    slm_cache_write(c, s, n);
    s[n] = 0;
    return s;
}

// Replaces the cache with one read from its text: 0, or -1 (the old one stays).
API int api_assistant_load_cache(slm_assistant *a, const char *text, int len) {
    slm_cache *c;
    if (slm_cache_parse(text, (size_t)len, "the saved cache", 1024, &c, &api_last_error)) return -1;
    slm_assistant_set_cache(a, c);
    return 0;
}

// The pattern file's intent names, as a JSON array (malloc'd), or NULL.
API char *api_assistant_intents(slm_assistant *a) {
    const slm_patterns *p = slm_assistant_patterns(a);
    json j = {malloc(256), 0, 256, 0};
    if (!j.s) return api_fail(SLM_ERR_OUT_OF_MEMORY, "out of memory"), NULL;
    put(&j, "[");
    for (int i = 0; i < slm_patterns_intent_count(p); i++) put(&j, "%s\"%s\"", i ? "," : "", slm_patterns_intent_name(p, i));
    put(&j, "]");
    if (j.failed) free(j.s);
    return j.failed ? (api_fail(SLM_ERR_OUT_OF_MEMORY, "out of memory"), NULL) : j.s;
}
