#!/bin/sh
# Resume, load and eval keep their promises (reference backend, a small real subset):
#  - --resume restores every setting that shapes the run (limits, batch size, learning
#    rate, optimizer, seed, early-stopping patience and best weights, augmentation, the
#    validation split): a run stopped and resumed with no options but --epochs ends
#    bit-identical to an uninterrupted one;
#  - an option that contradicts the checkpoint is refused with one line naming it (exit
#    2) and the checkpoint is untouched; the same value again is accepted;
#  - resuming a finished run trains nothing, says so, and does not claim to save;
#  - --eval refuses options it would ignore, and lists only the plots it wrote.
set -u
. "${srcdir:-.}/tests/lib.sh" || exit 99
require_data
if "$FCNN" --backend=ref --load /nonexistent --eval 2>&1 | grep -q "built without checkpoints"; then
  echo "SKIP: this fcnn was built without checkpoints (jansson)"; exit 77
fi
settings="--train-limit 200 --test-limit 100 --batch-size 16 --lr 0.01 --optimizer momentum --seed 7"
base="--backend=ref --data $DATA"

data_of() {
  n=$(od -An -tu8 -N8 "$1" | tr -d ' ')
  tail -c +$((9 + n)) "$1"
}

"$FCNN" $base $settings --epochs 2 --out "$tmp/full" > "$tmp/full.out" 2>&1 || fail "uninterrupted: $(tail -n 1 "$tmp/full.out")"
"$FCNN" $base $settings --epochs 1 --out "$tmp/part" > "$tmp/part.out" 2>&1 || fail "first part: $(tail -n 1 "$tmp/part.out")"
ck="$tmp/part/model.safetensors"
cp "$ck" "$tmp/before"

# conflict OPTION VALUE: refused, exit 2, one message line naming it, checkpoint untouched.
conflict() {
  "$FCNN" $base --resume "$ck" --epochs 2 --out "$tmp/part" "$1" "$2" > "$tmp/out" 2> "$tmp/err"
  status=$?
  [ "$status" -eq 2 ] || fail "--resume with $1 $2 exited $status: $(cat "$tmp/err")"
  head -n 1 "$tmp/err" | grep -q -- "^fcnn: $1 .*conflicts with" || fail "$1 $2: message: $(cat "$tmp/err")"
  [ "$(grep -c "^fcnn: " "$tmp/err")" -eq 1 ] || fail "$1 $2: more than one message: $(cat "$tmp/err")"
  cmp -s "$ck" "$tmp/before" || fail "$1 $2: the checkpoint changed"
  grep -q "^Epoch" "$tmp/out" && fail "$1 $2: trained anyway"
}
conflict --lr 0.02
conflict --batch-size 32
conflict --optimizer adam
conflict --seed 8
conflict --train-limit 100
conflict --test-limit 50
conflict --early-stopping 3
conflict --lr-schedule cosine
conflict --augment flip
conflict --validation-split 0.5

# Nothing but --epochs (and a setting repeated unchanged): the run continues as it was.
"$FCNN" $base --resume "$ck" --epochs 2 --lr 0.01 --out "$tmp/part" > "$tmp/resume.out" 2>&1 \
  || fail "resume: $(tail -n 1 "$tmp/resume.out")"
grep -q "200 training and 100 test images" "$tmp/resume.out" || fail "resume did not keep the limits: $(grep Data: "$tmp/resume.out")"
data_of "$tmp/full/model.safetensors" > "$tmp/full.data"
data_of "$ck" > "$tmp/part.data"
[ -s "$tmp/full.data" ] && cmp -s "$tmp/full.data" "$tmp/part.data" || fail "resumed run differs from the uninterrupted one"
grep -q "^Model saved to" "$tmp/resume.out" || fail "the resumed run did not say it saved"

