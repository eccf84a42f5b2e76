#!/bin/sh
# What make install adds beside the program, kept in step with --help:
#  - the man page (generated from --help by help2man) lists every option --help lists;
#  - the bash completion offers every option --help lists (value options with '='), the
#    backends of the build for --backend, the devices --list-devices shows for --device,
#    OP=VARIANT pairs for --kernel when a backend has variants, the optimizers for
#    --optimizer, and checkpoint files for --load.
set -u
. "${srcdir:-.}/tests/lib.sh" || exit 99
command -v bash > /dev/null 2>&1 || { echo "SKIP: no bash"; exit 77; }
builddir=$(dirname "$FCNN")
page=$builddir/fcnn.1
[ -f "$page" ] || page=$srcdir/fcnn.1
[ -f "$page" ] || { echo "FAIL: no fcnn.1 in $builddir or $srcdir"; exit 1; }

"$FCNN" --help > "$tmp/help" || fail "--help"
sed -n 's/^  \(--[a-z][a-z-]*\).*/\1/p' "$tmp/help" | sort -u > "$tmp/options"
[ "$(wc -l < "$tmp/options")" -ge 25 ] || fail "found only $(wc -l < "$tmp/options") options in --help"

# The page as troff source: help2man writes options as \fB\-\-name\fR.
sed 's/\\-/-/g; s/\\f[BIRP]//g' "$page" > "$tmp/page"
while read -r option; do
  grep -q -e "$option\\b" "$tmp/page" || fail "the man page lacks $option"
done < "$tmp/options"
grep -q '^\.TH FCNN "1"' "$page" || fail "fcnn.1 has no .TH FCNN 1 header"

# Completion: run the function as bash would, COMP_WORDS split at '=' as by default.
script=$(cd "$srcdir" && pwd)/completion/fcnn
complete_words() {
  bash -c '
    . "$1"; shift
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
    _fcnn
    printf "%s\n" "${COMPREPLY[@]}"' complete "$script" "$@"
}
complete_words "$FCNN" "" | sed 's/=$//' | sort -u > "$tmp/offered"
missing=$(comm -23 "$tmp/options" "$tmp/offered")
[ -z "$missing" ] || fail "the completion does not offer: $missing"
complete_words "$FCNN" --epo | grep -qx -- '--epochs=' || fail "--epo does not complete to --epochs="
complete_words "$FCNN" --li | sort | tr '\n' ' ' | grep -q -- '--list-devices --list-kernels' \
  || fail "--li: $(complete_words "$FCNN" --li | tr '\n' ' ')"

backends=$("$FCNN" --version | sed -n 's/^Backends: //p' | tr -d ',')
[ -n "$backends" ] || fail "--version names no backends"
offered=$(complete_words "$FCNN" --backend = "" | tr '\n' ' ')
for b in $backends; do
  case " $offered" in *" $b "*) ;; *) fail "--backend= does not offer $b (offers: $offered)" ;; esac
done
[ "$(complete_words "$FCNN" --backend r | tr '\n' ' ')" = "ref " ] || fail "--backend r"
complete_words "$FCNN" --optimizer "" | grep -qx adam || fail "--optimizer does not offer adam"

devices=$("$FCNN" --list-devices 2>/dev/null | sed -n 's/^\([0-9][0-9]*:[0-9][0-9]*\) .*/\1/p')
for d in $devices; do
  complete_words "$FCNN" --device = "" | grep -qx "$d" || fail "--device= does not offer $d"
done
pair=$("$FCNN" --list-kernels 2>/dev/null | awk 'NR == 1 { print $2 "=" $3 }')
if [ -n "$pair" ]; then
  complete_words "$FCNN" --kernel = "" | grep -qx "$pair" || fail "--kernel= does not offer $pair"
fi

mkdir "$tmp/files" && : > "$tmp/files/model.safetensors" && : > "$tmp/files/notes.txt"
offered=$(cd "$tmp/files" && complete_words "$FCNN" --load "" | tr '\n' ' ')
[ "$offered" = "model.safetensors " ] || fail "--load offers '$offered'"

finish man-completion
