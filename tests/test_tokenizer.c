// Tokenizer tests: SentencePiece golden ids, llama.cpp's vectors, byte
// fallback, decoding and streaming, merge order on hand-built vocabularies,
// hostile vocabularies.
#include "test.h"
#include "tokenizer.h"

#include <math.h>
#include <stdint.h>
#include <unistd.h>

// tokenizer.c calls the model code's accessor, which these tests never reach.
__attribute__((weak)) const slm_vocab *slm_model_vocab(const slm_model *m) { (void)m; return NULL; }

static const char *shared;   // "../shared" or "../../shared"

static char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc(n + 1);
    if (p && fread(p, 1, n, f) != (size_t)n) { free(p); p = NULL; }
    fclose(f);
    if (p) { p[n] = 0; *size = n; }
    return p;
}

static char *shared_path(const char *rel) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", shared, rel);
    return path;
}

// Parses a GGUF file and loads its vocabulary; err gets the message on failure.
static int load_path(const char *path, slm_vocab **v, char *err, size_t errlen) {
    size_t size;
    char *data = read_file(path, &size);
    if (!data) { snprintf(err, errlen, "cannot read %s", path); return -1; }
    gguf_file g;
    int rc = gguf_parse(&g, data, size, err, errlen);
    if (rc == 0) {
        rc = vocab_load(v, &g, err, errlen);
        gguf_free(&g);
    }
    free(data);
    return rc;
}

static slm_vocab *load_shared(const char *rel) {
    char err[320];
    slm_vocab *v = NULL;
    int rc = load_path(shared_path(rel), &v, err, sizeof err);
    CHECK(rc == 0, "%s: %s", rel, err);
    return v;
}

static int piece_id(const slm_vocab *v, const char *piece) {
    for (int i = 0; i < vocab_size(v); i++)
        if (!strcmp(vocab_piece(v, i), piece)) return i;
    return -1;
}

// Tokenizes into a fresh buffer; *n gets the count.
static int32_t *tokenize(const slm_vocab *v, const char *text, size_t len, int add_bos, int *n) {
    int need = vocab_tokenize(v, text, len, add_bos, NULL, 0);
    int32_t *ids = malloc((need > 0 ? need : 1) * sizeof *ids);
    *n = vocab_tokenize(v, text, len, add_bos, ids, need);
    if (*n != need) *n = -1;
    return ids;
}

// Decodes ids with vocab_token_bytes; returns a malloc'd buffer, *len its length.
static char *detokenize(const slm_vocab *v, const int32_t *ids, int n, size_t *len) {
    size_t cap = 16, used = 0;
    char *out = malloc(cap);
    for (int i = 0; i < n; i++) {
        int k = vocab_token_bytes(v, ids[i], i ? ids[i - 1] : -1, NULL, 0);
        if (k < 0) break;
        while (used + k > cap) out = realloc(out, cap *= 2);
        vocab_token_bytes(v, ids[i], i ? ids[i - 1] : -1, out + used, k);
        used += k;
    }
    *len = used;
    return out;
}

// Decodes ids through the streaming detokenizer.
static char *detok_stream(const slm_vocab *v, const int32_t *ids, int n, size_t *len) {
    char *out = malloc((size_t)n * 80 + 8);
    size_t used = 0;
    slm_detok d;
    slm_detok_init(&d);
    for (int i = 0; i < n; i++) {
        int k = vocab_detok_push(v, &d, ids[i], out + used, 80);
        if (k > 0) used += k;
    }
    used += slm_detok_flush(&d, out + used, 8);
    *len = used;
    return out;
}

static int same_ids(const int32_t *a, int n, const int32_t *b, int m) {
    return n == m && (n <= 0 || !memcmp(a, b, (size_t)n * sizeof *a));
}

// Tokenizes text (no BOS) and compares the ids.
static void check_ids(const slm_vocab *v, const char *text, size_t len, const int32_t *expect, int n_expect,
                      const char *what) {
    int n;
    int32_t *ids = tokenize(v, text, len, 0, &n);
    int same = same_ids(ids, n, expect, n_expect);
    CHECK(same, "%s: got %d ids, expected %d", what, n, n_expect);
    free(ids);
}

static int32_t *parse_ids(const char *s, int *n) {
    int cap = 16;
    int32_t *ids = malloc(cap * sizeof *ids);
    *n = 0;
    for (;;) {
        char *end;
        long x = strtol(s, &end, 10);
        if (end == s) break;
        if (*n == cap) ids = realloc(ids, (cap *= 2) * sizeof *ids);
        ids[(*n)++] = (int32_t)x;
        s = end;
    }
    return ids;
}

static int put_utf8(char *out, unsigned c) {
    if (c < 0x80) { out[0] = (char)c; return 1; }
    if (c < 0x800) { out[0] = (char)(0xC0 | c >> 6); out[1] = (char)(0x80 | (c & 63)); return 2; }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | c >> 12); out[1] = (char)(0x80 | (c >> 6 & 63)); out[2] = (char)(0x80 | (c & 63));
        return 3;
    }
    out[0] = (char)(0xF0 | c >> 18); out[1] = (char)(0x80 | (c >> 12 & 63));
    out[2] = (char)(0x80 | (c >> 6 & 63)); out[3] = (char)(0x80 | (c & 63));
    return 4;
}

static int hex4(const char *s, unsigned *u) {
    *u = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        *u = *u * 16 + (unsigned)d;
    }
    return 0;
}