# Augmentation survives a resume: stopped after epoch 1 and resumed with nothing but
# --epochs (or with the same specification written another way), the run ends with the
# uninterrupted augmented run's weights; another --augment is refused.
aug="flip,shift:2,rotate:10"
"$FCNN" $base $settings --augment "$aug" --epochs 2 --out "$tmp/afull" > "$tmp/afull.out" 2>&1 || fail "augmented, uninterrupted: $(tail -n 1 "$tmp/afull.out")"
"$FCNN" $base $settings --augment "$aug" --epochs 1 --out "$tmp/apart" > "$tmp/apart.out" 2>&1 || fail "augmented, first part: $(tail -n 1 "$tmp/apart.out")"
cp -r "$tmp/apart" "$tmp/apart2"
ack="$tmp/apart/model.safetensors"
cp "$ack" "$tmp/abefore"
"$FCNN" $base --resume "$ack" --epochs 2 --out "$tmp/apart" --augment flip > "$tmp/out" 2> "$tmp/err"
status=$?
[ "$status" -eq 2 ] || fail "--resume of an augmented run with --augment flip exited $status: $(cat "$tmp/err")"
[ "$(grep -c "^fcnn: " "$tmp/err")" -eq 1 ] || fail "--augment flip: more than one message: $(cat "$tmp/err")"
grep -q "^fcnn: --augment flip conflicts with .*a run with --augment $aug:" "$tmp/err" || fail "--augment flip: message: $(cat "$tmp/err")"
cmp -s "$ack" "$tmp/abefore" || fail "--augment flip: the checkpoint changed"
"$FCNN" $base --resume "$ack" --epochs 2 --out "$tmp/apart" > "$tmp/aresume.out" 2>&1 \
  || fail "augmented resume: $(tail -n 1 "$tmp/aresume.out")"
data_of "$tmp/afull/model.safetensors" > "$tmp/afull.data"
data_of "$ack" > "$tmp/apart.data"
[ -s "$tmp/afull.data" ] && cmp -s "$tmp/afull.data" "$tmp/apart.data" \
  || fail "a resumed augmented run differs from the uninterrupted one (augmentation not restored)"
cmp -s "$tmp/full.data" "$tmp/apart.data" && fail "the augmented run ended with the plain run's weights"
"$FCNN" $base --resume "$tmp/apart2/model.safetensors" --epochs 2 --out "$tmp/apart2" \
  --augment rotate:10,shift:2,flip > "$tmp/aresume2.out" 2>&1 \
  || fail "augmented resume with the same --augment reordered: $(tail -n 1 "$tmp/aresume2.out")"
data_of "$tmp/apart2/model.safetensors" > "$tmp/apart2.data"
cmp -s "$tmp/afull.data" "$tmp/apart2.data" || fail "resumed with the same --augment reordered: other weights"

# The validation split survives a resume too, drawn with the run's own --seed: resumed
# with nothing but --epochs, the run holds out the same images and ends with the
# uninterrupted run's weights.
"$FCNN" $base $settings --validation-split 0.25 --epochs 2 --out "$tmp/vfull" > "$tmp/vfull.out" 2>&1 || fail "split, uninterrupted: $(tail -n 1 "$tmp/vfull.out")"
"$FCNN" $base $settings --validation-split 0.25 --epochs 1 --out "$tmp/vpart" > "$tmp/vpart.out" 2>&1 || fail "split, first part: $(tail -n 1 "$tmp/vpart.out")"
"$FCNN" $base --resume "$tmp/vpart/model.safetensors" --epochs 2 --out "$tmp/vpart" > "$tmp/vresume.out" 2>&1 \
  || fail "split resume: $(tail -n 1 "$tmp/vresume.out")"
grep -q "150 training, 50 validation and 100 test images" "$tmp/vresume.out" || fail "the resumed run did not keep the validation split: $(grep Data: "$tmp/vresume.out")"
data_of "$tmp/vfull/model.safetensors" > "$tmp/vfull.data"
data_of "$tmp/vpart/model.safetensors" > "$tmp/vpart.data"
[ -s "$tmp/vfull.data" ] && cmp -s "$tmp/vfull.data" "$tmp/vpart.data" \
  || fail "a resumed run with a validation split differs from the uninterrupted one"

