// SentencePiece BPE tokenizer and streaming detokenizer (see tokenizer.h).
#include "tokenizer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PIECE 256            // bytes in one vocabulary entry (SentencePiece: 16 characters)
#define MAX_TOKENS (1 << 24)
#define MAX_TEXT (1 << 28)       // bytes in all pieces together

// Token types, numbered as in GGUF files (llama.cpp's llama_token_type).
enum { TOK_NORMAL = 1, TOK_UNKNOWN = 2, TOK_CONTROL = 3, TOK_USER = 4, TOK_UNUSED = 5, TOK_BYTE = 6 };

typedef struct {
    const char *text;   // NUL-terminated, in the vocabulary's arena
    uint32_t len;
    float score;
    uint8_t type;
    uint8_t byte;       // the value of a BYTE token
} token;

struct slm_vocab {
    int n;
    token *tok;
    char *arena;
    int32_t *table;             // open addressing over all pieces: id, or -1 for an empty slot
    uint32_t mask;
    int32_t byte_id[256];       // <0xNN> tokens, all -1 when the vocabulary has none
    int has_bytes;
    int bos, eos, unk;
    int add_bos, add_space_prefix;
    int max_len;                // longest piece that merges can produce
    // user-defined pieces: the distinct lengths (longest first) and first bytes
    int n_user_lens;
    int user_lens[MAX_PIECE];
    uint8_t user_first[256];
    // unused pieces: each one's slot for remembering how it was merged
    int n_unused;
    int32_t *unused_slot;       // per token, -1 if not unused; NULL when there are none
    // the pairs of adjacent characters inside mergeable pieces (a set), to cut
    // text where no merge can cross; NULL when cutting is off (unused pieces:
    // sentencepiece splits them by the latest merge seen in the whole text)
    uint64_t *pairs;
    uint32_t pair_mask;
};

static int fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

// Bytes of the character that a lead byte starts: 1 for ASCII, 2 to 4, or 0
// for a byte that can never start one (continuation, C0, C1, F5..FF).
static int lead_len(unsigned char c) {
    return c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
}

// Whether b can follow the incomplete sequence p[0..n-1]. The second byte's
// range excludes overlong forms, surrogates and code points over U+10FFFF.
static int continues(const unsigned char *p, int n, unsigned char b) {
    if (n > 1) return b >= 0x80 && b <= 0xBF;
    unsigned lo = 0x80, hi = 0xBF;
    if (p[0] == 0xE0) lo = 0xA0;
    else if (p[0] == 0xED) hi = 0x9F;
    else if (p[0] == 0xF0) lo = 0x90;
    else if (p[0] == 0xF4) hi = 0x8F;
    return b >= lo && b <= hi;
}

// Length of the well-formed UTF-8 character at s (n bytes available), or 0.
static int utf8_char(const unsigned char *s, size_t n) {
    int len = lead_len(s[0]);
    if (len == 0 || (size_t)len > n) return 0;
    for (int i = 1; i < len; i++)
        if (!continues(s, i, s[i])) return 0;
    return len;
}

static int utf8_valid(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        int len = utf8_char(s + i, n - i);
        if (!len) return 0;
        i += len;
    }
    return 1;
}

// The bytes of one symbol before merging: a character, or an invalid byte.
static int char_len(const unsigned char *s, size_t n) {
    int len = utf8_char(s, n);
    return len ? len : 1;
}

static uint32_t char_key(const unsigned char *s, int len) {
    uint32_t k = 0;
    for (int i = 0; i < len; i++) k = k << 8 | s[i];
    return k;
}

static uint32_t hash_pair(uint64_t key) { return (uint32_t)((key * 0x9E3779B97F4A7C15u) >> 32); }

