# The reference backend: plain C loops, the oracle for every other backend.
libfcnn_a_SOURCES += \
	%reldir%/ref.h %reldir%/ref.c \
	%reldir%/ref_data.c %reldir%/ref_conv2d.c %reldir%/ref_pool.c \
	%reldir%/ref_dense.c %reldir%/ref_loss.c %reldir%/ref_optim.c \
	%reldir%/ref_activation.c %reldir%/ref_batchnorm.c
