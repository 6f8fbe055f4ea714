// slm_model_check: every float a model file holds, checked for NaN and
// infinity. A flipped bit in an F16 block scale is enough to make one, and
// the forward pass would only find it when a token reaches that block; the
// scan finds it at load, naming the tensor, the row and the block.
//
// What is scanned is every floating-point field of ggml's layouts: each value
// of F32, F16, BF16 and F64 tensors, and each quantized block's scales (the
// quants themselves are integers and cannot be damaged into NaN).
#include <stdio.h>
#include <string.h>

#include "model.h"

// Where a type's blocks keep their floats: up to two F16 fields (byte
// offsets), or for float tensors the value's own format.
typedef enum { VALUE_F32, VALUE_F16, VALUE_BF16, VALUE_F64, BLOCK_F16, BLOCK_F32 } field_kind;

typedef struct {
    uint32_t type;
    field_kind kind;
    int n_fields;           // blocks: how many scale fields
    uint16_t offset[2];     // blocks: their byte offsets in the block
    const char *names[2];   // blocks: what the fields are, for the message
} float_fields;

static const float_fields layouts[] = {
    {SLM_TYPE_F32, VALUE_F32, 0, {0}, {NULL}},
    {SLM_TYPE_F16, VALUE_F16, 0, {0}, {NULL}},
    {30 /* BF16 */, VALUE_BF16, 0, {0}, {NULL}},
    {28 /* F64 */, VALUE_F64, 0, {0}, {NULL}},
    {2 /* Q4_0 */, BLOCK_F16, 1, {0}, {"scale"}},
    {3 /* Q4_1 */, BLOCK_F16, 2, {0, 2}, {"scale", "min"}},
    {6 /* Q5_0 */, BLOCK_F16, 1, {0}, {"scale"}},
    {7 /* Q5_1 */, BLOCK_F16, 2, {0, 2}, {"scale", "min"}},
    {8 /* Q8_0 */, BLOCK_F16, 1, {0}, {"scale"}},
    {9 /* Q8_1 */, BLOCK_F16, 2, {0, 2}, {"scale", "sum"}},
    {10 /* Q2_K */, BLOCK_F16, 2, {80, 82}, {"scale", "min scale"}},
    {11 /* Q3_K */, BLOCK_F16, 1, {108}, {"scale"}},
    {12 /* Q4_K */, BLOCK_F16, 2, {0, 2}, {"scale", "min scale"}},
    {13 /* Q5_K */, BLOCK_F16, 2, {0, 2}, {"scale", "min scale"}},
    {14 /* Q6_K */, BLOCK_F16, 1, {208}, {"scale"}},
    {15 /* Q8_K */, BLOCK_F32, 1, {0}, {"scale"}},
    {20 /* IQ4_NL */, BLOCK_F16, 1, {0}, {"scale"}},
    {23 /* IQ4_XS */, BLOCK_F16, 1, {0}, {"scale"}},
};

static const float_fields *layout_of(uint32_t type) {
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
        if (layouts[i].type == type) return &layouts[i];
    return NULL;   // integer types: nothing to check
}

