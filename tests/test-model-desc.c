/* Models from outside: the --model spec and Keras's JSON parse into the expected layers,
 * normalise to one spec, build the model the builders make, and every malformed input is
 * one error line naming its position. Parameter counts in the summary are worked out here
 * from Keras's formulas (conv: kh*kw*cin*filters + filters; dense: in*units + units;
 * BatchNormalization: 4 per channel, 2 of them trainable) and, for the Keras files in
 * tests/data/keras, are the numbers Keras 3.15 printed for them. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/status.h"
#include "nn/model_desc.h"
#include "report/report.h"

#include "expect.h"

static const struct fcnn_shape input = { 3, { 28, 28, 1 } };

static const char *srcdir(void)
{
    const char *dir = getenv("srcdir");
    return dir ? dir : ".";
}

/* --- good specs --- */

static void test_good_specs(void)
{
    /* spec -> its normalised form */
    static const char *const cases[][2] = {
        { "conv2d(32,3,relu) maxpool(2) conv2d(64,3,relu) maxpool(2) flatten dense(10)",
          "conv2d(32,3,relu) maxpool(2) conv2d(64,3,relu) maxpool(2) flatten dense(10)" },
        { FCNN_REFERENCE_SPEC, FCNN_REFERENCE_SPEC },
        /* keywords, Keras's names, case, spaces and defaults written out */
        { "  Conv2D( filters=32 , kernel_size=3x3, strides=1, padding=same, activation=relu,"
          " use_bias=True )  MaxPooling2D(pool_size=2, strides=2, padding=valid) "
          "conv2d(64,3,same,relu) max_pooling2d(2) Flatten dense(units=10,activation=linear)  ",
          FCNN_REFERENCE_SPEC },
        { "conv2d(16,5x3,2x1,tanh) maxpool(3,2,padding=same) conv2d(24,2,sigmoid) "
          "globalavgpool dense(10)",
          "conv2d(16,5x3,tanh,strides=2x1) maxpool(3,strides=2,padding=same) "
          "conv2d(24,2,sigmoid) globalavgpool dense(10)" },
        { "conv2d(32,3,use_bias=false) batchnorm activation(relu) avgpool(2,padding=same) "
          "flatten dropout(0.3) dense(128,relu) batch_normalization(momentum=0.9,epsilon=1e-5) "
          "dropout(rate=0.5) dense(10,softmax)",
          "conv2d(32,3,use_bias=false) batchnorm activation(relu) avgpool(2,padding=same) "
          "flatten dropout(0.3) dense(128,relu) batchnorm(momentum=0.9,epsilon=1e-05) "
          "dropout(0.5) dense(10,softmax)" },
        { "flatten() dense(10) activation(softmax)", "flatten dense(10) activation(softmax)" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fcnn_model_desc d, again;
        char spec[FCNN_SPEC_SIZE], spec2[FCNN_SPEC_SIZE];
        int status = fcnn_model_spec_parse(cases[i][0], NULL, &d);
        EXPECT(status == FCNN_OK, "'%s': %s", cases[i][0], fcnn_last_error());
        if (status != FCNN_OK)
            continue;
        EXPECT(fcnn_model_desc_validate(&d, input, 10, NULL) == FCNN_OK, "'%s' invalid: %s",
               cases[i][0], fcnn_last_error());
        EXPECT(fcnn_model_desc_spec(&d, spec, sizeof spec) == FCNN_OK, "spec of '%s'",
               cases[i][0]);
        EXPECT(strcmp(spec, cases[i][1]) == 0, "'%s' normalised to\n  '%s', want\n  '%s'",
               cases[i][0], spec, cases[i][1]);
        /* The normalised form reads back as itself. */
        EXPECT(fcnn_model_spec_parse(spec, NULL, &again) == FCNN_OK &&
                   fcnn_model_desc_spec(&again, spec2, sizeof spec2) == FCNN_OK &&
                   strcmp(spec, spec2) == 0,
               "'%s' does not read back as itself ('%s')", spec, spec2);
    }

    /* The layers themselves, for one spec with everything spelled differently. */
    struct fcnn_model_desc d;
    EXPECT(fcnn_model_spec_parse("conv2d(8,3x5,2,tanh,padding=same,use_bias=false) "
                                 "avgpool(3,1) dropout(0.25) batchnorm(momentum=0.5) flatten "
                                 "dense(10,softmax)", NULL, &d) == FCNN_OK,
           "spec: %s", fcnn_last_error());
    EXPECT(d.count == 6, "%d layers", d.count);
    const struct fcnn_layer_desc *c = &d.layers[0], *p = &d.layers[1];
    EXPECT(c->kind == FCNN_LAYER_CONV2D && c->units == 8 && c->size[0] == 3 && c->size[1] == 5 &&
               c->strides[0] == 2 && c->strides[1] == 2 && c->padding == FCNN_PADDING_SAME &&
               !c->use_bias && c->activation == FCNN_ACT_TANH,
           "conv2d parsed wrong");
    EXPECT(p->kind == FCNN_LAYER_AVGPOOL2D && p->size[0] == 3 && p->strides[0] == 1 &&
               p->strides[1] == 1 && p->padding == FCNN_PADDING_VALID,
           "avgpool parsed wrong");
    EXPECT(d.layers[2].kind == FCNN_LAYER_DROPOUT && d.layers[2].rate == 0.25, "dropout");
    EXPECT(d.layers[3].kind == FCNN_LAYER_BATCHNORM && d.layers[3].momentum == 0.5 &&
               d.layers[3].epsilon == 1e-3,
           "batchnorm");
    EXPECT(d.layers[5].kind == FCNN_LAYER_DENSE && d.layers[5].units == 10 &&
               d.layers[5].activation == FCNN_ACT_SOFTMAX && d.layers[5].use_bias,
           "dense");
}

/* --- bad specs: one line, naming the column --- */

static void test_bad_specs(void)
{
    static const char *const cases[][2] = {
        { "", "--model: the spec is empty" },
        { "conv2d(32,3) flatten dense(10) foo", "--model column 32: unknown layer 'foo'" },
        { "conv2d(32,3,stride=2) flatten dense(10)", "--model column 13: conv2d: unknown argument 'stride'" },
        { "conv2d(32) flatten dense(10)", "--model column 1: conv2d is missing arguments" },
        { "conv2d(32,3,gelu) flatten dense(10)", "--model column 13: conv2d: unexpected value 'gelu'" },
        { "conv2d(32,3,activation=gelu) flatten dense(10)", "--model column 24: conv2d: unknown activation 'gelu'" },
        { "conv2d(32,3,padding=full) flatten dense(10)", "--model column 21: conv2d: padding must be valid or same" },
        { "conv2d(32,3x) flatten dense(10)", "--model column 11: conv2d: kernel_size must be a positive integer or ROWSxCOLS, not '3x'" },
        { "conv2d(32,3,relu,relu) flatten dense(10)", "--model column 18: conv2d: activation is given twice" },
        { "conv2d(32,3,use_bias=maybe) flatten dense(10)", "--model column 22: conv2d: use_bias must be true or false" },
        { "conv2d(32,3 flatten dense(10)", "--model column 13: expected ',' or ')'" },
        { "conv2d(32,3", "--model column 7: this '(' is never closed" },
        { "conv2d(32,3)flatten dense(10)", "--model column 13: expected a space before the next layer" },
        { "conv2d(32,3,) flatten dense(10)", "--model column 13: expected an argument" },
        { "(3) dense(10)", "--model column 1: expected a layer name" },
        /* arguments out of range */
        { "conv2d(0,3) flatten dense(10)", "--model column 8: filters must be 1..65536, not 0" },
        { "conv2d(8,0) flatten dense(10)", "--model column 10: kernel_size must be 1..1024, not 0" },
        { "conv2d(8,3,strides=0) flatten dense(10)", "--model column 12: strides must be 1..1024, not 0" },
        { "flatten dense(0) dense(10)", "--model column 15: units must be 1..1048576, not 0" },
        { "flatten dropout(1) dense(10)", "--model column 17: rate must be in [0, 1), not 1" },
        { "flatten dropout(-0.1) dense(10)", "--model column 17: rate must be in [0, 1), not -0.1" },
        { "flatten batchnorm(epsilon=0) dense(10)", "--model column 19: epsilon must be in (0, 1), not 0" },
        { "flatten batchnorm(momentum=1.5) dense(10)", "--model column 19: momentum must be in [0, 1], not 1.5" },
        /* shapes that do not fit */
        { "conv2d(8,29) flatten dense(10)", "--model column 10: a 29x29 kernel with padding=valid does not fit its 28x28 input" },
        { "maxpool(2) maxpool(2) maxpool(2) maxpool(2) conv2d(4,3) flatten dense(10)",
          "--model column 54: a 3x3 kernel with padding=valid does not fit its 1x1 input" },
        { "dense(10)", "--model column 1: dense needs a flat input, not (None, 28, 28, 1)" },
        /* parameters past what one tensor of an int's length holds, and past an int's
         * fan-in and fan-out: 623x623 windows over 2 channels into 6432 filters */
        { "conv2d(2,3,padding=same) conv2d(6432,623,padding=same) flatten dense(10)",
          "--model column 26: with its 4992897888 parameters the model would have more than 2^30 (1073741824)" },
        { "flatten dense(1048576) dense(1048576) dense(10)",
          "--model column 24: with its 1099512676352 parameters the model would have more than 2^30 (1073741824)" },
        { "flatten dense(700000) dense(1000) dense(10)",
          "--model column 23: with its 700001000 parameters the model would have more than 2^30 (1073741824)" },
        { "flatten conv2d(8,3) dense(10)", "--model column 9: conv2d needs an image input (height, width, channels), not (None, 784)" },
        { "flatten globalavgpool dense(10)", "--model column 9: globalavgpool needs an image input" },
        /* the classifier */
        { "conv2d(8,3) flatten", "--model column 13: the model needs a final classifier: end it with dense(10)" },
        { "flatten dense(5)", "--model column 15: the final dense is the classifier: it needs 10 units, one per class, not 5" },
        { "flatten dense(10) dropout(0.5)", "--model column 19: only activation(softmax) may follow the final classifier dense(10)" },
        { "flatten dense(10) activation(relu)", "--model column 19: only activation(softmax) may follow" },
        { "flatten dense(10,relu)", "--model column 18: the final classifier's activation must be softmax or linear" },
        { "flatten dense(64,softmax) dense(10)", "--model column 18: softmax is only supported as the model's last operation" },
        { "conv2d(8,3,softmax) flatten dense(10)", "--model column 12: softmax is only supported" },
        { "flatten dense(10,softmax) activation(softmax)", "--model column 18: softmax is only supported" },
        /* a control character inside a word is escaped, the message stays one clean line */
        { "flatten dense(1\x01\r0)", "--model column 15: dense: units must be a positive integer, not '1\\x01\\r0'" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fcnn_model_desc d;
        int status = fcnn_model_spec_parse(cases[i][0], NULL, &d);
        if (status == FCNN_OK)
            status = fcnn_model_desc_validate(&d, input, 10, NULL);
        const char *error = fcnn_last_error();
        EXPECT(status == FCNN_ERR_INVALID, "'%s' was accepted", cases[i][0]);
        EXPECT(strncmp(error, cases[i][1], strlen(cases[i][1])) == 0,
               "'%s':\n  said '%s'\n  want '%s...'", cases[i][0], error, cases[i][1]);
        EXPECT(!strchr(error, '\n'), "'%s': the error is more than one line", cases[i][0]);
    }
}

/* --- Keras JSON --- */

static int read_json(const char *name, struct fcnn_model_desc *d)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/keras/%s", srcdir(), name);
    return fcnn_model_json_read(path, d);
}

static void test_keras_files(void)
{
    /* Written by Keras 3.15 (model.to_json()), and the spec each is. */
    static const char *const files[][2] = {
        { "reference.json", FCNN_REFERENCE_SPEC },
        { "bn-dropout.json",
          "conv2d(32,3,use_bias=false) batchnorm activation(relu) maxpool(2) "
          "conv2d(64,3,relu,strides=2,padding=same) avgpool(2,padding=same) flatten "
          "dropout(0.3) dense(128,relu) batchnorm dropout(0.5) dense(10,softmax)" },
        { "global-pool.json",
          "conv2d(16,5x3,tanh,strides=2x1) maxpool(3,strides=2,padding=same) "
          "conv2d(24,2,sigmoid) globalavgpool dense(10)" },
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        struct fcnn_model_desc d;
        char spec[FCNN_SPEC_SIZE] = "";
        int status = read_json(files[i][0], &d);
        EXPECT(status == FCNN_OK, "%s: %s", files[i][0], fcnn_last_error());
        if (status != FCNN_OK)
            continue;
        EXPECT(d.has_input && d.input.ndim == 3 && d.input.dims[0] == 28 &&
                   d.input.dims[1] == 28 && d.input.dims[2] == 1,
               "%s: input shape", files[i][0]);
        EXPECT(fcnn_model_desc_validate(&d, input, 10, NULL) == FCNN_OK, "%s invalid: %s",
               files[i][0], fcnn_last_error());
        fcnn_model_desc_spec(&d, spec, sizeof spec);
        EXPECT(strcmp(spec, files[i][1]) == 0, "%s is\n  '%s', want\n  '%s'", files[i][0], spec,
               files[i][1]);
    }
    /* A real Keras file with a setting fcnn does not have. */
    struct fcnn_model_desc d;
    EXPECT(read_json("dilated.json", &d) == FCNN_ERR_INVALID, "dilated.json accepted");
    EXPECT(strstr(fcnn_last_error(), "dilated.json: config.layers[1].config.dilation_rate: "
                                     "only [1, 1] is supported"),
           "dilated.json: %s", fcnn_last_error());
}

/* A layer's build_config.input_shape is the shape Keras built it for: one that differs
 * from the shape fcnn infers is refused, naming the layer, instead of ignored. */
static void test_built_input_shape(void)
{
    char src[4096], text[65536];
    snprintf(src, sizeof src, "%s/tests/data/keras/bn-dropout.json", srcdir());
    FILE *f = fopen(src, "r");
    EXPECT(f != NULL, "cannot read %s", src);
    if (!f)
        return;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    static const char built[] = "\"input_shape\": [null, 13, 13, 32]";
    char *at = strstr(text, built);
    EXPECT(at != NULL, "bn-dropout.json has no layer built for (None, 13, 13, 32)");
    if (!at)
        return;
    at[strlen("\"input_shape\": [null, 13, 1")] = '2'; /* (None, 13, 12, 32) */
    char path[] = "/tmp/fcnn-test-model-XXXXXX";
    int fd = mkstemp(path);
    EXPECT(fd >= 0, "cannot create a temporary file");
    if (fd < 0)
        return;
    EXPECT(write(fd, text, n) == (ssize_t)n, "cannot write %s", path);
    close(fd);
    struct fcnn_model_desc d;
    int status = fcnn_model_json_read(path, &d);
    EXPECT(status == FCNN_OK, "reading: %s", fcnn_last_error());
    if (status == FCNN_OK) {
        status = fcnn_model_desc_validate(&d, input, 10, NULL);
        EXPECT(status == FCNN_ERR_INVALID, "a layer built for another shape was accepted");
        EXPECT(strstr(fcnn_last_error(), ": build_config.input_shape is (None, 13, 12, 32), "
                                         "but the layer's input is (None, 13, 13, 32)"),
               "said: %s", fcnn_last_error());
    }
    unlink(path);
}

/* Variations of a small Keras model, each with one thing wrong. */
static void test_bad_json(void)
{
    static const char *const head =
        "{\"module\": \"keras\", \"class_name\": \"Sequential\", \"config\": {\"name\": "
        "\"sequential\", \"trainable\": true, \"dtype\": \"float32\", \"layers\": ["
        "{\"module\": \"keras.layers\", \"class_name\": \"InputLayer\", \"config\": "
        "{\"batch_shape\": %s, \"dtype\": \"float32\", \"sparse\": false, \"ragged\": false, "
        "\"name\": \"input_layer\", \"optional\": false}, \"registered_name\": null}, "
        "{\"module\": \"keras.layers\", \"class_name\": \"%s\", \"config\": {\"name\": \"l\", "
        "\"trainable\": true, \"dtype\": \"float32\", %s}, \"registered_name\": null}, "
        "{\"module\": \"keras.layers\", \"class_name\": \"Flatten\", \"config\": "
        "{\"name\": \"flatten\", \"trainable\": true, \"dtype\": \"float32\", "
        "\"data_format\": \"channels_last\"}, \"registered_name\": null}, "
        "{\"module\": \"keras.layers\", \"class_name\": \"Dense\", \"config\": {\"name\": "
        "\"dense\", \"units\": %s, \"activation\": \"linear\", \"use_bias\": true}, "
        "\"registered_name\": null}]}, \"registered_name\": null, \"compile_config\": %s}";
    static const char *const conv =
        "\"filters\": 4, \"kernel_size\": [3, 3], \"strides\": %s, \"padding\": \"valid\", "
        "\"data_format\": \"channels_last\", \"dilation_rate\": [1, 1], \"groups\": %s, "
        "\"activation\": \"relu\", \"use_bias\": true, \"kernel_initializer\": {\"module\": "
        "\"keras.initializers\", \"class_name\": \"%s\", \"config\": {\"seed\": null}, "
        "\"registered_name\": null}, \"bias_initializer\": {\"module\": \"keras.initializers\", "
        "\"class_name\": \"Zeros\", \"config\": {}, \"registered_name\": null}, "
        "\"kernel_regularizer\": %s, \"bias_constraint\": null";
    struct {
        const char *batch_shape, *class_name, *strides, *groups, *init, *regularizer, *units,
            *compile, *other;
        const char *error; /* NULL: accepted */
    } cases[] = {
        { "[null, 28, 28, 1]", "Conv2D", "[1, 1]", "1", "GlorotUniform", "null", "10", "null",
          NULL, NULL },
        { "[null, 28, 28, 1]", "Conv2D", "[2, 0]", "1", "GlorotUniform", "null", "10", "null",
          NULL, "config.layers[1].config.strides: strides must be 1..1024, not 0" },
        { "[null, 28, 28, 1]", "Conv2D", "\"2\"", "1", "GlorotUniform", "null", "10", "null",
          NULL, "config.layers[1].config.strides: expected [rows, columns]" },
        /* A sign is refused when read, as the spec grammar refuses it. */
        { "[null, 28, 28, 1]", "Conv2D", "[1, -2]", "1", "GlorotUniform", "null", "10", "null",
          NULL, "config.layers[1].config.strides: expected a positive integer, not -2" },
        { "[null, 28, 28, 1]", "Conv2D", "[1, 1]", "1", "GlorotUniform", "null", "-10", "null",
          NULL, "config.layers[3].config.units: expected a positive integer, not -10" },
        { "[null, 28, 28, 1]", "Conv2D", "[1, 1]", "2", "GlorotUniform", "null", "10", "null",
          NULL, "config.layers[1].config.groups: only 1 is supported" },
        { "[null, 28, 28, 1]", "Conv2D", "[1, 1]", "1", "HeNormal", "null", "10", "null", NULL,
          "config.layers[1].config.kernel_initializer: only GlorotUniform is supported" },
        { "[null, 28, 28, 1]", "Conv2D", "[1, 1]", "1", "GlorotUniform",
          "{\"class_name\": \"L2\"}", "10", "null", NULL,
          "config.layers[1].config.kernel_regularizer: only null is supported" },
        { "[null, 28, 28, 1]", "Conv2D", "[1, 1]", "1", "GlorotUniform", "null", "0", "null",
          NULL, "config.layers[3].config.units: units must be 1..1048576, not 0" },
        { "[null, 28, 28, 1]", "Conv2D", "[1, 1]", "1", "GlorotUniform", "null", "7", "null",
          NULL, "config.layers[3].config.units: the final dense is the classifier" },
        { "[null, 32, 32, 3]", "Conv2D", "[1, 1]", "1", "GlorotUniform", "null", "10", "null",
          NULL, "config.layers[0].config.batch_shape: the model takes (None, 32, 32, 3), the "
                "data are (None, 28, 28, 1)" },
        { "[null, 28, 28, 1]", "Conv2D", "[1, 1]", "1", "GlorotUniform", "null", "10",
          "{\"optimizer\": \"adam\"}", NULL, "compile_config: a compiled model is not supported" },
        { "[null, 28, 28, 1]", "Conv3D", "[1, 1]", "1", "GlorotUniform", "null", "10", "null",
          NULL, "config.layers[1].class_name: unsupported layer 'Conv3D'" },
        { "[null, 28, 28, 1]", "Dropout", NULL, NULL, NULL, NULL, "10", "null",
          "\"rate\": 1.5, \"seed\": null, \"noise_shape\": null",
          "config.layers[1].config.rate: rate must be in [0, 1), not 1.5" },
        { "[null, 28, 28, 1]", "Dropout", NULL, NULL, NULL, NULL, "10", "null",
          "\"rate\": 0.5, \"seed\": 7",
          "config.layers[1].config.seed: only null is supported" },
        { "[null, 28, 28, 1]", "Dense", NULL, NULL, NULL, NULL, "10", "null",
          "\"units\": 10, \"activation\": \"relu\"",
          "config.layers[1]: dense needs a flat input, not (None, 28, 28, 1)" },
        { "[null, 28, 28, 1]", "MaxPooling2D", NULL, NULL, NULL, NULL, "10", "null",
          "\"pool_size\": [2, 2], \"padding\": \"valid\", \"strides\": null, \"shiny\": 1",
          "config.layers[1].config.shiny: unsupported key for MaxPooling2D" },
        { "[null, 28, 28, 1]", "BatchNormalization", NULL, NULL, NULL, NULL, "10", "null",
          "\"axis\": 1, \"momentum\": 0.99, \"epsilon\": 0.001",
          "config.layers[1].config.axis: only -1 (the channels) is supported" },
        { "[null, 28, 28, 1]", "Activation", NULL, NULL, NULL, NULL, "10", "null",
          "\"activation\": \"gelu\"",
          "config.layers[1].config.activation: unsupported activation 'gelu'" },
        /* The file's own keys and names with a line break: escaped, the message one line. */
        { "[null, 28, 28, 1]", "MaxPooling2D", NULL, NULL, NULL, NULL, "10", "null",
          "\"pool_size\": [2, 2], \"padding\": \"valid\", \"strides\": null, \"sh\\niny\": 1",
          "config.layers[1].config.sh\\niny: unsupported key for MaxPooling2D" },
        { "[null, 28, 28, 1]", "Conv\\n3D", "[1, 1]", "1", "GlorotUniform", "null", "10", "null",
          NULL, "config.layers[1].class_name: unsupported layer 'Conv\\n3D'" },
        { "[null, 28, 28, 1]", "Activation", NULL, NULL, NULL, NULL, "10", "null",
          "\"activation\": \"ge\\nlu\"",
          "config.layers[1].config.activation: unsupported activation 'ge\\nlu'" },
    };
    char path[] = "/tmp/fcnn-test-model-XXXXXX";
    int fd = mkstemp(path);
    EXPECT(fd >= 0, "cannot create a temporary file");
    if (fd < 0)
        return;
    close(fd);
    char layer[2048], text[8192];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].other)
            snprintf(layer, sizeof layer, "%s", cases[i].other);
        else
            snprintf(layer, sizeof layer, conv, cases[i].strides, cases[i].groups,
                     cases[i].init, cases[i].regularizer);
        snprintf(text, sizeof text, head, cases[i].batch_shape, cases[i].class_name, layer,
                 cases[i].units, cases[i].compile);
        FILE *f = fopen(path, "w");
        fputs(text, f);
        fclose(f);
        struct fcnn_model_desc d;
        int status = fcnn_model_json_read(path, &d);
        if (status == FCNN_OK)
            status = fcnn_model_desc_validate(&d, input, 10, NULL);
        const char *error = fcnn_last_error();
        if (!cases[i].error) {
            EXPECT(status == FCNN_OK, "case %zu refused: %s", i, error);
            continue;
        }
        char want[600];
        snprintf(want, sizeof want, "%s: %s", path, cases[i].error);
        EXPECT(status == FCNN_ERR_INVALID, "case %zu accepted (want %s)", i, cases[i].error);
        EXPECT(strncmp(error, want, strlen(want)) == 0, "case %zu:\n  said '%s'\n  want '%s...'",
               i, error, want);
        EXPECT(!strchr(error, '\n'), "case %zu: more than one line", i);
    }
    /* Not JSON at all, its first byte a control character that jansson's message quotes:
     * escaped, so the line stays readable. */
    FILE *f = fopen(path, "w");
    fputs("\x10", f);
    fclose(f);
    struct fcnn_model_desc d;
    EXPECT(fcnn_model_json_read(path, &d) == FCNN_ERR_INVALID &&
               strstr(fcnn_last_error(), "\\x10") && !strchr(fcnn_last_error(), '\x10'),
           "control character in jansson's excerpt: %s", fcnn_last_error());
    /* An InputLayer alone: refused when read, as an empty spec is when parsed. */
    f = fopen(path, "w");
    fprintf(f, "{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{\"class_name\": "
               "\"InputLayer\", \"config\": {\"batch_shape\": [null, 28, 28, 1]}}]}}");
    fclose(f);
    EXPECT(fcnn_model_json_read(path, &d) == FCNN_ERR_INVALID &&
               strstr(fcnn_last_error(), "the model has no layers"),
           "a model of an InputLayer alone: %s", fcnn_last_error());
    remove(path);
}

