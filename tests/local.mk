# Tests.  Unit tests (cmocka) are automake TESTS; the integration tests
# (pytest against real slapd, apache2, SMTP, Linux-PAM) run from check-local
# so that "make check" runs everything.  Each area declares its unit tests
# in its own fragment.
UNIT_TEST_INCLUDES = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS)
UNIT_TEST_LIBS = lib/libicsoe.la $(CMOCKA_LIBS) $(LDAP_LIBS) $(CURL_LIBS) $(CRYPTO_LIBS)

# The cmocka unit tests are built and run only when configure found cmocka
# (a distribution may build without it); "make check" says when they are
# skipped.  A new cmocka test goes inside this conditional too.
if HAVE_CMOCKA
include $(srcdir)/tests/unit/validation.mk
include $(srcdir)/tests/unit/input.mk
UNIT_TESTS_SKIPPED = :
else
UNIT_TESTS_SKIPPED = echo "make check: cmocka not found at configure time: the unit tests (tests/unit) were SKIPPED; install libcmocka-dev and re-run configure to run them"
endif
include $(srcdir)/tests/integration/dir.mk
include $(srcdir)/tests/integration/mail.mk
include $(srcdir)/tests/integration/pam.mk
include $(srcdir)/tests/integration/ctl.mk
include $(srcdir)/tests/integration/apache.mk
include $(srcdir)/tests/fuzz/fuzz.mk

EXTRA_DIST += tests/integration tests/e2e tests/fuzz tests/ssh tests/install

# Integration tests: pytest from Debian's python (the PATH one may be a pyenv
# interpreter that cannot see python3-* packages).  PYTEST_ARGS narrows runs.
# ICSOE_INTEGRATION=no leaves them out (a package build has no servers).
# results.xml (JUnit) lets scripts/test-failures name the failing tests.
# The temporary directories live in the build tree (kept until the next run,
# for post-mortems), not in /tmp/pytest-of-USER: every pytest started by the
# same user chmods that one to 0700, which cuts off the Apache children
# (www-data) of a run that is still going.
PYTHON_FOR_TESTS = /usr/bin/python3
ICSOE_INTEGRATION = yes
PYTEST_RESULTS = tests/integration/results.xml
PYTEST_TMP = tests/integration-tmp
CLEANFILES += $(PYTEST_RESULTS)
clean-local:
	rm -rf $(PYTEST_TMP)
check-local: $(check_PROGRAMS) $(noinst_PROGRAMS) $(sbin_PROGRAMS)
	@$(UNIT_TESTS_SKIPPED)
	@rm -f $(PYTEST_RESULTS)
	@if test "$(ICSOE_INTEGRATION)" = no; then \
	  echo "make check: integration tests skipped (ICSOE_INTEGRATION=no)"; \
	  exit 0; fi; \
	ICSOE_SRCDIR=$(abs_top_srcdir) ICSOE_BUILDDIR=$(abs_top_builddir) \
	  $(PYTHON_FOR_TESTS) -m pytest -p no:cacheprovider -q -rs \
	  --basetemp=$(abs_top_builddir)/$(PYTEST_TMP) \
	  --junitxml=$(abs_top_builddir)/$(PYTEST_RESULTS) \
	  $(abs_top_srcdir)/tests/integration $(PYTEST_ARGS)
