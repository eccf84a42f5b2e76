/* Checkpoints at the model level: save -> open -> restore gives back the same weights,
 * optimizer state, generator and history; and a file that does not fit the model (missing,
 * unexpected or misshapen tensors, unknown format or version, broken metadata) is rejected
 * with one line naming the file and the problem. The byte-level safetensors checks are in
 * test-safetensors.c. */
#include <config.h>

#include <stdio.h>

#ifndef HAVE_JANSSON
int main(void)
{
    puts("SKIP: built without jansson, no checkpoints");
    return 77;
}
#else

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "core/status.h"
#include "nn/model_desc.h"

#include "expect.h"

static char dir[] = "/tmp/fcnn-test-checkpoint-XXXXXX";

/* A trainer with made-up state: random weights and optimizer moments, 2 epochs of history,
 * a generator advanced past its seed. */
struct fixture {
    struct fcnn_backend *be;
    struct fcnn_model model;
    struct fcnn_network *net;
    struct fcnn_optimizer *opt;
    struct fcnn_rng rng;
    struct fcnn_trainer t;
};

static int fixture_open(struct fixture *f, enum fcnn_optimizer_kind kind)
{
    memset(f, 0, sizeof *f);
    if (fcnn_backend_open("ref", NULL, &f->be) || fcnn_model_reference(&f->model) ||
        fcnn_network_create(f->be, &f->model, 4, 4, &f->net) ||
        fcnn_optimizer_create(f->be, kind, 0.005, (int)f->model.param_floats, &f->opt))
        return 1;
    f->t = (struct fcnn_trainer){ .be = f->be, .net = f->net, .opt = f->opt, .rng = &f->rng,
                                  .epochs = 5, .batch_size = 4, .eval_batch_size = 4 };
    return fcnn_trainer_init(&f->t);
}

static void fixture_fill(struct fixture *f)
{
    size_t n = f->model.param_floats;
    float *host = malloc(n * sizeof *host);
    fcnn_rng_seed(&f->rng, 7);
    fcnn_model_init_params(&f->model, &f->rng, host);
    fcnn_network_set_params(f->net, host);
    for (int s = 0; s < f->opt->slot_count; s++) {
        for (size_t i = 0; i < n; i++)
            host[i] = (float)fcnn_rng_uniform(&f->rng);
        struct fcnn_tensor slot = fcnn_optimizer_slot(f->opt, s);
        fcnn_upload(f->be, &slot, host);
    }
    free(host);
    f->opt->iterations = 123;
    f->t.epoch = 2;
    for (int i = 0; i < 2; i++)
        f->t.history[i] = (struct fcnn_epoch_stats){ i + 1, 31, 0.5 / (i + 1), 0.8 + 0.01 * i,
                                                    0.6 / (i + 1), 0.7 + 0.02 * i, 1.25, 0.005 };
}

static void fixture_close(struct fixture *f)
{
    fcnn_trainer_release(&f->t);
    fcnn_optimizer_destroy(f->be, f->opt);
    fcnn_network_destroy(f->net);
    fcnn_backend_close(f->be);
}

#define CHOICES "conv2d_fwd\t4x28x28x1,3x3x1x32,32,4x28x28x32,s1p1,relu\trows_7x32\n" \
                "dense_fwd\t4x3136,3136x10,10,4x10\t-\n"
static const struct fcnn_run_settings settings = { .seed = 7, .epochs = 5, .batch_size = 4,
                                                   .optimizer = FCNN_OPT_ADAM, .lr = 0.005,
                                                   .kernel_choices = CHOICES };

static void path_of(const char *name, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", dir, name);
}

/* Rewrites `good` as `name` with one change: a tensor dropped, one added, a tensor's shape
 * replaced, or a metadata value replaced (NULL value: the key removed). */
struct change {
    const char *drop;
    const char *add;
    const char *reshape;  /* name of the tensor whose first dimension is halved */
    const char *meta_key, *meta_value;
    bool no_metadata;
};