# A finished run resumed: nothing trained, nothing claimed.
cp "$ck" "$tmp/before"
"$FCNN" $base --resume "$ck" --out "$tmp/part" > "$tmp/again.out" 2>&1 || fail "finished resume: $(tail -n 1 "$tmp/again.out")"
grep -q "^Nothing to train" "$tmp/again.out" || fail "a finished run resumed does not say there is nothing to train"
grep -q "^Model saved" "$tmp/again.out" && fail "a finished run resumed claims 'Model saved'"
grep -q "^Epoch" "$tmp/again.out" && fail "a finished run resumed trained"
cmp -s "$ck" "$tmp/before" || fail "a finished run resumed rewrote its checkpoint"

# Early stopping survives a resume: this seeded run overfits from epoch 4 on; with patience
# 2 it stops after epoch 5 and restores epoch 3's weights. Stopped after epoch 4 and
# resumed with no --early-stopping, it must do the same.
es="--train-limit 300 --test-limit 200 --lr 0.01"
"$FCNN" $base $es --epochs 4 --early-stopping 2 --out "$tmp/es" > "$tmp/es1.out" 2>&1 || fail "early stopping, part 1: $(tail -n 1 "$tmp/es1.out")"
"$FCNN" $base --resume "$tmp/es/model.safetensors" --epochs 8 --out "$tmp/es" > "$tmp/es2.out" 2>&1 \
  || fail "early stopping, resumed: $(tail -n 1 "$tmp/es2.out")"
grep -q "^Early stopping after epoch [0-9]" "$tmp/es2.out" || fail "the resumed run forgot early stopping"
grep -q "^Epoch 8/8" "$tmp/es2.out" && fail "the resumed run ran every epoch"
best=$(awk -F, 'NR > 1 && (min == "" || $4 < min) { min = $4 } END { printf "%.4f", min }' "$tmp/es/history.csv")
final=$(sed -n 's/^Test accuracy: .* - loss: \([0-9.]*\) .*/\1/p' "$tmp/es2.out")
[ "$best" = "$final" ] || fail "resumed early stopping: test loss $final, best val_loss was $best (best weights not restored)"

# --eval: options it would ignore are refused by name; the plots it lists exist.
for option in "--epochs 3" "--lr 0.1" "--lr-schedule cosine" "--batch-size 8" "--optimizer sgd" "--seed 1" \
              "--train-limit 10" "--early-stopping 2" "--save $tmp/x.safetensors"; do
  "$FCNN" $base --load "$tmp/full/model.safetensors" --eval $option --out "$tmp/ev" > "$tmp/out" 2> "$tmp/err"
  status=$?
  [ "$status" -eq 2 ] || fail "--eval $option exited $status"
  grep -q -- "${option%% *} would have no effect" "$tmp/err" || fail "--eval $option: $(cat "$tmp/err")"
done
"$FCNN" $base --test-limit 100 --load "$tmp/full/model.safetensors" --eval --out "$tmp/ev" > "$tmp/ev.out" 2>&1 \
  || fail "--eval: $(tail -n 1 "$tmp/ev.out")"
if grep -q "^Plots: " "$tmp/ev.out"; then
  listed=$(sed -n 's/^Plots: .*{\(.*\)}\.png$/\1/p' "$tmp/ev.out")
  for name in $(echo "$listed" | tr ',' ' '); do
    [ -f "$tmp/ev/$name.png" ] || fail "--eval lists $name.png but did not write it"
  done
  [ -n "$listed" ] || fail "--eval plot line unreadable: $(grep "^Plots" "$tmp/ev.out")"
fi
grep -q "^Model saved" "$tmp/ev.out" && fail "--eval claims 'Model saved'"

finish "resume, load and eval"
