/* Option parsing with getopt_long. Values are parsed strictly: "10x", "" and out-of-range
 * numbers are errors, never silently read as something else. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "cli/cli.h"
#include "cli/version.h"
#include "core/status.h"
#include "data/dataset.h"
#include "nn/model_desc.h"
#include "train/dist.h"

#define DEFAULT_EPOCHS 30
#define DEFAULT_BATCH 32
#define DEFAULT_EVAL_BATCH 250
#define DEFAULT_BENCH_EVAL_BATCH 1000
#define DEFAULT_LR 0.005
#define DEFAULT_SEED 42
#define DEFAULT_OUT "fcnn-out"

enum {
    OPT_BACKEND = 256, OPT_DEVICE, OPT_KERNEL, OPT_LIST_DEVICES, OPT_DATA, OPT_EPOCHS,
    OPT_BATCH, OPT_EVAL_BATCH, OPT_LR, OPT_OPTIMIZER, OPT_SEED, OPT_TRAIN_LIMIT,
    OPT_TEST_LIMIT, OPT_OUT, OPT_SAVE, OPT_LOAD, OPT_RESUME, OPT_EVAL, OPT_EARLY_STOPPING,
    OPT_QUIET, OPT_VERBOSE, OPT_BENCH, OPT_TUNE, OPT_PROFILE, OPT_HELP, OPT_VERSION,
    OPT_MODEL, OPT_LR_SCHEDULE, OPT_WEIGHT_DECAY, OPT_EXPORT_ONNX, OPT_EXPORT_WEIGHTS,
    OPT_LIST_KERNELS, OPT_DETERMINISTIC_REDUCE, OPT_OVERLAP_REDUCE,
};

static const struct option long_options[] = {
    { "backend", required_argument, NULL, OPT_BACKEND },
    { "device", required_argument, NULL, OPT_DEVICE },
    { "kernel", required_argument, NULL, OPT_KERNEL },
    { "list-devices", no_argument, NULL, OPT_LIST_DEVICES },
    { "data", required_argument, NULL, OPT_DATA },
    { "model", required_argument, NULL, OPT_MODEL },
    { "epochs", required_argument, NULL, OPT_EPOCHS },
    { "batch-size", required_argument, NULL, OPT_BATCH },
    { "eval-batch-size", required_argument, NULL, OPT_EVAL_BATCH },
    { "lr", required_argument, NULL, OPT_LR },
    { "optimizer", required_argument, NULL, OPT_OPTIMIZER },
    { "lr-schedule", required_argument, NULL, OPT_LR_SCHEDULE },
    { "weight-decay", required_argument, NULL, OPT_WEIGHT_DECAY },
    { "seed", required_argument, NULL, OPT_SEED },
    { "train-limit", required_argument, NULL, OPT_TRAIN_LIMIT },
    { "test-limit", required_argument, NULL, OPT_TEST_LIMIT },
    { "out", required_argument, NULL, OPT_OUT },
    { "save", required_argument, NULL, OPT_SAVE },
    { "load", required_argument, NULL, OPT_LOAD },
    { "resume", required_argument, NULL, OPT_RESUME },
    { "eval", no_argument, NULL, OPT_EVAL },
    { "early-stopping", required_argument, NULL, OPT_EARLY_STOPPING },
    { "quiet", no_argument, NULL, OPT_QUIET },
    { "verbose", no_argument, NULL, OPT_VERBOSE },
    { "bench", no_argument, NULL, OPT_BENCH },
    { "tune", no_argument, NULL, OPT_TUNE },
    { "profile", no_argument, NULL, OPT_PROFILE },
    { "list-kernels", no_argument, NULL, OPT_LIST_KERNELS },
    { "export-onnx", required_argument, NULL, OPT_EXPORT_ONNX },
    { "export-weights", required_argument, NULL, OPT_EXPORT_WEIGHTS },
    { "deterministic-reduce", no_argument, NULL, OPT_DETERMINISTIC_REDUCE },
    { "overlap-reduce", no_argument, NULL, OPT_OVERLAP_REDUCE },
    { "help", no_argument, NULL, OPT_HELP },
    { "version", no_argument, NULL, OPT_VERSION },
    FCNN_DATA_LONG_OPTIONS,
    { NULL, 0, NULL, 0 },
};

/* Prints `text` wrapped at spaces to lines of at most `width` columns, each indented. */
static void print_wrapped(const char *text, int indent, int width)
{
    int column = 0;
    while (*text) {
        int word = (int)strcspn(text, " ");
        if (column && column + 1 + word > width) {
            printf("\n");
            column = 0;
        }
        if (!column)
            column = printf("%*s", indent, "");
        else
            column += printf(" ");
        column += printf("%.*s", word, text);
        text += word;
        text += strspn(text, " ");
    }
    printf("\n");
}