/* --- the model built from a description --- */

static char *summary_of(const struct fcnn_model *m)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    fcnn_print_summary(out, m);
    fclose(out);
    return text;
}

static void test_reference_build(void)
{
    struct fcnn_model_desc d;
    struct fcnn_model built, reference;
    EXPECT(fcnn_model_spec_parse(FCNN_REFERENCE_SPEC, NULL, &d) == FCNN_OK, "reference spec");
    EXPECT(fcnn_model_desc_build(&d, input, 10, &built) == FCNN_OK, "build: %s",
           fcnn_last_error());
    EXPECT(fcnn_model_reference(&reference) == FCNN_OK, "reference");
    EXPECT(strcmp(built.spec, FCNN_REFERENCE_SPEC) == 0 &&
               strcmp(reference.spec, FCNN_REFERENCE_SPEC) == 0,
           "specs '%s', '%s'", built.spec, reference.spec);
    EXPECT(built.param_count == reference.param_count &&
               built.param_floats == reference.param_floats,
           "parameters differ");
    for (int i = 0; i < built.param_count && i < reference.param_count; i++)
        EXPECT(strcmp(built.params[i].name, reference.params[i].name) == 0 &&
                   built.params[i].count == reference.params[i].count &&
                   built.params[i].offset == reference.params[i].offset,
               "parameter %d differs", i);
    char *a = summary_of(&built), *b = summary_of(&reference);
    EXPECT(strcmp(a, b) == 0, "summaries differ:\n%s\n%s", a, b);
    free(a);
    free(b);
}

