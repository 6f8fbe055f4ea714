// gemma3: Gemma 3 (text). Embeddings times sqrt(width); q and k normalized per
// head; RMSNorm of the attention and of the FFN output before each residual
// add; a GELU (tanh) gate; queries scaled by 1/sqrt(key_length) (27B: by
// 1/sqrt(width / heads)); sliding-window attention on the layers the file marks
// (attention.sliding_window_pattern: an array of bools, or n for "every n-th
// layer global"), with their own RoPE base (10,000 unless rope.freq_base_swa).
// Its GGUF norms already hold 1 + w (the converter adds the 1).
#include <math.h>

#include "models.h"

int arch_gemma3(const gguf_file *g, const char *arch, slm_model_info *in, slm_arch *a, char *err, size_t errlen) {
    a->rope_neox = 1;
    a->qk_norm = in->qk_norm = 1;
    a->post_norms = 1;
    a->gelu = 1;
    a->embd_scale = sqrtf((float)in->dim);
    a->attn_scale = 1.0f / sqrtf((float)(in->n_layers == 62 ? in->dim / in->n_heads : in->head_dim));
    if (arch_u32(g, arch, "attention.sliding_window", 0, 0, 1u << 30, &a->swa_window, err, errlen) ||
        arch_f32(g, arch, "rope.freq_base_swa", 10000.0f, 1.0f, 1e9f, &a->rope_theta_swa, err, errlen) ||
        arch_f32(g, arch, "final_logit_softcapping", 0.0f, 0.0f, 1e6f, &a->logit_softcap, err, errlen))
        return -1;
    if (!a->swa_window) return 0;
    char key[128];
    snprintf(key, sizeof key, "%s.attention.sliding_window_pattern", arch);
    const gguf_kv *kv = gguf_find(g, key);
    if (kv && kv->type == GGUF_ARRAY) {
        if (kv->arr_type != GGUF_BOOL || kv->arr_n != (uint64_t)in->n_layers) {
            snprintf(err, errlen, "%s must hold one bool per layer (%d)", key, in->n_layers);
            return -1;
        }
        for (int l = 0; l < in->n_layers; l++) a->swa[l] = kv->arr_data[l] != 0;
        return 0;
    }
    int every = 6;   // llama.cpp's default for Gemma 3: 5 local layers, then a global one
    if (arch_u32(g, arch, "attention.sliding_window_pattern", 6, 0, 1u << 16, &every, err, errlen)) return -1;
    for (int l = 0; l < in->n_layers; l++) a->swa[l] = every == 0 || l % every < every - 1;
    return 0;
}
