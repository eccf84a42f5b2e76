/* Checkpoints on top of the generic safetensors module: which tensors and metadata an fcnn
 * checkpoint holds, and the checks that a file fits the model before anything is used. */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "core/quote.h"
#include "io/weights.h"
#include "core/status.h"
#include "nn/model_desc.h"
#include "data/dataset.h"

#define NAME_SIZE 160

struct fcnn_checkpoint {
    char path[4096];
    const struct fcnn_model *model;
    struct fcnn_st_file file;
    char architecture[FCNN_SPEC_SIZE];
    struct fcnn_run_settings settings;
    int epoch;
    long long iterations;
    struct fcnn_rng rng;
    json_t *history;        /* array of epoch objects */
    int wait;               /* early stopping, as saved */
    double best_val_loss;
    bool has_best;          /* "best/..." tensors are present */
    int slot_count;         /* optimizer tensors per parameter present: 0 or the kind's */
    bool weights_only;      /* written by --export-weights: parameters and nothing else */
};

bool fcnn_checkpoints_available(void)
{
    return true;
}

/* --- names --- */

static const char *slot_name(enum fcnn_optimizer_kind kind, int slot)
{
    return fcnn_optimizer_slot_name_of(kind, slot);
}

static int slots_of(enum fcnn_optimizer_kind kind)
{
    return fcnn_optimizer_slots_of(kind);
}

static void slot_tensor_name(char *out, enum fcnn_optimizer_kind kind, int slot,
                             const struct fcnn_param *p)
{
    snprintf(out, NAME_SIZE, "optimizer/%s/%s", slot_name(kind, slot), p->name);
}

static void best_tensor_name(char *out, const struct fcnn_param *p)
{
    snprintf(out, NAME_SIZE, "best/%s", p->name);
}

/* --- saving --- */

static json_t *history_json(const struct fcnn_trainer *t)
{
    json_t *rows = json_array();
    for (int i = 0; i < t->epoch && rows; i++) {
        const struct fcnn_epoch_stats *s = &t->history[i];
        /* json_array_append_new takes the value even when it fails (or is NULL): a failed
         * append drops the whole array, and the caller reports out of memory. */
        int failed = json_array_append_new(rows, json_pack("{s:i, s:i, s:f, s:f, s:f, s:f, s:f, s:f}",
                                              "epoch", s->epoch, "steps", s->steps, "loss", s->loss,
                                              "accuracy", s->accuracy, "val_loss", s->val_loss,
                                              "val_accuracy", s->val_accuracy, "seconds",
                                              s->seconds, "lr", s->lr));
        if (failed) {
            json_decref(rows);
            rows = NULL;
        }
    }
    return rows;
}

