// Tier 3 on public document sets (../shared/data/docqa), with our own ROUGE.
//
//   SQuAD 2.0 (one article, every paragraph as one document): is the
//     answer's exact text in the retrieved sentence (or the +-1 window)?
//   RACE (articles with multiple-choice questions): the "evidence" sentence
//     is the one sharing most content words with the question and its right
//     option; how often is it retrieved first, and which share of the
//     option's content words does the passage hold? (the answers are
//     abstractive: no exact match possible)
//   XSum (1 sentence references) and CNN/DailyMail (3-4 highlights): ROUGE-1,
//     -2 and -L F1 of the extractive summary (1 and 3 sentences), no stemming.
// Each next to simple baselines (first sentences, a random sentence), and
// the speed of indexing and of a question.
//
// Build: make bench-docqa (data/assistant/assistant.mk). Usage:
//   build/docqa [--nano M.gguf] [--embed-weight X] [--lead-weight X] [--redundancy X]
//               [--split dev|test|all] [--threads N] [DIR (../shared/data/docqa)]
// dev = the first 200 RACE questions / XSum documents (to tune weights on),
// test = the rest.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slm.h"

// ---- a small JSON reader (objects, arrays, strings, numbers, literals) --------------

typedef struct jv {
    char type;              // 'o' 'a' 's' 'n' 'l'
    char *s;                // string value (UTF-8, unescaped)
    struct jv *v;           // object values / array items
    char **k;               // object keys
    int n;
} jv;

static void jfree(jv *j) {
    for (int i = 0; i < j->n; i++) {
        jfree(&j->v[i]);
        if (j->k) free(j->k[i]);
    }
    free(j->v);
    free(j->k);
    free(j->s);
}

static const char *jws(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
    return p;
}

static void put_utf8(char **o, unsigned c) {
    if (c < 0x80) *(*o)++ = (char)c;
    else if (c < 0x800) *(*o)++ = (char)(0xC0 | c >> 6), *(*o)++ = (char)(0x80 | (c & 63));
    else *(*o)++ = (char)(0xE0 | c >> 12), *(*o)++ = (char)(0x80 | (c >> 6 & 63)), *(*o)++ = (char)(0x80 | (c & 63));
}

static const char *jstr(const char *p, char **out) {
    const char *e = ++p;
    while (*e && *e != '"') e += *e == '\\' && e[1] ? 2 : 1;
    char *o = *out = malloc((size_t)(e - p) + 1);
    while (p < e) {
        if (*p != '\\') { *o++ = *p++; continue; }
        p++;
        char c = *p++;
        if (c == 'n') *o++ = '\n';
        else if (c == 't') *o++ = '\t';
        else if (c == 'r') *o++ = '\r';
        else if (c == 'b' || c == 'f') *o++ = ' ';
        else if (c == 'u') {
            unsigned u = (unsigned)strtoul((char[5]){p[0], p[1], p[2], p[3], 0}, NULL, 16);
            p += 4;
            if (u >= 0xD800 && u < 0xDC00 && p[0] == '\\' && p[1] == 'u') {   // surrogate pair
                unsigned lo = (unsigned)strtoul((char[5]){p[2], p[3], p[4], p[5], 0}, NULL, 16);
                p += 6;
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                *o++ = (char)(0xF0 | u >> 18), *o++ = (char)(0x80 | (u >> 12 & 63));
                *o++ = (char)(0x80 | (u >> 6 & 63)), *o++ = (char)(0x80 | (u & 63));
            } else {
                put_utf8(&o, u);
            }
        } else *o++ = c;
    }
    *o = 0;
    return *e ? e + 1 : e;
}

static const char *jparse(const char *p, jv *j) {
    memset(j, 0, sizeof *j);
    p = jws(p);
    if (*p == '"') { j->type = 's'; return jstr(p, &j->s); }
    if (*p == '{' || *p == '[') {
        int obj = *p == '{';
        j->type = obj ? 'o' : 'a';
        p = jws(p + 1);
        while (*p && *p != (obj ? '}' : ']')) {
            j->v = realloc(j->v, (size_t)(j->n + 1) * sizeof *j->v);
            if (obj) {
                j->k = realloc(j->k, (size_t)(j->n + 1) * sizeof *j->k);
                p = jws(jstr(jws(p), &j->k[j->n]));
                p = jws(p + 1);   // ':'
            }
            p = jws(jparse(p, &j->v[j->n++]));
            if (*p == ',') p = jws(p + 1);
        }
        return *p ? p + 1 : p;
    }
    j->type = 'n';
    const char *e = p;
    while (*e && !strchr(",}] \n\r\t", *e)) e++;
    j->s = strndup(p, (size_t)(e - p));
    return e;
}

