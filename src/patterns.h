// Tier 1 of the assistant pipeline: rules from a small pattern file and an
// exact-match cache of requests the user confirmed. No model involved, so
// this part builds alone (`make minimal`: patterns.c and errors.c only).
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
#ifndef SLM_PATTERNS_H
#define SLM_PATTERNS_H

#include <stddef.h>

#include "slm.h"

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

#endif
