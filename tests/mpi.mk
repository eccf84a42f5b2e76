# Data-parallel training under mpirun (two processes on this machine). Always in the
# suite: each script skips (77) when mpirun or MPI in this build is missing, after
# checking that a build without MPI refuses to run as N copies.
TESTS += tests/mpi-ref.sh tests/mpi-opencl.sh
EXTRA_DIST += tests/mpi-lib.sh tests/mpi-ref.sh tests/mpi-opencl.sh
