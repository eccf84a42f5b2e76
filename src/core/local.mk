# The ground floor: status codes, tensor descriptors, the random generator, the clock,
# quoting names for messages, and reading and writing files safely.
libfcnn_a_SOURCES += \
	%reldir%/status.c %reldir%/status.h \
	%reldir%/tensor.c %reldir%/tensor.h \
	%reldir%/rng.c %reldir%/rng.h \
	%reldir%/clock.c %reldir%/clock.h \
	%reldir%/quote.c %reldir%/quote.h \
	%reldir%/file.c %reldir%/file.h \
	%reldir%/fault.c %reldir%/fault.h
