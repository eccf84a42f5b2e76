/* main() of the fuzz targets in ordinary builds (libFuzzer brings its own): runs the
 * target once on every file named on the command line, or on every file in a directory
 * named there. `make check` replays the seed corpora and every crasher ever found this
 * way, so a fixed bug stays fixed in builds without clang or the sanitizers.
 *
 * Exit: 0 every input ran; 77 the target is not built into this configuration (it says
 * why); 99 no input was found (a replay of nothing proves nothing). A finding aborts. */
#include <config.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
/* A target that this configuration cannot build (say, without jansson) defines this. */
extern const char *fuzz_target_unavailable __attribute__((weak));

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(99);
    }
    size_t capacity = 4096, size = 0;
    uint8_t *data = malloc(capacity);
    size_t got;
    while (data && (got = fread(data + size, 1, capacity - size, f)) > 0) {
        size += got;
        if (size == capacity)
            data = realloc(data, capacity *= 2);
    }
    if (!data || ferror(f)) {
        fprintf(stderr, "%s: cannot read\n", path);
        exit(99);
    }
    fclose(f);
    /* Give the target exactly `size` bytes, as libFuzzer does, so ASan sees overreads. */
    uint8_t *exact = malloc(size ? size : 1);
    memcpy(exact, data, size);
    free(data);
    LLVMFuzzerTestOneInput(exact, size);
    free(exact);
    return 1;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file in `dir`, in name order so that runs are repeatable. */
static int run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        exit(99);
    }
    char **names = NULL;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        names = realloc(names, (size_t)(count + 1) * sizeof *names);
        names[count++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)count, sizeof *names, compare_names);
    int ran = 0;
    for (int i = 0; i < count; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            ran += run_file(path);
        free(names[i]);
    }
    free(names);
    return ran;
}

int main(int argc, char **argv)
{
    if (&fuzz_target_unavailable && fuzz_target_unavailable) {
        printf("SKIP: %s\n", fuzz_target_unavailable);
        return 77;
    }
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    int ran = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 99;
        }
        ran += S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]);
    }
    if (!ran) {
        fprintf(stderr, "replay: no inputs given\n");
        return 99;
    }
    fprintf(stderr, "replayed %d inputs without a finding\n", ran);
    return 0;
}
