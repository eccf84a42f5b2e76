# What a run shows: the summary and classification report, the progress bar, and the
# plots (PLplot; an "off" version without it, as for checkpoints).
libfcnn_a_SOURCES += \
	%reldir%/report.c %reldir%/report.h \
	%reldir%/progress.c %reldir%/progress.h
if HAVE_PLPLOT
libfcnn_a_SOURCES += %reldir%/plot.c %reldir%/plot.h
else
libfcnn_a_SOURCES += %reldir%/plot-off.c %reldir%/plot.h
endif
