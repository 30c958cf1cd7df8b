/* icsoe-login (seed step 5): "Usuario" (the CURP) and "Contraseña", button
 * "Ingresar".
 *
 * Every failure that could tell whether a CURP exists (unknown, malformed,
 * pending, wrong password) gives the same page, status and cookies after
 * the same directory work: a malformed CURP is verified as a fixed
 * well-formed CURP that has no account, so it also costs a decoy bind.
 * Success starts a brand-new session (fresh CSRF secret, nothing kept from
 * the pre-login cookie) and redirects to the validated return path.
 *
 * A locked account (ppolicy lockout or admin lock) gets the same answer
 * too: slapd reports the lock whatever the password, so a distinct message
 * would tell anyone who guessed pwdMaxFailure times that the CURP exists.
 * The owner of a ppolicy-locked account is told by mail instead, once per
 * lock, with a reset link, after the response is out. */
#include <string.h>

#include "apr_strings.h"
#include "http_protocol.h"
#include "httpd.h"

#include "account.h"
#include "curp.h"
#include "handlers.h"
#include "secure.h"

#define MSG_GENERIC "Usuario o contraseña incorrectos."
#define MSG_EXPIRED "Tu contraseña expiró. Usa «¿Olvidaste tu contraseña?» " \
    "para crear una nueva."
#define MSG_LOGGED_OUT "Sesión cerrada."

/* Bytes of a submitted CURP we look at; anything longer is malformed. */
#define CURP_FIELD_MAX 64
/* A password longer than this many bytes can never have been accepted
 * (max_length is at most 128 code points of at most 4 bytes). */
#define PASSWORD_FIELD_MAX 1024

/* The stand-in for malformed CURPs: RENAPO's generic foreign-born CURP
 * prefix, completed with its check digit at run time so it is always
 * well formed. */
static const char *dummy_curp(char out[ICSOE_CURP_LEN + 1])
{
    static const char first17[] = "XEXX010101HNEXXXA";
    char digit = icsoe_curp_check_digit(first17);

    memcpy(out, first17, ICSOE_CURP_LEN - 1);
    out[ICSOE_CURP_LEN - 1] = digit != 0 ? digit : '4';
    out[ICSOE_CURP_LEN] = '\0';
    return out;
}

/* The return path from a field or query value; anything but a same-site
 * absolute path is dropped (never an error: the user still logs in). */
static const char *safe_return(const char *path)
{
    if (path == NULL || path[0] == '\0' || !icsoe_return_path_ok(path))
        return NULL;
    return path;
}

/* The form, with an optional message box (already HTML). */
static int show_form(request_rec *r, int status, const icsoe_session *s,
                     const char *return_path, const char *message_html)
{
    icsoe_tvar vars[] = {
        { "action", icsoe_pg_self(r) },
        { "csrf", icsoe_csrf_token(r, s) },
        { "return_path", return_path != NULL ? return_path : "" },
        { "message_html", message_html != NULL ? message_html : "" },
    };
    return icsoe_render_page(r, status, "login", vars,
                             sizeof(vars) / sizeof(vars[0]));
}

int icsoe_pg_login_after_logout(request_rec *r)
{
    icsoe_session s;
    int rv = icsoe_session_new(r, &s, NULL, NULL, 0);

    if (rv == OK)
        rv = icsoe_session_save(r, &s);
    if (rv != OK)
        return icsoe_pg_fail(r, rv);
    rv = show_form(r, HTTP_OK, &s, NULL, icsoe_pg_box(r, 0, MSG_LOGGED_OUT));
    icsoe_wipe(&s, sizeof(s));
    return rv;
}

static int handle_get(request_rec *r)
{
    icsoe_session s;
    icsoe_form *q;
    const char *ret;
    int rv;

    q = icsoe_pg_query(r);
    ret = safe_return(icsoe_form_get(q, "r"));
    rv = icsoe_pg_form_session(r, &s);
    /* Refresh a pre-login cookie so a form left open a while still posts;
     * a logged-in session is left alone (this page must not extend it). */
    if (rv == OK && s.curp[0] == '\0')
        rv = icsoe_session_save(r, &s);
    if (rv == OK)
        rv = show_form(r, HTTP_OK, &s, ret, NULL);
    else
        rv = icsoe_pg_fail(r, rv);
    icsoe_wipe(&s, sizeof(s));
    return rv;
}

