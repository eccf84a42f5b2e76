#!/bin/sh
# Killed at any moment: training on a small real subset (reference backend) is killed with
# SIGKILL at random points, at least KILLS times (default 20), and resumed from its
# checkpoint after each kill. Every few kills land inside a checkpoint write (the test-only
# hook FCNN_TEST_SLOW_WRITE holds the write open with half the file written); the others
# fall wherever the delay puts them (a training step, the evaluation, start-up). After
# every kill:
#  - the checkpoint is whole: the next --resume accepts it;
#  - at most one epoch is lost: it holds at least the last epoch the run reported done,
#    minus one, and never fewer epochs than before;
# and at the end the resumed run's weights and optimizer state equal an uninterrupted
# run's, bit for bit. KILL_SEED makes the random delays repeatable.
set -u
. "${srcdir:-.}/tests/lib.sh" || exit 99
require_data
if "$FCNN" --backend=ref --load /nonexistent --eval 2>&1 | grep -q "built without checkpoints"; then
  echo "SKIP: this fcnn was built without checkpoints (jansson)"; exit 77
fi
KILLS=${KILLS:-20}
EPOCHS=5
seed=${KILL_SEED:-$(od -An -tu2 -N2 /dev/urandom | tr -d ' ')}
echo "kill delays from seed $seed (KILL_SEED=$seed repeats them)"
small="--backend=ref --data $DATA --train-limit 160 --test-limit 160 --batch-size 32"

data_of() {
  n=$(od -An -tu8 -N8 "$1" | tr -d ' ')
  tail -c +$((9 + n)) "$1"
}
epoch_of() {
  n=$(od -An -tu8 -N8 "$1" | tr -d ' ')
  head -c $((8 + n)) "$1" | tail -c +9 | tr -d '\\' | LC_ALL=C sed -n 's/.*"epoch":"\([0-9]*\)".*/\1/p'
}
# The last epoch a run's output reports as finished (its line with val_accuracy).
last_reported() {
  awk '/^Epoch [0-9]+\// { split($2, a, "/"); current = a[1] }
       /val_accuracy/ { done = current }
       END { print done + 0 }' "$1"
}
# The i-th delay in seconds, from the seed: 0.1 s to two epochs and a second, as long as
# epochs take on this machine, so kills land everywhere and runs still make progress.
delay() {
  awk -v seed="$seed" -v i="$1" -v span="$span" \
    'BEGIN { srand(seed + i); printf "%.2f", 0.1 + span * rand() }'
}

start=$(date +%s)
"$FCNN" $small --epochs $EPOCHS --out "$tmp/full" > "$tmp/full.out" 2>&1 \
  || { cat "$tmp/full.out"; echo "FAIL: the uninterrupted run failed"; exit 1; }
elapsed=$(( $(date +%s) - start ))
span=$(( 2 * elapsed / EPOCHS + 1 ))
echo "uninterrupted run: $elapsed s; kills come 0.1 to $span s after a start"

out=$tmp/killed
ck=$out/model.safetensors
kills=0 round=0 saved=0 finished=0 in_write=0
while [ "$finished" -eq 0 ]; do
  round=$((round + 1))
  [ "$round" -le $((KILLS * 4)) ] || { fail "no progress after $round rounds"; break; }
  if [ -f "$ck" ]; then
    args="$small --resume $ck --out $out"
  else
    args="$small --epochs $EPOCHS --out $out"
  fi
  slow=
  [ $((round % 4)) -eq 0 ] && [ "$kills" -lt "$KILLS" ] && slow=checkpoint
  FCNN_TEST_SLOW_WRITE=$slow "$FCNN" $args > "$tmp/run.out" 2> "$tmp/run.err" &
  pid=$!
  if [ "$kills" -ge "$KILLS" ]; then
    wait $pid
    status=$?
    [ "$status" -eq 0 ] || { cat "$tmp/run.err"; fail "the last resume exited $status"; }
    finished=1
    break
  fi
  if [ -n "$slow" ]; then
    # Kill inside the checkpoint write: once its temporary file exists.
    i=0
    until ls "$out" 2>/dev/null | grep -q '^model\.safetensors\.tmp' || ! kill -0 $pid 2>/dev/null; do
      i=$((i + 1)); [ "$i" -lt 3000 ] || break; sleep 0.05
    done
  else
    sleep "$(delay "$round")"
  fi
  if kill -KILL $pid 2>/dev/null; then
    wait $pid 2>/dev/null
    kills=$((kills + 1))
    ls "$out" 2>/dev/null | grep -q '^model\.safetensors\.tmp' && [ -n "$slow" ] && in_write=$((in_write + 1))
    # A killed process cannot remove its temporary file; the next run must not mind it,
    # and the checkpoint beside it must be whole.
    reported=$(last_reported "$tmp/run.out")
    now=0
    [ -f "$ck" ] && now=$(epoch_of "$ck")
    [ -n "$now" ] || { fail "kill $kills: the checkpoint has no epoch: torn?"; now=0; }
    [ "$now" -ge "$saved" ] || fail "kill $kills: the checkpoint went back from epoch $saved to $now"
    [ "$now" -ge $((reported - 1)) ] || fail "kill $kills: epoch $reported was reported done, the checkpoint holds $now"
    saved=$now
    echo "kill $kills (round $round${slow:+, in a checkpoint write}): epoch $reported reported done, checkpoint holds epoch $now"
  else
    wait $pid
    status=$?
    [ "$status" -eq 0 ] || { cat "$tmp/run.err"; fail "round $round: the run exited $status before the kill"; break; }
    # It finished before the kill came: with kills still to make, the series starts over.
    echo "round $round: the run finished before the kill; starting over"
    rm -rf "$out"
    saved=0
  fi
done
echo "$kills kills survived ($in_write inside a checkpoint write), $round runs"
[ "$kills" -ge "$KILLS" ] || fail "only $kills kills"
[ "$in_write" -ge 1 ] || fail "no kill landed inside a checkpoint write"

data_of "$tmp/full/model.safetensors" > "$tmp/full.data"
data_of "$ck" > "$tmp/killed.data"
[ -s "$tmp/full.data" ] || fail "no checkpoint data"
cmp -s "$tmp/full.data" "$tmp/killed.data" || fail "after $kills kills the weights differ from an uninterrupted run's"
[ "$(epoch_of "$ck")" = "$EPOCHS" ] || fail "the killed run did not reach epoch $EPOCHS"
cut -d, -f1-5 "$tmp/full/history.csv" > "$tmp/full.hist"
cut -d, -f1-5 "$out/history.csv" > "$tmp/killed.hist"
cmp -s "$tmp/full.hist" "$tmp/killed.hist" || fail "the killed run's history differs"
finish "$kills kills"
