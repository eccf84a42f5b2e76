# The OpenCL backend (built when configure finds OpenCL and CLBlast). Its kernels are in
# kernels/ (kernels/local.mk embeds them); ocl.h lists what each file does.
if HAVE_OPENCL
libfcnn_a_SOURCES += \
	%reldir%/ocl.h %reldir%/ocl_registry.h %reldir%/ocl_conv.h \
	%reldir%/ocl_backend.c %reldir%/ocl_device.c %reldir%/ocl_buffer.c \
	%reldir%/ocl_error.c %reldir%/ocl_fault.c %reldir%/ocl_source.c %reldir%/ocl_cache.c \
	%reldir%/ocl_program.c %reldir%/ocl_launch.c %reldir%/ocl_registry.c \
	%reldir%/ocl_tune.c %reldir%/ocl_tune_store.c %reldir%/ocl_fuse.c %reldir%/ocl_profile.c \
	%reldir%/ocl_report.c %reldir%/ocl_clblast.c %reldir%/ocl_gemm.c \
	%reldir%/ocl_op_data.c %reldir%/ocl_op_conv2d.c %reldir%/ocl_op_conv2d_tiled.c \
	%reldir%/ocl_op_conv2d_winograd.c %reldir%/ocl_op_conv2d_phases.c \
	%reldir%/ocl_op_conv2d_pool.c \
	%reldir%/ocl_op_conv2d_filter.c %reldir%/ocl_op_activation.c \
	%reldir%/ocl_op_bias.c %reldir%/ocl_op_pool.c %reldir%/ocl_op_dense.c \
	%reldir%/ocl_op_loss.c %reldir%/ocl_op_optim.c %reldir%/ocl_op_batchnorm.c
endif
