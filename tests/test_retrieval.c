// Tier 3: sentence splitting, summaries, answers (a planted sentence),
// suggested questions and the decoder prompt's token budget, with words
// alone and with a random nano encoder.
#include <unistd.h>

#include "test.h"
#include "slm.h"

// The sentences of text joined by '|'.
static const char *split(const char *text, int max_bytes) {
    static char out[4096];
    slm_span sp[64];
    int n = slm_split_sentences(text, strlen(text), max_bytes, sp, 64);
    size_t len = 0;
    out[0] = 0;
    for (int i = 0; i < n && i < 64; i++)
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%.*s", i ? "|" : "", sp[i].end - sp[i].start, text + sp[i].start);
    return out;
}

static void test_split(void) {
    struct { const char *in, *want; } cases[] = {
        {"Mr. Smith went to Washington. He arrived at 3.5 p.m. on Monday.",
         "Mr. Smith went to Washington.|He arrived at 3.5 p.m. on Monday."},
        {"He said \"Stop.\" Then he left.", "He said \"Stop.\"|Then he left."},
        {"Really?! Yes.", "Really?!|Yes."},
        {"Use e.g. this or i.e. that. Next one.", "Use e.g. this or i.e. that.|Next one."},
        {"J. K. Rowling wrote it. It sold (a lot.) Then more.", "J. K. Rowling wrote it.|It sold (a lot.)|Then more."},
        {"The U.S. economy grew 2.5% in 2019. Dr. Lee agreed.", "The U.S. economy grew 2.5% in 2019.|Dr. Lee agreed."},
        {"Title\n\nFirst paragraph here. Second.\nShort line\n"
         "a long line that is wrapped by the editor well after fifty bytes\nand goes on here.",
         "Title|First paragraph here.|Second.|Short line|"
         "a long line that is wrapped by the editor well after fifty bytes\nand goes on here."},
        {"Items: a list that is long enough to pass the fifty byte limit\n- one\n- two",
         "Items: a list that is long enough to pass the fifty byte limit|- one|- two"},
        {"\xE4\xBD\xA0\xE5\xA5\xBD\xE3\x80\x82\xE4\xB8\x96\xE7\x95\x8C\xEF\xBC\x81", "\xE4\xBD\xA0\xE5\xA5\xBD\xE3\x80\x82|\xE4\xB8\x96\xE7\x95\x8C\xEF\xBC\x81"},
        {"Wait\xE2\x80\xA6 what? Fine.", "Wait\xE2\x80\xA6 what?|Fine."},
        {"\xE2\x80\x9CHello.\xE2\x80\x9D She smiled.", "\xE2\x80\x9CHello.\xE2\x80\x9D|She smiled."},
        {"*** . --- ! Ok.", "Ok."},
        {"  \n\t ", ""},
        {"no end mark", "no end mark"},
        {"\xFF\xFE bad bytes. Still fine.", "\xFF\xFE bad bytes.|Still fine."},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = split(cases[i].in, 0);
        CHECK(!strcmp(got, cases[i].want), "split case %zu: got '%s'", i, got);
    }
    // long sentences are cut at spaces, within max_bytes; counts without room
    char text[1200];
    for (int i = 0; i < 600; i++) text[2 * i] = 'a' + i % 26, text[2 * i + 1] = ' ';
    text[1199] = 0;
    slm_span sp[8];
    int n = slm_split_sentences(text, strlen(text), 400, sp, 8);
    int ok = n == 3;
    for (int i = 0; i < n && i < 8; i++) ok &= sp[i].end - sp[i].start <= 400 && text[sp[i].start] != ' ';
    CHECK(ok, "long sentence cut into %d pieces", n);
    CHECK(slm_split_sentences(text, strlen(text), 400, NULL, 0) == 3, "count only");
    CHECK(slm_split_sentences(NULL, 5, 0, sp, 8) == 0, "NULL text");
    // a cut never splits a UTF-8 character, even without spaces
    char wide[900];
    for (int i = 0; i < 300; i++) memcpy(wide + 3 * i, "\xE2\x82\xAC", 3);   // €
    n = slm_split_sentences(wide, 900, 100, sp, 8);
    ok = n == 10;   // 9 x 33 characters (99 bytes), then 3
    for (int i = 0; i < n && i < 8; i++) ok &= (sp[i].end - sp[i].start) % 3 == 0 && sp[i].start % 3 == 0;
    CHECK(ok, "UTF-8 boundaries: %d pieces", n);
}

