// Internal model structures shared by the loader, the forward pass and the
// tools. Public users see only slm.h.
#ifndef SLM_MODEL_H
#define SLM_MODEL_H

#include <stddef.h>

#include "gguf.h"
#include "ngram.h"
#include "slm.h"
#include "tokenizer.h"

#define SLM_MAX_LAYERS 256

// A weight matrix (rows, cols) as stored in the file: cols contiguous.
typedef struct {
    uint32_t type;          // ggml type: F32, F16, Q8_0 or Q4_0
    const void *data;       // NULL if absent
    int rows, cols;
} slm_weight;

typedef struct {
    slm_weight attn_norm;               // (dim)
    slm_weight wq, wk, wv, wo;          // (dim, dim) (kv_dim, dim) (kv_dim, dim) (dim, dim)
    slm_weight q_norm, k_norm;          // (head_dim), only with qk_norm
    slm_weight ffn_norm;                // (dim)
    slm_weight w_gate, w_up, w_down;    // (ffn, dim) (ffn, dim) (dim, ffn)
} slm_layer;

struct slm_model {
    gguf_file gguf;
    const void *bytes;                  // the whole file
    size_t size;
    void *map;                          // bytes is an mmap we unmap on free
    void *owned;                        // bytes is a malloc'd buffer we free
    char *arch, *name;                  // NUL-terminated copies
    slm_model_info info;                // config, filled at load
    slm_weight tok_embd;                // (vocab, dim)
    slm_weight output_norm;             // (dim)
    slm_weight output;                  // (vocab, dim), = tok_embd when tied
    slm_layer *layers;                  // (n_layers)
    // encoders: the n-gram branch (buckets, ngram_dim), absent when
    // ngram.buckets == 0, and the classifier over [pooled tokens; n-grams]
    slm_ngram_cfg ngram;
    int ngram_dim;                      // 0 without the branch
    slm_weight ngram_embd;              // (buckets, ngram_dim)
    slm_weight cls_w, cls_b;            // (n_classes, dim + ngram_dim) F32, (n_classes)
    float temperature;                  // softmax temperature of the classifier
    char **class_labels;                // (n_classes)
    slm_vocab *vocab;
};

// Error helper: fills err (if any) and returns code.
slm_status slm_fail(slm_error *err, slm_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

// Reads the architecture's hyperparameters from a parsed GGUF and fills
// info; checks them for sanity. 0, or -1 with a message.
int model_read_config(const gguf_file *g, slm_model_info *info, char *err, size_t errlen);

// The model behind a context (forward.c owns the struct).
const slm_model *slm_context_model(const slm_context *ctx);

// Milliseconds from a monotonic clock.
double slm_now_ms(void);

#endif
