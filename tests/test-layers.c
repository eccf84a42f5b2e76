/* The layer builders beyond the reference model: Keras's output-size and padding rules,
 * layer names, parameter counts worked out by hand from Keras's formulas, the summary, and
 * the one-line refusals of layers that do not fit their input. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "nn/model.h"
#include "report/report.h"

#include "expect.h"

static void test_window_rules(void)
{
    /* in, window, stride, padding -> out, before, after: TensorFlow's rules. */
    static const struct { int in, k, s; enum fcnn_padding pad; int out, before, after; } rules[] = {
        { 28, 3, 1, FCNN_PADDING_SAME, 28, 1, 1 },
        { 28, 3, 2, FCNN_PADDING_SAME, 14, 0, 1 },  /* (13*2 + 3 - 28) = 1: after */
        { 7, 2, 2, FCNN_PADDING_SAME, 4, 0, 1 },
        { 8, 4, 1, FCNN_PADDING_SAME, 8, 1, 2 },    /* even kernel: more after */
        { 5, 3, 3, FCNN_PADDING_SAME, 2, 0, 1 },
        { 6, 1, 2, FCNN_PADDING_SAME, 3, 0, 0 },    /* negative total: no padding */
        { 11, 3, 2, FCNN_PADDING_SAME, 6, 1, 1 },
        { 28, 5, 1, FCNN_PADDING_VALID, 24, 0, 0 },
        { 7, 3, 2, FCNN_PADDING_VALID, 3, 0, 0 },
        { 8, 3, 3, FCNN_PADDING_VALID, 2, 0, 0 },
        { 3, 5, 1, FCNN_PADDING_VALID, 0, 0, 0 },   /* does not fit */
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        struct fcnn_window_axis a = fcnn_window_axis(rules[i].in, rules[i].k, rules[i].s,
                                                     rules[i].pad);
        EXPECT(a.out == rules[i].out && a.before == rules[i].before &&
                   a.after == rules[i].after,
               "in %d, window %d, stride %d, %s: got out %d pad %d+%d, want %d pad %d+%d",
               rules[i].in, rules[i].k, rules[i].s,
               rules[i].pad == FCNN_PADDING_SAME ? "same" : "valid", a.out, a.before, a.after,
               rules[i].out, rules[i].before, rules[i].after);
    }
}

/* The summary row of `layer` shows `shape` and the parameter count `count`. */
static void expect_row(const char *text, const char *layer, const char *shape, const char *count)
{
    const char *at = strstr(text, layer);
    const char *end = at ? strchr(at, '\n') : NULL;
    EXPECT(at && end, "summary lacks the row '%s':\n%s", layer, text);
    if (!at || !end)
        return;
    char line[200], padded[32];
    snprintf(line, sizeof line, "%.*s", (int)(end - at), at);
    snprintf(padded, sizeof padded, " %s ", count);
    EXPECT(strstr(line, shape), "row '%s' lacks shape %s", line, shape);
    EXPECT(strstr(line, padded), "row '%s' lacks count %s", line, count);
}

/* A model with every new layer: strided, valid, even, rectangular and bias-free
 * convolutions, average and max pooling with "same" and "valid", global pooling. */
