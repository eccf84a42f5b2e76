/* Internals shared by the harness's files: how a case describes its tensors, the seeded
 * inputs, tensors placed between guard regions on a backend, and the comparisons. */
#ifndef FCNN_HARNESS_IMPL_H
#define FCNN_HARNESS_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"

/* --- seeded random inputs (harness-random.c) ----------------------------------------- */

struct harness_rng {
    uint64_t state;
};

/* The stream for one case: the run's seed mixed with the case id, so a case gets the same
 * inputs whatever else the table holds and whichever filters are given. */
void rng_seed(struct harness_rng *rng, uint64_t seed, const char *salt);
uint64_t rng_next(struct harness_rng *rng);
double rng_uniform(struct harness_rng *rng);          /* [0, 1) */
uint32_t rng_below(struct harness_rng *rng, uint32_t n); /* 0 .. n-1 */

enum harness_init {
    INIT_NONE,         /* an output: the harness pre-fills it with a NaN sentinel */
    INIT_UNIFORM,      /* uniform in [lo, hi) */
    INIT_AWAY_FROM_ZERO, /* magnitude uniform in [lo, hi), random sign: clear of ReLU's kink */
    INIT_RELU_OUTPUT,  /* what ReLU emits: a third exact zeros (some -0), the rest in (0, hi] */
    INIT_DISTINCT,     /* evenly spaced values from lo to hi, shuffled: no two equal */
    INIT_FEW_LEVELS,   /* integers from lo to hi: exact ties, deliberately */
    INIT_LABELS,       /* integers in [0, classes): i32 or u8 */
    INIT_PERMUTATION,  /* a shuffled 0 .. count-1 (i32) */
    INIT_BYTES,        /* u8 in 0 .. 255 */
    INIT_IDENTITY,     /* a square 2-D identity matrix */
    INIT_CONSTANT,     /* every element lo */
    INIT_SPARSE_PIXELS, /* [n,h,w,c]: a fifth of the pixels uniform in [lo, hi) in every
                           channel, the rest exact zeros in every channel (an image's
                           black background, with edges everywhere) */
};

struct harness_tensor_spec {
    enum fcnn_dtype dtype;
    int ndim;
    int shape[FCNN_MAX_DIMS];
    enum harness_init init;
    double lo, hi;
    int classes;  /* INIT_LABELS */
    bool omitted; /* an optional tensor left out: NULL in the call */
    int alias;    /* 1 + the index of an earlier input whose buffer this output shares (an
                     op run in place, as relu_bwd with dx = dy); 0: a buffer of its own */
};

size_t spec_count(const struct harness_tensor_spec *spec);
size_t spec_bytes(const struct harness_tensor_spec *spec);
/* Host data for an input as its spec says (malloc'd); NULL for outputs and omitted ones. */
void *harness_make_input(const struct harness_tensor_spec *spec, struct harness_rng *rng);

/* --- cases (harness-cases.c) -------------------------------------------------------- */

/* How close a float output must be to the reference: NMSE = sum (a-b)^2 / sum a^2 at most
 * `nmse`, and every element |a-b| <= atol * rms(a) + rtol * |a|. atol is in units of the
 * reference output's root-mean-square, so one figure serves outputs of any scale. All zero:
 * bit-for-bit (numerically) equal. */
struct harness_tolerance {
    double nmse, atol, rtol;
    /* Also: an element the reference computes as exactly zero must be exactly zero (of
     * either sign), as a ReLU's mask downstream needs; not merely within the bound. */
    bool exact_zeros;
};

struct harness_case {
    enum fcnn_op op;
    char id[128];
    struct fcnn_op_call call; /* op and scalar parameters; tensors are placed at run time */
    struct harness_tensor_spec t[FCNN_OP_MAX_TENSORS];
    struct harness_tolerance tol;
    double flops; /* perf: floating-point operations of one call, 0 where none makes sense */
};

struct harness_case_list {
    struct harness_case *items;
    int count, capacity;
};

void harness_cases_test(struct harness_case_list *list);
void harness_cases_perf(struct harness_case_list *list);
void harness_case_list_free(struct harness_case_list *list);

/* Where each tensor of a backward call comes from, in grad mode. */
enum grad_source_kind {
    SOURCE_OMITTED,
    SOURCE_FORWARD,  /* tensor `index` of the forward call (its input, or its output at the
                        unperturbed point) */
    SOURCE_UPSTREAM, /* r, the objective's weights: dL/dy */
    SOURCE_RESULT,   /* the gradient under test, shaped like the differentiated input */
    SOURCE_SCRATCH,  /* an output the check ignores, shaped like forward tensor `index` */
};