// Decodes the JSON string literal at s into out (NUL-terminated); returns its
// length, or -1 if malformed. *end is set past the closing quote.
static long json_string(const char *s, char *out, const char **end) {
    long n = 0;
    if (*s++ != '"') return -1;
    while (*s && *s != '"') {
        if (*s != '\\') { out[n++] = *s++; continue; }
        s++;
        unsigned u;
        switch (*s++) {
        case '"': out[n++] = '"'; break;
        case '\\': out[n++] = '\\'; break;
        case '/': out[n++] = '/'; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'u':
            if (hex4(s, &u)) return -1;
            s += 4;
            if (u >= 0xD800 && u < 0xDC00) {   // a surrogate pair
                unsigned lo;
                if (s[0] != '\\' || s[1] != 'u' || hex4(s + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF) return -1;
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                s += 6;
            }
            n += put_utf8(out + n, u);
            break;
        default: return -1;
        }
    }
    if (*s != '"') return -1;
    out[n] = 0;
    *end = s + 1;
    return n;
}

// ---- shared golden data ----------------------------------------------------

static void check_round_trip(const slm_vocab *v, const char *text, size_t len, const int32_t *ids, int n,
                             const char *what) {
    size_t dlen, slen;
    char *d = detokenize(v, ids, n, &dlen);
    char *st = detok_stream(v, ids, n, &slen);
    CHECK(dlen == len && !memcmp(d, text, len), "%s: token_bytes round trip differs", what);
    CHECK(slen == len && !memcmp(st, text, len), "%s: streaming round trip differs", what);
    free(d);
    free(st);
}

static void test_golden_tsv(const slm_vocab *v) {
    size_t size;
    char *tsv = read_file(shared_path("golden/tokenizer/llama32k_public.tsv"), &size);
    CHECK(tsv != NULL, "cannot read the golden TSV");
    if (!tsv) return;
    char *text = malloc(size + 1);
    int cases = 0, pass = 0;
    for (char *line = tsv; *line; ) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        const char *rest;
        long len = json_string(line, text, &rest);
        CHECK(len >= 0 && *rest == '\t', "golden TSV line %d is malformed", cases + 1);
        if (len >= 0 && *rest == '\t') {
            int n_expect, n;
            int32_t *expect = parse_ids(rest + 1, &n_expect);
            int32_t *ids = tokenize(v, text, len, 0, &n);
            int same = same_ids(ids, n, expect, n_expect);
            CHECK(same, "golden TSV line %d: got %d ids, expected %d", cases + 1, n, n_expect);
            pass += same;
            cases++;
            check_round_trip(v, text, len, ids, n, "golden TSV");
            free(ids);
            free(expect);
        }
        if (!nl) break;
        line = nl + 1;
    }
    printf("golden TSV (SentencePiece, 32k): %d of %d cases match\n", pass, cases);
    CHECK(cases == 149, "expected 149 golden cases, read %d", cases);
    free(text);
    free(tsv);
}

// llama.cpp's vectors: each input is followed by "\n__ggml_vocab_test__\n";
// each .out line holds one input's ids.
static void test_llamacpp_vectors(const slm_vocab *v) {
    size_t isize, osize;
    char *inp = read_file(shared_path("data/tokenizers/ggml-vocab-llama-spm.gguf.inp"), &isize);
    char *out = read_file(shared_path("data/tokenizers/ggml-vocab-llama-spm.gguf.out"), &osize);
    CHECK(inp && out, "cannot read the llama.cpp vectors");
    if (!inp || !out) { free(inp); free(out); return; }
    const char *sep = "\n__ggml_vocab_test__\n";
    char *text = inp, *line = out;
    int cases = 0, pass = 0;
    for (char *at; (at = strstr(text, sep)) && *line; text = at + strlen(sep)) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        int n_expect, n;
        int32_t *expect = parse_ids(line, &n_expect);
        int32_t *ids = tokenize(v, text, at - text, 0, &n);
        int same = same_ids(ids, n, expect, n_expect);
        CHECK(same, "llama.cpp case %d: got %d ids, expected %d", cases + 1, n, n_expect);
        pass += same;
        cases++;
        check_round_trip(v, text, at - text, ids, n, "llama.cpp vectors");
        free(ids);
        free(expect);
        line = nl ? nl + 1 : line + strlen(line);
    }
    printf("llama.cpp vectors (llama-spm): %d of %d cases match\n", pass, cases);
    CHECK(cases == 46, "expected 46 llama.cpp cases, read %d", cases);
    free(inp);
    free(out);
}

// stories260K's vocabulary (GGUF v1) against llama2.c's own prompt ids.
static void test_stories_vocab(void) {
    slm_vocab *v = load_shared("data/models/tinyllamas-stories-260k-f32.gguf");
    if (!v) return;
    CHECK(vocab_size(v) == 512 && vocab_bos(v) == 1 && vocab_eos(v) == 2 && vocab_add_bos(v) == 1,
          "stories260K vocab: size %d bos %d eos %d", vocab_size(v), vocab_bos(v), vocab_eos(v));
    for (int c = 0; c < 100; c++) {
        char rel[64];
        snprintf(rel, sizeof rel, "golden/stories260k/case%02d.txt", c);
        size_t size;
        char *f = read_file(shared_path(rel), &size);
        if (!f) { CHECK(c > 0, "no stories260k golden cases"); break; }
        char *p = strstr(f, "prompt "), *q = strstr(f, "prompt_ids ");
        char *prompt = malloc(size + 1);
        const char *end;
        long len = p && q ? json_string(p + 7, prompt, &end) : -1;
        CHECK(len >= 0, "%s: no prompt", rel);
        if (len >= 0) {
            int n_expect, n;
            int32_t *expect = parse_ids(q + 11, &n_expect);
            int32_t *ids = tokenize(v, prompt, len, 1, &n);
            int same = same_ids(ids, n, expect, n_expect);
            CHECK(same, "%s: prompt ids differ from llama2.c's", rel);
            free(ids);
            free(expect);
        }
        free(prompt);
        free(f);
    }
    vocab_free(v);
}

// ---- behaviour on the 32k vocabulary ---------------------------------------

#define IDS(...) (const int32_t[]){__VA_ARGS__}, (int)(sizeof((const int32_t[]){__VA_ARGS__}) / sizeof(int32_t))

