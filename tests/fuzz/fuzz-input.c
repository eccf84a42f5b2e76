/* Scratch files and the error-message check shared by the fuzz targets. */
#include <config.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/status.h"
#include "fuzz-input.h"

static char dir[4096];
static char path[4200];

static void remove_scratch(void)
{
    unlink(path);
    rmdir(dir);
}

const char *fuzz_input_file(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/fcnn-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            perror("fuzz: mkdtemp");
            abort();
        }
        snprintf(path, sizeof path, "%s/input", dir);
        atexit(remove_scratch);
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        perror("fuzz: open scratch file");
        abort();
    }
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0) {
            perror("fuzz: write scratch file");
            abort();
        }
        done += (size_t)n;
    }
    close(fd);
    return path;
}

void fuzz_check_error(int status)
{
    if (status == FCNN_OK)
        return;
    const char *message = fcnn_last_error();
    if (!message[0]) {
        fprintf(stderr, "fuzz: status %d (%s) came without a message\n", status,
                fcnn_status_name(status));
        abort();
    }
    if (strchr(message, '\n')) {
        fprintf(stderr, "fuzz: an error message spans several lines: %s\n", message);
        abort();
    }
    /* A carriage return or another control character from the input would garble the
     * line on a terminal as surely as a line break: outside text must come escaped. */
    for (const unsigned char *c = (const unsigned char *)message; *c; c++)
        if ((*c < 0x20 && *c != '\t') || *c == 0x7f) {
            fprintf(stderr, "fuzz: an error message holds control character 0x%02x: %s\n", *c,
                    message);
            abort();
        }
}
