/* Input descriptions, data loading and model choice for a run. */
#include <config.h>

#include <string.h>

#include "cli/data_run.h"
#include "core/status.h"

int fcnn_run_read_input(const char *path, struct fcnn_input_info *input)
{
    memset(input, 0, sizeof *input);
    if (!path)
        return FCNN_OK;
    bool found = false;
    int status = fcnn_checkpoint_read_input(path, input, &found);
    if (status != FCNN_OK || found)
        return status;
    *input = (struct fcnn_input_info){ .rows = FCNN_IMAGE_ROWS, .cols = FCNN_IMAGE_COLS,
                                       .channels = 1 };
    return fcnn_classes_copy(FCNN_CLASSES, fcnn_class_names, &input->names);
}

int fcnn_run_load_data(const struct fcnn_options *opt, const struct fcnn_input_info *input,
                       FILE *progress, struct fcnn_data *data)
{
    struct fcnn_data_options o = opt->data.source;
    o.dir = opt->data_dir;
    o.train_limit = opt->train_limit;
    o.test_limit = opt->test_limit;
    o.seed = opt->seed;
    o.need_train = !opt->eval_only;
    o.progress = progress;
    o.known_classes = input->names.count ? &input->names : NULL;
    /* A loaded model's images have its channels; a folder of another size is resized
     * when --image-size asks for the model's, and refused (by the model check) otherwise. */
    if (input->names.count && !o.color_mode)
        o.color_mode = input->channels == 1 ? FCNN_COLOR_GRAYSCALE : FCNN_COLOR_RGB;
    return fcnn_data_load(&o, data);
}

int fcnn_run_fill_input(const struct fcnn_data *data, struct fcnn_input_info *input)
{
    if (input->names.count)
        return FCNN_OK;
    input->rows = data->rows;
    input->cols = data->cols;
    input->channels = data->channels;
    return fcnn_classes_copy(data->names.count, (const char *const *)data->names.names,
                             &input->names);
}
