# Checkpoints (safetensors) and plots (PLplot): sources of libfcnn.
# Each module is built only when configure found its library; the core calls it under
# #ifdef HAVE_JANSSON / HAVE_PLPLOT.
if HAVE_JANSSON
libfcnn_a_SOURCES += %reldir%/safetensors.c %reldir%/safetensors.h \
	%reldir%/checkpoint.c %reldir%/checkpoint.h
endif
if HAVE_PLPLOT
libfcnn_a_SOURCES += %reldir%/plot.c %reldir%/plot.h
endif
