// Shared pieces of the weights tools: a model held as named f32 tensors, the
// row quantizers, and the writer that turns it into a GGUF file.
#ifndef SLM_WTOOLS_H
#define SLM_WTOOLS_H

#include <stdint.h>

#include "../src/gguf.h"
#include "../src/ngram.h"
#include "../src/slm.h"

typedef struct {
    char name[96];
    int rows, cols;         // rows == 0: a vector of cols (norm weights, biases)
    float *data;            // (rows, cols) f32, owned
} wt_tensor;

typedef struct {
    slm_model_info cfg;     // architecture and shape (n_classes for encoders)
    const char *name;       // general.name
    wt_tensor *tensors;
    int n_tensors, cap;
    const char *const *class_labels;  // encoders: n_classes labels
    float temperature;      // encoders: softmax temperature (0 means 1)
    slm_ngram_cfg ngram;    // encoders: n-gram features (buckets 0: no branch)
    int ngram_dim;          // encoders: width of ngram_embd.weight
    const char *arch;       // decoders: llama (NULL), qwen2, qwen3, gemma3
    int swa_window, swa_every;  // gemma3: sliding window, every n-th layer global
} wt_model;

// Appends a zeroed tensor; returns its data or NULL when out of memory.
float *wt_add(wt_model *m, const char *name, int rows, int cols);
void wt_free(wt_model *m);

// Row quantizers (n % 32 == 0 for Q4_0/Q8_0). smart: Q4_0 searches each
// block's scale for the least squared error instead of max/-8.
void wt_quantize_q4_0(const float *x, void *out, int n, int smart);
void wt_quantize_q8_0(const float *x, void *out, int n);
// n % 256 == 0; least-squares scale and min per group of 16.
void wt_quantize_q2_k(const float *x, void *out, int n);
void wt_to_f16(const float *x, uint16_t *out, int n);
// Any supported tensor back to f32 (rows*cols values).
int wt_dequantize(uint32_t type, const void *data, float *out, int rows, int cols);

// Writes m as GGUF: the caller has put the tokenizer keys into w; this adds
// the config keys and the tensors converted per p (padding the FFN to a
// multiple of 32 for Q4_0/Q8_0, telling p->note what it did).
slm_status wt_write(gguf_writer *w, wt_model *m, const slm_quantize_params *p, const char *path, slm_error *err);

// Copies every tokenizer.* key of a parsed GGUF into w; every key starting
// with prefix.
int wt_copy_tokenizer(gguf_writer *w, const gguf_file *g);
int wt_copy_keys(gguf_writer *w, const gguf_file *g, const char *prefix);

// slm_train_tokenizer that also hands on_word (if not NULL) the trainer's
// final segmentation of every distinct word it learnt from ("▁" first, as
// normalized), as vocabulary ids: tests compare it with the runtime's.
typedef void (*wt_word_fn)(void *user, const char *word, int len, const int32_t *ids, int n);
slm_status wt_train_tokenizer(const char *const *files, int n_files, const slm_tokenizer_train_params *p,
                              const char *out_path, wt_word_fn on_word, void *user, slm_error *err);

#endif