/* JSON text of `value` (consumed), for a string-valued metadata entry. */
static char *json_text(json_t *value)
{
    char *text = value ? json_dumps(value, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(value);
    return text;
}

/* The run's settings. Those added since the first format (augmentation, the validation
 * split) are recorded only when on, so that a run without them writes what older fcnn
 * wrote, and a file without them reads as a run without them. */
static json_t *hyperparameters_json(const struct fcnn_optimizer *opt,
                                    const struct fcnn_run_settings *settings)
{
    char schedule[64], augment[64];
    fcnn_lr_schedule_text(&settings->lr_schedule, schedule, sizeof schedule);
    fcnn_augment_text(&settings->augment, augment, sizeof augment);
    json_t *hyper = json_pack(
        "{s:s, s:f, s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:i, s:i, s:i, s:i}", "optimizer",
        fcnn_optimizer_name(opt->kind), "lr", settings->lr, "lr_schedule", schedule, "momentum",
        opt->momentum, "beta_1", opt->beta1, "beta_2", opt->beta2, "epsilon", opt->epsilon,
        "rho", opt->rho, "weight_decay", settings->weight_decay, "batch_size",
        settings->batch_size, "epochs", settings->epochs, "train_limit", settings->train_limit,
        "test_limit", settings->test_limit);
    int failed = 0;
    if (hyper && *augment)
        failed |= json_object_set_new(hyper, "augment", json_string(augment));
    if (hyper && settings->validation_split > 0)
        failed |= json_object_set_new(hyper, "validation_split",
                                      json_real(settings->validation_split));
    if (failed) {
        json_decref(hyper);
        return NULL;
    }
    return hyper;
}

int fcnn_checkpoint_save(const char *path, const struct fcnn_trainer *t,
                         const struct fcnn_run_settings *settings)
{
    const struct fcnn_model *model = t->net->model;
    const struct fcnn_optimizer *opt = t->opt;
    size_t arena = model->param_floats;
    bool save_best = t->patience > 0 && t->best_params && t->best_val_loss < INFINITY;
    int per_param = 1 + opt->slot_count + (save_best ? 1 : 0);
    /* Non-trainable state (BatchNormalization's moving statistics): itself, and its best
     * copy with early stopping; no optimizer slots. */
    int per_state = 1 + (save_best ? 1 : 0);
    int count = model->param_count * per_param + model->state_count * per_state;

    float *host = malloc(sizeof(float) * arena * (size_t)(1 + opt->slot_count));
    float *state = malloc(sizeof(float) * (model->state_floats ? model->state_floats : 1));
    struct fcnn_st_tensor *tensors = calloc((size_t)count, sizeof *tensors);
    char (*names)[NAME_SIZE] = calloc((size_t)count, NAME_SIZE);
    char *history = json_text(history_json(t));
    char *input_json = settings->input ? fcnn_checkpoint_input_json(settings->input) : NULL;
    char *hyper = json_text(hyperparameters_json(opt, settings));
    char *early = json_text(json_pack("{s:i, s:i, s:f}", "patience", t->patience, "wait",
                                      t->wait, "best_val_loss",
                                      t->best_val_loss < INFINITY ? t->best_val_loss : -1.0));
    int status = FCNN_OK;
    if (!host || !state || !tensors || !names || !history || !hyper || !early ||
        (settings->input && !input_json))
        status = fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory writing the checkpoint",
                            fcnn_quote(path));

    /* Host copies: the parameter arena, then each optimizer slot's. */
    if (status == FCNN_OK)
        status = fcnn_network_get_params(t->net, host);
    if (status == FCNN_OK)
        status = fcnn_network_get_state(t->net, state);
    for (int s = 0; s < opt->slot_count && status == FCNN_OK; s++) {
        struct fcnn_tensor slot = fcnn_optimizer_slot(opt, s);
        status = fcnn_download(t->be, &slot, host + arena * (size_t)(1 + s));
    }

    int n = 0;
    for (int i = 0; i < model->param_count && status == FCNN_OK; i++) {
        const struct fcnn_param *p = &model->params[i];
        for (int k = 0; k < per_param; k++, n++) {
            const float *base = host;
            if (k == 0) {
                snprintf(names[n], NAME_SIZE, "%s", p->name);
            } else if (k <= opt->slot_count) {
                slot_tensor_name(names[n], opt->kind, k - 1, p);
                base = host + arena * (size_t)k;
            } else {
                best_tensor_name(names[n], p);
                base = t->best_params;
            }
            tensors[n] = (struct fcnn_st_tensor){ .name = names[n], .ndim = p->ndim,
                                                  .data = base + p->offset, .count = p->count };
            for (int d = 0; d < p->ndim; d++)
                tensors[n].shape[d] = p->shape[d];
        }
    }

    for (int i = 0; i < model->state_count && status == FCNN_OK; i++) {
        const struct fcnn_param *p = &model->states[i];
        for (int k = 0; k < per_state; k++, n++) {
            const float *base = state;
            if (k == 0) {
                snprintf(names[n], NAME_SIZE, "%s", p->name);
            } else {
                best_tensor_name(names[n], p);
                base = t->best_state;
            }
            tensors[n] = (struct fcnn_st_tensor){ .name = names[n], .ndim = p->ndim,
                                                  .data = base + p->offset, .count = p->count };
            for (int d = 0; d < p->ndim; d++)
                tensors[n].shape[d] = p->shape[d];
        }
    }

    char version[16], epoch[16], seed[32], iterations[32], rng[80], description[256];
    char input[64], classes[16];
    snprintf(version, sizeof version, "%d", FCNN_CHECKPOINT_FORMAT_VERSION);
    snprintf(epoch, sizeof epoch, "%d", t->epoch);
    snprintf(seed, sizeof seed, "%" PRIu64, settings->seed);
    snprintf(iterations, sizeof iterations, "%lld", opt->iterations);
    snprintf(rng, sizeof rng, "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64,
             t->rng->s[0], t->rng->s[1], t->rng->s[2], t->rng->s[3]);
    fcnn_model_describe(model, description, sizeof description);
    snprintf(input, sizeof input, "%d,%d,%d", model->input.dims[0], model->input.dims[1],
             model->input.dims[2]);
    snprintf(classes, sizeof classes, "%d", model->classes);
    if (status == FCNN_OK && !model->spec[0])
        status = fcnn_error(FCNN_ERR_INVALID, "%s: the model has no spec to store",
                            fcnn_quote(path));
    const struct fcnn_st_meta meta[] = {
        { "format", "fcnn" },
        { "format_version", version },
        { "fcnn_version", PACKAGE_VERSION },
        { "model", description },
        { "architecture", model->spec },
        { "input_shape", input },
        { "classes", classes },
        { "epoch", epoch },
        { "hyperparameters", hyper ? hyper : "" },
        { "seed", seed },
        { "rng_state", rng },
        { "iterations", iterations },
        { "early_stopping", early ? early : "" },
        { "history", history ? history : "" },
    };
    const struct fcnn_st_meta optional[] = { /* written when there are some */
        { "input", input_json },
        { "kernel_choices", settings->kernel_choices },
    };
    enum { REQUIRED = sizeof meta / sizeof meta[0] };
    struct fcnn_st_meta kept[REQUIRED + sizeof optional / sizeof optional[0]];
    memcpy(kept, meta, sizeof meta);
    int kept_count = REQUIRED;
    for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++)
        if (optional[i].value && *optional[i].value)
            kept[kept_count++] = optional[i];
    if (status == FCNN_OK)
        status = fcnn_st_write(path, tensors, count, kept, kept_count);
    free(host);
    free(state);
    free(tensors);
    free(names);
    free(history);
    free(input_json);
    free(hyper);
    free(early);
    return status;
}

