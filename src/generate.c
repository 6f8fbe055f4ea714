// Text generation, continuation scoring and perplexity on top of slm_eval.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mathx.h"
#include "model.h"

slm_generate_params slm_generate_default_params(void) {
    return (slm_generate_params){.max_tokens = 128, .sampling = slm_sampling_default_params(), .truncate = 0};
}

slm_status slm_generate(slm_context *ctx, const int32_t *prompt, int n_prompt, const slm_generate_params *p,
                        slm_token_fn on_token, void *user, slm_generate_stats *stats, slm_error *err) {
    const slm_model *m = slm_context_model(ctx);
    const slm_model_info *in = &m->info;
    slm_generate_stats st = {0};
    if (stats) *stats = st;
    if (n_prompt <= 0) return slm_fail(err, SLM_ERR_INVALID_ARG, "the prompt is empty");
    if (p->max_tokens < 0) return slm_fail(err, SLM_ERR_INVALID_ARG, "max tokens %d is negative", p->max_tokens);

    // A prompt too long for the context fails, or with truncate keeps its
    // first token if BOS and its tail, leaving room to generate.
    int avail = slm_context_size(ctx) - slm_context_pos(ctx);
    int keep_bos = prompt[0] == in->bos_id, skip = 0;
    if (n_prompt > avail - 1) {
        if (!p->truncate)
            return slm_fail(err, SLM_ERR_CONTEXT_FULL,
                            "the prompt has %d tokens but the context has room for %d (with one to generate); "
                            "use a larger context or truncate",
                            n_prompt, avail - 1);
        int reserve = p->max_tokens < avail / 2 ? p->max_tokens : avail / 2;
        int room = avail - (reserve > 1 ? reserve : 1);
        if (room < 1 + keep_bos) return slm_fail(err, SLM_ERR_CONTEXT_FULL, "the context is full");
        skip = n_prompt - room;
    }
    int n_hist = n_prompt - skip;
    int32_t *hist = malloc(((size_t)n_hist + p->max_tokens + 1) * sizeof *hist);
    float *logits = malloc((size_t)in->vocab_size * sizeof *logits);
    slm_sampler *smp = NULL;
    slm_status rc = slm_sampler_new(&p->sampling, in->vocab_size, &smp, err);
    if (!rc && (!hist || !logits)) rc = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    if (rc) goto done;
    if (keep_bos && skip) {
        hist[0] = prompt[0];
        memcpy(hist + 1, prompt + 1 + skip, ((size_t)n_hist - 1) * sizeof *hist);
    } else {
        memcpy(hist, prompt + skip, (size_t)n_hist * sizeof *hist);
    }
    st.prompt_tokens = n_hist;
    st.truncated_tokens = skip;

    double t0 = slm_now_ms();
    if ((rc = slm_eval(ctx, hist, n_hist, logits, 0, err))) goto done;
    double t1 = slm_now_ms();
    st.prefill_ms = t1 - t0;

    slm_detok dt;
    slm_detok_init(&dt);
    dt.prev_id = hist[n_hist - 1];
    char text[512];
    st.stop_reason = SLM_STOP_LENGTH;
    for (int i = 0; i < p->max_tokens; i++) {
        int32_t id = slm_sampler_sample(smp, logits, hist, n_hist);
        if (id == in->eos_id || id == in->bos_id) { st.stop_reason = SLM_STOP_EOS; break; }
        hist[n_hist++] = id;
        st.generated_tokens++;
        int len = slm_detok_push(m, &dt, id, text, (int)sizeof text);   // pieces are at most 256 bytes
        if (on_token && on_token(user, id, text, len > 0 ? len : 0)) { st.stop_reason = SLM_STOP_CALLBACK; break; }
        if (i + 1 == p->max_tokens) break;
        if (slm_context_pos(ctx) >= slm_context_size(ctx)) { st.stop_reason = SLM_STOP_CONTEXT; break; }
        if ((rc = slm_eval(ctx, &id, 1, logits, 0, err))) goto done;
    }
    if (on_token && st.stop_reason != SLM_STOP_CALLBACK) {
        int len = slm_detok_flush(&dt, text, (int)sizeof text);
        if (len) on_token(user, -1, text, len);
    }
    st.decode_ms = slm_now_ms() - t1;
done:
    if (stats) *stats = st;
    slm_sampler_free(smp);
    free(hist);
    free(logits);
    return rc;
}

// log p(target) from raw logits: l_t - max - log(sum exp(l - max)).
static double log_prob(const float *logits, int n, int32_t target) {
    float mx = logits[0];
    for (int i = 1; i < n; i++) mx = logits[i] > mx ? logits[i] : mx;
    float l[8] = {0};
    for (int i = 0; i < n; i++) l[i % 8] += slm_expf(logits[i] - mx);
    float sum = ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
    return (double)(logits[target] - mx) - slm_log_d((double)sum);
}

