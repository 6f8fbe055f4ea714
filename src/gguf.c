// GGUF v1-v3 reader and v3 writer.
//
// The reader trusts nothing in the file: every length, count, type, shape and
// offset is checked against the bytes actually present before it is used, with
// overflow-safe arithmetic. Multi-byte values are read with memcpy (the file
// is little-endian; so are all our targets).
#include "gguf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GGUF_MAX_DIMS 4
#define GGUF_MAX_NAME 256
#define GGUF_MAX_ALIGN (1u << 16)

// ---- type tables -----------------------------------------------------------

static const uint32_t kv_type_size[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

int ggml_type_block(uint32_t type, uint32_t *values, uint32_t *bytes) {
    static const struct { uint32_t type, values, bytes; const char *name; } t[] = {
        {0, 1, 4, "F32"},     {1, 1, 2, "F16"},     {2, 32, 18, "Q4_0"},  {3, 32, 20, "Q4_1"},
        {6, 32, 22, "Q5_0"},  {7, 32, 24, "Q5_1"},  {8, 32, 34, "Q8_0"},  {9, 32, 36, "Q8_1"},
        {10, 256, 84, "Q2_K"}, {11, 256, 110, "Q3_K"}, {12, 256, 144, "Q4_K"}, {13, 256, 176, "Q5_K"},
        {14, 256, 210, "Q6_K"}, {15, 256, 292, "Q8_K"}, {20, 32, 18, "IQ4_NL"}, {23, 256, 136, "IQ4_XS"},
        {24, 1, 1, "I8"},     {25, 1, 2, "I16"},
        {26, 1, 4, "I32"},    {27, 1, 8, "I64"},    {28, 1, 8, "F64"},    {30, 1, 2, "BF16"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].type == type) {
            if (values) *values = t[i].values;
            if (bytes) *bytes = t[i].bytes;
            return 1;
        }
    return 0;
}

const char *ggml_type_name(uint32_t type) {
    switch (type) {
    case 0: return "F32";   case 1: return "F16";   case 2: return "Q4_0";  case 3: return "Q4_1";
    case 6: return "Q5_0";  case 7: return "Q5_1";  case 8: return "Q8_0";  case 9: return "Q8_1";
    case 10: return "Q2_K"; case 11: return "Q3_K"; case 12: return "Q4_K"; case 13: return "Q5_K";
    case 14: return "Q6_K"; case 15: return "Q8_K"; case 20: return "IQ4_NL"; case 23: return "IQ4_XS";
    case 24: return "I8";   case 25: return "I16";
    case 26: return "I32";  case 27: return "I64";  case 28: return "F64";  case 30: return "BF16";
    default: return "unknown";
    }
}

uint64_t ggml_row_size(uint32_t type, uint64_t n) {
    uint32_t values, bytes;
    if (!ggml_type_block(type, &values, &bytes) || n % values) return 0;
    return n / values * bytes;
}

// ---- reading ---------------------------------------------------------------

typedef struct {
    const uint8_t *p;
    uint64_t size, off;
    uint32_t version;
    char *err;
    size_t errlen;
    int oom;
} reader;

static int fail(reader *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, r->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int need(reader *r, uint64_t n, const char *what) {
    if (n > r->size - r->off)
        return fail(r, "truncated: %s at byte %llu needs %llu bytes, only %llu remain", what,
                    (unsigned long long)r->off, (unsigned long long)n, (unsigned long long)(r->size - r->off));
    return 0;
}

static int rd_u32(reader *r, uint32_t *v, const char *what) {
    if (need(r, 4, what)) return -1;
    memcpy(v, r->p + r->off, 4);
    r->off += 4;
    return 0;
}

static int rd_u64(reader *r, uint64_t *v, const char *what) {
    if (need(r, 8, what)) return -1;
    memcpy(v, r->p + r->off, 8);
    r->off += 8;
    return 0;
}

// Counts and lengths are 32-bit in GGUF v1, 64-bit since v2.
static int rd_len(reader *r, uint64_t *v, const char *what) {
    if (r->version == 1) {
        uint32_t u;
        if (rd_u32(r, &u, what)) return -1;
        *v = u;
        return 0;
    }
    return rd_u64(r, v, what);
}

static int rd_str(reader *r, gguf_str *s, const char *what) {
    if (rd_len(r, &s->len, what)) return -1;
    if (need(r, s->len, what)) return -1;
    s->ptr = (const char *)r->p + r->off;
    r->off += s->len;
    return 0;
}

// A NUL-terminated copy of a key or tensor name, which must be non-empty,
// short and free of NUL bytes.
static char *name_copy(reader *r, gguf_str s, const char *what) {
    if (s.len == 0 || s.len > GGUF_MAX_NAME || memchr(s.ptr, 0, s.len)) {
        fail(r, "bad %s at byte %llu (empty, longer than %d bytes, or containing NUL)", what,
             (unsigned long long)r->off, GGUF_MAX_NAME);
        return NULL;
    }
    char *c = malloc(s.len + 1);
    if (!c) { r->oom = 1; fail(r, "out of memory"); return NULL; }
    memcpy(c, s.ptr, s.len);
    c[s.len] = 0;
    return c;
}

static int rd_scalar(reader *r, uint32_t type, gguf_kv *kv) {
    uint64_t n = kv_type_size[type];
    if (need(r, n, kv->key)) return -1;
    const uint8_t *q = r->p + r->off;
    r->off += n;
    switch (type) {
    case GGUF_U8: kv->v.u = q[0]; break;
    case GGUF_I8: kv->v.i = (int8_t)q[0]; break;
    case GGUF_BOOL:
        if (q[0] > 1) return fail(r, "key '%s': bool value %u is neither 0 nor 1", kv->key, q[0]);
        kv->v.u = q[0];
        break;
    case GGUF_U16: { uint16_t x; memcpy(&x, q, 2); kv->v.u = x; break; }
    case GGUF_I16: { int16_t x; memcpy(&x, q, 2); kv->v.i = x; break; }
    case GGUF_U32: { uint32_t x; memcpy(&x, q, 4); kv->v.u = x; break; }
    case GGUF_I32: { int32_t x; memcpy(&x, q, 4); kv->v.i = x; break; }
    case GGUF_F32: { float x; memcpy(&x, q, 4); kv->v.f = x; break; }
    case GGUF_U64: memcpy(&kv->v.u, q, 8); break;
    case GGUF_I64: memcpy(&kv->v.i, q, 8); break;
    case GGUF_F64: memcpy(&kv->v.f, q, 8); break;
    }
    return 0;
}

static int rd_kv(reader *r, gguf_kv *kv) {
    gguf_str key;
    if (rd_str(r, &key, "metadata key")) return -1;
    if (!(kv->key = name_copy(r, key, "metadata key"))) return -1;
    if (rd_u32(r, &kv->type, kv->key)) return -1;
    if (kv->type > GGUF_F64) return fail(r, "key '%s' has unknown value type %u", kv->key, kv->type);
    if (kv->type == GGUF_STRING) return rd_str(r, &kv->v.s, kv->key);
    if (kv->type != GGUF_ARRAY) return rd_scalar(r, kv->type, kv);

    if (rd_u32(r, &kv->arr_type, kv->key) || rd_len(r, &kv->arr_n, kv->key)) return -1;
    if (kv->arr_type > GGUF_F64 || kv->arr_type == GGUF_ARRAY)
        return fail(r, "key '%s': unsupported array element type %u", kv->key, kv->arr_type);
    kv->arr_data = r->p + r->off;
    if (kv->arr_type != GGUF_STRING) {
        uint64_t es = kv_type_size[kv->arr_type];
        if (kv->arr_n > (r->size - r->off) / es)
            return fail(r, "truncated: array '%s' of %llu elements runs past the end of the file", kv->key,
                        (unsigned long long)kv->arr_n);
        if (kv->arr_type == GGUF_BOOL)
            for (uint64_t i = 0; i < kv->arr_n; i++)
                if (r->p[r->off + i] > 1) return fail(r, "key '%s': bool element %llu is not 0 or 1", kv->key, (unsigned long long)i);
        r->off += kv->arr_n * es;
        return 0;
    }
    // each string takes at least its length field
    uint64_t min_len = r->version == 1 ? 4 : 8;
    if (kv->arr_n > (r->size - r->off) / min_len)
        return fail(r, "truncated: string array '%s' of %llu elements runs past the end of the file", kv->key,
                    (unsigned long long)kv->arr_n);
    kv->strs = malloc((kv->arr_n ? kv->arr_n : 1) * sizeof *kv->strs);
    if (!kv->strs) { r->oom = 1; return fail(r, "out of memory"); }
    for (uint64_t i = 0; i < kv->arr_n; i++)
        if (rd_str(r, &kv->strs[i], kv->key)) return -1;
    return 0;
}

static int rd_tensor(reader *r, gguf_tensor *t) {
    gguf_str name;
    if (rd_str(r, &name, "tensor name")) return -1;
    if (!(t->name = name_copy(r, name, "tensor name"))) return -1;
    if (rd_u32(r, &t->n_dims, t->name)) return -1;
    if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS)
        return fail(r, "tensor '%s' has %u dimensions (1 to %d allowed)", t->name, t->n_dims, GGUF_MAX_DIMS);
    uint64_t nel = 1;
    for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        if (rd_len(r, &t->ne[d], t->name)) return -1;
        if (t->ne[d] == 0 || t->ne[d] > ((uint64_t)1 << 40) || nel > ((uint64_t)1 << 48) / t->ne[d])
            return fail(r, "tensor '%s' has an impossible shape (dimension %u is %llu)", t->name, d,
                        (unsigned long long)t->ne[d]);
        nel *= t->ne[d];
    }
    if (rd_u32(r, &t->type, t->name) || rd_u64(r, &t->offset, t->name)) return -1;
    uint32_t bv, bb;
    if (!ggml_type_block(t->type, &bv, &bb))
        return fail(r, "tensor '%s' has unknown type %u", t->name, t->type);
    if (t->ne[0] % bv)
        return fail(r, "tensor '%s': row length %llu is not a multiple of the %s block (%u)", t->name,
                    (unsigned long long)t->ne[0], ggml_type_name(t->type), bv);
    t->size = nel / bv * bb;
    return 0;
}

