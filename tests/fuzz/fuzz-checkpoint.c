/* Fuzz target: the checkpoint loader on top of the safetensors reader. A small model (so
 * that seeds stay a few kilobytes) on the reference backend; every input is opened
 * against it and, when it fits, restored into a trainer as --resume does, which parses
 * the settings, the generator state, early stopping and the history. */
#include <config.h>

#include <stdlib.h>

#include "core/status.h"
#include "fuzz-input.h"

#if HAVE_JANSSON
#include "io/checkpoint.h"
#include "nn/model.h"
#include "nn/model_desc.h"

static struct fcnn_backend *be;
static struct fcnn_model model;
static struct fcnn_network *net;
static struct fcnn_optimizer *opt;
static struct fcnn_rng rng;
static struct fcnn_trainer trainer;

/* The model of the seeds, small but on the 28x28x1 inputs every checkpoint is for: weights,
 * biases and a layer's state tensors. */
#define SEED_MODEL "conv2d(1,3,relu,padding=same) batchnorm maxpool(4) flatten dense(10)"
static int build_model(struct fcnn_model *m)
{
    struct fcnn_model_desc desc;
    int status = fcnn_model_spec_parse(SEED_MODEL, "the fuzz target's model", &desc);
    if (status == FCNN_OK)
        status = fcnn_model_desc_build(&desc, (struct fcnn_shape){ 3, { 28, 28, 1 } }, 10, m);
    return status;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (fcnn_backend_open("ref", NULL, &be) || build_model(&model) ||
        fcnn_network_create(be, &model, 2, 2, &net) ||
        fcnn_optimizer_create(be, FCNN_OPT_ADAM, 0.005, (int)model.param_floats, &opt))
        abort();
    /* Early stopping on, so that the best-weights tensors are restored too; epochs well
     * above any seed's, so a checkpoint is refused only for what it holds. */
    trainer = (struct fcnn_trainer){ .be = be, .net = net, .opt = opt, .rng = &rng,
                                     .epochs = 1000, .batch_size = 2, .eval_batch_size = 2,
                                     .patience = 3 };
    if (fcnn_trainer_init(&trainer))
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_input_file(data, size);
    struct fcnn_checkpoint *ck = NULL;
    int status = fcnn_checkpoint_open(path, &model, &ck);
    fuzz_check_error(status);
    if (status != FCNN_OK)
        return 0;
    const struct fcnn_run_settings *s = fcnn_checkpoint_settings(ck);
    if (!s || s->batch_size < 1 || s->epochs < 1 || !(s->lr > 0) ||
        fcnn_checkpoint_epoch(ck) < 0 || fcnn_checkpoint_epoch(ck) > s->epochs)
        abort(); /* open promised settings a run can use */
    status = fcnn_checkpoint_restore(ck, &trainer);
    fuzz_check_error(status);
    fcnn_checkpoint_close(ck);
    return 0;
}
#else
const char *fuzz_target_unavailable = "checkpoints need jansson, which this build lacks";
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)data;
    (void)size;
    return 0;
}
#endif
