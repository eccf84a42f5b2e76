/* Tensors placed on a backend between guard regions. Every tensor of a call gets its own
 * buffer laid out as [guard | tensor | guard]: the guards hold a canary pattern and outputs
 * start as a NaN sentinel, so after the op an element written out of bounds shows in a
 * guard, and an element left unwritten is still NaN (PoCL, for one, does not zero new
 * buffers, so a backend that forgets an element would otherwise read as whatever was
 * there). Inputs are downloaded again afterwards, so an op that scribbles on its inputs is
 * caught too. */
#include <config.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness-impl.h"
#include "core/status.h"

/* Large enough to hold an overrun of a few rows of the biggest activations; a backend that
 * overruns further writes past the buffer, which a device may or may not notice. */
#define GUARD_BYTES ((size_t)16384)

/* The sentinel outputs start with: a quiet NaN with a recognisable payload, and the same
 * bits for i32 outputs (2143346349, which no label, index or count equals). */
#define SENTINEL_BITS 0x7fc0deadu
#define SENTINEL_BYTE 0xde

static uint8_t canary(size_t i, bool after)
{
    /* Position-dependent, so a shifted copy of the guard does not look intact. */
    return (uint8_t)(0xa5u ^ (uint8_t)(i * 29u) ^ (after ? 0x3cu : 0u));
}

static size_t guard_before(size_t misalign)
{
    return GUARD_BYTES + misalign;
}

/* A descriptor of the whole buffer as bytes, for moving guards and tensor together. */
static struct fcnn_tensor whole_buffer(const struct placed_tensor *pt)
{
    return fcnn_tensor_1d(pt->buffer, 0, FCNN_U8, (int)pt->total);
}

static void fill_sentinel(const struct harness_tensor_spec *s, uint8_t *dst)
{
    size_t n = spec_count(s);
    if (s->dtype == FCNN_U8) {
        memset(dst, SENTINEL_BYTE, n);
        return;
    }
    uint32_t bits = SENTINEL_BITS;
    for (size_t i = 0; i < n; i++)
        memcpy(dst + 4 * i, &bits, 4);
}

void placed_call_free(struct placed_call *pc)
{
    for (int i = 0; i < FCNN_OP_MAX_TENSORS; i++) {
        if (pc->t[i].buffer)
            fcnn_buffer_free(pc->be, pc->t[i].buffer);
        pc->t[i].buffer = NULL;
    }
}

bool placed_call_init(struct placed_call *pc, struct fcnn_backend *be,
                      const struct harness_case *c, void *const host[], size_t misalign,
                      char *why, size_t why_size)
{
    memset(pc, 0, sizeof *pc);
    pc->be = be;
    pc->c = c;
    pc->call = c->call;
    int count = fcnn_op_tensor_count(c->op);
    size_t before = guard_before(misalign);

    for (int i = 0; i < count; i++) {
        const struct harness_tensor_spec *s = &c->t[i];
        pc->call.t[i] = NULL;
        if (s->omitted)
            continue;
        if (s->alias) { /* in place: the very descriptor of the tensor it shares */
            pc->call.t[i] = &pc->t[s->alias - 1].desc;
            continue;
        }
        struct placed_tensor *pt = &pc->t[i];
        size_t bytes = spec_bytes(s);
        pt->total = before + bytes + GUARD_BYTES;
        if (pt->total > INT_MAX) {
            snprintf(why, why_size, "tensor '%s' is too large for the harness",
                     fcnn_op_tensor_name(c->op, i));
            placed_call_free(pc);
            return false;
        }
        int status = fcnn_buffer_alloc(be, pt->total, &pt->buffer);
        if (status != FCNN_OK) {
            snprintf(why, why_size, "allocating %zu bytes: %s", pt->total, fcnn_last_error());
            pt->buffer = NULL;
            placed_call_free(pc);
            return false;
        }
        pt->desc = fcnn_tensor_make(pt->buffer, before, s->dtype, s->ndim, s->shape);
        pc->call.t[i] = &pt->desc;

        uint8_t *image = harness_xmalloc(pt->total);
        for (size_t j = 0; j < before; j++)
            image[j] = canary(j, false);
        for (size_t j = 0; j < GUARD_BYTES; j++)
            image[before + bytes + j] = canary(j, true);
        if (fcnn_op_tensor_role(c->op, i) == FCNN_OUT) {
            fill_sentinel(s, image + before);
        } else if (host[i]) {
            memcpy(image + before, host[i], bytes);
        } else {
            snprintf(why, why_size, "the case gives no data for input '%s'",
                     fcnn_op_tensor_name(c->op, i));
            free(image);
            placed_call_free(pc);
            return false;
        }
        struct fcnn_tensor all = whole_buffer(pt);
        status = fcnn_upload(be, &all, image);
        free(image);
        if (status != FCNN_OK) {
            snprintf(why, why_size, "uploading tensor '%s': %s", fcnn_op_tensor_name(c->op, i),
                     fcnn_last_error());
            placed_call_free(pc);
            return false;
        }
    }
    return true;
}