/* Verify and map the outcome; *out receives the account on success. */
static icsoe_status verify(request_rec *r, const char *curp_field,
                           const char *password, char curp[ICSOE_CURP_LEN + 1],
                           icsoe_capturist *out)
{
    icsoe_dir *d = icsoe_dir_acquire(r);
    char dummy[ICSOE_CURP_LEN + 1];
    icsoe_status st;
    int wellformed;

    if (d == NULL)
        return ICSOE_ERR_UNAVAILABLE;
    wellformed = curp_field != NULL && strlen(curp_field) <= CURP_FIELD_MAX &&
                 icsoe_curp_check(curp_field, curp) == ICSOE_CURP_OK;
    if (!wellformed)
        curp[0] = '\0';
    st = icsoe_dir_verify_password(d, wellformed ? curp : dummy_curp(dummy),
                                   password, out, NULL);
    if (!wellformed && (st == ICSOE_OK || st == ICSOE_ERR_LOCKED ||
                        st == ICSOE_ERR_EXPIRED)) {
        /* Nobody owns the stand-in CURP; if somebody ever creates it, its
         * answer still must not let a malformed CURP in. */
        icsoe_capturist_clear(out);
        memset(out, 0, sizeof(*out));
        st = ICSOE_ERR_INVALID_CREDENTIALS;
    }
    if (st == ICSOE_OK && out->status != ICSOE_CAPTURIST_ACTIVE) {
        icsoe_capturist_clear(out);
        memset(out, 0, sizeof(*out));
        st = ICSOE_ERR_INVALID_CREDENTIALS; /* fail closed */
    }
    if (st != ICSOE_OK && st != ICSOE_ERR_UNAVAILABLE)
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ICSOE_LOGNO(1101)
                      "icsoe login: verify: %s (%s)", icsoe_status_name(st),
                      icsoe_dir_reason(d));
    else if (st == ICSOE_ERR_UNAVAILABLE)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ICSOE_LOGNO(1102)
                      "icsoe login: directory unavailable: %s",
                      icsoe_dir_reason(d));
    return st;
}

/* For the audit line: the normalised CURP, or the raw field escaped so a
 * log line cannot be forged with CR/LF. */
static const char *audit_curp(request_rec *r, const char *curp,
                              const char *field)
{
    if (curp[0] != '\0')
        return curp;
    if (field == NULL)
        return "-";
    if (strlen(field) > CURP_FIELD_MAX)
        field = apr_pstrndup(r->pool, field, CURP_FIELD_MAX);
    return ap_escape_logitem(r->pool, field);
}

/* The lock notice, run in a request-pool cleanup: after the response has
 * been written, so the page takes the same time as for a wrong password,
 * and with the request's directory handle (released after this). */
typedef struct lock_notice {
    request_rec *r;
    icsoe_dir *d;
    char curp[ICSOE_CURP_LEN + 1];
} lock_notice;

static const char *notify_lock(lock_notice *ln)
{
    const icsoe_conf *conf = icsoe_srv(ln->r)->conf;
    icsoe_capturist c;
    char err[256] = "";
    icsoe_status st;

    st = icsoe_dir_capturist_claim_lock_notice(ln->d, ln->curp);
    if (st == ICSOE_ERR_EXISTS || st == ICSOE_ERR_NOT_FOUND)
        return st == ICSOE_ERR_EXISTS ? "already-notified" : "not-ppolicy-locked";
    if (st != ICSOE_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ln->r, ICSOE_LOGNO(1110)
                      "icsoe login: lock notice for %s not recorded: %s: %s",
                      ln->curp, icsoe_status_name(st), icsoe_dir_reason(ln->d));
        return "error";
    }
    memset(&c, 0, sizeof(c));
    st = icsoe_dir_capturist_get(ln->d, ln->curp, &c);
    if (st == ICSOE_OK && c.status == ICSOE_CAPTURIST_ACTIVE)
        st = icsoe_account_notify_locked(ln->d, conf, &c, err, sizeof(err));
    icsoe_capturist_clear(&c);
    if (st != ICSOE_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ln->r, ICSOE_LOGNO(1111)
                      "icsoe login: lock notice for %s not sent: %s: %s",
                      ln->curp, icsoe_status_name(st), err[0] ? err : icsoe_dir_reason(ln->d));
        return "mail-failed";
    }
    return NULL;
}

static apr_status_t notify_lock_after_response(void *data)
{
    lock_notice *ln = data;
    const char *why = notify_lock(ln);

    icsoe_audit(ln->r, why == NULL ? "lock-notice-sent" : "lock-notice-skipped",
                ln->curp, why);
    return APR_SUCCESS;
}

static void queue_lock_notice(request_rec *r, const char *curp)
{
    lock_notice *ln;
    icsoe_dir *d;

    if (curp[0] == '\0')
        return;
    d = icsoe_dir_acquire(r);
    if (d == NULL)
        return;
    ln = apr_pcalloc(r->pool, sizeof(*ln));
    ln->r = r;
    ln->d = d;
    memcpy(ln->curp, curp, sizeof(ln->curp));
    apr_pool_cleanup_register(r->pool, ln, notify_lock_after_response,
                              apr_pool_cleanup_null);
}

