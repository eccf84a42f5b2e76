# FCNN_ENABLE_SANITIZERS: --enable-sanitizers builds everything with ASan and UBSan,
# so `make check` doubles as a memory-safety run of the loaders and the ops.
AC_DEFUN([FCNN_ENABLE_SANITIZERS], [
  AC_ARG_ENABLE([sanitizers],
    [AS_HELP_STRING([--enable-sanitizers],
                    [build with -fsanitize=address,undefined @<:@default=no@:>@])],
    [], [enable_sanitizers=no])
  AS_IF([test "x$enable_sanitizers" = xyes], [
    CFLAGS="$CFLAGS -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
    LDFLAGS="$LDFLAGS -fsanitize=address,undefined"])
])
