#!/bin/sh
# The cold start's warm-up in a child process (src/cli/warm_up_child.c): with empty caches
# a training run on OpenCL builds and tunes in a child that exits before the run loads its
# data, so the run itself tunes nothing and leaves the same results as a run that reads
# the child's tuning file; FCNN_WARM_UP_CHILD=0, the reference backend and a run whose
# caches an earlier warm-up process filled do it all in one process; a child that fails
# fails the run with one line. SKIP (77) when this build or machine has no OpenCL device.
set -u
. "${srcdir:-.}/tests/lib.sh" || exit 99
require_opencl
require_data
small="--data $DATA --train-limit 320 --test-limit 100 --epochs 1 --quiet --verbose"
# Each case its own empty caches: ours and PoCL's.
fresh() { rm -rf "$tmp/cache"; mkdir "$tmp/cache"; }
run() {
  XDG_CACHE_HOME="$tmp/cache" POCL_CACHE_DIR="$tmp/cache/pocl" "$@"
}

# Cold: the child tunes, says so, and the run after it tunes nothing.
fresh
run "$FCNN" --backend=opencl $small --out "$tmp/cold" > "$tmp/cold.out" 2> "$tmp/cold.err" ||
  fail "cold run exited $?: $(tail -n 3 "$tmp/cold.err")"
[ "$(grep -c "^fcnn: warm-up process done" "$tmp/cold.err")" -eq 1 ] ||
  fail "cold run: no warm-up process line: $(grep "^fcnn" "$tmp/cold.err")"
sed -n '1,/^fcnn: warm-up process done/p' "$tmp/cold.err" > "$tmp/child.err"
sed -n '/^fcnn: warm-up process done/,$p' "$tmp/cold.err" > "$tmp/parent.err"
grep -q "^opencl: tuned " "$tmp/child.err" || fail "the warm-up process tuned nothing"
grep -q "^opencl: tuned \|^opencl: timing kernel variants" "$tmp/parent.err" &&
  fail "the run tuned after its warm-up process: $(grep "tuned" "$tmp/parent.err" | head -n 3)"
grep -q "ready for the first step" "$tmp/parent.err" || fail "the run did not train after the child"
ls "$tmp/cache/fcnn"/tuning-*.txt > /dev/null 2>&1 || fail "no tuning file after the warm-up process"
ls "$tmp/cache/fcnn"/warm-* > /dev/null 2>&1 || fail "no mark of the warm-up process"
grep -q "^Test accuracy" "$tmp/cold.out" || fail "cold run: no test accuracy"

# The same results as a run in one process that reads the child's tuning choices.
run env FCNN_WARM_UP_CHILD=0 "$FCNN" --backend=opencl $small --out "$tmp/one" > "$tmp/one.out" \
  2> "$tmp/one.err" || fail "one-process run exited $?"
grep -q "warm-up process" "$tmp/one.err" && fail "FCNN_WARM_UP_CHILD=0 still forked"
grep -q "^opencl: tuned " "$tmp/one.err" && fail "the child's tuning file was not used"
grep "accuracy" "$tmp/cold.out" > "$tmp/cold.acc"
grep "accuracy" "$tmp/one.out" > "$tmp/one.acc"
cmp -s "$tmp/cold.acc" "$tmp/one.acc" ||
  fail "results differ with and without the warm-up process: $(cat "$tmp/cold.acc" "$tmp/one.acc")"

# Warm (the child's mark is there): one process.
run "$FCNN" --backend=opencl $small --out "$tmp/warm" > "$tmp/warm.out" 2> "$tmp/warm.err" ||
  fail "warm run exited $?"
grep -q "warm-up process" "$tmp/warm.err" && fail "a warm run forked a warm-up process again"

# FCNN_WARM_UP_CHILD=0 with empty caches: the run tunes in its own process.
fresh
run env FCNN_WARM_UP_CHILD=0 "$FCNN" --backend=opencl $small --out "$tmp/off" > "$tmp/off.out" \
  2> "$tmp/off.err" || fail "FCNN_WARM_UP_CHILD=0 exited $?"
grep -q "warm-up process" "$tmp/off.err" && fail "FCNN_WARM_UP_CHILD=0 forked"
grep -q "^opencl: tuned " "$tmp/off.err" || fail "FCNN_WARM_UP_CHILD=0: the run tuned nothing"

# The reference backend compiles nothing: no child.
fresh
run "$FCNN" --backend=ref $small --out "$tmp/ref" > "$tmp/ref.out" 2> "$tmp/ref.err" ||
  fail "ref run exited $?"
grep -q "warm-up process" "$tmp/ref.err" && fail "the ref backend forked a warm-up process"

# A child that fails (its first program build) fails the run: exit 1, with the one line the
# run gives in one process, nothing trained.
fresh
run env FCNN_OPENCL_FAULT=build:1 "$FCNN" --backend=opencl $small --out "$tmp/bad" \
  > "$tmp/bad.out" 2> "$tmp/bad.err"
status=$?
[ "$status" -eq 1 ] || fail "a failing warm-up process: exit $status, expected 1"
[ "$(grep -c "^fcnn: " "$tmp/bad.err")" -eq 1 ] ||
  fail "a failing warm-up process: not one line: $(grep "^fcnn" "$tmp/bad.err")"
grep -q "ready for the first step" "$tmp/bad.err" && fail "the run trained after its child failed"
ls "$tmp/cache/fcnn"/warm-* > /dev/null 2>&1 && fail "a failed warm-up process left its mark"
fresh
run env FCNN_OPENCL_FAULT=build:1 FCNN_WARM_UP_CHILD=0 "$FCNN" --backend=opencl $small \
  --out "$tmp/bad1" > "$tmp/bad1.out" 2> "$tmp/bad1.err"
[ "$(grep "^fcnn: " "$tmp/bad.err")" = "$(grep "^fcnn: " "$tmp/bad1.err")" ] ||
  fail "a failing warm-up process: not the one-process run's line: $(grep "^fcnn" "$tmp/bad.err")"

finish warm-up-child.sh
