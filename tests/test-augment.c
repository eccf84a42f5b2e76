/* Augmentation: a flip of a flip is the identity on every backend of this build; a
 * shift moves pixels exactly and pads with zeros; the draws stay in their ranges and
 * follow the seed; the reference and OpenCL give the same augmented batch for the same
 * seed; the --augment specification is parsed strictly. */
#include <config.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "core/rng.h"
#include "core/status.h"
#include "data/augment.h"

#include "expect.h"

enum { N = 6, H = 9, W = 7, C = 3 };
#define COUNT (N * H * W * C)

/* Runs the augment op on `be` with host inputs; y receives the result. */
static int augment_on(struct fcnn_backend *be, const float *x, const float *params, float *y)
{
    struct fcnn_buffer *bx = NULL, *bp = NULL, *by = NULL;
    int status = fcnn_buffer_alloc(be, COUNT * sizeof(float), &bx);
    if (status == FCNN_OK)
        status = fcnn_buffer_alloc(be, N * 4 * sizeof(float), &bp);
    if (status == FCNN_OK)
        status = fcnn_buffer_alloc(be, COUNT * sizeof(float), &by);
    struct fcnn_tensor tx = fcnn_tensor_4d(bx, 0, FCNN_F32, N, H, W, C);
    struct fcnn_tensor tp = fcnn_tensor_2d(bp, 0, FCNN_F32, N, 4);
    struct fcnn_tensor ty = fcnn_tensor_4d(by, 0, FCNN_F32, N, H, W, C);
    if (status == FCNN_OK)
        status = fcnn_upload(be, &tx, x);
    if (status == FCNN_OK)
        status = fcnn_upload(be, &tp, params);
    if (status == FCNN_OK)
        status = fcnn_augment_batch(be, &tx, &tp, &ty);
    if (status == FCNN_OK)
        status = fcnn_download(be, &ty, y);
    fcnn_buffer_free(be, bx);
    fcnn_buffer_free(be, bp);
    fcnn_buffer_free(be, by);
    return status;
}

static void fill(float *x)
{
    struct fcnn_rng rng;
    fcnn_rng_seed(&rng, 5);
    for (int i = 0; i < COUNT; i++)
        x[i] = (float)fcnn_rng_uniform(&rng);
}

static void test_backend(const char *name, float *batch_for_seed)
{
    struct fcnn_backend *be;
    if (fcnn_backend_open(name, NULL, &be) != FCNN_OK) {
        /* A backend of this build that cannot open here (no OpenCL device) is not ours
         * to test; the OpenCL tests report that. */
        printf("skip %s: %s\n", name, fcnn_last_error());
        batch_for_seed[0] = NAN;
        return;
    }
    static float x[COUNT], once[COUNT], twice[COUNT];
    float params[N * 4] = { 0 };
    fill(x);
    for (int n = 0; n < N; n++)
        params[n * 4] = 1.0f; /* flip only */
    int status = augment_on(be, x, params, once);
    if (status == FCNN_OK)
        status = augment_on(be, once, params, twice);
    EXPECT(status == FCNN_OK, "%s: augment: %s", name, fcnn_last_error());
    EXPECT(memcmp(x, twice, sizeof x) == 0, "%s: a flip of a flip is not the identity", name);
    EXPECT(once[0] == x[(W - 1) * C], "%s: a flip did not mirror the row", name);

    /* A shift of one column right: exact copies, zeros in column 0. */
    memset(params, 0, sizeof params);
    for (int n = 0; n < N; n++)
        params[n * 4 + 2] = 1.0f;
    status = augment_on(be, x, params, once);
    bool exact = status == FCNN_OK;
    for (int n = 0; n < N && exact; n++)
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++)
                for (int k = 0; k < C; k++) {
                    size_t at = (((size_t)n * H + i) * W + j) * C + k;
                    exact &= once[at] == (j == 0 ? 0.0f : x[at - C]);
                }
    EXPECT(exact, "%s: a one-pixel shift is not a copy with a zero column", name);

    /* The training draws for seed 42: what the other backend must reproduce. */
    struct fcnn_augment spec;
    EXPECT(fcnn_augment_parse("flip,shift:2,rotate:10", &spec) == FCNN_OK, "parse");
    struct fcnn_rng rng;
    fcnn_rng_seed(&rng, 42);
    fcnn_augment_draw(&spec, &rng, N, params);
    status = augment_on(be, x, params, batch_for_seed);
    EXPECT(status == FCNN_OK, "%s: augment with drawn params: %s", name, fcnn_last_error());
    fcnn_backend_close(be);
}