/* Keras's parameter counts for a description, from its formulas. */
static void keras_counts(const struct fcnn_model_desc *d, long long *total, long long *trainable)
{
    struct fcnn_shape shapes[FCNN_MAX_LAYERS];
    fcnn_model_desc_validate(d, input, 10, shapes);
    *total = *trainable = 0;
    struct fcnn_shape in = input;
    for (int i = 0; i < d->count; i++) {
        const struct fcnn_layer_desc *l = &d->layers[i];
        long long channels = in.dims[in.ndim - 1];
        switch (l->kind) {
        case FCNN_LAYER_CONV2D: {
            long long n = (long long)l->size[0] * l->size[1] * channels * l->units +
                          (l->use_bias ? l->units : 0);
            *total += n;
            *trainable += n;
            break;
        }
        case FCNN_LAYER_DENSE: {
            long long n = channels * l->units + (l->use_bias ? l->units : 0);
            *total += n;
            *trainable += n;
            break;
        }
        case FCNN_LAYER_BATCHNORM:
            *total += 4 * channels;
            *trainable += 2 * channels;
            break;
        default: break;
        }
        in = shapes[i];
    }
}

static void expect_counts(const char *what, const struct fcnn_model_desc *d, long long total,
                          long long trainable)
{
    struct fcnn_model m;
    int status = fcnn_model_desc_build(d, input, 10, &m);
    EXPECT(status == FCNN_OK, "%s does not build: %s", what, fcnn_last_error());
    if (status != FCNN_OK)
        return;
    char *text = summary_of(&m), line[3][96], number[3][32];
    fcnn_format_thousands(total, number[0], sizeof number[0]);
    fcnn_format_thousands(trainable, number[1], sizeof number[1]);
    fcnn_format_thousands(total - trainable, number[2], sizeof number[2]);
    snprintf(line[0], sizeof line[0], "\nTotal params: %s\n", number[0]);
    snprintf(line[1], sizeof line[1], "\nTrainable params: %s\n", number[1]);
    snprintf(line[2], sizeof line[2], "\nNon-trainable params: %s\n", number[2]);
    for (int i = 0; i < 3; i++)
        EXPECT(strstr(text, line[i]), "%s: summary lacks '%s':\n%s", what, line[i] + 1, text);
    free(text);
}

