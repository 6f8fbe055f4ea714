// Tier 1: pattern files (docs/PATTERNS.md) and the cache of confirmed
// requests. Plain C over byte strings; no model code, so `make minimal`
// builds it alone.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slm.h"

#define LINE_MAX_BYTES 4096
#define FILE_MAX_BYTES (16u << 20)
#define MAX_ITEMS 1000000   // rules, terms or intents in one file

// ---- errors -----------------------------------------------------------------------

// Appends up to n bytes of s at *len in buf (cap bytes, room kept for a NUL).
static void put(char *buf, size_t cap, size_t *len, const char *s, size_t n) {
    for (size_t i = 0; i < n && *len + 1 < cap; i++) buf[(*len)++] = s[i];
}

// v in decimal, NUL-terminated, ending at end; returns its first character.
static char *decimal(unsigned v, char *end) {
    *--end = 0;
    do *--end = (char)('0' + v % 10);
    while (v /= 10);
    return end;
}

// Messages read "NAME:LINE: WHAT 'ARG'" (name, line and arg optional). They
// are built here, without printf, so the pattern-only build links none
// (printf would be half of its size). Like slm_fail's, they stay one
// printable line.
static slm_status fail(slm_error *err, slm_status code, const char *name, int line, const char *what, const char *arg) {
    if (!err) return code;
    char *m = err->message, num[16];
    size_t cap = sizeof err->message, n = 0;
    err->code = code;
    if (name) put(m, cap, &n, name, strlen(name)), put(m, cap, &n, ":", 1);
    if (line > 0) {
        const char *d = decimal((unsigned)line, num + sizeof num);
        put(m, cap, &n, d, strlen(d)), put(m, cap, &n, ":", 1);
    }
    if (n) put(m, cap, &n, " ", 1);
    put(m, cap, &n, what, strlen(what));
    if (arg) {
        size_t a = strlen(arg);
        put(m, cap, &n, " '", 2);
        put(m, cap, &n, arg, a < 60 ? a : 60);
        put(m, cap, &n, a > 60 ? "...'" : "'", a > 60 ? 4 : 1);
    }
    m[n] = 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)m[i] < 0x20 || m[i] == 0x7f) m[i] = '?';
    return code;
}

// ---- normalization -------------------------------------------------------------

static int is_alnum(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Latin-1 punctuation after 0xC2: no-break space, ¡ § « ¶ · » ¿.
static int latin1_punct(unsigned char c) {
    return c == 0xA0 || c == 0xA1 || c == 0xA7 || c == 0xAB || c == 0xB6 || c == 0xB7 || c == 0xBB || c == 0xBF;
}

// keep_star: '*' counts as a letter (pattern wildcards).
static size_t normalize(const char *text, size_t len, char *out, size_t cap, int keep_star) {
    const unsigned char *s = (const unsigned char *)text;
    size_t n = 0;
    int space = 0;      // a space is owed before the next kept byte
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i], keep[2] = {c, 0};
        int nkeep = 1, step = 1, sep = 0, drop = 0;
        if (c < 0x80) {
            if (c >= 'A' && c <= 'Z') keep[0] = (unsigned char)(c + 32);
            else if (c == '\'') drop = 1;
            else if (!is_alnum(c) && !(keep_star && c == '*')) sep = 1;
        } else if (c == 0xC2 && i + 1 < len && latin1_punct(s[i + 1])) {
            sep = 1, step = 2;
        } else if (c == 0xC3 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9E && s[i + 1] != 0x97) {
            keep[1] = (unsigned char)(s[i + 1] + 0x20), nkeep = 2, step = 2;   // À..Þ -> à..þ (not ×)
        } else if (c == 0xE2 && i + 2 < len && (s[i + 1] == 0x80 || s[i + 1] == 0x81) && (s[i + 2] & 0xC0) == 0x80) {
            // U+2000..U+207F: spaces, dashes, quotes, ellipsis; U+2018/U+2019 are apostrophes
            int cp = 0x2000 | (s[i + 1] & 0x3F) << 6 | (s[i + 2] & 0x3F);
            drop = cp == 0x2018 || cp == 0x2019;
            sep = !drop, step = 3;
        }
        i += (size_t)step;
        if (sep) {
            space = n > 0;
            continue;
        }
        if (drop) continue;
        if (space) {
            if (n + 1 < cap) out[n] = ' ';
            n++;
            space = 0;
        }
        for (int k = 0; k < nkeep; k++, n++)
            if (n + 1 < cap) out[n] = (char)keep[k];
    }
    if (cap) out[n < cap ? n : cap - 1] = 0;
    return n;
}

