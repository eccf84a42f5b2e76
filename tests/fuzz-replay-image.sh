#!/bin/sh
# make check: the image fuzz target on its seeds and past crashers (tests/fuzz/image/).
exec "${srcdir:-.}/tests/fuzz/replay.sh" image
