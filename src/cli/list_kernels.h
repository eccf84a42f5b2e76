/* fcnn --list-kernels: the kernel variants --kernel OP=VARIANT can force. */
#ifndef FCNN_CLI_LIST_KERNELS_H
#define FCNN_CLI_LIST_KERNELS_H

#include <stdio.h>

#include "cli/cli.h"

/* One line per op of each backend that has variants to choose from (--backend's, or every
 * backend of this build): "BACKEND OP VARIANT...". Opens each backend (--device applies). */
int fcnn_list_kernels(const struct fcnn_options *o, FILE *out);

#endif
