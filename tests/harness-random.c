/* Seeded inputs for the harness: a splitmix64 stream per case, and the value patterns the
 * ops need (ranges, ReLU outputs with exact zeros, tie-free or tie-rich pooling windows,
 * labels in range, permutations). The harness keeps its own generator so its inputs do not
 * change when the trainer's generator does. */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness-impl.h"

void *harness_xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "harness: out of memory allocating %zu bytes\n", bytes);
        exit(99); /* automake's hard error: the harness itself could not run */
    }
    return p;
}

void rng_seed(struct harness_rng *rng, uint64_t seed, const char *salt)
{
    /* FNV-1a of the salt, so that every case id gets an unrelated stream. */
    uint64_t hash = 0xcbf29ce484222325u;
    for (const char *p = salt; *p; p++) {
        hash ^= (uint8_t)*p;
        hash *= 0x100000001b3u;
    }
    rng->state = seed ^ hash;
}

uint64_t rng_next(struct harness_rng *rng)
{
    uint64_t z = (rng->state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

double rng_uniform(struct harness_rng *rng)
{
    return (double)(rng_next(rng) >> 11) * 0x1.0p-53;
}

uint32_t rng_below(struct harness_rng *rng, uint32_t n)
{
    /* Multiply-shift: the bias for n far below 2^32 is negligible for test inputs. */
    return (uint32_t)(((rng_next(rng) >> 32) * (uint64_t)n) >> 32);
}

size_t spec_count(const struct harness_tensor_spec *spec)
{
    size_t n = 1;
    for (int d = 0; d < spec->ndim; d++)
        n *= (size_t)spec->shape[d];
    return n;
}

size_t spec_bytes(const struct harness_tensor_spec *spec)
{
    return spec_count(spec) * fcnn_dtype_size(spec->dtype);
}

static void shuffle_floats(float *v, size_t n, struct harness_rng *rng)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = rng_below(rng, (uint32_t)i);
        float t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

static void fill_floats(const struct harness_tensor_spec *s, float *v, size_t n,
                        struct harness_rng *rng)
{
    switch (s->init) {
    case INIT_UNIFORM:
        for (size_t i = 0; i < n; i++)
            v[i] = (float)(s->lo + (s->hi - s->lo) * rng_uniform(rng));
        break;
    case INIT_AWAY_FROM_ZERO:
        for (size_t i = 0; i < n; i++) {
            float magnitude = (float)(s->lo + (s->hi - s->lo) * rng_uniform(rng));
            v[i] = rng_below(rng, 2) ? magnitude : -magnitude;
        }
        break;
    case INIT_RELU_OUTPUT:
        /* Zeros of both signs: a ReLU backward keyed on the sign bit instead of y > 0 would
         * pass +0 wrongly or -0 wrongly, and one of the two shows it. */
        for (size_t i = 0; i < n; i++) {
            if (rng_below(rng, 3) == 0)
                v[i] = rng_below(rng, 4) == 0 ? -0.0f : 0.0f;
            else
                v[i] = (float)(s->hi * (1.0 - rng_uniform(rng))); /* (0, hi] */
        }
        break;
    case INIT_DISTINCT:
        /* Spacing (hi - lo) / (n - 1) stays above a float's resolution for every size the
         * tables use, so the rounded values are distinct too. */
        for (size_t i = 0; i < n; i++)
            v[i] = (float)(n > 1 ? s->lo + (s->hi - s->lo) * (double)i / (double)(n - 1) : s->lo);
        shuffle_floats(v, n, rng);
        break;
    case INIT_FEW_LEVELS: {
        uint32_t levels = (uint32_t)(s->hi - s->lo) + 1;
        for (size_t i = 0; i < n; i++)
            v[i] = (float)(s->lo + rng_below(rng, levels));
        break;
    }
    case INIT_IDENTITY:
        for (size_t i = 0; i < n; i++)
            v[i] = (i / (size_t)s->shape[1]) == (i % (size_t)s->shape[1]) ? 1.0f : 0.0f;
        break;
    case INIT_CONSTANT:
        for (size_t i = 0; i < n; i++)
            v[i] = (float)s->lo;
        break;
    case INIT_SPARSE_PIXELS: {
        size_t channels = (size_t)s->shape[s->ndim - 1];
        for (size_t pixel = 0; pixel < n / channels; pixel++) {
            bool lit = rng_below(rng, 5) == 0;
            for (size_t c = 0; c < channels; c++)
                v[pixel * channels + c] =
                    lit ? (float)(s->lo + (s->hi - s->lo) * rng_uniform(rng)) : 0.0f;
        }
        break;
    }
    default:
        fprintf(stderr, "harness: init %d does not make floats\n", (int)s->init);
        exit(99);
    }
}

void *harness_make_input(const struct harness_tensor_spec *s, struct harness_rng *rng)
{
    if (s->omitted || s->init == INIT_NONE)
        return NULL;
    size_t n = spec_count(s);
    void *data = harness_xmalloc(spec_bytes(s));

    switch (s->dtype) {
    case FCNN_F32:
        fill_floats(s, data, n, rng);
        break;
    case FCNN_I32: {
        int32_t *v = data;
        if (s->init == INIT_LABELS) {
            for (size_t i = 0; i < n; i++)
                v[i] = (int32_t)rng_below(rng, (uint32_t)s->classes);
        } else if (s->init == INIT_PERMUTATION) {
            for (size_t i = 0; i < n; i++)
                v[i] = (int32_t)i;
            for (size_t i = n; i > 1; i--) {
                size_t j = rng_below(rng, (uint32_t)i);
                int32_t t = v[i - 1];
                v[i - 1] = v[j];
                v[j] = t;
            }
        } else {
            fprintf(stderr, "harness: init %d does not make i32\n", (int)s->init);
            exit(99);
        }
        break;
    }
    case FCNN_U8: {
        uint8_t *v = data;
        uint32_t range = s->init == INIT_LABELS ? (uint32_t)s->classes : 256;
        if (s->init != INIT_LABELS && s->init != INIT_BYTES) {
            fprintf(stderr, "harness: init %d does not make u8\n", (int)s->init);
            exit(99);
        }
        for (size_t i = 0; i < n; i++)
            v[i] = (uint8_t)rng_below(rng, range);
        break;
    }
    }
    return data;
}
