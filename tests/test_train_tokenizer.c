// The tokenizer trainer: the runtime tokenizer reads its files back and
// segments every training word and line exactly as the trainer did; text
// round-trips; unseen characters fall back to bytes; training is
// deterministic; bad inputs are refused with useful messages.
#include <unistd.h>

#include "../weights-tools/wtools.h"
#include "slm.h"
#include "test.h"

static char tmp_dir[] = "/tmp/slm_test_tok_XXXXXX";

static const char *tmp_path(const char *name) {
    static char paths[8][256];
    static int k;
    char *p = paths[k++ % 8];
    snprintf(p, 256, "%s/%s", tmp_dir, name);
    return p;
}

static uint64_t rng = 88172645463325252ull;
static uint32_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

// Lines of made-up words (Zipf-like syllable choices), with what trips
// tokenizers up: runs of spaces, leading and trailing spaces, tabs, accents,
// CJK, an emoji, and the spellings of the special and byte tokens.
static int write_corpus(const char *path, int n_lines, int tsv) {
    static const char *syl[] = {"ka", "ri", "to", "men", "sa", "lo", "ve", "th", "ing", "er", "a", "o", "qu", "és",
                                "ñ", "日本", "x", "pre", "st", "z"};
    static const char *odd[] = {"  ", " ", "\t", "<s>", "</s>", "<unk>", "<0x41>", "\xf0\x9f\x98\x80", "caf\xc3\xa9", "!?"};
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    for (int l = 0; l < n_lines; l++) {
        if (l % 17 == 3) fputc(' ', f);
        int words = 1 + next() % 12;
        for (int w = 0; w < words; w++) {
            if (w) fputc(' ', f);
            if (next() % 23 == 0) fputs(odd[next() % 10], f);
            int n = 1 + next() % 4;
            for (int s = 0; s < n; s++) {
                uint32_t r = next() % 400, i = 0;
                while (r >= 200u >> i && i < 19) r -= 200u >> i, i++;   // geometric-ish
                fputs(syl[i % 20], f);
            }
        }
        if (l % 29 == 5) fputc(' ', f);
        if (tsv) fprintf(f, "\tlabel%d", l % 5);
        fputc('\n', f);
    }
    return fclose(f);
}

// ---- the trainer's segmentations, by word ----------------------------------------------

typedef struct {
    char *word;
    int len, n;
    int32_t *ids;
} word_seg;

typedef struct {
    word_seg *w;
    int n, cap;
    int32_t *slot;      // open addressing over w
    int mask;
} seg_map;

