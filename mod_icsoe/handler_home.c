/* icsoe-home (seed step 6): the capturist's start page, with the name, the
 * contractor chosen so far, "Seleccionar Contratista" and "Cerrar sesión".
 * Without a session the browser goes to the login page (303) and comes
 * back here afterwards. */
#include "apr_strings.h"
#include "http_protocol.h"
#include "httpd.h"

#include "handlers.h"
#include "secure.h"

static const char *contractor_html(request_rec *r, const icsoe_session *s)
{
    if (s->rfc[0] == '\0')
        return icsoe_pg_box(r, 0, "Aún no eliges el contratista con el que "
                            "vas a trabajar.");
    return apr_pstrcat(r->pool, "<div class=\"notice\" role=\"status\"><p>"
                       "Contratista a trabajar: <strong>",
                       icsoe_pg_esc(r, s->rfc), "</strong> — ",
                       icsoe_pg_esc(r, s->contractor_name), "</p></div>", NULL);
}

int icsoe_handle_home(request_rec *r)
{
    icsoe_session s;
    int rv = OK;

    if (r->method_number != M_GET)
        return icsoe_pg_fail(r, HTTP_METHOD_NOT_ALLOWED);
    if (icsoe_pg_require_login(r, &s, &rv)) {
        icsoe_tvar vars[] = {
            { "name", s.name },
            { "curp", s.curp },
            { "rfc", s.rfc },
            { "contractor_name", s.contractor_name },
            { "contractor_html", contractor_html(r, &s) },
            { "csrf", icsoe_csrf_token(r, &s) },
        };
        rv = icsoe_render_page(r, HTTP_OK, "home", vars,
                               sizeof(vars) / sizeof(vars[0]));
    }
    icsoe_wipe(&s, sizeof(s));
    return rv;
}