static jv *jget(jv *j, const char *key) {
    for (int i = 0; j->type == 'o' && i < j->n; i++)
        if (!strcmp(j->k[i], key)) return &j->v[i];
    return NULL;
}

static const char *jtext(jv *j, const char *key) {
    jv *v = jget(j, key);
    return v && v->type == 's' ? v->s : "";
}

static char *read_all(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    b[fread(b, 1, (size_t)n, f)] = 0;
    fclose(f);
    return b;
}

// ---- tokens, ROUGE -----------------------------------------------------------------------

typedef struct {
    char **w;
    int n;
} toks;

// Lower-cased runs of ASCII letters and digits (rouge_score's tokenizer).
static toks tokenize(const char *s, size_t len) {
    toks t = {malloc((len / 2 + 1) * sizeof(char *)), 0};
    for (size_t i = 0; i < len;) {
        while (i < len && !((s[i] | 32) >= 'a' && (s[i] | 32) <= 'z') && !(s[i] >= '0' && s[i] <= '9')) i++;
        size_t j = i;
        while (j < len && (((s[j] | 32) >= 'a' && (s[j] | 32) <= 'z') || (s[j] >= '0' && s[j] <= '9'))) j++;
        if (j > i) {
            char *w = strndup(s + i, j - i);
            for (char *c = w; *c; c++) *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
            t.w[t.n++] = w;
        }
        i = j;
    }
    return t;
}

static void toks_free(toks *t) {
    for (int i = 0; i < t->n; i++) free(t->w[i]);
    free(t->w);
}

static double f1(double hit, double a, double b) { return hit > 0 ? 2 * hit / (a + b) : 0.0; }

// ROUGE-N F1: clipped n-gram matches (quadratic, fine for these sizes).
static double rouge_n(const toks *c, const toks *r, int n) {
    int nc = c->n - n + 1, nr = r->n - n + 1, hit = 0;
    if (nc <= 0 || nr <= 0) return 0.0;
    char *used = calloc((size_t)nr, 1);
    for (int i = 0; i < nc; i++)
        for (int j = 0; j < nr; j++) {
            if (used[j]) continue;
            int k = 0;
            while (k < n && !strcmp(c->w[i + k], r->w[j + k])) k++;
            if (k == n) { used[j] = 1; hit++; break; }
        }
    free(used);
    return f1(hit, nc, nr);
}

static double rouge_l(const toks *c, const toks *r) {
    int *row = calloc((size_t)r->n + 1, sizeof *row);
    for (int i = 1; i <= c->n; i++) {
        int prev = 0;
        for (int j = 1; j <= r->n; j++) {
            int tmp = row[j];
            row[j] = !strcmp(c->w[i - 1], r->w[j - 1]) ? prev + 1 : (row[j] > row[j - 1] ? row[j] : row[j - 1]);
            prev = tmp;
        }
    }
    int lcs = row[r->n];
    free(row);
    return f1(lcs, c->n, r->n);
}

static const char *const stops[] = {"the", "a", "an", "of", "to", "in", "and", "or", "is", "are", "was", "were", "be",
                                    "it", "its", "that", "this", "for", "on", "with", "as", "by", "at", "from", "he",
                                    "she", "they", "his", "her", "their", "what", "which", "who", "why", "how", "when",
                                    "where", "does", "do", "did", "not", "can", "will", "would", "should", "could",
                                    "about", "because", "than", "so", "but", "if", "you", "we", "i", "has", "have", "had"};

static int stop(const char *w) {
    for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++)
        if (!strcmp(w, stops[i])) return 1;
    return 0;
}

// Share of the content words of a found in b.
static double recall(const toks *a, const toks *b) {
    int n = 0, hit = 0;
    for (int i = 0; i < a->n; i++) {
        if (stop(a->w[i])) continue;
        n++;
        for (int j = 0; j < b->n; j++)
            if (!strcmp(a->w[i], b->w[j])) { hit++; break; }
    }
    return n ? (double)hit / n : 0.0;
}

