/* A small ONNX interpreter for the tests: it runs a decoded graph (onnx-decode.h) on the
 * host, in double precision, with the operators' definitions from the ONNX specification
 * (opset 13) written out plainly, so the tests can check that an exported graph computes
 * what fcnn computes. Only the operators and attributes the exporter may write. */
#ifndef FCNN_TESTS_ONNX_RUN_H
#define FCNN_TESTS_ONNX_RUN_H

#include "onnx-decode.h"

/* Runs `m` on `input` ([n, dims...] float32, row-major) and writes the graph output to
 * `output` (room for `output_size` floats). Returns 0, or -1 with a line on stderr (an
 * unknown operator or attribute, shapes that do not fit). */
int t_onnx_run(const struct t_model *m, const float *input, int n, const int *dims, int ndim,
               float *output, size_t output_size);

#endif
