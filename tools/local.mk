# icsoectl: the administration CLI (see man/icsoectl.8, docs/icsoectl.md).
sbin_PROGRAMS += tools/icsoectl
tools_icsoectl_SOURCES = \
	tools/icsoectl.c tools/icsoectl.h \
	tools/output.c tools/output.h \
	tools/cmd_contractor.c tools/cmd_capturist.c tools/cmd_import.c \
	tools/cmd_key.c tools/cmd_check.c tools/cmd_validate.c tools/cmd_efirma.c tools/cmd_posix.c
tools_icsoectl_LDADD = lib/libicsoe.la $(LDAP_LIBS) $(CURL_LIBS) $(CRYPTO_LIBS)
dist_man_MANS += man/icsoectl.8 man/icsoe.conf.5
EXTRA_DIST += docs/icsoectl.md
