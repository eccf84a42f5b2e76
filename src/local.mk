# The core: descriptors, the backend interface, layers, model, training, data, reports.
libfcnn_a_SOURCES += \
	%reldir%/status.c %reldir%/status.h \
	%reldir%/tensor.c %reldir%/tensor.h \
	%reldir%/backend.c %reldir%/backend.h %reldir%/backend-impl.h \
	%reldir%/ops.c \
	%reldir%/clock.c %reldir%/clock.h \
	%reldir%/rng.c %reldir%/rng.h \
	%reldir%/idx.c %reldir%/idx.h \
	%reldir%/dataset.c %reldir%/dataset.h \
	%reldir%/model.c %reldir%/model.h %reldir%/layer.h \
	%reldir%/layer_conv2d.c %reldir%/layer_maxpool.c \
	%reldir%/layer_flatten.c %reldir%/layer_dense.c \
	%reldir%/network.c %reldir%/network.h \
	%reldir%/optimizer.c %reldir%/optimizer.h \
	%reldir%/split.c %reldir%/split.h \
	%reldir%/train.c %reldir%/train.h \
	%reldir%/bench.c %reldir%/bench.h \
	%reldir%/progress.c %reldir%/progress.h \
	%reldir%/history.c %reldir%/history.h \
	%reldir%/report.c %reldir%/report.h \
	%reldir%/cli.c %reldir%/cli.h
