/* The OpenCL backend's behaviour around the ops: device selection and its errors, the
 * kernel registry (listing, forcing, supports), kernel sources from $FCNN_KERNEL_DIR
 * (a replacement is used; one that does not compile fails the open with its build log),
 * and the on-disk program cache (stored, reused, damaged entries rebuilt, an unusable
 * directory or FCNN_NO_CACHE=1 turning it off; on PoCL, binaries stored at close, even
 * while another backend in the process is running the same kernels). */
#include <config.h>

#define _GNU_SOURCE 1
#include <ctype.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/backend-impl.h"
#include "data/dataset.h"
#include "ocl.h"
#include "opencl_test.h"

static bool contains(const char *haystack, const char *needle)
{
    return strstr(haystack, needle) != NULL;
}

/* Opening must fail with `status`; returns the message. */
static const char *open_fails(const struct fcnn_backend_options *options, int status,
                              const char *what)
{
    struct fcnn_backend *be = NULL;
    int got = fcnn_backend_open("opencl", options, &be);
    if (!test_check(got == status, "%s: open gave %s, expected %s (%s)", what,
                    fcnn_status_name(got), fcnn_status_name(status), fcnn_last_error()))
        fcnn_backend_close(be);
    return fcnn_last_error();
}

/* --- no platform: run in a child before this process initialises OpenCL --- */

/* preload: the driver is first loaded on fcnn_backend_preload's thread, as fcnn's runs
 * do; the open must still give the one line. */
static void test_no_platform(bool preload)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        /* Both common ICD loaders read their vendor list from here when it is set. */
        setenv("OCL_ICD_VENDORS", "/nonexistent-fcnn-test-vendors", 1);
        if (preload)
            fcnn_backend_preload("opencl");
        struct fcnn_backend *be = NULL;
        int status = fcnn_backend_open("opencl", NULL, &be);
        if (status == FCNN_OK)
            _exit(3);
        const char *message = fcnn_last_error();
        bool ok = status == FCNN_ERR_NO_DEVICE && contains(message, "no OpenCL platform") &&
                  contains(message, "pocl-opencl-icd") && !contains(message, "\n");
        if (!ok)
            printf("FAIL: with no ICD vendor%s: %s: %s\n", preload ? ", loaded ahead" : "",
                   fcnn_status_name(status), message);
        fflush(stdout);
        _exit(ok ? 0 : 1);
    }
    int wstatus = 0;
    test_check(pid > 0 && waitpid(pid, &wstatus, 0) == pid && WIFEXITED(wstatus),
               "the no-platform child did not run or finish");
    if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 3)
        printf("note: this ICD loader ignores OCL_ICD_VENDORS; no-platform error not tested\n");
    else
        test_check(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0, "no-platform error");
}

/* --- devices --- */

static void first_device_names(char *device, size_t device_size, char *platform,
                               size_t platform_size)
{
    cl_platform_id p;
    cl_device_id d;
    device[0] = platform[0] = '\0';
    if (clGetPlatformIDs(1, &p, NULL) == CL_SUCCESS &&
        clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 1, &d, NULL) == CL_SUCCESS) {
        clGetDeviceInfo(d, CL_DEVICE_NAME, device_size, device, NULL);
        clGetPlatformInfo(p, CL_PLATFORM_NAME, platform_size, platform, NULL);
    }
}