/* --- reading --- */

__attribute__((format(printf, 2, 3)))
static int bad(const struct fcnn_checkpoint *ck, const char *fmt, ...)
{
    /* Room for every reason bad() is given: the names and values in it are escaped and at
     * most FCNN_QUOTE_MAX characters long, so the reason is never cut. */
    char what[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return fcnn_error(FCNN_ERR_INVALID, "%s: %s", fcnn_quote(ck->path), what);
}

static int meta_string(const struct fcnn_checkpoint *ck, const char *key, const char **value)
{
    *value = fcnn_st_meta_get(&ck->file, key);
    if (!*value)
        return bad(ck, "metadata has no '%s'", fcnn_escape(key));
    return FCNN_OK;
}

/* A whole-string integer metadata value in [min, max]. */
static int meta_integer(const struct fcnn_checkpoint *ck, const char *key, long long min,
                        long long max, long long *out)
{
    const char *text;
    int status = meta_string(ck, key, &text);
    if (status != FCNN_OK)
        return status;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max)
        return bad(ck, "metadata '%s' is '%s', not an integer in %lld..%lld", fcnn_escape(key), fcnn_escape(text), min, max);
    *out = v;
    return FCNN_OK;
}

/* A JSON-valued metadata entry of the given type; the caller releases it. */
static int meta_json(const struct fcnn_checkpoint *ck, const char *key, json_type type,
                     json_t **out)
{
    const char *text;
    int status = meta_string(ck, key, &text);
    if (status != FCNN_OK)
        return status;
    json_error_t error;
    *out = json_loads(text, 0, &error);
    if (!*out)
        return bad(ck, "metadata '%s' is not valid JSON: %s", fcnn_escape(key), error.text);
    if (json_typeof(*out) != type) {
        json_decref(*out);
        *out = NULL;
        return bad(ck, "metadata '%s' has the wrong JSON type", fcnn_escape(key));
    }
    return FCNN_OK;
}

