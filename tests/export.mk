# Taking the model elsewhere: the ONNX writer read back by a decoder of the test's own
# (and by protoc --decode_raw when installed), weights-only files, and what make install
# adds (man page, bash completion).
check_PROGRAMS += tests/test-onnx
tests_test_onnx_SOURCES = %reldir%/test-onnx.c %reldir%/onnx-decode.c %reldir%/onnx-decode.h \
	%reldir%/onnx-run.c %reldir%/onnx-run.h
tests_test_onnx_LDADD = $(FCNN_LIBS)
TESTS += tests/test-onnx tests/export-e2e.sh tests/man-completion.sh
EXTRA_DIST += tests/export-e2e.sh tests/man-completion.sh tests/installcheck.sh

# make installcheck: the installed program, man page and completion.
installcheck-local:
	$(SHELL) $(srcdir)/tests/installcheck.sh '$(DESTDIR)$(bindir)/fcnn$(EXEEXT)' \
	  '$(DESTDIR)$(man1dir)/fcnn.1' '$(bashcompletiondir)' '$(DESTDIR)'
