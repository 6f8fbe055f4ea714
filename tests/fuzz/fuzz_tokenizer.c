// libFuzzer target for the tokenizer. The first input byte picks a mode:
//   0..2 (mod 4): tokenize the rest with one of three small vocabularies,
//         check the ids, detokenize them (the stream must be valid UTF-8), and
//         for valid UTF-8 input check that the text comes back unchanged;
//   3:    load the rest as a GGUF vocabulary (hostile files) and use it.
// Build (from the project root), then run on a copy of the seed corpus:
//   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc tests/fuzz/fuzz_tokenizer.c
//         src/tokenizer.c src/gguf.c -lm -o fuzz_tokenizer
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tokenizer.h"

// tokenizer.c refers to the model code's accessor; never called here.
__attribute__((weak)) const slm_vocab *slm_model_vocab(const slm_model *m) { (void)m; return NULL; }

#define SP "\xe2\x96\x81"

typedef struct {
    const char *piece;
    float score;
    int type;   // 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused
} entry;

// 0: bytes, user-defined pieces, a space prefix; 1: bytes and unused pieces,
// no prefix; 2: no bytes (unknown token), ties everywhere.
static const entry vocab0[] = {
    {"<unk>", 0, 2}, {"<s>", 0, 3}, {"</s>", 0, 3}, {SP, -1, 1}, {"a", -2, 1}, {"b", -2, 1}, {"c", -2, 1},
    {"e", -2, 1}, {"\xc3\xa9", -3, 1}, {SP "a", -1, 1}, {"ab", -1.5f, 1}, {"bc", -1, 1}, {"abc", -0.5f, 1},
    {SP SP, -4, 1}, {SP SP SP SP, -3, 1}, {"<b>", 0, 4}, {SP "<i>", 0, 4}, {"\n\n", -1, 1}, {"e" SP, -2, 1},
    {"\xc3\xa9" "e", -1, 1},
};
static const entry vocab1[] = {
    {"<unk>", 0, 2}, {"<s>", 0, 3}, {"a", -2, 1}, {"b", -2, 1}, {"c", -2, 1}, {SP, -2, 1}, {"ab", -1, 5},
    {"abc", -1, 1}, {"ba", -1, 5}, {"aba", -3, 1}, {"bab", -0.5f, 5}, {SP "b", -1, 1}, {"c" SP, -1, 5},
};
static const entry vocab2[] = {
    {"<unk>", 0, 2}, {"<s>", 0, 3}, {"</s>", 0, 3}, {SP, -1, 1}, {"a", -1, 1}, {"b", -1, 1}, {"ab", -1, 1},
    {"ba", -1, 1}, {SP "a", -1, 1}, {"aa", -1, 1}, {"bb", -1, 1},
};

static slm_vocab *build(const entry *e, int n, int bytes, int prefix) {
    const char *pieces[300];
    char bytebuf[256][8];
    float scores[300];
    int32_t types[300];
    int total = n + (bytes ? 256 : 0);
    for (int i = 0; i < n; i++) { pieces[i] = e[i].piece; scores[i] = e[i].score; types[i] = e[i].type; }
    for (int i = 0; bytes && i < 256; i++) {
        snprintf(bytebuf[i], 8, "<0x%02X>", i);
        pieces[n + i] = bytebuf[i];
        scores[n + i] = 0;
        types[n + i] = 6;
    }
    gguf_writer *w = gguf_writer_new();
    gguf_w_str(w, "tokenizer.ggml.model", "llama");
    gguf_w_arr_str(w, "tokenizer.ggml.tokens", pieces, NULL, total);
    gguf_w_arr_f32(w, "tokenizer.ggml.scores", scores, total);
    gguf_w_arr_i32(w, "tokenizer.ggml.token_type", types, total);
    gguf_w_u32(w, "tokenizer.ggml.bos_token_id", 1);
    gguf_w_bool(w, "tokenizer.ggml.add_space_prefix", prefix);
    char path[] = "/tmp/fuzz-vocab-XXXXXX", err[320];
    close(mkstemp(path));
    slm_vocab *v = NULL;
    if (gguf_writer_write(w, path, err, sizeof err) == 0) {
        FILE *f = fopen(path, "rb");
        static char data[1 << 16];
        size_t size = fread(data, 1, sizeof data, f);
        fclose(f);
        gguf_file g;
        if (gguf_parse(&g, data, size, err, sizeof err) == 0) {
            if (vocab_load(&v, &g, err, sizeof err)) fprintf(stderr, "vocab: %s\n", err);
            gguf_free(&g);
        }
    }
    unlink(path);
    gguf_writer_free(w);
    if (!v) abort();
    return v;
}

