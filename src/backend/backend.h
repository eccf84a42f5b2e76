/* The backend interface as the rest of fcnn sees it: open a backend by name, allocate
 * buffers on it, move bytes in and out, and run layer ops on tensor descriptors.
 *
 * Every op goes through fcnn_op_run(), which checks the descriptors (dtypes, shapes,
 * buffer bounds) once for every backend, asks the backend whether it supports the call,
 * and dispatches to the backend's slot. The typed helpers below only build the call.
 * Ops are enqueued in order; results are visible to fcnn_download(), which waits. */
#ifndef FCNN_BACKEND_H
#define FCNN_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/tensor.h"

struct fcnn_backend; /* opaque */

/* Every op of the interface, forward and backward. The second column is its public name
 * (harness ids, --kernel OP=VARIANT, profiles). Each op has one descriptor in the table of
 * src/backend/op-table.c (fcnn_op_desc) and one slot in a backend's run[] table. */
#define FCNN_OP_LIST(X)                                                                    \
    X(LOAD_BATCH, "load_batch")               /* gather u8 samples by index, scale to [0,1] */ \
    X(AUGMENT, "augment")                     /* y = x flipped, rotated, shifted per sample  */ \
    X(CONV2D_FWD, "conv2d_fwd")               /* y = act(conv(x, w) + b)                     */ \
    X(CONV2D_POOL_FWD, "conv2d_pool_fwd")     /* y = maxpool(act(conv(x, w) + b)), evaluation */ \
    X(CONV2D_BWD_DATA, "conv2d_bwd_data")     /* dx = conv_transpose(dy, w)                  */ \
    X(CONV2D_BWD_FILTER, "conv2d_bwd_filter") /* dw = correlate(x, dy)                       */ \
    X(BIAS_BWD, "bias_bwd")                   /* db = sum of dy over all but the last dim    */ \
    X(MAXPOOL_FWD, "maxpool_fwd")             /* y = max over each window                    */ \
    X(MAXPOOL_BWD, "maxpool_bwd")             /* dx = dy routed to each window's first max   */ \
    X(AVGPOOL_FWD, "avgpool_fwd")             /* y = mean over each window's real positions */ \
    X(AVGPOOL_BWD, "avgpool_bwd")             /* dx = dy spread evenly over each window      */ \
    X(GLOBAL_AVGPOOL_FWD, "global_avgpool_fwd") /* y[n,c] = mean of x[n,:,:,c]               */ \
    X(GLOBAL_AVGPOOL_BWD, "global_avgpool_bwd") /* dx[n,h,w,c] = dy[n,c] / (H*W)             */ \
    X(RELU_BWD, "relu_bwd")                   /* dx = dy where y > 0, else 0; dx may be dy  */ \
    X(DENSE_FWD, "dense_fwd")                 /* y = act(x w + b)                            */ \
    X(DENSE_BWD_DATA, "dense_bwd_data")       /* dx = dy w^T                                 */ \
    X(DENSE_BWD_WEIGHTS, "dense_bwd_weights") /* dw = x^T dy                                 */ \
    X(SOFTMAX_XENT, "softmax_xent")           /* loss, prediction and dlogits per sample     */ \
    X(SGD_UPDATE, "sgd_update")               /* p -= lr g                                   */ \
    X(MOMENTUM_UPDATE, "momentum_update")     /* v = mu v - lr g; p += v                     */ \
    X(ADAM_UPDATE, "adam_update")             /* Keras's Adam step                           */ \
    X(RMSPROP_UPDATE, "rmsprop_update")       /* Keras's RMSprop step (not centered)         */ \
    X(ADAMW_UPDATE, "adamw_update")           /* decoupled weight decay, then Adam's step    */ \
    X(ACTIVATION_FWD, "activation_fwd")       /* y = act(x): relu, sigmoid, tanh             */ \
    X(ACTIVATION_BWD, "activation_bwd")       /* dx = dy act'(x), from y; dx may be dy      */ \
    X(DROPOUT_FWD, "dropout_fwd")             /* y = x mask / (1 - rate), mask from a seed   */ \
    X(DROPOUT_BWD, "dropout_bwd")             /* dx = dy mask / (1 - rate), the same mask    */ \
    X(BATCHNORM_FWD_TRAIN, "batchnorm_fwd_train") /* batch statistics; moving ones updated  */ \
    X(BATCHNORM_FWD_INFER, "batchnorm_fwd_infer") /* the moving statistics                  */ \
    X(BATCHNORM_BWD, "batchnorm_bwd")         /* dx, dgamma, dbeta through batch statistics  */

