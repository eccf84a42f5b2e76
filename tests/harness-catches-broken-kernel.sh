#!/bin/sh
# The harness must be able to fail. Bugs are planted in copies of OpenCL kernel sources,
# loaded through the kernel-override directory ($FCNN_KERNEL_DIR), and tests/backend-ops
# must report EVERY variant that uses the broken file as FAILED (the registry says which,
# through tests/opencl-variant-files) and exit 1, while the same run on untouched copies
# passes, so the failures are the planted bugs' doing. A kernel that no longer compiles
# must fail the run too, in test and in grad mode: a backend that is here but cannot be
# opened is a failure, never a skip.
#
# The plants, one per line: FILE VICTIMS SED-EXPRESSION. VICTIMS is an extended regular
# expression over the registry's "OP VARIANT" lines that must fail ('.': every variant
# using the file; a leading '!': every one but those matching). It narrows the list when a
# file holds kernels the plant does not touch: pool.cl's max pooling plant breaks its
# comparisons (average pooling has none) and its average pooling plant the divisor, and
# the local-memory GEMM variants and the dense input gradient's rows_/cols_ forms use
# gemm.cl only for its transpose (they have plants of their own). dense_skinny.cl's second
# plant drops a row of the blocks at the edges, which only sizes that are multiples of no
# tile reach. The Winograd forwards' pooled form (conv2d_pool_fwd) has a plant of its own
# in its window maximum besides the output transform it shares, and the F(4x4, 3x3)
# forward one that drops its exact outputs over windows of zeros (the harness's background
# cases); conv2d_pool.cl's two
# convolutions (the general one and the one-channel 3x3 form) have a product plant each and
# share the maximum's. The Winograd weight
# gradients' GEMM stage in conv2d_filter.cl starts its sums from M or from zeros in one
# expression, so F(3x3, 2x2) has a plant of its own too, in its x transform, and F(3x3, 4x4)
# one in its dy transform (conv2d_filter_winograd4.cl).
# batchnorm.cl's plant starts the sums at 0.5 and halves
# inv_std, which every form of the three batch-normalization ops uses; its second drops the
# odd last row of a slice from the vec16 and columns sums, which take rows two at a time;
# its third starts the columns form's elementwise walk at row 1; its fourth turns the
# backward's fused ReLU mask, recomputed from x, inside out. PLANT_FILE and
# PLANT_SED replace the plants with one of your own, whose every variant must fail, e.g.
#   PLANT_FILE=activation.cl PLANT_SED='s/> 0/< 0/' tests/harness-catches-broken-kernel.sh
# A sed expression that changes nothing stops the test with a hard error (99) instead of
# letting it pass vacuously.
#
# Exit: 0 every bug was caught; 1 one was not; 77 (SKIP) no OpenCL platform or device here
# (or a build without the opencl backend); 99 the test could not be set up.
set -u

