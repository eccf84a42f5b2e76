/* Fuzz target: the command-line parser. The input is split at NUL bytes into arguments
 * after "fcnn"; parsing runs again and again in one process, as the tests call it, so
 * state left behind by one call (getopt's) shows up in the next: each input is parsed
 * twice, and a good command line after it. What a successful parse returns must be a
 * runnable set of options. */
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

    struct fcnn_options o, again;
    enum fcnn_cli_result result = fcnn_cli_parse(argc, args, &o);
    /* The same command line parsed again must give the same answer: the first parse ran
     * after the previous input's, the second after its own, so any state one call leaves
     * for the next (getopt's position inside a cluster of short options) shows here. */
    if (fcnn_cli_parse(argc, args, &again) != result)
        abort();
    if (result == FCNN_CLI_RUN &&
        (o.epochs != again.epochs || o.batch_size != again.batch_size || o.lr != again.lr ||
         o.seed != again.seed || o.backend != again.backend || o.load_path != again.load_path ||
         strcmp(o.kernels, again.kernels) != 0 || o.quiet != again.quiet))
        abort();
    if (result == FCNN_CLI_RUN) {
        if (o.epochs < 1 || o.batch_size < 1 || o.eval_batch_size < 1 || !(o.lr > 0) ||
            !isfinite(o.lr) || o.train_limit < 0 || o.test_limit < 0 || o.early_stopping < 0 ||
            !memchr(o.kernels, '\0', sizeof o.kernels) || !o.out_dir)
            abort();
        if (o.eval_only && !o.load_path)
            abort();
    }
    free(text);

    /* Whatever this input did, a plain good command line must parse as usual afterwards:
     * state left behind by one call (getopt's place inside a cluster of short options,
     * pointing into freed arguments) would make it fail. */
    char *good[] = { "fcnn", "--epochs=2", NULL };
    if (fcnn_cli_parse(2, good, &o) != FCNN_CLI_RUN || o.epochs != 2)
        abort();
    return 0;
}