enum fcnn_op {
#define FCNN_OP_ENUM(id, name) FCNN_OP_##id,
    FCNN_OP_LIST(FCNN_OP_ENUM)
#undef FCNN_OP_ENUM
    FCNN_OP_COUNT
};

const char *fcnn_op_name(enum fcnn_op op);
/* -1 if no op has that name. */
int fcnn_op_from_name(const char *name);

/* Keras's activations. Ops take NONE to TANH where they say so; SOFTMAX exists only as a
 * model's last activation, merged with the cross-entropy loss (softmax_xent), so the
 * model's outputs are logits. */
enum fcnn_activation { FCNN_ACT_NONE, FCNN_ACT_RELU, FCNN_ACT_SIGMOID, FCNN_ACT_TANH,
                       FCNN_ACT_SOFTMAX };
/* "linear", "relu", "sigmoid", "tanh", "softmax" (Keras's names); "?" for others. */
const char *fcnn_activation_name(enum fcnn_activation act);
/* Keras's two padding modes. Along one axis of size `in`, a window of `window` moving by
 * `stride` gives
 *   valid: out = floor((in - window) / stride) + 1, no padding (the window must fit);
 *   same:  out = ceil(in / stride), padded by max((out - 1) * stride + window - in, 0) in
 *          all, half of it (rounded down) before and the rest after, as TensorFlow does:
 *          an even window or a stride that does not divide the input pads more after. */
enum fcnn_padding { FCNN_PADDING_VALID, FCNN_PADDING_SAME };

struct fcnn_window_axis {
    int out;           /* output size; 0 when the window does not fit ("valid") */
    int before, after; /* padding on each side */
};

static inline struct fcnn_window_axis fcnn_window_axis(int in, int window, int stride,
                                                       enum fcnn_padding padding)
{
    struct fcnn_window_axis a = { 0, 0, 0 };
    if (in < 1 || window < 1 || stride < 1)
        return a;
    if (padding == FCNN_PADDING_VALID) {
        a.out = in < window ? 0 : (in - window) / stride + 1;
        return a;
    }
    a.out = (in + stride - 1) / stride;
    int total = (a.out - 1) * stride + window - in;
    if (total < 0)
        total = 0;
    a.before = total / 2;
    a.after = total - a.before;
    return a;
}

/* Output size of a window sliding by `stride` over `in` padded by `before` and `after`;
 * 0 when not even one window fits. */
static inline int fcnn_window_out(int in, int before, int after, int window, int stride)
{
    int span = in + before + after - window;
    return span < 0 || stride < 1 ? 0 : span / stride + 1;
}

/* Convolutions and pools address their input as out * stride - pad_before + tap: the
 * padding after only shows in the output size, which the op's output tensor carries. Both
 * are given so that the dispatcher can check that size. */
struct fcnn_conv2d_params {
    int sh, sw;                                   /* strides along height and width */
    int pad_top, pad_bottom, pad_left, pad_right; /* zeros around the input */
    enum fcnn_activation act; /* forward only: fused into the convolution */
    /* conv2d_pool_fwd only: P >= 2, a max pooling of P x P windows at stride P over the
     * activated output, without padding (Keras's MaxPooling2D(P), whose "valid" drops a
     * last row or column that no window fills). y is the pooled output; the convolution's
     * own output, which a backward pass would need, is never written: an evaluation
     * pass's op, saving the memory traffic of that output and of the pooling's pass. */
    int pool;
};

