# icsoe_pwcheck.so: slapd's password-quality module (pwdCheckModule of
# slapo-ppolicy(5)), installed where slapd's modulepath looks
# (--with-slapd-moduledir, default /usr/lib/ldap).  It carries its own copy
# of the few libicsoe files it needs (configuration, password policy) so
# that slapd does not load libcurl or libcrypto; -z defs makes a missing
# symbol a link error rather than a refused password at run time.
slapdmod_LTLIBRARIES = slapd_icsoe/icsoe_pwcheck.la
slapd_icsoe_icsoe_pwcheck_la_SOURCES = slapd_icsoe/pwcheck.c \
	lib/conf.c lib/conf.h lib/pwpolicy.c lib/pwpolicy.h \
	lib/secure.c lib/secure.h lib/err.c lib/err.h lib/tz.c lib/tz.h \
	lib/fileperm.c lib/fileperm.h
slapd_icsoe_icsoe_pwcheck_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
slapd_icsoe_icsoe_pwcheck_la_LDFLAGS = -module -avoid-version -shared \
	-Wl,--version-script=$(srcdir)/slapd_icsoe/pwcheck.map -Wl,-z,defs
slapd_icsoe_icsoe_pwcheck_la_LIBADD = $(LDAP_LIBS)
EXTRA_slapd_icsoe_icsoe_pwcheck_la_DEPENDENCIES = $(srcdir)/slapd_icsoe/pwcheck.map
EXTRA_DIST += slapd_icsoe/pwcheck.map

install-data-hook: slapd-icsoe-install-data-hook
uninstall-hook: slapd-icsoe-uninstall-hook
.PHONY: slapd-icsoe-install-data-hook slapd-icsoe-uninstall-hook
slapd-icsoe-install-data-hook:
	rm -f $(DESTDIR)$(slapdmoddir)/icsoe_pwcheck.la
slapd-icsoe-uninstall-hook:
	rm -f $(DESTDIR)$(slapdmoddir)/icsoe_pwcheck.so
