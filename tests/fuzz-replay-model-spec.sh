#!/bin/sh
# make check: the model-spec fuzz target on its seeds and past crashers (tests/fuzz/model-spec/).
exec "${srcdir:-.}/tests/fuzz/replay.sh" model-spec