static void write_variant(const struct fcnn_st_file *good, const char *name, struct change c)
{
    char path[512];
    path_of(name, path, sizeof path);
    struct fcnn_st_tensor tensors[64];
    struct fcnn_st_meta meta[32];
    int count = 0, meta_count = 0;
    for (int i = 0; i < good->count; i++) {
        if (c.drop && strcmp(good->tensors[i].name, c.drop) == 0)
            continue;
        tensors[count] = good->tensors[i];
        if (c.reshape && strcmp(good->tensors[i].name, c.reshape) == 0) {
            tensors[count].shape[tensors[count].ndim - 1] /= 2;
            tensors[count].count /= 2;
        }
        count++;
    }
    if (c.add)
        tensors[count++] = (struct fcnn_st_tensor){ .name = c.add, .ndim = 1, .shape = { 1 },
                                                   .data = good->tensors[0].data, .count = 1 };
    bool replaced = false;
    for (int i = 0; i < good->meta_count && !c.no_metadata; i++) {
        if (c.meta_key && strcmp(good->meta[i].key, c.meta_key) == 0) {
            replaced = true;
            if (!c.meta_value)
                continue;
            meta[meta_count++] = (struct fcnn_st_meta){ c.meta_key, c.meta_value };
        } else {
            meta[meta_count++] = good->meta[i];
        }
    }
    if (c.meta_key && !replaced && c.meta_value)
        meta[meta_count++] = (struct fcnn_st_meta){ c.meta_key, c.meta_value };
    if (fcnn_st_write(path, tensors, count, meta, meta_count) != FCNN_OK)
        fprintf(stderr, "cannot write %s: %s\n", path, fcnn_last_error());
}

static void expect_rejected(const struct fcnn_model *model, const char *name, const char *what)
{
    char path[512];
    struct fcnn_checkpoint *ck = (struct fcnn_checkpoint *)&failures; /* must become NULL */
    path_of(name, path, sizeof path);
    int status = fcnn_checkpoint_open(path, model, &ck);
    const char *msg = fcnn_last_error();
    EXPECT(status != FCNN_OK, "%s: accepted, expected '%s'", name, what);
    EXPECT(ck == NULL, "%s: handle not cleared", name);
    EXPECT(strstr(msg, path) && strstr(msg, what), "%s: message '%s' lacks '%s'", name, msg, what);
    EXPECT(!strchr(msg, '\n'), "%s: message is not one line", name);
    if (status == FCNN_OK)
        fcnn_checkpoint_close(ck);
}

