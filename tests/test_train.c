// Training: every op's backward against finite differences, the SIMD matrix
// kernel against the scalar one, AdamW against a hand computation, and the
// classifier trainer end to end on tiny data (overfitting, determinism, NaN
// handling, malformed TSV).
#include <math.h>
#include <stdint.h>
#include <unistd.h>

#include "../weights-tools/train.h"
#include "kernels/kernels.h"
#include "model.h"
#include "test.h"

static uint64_t rng = 12345;
static float urand(void) { return tr_uniform(&rng) * 2.0f - 1.0f; }
static void fill(float *x, size_t n, float scale) { for (size_t i = 0; i < n; i++) x[i] = urand() * scale; }
static float *vec(size_t n, float scale) {
    float *x = malloc((n ? n : 1) * sizeof(float));
    fill(x, n, scale);
    return x;
}
static float *zeros(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

// ---- finite differences ----------------------------------------------------------
//
// Each check defines L(params) = sum_i out_i * R_i for a fixed random R, runs
// the op's backward with dout = R, and compares every input's analytic
// gradient with (L(x + h) - L(x - h)) / 2h, for all inputs (they are small).

typedef double (*loss_fn)(void *ctx);

static double max_rel_err(loss_fn f, void *ctx, float *x, const float *g, size_t n, float h) {
    double worst = 0.0, gmax = 1e-6;
    for (size_t i = 0; i < n; i++) gmax = fabs(g[i]) > gmax ? fabs(g[i]) : gmax;
    for (size_t i = 0; i < n; i++) {
        float keep = x[i];
        x[i] = keep + h;
        double lp = f(ctx);
        x[i] = keep - h;
        double lm = f(ctx);
        x[i] = keep;
        double num = (lp - lm) / (2.0 * h), err = fabs(num - g[i]) / (gmax + fabs(num));
        worst = err > worst ? err : worst;
    }
    return worst;
}

static double dotR(const float *out, const float *R, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)out[i] * R[i];
    return s;
}

#define FD_TOL 2e-3

// texts of lengths 3, 1, 4 in a padded layout (rows of 5): rows past each
// length hold garbage the ops must neither read nor write
static const int pad_off[3] = {0, 5, 10}, pad_len[3] = {3, 1, 4};
#define PAD_ROWS 15

static tr_exec exec1;

// ---- embedding, rmsnorm, matmul -------------------------------------------------

typedef struct { float *E, *R; int32_t ids[6]; int N, D; float *out; } emb_ctx;
static double emb_loss(void *c) {
    emb_ctx *e = c;
    op_embed_fwd(e->out, e->E, e->ids, e->N, e->D);
    return dotR(e->out, e->R, (size_t)e->N * e->D);
}
static void test_embedding(void) {
    emb_ctx e = {.N = 6, .D = 5, .ids = {3, 1, 3, 0, 2, 3}};
    e.E = vec(4 * 5, 1), e.R = vec(6 * 5, 1), e.out = zeros(6 * 5);
    float *dE = zeros(4 * 5);
    op_embed_bwd(dE, e.R, e.ids, e.N, e.D);
    double err = max_rel_err(emb_loss, &e, e.E, dE, 20, 1e-2f);
    CHECK(err < FD_TOL, "embedding dE rel err %g", err);
    free(e.E), free(e.R), free(e.out), free(dE);
}

typedef struct { float *x, *w, *out, *rstd, *R; tr_seqs s; int D; } rms_ctx;
static double rms_loss(void *c) {
    rms_ctx *r = c;
    op_rmsnorm_fwd(r->out, r->rstd, r->x, r->w, &r->s, r->D, 1e-5f);
    double l = 0.0;
    for (int b = 0; b < r->s.n; b++) l += dotR(r->out + (size_t)r->s.off[b] * r->D, r->R + (size_t)r->s.off[b] * r->D, (size_t)r->s.len[b] * r->D);
    return l;
}
static void test_rmsnorm(void) {
    int D = 8;
    rms_ctx r = {.x = vec(PAD_ROWS * D, 1), .w = vec(D, 1), .out = zeros(PAD_ROWS * D), .rstd = zeros(PAD_ROWS),
                 .R = vec(PAD_ROWS * D, 1), .s = {3, pad_off, pad_len}, .D = D};
    float *dx = zeros(PAD_ROWS * D), *dw = zeros(D);
    rms_loss(&r);
    op_rmsnorm_bwd(dx, dw, r.R, r.x, r.w, r.rstd, &r.s, D);
    double ex = max_rel_err(rms_loss, &r, r.x, dx, PAD_ROWS * D, 1e-2f), ew = max_rel_err(rms_loss, &r, r.w, dw, D, 1e-2f);
    CHECK(ex < FD_TOL && ew < FD_TOL, "rmsnorm rel err dx %g dw %g", ex, ew);
    // padding rows: no gradient, no output
    CHECK(dx[3 * D] == 0.0f && r.out[4 * D + 1] == 0.0f, "rmsnorm touched a padding row");
    free(r.x), free(r.w), free(r.out), free(r.rstd), free(r.R), free(dx), free(dw);
}

