/* Stands in for an OpenCL test in a build without the OpenCL backend, so that the test
 * shows as SKIP in make check's summary instead of vanishing from it. */
#include <config.h>

#include <stdio.h>

int main(void)
{
    puts("SKIP: this build has no OpenCL backend (configure found no OpenCL or CLBlast)");
    return 77;
}
