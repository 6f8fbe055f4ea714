// slm score, perplexity, logits, bench.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model.h"
#include "cli.h"

#define HELP_OPT(var) {"--help", "-h", 0, &var}
#define N_OPTS(o) ((int)(sizeof o / sizeof o[0]))

static int open_model(const char *path, int n_ctx, int threads, const char *kernels, slm_model **m, slm_context **c) {
    slm_error err;
    *c = NULL;
    if (slm_model_load_file(path, 0, m, &err)) return cli_fail(&err);
    slm_context_params cp = slm_context_default_params();
    cp.n_ctx = n_ctx;
    cp.n_threads = threads;
    cp.kernels = kernels;
    if (slm_context_new(*m, &cp, c, &err)) {
        slm_model_free(*m);
        return cli_fail(&err);
    }
    return 0;
}

// ---- logits ----------------------------------------------------------------------

int cmd_logits(int argc, char **argv) {
    const char *model = NULL, *ids_s = NULL, *out = NULL, *threads = "1", *kernels = NULL, *top = "5", *helpf = NULL;
    const cli_opt opts[] = {{"--model", "-m", 1, &model}, {"--prompt-ids", NULL, 1, &ids_s}, {"--output", "-o", 1, &out},
                            {"--threads", "-t", 1, &threads}, {"--kernels", NULL, 1, &kernels}, {"--top", NULL, 1, &top},
                            HELP_OPT(helpf)};
    if (cli_parse(argc, argv, 2, opts, N_OPTS(opts), NULL, 0) < 0) return EXIT_USAGE;
    if (helpf || !model || !ids_s)
        return printf("usage: slm logits -m MODEL --prompt-ids \"1 2 3\" [-o OUT.f32] [-t N] [--kernels NAME] [--top K]\n"
                      "  feeds the ids teacher-forced in one pass and writes every position's logits:\n"
                      "  with -o, raw little-endian float32, positions x vocabulary; else each position's top K\n"),
               helpf ? 0 : EXIT_USAGE;
    int nt, k_top, n = 0;
    int32_t *ids = NULL;
    if (cli_int(threads, "--threads", 1, 256, &nt) || cli_int(top, "--top", 1, 100, &k_top) || cli_parse_ids(ids_s, &ids, &n))
        return EXIT_USAGE;
    if (!n) { free(ids); return cli_usage_error("--prompt-ids: no ids"); }
    slm_model *m;
    slm_context *c;
    int rc = open_model(model, 0, nt, kernels, &m, &c);
    if (rc) { free(ids); return rc; }
    int V = m->info.vocab_size;
    float *logits = malloc((size_t)n * V * sizeof *logits);
    slm_error err;
    if (!logits) rc = cli_usage_error("out of memory for %d x %d logits", n, V);
    else if (slm_eval(c, ids, n, logits, 1, &err)) rc = cli_fail(&err);
    else if (out) {
        FILE *f = fopen(out, "wb");
        int ok = f && fwrite(logits, sizeof *logits, (size_t)n * V, f) == (size_t)n * V;
        if (f && fclose(f)) ok = 0;
        if (!ok) rc = (fprintf(stderr, "slm: error: %s: cannot write\n", out), EXIT_DATA);
        else fprintf(stderr, "%d positions x %d logits -> %s\n", n, V, out);
    } else {
        for (int t = 0; t < n; t++) {
            const float *l = logits + (size_t)t * V;
            printf("%d (id %d):", t, ids[t]);
            int shown[100];
            for (int j = 0; j < k_top && j < V; j++) {   // the next best each time: K is small
                int best = -1;
                for (int v = 0; v < V; v++) {
                    int taken = 0;
                    for (int q = 0; q < j; q++) taken |= shown[q] == v;
                    if (!taken && (best < 0 || l[v] > l[best])) best = v;
                }
                shown[j] = best;
                printf(" %d %.4f", best, l[best]);
            }
            printf("\n");
        }
    }
    free(logits);
    free(ids);
    slm_context_free(c);
    slm_model_free(m);
    return rc;
}

