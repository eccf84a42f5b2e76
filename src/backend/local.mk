# The backend interface: the registry of backends, op descriptors and the dispatcher.
libfcnn_a_SOURCES += \
	%reldir%/backend.c %reldir%/backend.h %reldir%/backend-impl.h \
	%reldir%/ops.c %reldir%/op-table.c