static void test_devices(void)
{
    char device[256], platform[256];
    first_device_names(device, sizeof device, platform, sizeof platform);

    /* Default, then by index, by a substring of the device name in the other case, and by
     * a substring of the platform name. */
    struct fcnn_backend *be = test_open_opencl(NULL);
    const char *description = fcnn_backend_device(be);
    test_check(!contains(description, "\n") && strlen(description) > 0,
               "device_name() is not one line: '%s'", description);
    printf("default device: %s\n", description);
    fcnn_backend_close(be);

    be = test_open_opencl(&(struct fcnn_backend_options){ .device = "0:0" });
    test_check(contains(fcnn_backend_device(be), device), "'0:0' did not open %s", device);
    fcnn_backend_close(be);

    char swapped[8] = "";
    for (size_t i = 0; i + 1 < sizeof swapped && device[i]; i++) {
        unsigned char c = (unsigned char)device[i];
        swapped[i] = (char)(isupper(c) ? tolower(c) : toupper(c));
    }
    be = test_open_opencl(&(struct fcnn_backend_options){ .device = swapped });
    test_check(contains(fcnn_backend_device(be), device), "'%s' did not open %s", swapped, device);
    fcnn_backend_close(be);

    char platform_word[32];
    snprintf(platform_word, sizeof platform_word, "%.*s", (int)strcspn(platform, " "), platform);
    be = test_open_opencl(&(struct fcnn_backend_options){ .device = platform_word });
    fcnn_backend_close(be);

    /* Nothing matches: one line that lists what exists. $FCNN_DEVICE is read when the
     * option is NULL, and the option wins over it. */
    setenv("FCNN_DEVICE", "nonexistent", 1);
    const char *message = open_fails(NULL, FCNN_ERR_DEVICE, "FCNN_DEVICE=nonexistent");
    test_check(contains(message, "nonexistent") && contains(message, "0:0") &&
                   contains(message, device) && !contains(message, "\n"),
               "the no-match message does not list the devices in one line: %s", message);
    be = test_open_opencl(&(struct fcnn_backend_options){ .device = "0:0" });
    fcnn_backend_close(be);
    unsetenv("FCNN_DEVICE");
    message = open_fails(&(struct fcnn_backend_options){ .device = "9:9" }, FCNN_ERR_DEVICE, "9:9");
    test_check(contains(message, device), "'9:9' message: %s", message);

    /* --list-devices */
    char *listing = NULL;
    size_t listing_size = 0;
    FILE *out = open_memstream(&listing, &listing_size);
    test_check(out && fcnn_backend_list_devices("opencl", out) == FCNN_OK, "list_devices: %s",
               fcnn_last_error());
    if (out)
        fclose(out);
    test_check(listing && contains(listing, "0:0") && contains(listing, device) &&
                   contains(listing, "compute units") && contains(listing, "driver") &&
                   contains(listing, "(default)"),
               "the device list lacks fields:\n%s", listing ? listing : "");
    free(listing);
}

/* --- variants --- */

struct conv_call {
    struct fcnn_buffer *buffer;
    struct fcnn_tensor x, w, b, y;
    struct fcnn_op_call call;
};

/* conv2d_fwd on [1,4,4,1] with `k` output channels, 3x3, pad 1, in one zeroed buffer. */
static void conv_call_make(struct fcnn_backend *be, int k, struct conv_call *c)
{
    size_t floats = 16 + 9 * (size_t)k + (size_t)k + 16 * (size_t)k;
    if (fcnn_buffer_alloc(be, floats * sizeof(float), &c->buffer) != FCNN_OK)
        exit(1);
    float *zeros = calloc(floats, sizeof(float));
    struct fcnn_tensor all = fcnn_tensor_1d(c->buffer, 0, FCNN_F32, (int)floats);
    fcnn_upload(be, &all, zeros);
    free(zeros);
    size_t at = 0;
    c->x = fcnn_tensor_4d(c->buffer, at, FCNN_F32, 1, 4, 4, 1);
    at += fcnn_tensor_bytes(&c->x);
    c->w = fcnn_tensor_4d(c->buffer, at, FCNN_F32, 3, 3, 1, k);
    at += fcnn_tensor_bytes(&c->w);
    c->b = fcnn_tensor_1d(c->buffer, at, FCNN_F32, k);
    at += fcnn_tensor_bytes(&c->b);
    c->y = fcnn_tensor_4d(c->buffer, at, FCNN_F32, 1, 4, 4, k);
    c->call = (struct fcnn_op_call){ .op = FCNN_OP_CONV2D_FWD, .t = { &c->x, &c->w, &c->b, &c->y },
                                     .p.conv = { .sh = 1, .sw = 1, .pad_top = 1, .pad_bottom = 1,
                                                 .pad_left = 1, .pad_right = 1,
                                                 .act = FCNN_ACT_RELU } };
}

