# make check: unit tests of the core and end-to-end runs of fcnn.
check_PROGRAMS += tests/test-idx tests/test-model tests/test-layers tests/test-backends-agree \
	tests/test-layers-agree tests/test-bn-dropout-agree
tests_test_idx_LDADD = $(FCNN_LIBS)
tests_test_model_LDADD = $(FCNN_LIBS)
tests_test_layers_LDADD = $(FCNN_LIBS)
tests_test_layers_agree_LDADD = $(FCNN_LIBS)
tests_test_backends_agree_LDADD = $(FCNN_LIBS)
tests_test_bn_dropout_agree_LDADD = $(FCNN_LIBS)
TESTS += tests/test-idx tests/test-model tests/test-layers tests/test-backends-agree \
	tests/test-layers-agree tests/test-bn-dropout-agree tests/cli-options.sh tests/train-e2e.sh \
	tests/checkpoint-e2e.sh tests/opencl-cli.sh
EXTRA_DIST += tests/expect.h tests/lib.sh tests/cli-options.sh tests/train-e2e.sh tests/checkpoint-e2e.sh tests/lsan.supp \
	tests/opencl-cli.sh

# Script tests find the program under test here, whatever the build directory; in a
# sanitizer build, LeakSanitizer skips what fontconfig keeps for the process's lifetime.
AM_TESTS_ENVIRONMENT = FCNN='$(abs_top_builddir)/fcnn'; srcdir='$(srcdir)'; \
	LSAN_OPTIONS="suppressions=$(abs_top_srcdir)/tests/lsan.supp:print_suppressions=0$${LSAN_OPTIONS:+:$$LSAN_OPTIONS}"; \
	export FCNN srcdir LSAN_OPTIONS;
