// Hashed n-gram features of a text: the sparse side of the nano classifier
// (as in fastText and Rasa's DIET), computed the same way by the trainer and
// the runtime.
//
// The text is normalized (ASCII letters lowercased, other ASCII characters
// that are not digits become spaces, UTF-8 bytes kept as they are), split on
// spaces into words, and yields:
//   - word n-grams, n = 1..word_max                        kind 'w'
//   - character n-grams of "<word>", n = char_min..char_max  kind 'c'
//     (bytes of the word padded with '<' and '>'; n counts bytes)
// each hashed with FNV-1a (32-bit) over [kind, n, the n-gram's bytes joined by
// single spaces for words] and taken modulo `buckets`.
#ifndef SLM_NGRAM_H
#define SLM_NGRAM_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t buckets;       // rows of the n-gram embedding table; 0 = no n-gram features
    int word_max;           // longest word n-gram (0 = none)
    int char_min, char_max; // character n-gram lengths (char_max 0 = none)
} slm_ngram_cfg;

// Writes up to cap bucket ids (in a fixed order, duplicates kept) and
// returns how many the text has.
int ngram_features(const slm_ngram_cfg *cfg, const char *text, size_t len, uint32_t *out, int cap);

#endif
