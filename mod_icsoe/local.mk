# mod_icsoe: the Apache module, a libtool module installed as
# $(apachemoddir)/mod_icsoe.so.  Only the module record (icsoe_module) is
# exported; libicsoe is linked in statically (convenience library).
apachemod_LTLIBRARIES = mod_icsoe/mod_icsoe.la

# core (config, session cookie, directory pool, forms, pages, auth)
mod_icsoe_mod_icsoe_la_SOURCES = \
	mod_icsoe/mod_icsoe.h mod_icsoe/mod_icsoe.c mod_icsoe/config.c \
	mod_icsoe/session_cookie.c mod_icsoe/dirpool.c mod_icsoe/form.c \
	mod_icsoe/page.c mod_icsoe/scrub.c mod_icsoe/redact.c mod_icsoe/auth.c \
	mod_icsoe/appinfo.c mod_icsoe/https_only.c mod_icsoe/cookie_strip.c \
	mod_icsoe/template_check.c
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

# Debian-style files.  "make install" puts icsoe.load (generated with the
# configured module directory) and icsoe.conf (commented defaults only) in
# $(apacheconfdir)/mods-available, so "a2enmod icsoe" works after a source
# install too; an icsoe.conf already there is the admin's and is kept.  The
# pages snippet, meant to be included inside the HTTPS <VirtualHost>, goes
# under $(icsoedatadir)/conf/apache2/ with copies of the other two.
nobase_dist_icsoedata_DATA += conf/apache2/icsoe.conf \
	conf/apache2/icsoe-pages.conf
nobase_nodist_icsoedata_DATA = conf/apache2/icsoe.load
apachemodsdir = $(apacheconfdir)/mods-available
dist_man_MANS += man/mod_icsoe.8
EXTRA_DIST += conf/apache2/icsoe.load.in
CLEANFILES += conf/apache2/icsoe.load
conf/apache2/icsoe.load: $(srcdir)/conf/apache2/icsoe.load.in Makefile
	$(AM_V_GEN)$(MKDIR_P) conf/apache2 && \
	  sed -e 's|@apachemoddir[@]|$(apachemoddir)|g' \
	    $(srcdir)/conf/apache2/icsoe.load.in > $@.tmp && mv $@.tmp $@
all-local: conf/apache2/icsoe.load

install-data-local: mod-icsoe-install-mods-available
mod-icsoe-install-mods-available: conf/apache2/icsoe.load
	$(MKDIR_P) '$(DESTDIR)$(apachemodsdir)'
	$(INSTALL_DATA) conf/apache2/icsoe.load '$(DESTDIR)$(apachemodsdir)/icsoe.load'
	@if test -f '$(DESTDIR)$(apachemodsdir)/icsoe.conf'; then \
	  echo "make install: keeping the existing $(DESTDIR)$(apachemodsdir)/icsoe.conf"; \
	else \
	  echo " $(INSTALL_DATA) $(srcdir)/conf/apache2/icsoe.conf '$(DESTDIR)$(apachemodsdir)/icsoe.conf'"; \
	  $(INSTALL_DATA) $(srcdir)/conf/apache2/icsoe.conf '$(DESTDIR)$(apachemodsdir)/icsoe.conf'; \
	fi
# icsoe.conf goes only when it is still the file we installed.
uninstall-local: mod-icsoe-uninstall-mods-available
mod-icsoe-uninstall-mods-available:
	rm -f '$(DESTDIR)$(apachemodsdir)/icsoe.load'
	if cmp -s $(srcdir)/conf/apache2/icsoe.conf '$(DESTDIR)$(apachemodsdir)/icsoe.conf'; then \
	  rm -f '$(DESTDIR)$(apachemodsdir)/icsoe.conf'; fi
.PHONY: mod-icsoe-install-mods-available mod-icsoe-uninstall-mods-available

# Apache loads mod_icsoe.so, not the libtool archive.
install-data-hook: mod-icsoe-install-data-hook
mod-icsoe-install-data-hook:
	rm -f $(DESTDIR)$(apachemoddir)/mod_icsoe.la
uninstall-hook: mod-icsoe-uninstall-hook
mod-icsoe-uninstall-hook:
	rm -f $(DESTDIR)$(apachemoddir)/mod_icsoe.so
.PHONY: mod-icsoe-install-data-hook mod-icsoe-uninstall-hook