typedef struct { float *x, *W, *Wt, *y, *R; tr_seqs s; int I, O; } mm_ctx;
static double mm_loss(void *c) {
    mm_ctx *m = c;
    for (int o = 0; o < m->O; o++)
        for (int i = 0; i < m->I; i++) m->Wt[(size_t)i * m->O + o] = m->W[(size_t)o * m->I + i];
    memset(m->y, 0, (size_t)PAD_ROWS * m->O * sizeof(float));
    op_matmul_fwd(&exec1, m->y, m->x, m->Wt, &m->s, m->I, m->O);
    return dotR(m->y, m->R, (size_t)PAD_ROWS * m->O);
}
static void test_matmul(void) {
    int I = 13, O = 19;
    mm_ctx m = {.x = vec(PAD_ROWS * I, 1), .W = vec(O * I, 1), .Wt = zeros(O * I), .y = zeros(PAD_ROWS * O),
                .R = vec(PAD_ROWS * O, 1), .s = {3, pad_off, pad_len}, .I = I, .O = O};
    for (int t = 0; t < PAD_ROWS; t++) {     // padding rows of R: zero, since the op leaves them alone
        int real = 0;
        for (int b = 0; b < 3; b++) real |= t >= pad_off[b] && t < pad_off[b] + pad_len[b];
        if (!real) memset(m.R + (size_t)t * O, 0, O * sizeof(float));
    }
    float *dx = zeros(PAD_ROWS * I), *dW = zeros(O * I);
    op_matmul_bwd(&exec1, dx, dW, m.R, m.x, m.W, &m.s, I, O);
    double ex = max_rel_err(mm_loss, &m, m.x, dx, PAD_ROWS * I, 1e-2f), ew = max_rel_err(mm_loss, &m, m.W, dW, O * I, 1e-2f);
    CHECK(ex < FD_TOL && ew < FD_TOL, "matmul rel err dx %g dW %g", ex, ew);
    free(m.x), free(m.W), free(m.Wt), free(m.y), free(m.R), free(dx), free(dW);
}

// ---- attention with RoPE, GQA and the padding mask ----------------------------------

typedef struct {
    float *q, *k, *v, *qr, *kr, *out, *P, *R, *cos, *sin;
    tr_seqs s;
    int H, KV, hd, causal;
} att_ctx;

static double att_loss(void *c) {
    att_ctx *a = c;
    int qd = a->H * a->hd, kd = a->KV * a->hd;
    memcpy(a->qr, a->q, (size_t)PAD_ROWS * qd * sizeof(float));
    memcpy(a->kr, a->k, (size_t)PAD_ROWS * kd * sizeof(float));
    op_rope_fwd(a->qr, &a->s, qd, a->H, a->hd, a->cos, a->sin);
    op_rope_fwd(a->kr, &a->s, kd, a->KV, a->hd, a->cos, a->sin);
    op_attn_fwd(&exec1, a->out, a->P, a->qr, a->kr, a->v, &a->s, a->H, a->KV, a->hd, a->causal);
    double l = 0.0;
    for (int b = 0; b < a->s.n; b++) l += dotR(a->out + (size_t)a->s.off[b] * qd, a->R + (size_t)a->s.off[b] * qd, (size_t)a->s.len[b] * qd);
    return l;
}

