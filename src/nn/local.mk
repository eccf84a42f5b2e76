# Networks: one file per layer, the model description, the executor, the optimizers.
libfcnn_a_SOURCES += \
	%reldir%/model.c %reldir%/model.h %reldir%/layer.h \
	%reldir%/layer_conv2d.c %reldir%/layer_maxpool.c \
	%reldir%/layer_pool.c %reldir%/layer_pool.h \
	%reldir%/layer_avgpool.c %reldir%/layer_global_avgpool.c \
	%reldir%/layer_flatten.c %reldir%/layer_dense.c \
	%reldir%/network.c %reldir%/network.h \
	%reldir%/optimizer.c %reldir%/optimizer.h
