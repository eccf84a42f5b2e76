/* Shared by the fuzz targets: the loaders under test read files, so each input is written
 * to one scratch file first; and the contract every failure must keep. */
#ifndef FCNN_FUZZ_INPUT_H
#define FCNN_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

/* Writes the input to a scratch file (the same one every call, in a private directory
 * removed at exit) and returns its path. Aborts if it cannot: a target that silently
 * tested nothing would be worse than one that stops. */
const char *fuzz_input_file(const uint8_t *data, size_t size);

/* The library's promise on bad input: a failing status comes with one non-empty line in
 * fcnn_last_error(), free of control characters (a tab aside). Aborts (a finding) when
 * that is broken. */
void fuzz_check_error(int status);

#endif
