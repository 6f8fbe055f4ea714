// slm360: an on-device small-language-model runtime. The one public header.
//
// Handles are opaque. Functions that can fail return an slm_status and fill an
// optional slm_error with a one-line human message. The library keeps no
// global state, never prints and never exits.
//
//   slm_model   a loaded GGUF file: config, weights (memory-mapped), tokenizer.
//               Read-only after loading; one model can serve many contexts.
//   slm_context a KV cache, scratch buffers and a thread pool for one stream
//               of tokens. Use one context per thread.
#ifndef SLM_H
#define SLM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SLM_VERSION "0.1.0"

typedef enum {
    SLM_OK = 0,
    SLM_ERR_INVALID_ARG,    // a bad argument from the caller
    SLM_ERR_IO,             // a file is missing, unreadable or unwritable
    SLM_ERR_BAD_MODEL,      // a malformed, truncated or hostile model file
    SLM_ERR_UNSUPPORTED,    // a valid file using something slm360 does not run
    SLM_ERR_OUT_OF_MEMORY,
    SLM_ERR_CONTEXT_FULL,   // the tokens do not fit in the context
    SLM_ERR_ABORTED,        // a callback asked to stop
    SLM_ERR_BAD_DATA,       // a malformed data file (text, TSV)
    SLM_ERR_NUMERIC,        // the model computed NaN or infinity (damaged weights)
} slm_status;

typedef struct {
    slm_status code;
    char message[320];
} slm_error;

// "OK", "INVALID_ARG", "IO", "BAD_MODEL", "UNSUPPORTED", "OUT_OF_MEMORY",
// "CONTEXT_FULL", "ABORTED", "BAD_DATA".
const char *slm_status_name(slm_status status);

// Tensor types, numbered as ggml numbers them in GGUF files.
typedef enum {
    SLM_TYPE_F32 = 0,
    SLM_TYPE_F16 = 1,
    SLM_TYPE_Q4_0 = 2,
    SLM_TYPE_Q4_1 = 3,
    SLM_TYPE_Q5_0 = 6,
    SLM_TYPE_Q5_1 = 7,
    SLM_TYPE_Q8_0 = 8,
    SLM_TYPE_Q2_K = 10,
    SLM_TYPE_Q3_K = 11,
    SLM_TYPE_Q4_K = 12,
    SLM_TYPE_Q5_K = 13,
    SLM_TYPE_Q6_K = 14,
    SLM_TYPE_IQ4_NL = 20,
    SLM_TYPE_IQ4_XS = 23,
    SLM_TYPE_BF16 = 30,
} slm_type;

const char *slm_type_name(slm_type type);       // "F32", "Q4_K", "IQ4_XS", ..., or "?"
int slm_type_from_name(const char *name);       // case-insensitive; -1 if unknown

// Progress of a long operation: what it is doing and how far (0..1).
typedef void (*slm_progress_fn)(void *user, const char *stage, double fraction);
// A note worth telling the user (e.g. "ffn padded from 172 to 192").
typedef void (*slm_note_fn)(void *user, const char *note);

// ---- models ----------------------------------------------------------------

typedef struct slm_model slm_model;

enum {
    SLM_LOAD_VOCAB_ONLY = 1,  // read the tokenizer only; weights may be absent
    SLM_LOAD_CHECK = 2,       // also slm_model_check the weights: a damaged file fails to load
};

// Memory-maps a GGUF file (zero-copy: weights are used where they lie).
slm_status slm_model_load_file(const char *path, unsigned flags, slm_model **out, slm_error *err);
// Loads from a buffer holding a whole GGUF file. With take_ownership the model
// frees `data` with free() when it is freed (also on failure); otherwise the
// caller keeps the buffer alive and unchanged while the model exists.
slm_status slm_model_load_memory(void *data, size_t size, int take_ownership, unsigned flags,
                                 slm_model **out, slm_error *err);
void slm_model_free(slm_model *model);
// Scans every float of the file's tensors (F32/F16/BF16 values, quantized
// blocks' scales) for NaN and infinity: SLM_OK, or SLM_ERR_BAD_MODEL naming
// the first damaged tensor, row and block. It reads the whole file (~memory
// speed; docs/BENCHMARKS.md). Without it, damage shows up in the forward
// pass as SLM_ERR_NUMERIC when a token reaches it.
slm_status slm_model_check(const slm_model *model, slm_error *err);

