/* Class-name lists. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "core/quote.h"
#include "core/status.h"
#include "data/classes.h"
#include "data/input.h"
#include "data/dataset.h"

void fcnn_classes_free(struct fcnn_class_names *c)
{
    for (int i = 0; c->names && i < c->count; i++)
        free(c->names[i]);
    free(c->names);
    c->names = NULL;
    c->count = 0;
}

static int add(struct fcnn_class_names *c, const char *name)
{
    char **grown = realloc(c->names, sizeof *grown * (size_t)(c->count + 1));
    if (!grown)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory for the class names");
    c->names = grown;
    if (!(c->names[c->count] = strdup(name)))
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory for the class names");
    c->count++;
    return FCNN_OK;
}

int fcnn_classes_copy(int count, const char *const *names, struct fcnn_class_names *out)
{
    *out = (struct fcnn_class_names){ 0 };
    int status = FCNN_OK;
    for (int i = 0; i < count && status == FCNN_OK; i++)
        status = add(out, names[i]);
    if (status != FCNN_OK)
        fcnn_classes_free(out);
    return status;
}

int fcnn_classes_numbered(int count, struct fcnn_class_names *out)
{
    *out = (struct fcnn_class_names){ 0 };
    int status = FCNN_OK;
    char number[16];
    for (int i = 0; i < count && status == FCNN_OK; i++) {
        snprintf(number, sizeof number, "%d", i);
        status = add(out, number);
    }
    if (status != FCNN_OK)
        fcnn_classes_free(out);
    return status;
}

int fcnn_classes_read(const char *path, struct fcnn_class_names *out)
{
    *out = (struct fcnn_class_names){ 0 };
    /* Opened by us, so a FIFO or device named as the class names is refused, not waited on. */
    FILE *f;
    int open_status = fcnn_file_open_read(path, &f);
    if (open_status != FCNN_OK)
        return open_status;
    char line[1024];
    int status = FCNN_OK, number = 0;
    while (status == FCNN_OK && fgets(line, sizeof line, f)) {
        number++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            status = fcnn_error(FCNN_ERR_INVALID, "%s:%d: class name longer than %zu bytes",
                                fcnn_quote(path), number, sizeof line - 2);
            break;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
                       line[len - 1] == '\t'))
            line[--len] = '\0';
        if (!len)
            status = fcnn_error(FCNN_ERR_INVALID, "%s:%d: empty class name", fcnn_quote(path), number);
        for (int i = 0; status == FCNN_OK && i < out->count; i++)
            if (!strcmp(out->names[i], line))
                status = fcnn_error(FCNN_ERR_INVALID, "%s:%d: class name '%s' repeats line %d",
                                    fcnn_quote(path), number, line, i + 1);
        if (status == FCNN_OK && out->count == FCNN_MAX_CLASSES)
            status = fcnn_error(FCNN_ERR_INVALID, "%s: more than %d class names", fcnn_quote(path),
                                FCNN_MAX_CLASSES);
        if (status == FCNN_OK)
            status = add(out, line);
    }
    if (status == FCNN_OK && ferror(f))
        status = fcnn_error(FCNN_ERR_IO, "%s: read error: %s", fcnn_quote(path), strerror(errno));
    if (status == FCNN_OK && out->count == 0)
        status = fcnn_error(FCNN_ERR_INVALID, "%s: no class names in the file", fcnn_quote(path));
    fclose(f);
    if (status != FCNN_OK)
        fcnn_classes_free(out);
    return status;
}

void fcnn_input_info_free(struct fcnn_input_info *info)
{
    fcnn_classes_free(&info->names);
}
