/* Names for OpenCL and CLBlast status codes, and the failure path of OCL_CHECK: messages
 * say "clEnqueueNDRangeKernel: CL_OUT_OF_RESOURCES", never "error -5". */
#include <config.h>

#include <stdio.h>

#include "ocl.h"

struct status_name {
    cl_int code;
    const char *name;
};

/* Codes are written as numbers so that names from OpenCL versions newer than the headers'
 * target still print; CLBlast's own codes (-1024 and below) follow the CL ones. */
#define NAME(code, name) { code, #name },
static const struct status_name names[] = {
    NAME(-1, CL_DEVICE_NOT_FOUND)
    NAME(-2, CL_DEVICE_NOT_AVAILABLE)
    NAME(-3, CL_COMPILER_NOT_AVAILABLE)
    NAME(-4, CL_MEM_OBJECT_ALLOCATION_FAILURE)
    NAME(-5, CL_OUT_OF_RESOURCES)
    NAME(-6, CL_OUT_OF_HOST_MEMORY)
    NAME(-7, CL_PROFILING_INFO_NOT_AVAILABLE)
    NAME(-8, CL_MEM_COPY_OVERLAP)
    NAME(-9, CL_IMAGE_FORMAT_MISMATCH)
    NAME(-10, CL_IMAGE_FORMAT_NOT_SUPPORTED)
    NAME(-11, CL_BUILD_PROGRAM_FAILURE)
    NAME(-12, CL_MAP_FAILURE)
    NAME(-13, CL_MISALIGNED_SUB_BUFFER_OFFSET)
    NAME(-14, CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    NAME(-15, CL_COMPILE_PROGRAM_FAILURE)
    NAME(-16, CL_LINKER_NOT_AVAILABLE)
    NAME(-17, CL_LINK_PROGRAM_FAILURE)
    NAME(-18, CL_DEVICE_PARTITION_FAILED)
    NAME(-19, CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
    NAME(-30, CL_INVALID_VALUE)
    NAME(-31, CL_INVALID_DEVICE_TYPE)
    NAME(-32, CL_INVALID_PLATFORM)
    NAME(-33, CL_INVALID_DEVICE)
    NAME(-34, CL_INVALID_CONTEXT)
    NAME(-35, CL_INVALID_QUEUE_PROPERTIES)
    NAME(-36, CL_INVALID_COMMAND_QUEUE)
    NAME(-37, CL_INVALID_HOST_PTR)
    NAME(-38, CL_INVALID_MEM_OBJECT)
    NAME(-39, CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
    NAME(-40, CL_INVALID_IMAGE_SIZE)
    NAME(-41, CL_INVALID_SAMPLER)
    NAME(-42, CL_INVALID_BINARY)
    NAME(-43, CL_INVALID_BUILD_OPTIONS)
    NAME(-44, CL_INVALID_PROGRAM)
    NAME(-45, CL_INVALID_PROGRAM_EXECUTABLE)
    NAME(-46, CL_INVALID_KERNEL_NAME)
    NAME(-47, CL_INVALID_KERNEL_DEFINITION)
    NAME(-48, CL_INVALID_KERNEL)
    NAME(-49, CL_INVALID_ARG_INDEX)
    NAME(-50, CL_INVALID_ARG_VALUE)
    NAME(-51, CL_INVALID_ARG_SIZE)
    NAME(-52, CL_INVALID_KERNEL_ARGS)
    NAME(-53, CL_INVALID_WORK_DIMENSION)
    NAME(-54, CL_INVALID_WORK_GROUP_SIZE)
    NAME(-55, CL_INVALID_WORK_ITEM_SIZE)
    NAME(-56, CL_INVALID_GLOBAL_OFFSET)
    NAME(-57, CL_INVALID_EVENT_WAIT_LIST)
    NAME(-58, CL_INVALID_EVENT)
    NAME(-59, CL_INVALID_OPERATION)
    NAME(-60, CL_INVALID_GL_OBJECT)
    NAME(-61, CL_INVALID_BUFFER_SIZE)
    NAME(-62, CL_INVALID_MIP_LEVEL)
    NAME(-63, CL_INVALID_GLOBAL_WORK_SIZE)
    NAME(-64, CL_INVALID_PROPERTY)
    NAME(-65, CL_INVALID_IMAGE_DESCRIPTOR)
    NAME(-66, CL_INVALID_COMPILER_OPTIONS)
    NAME(-67, CL_INVALID_LINKER_OPTIONS)
    NAME(-68, CL_INVALID_DEVICE_PARTITION_COUNT)
    NAME(-69, CL_INVALID_PIPE_SIZE)
    NAME(-70, CL_INVALID_DEVICE_QUEUE)
    NAME(-71, CL_INVALID_SPEC_ID)
    NAME(-72, CL_MAX_SIZE_RESTRICTION_EXCEEDED)
    NAME(-1001, CL_PLATFORM_NOT_FOUND_KHR)
    NAME(-1024, CLBlastNotImplemented)
    NAME(-1022, CLBlastInvalidMatrixA)
    NAME(-1021, CLBlastInvalidMatrixB)
    NAME(-1020, CLBlastInvalidMatrixC)
    NAME(-1019, CLBlastInvalidVectorX)
    NAME(-1018, CLBlastInvalidVectorY)
    NAME(-1017, CLBlastInvalidDimension)
    NAME(-1016, CLBlastInvalidLeadDimA)
    NAME(-1015, CLBlastInvalidLeadDimB)
    NAME(-1014, CLBlastInvalidLeadDimC)
    NAME(-1013, CLBlastInvalidIncrementX)
    NAME(-1012, CLBlastInvalidIncrementY)
    NAME(-1011, CLBlastInsufficientMemoryA)
    NAME(-1010, CLBlastInsufficientMemoryB)
    NAME(-1009, CLBlastInsufficientMemoryC)
    NAME(-1008, CLBlastInsufficientMemoryX)
    NAME(-1007, CLBlastInsufficientMemoryY)
    NAME(-2050, CLBlastInsufficientMemoryTemp)
    NAME(-2049, CLBlastInvalidBatchCount)
    NAME(-2048, CLBlastInvalidOverrideKernel)
    NAME(-2047, CLBlastMissingOverrideParameter)
    NAME(-2046, CLBlastInvalidLocalMemUsage)
    NAME(-2045, CLBlastNoHalfPrecision)
    NAME(-2044, CLBlastNoDoublePrecision)
    NAME(-2043, CLBlastInvalidVectorScalar)
    NAME(-2042, CLBlastInsufficientMemoryScalar)
    NAME(-2041, CLBlastDatabaseError)
    NAME(-2040, CLBlastUnknownError)
    NAME(-2039, CLBlastUnexpectedError)
};
#undef NAME

const char *ocl_error_name(cl_int status)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].code == status)
            return names[i].name;
    static _Thread_local char unknown[32];
    snprintf(unknown, sizeof unknown, "CL error %d", (int)status);
    return unknown;
}

int ocl_failure(const char *call, cl_int status)
{
    /* Running out of memory is the one failure a user can act on differently. */
    int fcnn_status = status == CL_OUT_OF_HOST_MEMORY || status == CL_MEM_OBJECT_ALLOCATION_FAILURE
                          ? FCNN_ERR_NOMEM
                          : FCNN_ERR_DEVICE;
    return fcnn_error(fcnn_status, "%s: %s", call, ocl_error_name(status));
}
