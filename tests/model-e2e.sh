#!/bin/sh
# A model with BatchNormalization, Dropout and a hidden Dense layer, from a spec, trains on
# 2,000 real Fashion-MNIST images on every backend of this build: the training loss falls
# and the model beats chance by far. On the fastest backend here (OpenCL if present) its
# checkpoint (weights, moving statistics, optimizer state, generator) rebuilds it:
# --load --eval reproduces the test results, and a run stopped after epoch 1 and resumed
# ends exactly where an uninterrupted run does.
set -u
. "${srcdir:-.}/tests/lib.sh" || exit 99
require_data
# BatchNormalization's momentum 0.9: Keras's 0.99 leaves the moving statistics far from
# the data's after the 190 steps of this short run, and evaluation uses them.
spec="conv2d(16,3,padding=same,use_bias=false) batchnorm(momentum=0.9) activation(relu) maxpool(2) flatten dropout(0.25) dense(64,relu) batchnorm(momentum=0.9) dropout(0.3) dense(10,softmax)"
# Separate runs are compared below: all take the variants by priority (FCNN_TUNE=0), or
# the first run on this test's empty cache would train on those and a later one on the
# variants timed after it, equal only to float rounding. (warm-up-child.sh checks that a
# resumed run takes its checkpoint's variants whatever was timed since.)
FCNN_TUNE=0; export FCNN_TUNE
common="--data $DATA --train-limit 2000 --test-limit 500 --batch-size 32 --optimizer adamw --lr 0.002 --lr-schedule cosine"

# OpenCL too when this build has it and the machine has a device (opencl-cli.sh checks
# the backend itself; here it is the model).
backends=ref
check_opencl
[ "$opencl" = ready ] && backends="ref opencl"
last=${backends##* }
for be in $backends; do
  "$FCNN" --backend=$be $common --model "$spec" --epochs 3 --out "$tmp/$be" > "$tmp/$be.out" 2>&1 \
    || { fail "$be: $(tail -1 "$tmp/$be.out")"; continue; }
  grep -q "^ batch_normalization (BatchNormalization) *(None, 28, 28, 16) *64 " "$tmp/$be.out" \
    || fail "$be: summary row of batch_normalization"
  grep -q "^Non-trainable params: 160$" "$tmp/$be.out" || fail "$be: non-trainable params (2*16 + 2*64)"
  awk -F, -v be=$be 'NR == 2 { first = $2 } NR > 1 { last = $2; acc = $5; if ($2 != $2 + 0) bad = 1 }
       END { if (bad || !(last < 0.8 * first)) { print "FAIL: " be ": loss did not fall: " first " -> " last; exit 1 }
             if (acc < 0.75) { print "FAIL: " be ": val_accuracy " acc; exit 1 } }' \
    "$tmp/$be/history.csv" || failures=$((failures + 1))
done

# The checkpoint rebuilds the model, its moving statistics included.
ck="$tmp/$last/model.safetensors"
"$FCNN" --backend=$last --data "$DATA" --test-limit 500 --load "$ck" --eval --out "$tmp/eval" \
  > "$tmp/eval.out" 2>&1 || fail "--load --eval: $(tail -1 "$tmp/eval.out")"
sed -n '/^Test accuracy/,/weighted avg/p' "$tmp/$last.out" > "$tmp/ref.report"
sed -n '/^Test accuracy/,/weighted avg/p' "$tmp/eval.out" > "$tmp/eval.report"
[ -s "$tmp/eval.report" ] || fail "--eval printed no report"
cmp -s "$tmp/ref.report" "$tmp/eval.report" || fail "--load --eval results differ from the training run's"

"$FCNN" --backend=$last $common --model "$spec" --epochs 1 --out "$tmp/part" > "$tmp/part.out" 2>&1 \
  || fail "first part: $(tail -1 "$tmp/part.out")"
"$FCNN" --backend=$last --data "$DATA" --train-limit 2000 --test-limit 500 --resume "$tmp/part/model.safetensors" \
  --epochs 3 --out "$tmp/part" > "$tmp/resume.out" 2>&1 || fail "resume: $(tail -1 "$tmp/resume.out")"
cut -d, -f1-5,7 "$tmp/$last/history.csv" > "$tmp/full.hist"
cut -d, -f1-5,7 "$tmp/part/history.csv" > "$tmp/part.hist"
cmp -s "$tmp/full.hist" "$tmp/part.hist" || fail "the resumed run's history differs from the uninterrupted one's"

finish model-e2e