static int parse_settings(struct fcnn_checkpoint *ck)
{
    json_t *hyper;
    int status = meta_json(ck, "hyperparameters", JSON_OBJECT, &hyper);
    if (status != FCNN_OK)
        return status;
    const char *optimizer = NULL, *schedule = "constant"; /* version 1 had no schedule */
    const char *augment = NULL; /* absent: a run without augmentation, or an older fcnn */
    double lr = 0, weight_decay = FCNN_DEFAULT_WEIGHT_DECAY, validation_split = 0;
    int batch = 0, epochs = 0, train_limit = 0, test_limit = 0; /* older files: all images */
    json_error_t error;
    if (json_unpack_ex(hyper, &error, 0,
                       "{s:s, s:F, s:i, s:i, s?:s, s?:F, s?:i, s?:i, s?:s, s?:F}",
                       "optimizer", &optimizer, "lr", &lr, "batch_size", &batch, "epochs",
                       &epochs, "lr_schedule", &schedule, "weight_decay", &weight_decay,
                       "train_limit", &train_limit, "test_limit", &test_limit, "augment",
                       &augment, "validation_split", &validation_split) != 0)
        status = bad(ck, "metadata 'hyperparameters': %s", error.text);
    struct fcnn_augment augmentation = { 0 };
    if (status == FCNN_OK && augment && fcnn_augment_parse(augment, &augmentation) != FCNN_OK)
        status = bad(ck, "metadata 'hyperparameters': augment '%s' is not an --augment "
                     "specification", fcnn_escape(augment));
    if (status == FCNN_OK && !(validation_split >= 0 && validation_split < 1))
        status = bad(ck, "metadata 'hyperparameters': validation_split %g is not a fraction "
                     "below 1", validation_split);
    struct fcnn_lr_schedule lr_schedule = { FCNN_LR_CONSTANT, 0, 1.0 };
    if (status == FCNN_OK && fcnn_lr_schedule_parse(schedule, &lr_schedule) != FCNN_OK)
        status = bad(ck, "metadata 'hyperparameters': unknown lr_schedule '%s'", fcnn_escape(schedule));
    int kind = status == FCNN_OK ? fcnn_optimizer_parse(optimizer) : 0;
    if (status == FCNN_OK && kind < 0)
        status = bad(ck, "unknown optimizer '%s'", fcnn_escape(optimizer));
    if (status == FCNN_OK && (!(lr > 0) || batch < 1 || epochs < 1 || train_limit < 0 ||
                              test_limit < 0))
        status = bad(ck, "hyperparameters out of range (lr %g, batch_size %d, epochs %d, "
                     "train_limit %d, test_limit %d)", lr, batch, epochs, train_limit, test_limit);
    if (status == FCNN_OK)
        ck->settings = (struct fcnn_run_settings){ .optimizer = (enum fcnn_optimizer_kind)kind,
                                                   .lr = lr, .batch_size = batch,
                                                   .epochs = epochs,
                                                   .lr_schedule = lr_schedule,
                                                   .weight_decay = weight_decay,
                                                   .train_limit = train_limit,
                                                   .test_limit = test_limit,
                                                   .augment = augmentation,
                                                   .validation_split = validation_split };
    json_decref(hyper);
    return status;
}

/* The model: its normalised spec, and the input and classes it was built for, which
 * must be those metadata 'input' records (Fashion-MNIST's when absent). Version 1 files
 * predate --model: they hold the reference model. */
static int parse_architecture(struct fcnn_checkpoint *ck, long long version)
{
    if (version == 1) {
        snprintf(ck->architecture, sizeof ck->architecture, "%s", FCNN_REFERENCE_SPEC);
        return FCNN_OK;
    }
    const char *text, *input, *classes;
    int status = meta_string(ck, "architecture", &text);
    if (status == FCNN_OK)
        status = meta_string(ck, "input_shape", &input);
    if (status == FCNN_OK)
        status = meta_string(ck, "classes", &classes);
    if (status != FCNN_OK)
        return status;
    if (strlen(text) >= sizeof ck->architecture)
        return bad(ck, "metadata 'architecture' is too long");
    /* The data the model was trained on: metadata 'input' (shape and class names) when
     * the run recorded it, else Fashion-MNIST. */
    char want[64];
    int rows = FCNN_IMAGE_ROWS, cols = FCNN_IMAGE_COLS, channels = 1, class_count = FCNN_CLASSES;
    const char *recorded = fcnn_st_meta_get(&ck->file, "input");
    if (recorded) {
        json_error_t error;
        json_t *value = json_loads(recorded, 0, &error), *names = NULL;
        if (!value || json_unpack(value, "{s:[iii], s:o}", "shape", &rows, &cols, &channels,
                                  "class_names", &names) || !json_is_array(names)) {
            json_decref(value);
            return bad(ck, "metadata 'input' is malformed");
        }
        class_count = (int)json_array_size(names);
        json_decref(value);
    }
    snprintf(want, sizeof want, "%d,%d,%d", rows, cols, channels);
    if (strcmp(input, want) != 0)
        return bad(ck, "the model takes inputs of %s, not %s", fcnn_escape(input), want);
    snprintf(want, sizeof want, "%d", class_count);
    if (strcmp(classes, want) != 0)
        return bad(ck, "the model has %s classes, not %s", fcnn_escape(classes), want);
    snprintf(ck->architecture, sizeof ck->architecture, "%s", text);
    return FCNN_OK;
}