typedef struct {
    const char *architecture;   // "llama" or "slm360-encoder"
    const char *name;           // general.name, or ""
    int is_encoder;             // bidirectional encoder with a classifier head
    int has_weights;            // 0 for a vocabulary-only load
    int dim, n_layers, n_heads, n_kv_heads, head_dim, ffn_dim;
    int vocab_size, context_length;
    float rope_theta, norm_eps;
    int qk_norm;                // per-head RMSNorm of q and k
    int tied_embeddings;        // LM head is the token embedding
    int n_classes;              // encoder classes, 0 for decoders
    int bos_id, eos_id;
    uint64_t n_params;
    uint64_t weights_bytes;     // bytes of tensor data
    slm_type weight_type;       // type of most weight bytes
} slm_model_info;

void slm_model_get_info(const slm_model *model, slm_model_info *info);
// The label of encoder class i (NULL if out of range).
const char *slm_model_class_label(const slm_model *model, int i);

// ---- tokenizer -------------------------------------------------------------

// Tokenizes UTF-8 text (invalid bytes go through byte fallback). Writes up to
// max_ids ids and returns how many the text needs (so a return value greater
// than max_ids means "retry with a bigger buffer"), or -1 with err on failure.
int slm_tokenize(const slm_model *model, const char *text, size_t len, int add_bos,
                 int32_t *ids, int max_ids, slm_error *err);

// The raw bytes of a token as it continues the text after prev_id (the first
// token after BOS, or at the start, loses its leading space). Returns the
// byte count (written up to cap); 0 for control tokens; -1 for a bad id.
int slm_token_bytes(const slm_model *model, int32_t id, int32_t prev_id, char *buf, int cap);
const char *slm_token_piece(const slm_model *model, int32_t id);  // the vocabulary entry, or NULL

// Streaming detokenization: feed tokens, get back only complete UTF-8
// characters (an incomplete sequence waits for the next token; invalid bytes
// become U+FFFD). The struct is plain state: start it with slm_detok_init.
typedef struct {
    int32_t prev_id;
    int n_pending;
    unsigned char pending[4];
} slm_detok;
void slm_detok_init(slm_detok *d);
// Appends the text for `id` to out (at most cap bytes; cap >= 64 + token
// length is always enough) and returns the number of bytes written.
int slm_detok_push(const slm_model *model, slm_detok *d, int32_t id, char *out, int cap);
// Flushes an incomplete trailing sequence as U+FFFD.
int slm_detok_flush(slm_detok *d, char *out, int cap);

// ---- contexts and evaluation ----------------------------------------------

typedef struct slm_context slm_context;

typedef struct {
    int n_ctx;              // KV cache length; 0 = the model's context length
    int n_threads;          // 0 = 1
    const char *kernels;    // "scalar", "avx2", "neon", "wasm"; NULL = best for this CPU
    int n_batch;            // prefill micro-batch; 0 = default (64)
} slm_context_params;

slm_context_params slm_context_default_params(void);
slm_status slm_context_new(const slm_model *model, const slm_context_params *params,
                           slm_context **out, slm_error *err);
void slm_context_free(slm_context *ctx);

int slm_context_pos(const slm_context *ctx);          // tokens held in the KV cache
int slm_context_size(const slm_context *ctx);         // n_ctx
const char *slm_context_kernels(const slm_context *ctx);  // backend name in use
// Forgets every token from position pos on (pos <= slm_context_pos).
void slm_context_rewind(slm_context *ctx, int pos);
// Bytes allocated by the context (KV cache and scratch).
size_t slm_context_memory(const slm_context *ctx);

// Feeds n tokens at the current position: the prompt as matrix-matrix
// products in micro-batches, or one token for decoding. logits: NULL, or room
// for the last token's logits (vocab_size floats), or with all_logits for
// every fed token's logits (n * vocab_size floats, token order).
slm_status slm_eval(slm_context *ctx, const int32_t *ids, int n, float *logits, int all_logits,
                    slm_error *err);

