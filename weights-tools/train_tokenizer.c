// slm train-tokenizer: a SentencePiece-style BPE vocabulary learnt from text
// files, made so that the runtime tokenizer (src/tokenizer.c) segments the
// training text exactly as the trainer did.
//
// Normalization is the runtime's: a dummy "▁" in front of each line, every
// space a "▁", nothing else changed. Lines are cut before each "▁" into
// words, which are counted. No piece holds a "▁" past its first character,
// so no merge crosses a word: a line's tokens are its words' tokens.
//
// Base pieces are the most frequent characters, enough to cover
// char_coverage of the text; rarer characters fall back to the byte tokens.
// Then, until the vocabulary is full, the most frequent pair of adjacent
// pieces (A, B) in the words' current segmentations becomes the piece A+B
// with score -(merge index); ties go to the lower piece ids (A, then B).
//
// The runtime does not replay merges: it merges, again and again, the
// adjacent pair whose concatenation is the highest-scoring piece, whatever
// split made that piece. So the trainer segments words by that same rule.
// After adding P it re-segments every word holding an adjacent pair X, Y
// with X+Y = P (any split of P, not only A, B); P has the lowest score, so in
// every other word the rule does what it did before. Each word's segmentation
// is thus always the runtime's (tests/test_train_tokenizer.c checks it).
//
// Vocabulary: <unk> <s> </s>, <0x00>..<0xFF>, the merged pieces in merge
// order, then the base characters, most frequent first.
// tokenizer.ggml.add_bos_token is true (decoders want BOS; the encoder asks
// for none whatever the file says), add_space_prefix true.
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/model.h"
#include "wtools.h"

#define SP "\xe2\x96\x81"      // U+2581, SentencePiece's space
#define N_SPECIAL 3            // <unk> <s> </s>
#define FIRST_PIECE (N_SPECIAL + 256)
#define MAX_WORD 256           // bytes; longer runs without spaces (URLs, data) are not learnt from

// ---- interned strings -----------------------------------------------------------

// Distinct strings, each with an id (in order of first addition).
typedef struct {
    char *text;                 // the strings end to end
    size_t used, cap;
    uint32_t *off, *len;        // (n)
    int n, cap_n;
    int32_t *slot;              // open addressing: id or -1
    uint32_t mask;
} strtab;