static void test_basics(const slm_vocab *v) {
    CHECK(vocab_size(v) == 32000, "size %d", vocab_size(v));
    CHECK(vocab_bos(v) == 1 && vocab_eos(v) == 2 && vocab_add_bos(v) == 1, "bos/eos/add_bos");
    CHECK(vocab_is_control(v, 1) && vocab_is_control(v, 2) && !vocab_is_control(v, 0) && !vocab_is_control(v, 3) &&
          !vocab_is_control(v, -1) && !vocab_is_control(v, 32000), "control flags");
    CHECK(vocab_piece(v, -1) == NULL && vocab_piece(v, 32000) == NULL && !strcmp(vocab_piece(v, 1), "<s>"), "pieces");

    int32_t ids[8];
    CHECK(vocab_tokenize(v, "", 0, 0, ids, 8) == 0, "empty text");
    CHECK(vocab_tokenize(v, NULL, 0, 0, NULL, 0) == 0, "empty text, no buffer");
    CHECK(vocab_tokenize(v, "", 0, 1, ids, 8) == 1 && ids[0] == 1, "empty text with BOS");
    CHECK(vocab_tokenize(v, "Hello", 5, 1, ids, 8) == 2 && ids[0] == 1 && ids[1] == 15043, "BOS first");
    check_ids(v, "Hello world", 11, IDS(15043, 3186), "Hello world");
    check_ids(v, " ", 1, IDS(259), "one space");
    check_ids(v, "    ", 4, IDS(418), "four spaces");
    check_ids(v, "\n", 1, IDS(29871, 13), "newline");
    check_ids(v, " \t \n", 4, IDS(259, 12, 29871, 13), "mixed whitespace");
    check_ids(v, "a  b", 4, IDS(263, 29871, 289), "two spaces inside");

    // max_ids: the full count comes back, nothing is written past max_ids
    int32_t few[4] = {-7, -7, -7, -7};
    int n = vocab_tokenize(v, "Hello world, how are you?", 25, 1, few, 2);
    CHECK(n == 8 && few[0] == 1 && few[1] == 15043 && few[2] == -7, "max_ids contract: %d", n);
    CHECK(vocab_tokenize(v, "Hello world", 11, 0, NULL, 5) == 2, "NULL ids counts");
}

static void test_byte_fallback(const slm_vocab *v) {
    int sp = piece_id(v, "\xe2\x96\x81");   // "▁", 29871
    int a = piece_id(v, "\xe2\x96\x81" "a"), b = piece_id(v, "b");
#define B(x) (3 + (x))
    CHECK(sp == 29871 && a == 263 && b == 29890, "pieces moved: %d %d %d", sp, a, b);
    check_ids(v, "\xff", 1, IDS(29871, B(0xff)), "0xFF");
    check_ids(v, "a\xff" "b", 3, IDS(263, B(0xff), 29890), "0xFF inside");
    check_ids(v, "\x80", 1, IDS(29871, B(0x80)), "stray continuation");
    check_ids(v, "\xe2\x82", 2, IDS(29871, B(0xe2), B(0x82)), "truncated 3-byte sequence");
    check_ids(v, "\xe2\x82" "a", 3, IDS(29871, B(0xe2), B(0x82), 29874), "truncated then ASCII");
    check_ids(v, "\xc0\xaf", 2, IDS(29871, B(0xc0), B(0xaf)), "overlong /");
    check_ids(v, "\xe0\x80\xaf", 3, IDS(29871, B(0xe0), B(0x80), B(0xaf)), "overlong 3-byte");
    check_ids(v, "\xed\xa0\x80", 3, IDS(29871, B(0xed), B(0xa0), B(0x80)), "surrogate D800");
    check_ids(v, "\xf4\x90\x80\x80", 4, IDS(29871, B(0xf4), B(0x90), B(0x80), B(0x80)), "above U+10FFFF");
    check_ids(v, "\xf0\x9f\x98", 3, IDS(29871, B(0xf0), B(0x9f), B(0x98)), "truncated emoji");
    check_ids(v, "\xf0\x9f\x98\x80", 4, IDS(29871, B(0xf0), B(0x9f), B(0x98), B(0x80)), "emoji (bytes)");
    check_ids(v, "a\0b", 3, IDS(263, B(0), 29890), "NUL byte");
    // the text's own "<s>" is plain text, never the control token
    int n;
    int32_t *ids = tokenize(v, "<s></s><unk>", 12, 0, &n);
    int clean = n > 0;
    for (int i = 0; i < n; i++) clean &= ids[i] > 2;
    CHECK(clean, "control text produced control ids");
    free(ids);
#undef B
}

