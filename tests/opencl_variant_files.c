/* Not a test: a helper of harness-catches-broken-kernel.sh. Prints "OP VARIANT" for every
 * variant in the OpenCL backend's registry that uses the kernel file named on the command
 * line, so that the planted-bug test knows, from the registry itself, which variants a
 * bug in that file must make fail. Exit 1 when no variant uses the file. */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "ocl_registry.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: opencl-variant-files FILE.cl\n");
        return 2;
    }
    int found = 0;
    for (int op = 0; op < FCNN_OP_COUNT; op++)
        for (int i = 0; i < ocl_variant_count(op); i++) {
            const struct ocl_variant *v = ocl_variant_at(op, i);
            for (int f = 0; f < OCL_MAX_VARIANT_FILES && v->files[f]; f++)
                if (strcmp(v->files[f], argv[1]) == 0) {
                    printf("%s %s\n", fcnn_op_name(op), v->name);
                    found++;
                    break;
                }
        }
    return found ? 0 : 1;
}
