// slm classify: the top labels of a text, or an evaluation on a TSV file.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model.h"
#include "cli.h"

#define OOS "oos"   // CLINC150's out-of-scope label

static const char *help =
    "usage: slm classify -m MODEL [options] \"text\"\n"
    "       slm classify -m MODEL --eval FILE.tsv [options]\n"
    "  prints the top labels of the text with their probabilities; with --eval, the accuracy,\n"
    "  macro-F1, the worst classes and the latency per utterance on a file of text<TAB>label lines\n"
    "  -m, --model FILE       an encoder (slm360-encoder) GGUF\n"
    "  --state FILE           classify with what `slm learn` taught it (a learned state of this model)\n"
    "  --top K                labels to print (default 5)\n"
    "  --eval FILE            evaluate on a TSV file (text<TAB>label per line)\n"
    "  --oos-threshold P      predict \"" OOS "\" when the top probability is below P; in-scope accuracy\n"
    "                         and " OOS " recall are reported apart (CLINC150)\n"
    "  --worst N              classes to list, lowest F1 first (default 5)\n"
    "  -t, --threads N        threads (default 1)\n"
    "  -c, --ctx N            tokens read at most, longer texts are truncated (default: the model's)\n"
    "  --kernels NAME         scalar, avx2, avxvnni, avx512vnni, neon, wasm (default: best for this CPU)\n";

// Prints "slm: error: ..." and returns EXIT_DATA.
static int data_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int data_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "slm: error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return EXIT_DATA;
}

// The model's classifier, or the one a learner holds.
typedef struct {
    slm_context *c;
    slm_learner *l;     // NULL: the model's own
    const slm_model *m;
} classifier;

static slm_status classify(const classifier *cls, const char *text, float *probs, int *truncated, slm_error *err) {
    return cls->l ? slm_learner_classify(cls->l, text, strlen(text), probs, truncated, err)
                : slm_classify(cls->c, text, strlen(text), probs, truncated, err);
}

static int class_count(const classifier *cls) { return cls->l ? slm_learner_class_count(cls->l) : cls->m->info.n_classes; }

static const char *class_label(const classifier *cls, int i) {
    return cls->l ? slm_learner_class_label(cls->l, i) : slm_model_class_label(cls->m, i);
}

// ---- one text --------------------------------------------------------------------

static int top_labels(const classifier *cls, const char *text, int top) {
    int n = class_count(cls), truncated;
    float *probs = malloc((size_t)n * sizeof *probs);
    int *order = malloc((size_t)n * sizeof *order);
    slm_error err;
    int rc = 0;
    if (!probs || !order) rc = data_error("out of memory");
    else if (classify(cls, text, probs, &truncated, &err)) rc = cli_fail(&err);
    if (!rc && truncated)
        fprintf(stderr, "note: the text is longer than the context: its last %d tokens were not read\n", truncated);
    for (int i = 0; !rc && i < n; i++) order[i] = i;
    // partial selection sort: the top K, probability descending, class order on ties
    for (int i = 0; !rc && i < top && i < n; i++) {
        int best = i;
        for (int j = i + 1; j < n; j++)
            if (probs[order[j]] > probs[order[best]]) best = j;
        int tmp = order[i];
        order[i] = order[best];
        order[best] = tmp;
        printf("%.4f\t%s\n", probs[order[i]], class_label(cls, order[i]));
    }
    free(probs);
    free(order);
    return rc;
}

// ---- evaluation ------------------------------------------------------------------------

typedef struct {
    char *text;
    long line;
    int gold, pred;
} example;

typedef struct {
    char **names;           // model classes first, then the file's other labels
    int n, cap, n_model;
    int oos;                // index of the out-of-scope label, -1 if none
} labels;

static int label_index(labels *L, const char *name, int add) {
    for (int i = 0; i < L->n; i++)
        if (!strcmp(L->names[i], name)) return i;
    if (!add) return -1;
    if (L->n == L->cap) {
        int cap = L->cap ? 2 * L->cap : 64;
        char **names = realloc(L->names, (size_t)cap * sizeof *names);
        if (!names) return -1;
        L->names = names;
        L->cap = cap;
    }
    if (!(L->names[L->n] = strdup(name))) return -1;
    return L->n++;
}

