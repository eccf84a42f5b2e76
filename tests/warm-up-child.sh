#!/bin/sh
# The cold start's warm-up in child processes (src/cli/warm_up_child.c): with empty caches
# a training run on OpenCL builds its kernels in two children at once (the training step's,
# the evaluation's) that exit before the run loads its data, and time no variant: the run
# keeps the untimed choices (the results of FCNN_TUNE=0) and three more children time them
# after the run (the training step's forward shapes, the rest of the training step's, then
# the evaluation's), for later runs, which then agree with a run in one process that
# reads that tuning file; FCNN_WARM_UP_CHILD=0, the
# reference backend and a run whose caches the children filled do it all in one process;
# a warm-up process that fails fails the run with one line, a tuning process that dies
# costs a warning. A checkpoint records which variants its run took, and resuming it takes
# them again, whatever was timed since. SKIP (77) when this build or machine has no OpenCL
# device.
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

# Cold: the warm-up processes build but time nothing, the run trains on the untimed
# choices and times nothing, and the tuning processes time the shapes after the run.
fresh
run "$FCNN" --backend=opencl $small --out "$tmp/cold" > "$tmp/cold.out" 2> "$tmp/cold.err" ||
  fail "cold run exited $?: $(tail -n 3 "$tmp/cold.err")"
for part in "training step" evaluation; do
  [ "$(grep -c "^fcnn: warm-up process ($part) done" "$tmp/cold.err")" -eq 1 ] ||
    fail "cold run: no line of the $part's warm-up process: $(grep "^fcnn" "$tmp/cold.err")"
done
[ "$(grep -c "^fcnn: the run goes on warm" "$tmp/cold.err")" -eq 1 ] ||
  fail "cold run: no line saying the warm-up is done: $(grep "^fcnn" "$tmp/cold.err")"
[ "$(grep -c "^fcnn: timing kernel variants for later runs" "$tmp/cold.err")" -eq 1 ] ||
  fail "cold run: no line announcing the tuning after the run: $(grep "^fcnn" "$tmp/cold.err")"
for part in "training forward" "training step" evaluation; do
  [ "$(grep -c "^fcnn: tuning process ($part) done" "$tmp/cold.err")" -eq 1 ] ||
    fail "cold run: no line of the $part's tuning process: $(grep "^fcnn" "$tmp/cold.err")"
done
sed -n '1,/^fcnn: the run goes on warm/p' "$tmp/cold.err" > "$tmp/child.err"
sed -n '/^fcnn: the run goes on warm/,/^fcnn: timing kernel variants for later runs/p' \
  "$tmp/cold.err" > "$tmp/parent.err"
sed -n '/^fcnn: timing kernel variants for later runs/,$p' "$tmp/cold.err" > "$tmp/tuning.err"
grep -q "^opencl: tuned \|^opencl: timing kernel variants" "$tmp/child.err" &&
  fail "a warm-up process timed variants: $(grep "tuned" "$tmp/child.err" | head -n 3)"
grep -q "^opencl: tuned \|^opencl: timing kernel variants" "$tmp/parent.err" &&
  fail "the run timed variants: $(grep "tuned" "$tmp/parent.err" | head -n 3)"
grep -q "ready for the first step" "$tmp/parent.err" || fail "the run did not train after the child"
# Each tuned its part: the training step's forward shapes, then its backward's, at batches
# of 32, the evaluation's of 100 (a shape's key begins with its batch).
tuned_batch() { grep -E -q "^opencl: tuned +[a-z0-9_]+ +$1x" "$2"; }
tuned_forward() { grep -E -q "^opencl: tuned +(conv2d_fwd|conv2d_pool_fwd|dense_fwd) " "$1"; }
sed -n '1,/^fcnn: tuning process (training forward) done/p' "$tmp/tuning.err" > "$tmp/tuning1.err"
sed -n '/^fcnn: tuning process (training forward) done/,/^fcnn: tuning process (training step) done/p' \
  "$tmp/tuning.err" > "$tmp/tuning2.err"
sed -n '/^fcnn: tuning process (training step) done/,$p' "$tmp/tuning.err" > "$tmp/tuning3.err"
tuned_batch 32 "$tmp/tuning1.err" && tuned_forward "$tmp/tuning1.err" ||
  fail "the training forward's tuning process tuned no forward shape of 32: $(grep "tuned" "$tmp/tuning1.err")"