// Whether characters a and b are next to each other in some mergeable piece.
static int has_pair(const slm_vocab *v, uint32_t a, uint32_t b) {
    uint64_t key = (uint64_t)a << 32 | b;
    if (key == 0) return 0;   // pieces hold no NUL; 0 marks an empty slot
    for (uint32_t i = hash_pair(key) & v->pair_mask;; i = (i + 1) & v->pair_mask) {
        if (v->pairs[i] == key) return 1;
        if (v->pairs[i] == 0) return 0;
    }
}

// FNV-1a
static uint32_t hash_bytes(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static int32_t find_piece(const slm_vocab *v, const char *s, size_t n) {
    for (uint32_t i = hash_bytes(s, n) & v->mask;; i = (i + 1) & v->mask) {
        int32_t id = v->table[i];
        if (id < 0) return -1;
        if (v->tok[id].len == n && !memcmp(v->tok[id].text, s, n)) return id;
    }
}

// Pieces that text can be encoded into: sentencepiece keeps control, unknown
// and byte pieces out of its merge table.
static int mergeable(const token *t) {
    return t->type == TOK_NORMAL || t->type == TOK_USER || t->type == TOK_UNUSED;
}

static int32_t find_mergeable(const slm_vocab *v, const char *s, size_t n) {
    int32_t id = find_piece(v, s, n);
    return id >= 0 && mergeable(&v->tok[id]) ? id : -1;
}

// ---- loading ---------------------------------------------------------------

static int hex_digit(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

// Element i of an integer array as int64 (kv->arr_type is an integer type).
static int64_t int_elem(const gguf_kv *kv, uint64_t i) {
    const uint8_t *p = kv->arr_data;
    switch (kv->arr_type) {
    case GGUF_U8: return p[i];
    case GGUF_I8: return (int8_t)p[i];
    case GGUF_U16: { uint16_t x; memcpy(&x, p + 2 * i, 2); return x; }
    case GGUF_I16: { int16_t x; memcpy(&x, p + 2 * i, 2); return x; }
    case GGUF_U32: { uint32_t x; memcpy(&x, p + 4 * i, 4); return x; }
    case GGUF_I32: { int32_t x; memcpy(&x, p + 4 * i, 4); return x; }
    case GGUF_I64: { int64_t x; memcpy(&x, p + 8 * i, 8); return x; }
    default: { uint64_t x; memcpy(&x, p + 8 * i, 8); return x > INT64_MAX ? -1 : (int64_t)x; }
    }
}

static int is_int_type(uint32_t t) {
    return t <= GGUF_I32 || t == GGUF_U64 || t == GGUF_I64;
}

// A token id key: absent leaves *id as it is; present must be in range.
static int read_id(const gguf_file *g, const char *key, int n, int *id, char *err, size_t errlen) {
    uint32_t u;
    int rc = gguf_get_u32(g, key, &u);
    if (rc < 0) return fail(err, errlen, "%s is not a non-negative integer", key);
    if (rc == 0) {
        if (u >= (uint32_t)n) return fail(err, errlen, "%s %u is out of range (%d tokens)", key, u, n);
        *id = (int)u;
    }
    return 0;
}

static int read_flag(const gguf_file *g, const char *key, int *flag, char *err, size_t errlen) {
    if (gguf_get_bool(g, key, flag) < 0) return fail(err, errlen, "%s is not a bool", key);
    return 0;
}

// Checks each piece and fills v->tok (pointing into the file for now).
static int read_tokens(slm_vocab *v, const gguf_kv *toks, const gguf_kv *scores, const gguf_kv *types,
                       char *err, size_t errlen) {
    for (int i = 0; i < v->n; i++) {
        token *t = &v->tok[i];
        gguf_str s = toks->strs[i];
        int64_t type = int_elem(types, i);
        memcpy(&t->score, scores->arr_data + 4 * (size_t)i, 4);
        if (s.len == 0) return fail(err, errlen, "token %d is empty", i);
        if (s.len > MAX_PIECE)
            return fail(err, errlen, "token %d is %llu bytes long (at most %d)", i, (unsigned long long)s.len, MAX_PIECE);
        if (memchr(s.ptr, 0, s.len)) return fail(err, errlen, "token %d contains a NUL byte", i);
        if (type < TOK_NORMAL || type > TOK_BYTE)
            return fail(err, errlen, "token %d has unknown type %lld", i, (long long)type);
        if (t->score != t->score) return fail(err, errlen, "token %d has a NaN score", i);
        t->text = s.ptr;
        t->len = (uint32_t)s.len;
        t->type = (uint8_t)type;
        if (type == TOK_BYTE) {
            int hi = s.len == 6 ? hex_digit(s.ptr[3]) : -1, lo = s.len == 6 ? hex_digit(s.ptr[4]) : -1;
            if (hi < 0 || lo < 0 || memcmp(s.ptr, "<0x", 3) || s.ptr[5] != '>')
                return fail(err, errlen, "byte token %d is not of the form <0xNN>", i);
            t->byte = (uint8_t)(hi * 16 + lo);
            v->byte_id[t->byte] = i;   // a second <0xNN> is caught as a duplicate piece
            v->has_bytes++;
        } else if (!utf8_valid((const unsigned char *)s.ptr, s.len)) {
            return fail(err, errlen, "token %d is not valid UTF-8", i);
        }
    }
    return 0;
}

// Copies the pieces into one arena and indexes them; duplicates are errors.
static int index_tokens(slm_vocab *v, char *err, size_t errlen) {
    size_t total = 0;
    for (int i = 0; i < v->n; i++) total += v->tok[i].len + 1;
    if (total > MAX_TEXT) return fail(err, errlen, "the vocabulary's pieces take %zu bytes (at most %d)", total, MAX_TEXT);
    uint32_t size = 1;
    while (size < 2 * (uint32_t)v->n) size *= 2;
    v->arena = malloc(total);
    v->table = malloc(size * sizeof *v->table);
    if (!v->arena || !v->table) return -2;
    v->mask = size - 1;
    memset(v->table, 0xff, size * sizeof *v->table);
    char *p = v->arena;
    for (int i = 0; i < v->n; i++) {
        token *t = &v->tok[i];
        int32_t dup = find_piece(v, t->text, t->len);
        if (dup >= 0) return fail(err, errlen, "token %d duplicates token %d", i, dup);
        memcpy(p, t->text, t->len);
        p[t->len] = 0;
        t->text = p;
        p += t->len + 1;
        uint32_t h = hash_bytes(t->text, t->len) & v->mask;
        while (v->table[h] >= 0) h = (h + 1) & v->mask;
        v->table[h] = i;
    }
    return 0;
}

// User-defined lengths and first bytes, unused slots, the longest mergeable piece.
static int index_kinds(slm_vocab *v) {
    uint8_t has_len[MAX_PIECE + 1] = {0};
    for (int i = 0; i < v->n; i++) {
        const token *t = &v->tok[i];
        if (mergeable(t) && (int)t->len > v->max_len) v->max_len = (int)t->len;
        if (t->type == TOK_USER) {
            has_len[t->len] = 1;
            v->user_first[(uint8_t)t->text[0]] = 1;
        }
        if (t->type == TOK_UNUSED) v->n_unused++;
    }
    for (int len = MAX_PIECE; len > 0; len--)
        if (has_len[len]) v->user_lens[v->n_user_lens++] = len;
    if (v->n_unused) {
        v->unused_slot = malloc(v->n * sizeof *v->unused_slot);
        if (!v->unused_slot) return -2;
        int slot = 0;
        for (int i = 0; i < v->n; i++) v->unused_slot[i] = v->tok[i].type == TOK_UNUSED ? slot++ : -1;
    }
    return 0;
}

static int set_add(uint64_t *set, uint32_t mask, uint64_t key) {
    uint32_t h = hash_pair(key) & mask;
    while (set[h] && set[h] != key) h = (h + 1) & mask;
    if (set[h]) return 0;
    set[h] = key;
    return 1;
}

static uint32_t set_size(size_t n) {
    uint32_t size = 2;
    while (size < 2 * n) size *= 2;
    return size;
}

// The set of adjacent characters in mergeable pieces, built in a table sized
// for every pair, then moved to one sized for the distinct ones (a few
// thousand for Llama's 32k pieces).
static int index_pairs(slm_vocab *v) {
    size_t count = 0;
    for (int i = 0; i < v->n; i++)
        if (mergeable(&v->tok[i])) count += v->tok[i].len;
    uint32_t size = set_size(count), distinct = 0;
    uint64_t *all = calloc(size, sizeof *all);
    if (!all) return -2;
    for (int i = 0; i < v->n; i++) {
        const token *t = &v->tok[i];
        const unsigned char *s = (const unsigned char *)t->text;
        if (!mergeable(t)) continue;
        int len = char_len(s, t->len);
        uint32_t prev = char_key(s, len);
        for (uint32_t pos = len; pos < t->len; pos += len) {
            len = char_len(s + pos, t->len - pos);
            uint32_t cur = char_key(s + pos, len);
            distinct += set_add(all, size - 1, (uint64_t)prev << 32 | cur);
            prev = cur;
        }
    }
    v->pair_mask = set_size(distinct) - 1;
    v->pairs = calloc((size_t)v->pair_mask + 1, sizeof *v->pairs);
    if (v->pairs)
        for (uint32_t i = 0; i < size; i++)
            if (all[i]) set_add(v->pairs, v->pair_mask, all[i]);
    free(all);
    return v->pairs ? 0 : -2;
}

static int load(slm_vocab *v, const gguf_file *g, char *err, size_t errlen) {
    gguf_str model;
    int rc = gguf_get_str(g, "tokenizer.ggml.model", &model);
    if (rc > 0) return fail(err, errlen, "no tokenizer (tokenizer.ggml.model is missing)");
    if (rc < 0) return fail(err, errlen, "tokenizer.ggml.model is not a string");
    if (model.len != 5 || memcmp(model.ptr, "llama", 5))
        return fail(err, errlen, "tokenizer model '%.*s' is not supported (only 'llama', SentencePiece BPE)",
                    (int)(model.len < 40 ? model.len : 40), model.ptr);

    const gguf_kv *toks = gguf_find(g, "tokenizer.ggml.tokens");
    const gguf_kv *scores = gguf_find(g, "tokenizer.ggml.scores");
    const gguf_kv *types = gguf_find(g, "tokenizer.ggml.token_type");
    if (!toks || toks->type != GGUF_ARRAY || toks->arr_type != GGUF_STRING)
        return fail(err, errlen, "tokenizer.ggml.tokens is missing or not an array of strings");
    if (toks->arr_n < 1 || toks->arr_n > MAX_TOKENS)
        return fail(err, errlen, "tokenizer.ggml.tokens has %llu entries (1 to %d allowed)",
                    (unsigned long long)toks->arr_n, MAX_TOKENS);
    if (!scores || scores->type != GGUF_ARRAY || scores->arr_type != GGUF_F32)
        return fail(err, errlen, "tokenizer.ggml.scores is missing or not an array of float32");
    if (!types || types->type != GGUF_ARRAY || !is_int_type(types->arr_type))
        return fail(err, errlen, "tokenizer.ggml.token_type is missing or not an array of integers");
    if (scores->arr_n != toks->arr_n || types->arr_n != toks->arr_n)
        return fail(err, errlen, "tokenizer arrays differ in length: %llu tokens, %llu scores, %llu types",
                    (unsigned long long)toks->arr_n, (unsigned long long)scores->arr_n,
                    (unsigned long long)types->arr_n);

    v->n = (int)toks->arr_n;
    v->tok = calloc(v->n, sizeof *v->tok);
    if (!v->tok) return -2;
    if ((rc = read_tokens(v, toks, scores, types, err, errlen))) return rc;
    if (v->has_bytes && v->has_bytes != 256)
        return fail(err, errlen, "the vocabulary has %d of the 256 byte tokens <0x00>..<0xFF>", v->has_bytes);
    if ((rc = index_tokens(v, err, errlen))) return rc;
    if ((rc = index_kinds(v))) return rc;
    if (!v->n_unused && (rc = index_pairs(v))) return rc;

    v->bos = v->eos = v->unk = -1;
    for (int i = 0; i < v->n && v->unk < 0; i++)
        if (v->tok[i].type == TOK_UNKNOWN) v->unk = i;
    v->add_bos = v->add_space_prefix = 1;
    if (read_id(g, "tokenizer.ggml.bos_token_id", v->n, &v->bos, err, errlen) ||
        read_id(g, "tokenizer.ggml.eos_token_id", v->n, &v->eos, err, errlen) ||
        read_id(g, "tokenizer.ggml.unknown_token_id", v->n, &v->unk, err, errlen) ||
        read_flag(g, "tokenizer.ggml.add_bos_token", &v->add_bos, err, errlen) ||
        read_flag(g, "tokenizer.ggml.add_space_prefix", &v->add_space_prefix, err, errlen))
        return -1;
    if (v->unk >= 0 && v->tok[v->unk].type != TOK_UNKNOWN)
        return fail(err, errlen, "tokenizer.ggml.unknown_token_id %d is not a token of type UNKNOWN", v->unk);
    if (!v->has_bytes && v->unk < 0)
        return fail(err, errlen, "the vocabulary has neither byte tokens nor an unknown token");
    return 0;
}

int vocab_load(slm_vocab **out, const gguf_file *g, char *err, size_t errlen) {
    *out = NULL;
    slm_vocab *v = calloc(1, sizeof *v);
    if (!v) {
        fail(err, errlen, "out of memory");
        return -2;
    }
    memset(v->byte_id, 0xff, sizeof v->byte_id);
    int rc = load(v, g, err, errlen);
    if (rc) {
        if (rc == -2) fail(err, errlen, "out of memory");
        vocab_free(v);
        return rc;
    }
    *out = v;
    return 0;
}

void vocab_free(slm_vocab *v) {
    if (!v) return;
    free(v->tok);
    free(v->arena);
    free(v->table);
    free(v->unused_slot);
    free(v->pairs);
    free(v);
}

int vocab_size(const slm_vocab *v) { return v->n; }
int vocab_bos(const slm_vocab *v) { return v->bos; }
int vocab_eos(const slm_vocab *v) { return v->eos; }
int vocab_add_bos(const slm_vocab *v) { return v->add_bos; }

const char *vocab_piece(const slm_vocab *v, int32_t id) {
    return id >= 0 && id < v->n ? v->tok[id].text : NULL;
}

int vocab_is_control(const slm_vocab *v, int32_t id) {
    return id >= 0 && id < v->n && v->tok[id].type == TOK_CONTROL;
}

// ---- encoding --------------------------------------------------------------

// A piece of the normalized text being encoded. Merging a pair grows the left
// symbol and empties the right one (len 0), which leaves the linked list.
typedef struct {
    int32_t start, len, prev, next;
} symbol;

// A candidate merge of symbol left with its right neighbour into a piece of
// size bytes. It is stale once either symbol has changed, which shows as a
// different total size.
typedef struct {
    float score;
    int32_t left, size;
} merge;

typedef struct {
    const slm_vocab *v;
    const char *text;        // normalized
    symbol *sym;
    uint8_t *frozen;         // symbols matched as user-defined pieces; NULL if none can be
    int32_t cap_sym;
    merge *heap;
    size_t n_heap, cap_heap;
    int32_t *split;          // per unused piece: the left part's length when last seen as a merge, 0 if never
    int32_t *ids;
    int max_ids, n_ids;
    int in_unknown;          // the last id is the unknown token standing for text
} encoder;

// The higher score first; on ties the leftmost, as in sentencepiece.
static int before(const merge *a, const merge *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static int heap_push(encoder *e, merge m) {
    if (e->n_heap == e->cap_heap) {
        size_t cap = e->cap_heap ? 2 * e->cap_heap : 256;
        if (cap > SIZE_MAX / sizeof(merge)) return -1;
        merge *h = realloc(e->heap, cap * sizeof *h);
        if (!h) return -1;
        e->heap = h;
        e->cap_heap = cap;
    }
    size_t i = e->n_heap++;
    while (i > 0 && before(&m, &e->heap[(i - 1) / 2])) {
        e->heap[i] = e->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    e->heap[i] = m;
    return 0;
}

static merge heap_pop(encoder *e) {
    merge top = e->heap[0], last = e->heap[--e->n_heap];
    size_t i = 0, n = e->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && before(&e->heap[c + 1], &e->heap[c])) c++;
        if (!before(&e->heap[c], &last)) break;
        e->heap[i] = e->heap[c];
        i = c;
    }
    if (n) e->heap[i] = last;
    return top;
}

// Queues the merge of symbol left with its right neighbour if the result is a piece.
static int add_merge(encoder *e, int32_t left) {
    if (left < 0) return 0;
    int32_t right = e->sym[left].next;
    if (right < 0 || (e->frozen && (e->frozen[left] || e->frozen[right]))) return 0;
    int32_t size = e->sym[left].len + e->sym[right].len;
    if (size > e->v->max_len) return 0;
    int32_t id = find_mergeable(e->v, e->text + e->sym[left].start, size);
    if (id < 0) return 0;
    // sentencepiece remembers how an unused piece was made (the latest one
    // queued) to split it again on output
    if (e->split && e->v->unused_slot[id] >= 0) e->split[e->v->unused_slot[id]] = e->sym[left].len;
    return heap_push(e, (merge){e->v->tok[id].score, left, size});
}

static void emit(encoder *e, int32_t id) {
    if (e->n_ids < e->max_ids) e->ids[e->n_ids] = id;
    e->n_ids++;
    e->in_unknown = 0;
}

// Outputs a final piece: unused pieces split back into their parts, pieces
// not in the vocabulary become byte tokens (or the unknown token).
static void emit_piece(encoder *e, const char *s, int32_t len) {
    const slm_vocab *v = e->v;
    int32_t id = find_mergeable(v, s, len);
    if (id >= 0 && e->split && v->unused_slot[id] >= 0 && e->split[v->unused_slot[id]] > 0) {
        int32_t left = e->split[v->unused_slot[id]];
        emit_piece(e, s, left);
        emit_piece(e, s + left, len - left);
    } else if (id >= 0) {
        emit(e, id);
    } else if (v->has_bytes) {
        for (int32_t i = 0; i < len; i++) emit(e, v->byte_id[(uint8_t)s[i]]);
    } else if (!e->in_unknown) {
        emit(e, v->unk);   // sentencepiece joins a run of unknown pieces into one
        e->in_unknown = 1;
    }
}

// Splits text[start..end) into symbols: user-defined pieces (longest
// first), else one UTF-8 character, else one invalid byte. Returns the count,
// or -1 when out of memory.
static int32_t split_symbols(encoder *e, int32_t start, int32_t end) {
    const slm_vocab *v = e->v;
    const unsigned char *s = (const unsigned char *)e->text;
    if (end - start > e->cap_sym) {
        symbol *sym = realloc(e->sym, (size_t)(end - start) * sizeof *sym);
        if (sym) e->sym = sym;
        uint8_t *frozen = v->n_user_lens ? realloc(e->frozen, end - start) : NULL;
        if (frozen) e->frozen = frozen;
        if (!sym || (v->n_user_lens && !frozen)) return -1;
        e->cap_sym = end - start;
    }
    int32_t count = 0;
    for (int32_t pos = start; pos < end;) {
        int32_t len = 0;
        if (v->n_user_lens && v->user_first[s[pos]])
            for (int k = 0; k < v->n_user_lens && !len; k++) {
                int32_t ulen = v->user_lens[k];
                int32_t id = ulen <= end - pos ? find_piece(v, e->text + pos, ulen) : -1;
                if (id >= 0 && v->tok[id].type == TOK_USER) len = ulen;
            }
        if (e->frozen) e->frozen[count] = len > 0;
        if (!len) len = char_len(s + pos, end - pos);
        e->sym[count] = (symbol){pos, len, count - 1, pos + len < end ? count + 1 : -1};
        count++;
        pos += len;
    }
    return count;
}

// Where the stretch of text from start ends that no merge can cross: the
// first character boundary whose two sides are next to each other in no
// piece. Encoding such stretches one by one gives the same pieces as the
// whole text at once, with small heaps.
static int32_t stretch_end(const encoder *e, int32_t start, int32_t n) {
    if (!e->v->pairs) return n;
    const unsigned char *s = (const unsigned char *)e->text;
    int len = char_len(s + start, n - start);
    uint32_t prev = char_key(s + start, len);
    for (int32_t pos = start + len; pos < n; pos += len) {
        len = char_len(s + pos, n - pos);
        uint32_t cur = char_key(s + pos, len);
        if (!has_pair(e->v, prev, cur)) return pos;
        prev = cur;
    }
    return n;
}

// Sentencepiece's BPE on one stretch.
static int encode_stretch(encoder *e, int32_t start, int32_t end) {
    int32_t n_sym = split_symbols(e, start, end);
    if (n_sym < 0) return -1;
    e->n_heap = 0;
    for (int32_t i = 0; i + 1 < n_sym; i++)
        if (add_merge(e, i)) return -1;
    while (e->n_heap) {
        merge m = heap_pop(e);
        symbol *l = &e->sym[m.left];
        if (l->len == 0 || l->next < 0) continue;
        symbol *r = &e->sym[l->next];
        if (l->len + r->len != m.size) continue;
        l->len = m.size;
        r->len = 0;
        l->next = r->next;
        if (l->next >= 0) e->sym[l->next].prev = m.left;
        if (add_merge(e, l->prev) || add_merge(e, m.left)) return -1;
    }
    for (int32_t i = 0; i >= 0; i = e->sym[i].next)
        emit_piece(e, e->text + e->sym[i].start, e->sym[i].len);
    return 0;
}

int vocab_tokenize(const slm_vocab *v, const char *text, size_t len, int add_bos, int32_t *ids, int max_ids) {
    // the normalized text is at most 3 * len + 3 bytes and every byte can become a token
    if (len > (size_t)(INT32_MAX - 8) / 3) return -1;
    encoder e = {.v = v, .ids = ids, .max_ids = ids ? max_ids : 0};
    if (add_bos && v->bos >= 0) emit(&e, v->bos);
    if (len == 0) return e.n_ids;

    // normalization of Llama's .model: identity, spaces as "▁", a dummy "▁" in front
    char *norm = malloc(3 * len + 3);
    if (!norm) return -1;
    int32_t n = 0;
    if (v->add_space_prefix) { memcpy(norm, "\xe2\x96\x81", 3); n = 3; }
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') { memcpy(norm + n, "\xe2\x96\x81", 3); n += 3; }
        else norm[n++] = text[i];
    }
    e.text = norm;
    int rc = 0;
    if (v->n_unused && !(e.split = calloc(v->n_unused, sizeof *e.split))) rc = -1;
    for (int32_t start = 0, end; start < n && !rc; start = end) {
        end = stretch_end(&e, start, n);
        rc = encode_stretch(&e, start, end);
    }
    free(norm);
    free(e.sym);
    free(e.frozen);
    free(e.split);
    free(e.heap);
    return rc ? -1 : e.n_ids;
}

// ---- decoding --------------------------------------------------------------

static int starts_with_space(const char *s, uint32_t n) {
    return n >= 3 && !memcmp(s, "\xe2\x96\x81", 3);
}

int vocab_token_bytes(const slm_vocab *v, int32_t id, int32_t prev_id, char *buf, int cap) {
    if (id < 0 || id >= v->n) return -1;
    const token *t = &v->tok[id];
    char tmp[MAX_PIECE];
    int n = 0;
    if (t->type == TOK_CONTROL) {
        return 0;
    } else if (t->type == TOK_BYTE) {
        tmp[n++] = (char)t->byte;
    } else if (t->type == TOK_UNKNOWN) {
        memcpy(tmp, " \xe2\x81\x87 ", 5);   // sentencepiece's " ⁇ "
        n = 5;
    } else {
        uint32_t i = 0;
        // the dummy prefix the encoder added
        if (v->add_space_prefix && (prev_id < 0 || prev_id == v->bos) && starts_with_space(t->text, t->len)) i = 3;
        while (i < t->len) {
            if (starts_with_space(t->text + i, t->len - i)) {
                tmp[n++] = ' ';
                i += 3;
            } else {
                tmp[n++] = t->text[i++];
            }
        }
    }
    if (cap > 0) memcpy(buf, tmp, n < cap ? n : cap);
    return n;
}

static const char replacement[3] = {'\xef', '\xbf', '\xbd'};   // U+FFFD

// Feeds one byte; writes at most 6 bytes to out and returns how many. A
// sequence broken off early becomes one U+FFFD.
static int detok_byte(slm_detok *d, unsigned char b, char *out) {
    int n = 0;
    if (d->n_pending) {
        if (continues(d->pending, d->n_pending, b)) {
            d->pending[d->n_pending++] = b;
            if (d->n_pending < lead_len(d->pending[0])) return 0;
            memcpy(out, d->pending, d->n_pending);
            n = d->n_pending;
            d->n_pending = 0;
            return n;
        }
        memcpy(out, replacement, 3);
        n = 3;
        d->n_pending = 0;
    }
    int len = lead_len(b);
    if (len == 1) {
        out[n++] = (char)b;
    } else if (len == 0) {
        memcpy(out + n, replacement, 3);
        n += 3;
    } else {
        d->pending[0] = b;
        d->n_pending = 1;
    }
    return n;
}

// The struct is the caller's: make sure its pending bytes are a real prefix.
static void detok_check(slm_detok *d) {
    if (d->n_pending < 0 || d->n_pending > 3 || (d->n_pending && d->n_pending >= lead_len(d->pending[0])))
        d->n_pending = 0;
}

int vocab_detok_push(const slm_vocab *v, slm_detok *d, int32_t id, char *out, int cap) {
    char bytes[MAX_PIECE];
    int n = vocab_token_bytes(v, id, d->prev_id, bytes, sizeof bytes);
    if (n < 0) return -1;
    slm_detok t = *d;
    detok_check(&t);
    char text[3 * (MAX_PIECE + 3)];   // each byte, pending ones included, yields at most 3
    int w = 0;
    for (int i = 0; i < n; i++) w += detok_byte(&t, (unsigned char)bytes[i], text + w);
    if (w > cap) return -1;
    if (w) memcpy(out, text, w);
    t.prev_id = id;
    *d = t;
    return w;
}

void slm_detok_init(slm_detok *d) {
    memset(d, 0, sizeof *d);
    d->prev_id = -1;
}

int slm_detok_push(const slm_model *model, slm_detok *d, int32_t id, char *out, int cap) {
    const slm_vocab *v = model ? slm_model_vocab(model) : NULL;
    if (!v || !d) return -1;
    return vocab_detok_push(v, d, id, out, cap);
}

int slm_detok_flush(slm_detok *d, char *out, int cap) {
    detok_check(d);
    if (!d->n_pending) return 0;
    if (cap < 3) return -1;
    memcpy(out, replacement, 3);
    d->n_pending = 0;
    return 3;
}