// ---- helpers ---------------------------------------------------------------------------

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    if (!n) return 0.0;
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static uint64_t rng = 88172645463325252ull;
static int rnd(int n) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (int)(rng % (uint64_t)n);
}

// Text of sentences [a, b] of d (clamped), joined by spaces.
static char *passage(const slm_doc *d, int a, int b) {
    int n = slm_doc_sentence_count(d);
    if (a < 0) a = 0;
    if (b >= n) b = n - 1;
    if (a > b) return strdup("");
    slm_span s = slm_doc_sentence(d, a), e = slm_doc_sentence(d, b);
    return strndup(slm_doc_text(d) + s.start, (size_t)(e.end - s.start));
}

typedef struct {
    slm_context *enc;
    slm_doc_params dp;
    int lo, hi;             // item range of the split (hi exclusive; -1 = all)
    double *index_ms, *rank_ms;
    int n_index, n_rank;
} bench;

static int in_split(const bench *b, int i) { return i >= b->lo && (b->hi < 0 || i < b->hi); }

static slm_doc *index_doc(bench *b, const char *text) {
    slm_error err;
    slm_doc *d = NULL;
    double t0 = now_ms();
    if (slm_doc_new(text, strlen(text), b->enc, &b->dp, &d, &err)) {
        fprintf(stderr, "docqa: %s\n", err.message);
        exit(2);
    }
    b->index_ms[b->n_index++ % 4096] = now_ms() - t0;
    return d;
}

// order/scores of d's sentences for question q.
static void rank(bench *b, slm_doc *d, const char *q, int *order, float *scores) {
    slm_error err;
    double t0 = now_ms();
    if (slm_doc_rank(d, b->enc, q, strlen(q), order, scores, &err)) {
        fprintf(stderr, "docqa: %s\n", err.message);
        exit(2);
    }
    b->rank_ms[b->n_rank++ % 4096] = now_ms() - t0;
}

// ---- the sets --------------------------------------------------------------------------

static void squad(bench *b, const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/squad_v2/squad_v2_dev_first_article.json", dir);
    char *text = read_all(path);
    if (!text) { printf("squad: %s missing\n", path); return; }
    jv root;
    jparse(text, &root);
    jv *paras = jget(&jget(&root, "data")->v[0], "paragraphs");
    // the whole article is the document
    size_t cap = 1;
    for (int i = 0; i < paras->n; i++) cap += strlen(jtext(&paras->v[i], "context")) + 2;
    char *doc = calloc(cap, 1);
    for (int i = 0; i < paras->n; i++) strcat(strcat(doc, jtext(&paras->v[i], "context")), "\n\n");
    slm_doc *d = index_doc(b, doc);
    int n = slm_doc_sentence_count(d), *order = malloc((size_t)n * sizeof *order);
    float *scores = malloc((size_t)n * sizeof *scores);
    int total = 0, top1 = 0, win = 0, top3 = 0, lead = 0, rand1 = 0, n_imp = 0;
    double conf_ans = 0, conf_imp = 0;
    for (int i = 0; i < paras->n; i++) {
        jv *qas = jget(&paras->v[i], "qas");
        for (int k = 0; k < qas->n; k++) {
            jv *qa = &qas->v[k], *ans = jget(qa, "answers");
            jv *imp = jget(qa, "is_impossible");
            rank(b, d, jtext(qa, "question"), order, scores);
            if (imp && imp->s && !strcmp(imp->s, "true")) { n_imp++, conf_imp += scores[0]; continue; }
            if (!ans || !ans->n) continue;
            total++, conf_ans += scores[0];
            char *p1 = passage(d, order[0], order[0]), *pw = passage(d, order[0] - 1, order[0] + 1);
            char *pl = passage(d, 0, 0), *pr = NULL;
            int r = rnd(n);
            pr = passage(d, r, r);
            int h1 = 0, hw = 0, h3 = 0, hl = 0, hr = 0;
            for (int a = 0; a < ans->n; a++) {
                const char *at = jtext(&ans->v[a], "text");
                h1 |= strstr(p1, at) != NULL, hw |= strstr(pw, at) != NULL;
                hl |= strstr(pl, at) != NULL, hr |= strstr(pr, at) != NULL;
                for (int t = 0; t < 3 && t < n; t++) {
                    char *pt = passage(d, order[t], order[t]);
                    h3 |= strstr(pt, at) != NULL;
                    free(pt);
                }
            }
            top1 += h1, win += hw, top3 += h3, lead += hl, rand1 += hr;
            free(p1), free(pw), free(pl), free(pr);
        }
    }
    printf("SQuAD 2.0 (1 article, %d sentences, %d answerable questions): answer in the top sentence %.1f%%, "
           "in one of the top 3 %.1f%%, in top +-1 sentence %.1f%% | first sentence %.1f%%, random sentence %.1f%%\n",
           n, total, 100.0 * top1 / total, 100.0 * top3 / total, 100.0 * win / total, 100.0 * lead / total,
           100.0 * rand1 / total);
    printf("  top score: answerable %.3f, unanswerable %.3f (%d)\n", conf_ans / total, n_imp ? conf_imp / n_imp : 0.0,
           n_imp);
    free(order), free(scores), free(doc), free(text);
    slm_doc_free(d);
    jfree(&root);
}

