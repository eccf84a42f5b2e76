#!/bin/sh
# make check: the model-json fuzz target on its seeds and past crashers (tests/fuzz/model-json/).
exec "${srcdir:-.}/tests/fuzz/replay.sh" model-json