size_t slm_normalize(const char *text, size_t len, char *out, size_t cap) { return normalize(text, len, out, cap, 0); }

// ---- the parsed file -------------------------------------------------------------

enum { K_ANY, K_ALL, K_GLOB, K_PREFIX, K_EXACT };   // ordered by specificity

typedef struct {
    uint32_t off, len;      // the word in pool
    uint8_t prefix;         // "w*": any word starting with w
    uint8_t star;           // "*": any run of words (glob only)
} term;

typedef struct {
    int kind, intent, line;
    int first, n;           // its terms
} rule;

typedef struct {
    uint32_t name, reply;   // offsets of NUL-terminated strings in pool; reply 0 = none
    int line, priority, max_words;
    float confidence;
    int unless_first, unless_n;
    unsigned set;           // options already given, to refuse repeats
} intent;

struct slm_patterns {
    char *pool;             // strings and term words; offset 0 is an empty string
    size_t pool_len, pool_cap;
    intent *intents;
    rule *rules;
    term *terms;
    int n_intents, n_rules, n_terms, cap_intents, cap_rules, cap_terms;
};

// Room for n + 1 elements of size in arr: arr or its reallocation, NULL if
// out of memory (arr is then unchanged).
static void *grow(void *arr, int *cap, int n, size_t size) {
    if (n < *cap) return arr;
    if (n >= MAX_ITEMS) return NULL;
    int nc = *cap ? *cap * 2 : 16;
    void *p = realloc(arr, (size_t)nc * size);
    if (p) *cap = nc;
    return p;
}

// Appends bytes (and a NUL) to the pool; returns the offset or 0 if out of
// memory (offset 0 is the empty string every pool starts with).
static uint32_t pool_add(slm_patterns *p, const char *s, size_t n) {
    if (p->pool_len + n + 1 > p->pool_cap) {
        size_t nc = (p->pool_cap ? p->pool_cap : 256) * 2 + n;
        if (nc > UINT32_MAX) return 0;
        char *q = realloc(p->pool, nc);
        if (!q) return 0;
        p->pool = q;
        p->pool_cap = nc;
    }
    uint32_t off = (uint32_t)p->pool_len;
    memcpy(p->pool + off, s, n);
    p->pool[off + n] = 0;
    p->pool_len += n + 1;
    return off;
}

void slm_patterns_free(slm_patterns *p) {
    if (!p) return;
    free(p->pool);
    free(p->intents);
    free(p->rules);
    free(p->terms);
    free(p);
}

int slm_patterns_intent_count(const slm_patterns *p) { return p ? p->n_intents : 0; }

const char *slm_patterns_intent_name(const slm_patterns *p, int i) {
    return p && i >= 0 && i < p->n_intents ? p->pool + p->intents[i].name : NULL;
}

static int find_intent(const slm_patterns *p, const char *name) {
    for (int i = 0; p && name && i < p->n_intents; i++)
        if (!strcmp(p->pool + p->intents[i].name, name)) return i;
    return -1;
}

const char *slm_patterns_reply(const slm_patterns *p, const char *name) {
    int i = find_intent(p, name);
    return i >= 0 && p->intents[i].reply ? p->pool + p->intents[i].reply : NULL;
}

// ---- parsing ------------------------------------------------------------------------

typedef struct {
    slm_patterns *p;
    const char *name;
    int line;
    slm_error *err;
} parser;

static slm_status bad(parser *ps, const char *what, const char *arg) {
    return fail(ps->err, SLM_ERR_BAD_DATA, ps->name, ps->line, what, arg);
}

static slm_status oom(parser *ps) { return fail(ps->err, SLM_ERR_OUT_OF_MEMORY, ps->name, 0, "out of memory", NULL); }

// Length of the valid UTF-8 sequence at s, or 0.
static int utf8_len(const unsigned char *s, size_t n) {
    if (s[0] < 0x80) return 1;
    int k = s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3 : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;
    if (!k || (size_t)k > n) return 0;
    for (int i = 1; i < k; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) || (s[0] == 0xF0 && s[1] < 0x90) ||
        (s[0] == 0xF4 && s[1] > 0x8F))
        return 0;   // overlong, surrogate, beyond U+10FFFF
    return k;
}