static void test_attention(int causal) {
    int H = 4, KV = 2, hd = 6, qd = H * hd, kd = KV * hd;
    att_ctx a = {.q = vec(PAD_ROWS * qd, 1), .k = vec(PAD_ROWS * kd, 1), .v = vec(PAD_ROWS * kd, 1), .qr = zeros(PAD_ROWS * qd),
                 .kr = zeros(PAD_ROWS * kd), .out = zeros(PAD_ROWS * qd), .R = vec(PAD_ROWS * qd, 1),
                 .cos = zeros(8 * hd / 2), .sin = zeros(8 * hd / 2), .s = {3, pad_off, pad_len}, .H = H, .KV = KV, .hd = hd,
                 .causal = causal};
    a.P = zeros(tr_attn_size(&a.s, H));
    for (int p = 0; p < 8; p++)
        for (int i = 0; i < hd / 2; i++) {
            double ang = p * pow(10000.0, -2.0 * i / hd);
            a.cos[p * hd / 2 + i] = (float)cos(ang), a.sin[p * hd / 2 + i] = (float)sin(ang);
        }
    att_loss(&a);
    float *dq = zeros(PAD_ROWS * qd), *dk = zeros(PAD_ROWS * kd), *dv = zeros(PAD_ROWS * kd);
    op_attn_bwd(&exec1, dq, dk, dv, a.R, a.P, a.qr, a.kr, a.v, &a.s, H, KV, hd, causal);
    op_rope_bwd(dq, &a.s, qd, H, hd, a.cos, a.sin);
    op_rope_bwd(dk, &a.s, kd, KV, hd, a.cos, a.sin);
    double eq = max_rel_err(att_loss, &a, a.q, dq, PAD_ROWS * qd, 1e-2f);
    double ek = max_rel_err(att_loss, &a, a.k, dk, PAD_ROWS * kd, 1e-2f);
    double ev = max_rel_err(att_loss, &a, a.v, dv, PAD_ROWS * kd, 1e-2f);
    CHECK(eq < FD_TOL && ek < FD_TOL && ev < FD_TOL, "attention (%s) rel err dq %g dk %g dv %g",
          causal ? "causal" : "bidirectional", eq, ek, ev);
    // the mask: garbage in a padding row changes nothing
    float before = a.out[0];
    a.k[3 * kd] += 100.0f, a.v[4 * kd + 1] -= 50.0f;
    att_loss(&a);
    CHECK(a.out[0] == before, "attention reads padding rows");
    // causal: the first token sees only itself, so its output is its own v (per group)
    if (causal) CHECK(fabsf(a.out[1] - a.v[1]) < 1e-6f, "causal mask: first token %g vs %g", a.out[1], a.v[1]);
    free(a.q), free(a.k), free(a.v), free(a.qr), free(a.kr), free(a.out), free(a.R), free(a.cos), free(a.sin), free(a.P);
    free(dq), free(dk), free(dv);
}

// ---- SwiGLU, pooling, bag, classifier, loss, dropout --------------------------------

typedef struct { float *g, *u, *h, *R; tr_seqs s; int F; } sw_ctx;
static double sw_loss(void *c) {
    sw_ctx *w = c;
    op_swiglu_fwd(w->h, w->g, w->u, &w->s, w->F);
    double l = 0.0;
    for (int b = 0; b < w->s.n; b++) l += dotR(w->h + (size_t)w->s.off[b] * w->F, w->R + (size_t)w->s.off[b] * w->F, (size_t)w->s.len[b] * w->F);
    return l;
}
static void test_swiglu(void) {
    int F = 7;
    sw_ctx w = {.g = vec(PAD_ROWS * F, 3), .u = vec(PAD_ROWS * F, 2), .h = zeros(PAD_ROWS * F), .R = vec(PAD_ROWS * F, 1),
                .s = {3, pad_off, pad_len}, .F = F};
    float *dg = zeros(PAD_ROWS * F), *du = zeros(PAD_ROWS * F);
    op_swiglu_bwd(dg, du, w.R, w.g, w.u, &w.s, F);
    double eg = max_rel_err(sw_loss, &w, w.g, dg, PAD_ROWS * F, 1e-2f), eu = max_rel_err(sw_loss, &w, w.u, du, PAD_ROWS * F, 1e-2f);
    CHECK(eg < FD_TOL && eu < FD_TOL, "swiglu rel err dg %g du %g", eg, eu);
    free(w.g), free(w.u), free(w.h), free(w.R), free(dg), free(du);
}

typedef struct { float *x, *E, *out, *R; uint32_t ids[9]; tr_seqs s; int D, ldo, bag; } pool_ctx;
static double pool_loss(void *c) {
    pool_ctx *p = c;
    if (p->bag) op_bag_fwd(p->out, p->ldo, p->E, p->ids, &p->s, p->D);
    else op_meanpool_fwd(p->out, p->ldo, p->x, &p->s, p->D);
    return dotR(p->out, p->R, (size_t)3 * p->ldo);
}
static void test_pooling(void) {
    int D = 5, ldo = 7;
    pool_ctx p = {.x = vec(PAD_ROWS * D, 1), .out = zeros(3 * ldo), .R = vec(3 * ldo, 1), .s = {3, pad_off, pad_len}, .D = D, .ldo = ldo};
    float *dx = zeros(PAD_ROWS * D);
    op_meanpool_bwd(dx, p.R, ldo, &p.s, D);
    double e1 = max_rel_err(pool_loss, &p, p.x, dx, PAD_ROWS * D, 1e-2f);
    CHECK(e1 < FD_TOL, "mean pool rel err %g", e1);
    // the n-gram bag: texts with 4, 0 (empty: zeros) and 5 buckets, with repeats
    static const int boff[3] = {0, 4, 4}, blen[3] = {4, 0, 5};
    uint32_t ids[9] = {2, 5, 2, 0, 1, 1, 7, 3, 2};
    memcpy(p.ids, ids, sizeof ids);
    p.s = (tr_seqs){3, boff, blen};
    p.bag = 1;
    p.E = vec(8 * D, 1);
    float *dE = zeros(8 * D);
    op_bag_bwd(dE, p.R, ldo, p.ids, &p.s, D);
    double e2 = max_rel_err(pool_loss, &p, p.E, dE, 8 * D, 1e-2f);
    CHECK(e2 < FD_TOL, "n-gram bag rel err %g", e2);
    pool_loss(&p);
    CHECK(p.out[ldo] == 0.0f && p.out[ldo + 4] == 0.0f, "empty bag is not zero");
    free(p.x), free(p.out), free(p.R), free(dx), free(p.E), free(dE);
}

