# OpenCL C kernel sources, embedded into fcnn at build time.
