// Tier 3 of the assistant pipeline: a document as sentences, compared by
// encoder embeddings and by words, for extractive summaries, answers,
// suggested questions and the decoder's prompt (slm.h, "documents").
//
// Words: slm_normalize'd, stop words dropped, plural/-ing/-ed/-e endings
// cut, hashed (64-bit FNV-1a) into the document's own vocabulary. A
// sentence's word vector is TF-IDF ((1 + ln tf) * idf, L2-normalized);
// similarity is the cosine. Centrality is the similarity to the document's
// centroid (MEAD-style, linear in the sentences, unlike LexRank's pairs).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

// ---- sentence splitting -------------------------------------------------------------

static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
static int is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
static int is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_alpha(unsigned char c) { return is_lower(c) || is_upper(c); }

// Words after which a period does not end a sentence (lower case, no dots).
static const char *const abbreviations[] = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "rev", "gen", "gov", "sen", "rep", "lt", "col",
    "capt", "sgt", "hon", "fig", "figs", "vol", "pp", "vs", "cf", "approx", "dept", "est", "al", "inc", "ltd",
    "co", "corp", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "etc",
};

// Does the period at text[i] end an abbreviation or an initial ("J.", "e.g.")?
static int abbreviation_before(const char *text, size_t i) {
    size_t b = i;
    while (b > 0 && is_alpha((unsigned char)text[b - 1])) b--;
    size_t n = i - b;
    if (n == 1) return 1;   // an initial, or the last letter of e.g. / U.S.
    if (n == 0 || n > 6) return 0;
    char w[8];
    for (size_t k = 0; k < n; k++) w[k] = (char)(text[b + k] | 0x20);
    w[n] = 0;
    for (size_t k = 0; k < sizeof abbreviations / sizeof abbreviations[0]; k++)
        if (!strcmp(w, abbreviations[k])) return 1;
    return 0;
}

// Bytes of the sentence-ending mark at text[i] (. ! ? … 。 ！ ？), or 0.
static int terminal_at(const char *text, size_t len, size_t i) {
    const unsigned char *s = (const unsigned char *)text + i;
    if (*s == '.' || *s == '!' || *s == '?') return 1;
    if (i + 3 > len) return 0;
    if (s[0] == 0xE2 && s[1] == 0x80 && s[2] == 0xA6) return 3;                            // …
    if (s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x82) return 3;                            // 。
    if (s[0] == 0xEF && s[1] == 0xBC && (s[2] == 0x81 || s[2] == 0x9F)) return 3;          // ！ ？
    return 0;
}

// Bytes of a closing quote or bracket at text[i] (" ' ) ] ” ’ »), or 0.
static int closer_at(const char *text, size_t len, size_t i) {
    const unsigned char *s = (const unsigned char *)text + i;
    if (*s == '"' || *s == '\'' || *s == ')' || *s == ']') return 1;
    if (i + 2 <= len && s[0] == 0xC2 && s[1] == 0xBB) return 2;
    if (i + 3 <= len && s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0x9D || s[2] == 0x99)) return 3;
    return 0;
}

// Does a line break at text[i] end a sentence? At a blank line; after a
// short line (a title, a list item); before a list item. Otherwise it is a
// line wrapped inside a sentence.
static int line_break_ends(const char *text, size_t len, size_t i, size_t line_start) {
    size_t j = i + 1;
    while (j < len && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r')) j++;
    if (j >= len || text[j] == '\n') return 1;
    if (i - line_start < 50) return 1;
    unsigned char c = (unsigned char)text[j];
    if ((c == '-' || c == '*') && j + 1 < len && text[j + 1] == ' ') return 1;
    if (c == 0xE2 && j + 2 < len && (unsigned char)text[j + 1] == 0x80 && (unsigned char)text[j + 2] == 0xA2) return 1;  // •
    return 0;
}

typedef struct {
    slm_span *spans;
    int n, max, max_bytes;
    const char *text;
} splitter;

static int has_word_byte(const char *s, int n) {
    for (int i = 0; i < n; i++)
        if (is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i]) || (unsigned char)s[i] >= 0x80) return 1;
    return 0;
}

// Records text[a, b) trimmed, cut into pieces of at most max_bytes at spaces
// (or at a UTF-8 character boundary when a piece has no space).
static void emit(splitter *sp, size_t a, size_t b) {
    const char *t = sp->text;
    for (;;) {
        while (a < b && is_space((unsigned char)t[a])) a++;
        while (b > a && is_space((unsigned char)t[b - 1])) b--;
        if (a == b) return;
        size_t end = b;
        if (b - a > (size_t)sp->max_bytes) {
            end = a + (size_t)sp->max_bytes;
            size_t cut = end;
            while (cut > a && !is_space((unsigned char)t[cut])) cut--;
            if (cut > a) end = cut;
            else
                while (end > a && ((unsigned char)t[end] & 0xC0) == 0x80) end--;
        }
        if (has_word_byte(t + a, (int)(end - a))) {
            if (sp->n < sp->max) sp->spans[sp->n] = (slm_span){(int)a, (int)end};
            sp->n++;
        }
        if (end == b) return;
        a = end;
    }
}

