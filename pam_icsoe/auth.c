/* pam_icsoe auth service (pam_sm_authenticate): verifies the capturist's
 * password with a bind as the capturist; every failure that could tell
 * whether a CURP exists answers PAM_AUTH_ERR, and the ppolicy state of a
 * successful bind is noted for the account step. */
#include <string.h>

#include "core.h"
#include "secure.h"

static int auth_result(icsoe_pam *p, icsoe_status st,
                       const icsoe_ppolicy_info *pp)
{
    switch (st) {
    case ICSOE_OK:
        /* The bind answered 0.  ppolicy may still say the password must
         * be changed (reset by an administrator, or expired and this was
         * a grace login): noted for the account step, which answers
         * PAM_NEW_AUTHTOK_REQD (the pam_unix / pam_sss convention, so
         * login, sshd and su ask for a new password). */
        plog(p, ICSOE_LOG_INFO, "auth: %s authenticated", p->curp);
        return icsoe_pam_leave_note(p, pp);
    case ICSOE_ERR_EXPIRED:
        /* The bind failed: expired and no grace login left.  slapd will
         * not let the capturist change it either (only an authenticated
         * connection may), so this is a failure with a reason; a ppolicy
         * control never turns a failed bind into a success.  (Expired
         * with grace logins left, or reset by an administrator, the bind
         * succeeds: see ICSOE_OK and the account step.) */
        icsoe_conv_error(p->pamh, p->flags, MSG_EXPIRED_NO_GRACE);
        plog(p, ICSOE_LOG_NOTICE, "auth: %s password expired, no grace "
             "login left", p->curp);
        return PAM_AUTHTOK_EXPIRED;
    case ICSOE_ERR_INVALID_CREDENTIALS:
    case ICSOE_ERR_NOT_FOUND:
    case ICSOE_ERR_INVALID_INPUT:
        plog(p, ICSOE_LOG_NOTICE, "auth: authentication failure for %s",
             p->curp);
        return PAM_AUTH_ERR;
    case ICSOE_ERR_LOCKED:
        icsoe_conv_error(p->pamh, p->flags, MSG_LOCKED);
        plog(p, ICSOE_LOG_NOTICE, "auth: %s is locked (%s)", p->curp,
             pp->locked ? "ppolicy lockout" : "administrator");
        return pp->locked ? PAM_MAXTRIES : PAM_PERM_DENIED;
    case ICSOE_ERR_UNAVAILABLE:
        icsoe_conv_error(p->pamh, p->flags, MSG_UNAVAILABLE);
        plog(p, ICSOE_LOG_ERR, "auth: directory unavailable: %s",
             icsoe_dir_reason(p->dir));
        return PAM_AUTHINFO_UNAVAIL;
    default:
        /* Fail closed on anything unexpected. */
        plog(p, ICSOE_LOG_ERR, "auth: %s: %s (%s)", p->curp,
             icsoe_status_name(st), icsoe_dir_reason(p->dir));
        return PAM_SYSTEM_ERR;
    }
}

int icsoe_pam_authenticate(icsoe_pam *p)
{
    icsoe_ppolicy_info pp;
    char *password = NULL;
    icsoe_status st;
    int valid, rc;

    /* Before the configuration, the directory and the password: a name
     * that is not a well-formed CURP (root, a local user, a typo) is none
     * of ours, and whether a string is a CURP is public knowledge, so
     * answering at once tells nothing, while asking the directory would
     * send a local password to slapd and wait for it when it hangs. */
    valid = icsoe_pam_get_curp(p, &rc);
    if (valid < 0)
        goto out;
    if (valid == 0) {
        rc = PAM_USER_UNKNOWN;
        goto out;
    }
    rc = icsoe_pam_open_directory(p);
    if (rc != PAM_SUCCESS)
        goto out;
    rc = icsoe_pam_get_password(p, PAM_AUTHTOK, ICSOE_PROMPT_PASSWORD,
                      p->args.use_first_pass, p->args.try_first_pass,
                      &password);
    if (rc != PAM_SUCCESS)
        goto out;
    st = icsoe_pam_verify(p, password, &pp);
    rc = auth_result(p, st, &pp);
    if (rc == PAM_SUCCESS)
        rc = icsoe_pam_set_canonical_user(p);
out:
    icsoe_free_secret(password);
    return rc;
}