static void print_help(void)
{
    printf("Usage: fcnn [OPTION]...\n"
           "       fcnn --load MODEL --predict FILE...\n"
           "Train a convolutional network on Fashion-MNIST, or on your own images, and\n"
           "report like Keras:\n"
           "Conv2D(32,3x3,same,ReLU) -> MaxPool 2 -> Conv2D(64,3x3,same,ReLU) -> MaxPool 2\n"
           "-> Flatten -> Dense(one unit per class) with softmax cross-entropy, or the model\n"
           "you describe.\n\n"
           "Model:\n"
           "  --model=SPEC|FILE.json the network to train (default: the reference model,\n"
           "                         whose spec is printed below);\n"
           "                         FILE.json: Keras 3's model.to_json() of a Sequential\n"
           "                         model. SPEC: layers separated by spaces, Keras's names\n"
           "                         and defaults (padding valid, strides 1 or the pool size):\n"
           "                           conv2d(FILTERS,KERNEL[,STRIDES][,ACTIVATION]\n"
           "                                  [,padding=valid|same][,use_bias=true|false])\n"
           "                           maxpool(POOL[,STRIDES][,padding=...])  avgpool(...)\n"
           "                           globalavgpool  flatten  dropout(RATE)\n"
           "                           dense(UNITS[,ACTIVATION][,use_bias=...])\n"
           "                           batchnorm[(momentum=0.99,epsilon=0.001)]\n"
           "                           activation(linear|relu|sigmoid|tanh|softmax)\n"
           "                         KERNEL, POOL, STRIDES: N or ROWSxCOLS; every argument\n"
           "                         may be given as NAME=VALUE (filters=, kernel_size=...).\n"
           "                         The last dense has one unit per class; softmax only last.\n"
           "                         A checkpoint (--load, --resume) brings its own model.\n"
           "                         The reference model as a spec:\n");
    print_wrapped(FCNN_REFERENCE_SPEC, 27, 80);
    printf("\n"
           "Backend and device:\n"
           "  --backend=NAME         run every op on NAME (this build: %s);\n"
           "                         default: opencl if built and a device is found, else ref\n"
           "  --device=P:D|NAME      OpenCL device by platform:device index or by part of its\n"
           "                         name (default: $FCNN_DEVICE, else the first GPU, else CPU);\n"
           "                         under mpirun a comma-separated list, one per process on a\n"
           "                         machine (default: local rank r takes the r-th GPU)\n"
           "  --list-devices         list the devices each backend can use, and exit\n"
           "  --kernel=OP=VARIANT    force a kernel variant of an op (repeatable; also\n"
           "                         $FCNN_KERNELS as OP=VARIANT,OP=VARIANT)\n"
           "  --list-kernels         list the variants --kernel can force, and exit\n\n"
           "Data:\n"
           "  --data=DIR             IDX files under their standard names (.gz or plain), or\n"
           "                         image folders DIR/train/<class>/ and DIR/test/<class>/\n"
           "                         (default: $FCNN_DATA, else %s)\n"
           "  --train-limit=N        train on the first N training images only (default: all)\n"
           "  --test-limit=N         validate on the first N test images only (default: all)\n",
           fcnn_backend_names(), FCNN_DEFAULT_DATA_DIR);
    fcnn_cli_data_help(stdout);
    printf("\nTraining:\n"
           "  --epochs=N             epochs to train (default: %d)\n"
           "  --batch-size=N         samples per training step (default: %d)\n"
           "  --eval-batch-size=N    samples per evaluation step (default: %d; %d with --bench)\n"
           "  --lr=X                 learning rate (default: %g)\n"
           "  --optimizer=NAME       adam, sgd, momentum (0.9), rmsprop (rho 0.9) or adamw,\n"
           "                         with Keras's defaults (default: adam)\n"
           "  --weight-decay=X       adamw's decoupled weight decay (default: %g)\n"
           "  --lr-schedule=S        the learning rate per epoch: constant, step:EPOCHS:FACTOR\n"
           "                         (times FACTOR every EPOCHS epochs) or cosine (Keras's\n"
           "                         CosineDecay over the run's epochs, towards 0)\n"
           "                         (default: constant)\n"
           "  --seed=N               seed of the one random generator (default: %d)\n"
           "  --early-stopping=N     stop when val_loss has not improved for N epochs and\n"
           "                         restore the best weights (default: off)\n\n"
           "Output:\n"
           "  --out=DIR              history.csv, plots and the model go here (default: %s)\n"
           "  --save=FILE            the checkpoint written after every epoch\n"
           "                         (default: DIR/model.safetensors)\n"
           "  --load=FILE            start from the weights in FILE\n"
           "  --eval                 with --load: evaluate on the test set, do not train\n"
           "  --resume=FILE          continue an interrupted run from its checkpoint, with its\n"
           "                         settings (--epochs may extend it)\n"
           "  --quiet                print only the final results\n"
           "  --verbose              say more about the device, kernel builds and start-up\n\n"
           "Export (with --load FILE: convert it and exit; otherwise: after training):\n"
           "  --export-onnx=FILE     the model as ONNX (opset 13): input 'input' float32\n"
           "                         [N,H,W,C] of raw pixel values 0..255 (the graph scales\n"
           "                         them by 1/255 itself), output 'output' [N,classes] of\n"
           "                         logits, or probabilities when the model ends in softmax\n"
           "  --export-weights=FILE  the weights alone as safetensors, with the architecture\n"
           "                         and input scaling in its metadata: --load reads it for\n"
           "                         --eval, --resume does not\n\n"
           "Speed:\n"
           "  --bench                benchmark instead of training: training and inference\n"
           "                         images/s and each op's time, for --backend or for every\n"
           "                         backend of this build\n"
           "  --tune                 time every kernel variant on this device again, store the\n"
           "                         fastest, print the table, and exit\n"
           "  --profile              print each op's share of the device time at the end\n"
           "                         (and, under mpirun, where the gradient exchange's time goes)\n"
           "  --help                 show this help and exit\n"
           "  --version              show the version and exit\n\n"
           "Several processes (mpirun -np N fcnn ...: --batch-size stays the global batch):\n"
           "%s"
           "  --deterministic-reduce sum the gradients in a fixed order, so reruns on the same\n"
           "                         number of processes are bit-identical\n"
           "  --overlap-reduce       send each layer's gradients while the backward pass of the\n"
           "                         layers before it still runs\n\n"
           "Exit status: 0 success, 1 runtime failure, 2 bad command line.\n",
           DEFAULT_EPOCHS, DEFAULT_BATCH,
           DEFAULT_EVAL_BATCH, DEFAULT_BENCH_EVAL_BATCH, DEFAULT_LR, FCNN_DEFAULT_WEIGHT_DECAY,
           DEFAULT_SEED, DEFAULT_OUT,
           fcnn_dist_available() ? "" : "  (this build has no MPI: install libopenmpi-dev and rebuild)\n");
}

