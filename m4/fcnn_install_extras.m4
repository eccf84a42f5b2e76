# FCNN_INSTALL_EXTRAS: what `make install` puts beside the program.
#  - The man page is generated from `fcnn --help` by help2man; release tarballs carry the
#    generated page, so help2man is needed only when the help text changed (missing says so).
#  - The bash completion goes where bash-completion looks for it: pkg-config's
#    completionsdir for bash-completion, kept relative to --prefix (so a --prefix=$HOME
#    install or `make distcheck` never writes into /usr), else
#    DATADIR/bash-completion/completions. --with-bash-completion-dir=DIR overrides;
#    =no installs none.
AC_DEFUN([FCNN_INSTALL_EXTRAS], [
  AM_MISSING_PROG([HELP2MAN], [help2man])
  AC_ARG_WITH([bash-completion-dir],
    [AS_HELP_STRING([--with-bash-completion-dir@<:@=DIR|no@:>@],
                    [install the bash completion in DIR @<:@default: bash-completion's completionsdir under PREFIX, else DATADIR/bash-completion/completions@:>@])],
    [], [with_bash_completion_dir=auto])
  AS_CASE([$with_bash_completion_dir],
    [auto|yes], [
      bashcompletiondir='${datadir}/bash-completion/completions'
      AS_IF([test -n "$PKG_CONFIG" && $PKG_CONFIG --exists bash-completion 2>/dev/null], [
        fcnn_bc_dir=`$PKG_CONFIG --variable=completionsdir bash-completion`
        fcnn_bc_prefix=`$PKG_CONFIG --variable=prefix bash-completion`
        AS_CASE([$fcnn_bc_dir],
          ["$fcnn_bc_prefix"/*],
            [bashcompletiondir='${prefix}'`echo "$fcnn_bc_dir" | sed "s|^$fcnn_bc_prefix||"`],
          [bashcompletiondir=$fcnn_bc_dir])])],
    [no], [bashcompletiondir=],
    [bashcompletiondir=$with_bash_completion_dir])
  AC_SUBST([bashcompletiondir])
  AM_CONDITIONAL([INSTALL_BASH_COMPLETION], [test -n "$bashcompletiondir"])
])
