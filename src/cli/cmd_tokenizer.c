// slm train-tokenizer: a BPE vocabulary from text files.
#include <stdio.h>
#include <stdlib.h>

#include "../model.h"
#include "cli.h"

#define MAX_FILES 1024

static const char *help =
    "usage: slm train-tokenizer [--vocab 8192] -o TOK.gguf FILE...\n"
    "  SentencePiece-style BPE (byte fallback, <unk> <s> </s>) that `slm tokenize` and every model\n"
    "  read back, segmenting the training text exactly as the trainer did.\n"
    "  FILE.tsv: the text column (before the first tab) of each line; other files: every line.\n"
    "  --vocab N          tokens in all, the 3 special and 256 byte tokens included (default 8192)\n"
    "  --coverage P       share of the characters that get pieces; rarer ones go to bytes (default 0.9995)\n"
    "  --max-piece N      longest piece in characters (default 16)\n"
    "  -o, --output FILE  the vocabulary-only GGUF to write\n";

int cmd_train_tokenizer(int argc, char **argv) {
    const char *vocab = "8192", *coverage = "0.9995", *max_piece = "16", *out = NULL, *helpf = NULL, *files[MAX_FILES];
    const cli_opt opts[] = {{"--vocab", NULL, 1, &vocab}, {"--coverage", NULL, 1, &coverage}, {"--max-piece", NULL, 1, &max_piece},
                            {"--output", "-o", 1, &out}, {"--help", "-h", 0, &helpf}};
    int n = cli_parse(argc, argv, 2, opts, (int)(sizeof opts / sizeof opts[0]), files, MAX_FILES);
    if (n < 0) return EXIT_USAGE;
    if (helpf || n < 1 || !out) return printf("%s", help), helpf ? 0 : EXIT_USAGE;
    slm_tokenizer_train_params p = {.progress = cli_progress, .note = cli_note};
    float cov;
    if (cli_int(vocab, "--vocab", 1, 1 << 20, &p.vocab_size) || cli_float(coverage, "--coverage", 1e-6, 1.0, &cov) ||
        cli_int(max_piece, "--max-piece", 2, 64, &p.max_piece_chars))
        return EXIT_USAGE;
    p.char_coverage = cov;
    slm_error err;
    double t0 = slm_now_ms();
    if (slm_train_tokenizer(files, n, &p, out, &err)) return cli_fail(&err);
    fprintf(stderr, "wrote %s (%.1f s)\n", out, (slm_now_ms() - t0) / 1e3);
    return 0;
}
