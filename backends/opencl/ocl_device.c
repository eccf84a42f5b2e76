/* Platforms and devices: which device a selector names, what a device is called, and the
 * list --list-devices prints. Devices are indexed "P:D": platform P, device D of it. */
#include <config.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocl.h"

#define MAX_PLATFORMS 16
#define MAX_DEVICES 64

void ocl_prepare_environment(void)
{
    /* PoCL's CPU driver leaves its worker threads unpinned by default; on the 2-core VMs
     * we measured (issue 6), many runs then ran at single-core speed. POCL_AFFINITY=1
     * pins them. PoCL reads it once, when the ICD loader first initialises it, so this
     * must run before any OpenCL call; other platforms ignore it, and a value the user
     * set is kept. */
    setenv("POCL_AFFINITY", "1", 0);
}

/* Every device of every platform, in index order. */
struct device_table {
    int count;
    cl_platform_id platform[MAX_DEVICES];
    cl_device_id device[MAX_DEVICES];
    int platform_index[MAX_DEVICES], device_index[MAX_DEVICES];
};

static int no_platform_error(void)
{
    return fcnn_error(FCNN_ERR_NO_DEVICE,
                      "no OpenCL platform found: the OpenCL ICD loader has no vendor driver "
                      "installed (install one, e.g. pocl-opencl-icd for the CPU, or your GPU "
                      "vendor's OpenCL driver)");
}

static int enumerate(struct device_table *table)
{
    cl_platform_id platforms[MAX_PLATFORMS];
    cl_uint platform_count = 0;
    cl_int status = clGetPlatformIDs(MAX_PLATFORMS, platforms, &platform_count);
    /* The ICD loader answers CL_PLATFORM_NOT_FOUND_KHR when it has no vendor at all. */
    if (status == CL_PLATFORM_NOT_FOUND_KHR || (status == CL_SUCCESS && platform_count == 0))
        return no_platform_error();
    OCL_CHECK(clGetPlatformIDs, status);
    if (platform_count > MAX_PLATFORMS)
        platform_count = MAX_PLATFORMS;

    table->count = 0;
    for (cl_uint p = 0; p < platform_count; p++) {
        cl_device_id devices[MAX_DEVICES];
        cl_uint device_count = 0;
        status = clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, MAX_DEVICES, devices,
                                &device_count);
        if (status == CL_DEVICE_NOT_FOUND)
            continue; /* a platform with no device is not an error */
        OCL_CHECK(clGetDeviceIDs, status);
        for (cl_uint d = 0; d < device_count && d < MAX_DEVICES; d++) {
            if (table->count == MAX_DEVICES)
                return FCNN_OK;
            int i = table->count++;
            table->platform[i] = platforms[p];
            table->device[i] = devices[d];
            table->platform_index[i] = (int)p;
            table->device_index[i] = (int)d;
        }
    }
    if (table->count == 0)
        return fcnn_error(FCNN_ERR_NO_DEVICE,
                          "no OpenCL device found: %u platform(s) but no devices (install a "
                          "driver with a device, e.g. pocl-opencl-icd for the CPU)",
                          platform_count);
    return FCNN_OK;
}

static int device_string(cl_device_id device, cl_device_info what, char *out, size_t size)
{
    OCL_CHECK(clGetDeviceInfo, clGetDeviceInfo(device, what, size, out, NULL));
    out[size - 1] = '\0';
    return FCNN_OK;
}

static int platform_string(cl_platform_id platform, cl_platform_info what, char *out,
                           size_t size)
{
    OCL_CHECK(clGetPlatformInfo, clGetPlatformInfo(platform, what, size, out, NULL));
    out[size - 1] = '\0';
    return FCNN_OK;
}

int ocl_device_identify(cl_platform_id platform, cl_device_id device,
                        struct ocl_device_identity *id)
{
    memset(id, 0, sizeof *id);
    OCL_TRY(device_string(device, CL_DEVICE_NAME, id->name, sizeof id->name));
    OCL_TRY(device_string(device, CL_DEVICE_VENDOR, id->vendor, sizeof id->vendor));
    OCL_TRY(device_string(device, CL_DRIVER_VERSION, id->driver_version,
                          sizeof id->driver_version));
    OCL_TRY(device_string(device, CL_DEVICE_OPENCL_C_VERSION, id->opencl_c_version,
                          sizeof id->opencl_c_version));
    OCL_TRY(platform_string(platform, CL_PLATFORM_NAME, id->platform_name,
                            sizeof id->platform_name));
    OCL_TRY(platform_string(platform, CL_PLATFORM_VERSION, id->platform_version,
                            sizeof id->platform_version));
    OCL_CHECK(clGetDeviceInfo,
              clGetDeviceInfo(device, CL_DEVICE_TYPE, sizeof id->type, &id->type, NULL));
    OCL_CHECK(clGetDeviceInfo, clGetDeviceInfo(device, CL_DEVICE_MAX_COMPUTE_UNITS,
                                               sizeof id->compute_units, &id->compute_units,
                                               NULL));
    OCL_CHECK(clGetDeviceInfo, clGetDeviceInfo(device, CL_DEVICE_GLOBAL_MEM_SIZE,
                                               sizeof id->global_memory, &id->global_memory,
                                               NULL));
    OCL_CHECK(clGetDeviceInfo, clGetDeviceInfo(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE,
                                               sizeof id->max_alloc, &id->max_alloc, NULL));
    return FCNN_OK;
}