/* curp: the form's CURP, which icsoe_curp_check accepted and the
 * directory verified; the account found must be that CURP's (fail closed
 * otherwise), so the session holds a fully checked CURP. */
static int login_ok(request_rec *r, const icsoe_capturist *c, const char *curp,
                    const char *ret)
{
    icsoe_session s;
    int rv;

    if (curp[0] == '\0' || strcmp(c->curp, curp) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ICSOE_LOGNO(2050)
                      "icsoe login: the account found is not the CURP asked for");
        return icsoe_pg_fail(r, HTTP_INTERNAL_SERVER_ERROR);
    }
    /* A new session, never the pre-login one: no fixation. */
    rv = icsoe_session_new(r, &s, curp, c->name, c->epoch);
    if (rv == OK)
        rv = icsoe_session_save(r, &s);
    icsoe_wipe(&s, sizeof(s));
    if (rv != OK)
        return icsoe_pg_fail(r, rv);
    icsoe_audit(r, "login-ok", c->curp, NULL);
    return icsoe_redirect_303(r, ret != NULL ? ret : icsoe_srv(r)->start_url);
}

static int handle_post(request_rec *r)
{
    icsoe_form *f;
    icsoe_session s;
    icsoe_capturist c;
    char curp[ICSOE_CURP_LEN + 1] = "";
    const char *curp_field;
    const char *password;
    const char *ret;
    icsoe_status st;
    int rv;

    memset(&c, 0, sizeof(c));
    rv = icsoe_pg_read_post(r, &f, &s);
    if (rv != OK) {
        rv = icsoe_pg_fail(r, rv);
        goto out;
    }
    curp_field = icsoe_form_get(f, "curp");
    password = icsoe_form_get(f, "password");
    ret = safe_return(icsoe_form_get(f, "r"));
    if (password == NULL || password[0] == '\0' ||
        strlen(password) > PASSWORD_FIELD_MAX) {
        /* Never reaches the directory (an empty password would be an
         * anonymous bind); identical for every CURP, so it tells nothing. */
        st = ICSOE_ERR_INVALID_CREDENTIALS;
        if (curp_field == NULL || strlen(curp_field) > CURP_FIELD_MAX ||
            icsoe_curp_check(curp_field, curp) != ICSOE_CURP_OK)
            curp[0] = '\0';
    } else {
        st = verify(r, curp_field, password, curp, &c);
    }

    switch (st) {
    case ICSOE_OK:
        rv = login_ok(r, &c, curp, ret);
        break;
    case ICSOE_ERR_LOCKED:
        icsoe_audit(r, "login-locked", audit_curp(r, curp, curp_field), NULL);
        rv = show_form(r, HTTP_OK, &s, ret, icsoe_pg_box(r, 1, MSG_GENERIC));
        queue_lock_notice(r, curp);
        break;
    case ICSOE_ERR_EXPIRED:
        icsoe_audit(r, "login-failed", audit_curp(r, curp, curp_field),
                    "password-expired");
        rv = show_form(r, HTTP_OK, &s, ret, icsoe_pg_box(r, 1, MSG_EXPIRED));
        break;
    case ICSOE_ERR_UNAVAILABLE:
        icsoe_audit(r, "login-failed", audit_curp(r, curp, curp_field),
                    "directory-unavailable");
        rv = icsoe_pg_fail(r, HTTP_SERVICE_UNAVAILABLE);
        break;
    case ICSOE_ERR_INTERNAL:
        icsoe_audit(r, "login-failed", audit_curp(r, curp, curp_field),
                    "internal-error");
        rv = icsoe_pg_fail(r, HTTP_INTERNAL_SERVER_ERROR);
        break;
    default:
        /* Wrong password, unknown or pending account, and anything we do
         * not recognise: one answer (fail closed). */
        icsoe_audit(r, "login-failed", audit_curp(r, curp, curp_field), NULL);
        rv = show_form(r, HTTP_OK, &s, ret, icsoe_pg_box(r, 1, MSG_GENERIC));
        break;
    }
out:
    icsoe_capturist_clear(&c);
    icsoe_wipe(&s, sizeof(s));
    return rv;
}

int icsoe_handle_login(request_rec *r)
{
    if (r->method_number == M_GET)
        return handle_get(r);
    if (r->method_number == M_POST)
        return handle_post(r);
    return icsoe_pg_fail(r, HTTP_METHOD_NOT_ALLOWED);
}
