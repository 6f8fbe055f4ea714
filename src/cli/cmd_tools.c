// slm info, tokenize, import-llama2c, quantize, init.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model.h"
#include "cli.h"

#define HELP_OPT(var) {"--help", "-h", 0, &var}
#define N_OPTS(o) ((int)(sizeof o / sizeof o[0]))

// ---- info ----------------------------------------------------------------------

// Tensor table straight from the file, so `info` also describes files that
// fail to load as models.
static int print_tensors(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = size > 0 ? malloc((size_t)size) : NULL;
    int ok = buf && fread(buf, 1, (size_t)size, f) == (size_t)size;
    fclose(f);
    gguf_file g;
    char err[256];
    if (!ok || gguf_parse(&g, buf, (uint64_t)size, err, sizeof err)) { free(buf); return -1; }
    printf("\nGGUF v%u, %llu metadata keys, %llu tensors, alignment %llu\n", g.version, (unsigned long long)g.n_kv,
           (unsigned long long)g.n_tensors, (unsigned long long)g.alignment);
    uint64_t by_type[32] = {0};
    for (uint64_t i = 0; i < g.n_tensors; i++) {
        const gguf_tensor *t = &g.tensors[i];
        char shape[64];
        int n = snprintf(shape, sizeof shape, "[%llu", (unsigned long long)t->ne[0]);
        for (uint32_t d = 1; d < t->n_dims; d++) n += snprintf(shape + n, sizeof shape - n, ", %llu", (unsigned long long)t->ne[d]);
        snprintf(shape + n, sizeof shape - n, "]");
        printf("  %-32s %-16s %-5s %10.1f KB\n", t->name, shape, ggml_type_name(t->type), (double)t->size / 1024.0);
        if (t->type < 32) by_type[t->type] += t->size;
    }
    printf("bytes by type:");
    for (int t = 0; t < 32; t++)
        if (by_type[t]) printf(" %s %.2f MB", ggml_type_name((uint32_t)t), (double)by_type[t] / 1e6);
    printf("\n");
    gguf_free(&g);
    free(buf);
    return 0;
}

int cmd_info(int argc, char **argv) {
    const char *helpf = NULL, *check = NULL, *pos[1];
    const cli_opt opts[] = {{"--check", NULL, 0, &check}, HELP_OPT(helpf)};
    int n = cli_parse(argc, argv, 2, opts, N_OPTS(opts), pos, 1);
    if (n < 0) return EXIT_USAGE;
    if (helpf || n != 1)
        return printf("usage: slm info [--check] FILE.gguf\n"
                      "  --check   scan every tensor for NaN and infinity (values, block scales); exit 2 if damaged\n"),
               helpf ? 0 : EXIT_USAGE;
    slm_error err;
    slm_model *m;
    unsigned flags = 0;
    if (slm_model_load_file(pos[0], 0, &m, &err)) {
        // a vocabulary-only file is still worth describing
        if (err.code != SLM_ERR_BAD_MODEL || !strstr(err.message, "no weights") ||
            slm_model_load_file(pos[0], SLM_LOAD_VOCAB_ONLY, &m, &err))
            return cli_fail(&err);
        flags = SLM_LOAD_VOCAB_ONLY;
    }
    slm_model_info in;
    slm_model_get_info(m, &in);
    printf("file          %s\n", pos[0]);
    printf("architecture  %s%s\n", in.architecture, in.is_encoder ? " (bidirectional encoder + classifier)" : "");
    printf("name          %s\n", in.name);
    if (!(flags & SLM_LOAD_VOCAB_ONLY)) {
        printf("shape         dim %d, %d layers, heads %d/%d (head dim %d), FFN %d, context %d\n", in.dim, in.n_layers,
               in.n_heads, in.n_kv_heads, in.head_dim, in.ffn_dim, in.context_length);
        printf("attention     RoPE theta %g, RMSNorm eps %g%s\n", in.rope_theta, in.norm_eps, in.qk_norm ? ", QK-norm" : "");
        printf("LM head       %s\n", in.is_encoder ? "none (classifier)" : in.tied_embeddings ? "tied to the token embedding" : "separate");
        if (in.is_encoder) {
            printf("classes       %d:", in.n_classes);
            for (int i = 0; i < in.n_classes && i < 12; i++) printf(" %s", slm_model_class_label(m, i));
            printf("%s\n", in.n_classes > 12 ? " ..." : "");
        }
        printf("parameters    %.2f M, %.2f MB of weights, mostly %s\n", (double)in.n_params / 1e6,
               (double)in.weights_bytes / 1e6, slm_type_name(in.weight_type));
    } else {
        printf("weights       none (vocabulary only)\n");
    }
    printf("vocabulary    %d tokens, BOS %d, EOS %d; first:", in.vocab_size, in.bos_id, in.eos_id);
    for (int i = 0; i < in.vocab_size && i < 8; i++) printf(" %s", slm_token_piece(m, i));
    printf(" ...\n");
    slm_status st = SLM_OK;
    if (check) {
        double t0 = slm_now_ms();
        st = slm_model_check(m, &err);
        if (!st) printf("check         every float finite (%.1f MB in %.1f ms)\n", (double)in.weights_bytes / 1e6, slm_now_ms() - t0);
    }
    slm_model_free(m);
    if (st) return cli_fail(&err);
    print_tensors(pos[0]);
    return 0;
}