typedef struct { float *x, *W, *b, *logits, *probs; int y[4]; int B, I, C; float eps; } cls_ctx;
static double cls_loss(void *c) {
    cls_ctx *k = c;
    op_linear_fwd(k->logits, k->x, k->I + 2, k->W, k->I + 1, k->b, k->B, k->I, k->C);
    return op_ce_fwd(k->probs, k->logits, k->y, k->B, k->C, k->eps);
}
static void test_classifier(void) {
    // x with row stride I + 2 and W with row stride I + 1: the classifier reads slices of [u; v]
    cls_ctx k = {.B = 4, .I = 6, .C = 5, .eps = 0.1f, .y = {2, 0, -1, 4}};
    k.x = vec(4 * 8, 1), k.W = vec(5 * 7, 1), k.b = vec(5, 1), k.logits = zeros(4 * 5), k.probs = zeros(4 * 5);
    float *dx = zeros(4 * 8), *dW = zeros(5 * 7), *db = zeros(5), *dl = zeros(4 * 5);
    double l = cls_loss(&k);
    op_ce_bwd(dl, k.probs, k.y, k.B, k.C, k.eps, 1.0f);
    op_linear_bwd(dx, k.I + 2, dW, k.I + 1, db, dl, k.x, k.W, k.B, k.I, k.C);
    double ex = max_rel_err(cls_loss, &k, k.x, dx, 4 * 8, 1e-2f), ew = max_rel_err(cls_loss, &k, k.W, dW, 5 * 7, 1e-2f);
    double eb = max_rel_err(cls_loss, &k, k.b, db, 5, 1e-2f);
    CHECK(ex < FD_TOL && ew < FD_TOL && eb < FD_TOL, "classifier + CE rel err dx %g dW %g db %g", ex, ew, eb);
    CHECK(dx[2 * 8] == 0.0f, "an unlabelled row got a gradient");
    // label smoothing by hand for one row: loss = (1-eps)(-log p_y) + eps * mean_c(-log p_c)
    float lg[3] = {1.0f, 2.0f, 0.5f}, pr[3];
    int y = 1;
    double z = exp(1.0) + exp(2.0) + exp(0.5), want = 0.0;
    for (int c = 0; c < 3; c++) want += 0.2 / 3 * -log(exp(lg[c]) / z);
    want += 0.8 * -log(exp(2.0) / z);
    float got = op_ce_fwd(pr, lg, &y, 1, 3, 0.2f);
    CHECK(fabs(got - want) < 1e-5, "label smoothing loss %g, want %g", got, want);
    (void)l;
    free(k.x), free(k.W), free(k.b), free(k.logits), free(k.probs), free(dx), free(dW), free(db), free(dl);
}

static void test_dropout(void) {
    float x[1000], d[1000];
    for (int i = 0; i < 1000; i++) x[i] = 1.0f, d[i] = 2.0f;
    op_dropout(x, 1000, 0.25f, 77);
    op_dropout(d, 1000, 0.25f, 77);
    int dropped = 0, same = 1;
    for (int i = 0; i < 1000; i++) {
        dropped += x[i] == 0.0f;
        same &= (x[i] == 0.0f) == (d[i] == 0.0f) && (x[i] == 0.0f || (fabsf(x[i] - 1.0f / 0.75f) < 1e-6f && fabsf(d[i] - 2.0f / 0.75f) < 1e-6f));
    }
    CHECK(dropped > 200 && dropped < 300 && same, "dropout: %d of 1000 dropped, same mask %d", dropped, same);
}

// ---- the matrix kernel: AVX2 vs scalar ----------------------------------------------

