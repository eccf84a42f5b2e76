# Tests of the OpenCL backend (only when it is built). Each exits 77 (SKIP) on a machine
# without an OpenCL device.
#   opencl-ops      every op and kernel variant against the reference backend
#   opencl-backend  device selection, variant forcing, build errors, the program cache
#   opencl-fusion   the fused backward chain (maxpool_bwd, relu_bwd, bias_bwd) against ref
#   opencl-timing   not a test: per-op times on the model's shapes (run it by hand)
if HAVE_OPENCL
check_PROGRAMS += tests/opencl-ops tests/opencl-backend tests/opencl-fusion tests/opencl-timing
TESTS += tests/opencl-ops tests/opencl-backend tests/opencl-fusion

FCNN_OPENCL_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/backends/opencl $(OPENCL_CFLAGS)
FCNN_OPENCL_TEST_COMMON = %reldir%/opencl_test.c %reldir%/opencl_test.h

tests_opencl_ops_SOURCES = %reldir%/opencl_ops.c $(FCNN_OPENCL_TEST_COMMON)
tests_opencl_ops_CPPFLAGS = $(FCNN_OPENCL_TEST_CPPFLAGS)
tests_opencl_ops_LDADD = $(FCNN_LIBS)

tests_opencl_backend_SOURCES = %reldir%/opencl_backend.c $(FCNN_OPENCL_TEST_COMMON)
tests_opencl_backend_CPPFLAGS = $(FCNN_OPENCL_TEST_CPPFLAGS)
tests_opencl_backend_LDADD = $(FCNN_LIBS)

tests_opencl_fusion_SOURCES = %reldir%/opencl_fusion.c $(FCNN_OPENCL_TEST_COMMON)
tests_opencl_fusion_CPPFLAGS = $(FCNN_OPENCL_TEST_CPPFLAGS)
tests_opencl_fusion_LDADD = $(FCNN_LIBS)

tests_opencl_timing_SOURCES = %reldir%/opencl_timing.c $(FCNN_OPENCL_TEST_COMMON)
tests_opencl_timing_CPPFLAGS = $(FCNN_OPENCL_TEST_CPPFLAGS)
tests_opencl_timing_LDADD = $(FCNN_LIBS)
endif
