// llama.cpp's logits for given token ids, every position, as raw little-endian
// float32 (positions x vocabulary): the reference `slm logits -o` is compared
// with (bench/archs_vs_llama_cpp.sh builds and runs it). Built against the
// libllama that the npm package node-llama-cpp ships; never part of slm360.
//
//   llama_cpp_logits BINS_DIR MODEL.gguf OUT.f32 ID ID ...
#include <stdio.h>
#include <stdlib.h>

#include "ggml-backend.h"
#include "llama.h"

static void quiet(enum ggml_log_level level, const char *text, void *user) { (void)level, (void)text, (void)user; }

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: llama_cpp_logits BINS_DIR MODEL.gguf OUT.f32 ID ID ...\n");
        return 1;
    }
    int n = argc - 4;
    llama_log_set(quiet, NULL);
    ggml_backend_load_all_from_path(argv[1]);
    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    struct llama_model *model = llama_model_load_from_file(argv[2], mp);
    if (!model) { fprintf(stderr, "%s: llama.cpp cannot load it\n", argv[2]); return 2; }
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t)n;
    cp.n_batch = (uint32_t)n;
    cp.n_ubatch = (uint32_t)n;
    cp.n_threads = cp.n_threads_batch = 2;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) { fprintf(stderr, "cannot make a context of %d tokens\n", n); return 2; }
    struct llama_batch batch = llama_batch_init(n, 0, 1);
    for (int i = 0; i < n; i++) {
        batch.token[i] = atoi(argv[4 + i]);
        batch.pos[i] = i;
        batch.n_seq_id[i] = 1;
        batch.seq_id[i][0] = 0;
        batch.logits[i] = 1;
    }
    batch.n_tokens = n;
    if (llama_decode(ctx, batch)) { fprintf(stderr, "llama_decode failed\n"); return 2; }
    int vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    FILE *f = fopen(argv[3], "wb");
    for (int i = 0; f && i < n; i++) fwrite(llama_get_logits_ith(ctx, i), sizeof(float), (size_t)vocab, f);
    if (!f || fclose(f)) { fprintf(stderr, "%s: cannot write\n", argv[3]); return 2; }
    llama_batch_free(batch);
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