static void test_parameter_counts(void)
{
    /* The Keras files, with the totals Keras printed for them. */
    static const struct {
        const char *file;
        long long total, trainable;
    } keras[] = {
        { "reference.json", 50186, 50186 },
        { "bn-dropout.json", 151914, 151594 },
        { "global-pool.json", 2066, 2066 },
    };
    for (size_t i = 0; i < sizeof keras / sizeof keras[0]; i++) {
        struct fcnn_model_desc d;
        if (read_json(keras[i].file, &d) != FCNN_OK)
            continue; /* reported above, or no jansson */
        long long total, trainable;
        keras_counts(&d, &total, &trainable);
        EXPECT(total == keras[i].total && trainable == keras[i].trainable,
               "%s: the formulas give %lld/%lld, Keras printed %lld/%lld", keras[i].file,
               total, trainable, keras[i].total, keras[i].trainable);
        expect_counts(keras[i].file, &d, keras[i].total, keras[i].trainable);
    }
    /* More architectures, counted by the formulas alone. */
    static const char *const specs[] = {
        "conv2d(32,3,relu) maxpool(2) conv2d(64,3,relu) maxpool(2) flatten dense(10)",
        "flatten dense(512,relu) dropout(0.2) dense(256,relu,use_bias=false) dense(10,softmax)",
        "conv2d(8,5x3,2,relu,padding=same) batchnorm avgpool(2) conv2d(12,4,use_bias=false) "
        "batchnorm activation(tanh) globalavgpool dense(10)",
        "conv2d(32,3,padding=same,use_bias=false) batchnorm activation(relu) "
        "conv2d(32,3,padding=same,use_bias=false) batchnorm activation(relu) maxpool(2) "
        "dropout(0.25) conv2d(64,3,padding=same,use_bias=false) batchnorm activation(relu) "
        "maxpool(2) dropout(0.25) flatten dense(128,use_bias=false) batchnorm activation(relu) "
        "dropout(0.5) dense(10,softmax)",
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        struct fcnn_model_desc d;
        if (fcnn_model_spec_parse(specs[i], NULL, &d) != FCNN_OK) {
            EXPECT(0, "'%s': %s", specs[i], fcnn_last_error());
            continue;
        }
        long long total, trainable;
        keras_counts(&d, &total, &trainable);
        expect_counts(specs[i], &d, total, trainable);
    }
}

int main(void)
{
    test_good_specs();
    test_bad_specs();
#ifdef HAVE_JANSSON
    test_keras_files();
    test_bad_json();
    test_built_input_shape();
#else
    printf("Keras JSON checks skipped: this fcnn was built without jansson\n");
#endif
    test_reference_build();
    test_parameter_counts();
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    else
        printf("model-desc: all checks passed\n");
    return failures ? 1 : 0;
}
