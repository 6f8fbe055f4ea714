// The assistant: each request routed through the four tiers (slm.h, "the
// assistant"). First the intent: the cache and the rules (tier 1), then the
// encoder (tier 2). Then the answer: the intent's reply, the document's
// sentences (tier 3), or a prompt for the decoder (tier 4).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

// The intents the assistant acts on itself; every other intent is answered
// with its reply from the pattern file.
#define INTENT_SUMMARIZE "summarize"
#define INTENT_QUESTIONS "suggest_questions"
#define INTENT_ASK "ask_document"

typedef struct {
    char *s;
    size_t len, cap;
} text_buf;

struct slm_assistant {
    slm_patterns *patterns;
    slm_cache *cache;
    slm_context *encoder;       // borrowed
    slm_learner *learner;       // borrowed: what learning taught the encoder, or NULL
    int n_probs;                // room in probs
    const slm_model *decoder;   // borrowed
    slm_doc *doc;
    int *order;                 // the document's sentences, ranked for a question
    float *scores;
    float *probs;               // the encoder's class probabilities
    char intent[SLM_INTENT_MAX];
    text_buf text, prompt;
};

// What tiers 1 and 2 found: an intent, who found it, and whether that tier
// is confident enough to act on it.
typedef struct {
    const char *intent;
    slm_tier tier;
    float confidence;
    int sure;
} finding;

slm_assistant_params slm_assistant_default_params(void) {
    slm_assistant_params p = {0.9f, 0.5f, 0.25f, 4, 0, 3, 3, 384};
    return p;
}

// ---- text buffers ------------------------------------------------------------------

static int buf_add(text_buf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = 2 * (b->len + n + 1) + 256;
        char *p = realloc(b->s, cap);
        if (!p) return -1;
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
    return 0;
}

static int buf_set(text_buf *b, const char *s) {
    b->len = 0;
    return buf_add(b, s, strlen(s));
}

// ---- the assistant -------------------------------------------------------------------

slm_status slm_assistant_new(const char *patterns, size_t len, const char *name, slm_context *encoder,
                             const slm_model *decoder, int cache_capacity, slm_assistant **out, slm_error *err) {
    if (!out) return slm_fail(err, SLM_ERR_INVALID_ARG, "no place for the assistant");
    *out = NULL;
    if (encoder && !slm_context_model(encoder)->info.is_encoder)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "the encoder context's model is not an encoder");
    if (decoder && decoder->info.is_encoder) return slm_fail(err, SLM_ERR_INVALID_ARG, "the decoder is an encoder");
    slm_assistant *a = calloc(1, sizeof *a);
    if (!a) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    a->encoder = encoder;
    a->decoder = decoder;
    slm_status st = slm_patterns_parse(patterns ? patterns : "", patterns ? len : 0, name ? name : "patterns",
                                       &a->patterns, err);
    if (!st) st = slm_cache_new(cache_capacity > 0 ? cache_capacity : 1024, &a->cache, err);
    if (!st && encoder) {
        int n = slm_context_model(encoder)->info.n_classes;
        if (!(a->probs = malloc((size_t)n * sizeof *a->probs))) st = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
        a->n_probs = n;
    }
    if (st) {
        slm_assistant_free(a);
        return st;
    }
    *out = a;
    return SLM_OK;
}

void slm_assistant_free(slm_assistant *a) {
    if (!a) return;
    slm_patterns_free(a->patterns);
    slm_cache_free(a->cache);
    slm_doc_free(a->doc);
    free(a->order);
    free(a->scores);
    free(a->probs);
    free(a->text.s);
    free(a->prompt.s);
    free(a);
}

void slm_assistant_set_learner(slm_assistant *a, slm_learner *learner) {
    if (a && a->encoder) a->learner = learner;
}

void slm_assistant_set_decoder(slm_assistant *a, const slm_model *decoder) {
    if (a && (!decoder || !decoder->info.is_encoder)) a->decoder = decoder;
}

