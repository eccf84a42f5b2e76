/* Checkpoints in a build without jansson: training works, nothing is saved, and reading a
 * checkpoint is refused with a line that says how to get the feature. */
#include <config.h>

#include "io/checkpoint.h"
#include "core/status.h"

bool fcnn_checkpoints_available(void)
{
    return false;
}

static int unavailable(const char *path)
{
    return fcnn_error(FCNN_ERR_UNSUPPORTED, "this fcnn was built without checkpoints (install "
                      "libjansson-dev and rebuild) and cannot use %s", path);
}

int fcnn_checkpoint_save(const char *path, const struct fcnn_trainer *t,
                         const struct fcnn_run_settings *settings)
{
    (void)t, (void)settings;
    return unavailable(path);
}

int fcnn_checkpoint_open(const char *path, const struct fcnn_model *model,
                         struct fcnn_checkpoint **out)
{
    (void)model;
    *out = NULL;
    return unavailable(path);
}

int fcnn_checkpoint_bind(struct fcnn_checkpoint *ck, const struct fcnn_model *model)
{
    (void)ck, (void)model;
    return unavailable("a checkpoint");
}

/* Never reached: no checkpoint can be opened in this build. */
const char *fcnn_checkpoint_architecture(const struct fcnn_checkpoint *ck)
{
    (void)ck;
    return "";
}

void fcnn_checkpoint_close(struct fcnn_checkpoint *ck)
{
    (void)ck;
}

/* Never reached: no checkpoint can be opened in this build. */
const struct fcnn_run_settings *fcnn_checkpoint_settings(const struct fcnn_checkpoint *ck)
{
    (void)ck;
    return NULL;
}

int fcnn_checkpoint_epoch(const struct fcnn_checkpoint *ck)
{
    (void)ck;
    return 0;
}

int fcnn_checkpoint_load_weights(const struct fcnn_checkpoint *ck, struct fcnn_network *net)
{
    (void)ck, (void)net;
    return unavailable("a checkpoint");
}

int fcnn_checkpoint_restore(const struct fcnn_checkpoint *ck, struct fcnn_trainer *t)
{
    (void)ck, (void)t;
    return unavailable("a checkpoint");
}
