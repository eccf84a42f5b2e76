# The training loop, the benchmark, the check of a model against its data, and data
# parallelism over MPI (an "off" version of the latter without Open MPI, as for
# checkpoints and plots).
libfcnn_a_SOURCES += \
	%reldir%/train.c %reldir%/train.h \
	%reldir%/bench.c %reldir%/bench.h \
	%reldir%/host_peak.c %reldir%/host_peak.h \
	%reldir%/data_check.c %reldir%/data_check.h \
	%reldir%/dist.h %reldir%/dist_launch.c %reldir%/dist_launch.h
if HAVE_MPI
libfcnn_a_SOURCES += %reldir%/dist_mpi.c
else
libfcnn_a_SOURCES += %reldir%/dist_off.c
endif
