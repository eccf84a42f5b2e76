#!/bin/sh
# The OpenCL backend through the fcnn command: device listing and selection errors, a
# kernel that does not compile, the automatic backend choice, and the same seed giving
# the same numbers twice. SKIP (77) when this build or machine has no OpenCL device.
set -u
. "${srcdir:-.}/tests/lib.sh" || exit 99
require_opencl
require_data
small="--data $DATA --train-limit 640 --test-limit 200 --epochs 2"

# --list-devices: index, name and the details, for ref and opencl alike.
"$FCNN" --list-devices > "$tmp/devices" || fail "--list-devices exited $?"
grep -q "compute units" "$tmp/devices" || fail "--list-devices lacks compute units"
grep -q "driver" "$tmp/devices" || fail "--list-devices lacks the driver version"

# A device that matches nothing: exit 1, one line listing what exists.
FCNN_DEVICE=no-such-device "$FCNN" --backend=opencl $small > "$tmp/out" 2> "$tmp/err"
status=$?
[ "$status" -eq 1 ] || fail "FCNN_DEVICE=no-such-device exited $status"
[ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "unknown device: not one line: $(cat "$tmp/err")"
grep -q "no-such-device" "$tmp/err" || fail "unknown device: not named: $(cat "$tmp/err")"
first=$(sed -n 's/^\([0-9]*:[0-9]*\)  \(.*\)  .*/\2/p' "$tmp/devices" | head -n 1 | cut -c1-20)
grep -qF "$first" "$tmp/err" || fail "unknown device: existing devices not listed: $(cat "$tmp/err")"
"$FCNN" --backend=opencl --device 9:9 $small > "$tmp/out" 2> "$tmp/err"
[ $? -eq 1 ] || fail "--device 9:9 did not fail with status 1"

# A kernel with a syntax error in $FCNN_KERNEL_DIR: exit 1, the file and its build log.
mkdir "$tmp/kernels"
broken=$(cd "$srcdir/kernels" && ls *.cl | head -n 1)
{ cat "$srcdir/kernels/$broken"; echo "this is not OpenCL C;"; } > "$tmp/kernels/$broken"
FCNN_NO_CACHE=1 FCNN_KERNEL_DIR="$tmp/kernels" "$FCNN" --backend=opencl $small > "$tmp/out" 2> "$tmp/err"
status=$?
[ "$status" -eq 1 ] || fail "broken $broken exited $status"
grep -q "$broken" "$tmp/err" || fail "broken kernel: file not named: $(head -c 300 "$tmp/err")"
grep -qi "error" "$tmp/err" || fail "broken kernel: no build log: $(head -c 300 "$tmp/err")"
grep -q "CL_BUILD_PROGRAM_FAILURE" "$tmp/err" || fail "broken kernel: the CL error is not named"

# A part that kernel files include (kernels/dropout_mask.cl), broken the same way: the
# program says which part it included from where, and the build log names the part's own
# file and line (fcnn pastes it in between #line directives).
mkdir "$tmp/part"
part_lines=$(wc -l < "$srcdir/kernels/dropout_mask.cl")
{ cat "$srcdir/kernels/dropout_mask.cl"; echo "this is not OpenCL C;"; } > "$tmp/part/dropout_mask.cl"
FCNN_NO_CACHE=1 FCNN_KERNEL_DIR="$tmp/part" "$FCNN" --backend=opencl $small > "$tmp/out" 2> "$tmp/err"
status=$?
[ "$status" -eq 1 ] || fail "broken dropout_mask.cl exited $status"
grep -q "including .*dropout_mask.cl (from FCNN_KERNEL_DIR)" "$tmp/err" ||
  fail "broken part: not named as included: $(head -c 300 "$tmp/err")"
grep -q "dropout_mask.cl:$((part_lines + 1)):" "$tmp/err" ||
  fail "broken part: the build log does not name its line $((part_lines + 1)): $(head -c 600 "$tmp/err")"

# An #include of a part that does not exist: one line naming the file, its line and the part.
mkdir "$tmp/include"
include_line=$(grep -n '^#include "dropout_mask.cl"' "$srcdir/kernels/pool.cl" | cut -d: -f1)
sed 's/^#include "dropout_mask.cl"/#include "no_such_part.cl"/' "$srcdir/kernels/pool.cl" > "$tmp/include/pool.cl"
FCNN_NO_CACHE=1 FCNN_KERNEL_DIR="$tmp/include" "$FCNN" --backend=opencl $small > "$tmp/out" 2> "$tmp/err"
status=$?
[ "$status" -eq 1 ] || fail "an #include of no part exited $status"
[ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "an #include of no part: not one line: $(cat "$tmp/err")"
grep -q "pool.cl (from FCNN_KERNEL_DIR), line $include_line: no kernel part named no_such_part.cl" "$tmp/err" ||
  fail "an #include of no part: $(cat "$tmp/err")"

# A bad OpenCL setting is an error naming it, on stderr, even without --backend: never a
# silent fall back to the reference backend. bad_setting STATUS NAME [ENV=VALUE] [ARGS...]
bad_setting() {
  want=$1 name=$2; shift 2
  env "$@" $small --out "$tmp/bad" > "$tmp/out" 2> "$tmp/err"
  status=$?
  [ "$status" -eq "$want" ] || fail "$*: exited $status, expected $want: $(head -c 300 "$tmp/err")"
  head -n 1 "$tmp/err" | grep -q -- "^fcnn: $name" || fail "$*: does not name $name: $(head -c 300 "$tmp/err")"
  grep -q "reference backend\|^Backend: ref" "$tmp/out" && fail "$*: fell back to the reference backend"
  [ ! -e "$tmp/bad" ] || fail "$*: left $tmp/bad behind"
}
bad_setting 1 FCNN_DEVICE FCNN_DEVICE=no-such-device "$FCNN"
bad_setting 1 --device "$FCNN" --device=no-such-device
bad_setting 1 FCNN_KERNELS FCNN_KERNELS=conv2d_fwd=bogus "$FCNN"
bad_setting 2 --kernel "$FCNN" --kernel=conv2d_fwd=bogus
bad_setting 2 --kernel "$FCNN" --kernel=no_such_op=direct
bad_setting 1 FCNN_KERNEL_DIR FCNN_KERNEL_DIR="$tmp/no-such-dir" "$FCNN"
FCNN_NO_CACHE=1 FCNN_KERNEL_DIR="$tmp/kernels" "$FCNN" $small --out "$tmp/bad" > "$tmp/out" 2> "$tmp/err"
status=$?
[ "$status" -eq 1 ] || fail "broken $broken without --backend exited $status (fell back?)"
grep -q "FCNN_KERNEL_DIR" "$tmp/err" || fail "broken kernel: FCNN_KERNEL_DIR not named: $(head -c 300 "$tmp/err")"

# No OpenCL platform at all (an ICD loader with no vendor): the automatic choice falls
# back to ref and says so, unless an OpenCL setting was made, which is then named.
OCL_ICD_VENDORS="$tmp/no-vendors" "$FCNN" $small --epochs 1 --train-limit 64 --test-limit 32 \
  --out "$tmp/fallback" > "$tmp/out" 2> "$tmp/err"
status=$?
if ! grep -q "^Backend: opencl" "$tmp/out"; then # this loader honours OCL_ICD_VENDORS
  [ "$status" -eq 0 ] || fail "no platform, nothing asked: exited $status: $(cat "$tmp/err")"
  grep -q "^Backend: ref" "$tmp/out" || fail "no platform: did not fall back to ref"
  OCL_ICD_VENDORS="$tmp/no-vendors" FCNN_DEVICE=0:0 "$FCNN" $small --out "$tmp/fallback2" > "$tmp/out" 2> "$tmp/err"
  status=$?
  [ "$status" -eq 1 ] || fail "no platform with FCNN_DEVICE set: exited $status"
  grep -q "^fcnn: FCNN_DEVICE asks for OpenCL, but no OpenCL platform" "$tmp/err" || fail "no platform with FCNN_DEVICE: $(cat "$tmp/err")"
else
  echo "note: this ICD loader ignores OCL_ICD_VENDORS; the fall back is not tested"
fi

# An unusable cache directory costs the cache, not the device: a warning, then OpenCL.
: > "$tmp/file"
FCNN_TUNE=0 XDG_CACHE_HOME="$tmp/file/cache" "$FCNN" $small --epochs 1 --out "$tmp/nocache" > "$tmp/out" 2> "$tmp/err"
status=$?
[ "$status" -eq 0 ] || fail "unusable XDG_CACHE_HOME exited $status: $(head -c 300 "$tmp/err")"
grep -q "^Backend: opencl " "$tmp/out" || fail "unusable XDG_CACHE_HOME: not on OpenCL: $(grep -i "backend\|opencl" "$tmp/out" | head -n 2)"
grep -q "warning: .*XDG_CACHE_HOME" "$tmp/err" || fail "unusable XDG_CACHE_HOME: no warning: $(head -c 300 "$tmp/err")"

# Without --backend, fcnn picks OpenCL here and says so.
"$FCNN" $small --epochs 1 --out "$tmp/auto" > "$tmp/auto.out" 2>&1 || fail "automatic backend: $(tail -n 1 "$tmp/auto.out")"
grep -q "^Backend: opencl " "$tmp/auto.out" || fail "automatic choice is not opencl: $(grep Backend "$tmp/auto.out")"

# The same seed twice: the same numbers (timings and paths aside). Variants may differ in
# the last bits, and a test running beside this one could store another tuning choice
# between the two runs, so the check pins the choice (FCNN_TUNE=0: by priority).
for run in a b; do
  FCNN_TUNE=0 "$FCNN" --backend=opencl $small --out "$tmp/$run" > "$tmp/$run.out" 2>&1 || fail "run $run: $(tail -n 1 "$tmp/$run.out")"
  sed 's/ - [0-9]*s [0-9]*ms\/step//' "$tmp/$run.out" | grep -v "^Data:\|$tmp/" > "$tmp/$run.clean"
done
cmp -s "$tmp/a.clean" "$tmp/b.clean" || { fail "same seed, different output on opencl"; diff "$tmp/a.clean" "$tmp/b.clean" | head; }

finish "OpenCL through the command line"
