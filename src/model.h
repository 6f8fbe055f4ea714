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

// What an architecture changes in the shared block (src/models/<arch>.c fills
// it; forward.c follows it). Zero is the plain llama block.
typedef struct {
    int rope_neox;          // RoPE pairs (i, i + head_dim/2) (GPT-NeoX) instead of (2i, 2i+1)
    int qkv_bias;           // attn_q/k/v.bias are required (any architecture may have them)
    int qk_norm;            // per-head RMSNorm of q and k before RoPE
    int post_norms;         // RMSNorm of the attention and of the FFN output before each residual add
    int gelu;               // FFN gate GELU (tanh) instead of SiLU
    int rope_freqs;         // rope_freqs.weight (head_dim/2) divides the frequencies, if present
    float embd_scale;       // token embeddings times it (0: not scaled)
    float attn_scale;       // queries times it before attention (0: 1/sqrt(head_dim) on the scores)
    float rope_freq_scale;  // positions times it (linear RoPE scaling: 1/factor)
    float rope_theta_swa;   // RoPE base of the sliding-window layers
    float logit_softcap;    // logits = cap * tanh(logits / cap) (0: none)
    int swa_window;         // sliding window in tokens (0: none)
    uint8_t swa[SLM_MAX_LAYERS];  // layers that use it
} slm_arch;

typedef struct {
    slm_weight attn_norm;               // (dim)
    slm_weight wq, wk, wv, wo;          // (q_dim, dim) (kv_dim, dim) (kv_dim, dim) (dim, q_dim)
    slm_weight bq, bk, bv, bo;          // (q_dim) (kv_dim) (kv_dim) (dim), if present
    slm_weight q_norm, k_norm;          // (head_dim), only with qk_norm
    slm_weight attn_post_norm;          // (dim), only with post_norms
    slm_weight ffn_norm;                // (dim)
    slm_weight w_gate, w_up, w_down;    // (ffn, dim) (ffn, dim) (dim, ffn)
    slm_weight ffn_post_norm;           // (dim), only with post_norms
} slm_layer;

struct slm_model {
    gguf_file gguf;
    const void *bytes;                  // the whole file
    size_t size;
    void *map;                          // bytes is an mmap we unmap on free
    void *owned;                        // bytes is a malloc'd buffer we free
    char *arch, *name;                  // NUL-terminated copies
    slm_model_info info;                // config, filled at load
    slm_arch arch_p;                    // what the architecture changes in the block
    int q_dim;                          // n_heads * head_dim (may differ from dim)
    slm_weight rope_freqs;              // (head_dim/2), if present
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
// info and arch; checks them for sanity. 0, or -1 with a message (one about
// an architecture or feature slm360 does not run says "not supported").
int model_read_config(const gguf_file *g, slm_model_info *info, slm_arch *arch, char *err, size_t errlen);

// The model behind a context (forward.c owns the struct).
const slm_model *slm_context_model(const slm_context *ctx);

// Milliseconds from a monotonic clock.
double slm_now_ms(void);

#endif
