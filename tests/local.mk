# make check: unit tests of the core and end-to-end runs of fcnn.
check_PROGRAMS += tests/test-idx tests/test-model tests/test-layers tests/test-backends-agree \
	tests/test-layers-agree tests/test-bn-dropout-agree tests/test-bn-fold \
	tests/test-bn-relu-fusion tests/test-bn-pool-fusion tests/test-conv-pool-fusion
tests_test_idx_LDADD = $(FCNN_LIBS)
tests_test_model_LDADD = $(FCNN_LIBS)
tests_test_layers_LDADD = $(FCNN_LIBS)
# The agreement tests share their runs and comparisons (agree-lib).
AGREE_LIB = %reldir%/agree-lib.c %reldir%/agree-lib.h
tests_test_layers_agree_SOURCES = %reldir%/test-layers-agree.c $(AGREE_LIB)
tests_test_layers_agree_LDADD = $(FCNN_LIBS)
tests_test_backends_agree_SOURCES = %reldir%/test-backends-agree.c $(AGREE_LIB)
tests_test_backends_agree_LDADD = $(FCNN_LIBS)
tests_test_bn_dropout_agree_SOURCES = %reldir%/test-bn-dropout-agree.c $(AGREE_LIB)
tests_test_bn_dropout_agree_LDADD = $(FCNN_LIBS)
# It uses only agree-lib's list of the backends to compare.
tests_test_bn_fold_SOURCES = %reldir%/test-bn-fold.c $(AGREE_LIB)
tests_test_bn_fold_LDADD = $(FCNN_LIBS)
tests_test_bn_relu_fusion_SOURCES = %reldir%/test-bn-relu-fusion.c $(AGREE_LIB)
tests_test_bn_relu_fusion_LDADD = $(FCNN_LIBS)
tests_test_bn_pool_fusion_SOURCES = %reldir%/test-bn-pool-fusion.c $(AGREE_LIB)
tests_test_bn_pool_fusion_LDADD = $(FCNN_LIBS)
tests_test_conv_pool_fusion_SOURCES = %reldir%/test-conv-pool-fusion.c $(AGREE_LIB)
tests_test_conv_pool_fusion_LDADD = $(FCNN_LIBS)
TESTS += tests/test-idx tests/test-model tests/test-layers tests/test-backends-agree \
	tests/test-layers-agree tests/test-bn-dropout-agree tests/test-bn-fold \
	tests/test-bn-relu-fusion tests/test-bn-pool-fusion tests/test-conv-pool-fusion tests/cli-options.sh tests/train-e2e.sh tests/checkpoint-e2e.sh \
	tests/opencl-cli.sh tests/files-refused.sh tests/resume-settings.sh \
	tests/faults-e2e.sh tests/kill-resume.sh tests/opencl-faults.sh tests/bench-output.sh
EXTRA_DIST += tests/expect.h tests/test-data.h tests/lib.sh tests/cli-options.sh tests/train-e2e.sh \
	tests/checkpoint-e2e.sh tests/lsan.supp tests/opencl-cli.sh tests/files-refused.sh \
	tests/resume-settings.sh tests/faults-e2e.sh tests/kill-resume.sh tests/opencl-faults.sh \
	tests/bench-output.sh

# Script tests find the program under test here, whatever the build directory; in a
# sanitizer build, LeakSanitizer skips what fontconfig keeps for the process's lifetime.
# Each test gets a cache directory of its own in the build tree (tests/NAME.log.cache):
# nothing a test does reads or writes the user's ~/.cache, its verdict cannot depend on
# what an earlier run left there, and tests running in parallel do not race on one
# tuning file or on PoCL's cache (whose writers have raced before: pocl/pocl#430, #1480).
# A test starts with a copy of PoCL's cache from tests/backend-ops-test.sh once that test
# is done (its .trs is written), which has compiled every kernel variant: nearly all of a
# test's time with an empty cache is PoCL compiling the same kernels again. The tests that
# spend most of theirs that way wait for it. fcnn's own cache (programs, tuning) starts
# empty all the same.
POCL_SEED = $(abs_top_builddir)/tests/backend-ops-test.sh.log.cache/pocl
AM_TESTS_ENVIRONMENT = FCNN='$(abs_top_builddir)/fcnn'; srcdir='$(srcdir)'; \
	XDG_CACHE_HOME='$(abs_top_builddir)/$@.cache'; \
	if test '$@' != tests/backend-ops-test.sh.log \
	  && test -f '$(abs_top_builddir)/tests/backend-ops-test.sh.trs' \
	  && test -d '$(POCL_SEED)' && test ! -e "$$XDG_CACHE_HOME/pocl"; then \
	  mkdir -p "$$XDG_CACHE_HOME" && cp -R '$(POCL_SEED)' "$$XDG_CACHE_HOME/pocl"; \
	fi; \
	LSAN_OPTIONS="suppressions=$(abs_top_srcdir)/tests/lsan.supp:print_suppressions=0$${LSAN_OPTIONS:+:$$LSAN_OPTIONS}"; \
	export FCNN srcdir XDG_CACHE_HOME LSAN_OPTIONS;

tests/harness-catches-broken-kernel.sh.log tests/backend-ops-grad.sh.log \
tests/opencl-cli.sh.log tests/opencl-faults.sh.log tests/bench-output.sh.log: \
	tests/backend-ops-test.sh.log

clean-local: clean-test-caches
clean-test-caches:
	-rm -rf tests/*.log.cache tests/fuzz/*.log.cache
.PHONY: clean-test-caches
