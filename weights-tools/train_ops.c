// Forward and backward of every op of the encoder (and the decoders: the
// attention takes a causal switch), side by side, in plain C over f32.
// Shapes are in train.h. Backward functions add into their gradients.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"

// ---- random numbers ---------------------------------------------------------

uint64_t tr_hash(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

float tr_uniform(uint64_t *s) {
    *s += 0x9e3779b97f4a7c15ull;
    return (float)(tr_hash(*s) >> 40) * (1.0f / 16777216.0f);
}

float tr_normal(uint64_t *s) {
    float u1 = tr_uniform(s), u2 = tr_uniform(s);
    return sqrtf(-2.0f * logf(u1 + 1e-12f)) * cosf(6.2831853f * u2);
}

// ---- embedding ----------------------------------------------------------------

void op_embed_fwd(float *out, const float *E, const int32_t *ids, int N, int D) {
    for (int t = 0; t < N; t++) memcpy(out + (size_t)t * D, E + (size_t)ids[t] * D, D * sizeof(float));
}

void op_embed_bwd(float *dE, const float *dout, const int32_t *ids, int N, int D) {
    for (int t = 0; t < N; t++) {
        float *d = dE + (size_t)ids[t] * D;
        const float *g = dout + (size_t)t * D;
        for (int i = 0; i < D; i++) d[i] += g[i];
    }
}

// ---- RMSNorm ------------------------------------------------------------------

void op_rmsnorm_fwd(float *out, float *rstd, const float *x, const float *w, const tr_seqs *s, int D, float eps) {
    for (int b = 0; b < s->n; b++)
        for (int t = s->off[b]; t < s->off[b] + s->len[b]; t++) {
            const float *xr = x + (size_t)t * D;
            float *o = out + (size_t)t * D;
            float ss = 0.0f;
            for (int i = 0; i < D; i++) ss += xr[i] * xr[i];
            float r = 1.0f / sqrtf(ss / (float)D + eps);
            rstd[t] = r;
            for (int i = 0; i < D; i++) o[i] = xr[i] * r * w[i];
        }
}

// y_i = x_i r w_i, r = (mean x^2 + eps)^-1/2:
//   dw_i += dy_i x_i r;  dx_i += r (dy_i w_i) - x_i r^3 / D * sum_j dy_j w_j x_j
void op_rmsnorm_bwd(float *dx, float *dw, const float *dout, const float *x, const float *w, const float *rstd,
                    const tr_seqs *s, int D) {
    for (int b = 0; b < s->n; b++)
        for (int t = s->off[b]; t < s->off[b] + s->len[b]; t++) {
            const float *xr = x + (size_t)t * D, *dy = dout + (size_t)t * D;
            float *d = dx + (size_t)t * D, r = rstd[t], dot = 0.0f;
            for (int i = 0; i < D; i++) dot += dy[i] * w[i] * xr[i];
            float c = dot * r * r * r / (float)D;
            for (int i = 0; i < D; i++) {
                if (dw) dw[i] += dy[i] * xr[i] * r;
                d[i] += dy[i] * w[i] * r - xr[i] * c;
            }
        }
}

// ---- matrix products ----------------------------------------------------------

// Runs of consecutive rows: texts packed back to back form one run.
typedef struct {
    const tr_exec *e;
    const tr_seqs *s;
    int mode;               // 0 forward, 1 dx, 2 dW
    float *out;
    const float *a, *bm;
    int I, O;
} mm_job;

static int run_end(const tr_seqs *s, int *b) {
    int end = s->off[*b] + s->len[*b];
    while (*b + 1 < s->n && s->off[*b + 1] == end) end += s->len[++*b];
    return end;
}

static void mm_task(void *arg, int ith, int nth) {
    mm_job *j = arg;
    const slm_train_kernels *k = j->e->k;
    if (j->mode == 2) {   // dW (O, I) += dy^T (O, rows) . x (rows, I), rows split over nothing, O over threads
        int lo, hi;
        pool_split(j->O, ith, nth, 6, &lo, &hi);
        if (lo >= hi) return;
        for (int b = 0; b < j->s->n; b++) {
            int r0 = j->s->off[b], r1 = run_end(j->s, &b);
            if (r1 > r0)
                k->gemm(hi - lo, j->I, r1 - r0, j->a + (size_t)r0 * j->O + lo, 1, j->O, j->bm + (size_t)r0 * j->I, j->I,
                        j->out + (size_t)lo * j->I, j->I, 1);
        }
        return;
    }
    for (int b = 0; b < j->s->n; b++) {
        int r0 = j->s->off[b], r1 = run_end(j->s, &b), lo, hi;
        pool_split(r1 - r0, ith, nth, 6, &lo, &hi);
        if (lo >= hi) continue;
        lo += r0, hi += r0;
        if (j->mode == 0)   // y (rows, O) = x (rows, I) . Wt (I, O)
            k->gemm(hi - lo, j->O, j->I, j->a + (size_t)lo * j->I, j->I, 1, j->bm, j->O, j->out + (size_t)lo * j->O, j->O, 0);
        else                // dx (rows, I) += dy (rows, O) . W (O, I)
            k->gemm(hi - lo, j->I, j->O, j->a + (size_t)lo * j->O, j->O, 1, j->bm, j->I, j->out + (size_t)lo * j->I, j->I, 1);
    }
}

void op_matmul_fwd(const tr_exec *e, float *y, const float *x, const float *Wt, const tr_seqs *s, int I, int O) {
    mm_job j = {e, s, 0, y, x, Wt, I, O};
    pool_run(e->pool, mm_task, &j);
}

void op_matmul_bwd(const tr_exec *e, float *dx, float *dW, const float *dy, const float *x, const float *W,
                   const tr_seqs *s, int I, int O) {
    if (dx) {
        mm_job j = {e, s, 1, dx, dy, W, I, O};
        pool_run(e->pool, mm_task, &j);
    }
    if (dW) {
        mm_job j = {e, s, 2, dW, dy, x, I, O};
        pool_run(e->pool, mm_task, &j);
    }
}

// ---- RoPE ---------------------------------------------------------------------

static void rope(float *x, const tr_seqs *s, int ld, int n_heads, int hd, const float *cos, const float *sin, float dir) {
    int half = hd / 2;
    for (int b = 0; b < s->n; b++)
        for (int p = 0; p < s->len[b]; p++) {
            float *r = x + (size_t)(s->off[b] + p) * ld;
            const float *c = cos + (size_t)p * half, *sn = sin + (size_t)p * half;
            for (int h = 0; h < n_heads; h++)
                for (int i = 0; i < half; i++) {
                    float *v = r + h * hd + 2 * i, x0 = v[0], x1 = v[1], si = dir * sn[i];
                    v[0] = x0 * c[i] - x1 * si;
                    v[1] = x0 * si + x1 * c[i];
                }
        }
}

void op_rope_fwd(float *x, const tr_seqs *s, int ld, int n_heads, int hd, const float *cos, const float *sin) {
    rope(x, s, ld, n_heads, hd, cos, sin, 1.0f);
}

// A rotation's transpose is the rotation back.
void op_rope_bwd(float *dx, const tr_seqs *s, int ld, int n_heads, int hd, const float *cos, const float *sin) {
    rope(dx, s, ld, n_heads, hd, cos, sin, -1.0f);
}

// ---- attention ----------------------------------------------------------------

size_t tr_attn_size(const tr_seqs *s, int H) {
    size_t n = 0;
    for (int b = 0; b < s->n; b++) n += (size_t)s->len[b] * s->len[b];
    return n * H;
}

typedef struct {
    const tr_seqs *s;
    size_t *poff;           // (n) P offset of each text
    float *out, *P, *dq, *dk, *dv;
    const float *q, *k, *v, *dout, *Pc;
    int H, KV, hd, causal;
} attn_job;

// Work unit: one (text, KV head) pair, i.e. the H/KV query heads sharing it,
// so one thread owns every write to that text's k/v gradient columns.
static void attn_fwd_task(void *arg, int ith, int nth) {
    attn_job *j = arg;
    int H = j->H, KV = j->KV, hd = j->hd, group = H / KV, qd = H * hd, kd = KV * hd, lo, hi;
    float scale = 1.0f / sqrtf((float)hd);
    pool_split(j->s->n * KV, ith, nth, 1, &lo, &hi);
    for (int u = lo; u < hi; u++) {
        int b = u / KV, g = u % KV, T = j->s->len[b], o0 = j->s->off[b];
        for (int h = g * group; h < (g + 1) * group; h++) {
            float *P = j->P + j->poff[b] + (size_t)h * T * T;
            for (int i = 0; i < T; i++) {
                const float *qi = j->q + (size_t)(o0 + i) * qd + h * hd;
                float *p = P + (size_t)i * T, mx = -INFINITY, sum = 0.0f;
                int n = j->causal ? i + 1 : T;
                for (int t = 0; t < n; t++) {
                    const float *kt = j->k + (size_t)(o0 + t) * kd + g * hd;
                    float d = 0.0f;
                    for (int c = 0; c < hd; c++) d += qi[c] * kt[c];
                    p[t] = d * scale;
                    mx = p[t] > mx ? p[t] : mx;
                }
                for (int t = 0; t < n; t++) sum += p[t] = expf(p[t] - mx);
                for (int t = 0; t < n; t++) p[t] /= sum;
                for (int t = n; t < T; t++) p[t] = 0.0f;   // masked
                float *o = j->out + (size_t)(o0 + i) * qd + h * hd;
                memset(o, 0, hd * sizeof(float));
                for (int t = 0; t < n; t++) {
                    const float *vt = j->v + (size_t)(o0 + t) * kd + g * hd;
                    for (int c = 0; c < hd; c++) o[c] += p[t] * vt[c];
                }
            }
        }
    }
}

// o_i = sum_t P_it v_t, P_i = softmax(s_i), s_it = q_i . k_t * scale:
//   dv_t += sum_i P_it do_i;  dP_it = do_i . v_t
//   ds_it = P_it (dP_it - sum_t' P_it' dP_it')
//   dq_i += scale sum_t ds_it k_t;  dk_t += scale sum_i ds_it q_i
static void attn_bwd_task(void *arg, int ith, int nth) {
    attn_job *j = arg;
    int H = j->H, KV = j->KV, hd = j->hd, group = H / KV, qd = H * hd, kd = KV * hd, lo, hi;
    float scale = 1.0f / sqrtf((float)hd);
    pool_split(j->s->n * KV, ith, nth, 1, &lo, &hi);
    float *dp = NULL;
    int cap = 0;
    for (int u = lo; u < hi; u++) {
        int b = u / KV, g = u % KV, T = j->s->len[b], o0 = j->s->off[b];
        if (T > cap) {
            free(dp);
            cap = T;
            dp = malloc((size_t)cap * sizeof *dp);
            if (!dp) abort();
        }
        for (int h = g * group; h < (g + 1) * group; h++) {
            const float *P = j->Pc + j->poff[b] + (size_t)h * T * T;
            for (int i = 0; i < T; i++) {
                const float *p = P + (size_t)i * T, *doi = j->dout + (size_t)(o0 + i) * qd + h * hd;
                const float *qi = j->q + (size_t)(o0 + i) * qd + h * hd;
                float *dqi = j->dq + (size_t)(o0 + i) * qd + h * hd;
                int n = j->causal ? i + 1 : T;
                float dot = 0.0f;
                for (int t = 0; t < n; t++) {
                    const float *vt = j->v + (size_t)(o0 + t) * kd + g * hd;
                    float *dvt = j->dv + (size_t)(o0 + t) * kd + g * hd, d = 0.0f;
                    for (int c = 0; c < hd; c++) {
                        d += doi[c] * vt[c];
                        dvt[c] += p[t] * doi[c];
                    }
                    dp[t] = d;
                    dot += p[t] * d;
                }
                for (int t = 0; t < n; t++) {
                    float ds = p[t] * (dp[t] - dot) * scale;
                    const float *kt = j->k + (size_t)(o0 + t) * kd + g * hd;
                    float *dkt = j->dk + (size_t)(o0 + t) * kd + g * hd;
                    for (int c = 0; c < hd; c++) {
                        dqi[c] += ds * kt[c];
                        dkt[c] += ds * qi[c];
                    }
                }
            }
        }
    }
    free(dp);
}

static size_t *attn_offsets(const tr_seqs *s, int H) {
    size_t *poff = malloc((size_t)(s->n ? s->n : 1) * sizeof *poff), at = 0;
    if (!poff) abort();
    for (int b = 0; b < s->n; b++) poff[b] = at, at += (size_t)H * s->len[b] * s->len[b];
    return poff;
}

void op_attn_fwd(const tr_exec *e, float *out, float *P, const float *q, const float *k, const float *v,
                 const tr_seqs *s, int H, int KV, int hd, int causal) {
    attn_job j = {.s = s, .poff = attn_offsets(s, H), .out = out, .P = P, .q = q, .k = k, .v = v,
                  .H = H, .KV = KV, .hd = hd, .causal = causal};
    pool_run(e->pool, attn_fwd_task, &j);
    free(j.poff);
}

void op_attn_bwd(const tr_exec *e, float *dq, float *dk, float *dv, const float *dout, const float *P,
                 const float *q, const float *k, const float *v, const tr_seqs *s, int H, int KV, int hd, int causal) {
    attn_job j = {.s = s, .poff = attn_offsets(s, H), .dq = dq, .dk = dk, .dv = dv, .Pc = P, .dout = dout,
                  .q = q, .k = k, .v = v, .H = H, .KV = KV, .hd = hd, .causal = causal};
    pool_run(e->pool, attn_bwd_task, &j);
    free(j.poff);
}

// ---- SwiGLU -------------------------------------------------------------------

static float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

void op_swiglu_fwd(float *h, const float *g, const float *u, const tr_seqs *s, int F) {
    for (int b = 0; b < s->n; b++)
        for (size_t i = (size_t)s->off[b] * F; i < (size_t)(s->off[b] + s->len[b]) * F; i++)
            h[i] = g[i] * sigmoid(g[i]) * u[i];
}

// h = g sig(g) u:  du += dh g sig(g);  dg += dh u sig(g) (1 + g (1 - sig(g)))
void op_swiglu_bwd(float *dg, float *du, const float *dh, const float *g, const float *u, const tr_seqs *s, int F) {
    for (int b = 0; b < s->n; b++)
        for (size_t i = (size_t)s->off[b] * F; i < (size_t)(s->off[b] + s->len[b]) * F; i++) {
            float sg = sigmoid(g[i]);
            du[i] += dh[i] * g[i] * sg;
            dg[i] += dh[i] * u[i] * sg * (1.0f + g[i] * (1.0f - sg));
        }
}

// ---- pooling, the n-gram bag ----------------------------------------------------

void op_meanpool_fwd(float *out, int ldo, const float *x, const tr_seqs *s, int D) {
    for (int b = 0; b < s->n; b++) {
        float *o = out + (size_t)b * ldo;
        memset(o, 0, D * sizeof(float));
        for (int t = s->off[b]; t < s->off[b] + s->len[b]; t++)
            for (int i = 0; i < D; i++) o[i] += x[(size_t)t * D + i];
        if (s->len[b])
            for (int i = 0; i < D; i++) o[i] /= (float)s->len[b];
    }
}

void op_meanpool_bwd(float *dx, const float *dout, int ldo, const tr_seqs *s, int D) {
    for (int b = 0; b < s->n; b++) {
        const float *d = dout + (size_t)b * ldo;
        float inv = s->len[b] ? 1.0f / (float)s->len[b] : 0.0f;
        for (int t = s->off[b]; t < s->off[b] + s->len[b]; t++)
            for (int i = 0; i < D; i++) dx[(size_t)t * D + i] += d[i] * inv;
    }
}

void op_bag_fwd(float *out, int ldo, const float *E, const uint32_t *ids, const tr_seqs *s, int D) {
    for (int b = 0; b < s->n; b++) {
        float *o = out + (size_t)b * ldo;
        memset(o, 0, D * sizeof(float));
        for (int t = s->off[b]; t < s->off[b] + s->len[b]; t++)
            for (int i = 0; i < D; i++) o[i] += E[(size_t)ids[t] * D + i];
        if (s->len[b])
            for (int i = 0; i < D; i++) o[i] /= (float)s->len[b];
    }
}

void op_bag_bwd(float *dE, const float *dout, int ldo, const uint32_t *ids, const tr_seqs *s, int D) {
    for (int b = 0; b < s->n; b++) {
        const float *d = dout + (size_t)b * ldo;
        float inv = s->len[b] ? 1.0f / (float)s->len[b] : 0.0f;
        for (int t = s->off[b]; t < s->off[b] + s->len[b]; t++)
            for (int i = 0; i < D; i++) dE[(size_t)ids[t] * D + i] += d[i] * inv;
    }
}

// ---- the classifier -------------------------------------------------------------

void op_linear_fwd(float *y, const float *x, int ldx, const float *W, int ldw, const float *bias, int B, int I, int O) {
    for (int b = 0; b < B; b++)
        for (int o = 0; o < O; o++) {
            const float *xr = x + (size_t)b * ldx, *w = W + (size_t)o * ldw;
            float sum = bias ? bias[o] : 0.0f;
            for (int i = 0; i < I; i++) sum += w[i] * xr[i];
            y[(size_t)b * O + o] = sum;
        }
}

void op_linear_bwd(float *dx, int ldx, float *dW, int ldw, float *db, const float *dy, const float *x, const float *W,
                   int B, int I, int O) {
    for (int b = 0; b < B; b++)
        for (int o = 0; o < O; o++) {
            float g = dy[(size_t)b * O + o];
            if (g == 0.0f) continue;
            const float *xr = x + (size_t)b * ldx, *w = W + (size_t)o * ldw;
            if (db) db[o] += g;
            if (dW)
                for (int i = 0; i < I; i++) dW[(size_t)o * ldw + i] += g * xr[i];
            if (dx)
                for (int i = 0; i < I; i++) dx[(size_t)b * ldx + i] += g * w[i];
        }
}

// ---- loss -----------------------------------------------------------------------

float op_ce_fwd(float *probs, const float *logits, const int *y, int B, int C, float eps) {
    double loss = 0.0;
    int n = 0;
    for (int b = 0; b < B; b++) {
        const float *l = logits + (size_t)b * C;
        float *p = probs + (size_t)b * C, mx = l[0], sum = 0.0f;
        for (int c = 1; c < C; c++) mx = l[c] > mx ? l[c] : mx;
        for (int c = 0; c < C; c++) sum += p[c] = expf(l[c] - mx);
        for (int c = 0; c < C; c++) p[c] /= sum;
        if (y[b] < 0) continue;
        // -log p_c = log(sum) - (l_c - mx)
        float lse = logf(sum), mean_nll = 0.0f;
        for (int c = 0; c < C; c++) mean_nll += lse - (l[c] - mx);
        loss += (1.0f - eps) * (lse - (l[y[b]] - mx)) + eps * mean_nll / (float)C;
        n++;
    }
    return n ? (float)(loss / n) : 0.0f;
}

void op_ce_bwd(float *dlogits, const float *probs, const int *y, int B, int C, float eps, float scale) {
    int n = 0;
    for (int b = 0; b < B; b++) n += y[b] >= 0;
    if (!n) return;
    float k = scale / (float)n;
    for (int b = 0; b < B; b++) {
        if (y[b] < 0) continue;
        const float *p = probs + (size_t)b * C;
        float *d = dlogits + (size_t)b * C;
        for (int c = 0; c < C; c++) d[c] += k * (p[c] - eps / (float)C - (c == y[b] ? 1.0f - eps : 0.0f));
    }
}

// ---- dropout ----------------------------------------------------------------------

void op_dropout(float *x, size_t n, float p, uint64_t seed) {
    if (p <= 0.0f) return;
    uint32_t cut = (uint32_t)(p * 4294967296.0);
    float keep = 1.0f / (1.0f - p);
    uint64_t base = tr_hash(seed);
    for (size_t i = 0; i < n; i++) x[i] = (uint32_t)(tr_hash(base + i) >> 32) < cut ? 0.0f : x[i] * keep;
}
