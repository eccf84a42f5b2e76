/* What this fcnn was built with. Each library's version comes from the library itself when
 * it can tell (zlibVersion, jansson_version_str, plgver, the OpenCL ICD loader's info
 * query), else from the headers it was compiled against, and the line says which. */
#include <config.h>

#include <string.h>
#include <zlib.h>

#include "backend/backend.h"
#include "cli/version.h"

#ifdef HAVE_OPENCL
#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#define CL_USE_DEPRECATED_OPENCL_1_1_APIS /* clGetExtensionFunctionAddress: any loader has it */
#include <CL/cl.h>
#include <clblast_c.h>
#endif
#ifdef HAVE_JANSSON
#include <jansson.h>
#endif
#ifdef HAVE_PLPLOT
#include <plplot.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef HAVE_OPENCL
/* ocl-icd answers clGetICDLoaderInfoOCLICD (vendor 4, version 2, supported OpenCL 1); other
 * loaders may not have it, and then only "OpenCL ICD loader" is printed. */
static void print_opencl_loader(FILE *out)
{
    typedef cl_int (*loader_info_fn)(cl_uint, size_t, void *, size_t *);
    loader_info_fn info = (loader_info_fn)clGetExtensionFunctionAddress("clGetICDLoaderInfoOCLICD");
    char name[128] = "", version[64] = "", api[64] = "";
    if (info && (info(4, sizeof name, name, NULL) != CL_SUCCESS ||
                 info(2, sizeof version, version, NULL) != CL_SUCCESS ||
                 info(1, sizeof api, api, NULL) != CL_SUCCESS))
        name[0] = '\0';
    if (name[0])
        fprintf(out, "  OpenCL ICD loader %s (%s, %s)\n", version, name, api);
    else
        fprintf(out, "  OpenCL ICD loader (its version unknown)\n");
}
#endif

/* _OPENMP is the date of the specification the compiler implements. */
#ifdef _OPENMP
static const char *openmp_name(long date)
{
    static const struct { long date; const char *name; } specs[] = {
        { 202111, "5.2" }, { 202011, "5.1" }, { 201811, "5.0" }, { 201511, "4.5" },
        { 201307, "4.0" }, { 201107, "3.1" }, { 200805, "3.0" },
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        if (date >= specs[i].date)
            return specs[i].name;
    return "before 3.0";
}
#endif

void fcnn_print_version(FILE *out)
{
    fprintf(out, "fcnn %s\n", PACKAGE_VERSION);
    fprintf(out, "Backends: %s\n", fcnn_backend_names());
    fprintf(out, "Libraries:\n");
    fprintf(out, "  zlib %s\n", zlibVersion());
#ifdef HAVE_OPENCL
    print_opencl_loader(out);
    fprintf(out, "  CLBlast %d.%d.%d (from its headers: the library does not report it)\n",
            CLBLAST_VERSION_MAJOR, CLBLAST_VERSION_MINOR, CLBLAST_VERSION_PATCH);
#else
    fprintf(out, "  OpenCL: not built (needs ocl-icd-opencl-dev, opencl-c-headers, "
            "libclblast-dev)\n");
#endif
#ifdef HAVE_JANSSON
#if JANSSON_VERSION_HEX >= 0x020d00
    fprintf(out, "  jansson %s (checkpoints)\n", jansson_version_str());
#else
    fprintf(out, "  jansson %s (checkpoints; from its headers)\n", JANSSON_VERSION);
#endif
#else
    fprintf(out, "  jansson: not found, checkpoints are off (needs libjansson-dev)\n");
#endif
#ifdef HAVE_PLPLOT
    char plplot[80] = "";
    plgver(plplot);
    fprintf(out, "  PLplot %s (plots)\n", plplot);
#else
    fprintf(out, "  PLplot: not found, plots are off (needs libplplot-dev)\n");
#endif
#ifdef _OPENMP
    fprintf(out, "  OpenMP %s (%ld; the reference backend, up to %d threads)\n",
            openmp_name((long)_OPENMP), (long)_OPENMP, omp_get_max_threads());
#else
    fprintf(out, "  OpenMP: not used (the reference backend runs on one thread)\n");
#endif
}