static int valid_utf8(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        int k = utf8_len((const unsigned char *)s + i, n - i);
        if (!k) return 0;
        i += (size_t)k;
    }
    return 1;
}

static int valid_intent_name(const char *s, size_t n) {
    if (n == 0 || n >= SLM_INTENT_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.') return 0;
    return 1;
}

// Normalizes one pattern (stars kept) into terms. star_ok: 0 none, 1 only
// word prefixes ("w*"), 2 also lone "*" (globs).
static slm_status add_terms(parser *ps, const char *s, size_t n, int star_ok, int *first, int *count) {
    slm_patterns *p = ps->p;
    char buf[LINE_MAX_BYTES + 1];
    size_t len = normalize(s, n, buf, sizeof buf, 1);
    char shown[LINE_MAX_BYTES + 1];
    memcpy(shown, s, n);
    shown[n] = 0;
    if (len == 0) return bad(ps, "nothing left of the pattern once punctuation is removed:", shown);
    *first = p->n_terms;
    *count = 0;
    int only_stars = 1;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && buf[j] != ' ') j++;
        term t = {0, 0, 0, 0};
        char *star = memchr(buf + i, '*', j - i);
        if (star && !star_ok) return bad(ps, "'*' is only allowed in glob, all, any and unless patterns:", shown);
        if (star && star != buf + j - 1) return bad(ps, "'*' must end a word or stand alone:", shown);
        if (star && star == buf + i && star_ok < 2) return bad(ps, "a lone '*' is only allowed in glob patterns:", shown);
        t.star = star == buf + i;
        t.prefix = star && !t.star;
        if (!t.star) {
            only_stars = 0;
            t.len = (uint32_t)(j - i - t.prefix);
            if (!(t.off = pool_add(p, buf + i, t.len))) return oom(ps);
        }
        term *terms = grow(p->terms, &p->cap_terms, p->n_terms, sizeof *terms);
        if (!terms) return oom(ps);
        p->terms = terms;
        p->terms[p->n_terms++] = t;
        (*count)++;
        i = j + 1;
    }
    if (only_stars) return bad(ps, "a glob of only '*' would match everything:", shown);
    return SLM_OK;
}

static slm_status add_rule(parser *ps, int kind, const char *s, size_t n, int star_ok) {
    slm_patterns *p = ps->p;
    rule r = {kind, p->n_intents - 1, ps->line, 0, 0};
    slm_status st = add_terms(ps, s, n, star_ok, &r.first, &r.n);
    if (st) return st;
    rule *rules = grow(p->rules, &p->cap_rules, p->n_rules, sizeof *rules);
    if (!rules) return oom(ps);
    p->rules = rules;
    p->rules[p->n_rules++] = r;
    return SLM_OK;
}

// exact, prefix, glob: alternatives separated by '|'.
static slm_status add_alternatives(parser *ps, int kind, const char *arg, size_t n) {
    for (size_t i = 0; i <= n;) {
        size_t j = i;
        while (j < n && arg[j] != '|') j++;
        size_t a = i, b = j;
        while (a < b && (arg[a] == ' ' || arg[a] == '\t')) a++;
        while (b > a && (arg[b - 1] == ' ' || arg[b - 1] == '\t')) b--;
        if (a == b) return bad(ps, "empty alternative between '|'", NULL);
        slm_status st = add_rule(ps, kind, arg + a, b - a, kind == K_GLOB ? 2 : 0);
        if (st) return st;
        i = j + 1;
    }
    return SLM_OK;
}

// An integer in [lo, hi], nothing else on the line.
static int parse_int(const char *s, long lo, long hi, int *out) {
    const char *c = s;
    int neg = *c == '-';
    if (*c == '-' || *c == '+') c++;
    if (!*c) return -1;
    long v = 0;
    for (; *c; c++) {
        if (*c < '0' || *c > '9' || v > 1000000) return -1;
        v = v * 10 + (*c - '0');
    }
    v = neg ? -v : v;
    if (v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

// A number in [0, 1] written as 0, 1, 0.85, .5 or 1.0 (our own parser: no strtod in minimal builds).
static int parse_unit(const char *s, float *out) {
    const char *c = s;
    float v = 0.0f, scale = 1.0f;
    int digits = 0;
    for (; *c >= '0' && *c <= '9'; c++, digits++) v = v * 10.0f + (float)(*c - '0');
    if (*c == '.')
        for (c++; *c >= '0' && *c <= '9'; c++, digits++) v += (float)(*c - '0') * (scale *= 0.1f);
    if (*c || !digits || v > 1.0f) return -1;
    *out = v;
    return 0;
}

// "\n" becomes a new line and "\\" a backslash; other characters stay.
static size_t unescape(const char *s, size_t n, char *out) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n && (s[i + 1] == 'n' || s[i + 1] == '\\')) {
            out[k++] = s[i + 1] == 'n' ? '\n' : '\\';
            i++;
        } else {
            out[k++] = s[i];
        }
    }
    return k;
}