struct fcnn_pool_params {
    int ph, pw; /* window */
    int sh, sw; /* strides */
    /* Padded positions are not part of a window: max pooling ignores them and average
     * pooling divides by the number of real positions, as TensorFlow does. Each pad is
     * smaller than the window, so every window holds at least one real position. */
    int pad_top, pad_bottom, pad_left, pad_right;
};

struct fcnn_sgd_params { float lr; };
struct fcnn_momentum_params { float lr, momentum; };
/* alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t), computed in double by the caller:
 *   m += (g - m)(1 - beta1);  v += (g^2 - v)(1 - beta2);  p -= alpha m / (sqrt(v) + epsilon) */
struct fcnn_adam_params { float alpha, beta1, beta2, epsilon; };
/*   v = rho v + (1 - rho) g^2;  p -= lr g / sqrt(v + epsilon)     (Keras: epsilon inside) */
struct fcnn_rmsprop_params { float lr, rho, epsilon; };
/* Keras's AdamW: p -= p * decay (decay = lr * weight_decay, from the caller in double),
 * then Adam's step with alpha as above. */
struct fcnn_adamw_params { float alpha, beta1, beta2, epsilon, decay; };

/* Inverted dropout, as Keras: each element is kept with probability 1 - rate and scaled
 * by 1 / (1 - rate). The mask is a function of (seed, element index) only, a counter-based
 * hash every backend computes alike (fcnn_dropout_keep), so the backward pass and every
 * backend see the same mask with no mask tensor stored. */
struct fcnn_dropout_params { float rate; uint32_t seed; };
/* Keras's BatchNormalization over the last axis: epsilon inside the square root, and
 * moving = moving * momentum + batch * (1 - momentum) with the batch's biased variance. */
/* act: FCNN_ACT_NONE, or FCNN_ACT_RELU for a ReLU right after the normalisation, fused
 * into it: the training forward writes max(v, 0) with v = fma(x - mean, inv_std * gamma,
 * beta) in float from the rounded mean and inv_std it outputs, and batchnorm_bwd, given
 * beta as its tensor 8, reads dy through the ReLU's mask v > 0, recomputing v from x the
 * same way: the same bits as the forward's, so the same mask as relu_bwd on the forward's
 * output, without reading that output. Its dy is the gradient with respect to the ReLU's
 * output.
 * pool: 0, or P for a P x P max pooling at stride P fused in after the normalisation (and
 * its ReLU), in the training forward and the backward only: x is then [N, H, W, C] with H
 * and W multiples of P, and y (forward) and dy (backward) are the pooled [N, H/P, W/P, C].
 * The forward writes only each window's maximum; the backward routes dy to each window's
 * first maximum in row-major order (max pooling's rule) among the values v recomputed from
 * x as above, given beta as its tensor 8 whether or not a ReLU is fused. The normalised
 * tensor between the two is never written: the pooling's input is not kept. */
struct fcnn_batchnorm_params { float momentum, epsilon; enum fcnn_activation act; int pool; };

/* The dropout mask: element i is kept when the top 24 bits of a hash of (seed, i) (murmur3's
 * finaliser over i times the golden ratio, xor the seed) reach the rate scaled to 2^24.
 * All in 32-bit integers, so no backend's rounding can differ (kernels/dropout_mask.cl
 * repeats the hash for every OpenCL kernel that applies a dropout); a kept element is then
 * multiplied by fcnn_dropout_scale(rate) in float. */
static inline uint32_t fcnn_dropout_hash(uint32_t seed, uint32_t i)
{
    uint32_t h = i * 0x9E3779B1u ^ seed;
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
}
static inline uint32_t fcnn_dropout_threshold(float rate)
{
    return (uint32_t)(rate * 16777216.0f); /* exact: a float times a power of two */
}
static inline bool fcnn_dropout_keep(uint32_t seed, uint32_t i, uint32_t threshold)
{
    return (fcnn_dropout_hash(seed, i) >> 8) >= threshold;
}
static inline float fcnn_dropout_scale(float rate)
{
    return 1.0f / (1.0f - rate);
}

#define FCNN_OP_MAX_TENSORS 9

