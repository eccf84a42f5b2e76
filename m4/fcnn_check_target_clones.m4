# FCNN_CHECK_TARGET_CLONES: whether the compiler, linker and C library can build a function
# for several x86-64 instruction sets and pick one at load time (target_clones, through an
# ifunc) on a function that sanitizers leave alone (no_sanitize), as the reference
# backend's convolution loops ask (backends/ref/ref.h). GCC can; clang 14 cannot combine
# the two attributes, and its builds then compile those loops once.
AC_DEFUN([FCNN_CHECK_TARGET_CLONES], [
  AC_CACHE_CHECK([whether $CC builds functions for AVX2 and AVX-512 beside the default],
                 [fcnn_cv_target_clones], [
    fcnn_save_CFLAGS=$CFLAGS
    CFLAGS="$CFLAGS -Werror"
    AC_LINK_IFELSE([AC_LANG_PROGRAM([[
__attribute__((target_clones("avx512f", "avx2", "default")))
__attribute__((no_sanitize("address", "undefined")))
static int twice(int x) { return 2 * x; }
]], [[return twice(0);]])], [fcnn_cv_target_clones=yes], [fcnn_cv_target_clones=no])
    CFLAGS=$fcnn_save_CFLAGS])
  AS_IF([test "x$fcnn_cv_target_clones" = xyes],
        [AC_DEFINE([HAVE_TARGET_CLONES], [1],
                   [Define if functions can be built for several x86-64 instruction sets.])])
])
