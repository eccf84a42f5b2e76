# The core: descriptors, the backend interface, layers, model, training, data, reports.
libfcnn_a_SOURCES += \
	%reldir%/status.c %reldir%/status.h \
	%reldir%/tensor.c %reldir%/tensor.h \
	%reldir%/backend.c %reldir%/backend.h %reldir%/backend-impl.h \
	%reldir%/ops.c
