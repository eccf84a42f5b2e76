#!/bin/sh
# make check: every backend other than ref, every kernel variant, on the whole case table,
# against the reference backend; then the convolutions again with the OpenCL backend's
# im2col column budget cut to 12 KB, so that each batch runs in several passes (the path an
# evaluation batch of 1000 takes) and the passes' seams are checked against ref too.
# Exit: 1 if either run failed; 77 (SKIP) only when the harness says nothing could run.
./tests/backend-ops test
status=$?
[ "$status" -eq 0 ] || exit "$status"
echo "--- the convolutions again, in passes of a 12 KB column budget ---"
FCNN_OPENCL_COLUMN_BUDGET=12000 ./tests/backend-ops test \
    -o conv2d_fwd -o conv2d_bwd_data -o conv2d_bwd_filter