static int32_t *tokenize_alloc(const slm_model *m, const char *text, size_t len, int add_bos, int *n, slm_error *err) {
    int need = slm_tokenize(m, text, len, add_bos, NULL, 0, err);
    if (need < 0) return NULL;
    int32_t *ids = malloc(((size_t)need + 1) * sizeof *ids);
    if (!ids) { slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory"); return NULL; }
    *n = slm_tokenize(m, text, len, add_bos, ids, need, err);
    return ids;
}

slm_status slm_score(slm_context *ctx, const char *context, const char *const *choices, int n_choices, double *loglik,
                     int *n_tokens, slm_error *err) {
    const slm_model *m = slm_context_model(ctx);
    int V = m->info.vocab_size, n_ctx_ids = 0;
    if (n_choices <= 0) return slm_fail(err, SLM_ERR_INVALID_ARG, "no choices to score");
    slm_context_rewind(ctx, 0);
    int32_t *ctx_ids = tokenize_alloc(m, context, strlen(context), 1, &n_ctx_ids, err);
    if (!ctx_ids) return err ? err->code : SLM_ERR_OUT_OF_MEMORY;
    float *last = malloc((size_t)V * sizeof *last);
    slm_status rc = last ? SLM_OK : slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    // The continuation's tokens are those of context+choice after the part it
    // shares with the context's own tokens (a merge may cross the boundary).
    // Prefix evaluated once: all of the context but a possibly re-merged tail.
    int shared = n_ctx_ids;
    for (int c = 0; c < n_choices && !rc; c++) {
        size_t lc = strlen(context), lch = strlen(choices[c]);
        char *full = malloc(lc + lch + 1);
        int n_full = 0;
        int32_t *ids = full ? (memcpy(full, context, lc), memcpy(full + lc, choices[c], lch + 1),
                               tokenize_alloc(m, full, lc + lch, 1, &n_full, err)) : NULL;
        free(full);
        if (!ids) { rc = err ? err->code : SLM_ERR_OUT_OF_MEMORY; break; }
        int k = 0;
        while (k < n_full && k < shared && ids[k] == ctx_ids[k]) k++;
        if (k == 0 || k == n_full) {
            free(ids);
            rc = slm_fail(err, SLM_ERR_INVALID_ARG, "choice %d adds no tokens to the context", c);
            break;
        }
        if (k < shared || slm_context_pos(ctx) == 0) {   // (re)build the shared prefix
            shared = k;
            slm_context_rewind(ctx, 0);
            rc = slm_eval(ctx, ids, k, last, 0, err);
        }
        slm_context_rewind(ctx, shared);
        int n_cont = n_full - shared;
        float *lg = rc ? NULL : malloc((size_t)n_cont * V * sizeof *lg);
        if (!rc && !lg) rc = slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
        if (!rc) rc = slm_eval(ctx, ids + shared, n_cont, lg, 1, err);
        if (!rc) {
            double sum = log_prob(last, V, ids[shared]);
            for (int i = 1; i < n_cont; i++) sum += log_prob(lg + (size_t)(i - 1) * V, V, ids[shared + i]);
            loglik[c] = sum;
            if (n_tokens) n_tokens[c] = n_cont;
        }
        free(lg);
        free(ids);
    }
    slm_context_rewind(ctx, 0);
    free(last);
    free(ctx_ids);
    return rc;
}

slm_status slm_perplexity(slm_context *ctx, const char *text, size_t len, int chunk, int max_chunks,
                          slm_progress_fn progress, void *user, slm_perplexity_result *out, slm_error *err) {
    const slm_model *m = slm_context_model(ctx);
    int V = m->info.vocab_size, n = 0;
    memset(out, 0, sizeof *out);
    if (chunk < 4 || chunk > slm_context_size(ctx))
        return slm_fail(err, SLM_ERR_INVALID_ARG, "chunk of %d tokens: must be 4 to the context size %d", chunk,
                        slm_context_size(ctx));
    if (m->info.bos_id < 0) return slm_fail(err, SLM_ERR_UNSUPPORTED, "the vocabulary has no BOS token");
    int32_t *ids = tokenize_alloc(m, text, len, 1, &n, err);
    if (!ids) return err ? err->code : SLM_ERR_OUT_OF_MEMORY;
    int n_chunks = n / chunk;
    if (max_chunks > 0 && n_chunks > max_chunks) n_chunks = max_chunks;
    if (n_chunks == 0) {
        free(ids);
        return slm_fail(err, SLM_ERR_BAD_DATA, "the text has %d tokens, fewer than one chunk of %d", n, chunk);
    }
    float *lg = malloc((size_t)chunk * V * sizeof *lg);
    int32_t *batch = malloc((size_t)chunk * sizeof *batch);
    slm_status rc = lg && batch ? SLM_OK : slm_fail(err, SLM_ERR_OUT_OF_MEMORY, "out of memory");
    double nll = 0.0, nll2 = 0.0;
    long count = 0;
    for (int c = 0; c < n_chunks && !rc; c++) {
        memcpy(batch, ids + (size_t)c * chunk, (size_t)chunk * sizeof *batch);
        batch[0] = m->info.bos_id;
        slm_context_rewind(ctx, 0);
        if ((rc = slm_eval(ctx, batch, chunk, lg, 1, err))) break;
        for (int j = chunk / 2; j < chunk - 1; j++) {
            double lp = log_prob(lg + (size_t)j * V, V, ids[(size_t)c * chunk + j + 1]);
            nll -= lp;
            nll2 += lp * lp;
            count++;
        }
        if (progress) progress(user, "perplexity", (double)(c + 1) / n_chunks);
    }
    slm_context_rewind(ctx, 0);
    if (!rc) {
        double mean = nll / count, var = nll2 / count - mean * mean;
        out->nll = mean;
        out->ppl = slm_exp_d(mean);
        out->ppl_stderr = count > 1 && var > 0 ? out->ppl * sqrt(var / (double)(count - 1)) : 0.0;
        out->n_chunks = n_chunks;
        out->n_scored = (int)count;
    }
    free(lg);
    free(batch);
    free(ids);
    return rc;
}
