# The cross-backend harness (tests/backend-ops) and the reference-op unit tests.
