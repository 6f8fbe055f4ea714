// libFuzzer target: any bytes loaded as a GGUF model, from memory, both as a
// whole model and as a vocabulary only. Whatever loads is then used (tokenize,
// detokenize and, for small decoders, a few evaluation and generation steps
// on the best and the scalar kernels), so that a file which passes every
// check but lies somewhere still cannot make the runtime misbehave. A failed
// load must name the buffer and say what is wrong.
//
// The corpus, tests/fuzz/corpus/gguf/, started from tiny models of every
// tensor type (F32, F16 with QK-norm, Q8_0 with an untied head, Q4_0 with two
// layers), an encoder, a vocabulary-only file and a GGUF v1 file, written by
// tests/test_gguf.c:
//   make build/asan/tests/test_gguf
//   SLM_WRITE_SEEDS=tests/fuzz/corpus/gguf build/asan/tests/test_gguf
// `make fuzz-gguf FUZZ_SECONDS=600` grows it, keeping only inputs that reach
// new code; regress-*.gguf are crashers kept as regression tests. `make test`
// replays every file under ASan+UBSan with LeakSanitizer.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slm.h"

// Shapes beyond these are loaded but not run: one input stays a few ms.
#define MAX_DIM 512
#define MAX_LAYERS 4
#define MAX_FFN 2048
#define MAX_VOCAB 8192
#define N_CTX 16

static void check_failure(slm_status st, const slm_error *err) {
    if (st != SLM_ERR_BAD_MODEL && st != SLM_ERR_UNSUPPORTED) abort();
    if (strncmp(err->message, "model: ", 7) || !err->message[7]) abort();
}

// Tokenizes a text with invalid UTF-8 and detokenizes the ids it gives and
// some it does not. Returns the token count (ids holds up to 32).
static int use_vocab(const slm_model *m, int vocab, int32_t *ids) {
    static const char text[] = "Hello w\xc3\xb6rld \xff\xfe ab  c\xe2\x96\x81\xf0\x9f\x98";
    int n = slm_tokenize(m, text, sizeof text - 1, 1, ids, 32, NULL);
    if (n < 0) abort();
    if (n > 32) n = 32;
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= vocab) abort();
    char out[1024];
    slm_detok d;
    slm_detok_init(&d);
    for (int i = 0; i < n; i++) slm_detok_push(m, &d, ids[i], out, (int)sizeof out);
    slm_detok_flush(&d, out, (int)sizeof out);
    const int32_t odd[5] = {-1, 0, vocab - 1, vocab, INT32_MAX};
    for (int i = 0; i < 5; i++) {
        slm_token_piece(m, odd[i]);
        slm_token_bytes(m, odd[i], i ? odd[i - 1] : -1, out, (int)sizeof out);
    }
    return n;
}

// Evaluates and generates a few tokens, with the best kernels for this CPU
// and with the portable ones.
static void use_model(const slm_model *m, const slm_model_info *in, const int32_t *ids, int n) {
    if (in->dim > MAX_DIM || in->n_layers > MAX_LAYERS || in->ffn_dim > MAX_FFN || in->vocab_size > MAX_VOCAB) return;
    float *logits = malloc((size_t)in->vocab_size * sizeof *logits);
    if (!logits) abort();
    for (int k = 0; k < 2; k++) {
        slm_context_params cp = slm_context_default_params();
        cp.n_ctx = in->context_length < N_CTX ? in->context_length : N_CTX;
        cp.kernels = k ? "scalar" : NULL;
        slm_context *c;
        if (slm_context_new(m, &cp, &c, NULL)) continue;
        int first = n < cp.n_ctx / 2 ? n : cp.n_ctx / 2;
        if (first > 0) slm_eval(c, ids, first, logits, 0, NULL);
        const int32_t bad[2] = {-1, in->vocab_size};
        if (slm_eval(c, bad, 2, logits, 0, NULL) == SLM_OK) abort();
        if (!in->is_encoder && n > 0) {
            // greedy: hostile weights make non-finite logits, which the
            // sampler is tested on in test_model_errors
            slm_generate_params gp = slm_generate_default_params();
            gp.sampling.temperature = 0.0f;
            gp.max_tokens = 4;
            gp.truncate = 1;
            slm_context_rewind(c, 0);
            slm_generate(c, ids, n, &gp, NULL, NULL, NULL, NULL);
        }
        slm_context_free(c);
    }
    free(logits);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // a private copy of exactly size bytes, so that ASan sees reads past it
    for (int pass = 0; pass < 2; pass++) {
        unsigned flags = pass ? SLM_LOAD_VOCAB_ONLY : 0;
        uint8_t *copy = malloc(size ? size : 1);
        if (!copy) abort();
        memcpy(copy, data, size);
        slm_model *m;
        slm_error err;
        // the full load hands the buffer over; the vocabulary-only one borrows it
        slm_status st = slm_model_load_memory(copy, size, !pass, flags, &m, &err);
        if (st) {
            check_failure(st, &err);
        } else {
            slm_model_info in;
            slm_model_get_info(m, &in);
            int32_t ids[32];
            int n = use_vocab(m, in.vocab_size, ids);
            if (!pass) use_model(m, &in, ids, n);
            slm_model_free(m);
        }
        if (pass) free(copy);
    }
    return 0;
}
