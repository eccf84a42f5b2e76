#include <config.h>
#include <stdio.h>
#include "backend.h"
int main(void) { printf("%s\n", fcnn_backend_names()); return 0; }
