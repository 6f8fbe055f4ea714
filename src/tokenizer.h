// SentencePiece BPE tokenizer for "llama" vocabularies stored in GGUF files.
//
// Encoding follows the sentencepiece library with a Llama .model: spaces
// become U+2581 "▁", a dummy "▁" is put in front (add_space_prefix), then
// adjacent pieces are merged, highest-scoring pair first (ties: leftmost);
// what is not in the vocabulary falls back to <0xNN> byte tokens (or to the
// unknown token when the vocabulary has none). User-defined pieces match as
// whole strings first; "unused" pieces may be merged through but are split
// back into the pieces they were made of, as sentencepiece does.
#ifndef SLM_TOKENIZER_H
#define SLM_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "gguf.h"
#include "slm.h"

typedef struct slm_vocab slm_vocab;

// Reads tokenizer.ggml.* from a parsed GGUF: model (must be "llama"), tokens,
// scores, token_type (all required, equal lengths), bos/eos/unknown_token_id
// (optional; unknown defaults to the first token of type UNKNOWN),
// add_bos_token and add_space_prefix (optional, default true). Pieces must be
// 1 to 256 bytes, unique, without NUL, valid UTF-8 (byte tokens: exactly
// "<0xNN>", all 256 or none). The vocabulary keeps its own copies: g may be
// freed afterwards. Returns 0, or -1 with a
// one-line message in err (without the file name), -2 when out of memory.
int vocab_load(slm_vocab **out, const gguf_file *g, char *err, size_t errlen);
void vocab_free(slm_vocab *v);

int vocab_size(const slm_vocab *v);
int vocab_bos(const slm_vocab *v);       // -1 if none
int vocab_eos(const slm_vocab *v);       // -1 if none
int vocab_add_bos(const slm_vocab *v);   // the file's add_bos_token (default 1)

// Tokenizes len bytes of text (UTF-8; each invalid byte becomes its byte
// token). Writes up to max_ids ids and returns how many the text needs (more
// than max_ids: retry with a bigger buffer), or -1 when out of memory or when
// the text is too long to count in an int (over ~700 MB).
int vocab_tokenize(const slm_vocab *v, const char *text, size_t len, int add_bos, int32_t *ids, int max_ids);

// The raw bytes of token id as it continues the text after prev_id: "▁" is a
// space, <0xNN> is that byte, control tokens are empty, the unknown token is
// " ⁇ ", and right after BOS or at the start (prev_id < 0) a leading space is
// dropped when the vocabulary adds a space prefix. Writes up to cap bytes and
// returns the full count, or -1 for a bad id.
int vocab_token_bytes(const slm_vocab *v, int32_t id, int32_t prev_id, char *buf, int cap);
const char *vocab_piece(const slm_vocab *v, int32_t id);   // the vocabulary entry, or NULL
int vocab_is_control(const slm_vocab *v, int32_t id);      // 1 for CONTROL tokens (<s>, </s>)

// The streaming detokenizer under slm_detok_push: appends the complete UTF-8
// characters that token id finishes to out and returns their byte count, or
// -1 (d unchanged) for a bad id or when cap is too small (64 + the piece's
// length always suffices).
int vocab_detok_push(const slm_vocab *v, slm_detok *d, int32_t id, char *out, int cap);

// Provided by the model code: the vocabulary of a loaded model.
const slm_vocab *slm_model_vocab(const slm_model *m);

#endif
