#!/bin/sh
# The fusion tests must be able to fail. The harness (tests/backend-ops) runs ops one at a
# time, which never fuses, so a bug planted in a fused kernel is invisible to
# harness-catches-broken-kernel.sh: here bugs are planted in copies of the fused kernels'
# files (kernels/pool.cl, kernels/conv2d_pool.cl, kernels/batchnorm.cl, and the dropout mask
# they include, kernels/dropout_mask.cl), loaded through the kernel-override directory
# ($FCNN_KERNEL_DIR), and the test that runs the fused chain must exit 1, while the same
# test on untouched copies passes, so the failures are the planted bugs' doing.
#
# The plants, one per line: TEST FILE SED-EXPRESSION.
#   the fused forward: the dropout's mask on the wrong elements (the next element's)
#   the fused forward: the pooled output left unwritten
#   the fused backward: the dropout's own output left unwritten
#   the fused backward: the dropout's mask on the wrong elements (another seed)
#   the fused backward: the ReLU's mask inverted
#   the same four for the dropout fused into the pooled batch normalization (mask, pooled
#   output, the dropout's output, seed)
#   the mask itself, which every dropout kernel includes: another bit of the hash (the
#   fused and unfused chains then agree with each other, and not with ref)
#   a first layer's fused forward: the convolution's outputs stored in the wrong columns
# A sed expression that changes nothing stops the test with a hard error (99) instead of
# letting it pass vacuously.
#
# Exit: 0 every bug was caught; 1 one was not; 77 (SKIP) no OpenCL device here (or a
# build without the opencl backend); 99 the test could not be set up.
set -u

PLANTS='opencl-dropout-fusion pool.cl s/vstore16(dropout16(best, seed, (uint)at,/vstore16(dropout16(best, seed, (uint)at + 1u,/
opencl-dropout-fusion pool.cl s/    if (write_pooled)/    if (!write_pooled)/
opencl-dropout-fusion pool.cl s/            vstore16(g, 0, dropped + dropped_offset + at);/            ;/
opencl-dropout-fusion pool.cl s/g = dropout16(g, seed,/g = dropout16(g, seed + 1u,/
opencl-bn-dropout-fusion batchnorm.cl s/STORE16(dropout16(best, seed, (uint)at,/STORE16(dropout16(best, seed, (uint)at + 1u,/
opencl-bn-dropout-fusion batchnorm.cl s/                if (write_pooled)/                if (!write_pooled)/
opencl-bn-dropout-fusion batchnorm.cl s/                    STORE16(incoming, dropped + at);/                    ;/
opencl-bn-dropout-fusion batchnorm.cl s/incoming = dropout16(incoming, seed,/incoming = dropout16(incoming, seed + 1u,/
opencl-bn-dropout-fusion dropout_mask.cl s/kept = dropout_hash16(seed, first + lanes) >> 8;/kept = dropout_hash16(seed, first + lanes) >> 9;/
opencl-fusion pool.cl s/g, best > (float16)(0\.0f));/g, best < (float16)(0.0f));/
opencl-first-layer-fusion conv2d_pool.cl s/2 \* pw + oj) \* K/2 * pw + oi) * K/'

srcdir=${srcdir:-.}
files="pool.cl conv2d_pool.cl batchnorm.cl dropout_mask.cl"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fcnn-fusion-planted.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 99' INT TERM
mkdir "$tmp/clean" || exit 99
for file in $files; do
    [ -f "$srcdir/kernels/$file" ] || { echo "no kernels/$file in $srcdir"; exit 99; }
    cp "$srcdir/kernels/$file" "$tmp/clean/" || exit 99
done
# opencl-dropout-fusion runs its chains only: its training run adds nothing a plant in
# these kernels would need, and takes most of its time.
args() { [ "$1" = opencl-dropout-fusion ] && echo chains; }

# The control: the untouched copies, loaded the same way, pass every test.
for test in opencl-fusion opencl-dropout-fusion opencl-bn-dropout-fusion opencl-first-layer-fusion; do
    [ -x "./tests/$test" ] || { echo "no ./tests/$test: run from the build directory"; exit 99; }
    FCNN_KERNEL_DIR=$tmp/clean "./tests/$test" $(args "$test") >"$tmp/clean.log" 2>&1
    status=$?
    case $status in
        0) echo "control: $test passes on an unmodified copy" ;;
        77) cat "$tmp/clean.log"; echo "SKIP: no OpenCL device here"; exit 77 ;;
        *) cat "$tmp/clean.log"; echo "the control run of $test exited $status"; exit 99 ;;
    esac
done

failures=0
while read -r test file expr; do
    rm -rf "$tmp/broken" && cp -r "$tmp/clean" "$tmp/broken" || exit 99
    sed "$expr" "$tmp/clean/$file" >"$tmp/broken/$file" || exit 99
    if cmp -s "$tmp/clean/$file" "$tmp/broken/$file"; then
        echo "the plant '$expr' changed nothing in kernels/$file: point it at the current code"
        exit 99
    fi
    FCNN_KERNEL_DIR=$tmp/broken "./tests/$test" $(args "$test") >"$tmp/broken.log" 2>&1
    status=$?
    if [ "$status" -eq 1 ]; then
        echo "caught by $test ($(tail -n 1 "$tmp/broken.log")): $expr"
    else
        tail -n 5 "$tmp/broken.log"
        echo "FAIL: $test exited $status with kernels/$file broken by '$expr', not 1"
        failures=$((failures + 1))
    fi
done <<EOF_PLANTS
$PLANTS
EOF_PLANTS

[ "$failures" -eq 0 ] || { echo "$failures planted bug(s) not caught"; exit 1; }
echo "every planted bug was caught"
exit 0