/* One op invocation: the op, its tensors in the order the op's arguments list them
 * (an omitted optional output is NULL), and its scalar parameters. */
struct fcnn_op_call {
    enum fcnn_op op;
    const struct fcnn_tensor *t[FCNN_OP_MAX_TENSORS];
    union {
        struct fcnn_conv2d_params conv;     /* CONV2D_* */
        struct fcnn_pool_params pool;       /* MAXPOOL_* */
        enum fcnn_activation act;           /* DENSE_FWD, ACTIVATION_* */
        int start;                          /* LOAD_BATCH: first index into order */
        float grad_scale;                   /* SOFTMAX_XENT: dlogits = (p - onehot) * scale */
        struct fcnn_sgd_params sgd;
        struct fcnn_momentum_params momentum;
        struct fcnn_adam_params adam;
        struct fcnn_rmsprop_params rmsprop;
        struct fcnn_adamw_params adamw;
        struct fcnn_dropout_params dropout; /* DROPOUT_* */
        struct fcnn_batchnorm_params batchnorm; /* BATCHNORM_* */
    } p;
};

/* How an op uses each of its tensors: read, written (every element, whatever it held),
 * or read and updated in place (optimizer state), and whether it may be omitted. */
enum fcnn_tensor_role { FCNN_IN, FCNN_OUT, FCNN_INOUT };

/* A rank of FCNN_ANY_RANK: any rank from 1 to FCNN_MAX_DIMS (the op's check relates it to
 * the other tensors). */
#define FCNN_ANY_RANK 0

struct fcnn_op_tensor_desc {
    const char *name;
    enum fcnn_tensor_role role;
    enum fcnn_dtype dtype;
    int rank;      /* or FCNN_ANY_RANK */
    bool optional; /* may be NULL in the call */
};

/* Everything the core knows about an op, in one row of the table in src/backend/op-table.c (its name is in FCNN_OP_LIST):
 * the dispatcher, the harness, traces, benchmarks and profiles read it and nothing else.
 * fcnn_op_validate() first checks each present tensor against its row (dtype, rank,
 * positive dimensions, alignment, buffer bounds), then calls `check` for what relates the
 * tensors and parameters to each other. */
struct fcnn_op_desc {
    const char *param; /* the member of fcnn_op_call.p the op reads; NULL: none */
    int tensor_count;
    struct fcnn_op_tensor_desc t[FCNN_OP_MAX_TENSORS];
    /* Shapes against each other, and the parameters; FCNN_ERR_INVALID with one line
     * naming the op (fcnn_op_invalid) when they do not fit. NULL: nothing to relate. */
    int (*check)(const struct fcnn_op_call *call);
    /* Nominal floating-point operations of a call (multiply and add counted apart); NULL:
     * 0, for ops that only move or compare data or do a few operations per element. */
    double (*flops)(const struct fcnn_op_call *call);
};

const struct fcnn_op_desc *fcnn_op_desc(enum fcnn_op op);

/* Shorthands for the descriptor's tensor columns. */
int fcnn_op_tensor_count(enum fcnn_op op);
const char *fcnn_op_tensor_name(enum fcnn_op op, int i);
enum fcnn_tensor_role fcnn_op_tensor_role(enum fcnn_op op, int i);
bool fcnn_op_tensor_optional(enum fcnn_op op, int i);