// ---- tokenize ------------------------------------------------------------------

int cmd_tokenize(int argc, char **argv) {
    const char *model = NULL, *no_bos = NULL, *pieces = NULL, *helpf = NULL, *pos[1];
    const cli_opt opts[] = {{"--model", "-m", 1, &model}, {"--no-bos", NULL, 0, &no_bos}, {"--pieces", NULL, 0, &pieces}, HELP_OPT(helpf)};
    int n = cli_parse(argc, argv, 2, opts, N_OPTS(opts), pos, 1);
    if (n < 0) return EXIT_USAGE;
    if (helpf || n != 1 || !model)
        return printf("usage: slm tokenize -m FILE.gguf [--no-bos] [--pieces] \"text\"\n"), helpf ? 0 : EXIT_USAGE;
    slm_error err;
    slm_model *m;
    if (slm_model_load_file(model, SLM_LOAD_VOCAB_ONLY, &m, &err)) return cli_fail(&err);
    size_t len = strlen(pos[0]);
    int count = slm_tokenize(m, pos[0], len, !no_bos, NULL, 0, &err);
    int32_t *ids = count >= 0 ? malloc(((size_t)count + 1) * sizeof *ids) : NULL;
    if (!ids) { slm_model_free(m); return cli_fail(&err); }
    slm_tokenize(m, pos[0], len, !no_bos, ids, count, &err);
    for (int i = 0; i < count; i++) {
        if (pieces) printf("%s%d:%s", i ? " " : "", ids[i], slm_token_piece(m, ids[i]));
        else printf(i ? " %d" : "%d", ids[i]);
    }
    printf("\n");
    free(ids);
    slm_model_free(m);
    return 0;
}

// ---- conversions ----------------------------------------------------------------

int cmd_import_llama2c(int argc, char **argv) {
    const char *tok = NULL, *out = NULL, *helpf = NULL, *pos[1];
    const cli_opt opts[] = {{"--tokenizer", NULL, 1, &tok}, {"--output", "-o", 1, &out}, HELP_OPT(helpf)};
    int n = cli_parse(argc, argv, 2, opts, N_OPTS(opts), pos, 1);
    if (n < 0) return EXIT_USAGE;
    if (helpf || n != 1 || !tok || !out)
        return printf("usage: slm import-llama2c MODEL.bin --tokenizer TOKENIZER.bin -o OUT.gguf\n"), helpf ? 0 : EXIT_USAGE;
    slm_error err;
    if (slm_import_llama2c(pos[0], tok, out, cli_note, NULL, &err)) return cli_fail(&err);
    fprintf(stderr, "wrote %s\n", out);
    return 0;
}

