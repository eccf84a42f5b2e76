# Data sources (IDX of any shape, image folders, class names, the validation split) and
# --predict. make-data writes the images and IDX sets the shell tests use.
check_PROGRAMS += tests/test-data tests/make-data tests/test-augment
tests_test_augment_LDADD = $(FCNN_LIBS)
tests_test_data_LDADD = $(FCNN_LIBS)
tests_make_data_LDADD = $(FCNN_LIBS)
TESTS += tests/test-data tests/test-augment tests/data-e2e.sh
EXTRA_DIST += tests/data-e2e.sh
