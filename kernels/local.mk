# OpenCL C kernel sources, embedded into fcnn at build time: each kernels/NAME.cl becomes
# kernels/NAME.cl.inc in the build tree, a comma-separated list of its bytes that
# backends/opencl/ocl_source.c includes inside an array initializer. (C11 promises string
# literals of only 4095 characters, so the sources are not pasted in as strings.)
# Adding a kernel file: list it here, give it a rule below, and add it to ocl_source.c
# (to its programs, or to the parts other files #include).
FCNN_KERNEL_FILES = \
	%reldir%/activation.cl %reldir%/bias.cl %reldir%/conv2d.cl %reldir%/conv2d_filter.cl \
	%reldir%/conv2d_tiled.cl %reldir%/data.cl %reldir%/gemm.cl %reldir%/gemm_local.cl \
	%reldir%/gemm_small_k.cl %reldir%/im2col.cl %reldir%/loss.cl %reldir%/optim.cl \
	%reldir%/pool.cl %reldir%/dropout.cl %reldir%/batchnorm.cl %reldir%/conv2d_winograd.cl \
	%reldir%/conv2d_winograd4.cl %reldir%/conv2d_filter_winograd4.cl \
	%reldir%/conv2d_phases.cl \
	%reldir%/conv2d_pool.cl %reldir%/dense_skinny.cl %reldir%/dropout_mask.cl
FCNN_KERNEL_EMBEDDED = $(FCNN_KERNEL_FILES:.cl=.cl.inc)
EXTRA_DIST += $(FCNN_KERNEL_FILES)

if HAVE_OPENCL
BUILT_SOURCES += $(FCNN_KERNEL_EMBEDDED)
endif
CLEANFILES += $(FCNN_KERNEL_EMBEDDED)

# od prints the bytes in hex; sed makes each one a C literal. The result is written to a
# temporary file first, so an interrupted build leaves no half array.
FCNN_HEX_TO_C = sed -e 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'

%reldir%/activation.cl.inc: $(srcdir)/%reldir%/activation.cl
	$(AM_V_GEN)$(MKDIR_P) %reldir% && \
	od -An -v -tx1 $(srcdir)/%reldir%/activation.cl | $(FCNN_HEX_TO_C) > $@-t && mv -f $@-t $@
%reldir%/bias.cl.inc: $(srcdir)/%reldir%/bias.cl
	$(AM_V_GEN)$(MKDIR_P) %reldir% && \
	od -An -v -tx1 $(srcdir)/%reldir%/bias.cl | $(FCNN_HEX_TO_C) > $@-t && mv -f $@-t $@
%reldir%/conv2d.cl.inc: $(srcdir)/%reldir%/conv2d.cl
	$(AM_V_GEN)$(MKDIR_P) %reldir% && \
	od -An -v -tx1 $(srcdir)/%reldir%/conv2d.cl | $(FCNN_HEX_TO_C) > $@-t && mv -f $@-t $@
%reldir%/data.cl.inc: $(srcdir)/%reldir%/data.cl
	$(AM_V_GEN)$(MKDIR_P) %reldir% && \
	od -An -v -tx1 $(srcdir)/%reldir%/data.cl | $(FCNN_HEX_TO_C) > $@-t && mv -f $@-t $@
%reldir%/im2col.cl.inc: $(srcdir)/%reldir%/im2col.cl
	$(AM_V_GEN)$(MKDIR_P) %reldir% && \
	od -An -v -tx1 $(srcdir)/%reldir%/im2col.cl | $(FCNN_HEX_TO_C) > $@-t && mv -f $@-t $@
%reldir%/loss.cl.inc: $(srcdir)/%reldir%/loss.cl
	$(AM_V_GEN)$(MKDIR_P) %reldir% && \
	od -An -v -tx1 $(srcdir)/%reldir%/loss.cl | $(FCNN_HEX_TO_C) > $@-t && mv -f $@-t $@
%reldir%/optim.cl.inc: $(srcdir)/%reldir%/optim.cl
	$(AM_V_GEN)$(MKDIR_P) %reldir% && \
	od -An -v -tx1 $(srcdir)/%reldir%/optim.cl | $(FCNN_HEX_TO_C) > $@-t && mv -f $@-t $@
%reldir%/pool.cl.inc: $(srcdir)/%reldir%/pool.cl
	$(AM_V_GEN)$(MKDIR_P) %reldir% && \
	od -An -v -tx1 $(srcdir)/%reldir%/pool.cl | $(FCNN_HEX_TO_C) > $@-t && mv -f $@-t $@
%reldir%/conv2d_filter.cl.inc: $(srcdir)/%reldir%/conv2d_filter.cl
	$(AM_V_GEN)$(MKDIR_P) %reldir% && \
	od -An -v -tx1 $(srcdir)/%reldir%/conv2d_filter.cl | $(FCNN_HEX_TO_C) > $@-t && mv -f $@-t $@
