# Data sources behind one interface (source.h): IDX files and folders of images, both
# giving the in-memory dataset; image decoding through libpng and libjpeg, each with an
# "off" version for builds without it; the validation split; device-resident splits.
libfcnn_a_SOURCES += \
	%reldir%/idx.c %reldir%/idx.h \
	%reldir%/gzip_whole.c %reldir%/gzip_whole.h \
	%reldir%/dataset.c %reldir%/dataset.h \
	%reldir%/classes.c %reldir%/classes.h %reldir%/input.h \
	%reldir%/image.c %reldir%/image.h \
	%reldir%/folder.c %reldir%/folder.h \
	%reldir%/source.c %reldir%/source.h \
	%reldir%/augment.c %reldir%/augment.h \
	%reldir%/split.c %reldir%/split.h
if HAVE_LIBPNG
libfcnn_a_SOURCES += %reldir%/image_png.c
else
libfcnn_a_SOURCES += %reldir%/image_png-off.c
endif
if HAVE_LIBJPEG
libfcnn_a_SOURCES += %reldir%/image_jpeg.c
else
libfcnn_a_SOURCES += %reldir%/image_jpeg-off.c
endif
