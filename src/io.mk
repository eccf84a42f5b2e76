# Checkpoints (safetensors) and plots (PLplot): sources of libfcnn.
