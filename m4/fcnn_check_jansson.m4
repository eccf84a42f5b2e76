# FCNN_CHECK_JANSSON: jansson parses and writes the safetensors JSON header.
#   Checkpoints (--save, --load, --resume) need it; without it fcnn trains but cannot save.
AC_DEFUN([FCNN_CHECK_JANSSON], [
  AC_ARG_WITH([jansson],
    [AS_HELP_STRING([--with-jansson@<:@=auto|yes|no@:>@],
                    [safetensors checkpoints through jansson @<:@default=auto@:>@])],
    [], [with_jansson=auto])
  fcnn_have_jansson=no
  fcnn_jansson_why=
  AS_IF([test "x$with_jansson" != xno], [
    PKG_CHECK_MODULES([JANSSON], [jansson >= 2.10], [fcnn_have_jansson=yes],
      [AC_CHECK_LIB([jansson], [json_loadb], [JANSSON_LIBS=-ljansson; fcnn_have_jansson=yes],
         [fcnn_jansson_why="(install libjansson-dev)"])])
    AS_IF([test "x$fcnn_have_jansson" = xyes],
      [AC_DEFINE([HAVE_JANSSON], [1], [Define to enable safetensors checkpoints.])],
      [AS_IF([test "x$with_jansson" = xyes], [AC_MSG_ERROR([jansson not found: install libjansson-dev])])])
  ], [fcnn_jansson_why="(disabled)"])
  AM_CONDITIONAL([HAVE_JANSSON], [test "x$fcnn_have_jansson" = xyes])
])
