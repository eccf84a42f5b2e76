/* ONNX export: a trained fcnn model as a standard ONNX model (IR 7, opset 13) that ONNX
 * Runtime, OpenVINO or TensorRT can run.
 *
 * The graph's input is `input`, float32 [N, H, W, C] (NHWC as fcnn, N dynamic), holding
 * raw pixel values 0..255: the graph begins with a Mul by the float nearest 1/255, the
 * same scaling fcnn applies to its uint8 images. Its output is `output`, float32
 * [N, classes]: logits, or probabilities when the model's last activation is softmax
 * (metadata_props "output" says which). Conv kernels are stored OIHW (fcnn's HWIO
 * transposed), Dense kernels [in, units] as trained; names follow Keras's tensor names. */
#ifndef FCNN_ONNX_H
#define FCNN_ONNX_H

#include "nn/model.h"

/* The scaling the graph applies to its input first: x * (1.0f / 255.0f). */
#define FCNN_ONNX_INPUT_SCALE (1.0f / 255.0f)

/* Writes `model` with the parameters in `params` and the non-trainable state in `state`
 * (the model's two arena layouts; `state` may be NULL when the model has none) to `path`,
 * atomically (temporary file, fsync, rename). A layer without an ONNX mapping is refused
 * with one line naming it (FCNN_ERR_UNSUPPORTED); nothing is written then. */
int fcnn_onnx_export(const char *path, const struct fcnn_model *model, const float *params,
                     const float *state);

#endif