int main(void)
{
    struct fcnn_augment a;
    EXPECT(fcnn_augment_parse("flip,shift:2,rotate:10", &a) == FCNN_OK && a.flip && a.shift == 2 &&
               a.rotate == 10.0f,
           "flip,shift:2,rotate:10: %s", fcnn_last_error());
    EXPECT(fcnn_augment_parse("rotate:10,flip", &a) == FCNN_OK && a.flip && !a.shift,
           "rotate:10,flip: %s", fcnn_last_error());
    static const char *bad[] = { "", "spin", "shift", "shift:0", "shift:x", "rotate:-5",
                                 "flip:1", "rotate:200", "flip,,shift:2:3" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        EXPECT(fcnn_augment_parse(bad[i], &a) != FCNN_OK && strstr(fcnn_last_error(), "--augment"),
               "'%s' accepted or message without the option: %s", bad[i], fcnn_last_error());

    /* The text a checkpoint records: canonical order, and read back to the same values
     * (a rotation that %g would round is written in full). */
    static const char *const specs[][2] = { { "rotate:10,flip", "flip,rotate:10" },
                                            { "shift:3", "shift:3" },
                                            { "rotate:0.1,shift:1,flip", "flip,shift:1,rotate:0.1" },
                                            { "rotate:12.3456789", NULL } };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        struct fcnn_augment back;
        char text[64];
        EXPECT(fcnn_augment_parse(specs[i][0], &a) == FCNN_OK, "%s: %s", specs[i][0],
               fcnn_last_error());
        fcnn_augment_text(&a, text, sizeof text);
        EXPECT(!specs[i][1] || strcmp(text, specs[i][1]) == 0, "%s written as %s", specs[i][0],
               text);
        EXPECT(fcnn_augment_parse(text, &back) == FCNN_OK && fcnn_augment_equal(&a, &back),
               "%s written as %s reads back otherwise", specs[i][0], text);
    }
    char none[8] = "x";
    fcnn_augment_text(&(struct fcnn_augment){ 0 }, none, sizeof none);
    EXPECT(none[0] == '\0', "no augmentation written as '%s'", none);
    EXPECT(fcnn_augment_parse("flip,shift:2", &a) == FCNN_OK &&
               !fcnn_augment_equal(&a, &(struct fcnn_augment){ .flip = true }),
           "flip,shift:2 equals flip");

    /* Draws: flips 0 or 1, whole shifts within 2, angles within 10 degrees; a seed gives
     * the same draws. */
    EXPECT(fcnn_augment_parse("flip,shift:2,rotate:10", &a) == FCNN_OK, "parse");
    enum { DRAWS = 2000 };
    static float d1[DRAWS * 4], d2[DRAWS * 4];
    struct fcnn_rng r1, r2;
    fcnn_rng_seed(&r1, 1);
    fcnn_rng_seed(&r2, 1);
    fcnn_augment_draw(&a, &r1, DRAWS, d1);
    fcnn_augment_draw(&a, &r2, DRAWS, d2);
    EXPECT(memcmp(d1, d2, sizeof d1) == 0, "the same seed drew differently");
    int flips = 0, shifted = 0;
    for (int i = 0; i < DRAWS; i++) {
        const float *p = d1 + 4 * i;
        EXPECT(p[0] == 0.0f || p[0] == 1.0f, "flip draw %g", p[0]);
        EXPECT(p[1] == rintf(p[1]) && fabsf(p[1]) <= 2 && fabsf(p[2]) <= 2, "shift draw %g %g",
               p[1], p[2]);
        EXPECT(fabsf(p[3]) <= (float)(10 * M_PI / 180) + 1e-6f, "angle draw %g", p[3]);
        flips += p[0] == 1.0f;
        shifted += p[1] != 0.0f;
    }
    EXPECT(flips > DRAWS / 3 && flips < 2 * DRAWS / 3, "%d flips of %d", flips, DRAWS);
    EXPECT(shifted > DRAWS / 2, "%d shifted rows of %d", shifted, DRAWS);

    /* Every backend; all that open give the same batch for the same seed. */
    static float batches[8][COUNT];
    int count = fcnn_backend_count() < 8 ? fcnn_backend_count() : 8;
    for (int b = 0; b < count; b++)
        test_backend(fcnn_backend_name_at(b), batches[b]);
    for (int b = 1; b < count; b++) {
        if (isnan(batches[b][0]))
            continue;
        double worst = 0;
        for (int i = 0; i < COUNT; i++)
            worst = fmax(worst, fabs((double)batches[b][i] - batches[0][i]));
        /* Positions in float on the device, in double in ref: see the harness's tolerance. */
        EXPECT(worst < 64 * FLT_EPSILON * H, "%s and %s differ by %g for the same seed",
               fcnn_backend_name_at(b), fcnn_backend_name_at(0), worst);
        printf("%s and %s: the same augmented batch for seed 42 (largest difference %.2g)\n",
               fcnn_backend_name_at(b), fcnn_backend_name_at(0), worst);
    }
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    else
        printf("augmentation: all checks passed\n");
    return failures ? 1 : 0;
}