%reldir%/conv2d_filter_winograd4.cl.inc: $(srcdir)/%reldir%/conv2d_filter_winograd4.cl
	$(AM_V_GEN)$(MKDIR_P) %reldir% && \
	od -An -v -tx1 $(srcdir)/%reldir%/conv2d_filter_winograd4.cl | $(FCNN_HEX_TO_C) > $@-t && mv -f $@-t $@
%reldir%/conv2d_tiled.cl.inc: $(srcdir)/%reldir%/conv2d_tiled.cl
	$(AM_V_GEN)$(MKDIR_P) %reldir% && \
	od -An -v -tx1 $(srcdir)/%reldir%/conv2d_tiled.cl | $(FCNN_HEX_TO_C) > $@-t && mv -f $@-t $@
%reldir%/gemm.cl.inc: $(srcdir)/%reldir%/gemm.cl
	$(AM_V_GEN)$(MKDIR_P) %reldir% && \
	od -An -v -tx1 $(srcdir)/%reldir%/gemm.cl | $(FCNN_HEX_TO_C) > $@-t && mv -f $@-t $@
%reldir%/gemm_local.cl.inc: $(srcdir)/%reldir%/gemm_local.cl
	$(AM_V_GEN)$(MKDIR_P) %reldir% && \
	od -An -v -tx1 $(srcdir)/%reldir%/gemm_local.cl | $(FCNN_HEX_TO_C) > $@-t && mv -f $@-t $@
%reldir%/gemm_small_k.cl.inc: $(srcdir)/%reldir%/gemm_small_k.cl
	$(AM_V_GEN)$(MKDIR_P) %reldir% && \
	od -An -v -tx1 $(srcdir)/%reldir%/gemm_small_k.cl | $(FCNN_HEX_TO_C) > $@-t && mv -f $@-t $@
%reldir%/dropout.cl.inc: $(srcdir)/%reldir%/dropout.cl
	$(AM_V_GEN)$(MKDIR_P) %reldir% && \
	od -An -v -tx1 $(srcdir)/%reldir%/dropout.cl | $(FCNN_HEX_TO_C) > $@-t && mv -f $@-t $@
%reldir%/dropout_mask.cl.inc: $(srcdir)/%reldir%/dropout_mask.cl
	$(AM_V_GEN)$(MKDIR_P) %reldir% && \
	od -An -v -tx1 $(srcdir)/%reldir%/dropout_mask.cl | $(FCNN_HEX_TO_C) > $@-t && mv -f $@-t $@
%reldir%/batchnorm.cl.inc: $(srcdir)/%reldir%/batchnorm.cl
	$(AM_V_GEN)$(MKDIR_P) %reldir% && \
	od -An -v -tx1 $(srcdir)/%reldir%/batchnorm.cl | $(FCNN_HEX_TO_C) > $@-t && mv -f $@-t $@
%reldir%/conv2d_winograd.cl.inc: $(srcdir)/%reldir%/conv2d_winograd.cl
	$(AM_V_GEN)$(MKDIR_P) %reldir% && \
	od -An -v -tx1 $(srcdir)/%reldir%/conv2d_winograd.cl | $(FCNN_HEX_TO_C) > $@-t && mv -f $@-t $@
%reldir%/conv2d_winograd4.cl.inc: $(srcdir)/%reldir%/conv2d_winograd4.cl
	$(AM_V_GEN)$(MKDIR_P) %reldir% && \
	od -An -v -tx1 $(srcdir)/%reldir%/conv2d_winograd4.cl | $(FCNN_HEX_TO_C) > $@-t && mv -f $@-t $@
%reldir%/conv2d_phases.cl.inc: $(srcdir)/%reldir%/conv2d_phases.cl
	$(AM_V_GEN)$(MKDIR_P) %reldir% && \
	od -An -v -tx1 $(srcdir)/%reldir%/conv2d_phases.cl | $(FCNN_HEX_TO_C) > $@-t && mv -f $@-t $@
%reldir%/conv2d_pool.cl.inc: $(srcdir)/%reldir%/conv2d_pool.cl
	$(AM_V_GEN)$(MKDIR_P) %reldir% && \
	od -An -v -tx1 $(srcdir)/%reldir%/conv2d_pool.cl | $(FCNN_HEX_TO_C) > $@-t && mv -f $@-t $@
%reldir%/dense_skinny.cl.inc: $(srcdir)/%reldir%/dense_skinny.cl
	$(AM_V_GEN)$(MKDIR_P) %reldir% && \
	od -An -v -tx1 $(srcdir)/%reldir%/dense_skinny.cl | $(FCNN_HEX_TO_C) > $@-t && mv -f $@-t $@
