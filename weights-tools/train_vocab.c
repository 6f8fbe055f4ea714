// A stand-in vocabulary built from the training texts, for when no tokenizer
// file is given (`slm train-tokenizer` writes real ones): <unk> <s> </s>, the
// 256 byte tokens, "▁", every character seen, then the words of the texts,
// most frequent first, as chains of prefixes ("▁f", "▁fl", "▁fli", ...). BPE
// over such a vocabulary can only grow a word from its start, one character
// at a time, so a word in the vocabulary is one token and any other word is
// its longest known prefix followed by characters (or bytes).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/model.h"
#include "train.h"

#define SP "\xe2\x96\x81"   // U+2581, SentencePiece's space

typedef struct {
    char **key;
    int *count;
    int cap, n;
} strset;

static uint32_t str_hash(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

// Index of s (added with count 0 when new), or -1 when out of memory.
static int set_add(strset *t, const char *s, size_t n) {
    if (2 * (t->n + 1) > t->cap) {
        int cap = t->cap ? 2 * t->cap : 1024;
        char **key = calloc((size_t)cap, sizeof *key);
        int *count = calloc((size_t)cap, sizeof *count);
        if (!key || !count) { free(key); free(count); return -1; }
        for (int i = 0; i < t->cap; i++)
            if (t->key[i]) {
                uint32_t h = str_hash(t->key[i], strlen(t->key[i])) & (uint32_t)(cap - 1);
                while (key[h]) h = (h + 1) & (uint32_t)(cap - 1);
                key[h] = t->key[i];
                count[h] = t->count[i];
            }
        free(t->key);
        free(t->count);
        t->key = key, t->count = count, t->cap = cap;
    }
    uint32_t h = str_hash(s, n) & (uint32_t)(t->cap - 1);
    while (t->key[h] && (strlen(t->key[h]) != n || memcmp(t->key[h], s, n))) h = (h + 1) & (uint32_t)(t->cap - 1);
    if (!t->key[h]) {
        if (!(t->key[h] = malloc(n + 1))) return -1;
        memcpy(t->key[h], s, n);
        t->key[h][n] = 0;
        t->n++;
    }
    return (int)h;
}

static void set_free(strset *t) {
    for (int i = 0; i < t->cap; i++) free(t->key[i]);
    free(t->key);
    free(t->count);
}

static int utf8_len(unsigned char c) { return c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1; }

static const char *const *g_keys;
static const int *g_counts;
static int by_count(const void *a, const void *b) {
    int i = *(const int *)a, j = *(const int *)b;
    if (g_counts[i] != g_counts[j]) return g_counts[j] - g_counts[i];
    return strcmp(g_keys[i], g_keys[j]);
}

slm_status tr_prefix_vocab(gguf_writer *w, char *const *texts, int n_texts, int vocab, slm_error *err) {
    strset words = {0}, pieces = {0};
    char **tok = calloc((size_t)vocab, sizeof *tok);
    float *score = calloc((size_t)vocab, sizeof *score);
    int32_t *type = calloc((size_t)vocab, sizeof *type);
    int *order = NULL, n = 0;
    slm_status rc = tok && score && type ? SLM_OK : SLM_ERR_OUT_OF_MEMORY;
    char buf[512];
    // words, as the tokenizer sees them: split on ' ', each with "▁" in front
    for (int i = 0; i < n_texts && !rc; i++)
        for (const char *p = texts[i]; *p && !rc;) {
            while (*p == ' ') p++;
            const char *q = p;
            while (*q && *q != ' ') q++;
            if (q > p && q - p < 200) {
                int len = snprintf(buf, sizeof buf, SP "%.*s", (int)(q - p), p), h = set_add(&words, buf, (size_t)len);
                if (h < 0) rc = SLM_ERR_OUT_OF_MEMORY;
                else words.count[h]++;
            }
            p = q;
        }
    static const char *special[3] = {"<unk>", "<s>", "</s>"};
    for (; !rc && n < 3; n++) tok[n] = strdup(special[n]), type[n] = n ? 3 : 2;
    for (int b = 0; !rc && b < 256 && n < vocab; b++, n++) snprintf(buf, sizeof buf, "<0x%02X>", b), tok[n] = strdup(buf), type[n] = 6;
#define PIECE(s, len)                                                                          \
    do {                                                                                       \
        int h_ = set_add(&pieces, s, len);                                                     \
        if (h_ < 0) rc = SLM_ERR_OUT_OF_MEMORY;                                                \
        else if (!pieces.count[h_] && n < vocab) {                                             \
            pieces.count[h_] = 1;                                                              \
            if (!(tok[n] = malloc((len) + 1))) rc = SLM_ERR_OUT_OF_MEMORY;                     \
            else memcpy(tok[n], s, len), tok[n][len] = 0, type[n++] = 1;                       \
        }                                                                                      \
    } while (0)
    if (!rc) PIECE(SP, 3);
    if (!rc && !(order = malloc((size_t)(words.cap ? words.cap : 1) * sizeof *order))) rc = SLM_ERR_OUT_OF_MEMORY;
    int n_words = 0;
    for (int i = 0; !rc && i < words.cap; i++)
        if (words.key[i]) order[n_words++] = i;
    g_keys = (const char *const *)words.key, g_counts = words.count;
    if (!rc) qsort(order, (size_t)n_words, sizeof *order, by_count);
    // every character (valid UTF-8 sequences) seen, so no word falls back to bytes
    for (int i = 0; !rc && i < n_words; i++) {
        const char *s = words.key[order[i]] + 3;
        for (size_t k = 0, len = strlen(s); k < len && !rc;) {
            int cl = utf8_len((unsigned char)s[k]);
            if (k + cl > len) break;
            PIECE(s + k, (size_t)cl);
            k += cl;
        }
    }
    // prefix chains, most frequent word first
    for (int i = 0; !rc && i < n_words && n < vocab; i++) {
        const char *s = words.key[order[i]];
        for (size_t k = 3, len = strlen(s); k < len && !rc && n < vocab;) {
            k += utf8_len((unsigned char)s[k]);
            if (k > len) break;
            PIECE(s, k);
        }
    }
#undef PIECE
    for (int i = 0; !rc && n < vocab; i++, n++) {   // fill up: control pieces text never produces
        snprintf(buf, sizeof buf, "<unused%d>", i);
        if (!(tok[n] = strdup(buf))) rc = SLM_ERR_OUT_OF_MEMORY;
        type[n] = 3;
    }
    for (int i = 0; i < n && !rc; i++) {
        if (!tok[i]) rc = SLM_ERR_OUT_OF_MEMORY;
        score[i] = type[i] == 1 ? -(float)i : 0.0f;
    }
    if (!rc && (gguf_w_str(w, "tokenizer.ggml.model", "llama") ||
                gguf_w_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)tok, NULL, (uint64_t)n) ||
                gguf_w_arr_f32(w, "tokenizer.ggml.scores", score, (uint64_t)n) ||
                gguf_w_arr_i32(w, "tokenizer.ggml.token_type", type, (uint64_t)n) ||
                gguf_w_u32(w, "tokenizer.ggml.bos_token_id", 1) || gguf_w_u32(w, "tokenizer.ggml.eos_token_id", 2) ||
                gguf_w_u32(w, "tokenizer.ggml.unknown_token_id", 0) || gguf_w_bool(w, "tokenizer.ggml.add_bos_token", 0)))
        rc = SLM_ERR_OUT_OF_MEMORY;
    if (tok)
        for (int i = 0; i < vocab; i++) free(tok[i]);
    free(tok);
    free(score);
    free(type);
    free(order);
    set_free(&words);
    set_free(&pieces);
    return rc ? slm_fail(err, rc, "out of memory building the vocabulary") : SLM_OK;
}
