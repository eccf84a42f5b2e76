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

# Sets $opencl to what the OpenCL backend offers here: "ready" (this build has it and the
# machine a device), "absent" (built without it, or no OpenCL platform or device at all:
# the only reasons to leave it out) or "broken" (the device listing failed otherwise,
# which prints the listing and counts as a failure). The listing is in $tmp/opencl-devices.
check_opencl() {
  opencl=absent
  : > "$tmp/opencl-devices"
  "$FCNN" --help | grep -q "this build: .*opencl" || return 0
  if "$FCNN" --list-devices > "$tmp/opencl-devices" 2>&1 &&
     grep -q "^[0-9]*:[0-9]* " "$tmp/opencl-devices"; then
    opencl=ready
  elif ! grep -q "no OpenCL \(platform\|device\) found" "$tmp/opencl-devices"; then
    opencl=broken
    cat "$tmp/opencl-devices"; fail "--list-devices failed on a machine with OpenCL"
  fi
}

# Skips the test when OpenCL is absent; a listing that fails on a machine with OpenCL fails
# it, since a skip would claim that nothing could run.
require_opencl() {
  check_opencl
  case $opencl in
    absent)
      cat "$tmp/opencl-devices"; echo "SKIP: built without OpenCL, or no OpenCL device here"
      exit 77 ;;
    broken) exit 1 ;;
  esac
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