static void test_decode(const slm_vocab *v) {
    char buf[64];
    int hello = 15043;   // "▁Hello"
    CHECK(vocab_token_bytes(v, hello, -1, buf, sizeof buf) == 5 && !memcmp(buf, "Hello", 5), "first piece drops its space");
    CHECK(vocab_token_bytes(v, hello, 1, buf, sizeof buf) == 5 && !memcmp(buf, "Hello", 5), "after BOS drops its space");
    CHECK(vocab_token_bytes(v, hello, 3186, buf, sizeof buf) == 6 && !memcmp(buf, " Hello", 6), "inside keeps its space");
    CHECK(vocab_token_bytes(v, 1, -1, buf, sizeof buf) == 0 && vocab_token_bytes(v, 2, 5, buf, sizeof buf) == 0, "control tokens are empty");
    CHECK(vocab_token_bytes(v, 3 + 0x41, -1, buf, sizeof buf) == 1 && buf[0] == 'A', "byte token");
    CHECK(vocab_token_bytes(v, 3 + 0x20, -1, buf, sizeof buf) == 1 && buf[0] == ' ', "byte space is kept");
    CHECK(vocab_token_bytes(v, 0, 5, buf, sizeof buf) == 5 && !memcmp(buf, " \xe2\x81\x87 ", 5), "unknown is ' ⁇ '");
    CHECK(vocab_token_bytes(v, -1, -1, buf, sizeof buf) == -1 && vocab_token_bytes(v, 32000, -1, buf, sizeof buf) == -1, "bad ids");
    memset(buf, 'x', sizeof buf);
    CHECK(vocab_token_bytes(v, hello, 5, buf, 2) == 6 && !memcmp(buf, " Hxxx", 5), "cap limits writing");
    CHECK(vocab_token_bytes(v, 259, -1, buf, sizeof buf) == 1 && buf[0] == ' ', "'▁▁' at the start is one space");

    // streaming: a 4-byte character split over byte tokens, invalid bytes
    slm_detok d;
    slm_detok_init(&d);
    char out[128];
    int k[4];
    const int32_t emoji[4] = {3 + 0xf0, 3 + 0x9f, 3 + 0x98, 3 + 0x80};
    for (int i = 0; i < 4; i++) k[i] = vocab_detok_push(v, &d, emoji[i], out, sizeof out);
    CHECK(k[0] == 0 && k[1] == 0 && k[2] == 0 && k[3] == 4 && !memcmp(out, "\xf0\x9f\x98\x80", 4), "emoji waits until complete");
    CHECK(vocab_detok_push(v, &d, 3 + 0xff, out, sizeof out) == 3 && !memcmp(out, "\xef\xbf\xbd", 3), "0xFF becomes U+FFFD");
    CHECK(vocab_detok_push(v, &d, 3 + 0xe2, out, sizeof out) == 0, "lead byte waits");
    int w = vocab_detok_push(v, &d, hello, out, sizeof out);
    CHECK(w == 9 && !memcmp(out, "\xef\xbf\xbd Hello", 9), "broken sequence then text: %d", w);
    CHECK(vocab_detok_push(v, &d, 3 + 0xe2, out, sizeof out) == 0 && vocab_detok_push(v, &d, 3 + 0x82, out, sizeof out) == 0,
          "two of three bytes wait");
    CHECK(slm_detok_flush(&d, out, sizeof out) == 3 && !memcmp(out, "\xef\xbf\xbd", 3), "flush emits the tail as U+FFFD");
    CHECK(slm_detok_flush(&d, out, sizeof out) == 0, "flush twice");
    CHECK(vocab_detok_push(v, &d, 3 + 0xed, out, sizeof out) == 0 && vocab_detok_push(v, &d, 3 + 0xa0, out, sizeof out) == 6 &&
          !memcmp(out, "\xef\xbf\xbd\xef\xbf\xbd", 6), "surrogate: two U+FFFD");
    CHECK(vocab_detok_push(v, &d, 3 + 0xc0, out, sizeof out) == 3, "C0 never starts a character");
    CHECK(vocab_detok_push(v, &d, -5, out, sizeof out) == -1 && vocab_detok_push(v, &d, hello, out, 3) == -1 &&
          d.n_pending == 0, "bad id and small cap leave the state alone");
    slm_detok_init(&d);
    CHECK(vocab_detok_push(v, &d, 1, out, sizeof out) == 0 && vocab_detok_push(v, &d, hello, out, sizeof out) == 5 &&
          vocab_detok_push(v, &d, hello, out, sizeof out) == 6, "BOS, then the first piece loses its space");
    d.n_pending = 99;   // a corrupted struct is reset, not trusted
    CHECK(vocab_detok_push(v, &d, 3 + 0x41, out, sizeof out) == 1 && out[0] == 'A', "corrupted state");
}