grep -E -q "^opencl: tuned +[a-z0-9_]*_bwd" "$tmp/tuning1.err" &&
  fail "the training forward's tuning process tuned a backward shape"
tuned_batch 32 "$tmp/tuning2.err" ||
  fail "the training step's tuning process tuned no batch of 32: $(grep "tuned" "$tmp/tuning2.err")"
tuned_forward "$tmp/tuning2.err" &&
  fail "the training step's tuning process timed a forward shape again: $(grep "tuned" "$tmp/tuning2.err")"
for part in 1 2; do
  tuned_batch 100 "$tmp/tuning$part.err" &&
    fail "a training step's tuning process tuned an evaluation shape: $(grep "tuned" "$tmp/tuning$part.err")"
done
tuned_batch 100 "$tmp/tuning3.err" ||
  fail "the evaluation's tuning process tuned no batch of 100: $(grep "tuned" "$tmp/tuning3.err")"
tuned_batch 32 "$tmp/tuning3.err" &&
  fail "the evaluation's tuning process tuned a training shape"
ls "$tmp/cache/fcnn"/tuning-*.txt > /dev/null 2>&1 || fail "no tuning file after the tuning process"
ls "$tmp/cache/fcnn"/warm-* > /dev/null 2>&1 || fail "no mark after the tuning process"
grep -q "^Test accuracy" "$tmp/cold.out" || fail "cold run: no test accuracy"
# The report is written before the tuning starts, and is complete.
tail -n 1 "$tmp/cold.out" | grep -q "weighted avg" || fail "cold run: the report is cut short"

# With the cold run's caches: a run in one process reads the tuning processes' choices
# (it times nothing: between them they timed every shape), and a warm run (the mark is
# there) forks no process; the two agree.
run env FCNN_WARM_UP_CHILD=0 "$FCNN" --backend=opencl $small --out "$tmp/one" > "$tmp/one.out" \
  2> "$tmp/one.err" || fail "one-process run exited $?"
grep -q "warm-up process\|tuning process" "$tmp/one.err" && fail "FCNN_WARM_UP_CHILD=0 still forked"
grep -q "^opencl: tuned " "$tmp/one.err" &&
  fail "shapes left untimed by the tuning processes: $(grep "^opencl: tuned " "$tmp/one.err")"
run "$FCNN" --backend=opencl $small --out "$tmp/warm" > "$tmp/warm.out" 2> "$tmp/warm.err" ||
  fail "warm run exited $?"
grep -q "warm-up process\|tuning process" "$tmp/warm.err" &&
  fail "a warm run forked a warm-up or tuning process again"
grep -q "^opencl: tuned " "$tmp/warm.err" && fail "a warm run timed variants"
grep "accuracy" "$tmp/one.out" > "$tmp/one.acc"
grep "accuracy" "$tmp/warm.out" > "$tmp/warm.acc"
cmp -s "$tmp/one.acc" "$tmp/warm.acc" ||
  fail "results differ with and without the warm-up process: $(cat "$tmp/one.acc" "$tmp/warm.acc")"

# A checkpoint records the variant each op shape ran ("-": the untimed choice): the cold
# run's are all untimed, the warm run's name the tuning process's winners.
choices() { # FILE: its metadata "kernel_choices", one "<TAB>variant<NL>" (JSON-escaped) a line
  tail -c +9 "$1" | head -c 200000 | grep -a -o '"kernel_choices": *"[^"]*"' |
    grep -o '\\t[^\\]*\\n'
}
[ "$(choices "$tmp/cold/model.safetensors" | grep -c .)" -gt 0 ] &&
  [ "$(choices "$tmp/cold/model.safetensors" | grep -vc '^\\t-\\n$')" -eq 0 ] ||
  fail "the cold run's checkpoint does not record untimed choices:" \
    "$(choices "$tmp/cold/model.safetensors")"
[ "$(choices "$tmp/warm/model.safetensors" | grep -vc '^\\t-\\n$')" -gt 0 ] ||
  fail "the warm run's checkpoint names no timed variant: $(choices "$tmp/warm/model.safetensors")"