int slm_split_sentences(const char *text, size_t len, int max_bytes, slm_span *spans, int max) {
    if (!text || len > INT32_MAX) return 0;
    splitter sp = {spans, 0, spans ? max : 0, max_bytes > 0 ? max_bytes : 400, text};
    size_t start = 0, line_start = 0;
    for (size_t i = 0; i < len;) {
        if (text[i] == '\n') {
            if (line_break_ends(text, len, i, line_start)) {
                emit(&sp, start, i);
                start = i + 1;
            }
            line_start = ++i;
            continue;
        }
        int t = terminal_at(text, len, i);
        if (!t) {
            i++;
            continue;
        }
        size_t j = i + (size_t)t;
        while (j < len && terminal_at(text, len, j)) j += (size_t)terminal_at(text, len, j);   // "?!", "..."
        for (int c; j < len && (c = closer_at(text, len, j));) j += (size_t)c;
        int cjk = t == 3 && (unsigned char)text[i] != 0xE2;    // 。！？ need no space after them
        size_t k = j;
        while (k < len && (text[k] == ' ' || text[k] == '\t')) k++;
        int ends = cjk || j == len || (k > j && k < len) || (k < len && (text[k] == '\n' || text[k] == '\r'));
        if (ends && k < len && is_lower((unsigned char)text[k])) ends = 0;            // "e.g. this", "Hi! said"
        if (ends && t == 1 && text[i] == '.' && j == i + 1 && abbreviation_before(text, i)) ends = 0;
        if (ends) {
            emit(&sp, start, j);
            start = j;
        }
        i = j > i ? j : i + 1;
    }
    emit(&sp, start, len);
    return sp.n;
}

// ---- words ----------------------------------------------------------------------------

static const char *const stop_words[] = {
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at",
    "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do",
    "does", "doing", "dont", "down", "during", "each", "even", "ever", "few", "for", "from", "further", "get", "got",
    "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "however",
    "i", "if", "im", "in", "into", "is", "isnt", "it", "its", "itself", "just", "let", "like", "made", "make", "many",
    "may", "me", "might", "more", "most", "much", "must", "my", "myself", "no", "nor", "not", "now", "of", "off",
    "often", "on", "once", "one", "only", "or", "other", "our", "ours", "out", "over", "own", "really", "said",
    "same", "say", "says", "she", "should", "so", "some", "still", "such", "than", "that", "thats", "the", "their",
    "theirs", "them", "then", "there", "these", "they", "this", "those", "though", "through", "to", "too", "under",
    "until", "up", "us", "very", "was", "we", "were", "what", "whats", "when", "where", "which", "while", "who",
    "whom", "whose", "why", "will", "with", "would", "yet", "you", "your", "yours", "yourself",
    // words of requests, not of documents
    "according", "article", "author", "document", "documents", "text", "passage", "paragraph", "tell", "please",
};

static int stop_word(const char *w, int n) {
    if (n > 10) return 0;
    char buf[12];
    memcpy(buf, w, (size_t)n);
    buf[n] = 0;
    size_t nw = sizeof stop_words / sizeof stop_words[0];
    for (size_t k = 0; k < nw; k++)
        if (stop_words[k][0] == buf[0] && !strcmp(stop_words[k], buf)) return 1;
    return 0;
}

// Common verbs and adjectives: poor subjects for a question ("What does the
// document say about want?"), so key phrases skip them too.
static const char *const weak_words[] = {
    "able", "add", "allow", "another", "ask", "back", "bad", "become", "began", "begin", "best", "better", "big",
    "bring", "call", "came", "come", "different", "done", "every", "feel", "find", "first", "found", "gave", "give",
    "go", "goes", "going", "gone", "good", "great", "help", "high", "keep", "kept", "know", "known", "last", "least",
    "left", "less", "little", "long", "look", "lot", "lots", "low", "mean", "need", "new", "next", "old", "put",
    "read", "right", "run", "saw", "see", "seem", "seen", "sent", "set", "show", "small", "something", "sound",
    "start", "take", "taken", "think", "thought", "told", "took", "try", "turn", "two", "use", "used", "want",
    "way", "well", "went", "whether", "without", "work", "year", "years",
};

static int weak_word(const char *w, int n) {
    if (n > 4 && w[n - 2] == 'e' && w[n - 1] == 'd') return 1;    // mostly past tenses
    char buf[12];
    if (n > 10) return 0;
    memcpy(buf, w, (size_t)n);
    buf[n] = 0;
    for (size_t k = 0; k < sizeof weak_words / sizeof weak_words[0]; k++)
        if (weak_words[k][0] == buf[0] && !strcmp(weak_words[k], buf)) return 1;
    return 0;
}

