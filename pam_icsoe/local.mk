# pam_icsoe: the Linux-PAM module.  A libtool module installed as
# $(pamdir)/pam_icsoe.so (no .la left behind: PAM loads the .so by path).
# The version script exports only the pam_sm_* ABI; -z defs makes a missing
# symbol a link error instead of a dlopen() failure at login time.
# -z nodelete keeps the module (and so libldap, libsasl2, libcurl) loaded
# after pam_end() dlclose()s it: otherwise every PAM transaction of a
# long-lived process reloads libldap, re-runs its global initialisation
# (ldap.conf, SASL plugins, TLS) and leaks that state, about 8 KiB per
# authentication (bench/p5_memory), and pays ~10 ms for it (bench/p3_pam).
pam_LTLIBRARIES = pam_icsoe/pam_icsoe.la
pam_icsoe_pam_icsoe_la_SOURCES = \
	pam_icsoe/pam_icsoe.c \
	pam_icsoe/core.c pam_icsoe/core.h \
	pam_icsoe/auth.c pam_icsoe/account.c \
	pam_icsoe/password.c pam_icsoe/session.c \
	pam_icsoe/args.c pam_icsoe/args.h \
	pam_icsoe/confcache.c pam_icsoe/confcache.h \
	pam_icsoe/conv.c pam_icsoe/conv.h
pam_icsoe_pam_icsoe_la_LDFLAGS = -module -avoid-version -shared \
	-Wl,--version-script=$(srcdir)/pam_icsoe/pam_icsoe.map -Wl,-z,defs \
	-Wl,-z,nodelete
pam_icsoe_pam_icsoe_la_LIBADD = lib/libicsoe.la $(PAM_LIBS)
EXTRA_pam_icsoe_pam_icsoe_la_DEPENDENCIES = $(srcdir)/pam_icsoe/pam_icsoe.map
EXTRA_DIST += pam_icsoe/pam_icsoe.map

dist_man_MANS += man/pam_icsoe.8
nobase_dist_icsoedata_DATA += conf/pam.d/icsoe conf/pam-configs/icsoe \
	conf/pam.d/sshd conf/nss/nslcd.conf conf/ssh/sshd_config.d/icsoe.conf

# Prerequisite-only hook lines so that other fragments can hook too.
install-data-hook: pam-icsoe-install-data-hook
uninstall-hook: pam-icsoe-uninstall-hook
.PHONY: pam-icsoe-install-data-hook pam-icsoe-uninstall-hook
pam-icsoe-install-data-hook:
	rm -f $(DESTDIR)$(pamdir)/pam_icsoe.la
pam-icsoe-uninstall-hook:
	rm -f $(DESTDIR)$(pamdir)/pam_icsoe.so

# "make uninstall" refuses while a PAM stack still names pam_icsoe: removing
# the module would make every login of that stack fail ("Module is
# unknown"), root's su included.  Every automake uninstall rule starts with
# $(NORMAL_UNINSTALL) (the GNU hook for exactly this), so the check runs
# before anything is removed.  ICSOE_PAMD_DIR points it elsewhere (the
# tests use a fake pam.d).
ICSOE_PAMD_DIR = /etc/pam.d
NORMAL_UNINSTALL = $(SHELL) $(top_srcdir)/scripts/uninstall-check '$(ICSOE_PAMD_DIR)'
EXTRA_DIST += scripts/uninstall-check
