# The training loop, the benchmark, and data parallelism over MPI (an "off" version of
# the latter without Open MPI, as for checkpoints and plots).
libfcnn_a_SOURCES += \
	%reldir%/train.c %reldir%/train.h \
	%reldir%/bench.c %reldir%/bench.h \
	%reldir%/dist.h %reldir%/dist_launch.c %reldir%/dist_launch.h
if HAVE_MPI
libfcnn_a_SOURCES += %reldir%/dist_mpi.c
else
libfcnn_a_SOURCES += %reldir%/dist_off.c
endif
