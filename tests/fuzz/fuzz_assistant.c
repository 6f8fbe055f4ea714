// libFuzzer target for the assistant's routing without models: a pattern
// file, a line "%%", a document, a line "%%", then request lines. Each
// request is answered with the document open and closed, found or given
// intents, every forced tier that needs no model and every escalation
// limit; then confirmed, so that the cache is exercised too. The answer's
// invariants are checked.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slm.h"

// The next part of text (up to a "%%" line), and where the one after starts.
static size_t part(const char *text, size_t size, const char **next) {
    for (size_t i = 0; i + 3 <= size; i++)
        if (!memcmp(text + i, "%%\n", 3) && (i == 0 || text[i - 1] == '\n')) {
            *next = text + i + 3;
            return i;
        }
    *next = text + size;
    return size;
}

static void check(const slm_answer *a, int forced) {
    if (a->tier < SLM_TIER_PATTERNS || a->tier > SLM_TIER_DECODER || !a->intent) abort();
    if (forced && (int)a->tier != forced) abort();
    if (!a->text || a->prompt) abort();   // no decoder: never tier 4's prompt
    if (a->n_sentences < 0 || (a->n_sentences && !a->sentences) || a->ms < 0.0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data, *end = text + size, *doc, *reqs;
    size_t n_pat = part(text, size, &doc);
    size_t n_doc = part(doc, (size_t)(end - doc), &reqs);
    slm_error err;
    slm_assistant *a;
    if (slm_assistant_new(text, n_pat, "fuzz", NULL, NULL, 8, &a, &err)) return 0;
    static const char *const given[] = {NULL, "summarize", "ask_document", "suggest_questions", "greeting"};
    static const int forced[] = {0, 1, 3};
    for (int open = 0; open < 2; open++) {
        if (open && slm_assistant_set_document(a, doc, n_doc, NULL, &err) && slm_assistant_document(a)) abort();
        for (const char *r = reqs; r < end;) {
            const char *nl = memchr(r, '\n', (size_t)(end - r));
            size_t n = nl ? (size_t)(nl - r) : (size_t)(end - r);
            for (size_t g = 0; g < sizeof given / sizeof given[0]; g++)
                for (size_t f = 0; f < sizeof forced / sizeof forced[0]; f++)
                    for (int max = 1; max <= 4; max += 3) {
                        slm_assistant_params p = slm_assistant_default_params();
                        p.force_tier = forced[f];
                        p.max_tier = max;
                        slm_answer ans;
                        if (slm_assistant_ask(a, r, n, given[g], &p, &ans, &err) == SLM_OK) check(&ans, forced[f]);
                        else if (err.code == SLM_OK) abort();
                    }
            slm_cache_add(slm_assistant_cache(a), r, n, "summarize", &err);
            r += n + 1;
        }
    }
    slm_assistant_free(a);
    return 0;
}
