#!/bin/sh
# The command line: --help and --version, and every bad option or value answered with one
# line plus a usage hint on stderr and exit status 2; runtime failures exit 1.
set -u
. "${srcdir:-.}/tests/lib.sh" || exit 99

"$FCNN" --help > "$tmp/help" 2>&1 || fail "--help exited $?"
for opt in --backend --device --list-devices --kernel --data --train-limit --test-limit \
           --epochs --batch-size --eval-batch-size --lr --optimizer --seed --early-stopping \
           --out --save --load --eval --resume --quiet --verbose --help --version --model \
           --lr-schedule --weight-decay; do
  grep -q -- "$opt" "$tmp/help" || fail "--help does not mention $opt"
done
grep -q "default: 30" "$tmp/help" || fail "--help does not give the epochs default"
grep -q "default: 0.005" "$tmp/help" || fail "--help does not give the learning-rate default"
"$FCNN" --version | grep -q "^fcnn [0-9]" || fail "--version"

# usage_error ARGS... : exit 2, exactly two lines on stderr ("fcnn: ..." and the hint),
# nothing on stdout.
usage_error() {
  "$FCNN" "$@" > "$tmp/out" 2> "$tmp/err"
  status=$?
  [ "$status" -eq 2 ] || fail "$* exited $status, expected 2"
  [ "$(wc -l < "$tmp/err")" -eq 2 ] || fail "$*: stderr is not one message line and a hint: $(cat "$tmp/err")"
  head -n 1 "$tmp/err" | grep -q "^fcnn: " || fail "$*: message does not start with 'fcnn: '"
  grep -q "Try 'fcnn --help'" "$tmp/err" || fail "$*: no usage hint"
  [ ! -s "$tmp/out" ] || fail "$*: wrote to stdout"
}
usage_error --epochs 0
usage_error --epochs -3
usage_error --epochs 2x
usage_error --batch-size 0
usage_error --lr abc
usage_error --lr -0.1
usage_error --lr nan
usage_error --optimizer adagrad
usage_error --lr-schedule linear
usage_error --lr-schedule step:0:0.5
usage_error --lr-schedule step:5:2
usage_error --weight-decay 0.01
usage_error --optimizer adamw --weight-decay 1.5
usage_error --optimizer adamw --weight-decay x
usage_error --seed -1
usage_error --bogus-option
usage_error --epochs
usage_error stray-argument
usage_error --kernel conv2d_fwd
usage_error --eval
usage_error --backend=no-such-backend
grep -q "this build has: ref" "$tmp/err" || fail "unknown backend error does not list the backends"

# A backend this build lacks names the ones it has.
if ! "$FCNN" --help | grep -q "this build: ref, opencl"; then
  usage_error --backend=opencl
  grep -q "unknown backend 'opencl' (this build has: ref)" "$tmp/err" || fail "--backend=opencl: $(cat "$tmp/err")"
fi

# A missing data directory is a runtime failure: exit 1, one line naming the package.
"$FCNN" --backend=ref --data "$tmp/nowhere" --quiet > "$tmp/out" 2> "$tmp/err"
status=$?
[ "$status" -eq 1 ] || fail "missing data exited $status, expected 1"
[ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "missing data: not one line: $(cat "$tmp/err")"
grep -q "dataset-fashion-mnist" "$tmp/err" || fail "missing data: no package named: $(cat "$tmp/err")"

finish "command line"