static int parse_rng(struct fcnn_checkpoint *ck)
{
    const char *text;
    int status = meta_string(ck, "rng_state", &text);
    if (status != FCNN_OK)
        return status;
    if (strlen(text) != 64 || strspn(text, "0123456789abcdef") != 64)
        return bad(ck, "metadata 'rng_state' is not 64 hexadecimal digits");
    for (int i = 0; i < 4; i++) {
        char word[17];
        memcpy(word, text + 16 * i, 16);
        word[16] = '\0';
        ck->rng.s[i] = strtoull(word, NULL, 16);
    }
    return FCNN_OK;
}

/* The kernel variants the run chose (absent: an older fcnn, or a backend without
 * variants): "op TAB shape TAB variant" lines. The backend ignores a line it cannot place,
 * so only the form is checked here. */
static int parse_kernel_choices(struct fcnn_checkpoint *ck)
{
    const char *text = fcnn_st_meta_get(&ck->file, "kernel_choices");
    if (!text)
        return FCNN_OK;
    int line = 1;
    for (const char *p = text; *p; line++) {
        /* three fields of printable characters, none empty, between two tabs */
        size_t length = strcspn(p, "\n"), fields = 1, field_length = 0;
        bool good = true;
        for (size_t i = 0; i < length && good; i++) {
            if (p[i] == '\t') {
                good = field_length > 0;
                fields++;
                field_length = 0;
            } else {
                good = p[i] > ' ' && p[i] < 127;
                field_length++;
            }
        }
        if (!good || fields != 3 || field_length == 0)
            return bad(ck, "metadata 'kernel_choices' line %d is not 'op TAB shape TAB "
                       "variant'", line);
        p += length + (p[length] == '\n');
    }
    ck->settings.kernel_choices = text;
    return FCNN_OK;
}

static int parse_early_stopping(struct fcnn_checkpoint *ck)
{
    json_t *early;
    int status = meta_json(ck, "early_stopping", JSON_OBJECT, &early);
    if (status != FCNN_OK)
        return status;
    int patience;
    json_error_t error;
    if (json_unpack_ex(early, &error, 0, "{s:i, s:i, s:F}", "patience", &patience, "wait",
                       &ck->wait, "best_val_loss", &ck->best_val_loss) != 0)
        status = bad(ck, "metadata 'early_stopping': %s", error.text);
    else if (patience < 0)
        status = bad(ck, "metadata 'early_stopping': patience %d is negative", patience);
    else
        ck->settings.patience = patience;
    json_decref(early);
    return status;
}

/* Every tensor is a model parameter, an optimizer slot of the recorded optimizer, or a
 * best-weights copy; each has the shape of its parameter; nothing the model needs is
 * missing. */
