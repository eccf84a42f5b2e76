/* fcnn --version: the version, the backends built in, and the libraries found. */
#ifndef FCNN_CLI_VERSION_H
#define FCNN_CLI_VERSION_H

#include <stdio.h>

void fcnn_print_version(FILE *out);

#endif
