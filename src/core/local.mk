# The ground floor: status codes, tensor descriptors, the random generator, the clock.
libfcnn_a_SOURCES += \
	%reldir%/status.c %reldir%/status.h \
	%reldir%/tensor.c %reldir%/tensor.h \
	%reldir%/rng.c %reldir%/rng.h \
	%reldir%/clock.c %reldir%/clock.h \
	%reldir%/fault.c %reldir%/fault.h
