// On-device learning (slm_learn): a tiny encoder trained on generated
// intents learns a new one without forgetting, refuses a batch of wrong
// labels (and is then bit for bit as before), saves and loads its state,
// survives hostile state files and bad input.
#include <unistd.h>

#include "../weights-tools/train.h"
#include "test.h"

static char dir[] = "/tmp/slm-learn-XXXXXX";

static const char *path_of(const char *name) {
    static char buf[16][512];
    static int k;
    k = (k + 1) % 16;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

// ---- generated intents -------------------------------------------------------------

typedef struct {
    const char *label;
    const char *templates[4];   // %s takes a slot word
    const char *slots[8];
} intent;

static const intent intents[] = {
    {"lights", {"turn on the %s lights", "switch the %s lamp on", "lights on in the %s", "can you light up the %s"},
     {"kitchen", "bedroom", "garage", "hall", "office", "garden", "attic", "bathroom"}},
    {"weather", {"what is the weather in %s", "will it rain in %s tomorrow", "is it sunny in %s", "forecast for %s please"},
     {"paris", "london", "tokyo", "berlin", "madrid", "rome", "oslo", "lima"}},
    {"music", {"play some %s", "put on %s music", "i want to hear %s", "start my %s playlist"},
     {"jazz", "rock", "blues", "metal", "pop", "techno", "folk", "reggae"}},
    {"alarm", {"set an alarm for %s", "wake me up at %s", "alarm at %s please", "i need an alarm at %s"},
     {"seven", "six", "noon", "eight", "five", "nine", "ten", "midnight"}},
    {"shopping", {"add %s to my list", "put %s on the shopping list", "we need %s", "buy %s this week"},
     {"milk", "bread", "eggs", "apples", "rice", "coffee", "butter", "cheese"}},
    {"call", {"call %s", "phone %s now", "ring %s for me", "dial %s please"},
     {"mom", "dad", "anna", "bob", "the office", "grandma", "peter", "lisa"}},
};
// the intent taught later, and the one its texts must not be confused with
static const intent timer = {"timer", {"start a timer for %s", "countdown of %s", "time %s for me", "set a %s timer"},
                             {"ten minutes", "an hour", "five minutes", "thirty seconds", "two hours", "a minute",
                              "twenty minutes", "half an hour"}};

// Lines "text<TAB>label" of the intent's templates x slots [s0, s1).
static void write_intent(FILE *f, const intent *it, int s0, int s1, const char *label) {
    for (int t = 0; t < 4; t++)
        for (int s = s0; s < s1; s++) {
            fprintf(f, it->templates[t], it->slots[s]);
            fprintf(f, "\t%s\n", label ? label : it->label);
        }
}

static void write_data(void) {
    FILE *tr = fopen(path_of("train.tsv"), "w"), *dv = fopen(path_of("dev.tsv"), "w");
    for (size_t i = 0; i < sizeof intents / sizeof intents[0]; i++) {
        write_intent(tr, &intents[i], 0, 6, NULL);   // 24 a class
        write_intent(dv, &intents[i], 6, 8, NULL);   // 8 held out
    }
    fclose(tr), fclose(dv);
    FILE *nw = fopen(path_of("timer.tsv"), "w"), *nd = fopen(path_of("timer_dev.tsv"), "w");
    write_intent(nw, &timer, 0, 4, NULL);            // 16 taught
    write_intent(nd, &timer, 4, 8, NULL);            // 16 to check
    fclose(nw), fclose(nd);
}

static slm_status train(const char *out, uint64_t seed, slm_error *err) {
    tr_classifier_params p = tr_classifier_default_params();
    p.preset = "test-tiny";
    p.train_path = path_of("train.tsv");
    p.dev_path = path_of("dev.tsv");
    p.out_path = out;
    p.epochs = 12;
    p.batch = 8;
    p.seed = seed;
    p.optim.lr = 3e-3f;
    p.ngram = (slm_ngram_cfg){.buckets = 2048, .word_max = 2, .char_min = 2, .char_max = 4};
    p.ngram_dim = 32;
    tr_classifier_result r;
    return tr_train_classifier(&p, &r, err);
}

// Texts and labels of a TSV file (static storage, for one call).
static int read_pairs(const char *name, const char **texts, const char **labels, int cap, tr_tsv *keep) {
    slm_error err;
    if (tr_tsv_read(path_of(name), keep, &err)) return 0;
    int n = keep->n < cap ? keep->n : cap;
    for (int i = 0; i < n; i++) texts[i] = keep->text[i], labels[i] = keep->label[i];
    return n;
}

// Accuracy of the learner on a TSV file.
static float accuracy(slm_learner *l, const char *name) {
    tr_tsv t;
    slm_error err;
    if (tr_tsv_read(path_of(name), &t, &err)) return -1.0f;
    int C = slm_learner_class_count(l), ok = 0;
    float *p = malloc((size_t)C * sizeof *p);
    for (int i = 0; i < t.n; i++) {
        if (slm_learner_classify(l, t.text[i], strlen(t.text[i]), p, NULL, &err)) continue;
        int best = 0;
        for (int c = 1; c < C; c++)
            if (p[c] > p[best]) best = c;
        ok += !strcmp(slm_learner_class_label(l, best), t.label[i]);
    }
    float acc = t.n ? (float)ok / t.n : 0.0f;
    free(p);
    tr_tsv_free(&t);
    return acc;
}

// The learner's state as bytes (compared to prove "bit for bit as before").
static void *state_of(slm_learner *l, size_t *n) {
    void *data = NULL;
    slm_error err;
    if (slm_learner_save_memory(l, &data, n, &err)) return NULL;
    return data;
}

static int same_bytes(const void *a, size_t na, const void *b, size_t nb) { return a && b && na == nb && !memcmp(a, b, na); }

static int holds(const void *data, size_t n, const char *s) {
    size_t k = strlen(s);
    for (size_t i = 0; data && i + k <= n; i++)
        if (!memcmp((const char *)data + i, s, k)) return 1;
    return 0;
}

// Teaches l four weather texts labelled `label` (wrong: the held-out weather
// examples would suffer); 1 if the learner's state is then bit for bit as before.
static int learn_wrong(slm_learner *l, const char *label, slm_learn_result *r, slm_error *err) {
    size_t n0 = 0, n1 = 0;
    void *s0 = state_of(l, &n0);
    FILE *f = fopen(path_of("wrong.tsv"), "w");
    write_intent(f, &intents[1], 0, 4, label);
    fclose(f);
    const char *texts[64], *labels[64];
    tr_tsv keep;
    int n = read_pairs("wrong.tsv", texts, labels, 64, &keep);
    memset(r, 0, sizeof *r);
    int st = slm_learn(l, texts, labels, n, r, err);
    void *s1 = state_of(l, &n1);
    int same = !st && same_bytes(s0, n0, s1, n1);
    free(s0), free(s1);
    tr_tsv_free(&keep);
    return same;
}

// ---- the tests ----------------------------------------------------------------------

static void test_fresh(slm_context *c, const slm_model *m) {
    slm_learner *l = NULL;
    slm_error err;
    CHECK(slm_learner_new(c, NULL, NULL, 0, &l, &err) == SLM_OK, "new: %s", err.message);
    if (!l) return;
    slm_model_info in;
    slm_model_get_info(m, &in);
    CHECK(slm_learner_class_count(l) == in.n_classes, "classes");
    const char *texts[] = {"turn on the kitchen lights", "will it snow in oslo", "zzz", "call grandma and play jazz"};
    int same = 1;
    float a[16], b[16];
    for (int i = 0; i < 4; i++) {
        slm_classify(c, texts[i], strlen(texts[i]), a, NULL, &err);
        slm_learner_classify(l, texts[i], strlen(texts[i]), b, NULL, &err);
        same &= !memcmp(a, b, (size_t)in.n_classes * sizeof(float));
    }
    CHECK(same, "before any update the learner gives slm_classify's bits");
    CHECK(slm_learner_classify(l, "   ", 3, b, NULL, &err) == SLM_ERR_INVALID_ARG, "blank text");
    slm_learner_free(l);
}

static void test_new_intent(slm_context *c) {
    slm_learner *l = NULL;
    slm_error err;
    slm_learner_new(c, NULL, NULL, 0, &l, &err);
    if (!l) return;
    float old_before = accuracy(l, "dev.tsv");
    const char *texts[64], *labels[64];
    tr_tsv keep;
    int n = read_pairs("timer.tsv", texts, labels, 64, &keep);
    slm_learn_result r;
    CHECK(slm_learn(l, texts, labels, n, &r, &err) == SLM_OK, "learn: %s", err.message);
    CHECK(r.accepted && r.new_classes == 1 && r.fit_after >= 0.9f, "accepted (%s), fit %.2f", r.reason, r.fit_after);
    CHECK(r.dev_accuracy_before >= 0.9f && r.dev_accuracy_after >= r.dev_accuracy_before - 0.01f, "held-out %.3f -> %.3f",
          r.dev_accuracy_before, r.dev_accuracy_after);
    CHECK(slm_learner_class_count(l) == 7 && !strcmp(slm_learner_class_label(l, 6), "timer"), "a class more");
    float new_acc = accuracy(l, "timer_dev.tsv"), old_after = accuracy(l, "dev.tsv");
    CHECK(new_acc >= 0.8f, "the new intent on unseen texts: %.3f", new_acc);
    CHECK(old_after >= old_before - 0.05f, "old intents %.3f -> %.3f", old_before, old_after);

    // the same again: nothing new to add, still accepted
    CHECK(slm_learn(l, texts, labels, n, &r, &err) == SLM_OK && r.accepted && r.new_classes == 0, "again: %s", r.reason);

    // the taught class has bag weights now: a refused update of it puts them back
    size_t n0 = 0;
    void *s0 = state_of(l, &n0);
    CHECK(holds(s0, n0, "slm360-learned.bag.classes"), "the state holds the taught class's bag weights");
    free(s0);
    int same = learn_wrong(l, "timer", &r, &err);
    CHECK(!r.accepted, "weather texts as timers refused");
    CHECK(same, "refused: the bag weights bit for bit as before");

    // save, load: the same classifier
    size_t n1 = 0, n2 = 0;
    void *s1 = state_of(l, &n1);
    slm_learner *l2 = NULL;
    CHECK(slm_learner_new(c, NULL, s1, n1, &l2, &err) == SLM_OK, "from state: %s", err.message);
    if (l2) {
        void *s2 = state_of(l2, &n2);
        CHECK(same_bytes(s1, n1, s2, n2), "a loaded state saves to the same bytes");
        free(s2);
        float a[8], b[8];
        slm_learner_classify(l, "start a timer for nine minutes", 30, a, NULL, &err);
        slm_learner_classify(l2, "start a timer for nine minutes", 30, b, NULL, &err);
        CHECK(!memcmp(a, b, sizeof a[0] * 7), "loaded: the same probabilities");
    }
    CHECK(slm_learner_save(l, path_of("state.gguf"), &err) == SLM_OK, "save: %s", err.message);
    slm_learner_free(l2);
    l2 = NULL;
    CHECK(slm_learner_load(c, NULL, path_of("state.gguf"), &l2, &err) == SLM_OK && slm_learner_class_count(l2) == 7,
          "load the file: %s", err.message);
    slm_learner_free(l2);
    CHECK(slm_learner_load(c, NULL, path_of("missing.gguf"), &l2, &err) == SLM_ERR_IO && !l2, "missing state file");
    free(s1);
    tr_tsv_free(&keep);
    slm_learner_free(l);
}

// Plain fine-tuning (no replay, no EWC, the guard off) sees only the new
// class's texts: its row takes over the old intents' texts too, which the
// defaults, on the same texts, do not let happen.
static void test_plain_forgets(slm_context *c) {
    const char *texts[64], *labels[64];
    tr_tsv keep;
    int n = read_pairs("timer.tsv", texts, labels, 64, &keep);
    float old[2] = {0};
    for (int plain = 0; plain < 2; plain++) {
        slm_learner *l = NULL;
        slm_error err;
        if (slm_learner_new(c, NULL, NULL, 0, &l, &err)) break;
        slm_learn_params p = slm_learn_default_params();
        if (plain) p.replay = 0, p.ewc_lambda = 0.0f;
        p.max_drop = p.max_class_drop = 1.0f, p.min_fit = 0.0f;
        slm_learner_set_params(l, &p);
        slm_learn_result r;
        CHECK(slm_learn(l, texts, labels, n, &r, &err) == SLM_OK && r.accepted, "%s: %s", plain ? "plain" : "defaults", r.reason);
        old[plain] = accuracy(l, "dev.tsv");
        slm_learner_free(l);
    }
    CHECK(old[1] < old[0] - 0.1f, "old intents after plain fine-tuning %.3f, with replay and EWC %.3f", old[1], old[0]);
    tr_tsv_free(&keep);
}

static void test_refusals(slm_context *c) {
    slm_learner *l = NULL;
    slm_error err;
    slm_learner_new(c, NULL, NULL, 0, &l, &err);
    if (!l) return;
    size_t n0, n1;
    void *s0 = state_of(l, &n0), *s1;
    slm_learn_result r;
    int same = learn_wrong(l, "music", &r, &err);
    CHECK(!r.accepted, "wrong labels refused");
    CHECK(strstr(r.reason, "weather") || strstr(r.reason, "held-out"), "the reason names it: %s", r.reason);
    CHECK(same, "refused: bit for bit as before");

    // contradictory labels within one batch cannot be learnt
    const char *ct[] = {"turn on the attic lights", "turn on the attic lights", "turn on the attic lights",
                        "turn on the attic lights"};
    const char *cl[] = {"lights", "music", "alarm", "call"};
    CHECK(slm_learn(l, ct, cl, 4, &r, &err) == SLM_OK && !r.accepted, "contradictions refused: %s", r.reason);
    s1 = state_of(l, &n1);
    CHECK(same_bytes(s0, n0, s1, n1) && slm_learner_class_count(l) == 6, "and nothing changed");
    free(s1);

    // bad input: an error, nothing changed
    const char *bt[] = {"fine text", "   "}, *bl[] = {"lights", "lights"}, *tab[] = {"a\tb"};
    CHECK(slm_learn(l, bt, bl, 2, &r, &err) == SLM_ERR_INVALID_ARG && strstr(err.message, "example 2"), "blank text: %s",
          err.message);
    CHECK(slm_learn(l, bt, tab, 1, &r, &err) == SLM_ERR_INVALID_ARG, "a label with a tab");
    CHECK(slm_learn(l, bt, bl, 0, &r, &err) == SLM_ERR_INVALID_ARG, "no examples");
    s1 = state_of(l, &n1);
    CHECK(same_bytes(s0, n0, s1, n1), "errors change nothing");
    free(s1);
    free(s0);
    slm_learner_free(l);
}

// Truncations and byte flips of a real state: errors or successes, never a crash.
static void test_hostile_states(slm_context *c, slm_context *other) {
    slm_learner *l = NULL;
    slm_error err;
    CHECK(slm_learner_load(c, NULL, path_of("state.gguf"), &l, &err) == SLM_OK, "load: %s", err.message);
    if (!l) return;
    size_t n;
    uint8_t *s = state_of(l, &n);
    slm_learner_free(l);
    slm_learner *x = NULL;
    CHECK(slm_learner_new(other, NULL, s, n, &x, &err) == SLM_ERR_INVALID_ARG && strstr(err.message, "another model"),
          "another model's state: %s", err.message);
    int errors = 0, oks = 0;
    for (size_t cut = 0; cut < n; cut += n / 97 + 1) {
        slm_status st = slm_learner_new(c, NULL, s, cut, &x, &err);
        errors += st != SLM_OK && !x;
        slm_learner_free(x);
        x = NULL;
    }
    CHECK(errors > 90, "truncated states are refused (%d)", errors);
    uint64_t rng = 7;
    for (int k = 0; k < 100; k++) {
        uint8_t *b = malloc(n);
        memcpy(b, s, n);
        for (int j = 0; j < 4; j++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            b[(rng >> 33) % n] ^= (uint8_t)(1u << (rng >> 60) % 8);
        }
        slm_status st = slm_learner_new(c, NULL, b, n, &x, &err);
        oks += st == SLM_OK;
        slm_learner_free(x);
        x = NULL;
        free(b);
    }
    CHECK(1, "100 corrupted states, none crashed (%d loaded)", oks);
    free(s);
}

// A model without stored examples (slm init --random): learning still works,
// without a held-out check.
static void test_no_stored(void) {
    slm_init_params ip = {"slm360-nano", 3, SLM_TYPE_Q8_0, NULL, NULL, NULL, NULL};
    slm_error err;
    slm_model *m = NULL;
    slm_context *c = NULL;
    slm_context_params cp = slm_context_default_params();
    cp.n_ctx = 64;
    CHECK(slm_init_random(&ip, path_of("random.gguf"), &err) == SLM_OK && slm_model_load_file(path_of("random.gguf"), 0, &m, &err) == SLM_OK &&
              slm_context_new(m, &cp, &c, &err) == SLM_OK,
          "random nano: %s", err.message);
    slm_learner *l = NULL;
    if (c) CHECK(slm_learner_new(c, NULL, NULL, 0, &l, &err) == SLM_OK, "learner: %s", err.message);
    if (l) {
        const char *t[] = {"hello there", "hi friend", "good morning"}, *y[] = {"greet", "greet", "greet"};
        slm_learn_result r;
        CHECK(slm_learn(l, t, y, 3, &r, &err) == SLM_OK && r.accepted && r.dev_accuracy_before == -1.0f,
              "learnt without held-out examples: %s", r.reason);
    }
    slm_learner_free(l);
    slm_context_free(c);
    slm_model_free(m);
}

int main(void) {
    if (!mkdtemp(dir)) return 1;
    write_data();
    slm_error err;
    CHECK(train(path_of("tiny.gguf"), 1, &err) == SLM_OK, "train: %s", err.message);
    CHECK(train(path_of("other.gguf"), 2, &err) == SLM_OK, "train another: %s", err.message);
    slm_quantize_params qp = slm_quantize_default_params(SLM_TYPE_Q8_0);
    CHECK(slm_quantize_file(path_of("tiny.gguf"), path_of("tiny-q8.gguf"), &qp, &err) == SLM_OK, "quantize: %s", err.message);
    slm_model *m = NULL, *mq = NULL, *mo = NULL;
    slm_context *c = NULL, *cq = NULL, *co = NULL;
    slm_context_params cp = slm_context_default_params();
    if (!slm_model_load_file(path_of("tiny.gguf"), 0, &m, &err)) slm_context_new(m, &cp, &c, &err);
    if (!slm_model_load_file(path_of("tiny-q8.gguf"), 0, &mq, &err)) slm_context_new(mq, &cp, &cq, &err);
    if (!slm_model_load_file(path_of("other.gguf"), 0, &mo, &err)) slm_context_new(mo, &cp, &co, &err);
    CHECK(c && cq && co, "models load: %s", err.message);
    if (c && cq && co) {
        test_fresh(c, m);
        test_new_intent(c);
        test_refusals(c);
        test_plain_forgets(c);
        test_hostile_states(c, co);
        test_new_intent(cq);   // quantizing keeps the stored examples
    }
    test_no_stored();
    slm_context_free(c), slm_context_free(cq), slm_context_free(co);
    slm_model_free(m), slm_model_free(mq), slm_model_free(mo);
    const char *files[] = {"train.tsv", "dev.tsv", "timer.tsv", "timer_dev.tsv", "wrong.tsv", "tiny.gguf", "other.gguf",
                           "tiny-q8.gguf", "state.gguf", "random.gguf"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) unlink(path_of(files[i]));
    rmdir(dir);
    TEST_END();
}
