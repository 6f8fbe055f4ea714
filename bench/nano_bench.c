// Encoder speed: milliseconds per classification (slm_classify: tokenize,
// the 6 bidirectional layers, pooling, n-grams, classifier) of one utterance
// of exactly --tokens tokens on slm360-nano models, one thread by default.
// The models take turns, one classification each, so that all of them see
// the same machine noise; medians of --reps runs after a warm-up.
//
// Build (after `make`) and run:
//   cc -O2 -std=c11 -ffp-contract=off -D_POSIX_C_SOURCE=200809L -Isrc bench/nano_bench.c
//      build/libslm.a -lm -lpthread -o build/nano_bench
//   build/nano_bench [--tokens 16] [--reps 3000] [--threads 1] [--kernels NAME] [MODEL.gguf...]
// Without models it makes build/bench/nano-q4_0.gguf and nano-f32.gguf
// (`slm init --preset slm360-nano --random`).
//
//   build/nano_bench --causal OUT.gguf
// writes the nano's shape as a llama (causal decoder) file, Q4_0 like the
// encoder, for llama.cpp to run the same layers (bench/llama_cpp.mjs).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../weights-tools/wtools.h"
#include "model.h"

#define MAX_MODELS 8

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double quantile(double *v, int n, double q) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[(int)(q * (n - 1) + 0.5)];
}

// Words appended until the text has exactly `tokens` tokens (single
// letters, one token each in any vocabulary with byte fallback or letters,
// fill the last gap).
static int make_utterance(const slm_model *m, int tokens, char *text, size_t cap) {
    static const char *words[] = {"please", "set", "an", "alarm", "for", "seven", "tomorrow", "morning", "and",
                                  "remind", "me", "to", "call", "my", "mother", "about", "the", "dinner", "on",
                                  "friday", "evening", "at", "her", "place", "near", "station"};
    text[0] = 0;
    int n = 0;
    for (size_t w = 0; n < tokens; w++) {
        size_t len = strlen(text);
        const char *word = w < sizeof words / sizeof words[0] ? words[w] : "a";
        snprintf(text + len, cap - len, "%s%s", len ? " " : "", word);
        n = slm_tokenize(m, text, strlen(text), 0, NULL, 0, NULL);
        if (n > tokens) {   // too far: back off, then single letters
            text[len] = 0;
            for (; n != tokens && strlen(text) + 3 < cap;) {
                len = strlen(text);
                snprintf(text + len, cap - len, len ? " a" : "a");
                n = slm_tokenize(m, text, strlen(text), 0, NULL, 0, NULL);
                if (n > tokens) return -1;
            }
        }
    }
    return n;
}

// The nano's layers as a llama decoder with random weights.
static int write_causal(const char *path) {
    const char *src = "build/bench/nano-q4_0.gguf";
    slm_model *v;
    slm_error err;
    if (slm_model_load_file(src, SLM_LOAD_VOCAB_ONLY, &v, &err)) return fprintf(stderr, "%s (run without --causal first)\n", err.message), 1;
    wt_model m = {.name = "slm360-nano layers as a causal decoder"};
    m.cfg = (slm_model_info){.dim = 256, .n_layers = 6, .n_heads = 8, .n_kv_heads = 4, .head_dim = 32, .ffn_dim = 682,
                             .vocab_size = v->info.vocab_size, .context_length = 512, .rope_theta = 10000.0f, .norm_eps = 1e-5f};
    uint64_t s = 1;
    const char *names[] = {"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"};
    int rows[] = {0, 256, 128, 128, 256, 0, 682, 682, 256}, cols[] = {256, 256, 256, 256, 256, 256, 256, 256, 682};
    for (int l = -1; l < 7; l++)
        for (int k = 0; k < (l < 0 || l == 6 ? 1 : 9); k++) {
            char name[64];
            int r = rows[k], c = cols[k];
            if (l < 0) snprintf(name, sizeof name, "token_embd.weight"), r = m.cfg.vocab_size;
            else if (l == 6) snprintf(name, sizeof name, "output_norm.weight"), r = 0;
            else snprintf(name, sizeof name, "blk.%d.%s.weight", l, names[k]);
            float *p = wt_add(&m, name, r, c);
            for (size_t i = 0; p && i < (size_t)(r ? r : 1) * c; i++) {
                s = s * 6364136223846793005ull + 1442695040888963407ull;
                p[i] = r ? ((float)(s >> 40) / 16777216.0f - 0.5f) * 0.07f : 1.0f;
            }
        }
    gguf_writer *w = gguf_writer_new();
    slm_quantize_params qp = slm_quantize_default_params(SLM_TYPE_Q4_0);
    qp.embd_type = SLM_TYPE_Q4_0;
    int rc = wt_copy_tokenizer(w, &v->gguf) || wt_write(w, &m, &qp, path, &err);
    if (rc) fprintf(stderr, "%s\n", err.message);
    else fprintf(stderr, "wrote %s\n", path);
    gguf_writer_free(w);
    wt_free(&m);
    slm_model_free(v);
    return rc != 0;
}

