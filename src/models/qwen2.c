// qwen2: Qwen2 and Qwen2.5. The llama block with biases on q, k and v, and
// RoPE on pairs half a head apart (GPT-NeoX's layout); theta 1e6 in the file.
#include "models.h"

int arch_qwen2(const gguf_file *g, const char *arch, slm_model_info *in, slm_arch *a, char *err, size_t errlen) {
    (void)g, (void)arch, (void)in, (void)err, (void)errlen;
    a->qkv_bias = 1;
    a->rope_neox = 1;
    return 0;
}