static uint32_t fnv1a(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static const char *st_str(const strtab *t, int id) { return t->text + t->off[id]; }

static int32_t st_find(const strtab *t, const char *s, uint32_t len) {
    if (!t->slot) return -1;
    for (uint32_t i = fnv1a(s, len) & t->mask;; i = (i + 1) & t->mask) {
        int32_t id = t->slot[i];
        if (id < 0 || (t->len[id] == len && !memcmp(t->text + t->off[id], s, len))) return id;
    }
}

static int st_rehash(strtab *t, uint32_t size) {
    int32_t *slot = malloc(size * sizeof *slot);
    if (!slot) return -1;
    memset(slot, 0xff, size * sizeof *slot);
    for (int id = 0; id < t->n; id++) {
        uint32_t i = fnv1a(st_str(t, id), t->len[id]) & (size - 1);
        while (slot[i] >= 0) i = (i + 1) & (size - 1);
        slot[i] = id;
    }
    free(t->slot);
    t->slot = slot;
    t->mask = size - 1;
    return 0;
}

// The id of s, added if new (*added = 1); -1 when out of memory.
static int32_t st_add(strtab *t, const char *s, uint32_t len, int *added) {
    int32_t id = st_find(t, s, len);
    *added = id < 0;
    if (id >= 0) return id;
    if (2 * (uint32_t)(t->n + 1) > (t->slot ? t->mask + 1 : 0) && st_rehash(t, t->slot ? 2 * (t->mask + 1) : 1024))
        return -1;
    if (t->n == t->cap_n) {
        int cap = t->cap_n ? 2 * t->cap_n : 1024;
        uint32_t *off = realloc(t->off, (size_t)cap * sizeof *off);
        if (off) t->off = off;
        uint32_t *ln = realloc(t->len, (size_t)cap * sizeof *ln);
        if (ln) t->len = ln;
        if (!off || !ln) return -1;
        t->cap_n = cap;
    }
    if (t->used + len + 1 > t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 1 << 16;
        while (cap < t->used + len + 1) cap *= 2;
        if (cap > UINT32_MAX) return -1;
        char *text = realloc(t->text, cap);
        if (!text) return -1;
        t->text = text;
        t->cap = cap;
    }
    memcpy(t->text + t->used, s, len);
    t->text[t->used + len] = 0;
    t->off[t->n] = (uint32_t)t->used;
    t->len[t->n] = len;
    t->used += len + 1;
    uint32_t i = fnv1a(s, len) & t->mask;
    while (t->slot[i] >= 0) i = (i + 1) & t->mask;
    t->slot[i] = t->n;
    return t->n++;
}

static void st_free(strtab *t) {
    free(t->text);
    free(t->off);
    free(t->len);
    free(t->slot);
}

// ---- UTF-8, as the runtime splits text into characters ------------------------

// Bytes of the well-formed character at s (n bytes available), else 1 (an
// invalid byte is a symbol of its own): src/tokenizer.c's char_len.
static int char_len(const unsigned char *s, size_t n) {
    int len = s[0] < 0x80 ? 1 : s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
            : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;
    if (len == 0 || (size_t)len > n) return 1;
    unsigned lo = 0x80, hi = 0xBF;
    if (s[0] == 0xE0) lo = 0xA0;
    else if (s[0] == 0xED) hi = 0x9F;
    else if (s[0] == 0xF0) lo = 0x90;
    else if (s[0] == 0xF4) hi = 0x8F;
    if (len > 1 && (s[1] < lo || s[1] > hi)) return 1;
    for (int i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 1;
    return len;
}

static int n_chars(const char *s, uint32_t len) {
    int n = 0;
    for (uint32_t i = 0; i < len; n++) i += (uint32_t)char_len((const unsigned char *)s + i, len - i);
    return n;
}

// ---- the trainer's state -------------------------------------------------------

typedef struct {
    uint64_t key;           // a << 32 | b, piece ids
    int64_t count;          // adjacent occurrences in the words, times their frequency
    int32_t *words;         // words that gained the pair at some point (some may have lost it)
    int n_words, cap_words;
    int32_t dirty;          // merge index of the last change
    uint8_t dead;           // became a piece, or never can
} pair;

typedef struct {
    int64_t count;
    uint64_t key;
} heap_item;

typedef struct {
    int max_chars;
    strtab words;
    int64_t *freq;          // (words)
    int cap_freq;
    int32_t *seg;           // every word's pieces: piece id, or -(bytes) for a character without one
    uint32_t *seg_off;      // (words) into seg; room for one symbol per character
    int32_t *seg_n;         // (words)
    int32_t *stamp;         // (words) merge index that last re-segmented it
    strtab pieces;          // base characters, then merged pieces
    int32_t *rank;          // (pieces) merge index; -1 for base characters
    int cap_pieces, n_base;
    pair *pairs;
    int n_pairs, cap_pairs;
    int32_t *pslot;
    uint32_t pmask;
    heap_item *heap;
    size_t n_heap, cap_heap;
    int32_t *dirty;         // pairs changed by the current merge
    int n_dirty, cap_dirty;
    int oom;
} trainer;

static void *grow(void *p, int *cap, int need, size_t elem, int *oom) {
    if (need <= *cap) return p;
    int cap2 = *cap ? *cap : 16;
    while (cap2 < need) cap2 *= 2;
    void *q = realloc(p, (size_t)cap2 * elem);
    if (!q) { *oom = 1; return p; }
    *cap = cap2;
    return q;
}

static uint32_t hash_key(uint64_t key) { return (uint32_t)((key * 0x9E3779B97F4A7C15u) >> 32); }

// The pair (a, b): its index, created when create is set; -1 if absent (or out of memory).
static int pair_find(trainer *t, uint64_t key, int create) {
    if (t->pslot)
        for (uint32_t i = hash_key(key) & t->pmask;; i = (i + 1) & t->pmask) {
            int32_t id = t->pslot[i];
            if (id < 0) break;
            if (t->pairs[id].key == key) return id;
        }
    if (!create) return -1;
    if (2 * (uint32_t)(t->n_pairs + 1) > (t->pslot ? t->pmask + 1 : 0)) {
        uint32_t size = t->pslot ? 2 * (t->pmask + 1) : 1 << 16;
        int32_t *slot = malloc(size * sizeof *slot);
        if (!slot) { t->oom = 1; return -1; }
        memset(slot, 0xff, size * sizeof *slot);
        for (int id = 0; id < t->n_pairs; id++) {
            uint32_t i = hash_key(t->pairs[id].key) & (size - 1);
            while (slot[i] >= 0) i = (i + 1) & (size - 1);
            slot[i] = id;
        }
        free(t->pslot);
        t->pslot = slot;
        t->pmask = size - 1;
    }
    t->pairs = grow(t->pairs, &t->cap_pairs, t->n_pairs + 1, sizeof *t->pairs, &t->oom);
    if (t->oom) return -1;
    t->pairs[t->n_pairs] = (pair){.key = key, .dirty = -1};
    uint32_t i = hash_key(key) & t->pmask;
    while (t->pslot[i] >= 0) i = (i + 1) & t->pmask;
    t->pslot[i] = t->n_pairs;
    return t->n_pairs++;
}

// The count of pair (a, b) changes by delta in word w (listed under the pair if `list`).
static void pair_change(trainer *t, int32_t a, int32_t b, int64_t delta, int32_t w, int list, int32_t merge) {
    if (a < 0 || b < 0) return;
    int id = pair_find(t, (uint64_t)a << 32 | (uint32_t)b, delta > 0);
    if (id < 0) return;
    pair *p = &t->pairs[id];
    p->count += delta;
    if (list) {
        p->words = grow(p->words, &p->cap_words, p->n_words + 1, sizeof *p->words, &t->oom);
        if (!t->oom) p->words[p->n_words++] = w;
    }
    if (p->dirty != merge) {
        p->dirty = merge;
        t->dirty = grow(t->dirty, &t->cap_dirty, t->n_dirty + 1, sizeof *t->dirty, &t->oom);
        if (!t->oom) t->dirty[t->n_dirty++] = id;
    }
}

// The higher count first; on ties the lower ids (a, then b).
static int heap_before(const heap_item *x, const heap_item *y) {
    return x->count > y->count || (x->count == y->count && x->key < y->key);
}

static void heap_push(trainer *t, heap_item it) {
    if (t->n_heap == t->cap_heap) {
        size_t cap = t->cap_heap ? 2 * t->cap_heap : 1 << 16;
        heap_item *h = realloc(t->heap, cap * sizeof *h);
        if (!h) { t->oom = 1; return; }
        t->heap = h;
        t->cap_heap = cap;
    }
    size_t i = t->n_heap++;
    while (i > 0 && heap_before(&it, &t->heap[(i - 1) / 2])) {
        t->heap[i] = t->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    t->heap[i] = it;
}

static heap_item heap_pop(trainer *t) {
    heap_item top = t->heap[0], last = t->heap[--t->n_heap];
    size_t i = 0, n = t->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && heap_before(&t->heap[c + 1], &t->heap[c])) c++;
        if (!heap_before(&t->heap[c], &last)) break;
        t->heap[i] = t->heap[c];
        i = c;
    }
    if (n) t->heap[i] = last;
    return top;
}

// Queues every pair the current merge changed, at its new count.
static void push_dirty(trainer *t) {
    for (int i = 0; i < t->n_dirty; i++) {
        const pair *p = &t->pairs[t->dirty[i]];
        if (p->count > 0 && !p->dead) heap_push(t, (heap_item){p->count, p->key});
    }
    t->n_dirty = 0;
}

// ---- reading the text ------------------------------------------------------------

static slm_status bad_data(slm_error *err, const char *path, long line, const char *what) {
    return slm_fail(err, SLM_ERR_BAD_DATA, "%s:%ld: %s", path, line, what);
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

// Counts the words of one line of text (len bytes). norm has room for 3 * len + 3.
static void count_words(trainer *t, const char *text, size_t len, char *norm) {
    size_t n = 0;
    memcpy(norm, SP, 3);
    n = 3;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') memcpy(norm + n, SP, 3), n += 3;
        else norm[n++] = text[i];
    }
    for (size_t start = 0, end; start < n; start = end) {
        end = start + 3;
        while (end < n && !(end + 3 <= n && !memcmp(norm + end, SP, 3))) end++;
        if (end - start > MAX_WORD) continue;
        int added;
        int32_t id = st_add(&t->words, norm + start, (uint32_t)(end - start), &added);
        if (id < 0) { t->oom = 1; return; }
        if (added) {
            t->freq = grow(t->freq, &t->cap_freq, id + 1, sizeof *t->freq, &t->oom);
            if (t->oom) return;
            t->freq[id] = 0;
        }
        t->freq[id]++;
    }
}

static slm_status read_file(trainer *t, const char *path, long *lines, slm_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return slm_fail(err, SLM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    int tsv = ends_with(path, ".tsv");
    char *line = NULL, *norm = NULL;
    size_t cap = 0, norm_cap = 0;
    ssize_t got;
    slm_status st = SLM_OK;
    for (long no = 1; !st && (got = getline(&line, &cap, f)) >= 0; no++) {
        size_t len = (size_t)got;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
        if (tsv && len) {
            char *tab = memchr(line, '\t', len);
            if (!tab) { st = bad_data(err, path, no, "no tab: a .tsv line is text<TAB>label"); break; }
            len = (size_t)(tab - line);
        }
        if (!len) continue;
        if (3 * len + 3 > norm_cap) {
            free(norm);
            norm_cap = 3 * len + 3;
            if (!(norm = malloc(norm_cap))) { t->oom = 1; break; }
        }
        count_words(t, line, len, norm);
        if (t->oom) break;
        (*lines)++;
    }
    if (!st && ferror(f)) st = slm_fail(err, SLM_ERR_IO, "%s: read error", path);
    if (!st && t->oom) st = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    free(line);
    free(norm);
    fclose(f);
    return st;
}

// ---- base characters ----------------------------------------------------------------

typedef struct {
    const strtab *chars;
    const int64_t *count;
} char_order;

static char_order sort_ctx;   // qsort has no user pointer; set just before sorting

// Most frequent first; ties in byte order.
static int cmp_chars(const void *pa, const void *pb) {
    int a = *(const int *)pa, b = *(const int *)pb;
    int64_t ca = sort_ctx.count[a], cb = sort_ctx.count[b];
    if (ca != cb) return ca > cb ? -1 : 1;
    uint32_t la = sort_ctx.chars->len[a], lb = sort_ctx.chars->len[b];
    int c = memcmp(st_str(sort_ctx.chars, a), st_str(sort_ctx.chars, b), la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

// The pieces of the first n_base characters in sorted order, "▁" always among them.
static slm_status choose_base(trainer *t, double coverage, int room, slm_note_fn note, void *user, slm_error *err) {
    strtab chars = {0};
    int64_t *count = NULL;
    int cap_count = 0;
    int64_t total = 0;
    for (int w = 0; w < t->words.n && !t->oom; w++) {
        const char *s = st_str(&t->words, w);
        for (uint32_t i = 0, len = t->words.len[w], cl; i < len && !t->oom; i += cl) {
            cl = (uint32_t)char_len((const unsigned char *)s + i, len - i);
            int added;
            int32_t id = st_add(&chars, s + i, cl, &added);
            if (id < 0) { t->oom = 1; break; }
            count = grow(count, &cap_count, id + 1, sizeof *count, &t->oom);
            if (t->oom) break;
            if (added) count[id] = 0;
            count[id] += t->freq[w];
            total += t->freq[w];
        }
    }
    int *order = t->oom ? NULL : malloc((size_t)chars.n * sizeof *order);
    slm_status st = SLM_OK;
    if (!order) st = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; !st && i < chars.n; i++) order[i] = i;
    if (!st) {
        sort_ctx = (char_order){&chars, count};
        qsort(order, (size_t)chars.n, sizeof *order, cmp_chars);
    }
    int64_t covered = 0, dropped = 0;
    int sp = st ? -1 : st_find(&chars, SP, 3);
    if (!st && sp >= 0) {   // "▁" first: every word starts with it
        int added;
        if (st_add(&t->pieces, SP, 3, &added) < 0) t->oom = 1;
        covered += count[sp];
    }
    for (int k = 0; !st && !t->oom && k < chars.n; k++) {
        int c = order[k];
        const unsigned char *s = (const unsigned char *)st_str(&chars, c);
        // pieces hold no NUL and only well-formed characters
        int ok = c != sp && s[0] != 0 && !(chars.len[c] == 1 && s[0] >= 0x80);
        if (ok && t->pieces.n < room && (double)covered < coverage * (double)total) {
            int added;
            if (st_add(&t->pieces, (const char *)s, chars.len[c], &added) < 0) t->oom = 1;
            covered += count[c];
        } else if (c != sp) {
            dropped += count[c];
        }
    }
    if (!st && t->oom) st = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    if (!st && note) {
        char msg[200];
        snprintf(msg, sizeof msg, "%d base characters cover %.4f%% of the text; %d rarer ones (%lld occurrences) fall back to bytes",
                 t->pieces.n, total ? 100.0 * (double)covered / (double)total : 100.0, chars.n - t->pieces.n,
                 (long long)dropped);
        note(user, msg);
    }
    t->n_base = t->pieces.n;
    free(order);
    free(count);
    st_free(&chars);
    return st;
}

// ---- segmentation by the runtime's rule ------------------------------------------------

// Merge index of the piece s[0..len), or -1 if it is not a merged piece.
static int32_t merged_rank(const trainer *t, const char *s, uint32_t len) {
    int32_t id = st_find(&t->pieces, s, len);
    return id >= 0 ? t->rank[id] : -1;
}

// The runtime's BPE on one word: merge the adjacent pair making the
// lowest-ranked piece (the leftmost on ties) until none makes a piece.
// Writes piece ids (or -(bytes) for a character without one) to out.
static int segment(const trainer *t, const char *s, uint32_t len, int32_t *out) {
    uint32_t start[MAX_WORD], size[MAX_WORD];
    int32_t rk[MAX_WORD];
    int n = 0;
    for (uint32_t i = 0; i < len; i += size[n++]) {
        start[n] = i;
        size[n] = (uint32_t)char_len((const unsigned char *)s + i, len - i);
    }
    for (int i = 0; i + 1 < n; i++) rk[i] = merged_rank(t, s + start[i], size[i] + size[i + 1]);
    for (;;) {
        int best = -1;
        for (int i = 0; i + 1 < n; i++)
            if (rk[i] >= 0 && (best < 0 || rk[i] < rk[best])) best = i;
        if (best < 0) break;
        size[best] += size[best + 1];
        n--;
        for (int i = best + 1; i < n; i++) start[i] = start[i + 1], size[i] = size[i + 1], rk[i] = rk[i + 1];
        if (best > 0) rk[best - 1] = merged_rank(t, s + start[best - 1], size[best - 1] + size[best]);
        if (best + 1 < n) rk[best] = merged_rank(t, s + start[best], size[best] + size[best + 1]);
    }
    for (int i = 0; i < n; i++) {
        int32_t id = st_find(&t->pieces, s + start[i], size[i]);
        out[i] = id >= 0 ? id : -(int32_t)size[i];
    }
    return n;
}

static int has_pair(const int32_t *seg, int n, int32_t a, int32_t b) {
    for (int i = 0; i + 1 < n; i++)
        if (seg[i] == a && seg[i + 1] == b) return 1;
    return 0;
}

// Segments word w again, moving its pair counts from the old segmentation to the new.
static void resegment(trainer *t, int32_t w, int32_t merge) {
    int32_t old[MAX_WORD], *seg = t->seg + t->seg_off[w];
    int n_old = t->seg_n[w];
    int64_t f = t->freq[w];
    memcpy(old, seg, (size_t)n_old * sizeof *old);
    for (int i = 0; i + 1 < n_old; i++) pair_change(t, old[i], old[i + 1], -f, w, 0, merge);
    int n = segment(t, st_str(&t->words, w), t->words.len[w], seg);
    for (int i = 0; i + 1 < n; i++)
        pair_change(t, seg[i], seg[i + 1], f, w, !has_pair(old, n_old, seg[i], seg[i + 1]), merge);
    t->seg_n[w] = n;
}

// ---- training ------------------------------------------------------------------------

static int is_reserved(const char *s, uint32_t len) {
    if ((len == 5 && !memcmp(s, "<unk>", 5)) || (len == 3 && !memcmp(s, "<s>", 3)) || (len == 4 && !memcmp(s, "</s>", 4)))
        return 1;
    return len == 6 && !memcmp(s, "<0x", 3) && s[5] == '>';   // the byte tokens' spelling
}

// Initial segmentations (characters) and pair counts.
static void start_words(trainer *t) {
    size_t total = 0;
    for (int w = 0; w < t->words.n; w++) total += t->words.len[w];
    t->seg = malloc((total ? total : 1) * sizeof *t->seg);
    t->seg_off = malloc((size_t)(t->words.n + 1) * sizeof *t->seg_off);
    t->seg_n = malloc((size_t)(t->words.n + 1) * sizeof *t->seg_n);
    t->stamp = malloc((size_t)(t->words.n + 1) * sizeof *t->stamp);
    if (!t->seg || !t->seg_off || !t->seg_n || !t->stamp) { t->oom = 1; return; }
    size_t off = 0;
    for (int w = 0; w < t->words.n && !t->oom; w++) {
        t->seg_off[w] = (uint32_t)off;
        t->stamp[w] = -1;
        t->seg_n[w] = segment(t, st_str(&t->words, w), t->words.len[w], t->seg + off);
        off += t->words.len[w];
        const int32_t *seg = t->seg + t->seg_off[w];
        for (int i = 0; i + 1 < t->seg_n[w]; i++) pair_change(t, seg[i], seg[i + 1], t->freq[w], w, 1, -2);
    }
    push_dirty(t);
}

// One merge: the best live pair becomes a piece, the words where it can form
// are segmented again. 0 done, 1 no pair left.
static int merge_once(trainer *t, int32_t merge) {
    for (;;) {
        if (!t->n_heap) return 1;
        heap_item it = heap_pop(t);
        int id = pair_find(t, it.key, 0);
        pair *p = &t->pairs[id];
        if (p->dead || p->count != it.count) continue;   // stale
        int32_t a = (int32_t)(it.key >> 32), b = (int32_t)(uint32_t)it.key;
        uint32_t la = t->pieces.len[a], lb = t->pieces.len[b];
        char buf[2 * 4 * 64 + 1];
        if (la + lb >= sizeof buf) { p->dead = 1; continue; }
        memcpy(buf, st_str(&t->pieces, a), la);
        memcpy(buf + la, st_str(&t->pieces, b), lb);
        uint32_t len = la + lb;
        if (n_chars(buf, len) > t->max_chars || is_reserved(buf, len) || st_find(&t->pieces, buf, len) >= 0) {
            p->dead = 1;
            continue;
        }
        int added;
        int32_t piece = st_add(&t->pieces, buf, len, &added);
        t->rank = grow(t->rank, &t->cap_pieces, t->pieces.n, sizeof *t->rank, &t->oom);
        if (piece < 0 || t->oom) { t->oom = 1; return 0; }
        t->rank[piece] = merge;
        // every split X|Y of the new piece: the words where X, Y are adjacent
        for (uint32_t k = (uint32_t)char_len((const unsigned char *)buf, len); k < len;
             k += (uint32_t)char_len((const unsigned char *)buf + k, len - k)) {
            int32_t x = st_find(&t->pieces, buf, k), y = st_find(&t->pieces, buf + k, len - k);
            int q = x >= 0 && y >= 0 ? pair_find(t, (uint64_t)x << 32 | (uint32_t)y, 0) : -1;
            if (q < 0) continue;
            // the list may grow while we re-segment: take it over first
            int32_t *words = t->pairs[q].words;
            int n_words = t->pairs[q].n_words;
            t->pairs[q].words = NULL;
            t->pairs[q].n_words = t->pairs[q].cap_words = 0;
            t->pairs[q].dead = 1;
            for (int i = 0; i < n_words; i++)
                if (t->stamp[words[i]] != merge) {
                    t->stamp[words[i]] = merge;
                    resegment(t, words[i], merge);
                }
            free(words);
        }
        push_dirty(t);
        return 0;
    }
}

static slm_status write_vocab(const trainer *t, const char *path, slm_error *err) {
    int n_merges = t->pieces.n - t->n_base, n = FIRST_PIECE + t->pieces.n;
    const char **tok = malloc((size_t)n * sizeof *tok);
    float *score = malloc((size_t)n * sizeof *score);
    int32_t *type = malloc((size_t)n * sizeof *type);
    char (*bytes)[8] = malloc(256 * sizeof *bytes);
    gguf_writer *w = gguf_writer_new();
    if (!tok || !score || !type || !bytes || !w) {
        free(tok); free(score); free(type); free(bytes); gguf_writer_free(w);
        return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    }
    static const char *special[N_SPECIAL] = {"<unk>", "<s>", "</s>"};
    for (int i = 0; i < N_SPECIAL; i++) tok[i] = special[i], score[i] = 0.0f, type[i] = i ? 3 : 2;
    for (int b = 0; b < 256; b++) {
        snprintf(bytes[b], sizeof bytes[b], "<0x%02X>", b);
        tok[N_SPECIAL + b] = bytes[b], score[N_SPECIAL + b] = 0.0f, type[N_SPECIAL + b] = 6;
    }
    for (int p = 0; p < t->pieces.n; p++) {
        int id = p >= t->n_base ? FIRST_PIECE + (p - t->n_base) : FIRST_PIECE + n_merges + p;
        tok[id] = st_str(&t->pieces, p);
        score[id] = -(float)(p >= t->n_base ? t->rank[p] : n_merges + p);
        type[id] = 1;
    }
    char name[64], msg[256];
    snprintf(name, sizeof name, "slm360 BPE %d", n);
    slm_status st = SLM_OK;
    if (gguf_w_str(w, "general.architecture", "llama") || gguf_w_str(w, "general.name", name) ||
        gguf_w_str(w, "tokenizer.ggml.model", "llama") || gguf_w_arr_str(w, "tokenizer.ggml.tokens", tok, NULL, (uint64_t)n) ||
        gguf_w_arr_f32(w, "tokenizer.ggml.scores", score, (uint64_t)n) ||
        gguf_w_arr_i32(w, "tokenizer.ggml.token_type", type, (uint64_t)n) ||
        gguf_w_u32(w, "tokenizer.ggml.unknown_token_id", 0) || gguf_w_u32(w, "tokenizer.ggml.bos_token_id", 1) ||
        gguf_w_u32(w, "tokenizer.ggml.eos_token_id", 2) || gguf_w_bool(w, "tokenizer.ggml.add_bos_token", 1) ||
        gguf_w_bool(w, "tokenizer.ggml.add_space_prefix", 1))
        st = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    else if (gguf_writer_write(w, path, msg, sizeof msg))
        st = slm_fail(err, SLM_ERR_IO, "%s", msg);
    gguf_writer_free(w);
    free(tok);
    free(score);
    free(type);
    free(bytes);
    return st;
}

// The vocabulary ids of every word's final segmentation, for tests.
static void report_words(const trainer *t, wt_word_fn on_word, void *user) {
    int n_merges = t->pieces.n - t->n_base;
    int32_t ids[MAX_WORD];
    for (int w = 0; w < t->words.n; w++) {
        const char *s = st_str(&t->words, w);
        const int32_t *seg = t->seg + t->seg_off[w];
        int n = 0;
        for (int i = 0, off = 0; i < t->seg_n[w]; i++) {
            int p = seg[i];
            if (p >= 0) {
                ids[n++] = p >= t->n_base ? FIRST_PIECE + (p - t->n_base) : FIRST_PIECE + n_merges + p;
                off += (int)t->pieces.len[p];
            } else {
                for (int k = 0; k < -p; k++) ids[n++] = N_SPECIAL + (uint8_t)s[off++];
            }
        }
        on_word(user, s, (int)t->words.len[w], ids, n);
    }
}

static void trainer_free(trainer *t) {
    st_free(&t->words);
    st_free(&t->pieces);
    free(t->freq);
    free(t->seg);
    free(t->seg_off);
    free(t->seg_n);
    free(t->stamp);
    free(t->rank);
    for (int i = 0; i < t->n_pairs; i++) free(t->pairs[i].words);
    free(t->pairs);
    free(t->pslot);
    free(t->heap);
    free(t->dirty);
}

static void note(const slm_tokenizer_train_params *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const slm_tokenizer_train_params *p, const char *fmt, ...) {
    if (!p->note) return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->note(p->user, msg);
}

slm_status wt_train_tokenizer(const char *const *files, int n_files, const slm_tokenizer_train_params *params,
                              const char *out_path, wt_word_fn on_word, void *user, slm_error *err) {
    slm_tokenizer_train_params p = params ? *params : (slm_tokenizer_train_params){0};
    if (!p.vocab_size) p.vocab_size = 8192;
    if (p.char_coverage == 0.0) p.char_coverage = 0.9995;
    if (!p.max_piece_chars) p.max_piece_chars = 16;
    if (p.vocab_size < FIRST_PIECE + 1 || p.vocab_size > (1 << 20))
        return slm_fail(err, SLM_ERR_INVALID_ARG,
                        "vocabulary size %d is out of range: %d to %d (<unk> <s> </s>, 256 byte tokens, at least one piece)",
                        p.vocab_size, FIRST_PIECE + 1, 1 << 20);
    if (!(p.char_coverage > 0.0 && p.char_coverage <= 1.0))
        return slm_fail(err, SLM_ERR_INVALID_ARG, "character coverage %g is not in (0, 1]", p.char_coverage);
    if (p.max_piece_chars < 2 || p.max_piece_chars > 64)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "longest piece %d is out of range (2 to 64 characters)", p.max_piece_chars);
    if (n_files < 1) return slm_fail(err, SLM_ERR_INVALID_ARG, "no training files");

    trainer t = {.max_chars = p.max_piece_chars};
    long lines = 0;
    slm_status st = SLM_OK;
    for (int i = 0; i < n_files && !st; i++) {
        st = read_file(&t, files[i], &lines, err);
        if (p.progress) p.progress(p.user, "reading", (double)(i + 1) / n_files);
    }
    if (!st && !t.words.n) st = slm_fail(err, SLM_ERR_BAD_DATA, "no text in the training files");
    if (!st) note(&p, "%ld lines, %d distinct words", lines, t.words.n);
    if (!st) st = choose_base(&t, p.char_coverage, p.vocab_size - FIRST_PIECE, p.note, p.user, err);
    if (!st) {
        t.rank = grow(t.rank, &t.cap_pieces, t.pieces.n, sizeof *t.rank, &t.oom);
        for (int i = 0; !t.oom && i < t.pieces.n; i++) t.rank[i] = -1;
        if (!t.oom) start_words(&t);
    }
    int want = p.vocab_size - FIRST_PIECE - t.n_base, merges = 0;
    while (!st && !t.oom && merges < want) {
        if (merge_once(&t, merges)) {
            note(&p, "no pair left to merge: the vocabulary has %d tokens, not %d", FIRST_PIECE + t.pieces.n, p.vocab_size);
            break;
        }
        merges++;
        if (p.progress && (merges % 64 == 0 || merges == want)) p.progress(p.user, "merging", (double)merges / want);
    }
    if (!st && t.oom) st = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    if (!st) st = write_vocab(&t, out_path, err);
    if (!st && on_word) report_words(&t, on_word, user);
    trainer_free(&t);
    return st;
}

slm_status slm_train_tokenizer(const char *const *files, int n_files, const slm_tokenizer_train_params *p,
                               const char *out_path, slm_error *err) {
    return wt_train_tokenizer(files, n_files, p, out_path, NULL, NULL, err);
}
