# The OpenCL backend (built when configure finds OpenCL and CLBlast).
if HAVE_OPENCL
endif
