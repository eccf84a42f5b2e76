# Files a run writes and reads back: history.csv, safetensors checkpoints (through
# jansson). Without jansson the checkpoint module is replaced by an "off" version whose
# calls say what to install, so the rest of fcnn has no conditionals.
libfcnn_a_SOURCES += %reldir%/history.c %reldir%/history.h \
	%reldir%/dirlock.c %reldir%/dirlock.h
if HAVE_JANSSON
libfcnn_a_SOURCES += %reldir%/safetensors.c %reldir%/safetensors.h \
	%reldir%/checkpoint.c %reldir%/checkpoint.h %reldir%/checkpoint_input.c \
	%reldir%/weights.c %reldir%/weights.h
else
libfcnn_a_SOURCES += %reldir%/checkpoint-off.c %reldir%/checkpoint.h \
	%reldir%/weights-off.c %reldir%/weights.h
endif
# ONNX export: a protobuf encoder of our own and the ONNX IR's field numbers in one header.
libfcnn_a_SOURCES += %reldir%/protobuf.c %reldir%/protobuf.h %reldir%/onnx_proto.h \
	%reldir%/onnx_graph.c %reldir%/onnx_graph.h %reldir%/onnx_layers.c \
	%reldir%/onnx_layers.h %reldir%/onnx_export.c %reldir%/onnx.h \
	%reldir%/output_kind.c %reldir%/output_kind.h
