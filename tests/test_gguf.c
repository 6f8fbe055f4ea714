// GGUF reader and writer tests: writer round trips, every truncation of a
// small valid file, byte flips and garbage over the header, and hostile
// values one at a time, each built byte by byte.
//
// With SLM_WRITE_SEEDS=DIR it also writes the fuzz seed corpus into DIR (see
// tests/fuzz/fuzz_gguf.c).
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../weights-tools/wtools.h"
#include "gguf.h"
#include "slm.h"
#include "test.h"
#include "tiny_model.h"
#include "tiny_model.h"

static char tmpdir[64];

// A path in the temporary directory; valid for the next 4 calls.
static char *tmp_path(const char *name) {
    static char path[4][256];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
    return p;
}

static uint8_t *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) { free(p); p = NULL; }
    fclose(f);
    if (p) *size = (size_t)n;
    return p;
}

static int write_all(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

// A copy of n bytes in a buffer of exactly n bytes, so that ASan sees any
// read past the end.
static void *exact_copy(const void *p, size_t n) {
    void *c = malloc(n ? n : 1);
    if (!c) abort();
    if (n) memcpy(c, p, n);
    return c;
}

static uint64_t rng_state = 0x853c49e6748fea9bull;

static uint32_t rng(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

// ---- raw GGUF bytes, for files the writer would never make -------------------

typedef struct {
    uint8_t *p;
    size_t len, cap;
    uint32_t version;   // counts and lengths are 32-bit in v1
} bytes;

static void put(bytes *b, const void *src, size_t n) {
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        if (!(b->p = realloc(b->p, b->cap))) abort();
    }
    if (n) memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void put_u8(bytes *b, uint8_t v) { put(b, &v, 1); }
static void put_u32(bytes *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(bytes *b, uint64_t v) { put(b, &v, 8); }
static void put_len(bytes *b, uint64_t v) { b->version == 1 ? put_u32(b, (uint32_t)v) : put_u64(b, v); }
static void put_strn(bytes *b, const char *s, uint64_t n) { put_len(b, n); put(b, s, n); }
static void put_str(bytes *b, const char *s) { put_strn(b, s, strlen(s)); }

static void put_zeros(bytes *b, size_t n) {
    while (n--) put_u8(b, 0);
}

static void pad_to(bytes *b, size_t align) { put_zeros(b, (align - b->len % align) % align); }

static void header(bytes *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    b->len = 0;
    b->version = version;
    put(b, "GGUF", 4);
    put_u32(b, version);
    put_len(b, n_tensors);
    put_len(b, n_kv);
}

static void kv_u32(bytes *b, const char *key, uint32_t v) { put_str(b, key); put_u32(b, GGUF_U32); put_u32(b, v); }
static void kv_str(bytes *b, const char *key, const char *v) { put_str(b, key); put_u32(b, GGUF_STRING); put_str(b, v); }

// A tensor info entry; ne holds n_dims values.
static void tensor_info(bytes *b, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type, uint64_t offset) {
    put_str(b, name);
    put_u32(b, n_dims);
    for (uint32_t d = 0; d < n_dims; d++) put_len(b, ne[d]);
    put_u32(b, type);
    put_u64(b, offset);
}

static const uint32_t value_size[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

// Re-emits a parsed file as GGUF `version` with tensor data aligned to
// `align` (written as general.alignment unless it is the default 32).
static void emit(bytes *b, const gguf_file *g, uint32_t version, uint32_t align) {
    const gguf_kv *al = gguf_find(g, "general.alignment");
    header(b, version, g->n_tensors, g->n_kv - (al != NULL) + (align != 32));
    if (align != 32) kv_u32(b, "general.alignment", align);
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const gguf_kv *kv = &g->kv[i];
        if (kv == al) continue;
        put_str(b, kv->key);
        put_u32(b, kv->type);
        if (kv->type == GGUF_STRING) {
            put_strn(b, kv->v.s.ptr, kv->v.s.len);
        } else if (kv->type != GGUF_ARRAY) {
            uint8_t raw[8];
            if (kv->type == GGUF_F32) { float f = (float)kv->v.f; memcpy(raw, &f, 4); }
            else memcpy(raw, &kv->v.u, 8);   // little-endian: the low bytes are the value
            put(b, raw, value_size[kv->type]);
        } else {
            put_u32(b, kv->arr_type);
            put_len(b, kv->arr_n);
            if (kv->arr_type == GGUF_STRING)
                for (uint64_t j = 0; j < kv->arr_n; j++) put_strn(b, kv->strs[j].ptr, kv->strs[j].len);
            else
                put(b, kv->arr_data, kv->arr_n * value_size[kv->arr_type]);
        }
    }
    uint64_t off = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        tensor_info(b, t->name, t->n_dims, t->ne, t->type, off);
        off += (t->size + align - 1) / align * align;
    }
    pad_to(b, align);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        put(b, g->tensors[i].data, g->tensors[i].size);
        pad_to(b, align);
    }
}

// ---- tiny models, written by the weights tools --------------------------------

static int write_tiny(const char *path, const tiny_cfg *c) {
    slm_error err = {0};
    slm_status st = tiny_write(path, c, rng(), &err);
    CHECK(st == SLM_OK, "writing %s: %s", path, err.message);
    return st == SLM_OK ? 0 : -1;
}

// The small model the byte-level tests chew on: F32, dim 8, one layer.
static const tiny_cfg small_f32 = {.dim = 8, .n_heads = 2, .n_kv_heads = 1, .ffn = 16, .n_layers = 1, .ctx = 16,
                                   .type = SLM_TYPE_F32};

// Loads a file from memory (a private exact copy) and tokenizes with what
// loaded. Hostile weights are not run here: that is the fuzzer's part.
static slm_status load_buffer(const void *p, size_t n, unsigned flags, slm_error *err) {
    slm_model *m;
    slm_status st = slm_model_load_memory(exact_copy(p, n), n, 1, flags, &m, err);
    if (st) return st;
    int32_t ids[8];
    slm_tokenize(m, "abc \xff", 5, 1, ids, 8, NULL);
    slm_model_free(m);
    return st;
}

// ---- writer round trip ------------------------------------------------------

static void test_writer_round_trip(void) {
    gguf_writer *w = gguf_writer_new();
    static const char *const strs[3] = {"a", "", "b\0c"};
    static const uint32_t lens[3] = {1, 0, 3};
    static const float fs[3] = {1.0f, -2.0f, 3.5f};
    static const int32_t is[3] = {INT32_MIN, 0, 7};
    CHECK(!gguf_w_str(w, "general.name", "round trip"), "str");
    CHECK(!gguf_w_u32(w, "t.u32", 0xDEADBEEFu), "u32");
    CHECK(!gguf_w_i32(w, "t.i32", -5), "i32");
    CHECK(!gguf_w_f32(w, "t.f32", 1.5f), "f32");
    CHECK(!gguf_w_bool(w, "t.bool", 7), "bool");
    CHECK(!gguf_w_arr_str(w, "t.strs", strs, lens, 3), "arr_str");
    CHECK(!gguf_w_arr_f32(w, "t.f32s", fs, 3), "arr_f32");
    CHECK(!gguf_w_arr_i32(w, "t.i32s", is, 3), "arr_i32");
    CHECK(!gguf_w_arr_i32(w, "t.empty", is, 0), "empty arr");
    CHECK(gguf_w_u32(w, "t.u32", 1) == -1, "a duplicate key is refused");

    // shapes and sizes that need padding to 64
    struct { const char *name; uint32_t type, n_dims; uint64_t ne[4], size; } ts[] = {
        {"f32", SLM_TYPE_F32, 1, {5}, 20},
        {"f16", SLM_TYPE_F16, 2, {3, 2}, 12},
        {"q8", SLM_TYPE_Q8_0, 2, {32, 3}, 3 * 34},
        {"q4", SLM_TYPE_Q4_0, 3, {64, 1, 2}, 4 * 18},
        {"4d", SLM_TYPE_F32, 4, {1, 2, 3, 4}, 24 * 4},
    };
    enum { NT = sizeof ts / sizeof ts[0] };
    uint8_t data[NT][128];
    for (int i = 0; i < NT; i++) {
        for (int j = 0; j < 128; j++) data[i][j] = (uint8_t)(i * 31 + j);
        CHECK(!gguf_w_tensor(w, ts[i].name, ts[i].type, ts[i].n_dims, ts[i].ne, data[i], ts[i].size), "%s", ts[i].name);
    }
    uint64_t ne[5] = {1, 1, 1, 1, 1};
    CHECK(gguf_w_tensor(w, "f32", SLM_TYPE_F32, 1, ne, data[0], 4) == -1, "a duplicate tensor is refused");
    CHECK(gguf_w_tensor(w, "d0", SLM_TYPE_F32, 0, ne, data[0], 4) == -1, "0 dimensions are refused");
    CHECK(gguf_w_tensor(w, "d5", SLM_TYPE_F32, 5, ne, data[0], 4) == -1, "5 dimensions are refused");

    const char *path = tmp_path("rt.gguf");
    CHECK(write_all(path, "old", 3) == 0, "old file");
    char err[256] = "";
    CHECK(gguf_writer_write(w, path, err, sizeof err) == 0, "write: %s", err);
    gguf_writer_free(w);

    // nothing but the file itself is left in the directory
    DIR *d = opendir(tmpdir);
    int others = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.' && strcmp(e->d_name, "rt.gguf")) others++;
    if (d) closedir(d);
    CHECK(others == 0, "%d stray files after writing", others);

    size_t size;
    uint8_t *file = read_all(path, &size);
    gguf_file g;
    CHECK(file && gguf_parse(&g, file, size, err, sizeof err) == 0, "parse: %s", err);
    if (!file || g.n_kv == 0) { free(file); return; }
    CHECK(g.version == 3 && g.alignment == 64, "version %u alignment %llu", g.version, (unsigned long long)g.alignment);
    CHECK(g.data_offset % 64 == 0 && size % 64 == 0, "data at %llu, size %zu", (unsigned long long)g.data_offset, size);
    CHECK(g.n_kv == 10 && g.n_tensors == NT, "%llu keys, %llu tensors", (unsigned long long)g.n_kv, (unsigned long long)g.n_tensors);
    const gguf_kv *al = gguf_find(&g, "general.alignment");
    CHECK(al && al->type == GGUF_U32 && al->v.u == 64, "general.alignment is u32 64");

    uint32_t u;
    float f;
    int b;
    gguf_str s;
    CHECK(gguf_get_u32(&g, "t.u32", &u) == 0 && u == 0xDEADBEEFu, "u32 back");
    CHECK(gguf_get_u32(&g, "t.i32", &u) == -1, "a negative i32 does not fit a u32");
    CHECK(gguf_get_u32(&g, "t.none", &u) == 1, "absent");
    CHECK(gguf_find(&g, "t.i32")->v.i == -5, "i32 back");
    CHECK(gguf_get_f32(&g, "t.f32", &f) == 0 && f == 1.5f, "f32 back");
    CHECK(gguf_get_f32(&g, "t.u32", &f) == -1, "u32 is not a float");
    CHECK(gguf_get_bool(&g, "t.bool", &b) == 0 && b == 1, "bool back");
    CHECK(gguf_get_str(&g, "general.name", &s) == 0 && s.len == 10 && !memcmp(s.ptr, "round trip", 10), "str back");
    CHECK(gguf_get_str(&g, "t.u32", &s) == -1, "u32 is not a string");
    const gguf_kv *kv = gguf_find(&g, "t.strs");
    CHECK(kv && kv->type == GGUF_ARRAY && kv->arr_type == GGUF_STRING && kv->arr_n == 3 && kv->strs[1].len == 0 &&
              kv->strs[2].len == 3 && !memcmp(kv->strs[2].ptr, "b\0c", 3),
          "string array with an empty string and a NUL byte");
    kv = gguf_find(&g, "t.f32s");
    CHECK(kv && kv->arr_type == GGUF_F32 && kv->arr_n == 3 && !memcmp(kv->arr_data, fs, sizeof fs), "f32 array");
    kv = gguf_find(&g, "t.i32s");
    CHECK(kv && kv->arr_type == GGUF_I32 && kv->arr_n == 3 && !memcmp(kv->arr_data, is, sizeof is), "i32 array");
    kv = gguf_find(&g, "t.empty");
    CHECK(kv && kv->type == GGUF_ARRAY && kv->arr_n == 0, "empty array");

    for (int i = 0; i < NT; i++) {
        const gguf_tensor *t = &g.tensors[i];
        CHECK(!strcmp(t->name, ts[i].name) && t->type == ts[i].type && t->n_dims == ts[i].n_dims, "tensor %d", i);
        for (uint32_t k = 0; k < 4; k++)
            CHECK(t->ne[k] == (k < ts[i].n_dims ? ts[i].ne[k] : 1), "%s ne[%u] = %llu", t->name, k, (unsigned long long)t->ne[k]);
        CHECK(t->size == ts[i].size, "%s size %llu", t->name, (unsigned long long)t->size);
        CHECK(t->offset % 64 == 0, "%s offset %llu is 64-aligned", t->name, (unsigned long long)t->offset);
        CHECK(((uintptr_t)t->data - (uintptr_t)file) % 64 == 0, "%s data is 64-aligned in the file", t->name);
        CHECK(!memcmp(t->data, data[i], ts[i].size), "%s data", t->name);
        CHECK(gguf_find_tensor(&g, ts[i].name) == t, "find %s", ts[i].name);
    }
    CHECK(gguf_find_tensor(&g, "nope") == NULL, "absent tensor");
    gguf_free(&g);
    free(file);

    w = gguf_writer_new();
    gguf_w_u32(w, "k", 1);
    CHECK(gguf_writer_write(w, "/nonexistent-dir/x.gguf", err, sizeof err) == -1 && strstr(err, "/nonexistent-dir/x.gguf"),
          "an unwritable path fails naming it: %s", err);
    gguf_writer_free(w);
}

// Every value type as a scalar and as an array, copied with gguf_w_copy_kv.
static void test_copy_kv(void) {
    bytes b = {0};
    header(&b, 3, 0, 27);
    const uint8_t u8 = 0xFE;
    const int8_t i8 = -3;
    const uint16_t u16 = 0xFEDC;
    const int16_t i16 = -300;
    const uint32_t u32 = 0xFEDCBA98u;
    const int32_t i32 = -70000;
    const float f32 = -0.15625f;
    const uint8_t bl = 1;
    const uint64_t u64 = 0xFEDCBA9876543210ull;
    const int64_t i64 = INT64_MIN + 1;
    const double f64 = 1e300;
    const void *vals[13] = {&u8, &i8, &u16, &i16, &u32, &i32, &f32, &bl, NULL, NULL, &u64, &i64, &f64};
    char key[32];
    for (uint32_t t = 0; t <= GGUF_F64; t++) {
        if (t == GGUF_ARRAY) continue;
        snprintf(key, sizeof key, "scalar.%u", t);
        put_str(&b, key);
        put_u32(&b, t);
        if (t == GGUF_STRING) put_str(&b, "h\xc3\xa9llo");
        else put(&b, vals[t], value_size[t]);
        snprintf(key, sizeof key, "array.%u", t);
        put_str(&b, key);
        put_u32(&b, GGUF_ARRAY);
        put_u32(&b, t);
        put_len(&b, 3);
        for (int i = 0; i < 3; i++) {
            if (t == GGUF_STRING) put_str(&b, i == 1 ? "" : "xyz");
            else if (t == GGUF_BOOL) put_u8(&b, (uint8_t)(i & 1));
            else put(&b, vals[t], value_size[t]);
        }
    }
    put_str(&b, "array.empty");
    put_u32(&b, GGUF_ARRAY);
    put_u32(&b, GGUF_U8);
    put_len(&b, 0);
    kv_u32(&b, "general.alignment", 32);
    kv_str(&b, "empty.string", "");

    gguf_file g1, g2;
    char err[256] = "";
    CHECK(gguf_parse(&g1, b.p, b.len, err, sizeof err) == 0, "every type parses: %s", err);
    if (g1.n_kv == 0) { free(b.p); return; }
    CHECK(g1.n_kv == 27, "%llu keys", (unsigned long long)g1.n_kv);
    CHECK(gguf_find(&g1, "scalar.1")->v.i == -3 && gguf_find(&g1, "scalar.3")->v.i == -300 &&
              gguf_find(&g1, "scalar.5")->v.i == -70000 && gguf_find(&g1, "scalar.11")->v.i == INT64_MIN + 1,
          "signed values are sign-extended");
    CHECK(gguf_find(&g1, "scalar.0")->v.u == 0xFE && gguf_find(&g1, "scalar.10")->v.u == u64, "unsigned values");
    CHECK(gguf_find(&g1, "scalar.6")->v.f == (double)f32 && gguf_find(&g1, "scalar.12")->v.f == f64, "float values");

    gguf_writer *w = gguf_writer_new();
    for (uint64_t i = 0; i < g1.n_kv; i++) CHECK(gguf_w_copy_kv(w, &g1.kv[i]) == 0, "copy %s", g1.kv[i].key);
    const char *path = tmp_path("copy.gguf");
    CHECK(gguf_writer_write(w, path, err, sizeof err) == 0, "write: %s", err);
    gguf_writer_free(w);
    size_t size;
    uint8_t *file = read_all(path, &size);
    CHECK(file && gguf_parse(&g2, file, size, err, sizeof err) == 0, "copy parses: %s", err);
    if (!file) { gguf_free(&g1); free(b.p); return; }
    CHECK(g2.n_kv == g1.n_kv, "%llu keys copied", (unsigned long long)g2.n_kv);
    for (uint64_t i = 0; i < g1.n_kv; i++) {
        const gguf_kv *a = &g1.kv[i], *c = gguf_find(&g2, a->key);
        if (!strcmp(a->key, "general.alignment")) {
            CHECK(c && c->type == GGUF_U32 && c->v.u == 64, "the writer sets its own alignment");
            continue;
        }
        CHECK(c && c->type == a->type, "%s type", a->key);
        if (!c || c->type != a->type) continue;
        if (a->type == GGUF_STRING) {
            CHECK(c->v.s.len == a->v.s.len && !memcmp(c->v.s.ptr, a->v.s.ptr, a->v.s.len), "%s value", a->key);
        } else if (a->type != GGUF_ARRAY) {
            CHECK(!memcmp(&c->v, &a->v, sizeof a->v), "%s value", a->key);
        } else {
            CHECK(c->arr_type == a->arr_type && c->arr_n == a->arr_n, "%s array", a->key);
            if (c->arr_type != a->arr_type || c->arr_n != a->arr_n) continue;
            if (a->arr_type != GGUF_STRING)
                CHECK(!memcmp(c->arr_data, a->arr_data, a->arr_n * value_size[a->arr_type]), "%s elements", a->key);
            for (uint64_t j = 0; a->arr_type == GGUF_STRING && j < a->arr_n; j++)
                CHECK(c->strs[j].len == a->strs[j].len && !memcmp(c->strs[j].ptr, a->strs[j].ptr, a->strs[j].len),
                      "%s string %llu", a->key, (unsigned long long)j);
        }
    }
    gguf_free(&g2);
    gguf_free(&g1);
    free(file);
    free(b.p);
}

// ---- truncation, flips and garbage ------------------------------------------

static void test_truncation(const uint8_t *file, size_t size) {
    gguf_file g;
    char err[256];
    if (gguf_parse(&g, file, size, err, sizeof err)) return;
    // past the end of the last tensor is only padding: shorter fails, longer loads
    uint64_t end = 0;
    for (uint64_t i = 0; i < g.n_tensors; i++)
        if (g.tensors[i].offset + g.tensors[i].size > end) end = g.tensors[i].offset + g.tensors[i].size;
    size_t needed = (size_t)(g.data_offset + end);
    gguf_free(&g);
    int bad_status = 0, no_message = 0, loaded_short = 0, failed_long = 0;
    for (size_t n = 0; n < size; n++) {
        for (unsigned flags = 0; flags <= SLM_LOAD_VOCAB_ONLY; flags += SLM_LOAD_VOCAB_ONLY) {
            slm_error e = {0};
            slm_status st = load_buffer(file, n, flags, &e);
            if (n < needed) {
                if (st == SLM_OK) loaded_short++;
                else if (st != SLM_ERR_BAD_MODEL) bad_status++;
                else if (strncmp(e.message, "model: ", 7) || strlen(e.message) < 12) no_message++;
            } else if (st != SLM_OK) {
                failed_long++;
            }
        }
        gguf_file t;
        int rc = gguf_parse(&t, file, n, err, sizeof err);
        if (rc == 0) gguf_free(&t);
        if ((rc == 0) != (n >= needed)) loaded_short++;
    }
    CHECK(loaded_short == 0, "%d truncated lengths loaded", loaded_short);
    CHECK(bad_status == 0, "%d truncated lengths gave a status other than BAD_MODEL", bad_status);
    CHECK(no_message == 0, "%d truncated lengths gave no message", no_message);
    CHECK(failed_long == 0, "%d lengths with only padding cut failed", failed_long);
}

// A failed load must say what is wrong after the buffer's name ("model: ").
static int unnamed(slm_status st, const slm_error *e) {
    return st != SLM_OK && (strncmp(e->message, "model: ", 7) || strlen(e->message) < 12);
}

// A message holding a control byte (names copied raw from a hostile file)
// breaks the one-line rule: a newline splits it, an escape can drive the
// terminal.
static int not_one_line(const char *msg) {
    for (const unsigned char *c = (const unsigned char *)msg; *c; c++)
        if (*c < 0x20 || *c == 0x7f) return 1;
    return 0;
}

typedef struct {
    int unnamed, multiline, loaded;
} tally;

static void count_load(tally *t, const uint8_t *p, size_t size, unsigned flags) {
    slm_error e = {0};
    slm_status st = load_buffer(p, size, flags, &e);
    t->unnamed += unnamed(st, &e);
    t->multiline += st != SLM_OK && not_one_line(e.message);
    t->loaded += st == SLM_OK;
}

static void check_tally(const tally *t, const char *what) {
    CHECK(t->unnamed == 0, "%s: %d failed loads gave no message naming the buffer", what, t->unnamed);
    // KNOWN BUG until the fix lands (see the report): messages quote key,
    // tensor and architecture names raw, control bytes and all.
    CHECK(t->multiline == 0, "%s: %d messages hold control bytes (known bug: names quoted raw)", what, t->multiline);
}

static void test_flips(const uint8_t *file, size_t size, size_t header_end) {
    uint8_t *p = exact_copy(file, size);
    tally flips = {0}, extremes = {0}, runs = {0}, garbage = {0};
    static const uint8_t masks[3] = {0x01, 0x80, 0xFF};
    for (size_t i = 0; i < header_end; i++)
        for (int k = 0; k < 3; k++) {
            p[i] ^= masks[k];
            count_load(&flips, p, size, 0);
            count_load(&flips, p, size, SLM_LOAD_VOCAB_ONLY);
            p[i] ^= masks[k];
        }
    check_tally(&flips, "byte flips");
    CHECK(flips.loaded > 0, "some flips (in values, not structure) still load");

    // extreme values written at every 4-byte boundary of the header
    static const uint64_t values[6] = {0, 1, 0x7fffffff, 0xffffffff, 0x8000000000000000ull, UINT64_MAX};
    for (size_t i = 0; i + 8 <= header_end; i += 4)
        for (int k = 0; k < 6; k++)
            for (int width = 4; width <= 8; width += 4) {
                uint8_t saved[8];
                memcpy(saved, p + i, 8);
                memcpy(p + i, &values[k], (size_t)width);
                count_load(&extremes, p, size, 0);
                memcpy(p + i, saved, 8);
            }
    check_tally(&extremes, "extreme values");

    // runs of random bytes over the header
    for (int round = 0; round < 3000; round++) {
        size_t at = rng() % header_end, n = 1 + rng() % 24;
        if (n > size - at) n = size - at;
        for (size_t j = at; j < at + n; j++) p[j] = (uint8_t)rng();
        count_load(&runs, p, size, round & 1 ? SLM_LOAD_VOCAB_ONLY : 0);
        memcpy(p + at, file + at, n);
    }
    check_tally(&runs, "garbage runs");
    // and whole files of garbage behind a valid magic and version
    for (int round = 0; round < 300; round++) {
        for (size_t j = 8; j < size; j++) p[j] = (uint8_t)rng();
        count_load(&garbage, p, size, 0);
    }
    check_tally(&garbage, "garbage files");
    free(p);
}

// ---- hostile values, one at a time -----------------------------------------

// The built file must fail to parse with `want` in the message, and fail to
// load as a model with BAD_MODEL. Resets b for the next case.
static void expect_bad(bytes *b, const char *what, const char *want) {
    gguf_file g;
    char err[256] = "";
    uint8_t *p = exact_copy(b->p, b->len);
    int rc = gguf_parse(&g, p, b->len, err, sizeof err);
    if (rc == 0) gguf_free(&g);
    CHECK(rc == -1 && strstr(err, want), "%s: parse gives %d '%s', wanted '%s'", what, rc, err, want);
    free(p);
    slm_model *m;
    slm_error e = {0};
    slm_status st = slm_model_load_memory(exact_copy(b->p, b->len), b->len, 1, 0, &m, &e);
    CHECK(st == SLM_ERR_BAD_MODEL && m == NULL && !strncmp(e.message, "model: ", 7), "%s: load gives %s '%s'", what,
          slm_status_name(st), e.message);
    CHECK(!not_one_line(e.message), "%s: not one line (known bug: names quoted raw): %s", what, e.message);
    if (st == SLM_OK) slm_model_free(m);
    b->len = 0;
}

static void expect_parses(bytes *b, const char *what) {
    gguf_file g;
    char err[256] = "";
    uint8_t *p = exact_copy(b->p, b->len);
    int rc = gguf_parse(&g, p, b->len, err, sizeof err);
    CHECK(rc == 0, "%s: %s", what, err);
    if (rc == 0) gguf_free(&g);
    free(p);
    b->len = 0;
}

static void test_hostile_header(void) {
    bytes b = {0};
    header(&b, 3, 0, 0);
    expect_parses(&b, "an empty GGUF file");
    put(&b, "GGU", 3);
    expect_bad(&b, "3 bytes", "too short");
    header(&b, 3, 0, 0);
    b.p[3] = 'G';
    expect_bad(&b, "bad magic", "magic");
    static const uint32_t versions[4] = {0, 4, 0x7fffffff, 0xffffffff};
    for (int i = 0; i < 4; i++) {
        header(&b, versions[i], 0, 0);
        expect_bad(&b, "unknown version", "version");
    }
    header(&b, 0x03000000, 0, 0);
    expect_bad(&b, "big-endian v3", "big-endian");
    header(&b, 0x02000000, 0, 0);
    expect_bad(&b, "big-endian v2", "big-endian");

    static const uint64_t counts[4] = {UINT64_MAX, (uint64_t)1 << 40, (uint64_t)1 << 63, 0xffffffffu};
    for (int i = 0; i < 4; i++) {
        header(&b, 3, counts[i], 0);
        put_zeros(&b, 64);
        expect_bad(&b, "huge n_tensors", "");
        header(&b, 3, 0, counts[i]);
        put_zeros(&b, 64);
        expect_bad(&b, "huge n_kv", "");
    }
    header(&b, 1, 0, 0xffffffffu);
    put_zeros(&b, 64);
    expect_bad(&b, "v1 huge n_kv", "");
    header(&b, 3, 0, 2);
    kv_u32(&b, "a", 1);
    expect_bad(&b, "n_kv larger than the entries", "truncated");
    free(b.p);
}

static void test_hostile_strings(void) {
    bytes b = {0};
    static const uint64_t lens[5] = {UINT64_MAX, UINT64_MAX - 7, UINT64_MAX - 30, (uint64_t)1 << 63, 1000};
    for (int i = 0; i < 5; i++) {
        header(&b, 3, 0, 1);
        put_u64(&b, lens[i]);
        put(&b, "key", 3);
        put_zeros(&b, 16);
        expect_bad(&b, "key length", "truncated");
        header(&b, 3, 0, 1);
        put_str(&b, "key");
        put_u32(&b, GGUF_STRING);
        put_u64(&b, lens[i]);
        put_zeros(&b, 16);
        expect_bad(&b, "string length", "truncated");
    }
    header(&b, 1, 0, 1);
    put_str(&b, "key");
    put_u32(&b, GGUF_STRING);
    put_u32(&b, 0xffffffffu);
    put_zeros(&b, 16);
    expect_bad(&b, "v1 string length", "truncated");

    header(&b, 3, 0, 1);
    kv_u32(&b, "", 1);
    expect_bad(&b, "empty key", "key");
    header(&b, 3, 0, 1);
    put_strn(&b, "a\0b", 3);
    put_u32(&b, GGUF_U32);
    put_u32(&b, 1);
    expect_bad(&b, "key with a NUL", "key");
    char long_key[300];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = 0;
    header(&b, 3, 0, 1);
    kv_u32(&b, long_key, 1);
    expect_bad(&b, "299-byte key", "key");
    header(&b, 3, 0, 2);
    kv_u32(&b, "same", 1);
    kv_str(&b, "same", "x");
    expect_bad(&b, "duplicate key", "duplicate");
    // names are quoted in messages: a newline in one must not split the line
    header(&b, 3, 0, 1);
    put_str(&b, "bad\nkey\x1b[2J");
    put_u32(&b, 13);
    expect_bad(&b, "a key with a newline and an escape", "type");
    header(&b, 3, 1, 0);
    tensor_info(&b, "bad\ntensor", 1, (uint64_t[1]){16}, 99, 0);
    pad_to(&b, 32);
    put_zeros(&b, 64);
    expect_bad(&b, "a tensor name with a newline", "type");
    free(b.p);
}

static void test_hostile_values(void) {
    bytes b = {0};
    static const uint32_t types[3] = {13, 0x80000000u, 0xffffffffu};
    for (int i = 0; i < 3; i++) {
        header(&b, 3, 0, 1);
        put_str(&b, "k");
        put_u32(&b, types[i]);
        put_zeros(&b, 16);
        expect_bad(&b, "unknown value type", "type");
        header(&b, 3, 0, 1);
        put_str(&b, "k");
        put_u32(&b, GGUF_ARRAY);
        put_u32(&b, types[i]);
        put_u64(&b, 1);
        put_zeros(&b, 16);
        expect_bad(&b, "unknown array element type", "type");
    }
    header(&b, 3, 0, 1);
    put_str(&b, "k");
    put_u32(&b, GGUF_ARRAY);
    put_u32(&b, GGUF_ARRAY);
    put_u64(&b, 1);
    put_u32(&b, GGUF_U8);
    put_u64(&b, 1);
    put_zeros(&b, 8);
    expect_bad(&b, "nested array", "array");

    static const uint8_t bools[3] = {2, 0x80, 0xff};
    for (int i = 0; i < 3; i++) {
        header(&b, 3, 0, 1);
        put_str(&b, "k");
        put_u32(&b, GGUF_BOOL);
        put_u8(&b, bools[i]);
        expect_bad(&b, "bool not 0/1", "bool");
        header(&b, 3, 0, 1);
        put_str(&b, "k");
        put_u32(&b, GGUF_ARRAY);
        put_u32(&b, GGUF_BOOL);
        put_u64(&b, 3);
        put_u8(&b, 0), put_u8(&b, 1), put_u8(&b, bools[i]);
        expect_bad(&b, "bool element not 0/1", "bool");
    }

    // counts whose byte size overflows 64 bits (or is merely huge)
    struct { uint32_t type; uint64_t n; } arrs[] = {
        {GGUF_U64, (uint64_t)1 << 61}, {GGUF_F64, ((uint64_t)1 << 61) + 1}, {GGUF_U32, ((uint64_t)1 << 62) + 1},
        {GGUF_U16, (uint64_t)1 << 63}, {GGUF_U8, UINT64_MAX}, {GGUF_BOOL, UINT64_MAX}, {GGUF_I32, 1000},
        {GGUF_STRING, ((uint64_t)1 << 61) + 1}, {GGUF_STRING, UINT64_MAX}, {GGUF_STRING, 1000},
    };
    for (size_t i = 0; i < sizeof arrs / sizeof arrs[0]; i++) {
        header(&b, 3, 0, 1);
        put_str(&b, "k");
        put_u32(&b, GGUF_ARRAY);
        put_u32(&b, arrs[i].type);
        put_u64(&b, arrs[i].n);
        put_zeros(&b, 64);
        expect_bad(&b, "array count", "truncated");
    }
    header(&b, 1, 0, 1);
    put_str(&b, "k");
    put_u32(&b, GGUF_ARRAY);
    put_u32(&b, GGUF_U64);
    put_u32(&b, 0xffffffffu);
    put_zeros(&b, 64);
    expect_bad(&b, "v1 array count", "truncated");
    // a string array whose second element's length is hostile
    header(&b, 3, 0, 1);
    put_str(&b, "k");
    put_u32(&b, GGUF_ARRAY);
    put_u32(&b, GGUF_STRING);
    put_u64(&b, 2);
    put_str(&b, "ok");
    put_u64(&b, UINT64_MAX - 1);
    put_zeros(&b, 32);
    expect_bad(&b, "string element length", "truncated");

    // general.alignment: zero, not a power of two, too big, wrong type
    static const uint32_t aligns[5] = {0, 3, 48, 0x80000000u, 1u << 20};
    for (int i = 0; i < 5; i++) {
        header(&b, 3, 0, 1);
        kv_u32(&b, "general.alignment", aligns[i]);
        expect_bad(&b, "bad alignment value", "alignment");
    }
    header(&b, 3, 0, 1);
    put_str(&b, "general.alignment");
    put_u32(&b, GGUF_U64);
    put_u64(&b, 64);
    expect_bad(&b, "alignment as u64", "alignment");
    header(&b, 3, 0, 1);
    kv_str(&b, "general.alignment", "64");
    expect_bad(&b, "alignment as a string", "alignment");
    header(&b, 3, 0, 1);
    put_str(&b, "general.alignment");
    put_u32(&b, GGUF_I32);
    put_u32(&b, 32);
    expect_bad(&b, "alignment as i32", "alignment");
    free(b.p);
}

// A file of one tensor info followed by `data` bytes of data (aligned to 32).
static void one_tensor(bytes *b, uint32_t n_dims, const uint64_t *ne, uint32_t type, uint64_t offset, size_t data) {
    header(b, 3, 1, 0);
    tensor_info(b, "t", n_dims, ne, type, offset);
    pad_to(b, 32);
    put_zeros(b, data);
}

static void test_hostile_tensors(void) {
    bytes b = {0};
    uint64_t ne16[4] = {16, 1, 1, 1};
    one_tensor(&b, 1, ne16, SLM_TYPE_F32, 0, 64);
    expect_parses(&b, "a valid one-tensor file");
    one_tensor(&b, 0, ne16, SLM_TYPE_F32, 0, 64);
    expect_bad(&b, "0 dimensions", "dimensions");
    one_tensor(&b, 5, (uint64_t[5]){16, 1, 1, 1, 1}, SLM_TYPE_F32, 0, 64);
    expect_bad(&b, "5 dimensions", "dimensions");
    header(&b, 3, 1, 0);
    put_str(&b, "t");
    put_u32(&b, 0xffffffffu);
    put_zeros(&b, 64);
    expect_bad(&b, "2^32-1 dimensions", "dimensions");

    one_tensor(&b, 1, (uint64_t[1]){0}, SLM_TYPE_F32, 0, 64);
    expect_bad(&b, "zero dimension", "shape");
    one_tensor(&b, 2, (uint64_t[2]){4, 0}, SLM_TYPE_F32, 0, 64);
    expect_bad(&b, "zero second dimension", "shape");
    one_tensor(&b, 2, (uint64_t[2]){(uint64_t)1 << 32, (uint64_t)1 << 32}, SLM_TYPE_F32, 0, 64);
    expect_bad(&b, "dims product 2^64", "shape");
    one_tensor(&b, 1, (uint64_t[1]){UINT64_MAX}, SLM_TYPE_F32, 0, 64);
    expect_bad(&b, "dim 2^64-1", "shape");
    one_tensor(&b, 4, (uint64_t[4]){1 << 20, 1 << 20, 1 << 20, 1 << 20}, SLM_TYPE_F32, 0, 64);
    expect_bad(&b, "dims product 2^80", "shape");
    one_tensor(&b, 2, (uint64_t[2]){((uint64_t)1 << 33) + 1, (uint64_t)1 << 31}, SLM_TYPE_F32, 0, 64);
    expect_bad(&b, "dims product wrapping to 2^31", "shape");
    one_tensor(&b, 1, (uint64_t[1]){(uint64_t)1 << 40}, SLM_TYPE_F32, 0, 64);
    expect_bad(&b, "2^40 floats in 64 bytes", "truncated");

    static const uint32_t types[6] = {4, 5, 16, 31, 99, 0xffffffffu};
    for (int i = 0; i < 6; i++) {
        one_tensor(&b, 1, ne16, types[i], 0, 64);
        expect_bad(&b, "unknown tensor type", "type");
    }
    one_tensor(&b, 1, (uint64_t[1]){33}, SLM_TYPE_Q8_0, 0, 64);
    expect_bad(&b, "Q8_0 row of 33", "multiple");
    one_tensor(&b, 2, (uint64_t[2]){16, 2}, SLM_TYPE_Q4_0, 0, 64);
    expect_bad(&b, "Q4_0 row of 16", "multiple");
    one_tensor(&b, 1, (uint64_t[1]){128}, 12, 0, 256);
    expect_bad(&b, "Q4_K row of 128", "multiple");

    one_tensor(&b, 1, ne16, SLM_TYPE_F32, 4, 128);
    expect_bad(&b, "misaligned offset", "align");
    header(&b, 3, 1, 1);
    kv_u32(&b, "general.alignment", 16);
    tensor_info(&b, "t", 1, ne16, SLM_TYPE_F32, 8);
    pad_to(&b, 16);
    put_zeros(&b, 128);
    expect_bad(&b, "offset misaligned to general.alignment 16", "align");
    header(&b, 3, 1, 1);
    kv_u32(&b, "general.alignment", 16);
    tensor_info(&b, "t", 1, ne16, SLM_TYPE_F32, 16);
    pad_to(&b, 16);
    put_zeros(&b, 80);
    expect_parses(&b, "offset aligned to general.alignment 16");

    one_tensor(&b, 1, ne16, SLM_TYPE_F32, 32, 64);
    expect_bad(&b, "data past EOF", "truncated");
    one_tensor(&b, 1, ne16, SLM_TYPE_F32, 0, 63);
    expect_bad(&b, "data one byte short", "truncated");
    one_tensor(&b, 1, ne16, SLM_TYPE_F32, UINT64_MAX - 31, 64);
    expect_bad(&b, "offset + size overflows", "truncated");
    one_tensor(&b, 1, ne16, SLM_TYPE_F32, (uint64_t)1 << 63, 64);
    expect_bad(&b, "offset 2^63", "truncated");
    header(&b, 3, 1, 0);
    tensor_info(&b, "t", 1, ne16, SLM_TYPE_F32, 0);
    expect_bad(&b, "no data section at all", "truncated");

    // two tensors
    for (int k = 0; k < 3; k++) {
        static const uint64_t second[3] = {32, 0, 64};
        header(&b, 3, 2, 0);
        tensor_info(&b, "a", 1, ne16, SLM_TYPE_F32, 0);
        tensor_info(&b, k == 2 ? "a" : "b", 1, ne16, SLM_TYPE_F32, second[k]);
        pad_to(&b, 32);
        put_zeros(&b, 128);
        expect_bad(&b, k == 2 ? "duplicate tensor" : "overlapping tensors", k == 2 ? "duplicate" : "overlap");
    }
    header(&b, 3, 2, 0);
    tensor_info(&b, "a", 1, ne16, SLM_TYPE_F32, 128);
    tensor_info(&b, "b", 1, ne16, SLM_TYPE_F32, 0);
    pad_to(&b, 32);
    put_zeros(&b, 192);
    expect_parses(&b, "tensors out of order with a gap");
    header(&b, 3, 2, 0);
    tensor_info(&b, "a", 1, ne16, SLM_TYPE_F32, 0);
    pad_to(&b, 32);
    put_zeros(&b, 64);
    expect_bad(&b, "n_tensors larger than the entries", "");

    header(&b, 3, 1, 0);
    tensor_info(&b, "", 1, ne16, SLM_TYPE_F32, 0);
    pad_to(&b, 32);
    put_zeros(&b, 64);
    expect_bad(&b, "empty tensor name", "tensor name");
    free(b.p);
}

// ---- other versions ------------------------------------------------------------

// The model in v1 (32-bit counts, default alignment), v2 and v3 at other
// alignments loads and computes exactly what the original does.
static void test_versions(const uint8_t *file, size_t size) {
    gguf_file g;
    char err[256];
    if (gguf_parse(&g, file, size, err, sizeof err)) return;
    static const struct { uint32_t version, align; } forms[4] = {{1, 32}, {2, 64}, {2, 32}, {3, 8}};
    float want[64], got[64];
    int n_want = 0;
    for (int k = -1; k < 4; k++) {
        bytes b = {0};
        if (k < 0) put(&b, file, size);
        else emit(&b, &g, forms[k].version, forms[k].align);
        slm_model *m;
        slm_error e = {0};
        slm_status st = slm_model_load_memory(b.p, b.len, 1, 0, &m, &e);
        CHECK(st == SLM_OK, "v%u align %u: %s", k < 0 ? 3 : forms[k].version, k < 0 ? 64 : forms[k].align, e.message);
        if (st) continue;
        slm_model_info in;
        slm_model_get_info(m, &in);
        slm_context *c;
        int32_t ids[3] = {1, 5, 7};
        float *out = k < 0 ? want : got;
        if (in.vocab_size > 64 || slm_context_new(m, NULL, &c, &e)) {
            CHECK(0, "context: %s", e.message);
            slm_model_free(m);
            continue;
        }
        CHECK(slm_eval(c, ids, 3, out, 0, &e) == SLM_OK, "eval: %s", e.message);
        if (k < 0) n_want = in.vocab_size;
        else CHECK(in.vocab_size == n_want && !memcmp(want, got, sizeof(float) * n_want), "v%u: the same logits", forms[k].version);
        slm_context_free(c);
        slm_model_free(m);
    }
    // a v1 file with the optional alignment key at 16
    bytes b = {0};
    emit(&b, &g, 1, 16);
    CHECK(load_buffer(b.p, b.len, 0, NULL) == SLM_OK, "v1 with general.alignment 16");
    free(b.p);
    gguf_free(&g);
}

// ---- the fuzz seed corpus ------------------------------------------------------

static void write_seeds(const char *dir) {
    static const struct { const char *name; tiny_cfg c; } seeds[] = {
        {"f32.gguf", {8, 2, 1, 16, 1, 16, 0, 0, 0, 0, SLM_TYPE_F32, 0}},
        {"f16_qknorm.gguf", {8, 2, 2, 16, 1, 16, 1, 0, 0, 0, SLM_TYPE_F16, 0}},
        {"q8_0_untied.gguf", {32, 2, 1, 32, 1, 16, 0, 1, 0, 0, SLM_TYPE_Q8_0, 0}},
        {"q4_0_2layers.gguf", {32, 4, 2, 32, 2, 16, 0, 0, 0, 0, SLM_TYPE_Q4_0, 0}},
        {"encoder_f32.gguf", {8, 2, 1, 8, 1, 16, 0, 0, 1, 0, SLM_TYPE_F32, 0}},
    };
    char path[512];
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, seeds[i].name);
        write_tiny(path, &seeds[i].c);
    }
    // a vocabulary-only file with the byte tokens and a config but no weights
    gguf_writer *w = gguf_writer_new();
    char err[256];
    snprintf(path, sizeof path, "%s/vocab_only_bytes.gguf", dir);
    int rc = tiny_write_vocab(w, 1) < 0 || gguf_w_str(w, "general.architecture", "llama") ||
             gguf_w_u32(w, "llama.context_length", 16) || gguf_w_u32(w, "llama.embedding_length", 8) ||
             gguf_w_u32(w, "llama.block_count", 1) || gguf_w_u32(w, "llama.feed_forward_length", 16) ||
             gguf_w_u32(w, "llama.attention.head_count", 2);
    CHECK(!rc && gguf_writer_write(w, path, err, sizeof err) == 0, "%s", path);
    gguf_writer_free(w);
    // the F32 model as GGUF v1
    snprintf(path, sizeof path, "%s/f32.gguf", dir);
    size_t size;
    uint8_t *file = read_all(path, &size);
    gguf_file g;
    if (file && !gguf_parse(&g, file, size, err, sizeof err)) {
        bytes b = {0};
        emit(&b, &g, 1, 32);
        snprintf(path, sizeof path, "%s/v1_f32.gguf", dir);
        CHECK(write_all(path, b.p, b.len) == 0, "%s", path);
        free(b.p);
        gguf_free(&g);
    }
    free(file);
    // every architecture, with the 32-value types, under the fuzzer's 16 KB (the
    // 256-value types need rows of 256: fuzz_numbers builds those itself)
    static const tiny_arch_cfg archs[] = {
        {"llama", 32, 2, 1, 16, 32, 1, 16, 0, SLM_TYPE_Q5_0, SLM_TYPE_Q8_0, 0, 1},
        {"qwen2", 32, 2, 1, 16, 32, 1, 16, 0, SLM_TYPE_Q4_1, SLM_TYPE_Q5_1, 0, 0},
        {"qwen3", 64, 2, 1, 32, 32, 1, 16, 0, SLM_TYPE_IQ4_NL, SLM_TYPE_BF16, 0, 0},
        {"gemma3", 32, 2, 1, 16, 32, 1, 16, 4, SLM_TYPE_F16, SLM_TYPE_Q4_0, 0, 0},
    };
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++) {
        char msg[256];
        snprintf(path, sizeof path, "%s/arch_%s_%s.gguf", dir, archs[i].arch, ggml_type_name(archs[i].type));
        CHECK(tiny_write_arch(path, &archs[i], 1 + i, msg, sizeof msg) == SLM_OK, "%s: %s", path, msg);
        slm_model *m;
        slm_error e;
        slm_status st = slm_model_load_file(path, 0, &m, &e);
        CHECK(st == SLM_OK, "%s loads: %s", path, e.message);
        if (!st) slm_model_free(m);
    }
    // the fuzz finding of issue 22, reproduced: the Q8_0 model with a NaN
    // scale in the embedding row of BOS, which every prompt starts with
    snprintf(path, sizeof path, "%s/q8_0_untied.gguf", dir);
    file = read_all(path, &size);
    if (file && !gguf_parse(&g, file, size, err, sizeof err)) {
        const gguf_tensor *t = gguf_find_tensor(&g, "token_embd.weight");
        uint16_t nan16 = 0x7e00;
        if (t) memcpy(file + (t->data - file) + ggml_row_size(t->type, t->ne[0]), &nan16, 2);
        snprintf(path, sizeof path, "%s/regress-nan-scale.gguf", dir);
        CHECK(t && write_all(path, file, size) == 0, "%s", path);
        gguf_free(&g);
    }
    free(file);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/slm_test_gguf_XXXXXX");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    test_writer_round_trip();
    test_copy_kv();
    test_hostile_header();
    test_hostile_strings();
    test_hostile_values();
    test_hostile_tensors();

    const char *path = tmp_path("small.gguf");
    size_t size = 0;
    uint8_t *file = write_tiny(path, &small_f32) ? NULL : read_all(path, &size);
    gguf_file g;
    char err[256];
    int parsed = file && gguf_parse(&g, file, size, err, sizeof err) == 0;
    CHECK(parsed, "the small model parses");
    if (parsed) {
        size_t header_end = (size_t)g.data_offset;
        gguf_free(&g);
        test_truncation(file, size);
        test_flips(file, size, header_end);
        test_versions(file, size);
    }
    free(file);

    const char *seeds = getenv("SLM_WRITE_SEEDS");
    if (seeds) write_seeds(seeds);

    DIR *d = opendir(tmpdir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.') unlink(tmp_path(e->d_name));
    if (d) closedir(d);
    rmdir(tmpdir);
    TEST_END();
}
