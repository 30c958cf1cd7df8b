# integration-test helpers for the dir area
# dirdrv: the library's config and directory operations as a command for
# pytest (tests/integration/test_conf.py, test_dir.py, test_tokens.py).
# Built by "make check" (check-local depends on check_PROGRAMS), not a TEST.
check_PROGRAMS += tests/integration/dirdrv
tests_integration_dirdrv_SOURCES = tests/integration/dirdrv.c
tests_integration_dirdrv_LDADD = lib/libicsoe.la $(LDAP_LIBS) $(CURL_LIBS) $(CRYPTO_LIBS) -lpthread

# pwcheckdrv: slapd_icsoe's check_password called as slapd 2.5 calls it
# (test_pwcheck.py: valgrind and threads).
check_PROGRAMS += tests/integration/pwcheckdrv
tests_integration_pwcheckdrv_SOURCES = tests/integration/pwcheckdrv.c
tests_integration_pwcheckdrv_LDADD = -ldl -lpthread
