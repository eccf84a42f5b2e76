/* The reference model: Keras's layer names, output shapes and parameter counts (50,186 in
 * all), the printed summary, and Keras's initialisation from the seeded generator. */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/model.h"
#include "nn/network.h"
#include "report/report.h"
#include "core/rng.h"

#include "expect.h"


int main(void)
{
    struct fcnn_model m;
    EXPECT(fcnn_model_reference(&m) == 0, "reference model does not build");

    /* The summary, rows exactly as the issue lists them. */
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    fcnn_print_summary(out, &m);
    fclose(out);
    static const char *const rows[][3] = {
        { "conv2d (Conv2D)", "(None, 28, 28, 32)", "320" },
        { "max_pooling2d (MaxPooling2D)", "(None, 14, 14, 32)", "0" },
        { "conv2d_1 (Conv2D)", "(None, 14, 14, 64)", "18,496" },
        { "max_pooling2d_1 (MaxPooling2D)", "(None, 7, 7, 64)", "0" },
        { "flatten (Flatten)", "(None, 3136)", "0" },
        { "dense (Dense)", "(None, 10)", "31,370" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *at = strstr(text, rows[i][0]);
        char *line_end = at ? strchr(at, '\n') : NULL;
        EXPECT(at && line_end, "summary lacks the row '%s'", rows[i][0]);
        if (at && line_end) {
            char line[200];
            snprintf(line, sizeof line, "%.*s", (int)(line_end - at), at);
            EXPECT(strstr(line, rows[i][1]), "row '%s' lacks shape %s", line, rows[i][1]);
            char count[32];
            snprintf(count, sizeof count, " %s ", rows[i][2]);
            EXPECT(strstr(line, count), "row '%s' lacks count %s", line, rows[i][2]);
        }
    }
    EXPECT(strstr(text, "Total params: 50,186\n"), "summary total:\n%s", text);
    EXPECT(strstr(text, "Trainable params: 50,186\n"), "summary trainable");
    EXPECT(strstr(text, "Non-trainable params: 0\n"), "summary non-trainable");
    free(text);

    /* The parameter tensors, as Keras names and shapes them. */
    static const struct { const char *name; int ndim, shape[4]; } params[] = {
        { "conv2d/kernel", 4, { 3, 3, 1, 32 } },   { "conv2d/bias", 1, { 32 } },
        { "conv2d_1/kernel", 4, { 3, 3, 32, 64 } }, { "conv2d_1/bias", 1, { 64 } },
        { "dense/kernel", 2, { 3136, 10 } },        { "dense/bias", 1, { 10 } },
    };
    EXPECT(m.param_count == 6, "%d parameter tensors", m.param_count);
    size_t total = 0;
    for (int i = 0; i < m.param_count && i < 6; i++) {
        EXPECT(strcmp(m.params[i].name, params[i].name) == 0, "param %d is %s", i, m.params[i].name);
        EXPECT(m.params[i].ndim == params[i].ndim, "%s rank", params[i].name);
        for (int d = 0; d < params[i].ndim; d++)
            EXPECT(m.params[i].shape[d] == params[i].shape[d], "%s dim %d", params[i].name, d);
        EXPECT(m.params[i].offset % 16 == 0, "%s not 64-byte aligned", params[i].name);
        if (i > 0)
            EXPECT(m.params[i].offset >= m.params[i - 1].offset + m.params[i - 1].count,
                   "%s overlaps the previous tensor", params[i].name);
        total += m.params[i].count;
    }
    EXPECT(total == 50186, "%zu parameters", total);
    EXPECT(m.param_floats >= total, "arena smaller than the parameters");

    /* Glorot-uniform kernels within Keras's limits, zero biases, reproducible by seed. */
    float *a = calloc(m.param_floats, sizeof *a), *b = calloc(m.param_floats, sizeof *b);
    struct fcnn_rng rng;
    fcnn_rng_seed(&rng, 42);
    fcnn_model_init_params(&m, &rng, a);
    fcnn_rng_seed(&rng, 42);
    fcnn_model_init_params(&m, &rng, b);
    EXPECT(memcmp(a, b, m.param_floats * sizeof *a) == 0, "same seed, different weights");
    fcnn_rng_seed(&rng, 43);
    fcnn_model_init_params(&m, &rng, b);
    EXPECT(memcmp(a, b, m.param_floats * sizeof *a) != 0, "different seeds, same weights");
    for (int i = 0; i < m.param_count; i++) {
        const struct fcnn_param *p = &m.params[i];
        double limit = p->fan_in ? sqrt(6.0 / (p->fan_in + p->fan_out)) : 0, sum = 0, max = 0;
        for (size_t k = 0; k < p->count; k++) {
            double v = a[p->offset + k];
            sum += v;
            max = fabs(v) > max ? fabs(v) : max;
        }
        if (!p->fan_in) {
            EXPECT(max == 0, "%s is not zero", p->name);
            continue;
        }
        EXPECT(max <= limit && max > 0.9 * limit, "%s: max |w| %g, limit %g", p->name, max, limit);
        /* The mean of n uniform draws on [-L, L] has standard deviation L / sqrt(3n). */
        double sd = limit / sqrt(3.0 * (double)p->count);
        EXPECT(fabs(sum / p->count) < 5 * sd, "%s: mean %g is off (sd %g)", p->name,
               sum / p->count, sd);
    }
    /* conv2d/kernel: fan_in 3*3*1, fan_out 3*3*32, as Keras computes for HWIO. */
    EXPECT(m.params[0].fan_in == 9 && m.params[0].fan_out == 288, "conv2d fans %d %d",
           m.params[0].fan_in, m.params[0].fan_out);
    free(a);
    free(b);

    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    else
        printf("model: all checks passed\n");
    return failures ? 1 : 0;
}
