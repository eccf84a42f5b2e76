#!/bin/sh
# Data-parallel training with the OpenCL backend, and how a job fails:
#  - two processes follow the one-process run (compare in tests/mpi-lib.sh);
#  - --deterministic-reduce: two runs write bit-identical checkpoints;
#  - a process killed mid-run ends the job within seconds, non-zero, naming the rank; the
#    last checkpoint is intact and a one-process --resume continues it;
#  - a NaN stops every process at the same step with one line naming the rank;
#  - a device one process cannot open ends the job with that process's line.
# SKIP (77) when mpirun, MPI in this build, or an OpenCL device is missing.
set -u
. "${srcdir:-.}/tests/lib.sh" || exit 99
. "${srcdir:-.}/tests/mpi-lib.sh" || exit 99
require_data
require_mpi
require_opencl
# Kernels built once for all the runs below, never in the user's cache. Variants by
# priority, not by timing: each process tunes the shapes it meets on its own, and
# processes (or runs) that time their way to other variants agree only to rounding, which
# Adam's first steps amplify (see README); these checks are about the processes.
XDG_CACHE_HOME="$tmp/cache"; export XDG_CACHE_HOME
FCNN_TUNE=0; export FCNN_TUNE

common="--backend=opencl --data $DATA --test-limit 1000"
run alone 1 $common --train-limit 2000 --epochs 2 || exit 1
run pair 2 $common --train-limit 2000 --epochs 2 || exit 1
compare alone pair $common

# Bit-identical reruns with a fixed reduction order.
run det1 2 $common --train-limit 1000 --epochs 1 --deterministic-reduce || exit 1
run det2 2 $common --train-limit 1000 --epochs 1 --deterministic-reduce || exit 1
data_of "$tmp/det1/model.safetensors" > "$tmp/det1.data"
data_of "$tmp/det2/model.safetensors" > "$tmp/det2.data"
[ -s "$tmp/det1.data" ] || fail "--deterministic-reduce: no checkpoint data"
cmp -s "$tmp/det1.data" "$tmp/det2.data" || fail "--deterministic-reduce: two runs differ"

# A process killed while the job trains: once the first checkpoint is written, rank 1
# is killed; the job must end within 30 s, non-zero, with mpirun's line naming rank 1.
$MPIRUN "$FCNN" $common --train-limit 2000 --epochs 20 --out "$tmp/kill" > "$tmp/kill.out" 2>&1 &
job=$!
i=0
while [ ! -e "$tmp/kill/model.safetensors" ] && [ "$i" -lt 600 ] && kill -0 "$job" 2>/dev/null; do
  sleep 0.1; i=$((i + 1))
done
victim=
for pid in $(ps -o pid= --ppid "$job"); do
  tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1" && victim=$pid
done
if [ -z "$victim" ]; then
  fail "kill: no rank 1 found under mpirun $job (checkpoint: $(ls "$tmp/kill" 2>&1))"
  kill "$job" 2>/dev/null
fi
[ -n "$victim" ] && kill -9 "$victim"
i=0
while kill -0 "$job" 2>/dev/null && [ "$i" -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$job" 2>/dev/null; then
  fail "kill: the job still runs 30 s after rank 1 was killed"
  kill "$job"
fi
wait "$job"
status=$?
echo "killed rank 1: the job ended after about $((i / 10)) s with status $status"
[ "$status" -ne 0 ] || fail "kill: the job exited 0"
grep -q "rank 1 .*exited on signal 9" "$tmp/kill.out" || fail "kill: no line naming rank 1: $(cat "$tmp/kill.out")"
grep -q "^Epoch 20/20" "$tmp/kill.out" && fail "kill: the job trained to the end"
done_epochs=$(($(wc -l < "$tmp/kill/history.csv") - 1))
"$FCNN" $common --train-limit 2000 --resume "$tmp/kill/model.safetensors" --epochs $((done_epochs + 1)) \
  --out "$tmp/kill" > "$tmp/resume.out" 2>&1 || fail "kill: resuming alone: $(tail -n 1 "$tmp/resume.out")"
grep -q "^Resuming .* after epoch $done_epochs of $((done_epochs + 1))" "$tmp/resume.out" \
  || fail "kill: resume did not start after epoch $done_epochs"
grep -q "^Epoch $((done_epochs + 1))/$((done_epochs + 1))" "$tmp/resume.out" || fail "kill: resume trained no epoch"

# A NaN in the weights: every process stops at epoch 1, step 1; one line of fcnn's names
# the rank that ran the first bad sample (mpirun adds its own box about the exit status),
# and the checkpoint it would have overwritten is kept.
cp "$tmp/pair/model.safetensors" "$tmp/nan.safetensors"
n=$(od -An -tu8 -N8 "$tmp/nan.safetensors" | tr -d ' ')
begin=$(head -c $((8 + n)) "$tmp/nan.safetensors" | tail -c "$n" \
        | sed -n 's/.*"dense\/bias":{[^}]*"data_offsets":\[\([0-9]*\),.*/\1/p')
[ -n "$begin" ] || fail "cannot find dense/bias in the header"
printf '\000\000\300\177' | dd of="$tmp/nan.safetensors" bs=1 seek=$((8 + n + begin)) conv=notrunc 2>/dev/null
cp "$tmp/nan.safetensors" "$tmp/nan.before"
$MPIRUN "$FCNN" $common --train-limit 256 --epochs 2 --load "$tmp/nan.safetensors" \
  --save "$tmp/nan.safetensors" --out "$tmp/nan" > "$tmp/nan.out" 2> "$tmp/nan.err"
status=$?
[ "$status" -eq 1 ] || fail "NaN: the job exited $status"
[ "$(grep -c "^fcnn: " "$tmp/nan.err")" -eq 1 ] || fail "NaN: not one line: $(cat "$tmp/nan.err")"
grep -q "^fcnn: loss is NaN at epoch 1, step 1 (on rank 0)" "$tmp/nan.err" || fail "NaN message: $(cat "$tmp/nan.err")"
cmp -s "$tmp/nan.safetensors" "$tmp/nan.before" || fail "NaN: the last checkpoint was overwritten"

# A device only rank 1 cannot open: the job ends at once, non-zero, with rank 1's line.
$MPIRUN "$FCNN" $common --device 0:0,9:9 --train-limit 256 --epochs 1 --out "$tmp/baddev" \
  > "$tmp/baddev.out" 2> "$tmp/baddev.err"
status=$?
[ "$status" -ne 0 ] || fail "bad device: the job exited 0"
grep -q "^fcnn: rank 1 of 2: --device: no OpenCL device matches 9:9" "$tmp/baddev.err" \
  || fail "bad device: no line from rank 1: $(cat "$tmp/baddev.err")"

finish "two processes with the OpenCL backend, and failing jobs"
