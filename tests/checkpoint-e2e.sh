#!/bin/sh
# Checkpoints, end to end with the reference backend on a small real subset:
#  - a run stopped after epoch 1 and resumed ends with exactly the weights and optimizer
#    state of an uninterrupted run (the safetensors data sections are byte-identical);
#  - --load FILE --eval reproduces the trained model's test results;
#  - history.csv has a row per epoch, and the PNG plots are real PNG files;
#  - a malformed checkpoint is one line and exit 1;
#  - a planted NaN stops training with one line naming epoch and step, and leaves the
#    last good checkpoint as it was;
#  - --early-stopping stops and restores the best weights.
set -u
. "${srcdir:-.}/tests/lib.sh" || exit 99
require_data
if "$FCNN" --backend=ref --load /nonexistent --eval 2>&1 | grep -q "built without checkpoints"; then
  echo "SKIP: this fcnn was built without checkpoints (jansson)"; exit 77
fi
small="--backend=ref --data $DATA --train-limit 600 --test-limit 100"

# The data section of a safetensors file: everything after the 8-byte length and header.
data_of() {
  n=$(od -An -tu8 -N8 "$1" | tr -d ' ')
  tail -c +$((9 + n)) "$1"
}

"$FCNN" $small --epochs 3 --out "$tmp/full" > "$tmp/full.out" 2>&1 || fail "uninterrupted run: $(tail -1 "$tmp/full.out")"
"$FCNN" $small --epochs 1 --out "$tmp/part" > "$tmp/part.out" 2>&1 || fail "first part: $(tail -1 "$tmp/part.out")"
"$FCNN" $small --resume "$tmp/part/model.safetensors" --epochs 3 --out "$tmp/part" > "$tmp/resume.out" 2>&1 \
  || fail "resume: $(tail -1 "$tmp/resume.out")"
grep -q "^Resuming .* after epoch 1 of 3" "$tmp/resume.out" || fail "resume did not say where it resumed"
grep -q "^Epoch 1/3" "$tmp/resume.out" && fail "resume trained epoch 1 again"
data_of "$tmp/full/model.safetensors" > "$tmp/full.data"
data_of "$tmp/part/model.safetensors" > "$tmp/part.data"
[ -s "$tmp/full.data" ] || fail "no checkpoint data"
cmp -s "$tmp/full.data" "$tmp/part.data" || fail "stopped and resumed run differs from the uninterrupted one"
cut -d, -f1-5 "$tmp/full/history.csv" > "$tmp/full.hist"
cut -d, -f1-5 "$tmp/part/history.csv" > "$tmp/part.hist"
cmp -s "$tmp/full.hist" "$tmp/part.hist" || fail "resumed history differs"
[ "$(wc -l < "$tmp/full/history.csv")" -eq 4 ] || fail "history.csv should have a header and 3 rows"
head -n 1 "$tmp/full/history.csv" | grep -q "^epoch,loss,accuracy,val_loss,val_accuracy,seconds,lr$" \
  || fail "history.csv header"

# --load --eval gives the trained model's test results again.
"$FCNN" --backend=ref --data "$DATA" --test-limit 100 --load "$tmp/full/model.safetensors" --eval \
  --out "$tmp/eval" > "$tmp/eval.out" 2>&1 || fail "--eval: $(tail -1 "$tmp/eval.out")"
sed -n '/^Test accuracy/,/weighted avg/p' "$tmp/full.out" > "$tmp/full.report"
sed -n '/^Test accuracy/,/weighted avg/p' "$tmp/eval.out" > "$tmp/eval.report"
[ -s "$tmp/eval.report" ] || fail "--eval printed no report"
cmp -s "$tmp/full.report" "$tmp/eval.report" || fail "--load --eval results differ from the training run's"
grep -q "^Epoch" "$tmp/eval.out" && fail "--eval trained"

