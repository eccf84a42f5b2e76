# The command line: option parsing in the library (tested), main() in the program.
libfcnn_a_SOURCES += %reldir%/cli.c %reldir%/cli.h %reldir%/cli_data.c %reldir%/cli_data.h \
	%reldir%/data_run.c %reldir%/data_run.h %reldir%/predict.c
fcnn_SOURCES = %reldir%/main.c %reldir%/warm_up_child.c %reldir%/warm_up_child.h
# The exports (--export-onnx, --export-weights), --version's build report, --list-kernels.
libfcnn_a_SOURCES += %reldir%/export.c %reldir%/export.h %reldir%/version.c %reldir%/version.h \
	%reldir%/list_kernels.c %reldir%/list_kernels.h
