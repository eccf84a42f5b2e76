#!/bin/sh
# Data-parallel training with the reference backend: two processes under mpirun follow
# the one-process run of the same seed (see compare in tests/mpi-lib.sh). SKIP (77) only
# when mpirun is missing or this fcnn was built without MPI.
set -u
. "${srcdir:-.}/tests/lib.sh" || exit 99
. "${srcdir:-.}/tests/mpi-lib.sh" || exit 99
require_data
require_mpi

common="--backend=ref --data $DATA --test-limit 500"
run alone 1 $common --train-limit 640 --epochs 2 || exit 1
run pair 2 $common --train-limit 640 --epochs 2 || exit 1
compare alone pair $common

finish "two processes with the reference backend"