static void test_variants(void)
{
    struct fcnn_backend *be = test_open_opencl(NULL);
    int count = fcnn_backend_variant_count(be, FCNN_OP_CONV2D_FWD);
    test_check(count >= 2, "conv2d_fwd has %d variants, expected im2col_clblast and direct", count);
    bool has_direct = false;
    for (int i = 0; i < count; i++)
        has_direct |= strcmp(fcnn_backend_variant_name(be, FCNN_OP_CONV2D_FWD, i), "direct") == 0;
    test_check(has_direct, "conv2d_fwd has no 'direct' variant");
    for (int op = 0; op < FCNN_OP_COUNT; op++)
        test_check(fcnn_backend_variant_count(be, op) >= 1, "%s has no variant", fcnn_op_name(op));

    struct conv_call odd, even;
    conv_call_make(be, 5, &odd);
    conv_call_make(be, 8, &even);
    test_check(fcnn_backend_supports(be, &odd.call), "automatic choice refuses K=5");

    /* Forcing 'direct' (output channels in fours) refuses K=5 and runs K=8; NULL returns
     * to the automatic choice. */
    test_check(fcnn_backend_force_variant(be, FCNN_OP_CONV2D_FWD, "direct") == FCNN_OK,
               "forcing direct: %s", fcnn_last_error());
    test_check(!fcnn_backend_supports(be, &odd.call), "forced direct claims K=5");
    test_check(fcnn_op_run(be, &odd.call) == FCNN_ERR_UNSUPPORTED,
               "running K=5 with direct forced did not answer UNSUPPORTED");
    test_check(fcnn_backend_supports(be, &even.call), "forced direct refuses K=8");
    test_check(fcnn_op_run(be, &even.call) == FCNN_OK, "K=8 direct: %s", fcnn_last_error());
    test_check(fcnn_backend_force_variant(be, FCNN_OP_CONV2D_FWD, NULL) == FCNN_OK &&
                   fcnn_backend_supports(be, &odd.call),
               "force_variant(NULL) did not return to the automatic choice");

    int status = fcnn_backend_force_variant(be, FCNN_OP_CONV2D_FWD, "bogus");
    test_check(status == FCNN_ERR_INVALID && contains(fcnn_last_error(), "im2col_clblast"),
               "forcing a bogus variant: %s: %s", fcnn_status_name(status), fcnn_last_error());
    fcnn_buffer_free(be, odd.buffer);
    fcnn_buffer_free(be, even.buffer);
    fcnn_backend_close(be);

    /* The same through options->kernels and $FCNN_KERNELS. */
    be = test_open_opencl(&(struct fcnn_backend_options){ .kernels = "conv2d_fwd=direct" });
    conv_call_make(be, 5, &odd);
    test_check(!fcnn_backend_supports(be, &odd.call), "options->kernels did not force direct");
    fcnn_buffer_free(be, odd.buffer);
    fcnn_backend_close(be);

    setenv("FCNN_KERNELS", "relu_bwd=mask,conv2d_fwd=direct", 1);
    be = test_open_opencl(NULL);
    conv_call_make(be, 5, &odd);
    test_check(!fcnn_backend_supports(be, &odd.call), "$FCNN_KERNELS did not force direct");
    fcnn_buffer_free(be, odd.buffer);
    fcnn_backend_close(be);
    unsetenv("FCNN_KERNELS");

    const char *message = open_fails(&(struct fcnn_backend_options){ .kernels = "nosuchop=x" },
                                     FCNN_ERR_OPTION, "kernels=nosuchop=x");
    test_check(contains(message, "nosuchop") && contains(message, "conv2d_fwd"),
               "unknown op message: %s", message);
    message = open_fails(&(struct fcnn_backend_options){ .kernels = "conv2d_fwd" },
                         FCNN_ERR_OPTION, "kernels=conv2d_fwd");
    test_check(contains(message, "OP=VARIANT"), "malformed kernels message: %s", message);
}

/* --- kernel sources from $FCNN_KERNEL_DIR --- */

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        printf("FAIL: cannot write %s\n", path);
        exit(1);
    }
}

/* p = [1, 2], g = [1, 1], lr 0.5: returns the updated p. */
static void run_sgd(struct fcnn_backend *be, float out[2])
{
    struct fcnn_buffer *buffer;
    if (fcnn_buffer_alloc(be, 4 * sizeof(float), &buffer) != FCNN_OK)
        exit(1);
    struct fcnn_tensor p = fcnn_tensor_1d(buffer, 0, FCNN_F32, 2);
    struct fcnn_tensor g = fcnn_tensor_1d(buffer, 2 * sizeof(float), FCNN_F32, 2);
    float initial[4] = { 1, 2, 1, 1 };
    struct fcnn_tensor all = fcnn_tensor_1d(buffer, 0, FCNN_F32, 4);
    fcnn_upload(be, &all, initial);
    test_check(fcnn_sgd_update(be, &p, &g, &(struct fcnn_sgd_params){ .lr = 0.5f }) == FCNN_OK,
               "sgd: %s", fcnn_last_error());
    fcnn_download(be, &p, out);
    fcnn_buffer_free(be, buffer);
}