const slm_doc *slm_assistant_document(const slm_assistant *a) { return a ? a->doc : NULL; }
const slm_patterns *slm_assistant_patterns(const slm_assistant *a) { return a ? a->patterns : NULL; }
slm_cache *slm_assistant_cache(slm_assistant *a) { return a ? a->cache : NULL; }

void slm_assistant_set_cache(slm_assistant *a, slm_cache *cache) {
    if (!a || !cache || cache == a->cache) return;
    slm_cache_free(a->cache);
    a->cache = cache;
}

slm_status slm_assistant_set_document(slm_assistant *a, const char *text, size_t len, const slm_doc_params *params,
                                      slm_error *err) {
    if (!a) return slm_fail(err, SLM_ERR_INVALID_ARG, "no assistant");
    slm_doc *d = NULL;
    int *order = NULL;
    float *scores = NULL;
    if (len) {
        slm_status st = slm_doc_new(text, len, a->encoder, params, &d, err);
        if (st) return st;
        int n = slm_doc_sentence_count(d);
        if (!n) {
            slm_doc_free(d);
            return slm_fail(err, SLM_ERR_INVALID_ARG, "the document has no sentences (no letters or digits)");
        }
        order = malloc((size_t)n * sizeof *order);
        scores = malloc((size_t)n * sizeof *scores);
        if (!order || !scores) {
            free(order);
            free(scores);
            slm_doc_free(d);
            return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
        }
    }
    slm_doc_free(a->doc);
    free(a->order);
    free(a->scores);
    a->doc = d;
    a->order = order;
    a->scores = scores;
    return SLM_OK;
}

// ---- tiers 1 and 2: the intent ----------------------------------------------------

// The cache (always sure: the user said so), then the best rule.
static void find_by_patterns(slm_assistant *a, const char *text, size_t len, const slm_assistant_params *p,
                             finding *f) {
    const char *hit = slm_cache_lookup(a->cache, text, len);
    if (hit) {
        snprintf(a->intent, sizeof a->intent, "%s", hit);
        *f = (finding){a->intent, SLM_TIER_PATTERNS, 1.0f, 1};
        return;
    }
    slm_pattern_match m;
    if (slm_patterns_match(a->patterns, text, len, &m) == 1)
        *f = (finding){m.name, SLM_TIER_PATTERNS, m.confidence, m.confidence >= p->pattern_threshold};
}

// The encoder's most likely class (the first of equals), with what learning
// taught it if anything.
static slm_status find_by_nano(slm_assistant *a, const char *text, size_t len, const slm_assistant_params *p,
                               finding *f, slm_error *err) {
    const slm_model *m = slm_context_model(a->encoder);
    int n = a->learner ? slm_learner_class_count(a->learner) : m->info.n_classes;
    if (n > a->n_probs) {   // learning added classes
        float *probs = realloc(a->probs, (size_t)n * sizeof *probs);
        if (!probs) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
        a->probs = probs, a->n_probs = n;
    }
    slm_status st = a->learner ? slm_learner_classify(a->learner, text, len, a->probs, NULL, err)
                               : slm_classify(a->encoder, text, len, a->probs, NULL, err);
    if (st) return st;
    int best = 0;
    for (int i = 1; i < n; i++)
        if (a->probs[i] > a->probs[best]) best = i;
    const char *label = a->learner ? slm_learner_class_label(a->learner, best) : slm_model_class_label(m, best);
    *f = (finding){label, SLM_TIER_NANO, a->probs[best], a->probs[best] >= p->nano_threshold};
    return SLM_OK;
}

// ---- tiers 3 and 4: the answer ------------------------------------------------------

static int is(const char *intent, const char *name) { return intent && !strcmp(intent, name); }

