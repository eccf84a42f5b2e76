# Tests of checkpoints and plots. They are always built and skip themselves (exit 77)
# when configure left out jansson or PLplot, so the summary shows what was not tested.
check_PROGRAMS += tests/test-safetensors tests/test-plot
TESTS += tests/test-safetensors tests/test-plot

tests_test_safetensors_SOURCES = %reldir%/test-safetensors.c
tests_test_safetensors_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
tests_test_safetensors_LDADD = $(FCNN_LIBS)

tests_test_plot_SOURCES = %reldir%/test-plot.c
tests_test_plot_CPPFLAGS = $(AM_CPPFLAGS) $(PLPLOT_CFLAGS)
tests_test_plot_LDADD = $(FCNN_LIBS)

# Model-level checkpoint checks (need jansson, like the checkpoints themselves: built
# always, SKIP without it, so the summary shows what this build did not test).
check_PROGRAMS += tests/test-checkpoint
TESTS += tests/test-checkpoint
tests_test_checkpoint_LDADD = $(FCNN_LIBS)
