/* The --augment specification. */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "data/augment.h"

bool fcnn_augment_any(const struct fcnn_augment *a)
{
    return a->flip || a->shift > 0 || a->rotate > 0;
}

bool fcnn_augment_equal(const struct fcnn_augment *a, const struct fcnn_augment *b)
{
    return a->flip == b->flip && a->shift == b->shift && a->rotate == b->rotate;
}

void fcnn_augment_text(const struct fcnn_augment *a, char *text, size_t size)
{
    char rotate[32] = "";
    if (a->rotate > 0) {
        /* The shortest form that reads back to the same float: a resumed run must draw
         * exactly the angles the interrupted one would have. */
        snprintf(rotate, sizeof rotate, "rotate:%g", a->rotate);
        if ((float)strtod(rotate + 7, NULL) != a->rotate)
            snprintf(rotate, sizeof rotate, "rotate:%.9g", a->rotate);
    }
    char shift[24] = "";
    if (a->shift > 0)
        snprintf(shift, sizeof shift, "shift:%d", a->shift);
    const char *parts[] = { a->flip ? "flip" : "", shift, rotate };
    size_t used = 0;
    if (size)
        text[0] = '\0';
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (!*parts[i] || used >= size)
            continue;
        int n = snprintf(text + used, size - used, "%s%s", used ? "," : "", parts[i]);
        used += n > 0 ? (size_t)n : 0;
    }
}

int fcnn_augment_parse(const char *spec, struct fcnn_augment *out)
{
    *out = (struct fcnn_augment){ 0 };
    char copy[256];
    if (!spec || !*spec || strlen(spec) >= sizeof copy)
        return fcnn_error(FCNN_ERR_INVALID, "--augment needs flip, shift:N and/or rotate:DEGREES, "
                          "comma-separated");
    strcpy(copy, spec);
    char *save = NULL;
    for (char *part = strtok_r(copy, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(part, ':'), *end;
        if (colon)
            *colon = '\0';
        const char *value = colon ? colon + 1 : NULL;
        errno = 0;
        if (!strcmp(part, "flip") && !value) {
            out->flip = true;
        } else if (!strcmp(part, "shift") && value) {
            long v = strtol(value, &end, 10);
            if (errno || end == value || *end || v < 1 || v > 64)
                return fcnn_error(FCNN_ERR_INVALID, "--augment: shift:%s must be 1 to 64 pixels",
                                  value);
            out->shift = (int)v;
        } else if (!strcmp(part, "rotate") && value) {
            double v = strtod(value, &end);
            if (errno || end == value || *end || !(v > 0 && v <= 180))
                return fcnn_error(FCNN_ERR_INVALID, "--augment: rotate:%s must be above 0 and at "
                                  "most 180 degrees", value);
            out->rotate = (float)v;
        } else {
            return fcnn_error(FCNN_ERR_INVALID, "--augment: '%s%s%s' is not flip, shift:N or "
                              "rotate:DEGREES", part, value ? ":" : "", value ? value : "");
        }
    }
    if (!fcnn_augment_any(out))
        return fcnn_error(FCNN_ERR_INVALID, "--augment needs flip, shift:N and/or rotate:DEGREES");
    return FCNN_OK;
}

void fcnn_augment_draw(const struct fcnn_augment *a, struct fcnn_rng *rng, int n, float *params)
{
    for (int i = 0; i < n; i++) {
        float *p = params + (size_t)i * 4;
        p[0] = a->flip ? (float)fcnn_rng_below(rng, 2) : 0.0f;
        p[1] = a->shift ? (float)((int)fcnn_rng_below(rng, 2 * (uint64_t)a->shift + 1) - a->shift)
                        : 0.0f;
        p[2] = a->shift ? (float)((int)fcnn_rng_below(rng, 2 * (uint64_t)a->shift + 1) - a->shift)
                        : 0.0f;
        p[3] = a->rotate ? (float)((2 * fcnn_rng_uniform(rng) - 1) * a->rotate * M_PI / 180)
                         : 0.0f;
    }
}