// A crude stem: plural, -ing, -ed and a final -e cut, so that bake, baked,
// baking and bakes meet. Returns its length in out (at most n + 1 bytes).
static int stem(const char *w, int n, char *out) {
    memcpy(out, w, (size_t)n);
    if (n > 4 && !memcmp(out + n - 3, "ies", 3)) out[n - 3] = 'y', n -= 2;
    else if (n > 4 && !memcmp(out + n - 2, "es", 2) && strchr("sxh", out[n - 3])) n -= 2;
    else if (n > 3 && out[n - 1] == 's' && !strchr("sui", out[n - 2])) n -= 1;
    if (n > 5 && !memcmp(out + n - 3, "ing", 3)) n -= 3;
    else if (n > 4 && !memcmp(out + n - 2, "ed", 2)) n -= 2;
    if (n > 3 && out[n - 1] == 'e') n -= 1;
    return n;
}

static uint64_t hash64(const char *s, int n) {
    uint64_t h = 14695981039346656037ull;
    for (int i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

// Calls fn(user, hash) for each content word of text; returns the number
// of words (stop words included). Long words are cut at 64 bytes.
typedef void (*word_fn)(void *user, uint64_t hash);

static int each_word(const char *text, size_t len, word_fn fn, void *user) {
    char *norm = malloc(len + 1);
    if (!norm) return -1;
    size_t n = slm_normalize(text, len, norm, len + 1);
    int count = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && norm[j] != ' ') j++;
        int wn = (int)(j - i) > 64 ? 64 : (int)(j - i);
        count++;
        if (!stop_word(norm + i, wn)) {
            char s[66];
            int sn = stem(norm + i, wn, s);
            fn(user, hash64(s, sn));
        }
        i = j + 1;
    }
    free(norm);
    return count;
}

// ---- the document -------------------------------------------------------------------

struct slm_doc {
    char *text;
    size_t len;
    slm_doc_params prm;
    int n;                      // sentences
    slm_span *sent;
    int *n_words;               // words in each sentence, stop words included
    int dim;                    // embedding size, 0 without an encoder
    float *emb;                 // (n, dim), L2-normalized
    // vocabulary: open addressing over word hashes; id = index in idf
    uint64_t *slot_hash;
    int *slot_id, slot_cap, n_vocab;
    float *idf;
    // sentence word vectors, sorted by id: entries term_off[i] .. term_off[i+1]
    int *term_off, *term_id;
    float *term_w;
    float *central;             // centrality (+ lead bonus) of each sentence
};

slm_doc_params slm_doc_default_params(void) {
    slm_doc_params p = {0.2f, 0.3f, 0.5f, 400};
    return p;
}

void slm_doc_free(slm_doc *d) {
    if (!d) return;
    free(d->text);
    free(d->sent);
    free(d->n_words);
    free(d->emb);
    free(d->slot_hash);
    free(d->slot_id);
    free(d->idf);
    free(d->term_off);
    free(d->term_id);
    free(d->term_w);
    free(d->central);
    free(d);
}

int slm_doc_sentence_count(const slm_doc *d) { return d ? d->n : 0; }
const char *slm_doc_text(const slm_doc *d) { return d ? d->text : NULL; }
size_t slm_doc_length(const slm_doc *d) { return d ? d->len : 0; }

slm_span slm_doc_sentence(const slm_doc *d, int i) {
    slm_span none = {0, 0};
    return d && i >= 0 && i < d->n ? d->sent[i] : none;
}

// The slot of hash h in a table of cap (a power of two) slots: its own or
// the empty one where it would go.
static size_t slot_of(const uint64_t *hash, const int *id, int cap, uint64_t h) {
    size_t mask = (size_t)cap - 1, s = (size_t)(h ^ h >> 29) & mask;
    while (id[s] >= 0 && hash[s] != h) s = (s + 1) & mask;
    return s;
}

// Doubles the vocabulary table; 0 or -1 (out of memory).
static int vocab_grow(slm_doc *d) {
    int cap = d->slot_cap ? d->slot_cap * 2 : 1024;
    uint64_t *hash = malloc((size_t)cap * sizeof *hash);
    int *id = malloc((size_t)cap * sizeof *id);
    if (!hash || !id) {
        free(hash);
        free(id);
        return -1;
    }
    memset(id, -1, (size_t)cap * sizeof *id);
    for (int s = 0; s < d->slot_cap; s++) {
        if (d->slot_id[s] < 0) continue;
        size_t t = slot_of(hash, id, cap, d->slot_hash[s]);
        hash[t] = d->slot_hash[s], id[t] = d->slot_id[s];
    }
    free(d->slot_hash);
    free(d->slot_id);
    d->slot_hash = hash, d->slot_id = id, d->slot_cap = cap;
    return 0;
}

// The vocabulary id of hash, adding it if add; -1 if absent (or no memory).
static int vocab_id(slm_doc *d, uint64_t h, int add) {
    if (!d->slot_cap) return -1;
    size_t s = slot_of(d->slot_hash, d->slot_id, d->slot_cap, h);
    if (d->slot_id[s] >= 0 || !add) return d->slot_id[s];
    if (2 * (d->n_vocab + 1) > d->slot_cap) {   // keep the table at most half full
        if (vocab_grow(d)) return -1;
        s = slot_of(d->slot_hash, d->slot_id, d->slot_cap, h);
    }
    d->slot_hash[s] = h;
    return d->slot_id[s] = d->n_vocab++;
}