static const char *cats =
    "Cats are small furry pets that many families keep at home. "
    "The stock market fell sharply on Tuesday afternoon. "
    "Many families keep cats as pets because cats are friendly and calm. "
    "Cats sleep most of the day and many cats hunt at night. "
    "Many families keep cats as pets because cats are friendly and calm. "
    "The secret code for the old vault is 4812. "
    "Dr. Jane Goodall said that chimpanzees use simple tools. "
    "In 1998 the museum opened a new wing for the Ice Hotel exhibition.";

static int find_sentence(const slm_doc *d, const char *prefix) {
    for (int i = 0; i < slm_doc_sentence_count(d); i++) {
        slm_span s = slm_doc_sentence(d, i);
        if (!strncmp(slm_doc_text(d) + s.start, prefix, strlen(prefix))) return i;
    }
    return -1;
}

static void test_doc(slm_context *enc, const char *label) {
    slm_error err;
    slm_doc *d = NULL;
    slm_doc_params dp = slm_doc_default_params();
    dp.lead_weight = 0.0f;
    CHECK(slm_doc_new(cats, strlen(cats), enc, &dp, &d, &err) == SLM_OK, "%s: doc: %s", label, err.message);
    if (!d) return;
    CHECK(slm_doc_sentence_count(d) == 8 && slm_doc_length(d) == strlen(cats), "%s: 8 sentences", label);
    int stock = find_sentence(d, "The stock"), dup1 = 2, dup2 = 4;

    // summary: no repeated sentence, document order; on topic by words (a
    // random encoder's embeddings are noise that may pick any sentence)
    int picked[8];
    float scores[8];
    int k = slm_doc_summarize(d, 3, picked, scores);
    int ok = k == 3;
    for (int i = 0; i < k; i++) ok &= (enc || picked[i] != stock) && (i == 0 || picked[i] > picked[i - 1]);
    int both = 0;
    for (int i = 0; i < k; i++) both += picked[i] == dup1 || picked[i] == dup2;
    CHECK(ok && both <= 1, "%s: summary %d %d %d", label, picked[0], picked[1], picked[2]);
    CHECK(slm_doc_summarize(d, 20, picked, scores) == 8, "%s: k above the sentence count", label);

    // answers: the planted sentence first
    int order[8];
    const char *q = "What is the secret code of the vault?";
    CHECK(slm_doc_rank(d, enc, q, strlen(q), order, scores, &err) == SLM_OK, "%s: rank: %s", label, err.message);
    CHECK(order[0] == find_sentence(d, "The secret code"), "%s: planted answer first (got %d)", label, order[0]);
    ok = 1;
    for (int i = 1; i < 8; i++) ok &= scores[i] <= scores[i - 1];
    CHECK(ok && scores[0] > scores[1], "%s: scores sorted, %.3f > %.3f", label, scores[0], scores[1]);
    q = "When do cats hunt?";
    slm_doc_rank(d, enc, q, strlen(q), order, scores, &err);
    CHECK(order[0] == find_sentence(d, "Cats sleep"), "%s: second question (got %d)", label, order[0]);
    CHECK(slm_doc_rank(d, enc, "?", 1, order, scores, &err) == SLM_OK, "%s: a question without words", label);

    // questions
    char buf[1024];
    int src[8];
    int nq = slm_doc_questions(d, 8, buf, sizeof buf, src);
    CHECK(nq >= 6 && strstr(buf, "Who is Jane Goodall?") && strstr(buf, "What happened in 1998?"),
          "%s: questions (%d):\n%s", label, nq, buf);
    ok = 1;
    for (int i = 0; i < nq; i++) ok &= src[i] >= 0 && src[i] < 8;
    CHECK(ok, "%s: question sources", label);
    int lines = 1;
    for (const char *c = buf; *c; c++) lines += *c == '\n';
    CHECK(lines == nq && buf[strlen(buf) - 1] == '?', "%s: one question a line", label);
    char small[30];
    nq = slm_doc_questions(d, 4, small, sizeof small, NULL);
    CHECK(nq <= 1 && strlen(small) < sizeof small, "%s: a small buffer holds fewer questions", label);
    slm_doc_free(d);
}