static slm_status parse_header(parser *ps, const char *s, size_t n) {
    slm_patterns *p = ps->p;
    char shown[LINE_MAX_BYTES + 1];
    memcpy(shown, s, n);
    shown[n] = 0;
    if (s[n - 1] != ']') return bad(ps, "an intent header is [name], nothing after the ']':", shown);
    const char *name = s + 1;
    size_t len = n - 2;
    while (len && (*name == ' ' || *name == '\t')) name++, len--;
    while (len && (name[len - 1] == ' ' || name[len - 1] == '\t')) len--;
    if (!valid_intent_name(name, len))
        return bad(ps, "an intent name is 1 to 63 characters among a-z A-Z 0-9 _ . -, not", shown);
    for (int i = 0; i < p->n_intents; i++) {
        const char *other = p->pool + p->intents[i].name;
        if (strlen(other) == len && !memcmp(other, name, len)) {
            char what[64] = "intent already defined at line ", num[16];
            strcat(what, decimal((unsigned)p->intents[i].line, num + sizeof num));
            return bad(ps, strcat(what, ":"), other);
        }
    }
    intent *intents = grow(p->intents, &p->cap_intents, p->n_intents, sizeof *intents);
    if (!intents) return oom(ps);
    p->intents = intents;
    intent in = {0, 0, ps->line, 0, 0, 1.0f, 0, 0, 0};
    if (!(in.name = pool_add(p, name, len))) return oom(ps);
    p->intents[p->n_intents++] = in;
    return SLM_OK;
}

static const char *const directives[] = {"reply", "priority", "confidence", "max_words", "unless",
                                         "exact", "prefix", "glob",       "all",       "any"};

static slm_status parse_directive(parser *ps, const char *s, size_t n) {
    slm_patterns *p = ps->p;
    size_t w = 0;
    while (w < n && s[w] != ' ' && s[w] != '\t') w++;
    char word[LINE_MAX_BYTES + 1];
    memcpy(word, s, w);
    word[w] = 0;
    int d = 0, nd = (int)(sizeof directives / sizeof directives[0]);
    while (d < nd && strcmp(word, directives[d])) d++;
    if (d == nd) return bad(ps, "unknown directive (expected [intent], reply, priority, confidence, max_words, unless, exact, prefix, glob, all or any):", word);
    if (!p->n_intents) return bad(ps, "a directive before any [intent] header:", word);
    const char *arg = s + w;
    size_t alen = n - w;
    while (alen && (*arg == ' ' || *arg == '\t')) arg++, alen--;
    if (!alen) return bad(ps, "missing value after", word);
    char val[LINE_MAX_BYTES + 1];
    memcpy(val, arg, alen);
    val[alen] = 0;

    intent *in = &p->intents[p->n_intents - 1];
    if (d < 5) {    // options: once per intent
        if (in->set & 1u << d) return bad(ps, "given twice for this intent:", word);
        in->set |= 1u << d;
    }
    switch (d) {
    case 0: {
        char text[LINE_MAX_BYTES + 1];
        size_t k = unescape(arg, alen, text);
        uint32_t off = pool_add(p, text, k);
        if (!off) return oom(ps);
        p->intents[p->n_intents - 1].reply = off;
        return SLM_OK;
    }
    case 1:
        if (parse_int(val, -1000, 1000, &in->priority)) return bad(ps, "priority is an integer in [-1000, 1000], not", val);
        return SLM_OK;
    case 2:
        if (parse_unit(val, &in->confidence)) return bad(ps, "confidence is a number in [0, 1], not", val);
        return SLM_OK;
    case 3:
        if (parse_int(val, 1, 100000, &in->max_words)) return bad(ps, "max_words is an integer in [1, 100000], not", val);
        return SLM_OK;
    case 4: {
        if (memchr(arg, '|', alen)) return bad(ps, "'|' separates alternatives only in exact, prefix and glob:", val);
        int first, count;
        slm_status st = add_terms(ps, arg, alen, 1, &first, &count);
        if (st) return st;
        in = &p->intents[p->n_intents - 1];
        in->unless_first = first;
        in->unless_n = count;
        return SLM_OK;
    }
    case 5: return add_alternatives(ps, K_EXACT, arg, alen);
    case 6: return add_alternatives(ps, K_PREFIX, arg, alen);
    case 7: return add_alternatives(ps, K_GLOB, arg, alen);
    default:
        if (memchr(arg, '|', alen)) return bad(ps, "'|' separates alternatives only in exact, prefix and glob:", val);
        return add_rule(ps, d == 8 ? K_ALL : K_ANY, arg, alen, 1);
    }
}

