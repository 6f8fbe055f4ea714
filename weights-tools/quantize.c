// slm quantize: any supported GGUF model -> F32, F16, Q8_0 or Q4_0.
#include <stdio.h>
#include <string.h>

#include "../src/model.h"
#include "wtools.h"

slm_quantize_params slm_quantize_default_params(slm_type type) {
    return (slm_quantize_params){.type = type, .embd_type = -1, .smart_scales = 0};
}

// Every tensor of the model back in f32, with the same names and shapes.
static slm_status to_f32(const slm_model *src, wt_model *dst, slm_error *err) {
    const gguf_file *g = &src->gguf;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        int vector = t->n_dims == 1, rows = vector ? 0 : (int)t->ne[1], cols = (int)t->ne[0];
        float *data = wt_add(dst, t->name, rows, cols);
        if (!data) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory converting %s", t->name);
        if (wt_dequantize(t->type, t->data, data, vector ? 1 : rows, cols))
            return slm_fail(err, SLM_ERR_UNSUPPORTED, "tensor %s has type %s", t->name, ggml_type_name(t->type));
    }
    return SLM_OK;
}

slm_status slm_quantize_file(const char *in_path, const char *out_path, const slm_quantize_params *p, slm_error *err) {
    if (!strcmp(in_path, out_path)) return slm_fail(err, SLM_ERR_INVALID_ARG, "input and output are the same file");
    slm_model *src;
    slm_status rc = slm_model_load_file(in_path, 0, &src, err);
    if (rc) return rc;
    wt_model m = {.cfg = src->info, .name = src->name};
    gguf_writer *w = gguf_writer_new();
    if (!w) rc = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    if (!rc) rc = to_f32(src, &m, err);
    if (!rc && src->info.is_encoder) {
        m.class_labels = (const char *const *)src->class_labels;
        m.temperature = src->temperature;
        m.ngram = src->ngram;
        m.ngram_dim = src->ngram_dim;
    }
    // the tokenizer, and an encoder's stored examples for on-device learning
    if (!rc && (wt_copy_tokenizer(w, &src->gguf) || wt_copy_keys(w, &src->gguf, "slm360-encoder.learn.")))
        rc = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    if (!rc) rc = wt_write(w, &m, p, out_path, err);
    gguf_writer_free(w);
    wt_free(&m);
    slm_model_free(src);
    return rc;
}
