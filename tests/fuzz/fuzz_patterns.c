// libFuzzer target for tier 1. The input is a pattern file, then optionally
// a line "%%" and request lines to match (hostile files and texts); the
// same bytes are also parsed as a cache file, and a parsed cache must
// write itself back to text that parses to the same entries.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    const char *sep = NULL;
    for (size_t i = 0; i + 3 <= size; i++)
        if (!memcmp(text + i, "%%\n", 3) && (i == 0 || text[i - 1] == '\n')) { sep = text + i; break; }
    size_t head = sep ? (size_t)(sep - text) : size;

    slm_error err;
    slm_patterns *p = NULL;
    if (slm_patterns_parse(text, head, "fuzz", &p, &err) == SLM_OK) {
        for (int i = 0; i < slm_patterns_intent_count(p); i++) {
            const char *name = slm_patterns_intent_name(p, i);
            if (!name || !*name) abort();
            slm_patterns_reply(p, name);
        }
        const char *req = sep ? sep + 3 : text, *end = text + size;
        while (req < end) {
            const char *nl = memchr(req, '\n', (size_t)(end - req));
            size_t n = nl ? (size_t)(nl - req) : (size_t)(end - req);
            slm_pattern_match m;
            int r = slm_patterns_match(p, req, n, &m);
            if (r == 1 && (m.intent < 0 || m.intent >= slm_patterns_intent_count(p) || !m.name)) abort();
            if (r == 0 && m.intent != -1) abort();
            req += n + 1;
        }
    } else if (p || err.code == SLM_OK) {
        abort();
    }
    slm_patterns_free(p);

    slm_cache *c = NULL;
    if (slm_cache_parse(text, size, "fuzz", 64, &c, &err) == SLM_OK) {
        size_t n = slm_cache_write(c, NULL, 0);
        char *buf = malloc(n + 1);
        if (buf && slm_cache_write(c, buf, n) == n) {
            slm_cache *d = NULL;
            if (slm_cache_parse(buf, n, "again", 64, &d, &err) != SLM_OK || slm_cache_count(d) != slm_cache_count(c))
                abort();
            slm_cache_free(d);
        }
        free(buf);
        // every normalized text must normalize to itself
        char a[256], b[256];
        size_t la = slm_normalize(text, size < 200 ? size : 200, a, sizeof a);
        if (slm_normalize(a, la, b, sizeof b) != la || memcmp(a, b, la)) abort();
    }
    slm_cache_free(c);
    return 0;
}