static void test_model(void)
{
    struct fcnn_model m;
    fcnn_model_init(&m, (struct fcnn_shape){ 3, { 28, 28, 1 } }, 10);
    struct fcnn_conv2d_args c1 = { 16, 3, 3, 2, 2, FCNN_PADDING_SAME, true, FCNN_ACT_RELU };
    struct fcnn_conv2d_args c2 = { 32, 4, 4, 1, 1, FCNN_PADDING_VALID, false, FCNN_ACT_RELU };
    struct fcnn_conv2d_args c3 = { 32, 2, 3, 1, 2, FCNN_PADDING_SAME, true, FCNN_ACT_SIGMOID };
    EXPECT(fcnn_add_conv2d(&m, &c1) == FCNN_OK, "conv2d: %s", fcnn_last_error());
    EXPECT(fcnn_add_conv2d(&m, &c2) == FCNN_OK, "conv2d_1: %s", fcnn_last_error());
    EXPECT(fcnn_add_avgpool2d(&m, 3, 3, 2, 2, FCNN_PADDING_SAME) == FCNN_OK, "avg: %s",
           fcnn_last_error());
    EXPECT(fcnn_add_conv2d(&m, &c3) == FCNN_OK, "conv2d_2: %s", fcnn_last_error());
    EXPECT(fcnn_add_maxpool2d(&m, 2, 2, 1, 1, FCNN_PADDING_VALID) == FCNN_OK, "max: %s",
           fcnn_last_error());
    EXPECT(fcnn_add_global_avgpool2d(&m) == FCNN_OK, "global: %s", fcnn_last_error());
    EXPECT(fcnn_add_dense(&m, 10, true, FCNN_ACT_NONE) == FCNN_OK, "dense: %s", fcnn_last_error());
    EXPECT(m.layer_count == 7, "%d layers", m.layer_count);

    /* Keras's counts: Conv2D kh*kw*in*filters (+ filters with a bias), Dense in*units +
     * units; pools none.
     *   conv2d    28x28x1 -> 14x14x16 (same, stride 2): 3*3*1*16 + 16   = 160
     *   conv2d_1  -> 11x11x32 (valid 4x4, no bias):     4*4*16*32       = 8,192
     *   average_pooling2d 3x3 stride 2 same -> 6x6x32 (ceil(11/2) = 6)
     *   conv2d_2  2x3, strides 1x2, same -> 6x3x32:     2*3*32*32 + 32  = 6,176
     *   max_pooling2d 2x2 stride 1 valid -> 5x2x32
     *   global_average_pooling2d -> 32
     *   dense     32 -> 10:                             32*10 + 10      = 330
     * total 14,858. */
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    fcnn_print_summary(out, &m);
    fclose(out);
    static const char *const rows[][3] = {
        { "conv2d (Conv2D)", "(None, 14, 14, 16)", "160" },
        { "conv2d_1 (Conv2D)", "(None, 11, 11, 32)", "8,192" },
        { "average_pooling2d (AveragePooling2D)", "(None, 6, 6, 32)", "0" },
        { "conv2d_2 (Conv2D)", "(None, 6, 3, 32)", "6,176" },
        { "max_pooling2d (MaxPooling2D)", "(None, 5, 2, 32)", "0" },
        { "global_average_pooling2d (GlobalAveragePooling2D)", "(None, 32)", "0" },
        { "dense (Dense)", "(None, 10)", "330" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        expect_row(text, rows[i][0], rows[i][1], rows[i][2]);
    EXPECT(strstr(text, "Total params: 14,858\n"), "summary total:\n%s", text);
    free(text);

    /* The parameter tensors: conv2d_1 has no bias. */
    static const char *const names[] = { "conv2d/kernel", "conv2d/bias", "conv2d_1/kernel",
                                         "conv2d_2/kernel", "conv2d_2/bias", "dense/kernel",
                                         "dense/bias" };
    EXPECT(m.param_count == 7, "%d parameter tensors", m.param_count);
    for (int i = 0; i < m.param_count && i < 7; i++)
        EXPECT(strcmp(m.params[i].name, names[i]) == 0, "param %d is %s, not %s", i,
               m.params[i].name, names[i]);

    /* The op parameters carry Keras's padding split: conv2d pads one after, none before. */
    const struct fcnn_conv2d_params *p = &m.layers[0].p.conv;
    EXPECT(p->sh == 2 && p->sw == 2 && p->pad_top == 0 && p->pad_bottom == 1 &&
               p->pad_left == 0 && p->pad_right == 1 && p->act == FCNN_ACT_RELU,
           "conv2d params: strides %dx%d pads %d,%d,%d,%d", p->sh, p->sw, p->pad_top,
           p->pad_bottom, p->pad_left, p->pad_right);
    const struct fcnn_conv2d_params *p3 = &m.layers[3].p.conv;
    /* rows: 6 at stride 1 with a 2-tall kernel: 1 in all, after; columns: ceil(6/2) = 3 with
     * a 3-wide kernel at stride 2: (2*2 + 3 - 6) = 1, after. */
    EXPECT(p3->pad_top == 0 && p3->pad_bottom == 1 && p3->pad_left == 0 && p3->pad_right == 1,
           "conv2d_2 pads %d,%d,%d,%d", p3->pad_top, p3->pad_bottom, p3->pad_left,
           p3->pad_right);
    const struct fcnn_pool_params *q = &m.layers[2].p.pool;
    EXPECT(q->ph == 3 && q->sh == 2 && q->pad_top == 1 && q->pad_bottom == 1,
           "average_pooling2d: window %d stride %d pads %d,%d", q->ph, q->sh, q->pad_top,
           q->pad_bottom);

    char description[512];
    fcnn_model_describe(&m, description, sizeof description);
    EXPECT(strcmp(description, "Conv2D(16,3x3,strides=2x2,same,relu) -> "
                               "Conv2D(32,4x4,valid,relu,use_bias=false) -> "
                               "AveragePooling2D(3x3,strides=2x2,same) -> "
                               "Conv2D(32,2x3,strides=1x2,same,sigmoid) -> "
                               "MaxPooling2D(2x2,strides=1x1,valid) -> GlobalAveragePooling2D -> "
                               "Dense(10)") == 0,
           "description: %s", description);
}

/* The reference model still describes itself as it always did. */
static void test_reference_description(void)
{
    struct fcnn_model m;
    EXPECT(fcnn_model_reference(&m) == FCNN_OK, "reference model: %s", fcnn_last_error());
    char description[512];
    fcnn_model_describe(&m, description, sizeof description);
    EXPECT(strcmp(description, "Conv2D(32,3x3,same,relu) -> MaxPooling2D(2) -> "
                               "Conv2D(64,3x3,same,relu) -> MaxPooling2D(2) -> Flatten -> "
                               "Dense(10)") == 0,
           "reference description: %s", description);
}

/* A refusal: FCNN_ERR_INVALID and one line naming the layer and saying what is wrong. */
static void expect_refused(int status, const char *layer, const char *what)
{
    const char *message = fcnn_last_error();
    EXPECT(status == FCNN_ERR_INVALID, "%s: status %d, not a refusal", layer, status);
    EXPECT(strncmp(message, layer, strlen(layer)) == 0 && message[strlen(layer)] == ':',
           "the error does not start with the layer's name '%s': %s", layer, message);
    EXPECT(strstr(message, what), "the error for %s does not say '%s': %s", layer, what, message);
    EXPECT(!strchr(message, '\n'), "the error is more than one line: %s", message);
}

static void test_refusals(void)
{
    struct fcnn_model m;
    fcnn_model_init(&m, (struct fcnn_shape){ 3, { 3, 3, 8 } }, 10);
    struct fcnn_conv2d_args big = { 4, 5, 5, 1, 1, FCNN_PADDING_VALID, true, FCNN_ACT_NONE };
    expect_refused(fcnn_add_conv2d(&m, &big), "conv2d", "does not fit");
    EXPECT(m.layer_count == 0, "a refused layer was added");
    /* The same kernel with "same" padding fits any input. */
    big.padding = FCNN_PADDING_SAME;
    EXPECT(fcnn_add_conv2d(&m, &big) == FCNN_OK, "same 5x5 on 3x3: %s", fcnn_last_error());
    big.padding = FCNN_PADDING_VALID;
    expect_refused(fcnn_add_conv2d(&m, &big), "conv2d_1", "does not fit");
    struct fcnn_conv2d_args zero = { 0, 3, 3, 1, 1, FCNN_PADDING_SAME, true, FCNN_ACT_NONE };
    expect_refused(fcnn_add_conv2d(&m, &zero), "conv2d_1", "at least 1");
    struct fcnn_conv2d_args stride0 = { 4, 3, 3, 0, 1, FCNN_PADDING_SAME, true, FCNN_ACT_NONE };
    expect_refused(fcnn_add_conv2d(&m, &stride0), "conv2d_1", "at least 1");
    expect_refused(fcnn_add_maxpool2d(&m, 4, 4, 4, 4, FCNN_PADDING_VALID), "max_pooling2d",
                   "does not fit");
    expect_refused(fcnn_add_avgpool2d(&m, 2, 4, 1, 1, FCNN_PADDING_VALID), "average_pooling2d",
                   "does not fit");
    expect_refused(fcnn_add_avgpool2d(&m, 2, 0, 1, 1, FCNN_PADDING_SAME), "average_pooling2d",
                   "at least 1");
    /* A pool larger than its input fits with "same": ceil(3/2) = 2, padded 1 before and 2
     * after, each pad smaller than the window. */
    EXPECT(fcnn_add_maxpool2d(&m, 4, 4, 2, 2, FCNN_PADDING_SAME) == FCNN_OK, "same pool: %s",
           fcnn_last_error());
    EXPECT(fcnn_add_global_avgpool2d(&m) == FCNN_OK, "global: %s", fcnn_last_error());
    /* After global pooling the output is flat: no spatial layer fits. */
    expect_refused(fcnn_add_conv2d(&m, &big), "conv2d_1", "not a flat one");
    expect_refused(fcnn_add_maxpool2d(&m, 2, 2, 2, 2, FCNN_PADDING_VALID), "max_pooling2d_1",
                   "not a flat one");
    expect_refused(fcnn_add_global_avgpool2d(&m), "global_average_pooling2d_1",
                   "not a flat one");
}

int main(void)
{
    test_window_rules();
    test_model();
    test_reference_description();
    test_refusals();
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    else
        printf("layers: all checks passed\n");
    return failures ? 1 : 0;
}