// Collects a sentence's word ids (duplicates kept) into a growing list.
typedef struct {
    slm_doc *d;
    int *ids, n, cap, add;
    float unknown;              // question words not in the document (idf weight squared)
} collector;

static void collect(void *user, uint64_t h) {
    collector *c = user;
    int id = vocab_id(c->d, h, c->add);
    if (id < 0) {
        c->unknown += 1.0f;
        return;
    }
    if (c->n == c->cap) {
        int nc = c->cap ? c->cap * 2 : 64;
        int *p = realloc(c->ids, (size_t)nc * sizeof *p);
        if (!p) return;     // the word is dropped: at worst a weaker score
        c->ids = p, c->cap = nc;
    }
    c->ids[c->n++] = id;
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

// ids (sorted in place) -> unique ids with TF-IDF weights, L2-normalized
// together with `extra` (the squared weight of words outside the vocabulary).
// Returns the number of unique ids.
static int weigh(const slm_doc *d, int *ids, int n, float *w, float extra) {
    if (n) qsort(ids, (size_t)n, sizeof *ids, cmp_int);
    int u = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && ids[j] == ids[i]) j++;
        ids[u] = ids[i];
        w[u++] = (1.0f + logf((float)(j - i))) * d->idf[ids[i]];
        i = j;
    }
    float ss = extra;
    for (int i = 0; i < u; i++) ss += w[i] * w[i];
    float s = ss > 0.0f ? 1.0f / sqrtf(ss) : 0.0f;
    for (int i = 0; i < u; i++) w[i] *= s;
    return u;
}

// Cosine of two sorted sparse vectors.
static float sparse_dot(const int *ia, const float *wa, int na, const int *ib, const float *wb, int nb) {
    float s = 0.0f;
    for (int i = 0, j = 0; i < na && j < nb;) {
        if (ia[i] < ib[j]) i++;
        else if (ia[i] > ib[j]) j++;
        else s += wa[i++] * wb[j++];
    }
    return s;
}

static float dense_dot(const float *a, const float *b, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

// Similarity of sentences i and j: embeddings and words mixed.
static float sim(const slm_doc *d, int i, int j) {
    float lex = sparse_dot(d->term_id + d->term_off[i], d->term_w + d->term_off[i], d->term_off[i + 1] - d->term_off[i],
                           d->term_id + d->term_off[j], d->term_w + d->term_off[j], d->term_off[j + 1] - d->term_off[j]);
    if (!d->emb) return lex;
    float a = d->prm.embed_weight;
    return a * dense_dot(d->emb + (size_t)i * d->dim, d->emb + (size_t)j * d->dim, d->dim) + (1.0f - a) * lex;
}

static slm_status index_words(slm_doc *d, slm_error *err) {
    // every sentence's word ids, the vocabulary sized for the worst case
    int total = 0;
    d->n_words = calloc((size_t)d->n + 1, sizeof *d->n_words);
    d->term_off = calloc((size_t)d->n + 1, sizeof *d->term_off);
    collector c = {d, NULL, 0, 0, 1, 0.0f};
    if (!d->n_words || !d->term_off || vocab_grow(d)) goto oom;
    for (int i = 0; i < d->n; i++) {
        int words = each_word(d->text + d->sent[i].start, (size_t)(d->sent[i].end - d->sent[i].start), collect, &c);
        if (words < 0) goto oom;
        d->n_words[i] = words;
        d->term_off[i + 1] = c.n;
    }
    total = c.n;
    // document frequencies -> idf = ln((1 + N) / (1 + df)) + 1
    d->idf = calloc((size_t)d->n_vocab + 1, sizeof *d->idf);
    int *seen = malloc(((size_t)d->n_vocab + 1) * sizeof *seen);
    d->term_w = malloc(((size_t)total + 1) * sizeof *d->term_w);
    if (!d->idf || !seen || !d->term_w) {
        free(seen);
        goto oom;
    }
    memset(seen, -1, ((size_t)d->n_vocab + 1) * sizeof *seen);
    for (int i = 0; i < d->n; i++)
        for (int k = d->term_off[i]; k < d->term_off[i + 1]; k++)
            if (seen[c.ids[k]] != i) seen[c.ids[k]] = i, d->idf[c.ids[k]] += 1.0f;
    free(seen);
    for (int v = 0; v < d->n_vocab; v++) d->idf[v] = logf((1.0f + (float)d->n) / (1.0f + d->idf[v])) + 1.0f;
    // weigh each sentence, compacting the lists
    int out = 0;
    for (int i = 0; i < d->n; i++) {
        int a = d->term_off[i], b = d->term_off[i + 1];
        int u = b > a ? weigh(d, c.ids + a, b - a, d->term_w + out, 0.0f) : 0;   // (c.ids is NULL without words)
        if (u) memmove(c.ids + out, c.ids + a, (size_t)u * sizeof *c.ids);
        d->term_off[i] = out;
        out += u;
    }
    d->term_off[d->n] = out;
    d->term_id = c.ids ? c.ids : malloc(sizeof *d->term_id);
    return d->term_id ? SLM_OK : slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
oom:
    free(c.ids);
    return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
}

static slm_status embed_sentences(slm_doc *d, slm_context *enc, slm_error *err) {
    d->dim = slm_embed_dim(slm_context_model(enc));
    if (d->dim <= 0) return slm_fail(err, SLM_ERR_INVALID_ARG, "embedding sentences needs an encoder");
    d->emb = malloc((size_t)d->n * d->dim * sizeof *d->emb + 1);
    if (!d->emb) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < d->n; i++) {
        slm_status st = slm_embed(enc, d->text + d->sent[i].start, (size_t)(d->sent[i].end - d->sent[i].start),
                                  d->emb + (size_t)i * d->dim, err);
        if (st) return st;
    }
    return SLM_OK;
}

