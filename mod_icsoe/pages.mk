# MODPAGES: the page handlers and their built-in templates (included from
# mod_icsoe/local.mk).
mod_icsoe_mod_icsoe_la_SOURCES += \
	mod_icsoe/handlers.h mod_icsoe/handler_util.c \
	mod_icsoe/handler_activate.c mod_icsoe/handler_login.c \
	mod_icsoe/handler_recover.c mod_icsoe/handler_home.c \
	mod_icsoe/handler_logout.c mod_icsoe/handler_select.c \
	mod_icsoe/contractor_id.c mod_icsoe/handler_capturists.c \
	mod_icsoe/handler_bulk.c

# templates/pages/* compiled into the module as icsoe_page_templates (names
# are the file names: "login.html", "icsoe.css"), and installed so a
# sysadmin can copy one into ICSOETemplateDir and edit it.
PAGE_TEMPLATE_FILES = \
	templates/pages/icsoe.css \
	templates/pages/login.html templates/pages/activate.html \
	templates/pages/activate_done.html templates/pages/invalid_link.html \
	templates/pages/recover.html templates/pages/recover_sent.html \
	templates/pages/home.html templates/pages/logout.html \
	templates/pages/select.html templates/pages/select_confirm.html \
	templates/pages/select_none.html \
	templates/pages/capturists.html templates/pages/contractor_refused.html \
	templates/pages/error.html templates/pages/error_403.html \
	templates/pages/error_404.html templates/pages/error_405.html \
	templates/pages/error_413.html templates/pages/error_500.html \
	templates/pages/error_503.html
nodist_mod_icsoe_mod_icsoe_la_SOURCES = mod_icsoe/page_templates.c
BUILT_SOURCES += mod_icsoe/page_templates.c
CLEANFILES += mod_icsoe/page_templates.c
nobase_dist_icsoedata_DATA += $(PAGE_TEMPLATE_FILES)
EXTRA_DIST += mod_icsoe/pages.mk
mod_icsoe/page_templates.c: $(srcdir)/scripts/embed-templates $(PAGE_TEMPLATE_FILES)
	$(AM_V_GEN)$(MKDIR_P) mod_icsoe && \
	  $(SHELL) $(srcdir)/scripts/embed-templates -s icsoe_page_templates -o $@ \
	    `for f in $(PAGE_TEMPLATE_FILES); do echo $(srcdir)/$$f; done`
