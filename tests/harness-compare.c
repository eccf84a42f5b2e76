/* Comparing a backend's output with the reference's. Integers must match exactly. Floats
 * are checked in three steps, each of which catches what the next would miss:
 *   1. NaN and infinity: a NaN fails (the pre-filled sentinel is a NaN, so this is also the
 *      "element never written" check); an infinity must be matched by one of the same sign.
 *   2. NMSE, sum (a-b)^2 / sum a^2 in double: a systematic error spread over the tensor.
 *   3. Every element within atol * rms(a) + rtol * |a|: one wrong element among thousands,
 *      which the NMSE averages away. */
#include <config.h>

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "harness-impl.h"

void harness_appendf(char *buf, size_t size, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, size - used, fmt, ap);
    va_end(ap);
}

void harness_format_index(const struct harness_tensor_spec *spec, size_t flat, char *out,
                          size_t size)
{
    size_t coord[FCNN_MAX_DIMS];
    size_t rest = flat;
    for (int d = spec->ndim - 1; d >= 0; d--) {
        coord[d] = rest % (size_t)spec->shape[d];
        rest /= (size_t)spec->shape[d];
    }
    out[0] = '\0';
    harness_appendf(out, size, "[");
    for (int d = 0; d < spec->ndim; d++)
        harness_appendf(out, size, d ? ",%zu" : "%zu", coord[d]);
    harness_appendf(out, size, "]");
}

static int64_t integer_at(const struct harness_tensor_spec *spec, const void *data, size_t i)
{
    return spec->dtype == FCNN_U8 ? ((const uint8_t *)data)[i] : ((const int32_t *)data)[i];
}

static bool compare_integers(const struct harness_tensor_spec *spec, const char *name,
                             const void *expected, const void *got, char *why, size_t why_size)
{
    size_t n = spec_count(spec), wrong = 0, first = 0;
    for (size_t i = 0; i < n; i++) {
        if (integer_at(spec, expected, i) != integer_at(spec, got, i)) {
            if (!wrong)
                first = i;
            wrong++;
        }
    }
    if (!wrong)
        return true;
    char at[64];
    harness_format_index(spec, first, at, sizeof at);
    harness_appendf(why, why_size,
                    "output '%s' must match exactly: %zu of %zu elements differ; first %s%s "
                    "(flat %zu): expected %" PRId64 ", got %" PRId64 "%s",
                    name, wrong, n, name, at, first, integer_at(spec, expected, first),
                    integer_at(spec, got, first),
                    integer_at(spec, got, first) == (int32_t)0x7fc0dead ? " (the pre-fill: never written)" : "");
    return false;
}

static bool check_special_values(const struct harness_tensor_spec *spec, const char *name,
                                 const float *a, const float *b, char *why, size_t why_size)
{
    size_t n = spec_count(spec), bad = 0, first = 0;
    const char *what = "";
    for (size_t i = 0; i < n; i++) {
        const char *problem = NULL;
        if (isnan(a[i]))
            problem = "the reference itself produced NaN";
        else if (isnan(b[i]))
            problem = "NaN (computed, or the pre-fill: never written)";
        else if ((isinf(a[i]) || isinf(b[i])) &&
                 !(isinf(a[i]) && isinf(b[i]) && signbit(a[i]) == signbit(b[i])))
            problem = "an infinity not matched by one of the same sign";
        if (problem) {
            if (!bad) {
                first = i;
                what = problem;
            }
            bad++;
        }
    }
    if (!bad)
        return true;
    char at[64];
    harness_format_index(spec, first, at, sizeof at);
    harness_appendf(why, why_size,
                    "output '%s': NMSE n/a; %zu of %zu elements wrong; first %s%s (flat %zu): "
                    "%s: expected %.9g, got %.9g",
                    name, bad, n, name, at, first, what, (double)a[first], (double)b[first]);
    return false;
}

bool harness_compare(const struct harness_tensor_spec *spec, const char *name,
                     const void *expected, const void *got, const struct harness_tolerance *tol,
                     double *nmse_out, char *why, size_t why_size)
{
    if (nmse_out)
        *nmse_out = 0;
    if (spec->dtype != FCNN_F32)
        return compare_integers(spec, name, expected, got, why, why_size);

    const float *a = expected, *b = got;
    size_t n = spec_count(spec);
    if (!check_special_values(spec, name, a, b, why, why_size)) {
        if (nmse_out)
            *nmse_out = INFINITY;
        return false;
    }

    double sum_a2 = 0, sum_d2 = 0;
    for (size_t i = 0; i < n; i++) {
        if (isinf(a[i]))
            continue; /* matched above */
        double d = (double)a[i] - b[i];
        sum_a2 += (double)a[i] * a[i];
        sum_d2 += d * d;
    }
    double nmse = sum_a2 > 0 ? sum_d2 / sum_a2 : (sum_d2 > 0 ? INFINITY : 0);
    double rms = sqrt(sum_a2 / (double)n);
    if (nmse_out)
        *nmse_out = nmse;

    if (tol->exact_zeros) {
        size_t lost = 0, first = 0;
        for (size_t i = 0; i < n; i++)
            if (a[i] == 0 && b[i] != 0 && !lost++)
                first = i;
        if (lost) {
            char at[64];
            harness_format_index(spec, first, at, sizeof at);
            harness_appendf(why, why_size,
                            "output '%s': %zu of %zu elements that are exactly zero in the "
                            "reference are not; first %s%s (flat %zu): got %.9g",
                            name, lost, n, name, at, first, (double)b[first]);
            return false;
        }
    }

    size_t worst = 0;
    double worst_ratio = 0, worst_allowed = 0;
    for (size_t i = 0; i < n; i++) {
        if (isinf(a[i]))
            continue;
        double diff = fabs((double)a[i] - b[i]);
        double allowed = tol->atol * rms + tol->rtol * fabs((double)a[i]);
        double ratio = allowed > 0 ? diff / allowed : (diff > 0 ? INFINITY : 0);
        if (ratio > worst_ratio) {
            worst_ratio = ratio;
            worst = i;
            worst_allowed = allowed;
        }
    }

    if (nmse <= tol->nmse && worst_ratio <= 1) {
        /* A note for verbose runs: how much room the output left. */
        harness_appendf(why, why_size, "output '%s': NMSE %.3e, worst element at %.3f of its bound",
                        name, nmse, worst_ratio);
        return true;
    }
    char at[64];
    harness_format_index(spec, worst, at, sizeof at);
    harness_appendf(why, why_size,
                    "output '%s': NMSE %.3e (allowed %.0e); worst element %s%s (flat %zu): "
                    "expected %.9g, got %.9g, |diff| %.3e (allowed %.3e)",
                    name, nmse, tol->nmse, name, at, worst, (double)a[worst], (double)b[worst],
                    fabs((double)a[worst] - b[worst]), worst_allowed);
    return false;
}