// Similarity of each sentence to the centroid of them all, plus the lead bonus.
static slm_status centrality(slm_doc *d, slm_error *err) {
    float *c = calloc((size_t)d->n_vocab + 1, sizeof *c), *ce = calloc((size_t)d->dim + 1, sizeof *ce);
    d->central = malloc(((size_t)d->n + 1) * sizeof *d->central);
    if (!c || !ce || !d->central) {
        free(c);
        free(ce);
        return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    }
    for (int i = 0; i < d->n; i++) {
        for (int k = d->term_off[i]; k < d->term_off[i + 1]; k++) c[d->term_id[k]] += d->term_w[k];
        for (int k = 0; d->emb && k < d->dim; k++) ce[k] += d->emb[(size_t)i * d->dim + k];
    }
    float cn = sqrtf(dense_dot(c, c, d->n_vocab)), en = sqrtf(dense_dot(ce, ce, d->dim));
    float a = d->emb ? d->prm.embed_weight : 0.0f;
    for (int i = 0; i < d->n; i++) {
        float lex = 0.0f;
        for (int k = d->term_off[i]; k < d->term_off[i + 1]; k++) lex += d->term_w[k] * c[d->term_id[k]];
        lex = cn > 0.0f ? lex / cn : 0.0f;
        float emb = d->emb && en > 0.0f ? dense_dot(d->emb + (size_t)i * d->dim, ce, d->dim) / en : 0.0f;
        d->central[i] = a * emb + (1.0f - a) * lex + d->prm.lead_weight * (1.0f - (float)i / (float)d->n);
    }
    free(c);
    free(ce);
    return SLM_OK;
}

slm_status slm_doc_new(const char *text, size_t len, slm_context *enc, const slm_doc_params *params, slm_doc **out,
                       slm_error *err) {
    if (!out) return slm_fail(err, SLM_ERR_INVALID_ARG, "no place for the document");
    *out = NULL;
    if (!text && len) return slm_fail(err, SLM_ERR_INVALID_ARG, "no text");
    if (len > (64u << 20)) return slm_fail(err, SLM_ERR_INVALID_ARG, "a document is at most 64 MiB");
    slm_doc *d = calloc(1, sizeof *d);
    if (!d) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    d->prm = params ? *params : slm_doc_default_params();
    if (!(d->prm.embed_weight >= 0.0f && d->prm.embed_weight <= 1.0f)) d->prm.embed_weight = 0.2f;
    d->text = malloc(len + 1);
    slm_status st = SLM_OK;
    if (!d->text) {
        st = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    } else {
        if (len) memcpy(d->text, text, len);
        d->text[len] = 0;
        d->len = len;
        d->n = slm_split_sentences(d->text, len, d->prm.max_sentence_bytes, NULL, 0);
        d->sent = malloc(((size_t)d->n + 1) * sizeof *d->sent);
        if (!d->sent) st = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
        else slm_split_sentences(d->text, len, d->prm.max_sentence_bytes, d->sent, d->n);
    }
    if (!st) st = index_words(d, err);
    if (!st && enc && d->n && d->prm.embed_weight > 0.0f) st = embed_sentences(d, enc, err);
    if (!st) st = centrality(d, err);
    if (st) {
        slm_doc_free(d);
        return st;
    }
    *out = d;
    return SLM_OK;
}

// Sentence indices by score, best first (ties: document order).
typedef struct {
    float score;
    int i;
} scored;

static int by_score(const void *a, const void *b) {
    const scored *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    return (x->i > y->i) - (x->i < y->i);
}

// order (n) = indices sorted by score; scores (optional) = the scores in that order.
static int sort_by_score(const float *score, int n, int *order, float *sorted) {
    scored *v = malloc(((size_t)n + 1) * sizeof *v);
    if (!v) return -1;
    for (int i = 0; i < n; i++) v[i] = (scored){score[i], i};
    qsort(v, (size_t)n, sizeof *v, by_score);
    for (int i = 0; i < n; i++) {
        order[i] = v[i].i;
        if (sorted) sorted[i] = v[i].score;
    }
    free(v);
    return 0;
}

// ---- summaries (MMR over centrality) ------------------------------------------------

