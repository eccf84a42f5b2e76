#!/bin/sh
# make check: every backward op of every backend, ref included, against central finite
# differences of the same backend's forward; optimizer updates against their definitions.
exec ./tests/backend-ops grad
