/* icsoe-activate (seed steps 2-4): the page behind the emailed link, for
 * activation and password-reset tokens alike.
 *
 * GET ?t=TOKEN only looks the token up (mail scanners prefetch links, so a
 * GET must never spend it) and shows "Contraseña nueva", "Confirmar
 * contraseña", the rules and "Guardar Contraseña".  POST checks CSRF, the
 * confirmation and the policy (every failed rule listed, the passwords
 * never echoed), then consumes the token and sets the password in one
 * atomic directory operation.  Setting a password never logs in; the
 * consume bumps the account epoch, which ends its other sessions. */
#include <string.h>

#include "apr_strings.h"
#include "http_protocol.h"
#include "httpd.h"

#include "account.h"
#include "handlers.h"
#include "pwpolicy.h"
#include "secure.h"
#include "token.h"

#define MSG_MISMATCH "Las contraseñas no coinciden."
#define MSG_DIR_POLICY "El directorio rechazó la contraseña (por ejemplo, " \
    "porque ya la usaste antes o la cambiaste hace muy poco). Elige otra."
#define RULES_MAX 16

/* The capturist the token belongs to, or why there is none. */
typedef struct token_owner {
    icsoe_capturist c;
    const char *token;  /* NULL when the field is missing or malformed */
} token_owner;

static apr_status_t capturist_cleanup(void *data)
{
    icsoe_capturist_clear(data);
    return APR_SUCCESS;
}

/* Look the token up without consuming it.  ICSOE_ERR_NOT_FOUND covers a
 * missing, malformed, unknown or used token and an account that is locked
 * (a link must not unlock what an administrator locked). */
static icsoe_status lookup(request_rec *r, token_owner **op, const char *token)
{
    token_owner *o = apr_pcalloc(r->pool, sizeof(*o));
    icsoe_dir *d;
    icsoe_status st;

    *op = o;
    apr_pool_cleanup_register(r->pool, &o->c, capturist_cleanup,
                              apr_pool_cleanup_null);
    if (token == NULL || strlen(token) != ICSOE_TOKEN_LEN)
        return ICSOE_ERR_NOT_FOUND;
    o->token = token;
    d = icsoe_dir_acquire(r);
    if (d == NULL)
        return ICSOE_ERR_UNAVAILABLE;
    st = icsoe_dir_token_lookup(d, token, 0, &o->c);
    if (st == ICSOE_ERR_UNAVAILABLE)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ICSOE_LOGNO(1201)
                      "icsoe activate: token lookup: directory unavailable: %s",
                      icsoe_dir_reason(d));
    if (st == ICSOE_OK && o->c.status == ICSOE_CAPTURIST_LOCKED)
        return ICSOE_ERR_LOCKED;
    return st;
}

static int invalid_link(request_rec *r, const char *curp, const char *why)
{
    icsoe_tvar vars[] = {
    };

    icsoe_audit(r, "activation-failed", curp != NULL && curp[0] != '\0' ? curp : NULL,
                why);
    return icsoe_render_page(r, HTTP_NOT_FOUND, "invalid_link", vars,
                             sizeof(vars) / sizeof(vars[0]));
}

/* Map a lookup/consume failure to the page the user sees. */
static int lookup_failed(request_rec *r, icsoe_status st, const char *curp)
{
    switch (st) {
    case ICSOE_ERR_UNAVAILABLE:
        return icsoe_pg_fail(r, HTTP_SERVICE_UNAVAILABLE);
    case ICSOE_ERR_INTERNAL:
        return icsoe_pg_fail(r, HTTP_INTERNAL_SERVER_ERROR);
    case ICSOE_ERR_EXPIRED:
        return invalid_link(r, curp, "token-expired");
    case ICSOE_ERR_LOCKED:
        return invalid_link(r, curp, "account-locked");
    default:
        return invalid_link(r, curp, "token-invalid");
    }
}

static const char *rules_html(request_rec *r, const icsoe_pwpolicy *p)
{
    char lines[RULES_MAX][160];
    size_t n = icsoe_pwpolicy_describe(p, lines, RULES_MAX);
    const char *html = "";

    for (size_t i = 0; i < n && i < RULES_MAX; i++) {
        lines[i][sizeof(lines[i]) - 1] = '\0';
        html = apr_pstrcat(r->pool, html, "<li>", icsoe_pg_esc(r, lines[i]),
                           "</li>\n", NULL);
    }
    return html;
}

/* The alert listing every problem, or "" when there is none. */
static const char *errors_html(request_rec *r, const icsoe_pwpolicy *p,
                               unsigned failed, const char *extra)
{
    const char *items = "";
    char buf[256];

    if (extra != NULL)
        items = apr_pstrcat(r->pool, items, "<li>", icsoe_pg_esc(r, extra),
                            "</li>\n", NULL);
    for (unsigned bit = 0; bit < ICSOE_PW_RULE_COUNT; bit++) {
        unsigned rule = 1u << bit;
        if ((failed & rule) == 0)
            continue;
        buf[0] = '\0';
        icsoe_pwpolicy_rule_message(p, rule, buf, sizeof(buf));
        buf[sizeof(buf) - 1] = '\0';
        items = apr_pstrcat(r->pool, items, "<li>", icsoe_pg_esc(r, buf),
                            "</li>\n", NULL);
    }
    if (items[0] == '\0')
        return "";
    return apr_pstrcat(r->pool, "<div class=\"alert\" role=\"alert\">"
                       "<p>Revisa lo siguiente:</p>\n<ul>\n", items,
                       "</ul></div>", NULL);
}