static void test_kernel_dir(const char *dir)
{
    setenv("FCNN_KERNEL_DIR", dir, 1);

    /* A replacement that compiles is used: this one adds instead of subtracting. */
    write_file(dir, "optim.cl",
               "__kernel void sgd_update(__global float *p, ulong po, __global const float *g,\n"
               "                         ulong go, float lr, int count)\n"
               "{\n"
               "    int i = get_global_id(0);\n"
               "    if (i < count) p[po + i] += lr * g[go + i];\n"
               "}\n");
    struct fcnn_backend *be = test_open_opencl(NULL);
    float p[2];
    run_sgd(be, p);
    test_check(p[0] == 1.5f && p[1] == 2.5f, "the kernel from $FCNN_KERNEL_DIR was not used "
               "(p = %g, %g)", p[0], p[1]);
    fcnn_backend_close(be);

    /* One that does not compile fails the open (a replaced file is built there, though
     * other programs wait for their first use), naming the file and the error, with the
     * compiler's log. */
    write_file(dir, "pool.cl", "__kernel void maxpool_fwd(__global float *y)\n"
                               "{\n"
                               "    y[0] = fcnn_test_undeclared_identifier;\n"
                               "}\n");
    const char *message = open_fails(NULL, FCNN_ERR_DEVICE, "a kernel with a syntax error");
    test_check(contains(message, "pool.cl") && contains(message, "CL_BUILD_PROGRAM_FAILURE") &&
                   contains(message, "fcnn_test_undeclared_identifier"),
               "the build failure message lacks the file, the error or the log: %s", message);
    printf("build failure reads: %.300s%s\n", message, strlen(message) > 300 ? "..." : "");

    unsetenv("FCNN_KERNEL_DIR");
    be = test_open_opencl(NULL);
    run_sgd(be, p);
    test_check(p[0] == 0.5f && p[1] == 1.5f, "built-in sgd_update gave %g, %g", p[0], p[1]);
    fcnn_backend_close(be);
}

/* --- the program cache --- */

struct entries {
    int count;
    char names[64][256];
};

static int compare_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void list_entries(const char *dir, struct entries *e)
{
    e->count = 0;
    DIR *d = opendir(dir);
    for (struct dirent *entry; d && (entry = readdir(d)) != NULL;) {
        size_t n = strlen(entry->d_name);
        if (n > 4 && strcmp(entry->d_name + n - 4, ".bin") == 0 && e->count < 64)
            snprintf(e->names[e->count++], sizeof e->names[0], "%s", entry->d_name);
    }
    if (d)
        closedir(d);
    qsort(e->names, (size_t)e->count, sizeof e->names[0], compare_names);
}

static const char *entry_of(const struct entries *e, const char *stem)
{
    for (int i = 0; i < e->count; i++)
        if (strncmp(e->names[i], stem, strlen(stem)) == 0 && e->names[i][strlen(stem)] == '-')
            return e->names[i];
    return NULL;
}

/* Opens, checks the cache counters, runs a few ops whose programs came through the cache
 * against hand-computed answers, and closes. */
/* Programs are built at first use; forcing variants builds theirs at open. The cache
 * tests open with these three, so each open builds exactly optim.cl, pool.cl and
 * activation.cl. */
static const struct fcnn_backend_options cache_options = {
    .kernels = "sgd_update=elementwise,maxpool_fwd=window,relu_bwd=vec16"
};

static void open_and_expect(const char *what, int hits, int stores, int rejected)
{
    struct fcnn_backend *be = test_open_opencl(&cache_options);
    const struct ocl_context *ctx = fcnn_backend_ctx_of(be);
    const struct ocl_cache_stats *s = &ctx->cache.stats;
    test_check(ctx->cache.enabled, "%s: the cache is off", what);
    test_check(s->hits == hits && s->stores == stores && s->rejected == rejected,
               "%s: cache hits %d, stores %d, rejected %d; expected %d, %d, %d", what, s->hits,
               s->stores, s->rejected, hits, stores, rejected);
    float p[2];
    run_sgd(be, p);
    test_check(p[0] == 0.5f && p[1] == 1.5f, "%s: sgd after the cache gave %g, %g", what, p[0], p[1]);

    struct fcnn_buffer *buffer;
    fcnn_buffer_alloc(be, 5 * sizeof(float), &buffer);
    struct fcnn_tensor x = fcnn_tensor_4d(buffer, 0, FCNN_F32, 1, 2, 2, 1);
    struct fcnn_tensor y = fcnn_tensor_4d(buffer, 4 * sizeof(float), FCNN_F32, 1, 1, 1, 1);
    float values[4] = { 1, 3, 2, 0 }, max = 0;
    fcnn_upload(be, &x, values);
    test_check(fcnn_maxpool_fwd(be, &x, &y, &(struct fcnn_pool_params){ .ph = 2, .pw = 2, .sh = 2, .sw = 2 }) == FCNN_OK &&
                   fcnn_download(be, &y, &max) == FCNN_OK && max == 3.0f,
               "%s: maxpool after the cache gave %g (%s)", what, max, fcnn_last_error());
    fcnn_buffer_free(be, buffer);
    fcnn_backend_close(be);
}