static uint64_t rng_next(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

// Random valid UTF-8 (without U+2581, which decodes to a space) round-trips.
static void test_random_round_trip(const slm_vocab *v) {
    uint64_t s = 0x9e3779b97f4a7c15u;
    char text[600];
    int bad = 0;
    for (int iter = 0; iter < 300; iter++) {
        size_t len = 0;
        int nch = (int)(rng_next(&s) % 120);
        for (int i = 0; i < nch; i++) {
            uint64_t r = rng_next(&s);
            unsigned c;
            switch (r % 6) {
            case 0: c = ' '; break;
            case 1: c = "\n\t .,!?'"[r / 8 % 8]; break;
            case 2: case 3: c = 'a' + (unsigned)(r / 8 % 26); break;
            case 4: c = 0x80 + (unsigned)(r / 8 % 0x2000); break;
            default: c = 1 + (unsigned)(r / 8 % 0x10FFFF); break;
            }
            if ((c >= 0xD800 && c < 0xE000) || c == 0x2581) c = 'z';
            len += put_utf8(text + len, c);
        }
        int n;
        int32_t *ids = tokenize(v, text, len, iter % 2, &n);
        size_t dlen, slen;
        char *d = detokenize(v, ids, n, &dlen);
        char *st = detok_stream(v, ids, n, &slen);
        if (dlen != len || memcmp(d, text, len) || slen != len || memcmp(st, text, len)) bad++;
        free(d);
        free(st);
        free(ids);
    }
    CHECK(bad == 0, "%d random texts did not round-trip", bad);
}

// A whole book in one call: the ids' FNV-1a hash and count are those of
// SentencePiece's encoding (with BOS 1 first), and the text round-trips.
static void test_book(const slm_vocab *v) {
    size_t len;
    char *text = read_file(shared_path("data/text/war-and-peace/war-and-peace.txt"), &len);
    CHECK(text != NULL, "cannot read war-and-peace.txt");
    if (!text) return;
    int n;
    int32_t *ids = tokenize(v, text, len, 1, &n);
    uint64_t h = 0xcbf29ce484222325u;
    for (int i = 0; i < n; i++) h = (h ^ (uint64_t)ids[i]) * 0x100000001b3u;
    CHECK(n == 859225 && h == 0x10b81b65b9fdb18u, "war-and-peace: %d tokens, hash %llx", n, (unsigned long long)h);
    size_t dlen;
    char *d = detokenize(v, ids, n, &dlen);
    CHECK(dlen == len && !memcmp(d, text, len), "war-and-peace does not round-trip");
    free(d);
    free(ids);
    free(text);
}

// ---- hand-built vocabularies -----------------------------------------------

typedef struct {
    const char *piece;
    float score;
    int type;
} entry;

enum { NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER = 4, UNUSED = 5, BYTE = 6 };

// Writes w to a temporary file, parses it back and loads its vocabulary.
static int write_and_load(gguf_writer *w, slm_vocab **v, char *err, size_t errlen) {
    char path[] = "/tmp/slm-test-vocab-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) { snprintf(err, errlen, "mkstemp failed"); return -1; }
    close(fd);
    int rc = gguf_writer_write(w, path, err, errlen);
    if (rc == 0) rc = load_path(path, v, err, errlen);
    unlink(path);
    return rc;
}

// A vocabulary-only GGUF of the entries (then the 256 byte tokens if bytes).
// extra runs first: keys it writes replace the defaults (the writer refuses
// a second copy of a key).
static int build(const entry *e, int n, int bytes, void (*extra)(gguf_writer *), slm_vocab **v, char *err,
                 size_t errlen) {
    int total = n + (bytes ? 256 : 0);
    const char **pieces = malloc(total * sizeof *pieces);
    char (*bytebuf)[8] = malloc(256 * sizeof *bytebuf);
    float *scores = malloc(total * sizeof *scores);
    int32_t *types = malloc(total * sizeof *types);
    for (int i = 0; i < n; i++) { pieces[i] = e[i].piece; scores[i] = e[i].score; types[i] = e[i].type; }
    for (int i = 0; bytes && i < 256; i++) {
        snprintf(bytebuf[i], 8, "<0x%02X>", i);
        pieces[n + i] = bytebuf[i];
        scores[n + i] = 0;
        types[n + i] = BYTE;
    }
    gguf_writer *w = gguf_writer_new();
    gguf_w_str(w, "general.architecture", "llama");
    if (extra) extra(w);
    gguf_w_str(w, "tokenizer.ggml.model", "llama");
    gguf_w_arr_str(w, "tokenizer.ggml.tokens", pieces, NULL, total);
    gguf_w_arr_f32(w, "tokenizer.ggml.scores", scores, total);
    gguf_w_arr_i32(w, "tokenizer.ggml.token_type", types, total);
    *v = NULL;
    int rc = write_and_load(w, v, err, errlen);
    gguf_writer_free(w);
    free(pieces);
    free(bytebuf);
    free(scores);
    free(types);
    return rc;
}

// Tokenizes text and returns the pieces joined by '|'.
static const char *pieces_of(const slm_vocab *v, const char *text) {
    static char out[512];
    int n;
    int32_t *ids = tokenize(v, text, strlen(text), 0, &n);
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        if (i) strcat(out, "|");
        strcat(out, vocab_piece(v, ids[i]));
    }
    free(ids);
    return out;
}

#define EXPECT_PIECES(v, text, want)                                                        \
    do {                                                                                    \
        const char *got_ = pieces_of(v, text);                                              \
        CHECK(!strcmp(got_, want), "'%s' -> '%s', expected '%s'", text, got_, want);        \
    } while (0)

static void no_prefix(gguf_writer *w) {
    gguf_w_bool(w, "tokenizer.ggml.add_space_prefix", 0);
    gguf_w_bool(w, "tokenizer.ggml.add_bos_token", 0);
    gguf_w_u32(w, "tokenizer.ggml.bos_token_id", 1);
}

#define SP "\xe2\x96\x81"   // "▁"

static void test_merge_order(void) {
    char err[320];
    slm_vocab *v;
    // equal scores: the leftmost pair merges first
    const entry tie[] = {{"<unk>", 0, UNKNOWN}, {"<s>", 0, CONTROL}, {"a", -10, NORMAL}, {"b", -10, NORMAL},
                         {"c", -10, NORMAL}, {"d", -10, NORMAL}, {"ab", -1, NORMAL}, {"bc", -1, NORMAL},
                         {"abc", -3, NORMAL}, {"bcd", -1, NORMAL}};
    CHECK(build(tie, 10, 1, no_prefix, &v, err, sizeof err) == 0, "tie vocab: %s", err);
    if (v) {
        CHECK(vocab_add_bos(v) == 0 && vocab_bos(v) == 1 && vocab_eos(v) == -1, "flags read");
        EXPECT_PIECES(v, "abc", "abc");          // ab (leftmost of the tie), then ab+c
        EXPECT_PIECES(v, "abcd", "abc|d");       // the same; bc never exists to make bcd
        EXPECT_PIECES(v, "bcd", "bcd");
        EXPECT_PIECES(v, "cab", "c|ab");
        EXPECT_PIECES(v, "a b", "a|<0xE2>|<0x96>|<0x81>|b");   // no prefix; "▁" is not in this vocabulary
        char buf[8];
        CHECK(vocab_token_bytes(v, 6, -1, buf, sizeof buf) == 2 && !memcmp(buf, "ab", 2), "decode");
        vocab_free(v);
    }
    // a higher score wins wherever it is
    const entry prio[] = {{"<unk>", 0, UNKNOWN}, {"a", -10, NORMAL}, {"b", -10, NORMAL}, {"c", -10, NORMAL},
                          {"ab", -2, NORMAL}, {"bc", -1, NORMAL}, {SP, -5, NORMAL}, {SP "a", -4, NORMAL},
                          {SP SP, -6, NORMAL}};
    CHECK(build(prio, 9, 1, NULL, &v, err, sizeof err) == 0, "priority vocab: %s", err);
    if (v) {
        CHECK(vocab_add_bos(v) == 1 && vocab_bos(v) == -1, "defaults");
        EXPECT_PIECES(v, "abc", SP "a|bc");   // bc (-1), then ▁a (-4)
        EXPECT_PIECES(v, "ab", SP "|ab");     // ab (-2) before ▁a (-4)
        EXPECT_PIECES(v, "a", SP "a");
        EXPECT_PIECES(v, " a", SP "|" SP "a");   // ▁a (-4) before ▁▁ (-6): leftmost loses on score
        EXPECT_PIECES(v, "  ", SP SP "|" SP);
        char buf[8];
        int a = piece_id(v, SP "a");
        CHECK(vocab_token_bytes(v, a, -1, buf, sizeof buf) == 1 && buf[0] == 'a', "prefix dropped at start");
        CHECK(vocab_token_bytes(v, a, 1, buf, sizeof buf) == 2 && !memcmp(buf, " a", 2), "kept after a piece");
        vocab_free(v);
    }
}