static int show_form(request_rec *r, const icsoe_session *s,
                     const token_owner *o, const char *errors)
{
    const icsoe_conf *conf = icsoe_srv(r)->conf;
    icsoe_tvar vars[] = {
        { "action", icsoe_pg_self(r) },
        { "csrf", icsoe_csrf_token(r, s) },
        { "token", o->token },
        { "curp", o->c.curp },
        { "name", o->c.name },
        { "rules_html", rules_html(r, &conf->pwpolicy) },
        { "errors_html", errors != NULL ? errors : "" },
    };
    return icsoe_render_page(r, HTTP_OK, "activate", vars,
                             sizeof(vars) / sizeof(vars[0]));
}

static int handle_get(request_rec *r)
{
    icsoe_form *q;
    icsoe_session s;
    token_owner *o;
    icsoe_status st;
    int rv;

    q = icsoe_pg_query(r);
    st = lookup(r, &o, icsoe_form_get(q, "t"));
    if (st != ICSOE_OK)
        return lookup_failed(r, st, o->c.curp);
    rv = icsoe_pg_form_session(r, &s);
    if (rv == OK && s.curp[0] == '\0')
        rv = icsoe_session_save(r, &s); /* keep the form's cookie fresh */
    rv = rv == OK ? show_form(r, &s, o, NULL) : icsoe_pg_fail(r, rv);
    icsoe_wipe(&s, sizeof(s));
    return rv;
}

/* The "contraseña registrada" mail: its failure is logged, never shown as
 * a failure of the password, which is already stored. */
static void notify(request_rec *r, icsoe_dir *d, const icsoe_capturist *c)
{
    char err[512] = "";
    icsoe_status st = icsoe_account_notify_password_set(d, icsoe_srv(r)->conf,
                                                        c, NULL, err, sizeof(err));

    if (st != ICSOE_OK)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, ICSOE_LOGNO(1202)
                      "icsoe activate: notification mail to the capturist %s "
                      "not sent: %s: %s", c->curp, icsoe_status_name(st), err);
}

static int consume(request_rec *r, const icsoe_session *s, token_owner *o,
                   const char *password)
{
    const icsoe_conf *conf = icsoe_srv(r)->conf;
    icsoe_capturist was;
    icsoe_dir *d = icsoe_dir_acquire(r);
    icsoe_status st;
    int rv;

    if (d == NULL)
        return icsoe_pg_fail(r, HTTP_SERVICE_UNAVAILABLE);
    memset(&was, 0, sizeof(was));
    st = icsoe_dir_token_consume(d, o->token, 0, password, &was);
    if (st == ICSOE_OK) {
        icsoe_audit(r, "activation-ok", o->c.curp,
                    icsoe_token_purpose_name((icsoe_token_purpose)o->c.token_purpose));
        rv = icsoe_render_page(r, HTTP_OK, "activate_done", NULL, 0);
        notify(r, d, was.curp[0] != '\0' ? &was : &o->c);
    } else if (st == ICSOE_ERR_POLICY) {
        icsoe_audit(r, "activation-failed", o->c.curp, "directory-policy");
        rv = show_form(r, s, o, errors_html(r, &conf->pwpolicy, 0, MSG_DIR_POLICY));
    } else {
        if (st == ICSOE_ERR_UNAVAILABLE)
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ICSOE_LOGNO(1203)
                          "icsoe activate: consume: directory unavailable: %s",
                          icsoe_dir_reason(d));
        rv = lookup_failed(r, st, o->c.curp);
    }
    icsoe_capturist_clear(&was);
    return rv;
}

static int handle_post(request_rec *r)
{
    const icsoe_conf *conf = icsoe_srv(r)->conf;
    icsoe_form *f;
    icsoe_session s;
    token_owner *o;
    const char *password;
    const char *confirm;
    unsigned failed;
    icsoe_status st;
    int rv;

    rv = icsoe_pg_read_post(r, &f, &s);
    if (rv != OK) {
        rv = icsoe_pg_fail(r, rv);
        goto out;
    }
    st = lookup(r, &o, icsoe_form_get(f, "t"));
    if (st != ICSOE_OK) {
        rv = lookup_failed(r, st, o->c.curp);
        goto out;
    }
    /* Passwords are read in place (the form wipes them) and never trimmed:
     * spaces are legal characters of a passphrase. */
    password = icsoe_form_get(f, "password");
    confirm = icsoe_form_get(f, "password_confirm");
    if (password == NULL)
        password = "";
    if (confirm == NULL)
        confirm = "";
    failed = icsoe_pwpolicy_check(&conf->pwpolicy, password, o->c.curp, o->c.name);
    if (strcmp(password, confirm) != 0 || failed != 0) {
        icsoe_audit(r, "activation-failed", o->c.curp,
                    strcmp(password, confirm) != 0 ? "mismatch" : "policy");
        rv = show_form(r, &s, o,
                       errors_html(r, &conf->pwpolicy, failed & ~ICSOE_PW_MISMATCH,
                                   strcmp(password, confirm) != 0 ? MSG_MISMATCH : NULL));
        goto out;
    }
    rv = consume(r, &s, o, password);
out:
    icsoe_wipe(&s, sizeof(s));
    return rv;
}

int icsoe_handle_activate(request_rec *r)
{
    /* The query holds the token: out of every log, wherever this page is
     * mapped (redact.c already did it when the path is activation_url's). */
    if (r->args != NULL)
        icsoe_redact_query(r);
    if (r->method_number == M_GET)
        return handle_get(r);
    if (r->method_number == M_POST)
        return handle_post(r);
    return icsoe_pg_fail(r, HTTP_METHOD_NOT_ALLOWED);
}
