/* Device-resident dataset splits. */
#include <config.h>

#include <stdlib.h>

#include "data/split.h"
#include "core/status.h"

static int create(struct fcnn_backend *be, struct fcnn_dataset *data, bool take_images,
                  struct fcnn_split **out)
{
    *out = NULL;
    uint8_t *images = data->images;
    if (take_images)
        data->images = NULL;
    struct fcnn_split *s = calloc(1, sizeof *s);
    if (!s) {
        if (take_images)
            free(images);
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory for a dataset split");
    }
    s->data = data;
    s->count = data->count;
    size_t n = (size_t)data->count;
    s->host_order = malloc(n * sizeof *s->host_order);
    s->host_loss = malloc(n * sizeof *s->host_loss);
    s->host_pred = malloc(n * sizeof *s->host_pred);
    int status = s->host_order && s->host_loss && s->host_pred
                     ? FCNN_OK
                     : fcnn_error(FCNN_ERR_NOMEM, "out of memory for a dataset split");
    size_t image_bytes = n * fcnn_dataset_sample_bytes(data);
    if (take_images && status == FCNN_OK)
        status = fcnn_buffer_adopt(be, images, image_bytes, &s->images);
    else if (take_images)
        free(images);
    else if (status == FCNN_OK)
        status = fcnn_buffer_alloc(be, image_bytes, &s->images);
    if (status == FCNN_OK)
        status = fcnn_buffer_alloc(be, n, &s->labels);
    if (status == FCNN_OK)
        status = fcnn_buffer_alloc(be, n * sizeof(int32_t), &s->order);
    if (status == FCNN_OK)
        status = fcnn_buffer_alloc(be, n * sizeof(float), &s->loss);
    if (status == FCNN_OK)
        status = fcnn_buffer_alloc(be, n * sizeof(int32_t), &s->pred);
    if (status == FCNN_OK) {
        struct fcnn_tensor images = fcnn_split_images(s), labels = fcnn_split_labels(s);
        if (!take_images)
            status = fcnn_upload(be, &images, data->images);
        if (status == FCNN_OK)
            status = fcnn_upload(be, &labels, data->labels);
    }
    if (status == FCNN_OK) {
        for (int i = 0; i < s->count; i++)
            s->host_order[i] = i;
        status = fcnn_split_set_order(be, s, NULL);
    }
    if (status != FCNN_OK) {
        fcnn_split_destroy(be, s);
        return status;
    }
    *out = s;
    return FCNN_OK;
}

int fcnn_split_create(struct fcnn_backend *be, const struct fcnn_dataset *data,
                      struct fcnn_split **out)
{
    return create(be, (struct fcnn_dataset *)data, false, out);
}

int fcnn_split_create_taking_images(struct fcnn_backend *be, struct fcnn_dataset *data,
                                    struct fcnn_split **out)
{
    return create(be, data, true, out);
}

void fcnn_split_destroy(struct fcnn_backend *be, struct fcnn_split *s)
{
    if (!s)
        return;
    fcnn_buffer_free(be, s->images);
    fcnn_buffer_free(be, s->labels);
    fcnn_buffer_free(be, s->order);
    fcnn_buffer_free(be, s->loss);
    fcnn_buffer_free(be, s->pred);
    free(s->host_order);
    free(s->host_loss);
    free(s->host_pred);
    free(s);
}

int fcnn_split_set_order(struct fcnn_backend *be, struct fcnn_split *s, const int32_t *order)
{
    if (order)
        for (int i = 0; i < s->count; i++)
            s->host_order[i] = order[i];
    /* Checked here, once per pass: a device cannot report a bad index from inside an op
     * without a round trip (the OpenCL kernels would read garbage). The labels were
     * checked when the IDX file was read. */
    for (int i = 0; i < s->count; i++)
        if (s->host_order[i] < 0 || s->host_order[i] >= s->count)
            return fcnn_error(FCNN_ERR_INVALID, "sample order entry %d is %d, not in 0..%d", i,
                              (int)s->host_order[i], s->count - 1);
    struct fcnn_tensor t = fcnn_split_order(s);
    return fcnn_upload(be, &t, s->host_order);
}

struct fcnn_tensor fcnn_split_images(const struct fcnn_split *s)
{
    return fcnn_tensor_4d(s->images, 0, FCNN_U8, s->count, s->data->rows, s->data->cols,
                          s->data->channels);
}

struct fcnn_tensor fcnn_split_labels(const struct fcnn_split *s)
{
    return fcnn_tensor_1d(s->labels, 0, FCNN_U8, s->count);
}

struct fcnn_tensor fcnn_split_order(const struct fcnn_split *s)
{
    return fcnn_tensor_1d(s->order, 0, FCNN_I32, s->count);
}

struct fcnn_tensor fcnn_split_loss(const struct fcnn_split *s, int first, int n)
{
    return fcnn_tensor_1d(s->loss, (size_t)first * sizeof(float), FCNN_F32, n);
}

struct fcnn_tensor fcnn_split_pred(const struct fcnn_split *s, int first, int n)
{
    return fcnn_tensor_1d(s->pred, (size_t)first * sizeof(int32_t), FCNN_I32, n);
}

int fcnn_split_fetch(struct fcnn_backend *be, struct fcnn_split *s, int first, int n)
{
    if (n <= 0)
        return FCNN_OK;
    struct fcnn_tensor loss = fcnn_split_loss(s, first, n), pred = fcnn_split_pred(s, first, n);
    int status = fcnn_download(be, &loss, s->host_loss + first);
    if (status == FCNN_OK)
        status = fcnn_download(be, &pred, s->host_pred + first);
    return status;
}

int fcnn_split_label_at(const struct fcnn_split *s, int i)
{
    return s->data->labels[s->host_order[i]];
}
