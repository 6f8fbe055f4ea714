// Sampling: repetition penalty, greedy, temperature, top-k, top-p, min-p.
//
// Deterministic everywhere: our own PRNG, our own exp, sums in a fixed order,
// and candidate order defined as (logit descending, id ascending), so the
// same seed picks the same tokens on every platform and build.
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "mathx.h"
#include "model.h"

typedef struct {
    float logit;
    int32_t id;
} cand;

struct slm_sampler {
    slm_sampling_params p;
    int n_vocab;
    uint64_t rng;
    cand *cands;            // (n_vocab)
    unsigned char *seen;    // (n_vocab) tokens already penalized this step
};

slm_sampling_params slm_sampling_default_params(void) {
    return (slm_sampling_params){.temperature = 0.8f, .top_k = 40, .top_p = 0.95f, .min_p = 0.0f,
                                 .repeat_penalty = 1.0f, .repeat_last_n = 64, .seed = 42};
}

// splitmix64 to spread the seed, xorshift64* to draw.
static uint64_t seed_state(uint64_t seed) {
    uint64_t z = seed + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z = z ^ (z >> 31);
    return z ? z : 1;
}

static float rand_unit(uint64_t *s) {   // [0, 1), 24 random bits
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (float)((*s * 0x2545f4914f6cdd1dull) >> 40) * (1.0f / 16777216.0f);
}

slm_status slm_sampler_new(const slm_sampling_params *p, int n_vocab, slm_sampler **out, slm_error *err) {
    *out = NULL;
    if (n_vocab <= 0) return slm_fail(err, SLM_ERR_INVALID_ARG, "vocabulary size %d", n_vocab);
    if (!(p->temperature >= 0.0f && p->temperature <= 100.0f))
        return slm_fail(err, SLM_ERR_INVALID_ARG, "temperature %g is out of range [0, 100]", p->temperature);
    if (!(p->top_p > 0.0f && p->top_p <= 1.0f))
        return slm_fail(err, SLM_ERR_INVALID_ARG, "top-p %g is out of range (0, 1]", p->top_p);
    if (!(p->min_p >= 0.0f && p->min_p < 1.0f))
        return slm_fail(err, SLM_ERR_INVALID_ARG, "min-p %g is out of range [0, 1)", p->min_p);
    if (p->top_k < 0) return slm_fail(err, SLM_ERR_INVALID_ARG, "top-k %d is negative", p->top_k);
    if (!(p->repeat_penalty > 0.0f && p->repeat_penalty <= 100.0f))
        return slm_fail(err, SLM_ERR_INVALID_ARG, "repeat penalty %g is out of range (0, 100]", p->repeat_penalty);
    if (p->repeat_last_n < 0) return slm_fail(err, SLM_ERR_INVALID_ARG, "repeat window %d is negative", p->repeat_last_n);
    slm_sampler *s = calloc(1, sizeof *s);
    if (s) {
        s->cands = malloc((size_t)n_vocab * sizeof *s->cands);
        s->seen = calloc((size_t)n_vocab, 1);
    }
    if (!s || !s->cands || !s->seen) {
        slm_sampler_free(s);
        return slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    }
    s->p = *p;
    s->n_vocab = n_vocab;
    s->rng = seed_state(p->seed);
    *out = s;
    return SLM_OK;
}

void slm_sampler_free(slm_sampler *s) {
    if (!s) return;
    free(s->cands);
    free(s->seen);
    free(s);
}

// Each distinct token of the window once: positive logits shrink, negative grow.
static void penalize(slm_sampler *s, float *logits, const int32_t *hist, int n_hist) {
    int from = n_hist > s->p.repeat_last_n ? n_hist - s->p.repeat_last_n : 0;
    for (int i = from; i < n_hist; i++) {
        int32_t id = hist[i];
        if (id < 0 || id >= s->n_vocab || s->seen[id]) continue;
        s->seen[id] = 1;
        logits[id] = logits[id] > 0.0f ? logits[id] / s->p.repeat_penalty : logits[id] * s->p.repeat_penalty;
    }
    for (int i = from; i < n_hist; i++)
        if (hist[i] >= 0 && hist[i] < s->n_vocab) s->seen[hist[i]] = 0;
}

