/* Platforms and devices: which device a selector names, what a device is called, and the
 * list --list-devices prints. Devices are indexed "P:D": platform P, device D of it. */
/* nftw, to remove the private driver cache (see redirect_unusable_cache) */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/quote.h"
#include "ocl.h"

#define MAX_PLATFORMS 16
#define MAX_DEVICES 64

/* PoCL keeps compiled kernels under $XDG_CACHE_HOME/pocl and, when it cannot create that
 * directory, reports no device at all: an unusable cache directory would read as "no
 * OpenCL device found". Such a directory costs the caches, not the device: say so once and
 * give PoCL a private directory of its own for this process, removed at exit. */
static char private_cache[64];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void remove_private_cache(void)
{
    nftw(private_cache, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void redirect_unusable_cache(void)
{
    static bool done;
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (done || !xdg || !*xdg || getenv("POCL_CACHE_DIR"))
        return;
    done = true;
    struct stat st;
    bool usable = (mkdir(xdg, 0700) == 0 || errno == EEXIST) && stat(xdg, &st) == 0 &&
                  S_ISDIR(st.st_mode) && access(xdg, W_OK | X_OK) == 0;
    if (usable)
        return;
    int error = errno;
    const char *tmpdir = getenv("TMPDIR");
    snprintf(private_cache, sizeof private_cache, "%s/fcnn-pocl-XXXXXX",
             tmpdir && *tmpdir && strlen(tmpdir) < 40 ? tmpdir : "/tmp");
    bool redirected = mkdtemp(private_cache) != NULL;
    fprintf(stderr, "fcnn: warning: XDG_CACHE_HOME %s is unusable (%s): kernels are compiled "
            "without a cache%s\n", fcnn_quote(xdg), strerror(error),
            redirected ? "" : " (and no private directory could be made for the driver)");
    if (redirected) {
        setenv("POCL_CACHE_DIR", private_cache, 1);
        atexit(remove_private_cache);
    }
}

void ocl_prepare_environment(void)
{
    /* PoCL's CPU driver leaves its worker threads unpinned by default; on the 2-core VMs
     * we measured (issue 6), many runs then ran at single-core speed. POCL_AFFINITY=1
     * pins them. PoCL reads it once, when the ICD loader first initialises it, so this
     * must run before any OpenCL call; other platforms ignore it, and a value the user
     * set is kept. */
    setenv("POCL_AFFINITY", "1", 0);
    redirect_unusable_cache();
}

/* The driver loaded ahead of open (see fcnn_backend_preload): the ICD loader reads its
 * vendor list and loads each vendor's library, and PoCL loads LLVM and sets up its
 * devices, in the first two calls. Errors are left to the open, which repeats them. */
void ocl_load_driver(void)
{
    cl_platform_id platforms[MAX_PLATFORMS];
    cl_uint count = 0;
    if (clGetPlatformIDs(MAX_PLATFORMS, platforms, &count) != CL_SUCCESS)
        return;
    for (cl_uint p = 0; p < count && p < MAX_PLATFORMS; p++) {
        cl_uint devices = 0;
        clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &devices);
    }
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
    return fcnn_error(FCNN_ERR_DEVICE, "no OpenCL device matches %s; devices: %s",
                      fcnn_quote(selector), list);
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