static slm_task task_of(const char *intent) {
    if (is(intent, INTENT_SUMMARIZE)) return SLM_TASK_SUMMARIZE;
    if (is(intent, INTENT_QUESTIONS)) return SLM_TASK_QUESTIONS;
    if (is(intent, INTENT_ASK)) return SLM_TASK_ANSWER;
    return SLM_TASK_CHAT;   // answered with the intent's reply (or, at tier 4, as a chat)
}

// Appends the document's sentence i to the answer's text.
static int add_sentence(slm_assistant *a, int i) {
    slm_span s = slm_doc_sentence(a->doc, i);
    return buf_add(&a->text, slm_doc_text(a->doc) + s.start, (size_t)(s.end - s.start));
}

// Tier 3: the extractive summary, the suggested questions, or the sentence
// that answers the question. Sets the confidence; for a question, ranks
// the sentences into a->order (tier 4 uses them).
static slm_status extract(slm_assistant *a, slm_task task, const char *q, size_t qlen, const slm_assistant_params *p,
                          slm_answer *ans, slm_error *err) {
    int n = slm_doc_sentence_count(a->doc), got = 0, fail = 0;
    a->text.len = 0;
    if (task == SLM_TASK_ANSWER) {
        slm_status st = slm_doc_rank(a->doc, a->encoder, q, qlen, a->order, a->scores, err);
        if (st) return st;
        got = n < 3 ? n : 3;
        ans->confidence = a->scores[0];
        fail = add_sentence(a, a->order[0]);
    } else if (task == SLM_TASK_SUMMARIZE) {
        int k = p->summary_sentences > 0 ? p->summary_sentences : 1;
        got = slm_doc_summarize(a->doc, k < n ? k : n, a->order, a->scores);
        float sum = 0.0f;
        for (int i = 0; i < got && !fail; i++) {
            sum += a->scores[i];
            fail = (i && buf_add(&a->text, "\n", 1)) || add_sentence(a, a->order[i]);
        }
        ans->confidence = got ? sum / (float)got : 0.0f;
    } else {
        int k = p->questions > 0 ? p->questions : 1;
        if (k > n) k = n;
        size_t cap = (size_t)k * 512 + 1;
        char *qs = malloc(cap);
        if (!qs) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
        got = slm_doc_questions(a->doc, k, qs, cap, a->order);
        fail = buf_set(&a->text, got ? qs : "The document has no key phrases to ask about.");
        free(qs);
        ans->confidence = got ? 1.0f : 0.0f;
        ans->guessing = !got;
    }
    if (fail) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    ans->n_sentences = got;
    ans->sentences = a->order;
    ans->text = a->text.s;
    return SLM_OK;
}

// Tier 4: the decoder's prompt for the task, with the sentences tier 3 ranked
// for a question (else the most central ones).
static slm_status prompt_for(slm_assistant *a, slm_task task, const char *q, size_t qlen,
                             const slm_assistant_params *p, int ranked, slm_answer *ans, slm_error *err) {
    if (!a->decoder) return slm_fail(err, SLM_ERR_INVALID_ARG, "tier 4 needs a decoder: none is loaded");
    if (task != SLM_TASK_CHAT && !a->doc) task = SLM_TASK_CHAT;
    char *question = malloc(qlen + 1);
    if (!question) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    memcpy(question, q, qlen);
    question[qlen] = 0;
    size_t cap = a->prompt.cap > 4096 ? a->prompt.cap : 4096;
    int len = -1;
    for (;;) {   // a prompt longer than the buffer: grow it and build again
        if (cap > a->prompt.cap) {
            char *s = realloc(a->prompt.s, cap);
            if (!s) break;
            a->prompt.s = s;
            a->prompt.cap = cap;
        }
        len = slm_doc_prompt(task == SLM_TASK_CHAT ? NULL : a->doc, a->decoder, task, question,
                             ranked ? a->order : NULL, p->prompt_tokens, a->prompt.s, cap);
        if (len < 0 || (size_t)len + 1 < cap) break;
        cap = (size_t)len + 2;
    }
    free(question);
    if (!a->prompt.s) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    if (len < 0)
        return slm_fail(err, SLM_ERR_CONTEXT_FULL, "the request does not fit in the decoder's prompt (%d tokens)",
                        p->prompt_tokens);
    ans->prompt = a->prompt.s;
    ans->text = NULL;
    return SLM_OK;
}

