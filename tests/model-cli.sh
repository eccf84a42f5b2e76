#!/bin/sh
# --model through the command line:
#  - every malformed spec or Keras file is one line on stderr naming the position, exit 2:
#    a syntax error before any data is read, a spec that does not fit the data's input
#    shape and classes once the data says them (here a synthetic 28x28x1 set of 10);
#  - --help shows the grammar and the reference model's spec;
#  - a spec model trains, its checkpoint stores the normalised spec, and --load --eval and
#    --resume rebuild the model from the checkpoint alone; a --model that is not the
#    checkpoint's is refused with one line and exit 2, the same model spelled otherwise
#    is accepted.
set -u
. "${srcdir:-.}/tests/lib.sh" || exit 99
keras="$srcdir/tests/data/keras"

"$FCNN" --help > "$tmp/help" || fail "--help"
grep -q "conv2d(32,3,relu,padding=same) maxpool(2)" "$tmp/help" || fail "--help lacks the reference spec"
grep -q "batchnorm" "$tmp/help" || fail "--help lacks the grammar"

"${MAKE_DATA:-./tests/make-data}" idx "$tmp/tiny" 28 28 1 10 20 10 || exit 99
# refused WHERE ARGS...: exit 2, one line on stderr that starts with "fcnn: WHERE".
refused() {
  where=$1
  shift
  # --eval refuses options it would ignore, so it gets no --epochs.
  case " $* " in *" --eval "*) epochs= ;; *) epochs="--epochs 1" ;; esac
  "$FCNN" --data "$tmp/tiny" --backend=ref $epochs --out "$tmp/refused" "$@" > "$tmp/out" 2> "$tmp/err"
  status=$?
  [ "$status" -eq 2 ] || fail "$* exited $status, expected 2: $(cat "$tmp/err")"
  [ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "$*: stderr is not one line: $(cat "$tmp/err")"
  grep -qF "fcnn: $where" "$tmp/err" || fail "$*: said '$(cat "$tmp/err")', expected 'fcnn: $where...'"
}
refused "--model column 1: unknown layer 'foo'" --model "foo(3) dense(10)"
"$FCNN" --data /nonexistent --model "foo(3) dense(10)" > "$tmp/out" 2> "$tmp/err"
[ $? -eq 2 ] && grep -q "unknown layer 'foo'" "$tmp/err" \
  || fail "a spec that does not parse should be refused before the data is read: $(cat "$tmp/err")"
refused "--model column 13: conv2d: unknown argument 'stride'" --model "conv2d(32,3,stride=2) flatten dense(10)"
refused "--model column 10: a 29x29 kernel with padding=valid does not fit" --model "conv2d(8,29) flatten dense(10)"
refused "--model column 1: dense needs a flat input" --model "dense(10)"
refused "--model column 15: units must be 1..1048576, not 0" --model "flatten dense(0) dense(10)"
refused "--model column 17: rate must be in [0, 1), not 1.5" --model "flatten dropout(1.5) dense(10)"
refused "--model column 15: the final dense is the classifier" --model "flatten dense(5)"
refused "--model column 13: the model needs a final classifier" --model "conv2d(4,3) flatten"
refused "--model column 18: softmax is only supported as the model's last operation" --model "flatten dense(64,softmax) dense(10)"
refused "--model column 7: this '(' is never closed" --model "conv2d(32,3"
refused "--model: the spec is empty" --model " "
refused "$keras/dilated.json: config.layers[1].config.dilation_rate: only [1, 1] is supported" \
  --model "$keras/dilated.json"
refused "/nonexistent/model.json: " --model /nonexistent/model.json
printf '{"class_name": "Sequential", "config": {"layers": [}' > "$tmp/broken.json"
refused "$tmp/broken.json: line 1 column" --model "$tmp/broken.json"
printf '{"class_name": "Functional", "config": {}}' > "$tmp/functional.json"
refused "$tmp/functional.json: class_name: only Sequential models are supported" --model "$tmp/functional.json"