__attribute__((format(printf, 1, 2)))
static enum fcnn_cli_result usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fcnn: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'fcnn --help' for more information.\n");
    va_end(ap);
    return FCNN_CLI_USAGE;
}

/* A whole-string integer in [min, max]. */
static bool parse_int(const char *text, long long min, long long max, long long *value)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max)
        return false;
    *value = v;
    return true;
}

static bool parse_positive(const char *option, const char *text, int *out,
                           enum fcnn_cli_result *result)
{
    long long v;
    if (!parse_int(text, 1, 1000000000, &v)) {
        *result = usage("--%s must be a positive integer, not '%s'", option, text);
        return false;
    }
    *out = (int)v;
    return true;
}

static bool append_kernel(struct fcnn_options *o, const char *spec)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1])
        return false;
    size_t used = strlen(o->kernels);
    int n = snprintf(o->kernels + used, sizeof o->kernels - used, "%s%s", used ? "," : "", spec);
    return n > 0 && (size_t)n < sizeof o->kernels - used;
}

enum fcnn_cli_result fcnn_cli_parse(int argc, char **argv, struct fcnn_options *o)
{
    *o = (struct fcnn_options){
        .epochs = DEFAULT_EPOCHS, .batch_size = DEFAULT_BATCH,
        .eval_batch_size = 0, .lr = DEFAULT_LR, .optimizer = FCNN_OPT_ADAM,
        .seed = DEFAULT_SEED, .out_dir = DEFAULT_OUT,
        .weight_decay = FCNN_DEFAULT_WEIGHT_DECAY,
    };
    fcnn_cli_data_defaults(&o->data);
    enum fcnn_cli_result result = FCNN_CLI_RUN;
    long long v;
    char *end;
    int opt;