static int32_t argmax(const float *x, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

static int before(const cand *a, const cand *b) {   // the total order: higher logit, then lower id
    return a->logit > b->logit || (a->logit == b->logit && a->id < b->id);
}

static int cmp_cand(const void *x, const void *y) {
    const cand *a = x, *b = y;
    return before(a, b) ? -1 : before(b, a) ? 1 : 0;
}

// Moves the m best candidates to the front, sorted. Quickselect first, so the
// cost is O(n + m log m); the result depends only on the total order.
static void top_sorted(cand *c, int n, int m) {
    int lo = 0, hi = n - 1;
    while (lo < hi && m < n) {
        cand pivot = c[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (before(&c[i], &pivot)) i++;
            while (before(&pivot, &c[j])) j--;
            if (i <= j) { cand t = c[i]; c[i] = c[j]; c[j] = t; i++; j--; }
        }
        if (m - 1 <= j) hi = j;
        else if (m - 1 >= i) lo = i;
        else break;
    }
    qsort(c, (size_t)m, sizeof *c, cmp_cand);
}

// Broken weights can produce NaN or infinite logits: make them the least and
// the largest finite values so every step below stays well defined.
static void sanitize(float *x, int n) {
    for (int i = 0; i < n; i++)
        if (!(x[i] >= -FLT_MAX)) x[i] = -FLT_MAX;   // NaN, -inf
        else if (x[i] > FLT_MAX) x[i] = FLT_MAX;
}

int32_t slm_sampler_sample(slm_sampler *s, float *logits, const int32_t *hist, int n_hist) {
    sanitize(logits, s->n_vocab);
    if (s->p.repeat_penalty != 1.0f && n_hist > 0) penalize(s, logits, hist, n_hist);
    if (s->p.temperature == 0.0f) return argmax(logits, s->n_vocab);

    cand *c = s->cands;
    int n = s->n_vocab;
    float maxl = logits[argmax(logits, n)] / s->p.temperature;
    for (int i = 0; i < n; i++) c[i] = (cand){logits[i] / s->p.temperature, i};
    sanitize(&maxl, 1);
    for (int i = 0; i < n; i++) sanitize(&c[i].logit, 1);
    int sorted = 0;
    if (s->p.top_k > 0 && s->p.top_k < n) {
        top_sorted(c, n, s->p.top_k);
        n = s->p.top_k;
        sorted = 1;
    }
    if (s->p.min_p > 0.0f) {   // keep exp(l - max) >= min_p, i.e. prob >= min_p * max prob
        int kept = 0;
        for (int i = 0; i < n; i++)
            if (slm_expf(c[i].logit - maxl) >= s->p.min_p) c[kept++] = c[i];
        if (!kept) return argmax(logits, s->n_vocab);
        n = kept;
    }
    if (s->p.top_p < 1.0f) {
        float total = 0.0f;
        for (int i = 0; i < n; i++) total += slm_expf(c[i].logit - maxl);
        // grow a sorted prefix until it holds top_p of the mass
        for (int m = sorted || n < 64 ? n : 64;; m = 2 * m < n ? 2 * m : n) {
            if (!sorted) top_sorted(c, n, m);
            float cum = 0.0f;
            int cut = 0;
            for (int i = 0; i < m && !cut; i++) {
                cum += slm_expf(c[i].logit - maxl);
                if (cum >= s->p.top_p * total) cut = i + 1;
            }
            if (cut || m == n) {
                n = cut ? cut : n;
                break;
            }
        }
    }
    float total = 0.0f;
    for (int i = 0; i < n; i++) total += slm_expf(c[i].logit - maxl);
    float r = rand_unit(&s->rng) * total, cum = 0.0f;
    for (int i = 0; i < n; i++) {
        cum += slm_expf(c[i].logit - maxl);
        if (r < cum) return c[i].id;
    }
    return c[n - 1].id;   // rounding left r at the very top
}
