#!/bin/sh
# End to end on a small real subset with the reference backend: the loss falls, test
# accuracy is well above chance, output to a pipe has no control characters, history.csv
# has a row per epoch, and the same seed prints the same numbers while another seed does not.
set -u
. "${srcdir:-.}/tests/lib.sh" || exit 99
require_data

# train NAME ARGS... : a run on the reference backend, stdout to $tmp/NAME.out, outputs in
# $tmp/NAME/. Learning needs 2000 images; what is checked of the other runs (the same
# numbers again, other numbers with another seed, --quiet's lines) shows as well on 320,
# a sixth of the time, which matters under the sanitizers.
train() {
  name=$1; shift
  "$FCNN" --backend=ref --data "$DATA" --out "$tmp/$name" "$@" \
          > "$tmp/$name.out" 2> "$tmp/$name.err" \
    || { fail "run $name exited $?: $(cat "$tmp/$name.err")"; return 1; }
}
learning="--train-limit 2000 --test-limit 500"
short="--train-limit 320 --test-limit 100"
# Drops what differs from run to run: timings, and the lines naming the output directory.
untimed() { sed 's/ - [0-9]*s [0-9]*ms\/step//' "$1" | grep -v "^Data:\|$tmp/"; }

train a $learning --epochs 2 || exit 1
cat "$tmp/a.out"

if LC_ALL=C grep -q "$(printf '[\r\033]')" "$tmp/a.out"; then fail "control characters in piped output"; fi
grep -q "^Epoch 1/2$" "$tmp/a.out" || fail "no 'Epoch 1/2' line"
grep -q "^63/63 \[=*\] - .* - loss: .* - accuracy: .* - val_loss: .* - val_accuracy: " "$tmp/a.out" \
  || fail "no Keras-style epoch line"

[ "$(wc -l < "$tmp/a/history.csv")" -eq 3 ] || fail "history.csv should have a header and 2 rows"
loss1=$(awk -F, 'NR == 2 { print $2 }' "$tmp/a/history.csv")
loss2=$(awk -F, 'NR == 3 { print $2 }' "$tmp/a/history.csv")
awk -v a="$loss1" -v b="$loss2" 'BEGIN { exit !(b < a) }' || fail "loss did not fall: $loss1 -> $loss2"
acc=$(sed -n 's/^Test accuracy: \([0-9.]*\).*/\1/p' "$tmp/a.out")
# Chance is 0.10; this run reaches about 0.78, so 0.65 fails only on a real regression.
awk -v a="${acc:-0}" 'BEGIN { exit !(a >= 0.65) }' || fail "test accuracy ${acc:-missing} < 0.65"
grep -q "weighted avg" "$tmp/a.out" || fail "no classification report"

train s $short --epochs 2 || exit 1
train b $short --epochs 2 || exit 1
untimed "$tmp/s.out" > "$tmp/s.clean"
untimed "$tmp/b.out" > "$tmp/b.clean"
cmp -s "$tmp/s.clean" "$tmp/b.clean" || { fail "same seed, different output"; diff "$tmp/s.clean" "$tmp/b.clean"; }

train c $short --epochs 2 --seed 7 || exit 1
untimed "$tmp/c.out" > "$tmp/c.clean"
if cmp -s "$tmp/s.clean" "$tmp/c.clean"; then fail "another seed printed the same numbers"; fi

# --quiet: only the final results.
train q $short --epochs 1 --quiet || exit 1
grep -q "^Epoch\|^Model:\|Layer (type)" "$tmp/q.out" && fail "--quiet printed the summary or epochs"
grep -q "^Test accuracy: " "$tmp/q.out" || fail "--quiet left out the final results"

# On a terminal (a pseudo-terminal from script(1), where available): the bar is redrawn
# in place during the epoch, with an ETA, and the epoch still ends with its line.
if command -v script > /dev/null 2>&1; then
  script -qc "$FCNN --backend=ref --data $DATA $short --epochs 1 \
              --out $tmp/tty" "$tmp/tty.out" > /dev/null 2>&1 || fail "run on a terminal"
  updates=$(tr '\r' '\n' < "$tmp/tty.out" | grep -c "^ *[0-9]*/10 \[.*\] - ETA: [0-9]*s - loss: ")
  [ "$updates" -ge 2 ] || fail "the bar was redrawn $updates times on a terminal"
  tr '\r' '\n' < "$tmp/tty.out" | grep -q "^10/10 \[=*\] - .* - val_accuracy: " \
    || fail "no closing epoch line on a terminal"
fi

finish "end-to-end training"
