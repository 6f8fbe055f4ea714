// libFuzzer target: damaged numbers on purpose. fuzz_gguf finds a NaN only
// when a mutation happens to flip the right bits; here the input says which
// floats of a good tiny model to overwrite, and with what, so every tensor
// type's scales and values are damaged by design:
//
//   byte 0        the model: a decoder of each tensor type the engine runs
//                 (on llama, qwen2, qwen3 and gemma3 in turn), or an encoder
//   byte 1        how many damages follow (0..8)
//   4 bytes each  tensor (index), element (block or value, 16 bits), and the
//                 bad float: NaN of either sign and any payload, +-Inf, the
//                 largest finite, a subnormal, zero, ... (specials below)
//   the rest      the prompt's token ids (decoders) or text (encoders)
//
// Then, with every backend this CPU runs and the scalar reference:
// - slm_model_check names a tensor exactly when a NaN or infinity was written;
// - every backend gives the same status and message, and on success the same
//   logits or probabilities, bit for bit and all finite; a NUMERIC failure
//   leaves the context where it was;
// - the quantizers take the damaged rows without undefined behaviour.
// UBSan (float-cast-overflow included) and ASan watch all of it.
//
// The corpus, tests/fuzz/corpus/numbers/, is replayed by `make test`.
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tiny_model.h"
#include "gguf.h"
#include "kernels/kernels.h"
#include "mathx.h"
#include "slm.h"

// Decoders: every tensor type, each on one of the architectures in turn (the
// 256-value types on a width of 256); encoders: from the weights tools.
static const uint32_t types[] = {SLM_TYPE_F32,  SLM_TYPE_F16,  SLM_TYPE_BF16, SLM_TYPE_Q4_0,   SLM_TYPE_Q4_1,
                                 SLM_TYPE_Q5_0, SLM_TYPE_Q5_1, SLM_TYPE_Q8_0, SLM_TYPE_IQ4_NL, SLM_TYPE_Q2_K,
                                 SLM_TYPE_Q3_K, SLM_TYPE_Q4_K, SLM_TYPE_Q5_K, SLM_TYPE_Q6_K,   SLM_TYPE_IQ4_XS};
#define N_TYPES (int)(sizeof types / sizeof types[0])
static const char *const archs[] = {"llama", "qwen2", "qwen3", "gemma3"};
static const tiny_cfg encoders[] = {
    {.dim = 32, .n_heads = 2, .n_kv_heads = 1, .ffn = 64, .n_layers = 1, .ctx = 16, .encoder = 1, .type = SLM_TYPE_Q8_0},
    // Q2_K rows are 256 wide; a short FFN keeps the run quick
    {.dim = 256, .n_heads = 2, .n_kv_heads = 1, .ffn = 32, .n_layers = 1, .ctx = 8, .encoder = 1, .embd_q2_k = 1,
     .type = SLM_TYPE_Q4_0},
};
#define N_VARIANTS (N_TYPES + (int)(sizeof encoders / sizeof encoders[0]))

// Decoder v: gemma3's sliding window of 4 is crossed by 8-token prompts.
static tiny_arch_cfg decoder(int v) {
    uint32_t bb, bv;
    uint16_t off[2];
    tiny_scale_fields(types[v], &bb, &bv, off);
    int wide = bv == 256;
    return (tiny_arch_cfg){.arch = archs[v % 4], .dim = wide ? 256 : 64, .n_heads = wide ? 4 : 2, .n_kv_heads = wide ? 2 : 1,
                           .head_dim = wide ? 64 : 32, .ffn = wide ? 256 : 64, .n_layers = wide ? 1 : 2, .ctx = 16,
                           .swa_window = v % 4 == 3 ? 4 : 0, .type = types[v], .embd_type = types[v], .byte_tokens = 1,
                           .rope_freqs = v % 4 == 0};
}

