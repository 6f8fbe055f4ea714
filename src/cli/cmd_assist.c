// slm assist: the 4-tier assistant on the command line, and its routing
// accuracy on a request set.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../weights-tools/train.h"
#include "cli.h"

#define N_OPTS(o) ((int)(sizeof o / sizeof o[0]))

static const char *help =
    "usage: slm assist --patterns FILE [-m NANO.gguf] [--decoder DEC.gguf] [--doc FILE] [options] \"request\"...\n"
    "       slm assist --patterns FILE -m NANO.gguf --eval FILE.tsv [--sweep] [--doc FILE]\n"
    "  answers each request from the cheapest confident tier (1 patterns, 2 nano, 3 retrieval,\n"
    "  4 decoder) and says which tier answered, the intent, the confidence and the time taken;\n"
    "  with --eval, the routing accuracy on text<TAB>intent lines: per tier, the pipeline, nano alone\n"
    "  --patterns FILE        the pattern file (tier 1; docs/PATTERNS.md)\n"
    "  -m, --model FILE       the nano encoder (tier 2, and tier 3's sentence embeddings)\n"
    "  --decoder FILE         the decoder (tier 4)\n"
    "  --doc FILE             the open document (UTF-8 text)\n"
    "  --cache FILE           confirmed requests (intent<TAB>request lines), read if it exists\n"
    "  --confirm INTENT       add the requests to the cache as INTENT and save it (needs --cache)\n"
    "  --intent NAME          the requests' intent is given (as the page's buttons do)\n"
    "  --threshold P          tier 2 answers at or above this probability (0.5)\n"
    "  --answer-threshold S   tier 3 answers a question when its best sentence scores this (0.25)\n"
    "  --embed-weight W       tier 3: share of the encoder's embeddings in sentence scores (0.2; 0: words only)\n"
    "  --tier N               force tier N (1-4)     --max-tier N   escalate no further (4)\n"
    "  --sweep                with --eval: the pipeline's accuracy for each threshold, and the best\n"
    "  -n N                   tokens to generate at tier 4 (128)   --temp T (0.8)   --seed S (42)\n"
    "  -t, --threads N        threads (1)\n";

static const char *tier_names[] = {"caller", "patterns", "nano", "retrieval", "decoder"};

typedef struct {
    slm_model *nano, *decoder;
    slm_context *enc, *dec;
    slm_assistant *a;
} models;

static void models_free(models *m) {
    slm_assistant_free(m->a);
    slm_context_free(m->enc);
    slm_context_free(m->dec);
    slm_model_free(m->nano);
    slm_model_free(m->decoder);
}

static int load(const char *path, int threads, slm_model **m, slm_context **c) {
    slm_error err;
    slm_context_params cp = slm_context_default_params();
    cp.n_threads = threads;
    if (slm_model_load_file(path, 0, m, &err) || slm_context_new(*m, &cp, c, &err)) return cli_fail(&err);
    return 0;
}

static int on_token(void *user, int32_t id, const char *text, int len) {
    (void)user, (void)id;
    fwrite(text, 1, (size_t)len, stdout);
    fflush(stdout);
    return cli_interrupted;
}

// Prints one answer; tier 4 generates it here.
static int show(models *m, const slm_answer *ans, const slm_generate_params *gp) {
    printf("tier %d (%s) · %s · confidence %.2f%s · %.3f ms\n", ans->tier, tier_names[ans->tier],
           *ans->intent ? ans->intent : "no intent", ans->confidence, ans->guessing ? " · guessing" : "", ans->ms);
    if (ans->text) return printf("%s\n\n", ans->text), 0;
    slm_error err;
    int n = slm_tokenize(m->decoder, ans->prompt, strlen(ans->prompt), 1, NULL, 0, &err);
    int32_t *ids = n > 0 ? malloc((size_t)n * sizeof *ids) : NULL;
    if (!ids) return n < 0 ? cli_fail(&err) : cli_usage_error("out of memory");
    slm_tokenize(m->decoder, ans->prompt, strlen(ans->prompt), 1, ids, n, &err);
    slm_generate_stats st;
    slm_context_rewind(m->dec, 0);
    slm_status s = slm_generate(m->dec, ids, n, gp, on_token, NULL, &st, &err);
    free(ids);
    printf("\n\n");
    fflush(stdout);
    if (s) return cli_fail(&err);
    fprintf(stderr, "[%d prompt tokens, first token after %.1f ms, %d generated]\n", st.prompt_tokens, st.prefill_ms,
            st.generated_tokens);
    return 0;
}

// ---- evaluation ------------------------------------------------------------------------

typedef struct {
    int n[5], right[5];         // requests whose intent each tier found, and how many right
    int unsure, unsure_right;   // no tier sure: the intent acted on
    int right_all, nano_right;  // the pipeline; the encoder's top class alone
} tally;

