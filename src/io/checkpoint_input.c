/* The "input" entry of a checkpoint's metadata: the sample shape, the input scaling and
 * the class names, so that --predict prepares new images as training did. Kept apart
 * from the rest of the checkpoint, which it does not need. */
#include <config.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "data/dataset.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"

char *fcnn_checkpoint_input_json(const struct fcnn_input_info *info)
{
    json_t *names = json_array();
    for (int i = 0; names && i < info->names.count; i++)
        json_array_append_new(names, json_string(info->names.names[i]));
    json_t *value = json_pack("{s:[i,i,i], s:s, s:s, s:o*}", "shape", info->rows, info->cols,
                              info->channels, "scale", FCNN_INPUT_SCALE, "color_mode",
                              info->channels == 1 ? "grayscale" : "rgb", "class_names", names);
    char *text = value ? json_dumps(value, JSON_COMPACT) : NULL;
    json_decref(value);
    return text;
}

int fcnn_checkpoint_read_input(const char *path, struct fcnn_input_info *out, bool *found)
{
    memset(out, 0, sizeof *out);
    *found = false;
    struct fcnn_st_file file;
    int status = fcnn_st_read(path, &file);
    if (status != FCNN_OK)
        return status;
    const char *text = fcnn_st_meta_get(&file, "input");
    json_t *value = NULL, *names = NULL;
    json_error_t error;
    int rows = 0, cols = 0, channels = 0;
    const char *scale = NULL;
    if (text) {
        *found = true;
        value = json_loads(text, 0, &error);
        if (!value || json_unpack_ex(value, &error, 0, "{s:[iii], s:s, s:o}", "shape", &rows,
                                     &cols, &channels, "scale", &scale, "class_names", &names))
            status = fcnn_error(FCNN_ERR_INVALID, "%s: metadata 'input' is malformed: %s", path,
                                error.text);
        else if (rows < 1 || cols < 1 || (channels != 1 && channels != 3 && channels != 4) ||
                 rows > 65536 || cols > 65536)
            status = fcnn_error(FCNN_ERR_INVALID, "%s: metadata 'input' has shape %dx%dx%d", path,
                                rows, cols, channels);
        else if (strcmp(scale, FCNN_INPUT_SCALE) != 0)
            status = fcnn_error(FCNN_ERR_INVALID, "%s: input scale '%s' is not the %s this fcnn "
                                "applies", path, scale, FCNN_INPUT_SCALE);
        else if (!json_is_array(names) || json_array_size(names) < 2 ||
                 json_array_size(names) > FCNN_MAX_CLASSES)
            status = fcnn_error(FCNN_ERR_INVALID, "%s: metadata 'input' needs 2 to %d class names",
                                path, FCNN_MAX_CLASSES);
    }
    if (status == FCNN_OK && text) {
        size_t count = json_array_size(names);
        const char **list = calloc(count, sizeof *list);
        for (size_t i = 0; list && i < count; i++)
            list[i] = json_string_value(json_array_get(names, i));
        for (size_t i = 0; list && i < count && status == FCNN_OK; i++)
            if (!list[i])
                status = fcnn_error(FCNN_ERR_INVALID, "%s: class name %zu is not a string", path, i);
        if (!list)
            status = fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory", path);
        if (status == FCNN_OK)
            status = fcnn_classes_copy((int)count, list, &out->names);
        free(list);
        out->rows = rows;
        out->cols = cols;
        out->channels = channels;
    }
    json_decref(value);
    fcnn_st_free(&file);
    if (status != FCNN_OK)
        fcnn_input_info_free(out);
    return status;
}
