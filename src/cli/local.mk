# The command line: option parsing in the library (tested), main() in the program.
libfcnn_a_SOURCES += %reldir%/cli.c %reldir%/cli.h %reldir%/cli_data.c %reldir%/cli_data.h \
	%reldir%/data_run.c %reldir%/data_run.h %reldir%/predict.c
fcnn_SOURCES = %reldir%/main.c
