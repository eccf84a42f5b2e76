# make check: unit tests of the core and end-to-end runs of fcnn.
check_PROGRAMS += tests/test-idx tests/test-model tests/test-backends-agree
tests_test_idx_LDADD = $(FCNN_LIBS)
tests_test_model_LDADD = $(FCNN_LIBS)
tests_test_backends_agree_LDADD = $(FCNN_LIBS)
TESTS += tests/test-idx tests/test-model tests/test-backends-agree tests/cli-options.sh tests/train-e2e.sh \
	tests/checkpoint-e2e.sh
EXTRA_DIST += tests/cli-options.sh tests/train-e2e.sh tests/checkpoint-e2e.sh

# Script tests find the program under test here, whatever the build directory.
AM_TESTS_ENVIRONMENT = FCNN='$(abs_top_builddir)/fcnn'; srcdir='$(srcdir)'; \
	export FCNN srcdir;
