// Pattern files (parser, errors with line numbers, matching, normalization)
// and the cache of confirmed requests (LRU, text form, atomic files).
#include <unistd.h>

#include "slm.h"
#include "test.h"

static slm_patterns *parse(const char *text, slm_error *err) {
    slm_patterns *p = NULL;
    slm_patterns_parse(text, strlen(text), "t.txt", &p, err);
    return p;
}

// The intent text matches ("" for none).
static const char *match(const slm_patterns *p, const char *text) {
    slm_pattern_match m;
    int r = slm_patterns_match(p, text, strlen(text), &m);
    return r == 1 ? m.name : r == 0 ? "" : "OOM";
}

static void test_normalize(void) {
    char out[128];
    struct { const char *in, *want; } cases[] = {
        {"  Hello,   WORLD!! ", "hello world"},
        {"What's up?", "whats up"},
        {"don\xE2\x80\x99t stop", "dont stop"},                       // U+2019
        {"tl;dr", "tl dr"},
        {"\xE2\x80\x9CQuoted\xE2\x80\x9D \xE2\x80\x94 text\xE2\x80\xA6", "quoted text"},  // “ ” — …
        {"\xC3\x89T\xC3\x89 caf\xC3\xA9", "\xC3\xA9t\xC3\xA9 caf\xC3\xA9"},            // ÉTÉ café
        {"\xC2\xBFQu\xC3\xA9?\xC2\xA0s\xC3\xAD", "qu\xC3\xA9 s\xC3\xAD"},             // ¿Qué? sí
        {"hi \xF0\x9F\x91\x8B", "hi \xF0\x9F\x91\x8B"},                               // emoji kept
        {"\t\n\r", ""},
        {"a\xFF" "b \xE2\x80", "a\xFF" "b \xE2\x80"},                                 // invalid bytes kept
        {"x*y 3.5", "x y 3 5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = slm_normalize(cases[i].in, strlen(cases[i].in), out, sizeof out);
        CHECK(n == strlen(cases[i].want) && !strcmp(out, cases[i].want), "normalize case %zu: '%s'", i, out);
    }
    // snprintf-like truncation: full length returned, NUL-terminated prefix
    size_t n = slm_normalize("Hello World", 11, out, 4);
    CHECK(n == 11 && !strcmp(out, "hel"), "truncated normalize: %zu '%s'", n, out);
    CHECK(slm_normalize("ab", 2, NULL, 0) == 2, "length only");
}

static const char *good_file =
    "\xEF\xBB\xBF# a comment\n"
    "\n"
    "[greeting]\r\n"
    "  priority 10\n"
    "  max_words 4\n"
    "  reply Hello!\\nWhat now? \\\\o/\n"
    "  exact hi | hello there\n"
    "  prefix good morning\n"
    "  any hey heya\n"
    "  unless summar*\n"
    "[summarize]\n"
    "priority 20\n"
    "confidence 0.9\n"
    "any summar* tldr\n"
    "glob what is * about\n"
    "[thanks]\n"
    "all thank* you\n"
    "[both]\n"
    "glob * a * b *\n"
    "[no_rules]\n"
    "reply Only a reply.\n";

static void test_parse_and_match(void) {
    slm_error err = {0};
    slm_patterns *p = parse(good_file, &err);
    CHECK(p != NULL, "good file: %s", err.message);
    if (!p) return;
    CHECK(slm_patterns_intent_count(p) == 5, "intents %d", slm_patterns_intent_count(p));
    CHECK(!strcmp(slm_patterns_intent_name(p, 4), "no_rules") && !slm_patterns_intent_name(p, 5), "names");
    CHECK(!strcmp(slm_patterns_reply(p, "greeting"), "Hello!\nWhat now? \\o/"), "reply unescaped: %s",
          slm_patterns_reply(p, "greeting"));
    CHECK(!strcmp(slm_patterns_reply(p, "no_rules"), "Only a reply.") && !slm_patterns_reply(p, "thanks") &&
              !slm_patterns_reply(p, "nope"),
          "replies");

    CHECK(!strcmp(match(p, "Hi!"), "greeting"), "exact");
    CHECK(!strcmp(match(p, "HELLO,  there."), "greeting"), "exact alternative");
    CHECK(!strcmp(match(p, "hello"), ""), "exact needs the whole text");
    CHECK(!strcmp(match(p, "Good morning, sunshine"), "greeting"), "prefix");
    CHECK(!strcmp(match(p, "good mornings"), ""), "prefix stops at word boundaries");
    CHECK(!strcmp(match(p, "well hey you"), "greeting"), "any");
    CHECK(!strcmp(match(p, "well hey you there friend"), ""), "max_words");
    CHECK(!strcmp(match(p, "hey, summary please"), "summarize"), "unless vetoes, priority picks");
    CHECK(!strcmp(match(p, "Summarization?"), "summarize"), "word prefix");
    CHECK(!strcmp(match(p, "what is this long document about"), "summarize"), "glob");
    CHECK(!strcmp(match(p, "what is about"), "summarize"), "glob star takes zero words");
    CHECK(!strcmp(match(p, "what is it about really"), ""), "glob is anchored");
    CHECK(!strcmp(match(p, "you: thanks!"), "thanks"), "all");
    CHECK(!strcmp(match(p, "thanks"), ""), "all needs every word");
    CHECK(!strcmp(match(p, "x a y y b z"), "both"), "glob with several stars");
    CHECK(!strcmp(match(p, "a b"), "both"), "stars take zero words");
    CHECK(!strcmp(match(p, "b a"), ""), "glob order");
    CHECK(!strcmp(match(p, ""), "") && !strcmp(match(p, "?!"), ""), "empty text");

    slm_pattern_match m;
    CHECK(slm_patterns_match(p, "tldr", 4, &m) == 1 && m.intent == 1 && m.priority == 20 && m.line == 14 &&
              m.confidence > 0.89f && m.confidence < 0.91f && m.reply == NULL,
          "match fields: intent %d priority %d line %d", m.intent, m.priority, m.line);
    CHECK(slm_patterns_match(p, "hi", 2, &m) == 1 && m.confidence == 1.0f && !strcmp(m.reply, "Hello!\nWhat now? \\o/"),
          "default confidence, reply");
    CHECK(slm_patterns_match(p, "nothing", 7, &m) == 0 && m.intent == -1 && !m.name, "no match clears");
    slm_patterns_free(p);
}

static void test_ranking(void) {
    slm_error err;
    slm_patterns *p = parse("[a]\nany x\n[b]\nexact x y\n[c]\nprefix x\n[d]\nany y\n", &err);
    CHECK(p && !strcmp(match(p, "x y"), "b"), "exact beats prefix and any at equal priority");
    CHECK(p && !strcmp(match(p, "x z"), "c"), "prefix beats any");
    CHECK(p && !strcmp(match(p, "z x"), "a"), "any");
    CHECK(p && !strcmp(match(p, "y z x"), "a"), "first in file among equals");
    slm_patterns_free(p);
    p = parse("[a]\nexact x\n[b]\npriority 1\nany x\n[c]\npriority -5\nexact q\n", &err);
    CHECK(p && !strcmp(match(p, "x"), "b"), "priority beats specificity");
    CHECK(p && !strcmp(match(p, "q"), "c"), "negative priority still matches");
    slm_patterns_free(p);
    // exact rules ignore max_words and unless
    p = parse("[a]\nmax_words 1\nunless y\nexact x y z\nany y\n", &err);
    CHECK(p && !strcmp(match(p, "x y z"), "a") && !strcmp(match(p, "y"), ""), "loose rules only are guarded");
    slm_patterns_free(p);
    p = parse("", &err);
    CHECK(p && slm_patterns_intent_count(p) == 0 && !strcmp(match(p, "hi"), ""), "empty file");
    slm_patterns_free(p);
}

// Every kind of bad line gives "t.txt:LINE: what".
static void test_errors(void) {
    struct { const char *text; int line; const char *what; } cases[] = {
        {"exact hi\n", 1, "before any [intent]"},
        {"[a]\nfoo bar\n", 2, "unknown directive"},
        {"[a]\n\n# c\n  Exact hi\n", 4, "unknown directive"},
        {"[a b]\n", 1, "intent name"},
        {"[]\n", 1, "intent name"},
        {"[a]x\n", 1, "nothing after the ']'"},
        {"[abc\n", 1, "nothing after the ']'"},
        {"[a]\n[b]\n[a]\n", 3, "already defined at line 1"},
        {"[a]\nexact\n", 2, "missing value"},
        {"[a]\nreply   \n", 2, "missing value"},
        {"[a]\npriority high\n", 2, "priority is an integer"},
        {"[a]\npriority 1001\n", 2, "priority is an integer"},
        {"[a]\npriority 1\npriority 2\n", 3, "given twice"},
        {"[a]\nreply x\nreply y\n", 3, "given twice"},
        {"[a]\nconfidence 1.5\n", 2, "confidence is a number"},
        {"[a]\nconfidence .\n", 2, "confidence is a number"},
        {"[a]\nconfidence 0.5x\n", 2, "confidence is a number"},
        {"[a]\nmax_words 0\n", 2, "max_words is an integer"},
        {"[a]\nexact hi | | yo\n", 2, "empty alternative"},
        {"[a]\nexact hi |\n", 2, "empty alternative"},
        {"[a]\nexact ?!?\n", 2, "nothing left"},
        {"[a]\nexact hi*\n", 2, "only allowed in glob"},
        {"[a]\nprefix *\n", 2, "only allowed in glob"},
        {"[a]\nany a*b\n", 2, "must end a word"},
        {"[a]\nany *\n", 2, "lone '*'"},
        {"[a]\nglob * *\n", 2, "only '*'"},
        {"[a]\nany x | y\n", 2, "'|' separates"},
        {"[a]\nunless x | y\n", 2, "'|' separates"},
        {"[a]\nexact caf\xC3\n", 2, "invalid UTF-8"},
        {"[a]\nexact \xED\xA0\x80\n", 2, "invalid UTF-8"},   // a surrogate
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        slm_error err = {0};
        slm_patterns *p = parse(cases[i].text, &err);
        char prefix[32];
        snprintf(prefix, sizeof prefix, "t.txt:%d: ", cases[i].line);
        CHECK(!p && err.code == SLM_ERR_BAD_DATA && !strncmp(err.message, prefix, strlen(prefix)) &&
                  strstr(err.message, cases[i].what),
              "case %zu: got '%s'", i, err.message);
        slm_patterns_free(p);
    }
    // NUL byte and over-long line (not expressible as C strings above)
    slm_error err = {0};
    slm_patterns *p = NULL;
    CHECK(slm_patterns_parse("[a]\nexact h\0i\n", 12, "t.txt", &p, &err) == SLM_ERR_BAD_DATA && !p &&
              strstr(err.message, "t.txt:2: NUL"),
          "NUL: %s", err.message);
    char *big = malloc(5000);
    memcpy(big, "[a]\nexact ", 10);
    memset(big + 10, 'x', 4990);
    CHECK(slm_patterns_parse(big, 5000, "t.txt", &p, &err) == SLM_ERR_BAD_DATA && strstr(err.message, "t.txt:2: line longer"),
          "long line: %s", err.message);
    free(big);
    // a message quoting a hostile name stays one printable line
    CHECK(!parse("[a]\nfoo\tbar\x01\n", &err) && !strchr(err.message, '\t') && !strchr(err.message, 1), "printable");
    CHECK(slm_patterns_load("/nonexistent/p.txt", &p, &err) == SLM_ERR_IO && strstr(err.message, "/nonexistent/p.txt"),
          "missing file: %s", err.message);
}

static void test_cache(void) {
    slm_error err;
    slm_cache *c = NULL;
    CHECK(slm_cache_new(0, &c, &err) == SLM_ERR_INVALID_ARG && !c, "capacity 0");
    CHECK(slm_cache_new(3, &c, &err) == SLM_OK, "new");
    CHECK(slm_cache_add(c, "What's the gist?", 16, "summarize", &err) == SLM_OK, "add");
    const char *hit = slm_cache_lookup(c, "whats   the GIST", 16);
    CHECK(hit && !strcmp(hit, "summarize"), "normalized lookup");
    CHECK(!slm_cache_lookup(c, "whats the gist of it", 20), "exact only");
    CHECK(slm_cache_add(c, "?!", 2, "x", &err) == SLM_ERR_INVALID_ARG, "empty request refused");
    CHECK(slm_cache_add(c, "a", 1, "bad name", &err) == SLM_ERR_INVALID_ARG, "bad intent refused");
    char *huge = malloc(2000);
    memset(huge, 'a', 2000);
    CHECK(slm_cache_add(c, huge, 2000, "x", &err) == SLM_ERR_INVALID_ARG && !slm_cache_lookup(c, huge, 2000), "too long");
    free(huge);

    // LRU: fill, touch the oldest, add one more: the untouched one goes
    slm_cache_add(c, "one", 3, "a", &err);
    slm_cache_add(c, "two", 3, "b", &err);
    CHECK(slm_cache_count(c) == 3, "full");
    slm_cache_lookup(c, "whats the gist", 14);
    slm_cache_add(c, "three", 5, "c", &err);
    CHECK(slm_cache_count(c) == 3 && !slm_cache_lookup(c, "one", 3) && slm_cache_lookup(c, "two", 3) &&
              slm_cache_lookup(c, "whats the gist", 14),
          "least recently used evicted");
    slm_cache_add(c, "TWO!", 4, "b2", &err);
    CHECK(slm_cache_count(c) == 3 && !strcmp(slm_cache_lookup(c, "two", 3), "b2"), "re-add replaces");

    // text form: oldest first; parse restores recency
    char buf[256];
    size_t n = slm_cache_write(c, buf, sizeof buf);
    buf[n] = 0;
    CHECK(!strcmp(buf, "c\tthree\nsummarize\twhats the gist\nb2\ttwo\n"), "write: '%s'", buf);
    CHECK(slm_cache_write(c, buf, 5) == n && !memcmp(buf, "c\tthr", 5), "write truncated");
    slm_cache *d = NULL;
    CHECK(slm_cache_parse(buf, slm_cache_write(c, buf, sizeof buf), "c.tsv", 2, &d, &err) == SLM_OK, "parse: %s",
          err.message);
    CHECK(d && slm_cache_count(d) == 2 && !slm_cache_lookup(d, "three", 5) && slm_cache_lookup(d, "two", 3),
          "smaller capacity keeps the newest");
    slm_cache_free(d);
    CHECK(slm_cache_remove(c, "Three", 5) == 1 && slm_cache_remove(c, "three", 5) == 0 && slm_cache_count(c) == 2,
          "remove");

    struct { const char *text; const char *what; } bad[] = {
        {"# comment\n\nx\ty\nnotab\n", "c.tsv:4: expected intent<TAB>request"},
        {"bad name\ty\n", "c.tsv:1: bad intent name"},
        {"a\t ?? \n", "c.tsv:1: empty or too long"},
        {"a\tcaf\xC3\n", "c.tsv:1: invalid UTF-8"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        d = NULL;
        CHECK(slm_cache_parse(bad[i].text, strlen(bad[i].text), "c.tsv", 8, &d, &err) == SLM_ERR_BAD_DATA && !d &&
                  strstr(err.message, bad[i].what),
              "bad cache %zu: %s", i, err.message);
    }

    // files: atomic save (no temporary left), load, refusal to write a directory
    char dir[] = "/tmp/slm-cache-XXXXXX", path[64];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/cache.tsv", dir);
    CHECK(slm_cache_save(c, path, &err) == SLM_OK, "save: %s", err.message);
    CHECK(slm_cache_load(path, 10, &d, &err) == SLM_OK && slm_cache_count(d) == 2 &&
              !strcmp(slm_cache_lookup(d, "what's the gist", 15), "summarize"),
          "load: %s", err.message);
    slm_cache_free(d);
    CHECK(slm_cache_save(c, dir, &err) == SLM_ERR_IO, "saving over a directory fails");
    FILE *f = fopen(path, "rb");
    char back[256] = {0};
    size_t got = f ? fread(back, 1, sizeof back - 1, f) : 0;
    if (f) fclose(f);
    CHECK(got > 0 && strstr(back, "whats the gist"), "a failed save leaves the old file: '%s'", back);
    snprintf(buf, sizeof buf, "ls %s | wc -l | grep -qx 1", dir);
    CHECK(system(buf) == 0, "no temporary file left behind");
    unlink(path);
    rmdir(dir);
    slm_cache_free(c);
}

int main(void) {
    test_normalize();
    test_parse_and_match();
    test_ranking();
    test_errors();
    test_cache();
    TEST_END();
}
