# integration-test helpers for the mail area

# icsoe_mail_build unit tests (cmocka)
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_mail_build
TESTS += tests/unit/test_mail_build
endif
tests_unit_test_mail_build_SOURCES = tests/unit/test_mail_build.c
tests_unit_test_mail_build_CPPFLAGS = $(UNIT_TEST_INCLUDES)
tests_unit_test_mail_build_LDADD = $(UNIT_TEST_LIBS)

# maildrv: a small driver the pytest suite uses to send mails through
# libicsoe (built by "make check", not run as a test itself).
check_PROGRAMS += tests/integration/maildrv
tests_integration_maildrv_SOURCES = tests/integration/maildrv.c
tests_integration_maildrv_LDADD = $(UNIT_TEST_LIBS)

# lib/tz.c: zones for the times in mails (cmocka)
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_tz
TESTS += tests/unit/test_tz
endif
tests_unit_test_tz_SOURCES = tests/unit/test_tz.c
tests_unit_test_tz_CPPFLAGS = $(UNIT_TEST_INCLUDES)
tests_unit_test_tz_LDADD = $(UNIT_TEST_LIBS)