/* For descriptors' checks: reports "OP: what" as FCNN_ERR_INVALID and returns it. */
int fcnn_op_invalid(const struct fcnn_op_call *call, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* --- backends ------------------------------------------------------------------------ */

struct fcnn_backend_options {
    const char *device;  /* backend-specific device selector; NULL: the backend's default */
    const char *kernels; /* "OP=VARIANT[,OP=VARIANT...]": force kernel variants (the
                          * command line's --kernel: a bad list is FCNN_ERR_OPTION);
                          * NULL: the backend's environment ($FCNN_KERNELS) or auto */
    bool verbose;        /* say what is happening (device, program builds) on stderr */
    bool retune;         /* ignore stored kernel-tuning choices and time the variants again */
    bool defer_tuning;   /* time nothing in this run: a shape without a stored choice runs
                          * the variant the priorities choose, and is counted
                          * (fcnn_backend_untuned_shapes) for a tuning after the run */
    const char *kernel_choices; /* fcnn_backend_kernel_choices of another run: a shape
                          * it names runs the variant it ran there, before any stored or
                          * timed choice, so a resumed run computes as the run it continues
                          * (a line naming an op, shape or variant this build lacks is
                          * ignored); NULL: none */
    bool profile;        /* record per-op device times for FCNN_REPORT_PROFILE */
    int device_slot;     /* one process per device: with no device named, take the slot-th
                            device of the kind the default would choose (wrapping around) */
};

/* Reports a backend may print (fcnn_backend_report). */
enum fcnn_backend_report {
    FCNN_REPORT_TUNING,  /* the variant chosen per (op, shape): op, variant, parameters,
                            time, GFLOPS */
    FCNN_REPORT_PROFILE, /* each op's share of the device time since the backend opened */
};

/* The backends compiled into this build, in order of preference. */
int fcnn_backend_count(void);
const char *fcnn_backend_name_at(int i);
/* "ref, opencl": for --help and error messages. */
const char *fcnn_backend_names(void);
bool fcnn_backend_exists(const char *name);

/* Starts loading backend `name`'s driver on a thread of its own (the OpenCL ICD loader
 * and the vendor's library and compiler: tens of milliseconds on PoCL), so that the caller
 * can read its data meanwhile and fcnn_backend_open, which waits for it, finds the driver
 * ready. Nothing for a backend without a driver to load. Call it after the process's last
 * fork(); failures are not reported here but by the open, which makes the same calls.
 * fcnn_backend_preload_wait() waits for it: before exit if no open followed. */
void fcnn_backend_preload(const char *name);
void fcnn_backend_preload_wait(void);
int fcnn_backend_open(const char *name, const struct fcnn_backend_options *options,
                      struct fcnn_backend **out);
void fcnn_backend_close(struct fcnn_backend *be);
const char *fcnn_backend_name(const struct fcnn_backend *be);
/* One line naming the device the backend runs on. */
const char *fcnn_backend_device(const struct fcnn_backend *be);
/* Whether the device is the host's own CPU (ref, an OpenCL CPU device such as PoCL's):
 * then the host's peak bounds what the backend can reach. */
bool fcnn_backend_on_host_cpu(const struct fcnn_backend *be);
/* How many shapes this run met that had no stored tuning choice and were left untimed
 * (options->defer_tuning); 0 for a backend without variants to tune. */
int fcnn_backend_untuned_shapes(struct fcnn_backend *be);
/* The kernel variant this process ran for each op shape that had more than one to choose
 * from, as options->kernel_choices takes them ("op TAB shape TAB variant" lines; "-" for
 * the untimed choice by priority): a checkpoint records it. *out is malloc'ed, or NULL
 * for a backend without variants. */
int fcnn_backend_kernel_choices(struct fcnn_backend *be, char **out);
/* Lists the devices a backend could open (for --list-devices). */
int fcnn_backend_list_devices(const char *name, FILE *out);
/* Prints one of the backend's reports; FCNN_ERR_UNSUPPORTED if it has none of that kind. */
int fcnn_backend_report(struct fcnn_backend *be, enum fcnn_backend_report what, FILE *out);

/* Kernel variants of an op: their number, their names, and forcing one (NULL: automatic
 * choice). A backend without variants has exactly one, named after the backend. */
int fcnn_backend_variant_count(struct fcnn_backend *be, enum fcnn_op op);
const char *fcnn_backend_variant_name(struct fcnn_backend *be, enum fcnn_op op, int i);
int fcnn_backend_force_variant(struct fcnn_backend *be, enum fcnn_op op, const char *name);

/* --- buffers ------------------------------------------------------------------------- */

int fcnn_buffer_alloc(struct fcnn_backend *be, size_t bytes, struct fcnn_buffer **out);
void fcnn_buffer_free(struct fcnn_backend *be, struct fcnn_buffer *buffer);
/* A buffer of `host`'s first `bytes` bytes that takes `host` over (memory from malloc or
 * posix_memalign, which nothing may write afterwards): a device that reads host memory as
 * its own, such as a CPU, uses it in place, neither copied nor held twice; any other gets
 * a copy, and `host` is freed at once. Either way, and on failure too, the caller no
 * longer owns `host`. */
int fcnn_buffer_adopt(struct fcnn_backend *be, void *host, size_t bytes,
                      struct fcnn_buffer **out);
size_t fcnn_buffer_size(const struct fcnn_buffer *buffer);

/* Copy a whole tensor's bytes from / to host memory. Download waits for queued ops. */
int fcnn_upload(struct fcnn_backend *be, const struct fcnn_tensor *dst, const void *src);
int fcnn_download(struct fcnn_backend *be, const struct fcnn_tensor *src, void *dst);
/* Wait until every queued op has finished. */
int fcnn_sync(struct fcnn_backend *be);

/* --- ops ----------------------------------------------------------------------------- */

/* Checks and runs one op. FCNN_ERR_UNSUPPORTED when the backend (or the forced variant)
 * cannot run this call; FCNN_ERR_INVALID when the tensors do not fit the op. */
int fcnn_op_run(struct fcnn_backend *be, const struct fcnn_op_call *call);
/* The checks alone: dtypes, ranks, shapes, alignment and buffer bounds. */
int fcnn_op_validate(const struct fcnn_op_call *call);
/* Whether the backend can run this (valid) call, exactly as fcnn_op_run would decide. */
bool fcnn_backend_supports(struct fcnn_backend *be, const struct fcnn_op_call *call);

/* Nominal work of a call: floating-point operations (multiply and add counted apart) for
 * the convolution and dense ops, 0 for the others; and bytes read plus written. */
double fcnn_op_flops(const struct fcnn_op_call *call);
double fcnn_op_bytes(const struct fcnn_op_call *call);

/* A trace records every op call a backend runs while it is attached, with copies of the
 * descriptors, so that a benchmark can replay and time each op of a real step. */
struct fcnn_traced_call {
    struct fcnn_op_call call;                   /* its t[] point into `tensors` */
    struct fcnn_tensor tensors[FCNN_OP_MAX_TENSORS];
};
struct fcnn_trace {
    int count, capacity;
    struct fcnn_traced_call *calls;
};
/* Starts recording into `trace` (NULL: stops). The trace must outlive the recording. */
void fcnn_backend_trace(struct fcnn_backend *be, struct fcnn_trace *trace);
void fcnn_trace_free(struct fcnn_trace *trace);

/* Typed helpers for the layers: each builds the call and runs it. */
int fcnn_load_batch(struct fcnn_backend *be, const struct fcnn_tensor *images,
                    const struct fcnn_tensor *labels, const struct fcnn_tensor *order, int start,
                    const struct fcnn_tensor *x, const struct fcnn_tensor *y);
/* Training augmentation of a loaded batch x [N,H,W,C] into y (not in place): per sample
 * n, params[n] = { flip, shift_rows, shift_cols, angle }: a left-right flip when flip >
 * 0.5, then a rotation by `angle` radians about the centre, then a shift by the two
 * amounts in pixels; bilinear sampling, zeros where the source is outside the image. */
int fcnn_augment_batch(struct fcnn_backend *be, const struct fcnn_tensor *x,
                       const struct fcnn_tensor *params, const struct fcnn_tensor *y);
int fcnn_conv2d_fwd(struct fcnn_backend *be, const struct fcnn_tensor *x,
                    const struct fcnn_tensor *w, const struct fcnn_tensor *b,
                    const struct fcnn_tensor *y, const struct fcnn_conv2d_params *p);
/* p->pool: the pooling's window and stride (see struct fcnn_conv2d_params). */
int fcnn_conv2d_pool_fwd(struct fcnn_backend *be, const struct fcnn_tensor *x,
                         const struct fcnn_tensor *w, const struct fcnn_tensor *b,
                         const struct fcnn_tensor *y, const struct fcnn_conv2d_params *p);
int fcnn_conv2d_bwd_data(struct fcnn_backend *be, const struct fcnn_tensor *dy,
                         const struct fcnn_tensor *w, const struct fcnn_tensor *dx,
                         const struct fcnn_conv2d_params *p);
int fcnn_conv2d_bwd_filter(struct fcnn_backend *be, const struct fcnn_tensor *x,
                           const struct fcnn_tensor *dy, const struct fcnn_tensor *dw,
                           const struct fcnn_conv2d_params *p);
int fcnn_bias_bwd(struct fcnn_backend *be, const struct fcnn_tensor *dy,
                  const struct fcnn_tensor *db);
int fcnn_maxpool_fwd(struct fcnn_backend *be, const struct fcnn_tensor *x,
                     const struct fcnn_tensor *y, const struct fcnn_pool_params *p);
int fcnn_maxpool_bwd(struct fcnn_backend *be, const struct fcnn_tensor *x,
                     const struct fcnn_tensor *dy, const struct fcnn_tensor *dx,
                     const struct fcnn_pool_params *p);
int fcnn_avgpool_fwd(struct fcnn_backend *be, const struct fcnn_tensor *x,
                     const struct fcnn_tensor *y, const struct fcnn_pool_params *p);
int fcnn_avgpool_bwd(struct fcnn_backend *be, const struct fcnn_tensor *dy,
                     const struct fcnn_tensor *dx, const struct fcnn_pool_params *p);
int fcnn_global_avgpool_fwd(struct fcnn_backend *be, const struct fcnn_tensor *x,
                            const struct fcnn_tensor *y);
int fcnn_global_avgpool_bwd(struct fcnn_backend *be, const struct fcnn_tensor *dy,
                            const struct fcnn_tensor *dx);
int fcnn_relu_bwd(struct fcnn_backend *be, const struct fcnn_tensor *y,
                  const struct fcnn_tensor *dy, const struct fcnn_tensor *dx);
int fcnn_dense_fwd(struct fcnn_backend *be, const struct fcnn_tensor *x,
                   const struct fcnn_tensor *w, const struct fcnn_tensor *b,
                   const struct fcnn_tensor *y, enum fcnn_activation act);
int fcnn_dense_bwd_data(struct fcnn_backend *be, const struct fcnn_tensor *dy,
                        const struct fcnn_tensor *w, const struct fcnn_tensor *dx);
int fcnn_dense_bwd_weights(struct fcnn_backend *be, const struct fcnn_tensor *x,
                           const struct fcnn_tensor *dy, const struct fcnn_tensor *dw);
int fcnn_softmax_xent(struct fcnn_backend *be, const struct fcnn_tensor *logits,
                      const struct fcnn_tensor *labels, const struct fcnn_tensor *dlogits,
                      const struct fcnn_tensor *loss, const struct fcnn_tensor *pred,
                      float grad_scale);
int fcnn_sgd_update(struct fcnn_backend *be, const struct fcnn_tensor *param,
                    const struct fcnn_tensor *grad, const struct fcnn_sgd_params *p);
int fcnn_momentum_update(struct fcnn_backend *be, const struct fcnn_tensor *param,
                         const struct fcnn_tensor *grad, const struct fcnn_tensor *velocity,
                         const struct fcnn_momentum_params *p);
int fcnn_adam_update(struct fcnn_backend *be, const struct fcnn_tensor *param,
                     const struct fcnn_tensor *grad, const struct fcnn_tensor *m,
                     const struct fcnn_tensor *v, const struct fcnn_adam_params *p);
int fcnn_rmsprop_update(struct fcnn_backend *be, const struct fcnn_tensor *param,
                        const struct fcnn_tensor *grad, const struct fcnn_tensor *velocity,
                        const struct fcnn_rmsprop_params *p);
int fcnn_adamw_update(struct fcnn_backend *be, const struct fcnn_tensor *param,
                      const struct fcnn_tensor *grad, const struct fcnn_tensor *m,
                      const struct fcnn_tensor *v, const struct fcnn_adamw_params *p);

#endif
