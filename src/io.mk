# Checkpoints (safetensors, through jansson) and plots (PLplot): sources of libfcnn. Without
# its library, each module is replaced by an "off" version whose calls say what to install,
# so the rest of fcnn has no conditionals.
if HAVE_JANSSON
libfcnn_a_SOURCES += %reldir%/safetensors.c %reldir%/safetensors.h \
	%reldir%/checkpoint.c %reldir%/checkpoint.h
else
libfcnn_a_SOURCES += %reldir%/checkpoint-off.c %reldir%/checkpoint.h
endif
if HAVE_PLPLOT
libfcnn_a_SOURCES += %reldir%/plot.c %reldir%/plot.h
else
libfcnn_a_SOURCES += %reldir%/plot-off.c %reldir%/plot.h
endif
