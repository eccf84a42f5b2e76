#!/bin/sh
# Your own data, end to end, on data this test makes (tests/make-data):
#  - an RGB IDX set and a folder of PNG and JPEG images train on every backend of this
#    build; the summary shows the input shape and the parameter counts that follow it;
#  - 47 classes with long names keep a readable report and a larger confusion plot;
#  - --validation-split holds out part of the training set, and the test set is read
#    only after training, for the final report;
#  - --predict on images exported from the test set gives the classes --eval counts,
#    with probabilities that sum to 1;
#  - bad data and mismatched models are one line naming the file, and the right exit.
set -u
. "${srcdir:-.}/tests/lib.sh" || exit 99
MAKE_DATA=${MAKE_DATA:-./tests/make-data}
XDG_CACHE_HOME=$tmp/cache; export XDG_CACHE_HOME
# Kernel tuning times every variant on every new shape: minutes here, and not tested here.
FCNN_TUNE=0; export FCNN_TUNE
"$MAKE_DATA" idx "$tmp/rgb" 12 12 3 4 256 64 || exit 99
"$MAKE_DATA" folder "$tmp/imgs" 10 10 1 3 240 60
case $? in 0) ;; 77) echo "SKIP: this build cannot write PNG or JPEG"; exit 77 ;; *) exit 99 ;; esac
if "$FCNN" --backend=ref --load /nonexistent --eval 2>&1 | grep -q "built without checkpoints"; then
  echo "SKIP: this fcnn was built without checkpoints (jansson)"; exit 77
fi

backends=ref
check_opencl
[ "$opencl" = ready ] && backends="ref opencl"

# run NAME ARGS...: stdout and stderr to $tmp/NAME.out and .err; fails on a non-zero exit.
run() {
  name=$1; shift
  "$FCNN" --out "$tmp/$name" "$@" > "$tmp/$name.out" 2> "$tmp/$name.err" \
    || { fail "$name exited $?: $(cat "$tmp/$name.err")"; return 1; }
}
# refused NAME STATUS TEXT ARGS...: exits STATUS with one line on stderr containing TEXT.
refused() {
  name=$1 want=$2 text=$3; shift 3
  "$FCNN" --out "$tmp/$name" "$@" > "$tmp/$name.out" 2> "$tmp/$name.err"
  got=$?
  [ "$got" -eq "$want" ] || fail "$name: exit $got, expected $want"
  first=$(head -n 1 "$tmp/$name.err")
  case $first in *"$text"*) ;; *) fail "$name: stderr '$first' lacks '$text'" ;; esac
}

for b in $backends; do
  # RGB IDX: 12x12x3 inputs, 4 classes: conv2d 3*3*3*32+32, dense (3*3*64)*4+4.
  run rgb-$b --backend=$b --data "$tmp/rgb" --epochs 2 || continue
  grep -q "^Input: 12x12x3 images, 4 classes$" "$tmp/rgb-$b.out" || fail "$b: no input line"
  grep -q "^ conv2d (Conv2D) *(None, 12, 12, 32) *896 *$" "$tmp/rgb-$b.out" || fail "$b: conv2d row"
  grep -q "^ dense (Dense) *(None, 4) *2,308 *$" "$tmp/rgb-$b.out" || fail "$b: dense row"
  grep -q "^Total params: 21,700$" "$tmp/rgb-$b.out" || fail "$b: total params"
  acc=$(sed -n 's/^Test accuracy: \([0-9.]*\).*/\1/p' "$tmp/rgb-$b.out")
  # Chance is 0.25; two epochs reach about 0.8.
  awk -v a="${acc:-0}" 'BEGIN { exit !(a >= 0.5) }' || fail "$b: RGB test accuracy ${acc:-missing}"

  # A folder of PNG and JPEG: class names from the folders, grayscale from the first image.
  run imgs-$b --backend=$b --data "$tmp/imgs" --epochs 2 || continue
  grep -q "^Data: $tmp/imgs: 240 training and 60 test images$" "$tmp/imgs-$b.out" || fail "$b: folder counts"
  grep -q "^Input: 10x10x1 images, 3 classes$" "$tmp/imgs-$b.out" || fail "$b: folder input line"
  grep -q "^Total params: 19,587$" "$tmp/imgs-$b.out" || fail "$b: folder total params"
  grep -q "^ 2 k02 " "$tmp/imgs-$b.out" || fail "$b: folder names not in the confusion matrix"
  grep -q "^ *k01 *[0-9.]* " "$tmp/imgs-$b.out" || fail "$b: folder names not in the report"
done