// ---- score -----------------------------------------------------------------------

int cmd_score(int argc, char **argv) {
    const char *model = NULL, *context = NULL, *choices = NULL, *threads = "1", *helpf = NULL;
    const cli_opt opts[] = {{"--model", "-m", 1, &model}, {"--context", NULL, 1, &context}, {"--choices", NULL, 1, &choices},
                            {"--threads", "-t", 1, &threads}, HELP_OPT(helpf)};
    if (cli_parse(argc, argv, 2, opts, N_OPTS(opts), NULL, 0) < 0) return EXIT_USAGE;
    if (helpf || !model || !context || !choices)
        return printf("usage: slm score -m MODEL --context TEXT --choices \"A|B|C\" [-t N]\n"
                      "  prints each continuation's log-likelihood (natural log), its per-token mean, and the ranking\n"),
               helpf ? 0 : EXIT_USAGE;
    int nt;
    if (cli_int(threads, "--threads", 1, 256, &nt)) return EXIT_USAGE;
    // split choices on '|'
    char *buf = strdup(choices);
    const char *list[256];
    int n = 0;
    for (char *s = buf, *bar; buf && n < 256; s = bar + 1) {
        list[n++] = s;
        if (!(bar = strchr(s, '|'))) break;
        *bar = 0;
    }
    slm_model *m;
    slm_context *c;
    int rc = buf ? open_model(model, 0, nt, NULL, &m, &c) : EXIT_DATA;
    if (rc) { free(buf); return rc; }
    double ll[256];
    int ntok[256];
    slm_error err;
    if (slm_score(c, context, list, n, ll, ntok, &err)) rc = cli_fail(&err);
    for (int i = 0; i < n && !rc; i++)
        printf("%d\t%.4f\t%d tokens\t%.4f per token\t\"%s\"\n", i, ll[i], ntok[i], ll[i] / ntok[i], list[i]);
    if (!rc) {
        int best = 0, best_norm = 0;
        for (int i = 1; i < n; i++) {
            if (ll[i] > ll[best]) best = i;
            if (ll[i] / ntok[i] > ll[best_norm] / ntok[best_norm]) best_norm = i;
        }
        printf("best: %d \"%s\" (per-token best: %d)\n", best, list[best], best_norm);
    }
    slm_context_free(c);
    slm_model_free(m);
    free(buf);
    return rc;
}

// ---- perplexity --------------------------------------------------------------------

int cmd_perplexity(int argc, char **argv) {
    const char *model = NULL, *file = NULL, *ctx = "256", *chunks = "0", *threads = "1", *helpf = NULL;
    const cli_opt opts[] = {{"--model", "-m", 1, &model}, {"--file", "-f", 1, &file}, {"--ctx", "-c", 1, &ctx},
                            {"--chunks", NULL, 1, &chunks}, {"--threads", "-t", 1, &threads}, HELP_OPT(helpf)};
    if (cli_parse(argc, argv, 2, opts, N_OPTS(opts), NULL, 0) < 0) return EXIT_USAGE;
    if (helpf || !model || !file)
        return printf("usage: slm perplexity -m MODEL -f TEXT [--ctx 256] [--chunks N] [-t N]\n"
                      "  llama.cpp's method: chunks of --ctx tokens starting with BOS, second half of each scored\n"),
               helpf ? 0 : EXIT_USAGE;
    int n_ctx, n_chunks, nt;
    if (cli_int(ctx, "--ctx", 4, 1 << 20, &n_ctx) || cli_int(chunks, "--chunks", 0, 1 << 30, &n_chunks) ||
        cli_int(threads, "--threads", 1, 256, &nt))
        return EXIT_USAGE;
    size_t len;
    char *text = cli_read_file(file, &len);
    if (!text) return fprintf(stderr, "slm: error: %s: cannot read\n", file), EXIT_DATA;
    slm_model *m;
    slm_context *c;
    int rc = open_model(model, n_ctx, nt, NULL, &m, &c);
    if (rc) { free(text); return rc; }
    slm_perplexity_result r;
    slm_error err;
    double t0 = slm_now_ms();
    if (slm_perplexity(c, text, len, n_ctx, n_chunks, cli_progress, NULL, &r, &err)) rc = cli_fail(&err);
    else
        printf("perplexity %.4f +/- %.4f (%d chunks of %d, %d tokens scored, %.1f s)\n", r.ppl, r.ppl_stderr, r.n_chunks,
               n_ctx, r.n_scored, (slm_now_ms() - t0) / 1e3);
    slm_context_free(c);
    slm_model_free(m);
    free(text);
    return rc;
}

