# FCNN_CHECK_LIBPNG, FCNN_CHECK_LIBJPEG: the decoders of image folders and --predict.
#   Without one, fcnn still trains on IDX files; that format's images are refused with a
#   line saying what to install.
AC_DEFUN([FCNN_CHECK_LIBPNG], [
  AC_ARG_WITH([libpng],
    [AS_HELP_STRING([--with-libpng@<:@=auto|yes|no@:>@],
                    [read PNG images with libpng @<:@default=auto@:>@])],
    [], [with_libpng=auto])
  fcnn_have_libpng=no
  fcnn_libpng_why=
  AS_IF([test "x$with_libpng" != xno], [
    PKG_CHECK_MODULES([LIBPNG], [libpng >= 1.6], [fcnn_have_libpng=yes],
      [AC_CHECK_LIB([png16], [png_image_begin_read_from_file],
         [LIBPNG_LIBS=-lpng16; fcnn_have_libpng=yes],
         [fcnn_libpng_why="(install libpng-dev)"])])
    AS_IF([test "x$fcnn_have_libpng" = xyes],
      [AC_DEFINE([HAVE_LIBPNG], [1], [Define to read PNG images with libpng.])],
      [AS_IF([test "x$with_libpng" = xyes], [AC_MSG_ERROR([libpng not found: install libpng-dev])])])
  ], [fcnn_libpng_why="(disabled)"])
  AM_CONDITIONAL([HAVE_LIBPNG], [test "x$fcnn_have_libpng" = xyes])
])

AC_DEFUN([FCNN_CHECK_LIBJPEG], [
  AC_ARG_WITH([libjpeg],
    [AS_HELP_STRING([--with-libjpeg@<:@=auto|yes|no@:>@],
                    [read JPEG images with libjpeg @<:@default=auto@:>@])],
    [], [with_libjpeg=auto])
  fcnn_have_libjpeg=no
  fcnn_libjpeg_why=
  AS_IF([test "x$with_libjpeg" != xno], [
    PKG_CHECK_MODULES([LIBJPEG], [libjpeg], [fcnn_have_libjpeg=yes],
      [AC_CHECK_HEADER([jpeglib.h],
         [AC_CHECK_LIB([jpeg], [jpeg_start_decompress], [LIBJPEG_LIBS=-ljpeg; fcnn_have_libjpeg=yes],
            [fcnn_libjpeg_why="(install libjpeg-dev)"])],
         [fcnn_libjpeg_why="(install libjpeg-dev)"], [#include <stdio.h>])])
    AS_IF([test "x$fcnn_have_libjpeg" = xyes],
      [AC_DEFINE([HAVE_LIBJPEG], [1], [Define to read JPEG images with libjpeg.])],
      [AS_IF([test "x$with_libjpeg" = xyes], [AC_MSG_ERROR([libjpeg not found: install libjpeg-dev])])])
  ], [fcnn_libjpeg_why="(disabled)"])
  AM_CONDITIONAL([HAVE_LIBJPEG], [test "x$fcnn_have_libjpeg" = xyes])
])
