# Datasets: IDX files, the in-memory dataset, device-resident splits.
libfcnn_a_SOURCES += \
	%reldir%/idx.c %reldir%/idx.h \
	%reldir%/dataset.c %reldir%/dataset.h \
	%reldir%/split.c %reldir%/split.h