// ---- bench -----------------------------------------------------------------------

// Resident and peak resident memory in MB, from /proc (Linux); 0 elsewhere.
static void rss_mb(double *rss, double *peak) {
    *rss = *peak = 0.0;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        long kb;
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) *rss = kb / 1024.0;
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) *peak = kb / 1024.0;
    }
    fclose(f);
}

// Starts a new peak: each --threads run reports its own high-water mark, not
// the largest of the runs before it (Linux; a no-op elsewhere).
static void rss_reset_peak(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return;
    fputs("5", f);
    fclose(f);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct {
    double prefill_ms, decode_ms_per_token, rss_mb, peak_mb, kv_mb;
    const char *kernels;  // the backend that ran ("best" resolved)
} bench_result;

static slm_status bench_one(slm_model *m, int n_prompt, int n_gen, int threads, int reps, const char *kernels,
                            bench_result *r, slm_error *err) {
    slm_model_info in;
    slm_model_get_info(m, &in);
    slm_context_params cp = slm_context_default_params();
    cp.n_ctx = n_prompt + n_gen;
    cp.n_threads = threads;
    cp.kernels = kernels;
    rss_reset_peak();
    slm_context *c;
    slm_status st = slm_context_new(m, &cp, &c, err);
    if (st) return st;
    r->kernels = slm_context_kernels(c);
    int32_t *ids = malloc((size_t)(n_prompt + n_gen) * sizeof *ids);
    float *logits = malloc((size_t)in.vocab_size * sizeof *logits);
    double *pre = malloc((size_t)(reps + 1) * sizeof(double)), *dec = malloc((size_t)(reps + 1) * sizeof(double));
    if (!ids || !logits || !pre || !dec) st = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    uint64_t s = 0x1234567;
    for (int i = 0; !st && i < n_prompt + n_gen; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        ids[i] = (int32_t)((s >> 33) % (uint64_t)in.vocab_size);
    }
    // rep 0 warms up (pages in the weights); the rest are measured
    for (int rep = 0; !st && rep <= reps && !cli_interrupted; rep++) {
        slm_context_rewind(c, 0);
        double t0 = slm_now_ms();
        st = slm_eval(c, ids, n_prompt, logits, 0, err);
        double t1 = slm_now_ms();
        for (int i = 0; !st && i < n_gen; i++) st = slm_eval(c, ids + n_prompt + i, 1, logits, 0, err);
        double t2 = slm_now_ms();
        pre[rep] = t1 - t0;
        dec[rep] = n_gen ? (t2 - t1) / n_gen : 0.0;
    }
    if (!st) {
        r->prefill_ms = median(pre + 1, reps);
        r->decode_ms_per_token = median(dec + 1, reps);
        r->kv_mb = 2.0 * in.n_layers * cp.n_ctx * in.n_kv_heads * in.head_dim * sizeof(float) / (1024.0 * 1024.0);
        rss_mb(&r->rss_mb, &r->peak_mb);
    }
    free(ids);
    free(logits);
    free(pre);
    free(dec);
    slm_context_free(c);
    return st;
}

int cmd_bench(int argc, char **argv) {
    const char *model = NULL, *np = "128", *ng = "128", *threads = "1", *reps_s = "3", *kernels = NULL, *json = NULL, *helpf = NULL;
    const cli_opt opts[] = {{"--model", "-m", 1, &model}, {"--prompt", "-p", 1, &np}, {"--gen", "-n", 1, &ng},
                            {"--threads", "-t", 1, &threads}, {"--reps", "-r", 1, &reps_s}, {"--kernels", NULL, 1, &kernels},
                            {"--json", NULL, 0, &json}, HELP_OPT(helpf)};
    if (cli_parse(argc, argv, 2, opts, N_OPTS(opts), NULL, 0) < 0) return EXIT_USAGE;
    if (helpf || !model)
        return printf("usage: slm bench -m MODEL [-p 128] [-n 128] [--threads 1,2] [--reps 3] [--kernels NAME] [--json]\n"
                      "  prefill time of -p tokens, decode ms/token over -n tokens (medians of --reps runs after a\n"
                      "  warm-up), resident memory against model file + KV cache\n"),
               helpf ? 0 : EXIT_USAGE;
    int n_prompt, n_gen, reps;
    if (cli_int(np, "-p", 1, 1 << 20, &n_prompt) || cli_int(ng, "-n", 0, 1 << 20, &n_gen) ||
        cli_int(reps_s, "--reps", 1, 1000, &reps))
        return EXIT_USAGE;
    slm_error err;
    slm_model *m;
    if (slm_model_load_file(model, 0, &m, &err)) return cli_fail(&err);
    slm_model_info in;
    slm_model_get_info(m, &in);
    if (n_prompt + n_gen > in.context_length) {
        slm_model_free(m);
        return cli_usage_error("-p + -n = %d exceeds the model's context length %d", n_prompt + n_gen, in.context_length);
    }
    double file_mb = (double)m->size / (1024.0 * 1024.0);
    if (!json)
        printf("model %s: %s, %.1f M params, %.1f MiB file, mostly %s\n%-8s %-7s %12s %10s %14s %10s %10s %10s\n", model,
               in.name, in.n_params / 1e6, file_mb, slm_type_name(in.weight_type), "threads", "kernels", "prefill ms",
               "tok/s", "decode ms/tok", "tok/s", "RSS MiB", "over MiB");
    cli_catch_sigint();
    int rc = 0;
    for (const char *t = threads; *t && !rc;) {
        int nt;
        char item[16];
        size_t k = strcspn(t, ",");
        snprintf(item, sizeof item, "%.*s", (int)(k < 15 ? k : 15), t);
        t += k + (t[k] == ',');
        if (cli_int(item, "--threads", 1, 256, &nt)) { rc = EXIT_USAGE; break; }
        bench_result r;
        if (bench_one(m, n_prompt, n_gen, nt, reps, kernels, &r, &err)) { rc = cli_fail(&err); break; }
        const char *kname = r.kernels;
        // memory over budget: peak resident minus (weights file + KV cache)
        double over = r.peak_mb - file_mb - r.kv_mb;
        if (json)
            printf("{\"model\":\"%s\",\"threads\":%d,\"kernels\":\"%s\",\"n_prompt\":%d,\"n_gen\":%d,\"prefill_ms\":%.3f,"
                   "\"decode_ms_per_token\":%.4f,\"peak_rss_mib\":%.1f,\"file_mib\":%.1f,\"kv_mib\":%.1f}\n",
                   model, nt, kname, n_prompt, n_gen, r.prefill_ms, r.decode_ms_per_token, r.peak_mb, file_mb, r.kv_mb);
        else
            printf("%-8d %-7s %12.1f %10.1f %14.3f %10.1f %10.1f %10.1f\n", nt, kname, r.prefill_ms,
                   n_prompt / (r.prefill_ms / 1e3), r.decode_ms_per_token,
                   r.decode_ms_per_token > 0 ? 1e3 / r.decode_ms_per_token : 0.0, r.peak_mb, over);
        fflush(stdout);
    }
    if (!json && !rc && strchr(threads, ','))
        printf("(memory after the first row includes what the allocator kept from the rows before: run one\n"
               " --threads value for its exact figure)\n");
    slm_model_free(m);
    return rc;
}