static int by_offset(const void *a, const void *b) {
    const gguf_tensor *x = *(const gguf_tensor *const *)a, *y = *(const gguf_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int check_layout(reader *r, gguf_file *g) {
    const gguf_kv *al = gguf_find(g, "general.alignment");
    g->alignment = 32;
    if (al) {
        if (al->type != GGUF_U32) return fail(r, "general.alignment is not a uint32");
        if (al->v.u == 0 || (al->v.u & (al->v.u - 1)) || al->v.u > GGUF_MAX_ALIGN)
            return fail(r, "general.alignment %llu is not a power of two up to %u", (unsigned long long)al->v.u, GGUF_MAX_ALIGN);
        g->alignment = al->v.u;
    }
    g->data_offset = (r->off + g->alignment - 1) / g->alignment * g->alignment;
    if (g->n_tensors == 0) return 0;
    if (g->data_offset > g->size)
        return fail(r, "truncated: the tensor data section would start at byte %llu, past the end of the file (%llu bytes)",
                    (unsigned long long)g->data_offset, (unsigned long long)g->size);
    uint64_t avail = g->size - g->data_offset;
    gguf_tensor **sorted = malloc(g->n_tensors * sizeof *sorted);
    if (!sorted) { r->oom = 1; return fail(r, "out of memory"); }
    int rc = 0;
    for (uint64_t i = 0; i < g->n_tensors && !rc; i++) {
        gguf_tensor *t = &g->tensors[i];
        sorted[i] = t;
        if (t->offset % g->alignment)
            rc = fail(r, "tensor '%s': data offset %llu is not aligned to %llu", t->name,
                      (unsigned long long)t->offset, (unsigned long long)g->alignment);
        else if (t->offset > avail || t->size > avail - t->offset)
            rc = fail(r, "truncated: tensor '%s' (%llu bytes at data offset %llu) ends past the end of the file",
                      t->name, (unsigned long long)t->size, (unsigned long long)t->offset);
        else
            t->data = g->base + g->data_offset + t->offset;
    }
    if (!rc) {
        qsort(sorted, g->n_tensors, sizeof *sorted, by_offset);
        for (uint64_t i = 1; i < g->n_tensors && !rc; i++)
            if (sorted[i - 1]->offset + sorted[i - 1]->size > sorted[i]->offset)
                rc = fail(r, "tensors '%s' and '%s' overlap", sorted[i - 1]->name, sorted[i]->name);
    }
    free(sorted);
    return rc;
}

static int check_unique(reader *r, gguf_file *g) {
    // n is small (hundreds of keys and tensors): quadratic is fine and allocation-free
    for (uint64_t i = 0; i < g->n_kv; i++)
        for (uint64_t j = i + 1; j < g->n_kv; j++)
            if (!strcmp(g->kv[i].key, g->kv[j].key)) return fail(r, "duplicate metadata key '%s'", g->kv[i].key);
    for (uint64_t i = 0; i < g->n_tensors; i++)
        for (uint64_t j = i + 1; j < g->n_tensors; j++)
            if (!strcmp(g->tensors[i].name, g->tensors[j].name))
                return fail(r, "duplicate tensor name '%s'", g->tensors[i].name);
    return 0;
}

int gguf_parse(gguf_file *g, const void *data, uint64_t size, char *err, size_t errlen) {
    memset(g, 0, sizeof *g);
    g->base = data;
    g->size = size;
    reader r = {.p = data, .size = size, .err = err, .errlen = errlen};
    uint32_t magic;
    if (rd_u32(&r, &magic, "magic")) { fail(&r, "not a GGUF file: too short (%llu bytes)", (unsigned long long)size); return -1; }
    if (memcmp(&magic, "GGUF", 4)) { fail(&r, "not a GGUF file (bad magic)"); return -1; }
    if (rd_u32(&r, &r.version, "version")) return -1;
    if (r.version == 0x03000000 || r.version == 0x02000000) { fail(&r, "big-endian GGUF files are not supported"); return -1; }
    if (r.version < 1 || r.version > 3) { fail(&r, "unsupported GGUF version %u (1 to 3 are read)", r.version); return -1; }
    g->version = r.version;
    if (rd_len(&r, &g->n_tensors, "tensor count") || rd_len(&r, &g->n_kv, "metadata count")) return -1;
    // every entry takes at least 13 (kv) or 24 (tensor) bytes: reject counts the file cannot hold
    if (g->n_kv > (size - r.off) / 13 || g->n_tensors > (size - r.off) / 24) {
        fail(&r, "truncated or corrupt: %llu metadata entries and %llu tensors cannot fit in %llu bytes",
             (unsigned long long)g->n_kv, (unsigned long long)g->n_tensors, (unsigned long long)size);
        return -1;
    }
    g->kv = calloc(g->n_kv ? g->n_kv : 1, sizeof *g->kv);
    g->tensors = calloc(g->n_tensors ? g->n_tensors : 1, sizeof *g->tensors);
    if (!g->kv || !g->tensors) { gguf_free(g); fail(&r, "out of memory"); return -2; }
    int rc = 0;
    for (uint64_t i = 0; i < g->n_kv && !rc; i++) rc = rd_kv(&r, &g->kv[i]);
    for (uint64_t i = 0; i < g->n_tensors && !rc; i++) rc = rd_tensor(&r, &g->tensors[i]);
    if (!rc) rc = check_unique(&r, g);
    if (!rc) rc = check_layout(&r, g);
    if (rc) {
        gguf_free(g);
        return r.oom ? -2 : -1;
    }
    return 0;
}

void gguf_free(gguf_file *g) {
    if (g->kv)
        for (uint64_t i = 0; i < g->n_kv; i++) { free(g->kv[i].key); free(g->kv[i].strs); }
    if (g->tensors)
        for (uint64_t i = 0; i < g->n_tensors; i++) free(g->tensors[i].name);
    free(g->kv);
    free(g->tensors);
    memset(g, 0, sizeof *g);
}

const gguf_kv *gguf_find(const gguf_file *g, const char *key) {
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (g->kv[i].key && !strcmp(g->kv[i].key, key)) return &g->kv[i];
    return NULL;
}

const gguf_tensor *gguf_find_tensor(const gguf_file *g, const char *name) {
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (!strcmp(g->tensors[i].name, name)) return &g->tensors[i];
    return NULL;
}

int gguf_get_u32(const gguf_file *g, const char *key, uint32_t *out) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv) return 1;
    switch (kv->type) {
    case GGUF_U8: case GGUF_U16: case GGUF_U32: case GGUF_U64:
        if (kv->v.u > UINT32_MAX) return -1;
        *out = (uint32_t)kv->v.u;
        return 0;
    case GGUF_I8: case GGUF_I16: case GGUF_I32: case GGUF_I64:
        if (kv->v.i < 0 || kv->v.i > (int64_t)UINT32_MAX) return -1;
        *out = (uint32_t)kv->v.i;
        return 0;
    default:
        return -1;
    }
}

