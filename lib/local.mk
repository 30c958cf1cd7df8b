# libicsoe: the shared core, a libtool convenience library (PIC) linked into
# mod_icsoe.so, pam_icsoe.so, icsoectl and the tests.
noinst_LTLIBRARIES += lib/libicsoe.la
lib_libicsoe_la_SOURCES = \
	lib/err.c lib/err.h lib/log.c lib/log.h \
	lib/secure.c lib/secure.h \
	lib/curp.c lib/curp.h \
	lib/input.h lib/form.c lib/redirect.c lib/header.c lib/email.c lib/csv.c \
	lib/template.h lib/template.c
lib_libicsoe_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden $(CURL_CFLAGS) $(CRYPTO_CFLAGS)
lib_libicsoe_la_LIBADD = $(LDAP_LIBS) $(CURL_LIBS) $(CRYPTO_LIBS)