// Runs every request through the pipeline with the given threshold.
static int run_eval(models *m, const tr_tsv *t, slm_assistant_params p, tally *tl, double *ms1, double *ms2) {
    memset(tl, 0, sizeof *tl);
    slm_error err;
    for (int i = 0; i < t->n; i++) {
        slm_answer ans;
        if (slm_assistant_ask(m->a, t->text[i], strlen(t->text[i]), NULL, &p, &ans, &err)) return cli_fail(&err);
        int right = !strcmp(ans.intent, t->label[i]);
        tl->right_all += right;
        int sure = ans.intent_tier != SLM_TIER_NANO || ans.intent_confidence >= p.nano_threshold;
        if (!sure) tl->unsure++, tl->unsure_right += right;
        else tl->n[ans.intent_tier]++, tl->right[ans.intent_tier] += right;
        if (ms1) ms1[i] = ans.tier_ms[1], ms2[i] = ans.tier_ms[2];
        // the encoder alone: force tier 2, which reports its top class
        slm_assistant_params q = p;
        q.force_tier = SLM_TIER_NANO;
        if (slm_assistant_ask(m->a, t->text[i], strlen(t->text[i]), NULL, &q, &ans, &err)) return cli_fail(&err);
        tl->nano_right += !strcmp(ans.intent, t->label[i]);
    }
    return 0;
}

static double pct(int a, int b) { return b ? 100.0 * a / b : 0.0; }

static int eval(models *m, const char *path, const char *doc, slm_assistant_params p, int sweep) {
    tr_tsv t = {0};
    slm_error err;
    if (tr_tsv_read(path, &t, &err)) return cli_fail(&err);
    int rc = 0;
    if (sweep) {
        float best_t = 0.0f;
        int best = -1;
        printf("threshold  pipeline  answered by nano\n");
        for (int k = 0; k <= 19 && !rc; k++) {
            tally tl;
            p.nano_threshold = 0.05f * (float)k;
            if ((rc = run_eval(m, &t, p, &tl, NULL, NULL))) break;
            printf("%9.2f  %7.2f%%  %7.2f%%\n", p.nano_threshold, pct(tl.right_all, t.n), pct(tl.n[2], t.n));
            // ties: the highest threshold, which flags more guesses for the same accuracy
            if (tl.right_all >= best) best = tl.right_all, best_t = p.nano_threshold;
        }
        if (!rc) printf("best threshold %.2f: pipeline %.2f%%\n", best_t, pct(best, t.n));
        tr_tsv_free(&t);
        return rc;
    }
    double *ms1 = malloc((size_t)t.n * sizeof *ms1), *ms2 = malloc((size_t)t.n * sizeof *ms2);
    tally tl;
    if (!ms1 || !ms2) rc = cli_usage_error("out of memory");
    if (!rc) rc = run_eval(m, &t, p, &tl, ms1, ms2);
    if (!rc) {
        printf("requests      %s: %d, %s\n", path, t.n, doc ? "a document open" : "no document open");
        printf("tier 1        %4d (%5.1f%%) found by patterns:  %6.2f%% right   median %.4f ms\n", tl.n[1], pct(tl.n[1], t.n),
               pct(tl.right[1], tl.n[1]), cli_median(ms1, t.n));
        printf("tier 2        %4d (%5.1f%%) found by nano:      %6.2f%% right   median %.4f ms (threshold %.2f)\n",
               tl.n[2], pct(tl.n[2], t.n), pct(tl.right[2], tl.n[2]), cli_median(ms2, t.n), p.nano_threshold);
        printf("unsure        %4d (%5.1f%%) no tier sure:       %6.2f%% right   (%s)\n", tl.unsure, pct(tl.unsure, t.n),
               pct(tl.unsure_right, tl.unsure), doc ? "taken as questions about the document" : "the encoder's guess");
        printf("pipeline      %6.2f%% (%d of %d)\n", pct(tl.right_all, t.n), tl.right_all, t.n);
        printf("nano alone    %6.2f%% (%d of %d)\n", pct(tl.nano_right, t.n), tl.nano_right, t.n);
    }
    free(ms1);
    free(ms2);
    tr_tsv_free(&t);
    return rc;
}

// ---- the command -----------------------------------------------------------------------

static int open_assistant(models *m, const char *patterns, const char *nano, const char *decoder, const char *doc,
                          const slm_doc_params *dp, const char *cache, int threads) {
    size_t len = 0, dlen = 0;
    char *text = cli_read_file(patterns, &len);
    if (!text) return fprintf(stderr, "slm: error: %s: cannot read\n", patterns), EXIT_DATA;
    slm_error err;
    int rc = (nano && load(nano, threads, &m->nano, &m->enc)) || (decoder && load(decoder, threads, &m->decoder, &m->dec))
                 ? EXIT_DATA : 0;
    if (!rc && slm_assistant_new(text, len, patterns, m->enc, m->decoder, 0, &m->a, &err)) rc = cli_fail(&err);
    free(text);
    if (!rc && cache) {
        slm_cache *c;
        FILE *f = fopen(cache, "rb");
        if (f) fclose(f);
        if (f && slm_cache_load(cache, 1024, &c, &err)) rc = cli_fail(&err);
        else if (f) slm_assistant_set_cache(m->a, c);
    }
    if (!rc && doc) {
        char *d = cli_read_file(doc, &dlen);
        if (!d) return fprintf(stderr, "slm: error: %s: cannot read\n", doc), EXIT_DATA;
        if (slm_assistant_set_document(m->a, d, dlen, dp, &err)) rc = cli_fail(&err);
        free(d);
    }
    return rc;
}