// Token budgets, with a real tokenizer (the encoder's) and with bytes.
static void test_prompt(const slm_model *tok) {
    slm_error err;
    slm_doc *d = NULL;
    slm_doc_new(cats, strlen(cats), NULL, NULL, &d, &err);
    int order[8];
    float scores[8];
    const char *q = "What is the secret code of the vault?";
    slm_doc_rank(d, NULL, q, strlen(q), order, scores, &err);
    char buf[4096];
    int lo = 1, hi = 4000;   // the smallest budget that holds the instructions and the question
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (slm_doc_prompt(d, tok, SLM_TASK_ANSWER, q, order, mid, buf, sizeof buf) < 0) lo = mid + 1;
        else hi = mid;
    }
    int bare = slm_doc_prompt(d, tok, SLM_TASK_ANSWER, q, order, lo, buf, sizeof buf);
    CHECK(bare > 0 && !strstr(buf, "Cats") && !strstr(buf, "secret code for"), "bare prompt at %d tokens: %s", lo, buf);
    int budgets[] = {lo + 20, lo + 60, lo + 150, 4000};
    for (int b = 0; b < 4; b++) {
        int n = slm_doc_prompt(d, tok, SLM_TASK_ANSWER, q, order, budgets[b], buf, sizeof buf);
        int tokens = tok ? slm_tokenize(tok, buf, (size_t)n, 1, NULL, 0, &err) : (n + 3) / 4 + 1;
        CHECK(n > 0 && (size_t)n == strlen(buf) && tokens <= budgets[b] && strstr(buf, q) && strstr(buf, "\nAnswer:"),
              "budget %d: %d tokens, %d bytes", budgets[b], tokens, n);
        // the best sentence comes in first; sentences keep document order
        CHECK(b < 2 || strstr(buf, "The secret code"), "budget %d: the best sentence is in", budgets[b]);
        const char *a = strstr(buf, "Cats are"), *c = strstr(buf, "The secret");
        CHECK(!a || a < c, "budget %d: document order", budgets[b]);
    }
    CHECK(slm_doc_prompt(d, tok, SLM_TASK_ANSWER, q, order, lo - 1, buf, sizeof buf) == -1, "instructions over budget");
    int n = slm_doc_prompt(d, tok, SLM_TASK_SUMMARIZE, NULL, NULL, 4000, buf, sizeof buf);
    CHECK(n > 0 && !strncmp(buf, "Summarize", 9) && strstr(buf, "Summary:"), "summary prompt by centrality");
    n = slm_doc_prompt(NULL, tok, SLM_TASK_CHAT, "hello there", NULL, 500, buf, sizeof buf);
    CHECK(n > 0 && !strcmp(buf, "Question: hello there\nAnswer:"), "chat prompt: '%s'", buf);
    CHECK(slm_doc_prompt(NULL, tok, SLM_TASK_ANSWER, q, NULL, 50, buf, sizeof buf) == -1, "no document");
    CHECK(slm_doc_prompt(d, tok, SLM_TASK_ANSWER, q, order, 4000, buf, 40) == -1, "buffer too small");
    slm_doc_free(d);
}

static void test_empty(void) {
    slm_error err;
    slm_doc *d = NULL;
    CHECK(slm_doc_new("   ", 3, NULL, NULL, &d, &err) == SLM_OK && slm_doc_sentence_count(d) == 0, "blank document");
    int picked[2], order[1];
    float scores[2];
    char buf[64];
    CHECK(slm_doc_summarize(d, 2, picked, scores) == 0 && slm_doc_questions(d, 2, buf, sizeof buf, NULL) == 0 && !buf[0],
          "nothing to pick");
    CHECK(slm_doc_rank(d, NULL, "why", 3, order, scores, &err) == SLM_OK, "rank over nothing");
    slm_doc_free(d);
    CHECK(slm_doc_new(NULL, 5, NULL, NULL, &d, &err) == SLM_ERR_INVALID_ARG && !d, "NULL text");
}

int main(void) {
    test_split();
    test_empty();
    test_doc(NULL, "words");

    // a random nano encoder: embeddings mixed in must not undo the words' answers
    char path[] = "/tmp/slm-nano-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    slm_init_params ip = {"slm360-nano", 7, SLM_TYPE_Q8_0, NULL, NULL, NULL, NULL};
    slm_error err;
    slm_model *m = NULL;
    slm_context *enc = NULL;
    slm_context_params cp = slm_context_default_params();
    cp.n_ctx = 128;
    CHECK(slm_init_random(&ip, path, &err) == SLM_OK && slm_model_load_file(path, 0, &m, &err) == SLM_OK &&
              slm_context_new(m, &cp, &enc, &err) == SLM_OK,
          "random nano: %s", err.message);
    if (enc) {
        test_doc(enc, "nano");
        test_prompt(m);
    }
    test_prompt(NULL);
    slm_context_free(enc);
    slm_model_free(m);
    unlink(path);
    TEST_END();
}