// Picks up to k sentences by maximal marginal relevance over rel (the most
// relevant first, each next one penalized by its similarity to those
// picked), preferring sentences of 5 words or more. picked in pick order.
static int mmr(const slm_doc *d, const float *rel, int k, int *picked) {
    if (k > d->n) k = d->n;
    int got = 0, longs = 0;
    for (int i = 0; i < d->n; i++) longs += d->n_words[i] >= 5;
    int need_long = longs >= k;
    char *taken = calloc((size_t)d->n + 1, 1);
    float *worst = calloc((size_t)d->n + 1, sizeof *worst);   // max similarity to a picked sentence
    if (!taken || !worst) k = 0;
    for (; got < k; got++) {
        int best = -1;
        float best_s = 0.0f;
        for (int i = 0; i < d->n; i++) {
            if (taken[i] || (need_long && d->n_words[i] < 5)) continue;
            float s = rel[i] - d->prm.redundancy * worst[i];
            if (best < 0 || s > best_s) best = i, best_s = s;
        }
        if (best < 0) break;
        taken[best] = 1;
        picked[got] = best;
        for (int i = 0; i < d->n; i++) {
            float s = taken[i] ? 0.0f : sim(d, i, best);
            if (s > worst[i]) worst[i] = s;
        }
    }
    free(taken);
    free(worst);
    return got;
}

int slm_doc_summarize(const slm_doc *d, int k, int *picked, float *scores) {
    if (!d || k <= 0 || !picked) return 0;
    int n = mmr(d, d->central, k, picked);
    qsort(picked, (size_t)n, sizeof *picked, cmp_int);
    for (int i = 0; scores && i < n; i++) scores[i] = d->central[picked[i]];
    return n;
}

// ---- answers --------------------------------------------------------------------------

slm_status slm_doc_rank(const slm_doc *d, slm_context *enc, const char *q, size_t qlen, int *order, float *scores,
                        slm_error *err) {
    if (!d || !order || !scores || (!q && qlen)) return slm_fail(err, SLM_ERR_INVALID_ARG, "no document or no question");
    slm_status st = SLM_OK;
    float *qe = NULL;
    if (d->emb && enc) {
        if (slm_embed_dim(slm_context_model(enc)) != d->dim)
            return slm_fail(err, SLM_ERR_INVALID_ARG, "the encoder is not the one that embedded the document");
        qe = malloc((size_t)d->dim * sizeof *qe);
        if (!qe) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
        st = slm_embed(enc, q, qlen, qe, err);
        if (st == SLM_ERR_INVALID_ARG) st = SLM_OK, free(qe), qe = NULL;   // a blank question: words alone
    }
    collector c = {(slm_doc *)d, NULL, 0, 0, 0, 0.0f};
    float *qw = NULL;
    if (!st && each_word(q, qlen, collect, &c) < 0) st = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    if (!st && !(qw = malloc(((size_t)c.n + 1) * sizeof *qw))) st = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    if (!st) {
        float idf_max = logf(1.0f + (float)d->n) + 1.0f;    // a word the document lacks weighs as its rarest
        int u = weigh(d, c.ids, c.n, qw, c.unknown * idf_max * idf_max);
        float a = qe ? d->prm.embed_weight : 0.0f;
        for (int i = 0; i < d->n; i++) {
            int o = d->term_off[i];
            float lex = sparse_dot(c.ids, qw, u, d->term_id + o, d->term_w + o, d->term_off[i + 1] - o);
            float emb = qe ? dense_dot(qe, d->emb + (size_t)i * d->dim, d->dim) : 0.0f;
            scores[i] = a * emb + (1.0f - a) * lex;
        }
        float *raw = malloc(((size_t)d->n + 1) * sizeof *raw);
        if (!raw) {
            st = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
        } else {
            memcpy(raw, scores, (size_t)d->n * sizeof *raw);
            if (sort_by_score(raw, d->n, order, scores)) st = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
            free(raw);
        }
    }
    free(qe);
    free(qw);
    free(c.ids);
    return st;
}

// ---- suggested questions ------------------------------------------------------------

typedef struct {
    int start, end, words, proper;  // bytes of the phrase in the document; capitalized words
    float score;
} phrase;

// Is t[j] part of a word that started at `start`? Letters, digits, UTF-8
// bytes, and - or ' between letters ("well-known", "don't").
static int in_word(const char *t, int j, int start, int end) {
    unsigned char c = (unsigned char)t[j];
    if (is_alpha(c) || is_digit(c) || c >= 0x80) return 1;
    return (c == '-' || c == '\'') && j > start && j + 1 < end && is_alpha((unsigned char)t[j + 1]);
}

// Keeps cur as *best if it scores higher and is not among `used`
// (normalized phrases, NUL-separated, ending with an empty one).
static void consider(const slm_doc *d, const phrase *cur, const char *used, phrase *best, int *found) {
    char key[256];
    size_t kn = slm_normalize(d->text + cur->start, (size_t)(cur->end - cur->start), key, sizeof key);
    if (!kn || kn >= sizeof key - 1) return;
    for (const char *u = used; *u; u += strlen(u) + 1)
        if (strlen(u) == kn && !memcmp(u, key, kn)) return;
    if (!*found || cur->score > best->score) *best = *cur, *found = 1;
}

