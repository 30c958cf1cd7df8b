# Tests.  Unit tests (cmocka) are automake TESTS; the integration tests
# (pytest against real slapd, apache2, SMTP, Linux-PAM) run from check-local
# so that "make check" runs everything.  Each area declares its unit tests
# in its own fragment.
UNIT_TEST_INCLUDES = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS)
UNIT_TEST_LIBS = lib/libicsoe.la $(CMOCKA_LIBS) $(LDAP_LIBS) $(CURL_LIBS) $(CRYPTO_LIBS)

include $(srcdir)/tests/unit/validation.mk
include $(srcdir)/tests/unit/input.mk
include $(srcdir)/tests/integration/dir.mk
include $(srcdir)/tests/integration/mail.mk
include $(srcdir)/tests/integration/pam.mk
include $(srcdir)/tests/integration/ctl.mk
include $(srcdir)/tests/integration/apache.mk
include $(srcdir)/tests/fuzz/fuzz.mk

EXTRA_DIST += tests/integration tests/e2e tests/fuzz

# Integration tests: pytest from Debian's python (the PATH one may be a pyenv
# interpreter that cannot see python3-* packages).  PYTEST_ARGS narrows runs.
PYTHON_FOR_TESTS = /usr/bin/python3
check-local: $(check_PROGRAMS) $(noinst_PROGRAMS) $(sbin_PROGRAMS)
	ICSOE_SRCDIR=$(abs_top_srcdir) ICSOE_BUILDDIR=$(abs_top_builddir) \
	  $(PYTHON_FOR_TESTS) -m pytest -p no:cacheprovider -q -rs \
	  $(abs_top_srcdir)/tests/integration $(PYTEST_ARGS)
