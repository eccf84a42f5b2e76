# FCNN_CHECK_LIBDEFLATE: libdeflate, which inflates a whole gzip file in memory about
# twice as fast as zlib's streaming reader; the IDX reader uses it when it reads a whole
# gzip file and zlib otherwise (and whenever libdeflate's one-shot read does not apply).
AC_DEFUN([FCNN_CHECK_LIBDEFLATE], [
  AC_ARG_WITH([libdeflate],
    [AS_HELP_STRING([--with-libdeflate@<:@=auto|yes|no@:>@],
                    [inflate whole gzip data files with libdeflate @<:@default=auto@:>@])],
    [], [with_libdeflate=auto])
  fcnn_have_libdeflate=no
  fcnn_libdeflate_why=
  AS_IF([test "x$with_libdeflate" != xno], [
    PKG_CHECK_MODULES([LIBDEFLATE], [libdeflate], [fcnn_have_libdeflate=yes],
      [AC_CHECK_HEADER([libdeflate.h],
         [AC_CHECK_LIB([deflate], [libdeflate_gzip_decompress_ex],
            [LIBDEFLATE_LIBS=-ldeflate; fcnn_have_libdeflate=yes],
            [fcnn_libdeflate_why="(install libdeflate-dev)"])],
         [fcnn_libdeflate_why="(install libdeflate-dev)"])])
    AS_IF([test "x$fcnn_have_libdeflate" = xyes],
      [AC_DEFINE([HAVE_LIBDEFLATE], [1], [Define to inflate whole gzip files with libdeflate.])],
      [AS_IF([test "x$with_libdeflate" = xyes], [AC_MSG_ERROR([libdeflate not found: install libdeflate-dev])])])
  ], [fcnn_libdeflate_why="(disabled)"])
  AM_CONDITIONAL([HAVE_LIBDEFLATE], [test "x$fcnn_have_libdeflate" = xyes])
])
