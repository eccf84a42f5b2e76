# Models from outside: the spec and Keras-JSON parsers, validation, parameter counts
# (unit), and through the command line: one-line refusals with exit 2, checkpoints that
# rebuild their model, and a model with every kind of layer training on real data.
check_PROGRAMS += tests/test-model-desc
TESTS += tests/test-model-desc tests/model-cli.sh tests/model-e2e.sh
tests_test_model_desc_LDADD = $(FCNN_LIBS)
EXTRA_DIST += tests/model-cli.sh tests/model-e2e.sh tests/data/keras/reference.json \
	tests/data/keras/bn-dropout.json tests/data/keras/global-pool.json \
	tests/data/keras/dilated.json tests/data/keras/README
