# Shared by the shell tests (sourced, not run): where the program and the data are, a
# scratch directory removed on exit, and failure counting, so that each script is only
# its checks. Exit statuses follow automake: 77 skips, 99 is a hard error.

FCNN=${FCNN:-./fcnn}
DATA=${FCNN_DATA:-/usr/share/datasets/fashion-mnist}
srcdir=${srcdir:-.}

# Skips the test when the real Fashion-MNIST is not installed.
require_data() {
  if [ ! -e "$DATA/train-images-idx3-ubyte.gz" ] && [ ! -e "$DATA/train-images-idx3-ubyte" ]; then
    echo "SKIP: no Fashion-MNIST in $DATA (install dataset-fashion-mnist)"; exit 77
  fi
}

tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# finish WHAT: the last line of a script; exit status 0 only when no check failed.
finish() {
  [ "$failures" -eq 0 ] && echo "$1: all checks passed"
  [ "$failures" -eq 0 ]
}