static int make_default_models(const char **paths) {
    static const char *const def[2] = {"build/bench/nano-q4_0.gguf", "build/bench/nano-f32.gguf"};
    slm_type types[2] = {SLM_TYPE_Q4_0, SLM_TYPE_F32};
    mkdir("build/bench", 0755);
    for (int i = 0; i < 2; i++) {
        struct stat st;
        paths[i] = def[i];
        if (!stat(def[i], &st)) continue;
        slm_init_params p = {.preset = "slm360-nano", .seed = 1, .type = types[i]};
        slm_error err;
        if (slm_init_random(&p, def[i], &err)) return fprintf(stderr, "%s\n", err.message), -1;
    }
    return 2;
}

int main(int argc, char **argv) {
    int tokens = 16, reps = 3000, threads = 1, n_models = 0;
    const char *kernels = NULL, *paths[MAX_MODELS];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--tokens") && i + 1 < argc) tokens = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--kernels") && i + 1 < argc) kernels = argv[++i];
        else if (!strcmp(argv[i], "--causal") && i + 1 < argc) return write_causal(argv[++i]);
        else if (argv[i][0] != '-' && n_models < MAX_MODELS) paths[n_models++] = argv[i];
        else return fprintf(stderr, "usage: %s [--tokens 16] [--reps 3000] [--threads 1] [--kernels NAME] [MODEL.gguf...]\n"
                                    "       %s --causal OUT.gguf\n", argv[0], argv[0]), 1;
    }
    if (tokens < 1 || reps < 1 || threads < 1) return fprintf(stderr, "bad --tokens, --reps or --threads\n"), 1;
    if (!n_models && (n_models = make_default_models(paths)) < 0) return 1;

    slm_model *m[MAX_MODELS] = {0};
    slm_context *c[MAX_MODELS] = {0};
    char text[MAX_MODELS][1024];
    double *ms[MAX_MODELS] = {0};
    slm_error err;
    for (int i = 0; i < n_models; i++) {
        slm_context_params cp = slm_context_default_params();
        cp.n_threads = threads;
        cp.kernels = kernels;
        if (slm_model_load_file(paths[i], 0, &m[i], &err) || slm_context_new(m[i], &cp, &c[i], &err))
            return fprintf(stderr, "%s\n", err.message), 1;
        if (make_utterance(m[i], tokens, text[i], sizeof text[i]) != tokens)
            return fprintf(stderr, "%s: cannot make a text of %d tokens\n", paths[i], tokens), 1;
        if (!(ms[i] = malloc((size_t)reps * sizeof *ms[i]))) return 1;
    }
    float probs[4096];
    for (int r = -reps / 10 - 1; r < reps; r++)   // the first tenth warms up
        for (int i = 0; i < n_models; i++) {
            double t0 = slm_now_ms();
            if (slm_classify(c[i], text[i], strlen(text[i]), probs, NULL, &err)) return fprintf(stderr, "%s\n", err.message), 1;
            if (r >= 0) ms[i][r] = slm_now_ms() - t0;
        }
    printf("%d-token utterance, %d thread%s, %s kernels, %d runs each\n", tokens, threads, threads > 1 ? "s" : "",
           slm_context_kernels(c[0]), reps);
    printf("%-36s %-6s %10s %10s %10s %10s\n", "model", "type", "MB", "median ms", "p10 ms", "p90 ms");
    for (int i = 0; i < n_models; i++) {
        double p10 = quantile(ms[i], reps, 0.1), med = quantile(ms[i], reps, 0.5), p90 = quantile(ms[i], reps, 0.9);
        printf("%-36s %-6s %10.2f %10.3f %10.3f %10.3f\n", paths[i], slm_type_name(m[i]->info.weight_type),
               (double)m[i]->size / 1e6, med, p10, p90);
        slm_context_free(c[i]);
        slm_model_free(m[i]);
        free(ms[i]);
    }
    printf("text: \"%s\"\n", text[0]);
    return 0;
}
