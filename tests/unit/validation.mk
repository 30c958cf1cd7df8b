# CURP/RFC/password/token/CSN unit tests
VALIDATION_UNIT_TESTS = \
	tests/unit/test_curp \
	tests/unit/test_csn \
	tests/unit/test_rfc \
	tests/unit/test_token \
	tests/unit/test_secure \
	tests/unit/test_pwpolicy
check_PROGRAMS += $(VALIDATION_UNIT_TESTS)
TESTS += $(VALIDATION_UNIT_TESTS)

tests_unit_test_curp_SOURCES = tests/unit/test_curp.c
tests_unit_test_curp_CPPFLAGS = $(UNIT_TEST_INCLUDES)
tests_unit_test_curp_LDADD = $(UNIT_TEST_LIBS)

tests_unit_test_rfc_SOURCES = tests/unit/test_rfc.c
tests_unit_test_rfc_CPPFLAGS = $(UNIT_TEST_INCLUDES)
tests_unit_test_rfc_LDADD = $(UNIT_TEST_LIBS)

tests_unit_test_token_SOURCES = tests/unit/test_token.c
tests_unit_test_token_CPPFLAGS = $(UNIT_TEST_INCLUDES)
tests_unit_test_token_LDADD = $(UNIT_TEST_LIBS)

tests_unit_test_secure_SOURCES = tests/unit/test_secure.c
tests_unit_test_secure_CPPFLAGS = $(UNIT_TEST_INCLUDES)
tests_unit_test_secure_LDADD = $(UNIT_TEST_LIBS)

tests_unit_test_pwpolicy_SOURCES = tests/unit/test_pwpolicy.c
tests_unit_test_pwpolicy_CPPFLAGS = $(UNIT_TEST_INCLUDES)
tests_unit_test_pwpolicy_LDADD = $(UNIT_TEST_LIBS)

tests_unit_test_csn_SOURCES = tests/unit/test_csn.c
tests_unit_test_csn_CPPFLAGS = $(UNIT_TEST_INCLUDES)
tests_unit_test_csn_LDADD = $(UNIT_TEST_LIBS)
