// stories260K against llama2.c's reference forward pass (../shared/golden):
// F32 logits within 1e-4 at every position and greedy ids exact; Q8_0 and
// Q4_0 teacher-forced cosine and top-1 agreement; every backend and thread
// count bit-identical for quantized models.
#include <math.h>
#include <stdint.h>
#include <unistd.h>

#include "slm.h"
#include "test.h"

#define MAX_IDS 512
#define VOCAB 512

typedef struct {
    char name[16];
    int32_t prompt[MAX_IDS], greedy[MAX_IDS];
    int n_prompt, n_greedy;
    int n_fed;       // positions with logits: the last greedy id is never fed
    float *logits;   // (n_fed, VOCAB)
} golden_case;

static int read_ids(const char *line, const char *key, int32_t *ids) {
    size_t k = strlen(key);
    if (strncmp(line, key, k) || line[k] != ' ') return -1;
    int n = 0;
    for (const char *s = line + k; *s && *s != '\n' && n < MAX_IDS;) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s) break;
        ids[n++] = (int32_t)v;
        s = end;
    }
    return n;
}

static int load_case(const char *shared, int i, golden_case *c) {
    char path[600], line[8192];
    snprintf(c->name, sizeof c->name, "case%02d", i);
    snprintf(path, sizeof path, "%s/golden/stories260k/case%02d.txt", shared, i);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    c->n_prompt = c->n_greedy = -1;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "prompt_ids ", 11)) c->n_prompt = read_ids(line, "prompt_ids", c->prompt);
        if (!strncmp(line, "greedy_ids ", 11)) c->n_greedy = read_ids(line, "greedy_ids", c->greedy);
    }
    fclose(f);
    if (c->n_prompt <= 0 || c->n_greedy < 1) return -1;
    int n = c->n_fed = c->n_prompt + c->n_greedy - 1;
    snprintf(path, sizeof path, "%s/golden/stories260k/case%02d.logits.f32", shared, i);
    f = fopen(path, "rb");
    if (!f) return -1;
    c->logits = malloc((size_t)n * VOCAB * sizeof(float));
    size_t got = c->logits ? fread(c->logits, sizeof(float), (size_t)n * VOCAB, f) : 0;
    fclose(f);
    return got == (size_t)n * VOCAB ? 0 : -1;
}

static slm_context *new_ctx(slm_model *m, const char *kernels, int threads) {
    slm_context_params p = slm_context_default_params();
    p.kernels = kernels;
    p.n_threads = threads;
    slm_context *c = NULL;
    slm_error err;
    if (slm_context_new(m, &p, &c, &err)) fprintf(stderr, "context: %s\n", err.message);
    return c;
}

// Teacher-forced logits over the fed positions (prompt, then the greedy ids
// but the last): (n_fed, VOCAB).
static float *forced_logits(slm_context *c, const golden_case *g) {
    int n = g->n_fed;
    int32_t ids[2 * MAX_IDS];
    memcpy(ids, g->prompt, g->n_prompt * sizeof(int32_t));
    memcpy(ids + g->n_prompt, g->greedy, (g->n_greedy - 1) * sizeof(int32_t));
    float *lg = malloc((size_t)n * VOCAB * sizeof(float));
    slm_error err;
    slm_context_rewind(c, 0);
    if (slm_eval(c, ids, n, lg, 1, &err)) { fprintf(stderr, "eval: %s\n", err.message); free(lg); return NULL; }
    return lg;
}

static int argmax(const float *x, int n) {
    int b = 0;
    for (int i = 1; i < n; i++) if (x[i] > x[b]) b = i;
    return b;
}

// F32: logits at every position within 1e-4, and our own greedy decode
// (token by token, as generation runs) reproduces greedy_ids.
static void check_f32(slm_model *m, golden_case *cases, int n_cases) {
    slm_context *c = new_ctx(m, NULL, 1);
    CHECK(c != NULL, "context");
    if (!c) return;
    float worst = 0.0f;
    for (int k = 0; k < n_cases; k++) {
        golden_case *g = &cases[k];
        float *lg = forced_logits(c, g);
        CHECK(lg != NULL, "%s: eval", g->name);
        if (!lg) continue;
        float maxdiff = 0.0f;
        for (size_t i = 0; i < (size_t)g->n_fed * VOCAB; i++)
            maxdiff = fmaxf(maxdiff, fabsf(lg[i] - g->logits[i]));
        worst = fmaxf(worst, maxdiff);
        CHECK(maxdiff <= 1e-4f, "%s: max |logit diff| %g > 1e-4", g->name, maxdiff);
        free(lg);

        // greedy, incrementally: prompt prefill then one token at a time; the
        // reference's last id is BOS when its run ended there
        slm_context_rewind(c, 0);
        float logits[VOCAB];
        slm_error err;
        int ok = !slm_eval(c, g->prompt, g->n_prompt, logits, 0, &err), match = 0;
        for (int i = 0; ok && i < g->n_greedy; i++) {
            int32_t next = argmax(logits, VOCAB);
            if (next != g->greedy[i]) break;
            match++;
            if (i + 1 < g->n_greedy) ok = !slm_eval(c, &next, 1, logits, 0, &err);
        }
        CHECK(match == g->n_greedy, "%s: greedy ids match for %d of %d", g->name, match, g->n_greedy);
    }
    printf("f32: worst max |logit diff| over all positions %.3g\n", worst);
    slm_context_free(c);
}

static double cosine(const float *a, const float *b, int n) {
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < n; i++) ab += (double)a[i] * b[i], aa += (double)a[i] * a[i], bb += (double)b[i] * b[i];
    return ab / (sqrt(aa * bb) + 1e-30);
}

