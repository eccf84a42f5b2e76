# make check: unit tests, the cross-backend harness, end-to-end runs.
