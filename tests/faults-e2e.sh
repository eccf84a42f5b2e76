#!/bin/sh
# Faults a real machine produces, on the reference backend with a small real subset:
#  - SIGINT and SIGTERM stop training at the next step boundary with exit 130 and 143, one
#    line on stderr saying which checkpoint holds which epoch and how to resume, the last
#    complete checkpoint intact and no temporary file left, even when the signal arrives
#    in the middle of a checkpoint write; the resumed run then ends with the weights of an
#    uninterrupted one;
#  - a full disk (the test-only hook FCNN_TEST_FAIL_WRITE) while writing the checkpoint or
#    history.csv: one line naming the file and ENOSPC, exit 1, the previous checkpoint
#    intact, no temporary file; a plot that cannot be written is a warning, exit 0;
#  - two runs into the same --out: the second is refused with one line, exit 1, and the
#    first run's files are untouched.
set -u
. "${srcdir:-.}/tests/lib.sh" || exit 99
require_data
if "$FCNN" --backend=ref --load /nonexistent --eval 2>&1 | grep -q "built without checkpoints"; then
  echo "SKIP: this fcnn was built without checkpoints (jansson)"; exit 77
fi
small="--backend=ref --data $DATA --train-limit 192 --test-limit 64"

data_of() {
  n=$(od -An -tu8 -N8 "$1" | tr -d ' ')
  tail -c +$((9 + n)) "$1"
}
# The completed epoch a checkpoint records.
epoch_of() {
  n=$(od -An -tu8 -N8 "$1" | tr -d ' ')
  head -c $((8 + n)) "$1" | tail -c +9 | tr -d '\\' | LC_ALL=C sed -n 's/.*"epoch":"\([0-9]*\)".*/\1/p'
}
# Leftover temporary files in a directory (none expected).
no_temp_files() {
  left=$(ls -A "$1" | grep -v '^\(model\.safetensors\|history\.csv\|[a-z]*\.png\)$')
  [ -z "$left" ] || fail "$2: left behind in $1: $left"
}
# Waits (up to 5 minutes) until `file` matches `pattern`.
wait_for() {
  i=0
  while ! grep -q "$2" "$1" 2>/dev/null; do
    i=$((i + 1)); [ "$i" -lt 1500 ] || return 1; sleep 0.2
  done
}

"$FCNN" $small --epochs 3 --out "$tmp/full" > "$tmp/full.out" 2>&1 || fail "uninterrupted run: $(tail -1 "$tmp/full.out")"

# --- SIGINT and SIGTERM ------------------------------------------------------------------
# A script's background jobs start with SIGINT ignored; env gives it back its default.
for sig in INT TERM; do
  out=$tmp/sig$sig
  env --default-signal=INT "$FCNN" $small --epochs 3 --out "$out" > "$out.out" 2> "$out.err" &
  pid=$!
  wait_for "$out.out" "val_accuracy" || fail "SIG$sig: the first epoch never ended"
  kill -$sig $pid
  wait $pid
  status=$?
  want=$([ $sig = INT ] && echo 130 || echo 143)
  [ "$status" -eq "$want" ] || fail "SIG$sig: exit status $status, not $want"
  [ "$(wc -l < "$out.err")" -eq 1 ] || fail "SIG$sig: not one line: $(cat "$out.err")"
  grep -q "stopped by SIG$sig during epoch [0-9]* of 3; .*model.safetensors holds epoch [0-9]*: continue with: fcnn --resume .*model.safetensors" "$out.err" \
    || fail "SIG$sig message: $(cat "$out.err")"
  no_temp_files "$out" "SIG$sig"
  done_epochs=$(epoch_of "$out/model.safetensors")
  [ "${done_epochs:-0}" -ge 1 ] || fail "SIG$sig: the checkpoint holds no completed epoch"
  "$FCNN" $small --resume "$out/model.safetensors" --out "$out" > "$out.resume" 2>&1 \
    || fail "SIG$sig: resume failed: $(tail -1 "$out.resume")"
  data_of "$tmp/full/model.safetensors" > "$tmp/full.data"
  data_of "$out/model.safetensors" > "$out.data"
  cmp -s "$tmp/full.data" "$out.data" || fail "SIG$sig: the resumed run's weights differ from an uninterrupted run's"