static void test_gemm(void) {
    const slm_train_kernels *s = &slm_train_kernels_scalar, *v = slm_train_kernels_by_name("avx2");
    // a CPU whose best inference kernels are a VNNI backend has AVX2 too
    CHECK(!slm_kernels_by_name("avx2") == !v && slm_train_kernels_best() == (v ? v : s),
          "training takes AVX2 wherever inference can (inference best: %s)", slm_kernels_best()->name);
    if (!v) { printf("note: no AVX2 on this CPU, SIMD gemm not tested\n"); return; }
    int shapes[][3] = {{1, 1, 1}, {7, 17, 5}, {6, 16, 256}, {13, 33, 300}, {50, 700, 64}, {5, 9, 0}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        int M = shapes[i][0], N = shapes[i][1], K = shapes[i][2];
        for (int trans = 0; trans < 2; trans++)
            for (int acc = 0; acc < 2; acc++) {
                float *A = vec((size_t)M * K + 1, 1), *B = vec((size_t)K * (N + 3) + 1, 1), *C1 = vec((size_t)M * (N + 2), 1);
                float *C2 = malloc((size_t)M * (N + 2) * sizeof(float));
                memcpy(C2, C1, (size_t)M * (N + 2) * sizeof(float));
                int sai = trans ? 1 : K, sak = trans ? M : 1;
                s->gemm(M, N, K, A, sai, sak, B, N + 3, C1, N + 2, acc);
                v->gemm(M, N, K, A, sai, sak, B, N + 3, C2, N + 2, acc);
                double worst = 0.0;
                for (int r = 0; r < M; r++)
                    for (int c = 0; c < N + 2; c++) {   // columns N, N+1 must be untouched
                        double d = fabs(C1[r * (N + 2) + c] - C2[r * (N + 2) + c]);
                        worst = d > worst ? d : worst;
                    }
                CHECK(worst < 1e-4 * (K + 1), "gemm %dx%dx%d trans %d acc %d: max diff %g", M, N, K, trans, acc, worst);
                free(A), free(B), free(C1), free(C2);
            }
    }
}

// ---- AdamW and schedules -------------------------------------------------------------

static void test_adamw(void) {
    float p[2] = {0.5f, -1.0f}, g1[2] = {0.1f, -0.2f}, g2[2] = {-0.3f, 0.05f}, m[2] = {0}, v[2] = {0};
    float lr = 0.01f, b1 = 0.9f, b2 = 0.99f, eps = 1e-8f, wd = 0.1f;
    tr_adamw_update(p, g1, m, v, 2, lr, b1, b2, eps, wd, 0);
    tr_adamw_update(p, g2, m, v, 2, lr, b1, b2, eps, wd, 1);
    double want[2];
    for (int i = 0; i < 2; i++) {   // by hand, in double
        double x = i ? -1.0 : 0.5, mm = 0, vv = 0, gs[2] = {g1[i], g2[i]};
        for (int t = 1; t <= 2; t++) {
            mm = b1 * mm + (1 - b1) * gs[t - 1];
            vv = b2 * vv + (1 - b2) * gs[t - 1] * gs[t - 1];
            double mh = mm / (1 - pow(b1, t)), vh = vv / (1 - pow(b2, t));
            x -= lr * (mh / (sqrt(vh) + eps) + wd * x);
        }
        want[i] = x;
    }
    CHECK(fabs(p[0] - want[0]) < 1e-6 && fabs(p[1] - want[1]) < 1e-6, "adamw %g %g, want %g %g", p[0], p[1], want[0], want[1]);
    tr_optim_cfg c = {.lr = 1.0f, .min_lr = 0.1f, .warmup = 10, .total = 110, .schedule = TR_COSINE};
    CHECK(fabsf(tr_lr_at(&c, 4) - 0.5f) < 1e-6f && fabsf(tr_lr_at(&c, 10) - 1.0f) < 1e-6f &&
          fabsf(tr_lr_at(&c, 60) - 0.55f) < 1e-5f && fabsf(tr_lr_at(&c, 110) - 0.1f) < 1e-6f, "cosine schedule");
    c.schedule = TR_WSD, c.decay_frac = 0.2f;
    CHECK(tr_lr_at(&c, 80) == 1.0f && fabsf(tr_lr_at(&c, 100) - 0.55f) < 1e-5f && fabsf(tr_lr_at(&c, 110) - 0.1f) < 1e-6f,
          "wsd schedule %g %g", tr_lr_at(&c, 80), tr_lr_at(&c, 100));
    float g[3] = {3.0f, 0.0f, 4.0f};
    double norm = tr_clip_grads(g, 3, 1.0f);
    CHECK(fabs(norm - 5.0) < 1e-9 && fabsf(g[0] - 0.6f) < 1e-6f && fabsf(g[2] - 0.8f) < 1e-6f, "clip");
}

// ---- the whole model: gradients of a few parameters of each tensor ---------------------

typedef struct { tr_model *m; tr_batch *b; tr_train_opts o; const int32_t *pos, *target; int M; } model_ctx;
static double model_loss(void *c) {
    model_ctx *x = c;
    tr_model_sync(x->m);
    if (x->M) {   // masked LM
        float loss = NAN;
        slm_error err;
        tr_mlm_backward(x->m, x->b, x->pos, x->target, x->M, &x->o, 5, &loss, &err);
        return loss;
    }
    tr_forward(x->m, x->b, &x->o, 5);
    return tr_backward(x->m, x->b, &x->o, 5);
}

