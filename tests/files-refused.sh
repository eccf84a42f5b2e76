#!/bin/sh
# Files at the boundary with the operating system (reference backend, a tiny subset):
#  - a save, history, plot or export target that is a FIFO, directory, symbolic link or device is
#    refused with one line before training, and left exactly as it was;
#  - a symbolic link planted at the old fixed temporary name is never written through;
#  - a FIFO given as --load, --resume or a data file is refused at once, not waited on,
#    and so is a FIFO, directory or device given as a --predict image, --class-names or
#    a FILE.json model;
#  - a failed write of the report to standard output (/dev/full) exits 1 with a message;
#  - a run that fails before it starts leaves no empty output directory behind;
#  - late command-line mistakes exit 2 naming the option;
#  - a file name with a newline stays on the one line of its message.
set -u
. "${srcdir:-.}/tests/lib.sh" || exit 99
require_data
small="--backend=ref --data $DATA --train-limit 64 --test-limit 32 --epochs 1 --quiet"

# refused WHAT ARGS...: exit 1, one line on stderr naming WHAT, nothing trained.
refused() {
  what=$1; shift
  timeout 60 "$FCNN" $small "$@" > "$tmp/out" 2> "$tmp/err"
  status=$?
  [ "$status" -eq 1 ] || fail "$what: exited $status, expected 1: $(cat "$tmp/err")"
  [ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "$what: not one line: $(cat "$tmp/err")"
  grep -q "refus" "$tmp/err" || fail "$what: does not say it refused: $(cat "$tmp/err")"
  [ ! -s "$tmp/out" ] || fail "$what: printed results: $(head -n 3 "$tmp/out")"
}

mkfifo "$tmp/fifo" || exit 99
mkdir "$tmp/dir" && echo "keep me" > "$tmp/dir/inside"
echo "someone else's file" > "$tmp/victim"
ln -s "$tmp/victim" "$tmp/link"

refused "--save FIFO" --out "$tmp/o1" --save "$tmp/fifo"
[ -p "$tmp/fifo" ] || fail "--save FIFO: the FIFO was replaced"
grep -q "FIFO" "$tmp/err" || fail "--save FIFO: the kind is not named: $(cat "$tmp/err")"
refused "--save directory" --out "$tmp/o1" --save "$tmp/dir"
[ -f "$tmp/dir/inside" ] || fail "--save directory: the directory was touched"
refused "--save symlink" --out "$tmp/o1" --save "$tmp/link"
[ -L "$tmp/link" ] || fail "--save symlink: the link was replaced"
grep -q "symbolic link" "$tmp/err" || fail "--save symlink: not said: $(cat "$tmp/err")"
[ "$(cat "$tmp/victim")" = "someone else's file" ] || fail "--save symlink: the file it points to changed"
# /dev/null: refused, and still the character device afterwards (as root, the old atomic
# save replaced it with a regular file).
refused "--save /dev/null" --out "$tmp/o1" --save /dev/null
[ -c /dev/null ] || fail "/dev/null is no longer a character device"
grep -q "/dev/null" "$tmp/err" || fail "--save /dev/null: not named: $(cat "$tmp/err")"
[ ! -e "$tmp/o1" ] || fail "a run refused before it started left $tmp/o1 behind"
# The exports are written after training, through the same checks, and refused before it.
refused "--export-onnx /dev/null" --out "$tmp/o1" --export-onnx /dev/null
[ -c /dev/null ] || fail "--export-onnx /dev/null: /dev/null is no longer a character device"
grep -q -- "--export-onnx" "$tmp/err" || fail "--export-onnx: the option is not named: $(cat "$tmp/err")"
[ ! -e "$tmp/o1" ] || fail "a run with a refused export target left $tmp/o1 behind"
refused "--export-weights symlink" --out "$tmp/o1" --export-weights "$tmp/link"
[ -L "$tmp/link" ] || fail "--export-weights symlink: the link was replaced"
[ "$(cat "$tmp/victim")" = "someone else's file" ] || fail "--export-weights symlink: the file it points to changed"

# History and plot targets inside --out are checked the same way.
mkdir "$tmp/o2"
ln -s "$tmp/victim" "$tmp/o2/history.csv"
refused "history.csv symlink" --out "$tmp/o2"
[ "$(cat "$tmp/victim")" = "someone else's file" ] || fail "history.csv symlink: the target changed"
rm "$tmp/o2/history.csv"
if grep -q "define HAVE_PLPLOT 1" "$(dirname "$FCNN")/config.h" 2>/dev/null; then
  mkfifo "$tmp/o2/loss.png"
  refused "loss.png FIFO" --out "$tmp/o2"
  [ -p "$tmp/o2/loss.png" ] || fail "loss.png FIFO was replaced"
  rm "$tmp/o2/loss.png"
fi

# A link planted at the temporary names the old code used (fixed, or with the pid): the
# run succeeds and writes nothing through them.
for name in history.csv.tmp model.safetensors.tmp accuracy.png.tmp; do
  ln -s "$tmp/victim" "$tmp/o2/$name"
done
timeout 120 "$FCNN" $small --out "$tmp/o2" > "$tmp/out" 2> "$tmp/err" || fail "run beside planted links: $(cat "$tmp/err")"
[ "$(cat "$tmp/victim")" = "someone else's file" ] || fail "a planted temporary-name link was written through"
[ -f "$tmp/o2/history.csv" ] && [ ! -L "$tmp/o2/history.csv" ] || fail "history.csv was not written"
leftovers=$(cd "$tmp/o2" && ls | grep '\.tmp\.' || true)
[ -z "$leftovers" ] || fail "temporary files left behind: $leftovers"

# Every other file fcnn reads: a FIFO, a directory or a device given as an image to
# --predict, as --class-names or as a FILE.json model is refused at once with one line
# naming it (timeout would kill a hang with status 124).
# read_refused WHAT NAME STATUS ARGS...: exit STATUS, one line naming NAME and saying it
# is refused (--model is a command-line setting: 2; the others fail at run time: 1).
read_refused() {
  what=$1 name=$2 expected=$3; shift 3
  timeout 20 "$FCNN" "$@" > "$tmp/out" 2> "$tmp/err"
  status=$?
  [ "$status" -eq "$expected" ] || fail "$what: exited $status, expected $expected (124: it hung): $(cat "$tmp/err")"
  [ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "$what: not one line: $(cat "$tmp/err")"
  grep -qF "$name: is " "$tmp/err" && grep -q "not a regular file: refused" "$tmp/err" \
    || fail "$what: the message does not name $name and refuse it: $(cat "$tmp/err")"
  [ ! -s "$tmp/out" ] || fail "$what: printed results: $(head -n 3 "$tmp/out")"
}
model=$tmp/o2/model.safetensors
[ -f "$model" ] || fail "the run beside planted links saved no model"
read_refused "--predict FIFO" "$tmp/fifo" 1 --backend=ref --load "$model" --predict "$tmp/fifo"
grep -q "a FIFO" "$tmp/err" || fail "--predict FIFO: the kind is not named: $(cat "$tmp/err")"
read_refused "--predict directory" "$tmp/dir" 1 --backend=ref --load "$model" --predict "$tmp/dir"
read_refused "--predict /dev/zero" /dev/zero 1 --backend=ref --load "$model" --predict /dev/zero
mkfifo "$tmp/names" "$tmp/model.json" || exit 99
read_refused "--class-names FIFO" "$tmp/names" 1 $small --out "$tmp/o6" --class-names "$tmp/names"
[ ! -e "$tmp/o6" ] || fail "a refused --class-names left $tmp/o6 behind"
read_refused "--model FIFO.json" "$tmp/model.json" 2 $small --out "$tmp/o6" --model "$tmp/model.json"

# Reading a FIFO: refused at once (timeout would kill a hang with status 124).
timeout 20 "$FCNN" --backend=ref --data "$DATA" --test-limit 32 --load "$tmp/fifo" --eval --out "$tmp/o3" > "$tmp/out" 2> "$tmp/err"
status=$?
[ "$status" -eq 1 ] || fail "--load FIFO exited $status (124: it hung)"
grep -q "fifo.*not a regular file" "$tmp/err" || fail "--load FIFO message: $(cat "$tmp/err")"
timeout 20 "$FCNN" --backend=ref --data "$DATA" --resume "$tmp/fifo" --out "$tmp/o3" > "$tmp/out" 2> "$tmp/err"
status=$?
[ "$status" -eq 1 ] || fail "--resume FIFO exited $status (124: it hung)"
mkdir "$tmp/data"
for f in "$DATA"/*; do ln -s "$f" "$tmp/data/"; done
rm -f "$tmp/data"/t10k-labels-idx1-ubyte*
mkfifo "$tmp/data/t10k-labels-idx1-ubyte.gz"
timeout 20 "$FCNN" --backend=ref --data "$tmp/data" --train-limit 64 --epochs 1 --out "$tmp/o3" > "$tmp/out" 2> "$tmp/err"
status=$?
[ "$status" -eq 1 ] || fail "a FIFO as a data file: exited $status (124: it hung)"
grep -q "t10k-labels-idx1-ubyte.gz.*not a regular file" "$tmp/err" || fail "data FIFO message: $(cat "$tmp/err")"
[ ! -e "$tmp/o3" ] || fail "a run that failed before training left $tmp/o3 behind"

# The report cannot be written: exit 1 and say so (GNU close-stdout).
if [ -w /dev/full ]; then
  timeout 120 "$FCNN" $small --out "$tmp/o4" > /dev/full 2> "$tmp/err"
  status=$?
  [ "$status" -eq 1 ] || fail ">/dev/full exited $status"
  grep -q "standard output: No space left on device" "$tmp/err" || fail ">/dev/full message: $(cat "$tmp/err")"
  "$FCNN" --help > /dev/full 2> "$tmp/err" && fail "--help >/dev/full exited 0"
fi

# usage2 ARGS...: exit 2, the message names the option, then the usage hint.
usage2() {
  opt=$1; shift
  timeout 120 "$FCNN" "$@" > "$tmp/out" 2> "$tmp/err"
  status=$?
  [ "$status" -eq 2 ] || fail "$*: exited $status, expected 2: $(cat "$tmp/err")"
  head -n 1 "$tmp/err" | grep -q -- "$opt" || fail "$*: message does not name $opt: $(cat "$tmp/err")"
  grep -q "Try 'fcnn --help'" "$tmp/err" || fail "$*: no usage hint"
}
usage2 --out $small --out=
usage2 --save $small --out "$tmp/o5" --save=
usage2 --load --backend=ref --data "$DATA" --out "$tmp/o5" --load= --eval
usage2 --resume --backend=ref --data "$DATA" --out "$tmp/o5" --resume=
usage2 --data $small --out "$tmp/o5" --data=
usage2 --device $small --out "$tmp/o5" --device=0:0
usage2 --kernel $small --out "$tmp/o5" --kernel=conv2d_fwd=direct
usage2 --batch-size $small --batch-size 65 --out "$tmp/o5"
[ ! -e "$tmp/o5" ] || fail "a refused --batch-size left $tmp/o5 behind"

# A name with a newline is escaped: the message stays one line.
nl='
'
timeout 20 "$FCNN" --backend=ref --data "$tmp/no${nl}where" --quiet > "$tmp/out" 2> "$tmp/err"
[ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "a name with a newline broke the message: $(cat "$tmp/err")"
grep -q "'.*no\\\\nwhere'" "$tmp/err" || fail "the newline is not escaped: $(cat "$tmp/err")"

finish "files fcnn writes and refuses"
