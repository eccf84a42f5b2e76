/* For C tests that train on the real Fashion-MNIST: whether it is installed at all. Only
 * its absence (no dataset-fashion-mnist package, no $FCNN_DATA) may skip a test; files
 * that are there but fail to load are a failure like any other. */
#ifndef FCNN_TEST_DATA_H
#define FCNN_TEST_DATA_H

#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

static inline bool test_data_installed(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz", dir);
    if (access(path, F_OK) == 0)
        return true;
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte", dir);
    return access(path, F_OK) == 0;
}

#endif