static int check_tensors(struct fcnn_checkpoint *ck)
{
    const struct fcnn_model *model = ck->model;
    enum fcnn_optimizer_kind kind = ck->settings.optimizer;
    int slots = slots_of(kind), found_slots = 0, found_best = 0, found_best_state = 0;
    char name[NAME_SIZE];

    for (int t = 0; t < ck->file.count; t++) {
        const struct fcnn_st_tensor *tensor = &ck->file.tensors[t];
        const struct fcnn_param *match = NULL;
        for (int i = 0; i < model->param_count && !match; i++) {
            const struct fcnn_param *p = &model->params[i];
            if (strcmp(tensor->name, p->name) == 0)
                match = p;
            for (int s = 0; s < slots && !match; s++) {
                slot_tensor_name(name, kind, s, p);
                if (strcmp(tensor->name, name) == 0) {
                    match = p;
                    found_slots++;
                }
            }
            best_tensor_name(name, p);
            if (!match && strcmp(tensor->name, name) == 0) {
                match = p;
                found_best++;
            }
        }
        for (int i = 0; i < model->state_count && !match; i++) {
            const struct fcnn_param *p = &model->states[i];
            best_tensor_name(name, p);
            if (strcmp(tensor->name, p->name) == 0) {
                match = p;
            } else if (strcmp(tensor->name, name) == 0) {
                match = p;
                found_best_state++;
            }
        }
        if (!match)
            return bad(ck, "unexpected tensor '%s' (not part of this model and %s optimizer)",
                       fcnn_escape(tensor->name), fcnn_optimizer_name(kind));
        bool same = tensor->ndim == match->ndim;
        for (int d = 0; same && d < match->ndim; d++)
            same = tensor->shape[d] == match->shape[d];
        if (!same) {
            char want[64] = "", got[64] = "";
            for (int d = 0; d < match->ndim; d++)
                snprintf(want + strlen(want), sizeof want - strlen(want), "%s%d", d ? "," : "",
                         match->shape[d]);
            for (int d = 0; d < tensor->ndim; d++)
                snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", d ? "," : "",
                         (long long)tensor->shape[d]);
            return bad(ck, "tensor '%s' has shape [%s], the model needs [%s]", fcnn_escape(tensor->name), got,
                       want);
        }
    }
    for (int i = 0; i < model->param_count; i++)
        if (!fcnn_st_find(&ck->file, model->params[i].name))
            return bad(ck, "tensor '%s' is missing", model->params[i].name);
    for (int i = 0; i < model->state_count; i++)
        if (!fcnn_st_find(&ck->file, model->states[i].name))
            return bad(ck, "tensor '%s' is missing", model->states[i].name);
    if (found_slots && found_slots != slots * model->param_count)
        return bad(ck, "holds %d of the %d %s optimizer tensors", found_slots,
                   slots * model->param_count, fcnn_optimizer_name(kind));
    if ((found_best || found_best_state) &&
        (found_best != model->param_count || found_best_state != model->state_count))
        return bad(ck, "holds %d of the %d best-weights tensors", found_best + found_best_state,
                   model->param_count + model->state_count);
    ck->slot_count = found_slots ? slots : 0;
    ck->has_best = found_best > 0;
    return FCNN_OK;
}

/* A weights-only file: the model's parameters, no optimizer or best-weights tensors, and
 * none of a run's metadata beyond the epoch count. */
static int open_weights_only(struct fcnn_checkpoint *ck, const struct fcnn_model *model)
{
    long long version = 0, epoch = 0;
    ck->weights_only = true;
    int status = meta_integer(ck, "format_version", 0, 1000000, &version);
    if (status == FCNN_OK && version != FCNN_WEIGHTS_FORMAT_VERSION)
        status = bad(ck, "unknown weights-only format version %lld (this fcnn reads version %d)",
                     version, FCNN_WEIGHTS_FORMAT_VERSION);
    if (status == FCNN_OK) /* the same keys as a checkpoint of format 2 */
        status = parse_architecture(ck, 2);
    if (status == FCNN_OK && (status = meta_integer(ck, "epoch", 0, 1000000000, &epoch)) == FCNN_OK)
        ck->epoch = (int)epoch;
    if (status == FCNN_OK && model)
        status = fcnn_checkpoint_bind(ck, model);
    return status;
}

int fcnn_checkpoint_open(const char *path, const struct fcnn_model *model,
                         struct fcnn_checkpoint **out)
{
    *out = NULL;
    struct fcnn_checkpoint *ck = calloc(1, sizeof *ck);
    if (!ck)
        return fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory reading the checkpoint", fcnn_quote(path));
    if ((size_t)snprintf(ck->path, sizeof ck->path, "%s", path) >= sizeof ck->path) {
        free(ck);
        return fcnn_error(FCNN_ERR_INVALID, "%s: file name too long", fcnn_quote(path));
    }
    ck->model = model;
    int status = fcnn_st_read(path, &ck->file);