// ---- sampling and generation ----------------------------------------------

typedef struct {
    float temperature;      // 0 = greedy (argmax, lowest id on ties)
    int top_k;              // 0 = off
    float top_p;            // 1 = off
    float min_p;            // 0 = off
    float repeat_penalty;   // 1 = off; logits of recent tokens: >0 divided, <0 multiplied
    int repeat_last_n;      // window for the penalty
    uint64_t seed;          // the PRNG is slm360's own: same seed, same text everywhere
} slm_sampling_params;

slm_sampling_params slm_sampling_default_params(void);

typedef struct slm_sampler slm_sampler;
slm_status slm_sampler_new(const slm_sampling_params *params, int vocab_size, slm_sampler **out,
                           slm_error *err);
void slm_sampler_free(slm_sampler *s);
// Picks the next token from logits (modified in place) given the tokens so far.
int32_t slm_sampler_sample(slm_sampler *s, float *logits, const int32_t *history, int n_history);

typedef enum {
    SLM_STOP_LENGTH = 0,    // max_tokens reached
    SLM_STOP_EOS,           // the model produced EOS (or BOS)
    SLM_STOP_CALLBACK,      // the callback asked to stop (user abort, stop string)
    SLM_STOP_CONTEXT,       // the context is full
} slm_stop_reason;

typedef struct {
    int max_tokens;
    slm_sampling_params sampling;
    int truncate;           // prompt longer than the context: keep its tail instead of failing
} slm_generate_params;

slm_generate_params slm_generate_default_params(void);

typedef struct {
    int prompt_tokens, generated_tokens;
    double prefill_ms, decode_ms;   // decode_ms over generated_tokens - 1 decode steps
    slm_stop_reason stop_reason;
    int truncated_tokens;           // prompt tokens dropped by truncate
} slm_generate_stats;

// Called with each generated token and its text (complete UTF-8 only, may be
// empty). Return nonzero to stop.
typedef int (*slm_token_fn)(void *user, int32_t id, const char *text, int len);

// Prefills the prompt after what the context holds, then samples up to
// max_tokens tokens, streaming each to on_token.
slm_status slm_generate(slm_context *ctx, const int32_t *prompt, int n_prompt,
                        const slm_generate_params *params, slm_token_fn on_token, void *user,
                        slm_generate_stats *stats, slm_error *err);

// ---- scoring ---------------------------------------------------------------

// Log-likelihood of each continuation after the context (natural log, summed
// over the continuation's tokens), e.g. to rank multiple-choice answers.
// n_tokens (optional) receives each continuation's token count. The context is
// evaluated once; the KV cache is left empty.
slm_status slm_score(slm_context *ctx, const char *context, const char *const *choices,
                     int n_choices, double *loglik, int *n_tokens, slm_error *err);

typedef struct {
    double ppl, ppl_stderr;     // perplexity and its standard error
    double nll;                 // mean negative log-likelihood per scored token
    int n_chunks, n_scored;
} slm_perplexity_result;

// llama.cpp's method: tokenize text once (with BOS), cut it into chunks of
// chunk tokens, put BOS first in each, score the second half of each chunk.
slm_status slm_perplexity(slm_context *ctx, const char *text, size_t len, int chunk, int max_chunks,
                          slm_progress_fn progress, void *user, slm_perplexity_result *out,
                          slm_error *err);

// ---- encoders: classification and embeddings -------------------------------
//
// An slm360-encoder model (see docs/FORMAT.md) reads a whole text at once:
// tokens without BOS, bidirectional attention, mean pooling over the tokens,
// plus the hashed n-gram branch when the model has one, then a linear layer
// to the classes. The context's size bounds the tokens read.

// Class probabilities for text (n_classes floats: softmax of the logits over
// the model's calibrated temperature). A text longer than the context is cut
// to its first tokens and *truncated (optional) receives how many were
// dropped. Empty text: SLM_ERR_INVALID_ARG.
slm_status slm_classify(slm_context *ctx, const char *text, size_t len, float *probs, int *truncated,
                        slm_error *err);