// Reads every line of path as text<TAB>label; a malformed line is an error naming it.
static int read_tsv(const char *path, labels *L, example **out, int *n_out) {
    FILE *f = fopen(path, "rb");
    if (!f) return data_error("%s: cannot open", path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    example *ex = NULL;
    int n = 0, cap_ex = 0, rc = 0;
    for (long no = 1; !rc && (got = getline(&line, &cap, f)) >= 0; no++) {
        size_t len = (size_t)got;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (!len) continue;   // blank lines (a trailing one, say) carry nothing
        char *tab = strchr(line, '\t');
        const char *why = NULL;
        if (strlen(line) != len) why = "a NUL byte in the line";
        else if (!tab) why = "no tab: a line is text<TAB>label";
        else if (strchr(tab + 1, '\t')) why = "more than two columns: a line is text<TAB>label";
        else if (strspn(line, " \f\r\v") == (size_t)(tab - line)) why = "empty text";
        else if (!tab[1]) why = "empty label";
        if (why) {
            rc = data_error("%s:%ld: %s", path, no, why);
            break;
        }
        *tab = 0;
        if (n == cap_ex) {
            cap_ex = cap_ex ? 2 * cap_ex : 1024;
            example *e = realloc(ex, (size_t)cap_ex * sizeof *e);
            if (!e) { rc = EXIT_DATA; break; }
            ex = e;
        }
        ex[n].line = no;
        ex[n].gold = label_index(L, tab + 1, 1);
        ex[n].text = strdup(line);
        if (ex[n].gold < 0 || !ex[n].text) { free(ex[n].text); rc = EXIT_DATA; break; }
        n++;
    }
    if (!rc && ferror(f)) rc = data_error("%s: read error", path);
    if (!rc && n == 0) rc = data_error("%s: no examples", path);
    free(line);
    fclose(f);
    *out = ex;
    *n_out = n;
    return rc;
}

typedef struct {
    int tp, fp, fn, support;
    double f1, precision, recall;
} class_stats;

static const class_stats *sort_stats;   // for cmp_worst
static const labels *sort_labels;

// Lowest F1 first; then the larger support, then the name.
static int cmp_worst(const void *pa, const void *pb) {
    int a = *(const int *)pa, b = *(const int *)pb;
    const class_stats *x = &sort_stats[a], *y = &sort_stats[b];
    if (x->f1 != y->f1) return x->f1 < y->f1 ? -1 : 1;
    if (x->support != y->support) return x->support > y->support ? -1 : 1;
    return strcmp(sort_labels->names[a], sort_labels->names[b]);
}

// Per-class counts; macro-F1 over the labels of the file (a class the file
// never has scores no F1 of its own; its false positives cost the others recall).
static double score(const example *ex, int n, int n_labels, class_stats *s) {
    memset(s, 0, (size_t)n_labels * sizeof *s);
    for (int i = 0; i < n; i++) {
        s[ex[i].gold].support++;
        if (ex[i].pred == ex[i].gold) s[ex[i].gold].tp++;
        else s[ex[i].gold].fn++, s[ex[i].pred].fp++;
    }
    double sum = 0.0;
    int counted = 0;
    for (int k = 0; k < n_labels; k++) {
        class_stats *c = &s[k];
        c->precision = c->tp + c->fp ? (double)c->tp / (c->tp + c->fp) : 0.0;
        c->recall = c->support ? (double)c->tp / c->support : 0.0;
        c->f1 = c->precision + c->recall > 0.0 ? 2.0 * c->precision * c->recall / (c->precision + c->recall) : 0.0;
        if (c->support) sum += c->f1, counted++;
    }
    return counted ? sum / counted : 0.0;
}

// The worst classes by F1, each with what it is most often mistaken for.
static void print_worst(const example *ex, int n, const labels *L, const class_stats *s, int worst) {
    int *order = malloc((size_t)L->n * sizeof *order), *confused = calloc((size_t)L->n, sizeof *confused), k = 0;
    if (!order || !confused) { free(order); free(confused); return; }
    for (int i = 0; i < L->n; i++)
        if (s[i].support) order[k++] = i;
    sort_stats = s;
    sort_labels = L;
    qsort(order, (size_t)k, sizeof *order, cmp_worst);
    if (worst > k) worst = k;
    if (worst > 0) printf("worst classes (lowest F1 first):\n");
    for (int r = 0; r < worst; r++) {
        int c = order[r], top = -1;
        memset(confused, 0, (size_t)L->n * sizeof *confused);
        for (int i = 0; i < n; i++)
            if (ex[i].gold == c && ex[i].pred != c && ++confused[ex[i].pred] > (top < 0 ? 0 : confused[top])) top = ex[i].pred;
        printf("  %-28s F1 %.3f  precision %.3f  recall %.3f  support %d", L->names[c], s[c].f1, s[c].precision,
               s[c].recall, s[c].support);
        if (top >= 0) printf("  mistaken for %s (%d)", L->names[top], confused[top]);
        printf("\n");
    }
    free(order);
    free(confused);
}

static int evaluate(const classifier *cls, const char *path, float oos_threshold, int worst, int threads) {
    int n_model = class_count(cls);
    const slm_model *m = cls->m;
    labels L = {0};
    for (int i = 0; i < n_model; i++)
        if (label_index(&L, class_label(cls, i), 1) != i) return data_error("out of memory");
    L.n_model = n_model;
    L.oos = label_index(&L, OOS, oos_threshold > 0.0f);   // the threshold makes "oos" a label even if no class
    example *ex = NULL;
    int n = 0, rc = read_tsv(path, &L, &ex, &n);
    float *probs = malloc((size_t)n_model * sizeof *probs);
    double *ms = malloc((size_t)(n ? n : 1) * sizeof *ms);
    class_stats *s = NULL;
    if (!rc && (!probs || !ms)) rc = data_error("out of memory");

    // labels the model cannot predict: a wrong model for the file if no label is known
    int n_unknown = 0, known = 0;
    for (int i = 0; !rc && i < n; i++) {
        int g = ex[i].gold;
        if (g >= n_model && g != L.oos) n_unknown++;
        else known = 1;
    }
    if (!rc && !known) {
        rc = data_error("%s: none of its labels (%s%s) is a class of the model (%s%s)", path, L.names[n_model],
                        L.n > n_model + 1 ? ", ..." : "", L.names[0], n_model > 1 ? ", ..." : "");
    }

    long tokens = 0;
    int truncated = 0;
    slm_error err;
    if (!rc) classify(cls, ex[0].text, probs, NULL, &err);   // warm-up: pages in the weights
    cli_catch_sigint();
    for (int i = 0; !rc && i < n; i++) {
        if (cli_interrupted) { rc = EXIT_INTERRUPTED; break; }
        int cut;
        double t0 = slm_now_ms();
        if (classify(cls, ex[i].text, probs, &cut, &err)) {
            rc = data_error("%s:%ld: %s", path, ex[i].line, err.message);
            break;
        }
        ms[i] = slm_now_ms() - t0;
        truncated += cut > 0;
        tokens += slm_tokenize(m, ex[i].text, strlen(ex[i].text), 0, NULL, 0, &err) - cut;
        int best = 0;
        for (int k = 1; k < n_model; k++)
            if (probs[k] > probs[best]) best = k;
        ex[i].pred = L.oos >= 0 && probs[best] < oos_threshold ? L.oos : best;
        if (n >= 1000 && (i + 1) % (n / 20) == 0) cli_progress(NULL, "classifying", (double)(i + 1) / n);
    }
    if (!rc && !(s = malloc((size_t)L.n * sizeof *s))) rc = data_error("out of memory");

    if (!rc) {
        double macro_f1 = score(ex, n, L.n, s);
        int correct = 0, in_n = 0, in_ok = 0, oos_n = 0, oos_ok = 0;
        for (int i = 0; i < n; i++) {
            int ok = ex[i].pred == ex[i].gold;
            correct += ok;
            if (L.oos >= 0 && ex[i].gold == L.oos) oos_n++, oos_ok += ok;
            else in_n++, in_ok += ok;
        }
        int n_gold = 0;
        for (int k = 0; k < L.n; k++) n_gold += s[k].support > 0;
        printf("file          %s: %d examples, %d labels (the model has %d classes)\n", path, n, n_gold, n_model);
        printf("accuracy      %.4f (%d of %d)\n", (double)correct / n, correct, n);
        printf("macro-F1      %.4f (over the file's %d labels)\n", macro_f1, n_gold);
        if (oos_n) {
            printf("in-scope acc. %.4f (%d of %d)\n", in_n ? (double)in_ok / in_n : 0.0, in_ok, in_n);
            printf("%s recall    %.4f (%d of %d)%s\n", OOS, (double)oos_ok / oos_n, oos_ok, oos_n,
                   oos_threshold > 0.0f ? "" : " (no --oos-threshold: only a model class can predict it)");
        }
        double med = cli_median(ms, n);   // sorts ms
        int p95 = (int)(0.95 * (n - 1) + 0.5);
        printf("latency       median %.3f ms, p95 %.3f ms per utterance (%d thread%s, %s kernels, %.1f tokens on average)\n",
               med, ms[p95], threads, threads > 1 ? "s" : "",
               slm_context_kernels(cls->c), (double)tokens / n);
        print_worst(ex, n, &L, s, worst);
        if (n_unknown) {
            printf("unknown labels (not classes of the model; counted as errors):");
            for (int k = n_model, shown = 0; k < L.n; k++)
                if (k != L.oos && s[k].support && shown++ < 20) printf("%s %s (%d)", shown > 1 ? "," : "", L.names[k], s[k].support);
            printf("\n");
            if (L.oos < 0 && label_index(&L, OOS, 0) >= 0)
                printf("              (--oos-threshold P predicts \"%s\" when the top probability is below P)\n", OOS);
        }
        if (truncated)
            printf("truncated     %d example%s longer than the context (%d tokens): only their first tokens were read\n",
                   truncated, truncated > 1 ? "s" : "", slm_context_size(cls->c));
    }
    for (int i = 0; i < n; i++) free(ex[i].text);
    for (int i = 0; i < L.n; i++) free(L.names[i]);
    free(L.names);
    free(ex);
    free(probs);
    free(ms);
    free(s);
    return rc;
}

int cmd_classify(int argc, char **argv) {
    const char *model = NULL, *state = NULL, *top_s = "5", *eval = NULL, *oos_s = NULL, *worst_s = "5", *threads = "1",
               *ctx_s = "0", *kernels = NULL, *helpf = NULL, *pos[1];
    const cli_opt opts[] = {{"--model", "-m", 1, &model}, {"--state", NULL, 1, &state}, {"--top", NULL, 1, &top_s},
                            {"--eval", NULL, 1, &eval},
                            {"--oos-threshold", NULL, 1, &oos_s}, {"--worst", NULL, 1, &worst_s},
                            {"--threads", "-t", 1, &threads}, {"--ctx", "-c", 1, &ctx_s}, {"--kernels", NULL, 1, &kernels},
                            {"--help", "-h", 0, &helpf}};
    int n = cli_parse(argc, argv, 2, opts, (int)(sizeof opts / sizeof opts[0]), pos, 1);
    if (n < 0) return EXIT_USAGE;
    if (helpf || !model || (n == 1) == (eval != NULL)) return printf("%s", help), helpf ? 0 : EXIT_USAGE;
    int top, worst, nt, n_ctx;
    float oos = 0.0f;
    if (cli_int(top_s, "--top", 1, 1 << 20, &top) || cli_int(worst_s, "--worst", 0, 1 << 20, &worst) ||
        cli_int(threads, "--threads", 1, 256, &nt) || cli_int(ctx_s, "--ctx", 0, 1 << 20, &n_ctx) ||
        (oos_s && cli_float(oos_s, "--oos-threshold", 0.0, 1.0, &oos)))
        return EXIT_USAGE;
    slm_error err;
    slm_model *m;
    if (slm_model_load_file(model, 0, &m, &err)) return cli_fail(&err);
    if (!m->info.is_encoder) {
        int rc = data_error("%s: a decoder (%s); classify needs an encoder (slm360-encoder)", model, m->info.architecture);
        slm_model_free(m);
        return rc;
    }
    slm_context_params cp = slm_context_default_params();
    cp.n_ctx = n_ctx;
    cp.n_threads = nt;
    cp.kernels = kernels;
    slm_context *c;
    if (slm_context_new(m, &cp, &c, &err)) {
        slm_model_free(m);
        return cli_fail(&err);
    }
    classifier cls = {c, NULL, m};
    int rc = 0;
    if (state && slm_learner_load(c, NULL, state, &cls.l, &err)) rc = cli_fail(&err);
    if (!rc) rc = eval ? evaluate(&cls, eval, oos, worst, nt) : top_labels(&cls, pos[0], top);
    slm_learner_free(cls.l);
    slm_context_free(c);
    slm_model_free(m);
    return rc;
}
