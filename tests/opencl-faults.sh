#!/bin/sh
# OpenCL failures through the fcnn command, made on demand by the backend's test-only hook
# FCNN_OPENCL_FAULT (the Nth buffer allocation, kernel launch or program build fails with
# the error a device gives). Each must end the run with one line naming the OpenCL call and
# the CL error, exit 1 (no crash), and leave the checkpoint as it was. A variant whose
# program does not build is disabled with a warning and the run goes on, unless that
# variant was forced, which fails. (A failed launch of a deferred, fused op is checked in
# tests/opencl-fusion, where the launch can be aimed at.) SKIP without an OpenCL device.
set -u
. "${srcdir:-.}/tests/lib.sh" || exit 99
require_opencl
require_data
if "$FCNN" --backend=ref --load /nonexistent --eval 2>&1 | grep -q "built without checkpoints"; then
  echo "SKIP: this fcnn was built without checkpoints (jansson)"; exit 77
fi
small="--backend=opencl --data $DATA --train-limit 64 --test-limit 32 --batch-size 32 --quiet"
out=$tmp/run
"$FCNN" $small --epochs 1 --out "$out" > "$tmp/first.out" 2>&1 || fail "the first run failed: $(tail -1 "$tmp/first.out")"
cp "$out/model.safetensors" "$tmp/before"

# fault, then what the one line must say
for case in "alloc:1 clCreateBuffer: CL_MEM_OBJECT_ALLOCATION_FAILURE" \
            "alloc:12 clCreateBuffer: CL_MEM_OBJECT_ALLOCATION_FAILURE" \
            "enqueue:1 clEnqueueNDRangeKernel(.*): CL_OUT_OF_RESOURCES" \
            "enqueue:80 clEnqueueNDRangeKernel(.*): CL_OUT_OF_RESOURCES"; do
  fault=${case%% *} message=${case#* }
  FCNN_OPENCL_FAULT=$fault "$FCNN" $small --resume "$out/model.safetensors" --epochs 3 \
    --out "$out" > "$tmp/fault.out" 2> "$tmp/fault.err"
  status=$?
  [ "$status" -eq 1 ] || fail "$fault: exit status $status, not 1: $(cat "$tmp/fault.err")"
  [ "$(wc -l < "$tmp/fault.err")" -eq 1 ] || fail "$fault: not one line: $(cat "$tmp/fault.err")"
  grep -q "^fcnn: .*$message" "$tmp/fault.err" || fail "$fault: message: $(cat "$tmp/fault.err")"
  # Untouched, or replaced whole by an epoch that completed before the fault came.
  if ! cmp -s "$out/model.safetensors" "$tmp/before"; then
    "$FCNN" --backend=ref --data "$DATA" --test-limit 32 --load "$out/model.safetensors" --eval \
      --quiet --out "$tmp/eval" > /dev/null 2>&1 || fail "$fault: the checkpoint no longer loads"
  fi
  ls "$out" | grep -q tmp && fail "$fault: a temporary file was left in $out"
  echo "$fault: $(cat "$tmp/fault.err")"
done

# A program that does not build: the variant is disabled with a warning and the run goes
# on (the 2nd build: a convolution variant); when that was an op's only variant (the 1st:
# load_batch's), the run ends; forced (FCNN_KERNELS), the same failure ends the run.
FCNN_OPENCL_FAULT=build:2 "$FCNN" $small --epochs 1 --out "$tmp/build" > "$tmp/build.out" 2> "$tmp/build.err"
status=$?
[ "$status" -eq 0 ] || fail "build:2 (not forced): exit status $status: $(cat "$tmp/build.err")"
grep -q "^opencl: warning: [a-z0-9_]* variant '[a-z0-9_]*' disabled: .*clBuildProgram: CL_BUILD_PROGRAM_FAILURE" \
  "$tmp/build.err" || fail "build:2 (not forced): no warning: $(cat "$tmp/build.err")"
echo "build:2: $(cat "$tmp/build.err")"
FCNN_OPENCL_FAULT=build:1 "$FCNN" $small --epochs 1 --out "$tmp/only" > "$tmp/only.out" 2> "$tmp/only.err"
status=$?
[ "$status" -eq 1 ] || fail "build:1 (an op's only variant): exit status $status, not 1"
grep -q "^fcnn: opencl: no load_batch variant .*builds on this device" "$tmp/only.err" \
  || fail "build:1 (an op's only variant): message: $(cat "$tmp/only.err")"
echo "build:1: $(tr '\n' ' ' < "$tmp/only.err")"
FCNN_KERNELS=conv2d_fwd=rows_4x32 FCNN_OPENCL_FAULT=build:1 "$FCNN" $small --epochs 1 \
  --out "$tmp/forced" > "$tmp/forced.out" 2> "$tmp/forced.err"
status=$?
[ "$status" -eq 1 ] || fail "build:1 (forced): exit status $status, not 1: $(cat "$tmp/forced.err")"
grep -q "clBuildProgram: CL_BUILD_PROGRAM_FAILURE" "$tmp/forced.err" \
  || fail "build:1 (forced): message: $(cat "$tmp/forced.err")"
echo "build:1, forced: $(cat "$tmp/forced.err")"

finish "OpenCL faults"