# --augment trains on transformed batches: another loss than without, and the same on
# every backend for the same seed.
for b in $backends; do
  run aug-$b --backend=$b --data "$tmp/rgb" --epochs 1 --augment flip,shift:2,rotate:10 || continue
  sed -n 's/.* - loss: \([0-9.]*\) - .*/\1/p' "$tmp/aug-$b.out" > "$tmp/aug-$b.loss"
done
grep -q "^8/8 .* - loss: $(cat "$tmp/aug-ref.loss") " "$tmp/rgb-ref.out" && fail "--augment: the loss of a plain run"
for b in $backends; do
  awk -v a="$(cat "$tmp/aug-ref.loss")" -v b="$(cat "$tmp/aug-$b.loss")" 'BEGIN { d = a - b; exit !(a != "" && d < 0.001 && d > -0.001) }' \
    || fail "--augment: $b's loss $(cat "$tmp/aug-$b.loss") differs from ref's $(cat "$tmp/aug-ref.loss")"
done

# --color-mode rgb makes three channels of gray images: conv2d has 3*3*3*32+32 parameters.
run imgs-rgb --backend=ref --data "$tmp/imgs" --color-mode rgb --epochs 1 --train-limit 64 --test-limit 30
grep -q "^Input: 10x10x3 images, 3 classes$" "$tmp/imgs-rgb.out" || fail "--color-mode rgb"
grep -q "^Total params: 20,163$" "$tmp/imgs-rgb.out" || fail "--color-mode rgb: total params"

# 47 classes, some with long names: the text stays in columns, the plot grows.
"$MAKE_DATA" idx "$tmp/many" 8 8 1 47 470 94 || exit 99
i=0; : > "$tmp/names"
while [ $i -lt 47 ]; do
  if [ $((i % 5)) -eq 0 ]; then echo "class $i with a rather long descriptive name"; else echo "c$i"; fi >> "$tmp/names"
  i=$((i + 1))
done
run many --backend=ref --data "$tmp/many" --class-names "$tmp/names" --epochs 1
grep -q "^ dense (Dense) *(None, 47) *12,079 *$" "$tmp/many.out" || fail "47 classes: dense row"
grep -q "^ 0 class 0 with a rather\.\.\. " "$tmp/many.out" || fail "47 classes: long name not cut in the matrix"
grep -q "^46 c46 " "$tmp/many.out" || fail "47 classes: row 46 missing"
long=$(sed -n '/^Confusion matrix/,$p' "$tmp/many.out" | grep -v "$tmp" | awk 'length > 110' | wc -l)
[ "$long" -eq 0 ] || fail "47 classes: $long lines longer than 110 characters"
[ "$(grep -c "^ *c[0-9]* *[0-9.]* *[0-9.]* *[0-9.]* *[0-9]*$" "$tmp/many.out")" -eq 37 ] \
  || fail "47 classes: the report lacks rows"
