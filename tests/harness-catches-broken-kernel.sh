#!/bin/sh
# The harness must be able to fail (issue 4): plant a bug in a copy of one OpenCL kernel
# source, load the copies through the kernel-override directory ($FCNN_KERNEL_DIR), and
# check that tests/backend-ops reports the op that uses it as FAILED and exits 1, while the
# same run on untouched copies passes (so the failure is the planted bug's doing).
#
# What to break, overridable from the environment:
#   PLANT_FILE  the kernel source under kernels/ to copy and break
#   PLANT_OP    the harness op (-o) whose cases run that kernel
#   PLANT_SED   a sed expression that plants the bug; it must change the file, or this
#               test stops with a hard error (99) instead of passing vacuously
# For example, to break the ReLU backward instead:
#   PLANT_FILE=relu.cl PLANT_OP=relu_bwd PLANT_SED='s/> 0/< 0/' tests/harness-catches-broken-kernel.sh
#
# Exit: 0 the bug was caught; 1 it was not; 77 (SKIP) no opencl backend or device here;
# 99 the test could not be set up.
set -u

PLANT_FILE=${PLANT_FILE:-pool.cl}
PLANT_OP=${PLANT_OP:-maxpool_fwd}
PLANT_SED=${PLANT_SED:-'s/ > / < /g'} # every max comparison becomes a min

srcdir=${srcdir:-.}
harness=./tests/backend-ops

if [ ! -x "$harness" ]; then
    echo "cannot find $harness: run from the build directory (make check does)"
    exit 99
fi

# PLANT_OP must name an op (the harness lists its cases, or exits 2).
"$harness" -o "$PLANT_OP" -l >/dev/null 2>&1 || { echo "PLANT_OP: no op named '$PLANT_OP'"; exit 99; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fcnn-planted.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 99' INT TERM

mkdir "$tmp/clean" "$tmp/broken"
if ! ls "$srcdir"/kernels/*.cl >/dev/null 2>&1; then
    # No kernel sources: only right without an opencl backend in this build (or a device
    # to run it), where the harness answers 77.
    "$harness" -b opencl -o "$PLANT_OP" >"$tmp/log" 2>&1
    status=$?
    [ "$status" -eq 77 ] && { echo "no opencl backend here: skipped"; exit 77; }
    echo "the opencl backend runs but $srcdir/kernels has no .cl sources"
    exit 99
fi
cp "$srcdir"/kernels/*.cl "$tmp/clean/" || exit 99
cp "$srcdir"/kernels/*.cl "$tmp/broken/" || exit 99

# The control run: the untouched copies, loaded the same way, must pass.
FCNN_KERNEL_DIR=$tmp/clean "$harness" -b opencl -o "$PLANT_OP" >"$tmp/clean.log" 2>&1
status=$?
case $status in
    0) ;;
    77) echo "no opencl backend or device here: skipped"; cat "$tmp/clean.log"; exit 77 ;;
    *) echo "the control run, with unmodified kernels, exited $status:"
       cat "$tmp/clean.log"; exit 99 ;;
esac

if [ ! -f "$tmp/broken/$PLANT_FILE" ]; then
    echo "kernels/$PLANT_FILE does not exist: set PLANT_FILE to a file in kernels/"
    exit 99
fi
sed "$PLANT_SED" "$srcdir/kernels/$PLANT_FILE" >"$tmp/broken/$PLANT_FILE" || exit 99
if cmp -s "$srcdir/kernels/$PLANT_FILE" "$tmp/broken/$PLANT_FILE"; then
    echo "PLANT_SED '$PLANT_SED' changed nothing in kernels/$PLANT_FILE:"
    echo "point PLANT_FILE and PLANT_SED at the kernel's current code"
    exit 99
fi
echo "planted in kernels/$PLANT_FILE:"
diff "$srcdir/kernels/$PLANT_FILE" "$tmp/broken/$PLANT_FILE"

FCNN_KERNEL_DIR=$tmp/broken "$harness" -b opencl -o "$PLANT_OP" >"$tmp/broken.log" 2>&1
status=$?
cat "$tmp/broken.log"
if [ "$status" -ne 1 ]; then
    echo "the harness exited $status on the broken kernel: it should have failed (1)"
    exit 1
fi
if ! grep -q "^$PLANT_OP(.* opencl.* FAILED\$" "$tmp/broken.log"; then
    echo "the harness exited 1 but reported no $PLANT_OP case as FAILED"
    exit 1
fi
echo "the planted bug in kernels/$PLANT_FILE was caught"
exit 0
