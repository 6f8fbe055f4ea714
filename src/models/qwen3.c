// qwen3: Qwen3 (dense). Qwen2's block without the biases and with a per-head
// RMSNorm of q and k before RoPE; heads may be wider than width / heads
// (attention.key_length: Qwen3-0.6B has 16 heads of 128 on a width of 1024).
#include "models.h"

int arch_qwen3(const gguf_file *g, const char *arch, slm_model_info *in, slm_arch *a, char *err, size_t errlen) {
    (void)g, (void)arch, (void)err, (void)errlen;
    a->rope_neox = 1;
    a->qk_norm = in->qk_norm = 1;
    return 0;
}
