// Shared bits of the `slm` command line: option parsing and error reporting.
#ifndef SLM_CLI_H
#define SLM_CLI_H

#include <signal.h>

#include "../slm.h"

// Exit codes: 0 success, 1 bad usage, 2 a file or data problem (or any
// library error), 130 interrupted by Ctrl-C.
enum { EXIT_USAGE = 1, EXIT_DATA = 2, EXIT_INTERRUPTED = 130 };

// Options: each command declares a table; values point into argv.
typedef struct {
    const char *name;       // "--temp"
    const char *alias;      // "-t" or NULL
    int takes_value;
    const char **value;     // where the value (or "1" for flags) goes
} cli_opt;

// Parses argv[first..] against opts; positional arguments go to pos (up to
// max_pos). Returns the positional count, or -1 after printing an error.
int cli_parse(int argc, char **argv, int first, const cli_opt *opts, int n_opts, const char **pos, int max_pos);

// Number parsing with range checks; print an error and return -1 if bad.
int cli_int(const char *s, const char *what, long lo, long hi, int *out);
int cli_float(const char *s, const char *what, double lo, double hi, float *out);
int cli_u64(const char *s, const char *what, uint64_t *out);

// Token ids from "1 2 3" (spaces, commas or tabs between): a malloc'd array
// in *out. 0, or -1 after printing a usage error.
int cli_parse_ids(const char *s, int32_t **out, int *n);
// The whole file, NUL-terminated (its length in *len), or NULL if unreadable.
char *cli_read_file(const char *path, size_t *len);
// The median of n values (sorts them in place); 0 for none.
double cli_median(double *v, int n);

int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_fail(const slm_error *err);          // prints "slm: error: ..." and returns EXIT_DATA
void cli_progress(void *user, const char *stage, double fraction);
void cli_note(void *user, const char *note);

// Ctrl-C sets this flag; long loops check it.
extern volatile sig_atomic_t cli_interrupted;
void cli_catch_sigint(void);

int cmd_generate(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_import_llama2c(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_perplexity(int argc, char **argv);
int cmd_logits(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_learn(int argc, char **argv);
int cmd_train_classifier(int argc, char **argv);
int cmd_train_tokenizer(int argc, char **argv);
int cmd_assist(int argc, char **argv);

#endif