static void test_user_and_unused(void) {
    char err[320];
    slm_vocab *v;
    // user-defined pieces match first, longest first, and never merge further
    const entry user[] = {{"<unk>", 0, UNKNOWN}, {"a", -10, NORMAL}, {"b", -10, NORMAL}, {"c", -10, NORMAL},
                          {"<tag>", 0, USER}, {"ab", 0, USER}, {"abc", 5, NORMAL}, {"bc", -1, NORMAL},
                          {"<tag>long", 0, USER}, {"ca", 1, NORMAL}};
    CHECK(build(user, 10, 1, no_prefix, &v, err, sizeof err) == 0, "user vocab: %s", err);
    if (v) {
        EXPECT_PIECES(v, "abc", "ab|c");
        EXPECT_PIECES(v, "cab", "c|ab");   // ca (1) would win, but ab is matched whole first
        EXPECT_PIECES(v, "x<tag>y", "<0x78>|<tag>|<0x79>");
        EXPECT_PIECES(v, "<tag>longer", "<tag>long|<0x65>|<0x72>");
        EXPECT_PIECES(v, "<ta", "<0x3C>|<0x74>|a");
        EXPECT_PIECES(v, "bca", "b|ca");
        vocab_free(v);
    }
    // unused pieces take part in merging, then split back into their parts
    const entry unused[] = {{"<unk>", 0, UNKNOWN}, {"a", -10, NORMAL}, {"b", -10, NORMAL}, {"c", -10, NORMAL},
                            {"d", -10, NORMAL}, {"ab", -1, UNUSED}, {"abc", -2, NORMAL}, {"e", -10, UNUSED},
                            {"abd", -3, UNUSED}};
    CHECK(build(unused, 9, 1, no_prefix, &v, err, sizeof err) == 0, "unused vocab: %s", err);
    if (v) {
        EXPECT_PIECES(v, "abc", "abc");
        EXPECT_PIECES(v, "abd", "a|b|d");    // abd splits into ab + d, ab into a + b
        EXPECT_PIECES(v, "abab", "a|b|a|b");
        EXPECT_PIECES(v, "e", "e");          // a lone character has no parts
        vocab_free(v);
    }
    // no byte tokens: what is not in the vocabulary becomes the unknown token, one per run
    const entry nobytes[] = {{"<unk>", 0, UNKNOWN}, {"a", -10, NORMAL}, {"b", -10, NORMAL}, {"ab", -1, NORMAL}};
    CHECK(build(nobytes, 4, 0, no_prefix, &v, err, sizeof err) == 0, "no-bytes vocab: %s", err);
    if (v) {
        EXPECT_PIECES(v, "xaby", "<unk>|ab|<unk>");
        EXPECT_PIECES(v, "x\xc3\xa9", "<unk>");
        EXPECT_PIECES(v, "xxab", "<unk>|ab");
        EXPECT_PIECES(v, "\xff\xfe" "a\xff", "<unk>|a|<unk>");
        vocab_free(v);
    }
}

// ---- hostile vocabularies --------------------------------------------------

static void model_gpt2(gguf_writer *w) { gguf_w_str(w, "tokenizer.ggml.model", "gpt2"); }
static void model_u32(gguf_writer *w) { gguf_w_u32(w, "tokenizer.ggml.model", 1); }
static void tokens_i32(gguf_writer *w) { gguf_w_arr_i32(w, "tokenizer.ggml.tokens", (int32_t[]){1, 2, 3}, 3); }
static void tokens_empty(gguf_writer *w) { gguf_w_arr_str(w, "tokenizer.ggml.tokens", NULL, NULL, 0); }
static void scores_i32(gguf_writer *w) { gguf_w_arr_i32(w, "tokenizer.ggml.scores", (int32_t[]){1, 2, 3}, 3); }
static void scores_short(gguf_writer *w) { gguf_w_arr_f32(w, "tokenizer.ggml.scores", (float[]){1, 2}, 2); }
static void scores_nan(gguf_writer *w) { gguf_w_arr_f32(w, "tokenizer.ggml.scores", (float[]){0, NAN, 0}, 3); }
static void types_f32(gguf_writer *w) { gguf_w_arr_f32(w, "tokenizer.ggml.token_type", (float[]){1, 1, 1}, 3); }
static void types_long(gguf_writer *w) { gguf_w_arr_i32(w, "tokenizer.ggml.token_type", (int32_t[]){2, 1, 1, 1}, 4); }
static void type_zero(gguf_writer *w) { gguf_w_arr_i32(w, "tokenizer.ggml.token_type", (int32_t[]){2, 0, 1}, 3); }
static void type_seven(gguf_writer *w) { gguf_w_arr_i32(w, "tokenizer.ggml.token_type", (int32_t[]){2, 1, 7}, 3); }
static void bos_far(gguf_writer *w) { gguf_w_u32(w, "tokenizer.ggml.bos_token_id", 3); }
static void eos_negative(gguf_writer *w) { gguf_w_i32(w, "tokenizer.ggml.eos_token_id", -1); }
static void unk_string(gguf_writer *w) { gguf_w_str(w, "tokenizer.ggml.unknown_token_id", "0"); }
static void unk_normal(gguf_writer *w) { gguf_w_u32(w, "tokenizer.ggml.unknown_token_id", 1); }
static void add_bos_u32(gguf_writer *w) { gguf_w_u32(w, "tokenizer.ggml.add_bos_token", 1); }
static void prefix_str(gguf_writer *w) { gguf_w_str(w, "tokenizer.ggml.add_space_prefix", "yes"); }
static void piece_nul(gguf_writer *w) {
    gguf_w_arr_str(w, "tokenizer.ggml.tokens", (const char *[]){"<unk>", "a\0b", "c"}, (uint32_t[]){5, 3, 1}, 3);
}