// The worst relative error of a few gradient entries of each tensor (rows of
// the embedding that ids uses) against central differences; *name: where.
static double worst_grad(model_ctx *x, const int32_t *ids, int dim, const char **name) {
    size_t n;
    float *p = tr_model_params(x->m, &n);
    int n_t;
    const tr_tensor *t = tr_model_tensors(x->m, &n_t);
    model_loss(x);
    float *g = malloc(n * sizeof(float));
    memcpy(g, tr_model_grads(x->m), n * sizeof(float));
    double worst = 0.0;
    *name = "";
    for (int i = 0; i < n_t; i++) {
        size_t cnt = (size_t)(t[i].rows ? t[i].rows : 1) * t[i].cols;
        for (int k = 0; k < 4; k++) {
            size_t j = t[i].off + (size_t)((k * 7919u + 13u) % cnt);
            if (!strcmp(t[i].name, "token_embd.weight")) j = t[i].off + (size_t)(ids[k] * dim + k);
            float keep = p[j];
            p[j] = keep + 1e-2f;
            double lp = model_loss(x);
            p[j] = keep - 1e-2f;
            double lm = model_loss(x);
            p[j] = keep;
            double num = (lp - lm) / 2e-2, e = fabs(num - g[j]) / (fabs(num) + fabs(g[j]) + 1e-3);
            if (e > worst) worst = e, *name = t[i].name;
        }
    }
    free(g);
    return worst;
}
static void test_model_grads(void) {
    tr_config cfg = {.vocab = 20, .dim = 16, .n_layers = 2, .n_heads = 4, .n_kv_heads = 2, .ffn = 12, .ctx = 16,
                     .n_classes = 3, .eps = 1e-5f, .theta = 10000.0f, .ngram = {.buckets = 11, .word_max = 1, .char_max = 0},
                     .ngram_dim = 8, .transformer = 1};
    slm_error err;
    tr_model *m = tr_model_new(&cfg, 3, 16, 8, 2, NULL, &err);
    CHECK(m != NULL, "model: %s", err.message);
    if (!m) return;
    tr_model_init(m, 3);
    size_t n;
    float *p = tr_model_params(m, &n);
    for (size_t i = 0; i < n; i++) p[i] += urand() * 0.1f;   // the zero classifier would hide the transformer's gradients
    int32_t ids[12] = {1, 4, 7, 2, 9, 3, 3, 0, 5, 6, 19, 8};
    int off[3] = {0, 5, 7}, len[3] = {5, 2, 5}, boff[3] = {0, 2, 3}, blen[3] = {2, 1, 3}, y[3] = {0, 2, 1};
    uint32_t bag[6] = {1, 10, 4, 4, 0, 7};
    tr_batch b = {.B = 3, .N = 12, .ids = ids, .off = off, .len = len, .bag = bag, .boff = boff, .blen = blen, .y = y};
    model_ctx x = {m, &b, {.label_smoothing = 0.1f, .aux_weight = 0.5f}, NULL, NULL, 0};
    const char *worst_name;
    double worst = worst_grad(&x, ids, cfg.dim, &worst_name);
    CHECK(worst < 2e-2, "model gradients: worst rel err %g (%s)", worst, worst_name);
    // masked LM: rows 1, 6 and 10 masked (id 0 stands for the mask), predicting their ids through the tied embedding
    int32_t pos[3] = {1, 6, 10}, target[3] = {4, 0, 19};
    ids[1] = ids[6] = ids[10] = 0;
    x.o.drop_resid = 0.2f;   // dropout's mask is the same forward and backward
    x.pos = pos, x.target = target, x.M = 3;
    worst = worst_grad(&x, ids, cfg.dim, &worst_name);
    CHECK(worst < 2e-2, "masked-LM gradients: worst rel err %g (%s)", worst, worst_name);
    tr_model_free(m);
}

// ---- the trainer end to end ------------------------------------------------------------

static const char *dir;

