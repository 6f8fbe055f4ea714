// slm train-classifier: train an slm360-nano encoder classifier from TSV files.
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../weights-tools/train.h"
#include "cli.h"

#define N_OPTS(o) ((int)(sizeof o / sizeof o[0]))

static const char *usage_text =
    "usage: slm train-classifier --train T.tsv --dev D.tsv -o M.gguf [options]\n"
    "\n"
    "Trains an slm360-encoder classifier (TSV lines: text<TAB>label) and writes the\n"
    "best-on-dev checkpoint (F32) to M.gguf, its softmax temperature fitted on dev.\n"
    "`slm quantize M.gguf -o M-q4_0.gguf --type q4_0` makes the small file.\n"
    "\n"
    "  --preset NAME         model shape (default slm360-nano)\n"
    "  --vocab FILE.gguf     tokenizer (e.g. from `slm train-tokenizer`); default: a\n"
    "                        stand-in word vocabulary built from the training texts\n"
    "  --oos-dev FILE.tsv    out-of-scope dev texts: pick a confidence threshold\n"
    "  --epochs N            (20)         --batch N        (32)\n"
    "  --lr X                peak learning rate (1e-3)    --min-lr X (1e-5)\n"
    "  --schedule S          cosine | wsd (cosine)        --warmup N steps (half an epoch)\n"
    "  --wd X                AdamW weight decay (0.01)    --clip X   gradient norm (1)\n"
    "  --dropout X           residual and embedding dropout (0.1)\n"
    "  --feat-dropout X      dropout on the pooled features (0.1)\n"
    "  --label-smoothing X   (0.1)        --aux X    weight of per-branch losses (0.5)\n"
    "  --ngram-buckets N     rows of the n-gram table, 0 = no n-gram branch (16384)\n"
    "  --ngram-dim N         (64)         --word-max N (2)  --char-min N (2)  --char-max N (5)\n"
    "  --ngram-lr X          learning-rate multiplier of the n-gram table (30)\n"
    "  --cls-lr X            learning-rate multiplier of the classifier (3)\n"
    "  --no-transformer      the n-gram branch alone (ablation)\n"
    "  --mlm-epochs N        masked-LM pretraining passes over the training texts first (0)\n"
    "  --mlm-mask X          share of their tokens to predict (0.15)\n"
    "  --mlm-text FILE       plain text those passes also read, line by line\n"
    "  --max-len N           tokens per text (512, the context)\n"
    "  --seed N (1)          --threads N (1)   --kernels scalar|avx2\n"
    "\n"
    "Same seed and thread count: bit-identical weights. Ctrl-C stops after writing the\n"
    "best checkpoint so far.\n";

typedef struct {
    int tty;
    double last;
} log_state;