// The pooled vector the classifier reads (slm_embed_dim floats, L2-normalized).
slm_status slm_embed(slm_context *ctx, const char *text, size_t len, float *vec, slm_error *err);
int slm_embed_dim(const slm_model *model);

// ---- continual learning of an encoder's classifier ---------------------------
//
// A learner teaches an encoder new examples on the device, new intents
// included, without forgetting what it knew. The transformer stays as it is;
// what learns is the classifier, the n-gram table and the taught classes' own
// n-gram weights (in f32, owned by the learner; the model file is never
// changed). Every update:
//   - mixes the new examples with a replay buffer of past ones (reservoir
//     sampling, bounded), started from the examples the trainer stored in
//     the model file;
//   - pulls weights back towards their values before the update in
//     proportion to their importance (EWC, a diagonal Fisher information
//     computed on the replay buffer);
//   - is checked on held-out examples (half of the dev examples the trainer
//     stored, then of every example learnt; the other half calibrates the
//     new rows): an update that lowers held-out accuracy by more than
//     max_drop, lowers any class's by more than max_class_drop, or does not
//     learn the new examples themselves (min_fit) is rolled back, leaving the
//     learner bit for bit as before.
// The learned state (classifier, changed n-gram rows, taught classes' n-gram
// weights, Fisher, replay and held-out buffers) saves to a GGUF file or
// buffer and loads back.

typedef struct slm_learner slm_learner;

typedef struct {
    int epochs;                 // passes over the new examples (10; at least 60 steps of 32)
    float lr;                   // Adam learning rate (0.01)
    float ewc_lambda;           // strength of the EWC penalty; 0 = off (100)
    int replay;                 // mix replayed examples into the update (1)
    int replay_ratio;           // replayed examples per new one, per epoch (4; at least 128 a pass)
    int replay_capacity;        // bound of the replay buffer (4000)
    int guard_capacity;         // bound of the held-out buffer (2000)
    float max_drop;             // held-out accuracy may drop by at most this (0.01; one example at least)
    float max_class_drop;       // ... and any class's with >= 3 held-out examples by at most this (0.3; 2 examples at least)
    float min_fit;              // share of the new examples the update must classify right (0.75)
    uint64_t seed;
    slm_progress_fn progress;   // stages "reading" (features of stored examples) and "learning"
    void *user;
} slm_learn_params;

slm_learn_params slm_learn_default_params(void);

typedef struct {
    int accepted;
    float dev_accuracy_before, dev_accuracy_after;  // on the held-out buffer (-1: it is empty)
    float fit_before, fit_after;                    // on the new examples
    int new_classes;                                // classes the examples added (0 if refused)
    int n_guard, n_replay;                          // buffer sizes after the update
    char reason[200];                               // why it was refused ("" if accepted)
} slm_learn_result;

// A learner over an encoder context (which it borrows: keep it alive, and
// use it from one thread with the learner). It starts from the model's
// classifier and the examples stored in the model file; with state (a buffer
// written by slm_learner_save_memory or a file by slm_learner_save) it
// continues from that state, which must come from the same model.
slm_status slm_learner_new(slm_context *encoder, const slm_learn_params *params, const void *state, size_t state_size,
                           slm_learner **out, slm_error *err);
slm_status slm_learner_load(slm_context *encoder, const slm_learn_params *params, const char *path, slm_learner **out,
                            slm_error *err);
void slm_learner_free(slm_learner *l);
void slm_learner_set_params(slm_learner *l, const slm_learn_params *params);

// Learns n labelled texts (labels the model does not know become new
// classes). A refused update is not an error: res->accepted is 0 and
// res->reason says why. Errors (bad input, out of memory) change nothing.
slm_status slm_learn(slm_learner *l, const char *const *texts, const char *const *labels, int n,
                     slm_learn_result *res, slm_error *err);

// slm_classify with the learned classifier: probabilities of every class the
// learner knows (slm_learner_class_count floats). Before any update it gives
// exactly slm_classify's bits.
slm_status slm_learner_classify(slm_learner *l, const char *text, size_t len, float *probs, int *truncated,
                                slm_error *err);
int slm_learner_class_count(const slm_learner *l);
const char *slm_learner_class_label(const slm_learner *l, int i);

