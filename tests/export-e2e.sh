#!/bin/sh
# Exports, end to end with the reference backend on a small real subset:
#  - --load CHECKPOINT --export-onnx / --export-weights write both files and train nothing;
#  - the ONNX file holds every parameter of the checkpoint after the documented transposes
#    (tests/test-onnx reads it back), and protoc --decode_raw, when installed, agrees on
#    the opset, the node types in order, the input and output names and dimensions;
#  - the weights-only file holds the parameters alone, with the architecture and input
#    scaling in its metadata; --load FILE --eval gives exactly the full checkpoint's
#    results, and --resume FILE is refused with one line;
#  - training with --export-onnx writes the file after the last epoch;
#  - the same for a model with BatchNormalization, Dropout and a softmax output;
#  - an unwritable export path and export with --eval are one line each, exit 1 and 2.
set -u
. "${srcdir:-.}/tests/lib.sh" || exit 99
require_data
if "$FCNN" --backend=ref --load /nonexistent --eval 2>&1 | grep -q "built without checkpoints"; then
  echo "SKIP: this fcnn was built without checkpoints (jansson)"; exit 77
fi
TEST_ONNX=${TEST_ONNX:-$(dirname "$FCNN")/tests/test-onnx}
small="--backend=ref --data $DATA --train-limit 320 --test-limit 200"
evalsmall="--backend=ref --data $DATA --test-limit 200" # --eval refuses training options

"$FCNN" $small --epochs 1 --out "$tmp/run" --export-onnx "$tmp/trained.onnx" > "$tmp/run.out" 2>&1 \
  || fail "training run: $(tail -1 "$tmp/run.out")"
ck="$tmp/run/model.safetensors"
grep -q "^ONNX model written to $tmp/trained.onnx" "$tmp/run.out" || fail "training did not export ONNX"
[ -s "$tmp/trained.onnx" ] || fail "no ONNX file after training"

"$FCNN" --load "$ck" --export-onnx "$tmp/m.onnx" --export-weights "$tmp/w.safetensors" \
  > "$tmp/export.out" 2>&1 || fail "export: $(tail -1 "$tmp/export.out")"
grep -q "^Epoch" "$tmp/export.out" && fail "--load with an export trained"
grep -q "^ONNX model written to $tmp/m.onnx (opset 13; input 'input' \[N,28,28,1\]" "$tmp/export.out" \
  || fail "export did not say what it wrote: $(cat "$tmp/export.out")"
grep -q "^Weights written to $tmp/w.safetensors" "$tmp/export.out" || fail "no weights line"
cmp -s "$tmp/m.onnx" "$tmp/trained.onnx" || fail "exported from the checkpoint != exported after training"

# Every parameter, transposed as documented, byte for byte.
"$TEST_ONNX" "$tmp/m.onnx" "$ck" > "$tmp/compare.out" 2>&1 || fail "ONNX vs checkpoint: $(cat "$tmp/compare.out")"
grep -q "^6 tensors of" "$tmp/compare.out" || fail "compared: $(cat "$tmp/compare.out")"

# A second opinion on the bytes: protoc's own decoder.
if command -v protoc > /dev/null 2>&1; then
  protoc --decode_raw < "$tmp/m.onnx" > "$tmp/raw.txt" 2> "$tmp/raw.err" || fail "protoc --decode_raw: $(cat "$tmp/raw.err")"
  # ModelProto: 1 ir_version, 8 opset_import { 2 version }.
  grep -q "^1: 7$" "$tmp/raw.txt" || fail "protoc: ir_version is not 7"
  sed -n '/^8 {/,/^}/p' "$tmp/raw.txt" | grep -q "^  2: 13$" || fail "protoc: opset is not 13"
  # GraphProto (7) nodes (1), their op_type (4) in order.
  ops=$(grep '^    4: "' "$tmp/raw.txt" | sed 's/^    4: "\(.*\)"$/\1/' | tr '\n' ' ')
  [ "$ops" = "Mul Transpose Conv Relu MaxPool Conv Relu MaxPool Transpose Flatten Gemm " ] \
    || fail "protoc: node types are '$ops'"
  # Graph input (11) and output (12): name (1) and dims (value 1 / param 2).
  sed -n '/^  11 {/,/^  }/p' "$tmp/raw.txt" > "$tmp/in.txt"
  grep -q '^    1: "input"$' "$tmp/in.txt" || fail "protoc: input name"
  grep -q '^        1: 1$' "$tmp/in.txt" || fail "protoc: input is not float32"
  # ValueInfo 2 type { 1 tensor_type { 1 elem_type, 2 shape { 1 dim { 1 value | 2 param } } } }
  dims='^            [12]: '
  [ "$(grep -E "$dims" "$tmp/in.txt" | tr -d ' ' | tr '\n' ' ')" = '2:"N" 1:28 1:28 1:1 ' ] \
    || fail "protoc: input dims: $(cat "$tmp/in.txt")"
  sed -n '/^  12 {/,/^  }/p' "$tmp/raw.txt" > "$tmp/out.txt"
  grep -q '^    1: "output"$' "$tmp/out.txt" || fail "protoc: output name"
  [ "$(grep -E "$dims" "$tmp/out.txt" | tr -d ' ' | tr '\n' ' ')" = '2:"N" 1:10 ' ] \
    || fail "protoc: output dims: $(cat "$tmp/out.txt")"
else
  echo "protoc not installed: the second decoding is skipped"
fi