static void damage(const char *dir, const char *name, const char *how)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    FILE *f = fopen(path, "r+b");
    if (!f || stat(path, &st) != 0) {
        test_check(false, "cannot open %s", path);
        return;
    }
    if (strcmp(how, "truncate") == 0) {
        test_check(ftruncate(fileno(f), st.st_size / 2) == 0, "truncating %s", path);
    } else if (strcmp(how, "flip") == 0) { /* one byte in the middle of the binary */
        fseek(f, st.st_size / 2 + 20, SEEK_SET);
        int c = fgetc(f);
        fseek(f, st.st_size / 2 + 20, SEEK_SET);
        fputc(c ^ 0x40, f);
    } else { /* the header's magic */
        fputs("garbage!", f);
    }
    fclose(f);
}

static void test_cache(const char *root)
{
    char cache_home[4096], dir[4200];
    snprintf(cache_home, sizeof cache_home, "%s/cache-home", root);
    snprintf(dir, sizeof dir, "%s/fcnn", cache_home);
    setenv("XDG_CACHE_HOME", cache_home, 1); /* created on demand, like ~/.cache */
    unsetenv("FCNN_NO_CACHE");
    /* Binaries stored as they are built, as on every driver but PoCL with its cache on
     * (see test_deferred_store), so that the counters can be read before the close. */
    setenv("POCL_KERNEL_CACHE", "0", 1);

    /* A fresh cache is filled, then used. */
    struct fcnn_backend *be = test_open_opencl(&cache_options);
    const struct ocl_context *ctx = fcnn_backend_ctx_of(be);
    int programs = ctx->cache.stats.stores;
    test_check(programs == 3, "a fresh open forcing three variants stored %d programs, not 3",
               programs);
    test_check(ctx->cache.enabled && strcmp(ctx->cache.dir, dir) == 0,
               "the cache is not in $XDG_CACHE_HOME/fcnn (%s)", ctx->cache.dir);
    fcnn_backend_close(be);
    struct entries e;
    list_entries(dir, &e);
    test_check(programs > 0 && e.count == programs, "%d programs stored, %d entries in %s",
               programs, e.count, dir);
    open_and_expect("second open", programs, 0, 0);

    /* Damaged entries are rebuilt and rewritten, never used. */
    const char *optim = entry_of(&e, "optim"), *pool = entry_of(&e, "pool");
    const char *activation = entry_of(&e, "activation");
    if (test_check(optim && pool && activation, "no optim, pool or activation entry")) {
        damage(dir, optim, "truncate");
        damage(dir, pool, "flip");
        damage(dir, activation, "magic");
        open_and_expect("damaged entries", programs - 3, 3, 3);
        open_and_expect("after the rebuild", programs, 0, 0);

        /* An entry that checks out but holds no program the driver accepts: the driver
         * refuses it and it is rebuilt too. */
        unsigned long long key = 0;
        sscanf(strchr(pool, '-') + 1, "%llx", &key);
        be = test_open_opencl(&cache_options);
        struct ocl_context *writable = fcnn_backend_ctx_of(be);
        static const unsigned char junk[256] = { 1, 2, 3, 4, 5, 6, 7, 8 };
        writable->cache.stats.stores = 0;
        ocl_cache_store(&writable->cache, "pool.cl", key, junk, sizeof junk);
        test_check(writable->cache.stats.stores == 1, "could not plant a junk entry");
        fcnn_backend_close(be);
        open_and_expect("an entry the driver refuses", programs - 1, 1, 1);
    }

    /* A cache home that is a file: the cache turns itself off and everything works. */
    char file_home[4096];
    snprintf(file_home, sizeof file_home, "%s/not-a-directory", root);
    write_file(root, "not-a-directory", "x");
    setenv("XDG_CACHE_HOME", file_home, 1);
    be = test_open_opencl(&cache_options);
    ctx = fcnn_backend_ctx_of(be);
    test_check(!ctx->cache.enabled && ctx->cache.stats.stores == 0,
               "an unusable cache directory did not turn the cache off");
    fcnn_backend_close(be);

    /* FCNN_NO_CACHE=1: nothing read or written. */
    setenv("XDG_CACHE_HOME", cache_home, 1);
    setenv("FCNN_NO_CACHE", "1", 1);
    be = test_open_opencl(&cache_options);
    ctx = fcnn_backend_ctx_of(be);
    test_check(!ctx->cache.enabled && ctx->cache.stats.hits == 0 && ctx->cache.stats.stores == 0,
               "FCNN_NO_CACHE=1 did not turn the cache off");
    fcnn_backend_close(be);
    unsetenv("FCNN_NO_CACHE");
    unsetenv("POCL_KERNEL_CACHE");
}