static void expect_bad(const entry *e, int n, int bytes, void (*extra)(gguf_writer *), const char *what) {
    char err[320] = "";
    slm_vocab *v = NULL;
    int rc = build(e, n, bytes, extra, &v, err, sizeof err);
    CHECK(rc == -1 && v == NULL && err[0] && !strchr(err, '\n'), "%s: rc %d, '%s'", what, rc, err);
    vocab_free(v);
}

static void test_bad_vocabs(void) {
    const entry ok3[] = {{"<unk>", 0, UNKNOWN}, {"a", 0, NORMAL}, {"b", 0, NORMAL}};
    char err[320];
    slm_vocab *v = NULL;
    CHECK(build(ok3, 3, 0, NULL, &v, err, sizeof err) == 0, "the base vocabulary loads: %s", err);
    vocab_free(v);

    expect_bad(ok3, 3, 0, model_gpt2, "gpt2 model");
    expect_bad(ok3, 3, 0, model_u32, "model as u32");
    expect_bad(ok3, 3, 0, tokens_i32, "tokens as ints");
    expect_bad(ok3, 3, 0, tokens_empty, "no tokens");
    expect_bad(ok3, 3, 0, scores_i32, "scores as ints");
    expect_bad(ok3, 3, 0, scores_short, "scores too short");
    expect_bad(ok3, 3, 0, scores_nan, "NaN score");
    expect_bad(ok3, 3, 0, types_f32, "types as floats");
    expect_bad(ok3, 3, 0, types_long, "types too long");
    expect_bad(ok3, 3, 0, type_zero, "type 0");
    expect_bad(ok3, 3, 0, type_seven, "type 7");
    expect_bad(ok3, 3, 0, bos_far, "bos out of range");
    expect_bad(ok3, 3, 0, eos_negative, "negative eos");
    expect_bad(ok3, 3, 0, unk_string, "unknown id as a string");
    expect_bad(ok3, 3, 0, unk_normal, "unknown id on a normal token");
    expect_bad(ok3, 3, 0, add_bos_u32, "add_bos_token as u32");
    expect_bad(ok3, 3, 0, prefix_str, "add_space_prefix as a string");
    expect_bad(ok3, 3, 0, piece_nul, "NUL inside a piece");

    char longp[600];
    memset(longp, 'x', sizeof longp - 1);
    longp[sizeof longp - 1] = 0;
    expect_bad((entry[]){{"<unk>", 0, UNKNOWN}, {"", 0, NORMAL}}, 2, 0, NULL, "empty piece");
    expect_bad((entry[]){{"<unk>", 0, UNKNOWN}, {longp, 0, NORMAL}}, 2, 0, NULL, "600-byte piece");
    expect_bad((entry[]){{"<unk>", 0, UNKNOWN}, {"a", 0, NORMAL}, {"a", -1, NORMAL}}, 3, 0, NULL, "duplicate");
    expect_bad((entry[]){{"<unk>", 0, UNKNOWN}, {"<0x41>", 0, BYTE}}, 2, 1, NULL, "byte token twice");
    expect_bad((entry[]){{"<unk>", 0, UNKNOWN}, {"\xff", 0, NORMAL}}, 2, 0, NULL, "invalid UTF-8 piece");
    expect_bad((entry[]){{"<unk>", 0, UNKNOWN}, {"\xed\xa0\x80", 0, CONTROL}}, 2, 0, NULL, "surrogate piece");
    expect_bad((entry[]){{"<unk>", 0, UNKNOWN}, {"<0x41>", 0, BYTE}}, 2, 0, NULL, "1 of 256 byte tokens");
    expect_bad((entry[]){{"<unk>", 0, UNKNOWN}, {"<0xZZ>", 0, BYTE}}, 2, 0, NULL, "malformed byte token");
    expect_bad((entry[]){{"<unk>", 0, UNKNOWN}, {"<0x4a>", 0, BYTE}}, 2, 0, NULL, "lowercase byte token");
    expect_bad((entry[]){{"a", 0, NORMAL}, {"b", 0, NORMAL}}, 2, 0, NULL, "no bytes and no unknown");

    // keys missing altogether
    gguf_writer *w = gguf_writer_new();
    gguf_w_str(w, "general.architecture", "llama");
    v = NULL;
    err[0] = 0;
    CHECK(write_and_load(w, &v, err, sizeof err) == -1 && strstr(err, "tokenizer.ggml.model"), "no tokenizer: %s", err);
    gguf_writer_free(w);
    w = gguf_writer_new();
    gguf_w_str(w, "tokenizer.ggml.model", "llama");
    gguf_w_arr_str(w, "tokenizer.ggml.tokens", (const char *[]){"<unk>", "a"}, NULL, 2);
    gguf_w_arr_i32(w, "tokenizer.ggml.token_type", (int32_t[]){2, 1}, 2);
    CHECK(write_and_load(w, &v, err, sizeof err) == -1 && strstr(err, "scores"), "no scores: %s", err);
    gguf_writer_free(w);
}

