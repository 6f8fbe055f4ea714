// llama: Llama 1-3, SmolLM2, TinyLlama, and slm360's own decoders. The plain
// block: RMSNorm, attention with RoPE on adjacent pairs (llama.cpp's converter
// permutes q and k's rows for it), SwiGLU. Llama 3 divides each RoPE frequency
// by a factor of rope_freqs.weight (its long-context scaling); slm360's
// decoders may normalize q and k per head (slm360.qk_norm).
#include "models.h"

int arch_llama(const gguf_file *g, const char *arch, slm_model_info *in, slm_arch *a, char *err, size_t errlen) {
    (void)arch;
    a->rope_freqs = 1;   // used if the file has it
    if (gguf_get_bool(g, "slm360.qk_norm", &in->qk_norm) < 0) {
        snprintf(err, errlen, "slm360.qk_norm is not a bool");
        return -1;
    }
    a->qk_norm = in->qk_norm;
    return 0;
}