// The bad floats, as f32 bits (f16 fields take their conversion, bf16 ones
// the top half: NaN stays NaN, its payload's top bits kept).
static const uint32_t specials[] = {
    0x7fc00000u, 0xffc00000u, 0x7f800001u, 0x7fbfffffu,   // NaN: quiet, negative, signaling
    0x7f800000u, 0xff800000u,                             // +-Inf
    0x7f7fffffu, 0xff7fffffu, 0x477fe000u,                // the largest f32, its negative, 65504 (largest f16)
    0x00000001u, 0x80000000u, 0x00000000u, 0x3f800000u,   // a subnormal, -0, 0, 1
};
#define N_SPECIALS (int)(sizeof specials / sizeof specials[0])

// The variants' files, written once.
static uint8_t *files[N_VARIANTS];
static size_t sizes[N_VARIANTS];

static void make_variants(void) {
    char dir[] = "/tmp/slm_fuzz_numbers_XXXXXX", path[64], msg[256];
    if (!mkdtemp(dir)) abort();
    for (int v = 0; v < N_VARIANTS; v++) {
        snprintf(path, sizeof path, "%s/v%d.gguf", dir, v);
        slm_status st;
        if (v < N_TYPES) {
            tiny_arch_cfg c = decoder(v);
            st = tiny_write_arch(path, &c, 1 + (uint64_t)v, msg, sizeof msg);
        } else {
            st = tiny_write(path, &encoders[v - N_TYPES], 1 + (uint64_t)v, NULL);
        }
        if (st) abort();
        FILE *f = fopen(path, "rb");
        if (!f) abort();
        fseek(f, 0, SEEK_END);
        sizes[v] = (size_t)ftell(f);
        fseek(f, 0, SEEK_SET);
        if (!(files[v] = malloc(sizes[v])) || fread(files[v], 1, sizes[v], f) != sizes[v]) abort();
        fclose(f);
        unlink(path);
    }
    rmdir(dir);
}

typedef struct {
    const uint8_t *p;
    size_t n, at;
} input;

static unsigned next_byte(input *in) { return in->at < in->n ? in->p[in->at++] : 0; }

// Writes the input's damages into file (the variant's copy, parsed as g).
// Returns whether a NaN or infinity is left in it.
static int apply_damages(input *in, uint8_t *file, const gguf_file *g) {
    int n = (int)(next_byte(in) % 9);
    uint8_t *where[8];
    int kind[8];   // 0 f32, 1 f16, 2 bf16
    for (int k = 0; k < n; k++) {
        const gguf_tensor *t = &g->tensors[next_byte(in) % g->n_tensors];
        unsigned elem = next_byte(in) | next_byte(in) << 8, sp = next_byte(in);
        uint32_t bb, bv;
        uint16_t off[2];
        int n_fields = tiny_scale_fields(t->type, &bb, &bv, off);
        if (!n_fields) n_fields = 1;   // F32/F16/BF16: the value itself
        uint64_t blocks = t->size / bb;
        uint8_t *at = file + (t->data - g->base) + (elem % blocks) * bb + off[(sp >> 4) % n_fields];
        uint32_t bits = specials[sp % N_SPECIALS];
        float f = slm_bits_to_f32(bits);
        if (t->type == SLM_TYPE_F32) {
            memcpy(at, &bits, 4);
        } else {
            uint16_t h = t->type == SLM_TYPE_BF16 ? (uint16_t)(bits >> 16) : slm_f32_to_f16(f);
            memcpy(at, &h, 2);
        }
        where[k] = at;
        kind[k] = t->type == SLM_TYPE_F32 ? 0 : t->type == SLM_TYPE_BF16 ? 2 : 1;
    }
    // a later damage may have overwritten an earlier one: judge what is left
    int bad = 0;
    for (int k = 0; k < n; k++) {
        uint32_t u = 0;
        memcpy(&u, where[k], kind[k] ? 2 : 4);
        if (kind[k] == 2) u <<= 16;   // BF16: the top half of an f32
        bad |= kind[k] == 1 ? (u & 0x7c00) == 0x7c00 : (u & 0x7f800000u) == 0x7f800000u;
    }
    return bad;
}

