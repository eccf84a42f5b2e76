# The cross-backend harness (tests/backend-ops) and the reference-op unit tests.
#
# make check runs:
#   tests/test-ref-ops                      the reference ops against hand-computed cases
#   tests/backend-ops-test.sh               every backend and variant against ref, then the
#                                           convolutions with a cut column budget (SKIP when
#                                           the build has no backend besides ref)
#   tests/backend-ops-grad.sh               every backward op of every backend, ref included,
#                                           against finite differences
#   tests/harness-catches-broken-ref        the harness fails sabotaged copies of ref's ops
#   tests/harness-catches-broken-kernel.sh  the harness fails every variant that uses a
#                                           kernel file with a planted bug (pool, tiled
#                                           and Winograd convolutions, filter gradient,
#                                           gemm), and a
#                                           kernel that does not compile (SKIP only without
#                                           an OpenCL device)

# The harness library, shared by the command line and the planted-bug tests.
HARNESS_SOURCES = \
	%reldir%/harness.h %reldir%/harness-impl.h \
	%reldir%/harness.c %reldir%/harness-random.c %reldir%/harness-cases.c \
	%reldir%/harness-place.c %reldir%/harness-compare.c \
	%reldir%/harness-test.c %reldir%/harness-grad.c %reldir%/harness-perf.c

check_PROGRAMS += %reldir%/backend-ops %reldir%/test-ref-ops %reldir%/harness-catches-broken-ref \
	%reldir%/harness-accepts-float32

%canon_reldir%_backend_ops_SOURCES = %reldir%/backend-ops.c $(HARNESS_SOURCES)
%canon_reldir%_backend_ops_LDADD = $(FCNN_LIBS)

%canon_reldir%_harness_catches_broken_ref_SOURCES = \
	%reldir%/harness-catches-broken-ref.c $(HARNESS_SOURCES)
%canon_reldir%_harness_catches_broken_ref_LDADD = $(FCNN_LIBS)

%canon_reldir%_harness_accepts_float32_SOURCES = \
	%reldir%/harness-accepts-float32.c $(HARNESS_SOURCES)
%canon_reldir%_harness_accepts_float32_LDADD = $(FCNN_LIBS)

%canon_reldir%_test_ref_ops_SOURCES = %reldir%/test-ref-ops.c
%canon_reldir%_test_ref_ops_LDADD = $(FCNN_LIBS)

HARNESS_SHELL_TESTS = \
	%reldir%/backend-ops-test.sh %reldir%/backend-ops-grad.sh \
	%reldir%/harness-catches-broken-kernel.sh

# backend-ops-test.sh and harness-catches-broken-kernel.sh are listed first (Makefile.am).
TESTS += %reldir%/test-ref-ops %reldir%/backend-ops-grad.sh %reldir%/harness-catches-broken-ref \
	%reldir%/harness-accepts-float32
EXTRA_DIST += $(HARNESS_SHELL_TESTS)
