/* pam_icsoe account service (pam_sm_acct_mgmt): is this capturist allowed
 * in now (status, ppolicy lock, contratista= filter), and must the
 * password be changed first. */
#include <stdio.h>
#include <string.h>

#include "core.h"

static int account_allowed_here(icsoe_pam *p, const icsoe_capturist *c)
{
    if (!p->args.contractor_filter)
        return 1;
    if (p->args.contractor_error)
        return 0;
    for (size_t i = 0; i < c->ncontractors; i++)
        if (icsoe_pam_args_has_contractor(&p->args, c->contractors[i]))
            return 1;
    return 0;
}

static int account_status(icsoe_pam *p, const icsoe_capturist *c)
{
    if (c->status == ICSOE_CAPTURIST_LOCKED || c->pp_locked) {
        icsoe_conv_error(p->pamh, p->flags, MSG_LOCKED);
        plog(p, ICSOE_LOG_NOTICE, "account: %s is locked (%s)", p->curp,
             c->pp_locked ? "ppolicy lockout" : "administrator");
        return PAM_PERM_DENIED;
    }
    if (c->status != ICSOE_CAPTURIST_ACTIVE) {
        plog(p, ICSOE_LOG_NOTICE, "account: %s is %s", p->curp,
             icsoe_capturist_status_name(c->status));
        return PAM_PERM_DENIED;
    }
    if (!account_allowed_here(p, c)) {
        icsoe_conv_error(p->pamh, p->flags, MSG_DENIED);
        plog(p, ICSOE_LOG_NOTICE, "account: %s works for none of the "
             "contractors admitted by contratista=", p->curp);
        return PAM_PERM_DENIED;
    }
    return PAM_SUCCESS;
}

/* Shows "your password expires in N days". */
static void warn_expiry(icsoe_pam *p, long long seconds)
{
    char msg[160];
    long long days = (seconds + 86399) / 86400;

    snprintf(msg, sizeof(msg), "Tu contraseña vence en %lld %s.", days,
             days == 1 ? "día" : "días");
    icsoe_conv_info(p->pamh, p->flags, msg);
}

/* Must the password be changed before the capturist may in?  The account
 * step reads the password state itself (icsoe_dir_password_state): with
 * ssh keys there is no auth step, and after an auth that answered
 * PAM_AUTHTOK_EXPIRED there is no note, so relying on the auth step's
 * note let an expired account pass.  The note of a successful auth in
 * this transaction still counts: its bind may have used the last grace
 * login, which makes the state read now say "no grace left" although the
 * capturist has just proved the password and may change it. */
static int account_password_state(icsoe_pam *p)
{
    const icsoe_pam_note *n = icsoe_pam_read_note(p);
    icsoe_pwstate ps;
    icsoe_status st;
    int must_change, expired;

    st = icsoe_dir_password_state(p->dir, p->curp, &ps);
    if (st == ICSOE_ERR_UNAVAILABLE) {
        icsoe_conv_error(p->pamh, p->flags, MSG_UNAVAILABLE);
        plog(p, ICSOE_LOG_ERR, "account: directory unavailable: %s",
             icsoe_dir_reason(p->dir));
        return PAM_AUTHINFO_UNAVAIL;
    }
    if (st != ICSOE_OK) {
        /* Fail closed: an unreadable policy is not "no policy". */
        plog(p, ICSOE_LOG_ERR, "account: %s: password state: %s (%s)",
             p->curp, icsoe_status_name(st), icsoe_dir_reason(p->dir));
        return PAM_SYSTEM_ERR;
    }
    must_change = ps.must_change || (n != NULL && n->must_change);
    expired = ps.expired || (n != NULL && n->expired);
    if (expired && n == NULL && ps.grace_left == 0) {
        /* No grace bind left: slapd refuses the capturist's own bind, so
         * no PAM password change can work either (pam_unix answers an
         * expired, inactive password the same way). */
        icsoe_conv_error(p->pamh, p->flags, MSG_EXPIRED_NO_GRACE);
        plog(p, ICSOE_LOG_NOTICE, "account: %s password expired, no grace "
             "login left", p->curp);
        return PAM_ACCT_EXPIRED;
    }
    if (must_change || expired) {
        icsoe_conv_error(p->pamh, p->flags,
                         must_change ? MSG_MUST_CHANGE : MSG_EXPIRED);
        plog(p, ICSOE_LOG_NOTICE, "account: %s must change the password "
             "(%s)", p->curp, must_change ? "reset" : "expired");
        return PAM_NEW_AUTHTOK_REQD;
    }
    if (n != NULL && n->expires_in > 0)
        warn_expiry(p, n->expires_in);
    else if (n == NULL && ps.warn)
        warn_expiry(p, ps.expires_in);
    return PAM_SUCCESS;
}

int icsoe_pam_acct_mgmt(icsoe_pam *p)
{
    icsoe_capturist c;
    icsoe_status st;
    int valid, rc;

    memset(&c, 0, sizeof(c));
    valid = icsoe_pam_get_curp(p, &rc);
    if (valid < 0)
        return rc;
    if (valid == 0)
        return PAM_USER_UNKNOWN;
    rc = icsoe_pam_open_directory(p);
    if (rc != PAM_SUCCESS)
        return rc;
    st = icsoe_dir_capturist_get(p->dir, p->curp, &c);
    switch (st) {
    case ICSOE_OK:
        rc = account_status(p, &c);
        if (rc == PAM_SUCCESS)
            rc = account_password_state(p);
        if (rc == PAM_SUCCESS || rc == PAM_NEW_AUTHTOK_REQD) {
            int urc = icsoe_pam_set_canonical_user(p);

            if (urc != PAM_SUCCESS)
                rc = urc;
        }
        break;
    case ICSOE_ERR_NOT_FOUND:
        plog(p, ICSOE_LOG_NOTICE, "account: %s: no such capturist", p->curp);
        rc = PAM_USER_UNKNOWN;
        break;
    case ICSOE_ERR_UNAVAILABLE:
        icsoe_conv_error(p->pamh, p->flags, MSG_UNAVAILABLE);
        plog(p, ICSOE_LOG_ERR, "account: directory unavailable: %s",
             icsoe_dir_reason(p->dir));
        rc = PAM_AUTHINFO_UNAVAIL;
        break;
    default:
        plog(p, ICSOE_LOG_ERR, "account: %s: %s (%s)", p->curp,
             icsoe_status_name(st), icsoe_dir_reason(p->dir));
        rc = PAM_SYSTEM_ERR;
        break;
    }
    icsoe_capturist_clear(&c);
    return rc;
}