// The best key phrase of sentence s: a run of up to 4 content words (not
// stop words or weak words, unless capitalized) joined by single spaces,
// scored by the words' idf; capitalized words after the first (names) count
// more. Returns 0 if the sentence has none outside used.
static int key_phrase(const slm_doc *d, slm_span s, const char *used, phrase *best) {
    const char *t = d->text;
    int found = 0, prev_end = -1;
    phrase cur = {0, 0, 0, 0, 0.0f};
    for (int i = s.start; i < s.end;) {
        if (!in_word(t, i, i, s.end)) {
            i++;
            continue;
        }
        int j = i;
        while (j < s.end && in_word(t, j, i, s.end)) j++;
        char norm[80], st[82];
        size_t nn = slm_normalize(t + i, (size_t)(j - i < 64 ? j - i : 64), norm, sizeof norm);
        int proper = is_upper((unsigned char)t[i]) && i > s.start;
        int content = nn > 1 && !stop_word(norm, (int)nn) && !(nn <= 4 && is_digit((unsigned char)norm[0])) &&
                      (proper || !weak_word(norm, (int)nn));
        int joined = prev_end >= 0 && i == prev_end + 1 && t[prev_end] == ' ';
        if (cur.words && (!content || !joined || cur.words == 4)) {
            consider(d, &cur, used, best, &found);
            cur = (phrase){0, 0, 0, 0, 0.0f};
        }
        if (content) {
            if (!cur.words) cur.start = i;
            cur.end = j;
            cur.words++;
            int id = vocab_id((slm_doc *)d, hash64(st, stem(norm, (int)nn, st)), 0);
            cur.score += id >= 0 ? d->idf[id] : 1.0f;
            if (proper) cur.proper++, cur.score += 1.0f;
        }
        prev_end = j;
        i = j;
    }
    if (cur.words) consider(d, &cur, used, best, &found);
    return found;
}

// A year (1500..2099) in the sentence, as 4 digits in year, or 0.
static int year_in(const char *t, slm_span s, char *year) {
    for (int i = s.start; i + 4 <= s.end; i++) {
        if ((i > s.start && is_digit((unsigned char)t[i - 1])) || (i + 4 < s.end && is_digit((unsigned char)t[i + 4]))) continue;
        if (!is_digit((unsigned char)t[i]) || !is_digit((unsigned char)t[i + 1]) || !is_digit((unsigned char)t[i + 2]) ||
            !is_digit((unsigned char)t[i + 3]))
            continue;
        int v = (t[i] - '0') * 1000 + (t[i + 1] - '0') * 100 + (t[i + 2] - '0') * 10 + (t[i + 3] - '0');
        if (v >= 1500 && v <= 2099) {
            memcpy(year, t + i, 4);
            year[4] = 0;
            return 1;
        }
    }
    return 0;
}

// Does the sentence say someone spoke (a person is likely named in it)?
static int speech_in(const char *t, slm_span s) {
    static const char *const cues[] = {" said", " says", " told", " asked", "Mr ", "Mr. ", "Mrs ", "Ms ", "Dr ", "Dr. "};
    for (int i = s.start; i < s.end; i++)
        for (size_t k = 0; k < sizeof cues / sizeof cues[0]; k++) {
            size_t n = strlen(cues[k]);
            if ((size_t)(s.end - i) >= n && !memcmp(t + i, cues[k], n)) return 1;
        }
    return 0;
}

// Appends s (n bytes) to buf at *len if it fits; 0 if not.
static int append(char *buf, size_t cap, size_t *len, const char *s, size_t n) {
    if (*len + n + 1 > cap) return 0;
    memcpy(buf + *len, s, n);
    *len += n;
    buf[*len] = 0;
    return 1;
}

int slm_doc_questions(const slm_doc *d, int k, char *buf, size_t cap, int *sentences) {
    if (!buf || !cap) return 0;
    buf[0] = 0;
    if (!d || k <= 0 || !d->n) return 0;
    int *picked = malloc((size_t)d->n * sizeof *picked);
    char *used = calloc(1, (size_t)k * 256 + 2);   // the phrases used so far, NUL-separated
    if (!picked || !used) {
        free(picked);
        free(used);
        return 0;
    }
    int n = mmr(d, d->central, d->n < 2 * k ? d->n : 2 * k, picked), count = 0;
    size_t len = 0, used_len = 0;
    int year_used = 0;
    for (int p = 0; p < n && count < k; p++) {
        slm_span s = d->sent[picked[p]];
        phrase ph;
        char q[512], year[5];
        if (!key_phrase(d, s, used, &ph)) continue;
        const char *t = d->text;
        int pn = ph.end - ph.start;
        // "the" before the phrase belongs to it: "the Ice Hotel"
        int the = ph.start >= s.start + 4 && !memcmp(t + ph.start - 4, "the ", 4);
        the |= ph.start >= s.start + 4 && !memcmp(t + ph.start - 4, "The ", 4);
        if (ph.proper == ph.words && ph.words >= 2 && speech_in(t, s))
            snprintf(q, sizeof q, "Who is %.*s?", pn, t + ph.start);
        else if (!year_used && year_in(t, s, year) && (year_used = 1))
            snprintf(q, sizeof q, "What happened in %s?", year);
        else if (ph.proper == ph.words && ph.words >= 2 && the)
            snprintf(q, sizeof q, "What is the %.*s?", pn, t + ph.start);
        else
            snprintf(q, sizeof q, "What does the document say about %s%.*s?", the ? "the " : "", pn, t + ph.start);
        size_t qn = strlen(q);
        if (len && !append(buf, cap, &len, "\n", 1)) break;
        if (!append(buf, cap, &len, q, qn)) {
            if (len) buf[--len] = 0;   // drop the separator
            break;
        }
        if (sentences) sentences[count] = picked[p];
        count++;
        size_t un = slm_normalize(t + ph.start, (size_t)pn, used + used_len, 255);
        used_len += (un < 255 ? un : 254) + 1;
    }
    free(picked);
    free(used);
    return count;
}