static uint32_t hash(const char *s, int n) {
    uint32_t h = 2166136261u;
    for (int i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static void on_word(void *user, const char *word, int len, const int32_t *ids, int n) {
    seg_map *m = user;
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 1024;
        m->w = realloc(m->w, (size_t)m->cap * sizeof *m->w);
    }
    word_seg *s = &m->w[m->n++];
    s->word = malloc((size_t)len);
    memcpy(s->word, word, (size_t)len);
    s->len = len;
    s->n = n;
    s->ids = malloc((size_t)(n ? n : 1) * sizeof *ids);
    memcpy(s->ids, ids, (size_t)n * sizeof *ids);
}

static void index_map(seg_map *m) {
    int size = 1;
    while (size < 2 * m->n) size *= 2;
    m->slot = malloc((size_t)size * sizeof *m->slot);
    memset(m->slot, 0xff, (size_t)size * sizeof *m->slot);
    m->mask = size - 1;
    for (int i = 0; i < m->n; i++) {
        uint32_t h = hash(m->w[i].word, m->w[i].len) & (uint32_t)m->mask;
        while (m->slot[h] >= 0) h = (h + 1) & (uint32_t)m->mask;
        m->slot[h] = i;
    }
}

static const word_seg *find_word(const seg_map *m, const char *s, int len) {
    for (uint32_t h = hash(s, len) & (uint32_t)m->mask;; h = (h + 1) & (uint32_t)m->mask) {
        int i = m->slot[h];
        if (i < 0) return NULL;
        if (m->w[i].len == len && !memcmp(m->w[i].word, s, (size_t)len)) return &m->w[i];
    }
}

static void free_map(seg_map *m) {
    for (int i = 0; i < m->n; i++) free(m->w[i].word), free(m->w[i].ids);
    free(m->w);
    free(m->slot);
    memset(m, 0, sizeof *m);
}

// ---- checks -------------------------------------------------------------------------

static int same_ids(const int32_t *a, int na, const int32_t *b, int nb) {
    return na == nb && !memcmp(a, b, (size_t)na * sizeof *a);
}

// Every distinct training word: the runtime gives the trainer's ids.
static void check_words(const slm_model *m, const seg_map *map, const char *what) {
    int bad = 0, checked = 0;
    int32_t ids[300];
    for (int i = 0; i < map->n; i++) {
        const word_seg *w = &map->w[i];
        if (w->len == 3) continue;   // "▁" alone: the empty text; lines cover it
        // the raw word: without the "▁" that the runtime's dummy prefix adds back
        int n = slm_tokenize(m, w->word + 3, (size_t)w->len - 3, 0, ids, 300, NULL);
        checked++;
        if (!same_ids(ids, n, w->ids, w->n) && bad++ < 5)
            fprintf(stderr, "  word '%.*s': runtime %d ids, trainer %d\n", w->len, w->word, n, w->n);
    }
    CHECK(bad == 0 && checked > 0, "%s: %d of %d words segmented differently by the runtime", what, bad, checked);
}

static char *norm_line(const char *text, size_t len, size_t *out_len) {
    char *s = malloc(3 * len + 3);
    size_t n = 0;
    memcpy(s, "\xe2\x96\x81", 3), n = 3;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') memcpy(s + n, "\xe2\x96\x81", 3), n += 3;
        else s[n++] = text[i];
    }
    *out_len = n;
    return s;
}

static int detok_all(const slm_model *m, const int32_t *ids, int n, char *out, int cap) {
    slm_detok d;
    slm_detok_init(&d);
    int len = 0;
    char buf[600];
    for (int i = 0; i < n; i++) {
        int k = slm_detok_push(m, &d, ids[i], buf, sizeof buf);
        if (k < 0 || len + k > cap) return -1;
        memcpy(out + len, buf, (size_t)k);
        len += k;
    }
    return len + slm_detok_flush(&d, out + len, cap - len);
}

// Every line of the file: tokens = its words' trainer tokens end to end, and
// they decode back to the line.
static void check_lines(const slm_model *m, const seg_map *map, const char *path, int tsv, const char *what) {
    FILE *f = fopen(path, "rb");
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    int bad = 0, bad_rt = 0, lines = 0;
    int32_t ids[4096], want[4096];
    char back[8192];
    while (f && (got = getline(&line, &cap, f)) > 0) {
        size_t len = (size_t)got;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
        if (tsv) len = (size_t)(strchr(line, '\t') - line);
        if (!len || len > 1000) continue;
        size_t nl;
        char *norm = norm_line(line, len, &nl);
        int nw = 0, ok = 1;
        for (size_t start = 0, end; start < nl && ok; start = end) {
            for (end = start + 3; end < nl && memcmp(norm + end, "\xe2\x96\x81", 3); end++) {}
            const word_seg *w = find_word(map, norm + start, (int)(end - start));
            if (!w) { ok = 0; break; }
            memcpy(want + nw, w->ids, (size_t)w->n * sizeof *want);
            nw += w->n;
        }
        free(norm);
        if (!ok) continue;   // a word too long to learn from
        int n = slm_tokenize(m, line, len, 0, ids, 4096, NULL);
        lines++;
        if (!same_ids(ids, n, want, nw) && bad++ < 3) fprintf(stderr, "  line '%.*s': runtime differs\n", (int)len, line);
        int k = detok_all(m, ids, n, back, sizeof back);
        if ((k != (int)len || memcmp(back, line, len)) && bad_rt++ < 3)
            fprintf(stderr, "  line '%.*s' decodes to '%.*s'\n", (int)len, line, k, back);
    }
    CHECK(f && lines > 0 && bad == 0, "%s: %d of %d lines tokenized differently from the trainer's words", what, bad, lines);
    CHECK(bad_rt == 0, "%s: %d lines do not round-trip", what, bad_rt);
    free(line);
    if (f) fclose(f);
}

