# FCNN_CHECK_MPI: Open MPI for data-parallel training (one process per device, gradients
#   summed with MPI_Allreduce). pkg-config's ompi-c first, then the wrapper compiler's
#   own flags (mpicc --showme), so a plain CC builds it. Without MPI, fcnn still runs
#   alone and refuses to start under mpirun.
AC_DEFUN([FCNN_CHECK_MPI], [
  AC_ARG_WITH([mpi],
    [AS_HELP_STRING([--with-mpi@<:@=auto|yes|no@:>@],
                    [data-parallel training with Open MPI @<:@default=auto@:>@])],
    [], [with_mpi=auto])
  fcnn_have_mpi=no
  fcnn_mpi_why=
  AS_IF([test "x$with_mpi" != xno], [
    PKG_CHECK_MODULES([MPI], [ompi-c], [fcnn_have_mpi=yes], [
      AC_PATH_PROG([MPICC], [mpicc])
      AS_IF([test -n "$MPICC"], [
        MPI_CFLAGS=`$MPICC --showme:compile 2>/dev/null`
        MPI_LIBS=`$MPICC --showme:link 2>/dev/null`
        AS_IF([test -n "$MPI_LIBS"], [fcnn_have_mpi=yes])
      ])
    ])
    AS_IF([test "x$fcnn_have_mpi" = xyes], [
      fcnn_save_CPPFLAGS=$CPPFLAGS; fcnn_save_LIBS=$LIBS
      CPPFLAGS="$CPPFLAGS $MPI_CFLAGS"; LIBS="$MPI_LIBS $LIBS"
      AC_MSG_CHECKING([whether MPI programs link])
      AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <mpi.h>]],
                       [[MPI_Request r; return MPI_Iallreduce(MPI_IN_PLACE, 0, 0, MPI_FLOAT,
                                                              MPI_SUM, MPI_COMM_WORLD, &r);]])],
                     [AC_MSG_RESULT([yes])],
                     [AC_MSG_RESULT([no]); fcnn_have_mpi=no
                      fcnn_mpi_why="(mpi.h or libmpi unusable)"])
      CPPFLAGS=$fcnn_save_CPPFLAGS; LIBS=$fcnn_save_LIBS
    ], [fcnn_mpi_why="(install libopenmpi-dev openmpi-bin)"])
    AS_IF([test "x$fcnn_have_mpi" = xyes],
      [AC_DEFINE([HAVE_MPI], [1], [Define for data-parallel training with MPI.])],
      [MPI_CFLAGS=; MPI_LIBS=
       AS_IF([test "x$with_mpi" = xyes], [AC_MSG_ERROR([Open MPI not found: install libopenmpi-dev])])])
  ], [fcnn_mpi_why="(disabled)"])
  # The tests start jobs with mpirun; found even in builds without MPI, so a test can check
  # that such a build refuses to run as N independent copies.
  AC_PATH_PROG([MPIRUN], [mpirun])
  AC_SUBST([MPI_CFLAGS])
  AC_SUBST([MPI_LIBS])
  AM_CONDITIONAL([HAVE_MPI], [test "x$fcnn_have_mpi" = xyes])
])