static slm_status parse_line(parser *ps, const char *s, size_t n) {
    if (n > LINE_MAX_BYTES) return bad(ps, "line longer than 4096 bytes", NULL);
    if (memchr(s, 0, n)) return bad(ps, "NUL byte in the line", NULL);
    if (!valid_utf8(s, n)) return bad(ps, "invalid UTF-8", NULL);
    while (n && (*s == ' ' || *s == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) n--;
    if (!n || *s == '#') return SLM_OK;
    return *s == '[' ? parse_header(ps, s, n) : parse_directive(ps, s, n);
}

slm_status slm_patterns_parse(const char *text, size_t len, const char *name, slm_patterns **out, slm_error *err) {
    if (!out) return fail(err, SLM_ERR_INVALID_ARG, NULL, 0, "no place for the patterns", NULL);
    *out = NULL;
    if (!name) name = "patterns";
    if (!text && len) return fail(err, SLM_ERR_INVALID_ARG, name, 0, "no text", NULL);
    if (len > FILE_MAX_BYTES) return fail(err, SLM_ERR_BAD_DATA, name, 0, "larger than 16 MiB", NULL);
    slm_patterns *p = calloc(1, sizeof *p);
    if (p) p->pool = calloc(1, 1);   // offset 0: the empty string
    if (!p || !p->pool) {
        slm_patterns_free(p);
        return fail(err, SLM_ERR_OUT_OF_MEMORY, name, 0, "out of memory", NULL);
    }
    p->pool_cap = p->pool_len = 1;
    parser ps = {p, name, 0, err};
    size_t i = len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3) ? 3 : 0;   // byte order mark
    while (i < len) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
        ps.line++;
        slm_status st = parse_line(&ps, text + i, n);
        if (st) {
            slm_patterns_free(p);
            return st;
        }
        i += n + 1;
    }
    *out = p;
    return SLM_OK;
}

// Reads a whole file (at most FILE_MAX_BYTES) into a malloc'd buffer.
static slm_status read_file(const char *path, char **out, size_t *len, slm_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return fail(err, SLM_ERR_IO, path, 0, strerror(errno), NULL);
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || cap > FILE_MAX_BYTES) break;
        char *b = realloc(buf, cap *= 2);
        if (!b) free(buf);
        buf = b;
    }
    int bad_read = ferror(f);
    fclose(f);
    if (!buf) return fail(err, SLM_ERR_OUT_OF_MEMORY, path, 0, "out of memory", NULL);
    if (bad_read || n > FILE_MAX_BYTES) {
        free(buf);
        return fail(err, bad_read ? SLM_ERR_IO : SLM_ERR_BAD_DATA, path, 0,
                    bad_read ? "read error" : "larger than 16 MiB", NULL);
    }
    *out = buf;
    *len = n;
    return SLM_OK;
}

slm_status slm_patterns_load(const char *path, slm_patterns **out, slm_error *err) {
    if (out) *out = NULL;
    char *buf;
    size_t n;
    slm_status st = read_file(path, &buf, &n, err);
    if (st) return st;
    st = slm_patterns_parse(buf, n, path, out, err);
    free(buf);
    return st;
}

// ---- matching -------------------------------------------------------------------------

typedef struct {
    const char *s;
    int len;
} word;

static int term_eq(const slm_patterns *p, const term *t, const word *w) {
    if (t->star) return 1;
    if (t->prefix ? (uint32_t)w->len < t->len : (uint32_t)w->len != t->len) return 0;
    return !memcmp(p->pool + t->off, w->s, t->len);
}

