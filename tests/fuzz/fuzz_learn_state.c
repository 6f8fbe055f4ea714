// libFuzzer target for learned states: slm_learner_new over hostile bytes,
// against one random nano encoder made at the first call (slm init's
// slm360-nano, seed 1, Q8_0: the corpus's states were learnt by it, so they
// pass the fingerprint check and reach every other one). A state must be
// refused with an error or loaded; a loaded one must save, load again, and
// classify (or say its numbers overflowed: SLM_ERR_NUMERIC).
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slm.h"

static slm_model *model;
static slm_context *ctx;

static void setup(void) {
    char path[] = "/tmp/slm-fuzz-nano-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) abort();
    close(fd);
    slm_init_params ip = {"slm360-nano", 1, SLM_TYPE_Q8_0, NULL, NULL, NULL, NULL};
    slm_context_params cp = slm_context_default_params();
    cp.n_ctx = 64;
    slm_error err;
    if (slm_init_random(&ip, path, &err) || slm_model_load_file(path, 0, &model, &err) ||
        slm_context_new(model, &cp, &ctx, &err))
        abort();
    unlink(path);   // the mapping stays
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ctx) setup();
    slm_learner *l = NULL, *again = NULL;
    slm_error err;
    if (slm_learner_new(ctx, NULL, data, size, &l, &err)) {
        if (l || !err.message[0]) abort();   // an error leaves nothing and says why
        return 0;
    }
    void *state = NULL;
    size_t n = 0;
    if (slm_learner_save_memory(l, &state, &n, &err) || slm_learner_new(ctx, NULL, state, n, &again, &err)) abort();
    if (slm_learner_class_count(again) != slm_learner_class_count(l)) abort();
    // huge (finite) weights may overflow the logits: NUMERIC says so, nothing else may fail
    float *probs = malloc((size_t)slm_learner_class_count(l) * sizeof *probs);
    slm_status st = probs ? slm_learner_classify(again, "set an alarm", 12, probs, NULL, &err) : SLM_ERR_OUT_OF_MEMORY;
    if (st && st != SLM_ERR_NUMERIC) abort();
    free(probs);
    free(state);
    slm_learner_free(again);
    slm_learner_free(l);
    return 0;
}
