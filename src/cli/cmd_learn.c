// slm learn: teach an encoder labelled texts on the device (slm_learn).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../weights-tools/train.h"
#include "cli.h"

static const char *help =
    "usage: slm learn -m MODEL --state STATE.gguf [options] FILE.tsv\n"
    "  teaches the encoder the labelled texts of FILE.tsv (text<TAB>label; a label the model does\n"
    "  not know becomes a new class) without forgetting: replayed past examples are mixed in, EWC\n"
    "  holds important weights, and the update is checked on held-out examples. An update that\n"
    "  hurts them, or does not learn the texts, is refused and nothing changes. STATE holds what was\n"
    "  learnt: read if it exists, written (atomically) after each accepted update. The model file\n"
    "  is never changed; `slm classify --state STATE.gguf` classifies with what was learnt.\n"
    "  --each                 one update per label, in the order labels first appear in the file\n"
    "  --epochs N             passes over the texts (10)\n"
    "  --lr X                 learning rate (0.01)\n"
    "  --ewc X                EWC strength, 0 = off (100)\n"
    "  --no-replay            no replayed examples (plain fine-tuning, with --ewc 0)\n"
    "  --replay-ratio N       replayed examples per new one (4; at least 128 a pass)\n"
    "  --max-drop X           held-out accuracy may drop at most X (0.01)\n"
    "  --max-class-drop X     ... and any class's at most X (0.3)\n"
    "  --min-fit X            share of the texts the update must get right (0.75)\n"
    "  --no-guard             accept every update (to measure what a method does; not for users)\n"
    "  --seed N               (1)\n"
    "  -t, --threads N        encoder threads (1)   --kernels NAME\n";

// Every example with label `label` (all if NULL) learnt in one update.
static int learn_one(slm_learner *l, const tr_tsv *t, const char *label, const char *state, int *accepted) {
    const char **texts = malloc((size_t)t->n * sizeof *texts), **labels = malloc((size_t)t->n * sizeof *labels);
    int n = 0, rc = 0;
    if (!texts || !labels) rc = cli_usage_error("out of memory");
    for (int i = 0; !rc && i < t->n; i++)
        if (!label || !strcmp(t->label[i], label)) texts[n] = t->text[i], labels[n++] = t->label[i];
    slm_learn_result r;
    slm_error err;
    if (!rc && slm_learn(l, texts, labels, n, &r, &err)) rc = cli_fail(&err);
    if (!rc) {
        char held[96] = "no held-out examples";
        if (r.dev_accuracy_before >= 0.0f)
            snprintf(held, sizeof held, "held-out %.2f%% -> %.2f%%", 100.0 * r.dev_accuracy_before, 100.0 * r.dev_accuracy_after);
        printf("%s %d text%s%s%s: %s, texts %.0f%% -> %.0f%%", r.accepted ? "learnt" : "refused", n, n == 1 ? "" : "s",
               label ? " of " : "", label ? label : "", held, 100.0 * r.fit_before, 100.0 * r.fit_after);
        if (r.accepted) printf(", %d new class%s; replay %d, held-out %d\n", r.new_classes, r.new_classes == 1 ? "" : "es",
                               r.n_replay, r.n_guard);
        else printf("\n  %s\n", r.reason);
        *accepted += r.accepted;
        if (r.accepted && slm_learner_save(l, state, &err)) rc = cli_fail(&err);
    }
    free(texts), free(labels);
    return rc;
}

int cmd_learn(int argc, char **argv) {
    const char *model = NULL, *state = NULL, *each = NULL, *epochs = NULL, *lr = NULL, *ewc = NULL, *no_replay = NULL,
               *ratio = NULL, *max_drop = NULL, *max_class_drop = NULL, *min_fit = NULL, *no_guard = NULL, *seed = NULL, *threads = "1",
               *kernels = NULL, *helpf = NULL, *pos[1];
    const cli_opt opts[] = {
        {"--model", "-m", 1, &model}, {"--state", NULL, 1, &state}, {"--each", NULL, 0, &each},
        {"--epochs", NULL, 1, &epochs}, {"--lr", NULL, 1, &lr}, {"--ewc", NULL, 1, &ewc},
        {"--no-replay", NULL, 0, &no_replay}, {"--replay-ratio", NULL, 1, &ratio}, {"--max-drop", NULL, 1, &max_drop},
        {"--max-class-drop", NULL, 1, &max_class_drop}, {"--min-fit", NULL, 1, &min_fit}, {"--no-guard", NULL, 0, &no_guard}, {"--seed", NULL, 1, &seed},
        {"--threads", "-t", 1, &threads}, {"--kernels", NULL, 1, &kernels}, {"--help", "-h", 0, &helpf},
    };
    int n_pos = cli_parse(argc, argv, 2, opts, (int)(sizeof opts / sizeof opts[0]), pos, 1);
    if (n_pos < 0) return EXIT_USAGE;
    if (helpf || !model || !state || n_pos != 1) return printf("%s", help), helpf ? 0 : EXIT_USAGE;
    slm_learn_params p = slm_learn_default_params();
    int nt;
    if ((epochs && cli_int(epochs, "--epochs", 1, 10000, &p.epochs)) || (lr && cli_float(lr, "--lr", 1e-7, 10.0, &p.lr)) ||
        (ewc && cli_float(ewc, "--ewc", 0.0, 1e9, &p.ewc_lambda)) ||
        (ratio && cli_int(ratio, "--replay-ratio", 0, 1000, &p.replay_ratio)) ||
        (max_drop && cli_float(max_drop, "--max-drop", 0.0, 1.0, &p.max_drop)) ||
        (max_class_drop && cli_float(max_class_drop, "--max-class-drop", 0.0, 1.0, &p.max_class_drop)) ||
        (min_fit && cli_float(min_fit, "--min-fit", 0.0, 1.0, &p.min_fit)) || (seed && cli_u64(seed, "--seed", &p.seed)) ||
        cli_int(threads, "--threads", 1, 256, &nt))
        return EXIT_USAGE;
    if (no_replay) p.replay = 0;
    if (no_guard) p.max_drop = p.max_class_drop = 1.0f, p.min_fit = 0.0f;
    p.progress = cli_progress;

    tr_tsv t;
    slm_error err;
    if (tr_tsv_read(pos[0], &t, &err)) return cli_fail(&err);
    slm_model *m = NULL;
    slm_context *c = NULL;
    slm_learner *l = NULL;
    slm_context_params cp = slm_context_default_params();
    cp.n_threads = nt;
    cp.kernels = kernels;
    int rc = 0;
    if (slm_model_load_file(model, 0, &m, &err) || slm_context_new(m, &cp, &c, &err)) rc = cli_fail(&err);
    else if (access(state, F_OK) == 0 ? slm_learner_load(c, &p, state, &l, &err) : slm_learner_new(c, &p, NULL, 0, &l, &err))
        rc = cli_fail(&err);
    int accepted = 0, updates = 0;
    for (int i = 0; !rc && i < (each ? t.n : 1); i++) {
        int first = 1;   // --each: the first line of each label starts its update
        for (int k = 0; each && k < i && first; k++) first = strcmp(t.label[k], t.label[i]) != 0;
        if (!first) continue;
        rc = learn_one(l, &t, each ? t.label[i] : NULL, state, &accepted);
        updates++;
    }
    if (!rc && updates > 1) printf("%d of %d updates accepted\n", accepted, updates);
    slm_learner_free(l);
    slm_context_free(c);
    slm_model_free(m);
    tr_tsv_free(&t);
    return rc;
}
