# mod_icsoe: the Apache module, a libtool module installed as
# $(apachemoddir)/mod_icsoe.so.  Only the module record (icsoe_module) is
# exported; libicsoe is linked in statically (convenience library).
apachemod_LTLIBRARIES = mod_icsoe/mod_icsoe.la

# core (config, session cookie, directory pool, forms, pages, auth)
mod_icsoe_mod_icsoe_la_SOURCES = \
	mod_icsoe/mod_icsoe.h mod_icsoe/mod_icsoe.c mod_icsoe/config.c \
	mod_icsoe/session_cookie.c mod_icsoe/dirpool.c mod_icsoe/form.c \
	mod_icsoe/page.c mod_icsoe/scrub.c mod_icsoe/auth.c mod_icsoe/appinfo.c
# ---- MODPAGES: page handler sources go on the next line ----
include $(srcdir)/mod_icsoe/pages.mk
# ---- end of MODPAGES sources ----
mod_icsoe_mod_icsoe_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/mod_icsoe \
	-I$(APXS_INCLUDEDIR) $(APR_INCLUDES) $(APR_CPPFLAGS)
mod_icsoe_mod_icsoe_la_CFLAGS = $(AM_CFLAGS)
mod_icsoe_mod_icsoe_la_LDFLAGS = -module -avoid-version -shared \
	-export-symbols-regex '^icsoe_module$$'
mod_icsoe_mod_icsoe_la_LIBADD = lib/libicsoe.la $(LDAP_LIBS) $(CURL_LIBS) \
	$(CRYPTO_LIBS)

# Debian-style snippets (a2enmod icsoe), installed as examples.
nobase_dist_icsoedata_DATA += conf/apache2/icsoe.load conf/apache2/icsoe.conf

# Apache loads mod_icsoe.so, not the libtool archive.
install-data-hook: mod-icsoe-install-data-hook
mod-icsoe-install-data-hook:
	rm -f $(DESTDIR)$(apachemoddir)/mod_icsoe.la
uninstall-hook: mod-icsoe-uninstall-hook
mod-icsoe-uninstall-hook:
	rm -f $(DESTDIR)$(apachemoddir)/mod_icsoe.so
.PHONY: mod-icsoe-install-data-hook mod-icsoe-uninstall-hook
