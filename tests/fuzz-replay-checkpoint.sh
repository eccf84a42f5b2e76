#!/bin/sh
# make check: the checkpoint fuzz target on its seeds and past crashers (tests/fuzz/checkpoint/).
exec "${srcdir:-.}/tests/fuzz/replay.sh" checkpoint
