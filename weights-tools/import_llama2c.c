// slm import-llama2c: a llama2.c checkpoint (legacy format) and its
// tokenizer.bin -> a llama GGUF.
//
// llama2.c layout, all little-endian: 7 int32 (dim, hidden_dim, n_layers,
// n_heads, n_kv_heads, vocab_size (negative: separate classifier), seq_len),
// then f32 tensors in this order: token embedding (vocab, dim), attention
// norms (L, dim), wq (L, dim, dim), wk (L, kv_dim, dim), wv (L, kv_dim, dim),
// wo (L, dim, dim), ffn norms (L, dim), w1 (L, hidden, dim), w2 (L, dim,
// hidden), w3 (L, hidden, dim), final norm (dim), RoPE tables (seq_len,
// head_size/2) twice, then the classifier (vocab, dim) if not shared.
// Matrices are (out, in) row-major and q/k rows already pair RoPE dimensions
// (2i, 2i+1), which is the order GGUF's llama expects: no permutation.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/model.h"
#include "wtools.h"

typedef struct {
    const uint8_t *p;
    size_t size, off;
} cursor;

static int read_file(const char *path, uint8_t **out, size_t *size, slm_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return slm_fail(err, SLM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, n;
    do {
        if (len == cap) {
            cap = cap ? 2 * cap : 1 << 20;
            uint8_t *b = realloc(buf, cap);
            if (!b) { free(buf); fclose(f); return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "%s: out of memory", path); }
            buf = b;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    int bad = ferror(f);
    fclose(f);
    if (bad) { free(buf); return slm_fail(err, SLM_ERR_IO, "%s: read error", path); }
    *out = buf;
    *size = len;
    return SLM_OK;
}

// Copies n floats of the next tensor into dst (the layer slice of one
// matrix); -1 if the file ends first.
static int take(cursor *c, float *dst, size_t n) {
    if (n > (c->size - c->off) / sizeof(float)) return -1;
    memcpy(dst, c->p + c->off, n * sizeof(float));
    c->off += n * sizeof(float);
    return 0;
}

// "<0xNN>" with two uppercase hex digits: a byte-fallback token.
static int is_byte_piece(const char *p) {
    const char *hex = "0123456789ABCDEF";
    return strlen(p) == 6 && !strncmp(p, "<0x", 3) && p[3] && strchr(hex, p[3]) && p[4] && strchr(hex, p[4]) && p[5] == '>';
}

// The llama2.c tokenizer: int32 max_token_length, then per token f32 score,
// int32 length, bytes. Spaces stand for SentencePiece's U+2581, and BOS/EOS
// are written "\n<s>\n" / "\n</s>\n".
static slm_status add_tokenizer(gguf_writer *w, const char *path, int vocab, slm_error *err) {
    uint8_t *buf;
    size_t size;
    slm_status rc = read_file(path, &buf, &size, err);
    if (rc) return rc;
    char **pieces = calloc((size_t)vocab, sizeof *pieces);
    float *scores = malloc((size_t)vocab * sizeof *scores);
    int32_t *types = malloc((size_t)vocab * sizeof *types);
    if (!pieces || !scores || !types) rc = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    size_t off = 4;
    for (int i = 0; i < vocab && !rc; i++) {
        int32_t len;
        if (size < off + 8) { rc = slm_fail(err, SLM_ERR_BAD_DATA, "%s: truncated at token %d of %d", path, i, vocab); break; }
        memcpy(&scores[i], buf + off, 4);
        memcpy(&len, buf + off + 4, 4);
        off += 8;
        if (len <= 0 || len > 256 || (size_t)len > size - off) {
            rc = slm_fail(err, SLM_ERR_BAD_DATA, "%s: token %d has a bad length %d", path, i, len);
            break;
        }
        const char *s = (const char *)buf + off;
        off += (size_t)len;
        if (i == 1 || i == 2) s = i == 1 ? "<s>" : "</s>", len = (int32_t)strlen(s);
        char *piece = pieces[i] = malloc((size_t)len * 3 + 1);
        if (!piece) { rc = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory"); break; }
        int n = 0;
        for (int k = 0; k < len; k++) {
            if (s[k] == ' ') { memcpy(piece + n, "\xe2\x96\x81", 3); n += 3; }
            else piece[n++] = s[k];
        }
        piece[n] = 0;
        types[i] = i == 0 ? 2 : i <= 2 ? 3 : is_byte_piece(piece) ? 6 : 1;
    }
    if (!rc && off != size) rc = slm_fail(err, SLM_ERR_BAD_DATA, "%s: %zu bytes left after %d tokens (vocabulary size mismatch?)",
                                        path, size - off, vocab);
    if (!rc && (gguf_w_str(w, "tokenizer.ggml.model", "llama") ||
                gguf_w_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)pieces, NULL, (uint64_t)vocab) ||
                gguf_w_arr_f32(w, "tokenizer.ggml.scores", scores, (uint64_t)vocab) ||
                gguf_w_arr_i32(w, "tokenizer.ggml.token_type", types, (uint64_t)vocab) ||
                gguf_w_u32(w, "tokenizer.ggml.bos_token_id", 1) || gguf_w_u32(w, "tokenizer.ggml.eos_token_id", 2) ||
                gguf_w_u32(w, "tokenizer.ggml.unknown_token_id", 0) || gguf_w_bool(w, "tokenizer.ggml.add_bos_token", 1) ||
                gguf_w_bool(w, "tokenizer.ggml.add_eos_token", 0)))
        rc = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    if (pieces)
        for (int i = 0; i < vocab; i++) free(pieces[i]);
    free(pieces);
    free(scores);
    free(types);
    free(buf);
    return rc;
}

static slm_status read_weights(wt_model *m, cursor *c, int shared, const char *path, slm_error *err) {
    const slm_model_info *in = &m->cfg;
    int L = in->n_layers, dim = in->dim, kv = in->n_kv_heads * in->head_dim, hid = in->ffn_dim;
    float *embd = wt_add(m, "token_embd.weight", in->vocab_size, dim);
    float *per_layer[SLM_MAX_LAYERS][9];
    static const char *names[9] = {"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output",
                                   "ffn_norm", "ffn_gate", "ffn_down", "ffn_up"};
    int rows[9] = {0, dim, kv, kv, dim, 0, hid, dim, hid}, cols[9] = {dim, dim, dim, dim, dim, dim, dim, hid, dim};
    if (!embd) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    for (int l = 0; l < L; l++)
        for (int k = 0; k < 9; k++) {
            char name[64];
            snprintf(name, sizeof name, "blk.%d.%s.weight", l, names[k]);
            if (!(per_layer[l][k] = wt_add(m, name, rows[k], cols[k]))) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
        }
    float *norm = wt_add(m, "output_norm.weight", 0, dim);
    float *out = shared ? NULL : wt_add(m, "output.weight", in->vocab_size, dim);
    if (!norm || (!shared && !out)) return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    // file order: embedding, then each kind (in names[] order: w1 = gate,
    // w2 = down, w3 = up) for all layers
    int bad = take(c, embd, (size_t)in->vocab_size * dim);
    for (int k = 0; k < 9 && !bad; k++)
        for (int l = 0; l < L && !bad; l++) bad = take(c, per_layer[l][k], (size_t)(rows[k] ? rows[k] : 1) * cols[k]);
    bad = bad || take(c, norm, (size_t)dim);
    size_t rope = (size_t)in->context_length * (in->head_dim / 2) * 2 * sizeof(float);
    if (!bad && rope > c->size - c->off) bad = 1;
    if (!bad) c->off += rope;
    if (!bad && out) bad = take(c, out, (size_t)in->vocab_size * dim);
    if (bad) return slm_fail(err, SLM_ERR_BAD_DATA, "%s: truncated: the weights need more bytes than the file has", path);
    if (c->off != c->size)
        return slm_fail(err, SLM_ERR_BAD_DATA, "%s: %zu bytes left after the weights (not a llama2.c legacy checkpoint?)", path,
                        c->size - c->off);
    return SLM_OK;
}

slm_status slm_import_llama2c(const char *bin_path, const char *tok_path, const char *out_path, slm_note_fn note,
                              void *user, slm_error *err) {
    uint8_t *buf;
    size_t size;
    slm_status rc = read_file(bin_path, &buf, &size, err);
    if (rc) return rc;
    int32_t h[7];
    if (size < sizeof h) {
        free(buf);
        return slm_fail(err, SLM_ERR_BAD_DATA, "%s: too short for a llama2.c header", bin_path);
    }
    memcpy(h, buf, sizeof h);
    if (!memcmp(buf, "ak42", 4)) {
        free(buf);
        return slm_fail(err, SLM_ERR_UNSUPPORTED, "%s: llama2.c export versions 1-2 are not supported (legacy only)", bin_path);
    }
    int shared = h[5] > 0, vocab = h[5] > 0 ? h[5] : -h[5];
    wt_model m = {.name = "llama2.c import"};
    slm_model_info *in = &m.cfg;
    *in = (slm_model_info){.dim = h[0], .ffn_dim = h[1], .n_layers = h[2], .n_heads = h[3], .n_kv_heads = h[4],
                           .vocab_size = vocab, .context_length = h[6], .rope_theta = 10000.0f, .norm_eps = 1e-5f};
    if (in->dim <= 0 || in->dim > 65536 || in->ffn_dim <= 0 || in->ffn_dim > 1 << 20 || in->n_layers <= 0 ||
        in->n_layers > SLM_MAX_LAYERS || in->n_heads <= 0 || in->n_kv_heads <= 0 || in->n_heads % in->n_kv_heads ||
        in->dim % in->n_heads || (in->dim / in->n_heads) % 2 || vocab <= 0 || vocab > 1 << 20 || in->context_length <= 0 ||
        in->context_length > 1 << 20) {
        free(buf);
        return slm_fail(err, SLM_ERR_BAD_DATA, "%s: implausible llama2.c header (dim %d, hidden %d, layers %d, heads %d/%d, vocab %d, seq %d)",
                        bin_path, h[0], h[1], h[2], h[3], h[4], h[5], h[6]);
    }
    in->head_dim = in->dim / in->n_heads;
    cursor c = {buf, size, sizeof h};
    gguf_writer *w = gguf_writer_new();
    rc = w ? read_weights(&m, &c, shared, bin_path, err) : slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    free(buf);
    if (!rc) rc = add_tokenizer(w, tok_path, vocab, err);
    slm_quantize_params qp = slm_quantize_default_params(SLM_TYPE_F32);
    qp.note = note;
    qp.user = user;
    if (!rc) rc = wt_write(w, &m, &qp, out_path, err);
    gguf_writer_free(w);
    wt_free(&m);
    return rc;
}
