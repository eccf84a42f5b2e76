# FCNN_CHECK_OPENBLAS: OpenBLAS's sgemm measures the host CPU's fp32 peak for
#   `fcnn --bench`, an independent figure that a slow GEMM kernel of our own cannot lower.
#   Without it the benchmark measures the peak with the backend's own dense layer only.
AC_DEFUN([FCNN_CHECK_OPENBLAS], [
  AC_ARG_WITH([openblas],
    [AS_HELP_STRING([--with-openblas@<:@=auto|yes|no@:>@],
                    [the host CPU's fp32 peak in --bench through OpenBLAS @<:@default=auto@:>@])],
    [], [with_openblas=auto])
  fcnn_have_openblas=no
  fcnn_openblas_why=
  AS_IF([test "x$with_openblas" != xno], [
    dnl Only the header is compiled against: the library is loaded with dlopen() when
    dnl the benchmark measures (src/train/host_peak.c says why), under its runtime name.
    PKG_CHECK_MODULES([OPENBLAS], [openblas], [fcnn_have_openblas=yes],
      [fcnn_openblas_why="(install libopenblas-dev)"])
    AS_IF([test "x$fcnn_have_openblas" = xyes],
      [AC_SEARCH_LIBS([dlopen], [dl], [], [fcnn_have_openblas=no; fcnn_openblas_why="(no dlopen)"])])
    AS_IF([test "x$fcnn_have_openblas" = xyes],
      [AC_DEFINE([HAVE_OPENBLAS], [1], [Define to measure the host's fp32 peak with OpenBLAS.])
       AC_DEFINE([OPENBLAS_SONAME], ["libopenblas.so.0"], [OpenBLAS's runtime library name.])],
      [AS_IF([test "x$with_openblas" = xyes], [AC_MSG_ERROR([OpenBLAS not found: install libopenblas-dev])])])
  ], [fcnn_openblas_why="(disabled)"])
  AM_CONDITIONAL([HAVE_OPENBLAS], [test "x$fcnn_have_openblas" = xyes])
])
