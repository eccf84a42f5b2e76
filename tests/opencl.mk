# Tests of the OpenCL backend (only when it is built).