// The state as a GGUF file (written to a temporary name, then renamed) or a
// malloc'd buffer (the caller frees it).
slm_status slm_learner_save(const slm_learner *l, const char *path, slm_error *err);
slm_status slm_learner_save_memory(const slm_learner *l, void **data, size_t *size, slm_error *err);

// ---- documents: sentences and extractive answers ---------------------------
//
// Tier 3 of the assistant pipeline (src/retrieval.c): a document split into
// sentences, each embedded by an encoder (slm_embed) and described by its
// words (TF-IDF), so that sentences can be compared with each other and with
// a question. Scores mix the two similarities (embed_weight); without an
// encoder only words count. Everything is deterministic.

typedef struct {
    int start, end;             // bytes [start, end) of a text
} slm_span;

// Splits UTF-8 text into sentences: after . ! ? … 。！？ (and closing quotes
// or brackets) followed by white space, except after abbreviations (Mr. Dr.
// e.g. U.S. initials), before a lower-case letter, or inside numbers (3.5);
// at blank lines, and at line ends after short lines (titles, list items);
// sentences longer than max_bytes (0 = 400) are cut at a space. Spans
// exclude surrounding white space; spans without letters or digits are
// skipped. Any bytes are safe (invalid UTF-8 is kept as it is). Returns the
// number of sentences, writing up to max spans.
int slm_split_sentences(const char *text, size_t len, int max_bytes, slm_span *spans, int max);

typedef struct {
    float embed_weight;         // share of embedding similarity vs word similarity (0.2, chosen on
                                // bench/docqa's dev split with the assistant's nano model); 0 = words
                                // only: the encoder is not run (much faster, docs/BENCHMARKS.md)
    float lead_weight;          // summaries: bonus for early sentences (news puts them first) (0.3)
    float redundancy;           // summaries and questions: penalty for repeating a picked sentence (0.5)
    int max_sentence_bytes;     // longer sentences are cut (400)
} slm_doc_params;

slm_doc_params slm_doc_default_params(void);

typedef struct slm_doc slm_doc;

// Indexes a document (copied): splits it, embeds every sentence with the
// encoder context if one is given (the slow part: one slm_embed per
// sentence), and counts its words. params NULL = defaults.
slm_status slm_doc_new(const char *text, size_t len, slm_context *encoder, const slm_doc_params *params,
                       slm_doc **out, slm_error *err);
void slm_doc_free(slm_doc *doc);
int slm_doc_sentence_count(const slm_doc *doc);
slm_span slm_doc_sentence(const slm_doc *doc, int i);     // {0, 0} if out of range
const char *slm_doc_text(const slm_doc *doc);              // the copy, NUL-terminated
size_t slm_doc_length(const slm_doc *doc);

// Extractive summary: up to k sentences, the most central first (similar to
// the whole document), each further one penalized for repeating those
// already picked (MMR); written to picked in document order. Returns the count.
int slm_doc_summarize(const slm_doc *doc, int k, int *picked, float *scores);

// Every sentence ranked by relevance to a question (embedding of the
// question with the encoder given to slm_doc_new, and shared words):
// order receives all sentence indices, best first, scores their relevance
// (about 0..1). encoder may be NULL (words only).
slm_status slm_doc_rank(const slm_doc *doc, slm_context *encoder, const char *question, size_t len, int *order,
                        float *scores, slm_error *err);

// Suggested questions built from the key sentences (as for a summary):
// "Who is X?", "What happened in 1998?", "What does the document say about
// X?" where X is the sentence's best key phrase. Writes them one per line
// into buf (NUL-terminated, at most cap bytes: fewer questions if they do
// not fit) and each one's sentence into sentences (optional). Returns the count.
int slm_doc_questions(const slm_doc *doc, int k, char *buf, size_t cap, int *sentences);

typedef enum {
    SLM_TASK_SUMMARIZE,
    SLM_TASK_QUESTIONS,
    SLM_TASK_ANSWER,            // needs question
    SLM_TASK_CHAT,              // no document: question alone
} slm_task;

