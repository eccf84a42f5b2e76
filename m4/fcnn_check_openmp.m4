# FCNN_CHECK_OPENMP: OpenMP for the reference backend's batch loops (optional).
AC_DEFUN([FCNN_CHECK_OPENMP], [
  AC_OPENMP
  AS_IF([test "x$ac_cv_prog_c_openmp" != x && test "x$ac_cv_prog_c_openmp" != xunsupported],
        [fcnn_have_openmp=yes], [fcnn_have_openmp=no])
])
