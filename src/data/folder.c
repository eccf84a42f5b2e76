/* Image folders: list, sort, decode once into one uint8 block. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/quote.h"
#include "core/status.h"
#include "data/folder.h"
#include "data/image.h"

/* Folders with more files than this get a progress line while they decode. */
#define PROGRESS_MIN_FILES 2000

void fcnn_skipped_free(struct fcnn_skipped *s)
{
    for (int i = 0; s->lines && i < s->count; i++)
        free(s->lines[i]);
    free(s->lines);
    s->lines = NULL;
    s->count = 0;
}

bool fcnn_folder_is_image_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (!strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") ||
                   !strcasecmp(dot, ".jpeg") || !strcasecmp(dot, ".pgm"));
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in `dir` (no dot files), sorted; directories or image files as asked. */
static int list_dir(const char *dir, bool want_dirs, char ***out, int *count)
{
    *out = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return fcnn_error(FCNN_ERR_IO, "%s: cannot read the folder: %s", fcnn_quote(dir), strerror(errno));
    char **names = NULL;
    int n = 0, capacity = 0, status = FCNN_OK;
    struct dirent *e;
    char path[4096];
    while (status == FCNN_OK && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue; /* a dangling link: not an image */
        if (want_dirs ? !S_ISDIR(st.st_mode)
                      : !S_ISREG(st.st_mode) || !fcnn_folder_is_image_name(e->d_name))
            continue;
        if (n == capacity) {
            capacity = capacity ? 2 * capacity : 64;
            char **grown = realloc(names, sizeof *grown * (size_t)capacity);
            if (!grown) {
                status = fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory listing the folder", fcnn_quote(dir));
                break;
            }
            names = grown;
        }
        if (!(names[n] = strdup(e->d_name)))
            status = fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory listing the folder", fcnn_quote(dir));
        else
            n++;
    }
    closedir(d);
    if (status != FCNN_OK) {
        for (int i = 0; i < n; i++)
            free(names[i]);
        free(names);
        return status;
    }
    if (n)
        qsort(names, (size_t)n, sizeof *names, compare_names);
    *out = names;
    *count = n;
    return FCNN_OK;
}