static void check_quantized(slm_model *m, golden_case *cases, int n_cases, const char *type, double min_cos, double min_top1) {
    slm_context *c = new_ctx(m, NULL, 1);
    CHECK(c != NULL, "context");
    if (!c) return;
    double cos_sum = 0;
    long positions = 0, top1 = 0;
    for (int k = 0; k < n_cases; k++) {
        golden_case *g = &cases[k];
        float *lg = forced_logits(c, g);
        if (!lg) { CHECK(0, "%s: eval", g->name); continue; }
        for (int p = 0; p < g->n_fed; p++) {
            const float *a = lg + (size_t)p * VOCAB, *b = g->logits + (size_t)p * VOCAB;
            cos_sum += cosine(a, b, VOCAB);
            top1 += argmax(a, VOCAB) == argmax(b, VOCAB);
            positions++;
        }
        free(lg);
    }
    double mean_cos = cos_sum / positions, agree = (double)top1 / positions;
    printf("%s: mean cosine %.6f, top-1 agreement %.2f%% over %ld positions\n", type, mean_cos, 100 * agree, positions);
    CHECK(mean_cos >= min_cos, "%s mean cosine %.6f < %.4f", type, mean_cos, min_cos);
    CHECK(agree >= min_top1, "%s top-1 agreement %.4f < %.4f", type, agree, min_top1);
    slm_context_free(c);
}

// Every backend and thread count gives the same bits as the scalar reference.
static void check_backends(slm_model *m, golden_case *g, const char *type) {
    slm_context *ref = new_ctx(m, "scalar", 1);
    float *want = ref ? forced_logits(ref, g) : NULL;
    CHECK(want != NULL, "%s scalar logits", type);
    if (!want) { slm_context_free(ref); return; }
    size_t bytes = (size_t)g->n_fed * VOCAB * sizeof(float);
    const char *names[] = {"scalar", "avx2", "avxvnni", "avx512vnni", "neon", "wasm"};
    for (size_t b = 0; b < sizeof names / sizeof names[0]; b++)
        for (int threads = 1; threads <= 3; threads++) {
            slm_context_params p = slm_context_default_params();
            p.kernels = names[b];
            p.n_threads = threads;
            slm_context *c;
            slm_error err;
            if (slm_context_new(m, &p, &c, &err)) continue;   // backend not in this build or CPU
            float *got = forced_logits(c, g);
            CHECK(got && !memcmp(got, want, bytes), "%s: %s with %d threads differs from scalar", type, names[b], threads);
            if (threads == 1 && got) printf("%s: %s bit-identical to scalar\n", type, names[b]);
            free(got);
            slm_context_free(c);
        }
    free(want);
    slm_context_free(ref);
}

int main(void) {
    const char *shared = test_shared_dir("data/models/stories260K.bin");
    golden_case cases[16];
    int n_cases = 0;
    while (n_cases < 16 && load_case(shared, n_cases, &cases[n_cases]) == 0) n_cases++;
    CHECK(n_cases >= 6, "found %d golden cases", n_cases);

    char dir[] = "/tmp/slm-golden-XXXXXX", f32[64], q8[64], q4[64], q4s[64], bin[600], tok[600];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(f32, sizeof f32, "%s/f32.gguf", dir);
    snprintf(q8, sizeof q8, "%s/q8_0.gguf", dir);
    snprintf(q4, sizeof q4, "%s/q4_0.gguf", dir);
    snprintf(q4s, sizeof q4s, "%s/q4_0-smart.gguf", dir);
    snprintf(bin, sizeof bin, "%s/data/models/stories260K.bin", shared);
    snprintf(tok, sizeof tok, "%s/data/models/tok512.bin", shared);
    slm_error err;
    CHECK(!slm_import_llama2c(bin, tok, f32, NULL, NULL, &err), "import: %s", err.message);
    slm_quantize_params qp = slm_quantize_default_params(SLM_TYPE_Q8_0);
    CHECK(!slm_quantize_file(f32, q8, &qp, &err), "quantize q8_0: %s", err.message);
    qp = slm_quantize_default_params(SLM_TYPE_Q4_0);
    CHECK(!slm_quantize_file(f32, q4, &qp, &err), "quantize q4_0: %s", err.message);
    qp.smart_scales = 1;
    CHECK(!slm_quantize_file(f32, q4s, &qp, &err), "quantize q4_0 --smart: %s", err.message);

    slm_model *m;
    if (!slm_model_load_file(f32, 0, &m, &err)) {
        check_f32(m, cases, n_cases);
        check_backends(m, &cases[0], "f32");
        slm_model_free(m);
    } else CHECK(0, "load f32: %s", err.message);
    if (!slm_model_load_file(q8, 0, &m, &err)) {
        check_quantized(m, cases, n_cases, "q8_0", 0.999, 0.97);
        check_backends(m, &cases[1], "q8_0");
        slm_model_free(m);
    } else CHECK(0, "load q8_0: %s", err.message);
    if (!slm_model_load_file(q4, 0, &m, &err)) {
        check_quantized(m, cases, n_cases, "q4_0", 0.99, 0.0);
        check_backends(m, &cases[2], "q4_0");
        slm_model_free(m);
    } else CHECK(0, "load q4_0: %s", err.message);
    if (!slm_model_load_file(q4s, 0, &m, &err)) {
        check_quantized(m, cases, n_cases, "q4_0 smart", 0.99, 0.0);
        slm_model_free(m);
    } else CHECK(0, "load q4_0 smart: %s", err.message);

    unlink(f32); unlink(q8); unlink(q4); unlink(q4s); rmdir(dir);
    for (int k = 0; k < n_cases; k++) free(cases[k].logits);
    TEST_END();
}
