# Bash completion, installed as "fcnn" where bash-completion loads it on demand (configure
# chooses the directory: --with-bash-completion-dir).
if INSTALL_BASH_COMPLETION
dist_bashcompletion_DATA = %reldir%/fcnn
else
EXTRA_DIST += %reldir%/fcnn
endif
