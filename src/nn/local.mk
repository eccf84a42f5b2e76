# Networks: one file per layer, the model and its description from a spec or Keras JSON,
# the executor, the optimizers.
libfcnn_a_SOURCES += \
	%reldir%/model.c %reldir%/model.h %reldir%/layer.h \
	%reldir%/layer_conv2d.c %reldir%/layer_maxpool.c \
	%reldir%/layer_pool.c %reldir%/layer_pool.h \
	%reldir%/layer_avgpool.c %reldir%/layer_global_avgpool.c \
	%reldir%/layer_flatten.c %reldir%/layer_dense.c %reldir%/layer_activation.c \
	%reldir%/layer_dropout.c %reldir%/layer_batchnorm.c \
	%reldir%/network.c %reldir%/network.h \
	%reldir%/network_fold.c %reldir%/network_fold.h \
	%reldir%/network_pool.c %reldir%/network_pool.h \
	%reldir%/optimizer.c %reldir%/optimizer.h \
	%reldir%/model_desc.c %reldir%/model_desc.h %reldir%/model_spec.c
# Keras JSON models need jansson; without it, an "off" version says what to install.
if HAVE_JANSSON
libfcnn_a_SOURCES += %reldir%/model_json.c
else
libfcnn_a_SOURCES += %reldir%/model_json-off.c
endif
