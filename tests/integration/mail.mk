# integration-test helpers for the mail area

# icsoe_mail_build unit tests (cmocka)
check_PROGRAMS += tests/unit/test_mail_build
TESTS += tests/unit/test_mail_build
tests_unit_test_mail_build_SOURCES = tests/unit/test_mail_build.c
tests_unit_test_mail_build_CPPFLAGS = $(UNIT_TEST_INCLUDES)
tests_unit_test_mail_build_LDADD = $(UNIT_TEST_LIBS)