struct grad_source {
    enum grad_source_kind kind;
    int index;
};

enum harness_grad_kind {
    GRAD_FINITE_DIFFERENCE, /* a backward op against central differences of its forward */
    GRAD_CLOSED_FORM,       /* an optimizer update against its definition, computed here */
};

struct harness_grad_case {
    enum harness_grad_kind kind;
    enum fcnn_op op; /* the op under test */
    char id[128];
    /* GRAD_FINITE_DIFFERENCE: L = sum r * forward.t[objective], differentiated with respect
     * to forward.t[wrt]; the backward call gets the same scalar parameters as the forward.
     * GRAD_CLOSED_FORM: `forward` is the update call itself. */
    struct harness_case forward;
    int wrt, objective;
    struct harness_tensor_spec upstream;
    struct grad_source backward[FCNN_OP_MAX_TENSORS];
    double step;       /* h: inputs are perturbed to x + h and x - h */
    double reduction;  /* terms summed per forward output: sizes its rounding error */
    /* GRAD_CLOSED_FORM: writes the outputs the update should produce from the inputs host[]
     * (in the call's order) into expected[i] for each output i, in double from the float
     * inputs: the op's definition, written apart from any backend's. */
    void (*closed_form)(const struct harness_case *c, void *const host[], float *expected[]);
};

struct harness_grad_case_list {
    struct harness_grad_case *items;
    int count, capacity;
};

void harness_cases_grad(struct harness_grad_case_list *list);
void harness_grad_case_list_free(struct harness_grad_case_list *list);

/* --- tensors placed on a backend between guards (harness-place.c) ------------------- */

struct placed_tensor {
    struct fcnn_buffer *buffer; /* guard, then the tensor, then guard */
    struct fcnn_tensor desc;
    size_t total;               /* bytes of the whole buffer */
};

/* A call whose tensors live on a backend. Its descriptors point into the struct itself:
 * keep it where it was set up, never copy it. */
struct placed_call {
    struct fcnn_backend *be;
    const struct harness_case *c;
    struct fcnn_op_call call;
    struct placed_tensor t[FCNN_OP_MAX_TENSORS];
};

/* Allocates each tensor of `c` on `be` inside a larger buffer whose guard regions hold a
 * canary pattern, uploads host[i] into inputs (IN and INOUT) and a NaN sentinel into
 * outputs. `misalign` (0 or a multiple of 4) shifts every tensor off the buffer's natural
 * alignment. false with a reason in `why` on failure (the struct is then freed). */
bool placed_call_init(struct placed_call *pc, struct fcnn_backend *be,
                      const struct harness_case *c, void *const host[], size_t misalign,
                      char *why, size_t why_size);
/* Downloads every tensor with its guards: checks the canaries, checks that inputs still hold
 * host[i], and returns outputs (OUT and INOUT) in out[i] (malloc'd; NULL for the rest). */
bool placed_call_collect(struct placed_call *pc, void *const host[], void *out[],
                         char *why, size_t why_size);
void placed_call_free(struct placed_call *pc);

/* --- comparisons (harness-compare.c) ------------------------------------------------- */

/* A downloaded output against the reference's: integers exactly; floats by NaN/Inf first,
 * then NMSE and the per-element bound. On failure `why` names the output, the NMSE and the
 * worst element (index, expected, got). `nmse_out` (may be NULL) receives the NMSE. */
bool harness_compare(const struct harness_tensor_spec *spec, const char *name,
                     const void *expected, const void *got, const struct harness_tolerance *tol,
                     double *nmse_out, char *why, size_t why_size);
/* "[n,h,w,c]" for a flat index into a tensor of this shape. */
void harness_format_index(const struct harness_tensor_spec *spec, size_t flat, char *out,
                          size_t size);

/* --- recording (harness.c) ----------------------------------------------------------- */

/* Prints "<id> <target> OK|FAILED|SKIPPED", then `detail` (indented), and counts it. */
void harness_record(struct harness *h, enum fcnn_op op, const char *id, const char *target,
                    enum harness_verdict verdict, const char *detail);
/* "backend" for a backend's only variant (named after it), else "backend:variant". */
void harness_target_name(struct fcnn_backend *be, const char *variant, char *out, size_t size);

/* Appends printf-style text to a fixed buffer, silently truncating. */
void harness_appendf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void *harness_xmalloc(size_t bytes);

#endif