// The decoder prompt for a task: the document's sentences, best first by
// order (NULL: by centrality, as for a summary), as many as fit in budget
// tokens of the decoder's tokenizer (decoder NULL: 4 bytes a token), shown in
// document order inside the task's instructions. doc may be NULL for
// SLM_TASK_CHAT. Writes at most cap bytes (NUL included) and returns the
// prompt's length, or -1 if even the instructions do not fit the budget.
int slm_doc_prompt(const slm_doc *doc, const slm_model *decoder, slm_task task, const char *question,
                   const int *order, int budget, char *buf, size_t cap);

// ---- patterns: tier 1 of the assistant ----------------------------------------
//
// Rules from a small pattern file and an exact-match cache of requests the
// user confirmed (src/patterns.c). No model involved, so this part builds
// alone (`make minimal`: patterns.c with this header).
//
// The file format is described in docs/PATTERNS.md. In short:
//
//   [greeting]                  an intent; its rules follow
//   reply Hello! ...            canned reply (optional; \n is a new line)
//   priority 10                 higher wins when rules of several intents match
//   max_words 6                 rules apply only to texts this short
//   unless summar* document     these words veto the intent's rules
//   exact hi | hello there      the whole text, alternatives split by |
//   prefix good morning         the first words
//   glob how are * doing        * is any run of words
//   all thank* you              every word present (w* is a prefix)
//   any hi hey howdy            one word present
//
// Texts and patterns are compared after slm_normalize: lowercase, no
// apostrophes, other punctuation as spaces, single spaces between words.
#define SLM_INTENT_MAX 64   // bytes of an intent name, NUL included

// Normalizes text for matching: ASCII and Latin-1 letters lowercased,
// apostrophes (' and U+2018/U+2019) removed, other ASCII and common Unicode
// punctuation turned into spaces, runs of white space made one space, no
// space at either end. Other bytes (letters of any script, emoji, even
// invalid UTF-8) are kept as they are. Writes at most cap - 1 bytes and a
// NUL (when cap > 0) and returns the full normalized length, like snprintf.
size_t slm_normalize(const char *text, size_t len, char *out, size_t cap);

// ---- pattern files -------------------------------------------------------------

typedef struct slm_patterns slm_patterns;

// Parses a pattern file held in memory; name is used in error messages,
// which read "NAME:LINE: what is wrong" (SLM_ERR_BAD_DATA).
slm_status slm_patterns_parse(const char *text, size_t len, const char *name, slm_patterns **out,
                              slm_error *err);
slm_status slm_patterns_load(const char *path, slm_patterns **out, slm_error *err);
void slm_patterns_free(slm_patterns *p);

int slm_patterns_intent_count(const slm_patterns *p);
const char *slm_patterns_intent_name(const slm_patterns *p, int i);   // NULL if out of range
// The canned reply of an intent (by name), or NULL if it has none.
const char *slm_patterns_reply(const slm_patterns *p, const char *intent);

typedef struct {
    int intent;             // index of the intent, -1 when nothing matched
    const char *name;       // its name
    const char *reply;      // its canned reply, or NULL
    float confidence;       // the intent's confidence (1 unless the file says)
    int priority;
    int line;               // the line of the rule that matched
} slm_pattern_match;

// Finds the best rule matching text: the highest priority, then the most
// specific kind (exact, prefix, glob, all, any), then the first in the file.
// Returns 1 with *m filled, 0 when no rule matches, -1 if out of memory.
int slm_patterns_match(const slm_patterns *p, const char *text, size_t len, slm_pattern_match *m);

// ---- the cache of confirmed requests ------------------------------------------

// Normalized request -> intent, at most `capacity` entries; when full, adding
// forgets the least recently used. Requests longer than SLM_CACHE_TEXT_MAX
// bytes once normalized are not cached.
#define SLM_CACHE_TEXT_MAX 1024

typedef struct slm_cache slm_cache;

slm_status slm_cache_new(int capacity, slm_cache **out, slm_error *err);
void slm_cache_free(slm_cache *c);
int slm_cache_count(const slm_cache *c);
// Remembers that text means intent (replacing what it meant before).
slm_status slm_cache_add(slm_cache *c, const char *text, size_t len, const char *intent, slm_error *err);
// The intent confirmed for text, or NULL. A hit makes the entry the most
// recently used; the string lives until the cache changes.
const char *slm_cache_lookup(slm_cache *c, const char *text, size_t len);
// Forgets text; returns 1 if it was there.
int slm_cache_remove(slm_cache *c, const char *text, size_t len);