static uint16_t u16_at(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t u32_at(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

// 0 finite, 1 NaN, 2 infinity; from the bits of each format.
static int f16_bad(uint16_t h) { return (h & 0x7c00) != 0x7c00 ? 0 : (h & 0x3ff) ? 1 : 2; }
static int f32_bad(uint32_t u) { return (u & 0x7f800000u) != 0x7f800000u ? 0 : (u & 0x7fffff) ? 1 : 2; }

// Element i of a float tensor: 0 finite, 1 NaN, 2 infinity.
static int value_bad(const uint8_t *p, uint64_t i, field_kind kind) {
    switch (kind) {
    case VALUE_F32: return f32_bad(u32_at(p + 4 * i));
    case VALUE_F16: return f16_bad(u16_at(p + 2 * i));
    case VALUE_BF16: return f32_bad((uint32_t)u16_at(p + 2 * i) << 16);
    default: {   // F64
        uint32_t hi = u32_at(p + 8 * i + 4);
        if ((hi & 0x7ff00000u) != 0x7ff00000u) return 0;
        return (hi & 0xfffff) || u32_at(p + 8 * i) ? 1 : 2;
    }
    }
}

// Whether any of elements [i0, i1) of a float tensor is NaN or infinite.
// F32, F16 and BF16 go 8 bytes at a time with no branch: a lane's exponent
// bits (mask) plus one unit of its lowest exponent bit (add) carries into the
// lane's top bit exactly when they are all set, and never into the next lane.
static int any_bad(const uint8_t *p, uint64_t i0, uint64_t i1, field_kind kind) {
    static const struct { uint64_t mask, add; int lanes; } swar[] = {
        [VALUE_F32] = {0x7f8000007f800000ull, 0x0080000000800000ull, 2},
        [VALUE_F16] = {0x7c007c007c007c00ull, 0x0400040004000400ull, 4},
        [VALUE_BF16] = {0x7f807f807f807f80ull, 0x0080008000800080ull, 4},
    };
    uint64_t head = i1, tail = i1;   // elements left to check one by one: [i0, head) and [tail, i1)
    if (kind == VALUE_F32 || kind == VALUE_F16 || kind == VALUE_BF16) {
        uint64_t lanes = (uint64_t)swar[kind].lanes, mask = swar[kind].mask, add = swar[kind].add, acc = 0;
        uint64_t w0 = (i0 + lanes - 1) / lanes, w1 = i1 / lanes;
        if (w0 < w1) {
            for (uint64_t k = w0; k < w1; k++) {
                uint64_t w;
                memcpy(&w, p + 8 * k, 8);   // little-endian, as GGUF and every target
                acc |= (w & mask) + add;
            }
            if (acc & (mask + add)) return 1;
            head = w0 * lanes, tail = w1 * lanes;
        }
    }
    for (uint64_t i = i0; i < head; i++)
        if (value_bad(p, i, kind)) return 1;
    for (uint64_t i = tail; i < i1; i++)
        if (value_bad(p, i, kind)) return 1;
    return 0;
}

static const char *what_of(int bad) { return bad == 1 ? "NaN" : "an infinity"; }

// One tensor: SLM_OK or SLM_ERR_BAD_MODEL naming its first damaged float.
static slm_status check_tensor(const gguf_tensor *t, slm_error *err) {
    const float_fields *f = layout_of(t->type);
    uint32_t values, bytes;
    if (!f || !ggml_type_block(t->type, &values, &bytes) || !t->size) return SLM_OK;
    uint64_t per_row = t->ne[0] / values, n_blocks = t->size / bytes;
    if (f->kind != BLOCK_F16 && f->kind != BLOCK_F32) {
        enum { CHUNK = 4096 };
        for (uint64_t i = 0; i < n_blocks; i++) {
            if (i % CHUNK == 0 && !any_bad(t->data, i, n_blocks - i < CHUNK ? n_blocks : i + CHUNK, f->kind)) {
                i += CHUNK - 1;   // the whole chunk is finite
                continue;
            }
            int bad = value_bad(t->data, i, f->kind);
            if (bad)
                return slm_fail(err, SLM_ERR_BAD_MODEL, "tensor '%s' (%s) holds %s at row %llu, column %llu: the file is "
                                "damaged", t->name, ggml_type_name(t->type), what_of(bad), (unsigned long long)(i / per_row),
                                (unsigned long long)(i % per_row));
        }
        return SLM_OK;
    }
    for (uint64_t b = 0; b < n_blocks; b++) {
        const uint8_t *blk = t->data + b * bytes;
        for (int k = 0; k < f->n_fields; k++) {
            int bad = f->kind == BLOCK_F16 ? f16_bad(u16_at(blk + f->offset[k])) : f32_bad(u32_at(blk + f->offset[k]));
            if (bad)
                return slm_fail(err, SLM_ERR_BAD_MODEL, "tensor '%s' (%s) holds %s in the %s of block %llu (row %llu, "
                                "block %llu of the row): the file is damaged", t->name, ggml_type_name(t->type),
                                what_of(bad), f->names[k], (unsigned long long)b, (unsigned long long)(b / per_row),
                                (unsigned long long)(b % per_row));
        }
    }
    return SLM_OK;
}

slm_status slm_model_check(const slm_model *m, slm_error *err) {
    const gguf_file *g = &m->gguf;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        slm_status st = check_tensor(&g->tensors[i], err);
        if (st) return st;
    }
    return SLM_OK;
}