static slm_model *load_vocab(const char *path) {
    slm_model *m = NULL;
    slm_error err;
    if (slm_model_load_file(path, SLM_LOAD_VOCAB_ONLY, &m, &err)) fprintf(stderr, "load %s: %s\n", path, err.message);
    return m;
}

static int file_equal(const char *a, const char *b) {
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    for (int ca = 0, cb = 0; same && ca != EOF; ) {
        ca = fgetc(fa), cb = fgetc(fb);
        same = ca == cb;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

static int n_notes;
static void count_note(void *user, const char *note) {
    (void)user;
    if (strstr(note, "no pair left")) n_notes++;
}

static void check_generated(void) {
    const char *txt = tmp_path("corpus.txt"), *tsv = tmp_path("corpus.tsv"), *out = tmp_path("gen.gguf");
    CHECK(!write_corpus(txt, 3000, 0) && !write_corpus(tsv, 2000, 1), "corpus");
    const char *files[] = {txt, tsv};
    slm_tokenizer_train_params p = {.vocab_size = 1500};
    seg_map map = {0};
    slm_error err;
    CHECK(!wt_train_tokenizer(files, 2, &p, out, on_word, &map, &err), "train: %s", err.message);
    index_map(&map);
    slm_model *m = load_vocab(out);
    CHECK(m != NULL, "the runtime loads the trained vocabulary");
    if (!m) { free_map(&map); return; }
    slm_model_info in;
    slm_model_get_info(m, &in);
    CHECK(in.vocab_size == 1500 && in.bos_id == 1 && in.eos_id == 2, "vocab %d, bos %d, eos %d", in.vocab_size, in.bos_id, in.eos_id);
    CHECK(!strcmp(slm_token_piece(m, 0), "<unk>") && !strcmp(slm_token_piece(m, 3), "<0x00>") &&
              !strcmp(slm_token_piece(m, 258), "<0xFF>"),
          "specials and bytes first");
    check_words(m, &map, "generated");
    check_lines(m, &map, txt, 0, "generated text");
    check_lines(m, &map, tsv, 1, "generated tsv");

    // characters never seen: byte tokens, and the text comes back
    const char *unseen = "\xd0\x9f\xd1\x80\xd0\xb8 \xe2\x98\x83 kari";   // "При ☃ kari"
    int32_t ids[64];
    int n = slm_tokenize(m, unseen, strlen(unseen), 0, ids, 64, &err), bytes = 0;
    for (int i = 0; i < n && i < 64; i++) bytes += ids[i] >= 3 && ids[i] < 259;
    char back[256];
    int k = detok_all(m, ids, n, back, sizeof back);
    CHECK(bytes == 9 && k == (int)strlen(unseen) && !memcmp(back, unseen, (size_t)k), "byte fallback: %d byte tokens", bytes);
    slm_model_free(m);
    free_map(&map);

    // deterministic: the same files give the same bytes
    const char *again = tmp_path("gen2.gguf");
    CHECK(!slm_train_tokenizer(files, 2, &p, again, &err) && file_equal(out, again), "training twice gives the same file");
}

// The intent datasets, when ../shared is there: the real use.
static void check_intent(void) {
    static const char *names[] = {"snips", "atis", "banking77", "clinc150"};
    char paths[4][256];
    const char *files[4];
    for (int i = 0; i < 4; i++) {
        snprintf(paths[i], sizeof paths[i], "../shared/data/intent/%s/train.tsv", names[i]);
        files[i] = paths[i];
        if (access(files[i], R_OK)) {
            printf("skipped: ../shared/data/intent not found (intent check)\n");
            return;
        }
    }
    const char *out = tmp_path("intent.gguf");
    seg_map map = {0};
    slm_tokenizer_train_params p = {.vocab_size = 8192};
    slm_error err;
    CHECK(!wt_train_tokenizer(files, 4, &p, out, on_word, &map, &err), "train on intents: %s", err.message);
    index_map(&map);
    slm_model *m = load_vocab(out);
    if (m) {
        slm_model_info in;
        slm_model_get_info(m, &in);
        CHECK(in.vocab_size == 8192, "intent vocabulary of %d", in.vocab_size);
        check_words(m, &map, "intents");
        check_lines(m, &map, files[3], 1, "clinc150");
        int32_t ids[32];
        int n = slm_tokenize(m, "set an alarm for seven", 22, 0, ids, 32, &err);
        CHECK(n == 5, "common words are single tokens: %d", n);
        slm_model_free(m);
    }
    free_map(&map);
}

static void check_bad_inputs(void) {
    slm_error err;
    const char *missing[] = {tmp_path("missing.txt")};
    const char *out = tmp_path("bad.gguf");
    CHECK(slm_train_tokenizer(missing, 1, NULL, out, &err) == SLM_ERR_IO && strstr(err.message, "missing.txt"),
          "missing file: %s", err.message);

    const char *empty = tmp_path("empty.txt");
    FILE *f = fopen(empty, "wb");
    if (f) fputs("\n\n\r\n", f), fclose(f);
    const char *files[] = {empty};
    CHECK(slm_train_tokenizer(files, 1, NULL, out, &err) == SLM_ERR_BAD_DATA && strstr(err.message, "no text"),
          "empty file: %s", err.message);
    CHECK(access(out, F_OK) != 0, "nothing written on failure");

    const char *tsv = tmp_path("bad.tsv");
    f = fopen(tsv, "wb");
    if (f) fputs("fine\tlabel\nno tab here\n", f), fclose(f);
    files[0] = tsv;
    CHECK(slm_train_tokenizer(files, 1, NULL, out, &err) == SLM_ERR_BAD_DATA && strstr(err.message, "bad.tsv:2:"),
          "tsv without a tab: %s", err.message);

    const char *small = tmp_path("small.txt");
    f = fopen(small, "wb");
    if (f) fputs("ab ab abc\n", f), fclose(f);
    files[0] = small;
    slm_tokenizer_train_params p = {.vocab_size = 259};
    CHECK(slm_train_tokenizer(files, 1, &p, out, &err) == SLM_ERR_INVALID_ARG && strstr(err.message, "259"),
          "vocabulary too small: %s", err.message);
    p.vocab_size = 260;
    CHECK(slm_train_tokenizer(files, 1, &p, out, &err) == SLM_OK, "the smallest vocabulary: %s", err.message);
    // more tokens than pairs to merge: a smaller vocabulary, said so
    p = (slm_tokenizer_train_params){.vocab_size = 1000, .note = count_note};
    CHECK(slm_train_tokenizer(files, 1, &p, out, &err) == SLM_OK && n_notes == 1, "early stop: %s", err.message);
    slm_model *m = load_vocab(out);
    slm_model_info in = {0};
    if (m) slm_model_get_info(m, &in), slm_model_free(m);
    CHECK(m && in.vocab_size > 260 && in.vocab_size < 300, "small corpus: %d tokens", in.vocab_size);
    p = (slm_tokenizer_train_params){.char_coverage = 1.5};
    CHECK(slm_train_tokenizer(files, 1, &p, out, &err) == SLM_ERR_INVALID_ARG, "coverage out of range");
    CHECK(slm_train_tokenizer(files, 0, NULL, out, &err) == SLM_ERR_INVALID_ARG, "no files");
}

int main(void) {
    if (!mkdtemp(tmp_dir)) return printf("0 passed, 1 failed\n"), 1;
    check_generated();
    check_bad_inputs();
    check_intent();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp_dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmp_dir);
    TEST_END();
}