done

# SIGTERM in the middle of a checkpoint write (held open for a second by the test hook):
# the write completes, training stops at the next step, nothing is left half-written.
out=$tmp/sigwrite
FCNN_TEST_SLOW_WRITE=checkpoint "$FCNN" $small --epochs 3 --out "$out" > "$out.out" 2> "$out.err" &
pid=$!
i=0
until ls "$out" 2>/dev/null | grep -q "^model\.safetensors\.tmp"; do
  i=$((i + 1)); [ "$i" -lt 3000 ] || break; sleep 0.1
done
kill -TERM $pid
wait $pid
status=$?
[ "$status" -eq 143 ] || fail "SIGTERM during a checkpoint write: exit $status, not 143 ($(cat "$out.err"))"
no_temp_files "$out" "SIGTERM during a checkpoint write"
[ "$(epoch_of "$out/model.safetensors")" = 1 ] || fail "SIGTERM during the first checkpoint write: it should hold epoch 1"
"$FCNN" --backend=ref --data "$DATA" --test-limit 64 --load "$out/model.safetensors" --eval --quiet \
  --out "$out-eval" > /dev/null 2>&1 || fail "the checkpoint written under SIGTERM does not load"

# --- a full disk ---------------------------------------------------------------------------
for what in checkpoint history; do
  out=$tmp/full-$what
  cp -r "$tmp/full" "$out"
  cp "$out/model.safetensors" "$tmp/before"
  FCNN_TEST_FAIL_WRITE=$what "$FCNN" $small --resume "$out/model.safetensors" --epochs 4 \
    --out "$out" > "$out.out" 2> "$out.err"
  status=$?
  [ "$status" -eq 1 ] || fail "full disk ($what): exit status $status, not 1"
  [ "$(wc -l < "$out.err")" -eq 1 ] || fail "full disk ($what): not one line: $(cat "$out.err")"
  file=$([ $what = checkpoint ] && echo model.safetensors || echo history.csv)
  grep -q "$out/$file: .*No space left on device" "$out.err" \
    || fail "full disk ($what): the message names neither the file nor ENOSPC: $(cat "$out.err")"
  cmp -s "$out/model.safetensors" "$tmp/before" || fail "full disk ($what): the previous checkpoint changed"
  no_temp_files "$out" "full disk ($what)"
done
out=$tmp/full-plot
FCNN_TEST_FAIL_WRITE=plot "$FCNN" $small --epochs 1 --out "$out" > "$out.out" 2> "$out.err"
status=$?
[ "$status" -eq 0 ] || fail "a plot on a full disk failed the run (exit $status): $(cat "$out.err")"
grep -q "^fcnn: warning: plots not written: .*accuracy.png: .*No space left on device" "$out.err" \
  || fail "full disk (plot): no warning naming the file and ENOSPC: $(cat "$out.err")"
[ -s "$out/model.safetensors" ] || fail "full disk (plot): the checkpoint was not kept"
no_temp_files "$out" "full disk (plot)"

# --- two runs, one --out -----------------------------------------------------------------
out=$tmp/shared
FCNN_TEST_SLOW_WRITE=checkpoint "$FCNN" $small --epochs 2 --out "$out" > "$out.first" 2>&1 &
pid=$!
wait_for "$out.first" "^Epoch 1/2" || fail "the first run never started training"
"$FCNN" $small --epochs 1 --out "$out" > "$out.second" 2> "$out.second.err"
status=$?
[ "$status" -eq 1 ] || fail "a second run into the same --out exited $status, not 1"
grep -q "another fcnn run is writing into this directory" "$out.second.err" \
  || fail "second run's message: $(cat "$out.second.err")"
[ "$(wc -l < "$out.second.err")" -eq 1 ] || fail "second run: not one line"
wait $pid || fail "the first run failed: $(tail -1 "$out.first")"
[ "$(epoch_of "$out/model.safetensors")" = 2 ] || fail "the first run's checkpoint is not its own"
[ "$(wc -l < "$out/history.csv")" -eq 3 ] || fail "the first run's history.csv was disturbed"

finish "faults end to end"