// ---- the decoder's prompt ------------------------------------------------------------

static const char *const task_head[] = {
    "Summarize the following text.\n\nText:\n",
    "Write three questions a reader could ask about the following text.\n\nText:\n",
    "Answer the question using only the text.\n\nText:\n",
    "",
};
static const char *const task_tail[] = {"\n\nSummary:", "\n\nQuestions:\n1.", "\n\nQuestion: ", "Question: "};

// Tokens of s for the decoder (BOS counted if bos), or 4 bytes a token.
static int count_tokens(const slm_model *m, const char *s, size_t n, int bos) {
    if (!m) return (int)((n + 3) / 4) + bos;
    int k = slm_tokenize(m, s, n, bos, NULL, 0, NULL);
    return k < 0 ? (int)n : k;
}

// Adds s to buf if it fits (cap includes the NUL); *len counts it anyway.
static void add(char *buf, size_t cap, size_t *len, const char *s, size_t n) {
    if (*len + n < cap) memcpy(buf + *len, s, n);
    *len += n;
}

// The prompt for the chosen sentences (mask) into buf; returns the length
// it needs (like snprintf: longer than cap - 1 means it did not fit).
static size_t assemble(const slm_doc *d, slm_task task, const char *question, const char *mask, char *buf, size_t cap) {
    size_t len = 0, head = strlen(task_head[task]);
    add(buf, cap, &len, task_head[task], head);
    for (int i = 0; d && mask && i < d->n; i++) {
        if (!mask[i]) continue;
        if (len > head) add(buf, cap, &len, "\n", 1);
        add(buf, cap, &len, d->text + d->sent[i].start, (size_t)(d->sent[i].end - d->sent[i].start));
    }
    add(buf, cap, &len, task_tail[task], strlen(task_tail[task]));
    if (task >= SLM_TASK_ANSWER) {
        add(buf, cap, &len, question ? question : "", question ? strlen(question) : 0);
        add(buf, cap, &len, "\nAnswer:", 8);
    }
    buf[len < cap ? len : cap - 1] = 0;
    return len;
}

int slm_doc_prompt(const slm_doc *d, const slm_model *dec, slm_task task, const char *question, const int *order,
                   int budget, char *buf, size_t cap) {
    if (!buf || !cap || (unsigned)task > SLM_TASK_CHAT || (task != SLM_TASK_CHAT && !d)) return -1;
    if (task == SLM_TASK_CHAT) d = NULL;
    int n = d ? d->n : 0, len = -1, added = 0;
    char *mask = calloc((size_t)n + 1, 1);
    int *rank = malloc(((size_t)n + 1) * sizeof *rank), *adds = malloc(((size_t)n + 1) * sizeof *adds);
    int ok = mask && rank && adds;
    if (ok && order) memcpy(rank, order, (size_t)n * sizeof *rank);
    else if (ok && n) ok = !sort_by_score(d->central, n, rank, NULL);
    // greedy by rank on each sentence's tokens, then the whole prompt checked
    size_t bytes = ok ? assemble(d, task, question, NULL, buf, cap) : 0;
    int used = ok ? count_tokens(dec, buf, bytes, 1) : 0;
    ok = ok && used <= budget && bytes + 1 < cap;
    for (int r = 0; ok && r < n; r++) {
        int i = rank[r];
        if (i < 0 || i >= n || mask[i]) continue;
        size_t sn = (size_t)(d->sent[i].end - d->sent[i].start);
        int t = count_tokens(dec, d->text + d->sent[i].start, sn, 0) + 1;
        if (used + t > budget || bytes + sn + 2 > cap) continue;
        mask[i] = 1, used += t, bytes += sn + 1;
        adds[added++] = i;
    }
    while (ok) {
        size_t nb = assemble(d, task, question, mask, buf, cap);
        if (nb + 1 < cap && count_tokens(dec, buf, nb, 1) <= budget) {
            len = (int)nb;
            break;
        }
        if (!added) break;
        mask[adds[--added]] = 0;   // over by merges across sentences: drop the last one added
    }
    free(adds);
    free(mask);
    free(rank);
    return len;
}