static bool same_arena(struct fcnn_backend *a_be, const struct fcnn_tensor *a,
                       struct fcnn_backend *b_be, const struct fcnn_tensor *b)
{
    size_t bytes = fcnn_tensor_bytes(a);
    char *x = malloc(bytes), *y = malloc(bytes);
    fcnn_download(a_be, a, x);
    fcnn_download(b_be, b, y);
    bool same = memcmp(x, y, bytes) == 0;
    free(x);
    free(y);
    return same;
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 99;
    }
    char good_path[512];
    path_of("good.safetensors", good_path, sizeof good_path);

    /* Save, then open and restore into a fresh trainer: everything comes back exactly. */
    struct fixture saved, restored;
    if (fixture_open(&saved, FCNN_OPT_ADAM) || fixture_open(&restored, FCNN_OPT_ADAM)) {
        fprintf(stderr, "setup failed: %s\n", fcnn_last_error());
        return 99;
    }
    fixture_fill(&saved);
    EXPECT(fcnn_checkpoint_save(good_path, &saved.t, &settings) == FCNN_OK, "save: %s",
           fcnn_last_error());
    struct fcnn_checkpoint *ck = NULL;
    EXPECT(fcnn_checkpoint_open(good_path, &restored.model, &ck) == FCNN_OK, "open: %s",
           fcnn_last_error());
    if (ck) {
        const struct fcnn_run_settings *s = fcnn_checkpoint_settings(ck);
        EXPECT(s->seed == 7 && s->epochs == 5 && s->batch_size == 4 &&
                   s->optimizer == FCNN_OPT_ADAM && s->lr == 0.005,
               "settings did not round-trip");
        EXPECT(s->kernel_choices && strcmp(s->kernel_choices, CHOICES) == 0,
               "kernel choices did not round-trip: '%s'", s->kernel_choices);
        EXPECT(fcnn_checkpoint_epoch(ck) == 2, "epoch %d", fcnn_checkpoint_epoch(ck));
        EXPECT(fcnn_checkpoint_restore(ck, &restored.t) == FCNN_OK, "restore: %s",
               fcnn_last_error());
        struct fcnn_tensor a = fcnn_network_param_arena(saved.net);
        struct fcnn_tensor b = fcnn_network_param_arena(restored.net);
        EXPECT(same_arena(saved.be, &a, restored.be, &b), "weights differ after restore");
        for (int s2 = 0; s2 < 2; s2++) {
            a = fcnn_optimizer_slot(saved.opt, s2);
            b = fcnn_optimizer_slot(restored.opt, s2);
            EXPECT(same_arena(saved.be, &a, restored.be, &b), "optimizer slot %d differs", s2);
        }
        EXPECT(memcmp(&saved.rng, &restored.rng, sizeof saved.rng) == 0, "generator differs");
        EXPECT(restored.opt->iterations == 123, "iterations %lld", restored.opt->iterations);
        EXPECT(restored.t.epoch == 2, "restored epoch %d", restored.t.epoch);
        EXPECT(memcmp(saved.t.history, restored.t.history, 2 * sizeof *saved.t.history) == 0,
               "history differs");
        fcnn_checkpoint_close(ck);
    }

    /* A checkpoint cannot resume a run with another optimizer. */
    struct fixture other;
    if (fixture_open(&other, FCNN_OPT_SGD) == 0 &&
        fcnn_checkpoint_open(good_path, &other.model, &ck) == FCNN_OK) {
        EXPECT(fcnn_checkpoint_restore(ck, &other.t) != FCNN_OK &&
                   strstr(fcnn_last_error(), "was trained with adam, not sgd"),
               "optimizer mismatch: %s", fcnn_last_error());
        fcnn_checkpoint_close(ck);
    }
    fixture_close(&other);

    /* Files that do not fit the model. */
    struct fcnn_st_file good;
    if (fcnn_st_read(good_path, &good) != FCNN_OK) {
        fprintf(stderr, "cannot reread %s: %s\n", good_path, fcnn_last_error());
        return 1;
    }
    const struct fcnn_model *model = &saved.model;
    write_variant(&good, "missing", (struct change){ .drop = "dense/bias" });
    expect_rejected(model, "missing", "tensor 'dense/bias' is missing");
    write_variant(&good, "unexpected", (struct change){ .add = "dense_9/kernel" });
    expect_rejected(model, "unexpected", "unexpected tensor 'dense_9/kernel'");
    write_variant(&good, "shape", (struct change){ .reshape = "conv2d/kernel" });
    expect_rejected(model, "shape", "tensor 'conv2d/kernel' has shape [3,3,1,16], the model "
                                    "needs [3,3,1,32]");
    write_variant(&good, "slot-shape", (struct change){ .reshape = "optimizer/m/dense/kernel" });
    expect_rejected(model, "slot-shape", "tensor 'optimizer/m/dense/kernel' has shape [3136,5]");
    write_variant(&good, "slot-missing", (struct change){ .drop = "optimizer/v/dense/bias" });
    expect_rejected(model, "slot-missing", "holds 11 of the 12 adam optimizer tensors");
    write_variant(&good, "version", (struct change){ .meta_key = "format_version", .meta_value = "3" });
    expect_rejected(model, "version", "unknown checkpoint format version 3 (this fcnn reads "
                                      "versions 1 to 2)");
    /* The architecture: stored, required from version 2 on, and compared with the model. */
    write_variant(&good, "no-architecture", (struct change){ .meta_key = "architecture" });
    expect_rejected(model, "no-architecture", "metadata has no 'architecture'");
    write_variant(&good, "other-architecture",
                  (struct change){ .meta_key = "architecture",
                                   .meta_value = "conv2d(32,3,relu) maxpool(2) flatten dense(10)" });
    expect_rejected(model, "other-architecture", "holds the model 'conv2d(32,3,relu) maxpool(2) "
                                                 "flatten dense(10)', not '" FCNN_REFERENCE_SPEC "'");
    write_variant(&good, "classes", (struct change){ .meta_key = "classes", .meta_value = "12" });
    expect_rejected(model, "classes", "the model has 12 classes, not 10");
    /* A version 1 file (before --model) has no architecture: it is the reference model. */
    write_variant(&good, "version-1", (struct change){ .meta_key = "format_version",
                                                       .meta_value = "1" });
    char v1_path[512];
    path_of("version-1", v1_path, sizeof v1_path);
    EXPECT(fcnn_checkpoint_open(v1_path, NULL, &ck) == FCNN_OK, "version 1: %s",
           fcnn_last_error());
    if (ck) {
        EXPECT(strcmp(fcnn_checkpoint_architecture(ck), FCNN_REFERENCE_SPEC) == 0,
               "version 1 holds '%s'", fcnn_checkpoint_architecture(ck));
        EXPECT(fcnn_checkpoint_bind(ck, model) == FCNN_OK, "version 1 bind: %s",
               fcnn_last_error());
        fcnn_checkpoint_close(ck);
    }
    ck = NULL;
    EXPECT(fcnn_checkpoint_open(good_path, NULL, &ck) == FCNN_OK &&
               strcmp(fcnn_checkpoint_architecture(ck), FCNN_REFERENCE_SPEC) == 0,
           "saved architecture: %s", ck ? fcnn_checkpoint_architecture(ck) : fcnn_last_error());
    fcnn_checkpoint_close(ck);
    write_variant(&good, "format", (struct change){ .meta_key = "format", .meta_value = "keras" });
    expect_rejected(model, "format", "not an fcnn checkpoint (metadata 'format' is 'keras')");
    write_variant(&good, "no-metadata", (struct change){ .no_metadata = true });
    expect_rejected(model, "no-metadata", "not an fcnn checkpoint (metadata 'format' is missing)");
    write_variant(&good, "epoch", (struct change){ .meta_key = "epoch", .meta_value = "two" });
    expect_rejected(model, "epoch", "metadata 'epoch' is 'two', not an integer");
    write_variant(&good, "epoch-past", (struct change){ .meta_key = "epoch", .meta_value = "6" });
    expect_rejected(model, "epoch-past", "epoch 6 is past the run's 5 epochs");
    write_variant(&good, "history", (struct change){ .meta_key = "history", .meta_value = "[]" });
    expect_rejected(model, "history", "history has 0 rows for 2 epochs");
    write_variant(&good, "history-json", (struct change){ .meta_key = "history", .meta_value = "[{" });
    expect_rejected(model, "history-json", "metadata 'history' is not valid JSON");
    write_variant(&good, "rng", (struct change){ .meta_key = "rng_state", .meta_value = "12ab" });
    expect_rejected(model, "rng", "metadata 'rng_state' is not 64 hexadecimal digits");
    write_variant(&good, "hyper", (struct change){ .meta_key = "hyperparameters",
                                                   .meta_value = "{\"optimizer\":\"adagrad\","
                                                   "\"lr\":0.1,\"batch_size\":4,\"epochs\":5}" });
    expect_rejected(model, "hyper", "unknown optimizer 'adagrad'");
    /* The kernel choices: optional, and each line three fields. */
    write_variant(&good, "choices-fields", (struct change){ .meta_key = "kernel_choices",
                                                            .meta_value = "dense_fwd\t4x10\n" });
    expect_rejected(model, "choices-fields", "metadata 'kernel_choices' line 1 is not 'op TAB "
                                             "shape TAB variant'");
    write_variant(&good, "choices-empty",
                  (struct change){ .meta_key = "kernel_choices",
                                   .meta_value = "dense_fwd\t4x10\t-\n\ndense_fwd\t\t-\n" });
    expect_rejected(model, "choices-empty", "metadata 'kernel_choices' line 2 is not");
    write_variant(&good, "choices-space", (struct change){ .meta_key = "kernel_choices",
                                                           .meta_value = "a b\tc\td" });
    expect_rejected(model, "choices-space", "metadata 'kernel_choices' line 1 is not");
    write_variant(&good, "no-choices", (struct change){ .meta_key = "kernel_choices" });
    char no_choices[512];
    path_of("no-choices", no_choices, sizeof no_choices);
    ck = NULL;
    EXPECT(fcnn_checkpoint_open(no_choices, model, &ck) == FCNN_OK &&
               !fcnn_checkpoint_settings(ck)->kernel_choices,
           "a checkpoint without kernel choices: %s", ck ? "choices found" : fcnn_last_error());
    fcnn_checkpoint_close(ck);
    write_variant(&good, "no-seed", (struct change){ .meta_key = "seed" });
    expect_rejected(model, "no-seed", "metadata has no 'seed'");

    fcnn_st_free(&good);
    fixture_close(&saved);
    fixture_close(&restored);
    char command[600];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    if (system(command) != 0)
        fprintf(stderr, "warning: could not remove %s\n", dir);
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    else
        printf("checkpoints: all checks passed\n");
    return failures ? 1 : 0;
}

#endif
