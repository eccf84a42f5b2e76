/* Test-only fault injection, switched on by environment variables that no user sets by
 * accident. The tests use them to make the failures real machines produce (a full disk,
 * a process killed in the middle of a write) happen on demand, where the code handles them:
 *
 *   FCNN_TEST_FAIL_WRITE=KIND[,KIND...]   writes of these kinds fail with ENOSPC, as on a
 *                                         full disk (checkpoint, history, plot)
 *   FCNN_TEST_SLOW_WRITE=KIND[,KIND...]   writes of these kinds pause for a second halfway,
 *                                         so that a test can kill the process mid-write
 *
 * Unset (always, outside tests) they cost one getenv per write. */
#ifndef FCNN_FAULT_H
#define FCNN_FAULT_H

#include <stdbool.h>

/* The errno a write of `kind` must fail with now (ENOSPC), or 0 to go ahead. */
int fcnn_fault_write(const char *kind);

/* Pauses in the middle of a write of `kind` when the tests ask for it. */
void fcnn_fault_slow_write(const char *kind);

/* Whether the comma-separated `list` names `kind` (shared with the backends' hooks). */
bool fcnn_fault_listed(const char *list, const char *kind);

#endif
