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
#include "core/status.h"

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

    /* The newer layers: Keras's names, trainable parameters apart from state, their
     * initial values, and one clear error per misfit. */
    struct fcnn_model n;
    fcnn_model_init(&n, (struct fcnn_shape){ 3, { 6, 6, 3 } }, 4);
    EXPECT(fcnn_add_batchnorm(&n, 0.99f, 1e-3f) == 0, "batchnorm after the input");
    EXPECT(fcnn_add_activation(&n, FCNN_ACT_TANH) == 0, "activation");
    EXPECT(fcnn_add_flatten(&n) == 0, "flatten");
    EXPECT(fcnn_add_dense(&n, 5, false, FCNN_ACT_SIGMOID) == 0, "dense without bias");
    EXPECT(fcnn_add_dropout(&n, 0.5f) == 0, "dropout");
    EXPECT(fcnn_add_batchnorm(&n, 0.9f, 1e-5f) == 0, "batchnorm after dense");
    EXPECT(fcnn_add_activation(&n, FCNN_ACT_NONE) == 0, "linear activation");
    EXPECT(fcnn_add_dense(&n, 4, true, FCNN_ACT_SOFTMAX) == 0, "softmax dense");
    static const char *const layer_names[] = { "batch_normalization", "activation", "flatten",
                                               "dense", "dropout", "batch_normalization_1",
                                               "activation_1", "dense_1" };
    EXPECT(n.layer_count == 8, "%d layers", n.layer_count);
    for (int i = 0; i < n.layer_count && i < 8; i++)
        EXPECT(strcmp(n.layers[i].name, layer_names[i]) == 0, "layer %d is %s", i,
               n.layers[i].name);
    static const char *const param_names[] = { "batch_normalization/gamma",
                                               "batch_normalization/beta", "dense/kernel",
                                               "batch_normalization_1/gamma",
                                               "batch_normalization_1/beta", "dense_1/kernel",
                                               "dense_1/bias" };
    EXPECT(n.param_count == 7, "%d parameter tensors", n.param_count);
    for (int i = 0; i < n.param_count && i < 7; i++)
        EXPECT(strcmp(n.params[i].name, param_names[i]) == 0, "param %d is %s", i,
               n.params[i].name);
    static const char *const state_names[] = { "batch_normalization/moving_mean",
                                               "batch_normalization/moving_variance",
                                               "batch_normalization_1/moving_mean",
                                               "batch_normalization_1/moving_variance" };
    EXPECT(n.state_count == 4, "%d state tensors", n.state_count);
    for (int i = 0; i < n.state_count && i < 4; i++)
        EXPECT(strcmp(n.states[i].name, state_names[i]) == 0, "state %d is %s", i,
               n.states[i].name);
    EXPECT(n.states[2].count == 5 && n.states[0].count == 3, "state sizes %zu %zu",
           n.states[0].count, n.states[2].count);
    EXPECT(fcnn_model_is_random(&n) && !fcnn_model_is_random(&m), "which models are random");
    float *init = calloc(n.param_floats, sizeof *init), *state = calloc(n.state_floats, sizeof *state);
    fcnn_rng_seed(&rng, 1);
    fcnn_model_init_params(&n, &rng, init);
    fcnn_model_init_state(&n, state);
    EXPECT(init[n.params[0].offset] == 1.0f && init[n.params[1].offset] == 0.0f,
           "gamma starts at 1, beta at 0");
    EXPECT(state[n.states[0].offset + 2] == 0.0f && state[n.states[3].offset + 4] == 1.0f,
           "moving mean starts at 0, moving variance at 1");
    free(init);
    free(state);
    EXPECT(fcnn_add_dropout(&n, 1.0f) != 0 && strstr(fcnn_last_error(), "Dropout"),
           "dropout rate 1 accepted");
    EXPECT(fcnn_add_batchnorm(&n, 0.99f, 0.0f) != 0 && strstr(fcnn_last_error(), "epsilon"),
           "batchnorm epsilon 0 accepted");
    EXPECT(fcnn_add_activation(&n, (enum fcnn_activation)42) != 0, "activation 42 accepted");
    EXPECT(fcnn_add_dense(&n, 0, true, FCNN_ACT_NONE) != 0 && strstr(fcnn_last_error(), "units"),
           "dense with 0 units accepted");

    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    else
        printf("model: all checks passed\n");
    return failures ? 1 : 0;
}