static void race(bench *b, const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/race/race_sample1000.jsonl", dir);
    char *text = read_all(path);
    if (!text) { printf("race: %s missing\n", path); return; }
    int items = 0, hit = 0, hit_w = 0, lead_hit = 0, rand_hit = 0;
    double rec1 = 0, recw = 0, rec_lead = 0, rec_rand = 0;
    int idx = 0;
    for (char *line = text, *next; *line; line = next, idx++) {
        next = strchr(line, '\n');
        next = next ? (*next = 0, next + 1) : line + strlen(line);
        if (!in_split(b, idx) || !*line) continue;
        jv j;
        jparse(line, &j);
        const char *art = jtext(&j, "article"), *q = jtext(&j, "question"), *ans = jtext(&j, "answer");
        jv *opts = jget(&j, "options");
        int ai = ans[0] - 'A';
        if (!opts || ai < 0 || ai >= opts->n) { jfree(&j); continue; }
        const char *opt = opts->v[ai].s;
        slm_doc *d = index_doc(b, art);
        int n = slm_doc_sentence_count(d);
        int *order = malloc((size_t)n * sizeof *order);
        float *scores = malloc((size_t)n * sizeof *scores);
        rank(b, d, q, order, scores);
        // the evidence sentence: most content words shared with question + option
        size_t ql = strlen(q) + strlen(opt) + 2;
        char *qo = malloc(ql);
        snprintf(qo, ql, "%s %s", q, opt);
        toks tq = tokenize(qo, strlen(qo)), to = tokenize(opt, strlen(opt));
        int best = -1;
        double best_r = 0;
        for (int i = 0; i < n; i++) {
            char *s = passage(d, i, i);
            toks ts = tokenize(s, strlen(s));
            double r = recall(&tq, &ts);
            if (r > best_r) best_r = r, best = i;
            toks_free(&ts), free(s);
        }
        int r = rnd(n);
        char *p1 = passage(d, order[0], order[0]), *pw = passage(d, order[0] - 1, order[0] + 1);
        char *pl = passage(d, 0, 0), *pr = passage(d, r, r);
        toks t1 = tokenize(p1, strlen(p1)), tw = tokenize(pw, strlen(pw)), tl = tokenize(pl, strlen(pl)),
             tr = tokenize(pr, strlen(pr));
        items++;
        hit += best >= 0 && order[0] == best;
        hit_w += best >= 0 && order[0] >= best - 1 && order[0] <= best + 1;
        lead_hit += best == 0, rand_hit += best == r;
        rec1 += recall(&to, &t1), recw += recall(&to, &tw), rec_lead += recall(&to, &tl), rec_rand += recall(&to, &tr);
        toks_free(&tq), toks_free(&to), toks_free(&t1), toks_free(&tw), toks_free(&tl), toks_free(&tr);
        free(p1), free(pw), free(pl), free(pr), free(qo), free(order), free(scores);
        slm_doc_free(d);
        jfree(&j);
    }
    printf("RACE (%d questions): evidence sentence retrieved first %.1f%% (within +-1: %.1f%%), answer words in the "
           "top sentence %.1f%% (+-1 window %.1f%%) | first sentence: evidence %.1f%%, words %.1f%%; random: %.1f%%, %.1f%%\n",
           items, 100.0 * hit / items, 100.0 * hit_w / items, 100 * rec1 / items, 100 * recw / items,
           100.0 * lead_hit / items, 100 * rec_lead / items, 100.0 * rand_hit / items, 100 * rec_rand / items);
    free(text);
}

