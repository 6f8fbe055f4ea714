// The assistant's router: which tier answers, with what, and when it
// escalates; forced tiers and the escalation limit; the cache of confirmed
// requests; bad input. The encoder is a tiny one trained here on a toy
// request set (it learns it by heart), the decoder a random slm10m.
#include <unistd.h>

#include "../weights-tools/train.h"
#include "model.h"
#include "test.h"

static char dir[] = "/tmp/slm-assistant-test-XXXXXX";

static const char *path_of(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void write_file(const char *name, const char *text) {
    FILE *f = fopen(path_of(name), "wb");
    fputs(text, f);
    fclose(f);
}

static const char *patterns =
    "[greeting]\nreply Hello!\nexact hi | hello\n\n"
    "[thanks]\nconfidence 0.5\nreply You're welcome.\nany thanks\n\n"
    "[summarize]\nreply Here is a summary.\nany summar*\n\n"
    "[suggest_questions]\nany quiz\n\n"
    "[goodbye]\nreply Goodbye!\n\n"
    "[ask_document]\n\n[out_of_scope]\nreply Sorry, I only know the document.\n";

// Texts no rule matches, learned by heart by the tiny encoder.
static const char *toy =
    "farewell my dear friend\tgoodbye\nso long and good luck\tgoodbye\nfarewell for today\tgoodbye\n"
    "what a lovely day to meet\tgreeting\ngreetings and salutations\tgreeting\nwelcome back friend\tgreeting\n"
    "who built the tower\task_document\nwhen did the keeper leave\task_document\nwhat does the lens do\task_document\n"
    "order me a pizza\tout_of_scope\nwhat is the weather\tout_of_scope\nplay some jazz music\tout_of_scope\n"
    "give me the gist\tsummarize\nthe short version please\tsummarize\nboil the text down\tsummarize\n"
    "thanks a lot mate\tthanks\nmuch appreciated friend\tthanks\ncheers for the help\tthanks\n";

static const char *doc =
    "The lighthouse on Skerry Rock was built in 1853 by the engineer Margaret Oduya. "
    "Its tower is forty-one metres tall. Keepers lived on the island for more than a century. "
    "In 1986 the light was automated and the last keeper, Tomas Reyes, left the island. "
    "Puffins nest on the cliffs from April to August.";

typedef struct {
    slm_model *nano, *dec;
    slm_context *enc;
    slm_assistant *a;
} fixture;

static int setup(fixture *f) {
    slm_error err;
    write_file("toy.tsv", toy);
    tr_classifier_params p = tr_classifier_default_params();
    p.preset = "test-tiny";
    p.train_path = p.dev_path = path_of("toy.tsv");
    p.out_path = path_of("nano.gguf");
    p.epochs = 40;
    p.batch = 6;
    p.optim.lr = 3e-3f;
    p.ngram = (slm_ngram_cfg){.buckets = 256, .word_max = 2, .char_min = 2, .char_max = 4};
    p.ngram_dim = 32;
    p.opts.drop_resid = p.opts.drop_embd = p.opts.drop_feat = 0.0f;
    tr_classifier_result r;
    CHECK(!tr_train_classifier(&p, &r, &err), "train the toy encoder: %s", err.message);
    CHECK(r.best_dev_acc == 1.0f, "the toy encoder knows its texts: %g", r.best_dev_acc);
    slm_init_params ip = {.preset = "slm10m", .seed = 3, .type = SLM_TYPE_Q4_0};
    CHECK(!slm_init_random(&ip, path_of("dec.gguf"), &err), "init the decoder: %s", err.message);
    slm_context_params cp = slm_context_default_params();
    if (slm_model_load_file(path_of("nano.gguf"), 0, &f->nano, &err) || slm_context_new(f->nano, &cp, &f->enc, &err) ||
        slm_model_load_file(path_of("dec.gguf"), 0, &f->dec, &err) ||
        slm_assistant_new(patterns, strlen(patterns), "toy.txt", f->enc, NULL, 0, &f->a, &err)) {
        CHECK(0, "set up: %s", err.message);
        return -1;
    }
    return 0;
}

static slm_answer ask(fixture *f, const char *text, const char *intent, const slm_assistant_params *p) {
    slm_answer ans;
    slm_error err;
    slm_status st = slm_assistant_ask(f->a, text, strlen(text), intent, p, &ans, &err);
    CHECK(st == SLM_OK, "ask '%s': %s", text, err.message);
    return ans;
}

static int has(const char *s, const char *part) { return s && strstr(s, part); }

static void test_intent_tiers(fixture *f) {
    slm_assistant_params p = slm_assistant_default_params();
    p.nano_threshold = 0.3f;
    // tier 1: a rule, and the encoder never runs
    slm_answer a = ask(f, "Hello!", NULL, &p);
    CHECK(a.tier == SLM_TIER_PATTERNS && a.intent_tier == SLM_TIER_PATTERNS && !strcmp(a.intent, "greeting") &&
          a.confidence == 1.0f && !a.guessing && !strcmp(a.text, "Hello!") && a.tier_ms[2] == 0.0 && !a.prompt,
          "tier 1: tier %d intent %s", a.tier, a.intent);
    CHECK(a.ms >= a.tier_ms[1], "timing");
    // tier 2: no rule, the encoder is sure
    a = ask(f, "farewell my dear friend", NULL, &p);
    CHECK(a.tier == SLM_TIER_NANO && !strcmp(a.intent, "goodbye") && a.confidence >= 0.3f && !a.guessing &&
          !strcmp(a.text, "Goodbye!") && a.tier_ms[2] > 0.0, "tier 2: tier %d intent %s %g", a.tier, a.intent, a.confidence);
    // a rule below its threshold lets the encoder decide
    a = ask(f, "thanks a lot mate", NULL, &p);
    CHECK(a.intent_tier == SLM_TIER_NANO && !strcmp(a.intent, "thanks") && !strcmp(a.text, "You're welcome."),
          "weak rule: tier %d", a.intent_tier);
    p.pattern_threshold = 0.5f;
    a = ask(f, "thanks a lot mate", NULL, &p);
    CHECK(a.intent_tier == SLM_TIER_PATTERNS && a.confidence == 0.5f, "rule at its threshold: tier %d", a.intent_tier);
    // an intent without a reply says so; the caller's intent gets tier 1's reply
    a = ask(f, "what is the weather", "summarize_all", &p);
    CHECK(a.intent_tier == SLM_TIER_CALLER && a.tier == SLM_TIER_PATTERNS && has(a.text, "no reply"), "no reply: %s", a.text);
    a = ask(f, "what is the weather", "greeting", &p);
    CHECK(a.tier == SLM_TIER_PATTERNS && !strcmp(a.text, "Hello!"), "a given intent: tier %d", a.tier);
    // no document: a document intent says how to open one
    a = ask(f, "give me the gist", NULL, &p);
    CHECK(!strcmp(a.intent, "summarize") && a.tier == SLM_TIER_NANO && has(a.text, "no document"), "no document: %s", a.text);
}

static void test_document_tiers(fixture *f) {
    slm_error err;
    CHECK(!slm_assistant_set_document(f->a, doc, strlen(doc), NULL, &err), "document: %s", err.message);
    slm_assistant_params p = slm_assistant_default_params();
    p.nano_threshold = 0.3f;
    slm_answer a = ask(f, "summarize it", NULL, &p);
    CHECK(a.tier == SLM_TIER_RETRIEVAL && a.intent_tier == SLM_TIER_PATTERNS && a.n_sentences == 3 &&
          has(a.text, "Margaret Oduya") && a.tier_ms[3] > 0.0, "summary: tier %d, %d sentences", a.tier, a.n_sentences);
    a = ask(f, "quiz please", NULL, &p);
    CHECK(a.tier == SLM_TIER_RETRIEVAL && !strcmp(a.intent, "suggest_questions") && has(a.text, "?") && a.n_sentences > 0,
          "questions: %s", a.text);
    a = ask(f, "who was the last keeper to leave the island", "ask_document", &p);
    float found = a.confidence;
    CHECK(a.tier == SLM_TIER_RETRIEVAL && has(a.text, "Tomas Reyes") && !a.guessing, "answer: %s (%g)", a.text, found);
    // words only: the encoder does not embed the sentences, and the answer is still found
    slm_doc_params words = slm_doc_default_params();
    words.embed_weight = 0.0f;
    CHECK(!slm_assistant_set_document(f->a, doc, strlen(doc), &words, &err), "words only: %s", err.message);
    a = ask(f, "who was the last keeper to leave the island", "ask_document", &p);
    CHECK(a.tier == SLM_TIER_RETRIEVAL && has(a.text, "Tomas Reyes"), "words only: %s", a.text);
    CHECK(!slm_assistant_set_document(f->a, doc, strlen(doc), NULL, &err), "document: %s", err.message);
    // nothing in the document answers it, and there is no decoder: tier 3's best guess
    a = ask(f, "quantum chromodynamics of gluons", "ask_document", &p);
    CHECK(a.confidence < found, "a question the document does not answer scores lower: %g vs %g", a.confidence, found);
    p.answer_threshold = 0.5f * (a.confidence + found);
    a = ask(f, "quantum chromodynamics of gluons", "ask_document", &p);
    CHECK(a.tier == SLM_TIER_RETRIEVAL && a.guessing && a.text, "no answer: tier %d", a.tier);
    // with a decoder it escalates to tier 4, whose prompt holds the question and the ranked sentences
    slm_assistant_set_decoder(f->a, f->dec);
    a = ask(f, "quantum chromodynamics of gluons", "ask_document", &p);
    CHECK(a.tier == SLM_TIER_DECODER && !a.text && has(a.prompt, "Question: quantum chromodynamics of gluons") &&
          has(a.prompt, "Skerry Rock") && a.n_sentences > 0, "tier 4: tier %d", a.tier);
    // unsure of the intent: a question about the document
    p.nano_threshold = 1.5f;
    a = ask(f, "when did the keeper leave", NULL, &p);
    CHECK(a.guessing && !strcmp(a.intent, "ask_document") && a.intent_tier == SLM_TIER_NANO && a.tier >= SLM_TIER_RETRIEVAL,
          "unsure: intent %s tier %d", a.intent, a.tier);
    // unsure, no document: a chat with the decoder; without one, the encoder's guess
    CHECK(!slm_assistant_set_document(f->a, NULL, 0, NULL, &err) && !slm_assistant_document(f->a), "close the document");
    a = ask(f, "welcome back friend", NULL, &p);
    CHECK(a.tier == SLM_TIER_DECODER && a.guessing && has(a.prompt, "Question: welcome back friend"), "chat: tier %d", a.tier);
    slm_assistant_set_decoder(f->a, NULL);
    a = ask(f, "welcome back friend", NULL, &p);
    CHECK(a.tier == SLM_TIER_NANO && a.guessing && !strcmp(a.intent, "greeting") && !strcmp(a.text, "Hello!"),
          "guess: tier %d %s", a.tier, a.intent);
}

static void test_forced(fixture *f) {
    slm_error err;
    slm_assistant_params p = slm_assistant_default_params();
    p.nano_threshold = 0.3f;
    p.force_tier = 1;
    slm_answer a = ask(f, "farewell my dear friend", NULL, &p);
    CHECK(a.tier == SLM_TIER_PATTERNS && a.guessing && !*a.intent && has(a.text, "No rule") && a.tier_ms[2] == 0.0,
          "forced 1: tier %d %s", a.tier, a.text);
    p.force_tier = 2;
    a = ask(f, "hello", NULL, &p);
    CHECK(a.tier == SLM_TIER_NANO && a.intent_tier == SLM_TIER_NANO && a.tier_ms[1] == 0.0, "forced 2: tier %d", a.tier);
    a = ask(f, "give me the gist", NULL, &p);
    CHECK(a.tier == SLM_TIER_NANO && has(a.text, "tier 3 answers it"), "forced 2, document intent: %s", a.text);
    p.force_tier = 3;
    a = ask(f, "hello", NULL, &p);
    CHECK(a.tier == SLM_TIER_RETRIEVAL && a.guessing && has(a.text, "no document"), "forced 3 without a document: %s", a.text);
    slm_assistant_set_document(f->a, doc, strlen(doc), NULL, &err);
    a = ask(f, "hello", NULL, &p);
    CHECK(a.tier == SLM_TIER_RETRIEVAL && a.n_sentences > 0, "forced 3: a question about the document");
    p.force_tier = 4;
    CHECK(slm_assistant_ask(f->a, "summarize", 9, NULL, &p, &a, &err) == SLM_ERR_INVALID_ARG && has(err.message, "decoder"),
          "forced 4 without a decoder: %s", err.message);
    slm_assistant_set_decoder(f->a, f->dec);
    a = ask(f, "summarize", NULL, &p);
    CHECK(a.tier == SLM_TIER_DECODER && has(a.prompt, "Summarize the following text") && a.tier_ms[3] == 0.0,
          "forced 4: summary prompt");
    a = ask(f, "hello", NULL, &p);
    CHECK(a.tier == SLM_TIER_DECODER && has(a.prompt, "Question: hello"), "forced 4: chat");
    p.prompt_tokens = 4;
    CHECK(slm_assistant_ask(f->a, "summarize", 9, NULL, &p, &a, &err) == SLM_ERR_CONTEXT_FULL, "prompt over budget");
    // escalation stops at tier 2: the intent, and a note
    p = slm_assistant_default_params();
    p.nano_threshold = 0.3f;
    p.max_tier = 2;
    a = ask(f, "summarize", NULL, &p);
    CHECK(a.tier == SLM_TIER_PATTERNS && has(a.text, "tier 2 is the last"), "max tier 2: %s", a.text);
    p.max_tier = 1;
    a = ask(f, "farewell my dear friend", NULL, &p);
    CHECK(a.tier == SLM_TIER_PATTERNS && a.tier_ms[2] == 0.0 && a.guessing, "max tier 1: the encoder never runs");
    slm_assistant_set_decoder(f->a, NULL);
    slm_assistant_set_document(f->a, NULL, 0, NULL, &err);
}

static void test_cache(fixture *f) {
    slm_error err;
    slm_assistant_params p = slm_assistant_default_params();
    slm_cache *c = slm_assistant_cache(f->a);
    CHECK(!slm_cache_add(c, "What's this about?", 18, "summarize", &err), "confirm");
    slm_answer a = ask(f, "whats this   ABOUT", NULL, &p);
    CHECK(a.tier == SLM_TIER_PATTERNS && !strcmp(a.intent, "summarize") && a.confidence == 1.0f && a.tier_ms[2] == 0.0,
          "cache hit: %s", a.intent);
    // a cache read back from its text replaces it
    char text[256];
    size_t n = slm_cache_write(c, text, sizeof text);
    slm_cache *back;
    CHECK(n < sizeof text && !slm_cache_parse(text, n, "cache", 16, &back, &err), "cache text: %s", err.message);
    slm_cache_remove(c, "whats this about", 16);
    slm_assistant_set_cache(f->a, back);
    a = ask(f, "what's this about", NULL, &p);
    CHECK(slm_assistant_cache(f->a) == back && !strcmp(a.intent, "summarize") && a.intent_tier == SLM_TIER_PATTERNS,
          "restored cache");
}

static void test_bad_input(fixture *f) {
    slm_error err;
    slm_answer a;
    slm_assistant *b = NULL;
    CHECK(slm_assistant_new("[greeting]\nexactly hi\n", 21, "bad.txt", NULL, NULL, 0, &b, &err) == SLM_ERR_BAD_DATA &&
          !b && has(err.message, "bad.txt:2:"), "bad pattern file: %s", err.message);
    CHECK(slm_assistant_new(NULL, 0, NULL, NULL, f->nano, 0, &b, &err) == SLM_ERR_INVALID_ARG, "an encoder as decoder");
    slm_context *dctx;
    slm_context_params cp = slm_context_default_params();
    cp.n_ctx = 64;
    if (!slm_context_new(f->dec, &cp, &dctx, &err)) {
        CHECK(slm_assistant_new(NULL, 0, NULL, dctx, NULL, 0, &b, &err) == SLM_ERR_INVALID_ARG, "a decoder as encoder");
        slm_context_free(dctx);
    }
    CHECK(slm_assistant_ask(f->a, "  \n", 3, NULL, NULL, &a, &err) == SLM_ERR_INVALID_ARG && !a.text && !*a.intent, "blank request");
    slm_assistant_params p = slm_assistant_default_params();
    p.force_tier = 7;
    CHECK(slm_assistant_ask(f->a, "hi", 2, NULL, &p, &a, &err) == SLM_ERR_INVALID_ARG, "force tier 7");
    p = slm_assistant_default_params();
    p.max_tier = 0;
    CHECK(slm_assistant_ask(f->a, "hi", 2, NULL, &p, &a, &err) == SLM_ERR_INVALID_ARG, "max tier 0");
    char name[80];
    memset(name, 'x', sizeof name - 1);
    name[sizeof name - 1] = 0;
    CHECK(slm_assistant_ask(f->a, "hi", 2, name, NULL, &a, &err) == SLM_ERR_INVALID_ARG, "intent name too long");
    // a document without sentences is refused and the open one stays
    CHECK(!slm_assistant_set_document(f->a, doc, strlen(doc), NULL, &err), "document");
    CHECK(slm_assistant_set_document(f->a, " ... !!", 7, NULL, &err) == SLM_ERR_INVALID_ARG &&
          slm_doc_sentence_count(slm_assistant_document(f->a)) == 5, "no sentences: %s", err.message);
    // no encoder: tier 2 cannot be forced, and the rules alone route
    CHECK(!slm_assistant_new(patterns, strlen(patterns), "toy.txt", NULL, NULL, 0, &b, &err), "rules only: %s", err.message);
    p.max_tier = 4;
    p.force_tier = 2;
    CHECK(slm_assistant_ask(b, "hi", 2, NULL, &p, &a, &err) == SLM_ERR_INVALID_ARG && has(err.message, "encoder"), "forced 2");
    p.force_tier = 0;
    CHECK(!slm_assistant_ask(b, "hi", 2, NULL, &p, &a, &err) && a.tier == SLM_TIER_PATTERNS, "rules only");
    CHECK(!slm_assistant_ask(b, "what is going on", 16, NULL, &p, &a, &err) && a.guessing && !*a.intent &&
          has(a.text, "don't know"), "rules only, no match: %s", a.text);
    slm_assistant_free(b);
    CHECK(slm_assistant_ask(NULL, "hi", 2, NULL, NULL, &a, &err) == SLM_ERR_INVALID_ARG, "no assistant");
    slm_assistant_free(NULL);
}

int main(void) {
    if (!mkdtemp(dir)) return printf("cannot make a temporary directory\n0 passed, 1 failed\n"), 1;
    fixture f = {0};
    if (!setup(&f)) {
        test_intent_tiers(&f);
        test_document_tiers(&f);
        test_forced(&f);
        test_cache(&f);
        test_bad_input(&f);
    }
    slm_assistant_free(f.a);
    slm_context_free(f.enc);
    slm_model_free(f.nano);
    slm_model_free(f.dec);
    unlink(path_of("toy.tsv"));
    unlink(path_of("nano.gguf"));
    unlink(path_of("dec.gguf"));
    rmdir(dir);
    TEST_END();
}