if [ -f "$tmp/many/confusion.png" ]; then
  width=$(od -An -tu1 -j16 -N4 "$tmp/many/confusion.png" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
  [ "$width" -gt 1000 ] || fail "47 classes: confusion.png is $width pixels wide"
fi

# --validation-split: 25% of 256 held out; the test set waits for the final report.
run split --backend=ref --data "$tmp/rgb" --validation-split 0.25 --early-stopping 1 --epochs 4
grep -q "^Data: $tmp/rgb: 192 training, 64 validation and 64 test images$" "$tmp/split.out" \
  || fail "--validation-split: counts"
last_epoch=$(grep -n "^Epoch " "$tmp/split.out" | tail -n 1 | cut -d: -f1)
test_read=$(grep -n "^Test set: 64 images, read once, now, for the final report$" "$tmp/split.out" | cut -d: -f1)
[ -n "$test_read" ] && [ -n "$last_epoch" ] && [ "$test_read" -gt "$last_epoch" ] \
  || fail "--validation-split: the test set was not read last (line ${test_read:-none}, last epoch ${last_epoch:-none})"
grep -q "^6/6 " "$tmp/split.out" || fail "--validation-split: 192 samples should be 6 steps"
run split2 --backend=ref --data "$tmp/rgb" --validation-split 0.25 --early-stopping 1 --epochs 4
sed 's/ - [0-9]*s [0-9]*ms\/step//' "$tmp/split.out" | grep -v "$tmp" > "$tmp/split.a"
sed 's/ - [0-9]*s [0-9]*ms\/step//' "$tmp/split2.out" | grep -v "$tmp" > "$tmp/split.b"
cmp -s "$tmp/split.a" "$tmp/split.b" || fail "--validation-split: same seed, different run"

# --predict on exported test images: the classes --eval counts, probabilities summing to 1.
model=$tmp/rgb-ref/model.safetensors
"$MAKE_DATA" export "$tmp/rgb" "$tmp/exported" 40 || exit 99
run eval --backend=ref --load "$model" --eval --data "$tmp/rgb" --test-limit 40
run predict --backend=ref --load "$model" --predict "$tmp"/exported/*.png --predict-format csv --top 4
[ "$(grep -c '' "$tmp/predict.out")" -eq 161 ] || fail "--predict: expected a header and 160 rows"
awk -F, 'NR > 1 { sum[$1] += $5 } END { for (f in sum) if (sum[f] < 0.99999 || sum[f] > 1.00001) { print f, sum[f]; bad = 1 } exit bad }' \
  "$tmp/predict.out" || fail "--predict: probabilities do not sum to 1"
# The confusion matrix of the predictions (true class from the file name) against --eval's.
awk -F, 'NR > 1 && $2 == 1 { n = split($1, p, "_"); t = substr(p[n], 1, 1); m[t "," $3]++ }
         END { for (t = 0; t < 4; t++) { line = " " t " " t; for (c = 0; c < 4; c++) line = line " " (m[t "," c] + 0); print line } }' \
  "$tmp/predict.out" > "$tmp/predict.matrix"
sed -n '/^Confusion matrix/,/^$/p' "$tmp/eval.out" | grep "^ [0-3] " | tr -s ' ' > "$tmp/eval.matrix"
cmp -s "$tmp/predict.matrix" "$tmp/eval.matrix" \
  || { fail "--predict and --eval disagree"; diff "$tmp/predict.matrix" "$tmp/eval.matrix"; }
run predict-json --backend=ref --load "$model" --predict "$tmp/exported/00000_0.png" --predict-format json --top 2
[ "$(grep -o '"probability"' "$tmp/predict-json.out" | wc -l)" -eq 2 ] || fail "--predict-format json"
run predict-text --backend=ref --load "$model" --predict "$tmp/exported/00001_3.png"
grep -q "^$tmp/exported/00001_3.png: [0-3] 0\.[0-9]*, [0-3] 0\.[0-9]*, [0-3] 0\.[0-9]*$" "$tmp/predict-text.out" \
  || fail "--predict text: $(cat "$tmp/predict-text.out")"

# Bad data and mismatches: one line naming the file or the difference.
"$MAKE_DATA" idx "$tmp/gray8" 8 8 1 4 16 16 || exit 99
refused shape 1 "the model takes 12x12x3 inputs but $tmp/gray8 has 8x8x1 images" \
  --backend=ref --load "$model" --eval --data "$tmp/gray8"
refused width 1 "has 4 outputs but $tmp/rgb has 5 classes (its last Dense must have 5 units)" \
  --backend=ref --load "$model" --eval --data "$tmp/rgb" --classes 5
refused label 1 "$tmp/rgb/train-labels-idx1-ubyte.gz: label 3 at index 1 is not a class 0..2" \
  --backend=ref --data "$tmp/rgb" --classes 3
printf 'not a picture\n' > "$tmp/text.png"
refused predict-text-file 1 "$tmp/text.png: not a PNG, JPEG or binary PGM image" \
  --backend=ref --load "$model" --predict "$tmp/text.png"
refused predict-size 1 "$tmp/imgs/test/k00/00240.png: image is 10x10, not 12x12" \
  --backend=ref --load "$model" --predict "$tmp/imgs/test/k00/00240.png"
run predict-resized --backend=ref --load "$model" --predict "$tmp/imgs/test/k00/00240.png" --image-size 12x12
refused predict-no-model 2 "--predict needs --load" --predict "$tmp/text.png"
refused image-size 2 "--image-size must be HxW" --image-size 12by12
refused split-range 2 "--validation-split must be a fraction" --validation-split 1.5
refused augment-spec 2 "--augment: 'spin' is not flip" --augment flip,spin
cp -r "$tmp/imgs" "$tmp/bad"
head -c 60 "$tmp/bad/train/k01/00001.png" > "$tmp/bad/train/k01/00004.png.tmp"
mv "$tmp/bad/train/k01/00004.png.tmp" "$tmp/bad/train/k01/00001.png"
refused truncated 1 "$tmp/bad/train/k01/00001.png: cannot decode the PNG" --backend=ref --data "$tmp/bad" --epochs 1
run skipped --backend=ref --data "$tmp/bad" --epochs 1 --skip-bad-images --train-limit 60 --test-limit 20
grep -q "^Skipped 1 image that could not be read:$" "$tmp/skipped.out" || fail "--skip-bad-images: no count"
grep -q "^  $tmp/bad/train/k01/00001.png: " "$tmp/skipped.out" || fail "--skip-bad-images: file not listed"
mkdir "$tmp/bad/train/k03"
refused empty-class 1 "$tmp/bad/train/k03: class folder holds no images" --backend=ref --data "$tmp/bad"

finish "data end to end"
