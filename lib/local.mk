# libicsoe: the shared core, a libtool convenience library (PIC) linked into
# mod_icsoe.so, pam_icsoe.so, icsoectl and the tests.
noinst_LTLIBRARIES += lib/libicsoe.la
lib_libicsoe_la_SOURCES = \
	lib/err.c lib/err.h lib/log.c lib/log.h \
	lib/secure.c lib/secure.h \
	lib/curp.c lib/curp.h \
	lib/rfc.c lib/rfc.h \
	lib/token.c lib/token.h \
	lib/pwpolicy.c lib/pwpolicy.h \
	lib/input.h lib/form.c lib/redirect.c lib/header.c lib/email.c lib/csv.c \
	lib/template.h lib/template.c \
	lib/session.h lib/session.c lib/session_cache.h lib/session_cache.c \
	lib/efirma.h lib/efirma.c \
	lib/import.h lib/import.c lib/multipart.c \
	lib/mail.h lib/mail.c lib/account.h lib/account.c \
	lib/conf.h lib/conf.c lib/tz.h lib/tz.c \
	lib/dir.h lib/dir_internal.h lib/ldapesc.c lib/dir_conn.c lib/dir_route.c lib/dir_entry.c \
	lib/csn.c lib/csn.h \
	lib/dir_capturist.c lib/dir_contractor.c lib/dir_auth.c lib/dir_token.c \
	lib/dir_pwstate.c lib/dir_posix.c lib/dir_lock.c \
	lib/fileperm.h lib/fileperm.c
lib_libicsoe_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden $(CURL_CFLAGS) $(CRYPTO_CFLAGS)
lib_libicsoe_la_LIBADD = $(LDAP_LIBS) $(CURL_LIBS) $(CRYPTO_LIBS)

# Built-in mail templates, embedded by scripts/embed-templates into a
# generated source in the build directory (no python at build time).
MAIL_TEMPLATE_FILES = \
	templates/mail/activation.txt templates/mail/activation.html \
	templates/mail/reset.txt templates/mail/reset.html \
	templates/mail/password_set.txt templates/mail/password_set.html \
	templates/mail/linked.txt templates/mail/linked.html \
	templates/mail/locked.txt templates/mail/locked.html
nodist_lib_libicsoe_la_SOURCES = lib/mail_templates.c
BUILT_SOURCES = lib/mail_templates.c
CLEANFILES += lib/mail_templates.c
EXTRA_DIST += $(MAIL_TEMPLATE_FILES)
lib/mail_templates.c: $(srcdir)/scripts/embed-templates $(MAIL_TEMPLATE_FILES)
	$(AM_V_GEN)$(MKDIR_P) lib && \
	  $(SHELL) $(srcdir)/scripts/embed-templates -s icsoe_mail_templates -o $@ \
	    `for f in $(MAIL_TEMPLATE_FILES); do echo $(srcdir)/$$f; done`