/* On PoCL with its own cache on (its default), a program's binary is stored when the
 * backend closes, not when the program is built: fetching it compiles every kernel once
 * more, which would lengthen the start. Other drivers' binaries are stored as they are
 * built, as test_cache checks (which turns PoCL's cache off for that). */
static void test_deferred_store(const char *root)
{
    char cache_home[4096], dir[4200];
    snprintf(cache_home, sizeof cache_home, "%s/deferred-cache-home", root);
    snprintf(dir, sizeof dir, "%s/fcnn", cache_home);
    setenv("XDG_CACHE_HOME", cache_home, 1);
    unsetenv("FCNN_NO_CACHE");
    unsetenv("POCL_KERNEL_CACHE");
    struct fcnn_backend *be = test_open_opencl(&cache_options);
    const struct ocl_context *ctx = fcnn_backend_ctx_of(be);
    const char *platform = ctx->identity.platform_name;
    bool pocl = strcmp(platform, "Portable Computing Language") == 0;
    test_check(ctx->cache.enabled && ctx->cache.defer == pocl &&
                   ocl_cache_defers_binaries(&ctx->identity) == pocl,
               "platform '%s': the store is %sdeferred", platform, ctx->cache.defer ? "" : "not ");
    test_check(ctx->cache.stats.stores == (pocl ? 0 : 3),
               "platform '%s': %d binaries stored at open", platform, ctx->cache.stats.stores);
    struct entries e;
    list_entries(dir, &e);
    test_check(e.count == (pocl ? 0 : 3), "platform '%s': %d binaries in %s before the close",
               platform, e.count, dir);
    fcnn_backend_close(be);
    list_entries(dir, &e);
    test_check(e.count == 3, "%d binaries in %s after the close, not 3", e.count, dir);
    open_and_expect("after a deferred store", 3, 0, 0);

    if (pocl) { /* PoCL's cache off: nothing else keeps them, so they are stored at once */
        snprintf(cache_home, sizeof cache_home, "%s/undeferred-cache-home", root);
        setenv("XDG_CACHE_HOME", cache_home, 1);
        setenv("POCL_KERNEL_CACHE", "0", 1);
        be = test_open_opencl(&cache_options);
        ctx = fcnn_backend_ctx_of(be);
        test_check(!ctx->cache.defer && ctx->cache.stats.stores == 3,
                   "POCL_KERNEL_CACHE=0: %d binaries stored at open, not 3",
                   ctx->cache.stats.stores);
        fcnn_backend_close(be);
        unsetenv("POCL_KERNEL_CACHE");
    }
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* --- loading the driver ahead of open; buffers that take host memory over --- */

static void fill_pattern(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 131u + seed + (i >> 9));
}

/* Adopts `host` (n bytes, holding fill_pattern(seed)), checks the buffer holds those bytes
 * and whether it is `host` itself; frees the buffer. */
