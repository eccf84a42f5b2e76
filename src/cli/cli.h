/* fcnn's command line: every option, its default, and strict parsing of values. */
#ifndef FCNN_CLI_H
#define FCNN_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "nn/optimizer.h"

struct fcnn_options {
    const char *backend;   /* NULL: opencl when built and a device is found, else ref */
    const char *device;    /* opencl device: "P:D" or part of a name; NULL: $FCNN_DEVICE */
    char kernels[1024];    /* --kernel OP=VARIANT, comma-joined; "" none */
    bool list_devices;
    const char *data_dir;  /* NULL: $FCNN_DATA, else the Debian package's directory */
    const char *model;     /* --model SPEC or FILE.json; NULL: the reference model (or the
                              checkpoint's) */
    int epochs;
    bool epochs_given;     /* --epochs was on the command line (a resumed run keeps its own) */
    int batch_size;
    int eval_batch_size;   /* 0: 250, or 1000 with --bench */
    double lr;
    enum fcnn_optimizer_kind optimizer;
    struct fcnn_lr_schedule lr_schedule;
    double weight_decay;   /* adamw's decoupled weight decay */
    bool weight_decay_given;
    uint64_t seed;
    int train_limit, test_limit; /* 0: all */
    const char *out_dir;
    const char *save_path;       /* NULL: <out>/model.safetensors */
    const char *load_path;
    const char *resume_path;
    bool eval_only;
    int early_stopping;          /* patience; 0: off */
    bool quiet;
    bool verbose;
    bool bench;                  /* benchmark instead of training */
    bool tune;                   /* time kernel variants again, print the choices, exit */
    bool profile;                /* print each op's share of the device time at the end */
    /* Several processes (under mpirun). */
    bool deterministic_reduce;   /* sum gradients in a fixed order: bit-identical reruns */
    bool overlap_reduce;         /* send each layer's gradients while earlier layers run */
};

enum fcnn_cli_result {
    FCNN_CLI_RUN,      /* options parsed: go on */
    FCNN_CLI_EXIT_OK,  /* --help or --version was printed */
    FCNN_CLI_USAGE,    /* a bad option or value: one line was printed to stderr */
};

/* Parses argv into *o (defaults first). */
enum fcnn_cli_result fcnn_cli_parse(int argc, char **argv, struct fcnn_options *o);

#endif