static void write_file(const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

static char *path_of(const char *name) {
    static char buf[256][512];   // a ring: each path stays valid for a long while
    static int k;
    k = (k + 1) % 256;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static const char *toy =
    "turn on the lights\tlights\nswitch the lamp on please\tlights\nlights on in the kitchen\tlights\n"
    "what is the weather today\tweather\nwill it rain tomorrow\tweather\nis it sunny outside\tweather\n"
    "play some jazz\tmusic\nput on my playlist\tmusic\nplay the next song\tmusic\n"
    "set an alarm for seven\talarm\nwake me up at six\talarm\nalarm at noon please\talarm\n";

static tr_classifier_params tiny_params(const char *out) {
    tr_classifier_params p = tr_classifier_default_params();
    p.preset = "test-tiny";
    p.train_path = path_of("train.tsv");
    p.dev_path = path_of("train.tsv");
    p.out_path = out;
    p.epochs = 30;
    p.batch = 4;
    p.threads = 2;
    p.optim.lr = 3e-3f;
    p.ngram = (slm_ngram_cfg){.buckets = 256, .word_max = 2, .char_min = 2, .char_max = 4};
    p.ngram_dim = 32;
    p.opts.drop_resid = p.opts.drop_embd = 0.0f;
    return p;
}

static int same_file(const char *a, const char *b) {
    FILE *f = fopen(a, "rb"), *g = fopen(b, "rb");
    int same = f && g;
    while (same) {
        int x = fgetc(f), y = fgetc(g);
        if (x != y) same = 0;
        if (x == EOF || y == EOF) break;
    }
    if (f) fclose(f);
    if (g) fclose(g);
    return same;
}

// The piece count of the trainer's "masked LM: ... pieces" line.
static int pieces;
static void grab_pieces(void *user, const char *line, int transient) {
    (void)user, (void)transient;
    const char *s = strstr(line, "training texts and ");
    if (s) pieces = atoi(s + strlen("training texts and "));
}

static void test_trainer(void) {
    write_file("train.tsv", toy);
    tr_classifier_params p = tiny_params(path_of("a.gguf"));
    tr_classifier_result r;
    slm_error err;
    slm_status st = tr_train_classifier(&p, &r, &err);
    CHECK(st == SLM_OK, "train: %s", err.message);
    CHECK(r.best_dev_acc == 1.0f, "a tiny model overfits 12 texts: accuracy %g", r.best_dev_acc);
    // the file loads as an encoder with our labels and n-gram keys
    slm_model *m = NULL;
    st = slm_model_load_file(path_of("a.gguf"), 0, &m, &err);
    CHECK(st == SLM_OK, "load: %s", err.message);
    if (m) {
        uint32_t buckets = 0, nd = 0, cmax = 0;
        float temp = 0.0f;
        gguf_get_u32(&m->gguf, "slm360-encoder.ngram.buckets", &buckets);
        gguf_get_u32(&m->gguf, "slm360-encoder.ngram.dim", &nd);
        gguf_get_u32(&m->gguf, "slm360-encoder.ngram.char_max", &cmax);
        gguf_get_f32(&m->gguf, "slm360-encoder.temperature", &temp);
        CHECK(m->info.is_encoder && m->info.n_classes == 4 && !strcmp(slm_model_class_label(m, 0), "alarm") &&
              buckets == 256 && nd == 32 && cmax == 4 && temp == r.temperature, "model keys");
        slm_model_free(m);
    }
    // determinism: same seed and threads, same bytes; and the thread count does not matter either
    p.out_path = path_of("b.gguf");
    st = tr_train_classifier(&p, &r, &err);
    CHECK(st == SLM_OK && same_file(path_of("a.gguf"), path_of("b.gguf")), "same seed, different weights");
    p.out_path = path_of("c.gguf");
    p.threads = 1;
    st = tr_train_classifier(&p, &r, &err);
    CHECK(st == SLM_OK && same_file(path_of("a.gguf"), path_of("c.gguf")), "1 and 2 threads differ");
    p.threads = 2;
    p.seed = 2;
    p.out_path = path_of("d.gguf");
    st = tr_train_classifier(&p, &r, &err);
    CHECK(st == SLM_OK && !same_file(path_of("a.gguf"), path_of("d.gguf")), "another seed, same weights");
    // masked-LM pretraining first: other weights, the same bytes again with the same seed, and still learns the toy set
    p.seed = 1;
    p.mlm_epochs = 3;
    p.out_path = path_of("e.gguf");
    st = tr_train_classifier(&p, &r, &err);
    CHECK(st == SLM_OK && r.best_dev_acc == 1.0f && !same_file(path_of("a.gguf"), path_of("e.gguf")), "masked LM: %s",
          st ? err.message : "");
    p.out_path = path_of("f.gguf");
    p.threads = 1;
    st = tr_train_classifier(&p, &r, &err);
    CHECK(st == SLM_OK && same_file(path_of("e.gguf"), path_of("f.gguf")), "masked LM: same seed, 1 and 2 threads differ");
    // ... and on plain text as well: blank lines skipped, a long line cut into pieces, bytes that are not UTF-8 taken
    char text[4096] = "\n  \nthe kitchen light is on and the alarm is set for seven\n\xff\xfe broken bytes here and there\nab\n";
    for (int i = 0; i < 60; i++) strcat(text, "what time is it now ");
    write_file("text.txt", text);
    p.mlm_text_path = path_of("text.txt");
    p.log = grab_pieces;
    pieces = -1;
    p.out_path = path_of("g.gguf");
    st = tr_train_classifier(&p, &r, &err);
    CHECK(st == SLM_OK && r.best_dev_acc == 1.0f && !same_file(path_of("e.gguf"), path_of("g.gguf")), "masked LM on text: %s",
          st ? err.message : "");
    CHECK(pieces >= 10, "the text's 3 lines and a long one make %d pieces", pieces);
    p.out_path = path_of("h.gguf");
    p.threads = 2;
    st = tr_train_classifier(&p, &r, &err);
    CHECK(st == SLM_OK && same_file(path_of("g.gguf"), path_of("h.gguf")), "masked LM on text: same seed, 1 and 2 threads differ");
    p.mlm_text_path = path_of("no-such-text.txt");
    p.out_path = path_of("i.gguf");
    st = tr_train_classifier(&p, &r, &err);
    CHECK(st == SLM_ERR_IO && strstr(err.message, "no-such-text.txt") && access(path_of("i.gguf"), F_OK) != 0,
          "missing text: %s", err.message);
    p.log = NULL;

    // NaN loss in epoch 3: an error naming the step, the checkpoint of the best epoch so far stays
    p = tiny_params(path_of("nan.gguf"));
    p.nan_at_step = 8;   // 3 steps per epoch
    st = tr_train_classifier(&p, &r, &err);
    CHECK(st == SLM_ERR_ABORTED && strstr(err.message, "diverged") && strstr(err.message, "step 8") && r.diverged,
          "NaN: %s", err.message);
    m = NULL;
    CHECK(slm_model_load_file(path_of("nan.gguf"), 0, &m, &err) == SLM_OK, "the last good checkpoint: %s", err.message);
    slm_model_free(m);
    p.out_path = path_of("nan0.gguf");
    p.nan_at_step = 1;
    st = tr_train_classifier(&p, &r, &err);
    CHECK(st == SLM_ERR_ABORTED && strstr(err.message, "nothing written") && access(path_of("nan0.gguf"), F_OK) != 0,
          "NaN at once: %s", err.message);

    // malformed TSV: file and line
    struct { const char *text, *want; } bad[] = {
        {"a b\tx\nno tab here\nc\ty\n", "bad.tsv:2: expected text<TAB>label, found no tab"},
        {"a\tx\n\t\tb\n", "bad.tsv:2: expected text<TAB>label, found more than one tab"},
        {"a\tx\n\nb\tx\n   \tz\n", "bad.tsv:4: empty text"},
        {"a\tx\nb\t  \n", "bad.tsv:2: empty label"},
        {"\n\n", "bad.tsv: no examples"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file("bad.tsv", bad[i].text);
        p = tiny_params(path_of("x.gguf"));
        p.dev_path = path_of("bad.tsv");
        st = tr_train_classifier(&p, &r, &err);
        CHECK(st == SLM_ERR_BAD_DATA && strstr(err.message, bad[i].want), "bad TSV %zu: %s", i, err.message);
    }
    p = tiny_params(path_of("x.gguf"));
    p.dev_path = path_of("missing.tsv");
    CHECK(tr_train_classifier(&p, &r, &err) == SLM_ERR_IO && strstr(err.message, "missing.tsv"), "missing file: %s", err.message);
    // dev labels the training data lacks are left out (not an error), unless none is known
    write_file("dev.tsv", "turn the lights on\tlights\nbook a table\trestaurant\n");
    p = tiny_params(path_of("x.gguf"));
    p.dev_path = path_of("dev.tsv");
    p.epochs = 2;
    CHECK(tr_train_classifier(&p, &r, &err) == SLM_OK, "unknown dev label: %s", err.message);
    write_file("dev.tsv", "book a table\trestaurant\n");
    CHECK(tr_train_classifier(&p, &r, &err) == SLM_ERR_BAD_DATA, "no known dev label");
}

int main(void) {
    exec1.k = slm_train_kernels_best();
    exec1.pool = pool_new(2);
    test_embedding();
    test_rmsnorm();
    test_matmul();
    test_attention(0);
    test_attention(1);
    test_swiglu();
    test_pooling();
    test_classifier();
    test_dropout();
    test_gemm();
    test_adamw();
    test_model_grads();
    pool_free(exec1.pool);

    char tmpl[] = "/tmp/slm-train-test-XXXXXX";
    dir = mkdtemp(tmpl);
    CHECK(dir != NULL, "mkdtemp");
    if (dir) {
        test_trainer();
        const char *names[] = {"train.tsv", "a.gguf", "b.gguf", "c.gguf", "d.gguf", "e.gguf", "f.gguf", "nan.gguf", "nan0.gguf", "bad.tsv", "x.gguf", "dev.tsv"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) unlink(path_of(names[i]));
        rmdir(dir);
    }
    TEST_END();
}