static void check_adopted(struct fcnn_backend *be, uint8_t *host, size_t n, unsigned seed,
                          bool in_place, const char *what)
{
    uint8_t *want = malloc(n), *got = malloc(n);
    if (!want || !got) {
        test_check(false, "%s: out of memory", what);
        free(want), free(got), free(host);
        return;
    }
    fill_pattern(want, n, seed);
    struct fcnn_buffer *buffer = NULL;
    int status = fcnn_buffer_adopt(be, host, n, &buffer);
    if (test_check(status == FCNN_OK, "%s: adopt: %s", what, fcnn_last_error())) {
        cl_mem mem = buffer->impl;
        void *used = NULL;
        cl_mem_flags flags = 0;
        clGetMemObjectInfo(mem, CL_MEM_HOST_PTR, sizeof used, &used, NULL);
        clGetMemObjectInfo(mem, CL_MEM_FLAGS, sizeof flags, &flags, NULL);
        bool shared = used == host && (flags & CL_MEM_USE_HOST_PTR);
        test_check(shared == in_place, "%s: the buffer is %sthe host memory", what,
                   shared ? "" : "not ");
        struct fcnn_tensor t = fcnn_tensor_1d(buffer, 0, FCNN_U8, (int)n);
        status = fcnn_download(be, &t, got);
        test_check(status == FCNN_OK && memcmp(want, got, n) == 0,
                   "%s: the buffer does not hold the adopted bytes (%s)", what,
                   status == FCNN_OK ? "they differ" : fcnn_last_error());
        fcnn_buffer_free(be, buffer); /* the host block goes with it, or went at once */
    }
    free(want);
    free(got);
}

static void test_adopt(void)
{
    /* The driver loaded on a thread first, as fcnn's runs do, then opened. */
    fcnn_backend_preload("opencl");
    fcnn_backend_preload("opencl"); /* a second call while loading: nothing more */
    struct fcnn_backend *be = test_open_opencl(NULL);
    const struct ocl_context *ctx = fcnn_backend_ctx_of(be);
    cl_bool unified = CL_FALSE;
    cl_uint align_bits = 0;
    clGetDeviceInfo(ctx->device, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof unified, &unified, NULL);
    clGetDeviceInfo(ctx->device, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits, &align_bits,
                    NULL);
    size_t align = align_bits / 8;

    /* Page-aligned, as the data loaders allocate images: in place where the device
     * shares the host's memory (PoCL's CPU device does), else copied. */
    const size_t n = (1 << 20) + 37;
    uint8_t *aligned = fcnn_dataset_alloc_images(n);
    if (test_check(aligned && (uintptr_t)aligned % 4096 == 0, "images are not page-aligned")) {
        fill_pattern(aligned, n, 1);
        check_adopted(be, aligned, n, 1, unified, "page-aligned");
    }
    if (strcmp(ctx->identity.platform_name, "Portable Computing Language") == 0)
        test_check(unified, "PoCL's CPU device does not share the host's memory");

    /* Misaligned for the device: copied, and the block freed (LeakSanitizer checks it). */
    uint8_t *blocks[32] = { 0 }, *misaligned = NULL;
    for (int i = 0; i < 32 && !misaligned && align > 1; i++) {
        blocks[i] = malloc(4096 + 3);
        if (blocks[i] && (uintptr_t)blocks[i] % align != 0) {
            misaligned = blocks[i];
            blocks[i] = NULL;
        }
    }
    for (int i = 0; i < 32; i++)
        free(blocks[i]);
    if (misaligned) {
        fill_pattern(misaligned, 4096 + 3, 2);
        check_adopted(be, misaligned, 4096 + 3, 2, false, "misaligned");
    }

    /* A failed allocation: one error naming the call, and the block freed all the same. */
    uint8_t *doomed = fcnn_dataset_alloc_images(4096);
    setenv("FCNN_OPENCL_FAULT", "alloc:1", 1);
    ocl_fault_reset();
    struct fcnn_buffer *buffer = NULL;
    int status = doomed ? fcnn_buffer_adopt(be, doomed, 4096, &buffer) : FCNN_ERR_NOMEM;
    test_check(status != FCNN_OK && !buffer && contains(fcnn_last_error(), "clCreateBuffer"),
               "a failed allocation gave %s: %s", fcnn_status_name(status), fcnn_last_error());
    unsetenv("FCNN_OPENCL_FAULT");
    ocl_fault_reset();
    fcnn_backend_close(be);
    fcnn_backend_preload_wait(); /* nothing left to wait for */
}