int gguf_get_f32(const gguf_file *g, const char *key, float *out) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv) return 1;
    if (kv->type != GGUF_F32 && kv->type != GGUF_F64) return -1;
    *out = (float)kv->v.f;
    return 0;
}

int gguf_get_bool(const gguf_file *g, const char *key, int *out) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv) return 1;
    if (kv->type != GGUF_BOOL) return -1;
    *out = (int)kv->v.u;
    return 0;
}

int gguf_get_str(const gguf_file *g, const char *key, gguf_str *out) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv) return 1;
    if (kv->type != GGUF_STRING) return -1;
    *out = kv->v.s;
    return 0;
}

// ---- writing ---------------------------------------------------------------

typedef struct {
    uint8_t *p;
    size_t len, cap;
    int oom;
} buf;

static void put(buf *b, const void *src, size_t n) {
    if (b->oom) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) { b->oom = 1; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void put_u32(buf *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(buf *b, uint64_t v) { put(b, &v, 8); }
static void put_str(buf *b, const char *s, uint64_t n) { put_u64(b, n); put(b, s, n); }

typedef struct {
    char *name;
    uint32_t type, n_dims;
    uint64_t ne[4], size, offset;
    const void *data;
} wtensor;

struct gguf_writer {
    buf kv;              // serialized metadata entries
    uint64_t n_kv;
    char **keys;
    wtensor *tensors;
    uint64_t n_tensors, cap_tensors;
    int oom;
};

gguf_writer *gguf_writer_new(void) { return calloc(1, sizeof(gguf_writer)); }

void gguf_writer_free(gguf_writer *w) {
    if (!w) return;
    for (uint64_t i = 0; i < w->n_kv; i++) free(w->keys[i]);
    for (uint64_t i = 0; i < w->n_tensors; i++) free(w->tensors[i].name);
    free(w->keys);
    free(w->tensors);
    free(w->kv.p);
    free(w);
}

// Registers a new key and writes its name and type; -1 if duplicate or OOM.
static int begin_kv(gguf_writer *w, const char *key, uint32_t type) {
    for (uint64_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->keys[i], key)) return -1;
    char **keys = realloc(w->keys, (w->n_kv + 1) * sizeof *keys);
    if (!keys) { w->oom = 1; return -1; }
    w->keys = keys;
    if (!(keys[w->n_kv] = strdup(key))) { w->oom = 1; return -1; }
    w->n_kv++;
    put_str(&w->kv, key, strlen(key));
    put_u32(&w->kv, type);
    return w->kv.oom ? -1 : 0;
}

int gguf_w_str(gguf_writer *w, const char *key, const char *val) {
    if (begin_kv(w, key, GGUF_STRING)) return -1;
    put_str(&w->kv, val, strlen(val));
    return w->kv.oom ? -1 : 0;
}

static int w_scalar(gguf_writer *w, const char *key, uint32_t type, const void *v) {
    if (begin_kv(w, key, type)) return -1;
    put(&w->kv, v, kv_type_size[type]);
    return w->kv.oom ? -1 : 0;
}

int gguf_w_u32(gguf_writer *w, const char *key, uint32_t val) { return w_scalar(w, key, GGUF_U32, &val); }
int gguf_w_i32(gguf_writer *w, const char *key, int32_t val) { return w_scalar(w, key, GGUF_I32, &val); }
int gguf_w_f32(gguf_writer *w, const char *key, float val) { return w_scalar(w, key, GGUF_F32, &val); }
int gguf_w_bool(gguf_writer *w, const char *key, int val) {
    uint8_t b = val ? 1 : 0;
    return w_scalar(w, key, GGUF_BOOL, &b);
}

static int w_arr(gguf_writer *w, const char *key, uint32_t type, const void *vals, uint64_t n) {
    if (begin_kv(w, key, GGUF_ARRAY)) return -1;
    put_u32(&w->kv, type);
    put_u64(&w->kv, n);
    put(&w->kv, vals, n * kv_type_size[type]);
    return w->kv.oom ? -1 : 0;
}

int gguf_w_arr_f32(gguf_writer *w, const char *key, const float *v, uint64_t n) { return w_arr(w, key, GGUF_F32, v, n); }
int gguf_w_arr_i32(gguf_writer *w, const char *key, const int32_t *v, uint64_t n) { return w_arr(w, key, GGUF_I32, v, n); }

int gguf_w_arr_str(gguf_writer *w, const char *key, const char *const *vals, const uint32_t *lens, uint64_t n) {
    if (begin_kv(w, key, GGUF_ARRAY)) return -1;
    put_u32(&w->kv, GGUF_STRING);
    put_u64(&w->kv, n);
    for (uint64_t i = 0; i < n; i++) put_str(&w->kv, vals[i], lens ? lens[i] : strlen(vals[i]));
    return w->kv.oom ? -1 : 0;
}

int gguf_w_copy_kv(gguf_writer *w, const gguf_kv *kv) {
    if (!strcmp(kv->key, "general.alignment")) return 0;   // the writer sets its own
    if (kv->type == GGUF_STRING) {
        if (begin_kv(w, kv->key, GGUF_STRING)) return -1;
        put_str(&w->kv, kv->v.s.ptr, kv->v.s.len);
    } else if (kv->type != GGUF_ARRAY) {
        // re-encode from the parsed value: its bytes are in the same layout
        uint8_t raw[8];
        if (kv->type == GGUF_F32) { float f = (float)kv->v.f; memcpy(raw, &f, 4); }
        else if (kv->type == GGUF_F64) memcpy(raw, &kv->v.f, 8);
        else memcpy(raw, &kv->v.u, 8);     // little-endian: the low bytes are the value
        return w_scalar(w, kv->key, kv->type, raw);
    } else if (kv->arr_type == GGUF_STRING) {
        if (begin_kv(w, kv->key, GGUF_ARRAY)) return -1;
        put_u32(&w->kv, GGUF_STRING);
        put_u64(&w->kv, kv->arr_n);
        for (uint64_t i = 0; i < kv->arr_n; i++) put_str(&w->kv, kv->strs[i].ptr, kv->strs[i].len);
    } else {
        return w_arr(w, kv->key, kv->arr_type, kv->arr_data, kv->arr_n);
    }
    return w->kv.oom ? -1 : 0;
}

int gguf_w_tensor(gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims, const uint64_t *ne,
                  const void *data, uint64_t size) {
    if (n_dims < 1 || n_dims > GGUF_MAX_DIMS) return -1;
    for (uint64_t i = 0; i < w->n_tensors; i++)
        if (!strcmp(w->tensors[i].name, name)) return -1;
    if (w->n_tensors == w->cap_tensors) {
        uint64_t cap = w->cap_tensors ? 2 * w->cap_tensors : 64;
        wtensor *t = realloc(w->tensors, cap * sizeof *t);
        if (!t) { w->oom = 1; return -1; }
        w->tensors = t;
        w->cap_tensors = cap;
    }
    wtensor *t = &w->tensors[w->n_tensors];
    memset(t, 0, sizeof *t);
    if (!(t->name = strdup(name))) { w->oom = 1; return -1; }
    t->type = type;
    t->n_dims = n_dims;
    for (uint32_t d = 0; d < n_dims; d++) t->ne[d] = ne[d];
    t->data = data;
    t->size = size;
    w->n_tensors++;
    return 0;
}

#define WRITE_ALIGN 64

static int write_all(FILE *f, const void *p, size_t n) { return n == 0 || fwrite(p, 1, n, f) == n ? 0 : -1; }

static int write_pad(FILE *f, uint64_t pos) {
    static const uint8_t zeros[WRITE_ALIGN];
    uint64_t pad = (WRITE_ALIGN - pos % WRITE_ALIGN) % WRITE_ALIGN;
    return write_all(f, zeros, pad);
}

// The header: magic, counts, metadata, tensor infos (offsets assigned here).
static int build_head(gguf_writer *w, buf *head) {
    if (w->oom || w->kv.oom) return -1;
    if (gguf_w_u32(w, "general.alignment", WRITE_ALIGN)) return -1;
    put(head, "GGUF", 4);
    put_u32(head, 3);
    put_u64(head, w->n_tensors);
    put_u64(head, w->n_kv);
    put(head, w->kv.p, w->kv.len);
    uint64_t off = 0;
    for (uint64_t i = 0; i < w->n_tensors; i++) {
        wtensor *t = &w->tensors[i];
        put_str(head, t->name, strlen(t->name));
        put_u32(head, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) put_u64(head, t->ne[d]);
        put_u32(head, t->type);
        put_u64(head, off);
        t->offset = off;
        off += (t->size + WRITE_ALIGN - 1) / WRITE_ALIGN * WRITE_ALIGN;
    }
    return head->oom ? -1 : 0;
}

int gguf_writer_write(gguf_writer *w, const char *path, char *err, size_t errlen) {
    buf head = {0};
    if (build_head(w, &head)) { free(head.p); snprintf(err, errlen, "%s: out of memory while building the file", path); return -1; }

    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) { free(head.p); snprintf(err, errlen, "%s: out of memory", path); return -1; }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp-XXXXXX", 12);
    int fd = mkstemp(tmp);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    int rc = f ? 0 : -1;
    if (!rc) fchmod(fd, 0644);
    if (!rc) rc = write_all(f, head.p, head.len) || write_pad(f, head.len);
    for (uint64_t i = 0; i < w->n_tensors && !rc; i++)
        rc = write_all(f, w->tensors[i].data, w->tensors[i].size) || write_pad(f, w->tensors[i].size);
    if (!rc) rc = fflush(f) || fsync(fileno(f));
    int saved = errno;
    if (f) rc = fclose(f) || rc;
    else if (fd >= 0) close(fd);
    if (!rc && rename(tmp, path)) { rc = -1; saved = errno; }
    if (rc) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(saved ? saved : EIO));
        if (fd >= 0) unlink(tmp);
    }
    free(tmp);
    free(head.p);
    return rc ? -1 : 0;
}

static void put_pad(buf *b) {
    static const uint8_t zeros[WRITE_ALIGN];
    put(b, zeros, (WRITE_ALIGN - b->len % WRITE_ALIGN) % WRITE_ALIGN);
}

int gguf_writer_to_memory(gguf_writer *w, void **data, size_t *size) {
    *data = NULL, *size = 0;
    buf b = {0};
    if (build_head(w, &b)) { free(b.p); return -1; }
    put_pad(&b);
    for (uint64_t i = 0; i < w->n_tensors; i++) {
        put(&b, w->tensors[i].data, w->tensors[i].size);
        put_pad(&b);
    }
    if (b.oom) { free(b.p); return -1; }
    *data = b.p, *size = b.len;
    return 0;
}
