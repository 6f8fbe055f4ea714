// slm360-encoder: slm360's own intent classifier (docs/FORMAT.md, "Encoders").
// The llama block with attention over the whole text (no causal mask); its
// head (mean pooling, the n-gram branch, the classifier) is read by model.c.
#include "models.h"

int arch_slm360_encoder(const gguf_file *g, const char *arch, slm_model_info *in, slm_arch *a, char *err,
                        size_t errlen) {
    in->is_encoder = 1;
    if (gguf_get_bool(g, "slm360.qk_norm", &in->qk_norm) < 0) {
        snprintf(err, errlen, "slm360.qk_norm is not a bool");
        return -1;
    }
    a->qk_norm = in->qk_norm;
    return arch_u32(g, arch, "num_classes", 0, 1, 1 << 16, &in->n_classes, err, errlen) ? -1 : 0;
}