// The cache as text, "intent<TAB>normalized request" lines, least recently
// used first. Writes at most cap bytes (no NUL) and returns the length the
// whole text needs.
size_t slm_cache_write(const slm_cache *c, char *buf, size_t cap);
// Builds a cache from that text (later lines are more recent; with more
// lines than capacity the oldest are dropped). Errors read "NAME:LINE: what".
slm_status slm_cache_parse(const char *text, size_t len, const char *name, int capacity, slm_cache **out,
                           slm_error *err);
// Files: save writes a temporary file and renames it over path, so a
// failed save leaves the old file as it was.
slm_status slm_cache_save(const slm_cache *c, const char *path, slm_error *err);
slm_status slm_cache_load(const char *path, int capacity, slm_cache **out, slm_error *err);

// ---- the assistant: the 4-tier pipeline -----------------------------------
//
// An assistant (src/assistant.c) answers each request from the cheapest tier
// that is confident, and says which tier answered, how confident it was and
// how long it took:
//   1 patterns   the cache of confirmed requests, then the pattern file's rules
//   2 nano       the encoder's intent, when its probability reaches a threshold
//   3 retrieval  the document's intents answered from its sentences
//   4 decoder    a generative answer: the prompt, with what tier 3 found, is
//                returned for the caller to generate from
// Tiers 1 and 2 find the intent. Intents of the document ("summarize",
// "suggest_questions", "ask_document") go on to tier 3, which answers unless
// no sentence is close enough to a question (then tier 4); the others are
// answered with the pattern file's reply for the intent. When neither tier
// 1 nor 2 is confident, the request is taken as a question about the open
// document (tier 3), or without a document goes to the decoder; the answer
// is then marked as a guess.
//
// The assistant owns its patterns, cache and document; it borrows the
// encoder context and the decoder model, which must outlive it (or be
// replaced first).

typedef enum {
    SLM_TIER_CALLER = 0,        // the caller named the intent (a button)
    SLM_TIER_PATTERNS = 1,
    SLM_TIER_NANO = 2,
    SLM_TIER_RETRIEVAL = 3,
    SLM_TIER_DECODER = 4,
} slm_tier;

typedef struct {
    float pattern_threshold;    // rules answer at or above their confidence (0.9); cache hits always
    float nano_threshold;       // the encoder answers at or above this probability (0.5; choose it on dev data)
    float answer_threshold;     // tier 3 answers a question when its best sentence scores this (0.25)
    int max_tier;               // escalation stops at this tier (4)
    int force_tier;             // 0: the cheapest confident tier; 1..4: only tiers 1, 2 or that tier run,
                                // and it answers (1 and 2 find the intent, 3 and 4 use the document)
    int summary_sentences;      // sentences of an extractive summary (3)
    int questions;              // suggested questions (3)
    int prompt_tokens;          // the decoder prompt's budget in its tokens (384)
} slm_assistant_params;

slm_assistant_params slm_assistant_default_params(void);

typedef struct {
    slm_tier tier;              // the tier that answered
    slm_tier intent_tier;       // the tier that found the intent
    const char *intent;         // the intent acted on ("" if none)
    float confidence;           // the answering tier's: rule confidence, probability, sentence score
    float intent_confidence;    // the intent's (cache and caller: 1)
    int guessing;               // no tier was confident: a best guess
    const char *text;           // the answer of tiers 1-3, NULL for tier 4
    const char *prompt;         // tier 4: the decoder's prompt, NULL otherwise
    int n_sentences;            // tier 3/4: the document's sentences used, best first
    const int *sentences;
    double tier_ms[5];          // time spent in each tier (index: slm_tier; tier 4: the prompt only)
    double ms;                  // the whole request
} slm_answer;

typedef struct slm_assistant slm_assistant;

