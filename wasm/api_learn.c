// On-device learning for the JS package's worker: slm_learner over flat
// signatures (learner pointers per model slot are the worker's to keep).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

// Progress of a learner's long steps, to the worker (Module.onProgress):
// stage 0 = reading (stored examples' features), 1 = learning.
EM_JS(void, api_js_progress, (int stage, double fraction), {
    if (Module.onProgress) Module.onProgress(stage, fraction);
});

static void learn_progress(void *user, const char *stage, double fraction) {
    api_js_progress(strcmp(stage, "reading") ? 1 : 0, fraction);
}

// A learner over the context, from the model (state NULL) or a saved state.
API slm_learner *api_learner_new(slm_context *c, const void *state, int size) {
    slm_learn_params p = slm_learn_default_params();
    p.progress = learn_progress;
    slm_learner *l = NULL;
    return slm_learner_new(c, &p, state, (size_t)size, &l, &api_last_error) ? NULL : l;
}

API void api_learner_free(slm_learner *l) { slm_learner_free(l); }

API void api_learner_params(slm_learner *l, int epochs, float lr, float ewc, int replay, int replay_ratio,
                            float max_drop, float max_class_drop, float min_fit, double seed) {
    slm_learn_params p = slm_learn_default_params();
    p.epochs = epochs, p.lr = lr, p.ewc_lambda = ewc, p.replay = replay, p.replay_ratio = replay_ratio;
    p.max_drop = max_drop, p.max_class_drop = max_class_drop, p.min_fit = min_fit, p.seed = (uint64_t)seed;
    p.progress = learn_progress;
    slm_learner_set_params(l, &p);
}

// Learns n examples (texts[i], labels[i]: NUL-terminated UTF-8); the result
// as a JSON object, or NULL on an error.
API const char *api_learn(slm_learner *l, const char *const *texts, const char *const *labels, int n) {
    static char buf[512];
    slm_learn_result r;
    if (slm_learn(l, texts, labels, n, &r, &api_last_error)) return NULL;
    char reason[400];
    json_quote(reason, sizeof reason, r.reason);
    snprintf(buf, sizeof buf,
             "{\"accepted\":%s,\"devAccuracyBefore\":%.9g,\"devAccuracyAfter\":%.9g,\"fitBefore\":%.9g,"
             "\"fitAfter\":%.9g,\"newClasses\":%d,\"heldOut\":%d,\"replay\":%d,\"reason\":\"%s\"}",
             r.accepted ? "true" : "false", r.dev_accuracy_before, r.dev_accuracy_after, r.fit_before, r.fit_after,
             r.new_classes, r.n_guard, r.n_replay, reason);
    return buf;
}

API const char *api_learner_label(const slm_learner *l, int i) { return slm_learner_class_label(l, i); }

// As api_classify, with the learner's classes.
API int api_learner_classify(slm_learner *l, const char *text, int len, float *probs) {
    int truncated = 0;
    return slm_learner_classify(l, text, (size_t)len, probs, &truncated, &api_last_error) ? -1 : truncated;
}

// The state as a malloc'd buffer: its address, its size in *size; 0 on failure.
API void *api_learner_save(const slm_learner *l, int *size) {
    void *data = NULL;
    size_t n = 0;
    if (slm_learner_save_memory(l, &data, &n, &api_last_error)) return NULL;
    *size = (int)n;
    return data;
}
