# The training loop and the benchmark.
libfcnn_a_SOURCES += \
	%reldir%/train.c %reldir%/train.h \
	%reldir%/bench.c %reldir%/bench.h