/* One of four ops, each from a program of its own, on a buffer of 3 x n floats. */
static int run_round_op(struct fcnn_backend *be, int round, struct fcnn_buffer *buffer, int n)
{
    struct fcnn_tensor a = fcnn_tensor_1d(buffer, 0, FCNN_F32, n);
    struct fcnn_tensor b = fcnn_tensor_1d(buffer, (size_t)n * sizeof(float), FCNN_F32, n);
    struct fcnn_tensor c = fcnn_tensor_1d(buffer, 2 * (size_t)n * sizeof(float), FCNN_F32, n);
    switch (round) {
    case 0:
        return fcnn_relu_bwd(be, &a, &b, &c);
    case 1:
        return fcnn_sgd_update(be, &a, &b, &(struct fcnn_sgd_params){ .lr = 0.0f });
    case 2: {
        struct fcnn_tensor x = fcnn_tensor_4d(buffer, 0, FCNN_F32, n / 256, 8, 8, 4);
        struct fcnn_tensor y = fcnn_tensor_2d(buffer, (size_t)n * sizeof(float), FCNN_F32,
                                              n / 256, 4);
        return fcnn_global_avgpool_fwd(be, &x, &y);
    }
    default: {
        struct fcnn_tensor dy = fcnn_tensor_2d(buffer, 0, FCNN_F32, n / 64, 64);
        struct fcnn_tensor db = fcnn_tensor_1d(buffer, (size_t)n * sizeof(float), FCNN_F32, 64);
        return fcnn_bias_bwd(be, &dy, &db);
    }
    }
}

/* Two backends open in one process, as the agreement tests keep them: closing one stores
 * its new program binaries while the other still runs the same kernels, which aborted
 * PoCL 3.1 until the store waited for every open backend's queue (why: store_deferred in
 * backends/opencl/ocl_program.c). Without that wait a round died in about half of the
 * runs tried, and the four rounds, each on a program of its own never stored before in
 * this process, in 10 runs of 10. The binaries go to an empty cache, so each program is
 * built from source and stored. */
static void test_store_beside_running_backend(const char *root)
{
    char cache[256], binaries[300];
    snprintf(cache, sizeof cache, "%s/store-beside", root);
    snprintf(binaries, sizeof binaries, "%s/fcnn", cache);
    setenv("XDG_CACHE_HOME", cache, 1);
    const int n = 1 << 20;
    for (int round = 0; round < 4; round++) {
        struct fcnn_backend *storing = test_open_opencl(NULL);
        struct fcnn_backend *running = test_open_opencl(NULL);
        struct fcnn_buffer *small = NULL, *large = NULL;
        int status = fcnn_buffer_alloc(storing, 3 * 1024 * sizeof(float), &small);
        if (status == FCNN_OK)
            status = fcnn_buffer_alloc(running, 3 * (size_t)n * sizeof(float), &large);
        /* The storing backend builds and uses the kernel the other one is about to run. */
        if (status == FCNN_OK)
            status = run_round_op(storing, round, small, 1024);
        if (status == FCNN_OK)
            status = fcnn_sync(storing);
        for (int i = 0; i < 400 && status == FCNN_OK; i++)
            status = run_round_op(running, round, large, n);
        bool defers = ocl_cache_defers_binaries(
            &((const struct ocl_context *)fcnn_backend_ctx_of(storing))->identity);
        struct entries before, after;
        list_entries(binaries, &before);
        fcnn_buffer_free(storing, small);
        fcnn_backend_close(storing); /* stores its binaries while those launches run */
        list_entries(binaries, &after);
        if (status == FCNN_OK)
            status = fcnn_sync(running);
        test_check(status == FCNN_OK, "round %d: storing binaries beside a running backend: %s",
                   round, fcnn_last_error());
        /* Where the store waits for the close, it must have happened there, or this round
         * tested nothing. */
        test_check(!defers || after.count > before.count,
                   "round %d: the close stored no binary (%d entries before, %d after)", round,
                   before.count, after.count);
        fcnn_buffer_free(running, large);
        fcnn_backend_close(running);
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* The sub-tests set these themselves; an outer value would change what they see. */
    unsetenv("FCNN_DEVICE");
    unsetenv("FCNN_KERNELS");
    unsetenv("FCNN_KERNEL_DIR");

    test_no_platform(false);
    test_no_platform(true);
    test_skip_without_opencl("opencl-backend");

    char root[] = "/tmp/fcnn-opencl-test-XXXXXX";
    if (!mkdtemp(root)) {
        printf("FAIL: mkdtemp\n");
        return 1;
    }
    test_store_beside_running_backend(root); /* first: its programs must be new to PoCL */
    /* Sub-tests that open the backend before the cache test use a private cache too. */
    char private_cache[sizeof root + 16];
    snprintf(private_cache, sizeof private_cache, "%s/scratch", root);
    setenv("XDG_CACHE_HOME", private_cache, 1);

    test_devices();
    test_variants();
    test_kernel_dir(root);
    test_cache(root);
    test_deferred_store(root);
    test_adopt();

    nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    printf("%s\n", test_failures() ? "FAILED" : "all passed");
    return test_failures() ? 1 : 0;
}
