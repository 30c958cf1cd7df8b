# integration-test helpers for the pam area
# pamdrv: a PAM application printing exact return codes and conversation
# events, with a multi-threaded mode (see the header of pamdrv.c).
check_PROGRAMS += tests/integration/pamdrv
tests_integration_pamdrv_SOURCES = tests/integration/pamdrv.c
tests_integration_pamdrv_LDADD = $(PAM_LIBS) -lpthread
