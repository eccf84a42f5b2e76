/* Text reports. */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "nn/layer.h"
#include "report/report.h"

void fcnn_format_thousands(long long n, char *out, size_t size)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%lld", n < 0 ? -n : n);
    size_t o = 0;
    if (n < 0 && o + 1 < size)
        out[o++] = '-';
    for (int i = 0; i < len && o + 1 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0 && o + 1 < size)
            out[o++] = ',';
        if (o + 1 < size)
            out[o++] = digits[i];
    }
    out[o] = '\0';
}

static void shape_text(const struct fcnn_shape *s, char *out, size_t size)
{
    if (s->ndim == 3)
        snprintf(out, size, "(None, %d, %d, %d)", s->dims[0], s->dims[1], s->dims[2]);
    else
        snprintf(out, size, "(None, %d)", s->dims[0]);
}

/* Prints a horizontal rule of `width` copies of c. */
static void rule(FILE *out, char c, int width)
{
    for (int i = 0; i < width; i++)
        fputc(c, out);
    fputc('\n', out);
}

void fcnn_print_summary(FILE *out, const struct fcnn_model *model)
{
    char shape[48], count[32], layer[FCNN_MAX_LAYERS][80];
    long long total = 0, trainable = 0;

    /* The first column fits the longest "name (Type)", as Keras's 28 does not. */
    int name_width = 28;
    for (int i = 0; i < model->layer_count; i++) {
        const struct fcnn_layer *l = &model->layers[i];
        int len = snprintf(layer[i], sizeof layer[i], "%s (%s)", l->name, l->type->class_name);
        if (len + 2 > name_width)
            name_width = len + 2;
    }
    int width = 1 + name_width + 26 + 10;

    fprintf(out, "Model: \"sequential\"\n");
    rule(out, '_', width);
    fprintf(out, " %-*s%-26s%-10s\n", name_width, "Layer (type)", "Output Shape", "Param #");
    rule(out, '=', width);
    for (int i = 0; i < model->layer_count; i++) {
        const struct fcnn_layer *l = &model->layers[i];
        /* Keras counts a layer's non-trainable weights (BatchNormalization's moving
         * statistics) in its row and in the total. */
        long long params = 0;
        for (int k = 0; k < l->param_count; k++)
            params += (long long)model->params[l->first_param + k].count;
        trainable += params;
        for (int k = 0; k < l->state_count; k++)
            params += (long long)model->states[l->first_state + k].count;
        total += params;
        shape_text(&l->out, shape, sizeof shape);
        fcnn_format_thousands(params, count, sizeof count);
        fprintf(out, " %-*s%-26s%-10s\n", name_width, layer[i], shape, count);
        if (i + 1 < model->layer_count)
            fputc('\n', out);
    }
    rule(out, '=', width);
    fcnn_format_thousands(total, count, sizeof count);
    fprintf(out, "Total params: %s\n", count);
    fcnn_format_thousands(trainable, count, sizeof count);
    fprintf(out, "Trainable params: %s\n", count);
    fcnn_format_thousands(total - trainable, count, sizeof count);
    fprintf(out, "Non-trainable params: %s\n", count);
    rule(out, '_', width);
}

void fcnn_confusion_matrix(const int *true_labels, const int *pred_labels, int count,
                           int classes, int *matrix)
{
    memset(matrix, 0, sizeof(int) * (size_t)classes * (size_t)classes);
    for (int i = 0; i < count; i++)
        if (true_labels[i] >= 0 && true_labels[i] < classes && pred_labels[i] >= 0 &&
            pred_labels[i] < classes)
            matrix[true_labels[i] * classes + pred_labels[i]]++;
}

void fcnn_print_confusion(FILE *out, const int *matrix, int classes,
                          const char *const *class_names)
{
    /* Columns are numbered like the rows, so ten classes fit an 80-column terminal. */
    fprintf(out, "Confusion matrix (rows: true class; columns: predicted class, by number)\n");
    fprintf(out, "%16s", "");
    for (int p = 0; p < classes; p++)
        fprintf(out, " %5d", p);
    fprintf(out, "\n");
    for (int t = 0; t < classes; t++) {
        fprintf(out, "%2d %-13s", t, class_names[t]);
        for (int p = 0; p < classes; p++)
            fprintf(out, " %5d", matrix[t * classes + p]);
        fprintf(out, "\n");
    }
}

static double ratio(double num, double den)
{
    return den > 0 ? num / den : 0.0; /* scikit-learn's zero_division default reports 0 */
}

void fcnn_print_classification_report(FILE *out, const int *matrix, int classes,
                                      const char *const *class_names)
{
    int total = 0, correct = 0;
    double macro_p = 0, macro_r = 0, macro_f = 0, weighted_p = 0, weighted_r = 0, weighted_f = 0;

    fprintf(out, "%14s %9s %9s %9s %9s\n\n", "", "precision", "recall", "f1-score", "support");
    for (int c = 0; c < classes; c++) {
        int support = 0, predicted = 0, hits = matrix[c * classes + c];
        for (int k = 0; k < classes; k++) {
            support += matrix[c * classes + k];
            predicted += matrix[k * classes + c];
        }
        double precision = ratio(hits, predicted), recall = ratio(hits, support);
        double f1 = ratio(2 * precision * recall, precision + recall);
        fprintf(out, "%14s %9.4f %9.4f %9.4f %9d\n", class_names[c], precision, recall, f1, support);
        total += support;
        correct += hits;
        macro_p += precision;
        macro_r += recall;
        macro_f += f1;
        weighted_p += precision * support;
        weighted_r += recall * support;
        weighted_f += f1 * support;
    }
    fprintf(out, "\n%14s %9s %9s %9.4f %9d\n", "accuracy", "", "", ratio(correct, total), total);
    fprintf(out, "%14s %9.4f %9.4f %9.4f %9d\n", "macro avg", macro_p / classes, macro_r / classes,
            macro_f / classes, total);
    fprintf(out, "%14s %9.4f %9.4f %9.4f %9d\n", "weighted avg", ratio(weighted_p, total),
            ratio(weighted_r, total), ratio(weighted_f, total), total);
}