// The answer's text when the intent's own tier answers: its reply, or a note
// on why nothing more was done.
static slm_status reply_for(slm_assistant *a, const finding *f, const char *why, slm_answer *ans, slm_error *err) {
    const char *reply = f->intent ? slm_patterns_reply(a->patterns, f->intent) : NULL;
    char note[256];
    if (why) snprintf(note, sizeof note, "%s", why);
    else if (!reply && f->intent) snprintf(note, sizeof note, "Intent '%s' (the pattern file has no reply for it).", f->intent);
    else if (!reply) snprintf(note, sizeof note, "I don't know what you mean; try rephrasing, or open a document.");
    if (buf_set(&a->text, why || !reply ? note : reply)) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    ans->text = a->text.s;
    return SLM_OK;
}

// ---- a request -----------------------------------------------------------------------

static int blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') return 0;
    return 1;
}

// Tiers 1 and 2: the caller's intent, else the cache and the rules, else
// (or when a rule is not sure) the encoder.
static slm_status find_intent(slm_assistant *a, const char *text, size_t len, const char *intent,
                              const slm_assistant_params *p, int max, slm_answer *ans, finding *f, slm_error *err) {
    int force = p->force_tier;
    *f = (finding){NULL, SLM_TIER_PATTERNS, 0.0f, 0};
    if (intent) {
        snprintf(a->intent, sizeof a->intent, "%s", intent);
        *f = (finding){a->intent, SLM_TIER_CALLER, 1.0f, 1};
        return SLM_OK;
    }
    double t = slm_now_ms();
    if (force != SLM_TIER_NANO) {
        find_by_patterns(a, text, len, p, f);
        ans->tier_ms[1] = slm_now_ms() - t;
    }
    if (f->sure || force == SLM_TIER_PATTERNS || max < 2) return SLM_OK;
    if (!a->encoder) {
        if (force == SLM_TIER_NANO) return slm_fail(err, SLM_ERR_INVALID_ARG, "tier 2 needs an encoder: none is loaded");
        return SLM_OK;
    }
    t = slm_now_ms();
    slm_status st = find_by_nano(a, text, len, p, f, err);   // unsure, it still knows more than a weak rule
    ans->tier_ms[2] = slm_now_ms() - t;
    return st;
}

// Tier 4's answer: the prompt. Its confidence is the intent's: a decoder
// has no calibrated one.
static slm_status decode(slm_assistant *a, slm_task task, const char *text, size_t len, const slm_assistant_params *p,
                         int ranked, slm_answer *ans, slm_error *err) {
    double t = slm_now_ms();
    slm_status st = prompt_for(a, task, text, len, p, ranked, ans, err);
    ans->tier_ms[4] = slm_now_ms() - t;
    ans->tier = SLM_TIER_DECODER;
    ans->confidence = ans->intent_confidence;
    if (!ranked) ans->n_sentences = 0;
    return st;
}

