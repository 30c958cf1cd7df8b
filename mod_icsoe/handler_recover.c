/* icsoe-recover: "¿Olvidaste tu contraseña?" (IMSS guide "Recuperar
 * contraseña").  The capturist gives the CURP and the registered email;
 * when both match an active account and the account has not had a
 * recovery mail within recover_interval, a reset link is mailed.  It leads
 * to the same password page as activation (icsoe-activate).
 *
 * The answer is the same page whatever happened, so the form cannot be
 * used to learn which CURPs exist or which email an account has; the
 * slow part (rate-limit record, token, SMTP) runs after the response is
 * written, so the answer's timing does not tell either.  The one
 * exception is a directory that cannot be reached: 503, because then we
 * really do not know and the user should try again. */
#include <string.h>
#include <strings.h>
#include <time.h>

#include "apr_strings.h"
#include "http_protocol.h"
#include "httpd.h"

#include "account.h"
#include "curp.h"
#include "handlers.h"
#include "secure.h"

#define CURP_FIELD_MAX 64

static int show_form(request_rec *r, const icsoe_session *s)
{
    icsoe_tvar vars[] = {
        { "action", icsoe_pg_self(r) },
        { "csrf", icsoe_csrf_token(r, s) },
    };
    return icsoe_render_page(r, HTTP_OK, "recover", vars,
                             sizeof(vars) / sizeof(vars[0]));
}

static int handle_get(request_rec *r)
{
    icsoe_session s;
    int rv = icsoe_pg_form_session(r, &s);

    if (rv == OK && s.curp[0] == '\0')
        rv = icsoe_session_save(r, &s);
    rv = rv == OK ? show_form(r, &s) : icsoe_pg_fail(r, rv);
    icsoe_wipe(&s, sizeof(s));
    return rv;
}

/* What happened, for the audit line only (the user never sees it). */
typedef enum outcome {
    OUT_SENT = 0,
    OUT_QUEUED,
    OUT_BAD_CURP,
    OUT_NO_ACCOUNT,
    OUT_NOT_ACTIVE,
    OUT_EMAIL_MISMATCH,
    OUT_RATE_LIMITED,
    OUT_MAIL_FAILED,
    OUT_UNAVAILABLE,
    OUT_ERROR
} outcome;

static const char *outcome_name(outcome o)
{
    switch (o) {
    case OUT_SENT: return "sent";
    case OUT_QUEUED: return "queued";
    case OUT_BAD_CURP: return "malformed-curp";
    case OUT_NO_ACCOUNT: return "no-account";
    case OUT_NOT_ACTIVE: return "not-active";
    case OUT_EMAIL_MISMATCH: return "email-mismatch";
    case OUT_RATE_LIMITED: return "rate-limited";
    case OUT_MAIL_FAILED: return "mail-failed";
    case OUT_UNAVAILABLE: return "directory-unavailable";
    default: return "error";
    }
}

/* A matching account: the reset link is issued and mailed after the
 * response has gone out (in a request-pool cleanup, which runs once the
 * response is written), so the time the page takes does not tell whether
 * the data matched. */
typedef struct pending_mail {
    request_rec *r;
    icsoe_dir *d;           /* reserved for r until after this runs */
    icsoe_capturist c;
} pending_mail;

/* The rate limit counts delivered mails only: the claim is taken before
 * sending (so two concurrent requests cannot both send) and given back
 * when the mail did not go, so the capturist's retry is not dropped. */
static outcome claim_and_send(pending_mail *pm)
{
    const icsoe_conf *conf = icsoe_srv(pm->r)->conf;
    char err[512] = "";
    time_t now = time(NULL), previous = 0;
    icsoe_status st;

    st = icsoe_dir_capturist_claim_recover(pm->d, pm->c.curp, now,
                                           conf->recover_interval, &previous);
    if (st == ICSOE_ERR_EXISTS)
        return OUT_RATE_LIMITED;
    if (st != ICSOE_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, pm->r, ICSOE_LOGNO(1303)
                      "icsoe recover: recovery of %s not recorded: %s: %s",
                      pm->c.curp, icsoe_status_name(st), icsoe_dir_reason(pm->d));
        return st == ICSOE_ERR_UNAVAILABLE ? OUT_UNAVAILABLE : OUT_ERROR;
    }
    st = icsoe_account_issue_link(pm->d, conf, &pm->c, ICSOE_TOKEN_RESET, 1,
                                  NULL, 0, NULL, err, sizeof(err));
    if (st != ICSOE_OK) {
        icsoe_status un = icsoe_dir_capturist_unclaim_recover(pm->d, pm->c.curp, now,
                                                              previous);
        /* The page already said the same words; the sysadmin sees why. */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, pm->r, ICSOE_LOGNO(1301)
                      "icsoe recover: reset link for %s not sent: %s: %s",
                      pm->c.curp, icsoe_status_name(st), err);
        if (un != ICSOE_OK)
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, pm->r, ICSOE_LOGNO(1400)
                          "icsoe recover: the unsent recovery of %s still counts "
                          "against its rate limit: %s: %s", pm->c.curp,
                          icsoe_status_name(un), icsoe_dir_reason(pm->d));
        return OUT_MAIL_FAILED;
    }
    return OUT_SENT;
}

