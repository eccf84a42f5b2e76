/* Fuzz target: the command-line parser. The input is split at NUL bytes into arguments
 * after "fcnn"; parsing runs again and again in one process, as the tests call it, so
 * state left behind by one call (getopt's) shows up in the next. What a successful parse
 * returns must be a runnable set of options. */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "fuzz-input.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private NUL-terminated copy: arguments must be writable C strings. */
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char *args[MAX_ARGS + 2];
    int argc = 0;
    args[argc++] = "fcnn";
    for (size_t i = 0; i < size && argc <= MAX_ARGS;) {
        args[argc++] = text + i;
        i += strlen(text + i) + 1;
    }
    args[argc] = NULL;

    struct fcnn_options o;
    if (fcnn_cli_parse(argc, args, &o) == FCNN_CLI_RUN) {
        if (o.epochs < 1 || o.batch_size < 1 || o.eval_batch_size < 1 || !(o.lr > 0) ||
            !isfinite(o.lr) || o.train_limit < 0 || o.test_limit < 0 || o.early_stopping < 0 ||
            !memchr(o.kernels, '\0', sizeof o.kernels) || !o.out_dir)
            abort();
        if (o.eval_only && !o.load_path)
            abort();
    }
    free(text);
    return 0;
}
