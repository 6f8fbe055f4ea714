// Hashed word and character n-grams (see ngram.h for the exact definition).
#include "ngram.h"

#define FNV_OFFSET 2166136261u
#define FNV_PRIME 16777619u
#define MAX_WORDS 1024     // longer texts: the first MAX_WORDS words count

static uint32_t fnv(uint32_t h, const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)p[i]) * FNV_PRIME;
    return h;
}

static uint32_t fnv_start(char kind, int n) {
    char head[2] = {kind, (char)n};
    return fnv(FNV_OFFSET, head, 2);
}

static char normalize(char c) {
    unsigned char u = (unsigned char)c;
    if (u >= 0x80) return c;
    if (u >= 'A' && u <= 'Z') return (char)(u - 'A' + 'a');
    if ((u >= 'a' && u <= 'z') || (u >= '0' && u <= '9')) return c;
    return ' ';
}

typedef struct {
    const slm_ngram_cfg *cfg;
    uint32_t *out;
    int cap, n;
} sink;

static void emit(sink *s, uint32_t h) {
    if (s->n < s->cap) s->out[s->n] = h % s->cfg->buckets;
    s->n++;
}

// Character n-grams of one word, padded as "<word>".
static void char_ngrams(sink *s, const char *w, int len) {
    char buf[66];
    if (len > 64) len = 64;
    buf[0] = '<';
    for (int i = 0; i < len; i++) buf[1 + i] = normalize(w[i]);
    buf[len + 1] = '>';
    int padded = len + 2;
    for (int n = s->cfg->char_min; n <= s->cfg->char_max; n++)
        for (int i = 0; i + n <= padded; i++) emit(s, fnv(fnv_start('c', n), buf + i, (size_t)n));
}

int ngram_features(const slm_ngram_cfg *cfg, const char *text, size_t len, uint32_t *out, int cap) {
    if (!cfg->buckets) return 0;
    sink s = {cfg, out, cap, 0};
    // word boundaries over the normalized text
    int start[MAX_WORDS], wlen[MAX_WORDS], nw = 0;
    for (size_t i = 0; i < len && nw < MAX_WORDS;) {
        while (i < len && normalize(text[i]) == ' ') i++;
        size_t j = i;
        while (j < len && normalize(text[j]) != ' ') j++;
        if (j > i) start[nw] = (int)i, wlen[nw++] = (int)(j - i);
        i = j;
    }
    for (int n = 1; n <= cfg->word_max; n++)
        for (int w = 0; w + n <= nw; w++) {
            uint32_t h = fnv_start('w', n);
            for (int k = 0; k < n; k++) {
                if (k) h = fnv(h, " ", 1);
                for (int b = 0; b < wlen[w + k]; b++) {
                    char c = normalize(text[start[w + k] + b]);
                    h = fnv(h, &c, 1);
                }
            }
            emit(&s, h);
        }
    if (cfg->char_max > 0)
        for (int w = 0; w < nw; w++) char_ngrams(&s, text + start[w], wlen[w]);
    return s.n;
}
