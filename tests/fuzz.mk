# Fuzz targets (tests/fuzz/fuzz-NAME.c), one per parser of outside input. Each is an
# ordinary check program: in a normal build replay.c gives it a main() that runs stored
# inputs, and `make check` replays tests/fuzz/NAME/ (seeds and every crasher found so far)
# through it; configured with --enable-fuzzing CC=clang it links libFuzzer instead, and
# `make fuzz FUZZ_SECONDS=N` fuzzes each target for N seconds.
#
# Adding a target NAME: write tests/fuzz/fuzz-NAME.c (copy fuzz-idx.c), add NAME to
# FUZZ_TARGETS and its two lines below, create tests/fuzz/NAME/ with a few seed inputs,
# and add tests/fuzz-replay-NAME.sh (a copy of fuzz-replay-idx.sh) to FUZZ_REPLAY_TESTS.
FUZZ_TARGETS = idx safetensors checkpoint cli model-spec model-json image

check_LIBRARIES = tests/fuzz/libfuzzmain.a
tests_fuzz_libfuzzmain_a_SOURCES = tests/fuzz/fuzz-input.c tests/fuzz/fuzz-input.h
if !FUZZING
tests_fuzz_libfuzzmain_a_SOURCES += tests/fuzz/replay.c
endif
FUZZ_LDADD = tests/fuzz/libfuzzmain.a $(FCNN_LIBS)

check_PROGRAMS += tests/fuzz/fuzz-idx tests/fuzz/fuzz-safetensors tests/fuzz/fuzz-checkpoint \
	tests/fuzz/fuzz-cli tests/fuzz/fuzz-model-spec tests/fuzz/fuzz-model-json tests/fuzz/fuzz-image
tests_fuzz_fuzz_idx_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_idx_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_safetensors_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_safetensors_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_checkpoint_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_checkpoint_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_cli_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_cli_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_model_spec_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_model_spec_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_model_json_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_model_json_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_image_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_image_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

FUZZ_REPLAY_TESTS = tests/fuzz-replay-idx.sh tests/fuzz-replay-safetensors.sh \
	tests/fuzz-replay-checkpoint.sh tests/fuzz-replay-cli.sh tests/fuzz-replay-model-spec.sh \
	tests/fuzz-replay-model-json.sh tests/fuzz-replay-image.sh
TESTS += $(FUZZ_REPLAY_TESTS)
EXTRA_DIST += $(FUZZ_REPLAY_TESTS) tests/fuzz/replay.sh tests/fuzz/README \
	tests/fuzz/idx tests/fuzz/safetensors tests/fuzz/checkpoint tests/fuzz/cli \
	tests/fuzz/model-spec tests/fuzz/model-json tests/fuzz/image

# make fuzz: each target for FUZZ_SECONDS, starting from its seeds; what it learns goes to
# fuzz-corpus/NAME/ in the build tree, a crash to fuzz-corpus/NAME-crash-*, and the run stops
# with an error. Copy a crasher into tests/fuzz/NAME/ once it is fixed.
FUZZ_SECONDS = 60
# -close_fd_mask=3: the targets' own messages (one per bad input) would drown the fuzzer's.
# -timeout=60: an input that takes a minute is a hang to report (libFuzzer's default waits
# 20 minutes); the slowest input of the long soaks took well under a second.
FUZZ_FLAGS = -print_final_stats=1 -close_fd_mask=3 -timeout=60
FUZZ_BINARIES = tests/fuzz/fuzz-idx$(EXEEXT) tests/fuzz/fuzz-safetensors$(EXEEXT) \
	tests/fuzz/fuzz-checkpoint$(EXEEXT) tests/fuzz/fuzz-cli$(EXEEXT) \
	tests/fuzz/fuzz-model-spec$(EXEEXT) tests/fuzz/fuzz-model-json$(EXEEXT) \
	tests/fuzz/fuzz-image$(EXEEXT)
fuzz: $(FUZZ_BINARIES)
if FUZZING
	@for t in $(FUZZ_TARGETS); do \
	  $(MKDIR_P) fuzz-corpus/$$t && \
	  echo "fuzzing $$t for $(FUZZ_SECONDS) s" && \
	  ./tests/fuzz/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) $(FUZZ_FLAGS) \
	    -artifact_prefix=fuzz-corpus/$$t- fuzz-corpus/$$t $(srcdir)/tests/fuzz/$$t || exit 1; \
	done
else
	@echo "make fuzz needs a fuzzing build: ./configure --enable-fuzzing CC=clang"; exit 1
endif
.PHONY: fuzz
clean-local: clean-fuzz
clean-fuzz:
	-rm -rf fuzz-corpus
.PHONY: clean-fuzz
