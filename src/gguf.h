// GGUF: reading (from a buffer, trusting nothing) and writing (atomically).
#ifndef SLM_GGUF_H
#define SLM_GGUF_H

#include <stdint.h>
#include <stdio.h>

enum {
    GGUF_U8 = 0, GGUF_I8 = 1, GGUF_U16 = 2, GGUF_I16 = 3, GGUF_U32 = 4, GGUF_I32 = 5,
    GGUF_F32 = 6, GGUF_BOOL = 7, GGUF_STRING = 8, GGUF_ARRAY = 9, GGUF_U64 = 10,
    GGUF_I64 = 11, GGUF_F64 = 12,
};

typedef struct {
    const char *ptr;   // into the file buffer, not NUL-terminated
    uint64_t len;
} gguf_str;

typedef struct {
    char *key;               // NUL-terminated copy
    uint32_t type;
    union {
        uint64_t u;          // unsigned ints and bool
        int64_t i;           // signed ints
        double f;            // floats
        gguf_str s;          // string
    } v;
    // arrays: element type and count; numbers point into the file buffer,
    // strings are indexed into strs (allocated)
    uint32_t arr_type;
    uint64_t arr_n;
    const uint8_t *arr_data;
    gguf_str *strs;
} gguf_kv;

typedef struct {
    char *name;              // NUL-terminated copy
    uint32_t n_dims;
    uint64_t ne[4];          // ne[0] is the contiguous dimension (a row), as in ggml
    uint32_t type;           // ggml type id
    uint64_t offset;         // from the start of the data section
    uint64_t size;           // bytes
    const uint8_t *data;
} gguf_tensor;

typedef struct {
    const uint8_t *base;
    uint64_t size;
    uint32_t version;
    uint64_t alignment;
    uint64_t data_offset;    // start of the tensor data section
    uint64_t n_kv, n_tensors;
    gguf_kv *kv;
    gguf_tensor *tensors;
} gguf_file;

// Parses and validates a whole GGUF file held in memory. On failure returns
// -1 with a message in err (the file name is the caller's to add) and leaves
// nothing allocated. Returns -2 when out of memory.
int gguf_parse(gguf_file *g, const void *data, uint64_t size, char *err, size_t errlen);
void gguf_free(gguf_file *g);

const gguf_kv *gguf_find(const gguf_file *g, const char *key);
const gguf_tensor *gguf_find_tensor(const gguf_file *g, const char *name);

// Typed lookups: 0 on success, 1 if absent, -1 if present with a type that
// does not fit (integers must fit in the target without change).
int gguf_get_u32(const gguf_file *g, const char *key, uint32_t *out);
int gguf_get_f32(const gguf_file *g, const char *key, float *out);
int gguf_get_bool(const gguf_file *g, const char *key, int *out);
int gguf_get_str(const gguf_file *g, const char *key, gguf_str *out);

// ggml type facts: block size (values) and bytes per block; 0 if unknown.
int ggml_type_block(uint32_t type, uint32_t *values, uint32_t *bytes);
const char *ggml_type_name(uint32_t type);
// Bytes of a row of n values, or 0 if n is not a multiple of the block.
uint64_t ggml_row_size(uint32_t type, uint64_t n);

// ---- writing ---------------------------------------------------------------

typedef struct gguf_writer gguf_writer;

gguf_writer *gguf_writer_new(void);
void gguf_writer_free(gguf_writer *w);
// Metadata (keys must be unique; the writer copies keys and values).
int gguf_w_str(gguf_writer *w, const char *key, const char *val);
int gguf_w_u32(gguf_writer *w, const char *key, uint32_t val);
int gguf_w_i32(gguf_writer *w, const char *key, int32_t val);
int gguf_w_f32(gguf_writer *w, const char *key, float val);
int gguf_w_bool(gguf_writer *w, const char *key, int val);
int gguf_w_arr_str(gguf_writer *w, const char *key, const char *const *vals, const uint32_t *lens, uint64_t n);
int gguf_w_arr_f32(gguf_writer *w, const char *key, const float *vals, uint64_t n);
int gguf_w_arr_i32(gguf_writer *w, const char *key, const int32_t *vals, uint64_t n);
// Copies a metadata entry from a parsed file (any type).
int gguf_w_copy_kv(gguf_writer *w, const gguf_kv *kv);
// A tensor: shape ne[0..n_dims-1] (ne[0] contiguous); data must stay valid
// until gguf_writer_write; the writer does not copy it.
int gguf_w_tensor(gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims, const uint64_t *ne,
                  const void *data, uint64_t size);
// Writes to path via a temporary file renamed into place, alignment 64.
// Returns 0, or -1 with a message in err.
int gguf_writer_write(gguf_writer *w, const char *path, char *err, size_t errlen);
// The same file as one malloc'd buffer (the caller frees it). Returns 0, or
// -1 when out of memory.
int gguf_writer_to_memory(gguf_writer *w, void **data, size_t *size);

#endif
