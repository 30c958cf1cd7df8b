# CURP/RFC/password/token unit tests
VALIDATION_UNIT_TESTS = \
	tests/unit/test_curp
check_PROGRAMS += $(VALIDATION_UNIT_TESTS)
TESTS += $(VALIDATION_UNIT_TESTS)

tests_unit_test_curp_SOURCES = tests/unit/test_curp.c
tests_unit_test_curp_CPPFLAGS = $(UNIT_TEST_INCLUDES)
tests_unit_test_curp_LDADD = $(UNIT_TEST_LIBS)
