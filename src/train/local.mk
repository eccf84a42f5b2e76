# The training loop, the benchmark, and the check of a model against its data.
libfcnn_a_SOURCES += \
	%reldir%/train.c %reldir%/train.h \
	%reldir%/bench.c %reldir%/bench.h \
	%reldir%/data_check.c %reldir%/data_check.h
