# Tests of the OpenCL backend (only when it is built). Each exits 77 (SKIP) on a machine
# without an OpenCL device.
#   opencl-backend  device selection, variant forcing, build errors, the program cache
#   opencl-fusion   the fused backward chain (maxpool_bwd, relu_bwd, bias_bwd) against ref
#   opencl-timing   not a test: per-op times on the model's shapes (run it by hand)
#   opencl-variant-files  not a test: which variants use a kernel file (for the planted-bug
#                   control, harness-catches-broken-kernel.sh)
if HAVE_OPENCL
check_PROGRAMS += tests/opencl-backend tests/opencl-fusion tests/opencl-timing \
	tests/opencl-variant-files
TESTS += tests/opencl-backend tests/opencl-fusion

FCNN_OPENCL_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/backends/opencl $(OPENCL_CFLAGS)
FCNN_OPENCL_TEST_COMMON = %reldir%/opencl_test.c %reldir%/opencl_test.h

tests_opencl_backend_SOURCES = %reldir%/opencl_backend.c $(FCNN_OPENCL_TEST_COMMON)
tests_opencl_backend_CPPFLAGS = $(FCNN_OPENCL_TEST_CPPFLAGS)
tests_opencl_backend_LDADD = $(FCNN_LIBS)

tests_opencl_fusion_SOURCES = %reldir%/opencl_fusion.c $(FCNN_OPENCL_TEST_COMMON)
tests_opencl_fusion_CPPFLAGS = $(FCNN_OPENCL_TEST_CPPFLAGS)
tests_opencl_fusion_LDADD = $(FCNN_LIBS)

tests_opencl_timing_SOURCES = %reldir%/opencl_timing.c $(FCNN_OPENCL_TEST_COMMON)
tests_opencl_timing_CPPFLAGS = $(FCNN_OPENCL_TEST_CPPFLAGS)
tests_opencl_timing_LDADD = $(FCNN_LIBS)
tests_opencl_variant_files_SOURCES = %reldir%/opencl_variant_files.c
tests_opencl_variant_files_CPPFLAGS = $(FCNN_OPENCL_TEST_CPPFLAGS)
tests_opencl_variant_files_LDADD = $(FCNN_LIBS)
endif
