#!/bin/sh
# make check: the idx fuzz target on its seeds and past crashers (tests/fuzz/idx/).
exec "${srcdir:-.}/tests/fuzz/replay.sh" idx
