#!/bin/sh
# make check: the cli fuzz target on its seeds and past crashers (tests/fuzz/cli/).
exec "${srcdir:-.}/tests/fuzz/replay.sh" cli
