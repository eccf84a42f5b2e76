# The man page, generated from `fcnn --help` by help2man (with the sections in fcnn.h2m).
# It depends on the help text's source and the version, not on the fcnn binary, so a
# release tarball's page is up to date and building from a tarball needs no help2man.
# The version comes from configure (--version-string), so the page never records the
# libraries of the machine that generated it.
dist_man_MANS = fcnn.1
EXTRA_DIST += %reldir%/fcnn.h2m
# fcnn itself is an order-only prerequisite (GNU make): built first, but never a reason
# to regenerate.
fcnn.1: $(top_srcdir)/src/cli/cli.c $(top_srcdir)/configure.ac $(srcdir)/%reldir%/fcnn.h2m \
	| fcnn$(EXEEXT)
	$(AM_V_GEN)$(HELP2MAN) --no-info --no-discard-stderr --version-string=$(PACKAGE_VERSION) \
	  --include=$(srcdir)/%reldir%/fcnn.h2m --output=$@.tmp ./fcnn$(EXEEXT) && \
	mv $@.tmp $@
