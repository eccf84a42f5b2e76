/* --predict: image files through a trained model. Each file is prepared exactly as the
 * model's training images were (decoded, converted to its channels, at its size, scaled
 * by load_batch on the device), the logits come back per batch, and the softmax is taken
 * on the host in double precision. */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/data_run.h"
#include "core/status.h"
#include "data/image.h"
#include "data/split.h"
#include "nn/network.h"

/* A string as a JSON string literal. */
static void json_string_out(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180). */
static void csv_field(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

/* Indices of the `top` largest probabilities, largest first (ties: lower index first). */
static void top_classes(const double *p, int classes, int top, int *index)
{
    for (int k = 0; k < top; k++) {
        int best = -1;
        for (int c = 0; c < classes; c++) {
            bool taken = false;
            for (int j = 0; j < k && !taken; j++)
                taken = index[j] == c;
            if (!taken && (best < 0 || p[c] > p[best]))
                best = c;
        }
        index[k] = best;
    }
}

static void print_file(FILE *out, enum fcnn_predict_format format, const char *file,
                       const double *p, const int *index, int top,
                       const struct fcnn_class_names *names, bool first)
{
    switch (format) {
    case FCNN_PREDICT_TEXT:
        fprintf(out, "%s:", file);
        for (int k = 0; k < top; k++)
            fprintf(out, "%s %s %.4f", k ? "," : "", names->names[index[k]], p[index[k]]);
        fprintf(out, "\n");
        break;
    case FCNN_PREDICT_CSV:
        for (int k = 0; k < top; k++) {
            csv_field(out, file);
            fprintf(out, ",%d,%d,", k + 1, index[k]);
            csv_field(out, names->names[index[k]]);
            fprintf(out, ",%.6f\n", p[index[k]]);
        }
        break;
    case FCNN_PREDICT_JSON:
        fprintf(out, "%s\n  {\"file\": ", first ? "" : ",");
        json_string_out(out, file);
        fprintf(out, ", \"top\": [");
        for (int k = 0; k < top; k++) {
            fprintf(out, "%s{\"rank\": %d, \"index\": %d, \"class\": ", k ? ", " : "", k + 1,
                    index[k]);
            json_string_out(out, names->names[index[k]]);
            fprintf(out, ", \"probability\": %.6f}", p[index[k]]);
        }
        fprintf(out, "]}");
        break;
    }
}

/* Every file, prepared, into one dataset (labels unused). */
static int prepare_files(const struct fcnn_options *opt, const struct fcnn_input_info *in,
                         struct fcnn_dataset *d)
{
    int count = opt->data.predict_count;
    const struct fcnn_data_options *s = &opt->data.source;
    if (s->image_rows && (s->image_rows != in->rows || s->image_cols != in->cols))
        return fcnn_error(FCNN_ERR_INVALID, "--image-size %dx%d, but the model takes %dx%d "
                          "images", s->image_rows, s->image_cols, in->rows, in->cols);
    bool resize = s->image_rows > 0;
    *d = (struct fcnn_dataset){ .rows = in->rows, .cols = in->cols, .channels = in->channels };
    size_t sample = fcnn_dataset_sample_bytes(d);
    d->images = malloc(sample * (size_t)count);
    d->labels = calloc((size_t)count, 1);
    if (!d->images || !d->labels)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory for %d images", count);
    for (int i = 0; i < count; i++) {
        struct fcnn_image img;
        const char *file = fcnn_cli_predict_file(&opt->data, i);
        int status = fcnn_image_prepare(file, in->rows, in->cols, in->channels, resize, &img);
        if (status != FCNN_OK)
            return status;
        memcpy(d->images + sample * (size_t)i, img.pixels, sample);
        fcnn_image_free(&img);
    }
    d->count = count;
    return FCNN_OK;
}

int fcnn_run_predict(struct fcnn_backend *be, const struct fcnn_model *model,
                     const struct fcnn_checkpoint *ck, const struct fcnn_input_info *input,
                     const struct fcnn_options *opt, FILE *out)
{
    struct fcnn_dataset files = { 0 };
    struct fcnn_split *split = NULL;
    struct fcnn_network *net = NULL;
    int classes = input->names.count, count = opt->data.predict_count;
    int batch = count < opt->eval_batch_size ? count : opt->eval_batch_size;
    int top = opt->data.top < classes ? opt->data.top : classes;
    float *logits = malloc(sizeof *logits * (size_t)batch * (size_t)classes);
    double *p = malloc(sizeof *p * (size_t)classes);
    int *index = malloc(sizeof *index * (size_t)top);
    int status = logits && p && index ? FCNN_OK
                                      : fcnn_error(FCNN_ERR_NOMEM, "out of memory for predictions");
    if (status == FCNN_OK)
        status = prepare_files(opt, input, &files);
    if (status == FCNN_OK)
        status = fcnn_split_create(be, &files, &split);
    if (status == FCNN_OK)
        status = fcnn_network_create(be, model, batch, 0, &net);
    if (status == FCNN_OK)
        status = fcnn_checkpoint_load_weights(ck, net);
    if (status == FCNN_OK && opt->data.predict_format == FCNN_PREDICT_CSV)
        fprintf(out, "file,rank,index,class,probability\n");
    if (status == FCNN_OK && opt->data.predict_format == FCNN_PREDICT_JSON)
        fprintf(out, "[");

    for (int first = 0; first < count && status == FCNN_OK; first += batch) {
        int n = count - first < batch ? count - first : batch;
        struct fcnn_tensor images = fcnn_split_images(split), labels = fcnn_split_labels(split);
        struct fcnn_tensor order = fcnn_split_order(split);
        struct fcnn_tensor x = fcnn_network_input(net, n), y = fcnn_network_labels(net, n);
        struct fcnn_tensor z = fcnn_network_activation(net, model->layer_count, n);
        status = fcnn_load_batch(be, &images, &labels, &order, first, &x, &y);
        if (status == FCNN_OK)
            status = fcnn_network_forward(net, n, false);
        if (status == FCNN_OK)
            status = fcnn_download(be, &z, logits);
        for (int i = 0; i < n && status == FCNN_OK; i++) {
            const float *l = logits + (size_t)i * (size_t)classes;
            double max = l[0], sum = 0;
            for (int c = 1; c < classes; c++)
                max = l[c] > max ? l[c] : max;
            for (int c = 0; c < classes; c++)
                sum += p[c] = exp((double)l[c] - max);
            for (int c = 0; c < classes; c++)
                p[c] /= sum;
            if (!isfinite(sum))
                status = fcnn_error(FCNN_ERR_NUMERIC, "%s: the model's outputs are not finite",
                                    fcnn_cli_predict_file(&opt->data, first + i));
            top_classes(p, classes, top, index);
            if (status == FCNN_OK)
                print_file(out, opt->data.predict_format,
                           fcnn_cli_predict_file(&opt->data, first + i), p, index, top,
                           &input->names, first + i == 0);
        }
    }
    if (status == FCNN_OK && opt->data.predict_format == FCNN_PREDICT_JSON)
        fprintf(out, "\n]\n");
    fcnn_network_destroy(net);
    fcnn_split_destroy(be, split);
    fcnn_dataset_free(&files);
    free(logits);
    free(p);
    free(index);
    return status;
}