    const char *format = NULL;
    long long version = 0, value = 0;
    if (status == FCNN_OK && (format = fcnn_st_meta_get(&ck->file, "format")) &&
        strcmp(format, FCNN_WEIGHTS_FORMAT) == 0) {
        status = open_weights_only(ck, model);
        if (status != FCNN_OK) {
            fcnn_checkpoint_close(ck);
            return status;
        }
        *out = ck;
        return FCNN_OK;
    }
    if (status == FCNN_OK && (!format || strcmp(format, "fcnn") != 0))
        status = bad(ck, "not an fcnn checkpoint (metadata 'format' is %s%s%s)",
                     format ? "'" : "missing", format ? fcnn_escape(format) : "", format ? "'" : "");
    if (status == FCNN_OK)
        status = meta_integer(ck, "format_version", 0, 1000000, &version);
    if (status == FCNN_OK && (version < 1 || version > FCNN_CHECKPOINT_FORMAT_VERSION))
        status = bad(ck, "unknown checkpoint format version %lld (this fcnn reads versions "
                     "1 to %d)", version, FCNN_CHECKPOINT_FORMAT_VERSION);
    if (status == FCNN_OK)
        status = parse_architecture(ck, version);
    if (status == FCNN_OK)
        status = parse_settings(ck);
    if (status == FCNN_OK && (status = meta_integer(ck, "epoch", 0, 1000000000, &value)) == FCNN_OK)
        ck->epoch = (int)value;
    if (status == FCNN_OK && ck->epoch > ck->settings.epochs)
        status = bad(ck, "epoch %d is past the run's %d epochs", ck->epoch, ck->settings.epochs);
    if (status == FCNN_OK &&
        (status = meta_integer(ck, "seed", 0, INT64_MAX, &value)) == FCNN_OK)
        ck->settings.seed = (uint64_t)value;
    if (status == FCNN_OK)
        status = meta_integer(ck, "iterations", 0, INT64_MAX, &ck->iterations);
    if (status == FCNN_OK)
        status = parse_rng(ck);
    if (status == FCNN_OK)
        status = parse_early_stopping(ck);
    if (status == FCNN_OK)
        status = parse_kernel_choices(ck);
    if (status == FCNN_OK)
        status = meta_json(ck, "history", JSON_ARRAY, &ck->history);
    if (status == FCNN_OK && (int)json_array_size(ck->history) != ck->epoch)
        status = bad(ck, "history has %zu rows for %d epochs", json_array_size(ck->history),
                     ck->epoch);
    if (status == FCNN_OK && model)
        status = fcnn_checkpoint_bind(ck, model);
    if (status != FCNN_OK) {
        fcnn_checkpoint_close(ck);
        return fcnn_error_one_line(status); /* names and excerpts come from the file */
    }
    *out = ck;
    return FCNN_OK;
}

int fcnn_checkpoint_bind(struct fcnn_checkpoint *ck, const struct fcnn_model *model)
{
    ck->model = model;
    if (strcmp(model->spec, ck->architecture) != 0)
        return bad(ck, "holds the model '%s', not '%s'", fcnn_escape(ck->architecture),
                   model->spec);
    int status = check_tensors(ck);
    if (status == FCNN_OK && ck->weights_only && (ck->slot_count || ck->has_best))
        status = bad(ck, "a weights-only file must hold the model's parameters alone");
    return status;
}

const char *fcnn_checkpoint_architecture(const struct fcnn_checkpoint *ck)
{
    return ck->architecture;
}

void fcnn_checkpoint_close(struct fcnn_checkpoint *ck)
{
    if (!ck)
        return;
    fcnn_st_free(&ck->file);
    json_decref(ck->history);
    free(ck);
}

const struct fcnn_run_settings *fcnn_checkpoint_settings(const struct fcnn_checkpoint *ck)
{
    return &ck->settings;
}

int fcnn_checkpoint_epoch(const struct fcnn_checkpoint *ck)
{
    return ck->epoch;
}

/* Copies the tensors named `prefix + tensor name` into a host arena laid out as `list`
 * says (alignment gaps zero). */
static void fill_tensors(const struct fcnn_checkpoint *ck, const char *prefix,
                         const struct fcnn_param *list, int count, size_t floats, float *arena)
{
    char name[NAME_SIZE];
    memset(arena, 0, floats * sizeof(float));
    for (int i = 0; i < count; i++) {
        const struct fcnn_param *p = &list[i];
        snprintf(name, sizeof name, "%s%s", prefix, p->name);
        const struct fcnn_st_tensor *t = fcnn_st_find(&ck->file, name);
        memcpy(arena + p->offset, t->data, p->count * sizeof(float));
    }
}

/* The parameters (or their optimizer slot, or their best copy, by prefix). */
static void fill_arena(const struct fcnn_checkpoint *ck, const char *prefix, float *arena)
{
    const struct fcnn_model *model = ck->model;
    fill_tensors(ck, prefix, model->params, model->param_count, model->param_floats, arena);
}

/* The non-trainable state (or its best copy). */
static void fill_state(const struct fcnn_checkpoint *ck, const char *prefix, float *arena)
{
    const struct fcnn_model *model = ck->model;
    fill_tensors(ck, prefix, model->states, model->state_count, model->state_floats, arena);
}