// Does some word of the text match term t?
static int term_in(const slm_patterns *p, const term *t, const word *w, int nw) {
    for (int i = 0; i < nw; i++)
        if (term_eq(p, t, &w[i])) return 1;
    return 0;
}

// Wildcard matching over words: '*' terms take any run of words; on a
// mismatch the last '*' takes one more word (linear in practice).
static int glob_match(const slm_patterns *p, const term *t, int nt, const word *w, int nw) {
    int ti = 0, wi = 0, star = -1, mark = 0;
    while (wi < nw) {
        if (ti < nt && t[ti].star) {
            star = ti++;
            mark = wi;
        } else if (ti < nt && term_eq(p, &t[ti], &w[wi])) {
            ti++, wi++;
        } else if (star >= 0) {
            ti = star + 1;
            wi = ++mark;
        } else {
            return 0;
        }
    }
    while (ti < nt && t[ti].star) ti++;
    return ti == nt;
}

static int rule_matches(const slm_patterns *p, const rule *r, const word *w, int nw) {
    const term *t = p->terms + r->first;
    switch (r->kind) {
    case K_EXACT:
    case K_PREFIX:
        if (r->kind == K_EXACT ? nw != r->n : nw < r->n) return 0;
        for (int i = 0; i < r->n; i++)
            if (!term_eq(p, &t[i], &w[i])) return 0;
        return 1;
    case K_GLOB: return glob_match(p, t, r->n, w, nw);
    case K_ALL:
        for (int i = 0; i < r->n; i++)
            if (!term_in(p, &t[i], w, nw)) return 0;
        return 1;
    default:
        for (int i = 0; i < r->n; i++)
            if (term_in(p, &t[i], w, nw)) return 1;
        return 0;
    }
}

static int vetoed(const slm_patterns *p, const intent *in, const word *w, int nw) {
    for (int i = 0; i < in->unless_n; i++)
        if (term_in(p, &p->terms[in->unless_first + i], w, nw)) return 1;
    return 0;
}

// Is rule a better answer than rule b (NULL: none yet)?
static int better(const slm_patterns *p, const rule *a, const rule *b) {
    if (!b) return 1;
    int pa = p->intents[a->intent].priority, pb = p->intents[b->intent].priority;
    if (pa != pb) return pa > pb;
    if (a->kind != b->kind) return a->kind > b->kind;
    return a->line < b->line;
}

int slm_patterns_match(const slm_patterns *p, const char *text, size_t len, slm_pattern_match *m) {
    m->intent = -1;
    m->name = m->reply = NULL;
    m->confidence = 0.0f;
    m->priority = m->line = 0;
    if (!p || !p->n_rules || (!text && len)) return 0;
    char *buf = malloc(len + 1);
    word *w = malloc((len / 2 + 1) * sizeof *w);
    if (!buf || !w) {
        free(buf);
        free(w);
        return -1;
    }
    size_t n = normalize(text, len, buf, len + 1, 0);
    int nw = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && buf[j] != ' ') j++;
        w[nw++] = (word){buf + i, (int)(j - i)};
        i = j + 1;
    }
    const rule *best = NULL;
    for (int r = 0; r < p->n_rules; r++) {
        const rule *ru = &p->rules[r];
        const intent *in = &p->intents[ru->intent];
        int loose = ru->kind != K_EXACT;   // max_words and unless guard the loose rules only
        if ((loose && in->max_words && nw > in->max_words) || !better(p, ru, best)) continue;
        if (rule_matches(p, ru, w, nw) && !(loose && vetoed(p, in, w, nw))) best = ru;
    }
    free(buf);
    free(w);
    if (!best) return 0;
    const intent *in = &p->intents[best->intent];
    m->intent = best->intent;
    m->name = p->pool + in->name;
    m->reply = in->reply ? p->pool + in->reply : NULL;
    m->confidence = in->confidence;
    m->priority = in->priority;
    m->line = best->line;
    return 1;
}

// ---- the cache of confirmed requests ------------------------------------------------

typedef struct {
    char *text;             // normalized request
    uint32_t hash;
    uint64_t used;          // tick of the last add or hit
    char intent[SLM_INTENT_MAX];
} entry;

struct slm_cache {
    entry *e;
    int n, cap;
    uint64_t tick;
};

