// slm: the command line. Each subcommand lives in its own cmd_*.c file.
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"generate", cmd_generate, "generate text from a prompt (streams tokens)"},
    {"score", cmd_score, "rank continuations of a context by log-likelihood"},
    {"perplexity", cmd_perplexity, "perplexity of a model on a text file"},
    {"logits", cmd_logits, "every position's logits for given token ids (to compare engines)"},
    {"tokenize", cmd_tokenize, "print the token ids of a text"},
    {"info", cmd_info, "architecture, shapes, tensor types and sizes, vocabulary"},
    {"bench", cmd_bench, "prefill and decode speed, memory"},
    {"import-llama2c", cmd_import_llama2c, "convert a llama2.c checkpoint to GGUF"},
    {"quantize", cmd_quantize, "convert a GGUF model to Q4_0, Q8_0, F16 or F32"},
    {"init", cmd_init, "write a model of a preset shape with random weights"},
    {"classify", cmd_classify, "classify a text with an encoder, or evaluate one on a TSV file"},
    {"train-classifier", cmd_train_classifier, "train an encoder classifier on TSV data"},
    {"learn", cmd_learn, "teach an encoder labelled texts on the device, without forgetting"},
    {"train-tokenizer", cmd_train_tokenizer, "learn a BPE vocabulary from text files"},
    {"assist", cmd_assist, "the 4-tier assistant: answer requests, or measure its routing"},
};

static void usage(FILE *f) {
    fprintf(f, "slm360 %s: on-device small language models\n\nusage: slm <command> [options]\n\n", SLM_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-15s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n`slm <command> --help` lists a command's options.\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("slm360 %s\n", SLM_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc, argv);
    fprintf(stderr, "slm: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}

// ---- shared helpers --------------------------------------------------------------

int cli_usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "slm: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return EXIT_USAGE;
}

int cli_fail(const slm_error *err) {
    fprintf(stderr, "slm: error: %s\n", err->message);
    return EXIT_DATA;
}

int cli_parse(int argc, char **argv, int first, const cli_opt *opts, int n_opts, const char **pos, int max_pos) {
    int n_pos = 0;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !a[1] || !strcmp(a, "--")) {
            if (!strcmp(a, "--") && i + 1 < argc) a = argv[++i];
            if (n_pos == max_pos) return cli_usage_error("unexpected argument '%s'", a), -1;
            pos[n_pos++] = a;
            continue;
        }
        int k = 0;
        while (k < n_opts && strcmp(a, opts[k].name) && !(opts[k].alias && !strcmp(a, opts[k].alias))) k++;
        if (k == n_opts) return cli_usage_error("unknown option '%s' (see --help)", a), -1;
        if (!opts[k].takes_value) { *opts[k].value = "1"; continue; }
        if (i + 1 >= argc) return cli_usage_error("option %s needs a value", a), -1;
        *opts[k].value = argv[++i];
    }
    return n_pos;
}

int cli_int(const char *s, const char *what, long lo, long hi, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return cli_usage_error("%s: '%s' is not an integer in [%ld, %ld]", what, s, lo, hi), -1;
    *out = (int)v;
    return 0;
}

int cli_float(const char *s, const char *what, double lo, double hi, float *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return cli_usage_error("%s: '%s' is not a number in [%g, %g]", what, s, lo, hi), -1;
    *out = (float)v;
    return 0;
}

int cli_u64(const char *s, const char *what, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-') return cli_usage_error("%s: '%s' is not a non-negative integer", what, s), -1;
    *out = v;
    return 0;
}

char *cli_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n == cap) {
            char *b = realloc(buf, (cap = cap ? 2 * cap : 1 << 16) + 1);
            if (!b) { free(buf); fclose(f); return NULL; }
            buf = b;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

double cli_median(double *v, int n) {
    if (n <= 0) return 0.0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// A bar redrawn in place on a terminal; in a log (not a tty) a line per 10%.
void cli_progress(void *user, const char *stage, double fraction) {
    (void)user;
    static int last_pct = -1;
    int pct = (int)(fraction * 100.0), width = 30, fill = (int)(fraction * width + 0.5);
    int tty = isatty(fileno(stderr));
    if (pct < last_pct) last_pct = -1;   // a new operation
    if (tty ? pct == last_pct : pct / 10 == last_pct / 10 && last_pct >= 0) return;
    last_pct = pct;
    if (!tty) {
        fprintf(stderr, "%s: %d%%\n", stage, pct);
        return;
    }
    fprintf(stderr, "\r%-12s [", stage);
    for (int i = 0; i < width; i++) fputc(i < fill ? '#' : ' ', stderr);
    fprintf(stderr, "] %3d%%%s", pct, fraction >= 1.0 ? "\n" : "");
    fflush(stderr);
}

void cli_note(void *user, const char *note) {
    (void)user;
    fprintf(stderr, "note: %s\n", note);
}

volatile sig_atomic_t cli_interrupted;

static void on_sigint(int sig) {
    (void)sig;
    cli_interrupted = 1;
}

void cli_catch_sigint(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

int cli_parse_ids(const char *s, int32_t **out, int *n) {
    int cap = 16;
    int32_t *ids = malloc((size_t)cap * sizeof *ids);
    *n = 0;
    while (ids) {
        while (*s == ' ' || *s == ',' || *s == '\t') s++;
        if (!*s) break;
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 0 || v > INT32_MAX) {
            free(ids);
            return cli_usage_error("--prompt-ids: '%s' is not a list of token ids", s), -1;
        }
        if (*n == cap) {
            int32_t *b = realloc(ids, (size_t)(cap *= 2) * sizeof *ids);
            if (!b) { free(ids); ids = NULL; break; }
            ids = b;
        }
        ids[(*n)++] = (int32_t)v;
        s = end;
    }
    if (!ids) return cli_usage_error("out of memory"), -1;
    *out = ids;
    return 0;
}
