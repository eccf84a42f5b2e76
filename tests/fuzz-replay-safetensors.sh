#!/bin/sh
# make check: the safetensors fuzz target on its seeds and past crashers (tests/fuzz/safetensors/).
exec "${srcdir:-.}/tests/fuzz/replay.sh" safetensors
