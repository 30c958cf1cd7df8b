# form/redirect/header/email/csv/template/session unit tests
INPUT_UNIT_TESTS = \
	tests/unit/test_form \
	tests/unit/test_redirect \
	tests/unit/test_header \
	tests/unit/test_email \
	tests/unit/test_csv \
	tests/unit/test_template \
	tests/unit/test_session \
	tests/unit/test_import
check_PROGRAMS += $(INPUT_UNIT_TESTS)
TESTS += $(INPUT_UNIT_TESTS)

tests_unit_test_form_SOURCES = tests/unit/test_form.c
tests_unit_test_form_CPPFLAGS = $(UNIT_TEST_INCLUDES)
tests_unit_test_form_LDADD = $(UNIT_TEST_LIBS)

tests_unit_test_redirect_SOURCES = tests/unit/test_redirect.c
tests_unit_test_redirect_CPPFLAGS = $(UNIT_TEST_INCLUDES)
tests_unit_test_redirect_LDADD = $(UNIT_TEST_LIBS)

tests_unit_test_header_SOURCES = tests/unit/test_header.c
tests_unit_test_header_CPPFLAGS = $(UNIT_TEST_INCLUDES)
tests_unit_test_header_LDADD = $(UNIT_TEST_LIBS)

tests_unit_test_email_SOURCES = tests/unit/test_email.c
tests_unit_test_email_CPPFLAGS = $(UNIT_TEST_INCLUDES)
tests_unit_test_email_LDADD = $(UNIT_TEST_LIBS)

tests_unit_test_csv_SOURCES = tests/unit/test_csv.c
tests_unit_test_csv_CPPFLAGS = $(UNIT_TEST_INCLUDES)
tests_unit_test_csv_LDADD = $(UNIT_TEST_LIBS)

tests_unit_test_template_SOURCES = tests/unit/test_template.c
tests_unit_test_template_CPPFLAGS = $(UNIT_TEST_INCLUDES)
tests_unit_test_template_LDADD = $(UNIT_TEST_LIBS)

tests_unit_test_session_SOURCES = tests/unit/test_session.c
tests_unit_test_session_CPPFLAGS = $(UNIT_TEST_INCLUDES) $(CRYPTO_CFLAGS)
tests_unit_test_session_LDADD = $(UNIT_TEST_LIBS)

tests_unit_test_import_SOURCES = tests/unit/test_import.c
tests_unit_test_import_CPPFLAGS = $(UNIT_TEST_INCLUDES)
tests_unit_test_import_LDADD = $(UNIT_TEST_LIBS)
