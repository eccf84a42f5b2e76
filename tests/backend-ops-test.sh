#!/bin/sh
# make check: every backend other than ref, every kernel variant, on the whole case table,
# against the reference backend. SKIP (77) when this build or machine has no other backend.
exec ./tests/backend-ops test
