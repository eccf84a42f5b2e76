# Tests of the OpenCL backend. Each exits 77 (SKIP) on a machine without an OpenCL device;
# in a build without the OpenCL backend each is a stand-in that says so and skips.
#   opencl-backend  device selection, variant forcing, build errors, the program cache
#   opencl-fusion   the fused backward chain (maxpool_bwd, relu_bwd, bias_bwd) against ref,
#                   and a failed launch of a deferred op, reported under its own name
#   opencl-dropout-fusion  dropout fused into the max pooling beside it (forward and
#                   backward) against ref, with its failed deferred launches
#   opencl-bn-dropout-fusion  dropout fused into a batch normalization with a max pooling
#                   fused in (forward and backward), against the same backend unfused
#   opencl-first-layer-fusion  a first layer's convolution fused with its pooling, in a
#                   training pass, against ref
#   fusion-catches-broken-kernel.sh  bugs planted in the fused kernels of pool.cl,
#                   conv2d_pool.cl and batchnorm.cl make the fusion tests fail (the harness
#                   runs ops alone, never fused)
#   opencl-timing   not a test: per-op times on the model's shapes (run it by hand)
#   opencl-dropout-timing  not a test: the dropout chains fused and apart, wall and CPU time
#   opencl-variant-files  not a test: which variants use a kernel file (for the planted-bug
#                   control, harness-catches-broken-kernel.sh)
check_PROGRAMS += tests/opencl-backend tests/opencl-fusion tests/opencl-dropout-fusion \
	tests/opencl-bn-dropout-fusion tests/opencl-first-layer-fusion
TESTS += tests/opencl-backend tests/opencl-fusion tests/opencl-dropout-fusion \
	tests/opencl-bn-dropout-fusion tests/opencl-first-layer-fusion
TESTS += tests/fusion-catches-broken-kernel.sh
EXTRA_DIST += tests/fusion-catches-broken-kernel.sh
# The cold start's warm-up in a child process: it tunes, the run does not, same results.
TESTS += tests/warm-up-child.sh
EXTRA_DIST += tests/warm-up-child.sh
tests_opencl_backend_LDADD = $(FCNN_LIBS)
tests_opencl_fusion_LDADD = $(FCNN_LIBS)
tests_opencl_dropout_fusion_LDADD = $(FCNN_LIBS)
tests_opencl_bn_dropout_fusion_LDADD = $(FCNN_LIBS)
tests_opencl_first_layer_fusion_LDADD = $(FCNN_LIBS)
if HAVE_OPENCL
check_PROGRAMS += tests/opencl-timing tests/opencl-variant-files tests/opencl-dropout-timing

FCNN_OPENCL_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/backends/opencl $(OPENCL_CFLAGS)
FCNN_OPENCL_TEST_COMMON = %reldir%/opencl_test.c %reldir%/opencl_test.h

tests_opencl_backend_SOURCES = %reldir%/opencl_backend.c $(FCNN_OPENCL_TEST_COMMON)
tests_opencl_backend_CPPFLAGS = $(FCNN_OPENCL_TEST_CPPFLAGS)

tests_opencl_fusion_SOURCES = %reldir%/opencl_fusion.c $(FCNN_OPENCL_TEST_COMMON)
tests_opencl_fusion_CPPFLAGS = $(FCNN_OPENCL_TEST_CPPFLAGS)
tests_opencl_dropout_fusion_SOURCES = %reldir%/opencl_dropout_fusion.c $(FCNN_OPENCL_TEST_COMMON) \
	%reldir%/agree-lib.c %reldir%/agree-lib.h
tests_opencl_dropout_fusion_CPPFLAGS = $(FCNN_OPENCL_TEST_CPPFLAGS)
tests_opencl_bn_dropout_fusion_SOURCES = %reldir%/opencl_bn_dropout_fusion.c \
	$(FCNN_OPENCL_TEST_COMMON)
tests_opencl_bn_dropout_fusion_CPPFLAGS = $(FCNN_OPENCL_TEST_CPPFLAGS)
tests_opencl_first_layer_fusion_SOURCES = %reldir%/opencl_first_layer_fusion.c \
	$(FCNN_OPENCL_TEST_COMMON)
tests_opencl_first_layer_fusion_CPPFLAGS = $(FCNN_OPENCL_TEST_CPPFLAGS)

tests_opencl_timing_SOURCES = %reldir%/opencl_timing.c $(FCNN_OPENCL_TEST_COMMON)
tests_opencl_timing_CPPFLAGS = $(FCNN_OPENCL_TEST_CPPFLAGS)
tests_opencl_timing_LDADD = $(FCNN_LIBS)
tests_opencl_dropout_timing_SOURCES = %reldir%/opencl_dropout_timing.c $(FCNN_OPENCL_TEST_COMMON) \
	%reldir%/agree-lib.c %reldir%/agree-lib.h
tests_opencl_dropout_timing_CPPFLAGS = $(FCNN_OPENCL_TEST_CPPFLAGS)
tests_opencl_dropout_timing_LDADD = $(FCNN_LIBS)
tests_opencl_variant_files_SOURCES = %reldir%/opencl_variant_files.c
tests_opencl_variant_files_CPPFLAGS = $(FCNN_OPENCL_TEST_CPPFLAGS)
tests_opencl_variant_files_LDADD = $(FCNN_LIBS)
else
tests_opencl_backend_SOURCES = %reldir%/skip-without-opencl.c
tests_opencl_fusion_SOURCES = %reldir%/skip-without-opencl.c
tests_opencl_dropout_fusion_SOURCES = %reldir%/skip-without-opencl.c
tests_opencl_bn_dropout_fusion_SOURCES = %reldir%/skip-without-opencl.c
tests_opencl_first_layer_fusion_SOURCES = %reldir%/skip-without-opencl.c
endif
