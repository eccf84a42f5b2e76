# The command line: option parsing in the library (tested), main() in the program.
libfcnn_a_SOURCES += %reldir%/cli.c %reldir%/cli.h
fcnn_SOURCES = %reldir%/main.c
