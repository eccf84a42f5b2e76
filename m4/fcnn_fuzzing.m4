# FCNN_ENABLE_FUZZING: --enable-fuzzing builds the whole tree with clang's coverage
# instrumentation, ASan and UBSan (-fsanitize=fuzzer-no-link,address,undefined), and links
# the fuzz targets in tests/fuzz/ with libFuzzer's main (-fsanitize=fuzzer), for
# `make fuzz`. Needs a compiler with libFuzzer: ./configure --enable-fuzzing CC=clang.
AC_DEFUN([FCNN_ENABLE_FUZZING], [
  AC_ARG_ENABLE([fuzzing],
    [AS_HELP_STRING([--enable-fuzzing],
                    [build libFuzzer targets (needs CC=clang) @<:@default=no@:>@])],
    [], [enable_fuzzing=no])
  FUZZ_LDFLAGS=
  AS_IF([test "x$enable_fuzzing" = xyes], [
    AC_MSG_CHECKING([whether $CC links libFuzzer targets])
    fcnn_save_CFLAGS=$CFLAGS
    CFLAGS="$CFLAGS -fsanitize=fuzzer,address,undefined"
    AC_LINK_IFELSE([AC_LANG_SOURCE([[
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }
]])], [AC_MSG_RESULT([yes])],
      [AC_MSG_RESULT([no])
       AC_MSG_ERROR([--enable-fuzzing needs a compiler with libFuzzer: configure with CC=clang])])
    CFLAGS="$fcnn_save_CFLAGS -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
    LDFLAGS="$LDFLAGS -fsanitize=address,undefined"
    FUZZ_LDFLAGS=-fsanitize=fuzzer])
  AC_SUBST([FUZZ_LDFLAGS])
  AM_CONDITIONAL([FUZZING], [test "x$enable_fuzzing" = xyes])
])
