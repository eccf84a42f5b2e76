# Files a run writes and reads back: history.csv, safetensors checkpoints (through
# jansson). Without jansson the checkpoint module is replaced by an "off" version whose
# calls say what to install, so the rest of fcnn has no conditionals.
libfcnn_a_SOURCES += %reldir%/history.c %reldir%/history.h \
	%reldir%/dirlock.c %reldir%/dirlock.h
if HAVE_JANSSON
libfcnn_a_SOURCES += %reldir%/safetensors.c %reldir%/safetensors.h \
	%reldir%/checkpoint.c %reldir%/checkpoint.h
else
libfcnn_a_SOURCES += %reldir%/checkpoint-off.c %reldir%/checkpoint.h
endif
