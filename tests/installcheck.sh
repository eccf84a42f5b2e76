#!/bin/sh
# make installcheck: the installed fcnn runs (--version, --help, a short training run and
# an ONNX export when the data is installed), its man page is where man looks and lists
# its options, and the bash completion is installed and completes fcnn's options.
# Arguments: the installed program, the man page, the completion directory ("" when
# configure was told not to install one), and DESTDIR.
set -u
bin=$1 page=$2 compdir=$3 destdir=${4-}
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/cache"

[ -x "$bin" ] || { echo "FAIL: $bin is not installed"; exit 1; }
"$bin" --version > "$tmp/version" || fail "$bin --version"
head -n 1 "$tmp/version" | grep -q '^fcnn [0-9]' || fail "--version: $(head -n 1 "$tmp/version")"
grep -q '^Backends: ref' "$tmp/version" || fail "--version names no backends"
grep -q '^  zlib [0-9]' "$tmp/version" || fail "--version names no zlib version"
"$bin" --help > "$tmp/help" || fail "$bin --help"

[ -f "$page" ] || fail "no man page at $page"
if [ -f "$page" ]; then
  sed 's/\\-/-/g; s/\\f[BIRP]//g' "$page" > "$tmp/page"
  for option in $(sed -n 's/^  \(--[a-z][a-z-]*\).*/\1/p' "$tmp/help"); do
    grep -q -e "$option" "$tmp/page" || fail "the installed man page lacks $option"
  done
  if command -v man > /dev/null 2>&1; then
    MANPATH=$(dirname "$(dirname "$page")") man -P cat fcnn 2>/dev/null | grep -q -- '--export-onnx' \
      || echo "note: man could not render the page from $(dirname "$(dirname "$page")")"
  fi
fi

if [ -n "$compdir" ]; then
  script=$destdir$compdir/fcnn
  [ -f "$script" ] || fail "no bash completion at $script"
  if [ -f "$script" ] && command -v bash > /dev/null 2>&1; then
    got=$(PATH="$(dirname "$bin"):$PATH" bash -c '. "$1"; complete -p fcnn;
          COMP_WORDS=(fcnn --expo); COMP_CWORD=1; _fcnn; printf "%s " "${COMPREPLY[@]}"' \
          complete "$script")
    case $got in
      *"complete -F _fcnn fcnn"*"--export-onnx= --export-weights= "*) ;;
      *) fail "the installed completion does not complete fcnn --expo: $got" ;;
    esac
  fi
fi

# A short run of the installed program on the reference backend, and an export.
data=${FCNN_DATA:-/usr/share/datasets/fashion-mnist}
if [ -e "$data/train-images-idx3-ubyte.gz" ] || [ -e "$data/train-images-idx3-ubyte" ]; then
  if "$bin" --backend=ref --data "$data" --train-limit 64 --test-limit 64 --epochs 1 --quiet \
       --out "$tmp/out" --export-onnx "$tmp/m.onnx" > "$tmp/run.out" 2>&1; then
    grep -q '^Test accuracy' "$tmp/run.out" || fail "the installed fcnn printed no results"
    [ -s "$tmp/m.onnx" ] || fail "the installed fcnn wrote no ONNX file"
  else
    fail "the installed fcnn failed: $(tail -n 1 "$tmp/run.out")"
  fi
else
  echo "note: no Fashion-MNIST in $data: the training run is left out"
fi

[ "$failures" -eq 0 ] && echo "installcheck: the installed fcnn, man page and completion work"
[ "$failures" -eq 0 ]