require_data
small="--backend=ref --data $DATA --train-limit 300 --test-limit 100 --batch-size 50"
spec="conv2d(8,3,relu,strides=2) avgpool(2,padding=same) flatten dense(10)"

"$FCNN" $small --model "$spec" --epochs 2 --out "$tmp/full" > "$tmp/full.out" 2>&1 \
  || fail "a spec model did not train: $(tail -1 "$tmp/full.out")"
grep -q "^ conv2d (Conv2D) *(None, 13, 13, 8) *80 " "$tmp/full.out" || fail "summary row of conv2d"
grep -q "^ average_pooling2d (AveragePooling2D) *(None, 7, 7, 8) *0 " "$tmp/full.out" \
  || fail "summary row of average_pooling2d"
grep -q "^Total params: 4,010$" "$tmp/full.out" || fail "total params (3*3*1*8+8 + 392*10+10)"
ck="$tmp/full/model.safetensors"

# --load --eval rebuilds the model from the checkpoint alone and gives the same results.
"$FCNN" --backend=ref --data "$DATA" --test-limit 100 --load "$ck" --eval --out "$tmp/eval" \
  > "$tmp/eval.out" 2>&1 || fail "--load --eval of a spec model: $(tail -1 "$tmp/eval.out")"
sed -n '/^Test accuracy/,/weighted avg/p' "$tmp/full.out" > "$tmp/full.report"
sed -n '/^Test accuracy/,/weighted avg/p' "$tmp/eval.out" > "$tmp/eval.report"
[ -s "$tmp/eval.report" ] || fail "--eval printed no report"
cmp -s "$tmp/full.report" "$tmp/eval.report" || fail "--load --eval results differ from the training run's"
grep -q "^Total params: 4,010$" "$tmp/eval.out" || fail "--eval summary is not the spec model's"

# The same model spelled another way is the checkpoint's model; another model is refused.
"$FCNN" --backend=ref --data "$DATA" --test-limit 100 --load "$ck" --eval --out "$tmp/eval2" \
  --model "Conv2D(filters=8, kernel_size=3x3, strides=2, activation=relu) average_pooling2d(pool_size=2,strides=2,padding=same) flatten dense(10,activation=linear)" \
  > "$tmp/eval2.out" 2>&1 || fail "the same model spelled otherwise was refused: $(tail -1 "$tmp/eval2.out")"
refused "--model conv2d(8,3,relu) flatten dense(10) is not the model of $ck ($spec)" \
  --backend=ref --load "$ck" --eval --model "conv2d(8,3,relu) flatten dense(10)"
refused "--model conv2d(32,3,relu,padding=same) maxpool(2) conv2d(64,3,relu,padding=same) maxpool(2) flatten dense(10) is not the model of $ck" \
  --backend=ref --resume "$ck" --model "$keras/reference.json"

# --resume continues the spec model: the run stopped after epoch 1 ends where the
# uninterrupted one did.
"$FCNN" $small --model "$spec" --epochs 1 --out "$tmp/part" > "$tmp/part.out" 2>&1 \
  || fail "first part: $(tail -1 "$tmp/part.out")"
"$FCNN" $small --resume "$tmp/part/model.safetensors" --epochs 2 --out "$tmp/part" \
  > "$tmp/resume.out" 2>&1 || fail "resume of a spec model: $(tail -1 "$tmp/resume.out")"
cut -d, -f1-5 "$tmp/full/history.csv" > "$tmp/full.hist"
cut -d, -f1-5 "$tmp/part/history.csv" > "$tmp/part.hist"
cmp -s "$tmp/full.hist" "$tmp/part.hist" || fail "the resumed spec model's history differs"

# A Keras file trains as the model it describes.
"$FCNN" $small --model "$keras/reference.json" --epochs 1 --out "$tmp/keras" > "$tmp/keras.out" 2>&1 \
  || fail "reference.json did not train: $(tail -1 "$tmp/keras.out")"
grep -q "^Total params: 50,186$" "$tmp/keras.out" || fail "reference.json's total params"

finish model-cli