static uint32_t fnv1a(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

slm_status slm_cache_new(int capacity, slm_cache **out, slm_error *err) {
    if (!out) return fail(err, SLM_ERR_INVALID_ARG, NULL, 0, "no place for the cache", NULL);
    *out = NULL;
    if (capacity < 1 || capacity > 1000000)
        return fail(err, SLM_ERR_INVALID_ARG, NULL, 0, "the cache capacity must be in [1, 1000000]", NULL);
    slm_cache *c = calloc(1, sizeof *c);
    if (c) c->e = calloc((size_t)capacity, sizeof *c->e);
    if (!c || !c->e) {
        free(c);
        return fail(err, SLM_ERR_OUT_OF_MEMORY, NULL, 0, "out of memory", NULL);
    }
    c->cap = capacity;
    *out = c;
    return SLM_OK;
}

void slm_cache_free(slm_cache *c) {
    if (!c) return;
    for (int i = 0; i < c->n; i++) free(c->e[i].text);
    free(c->e);
    free(c);
}

int slm_cache_count(const slm_cache *c) { return c ? c->n : 0; }

// The normalized key of text in key (SLM_CACHE_TEXT_MAX + 1 bytes): its
// length, or -1 if it is empty or too long to cache.
static int cache_key(const char *text, size_t len, char *key) {
    if (!text) return -1;
    size_t n = normalize(text, len, key, SLM_CACHE_TEXT_MAX + 1, 0);
    return n == 0 || n > SLM_CACHE_TEXT_MAX ? -1 : (int)n;
}

static int cache_find(const slm_cache *c, const char *key, int n) {
    uint32_t h = fnv1a(key, (size_t)n);
    for (int i = 0; i < c->n; i++)
        if (c->e[i].hash == h && !strcmp(c->e[i].text, key)) return i;
    return -1;
}

const char *slm_cache_lookup(slm_cache *c, const char *text, size_t len) {
    char key[SLM_CACHE_TEXT_MAX + 1];
    int n = c ? cache_key(text, len, key) : -1;
    int i = n < 0 ? -1 : cache_find(c, key, n);
    if (i < 0) return NULL;
    c->e[i].used = ++c->tick;
    return c->e[i].intent;
}

int slm_cache_remove(slm_cache *c, const char *text, size_t len) {
    char key[SLM_CACHE_TEXT_MAX + 1];
    int n = c ? cache_key(text, len, key) : -1;
    int i = n < 0 ? -1 : cache_find(c, key, n);
    if (i < 0) return 0;
    free(c->e[i].text);
    c->e[i] = c->e[--c->n];
    return 1;
}

slm_status slm_cache_add(slm_cache *c, const char *text, size_t len, const char *intent_name, slm_error *err) {
    if (!c) return fail(err, SLM_ERR_INVALID_ARG, NULL, 0, "no cache", NULL);
    if (!intent_name || !valid_intent_name(intent_name, strlen(intent_name)))
        return fail(err, SLM_ERR_INVALID_ARG, NULL, 0, "an intent name is 1 to 63 characters among a-z A-Z 0-9 _ . -, not", intent_name);
    char key[SLM_CACHE_TEXT_MAX + 1];
    int n = cache_key(text, len, key);
    if (n < 0)
        return fail(err, SLM_ERR_INVALID_ARG, NULL, 0, "a cached request has 1 to 1024 bytes once normalized", NULL);
    int i = cache_find(c, key, n);
    if (i < 0) {
        char *copy = malloc((size_t)n + 1);
        if (!copy) return fail(err, SLM_ERR_OUT_OF_MEMORY, NULL, 0, "out of memory", NULL);
        memcpy(copy, key, (size_t)n + 1);
        if (c->n < c->cap) {
            i = c->n++;
        } else {    // full: reuse the least recently used entry
            i = 0;
            for (int k = 1; k < c->n; k++)
                if (c->e[k].used < c->e[i].used) i = k;
            free(c->e[i].text);
        }
        c->e[i].text = copy;
        c->e[i].hash = fnv1a(key, (size_t)n);
    }
    memcpy(c->e[i].intent, intent_name, strlen(intent_name) + 1);
    c->e[i].used = ++c->tick;
    return SLM_OK;
}

static int by_use(const void *a, const void *b) {
    uint64_t x = (*(entry *const *)a)->used, y = (*(entry *const *)b)->used;
    return (x > y) - (x < y);
}

size_t slm_cache_write(const slm_cache *c, char *buf, size_t cap) {
    if (!c || !c->n) return 0;
    entry **order = malloc((size_t)c->n * sizeof *order);
    if (!order) return 0;
    for (int i = 0; i < c->n; i++) order[i] = &c->e[i];
    qsort(order, (size_t)c->n, sizeof *order, by_use);
    size_t total = 0;
    for (int i = 0; i < c->n; i++) {
        const char *parts[4] = {order[i]->intent, "\t", order[i]->text, "\n"};
        for (int k = 0; k < 4; k++) {
            size_t n = strlen(parts[k]);
            if (total < cap) memcpy(buf + total, parts[k], n < cap - total ? n : cap - total);
            total += n;
        }
    }
    free(order);
    return total;
}

slm_status slm_cache_parse(const char *text, size_t len, const char *name, int capacity, slm_cache **out,
                           slm_error *err) {
    if (!name) name = "cache";
    slm_status st = slm_cache_new(capacity, out, err);
    if (st) return st;
    if (!text && len) st = fail(err, SLM_ERR_INVALID_ARG, name, 0, "no text", NULL);
    if (len > FILE_MAX_BYTES) st = fail(err, SLM_ERR_BAD_DATA, name, 0, "larger than 16 MiB", NULL);
    int line = 0;
    for (size_t i = 0; !st && i < len;) {
        const char *s = text + i, *nl = memchr(s, '\n', len - i);
        size_t n = nl ? (size_t)(nl - s) : len - i;
        i += n + 1;
        line++;
        if (n && s[n - 1] == '\r') n--;
        if (!n || s[0] == '#') continue;
        const char *tab = memchr(s, '\t', n);
        const char *what = NULL;
        if (memchr(s, 0, n)) what = "NUL byte in the line";
        else if (!valid_utf8(s, n)) what = "invalid UTF-8";
        else if (!tab) what = "expected intent<TAB>request";
        else if (!valid_intent_name(s, (size_t)(tab - s))) what = "bad intent name (1 to 63 of a-z A-Z 0-9 _ . -)";
        if (!what) {
            char name_buf[SLM_INTENT_MAX];
            memcpy(name_buf, s, (size_t)(tab - s));
            name_buf[tab - s] = 0;
            slm_error e;
            if (slm_cache_add(*out, tab + 1, n - (size_t)(tab - s) - 1, name_buf, &e))
                what = e.code == SLM_ERR_OUT_OF_MEMORY ? "out of memory" : "empty or too long request";
        }
        if (what) st = fail(err, SLM_ERR_BAD_DATA, name, line, what, NULL);
    }
    if (st) {
        slm_cache_free(*out);
        *out = NULL;
    }
    return st;
}

slm_status slm_cache_load(const char *path, int capacity, slm_cache **out, slm_error *err) {
    if (out) *out = NULL;
    char *buf;
    size_t n;
    slm_status st = read_file(path, &buf, &n, err);
    if (st) return st;
    st = slm_cache_parse(buf, n, path, capacity, out, err);
    free(buf);
    return st;
}

slm_status slm_cache_save(const slm_cache *c, const char *path, slm_error *err) {
    if (!c || !path) return fail(err, SLM_ERR_INVALID_ARG, NULL, 0, "no cache or no path", NULL);
    size_t n = slm_cache_write(c, NULL, 0);
    char *buf = malloc(n + 1), *tmp = malloc(strlen(path) + 16);
    if (!buf || !tmp) {
        free(buf);
        free(tmp);
        return fail(err, SLM_ERR_OUT_OF_MEMORY, NULL, 0, "out of memory", NULL);
    }
    slm_cache_write(c, buf, n);
    memcpy(tmp, path, strlen(path));
    memcpy(tmp + strlen(path), ".tmp-XXXXXX", 12);
    int fd = mkstemp(tmp), saved = 0;
    FILE *f = fd < 0 ? NULL : fdopen(fd, "wb");
    int ok = f && fwrite(buf, 1, n, f) == n && !fflush(f) && !fsync(fd);
    if (!ok) saved = errno;
    if (f) ok &= !fclose(f);
    else if (fd >= 0) close(fd);
    if (ok && rename(tmp, path)) ok = 0, saved = errno;
    if (!ok && fd >= 0) unlink(tmp);
    free(buf);
    free(tmp);
    return ok ? SLM_OK : fail(err, SLM_ERR_IO, path, 0, strerror(saved ? saved : EIO), NULL);
}
