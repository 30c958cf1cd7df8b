# integration-test helpers for the apache area
# sealdrv: seals/opens session cookies with a key file and site name, so the
# Apache tests and bench/p1_protected can hold a logged-in session.
check_PROGRAMS += tests/integration/sealdrv
tests_integration_sealdrv_SOURCES = tests/integration/sealdrv.c
tests_integration_sealdrv_LDADD = lib/libicsoe.la $(LDAP_LIBS) $(CURL_LIBS) $(CRYPTO_LIBS)