// patterns: a pattern file's text (NULL: no rules), name for its errors;
// encoder, decoder: NULL for none. cache_capacity 0 = 1024 requests.
slm_status slm_assistant_new(const char *patterns, size_t len, const char *name, slm_context *encoder,
                             const slm_model *decoder, int cache_capacity, slm_assistant **out, slm_error *err);
void slm_assistant_free(slm_assistant *a);
void slm_assistant_set_decoder(slm_assistant *a, const slm_model *decoder);
// Tier 2 classifies with a learner over the assistant's encoder context (what
// slm_learn taught it), or again with the model's classifier (NULL).
void slm_assistant_set_learner(slm_assistant *a, slm_learner *learner);
// Indexes a document with the encoder (one embedding per sentence, unless
// params->embed_weight is 0); len 0 closes it. params NULL = defaults. On
// failure the open document stays as it was.
slm_status slm_assistant_set_document(slm_assistant *a, const char *text, size_t len, const slm_doc_params *params,
                                      slm_error *err);
const slm_doc *slm_assistant_document(const slm_assistant *a);     // NULL when none is open
const slm_patterns *slm_assistant_patterns(const slm_assistant *a);
// The cache of confirmed requests: add a correction with slm_cache_add, save
// it with slm_cache_write. set_cache replaces it (taking ownership).
slm_cache *slm_assistant_cache(slm_assistant *a);
void slm_assistant_set_cache(slm_assistant *a, slm_cache *cache);

// Answers one request. intent: the caller's (a button), or NULL to find it.
// params NULL = defaults. The answer's strings and arrays live until the
// next call on this assistant.
slm_status slm_assistant_ask(slm_assistant *a, const char *text, size_t len, const char *intent,
                             const slm_assistant_params *params, slm_answer *answer, slm_error *err);

// ---- weights tools (weights-tools/) ----------------------------------------

typedef struct {
    slm_type type;              // target type of the big matrices: Q4_0, Q8_0, F16, F32
    int embd_type;              // type of the token embedding; -1 = Q8_0 for Q4_0 decoders, else type
    int smart_scales;           // Q4_0: search each block's scale for the least squared error
    slm_progress_fn progress;
    slm_note_fn note;
    void *user;
} slm_quantize_params;

slm_quantize_params slm_quantize_default_params(slm_type type);
slm_status slm_quantize_file(const char *in_path, const char *out_path, const slm_quantize_params *p,
                             slm_error *err);

// Converts a llama2.c checkpoint (+ its tokenizer.bin) to GGUF.
slm_status slm_import_llama2c(const char *bin_path, const char *tokenizer_path, const char *out_path,
                              slm_note_fn note, void *user, slm_error *err);

typedef struct {
    const char *preset;         // "slm360-base", "slm10m", "slm360-nano"
    uint64_t seed;
    slm_type type;
    const char *vocab_path;     // GGUF to take the tokenizer from; NULL = a synthetic vocabulary
    slm_progress_fn progress;
    slm_note_fn note;
    void *user;
} slm_init_params;

// Writes a model of a preset's shape with random weights.
slm_status slm_init_random(const slm_init_params *p, const char *out_path, slm_error *err);
// Preset names, NULL-terminated.
const char *const *slm_preset_names(void);

typedef struct {
    int vocab_size;             // every token, <unk> <s> </s> and <0x00>..<0xFF> included (0 = 8192)
    double char_coverage;       // share of the text's characters that get pieces; the rarest
                                // others fall back to byte tokens (0 = 0.9995)
    int max_piece_chars;        // longest piece in characters (0 = 16)
    slm_progress_fn progress;
    slm_note_fn note;
    void *user;
} slm_tokenizer_train_params;

// Learns a SentencePiece-style BPE vocabulary from text files (*.tsv: the
// text before each line's first tab; other files: every line) and writes it
// as a vocabulary-only GGUF, which slm_tokenize reads back segmenting the
// training text exactly as the trainer did. Deterministic. A vocabulary
// that runs out of pairs to merge is smaller than asked (p->note says so).
slm_status slm_train_tokenizer(const char *const *files, int n_files, const slm_tokenizer_train_params *p,
                               const char *out_path, slm_error *err);

#ifdef __cplusplus
}
#endif
#endif