# Plots, when this build has PLplot.
if ! grep -q "^Plots are off" "$tmp/full.out"; then
  for png in accuracy loss confusion predictions; do
    f="$tmp/full/$png.png"
    [ "$(od -An -tx1 -N8 "$f" 2>/dev/null | tr -d ' ')" = 89504e470d0a1a0a ] || fail "$png.png is not a PNG"
    [ "$(wc -c < "$f")" -gt 5000 ] || fail "$png.png is suspiciously small"
  done
  [ -e "$tmp/eval/confusion.png" ] || fail "--eval wrote no confusion.png"
fi

# A malformed checkpoint: one line, exit 1.
printf 'short' > "$tmp/short.safetensors"
"$FCNN" --backend=ref --data "$DATA" --load "$tmp/short.safetensors" --eval > "$tmp/bad.out" 2> "$tmp/bad.err"
status=$?
[ "$status" -eq 1 ] || fail "malformed checkpoint exited $status"
[ "$(wc -l < "$tmp/bad.err")" -eq 1 ] || fail "malformed checkpoint: not one line: $(cat "$tmp/bad.err")"
grep -q "short.safetensors: .*shorter than the 8-byte header length" "$tmp/bad.err" \
  || fail "malformed checkpoint message: $(cat "$tmp/bad.err")"

# A planted NaN: dense/bias[0] of a good checkpoint becomes NaN; training from it stops at
# epoch 1, step 1, and the checkpoint it would have overwritten stays as it was.
cp "$tmp/full/model.safetensors" "$tmp/nan.safetensors"
n=$(od -An -tu8 -N8 "$tmp/nan.safetensors" | tr -d ' ')
begin=$(head -c $((8 + n)) "$tmp/nan.safetensors" | tail -c "$n" \
        | sed -n 's/.*"dense\/bias":{[^}]*"data_offsets":\[\([0-9]*\),.*/\1/p')
[ -n "$begin" ] || fail "cannot find dense/bias in the header"
printf '\000\000\300\177' | dd of="$tmp/nan.safetensors" bs=1 seek=$((8 + n + begin)) conv=notrunc 2>/dev/null
cp "$tmp/nan.safetensors" "$tmp/nan.before"
"$FCNN" $small --epochs 2 --load "$tmp/nan.safetensors" --save "$tmp/nan.safetensors" \
  --out "$tmp/nan" > "$tmp/nan.out" 2> "$tmp/nan.err"
status=$?
[ "$status" -eq 1 ] || fail "NaN run exited $status"
[ "$(wc -l < "$tmp/nan.err")" -eq 1 ] || fail "NaN run: not one line: $(cat "$tmp/nan.err")"
grep -q "loss is NaN at epoch 1, step 1" "$tmp/nan.err" || fail "NaN message: $(cat "$tmp/nan.err")"
cmp -s "$tmp/nan.safetensors" "$tmp/nan.before" || fail "the NaN run overwrote the last checkpoint"

# Early stopping: this seeded run overfits from epoch 4 on; with patience 2 it stops after
# epoch 5 and restores epoch 3's weights, so the final test loss is the best val_loss.
"$FCNN" --backend=ref --data "$DATA" --train-limit 300 --test-limit 200 --lr 0.01 --epochs 8 \
  --early-stopping 2 --out "$tmp/es" > "$tmp/es.out" 2>&1 || fail "early stopping run: $(tail -1 "$tmp/es.out")"
grep -q "^Early stopping after epoch [0-9]" "$tmp/es.out" || fail "early stopping did not stop"
grep -q "^Epoch 8/8" "$tmp/es.out" && fail "early stopping ran every epoch"
best=$(awk -F, 'NR > 1 && (min == "" || $4 < min) { min = $4 } END { printf "%.4f", min }' "$tmp/es/history.csv")
final=$(sed -n 's/^Test accuracy: .* - loss: \([0-9.]*\) .*/\1/p' "$tmp/es.out")
[ "$best" = "$final" ] || fail "restored weights give test loss $final, best val_loss was $best"

finish "checkpoints end to end"