// ROUGE of k-sentence summaries vs lead-k, on a JSONL set.
static void summaries(bench *b, const char *dir, const char *file, const char *doc_key, const char *ref_key, int k,
                      const char *name, int split) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    char *text = read_all(path);
    if (!text) { printf("%s: %s missing\n", name, path); return; }
    double ours[3] = {0}, lead[3] = {0}, rand3[3] = {0};
    int items = 0, idx = 0;
    for (char *line = text, *next; *line; line = next, idx++) {
        next = strchr(line, '\n');
        next = next ? (*next = 0, next + 1) : line + strlen(line);
        if ((split && !in_split(b, idx)) || !*line) continue;
        jv j;
        jparse(line, &j);
        const char *ref = jtext(&j, ref_key);
        slm_doc *d = index_doc(b, jtext(&j, doc_key));
        int n = slm_doc_sentence_count(d), picked[8];
        float sc[8];
        int got = slm_doc_summarize(d, k, picked, sc);
        toks tr = tokenize(ref, strlen(ref));
        // ours, lead-k, k random sentences (in document order)
        for (int which = 0; which < 3; which++) {
            size_t cap = 16, len = 0;
            char *sum = malloc(cap);
            sum[0] = 0;
            int pick[8], m = which == 0 ? got : (k < n ? k : n);
            for (int i = 0; i < m; i++) pick[i] = which == 0 ? picked[i] : which == 1 ? i : -1;
            if (which == 2) {   // k distinct random sentences
                for (int i = 0; i < m; i++) {
                    int r, dup;
                    do { r = rnd(n); dup = 0; for (int t = 0; t < i; t++) dup |= pick[t] == r; } while (dup);
                    pick[i] = r;
                }
            }
            for (int i = 0; i < m; i++) {
                char *s = passage(d, pick[i], pick[i]);
                size_t sl = strlen(s);
                if (len + sl + 2 > cap) cap = (len + sl + 2) * 2, sum = realloc(sum, cap);
                len += (size_t)sprintf(sum + len, "%s ", s);
                free(s);
            }
            toks ts = tokenize(sum, len);
            double *acc = which == 0 ? ours : which == 1 ? lead : rand3;
            acc[0] += rouge_n(&ts, &tr, 1), acc[1] += rouge_n(&ts, &tr, 2), acc[2] += rouge_l(&ts, &tr);
            toks_free(&ts);
            free(sum);
        }
        toks_free(&tr);
        items++;
        slm_doc_free(d);
        jfree(&j);
    }
    printf("%s (%d documents, %d-sentence summaries), ROUGE-1/2/L F1: ours %.2f / %.2f / %.2f | lead-%d %.2f / %.2f / "
           "%.2f | random %.2f / %.2f / %.2f\n",
           name, items, k, 100 * ours[0] / items, 100 * ours[1] / items, 100 * ours[2] / items, k, 100 * lead[0] / items,
           100 * lead[1] / items, 100 * lead[2] / items, 100 * rand3[0] / items, 100 * rand3[1] / items,
           100 * rand3[2] / items);
    free(text);
}

