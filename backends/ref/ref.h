/* The reference backend's ops, one family per file. Plain C11 loops written for clarity:
 * direct convolution, sums accumulated in double. It is the oracle every other backend is
 * held to, so it must be obviously right before it is fast. Each output element is
 * computed by one thread in a fixed order, so results do not depend on the thread count.
 *
 * Every op has the uniform slot signature (fcnn_op_fn): it unpacks its tensors from the
 * validated call in the order its descriptor (src/backend/op-table.c) lists them. */
#ifndef FCNN_REF_H
#define FCNN_REF_H

#include "backend/backend-impl.h"

#define REF_PTR(type, t) FCNN_HOST_PTR(type, t)

/* For the direct convolution's innermost loops (ref_conv2d.c): the function is compiled
 * also for AVX2 and for AVX-512, and the loader picks the version for this CPU, where the
 * compiler and linker can (configure checks). The loops over channels, marked `omp simd`,
 * then run 4 or 8 doubles at a time. Each sum keeps its order, and the product of two
 * floats is exact in double, so the fused multiply-add AVX-512 brings rounds as the
 * separate multiply and add did: every result is the same bit for bit, 3-4 times sooner.
 *
 * A sanitizer build (--enable-sanitizers) leaves these loops uninstrumented: with ASan's
 * and UBSan's checks on every element GCC cannot vectorize them, and they ran 25 times
 * slower than in the plain build, most of the time of the sanitized suite's training
 * tests. They read and write only inside tensors whose shapes the dispatcher validated,
 * the callers around them stay instrumented, and the harness's guard regions
 * (tests/harness-place.c) catch a write outside an output in every build. */
#if defined(HAVE_TARGET_CLONES)
#define REF_VECTOR_LOOPS                                                                   \
    __attribute__((target_clones("avx512f", "avx2", "default")))                          \
    __attribute__((no_sanitize("address", "undefined")))
#elif defined(__GNUC__)
#define REF_VECTOR_LOOPS __attribute__((no_sanitize("address", "undefined")))
#else
#define REF_VECTOR_LOOPS
#endif

fcnn_op_fn ref_load_batch;                                                 /* ref_data.c */
fcnn_op_fn ref_augment;                                                    /* ref_augment.c */
fcnn_op_fn ref_conv2d_fwd, ref_conv2d_pool_fwd, ref_conv2d_bwd_data,    /* ref_conv2d.c */
    ref_conv2d_bwd_filter, ref_bias_bwd;
fcnn_op_fn ref_maxpool_fwd, ref_maxpool_bwd, ref_avgpool_fwd,           /* ref_pool.c */
    ref_avgpool_bwd, ref_global_avgpool_fwd, ref_global_avgpool_bwd;
fcnn_op_fn ref_relu_bwd, ref_dense_fwd, ref_dense_bwd_data,                /* ref_dense.c */
    ref_dense_bwd_weights;
fcnn_op_fn ref_softmax_xent;                                               /* ref_loss.c */
fcnn_op_fn ref_sgd_update, ref_momentum_update, ref_adam_update,           /* ref_optim.c */
    ref_rmsprop_update, ref_adamw_update;
fcnn_op_fn ref_activation_fwd, ref_activation_bwd, ref_dropout_fwd,        /* ref_activation.c */
    ref_dropout_bwd;
fcnn_op_fn ref_batchnorm_fwd_train, ref_batchnorm_fwd_infer,               /* ref_batchnorm.c */
    ref_batchnorm_bwd;

#endif