int fcnn_checkpoint_load_weights(const struct fcnn_checkpoint *ck, struct fcnn_network *net)
{
    float *arena = malloc(ck->model->param_floats * sizeof(float));
    if (!arena)
        return fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory loading weights", fcnn_quote(ck->path));
    fill_arena(ck, "", arena);
    int status = fcnn_network_set_params(net, arena);
    free(arena);
    const struct fcnn_model *model = ck->model;
    float *state = malloc((model->state_floats ? model->state_floats : 1) * sizeof(float));
    if (!state)
        return fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory loading state", ck->path);
    fill_state(ck, "", state);
    if (status == FCNN_OK)
        status = fcnn_network_set_state(net, state);
    free(state);
    return status;
}

static int restore_history(const struct fcnn_checkpoint *ck, struct fcnn_trainer *t)
{
    size_t i;
    json_t *row;
    json_array_foreach(ck->history, i, row) {
        struct fcnn_epoch_stats *s = &t->history[i];
        json_error_t error;
        if (json_unpack_ex(row, &error, 0, "{s:i, s:i, s:F, s:F, s:F, s:F, s:F, s:F}", "epoch",
                           &s->epoch, "steps", &s->steps, "loss", &s->loss, "accuracy",
                           &s->accuracy, "val_loss", &s->val_loss, "val_accuracy",
                           &s->val_accuracy, "seconds", &s->seconds, "lr", &s->lr) != 0)
            return fcnn_error_one_line(bad(ck, "history row %zu: %s", i + 1, error.text));
    }
    return FCNN_OK;
}

bool fcnn_checkpoint_weights_only(const struct fcnn_checkpoint *ck)
{
    return ck->weights_only;
}

int fcnn_checkpoint_check_resumable(const struct fcnn_checkpoint *ck)
{
    if (ck->weights_only)
        return bad(ck, "is a weights-only file (from --export-weights): it has no optimizer "
                   "state, epoch count or history to resume; use --load to train from its weights");
    return FCNN_OK;
}

int fcnn_checkpoint_get_params(const struct fcnn_checkpoint *ck, float *arena)
{
    fill_arena(ck, "", arena);
    return FCNN_OK;
}

int fcnn_checkpoint_get_state(const struct fcnn_checkpoint *ck, float *arena)
{
    fill_state(ck, "", arena); /* every state tensor is there: check_tensors saw to it */
    return FCNN_OK;
}

int fcnn_checkpoint_restore(const struct fcnn_checkpoint *ck, struct fcnn_trainer *t)
{
    const struct fcnn_optimizer *opt = t->opt;
    int resumable = fcnn_checkpoint_check_resumable(ck);
    if (resumable != FCNN_OK)
        return resumable;
    if (opt->kind != ck->settings.optimizer)
        return bad(ck, "was trained with %s, not %s", fcnn_optimizer_name(ck->settings.optimizer),
                   fcnn_optimizer_name(opt->kind));
    if (ck->slot_count != opt->slot_count)
        return bad(ck, "holds no %s optimizer state to resume from",
                   fcnn_optimizer_name(opt->kind));
    if (t->epochs < ck->epoch)
        return bad(ck, "has %d epochs done, more than the %d asked for", ck->epoch, t->epochs);

    int status = fcnn_checkpoint_load_weights(ck, t->net);
    float *arena = malloc(ck->model->param_floats * sizeof(float));
    if (!arena)
        return fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory restoring", fcnn_quote(ck->path));
    char prefix[64];
    for (int s = 0; s < opt->slot_count && status == FCNN_OK; s++) {
        snprintf(prefix, sizeof prefix, "optimizer/%s/", slot_name(opt->kind, s));
        fill_arena(ck, prefix, arena);
        struct fcnn_tensor slot = fcnn_optimizer_slot(opt, s);
        status = fcnn_upload(t->be, &slot, arena);
    }
    free(arena);
    if (status == FCNN_OK)
        status = restore_history(ck, t);
    if (status != FCNN_OK)
        return status;
    t->opt->iterations = ck->iterations;
    *t->rng = ck->rng;
    t->epoch = ck->epoch;
    t->wait = ck->wait;
    t->best_val_loss = ck->best_val_loss >= 0 ? ck->best_val_loss : INFINITY;
    if (t->patience > 0 && t->best_params) {
        if (ck->has_best) {
            fill_arena(ck, "best/", t->best_params);
            if (t->best_state)
                fill_state(ck, "best/", t->best_state);
        }
        else /* a run without early stopping so far: its best is yet to be seen */
            t->best_val_loss = INFINITY;
    }
    return FCNN_OK;
}