    opterr = 0; /* we print our own one-line messages */
    /* 0, not 1: glibc then forgets its place inside a cluster of short options ("-xy"),
     * which would point into the arguments of an earlier call. */
    optind = 0;
    while ((opt = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
        const char *arg = optarg;
        switch (opt) {
        case OPT_BACKEND: o->backend = arg; break;
        case OPT_DEVICE:
            if (!*arg)
                return usage("--device needs a value (P:D or part of a device name)");
            o->device = arg;
            break;
        case OPT_KERNEL:
            if (!append_kernel(o, arg))
                return usage("--kernel takes OP=VARIANT, not '%s'", arg);
            break;
        case OPT_LIST_DEVICES: o->list_devices = true; break;
        case OPT_DATA:
            if (!*arg)
                return usage("--data needs a directory name, not ''");
            o->data_dir = arg;
            break;
        case OPT_MODEL:
            if (!*arg)
                return usage("--model needs a model spec or a Keras JSON file, not ''");
            o->model = arg;
            break;
        case OPT_EPOCHS:
            if (!parse_positive("epochs", arg, &o->epochs, &result))
                return result;
            o->epochs_given = true;
            break;
        case OPT_BATCH:
            if (!parse_positive("batch-size", arg, &o->batch_size, &result))
                return result;
            o->given.batch_size = true;
            break;
        case OPT_EVAL_BATCH:
            if (!parse_positive("eval-batch-size", arg, &o->eval_batch_size, &result))
                return result;
            break;
        case OPT_TRAIN_LIMIT:
            if (!parse_positive("train-limit", arg, &o->train_limit, &result))
                return result;
            o->given.train_limit = true;
            break;
        case OPT_TEST_LIMIT:
            if (!parse_positive("test-limit", arg, &o->test_limit, &result))
                return result;
            o->given.test_limit = true;
            break;
        case OPT_EARLY_STOPPING:
            if (!parse_positive("early-stopping", arg, &o->early_stopping, &result))
                return result;
            o->given.early_stopping = true;
            break;
        case OPT_LR:
            errno = 0;
            o->lr = strtod(arg, &end);
            if (errno || end == arg || *end || !isfinite(o->lr) || o->lr <= 0)
                return usage("--lr must be a positive number, not '%s'", arg);
            o->given.lr = true;
            break;
        case OPT_OPTIMIZER: {
            int kind = fcnn_optimizer_parse(arg);
            if (kind < 0)
                return usage("--optimizer must be adam, sgd, momentum, rmsprop or adamw, not "
                             "'%s'", arg);
            o->optimizer = (enum fcnn_optimizer_kind)kind;
            o->given.optimizer = true;
            break;
        }
        case OPT_WEIGHT_DECAY:
            errno = 0;
            o->weight_decay = strtod(arg, &end);
            if (errno || end == arg || *end || !isfinite(o->weight_decay) ||
                o->weight_decay < 0 || o->weight_decay >= 1)
                return usage("--weight-decay must be a number in [0, 1), not '%s'", arg);
            o->weight_decay_given = true;
            break;
        case OPT_LR_SCHEDULE:
            if (fcnn_lr_schedule_parse(arg, &o->lr_schedule) != FCNN_OK)
                return usage("--lr-schedule: %s", fcnn_last_error());
            o->given.lr_schedule = true;
            break;
        case OPT_SEED:
            if (!parse_int(arg, 0, INT64_MAX, &v))
                return usage("--seed must be a non-negative integer, not '%s'", arg);
            o->seed = (uint64_t)v;
            o->given.seed = true;
            break;
        case OPT_OUT:
        case OPT_SAVE:
        case OPT_LOAD:
        case OPT_RESUME: {
            const char *name = opt == OPT_OUT ? "out" : opt == OPT_SAVE ? "save"
                               : opt == OPT_LOAD ? "load" : "resume";
            if (!*arg)
                return usage("--%s needs a %s name, not ''", name,
                             opt == OPT_OUT ? "directory" : "file");
            *(opt == OPT_OUT ? &o->out_dir : opt == OPT_SAVE ? &o->save_path
              : opt == OPT_LOAD ? &o->load_path : &o->resume_path) = arg;
            break;
        }
        case OPT_EVAL: o->eval_only = true; break;
        case OPT_QUIET: o->quiet = true; break;
        case OPT_VERBOSE: o->verbose = true; break;
        case OPT_BENCH: o->bench = true; break;
        case OPT_TUNE: o->tune = true; break;
        case OPT_PROFILE: o->profile = true; break;
        case OPT_DETERMINISTIC_REDUCE: o->deterministic_reduce = true; break;
        case OPT_OVERLAP_REDUCE: o->overlap_reduce = true; break;
        case OPT_HELP: print_help(); return FCNN_CLI_EXIT_OK;
        case OPT_LIST_KERNELS: o->list_kernels = true; break;
        case OPT_EXPORT_ONNX: o->export_onnx = arg; break;
        case OPT_EXPORT_WEIGHTS: o->export_weights = arg; break;
        case OPT_VERSION: fcnn_print_version(stdout); return FCNN_CLI_EXIT_OK;
        case ':':
            return usage("option '%s' needs a value", argv[optind - 1]);
        default:
            if (opt >= FCNN_OPT_DATA_FIRST && opt < FCNN_OPT_DATA_LAST) {
                if (!fcnn_cli_data_option(opt, arg, &o->data))
                    return FCNN_CLI_USAGE;
                break;
            }
            if (optopt) /* a short option, perhaps inside a cluster: name that letter */
                return usage("unknown option '-%c'", optopt);
            return usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (!fcnn_cli_data_finish(&o->data, argc, argv, optind, o->load_path != NULL,
                              o->bench || o->tune || o->eval_only || o->resume_path))
        return FCNN_CLI_USAGE;
    if (o->backend && !fcnn_backend_exists(o->backend))
        return usage("unknown backend '%s' (this build has: %s)", o->backend, fcnn_backend_names());
    if (!o->eval_batch_size)
        o->eval_batch_size = o->bench ? DEFAULT_BENCH_EVAL_BATCH : DEFAULT_EVAL_BATCH;
    if (o->bench + o->tune + o->eval_only + (o->resume_path != NULL) > 1)
        return usage("--bench, --tune, --eval and --resume are separate modes: give one");
    if (o->weight_decay_given && o->optimizer != FCNN_OPT_ADAMW)
        return usage("--weight-decay applies to --optimizer=adamw");
    if (o->eval_only && !o->load_path)
        return usage("--eval needs --load FILE");
    if (o->resume_path && (o->load_path || o->eval_only))
        return usage("--resume cannot be combined with --load or --eval");
    if (o->backend && strcmp(o->backend, "opencl") != 0 && (o->device || o->kernels[0]))
        return usage("%s applies to the opencl backend, not to --backend=%s",
                     o->device ? "--device" : "--kernel", o->backend);
    if (o->eval_only) {
        /* Options that only shape training would be silently ignored by an evaluation. */
        const char *ignored = o->epochs_given ? "--epochs"
                              : o->given.batch_size ? "--batch-size"
                              : o->given.lr ? "--lr"
                              : o->given.lr_schedule ? "--lr-schedule"
                              : o->weight_decay_given ? "--weight-decay"
                              : o->given.optimizer ? "--optimizer"
                              : o->given.seed ? "--seed"
                              : o->given.train_limit ? "--train-limit"
                              : o->given.early_stopping ? "--early-stopping"
                              : o->save_path ? "--save" : NULL;
        if (ignored)
            return usage("--eval does not train: %s would have no effect", ignored);
    }
    if ((o->export_onnx || o->export_weights) && (o->bench || o->tune || o->eval_only))
        return usage("--export-onnx and --export-weights work with --load FILE or after "
                     "training, not with --bench, --tune or --eval");
    if (o->export_onnx && o->export_weights && !strcmp(o->export_onnx, o->export_weights))
        return usage("--export-onnx and --export-weights name the same file '%s'",
                     o->export_onnx);
    o->export_only = (o->export_onnx || o->export_weights) && o->load_path;
    return FCNN_CLI_RUN;
}