int cmd_quantize(int argc, char **argv) {
    const char *out = NULL, *type = NULL, *embd = NULL, *smart = NULL, *helpf = NULL, *pos[1];
    const cli_opt opts[] = {{"--output", "-o", 1, &out}, {"--type", NULL, 1, &type}, {"--embd-type", NULL, 1, &embd},
                            {"--smart", NULL, 0, &smart}, HELP_OPT(helpf)};
    int n = cli_parse(argc, argv, 2, opts, N_OPTS(opts), pos, 1);
    if (n < 0) return EXIT_USAGE;
    if (helpf || n != 1 || !out || !type)
        return printf("usage: slm quantize IN.gguf -o OUT.gguf --type q4_0|q8_0|f16|f32 [--embd-type TYPE] [--smart]\n"
                      "  Q4_0 keeps a decoder's token embedding (also the tied LM head) at Q8_0 unless --embd-type says otherwise.\n"
                      "  --embd-type q2_k (2.6 bits a weight) suits an encoder's token embedding, which is only looked up.\n"
                      "  --smart searches each Q4_0 block's scale for the least squared error.\n"),
               helpf ? 0 : EXIT_USAGE;
    int t = slm_type_from_name(type), e = embd ? slm_type_from_name(embd) : -1;
    if (t < 0 || (embd && e < 0)) return cli_usage_error("unknown type '%s' (q4_0, q8_0, f16, f32)", t < 0 ? type : embd);
    slm_quantize_params p = slm_quantize_default_params((slm_type)t);
    p.embd_type = e;
    p.smart_scales = smart != NULL;
    p.progress = cli_progress;
    p.note = cli_note;
    slm_error err;
    if (slm_quantize_file(pos[0], out, &p, &err)) return cli_fail(&err);
    fprintf(stderr, "wrote %s\n", out);
    return 0;
}

int cmd_init(int argc, char **argv) {
    const char *preset = NULL, *random = NULL, *seed = "1", *type = "f32", *out = NULL, *vocab = NULL, *helpf = NULL;
    const cli_opt opts[] = {{"--preset", NULL, 1, &preset}, {"--random", NULL, 0, &random}, {"--seed", NULL, 1, &seed},
                            {"--type", NULL, 1, &type}, {"--output", "-o", 1, &out}, {"--vocab", NULL, 1, &vocab},
                            HELP_OPT(helpf)};
    if (cli_parse(argc, argv, 2, opts, N_OPTS(opts), NULL, 0) < 0) return EXIT_USAGE;
    if (helpf || !preset || !random || !out) {
        printf("usage: slm init --preset NAME --random [--seed S] [--type f32|f16|q8_0|q4_0] [--vocab FILE.gguf] -o OUT.gguf\n"
               "presets:");
        for (const char *const *p = slm_preset_names(); *p; p++) printf(" %s", *p);
        printf("\n  --vocab takes the tokenizer from a GGUF file; without it the vocabulary is synthetic.\n");
        return helpf ? 0 : EXIT_USAGE;
    }
    slm_init_params p = {.preset = preset, .vocab_path = vocab, .progress = cli_progress, .note = cli_note};
    int t = slm_type_from_name(type);
    if (t < 0) return cli_usage_error("unknown type '%s' (q4_0, q8_0, f16, f32)", type);
    p.type = (slm_type)t;
    if (cli_u64(seed, "--seed", &p.seed)) return EXIT_USAGE;
    slm_error err;
    if (slm_init_random(&p, out, &err)) return cli_fail(&err);
    fprintf(stderr, "wrote %s\n", out);
    return 0;
}