PLANTS='pool.cl ^maxpool_ s/ > / < /g
pool.cl ^avgpool_ s/\/ real/\/ (real + 1.0f)/g;s/\/= real/\/= (real + 1.0f)/g;s/\/ (float)(PH \* PW)/\/ (float)(PH * PW + 1)/g
conv2d_phases.cl . s/, wv\[v\], acc/, -wv[v], acc/g
conv2d_tiled.cl . s/, wv\[v\], acc/, -wv[v], acc/g
conv2d_winograd.cl . s/r1\[q\] = m\[4 + q\]\[t\]\[kv\] - /r1[q] = m[4 + q][t][kv] + /g
conv2d_winograd4.cl . s/2\.0f \* m3 - 0\.5f \* m4/2.0f * m3 + 0.5f * m4/g
conv2d_winograd.cl ^conv2d_pool_fwd s/select(best, o, o > best)/select(best, o, o < best)/
conv2d_winograd4.cl ^conv2d_pool_fwd s/select(\*w, o, o > \*w)/select(*w, o, o < *w)/
conv2d_winograd4.cl ^conv2d_fwd s/(window_zero ? (float16)(0\.0f) : out\[j\])/out[j]/
conv2d_pool.cl ^conv2d_pool_fwd[[:space:]]direct_ s/, uv\[kv\], acc/, -uv[kv], acc/g
conv2d_pool.cl ^conv2d_pool_fwd[[:space:]]c1_ s/, u\[r \* 3 + s\]\[kv\], v)/, -u[r * 3 + s][kv], v)/g
conv2d_pool.cl . s/select(best, v, v > best)/select(best, v, v < best)/
conv2d_filter.cl !winograd s/ = (float16)(0\.0f);/ = (float16)(0.5f);/g
conv2d_filter.cl ^conv2d_bwd_filter[[:space:]]winograd_ s/r\[2\]\[b\] = d\[2\]\[b\] - d\[1\]\[b\];/r[2][b] = d[2][b] + d[1][b];/
conv2d_filter_winograd4.cl . s/o\[2\] = (g0 + g2) - (g1 + g3);/o[2] = (g0 + g2) + (g1 + g3);/
gemm.cl !local_|^dense_bwd_data[[:space:]](rows|cols)_ s/acc\(\[r\]\[v\]\)\{0,1\} = (float16)(0\.0f);/acc\1 = (float16)(0.5f);/g
gemm_local.cl . s/acc\[i\]\[j\] = 0\.0f;/acc[i][j] = 0.5f;/g
dense_skinny.cl . s/acc\[r\]\[v\] = (float16)(0\.0f);/acc[r][v] = (float16)(0.5f);/g
dense_skinny.cl . s/r = \([dm]\)0 - first;/r = \10 - first + 1;/g
batchnorm.cl . s/sum = 0\.0f/sum = 0.5f/g;s/sum = (float16)(0\.0f)/sum = (float16)(0.5f)/g;s/= 1\.0f \/ sqrt(/= 0.5f \/ sqrt(/g
batchnorm.cl ^batchnorm_(fwd_train|bwd)[[:space:]](vec16|columns) s/if (r < end) {/if (r + 1 < end) {/g
batchnorm.cl ^batchnorm_(fwd_train|bwd)[[:space:]]columns s/for (size_t at = 0, end/for (size_t at = channels, end/g
batchnorm.cl ^batchnorm_bwd s/#define RELU_OPEN(v) ((v) > 0\.0f)/#define RELU_OPEN(v) ((v) < 0.0f)/'
if [ -n "${PLANT_FILE:-}" ] || [ -n "${PLANT_SED:-}" ]; then
    PLANTS="${PLANT_FILE:?set PLANT_FILE too} . ${PLANT_SED:?set PLANT_SED too}"
fi

srcdir=${srcdir:-.}
harness=./tests/backend-ops
variant_files=./tests/opencl-variant-files
[ -x "$harness" ] || { echo "cannot find $harness: run from the build directory"; exit 99; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fcnn-planted.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 99' INT TERM

if [ ! -x "$variant_files" ]; then
    # Only right in a build without the opencl backend, where the harness says so.
    "$harness" -b opencl -o load_batch >"$tmp/log" 2>&1
    status=$?
    cat "$tmp/log"
    [ "$status" -eq 77 ] && { echo "SKIP: no opencl backend in this build"; exit 77; }
    echo "the opencl backend is built but $variant_files is missing"; exit 99
fi
ls "$srcdir"/kernels/*.cl >/dev/null 2>&1 || { echo "no kernel sources in $srcdir/kernels"; exit 99; }
mkdir "$tmp/clean" && cp "$srcdir"/kernels/*.cl "$tmp/clean/" || exit 99

# What each plant breaks: the variants that use its file, and their ops.
all_ops=
n=0
echo "$PLANTS" | while read -r file keep expr; do
    n=$((n + 1))
    "$variant_files" "$file" >"$tmp/users" || { echo "no variant uses kernels/$file"; exit 99; }
    case $keep in
        !*) grep -Ev -- "${keep#!}" "$tmp/users" ;;
        *) grep -E -- "$keep" "$tmp/users" ;;
    esac >"$tmp/victims.$n" || { echo "the plant in kernels/$file names no variant ($keep)"; exit 99; }
done || exit 99
all_ops=$(cat "$tmp"/victims.* | awk '{ print $1 }' | sort -u)
op_args() { for op in $1; do printf -- '-o %s ' "$op"; done; }
variant_args() { for variant in $1; do printf -- '-k %s ' "$variant"; done; }

# The control: the untouched copies, loaded the same way, pass on every op involved.
FCNN_KERNEL_DIR=$tmp/clean "$harness" -b opencl $(op_args "$all_ops") >"$tmp/clean.log" 2>&1
status=$?
case $status in
    0) echo "control: unmodified copies pass ($(tail -n 1 "$tmp/clean.log"))" ;;
    77) cat "$tmp/clean.log"; echo "SKIP: no OpenCL device here"; exit 77 ;;
    *) cat "$tmp/clean.log"; echo "the control run, with unmodified kernels, exited $status"
       exit 99 ;;
esac

failures=0
n=0
while read -r file keep expr; do
    n=$((n + 1))
    rm -rf "$tmp/broken" && mkdir "$tmp/broken" && cp "$tmp/clean"/*.cl "$tmp/broken/" || exit 99
    [ -f "$tmp/clean/$file" ] || { echo "kernels/$file does not exist"; exit 99; }
    sed "$expr" "$tmp/clean/$file" >"$tmp/broken/$file" || exit 99
    if cmp -s "$tmp/clean/$file" "$tmp/broken/$file"; then
        echo "the plant '$expr' changed nothing in kernels/$file: point it at the current code"
        exit 99
    fi
    echo "=== planted in kernels/$file ($expr):"
    diff "$tmp/clean/$file" "$tmp/broken/$file"
    # Only the victims run: the other variants of their ops were shown to pass by the
    # control, and running them again was most of this test's time.
    ops=$(awk '{ print $1 }' "$tmp/victims.$n" | sort -u)
    variants=$(awk '{ print $2 }' "$tmp/victims.$n" | sort -u)
    FCNN_KERNEL_DIR=$tmp/broken "$harness" -b opencl $(op_args "$ops") $(variant_args "$variants") \
        >"$tmp/broken.log" 2>&1
    status=$?
    grep -E " FAILED$|passed, .* failed" "$tmp/broken.log"
    if [ "$status" -ne 1 ]; then
        echo "FAIL: the harness exited $status on broken kernels/$file, not 1"
        failures=$((failures + 1))
    fi
    while read -r op variant; do
        if grep -q "^$op(.*) opencl:$variant FAILED\$" "$tmp/broken.log"; then
            echo "caught: $op variant $variant"
        else
            echo "FAIL: $op variant $variant uses kernels/$file but no case of it failed"
            failures=$((failures + 1))
        fi
    done <"$tmp/victims.$n"
done <<EOF_PLANTS
$PLANTS
EOF_PLANTS

# A kernel that does not compile: the backend cannot open, and both modes must fail.
if [ -z "${PLANT_FILE:-}" ]; then
    rm -rf "$tmp/broken" && mkdir "$tmp/broken" && cp "$tmp/clean"/*.cl "$tmp/broken/" || exit 99
    echo "this is not OpenCL C" >>"$tmp/broken/data.cl"
    for mode in test grad; do
        FCNN_KERNEL_DIR=$tmp/broken "$harness" "$mode" -b opencl -o load_batch -o relu_bwd \
            >"$tmp/open.log" 2>&1
        status=$?
        if [ "$status" -eq 1 ] && grep -q "^backend opencl is here but failed to open" "$tmp/open.log"; then
            echo "caught: a kernel that does not compile fails $mode mode"
        else
            cat "$tmp/open.log"
            echo "FAIL: $mode mode exited $status with a kernel that does not compile (1 expected)"
            failures=$((failures + 1))
        fi
    done
fi

[ "$failures" -eq 0 ] || { echo "$failures planted bug(s) not caught"; exit 1; }
echo "every planted bug was caught"
exit 0