// Random damage to a valid vocabulary file: errors, never crashes.
static void test_mutations(void) {
    const entry e[] = {{"<unk>", 0, UNKNOWN}, {"<s>", 0, CONTROL}, {SP, -1, NORMAL}, {"a", -2, NORMAL},
                       {SP "a", -3, USER}, {"ab", -4, UNUSED}};
    gguf_writer *w = gguf_writer_new();
    const char *pieces[6];
    float scores[6];
    int32_t types[6];
    for (int i = 0; i < 6; i++) { pieces[i] = e[i].piece; scores[i] = e[i].score; types[i] = e[i].type; }
    gguf_w_str(w, "tokenizer.ggml.model", "llama");
    gguf_w_arr_str(w, "tokenizer.ggml.tokens", pieces, NULL, 6);
    gguf_w_arr_f32(w, "tokenizer.ggml.scores", scores, 6);
    gguf_w_arr_i32(w, "tokenizer.ggml.token_type", types, 6);
    gguf_w_u32(w, "tokenizer.ggml.bos_token_id", 1);
    char path[] = "/tmp/slm-test-vocab-XXXXXX", err[320];
    close(mkstemp(path));
    CHECK(gguf_writer_write(w, path, err, sizeof err) == 0, "%s", err);
    gguf_writer_free(w);
    size_t size;
    char *good = read_file(path, &size);
    unlink(path);
    if (!good) return;
    char *bad = malloc(size);
    uint64_t s = 12345;
    int loaded = 0;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(bad, good, size);
        int flips = 1 + (int)(rng_next(&s) % 4);
        for (int k = 0; k < flips; k++) bad[rng_next(&s) % size] = (char)rng_next(&s);
        gguf_file g;
        if (gguf_parse(&g, bad, size, err, sizeof err)) continue;
        slm_vocab *v = NULL;
        if (vocab_load(&v, &g, err, sizeof err) == 0) {
            loaded++;
            int32_t ids[64];
            int n = vocab_tokenize(v, "a ab \xff\xe2\x96", 9, 1, ids, 64);
            char out[600];
            for (int i = 0; i < n && i < 64; i++) vocab_token_bytes(v, ids[i], i ? ids[i - 1] : -1, out, sizeof out);
            vocab_free(v);
        }
        gguf_free(&g);
    }
    CHECK(loaded > 0, "no mutated vocabulary loaded at all");
    free(bad);
    free(good);
}

// ---- other vocabulary files ----------------------------------------------

// tok512.bin (llama2.c format) converted as our importer and llama.cpp's
// converter do it: spaces back to "▁", "\n<s>\n" to "<s>", types from the
// pieces. It must load and encode like the same vocabulary's GGUF.
static void test_tok512(void) {
    size_t size;
    char *bin = read_file(shared_path("data/models/tok512.bin"), &size);
    CHECK(bin != NULL, "cannot read tok512.bin");
    if (!bin) return;
    const char *pieces[512];
    char *owned[512];
    float scores[512];
    int32_t types[512];
    int n = 0;
    for (size_t off = 4; off + 8 <= size && n < 512; n++) {
        int32_t len;
        memcpy(&scores[n], bin + off, 4);
        memcpy(&len, bin + off + 4, 4);
        off += 8;
        char *p = owned[n] = malloc(3 * len + 1), *q = p;
        for (int i = 0; i < len; i++) {
            if (bin[off + i] == ' ') { memcpy(q, "\xe2\x96\x81", 3); q += 3; }
            else *q++ = bin[off + i];
        }
        *q = 0;
        off += len;
        types[n] = n == 0 ? UNKNOWN : n <= 2 ? CONTROL : !strncmp(p, "<0x", 3) && strlen(p) == 6 ? BYTE : NORMAL;
        pieces[n] = n == 1 ? "<s>" : n == 2 ? "</s>" : p;
    }
    CHECK(n == 512, "tok512.bin holds %d tokens", n);
    gguf_writer *w = gguf_writer_new();
    gguf_w_str(w, "tokenizer.ggml.model", "llama");
    gguf_w_arr_str(w, "tokenizer.ggml.tokens", pieces, NULL, n);
    gguf_w_arr_f32(w, "tokenizer.ggml.scores", scores, n);
    gguf_w_arr_i32(w, "tokenizer.ggml.token_type", types, n);
    gguf_w_u32(w, "tokenizer.ggml.bos_token_id", 1);
    gguf_w_u32(w, "tokenizer.ggml.eos_token_id", 2);
    gguf_w_u32(w, "tokenizer.ggml.unknown_token_id", 0);
    char err[320];
    slm_vocab *v = NULL, *ref = load_shared("data/models/tinyllamas-stories-260k-f32.gguf");
    CHECK(write_and_load(w, &v, err, sizeof err) == 0, "tok512 vocabulary: %s", err);
    if (v && ref) {
        const char *text = "Once upon a time, there was a little girl named Lily. She loved to play outside!";
        int n1, n2;
        int32_t *a = tokenize(v, text, strlen(text), 1, &n1), *b = tokenize(ref, text, strlen(text), 1, &n2);
        CHECK(n1 > 0 && same_ids(a, n1, b, n2), "tok512 and the GGUF vocabulary disagree");
        free(a);
        free(b);
    }
    vocab_free(v);
    vocab_free(ref);
    gguf_writer_free(w);
    for (int i = 0; i < n; i++) free(owned[i]);
    free(bin);
}

static void test_other_files(void) {
    slm_vocab *v = load_shared("data/models/llama-2-tiny-random.gguf");
    if (!v) return;
    CHECK(vocab_size(v) == 32000 && vocab_bos(v) == 1 && vocab_add_bos(v) == 1, "llama-2-tiny-random vocab");
    check_ids(v, "Hello world", 11, IDS(15043, 3186), "llama-2-tiny-random: Hello world");
    vocab_free(v);
}

int main(void) {
    shared = test_shared_dir("data/tokenizers/ggml-vocab-llama-spm.gguf");
    test_merge_order();
    test_user_and_unused();
    test_bad_vocabs();
    test_mutations();

    slm_vocab *v = load_shared("data/tokenizers/ggml-vocab-llama-spm.gguf");
    if (v) {
        test_basics(v);
        test_byte_fallback(v);
        test_decode(v);
        test_golden_tsv(v);
        test_llamacpp_vectors(v);
        test_random_round_trip(v);
        test_book(v);
        vocab_free(v);
    }
    test_stories_vocab();
    test_tok512();
    test_other_files();
    TEST_END();
}
