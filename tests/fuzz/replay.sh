#!/bin/sh
# Replays every stored input of one fuzz target (its seeds and every crasher found so far,
# in tests/fuzz/TARGET/) through the target built in this configuration: with replay.c's
# main in ordinary builds, with libFuzzer's in --enable-fuzzing builds. Called by the
# tests/fuzz-replay-*.sh tests with the target's name.
target=$1
srcdir=${srcdir:-.}
program=./tests/fuzz/fuzz-$target
inputs=$srcdir/tests/fuzz/$target
[ -x "$program" ] || { echo "cannot find $program: run from the build directory"; exit 99; }
[ -d "$inputs" ] || { echo "no inputs in $inputs"; exit 99; }
count=$(ls "$inputs" | wc -l)
"$program" "$inputs"/*
status=$?
[ "$status" -eq 0 ] && echo "fuzz target $target: $count stored inputs replayed, no finding"
exit "$status"
