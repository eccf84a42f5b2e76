/* The backend's reports (the op table's report slot): the tuning table for fcnn --tune,
 * and the per-op device-time profile for fcnn --profile. */
#include <config.h>

#include <math.h>
#include <string.h>

#include "ocl_registry.h"

static void parameters(const struct ocl_variant *v, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < OCL_MAX_TUNABLES && v->tunables[i].name && used < size; i++) {
        int n = snprintf(out + used, size - used, "%s%s=%d", i ? " " : "", v->tunables[i].name,
                         v->tunables[i].value);
        used += n > 0 ? (size_t)n : 0;
    }
    if ((v->flags & OCL_USES_CLBLAST) && used < size)
        snprintf(out + used, size - used, "%sCLBlast SGEMM", used ? ", " : "");
}

static void gflops_text(double flops, double seconds, char *out, size_t size)
{
    if (flops > 0 && seconds > 0 && isfinite(seconds))
        snprintf(out, size, "%.1f", flops / seconds * 1e-9);
    else
        snprintf(out, size, "-");
}

static int report_tuning(struct ocl_context *ctx, FILE *out)
{
    const struct ocl_tuning *t = &ctx->tuning;
    fprintf(out, "Kernel tuning on %s\n", ctx->description);
    if (!t->enabled) {
        fprintf(out, "  tuning is off (FCNN_TUNE=0): each op runs its highest-priority variant\n");
        return FCNN_OK;
    }
    fprintf(out, "  %s; %.1f s spent timing variants in this run\n",
            t->path[0] ? t->path : "choices not stored (the cache directory is off)", t->seconds);
    fprintf(out, "  %-18s %-14s %-26s %9s %7s  %s\n", "op", "variant", "parameters", "ms",
            "GFLOPS", "shape (every tensor, then parameters)");
    int shown = 0;
    for (int op = 0; op < FCNN_OP_COUNT; op++) {
        for (int i = 0; i < t->count; i++) {
            const struct ocl_tuning_entry *e = &t->entries[i];
            if ((int)e->op != op || !e->variant || !(e->used || e->timed))
                continue;
            char params[96], gflops[16];
            parameters(e->variant, params, sizeof params);
            gflops_text(e->flops, e->seconds, gflops, sizeof gflops);
            fprintf(out, "  %-18s %-14s %-26s %9.3f %7s  %s%s\n", fcnn_op_name(e->op),
                    e->variant->name, params, 1e3 * e->seconds, gflops, e->key,
                    e->timed ? "" : " (stored)");
            if (e->timed && e->candidates > 1) {
                fprintf(out, "  %-18s   others:", "");
                for (int c = 0; c < e->candidates; c++)
                    if (e->candidate[c] != e->variant) {
                        if (isfinite(e->candidate_seconds[c]))
                            fprintf(out, " %s %.3f", e->candidate[c]->name,
                                    1e3 * e->candidate_seconds[c]);
                        else
                            fprintf(out, " %s failed", e->candidate[c]->name);
                    }
                fprintf(out, " ms\n");
            }
            shown++;
        }
    }
    if (!shown)
        fprintf(out, "  (no op of this run had more than one variant to choose from)\n");
    return FCNN_OK;
}

static int report_profile(struct ocl_context *ctx, FILE *out)
{
    struct ocl_profile *p = &ctx->profile;
    if (!p->enabled)
        return fcnn_error(FCNN_ERR_UNSUPPORTED, "opencl: the profile needs the backend opened "
                          "with profiling on (fcnn --profile)");
    OCL_CHECK(clFinish, clFinish(ctx->queue));
    OCL_TRY(ocl_profile_collect(ctx, true));
    double total = 0;
    for (int op = 0; op < FCNN_OP_COUNT; op++)
        total += p->device_seconds[op];
    fprintf(out, "Device time per op, from OpenCL profiling events (%s)\n", ctx->description);
    fprintf(out, "%-20s %9s %9s %11s %10s %7s %8s\n", "op", "calls", "kernels", "device s",
            "ms/call", "share", "GFLOPS");
    bool any_fused = false;
    for (int op = 0; op < FCNN_OP_COUNT; op++) {
        if (!p->calls[op])
            continue;
        char gflops[16];
        gflops_text(p->flops[op], p->device_seconds[op], gflops, sizeof gflops);
        fprintf(out, "%-20s %9lld %9lld %11.3f %10.4f %6.1f%% %8s%s\n", fcnn_op_name(op),
                p->calls[op], p->commands[op], p->device_seconds[op],
                1e3 * p->device_seconds[op] / (double)p->calls[op],
                total > 0 ? 100 * p->device_seconds[op] / total : 0.0, gflops,
                ctx->fusion.fused[op] ? " *" : "");
        any_fused |= ctx->fusion.fused[op] > 0;
    }
    fprintf(out, "%-20s %9s %9s %11.3f\n", "all ops", "", "", total);
    if (any_fused)
        fprintf(out, "* some calls ran fused into the pooling op beside them (its kernel does "
                "their work; FCNN_FUSE=0 turns fusion off)\n");
    return FCNN_OK;
}

int ocl_report(void *opaque, enum fcnn_backend_report what, FILE *out)
{
    struct ocl_context *ctx = opaque;
    OCL_TRY(ocl_fusion_flush(ctx));
    switch (what) {
    case FCNN_REPORT_TUNING: return report_tuning(ctx, out);
    case FCNN_REPORT_PROFILE: return report_profile(ctx, out);
    }
    return fcnn_error(FCNN_ERR_UNSUPPORTED, "opencl: no such report");
}