/* Counts the changed bytes of a guard and where the damage starts and ends; false if none. */
static bool guard_damaged(const uint8_t *guard, size_t n, bool after, size_t *count,
                          size_t *first, size_t *last)
{
    *count = *first = *last = 0;
    for (size_t j = 0; j < n; j++) {
        if (guard[j] != canary(j, after)) {
            if (!*count)
                *first = j;
            *last = j;
            (*count)++;
        }
    }
    return *count > 0;
}

bool placed_call_collect(struct placed_call *pc, void *const host[], void *out[],
                         char *why, size_t why_size)
{
    const struct harness_case *c = pc->c;
    int count = fcnn_op_tensor_count(c->op);
    bool ok = true;
    why[0] = '\0';

    /* An input that an output shares (in place) is expected to change: its final bytes
     * are that output's. */
    int written_as[FCNN_OP_MAX_TENSORS];
    for (int i = 0; i < count; i++) {
        out[i] = NULL;
        written_as[i] = -1;
    }
    for (int i = 0; i < count; i++)
        if (!c->t[i].omitted && c->t[i].alias)
            written_as[c->t[i].alias - 1] = i;

    for (int i = 0; i < count; i++) {
        const struct harness_tensor_spec *s = &c->t[i];
        if (s->omitted || s->alias)
            continue;
        const struct placed_tensor *pt = &pc->t[i];
        const char *name = fcnn_op_tensor_name(c->op, i);
        size_t before = pt->desc.offset, bytes = spec_bytes(s);
        uint8_t *image = harness_xmalloc(pt->total);
        struct fcnn_tensor all = whole_buffer(pt);
        int status = fcnn_download(pc->be, &all, image);
        if (status != FCNN_OK) {
            harness_appendf(why, why_size, "downloading tensor '%s': %s\n", name,
                            fcnn_last_error());
            free(image);
            ok = false;
            continue;
        }

        size_t damaged, first, last;
        if (guard_damaged(image, before, false, &damaged, &first, &last)) {
            harness_appendf(why, why_size,
                            "out-of-bounds write before tensor '%s': %zu guard bytes changed, "
                            "reaching %zu bytes before its start\n",
                            name, damaged, before - first);
            ok = false;
        }
        if (guard_damaged(image + before + bytes, GUARD_BYTES, true, &damaged, &first, &last)) {
            harness_appendf(why, why_size,
                            "out-of-bounds write after tensor '%s': %zu guard bytes changed, "
                            "reaching %zu bytes past its end\n",
                            name, damaged, last + 1);
            ok = false;
        }

        if (written_as[i] >= 0) {
            out[written_as[i]] = harness_xmalloc(bytes);
            memcpy(out[written_as[i]], image + before, bytes);
        } else if (fcnn_op_tensor_role(c->op, i) == FCNN_IN) {
            if (memcmp(image + before, host[i], bytes) != 0) {
                size_t j = 0;
                while (image[before + j] == ((const uint8_t *)host[i])[j])
                    j++;
                char at[64];
                harness_format_index(s, j / fcnn_dtype_size(s->dtype), at, sizeof at);
                harness_appendf(why, why_size, "the op modified its input '%s' (first at %s%s)\n",
                                name, name, at);
                ok = false;
            }
        } else {
            out[i] = harness_xmalloc(bytes);
            memcpy(out[i], image + before, bytes);
        }
        free(image);
    }
    /* Drop the trailing newline: the recorder indents each line of a reason. */
    size_t len = strlen(why);
    if (len && why[len - 1] == '\n')
        why[len - 1] = '\0';
    return ok;
}
