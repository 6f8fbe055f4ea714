// Every architecture and tensor type against llama.cpp (../shared/golden/archs:
// random-weight llama, Llama 3, Qwen2, Qwen3 and Gemma 3 models quantized by
// llama.cpp's own quantizer, with its logits for two prompts, every position).
// A file whose architecture and tensor types slm360 runs must agree with
// llama.cpp: mean cosine >= 0.999 and top-1 agreement >= 95 % over all
// positions of both prompts, and give the same bits on every backend. A file
// it does not run yet must be refused with UNSUPPORTED naming what (the type
// and the tensor, or the architecture). The per-file line also shows how far
// each file is from llama.cpp's F32 run of the same weights.
#include <dirent.h>
#include <math.h>
#include <stdint.h>

#include "slm.h"
#include "test.h"

#define MAX_IDS 256
#define MAX_FILES 64

static int n_prompts, prompt_len[2];
static int32_t prompts[2][MAX_IDS];

static float *read_floats(const char *path, size_t n) {
    FILE *f = fopen(path, "rb");
    float *x = f ? malloc(n * sizeof *x) : NULL;
    if (f && x && fread(x, sizeof *x, n, f) != n) free(x), x = NULL;
    if (f) fclose(f);
    return x;
}

static void read_prompts(const char *dir) {
    char path[600], line[4096];
    snprintf(path, sizeof path, "%s/prompts.txt", dir);
    FILE *f = fopen(path, "r");
    while (f && n_prompts < 2 && fgets(line, sizeof line, f)) {
        int n = 0;
        for (char *s = line, *end; n < MAX_IDS; s = end) {
            long v = strtol(s, &end, 10);
            if (end == s) break;
            prompts[n_prompts][n++] = (int32_t)v;
        }
        prompt_len[n_prompts++] = n;
    }
    if (f) fclose(f);
}

// Cosine of a and b (n values) in double.
static double cosine(const float *a, const float *b, int n) {
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < n; i++) ab += (double)a[i] * b[i], aa += (double)a[i] * a[i], bb += (double)b[i] * b[i];
    return ab / (sqrt(aa * bb) + 1e-30);
}

static int argmax(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

// Our logits of prompt p with the given kernels (NULL: the best), or NULL.
static float *our_logits(const slm_model *m, int p, const char *kernels) {
    slm_model_info in;
    slm_model_get_info(m, &in);
    slm_context_params cp = slm_context_default_params();
    cp.kernels = kernels;
    cp.n_ctx = prompt_len[p];
    cp.n_threads = 2;
    slm_context *c;
    slm_error e;
    float *out = malloc((size_t)prompt_len[p] * in.vocab_size * sizeof *out);
    if (!out || slm_context_new(m, &cp, &c, &e)) { free(out); return NULL; }
    if (slm_eval(c, prompts[p], prompt_len[p], out, 1, &e)) {
        fprintf(stderr, "eval: %s\n", e.message);
        free(out);
        out = NULL;
    }
    slm_context_free(c);
    return out;
}

static void check_file(const char *dir, const char *file) {
    char path[1024], ref[1024], name[256];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    snprintf(name, sizeof name, "%.*s", (int)(strlen(file) - 5), file);   // without .gguf
    slm_model *m;
    slm_error e;
    slm_status st = slm_model_load_file(path, 0, &m, &e);
    if (st == SLM_ERR_UNSUPPORTED) {
        CHECK(strstr(e.message, "tensor '") || strstr(e.message, "architecture"), "%s: '%s' should name what it refuses",
              name, e.message);
        printf("  %-22s not run yet: %s\n", name, strstr(e.message, ": ") ? strstr(e.message, ": ") + 2 : e.message);
        return;
    }
    CHECK(st == SLM_OK, "%s: %s", name, e.message);
    if (st) return;
    slm_model_info in;
    slm_model_get_info(m, &in);
    // the F32 reference's name: the architecture and width, without the type
    char base[256];
    snprintf(base, sizeof base, "%s", name);
    char *dash = strrchr(base, '-');
    if (dash) *dash = 0;
    double cos_sum = 0, cos_min = 1, f32_sum = 0;
    int agree = 0, total = 0, f32_n = 0, same_bits = 1;
    for (int p = 0; p < n_prompts; p++) {
        size_t nv = (size_t)prompt_len[p] * in.vocab_size;
        snprintf(ref, sizeof ref, "%s/%s.p%d.logits", dir, name, p + 1);
        float *want = read_floats(ref, nv), *got = our_logits(m, p, NULL), *scalar = our_logits(m, p, "scalar");
        snprintf(ref, sizeof ref, "%s/%s-f32.p%d.logits", dir, base, p + 1);
        float *f32 = read_floats(ref, nv);
        CHECK(want && got && scalar, "%s prompt %d: logits missing", name, p + 1);
        if (want && got && scalar) {
            same_bits &= !memcmp(got, scalar, nv * sizeof *got);
            for (int t = 0; t < prompt_len[p]; t++) {
                const float *g = got + (size_t)t * in.vocab_size, *w = want + (size_t)t * in.vocab_size;
                double c = cosine(g, w, in.vocab_size);
                cos_sum += c, cos_min = c < cos_min ? c : cos_min;
                agree += argmax(g, in.vocab_size) == argmax(w, in.vocab_size);
                total++;
                if (f32) f32_sum += cosine(g, f32 + (size_t)t * in.vocab_size, in.vocab_size), f32_n++;
            }
        }
        free(want), free(got), free(scalar), free(f32);
    }
    if (!total) { slm_model_free(m); return; }
    double mean = cos_sum / total, top1 = (double)agree / total;
    printf("  %-22s cosine mean %.6f min %.6f, top-1 %d/%d; vs llama.cpp F32 %s%.6f\n", name, mean, cos_min, agree, total,
           f32_n ? "" : "(none) ", f32_n ? f32_sum / f32_n : 0.0);
    CHECK(mean >= 0.999, "%s: mean cosine %.6f < 0.999", name, mean);
    CHECK(top1 >= 0.95, "%s: top-1 agreement %.3f < 0.95", name, top1);
    CHECK(same_bits, "%s: the best kernels and the scalar ones differ", name);
    slm_model_free(m);
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void) {
    const char *shared = test_shared_dir("golden/archs/prompts.txt");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/golden/archs", shared);
    read_prompts(dir);
    CHECK(n_prompts == 2 && prompt_len[0] > 0 && prompt_len[1] > 0, "prompts.txt holds two prompts");
    char *files[MAX_FILES];
    int n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *ent; d && (ent = readdir(d)) && n < MAX_FILES;) {
        size_t len = strlen(ent->d_name);
        if (len > 5 && !strcmp(ent->d_name + len - 5, ".gguf")) files[n++] = strdup(ent->d_name);
    }
    if (d) closedir(d);
    qsort(files, (size_t)n, sizeof *files, by_name);
    CHECK(n > 0, "no models in %s", dir);
    for (int i = 0; i < n; i++) {
        check_file(dir, files[i]);
        free(files[i]);
    }
    TEST_END();
}
