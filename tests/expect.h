/* A soft assertion for the unit tests: a failed EXPECT prints where and why, counts the
 * failure, and lets the test go on to report every other failure too. */
#ifndef FCNN_TESTS_EXPECT_H
#define FCNN_TESTS_EXPECT_H

#include <stdio.h>

static int failures;

#define EXPECT(cond, ...)                                                                  \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                           \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fprintf(stderr, "\n");                                                         \
            failures++;                                                                    \
        }                                                                                  \
    } while (0)

#endif