// A terminal gets a line redrawn in place; a log gets every epoch line and a
// step line at most every 15 s.
static void log_line(void *user, const char *line, int transient) {
    log_state *s = user;
    if (s->tty) {
        fprintf(stderr, "\r\033[K%s%s", line, transient ? "" : "\n");
        fflush(stderr);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
    if (transient && now - s->last < 15000.0) return;
    s->last = now;
    fprintf(stderr, "%s\n", line);
}

int cmd_train_classifier(int argc, char **argv) {
    const char *helpf = NULL, *train = NULL, *dev = NULL, *out = NULL, *preset = NULL, *vocab = NULL, *oos = NULL,
               *epochs = NULL, *batch = NULL, *lr = NULL, *min_lr = NULL, *schedule = NULL, *warmup = NULL, *wd = NULL,
               *clip = NULL, *dropout = NULL, *feat_dropout = NULL, *smooth = NULL, *aux = NULL, *buckets = NULL,
               *ngram_dim = NULL, *word_max = NULL, *char_min = NULL, *char_max = NULL, *ngram_lr = NULL, *cls_lr = NULL,
               *no_tr = NULL, *mlm_epochs = NULL, *mlm_mask = NULL, *mlm_text = NULL, *max_len = NULL, *seed = NULL, *threads = NULL, *kernels = NULL, *pos[1];
    const cli_opt opts[] = {
        {"--help", "-h", 0, &helpf}, {"--train", NULL, 1, &train}, {"--dev", NULL, 1, &dev},
        {"--output", "-o", 1, &out}, {"--preset", NULL, 1, &preset}, {"--vocab", NULL, 1, &vocab},
        {"--oos-dev", NULL, 1, &oos}, {"--epochs", NULL, 1, &epochs}, {"--batch", NULL, 1, &batch},
        {"--lr", NULL, 1, &lr}, {"--min-lr", NULL, 1, &min_lr}, {"--schedule", NULL, 1, &schedule},
        {"--warmup", NULL, 1, &warmup}, {"--wd", NULL, 1, &wd}, {"--clip", NULL, 1, &clip},
        {"--dropout", NULL, 1, &dropout}, {"--feat-dropout", NULL, 1, &feat_dropout},
        {"--label-smoothing", NULL, 1, &smooth}, {"--aux", NULL, 1, &aux}, {"--ngram-buckets", NULL, 1, &buckets},
        {"--ngram-dim", NULL, 1, &ngram_dim}, {"--word-max", NULL, 1, &word_max}, {"--char-min", NULL, 1, &char_min},
        {"--char-max", NULL, 1, &char_max}, {"--ngram-lr", NULL, 1, &ngram_lr}, {"--cls-lr", NULL, 1, &cls_lr},
        {"--no-transformer", NULL, 0, &no_tr}, {"--mlm-epochs", NULL, 1, &mlm_epochs}, {"--mlm-mask", NULL, 1, &mlm_mask},
        {"--mlm-text", NULL, 1, &mlm_text},
        {"--max-len", NULL, 1, &max_len}, {"--seed", NULL, 1, &seed}, {"--threads", "-t", 1, &threads},
        {"--kernels", NULL, 1, &kernels},
    };
    int n = cli_parse(argc, argv, 2, opts, N_OPTS(opts), pos, 0);
    if (n < 0) return EXIT_USAGE;
    if (helpf) return fputs(usage_text, stdout), 0;
    if (!train || !dev || !out) return fputs(usage_text, stderr), EXIT_USAGE;

    tr_classifier_params p = tr_classifier_default_params();
    p.train_path = train, p.dev_path = dev, p.out_path = out, p.vocab_path = vocab, p.oos_path = oos, p.kernels = kernels;
    if (preset) p.preset = preset;
    int iv;
    float fv;
#define INT(s, what, lo, hi, dst) if (s) { if (cli_int(s, what, lo, hi, &iv)) return EXIT_USAGE; dst = iv; }
#define FLT(s, what, lo, hi, dst) if (s) { if (cli_float(s, what, lo, hi, &fv)) return EXIT_USAGE; dst = fv; }
    INT(epochs, "--epochs", 1, 100000, p.epochs);
    INT(batch, "--batch", 1, 4096, p.batch);
    INT(warmup, "--warmup", 0, 100000000, p.optim.warmup);
    INT(buckets, "--ngram-buckets", 0, 1 << 24, p.ngram.buckets);
    INT(ngram_dim, "--ngram-dim", 1, 4096, p.ngram_dim);
    INT(word_max, "--word-max", 0, 8, p.ngram.word_max);
    INT(char_min, "--char-min", 1, 16, p.ngram.char_min);
    INT(char_max, "--char-max", 0, 16, p.ngram.char_max);
    INT(max_len, "--max-len", 1, 1 << 20, p.max_len);
    INT(threads, "--threads", 1, 256, p.threads);
    INT(mlm_epochs, "--mlm-epochs", 0, 100000, p.mlm_epochs);
    FLT(mlm_mask, "--mlm-mask", 0.01, 0.9, p.mlm_mask);
    FLT(lr, "--lr", 0.0, 10.0, p.optim.lr);
    FLT(min_lr, "--min-lr", 0.0, 10.0, p.optim.min_lr);
    FLT(wd, "--wd", 0.0, 10.0, p.optim.weight_decay);
    FLT(clip, "--clip", 0.0, 1e9, p.optim.clip);
    FLT(dropout, "--dropout", 0.0, 0.95, p.opts.drop_resid);
    FLT(dropout, "--dropout", 0.0, 0.95, p.opts.drop_embd);
    FLT(feat_dropout, "--feat-dropout", 0.0, 0.95, p.opts.drop_feat);
    FLT(smooth, "--label-smoothing", 0.0, 0.99, p.opts.label_smoothing);
    FLT(aux, "--aux", 0.0, 100.0, p.opts.aux_weight);
    FLT(ngram_lr, "--ngram-lr", 0.0, 1000.0, p.optim.lr_mult[1]);
    FLT(cls_lr, "--cls-lr", 0.0, 1000.0, p.optim.lr_mult[2]);
#undef INT
#undef FLT
    if (seed && cli_u64(seed, "--seed", &p.seed)) return EXIT_USAGE;
    if (schedule) {
        if (!strcmp(schedule, "cosine")) p.optim.schedule = TR_COSINE;
        else if (!strcmp(schedule, "wsd")) p.optim.schedule = TR_WSD;
        else return cli_usage_error("--schedule: '%s' is not cosine or wsd", schedule);
    }
    if (p.ngram.char_max && p.ngram.char_min > p.ngram.char_max)
        return cli_usage_error("--char-min %d is above --char-max %d", p.ngram.char_min, p.ngram.char_max);
    if (p.ngram.buckets && !p.ngram.word_max && !p.ngram.char_max)
        return cli_usage_error("the n-gram branch needs word (--word-max) or character (--char-max) n-grams");
    if (mlm_text && !p.mlm_epochs) return cli_usage_error("--mlm-text needs --mlm-epochs");
    p.mlm_text_path = mlm_text;
    if (no_tr) p.transformer = 0;
    if (no_tr && !p.ngram.buckets) return cli_usage_error("--no-transformer needs the n-gram branch");

    log_state ls = {isatty(fileno(stderr)), -1e30};
    p.log = log_line;
    p.user = &ls;
    p.interrupted = (volatile int *)&cli_interrupted;
    cli_catch_sigint();
    tr_classifier_result r;
    slm_error err;
    slm_status st = tr_train_classifier(&p, &r, &err);
    if (st) return cli_fail(&err);
    fprintf(stderr, "best dev accuracy %.2f%% (epoch %d of %d), temperature %.3f, %.0f s: %s\n", 100.0 * r.best_dev_acc,
            r.best_epoch, r.epochs_run, r.temperature, r.seconds, out);
    if (oos)
        fprintf(stderr, "out-of-scope: threshold %.2f on the max probability: recall %.2f%%, in-scope accuracy %.2f%%\n",
                r.oos_threshold, 100.0 * r.oos_recall, 100.0 * r.oos_inscope_acc);
    return r.interrupted ? EXIT_INTERRUPTED : 0;
}