static apr_status_t send_after_response(void *data)
{
    pending_mail *pm = data;
    outcome o = claim_and_send(pm);

    icsoe_audit(pm->r, o == OUT_SENT ? "recover-sent" : "recover-ignored",
                pm->c.curp, outcome_name(o));
    icsoe_capturist_clear(&pm->c);
    return APR_SUCCESS;
}

/* OUT_QUEUED when c is active and email is its address; *c then belongs to
 * the queued mail. */
static outcome check_and_queue(request_rec *r, icsoe_dir *d, icsoe_capturist *c,
                               const char *email)
{
    pending_mail *pm;

    if (c->status != ICSOE_CAPTURIST_ACTIVE)
        return OUT_NOT_ACTIVE;
    /* Addresses are ASCII (icsoe_email_valid); compare case-insensitively. */
    if (email == NULL || c->email == NULL || strcasecmp(email, c->email) != 0)
        return OUT_EMAIL_MISMATCH;
    pm = apr_pcalloc(r->pool, sizeof(*pm));
    pm->r = r;
    pm->d = d;
    pm->c = *c;
    memset(c, 0, sizeof(*c));
    apr_pool_cleanup_register(r->pool, pm, send_after_response,
                              apr_pool_cleanup_null);
    return OUT_QUEUED;
}

static outcome recover(request_rec *r, const char *curp_field,
                       const char *email, char curp[ICSOE_CURP_LEN + 1])
{
    icsoe_capturist c;
    icsoe_dir *d;
    icsoe_status st;
    outcome o;

    curp[0] = '\0';
    if (curp_field == NULL ||
        icsoe_curp_check(curp_field, curp) != ICSOE_CURP_OK)
        return OUT_BAD_CURP;
    d = icsoe_dir_acquire(r);
    if (d == NULL)
        return OUT_UNAVAILABLE;
    memset(&c, 0, sizeof(c));
    st = icsoe_dir_capturist_get(d, curp, &c);
    if (st == ICSOE_ERR_NOT_FOUND)
        o = OUT_NO_ACCOUNT;
    else if (st == ICSOE_ERR_UNAVAILABLE)
        o = OUT_UNAVAILABLE;
    else if (st != ICSOE_OK)
        o = OUT_ERROR;
    else
        o = check_and_queue(r, d, &c, email);
    if (o == OUT_UNAVAILABLE)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ICSOE_LOGNO(1302)
                      "icsoe recover: directory unavailable: %s",
                      icsoe_dir_reason(d));
    icsoe_capturist_clear(&c);
    return o;
}

static int handle_post(request_rec *r)
{
    icsoe_form *f;
    icsoe_session s;
    char curp[ICSOE_CURP_LEN + 1];
    const char *curp_field;
    outcome o;
    int rv;

    rv = icsoe_pg_read_post(r, &f, &s);
    if (rv != OK) {
        rv = icsoe_pg_fail(r, rv);
        goto out;
    }
    curp_field = icsoe_pg_field(r, f, "curp", CURP_FIELD_MAX);
    o = recover(r, curp_field, icsoe_pg_field(r, f, "email", ICSOE_EMAIL_MAX),
                curp);
    /* A queued mail is audited once it is sent (after the response). */
    if (o != OUT_QUEUED)
        icsoe_audit(r, "recover-ignored", curp[0] != '\0' ? curp : NULL,
                    outcome_name(o));
    if (o == OUT_UNAVAILABLE)
        rv = icsoe_pg_fail(r, HTTP_SERVICE_UNAVAILABLE);
    else
        rv = icsoe_render_page(r, HTTP_OK, "recover_sent", NULL, 0);
out:
    icsoe_wipe(&s, sizeof(s));
    return rv;
}

int icsoe_handle_recover(request_rec *r)
{
    if (r->method_number == M_GET)
        return handle_get(r);
    if (r->method_number == M_POST)
        return handle_post(r);
    return icsoe_pg_fail(r, HTTP_METHOD_NOT_ALLOWED);
}
