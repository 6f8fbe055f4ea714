// llama.cpp's own quantizer (llama_model_quantize, no importance matrix) on a
// GGUF file: the reference files for benchmarks and for comparing quantizers.
// Built against the libllama that the npm package node-llama-cpp ships (as
// bench/llama_cpp_logits.c is); never part of slm360.
//
//   llama_cpp_quantize BINS_DIR IN.gguf OUT.gguf FTYPE   (FTYPE: llama.h's number, e.g. 15 = Q4_K_M)
// llama.cpp writes a truncated file from an input with general.alignment = 64
// (slm360's files): give it a copy with 32 there.
#include <stdio.h>
#include <stdlib.h>

#include "ggml-backend.h"
#include "llama.h"

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: llama_cpp_quantize BINS_DIR IN.gguf OUT.gguf FTYPE\n");
        return 1;
    }
    ggml_backend_load_all_from_path(argv[1]);
    llama_backend_init();
    struct llama_model_quantize_params p = llama_model_quantize_default_params();
    p.ftype = (enum llama_ftype)atoi(argv[4]);
    p.nthread = 2;
    if (llama_model_quantize(argv[2], argv[3], &p)) {
        fprintf(stderr, "%s: llama.cpp could not quantize it\n", argv[2]);
        return 2;
    }
    return 0;
}