const char *ocl_device_type_name(cl_device_type type)
{
    if (type & CL_DEVICE_TYPE_GPU)
        return "GPU";
    if (type & CL_DEVICE_TYPE_CPU)
        return "CPU";
    if (type & CL_DEVICE_TYPE_ACCELERATOR)
        return "accelerator";
    return "other";
}

static bool contains_ignoring_case(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *h = haystack; *h; h++) {
        size_t i = 0;
        while (i < n && h[i] && tolower((unsigned char)h[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return n == 0;
}

/* "P:D" with two decimal numbers and nothing else. */
static bool parse_index(const char *s, int *p, int *d)
{
    char tail;
    return sscanf(s, "%d:%d%c", p, d, &tail) == 2 && isdigit((unsigned char)s[0]);
}

/* The first GPU, else the first CPU, else the first device; with several processes on one
 * machine, the slot-th of that kind, so each process has a device of its own while there
 * are enough. A device whose type cannot be read is simply not preferred: the choice still
 * succeeds. */
static int default_choice(const struct device_table *table, int slot)
{
    static const cl_device_type preference[] = { CL_DEVICE_TYPE_GPU, CL_DEVICE_TYPE_CPU };
    for (size_t k = 0; k < sizeof preference / sizeof preference[0]; k++) {
        int of_kind[MAX_DEVICES], count = 0;
        for (int i = 0; i < table->count; i++) {
            cl_device_type type = 0;
            if (clGetDeviceInfo(table->device[i], CL_DEVICE_TYPE, sizeof type, &type, NULL) ==
                    CL_SUCCESS &&
                (type & preference[k]))
                of_kind[count++] = i;
        }
        if (count)
            return of_kind[(slot > 0 ? slot : 0) % count];
    }
    return 0;
}

static int matching(const struct device_table *table, const char *selector)
{
    int p, d;
    if (parse_index(selector, &p, &d)) {
        for (int i = 0; i < table->count; i++)
            if (table->platform_index[i] == p && table->device_index[i] == d)
                return i;
        return -1;
    }
    for (int i = 0; i < table->count; i++) {
        /* A name that cannot be read matches nothing; that is not worth failing for. */
        char name[256] = "", platform[256] = "";
        device_string(table->device[i], CL_DEVICE_NAME, name, sizeof name);
        platform_string(table->platform[i], CL_PLATFORM_NAME, platform, sizeof platform);
        if (contains_ignoring_case(name, selector) || contains_ignoring_case(platform, selector))
            return i;
    }
    return -1;
}

static int nothing_matches(const struct device_table *table, const char *selector)
{
    char list[2048] = "";
    size_t used = 0;
    for (int i = 0; i < table->count && used < sizeof list; i++) {
        struct ocl_device_identity id;
        if (ocl_device_identify(table->platform[i], table->device[i], &id) != FCNN_OK)
            continue;
        int n = snprintf(list + used, sizeof list - used, "%s%d:%d %s (%s, %s)",
                         used ? "; " : "", table->platform_index[i], table->device_index[i],
                         id.name, id.platform_name, ocl_device_type_name(id.type));
        used += n > 0 ? (size_t)n : 0;
    }
    return fcnn_error(FCNN_ERR_DEVICE, "no OpenCL device matches '%s'; devices: %s", selector,
                      list);
}

int ocl_device_select(const char *selector, int slot, cl_platform_id *platform,
                      cl_device_id *device, char *index, size_t index_size)
{
    struct device_table table;
    OCL_TRY(enumerate(&table));
    int i = selector && *selector ? matching(&table, selector) : default_choice(&table, slot);
    if (i < 0)
        return nothing_matches(&table, selector);
    *platform = table.platform[i];
    *device = table.device[i];
    snprintf(index, index_size, "%d:%d", table.platform_index[i], table.device_index[i]);
    return FCNN_OK;
}

int ocl_list_devices(FILE *out)
{
    ocl_prepare_environment();
    struct device_table table;
    OCL_TRY(enumerate(&table));
    int chosen = default_choice(&table, 0);
    for (int i = 0; i < table.count; i++) {
        struct ocl_device_identity id;
        OCL_TRY(ocl_device_identify(table.platform[i], table.device[i], &id));
        fprintf(out, "%d:%d  %s%s\n", table.platform_index[i], table.device_index[i], id.name,
                i == chosen ? "  (default)" : "");
        fprintf(out,
                "     platform %s; vendor %s; %s; %u compute units; %.1f GiB global memory; "
                "%s; driver %s\n",
                id.platform_name, id.vendor, ocl_device_type_name(id.type), id.compute_units,
                (double)id.global_memory / (1024.0 * 1024.0 * 1024.0), id.opencl_c_version,
                id.driver_version);
    }
    return FCNN_OK;
}