// Runs the model with every backend on the rest of the input; all must agree.
static void run_backends(const slm_model *m, const slm_model_info *info, input *in) {
    static const char *const backends[] = {"scalar", "avx2", "avxvnni", "avx512vnni", "neon", "wasm"};
    int n_ids = 0;
    int32_t ids[8];
    char text[16];
    while (n_ids < 8 && in->at < in->n) ids[n_ids++] = (int32_t)(next_byte(in) % (unsigned)info->vocab_size);
    if (!n_ids) ids[n_ids++] = 1;
    for (int i = 0; i < n_ids; i++) text[i] = (char)('a' + ids[i] % 6);
    text[n_ids] = 0;
    size_t n_out = info->is_encoder ? (size_t)info->n_classes : (size_t)n_ids * info->vocab_size;
    float *out = malloc(n_out * sizeof *out), *first = malloc(n_out * sizeof *first);
    slm_error e0 = {0};
    slm_status st0 = SLM_OK;
    int runs = 0;
    if (!out || !first) abort();
    for (size_t b = 0; b < sizeof backends / sizeof backends[0]; b++) {
        slm_context_params cp = slm_context_default_params();
        cp.kernels = backends[b];
        cp.n_batch = 4;
        slm_context *c;
        if (slm_context_new(m, &cp, &c, NULL)) continue;   // not on this CPU
        slm_error e = {0};
        slm_status st = info->is_encoder ? slm_classify(c, text, (size_t)n_ids, out, NULL, &e)
                                         : slm_eval(c, ids, n_ids, out, 1, &e);
        if (st != SLM_OK && st != SLM_ERR_NUMERIC) abort();
        if (st == SLM_ERR_NUMERIC && (slm_context_pos(c) != 0 || !strstr(e.message, "damaged"))) abort();
        if (st == SLM_OK)
            for (size_t i = 0; i < n_out; i++)
                if (!isfinite(out[i])) abort();
        if (!runs) {
            st0 = st, e0 = e;
            memcpy(first, out, n_out * sizeof *out);
        } else if (st != st0 || strcmp(e.message, e0.message) || (st == SLM_OK && memcmp(out, first, n_out * sizeof *out))) {
            abort();   // backends disagree
        }
        runs++;
        slm_context_free(c);
    }
    free(out);
    free(first);
}

// The quantizers on every matrix's first two rows, dequantized, damage and all.
static void quantize_rows(const gguf_file *g) {
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        if (t->n_dims != 2 || t->ne[0] % SLM_QK) continue;
        int cols = (int)t->ne[0];
        float *x = malloc((size_t)2 * cols * sizeof *x);
        uint8_t *q = malloc((size_t)2 * cols * sizeof(float));
        if (!x || !q) abort();
        if (!wt_dequantize(t->type, t->data, x, 2, cols)) {
            wt_quantize_q4_0(x, q, 2 * cols, 1);
            wt_quantize_q8_0(x, q, 2 * cols);
            if (cols % SLM_QK_K == 0) wt_quantize_q2_k(x, q, 2 * cols);
            wt_to_f16(x, (uint16_t *)q, 2 * cols);
        }
        free(x);
        free(q);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!files[0]) make_variants();
    input in = {data, size, 0};
    int v = (int)(next_byte(&in) % N_VARIANTS);
    uint8_t *file = malloc(sizes[v]);
    if (!file) abort();
    memcpy(file, files[v], sizes[v]);
    gguf_file g;
    char msg[256];
    if (gguf_parse(&g, file, sizes[v], msg, sizeof msg)) abort();
    int bad = apply_damages(&in, file, &g);

    slm_model *m;
    slm_error e;
    if (slm_model_load_memory(file, sizes[v], 0, 0, &m, &e)) abort();   // damage is in the data, not the header
    slm_status st = slm_model_check(m, &e);
    if ((st != SLM_OK) != bad || (st && st != SLM_ERR_BAD_MODEL)) abort();
    slm_model_info info;
    slm_model_get_info(m, &info);
    run_backends(m, &info, &in);
    slm_model_free(m);
    quantize_rows(&g);
    gguf_free(&g);
    free(file);
    return 0;
}