static void free_names(char **names, int count)
{
    for (int i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

int fcnn_folder_classes(const char *root, struct fcnn_class_names *out)
{
    *out = (struct fcnn_class_names){ 0 };
    char **names;
    int count;
    int status = list_dir(root, true, &names, &count);
    if (status != FCNN_OK)
        return status;
    if (count == 0)
        status = fcnn_error(FCNN_ERR_INVALID, "%s: no class folders (expected %s/<class>/<image>)",
                            fcnn_quote(root), fcnn_quote(root));
    else if (count > FCNN_MAX_CLASSES)
        status = fcnn_error(FCNN_ERR_INVALID, "%s: %d class folders, more than %d", fcnn_quote(root), count,
                            FCNN_MAX_CLASSES);
    if (status == FCNN_OK)
        status = fcnn_classes_copy(count, (const char *const *)names, out);
    free_names(names, count);
    return status;
}

static int add_skipped(struct fcnn_skipped *s, const char *line)
{
    char **grown = realloc(s->lines, sizeof *grown * (size_t)(s->count + 1));
    if (!grown)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory listing skipped images");
    s->lines = grown;
    if (!(s->lines[s->count] = strdup(line)))
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory listing skipped images");
    s->count++;
    return FCNN_OK;
}

/* One file of the whole list, with its class. */
struct entry {
    char *path;
    int label;
};

static int collect(const char *root, const struct fcnn_class_names *classes, bool allow_empty,
                   struct entry **out, int *count)
{
    struct entry *entries = NULL;
    int n = 0, status = FCNN_OK;
    char dir[4096];
    for (int c = 0; c < classes->count && status == FCNN_OK; c++) {
        snprintf(dir, sizeof dir, "%s/%s", root, classes->names[c]);
        struct stat st;
        if (allow_empty && stat(dir, &st) != 0)
            continue;
        char **files;
        int k;
        status = list_dir(dir, false, &files, &k);
        if (status != FCNN_OK)
            break;
        if (k == 0 && !allow_empty)
            status = fcnn_error(FCNN_ERR_INVALID, "%s: class folder holds no images (.png, "
                                ".jpg, .jpeg, .pgm); remove it or add some", fcnn_quote(dir));
        struct entry *grown = k ? realloc(entries, sizeof *grown * (size_t)(n + k)) : entries;
        if (status == FCNN_OK && !grown)
            status = fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory listing the images", fcnn_quote(dir));
        if (status == FCNN_OK)
            entries = grown;
        for (int i = 0; i < k && status == FCNN_OK; i++) {
            size_t len = strlen(dir) + strlen(files[i]) + 2;
            char *path = malloc(len);
            if (!path) {
                status = fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory listing the images", fcnn_quote(dir));
                break;
            }
            snprintf(path, len, "%s/%s", dir, files[i]);
            entries[n++] = (struct entry){ path, c };
        }
        free_names(files, k);
    }
    /* Any other folder under the root is a class the training set does not have. */
    if (status == FCNN_OK && allow_empty) {
        char **dirs;
        int k;
        status = list_dir(root, true, &dirs, &k);
        for (int i = 0; i < k && status == FCNN_OK; i++) {
            bool known = false;
            for (int c = 0; c < classes->count && !known; c++)
                known = !strcmp(dirs[i], classes->names[c]);
            if (!known)
                status = fcnn_error(FCNN_ERR_INVALID, "%s/%s: class folder not among the %d "
                                    "training classes", fcnn_quote(root), dirs[i], classes->count);
        }
        if (status == FCNN_OK || k)
            free_names(dirs, k);
    }
    if (status != FCNN_OK) {
        for (int i = 0; i < n; i++)
            free(entries[i].path);
        free(entries);
        return status;
    }
    *out = entries;
    *count = n;
    return FCNN_OK;
}

/* The progress line: on a terminal redrawn in place, elsewhere printed once at the end. */
static void progress(FILE *out, const char *root, int done, int total, double start, bool end)
{
    if (!out || total < PROGRESS_MIN_FILES)
        return;
    bool tty = isatty(fileno(out));
    if (!tty && !end)
        return;
    fprintf(out, "%sDecoding %s: %d of %d images (%.1f s)%s", tty ? "\r" : "", root, done, total,
            fcnn_now() - start, end ? "\n" : "");
    fflush(out);
}

int fcnn_folder_load(const char *root, const struct fcnn_class_names *classes, bool allow_empty,
                     struct fcnn_folder_options *o, struct fcnn_dataset *out,
                     struct fcnn_skipped *skipped)
{
    memset(out, 0, sizeof *out);
    struct entry *entries;
    int total;
    int status = collect(root, classes, allow_empty, &entries, &total);
    if (status != FCNN_OK)
        return status;
    if (total == 0)
        status = fcnn_error(FCNN_ERR_INVALID, "%s: no images in any class folder", fcnn_quote(root));
    /* A limit keeps an even share of every class, in file order, rather than the first
     * classes only: sample i of the sorted list is kept when it is among its class's
     * first limit * (class size) / total. */
    int keep_total = o->limit > 0 && o->limit < total ? o->limit : total;
    bool *keep = status == FCNN_OK ? calloc((size_t)total, sizeof *keep) : NULL;
    if (status == FCNN_OK && !keep)
        status = fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory", fcnn_quote(root));
    if (status == FCNN_OK) {
        int kept = 0;
        for (int i = 0; i < total && kept < keep_total;) {
            int j = i;
            while (j < total && entries[j].label == entries[i].label)
                j++;
            long share = (long)(j - i) * keep_total / total;
            for (int k = i; k < i + share && kept < keep_total; k++, kept++)
                keep[k] = true;
            i = j;
        }
        for (int i = 0; i < total && kept < keep_total; i++) /* the remainder of rounding */
            if (!keep[i]) {
                keep[i] = true;
                kept++;
            }
    }

    double start = fcnn_now();
    size_t sample = 0;
    int n = 0;
    for (int i = 0; i < total && status == FCNN_OK; i++) {
        if (!keep[i])
            continue;
        struct fcnn_image img;
        if (o->rows == 0 || o->channels == 0) { /* the first image fixes what is not given */
            status = fcnn_image_read(entries[i].path, &img);
            if (status == FCNN_OK) {
                if (!o->rows) {
                    o->rows = img.rows;
                    o->cols = img.cols;
                }
                if (!o->channels)
                    o->channels = img.channels;
                fcnn_image_free(&img);
            } else if (o->skip_bad) {
                status = add_skipped(skipped, fcnn_last_error());
                continue;
            }
        }
        if (status == FCNN_OK && !out->images) {
            sample = (size_t)o->rows * (size_t)o->cols * (size_t)o->channels;
            out->images = fcnn_dataset_alloc_images(sample * (size_t)keep_total);
            out->labels = malloc((size_t)keep_total);
            if (!out->images || !out->labels)
                status = fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory for %d images of %dx%dx%d",
                                    fcnn_quote(root), keep_total, o->rows, o->cols, o->channels);
        }
        if (status != FCNN_OK)
            break;
        status = fcnn_image_prepare(entries[i].path, o->rows, o->cols, o->channels, o->resize,
                                    &img);
        if (status != FCNN_OK && o->skip_bad && status != FCNN_ERR_NOMEM) {
            status = add_skipped(skipped, fcnn_last_error());
            continue;
        }
        if (status != FCNN_OK)
            break;
        memcpy(out->images + sample * (size_t)n, img.pixels, sample);
        out->labels[n++] = (uint8_t)entries[i].label;
        fcnn_image_free(&img);
        if (n % 1000 == 0)
            progress(o->progress, root, n, keep_total, start, false);
    }
    if (status == FCNN_OK && n == 0)
        status = fcnn_error(FCNN_ERR_INVALID, "%s: no image could be decoded", fcnn_quote(root));
    if (status == FCNN_OK)
        progress(o->progress, root, n, keep_total, start, true);
    for (int i = 0; i < total; i++)
        free(entries[i].path);
    free(entries);
    free(keep);
    if (status != FCNN_OK) {
        fcnn_dataset_free(out);
        return status;
    }
    out->count = n;
    out->rows = o->rows;
    out->cols = o->cols;
    out->channels = o->channels;
    return FCNN_OK;
}
