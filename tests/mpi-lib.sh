# Shared by the MPI tests (sourced after tests/lib.sh): the launcher, the skip when this
# build or machine has no MPI, and the comparison of a run on two processes with a run on
# one.

# Skips (77) when mpirun is missing, or when this fcnn was built without MPI; in that
# case it first checks that such a build refuses to start as one of N copies.
require_mpi() {
  MPIRUN_BIN=$(command -v mpirun) || { echo "SKIP: no mpirun (install openmpi-bin)"; exit 77; }
  # Two processes on this machine whatever its core count, also as root (in CI). In an
  # --enable-sanitizers build, LeakSanitizer is off for the processes under mpirun (the
  # address and undefined-behaviour checks stay on): Open MPI keeps allocations until
  # exit and unloads the components it opened at MPI_Finalize, so the blocks it reports
  # belong to libraries it can no longer name. The one-process runs keep it on.
  MPIRUN="env ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 $MPIRUN_BIN -np 2 --oversubscribe --allow-run-as-root"
  if "$FCNN" --help | grep -q "this build has no MPI"; then
    $MPIRUN "$FCNN" --backend=ref --data "$DATA" --train-limit 64 --test-limit 10 --epochs 1 \
      --out "$tmp/nompi" > "$tmp/nompi.out" 2>&1
    status=$?
    [ "$status" -ne 0 ] || fail "a build without MPI trained under mpirun"
    grep -q "built without MPI and would train 2 independent copies" "$tmp/nompi.out" \
      || fail "a build without MPI did not say why it stops: $(cat "$tmp/nompi.out")"
    [ -e "$tmp/nompi/model.safetensors" ] && fail "a build without MPI wrote a checkpoint under mpirun"
    [ "$failures" -eq 0 ] || exit 1
    echo "SKIP: this fcnn was built without MPI (its refusal under mpirun was checked)"; exit 77
  fi
}

# run NAME NP ARGS...: fcnn alone (NP=1) or under mpirun (NP=2); stdout and stderr to
# $tmp/NAME.out and .err, outputs in $tmp/NAME/.
run() {
  name=$1 np=$2; shift 2
  if [ "$np" -eq 1 ]; then set -- "$FCNN" "$@"; else set -- $MPIRUN "$FCNN" "$@"; fi
  "$@" --out "$tmp/$name" > "$tmp/$name.out" 2> "$tmp/$name.err" \
    || { fail "run $name exited $?: $(tail -n 3 "$tmp/$name.err")"; return 1; }
}

# near A B REL: |A - B| <= REL * |A|
near() {
  awk -v a="$1" -v b="$2" -v r="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; m = a < 0 ? -a : a
                                             exit !(a != "" && b != "" && d <= r * m) }'
}

# The safetensors data section (after the 8-byte header length and the header).
data_of() {
  n=$(od -An -tu8 -N8 "$1" | tr -d ' ')
  tail -c +$((9 + n)) "$1"
}

test_accuracy() { sed -n 's/^Test accuracy: \([0-9.]*\).*/\1/p' "$1"; }

# compare ONE TWO: run TWO (two processes) against run ONE (one process).
#  - every epoch's training loss (the mean over its steps; epoch 1: the first steps from
#    the same initial weights) within 0.05% and val_loss within 0.5%: the updates are the
#    same up to float rounding (sums in another order, other kernel shapes);
#  - the final test accuracy within 0.3 points;
#  - rank 0 alone printed (one summary, one line per epoch, one report) and wrote: the
#    same files as the one-process run, and nothing else;
#  - the checkpoint is an ordinary one: --load --eval in one process prints the report
#    the two-process run printed.
compare() {
  one=$1 two=$2; shift 2
  [ "$(wc -l < "$tmp/$two/history.csv")" -eq "$(wc -l < "$tmp/$one/history.csv")" ] \
    || fail "$two: history.csv has $(wc -l < "$tmp/$two/history.csv") lines"
  epochs=$(($(wc -l < "$tmp/$one/history.csv") - 1))
  e=1
  while [ "$e" -le "$epochs" ]; do
    row1=$(sed -n "$((e + 1))p" "$tmp/$one/history.csv")
    row2=$(sed -n "$((e + 1))p" "$tmp/$two/history.csv")
    loss1=$(echo "$row1" | cut -d, -f2) loss2=$(echo "$row2" | cut -d, -f2)
    val1=$(echo "$row1" | cut -d, -f4) val2=$(echo "$row2" | cut -d, -f4)
    echo "epoch $e: loss $loss1 / $loss2, val_loss $val1 / $val2 (1 / 2 processes)"
    near "$loss1" "$loss2" 0.0005 || fail "$two: epoch $e loss $loss2, alone $loss1"
    near "$val1" "$val2" 0.005 || fail "$two: epoch $e val_loss $val2, alone $val1"
    e=$((e + 1))
  done
  acc1=$(test_accuracy "$tmp/$one.out") acc2=$(test_accuracy "$tmp/$two.out")
  echo "test accuracy: $acc1 / $acc2"
  awk -v a="${acc1:-0}" -v b="${acc2:-9}" 'BEGIN { d = a - b; exit !(d <= 0.003 && d >= -0.003) }' \
    || fail "$two: test accuracy $acc2, alone $acc1 (more than 0.3 points apart)"
  [ "$(grep -c '^Model: ' "$tmp/$two.out")" -eq 1 ] || fail "$two: not one model summary"
  [ "$(grep -c '^Epoch 1/' "$tmp/$two.out")" -eq 1 ] || fail "$two: not one 'Epoch 1' line"
  [ "$(grep -c '^Test accuracy' "$tmp/$two.out")" -eq 1 ] || fail "$two: not one report"
  if LC_ALL=C grep -q "$(printf '[\r\033]')" "$tmp/$two.out"; then
    fail "$two: control characters in the output of a job"
  fi
  (cd "$tmp/$one" && ls -A) > "$tmp/$one.files"
  (cd "$tmp/$two" && ls -A) > "$tmp/$two.files"
  cmp -s "$tmp/$one.files" "$tmp/$two.files" \
    || fail "$two wrote other files than the one-process run: $(cat "$tmp/$two.files" | tr '\n' ' ')"
  "$FCNN" "$@" --load "$tmp/$two/model.safetensors" --eval --out "$tmp/$two-eval" \
    > "$tmp/$two-eval.out" 2>&1 || fail "$two: --eval of its checkpoint: $(tail -n 1 "$tmp/$two-eval.out")"
  sed -n '/^Test accuracy/,/weighted avg/p' "$tmp/$two.out" > "$tmp/$two.report"
  sed -n '/^Test accuracy/,/weighted avg/p' "$tmp/$two-eval.out" > "$tmp/$two-eval.report"
  [ -s "$tmp/$two.report" ] || fail "$two: no report"
  cmp -s "$tmp/$two.report" "$tmp/$two-eval.report" \
    || fail "$two: its checkpoint evaluated alone gives another report"
}
