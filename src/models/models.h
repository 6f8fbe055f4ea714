// One file per model architecture (GGUF general.architecture): each reads its
// own keys into slm_arch, the list of what its block does differently from the
// shared one (forward.c). Adding an architecture is a file here and a line in
// the table of model.c.
#ifndef SLM_MODELS_H
#define SLM_MODELS_H

#include "../model.h"

// Fills a and the architecture's parts of in from g (the common keys are
// read already: in->dim, n_layers, n_heads, head_dim ...). arch is the
// architecture name, the keys' prefix. 0, or -1 with a message in err.
typedef int (*slm_arch_config_fn)(const gguf_file *g, const char *arch, slm_model_info *in, slm_arch *a, char *err,
                                  size_t errlen);

int arch_llama(const gguf_file *g, const char *arch, slm_model_info *in, slm_arch *a, char *err, size_t errlen);
int arch_qwen2(const gguf_file *g, const char *arch, slm_model_info *in, slm_arch *a, char *err, size_t errlen);
int arch_qwen3(const gguf_file *g, const char *arch, slm_model_info *in, slm_arch *a, char *err, size_t errlen);
int arch_gemma3(const gguf_file *g, const char *arch, slm_model_info *in, slm_arch *a, char *err, size_t errlen);
int arch_slm360_encoder(const gguf_file *g, const char *arch, slm_model_info *in, slm_arch *a, char *err, size_t errlen);

// Shared by the files: an optional key of the architecture, checked.
int arch_u32(const gguf_file *g, const char *arch, const char *key, uint32_t def, uint32_t lo, uint32_t hi, int *out,
             char *err, size_t errlen);
int arch_f32(const gguf_file *g, const char *arch, const char *key, float def, float lo, float hi, float *out, char *err,
             size_t errlen);

#endif