# The weights-only file: parameters alone, metadata for a user rebuilding the network.
n=$(od -An -tu8 -N8 "$tmp/w.safetensors" | tr -d ' ')
head -c $((8 + n)) "$tmp/w.safetensors" | tail -c "$n" > "$tmp/w.header"
grep -q '"format":"fcnn-weights"' "$tmp/w.header" || fail "weights: format"
grep -q '"input_scaling":"x \* (1/255)' "$tmp/w.header" || fail "weights: input scaling"
grep -q '"model":"Conv2D(32,3x3,same,relu)' "$tmp/w.header" || fail "weights: architecture"
grep -q 'optimizer/\|"history"\|rng_state' "$tmp/w.header" && fail "weights: holds training state"
[ "$(grep -o '"dtype":"F32"' "$tmp/w.header" | wc -l)" -eq 6 ] || fail "weights: not 6 tensors"

# --eval from the weights alone gives the full checkpoint's results exactly.
"$FCNN" $evalsmall --load "$ck" --eval --out "$tmp/e1" > "$tmp/e1.out" 2>&1 || fail "eval full: $(tail -1 "$tmp/e1.out")"
"$FCNN" $evalsmall --load "$tmp/w.safetensors" --eval --out "$tmp/e2" > "$tmp/e2.out" 2>&1 \
  || fail "eval weights-only: $(tail -1 "$tmp/e2.out")"
sed -n '/^Test accuracy/,/weighted avg/p' "$tmp/e1.out" > "$tmp/e1.report"
sed -n '/^Test accuracy/,/weighted avg/p' "$tmp/e2.out" > "$tmp/e2.report"
[ -s "$tmp/e2.report" ] || fail "weights-only --eval printed no report"
cmp -s "$tmp/e1.report" "$tmp/e2.report" || fail "weights-only --eval differs from the checkpoint's"

# --resume from weights alone: one line, exit 1.
"$FCNN" $small --resume "$tmp/w.safetensors" --out "$tmp/r" > "$tmp/r.out" 2> "$tmp/r.err"
status=$?
[ "$status" -eq 1 ] || fail "weights-only --resume exited $status"
[ "$(wc -l < "$tmp/r.err")" -eq 1 ] || fail "weights-only --resume: not one line: $(cat "$tmp/r.err")"
grep -q "w.safetensors: is a weights-only file" "$tmp/r.err" || fail "resume message: $(cat "$tmp/r.err")"
grep -q "^Epoch" "$tmp/r.out" && fail "weights-only --resume trained"

# A model with layer state: BatchNormalization's moving statistics (2 of its 7 tensors) go into
# the ONNX file (against the checkpoint, byte for byte) and into the weights-only file,
# whose --eval matches the checkpoint's; Dropout leaves no trace; the final softmax
# makes the output probabilities.
spec="conv2d(4,3,padding=same,use_bias=false) batchnorm activation(relu) maxpool(2) dropout(0.25) flatten dense(10,softmax)"
bnsmall="--backend=ref --data $DATA --train-limit 64 --test-limit 50"
bnevalsmall="--backend=ref --data $DATA --test-limit 50"
"$FCNN" $bnsmall --model "$spec" --epochs 1 --out "$tmp/bn" > "$tmp/bn.out" 2>&1 || fail "bn run: $(tail -1 "$tmp/bn.out")"
"$FCNN" --load "$tmp/bn/model.safetensors" --export-onnx "$tmp/bn.onnx" --export-weights "$tmp/bnw.safetensors" \
  > "$tmp/bnx.out" 2>&1 || fail "bn export: $(tail -1 "$tmp/bnx.out")"
"$TEST_ONNX" "$tmp/bn.onnx" "$tmp/bn/model.safetensors" > "$tmp/bncmp.out" 2>&1 || fail "bn ONNX vs checkpoint: $(cat "$tmp/bncmp.out")"
grep -q "^7 tensors of" "$tmp/bncmp.out" || fail "bn compared: $(cat "$tmp/bncmp.out")"
grep -q '"output":"probabilities"' "$tmp/bnw.safetensors" || fail "bn weights: output is not probabilities"
grep -q '"batch_normalization/moving_variance"' "$tmp/bnw.safetensors" || fail "bn weights: no moving statistics"
"$FCNN" $bnevalsmall --load "$tmp/bn/model.safetensors" --eval --out "$tmp/bne1" > "$tmp/bne1.out" 2>&1 || fail "bn eval full"
"$FCNN" $bnevalsmall --load "$tmp/bnw.safetensors" --eval --out "$tmp/bne2" > "$tmp/bne2.out" 2>&1 || fail "bn eval weights: $(tail -1 "$tmp/bne2.out")"
sed -n '/^Test accuracy/,/weighted avg/p' "$tmp/bne1.out" > "$tmp/bne1.report"
sed -n '/^Test accuracy/,/weighted avg/p' "$tmp/bne2.out" > "$tmp/bne2.report"
[ -s "$tmp/bne2.report" ] && cmp -s "$tmp/bne1.report" "$tmp/bne2.report" || fail "bn weights-only --eval differs"

# Mistakes: an export path that cannot be written, an export with --eval.
"$FCNN" --load "$ck" --export-onnx "$tmp/no/such/dir/m.onnx" > /dev/null 2> "$tmp/bad.err"
status=$?
[ "$status" -eq 1 ] || fail "unwritable export exited $status"
[ "$(wc -l < "$tmp/bad.err")" -eq 1 ] && grep -q "no/such/dir/m.onnx" "$tmp/bad.err" \
  || fail "unwritable export message: $(cat "$tmp/bad.err")"
"$FCNN" --load "$ck" --eval --export-onnx "$tmp/x.onnx" > /dev/null 2> "$tmp/usage.err"
status=$?
[ "$status" -eq 2 ] || fail "--eval with --export-onnx exited $status"
[ -e "$tmp/x.onnx" ] && fail "--eval with --export-onnx wrote a file"

finish export-e2e