static int valid_utf8(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        int len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (!len || i + len > n) return 0;
        unsigned lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80, hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
        for (int k = 1; k < len; k++)
            if (s[i + k] < (k == 1 ? lo : 0x80) || s[i + k] > (k == 1 ? hi : 0xBF)) return 0;
        i += len;
    }
    return 1;
}

// Tokenizes, checks the ids and decodes them both ways.
static void run(const slm_vocab *v, const uint8_t *text, size_t len, int add_bos, int check_round_trip) {
    int n = vocab_tokenize(v, (const char *)text, len, add_bos, NULL, 0);
    if (n < 0) abort();
    int32_t *ids = malloc((n ? n : 1) * sizeof *ids);
    if (vocab_tokenize(v, (const char *)text, len, add_bos, ids, n) != n) abort();
    if (n > 0) {   // the count contract with a short buffer
        int32_t canary = -77;
        ids[n - 1] = canary;
        if (vocab_tokenize(v, (const char *)text, len, add_bos, ids, n - 1) != n || ids[n - 1] != canary) abort();
        vocab_tokenize(v, (const char *)text, len, add_bos, ids, n);
    }
    size_t cap = (size_t)n * 600 + 16;
    char *plain = malloc(cap), *stream = malloc(cap);
    size_t np = 0, ns = 0;
    slm_detok d;
    slm_detok_init(&d);
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= vocab_size(v)) abort();
        if (vocab_is_control(v, ids[i]) && !(add_bos && i == 0)) abort();
        int k = vocab_token_bytes(v, ids[i], i ? ids[i - 1] : -1, plain + np, 600);
        if (k < 0 || k > 600) abort();
        np += k;
        k = vocab_detok_push(v, &d, ids[i], stream + ns, 600);
        if (k < 0) abort();
        ns += k;
    }
    int k = slm_detok_flush(&d, stream + ns, 8);
    if (k < 0) abort();
    ns += k;
    if (!valid_utf8((const unsigned char *)stream, ns)) abort();
    if (check_round_trip && (np != len || memcmp(plain, text, len) || ns != len || memcmp(stream, text, len))) abort();
    free(plain);
    free(stream);
    free(ids);
}

static int contains(const uint8_t *s, size_t n, const char *what) {
    size_t m = strlen(what);
    for (size_t i = 0; i + m <= n; i++)
        if (!memcmp(s + i, what, m)) return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static slm_vocab *vocabs[3];
    if (!vocabs[0]) {
        vocabs[0] = build(vocab0, sizeof vocab0 / sizeof *vocab0, 1, 1);
        vocabs[1] = build(vocab1, sizeof vocab1 / sizeof *vocab1, 1, 0);
        vocabs[2] = build(vocab2, sizeof vocab2 / sizeof *vocab2, 0, 1);
    }
    if (size < 1) return 0;
    int mode = data[0] % 4, add_bos = data[0] >> 2 & 1;
    const uint8_t *text = data + 1;
    size_t len = size - 1;
    if (mode < 3) {
        // text holding "▁" decodes to a space; without byte tokens nothing round-trips
        int round_trip = mode != 2 && valid_utf8(text, len) && !contains(text, len, SP);
        run(vocabs[mode], text, len, add_bos, round_trip);
        return 0;
    }
    // a hostile vocabulary: copy the bytes (the parser may read them until vocab_load is done)
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, text, len);
    gguf_file g;
    char err[320];
    if (gguf_parse(&g, copy, len, err, sizeof err) == 0) {
        slm_vocab *v = NULL;
        if (vocab_load(&v, &g, err, sizeof err) == 0) {
            gguf_free(&g);
            memset(copy, 0xAA, len);   // the vocabulary must not point into the file
            static const char sample[] = "Hello world \xff\xe2\x96 <b> abc\n\n";
            run(v, (const uint8_t *)sample, sizeof sample - 1, 1, 0);
            vocab_free(v);
        } else {
            gguf_free(&g);
        }
    }
    free(copy);
    return 0;
}
