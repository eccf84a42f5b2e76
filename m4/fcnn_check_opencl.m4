# FCNN_CHECK_OPENCL: the OpenCL backend needs an ICD loader (OpenCL) and CLBlast.
#   --enable-opencl=auto (default): build it when both are found, else say why not.
#   --enable-opencl=yes: a missing dependency is an error.  --enable-opencl=no: skip.
AC_DEFUN([FCNN_CHECK_OPENCL], [
  AC_ARG_ENABLE([opencl],
    [AS_HELP_STRING([--enable-opencl@<:@=auto|yes|no@:>@],
                    [build the OpenCL backend (needs OpenCL and CLBlast) @<:@default=auto@:>@])],
    [], [enable_opencl=auto])
  fcnn_have_opencl=no
  fcnn_opencl_why=
  AS_IF([test "x$enable_opencl" != xno], [
    fcnn_cl_ok=yes
    PKG_CHECK_MODULES([OPENCL], [OpenCL], [],
      [AC_CHECK_LIB([OpenCL], [clGetPlatformIDs], [OPENCL_LIBS=-lOpenCL],
         [fcnn_cl_ok=no; fcnn_opencl_why="(no OpenCL ICD loader: install ocl-icd-opencl-dev)"])])
    AS_IF([test "x$fcnn_cl_ok" = xyes], [
      fcnn_save_CPPFLAGS=$CPPFLAGS; CPPFLAGS="$CPPFLAGS $OPENCL_CFLAGS"
      AC_CHECK_HEADER([CL/cl.h], [],
        [fcnn_cl_ok=no; fcnn_opencl_why="(no CL/cl.h: install opencl-c-headers)"])
      CPPFLAGS=$fcnn_save_CPPFLAGS])
    AS_IF([test "x$fcnn_cl_ok" = xyes], [
      PKG_CHECK_MODULES([CLBLAST], [clblast], [],
        [AC_CHECK_LIB([clblast], [CLBlastSgemm], [CLBLAST_LIBS=-lclblast],
           [fcnn_cl_ok=no; fcnn_opencl_why="(no CLBlast: install libclblast-dev)"])])])
    AS_IF([test "x$fcnn_cl_ok" = xyes],
      [fcnn_have_opencl=yes
       AC_DEFINE([HAVE_OPENCL], [1], [Define to build the OpenCL backend.])],
      [AS_IF([test "x$enable_opencl" = xyes],
         [AC_MSG_ERROR([--enable-opencl=yes but the OpenCL backend cannot be built $fcnn_opencl_why])])])
  ], [fcnn_opencl_why="(disabled)"])
  AM_CONDITIONAL([HAVE_OPENCL], [test "x$fcnn_have_opencl" = xyes])
])