int cmd_assist(int argc, char **argv) {
    const char *helpf = NULL, *patterns = NULL, *nano = NULL, *decoder = NULL, *doc = NULL, *cache = NULL,
               *confirm = NULL, *intent = NULL, *threshold = NULL, *answer_threshold = NULL, *tier = NULL,
               *max_tier = NULL, *embed_weight = NULL, *evalf = NULL, *sweep = NULL, *n_s = "128", *temp = "0.8", *seed = "42",
               *threads = "1", *pos[64];
    const cli_opt opts[] = {
        {"--help", "-h", 0, &helpf}, {"--patterns", NULL, 1, &patterns}, {"--model", "-m", 1, &nano},
        {"--decoder", NULL, 1, &decoder}, {"--doc", NULL, 1, &doc}, {"--cache", NULL, 1, &cache},
        {"--confirm", NULL, 1, &confirm}, {"--intent", NULL, 1, &intent}, {"--threshold", NULL, 1, &threshold},
        {"--answer-threshold", NULL, 1, &answer_threshold}, {"--tier", NULL, 1, &tier},
        {"--max-tier", NULL, 1, &max_tier}, {"--embed-weight", NULL, 1, &embed_weight}, {"--eval", NULL, 1, &evalf}, {"--sweep", NULL, 0, &sweep},
        {"-n", NULL, 1, &n_s}, {"--temp", NULL, 1, &temp}, {"--seed", NULL, 1, &seed},
        {"--threads", "-t", 1, &threads},
    };
    int n_pos = cli_parse(argc, argv, 2, opts, N_OPTS(opts), pos, 64);
    if (n_pos < 0) return EXIT_USAGE;
    if (helpf) return fputs(help, stdout), 0;
    if (!patterns || (!evalf && !n_pos)) return fputs(help, stderr), EXIT_USAGE;
    if (evalf && !nano) return cli_usage_error("--eval needs the encoder (-m)");
    if (confirm && !cache) return cli_usage_error("--confirm needs --cache FILE");

    slm_assistant_params p = slm_assistant_default_params();
    slm_generate_params gp = slm_generate_default_params();
    slm_doc_params dp = slm_doc_default_params();
    int n_threads;
    if ((threshold && cli_float(threshold, "--threshold", 0, 1, &p.nano_threshold)) ||
        (answer_threshold && cli_float(answer_threshold, "--answer-threshold", 0, 1, &p.answer_threshold)) ||
        (embed_weight && cli_float(embed_weight, "--embed-weight", 0, 1, &dp.embed_weight)) ||
        (tier && cli_int(tier, "--tier", 1, 4, &p.force_tier)) || (max_tier && cli_int(max_tier, "--max-tier", 1, 4, &p.max_tier)) ||
        cli_int(n_s, "-n", 0, 1 << 20, &gp.max_tokens) || cli_float(temp, "--temp", 0, 100, &gp.sampling.temperature) ||
        cli_u64(seed, "--seed", &gp.sampling.seed) || cli_int(threads, "--threads", 1, 256, &n_threads))
        return EXIT_USAGE;

    models m = {0};
    int rc = open_assistant(&m, patterns, nano, decoder, doc, &dp, cache, n_threads);
    if (!rc && m.dec) p.prompt_tokens = slm_context_size(m.dec) - gp.max_tokens;
    if (!rc && evalf) rc = eval(&m, evalf, doc, p, sweep != NULL);
    cli_catch_sigint();
    slm_error err;
    for (int i = 0; !rc && !evalf && i < n_pos && !cli_interrupted; i++) {
        slm_answer ans;
        if (confirm && slm_cache_add(slm_assistant_cache(m.a), pos[i], strlen(pos[i]), confirm, &err)) rc = cli_fail(&err);
        else if (slm_assistant_ask(m.a, pos[i], strlen(pos[i]), intent, &p, &ans, &err)) rc = cli_fail(&err);
        else rc = show(&m, &ans, &gp);
    }
    if (!rc && confirm && slm_cache_save(slm_assistant_cache(m.a), cache, &err)) rc = cli_fail(&err);
    models_free(&m);
    return rc ? rc : cli_interrupted ? EXIT_INTERRUPTED : 0;
}
