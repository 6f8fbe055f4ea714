// Internal: the learner's structures, shared by learn.c (updates) and
// learn_state.c (starting from a model or a saved state, saving).
#ifndef SLM_LEARN_H
#define SLM_LEARN_H

#include "../src/forward.h"
#include "train.h"

#define MAX_CLASSES 4096
#define MAX_LABEL 64                        // bytes of a label, NUL included

typedef struct {
    char *text;
    int label;
    uint32_t *bag;          // n-gram buckets (duplicates kept, as the runtime sums them)
    int n_bag;
    float *u;               // (dim) cached transformer features
} example;

typedef struct {
    example *ex;
    int n, cap;
    uint32_t seen;          // examples offered to this buffer's reservoir
} example_set;

struct slm_learner {
    slm_context *enc;
    const slm_model *m;
    slm_learn_params p;
    int dim, nd, F, C, model_C;
    uint32_t buckets;
    char (*labels)[MAX_LABEL];  // (C)
    float *w, *b;               // (C, F), (C)
    float *table;               // (buckets, nd)
    float **bag_w;              // (C) NULL, or a taught class's own weight of each n-gram bucket (buckets)
    uint8_t *changed;           // (buckets) rows that differ from the model's
    float *fw, *fb, *ft;        // Fisher of w, b, table
    example_set replay, guard;
    uint64_t rng;
    uint32_t fingerprint;       // of the model this state belongs to
};

// An example's features (from the encoder: the slow part) and buckets.
slm_status learn_example_make(slm_learner *l, const char *text, int label, example *e, slm_error *err);
void learn_example_free(example *e);
int learn_set_push(example_set *s, example *e);     // takes e; -1 when out of memory
void learn_set_free(example_set *s);
// Room for C classes in w, b, their Fisher, the labels and bag_w (new entries NULL); -1 when out of memory.
int learn_grow_classes(slm_learner *l, int C);
// The empirical Fisher over the replay buffer at the current weights.
slm_status learn_fisher_update(slm_learner *l, slm_error *err);

#endif
