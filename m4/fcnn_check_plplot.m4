# FCNN_CHECK_PLPLOT: PLplot draws the PNG plots (accuracy, loss, confusion, predictions).
AC_DEFUN([FCNN_CHECK_PLPLOT], [
  AC_ARG_WITH([plplot],
    [AS_HELP_STRING([--with-plplot@<:@=auto|yes|no@:>@],
                    [draw PNG plots with PLplot @<:@default=auto@:>@])],
    [], [with_plplot=auto])
  fcnn_have_plplot=no
  fcnn_plplot_why=
  AS_IF([test "x$with_plplot" != xno], [
    PKG_CHECK_MODULES([PLPLOT], [plplot], [fcnn_have_plplot=yes],
      [AC_CHECK_LIB([plplot], [c_plinit], [PLPLOT_LIBS=-lplplot; fcnn_have_plplot=yes],
         [fcnn_plplot_why="(install libplplot-dev plplot-driver-cairo)"])])
    AS_IF([test "x$fcnn_have_plplot" = xyes],
      [AC_DEFINE([HAVE_PLPLOT], [1], [Define to draw PNG plots with PLplot.])],
      [AS_IF([test "x$with_plplot" = xyes], [AC_MSG_ERROR([PLplot not found: install libplplot-dev])])])
  ], [fcnn_plplot_why="(disabled)"])
  AM_CONDITIONAL([HAVE_PLPLOT], [test "x$fcnn_have_plplot" = xyes])
])