// Index a ~2,000-word document (RACE articles end to end) and answer on it.
static void speed(bench *b, const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/race/race_sample1000.jsonl", dir);
    char *text = read_all(path);
    if (!text) return;
    char *doc = calloc(64 * 1024, 1), *prev = strdup("");
    int words = 0;
    for (char *line = text, *next; *line && words < 2000; line = next) {
        next = strchr(line, '\n');
        next = next ? (*next = 0, next + 1) : line + strlen(line);
        jv j;
        jparse(line, &j);
        const char *art = jtext(&j, "article");
        if (strcmp(art, prev)) {   // each article once
            strcat(strcat(doc, art), "\n\n");
            for (const char *c = art; *c; c++) words += (c == art || c[-1] == ' ' || c[-1] == '\n') && *c != ' ' && *c != '\n';
            free(prev);
            prev = strdup(art);
        }
        jfree(&j);
    }
    double idx[5], qa[5], sum[5], qs[5];
    int n = 0;
    for (int r = 0; r < 5; r++) {
        double t0 = now_ms();
        slm_doc *d = index_doc(b, doc);
        double t1 = now_ms();
        n = slm_doc_sentence_count(d);
        int *order = malloc((size_t)n * sizeof *order), picked[3];
        float *scores = malloc((size_t)n * sizeof *scores), sc[3];
        rank(b, d, "How thick are the walls of the hotel?", order, scores);
        double t2 = now_ms();
        slm_doc_summarize(d, 3, picked, sc);
        double t3 = now_ms();
        char buf[1024];
        slm_doc_questions(d, 3, buf, sizeof buf, NULL);
        double t4 = now_ms();
        idx[r] = t1 - t0, qa[r] = t2 - t1, sum[r] = t3 - t2, qs[r] = t4 - t3;
        free(order), free(scores);
        slm_doc_free(d);
    }
    printf("speed, a %d-word document (%d sentences), median of 5: index %.2f ms (%s), then a question %.2f ms, a "
           "3-sentence summary %.2f ms, 3 questions %.2f ms\n",
           words, n, median(idx, 5), b->enc ? "nano embeddings + words" : "words only", median(qa, 5), median(sum, 5),
           median(qs, 5));
    free(doc), free(prev), free(text);
}

int main(int argc, char **argv) {
    const char *dir = "../shared/data/docqa", *nano = NULL, *split = "test";
    bench b = {0};
    b.dp = slm_doc_default_params();
    int threads = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--nano") && i + 1 < argc) nano = argv[++i];
        else if (!strcmp(argv[i], "--embed-weight") && i + 1 < argc) b.dp.embed_weight = strtof(argv[++i], NULL);
        else if (!strcmp(argv[i], "--lead-weight") && i + 1 < argc) b.dp.lead_weight = strtof(argv[++i], NULL);
        else if (!strcmp(argv[i], "--redundancy") && i + 1 < argc) b.dp.redundancy = strtof(argv[++i], NULL);
        else if (!strcmp(argv[i], "--split") && i + 1 < argc) split = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (argv[i][0] != '-') dir = argv[i];
        else { fprintf(stderr, "usage: docqa [--nano M.gguf] [--embed-weight X] [--lead-weight X] [--redundancy X] "
                               "[--split dev|test|all] [--threads N] [DIR]\n"); return 1; }
    }
    b.lo = !strcmp(split, "test") ? 200 : 0;
    b.hi = !strcmp(split, "dev") ? 200 : -1;
    slm_model *m = NULL;
    if (nano) {
        slm_error err;
        slm_context_params cp = slm_context_default_params();
        cp.n_threads = threads;
        if (slm_model_load_file(nano, 0, &m, &err) || slm_context_new(m, &cp, &b.enc, &err)) {
            fprintf(stderr, "docqa: %s\n", err.message);
            return 2;
        }
    }
    b.index_ms = malloc(4096 * sizeof(double));
    b.rank_ms = malloc(4096 * sizeof(double));
    printf("split %s; embed_weight %.2f, lead_weight %.2f, redundancy %.2f; %s\n", split, b.dp.embed_weight,
           b.dp.lead_weight, b.dp.redundancy, nano ? nano : "no encoder (words only)");
    squad(&b, dir);
    race(&b, dir);
    summaries(&b, dir, "xsum/xsum_test_subset1000.jsonl", "document", "summary", 1, "XSum", 1);
    summaries(&b, dir, "cnn_dailymail/cnn_dm_validation_sample15.jsonl", "article", "highlights", 3, "CNN/DM", 0);
    int ni = b.n_index < 4096 ? b.n_index : 4096, nr = b.n_rank < 4096 ? b.n_rank : 4096;
    printf("median per document: index %.2f ms (%d documents); per question: rank %.3f ms (%d questions)\n",
           median(b.index_ms, ni), ni, median(b.rank_ms, nr), nr);
    speed(&b, dir);
    free(b.index_ms), free(b.rank_ms);
    slm_context_free(b.enc);
    slm_model_free(m);
    return 0;
}