static slm_status answer(slm_assistant *a, const char *text, size_t len, const char *intent,
                         const slm_assistant_params *p, slm_answer *ans, slm_error *err) {
    int force = p->force_tier, max = force ? 4 : p->max_tier, can_decode = a->decoder && max >= 4;
    finding f;
    slm_status st = find_intent(a, text, len, intent, p, max, ans, &f, err);
    if (st) return st;
    ans->intent = f.intent ? f.intent : "";
    ans->intent_tier = f.tier;
    ans->tier = f.tier == SLM_TIER_CALLER ? SLM_TIER_PATTERNS : f.tier;   // the caller's intent: tier 1's reply
    ans->intent_confidence = ans->confidence = f.confidence;
    ans->guessing = !f.sure;
    slm_task task = task_of(f.intent);

    // tiers 1 and 2 answer alone when forced, or when escalation stops there
    if (force == SLM_TIER_PATTERNS || force == SLM_TIER_NANO || max < 3) {
        char why[160];
        if (!f.intent) snprintf(why, sizeof why, "No rule matches this request.");
        else snprintf(why, sizeof why, "Intent '%s': tier 3 answers it, but tier %d is the last one allowed.", f.intent,
                      force ? force : max);
        if (force) ans->tier = (slm_tier)force;
        return reply_for(a, &f, !f.intent || task != SLM_TASK_CHAT ? why : NULL, ans, err);
    }
    // no tier is sure of the intent: a question about the document, or a chat
    if (!f.sure) {
        task = a->doc ? SLM_TASK_ANSWER : SLM_TASK_CHAT;
        if (a->doc) ans->intent = INTENT_ASK;
    }
    if (force == SLM_TIER_RETRIEVAL && task == SLM_TASK_CHAT) task = SLM_TASK_ANSWER;
    if (task == SLM_TASK_CHAT) {
        if (force == SLM_TIER_DECODER || (!f.sure && can_decode)) return decode(a, task, text, len, p, 0, ans, err);
        return reply_for(a, &f, NULL, ans, err);
    }
    if (!a->doc) {
        if (force == SLM_TIER_DECODER) return decode(a, SLM_TASK_CHAT, text, len, p, 0, ans, err);
        if (force) ans->tier = (slm_tier)force, ans->confidence = 0.0f, ans->guessing = 1;
        return reply_for(a, &f, "There is no document open: paste or open one, then ask again.", ans, err);
    }
    // tier 3 (a forced tier 4 runs it only to rank the sentences for a question)
    int ranked = task == SLM_TASK_ANSWER;
    if (ranked || force != SLM_TIER_DECODER) {
        double t = slm_now_ms();
        st = extract(a, task, text, len, p, ans, err);
        ans->tier_ms[3] = slm_now_ms() - t;
        if (st) return st;
        ans->tier = SLM_TIER_RETRIEVAL;
        int confident = !ranked || ans->confidence >= p->answer_threshold;
        if (force == SLM_TIER_RETRIEVAL || (!force && (confident || !can_decode))) {
            ans->guessing |= !confident;
            return SLM_OK;
        }
    }
    return decode(a, task, text, len, p, ranked, ans, err);
}

slm_status slm_assistant_ask(slm_assistant *a, const char *text, size_t len, const char *intent,
                             const slm_assistant_params *params, slm_answer *ans, slm_error *err) {
    if (!ans) return slm_fail(err, SLM_ERR_INVALID_ARG, "no place for the answer");
    memset(ans, 0, sizeof *ans);
    ans->intent = "";
    if (!a) return slm_fail(err, SLM_ERR_INVALID_ARG, "no assistant");
    if (!text || blank(text, len)) return slm_fail(err, SLM_ERR_INVALID_ARG, "the request is empty");
    slm_assistant_params p = params ? *params : slm_assistant_default_params();
    if (p.force_tier < 0 || p.force_tier > 4)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "force_tier %d is not 0 (none) or a tier 1-4", p.force_tier);
    if (p.max_tier < 1 || p.max_tier > 4) return slm_fail(err, SLM_ERR_INVALID_ARG, "max_tier %d is not a tier 1-4", p.max_tier);
    if (intent && (!*intent || strlen(intent) >= SLM_INTENT_MAX))
        return slm_fail(err, SLM_ERR_INVALID_ARG, "an intent name has 1 to %d bytes", SLM_INTENT_MAX - 1);
    double t0 = slm_now_ms();
    slm_status st = answer(a, text, len, intent, &p, ans, err);
    ans->ms = slm_now_ms() - t0;
    if (st) {
        memset(ans, 0, sizeof *ans);
        ans->intent = "";
    }
    return st;
}
