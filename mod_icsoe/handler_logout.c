/* icsoe-logout: POST with the CSRF token ends the session.  The cookie is
 * cleared and the account epoch is bumped in the directory, so a copy of
 * the cookie kept elsewhere is refused at its next revalidation (every
 * session of the account ends: there is no per-session record to revoke).
 * Then the login page says "Sesión cerrada".  GET shows a small
 * confirmation form (a link or an image must not log anybody out). */
#include "http_protocol.h"
#include "httpd.h"

#include "handlers.h"
#include "secure.h"

static int confirm_form(request_rec *r)
{
    icsoe_session s;
    int rv = OK;

    if (!icsoe_session_load(r, &s) || s.curp[0] == '\0') {
        icsoe_wipe(&s, sizeof(s));
        return icsoe_redirect_303(r, icsoe_srv(r)->login_url);
    }
    {
        icsoe_tvar vars[] = {
            { "action", icsoe_pg_self(r) },
            { "csrf", icsoe_csrf_token(r, &s) },
        };
        rv = icsoe_render_page(r, HTTP_OK, "logout", vars,
                               sizeof(vars) / sizeof(vars[0]));
    }
    icsoe_wipe(&s, sizeof(s));
    return rv;
}

static int end_account_sessions(request_rec *r, const char *curp)
{
    icsoe_dir *d = icsoe_dir_acquire(r);
    icsoe_status st = d != NULL ? icsoe_dir_capturist_bump_epoch(d, curp)
                                : ICSOE_ERR_UNAVAILABLE;

    if (st == ICSOE_OK || st == ICSOE_ERR_NOT_FOUND)
        return OK; /* a removed account has no sessions left to end */
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ICSOE_LOGNO(1501)
                  "icsoe logout: could not end the sessions of %s: %s: %s",
                  curp, icsoe_status_name(st),
                  d != NULL ? icsoe_dir_reason(d) : "no directory handle");
    return HTTP_SERVICE_UNAVAILABLE;
}

static int do_logout(request_rec *r)
{
    icsoe_form *f = icsoe_pg_new_form(r);
    icsoe_session s;
    int rv = icsoe_read_form(r, f);

    if (rv != OK)
        return icsoe_pg_fail(r, rv);
    if (!icsoe_session_load(r, &s)) {
        /* Nothing to end (expired or no cookie): just show the result. */
        icsoe_wipe(&s, sizeof(s));
        return icsoe_pg_login_after_logout(r);
    }
    rv = icsoe_check_csrf(r, &s, f);
    if (rv != OK) {
        rv = icsoe_pg_fail(r, rv);
        goto out;
    }
    if (s.curp[0] != '\0') {
        rv = end_account_sessions(r, s.curp);
        if (rv != OK) {
            /* This browser is logged out anyway; say the directory failed,
             * since other copies of the session could not be ended. */
            icsoe_session_clear(r);
            icsoe_audit(r, "logout", s.curp, "directory-unavailable");
            rv = icsoe_pg_fail(r, rv);
            goto out;
        }
        icsoe_audit(r, "logout", s.curp, NULL);
    }
    /* The new pre-login cookie replaces the old one. */
    rv = icsoe_pg_login_after_logout(r);
out:
    icsoe_wipe(&s, sizeof(s));
    return rv;
}

int icsoe_handle_logout(request_rec *r)
{
    if (r->method_number == M_GET)
        return confirm_form(r);
    if (r->method_number == M_POST)
        return do_logout(r);
    return icsoe_pg_fail(r, HTTP_METHOD_NOT_ALLOWED);
}
