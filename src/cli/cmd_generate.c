// slm generate: stream a continuation of a prompt (text or token ids).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *help =
    "usage: slm generate -m MODEL (-p TEXT | --prompt-ids \"1 2 3\") [options]\n"
    "  -m, --model FILE       GGUF model\n"
    "  -p, --prompt TEXT      prompt text (BOS is added)\n"
    "  --prompt-ids IDS       prompt as space-separated token ids, fed as given\n"
    "  -n, --n-predict N      tokens to generate (default 128)\n"
    "  --temp T               temperature, 0 = greedy (default 0.8)\n"
    "  --top-k K              keep the K most likely tokens, 0 = off (default 40)\n"
    "  --top-p P              nucleus sampling, 1 = off (default 0.95)\n"
    "  --min-p P              drop tokens below P x the top probability (default 0)\n"
    "  --repeat-penalty R     penalty for recent tokens, 1 = off (default 1.0)\n"
    "  --repeat-last-n N      window of the penalty (default 64)\n"
    "  --seed S               sampling seed (default 42)\n"
    "  -t, --threads N        threads (default 1)\n"
    "  -c, --ctx N            context size (default: the model's)\n"
    "  --truncate             keep the tail of a prompt longer than the context\n"
    "  --print-ids            print generated token ids on one line instead of text\n"
    "  --kernels NAME         scalar, avx2, avxvnni, avx512vnni, neon, wasm (default: best for this CPU)\n";

typedef struct {
    int print_ids, first;
} out_state;

static int on_token(void *user, int32_t id, const char *text, int len) {
    out_state *o = user;
    if (o->print_ids) {
        if (id >= 0) printf(o->first ? "%d" : " %d", id), o->first = 0;
    } else {
        fwrite(text, 1, (size_t)len, stdout);
    }
    fflush(stdout);
    return cli_interrupted;
}

int cmd_generate(int argc, char **argv) {
    const char *model = NULL, *prompt = NULL, *prompt_ids = NULL, *n_s = "128", *temp = "0.8", *top_k = "40",
               *top_p = "0.95", *min_p = "0", *rep = "1.0", *rep_n = "64", *seed = "42", *threads = "1", *ctx = "0",
               *truncate = NULL, *print_ids = NULL, *kernels = NULL, *helpf = NULL;
    const cli_opt opts[] = {
        {"--model", "-m", 1, &model}, {"--prompt", "-p", 1, &prompt}, {"--prompt-ids", NULL, 1, &prompt_ids},
        {"--n-predict", "-n", 1, &n_s}, {"--temp", NULL, 1, &temp}, {"--top-k", NULL, 1, &top_k},
        {"--top-p", NULL, 1, &top_p}, {"--min-p", NULL, 1, &min_p}, {"--repeat-penalty", NULL, 1, &rep},
        {"--repeat-last-n", NULL, 1, &rep_n}, {"--seed", NULL, 1, &seed}, {"--threads", "-t", 1, &threads},
        {"--ctx", "-c", 1, &ctx}, {"--truncate", NULL, 0, &truncate}, {"--print-ids", NULL, 0, &print_ids},
        {"--kernels", NULL, 1, &kernels}, {"--help", "-h", 0, &helpf},
    };
    if (cli_parse(argc, argv, 2, opts, sizeof opts / sizeof opts[0], NULL, 0) < 0) return EXIT_USAGE;
    if (helpf) return printf("%s", help), 0;
    if (!model) return cli_usage_error("generate: -m MODEL is required\n%s", help);
    if (!prompt == !prompt_ids) return cli_usage_error("generate: give exactly one of -p TEXT or --prompt-ids IDS");

    slm_generate_params gp = slm_generate_default_params();
    slm_context_params cp = slm_context_default_params();
    int max_tokens, n_threads, n_ctx;
    if (cli_int(n_s, "-n", 0, 1 << 20, &max_tokens) || cli_float(temp, "--temp", 0, 100, &gp.sampling.temperature) ||
        cli_int(top_k, "--top-k", 0, 1 << 30, &gp.sampling.top_k) || cli_float(top_p, "--top-p", 0, 1, &gp.sampling.top_p) ||
        cli_float(min_p, "--min-p", 0, 0.999999, &gp.sampling.min_p) ||
        cli_float(rep, "--repeat-penalty", 0.01, 100, &gp.sampling.repeat_penalty) ||
        cli_int(rep_n, "--repeat-last-n", 0, 1 << 20, &gp.sampling.repeat_last_n) ||
        cli_u64(seed, "--seed", &gp.sampling.seed) || cli_int(threads, "--threads", 1, 256, &n_threads) ||
        cli_int(ctx, "--ctx", 0, 1 << 20, &n_ctx))
        return EXIT_USAGE;
    if (gp.sampling.top_p <= 0.0f) return cli_usage_error("--top-p must be above 0");
    gp.max_tokens = max_tokens;
    gp.truncate = truncate != NULL;
    cp.n_threads = n_threads;
    cp.n_ctx = n_ctx;
    cp.kernels = kernels;

    slm_error err;
    slm_model *m = NULL;
    slm_context *c = NULL;
    int32_t *ids = NULL;
    int n_ids = 0, rc = 0;
    if (slm_model_load_file(model, 0, &m, &err)) return cli_fail(&err);
    slm_model_info info;
    slm_model_get_info(m, &info);
    if (prompt_ids) {
        if (cli_parse_ids(prompt_ids, &ids, &n_ids)) { rc = EXIT_USAGE; goto done; }
    } else {
        n_ids = slm_tokenize(m, prompt, strlen(prompt), 1, NULL, 0, &err);
        ids = n_ids >= 0 ? malloc(((size_t)n_ids + 1) * sizeof *ids) : NULL;
        if (!ids) { rc = cli_fail(&err); goto done; }
        slm_tokenize(m, prompt, strlen(prompt), 1, ids, n_ids, &err);
    }
    if (cp.n_ctx > info.context_length) {
        rc = cli_usage_error("--ctx %d exceeds the model's context length %d", cp.n_ctx, info.context_length);
        goto done;
    }
    if (slm_context_new(m, &cp, &c, &err)) { rc = cli_fail(&err); goto done; }

    cli_catch_sigint();
    out_state o = {.print_ids = print_ids != NULL, .first = 1};
    if (!o.print_ids && prompt) fputs(prompt, stdout);
    slm_generate_stats st;
    slm_status s = slm_generate(c, ids, n_ids, &gp, on_token, &o, &st, &err);
    printf("\n");
    fflush(stdout);
    if (s) { rc = cli_fail(&err); goto done; }
    if (st.truncated_tokens) fprintf(stderr, "note: the prompt was truncated: %d tokens dropped\n", st.truncated_tokens);
    double ms_tok = st.generated_tokens > 1 ? st.decode_ms / (st.generated_tokens - 1) : 0.0;
    static const char *why[] = {"length", "end of text", "interrupted", "context full"};
    fprintf(stderr, "[%d prompt tokens in %.1f ms (%.1f tok/s); %d generated, %.2f ms/token (%.1f tok/s); stop: %s; %s, %d thread%s]\n",
            st.prompt_tokens, st.prefill_ms, st.prompt_tokens / (st.prefill_ms / 1e3 + 1e-9), st.generated_tokens, ms_tok,
            ms_tok > 0 ? 1e3 / ms_tok : 0.0, why[st.stop_reason], slm_context_kernels(c), n_threads, n_threads > 1 ? "s" : "");
    if (cli_interrupted) rc = EXIT_INTERRUPTED;
done:
    free(ids);
    slm_context_free(c);
    slm_model_free(m);
    return rc;
}