# Resumed now that the tuning file holds other choices, the cold run carries on with its
# own: the second epoch is the one its uninterrupted run would have trained.
run "$FCNN" --backend=opencl --data "$DATA" --quiet --resume "$tmp/cold/model.safetensors" \
  --epochs 2 --out "$tmp/resumed" > "$tmp/resumed.out" 2> "$tmp/resumed.err" ||
  fail "resumed cold run exited $?: $(tail -n 1 "$tmp/resumed.err")"
choices "$tmp/resumed/model.safetensors" | grep -v '^\\t-\\n$' > "$tmp/resumed.timed"
[ -s "$tmp/resumed.timed" ] &&
  fail "the resumed run took timed variants: $(cat "$tmp/resumed.timed")"

# The cold run kept the untimed choices throughout: the results of a run in one process
# with tuning off, on empty caches; the resumed run's second epoch is that run's too.
fresh
run env FCNN_TUNE=0 FCNN_WARM_UP_CHILD=0 "$FCNN" --backend=opencl $small --out "$tmp/untuned" \
  > "$tmp/untuned.out" 2> "$tmp/untuned.err" || fail "FCNN_TUNE=0 run exited $?"
grep "accuracy" "$tmp/cold.out" > "$tmp/cold.acc"
grep "accuracy" "$tmp/untuned.out" > "$tmp/untuned.acc"
cmp -s "$tmp/cold.acc" "$tmp/untuned.acc" ||
  fail "the cold run's results are not those of the untimed choices: $(cat "$tmp/cold.acc" "$tmp/untuned.acc")"
run env FCNN_TUNE=0 FCNN_WARM_UP_CHILD=0 "$FCNN" --backend=opencl $small --epochs 2 \
  --out "$tmp/untuned2" > "$tmp/untuned2.out" 2> "$tmp/untuned2.err" ||
  fail "FCNN_TUNE=0 two-epoch run exited $?"
cut -d, -f1-5,7 "$tmp/resumed/history.csv" > "$tmp/resumed.hist"
cut -d, -f1-5,7 "$tmp/untuned2/history.csv" > "$tmp/untuned2.hist"
cmp -s "$tmp/resumed.hist" "$tmp/untuned2.hist" ||
  fail "the resumed cold run differs from its uninterrupted run:" \
    "$(cat "$tmp/resumed.hist" "$tmp/untuned2.hist")"

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

# A tuning process that dies (both killed here once the run has announced them) costs only
# the tuning: the run, its report written, exits 0 with one warning line and leaves no
# mark, so the next run warms up and tunes again.
children_of() {
  for stat in /proc/[0-9]*/stat; do
    read -r child comm state parent rest < "$stat" 2> /dev/null && [ "$parent" = "$1" ] &&
      echo "$child"
  done
}
fresh
env XDG_CACHE_HOME="$tmp/cache" POCL_CACHE_DIR="$tmp/cache/pocl" "$FCNN" --backend=opencl \
  $small --out "$tmp/killed" > "$tmp/killed.out" 2> "$tmp/killed.err" &
pid=$!
tenths=0
until grep -q "^fcnn: timing kernel variants for later runs" "$tmp/killed.err"; do
  kill -0 "$pid" 2> /dev/null || break
  [ "$tenths" -lt 3000 ] || { kill "$pid"; break; }
  sleep 0.1
  tenths=$((tenths + 1))
done
tuner=$(children_of "$pid")
[ -n "$tuner" ] && kill -KILL $tuner
wait "$pid"
status=$?
[ -n "$tuner" ] || fail "no tuning process to kill: $(grep "^fcnn" "$tmp/killed.err")"
[ "$status" -eq 0 ] || fail "a killed tuning process: exit $status, expected 0"
tail -n 1 "$tmp/killed.out" | grep -q "weighted avg" || fail "a killed tuning process: no report"
[ "$(grep -c "^fcnn: warning: tuning process .* killed by signal 9" "$tmp/killed.err")" -eq 1 ] ||
  fail "a killed tuning process: not one warning: $(grep "^fcnn" "$tmp/killed.err")"
ls "$tmp/cache/fcnn"/warm-* > /dev/null 2>&1 && fail "a killed tuning process left the mark"

finish warm-up-child.sh
