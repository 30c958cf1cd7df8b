/* pam_icsoe password service (pam_sm_chauthtok): the preliminary pass
 * verifies the current password, the update pass checks the new one
 * against the shared password policy and changes it with the capturist's
 * own bind (ppolicy's password-modify extended operation). */
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "pwpolicy.h"
#include "secure.h"

static int chauthtok_prelim(icsoe_pam *p)
{
    icsoe_ppolicy_info pp;
    char *old = NULL;
    icsoe_status st;
    int rc;

    rc = icsoe_pam_open_directory(p);
    if (rc != PAM_SUCCESS)
        goto out;
    rc = icsoe_pam_get_password(p, PAM_OLDAUTHTOK, ICSOE_PROMPT_OLD_PASSWORD,
                      p->args.use_first_pass, p->args.try_first_pass, &old);
    if (rc != PAM_SUCCESS)
        goto out;
    st = icsoe_pam_verify(p, old, &pp);
    switch (st) {
    case ICSOE_OK:
        rc = PAM_SUCCESS;
        break;
    case ICSOE_ERR_EXPIRED:
        icsoe_conv_error(p->pamh, p->flags, MSG_EXPIRED_NO_GRACE);
        plog(p, ICSOE_LOG_NOTICE, "chauthtok: %s password expired, no "
             "grace login left", p->curp);
        rc = PAM_AUTHTOK_EXPIRED;
        break;
    case ICSOE_ERR_LOCKED:
        icsoe_conv_error(p->pamh, p->flags, MSG_LOCKED);
        plog(p, ICSOE_LOG_NOTICE, "chauthtok: %s is locked", p->curp);
        rc = PAM_PERM_DENIED;
        break;
    case ICSOE_ERR_UNAVAILABLE:
        icsoe_conv_error(p->pamh, p->flags, MSG_UNAVAILABLE);
        plog(p, ICSOE_LOG_ERR, "chauthtok: directory unavailable: %s",
             icsoe_dir_reason(p->dir));
        rc = PAM_AUTHINFO_UNAVAIL;
        break;
    case ICSOE_ERR_INVALID_CREDENTIALS:
    case ICSOE_ERR_NOT_FOUND:
    case ICSOE_ERR_INVALID_INPUT:
        icsoe_conv_error(p->pamh, p->flags, MSG_BAD_OLD);
        plog(p, ICSOE_LOG_NOTICE, "chauthtok: wrong current password for %s",
             p->curp);
        rc = PAM_AUTH_ERR;
        break;
    default:
        plog(p, ICSOE_LOG_ERR, "chauthtok: %s: %s (%s)", p->curp,
             icsoe_status_name(st), icsoe_dir_reason(p->dir));
        rc = PAM_SYSTEM_ERR;
        break;
    }
out:
    icsoe_free_secret(old);
    return rc;
}

/* Shows every rule the new password breaks, one message each. */
static void show_rules(icsoe_pam *p, unsigned failed)
{
    char line[256];

    icsoe_conv_error(p->pamh, p->flags, MSG_RULES);
    for (unsigned i = 0; i < ICSOE_PW_RULE_COUNT; i++) {
        unsigned rule = 1u << i;

        if (failed & rule)
            icsoe_conv_error(p->pamh, p->flags,
                             icsoe_pwpolicy_rule_message(&p->conf->pwpolicy,
                                                         rule, line,
                                                         sizeof(line)));
    }
}

/* The new password, asked twice unless use_authtok.  Returns the failed
 * rules in *failed (0 when acceptable). */
static int get_new_password(icsoe_pam *p, char **out, unsigned *failed)
{
    char *again = NULL;
    int rc;

    *failed = 0;
    if (p->args.use_authtok)
        return icsoe_pam_get_password(p, PAM_AUTHTOK, NULL, 1, 0, out);
    rc = icsoe_conv_secret(p->pamh, ICSOE_PROMPT_NEW_PASSWORD, out);
    if (rc != PAM_SUCCESS)
        return rc;
    rc = icsoe_conv_secret(p->pamh, ICSOE_PROMPT_NEW_AGAIN, &again);
    if (rc != PAM_SUCCESS) {
        icsoe_free_secret(*out);
        *out = NULL;
        return rc;
    }
    if (strcmp(*out, again) != 0)
        *failed |= ICSOE_PW_MISMATCH;
    icsoe_free_secret(again);
    return PAM_SUCCESS;
}

static int change_result(icsoe_pam *p, icsoe_status st,
                         icsoe_pwchange_reason why)
{
    switch (st) {
    case ICSOE_OK:
        icsoe_conv_info(p->pamh, p->flags, MSG_CHANGED);
        plog(p, ICSOE_LOG_NOTICE, "chauthtok: password changed for %s",
             p->curp);
        return PAM_SUCCESS;
    case ICSOE_ERR_POLICY:
        icsoe_conv_error(p->pamh, p->flags,
                         icsoe_pwchange_reason_message(why));
        plog(p, ICSOE_LOG_NOTICE, "chauthtok: directory policy refused "
             "the new password of %s (reason %d)", p->curp, (int)why);
        return PAM_AUTHTOK_ERR;
    case ICSOE_ERR_INVALID_CREDENTIALS:
        icsoe_conv_error(p->pamh, p->flags, MSG_BAD_OLD);
        plog(p, ICSOE_LOG_NOTICE, "chauthtok: wrong current password for %s",
             p->curp);
        return PAM_AUTH_ERR;
    case ICSOE_ERR_LOCKED:
        icsoe_conv_error(p->pamh, p->flags, MSG_LOCKED);
        return PAM_PERM_DENIED;
    case ICSOE_ERR_UNAVAILABLE:
        icsoe_conv_error(p->pamh, p->flags, MSG_UNAVAILABLE);
        plog(p, ICSOE_LOG_ERR, "chauthtok: directory unavailable: %s",
             icsoe_dir_reason(p->dir));
        return PAM_AUTHINFO_UNAVAIL;
    default:
        icsoe_conv_error(p->pamh, p->flags, MSG_NO_CHANGE);
        plog(p, ICSOE_LOG_ERR, "chauthtok: %s: %s (%s)", p->curp,
             icsoe_status_name(st), icsoe_dir_reason(p->dir));
        return PAM_AUTHTOK_ERR;
    }
}

static int chauthtok_update(icsoe_pam *p)
{
    icsoe_capturist c;
    icsoe_pwchange_reason why = ICSOE_PWCHANGE_NONE;
    const void *item = NULL;
    char *old = NULL, *new_pw = NULL;
    unsigned failed = 0;
    icsoe_status st;
    int rc;

    memset(&c, 0, sizeof(c));
    rc = icsoe_pam_open_directory(p);
    if (rc != PAM_SUCCESS)
        goto out;
    /* The preliminary pass verified and stored the current password. */
    if (pam_get_item(p->pamh, PAM_OLDAUTHTOK, &item) != PAM_SUCCESS ||
        item == NULL) {
        plog(p, ICSOE_LOG_ERR, "chauthtok: no current password from the "
             "preliminary check");
        rc = PAM_AUTHTOK_RECOVERY_ERR;
        goto out;
    }
    old = strdup(item);
    if (old == NULL) {
        rc = PAM_BUF_ERR;
        goto out;
    }
    /* The name feeds the "must not contain your name" rule. */
    st = icsoe_dir_capturist_get(p->dir, p->curp, &c);
    if (st != ICSOE_OK) {
        rc = change_result(p, st == ICSOE_ERR_NOT_FOUND ?
                           ICSOE_ERR_INVALID_CREDENTIALS : st, why);
        goto out;
    }
    rc = get_new_password(p, &new_pw, &failed);
    if (rc != PAM_SUCCESS)
        goto out;
    failed |= icsoe_pwpolicy_check(&p->conf->pwpolicy, new_pw, p->curp,
                                   c.name);
    if (failed != 0) {
        show_rules(p, failed);
        plog(p, ICSOE_LOG_NOTICE, "chauthtok: new password of %s breaks "
             "the policy (rules 0x%x)", p->curp, failed);
        rc = PAM_AUTHTOK_ERR;
        goto out;
    }
    if (!p->args.use_authtok) {
        rc = pam_set_item(p->pamh, PAM_AUTHTOK, new_pw);
        if (rc != PAM_SUCCESS)
            goto out;
    }
    st = icsoe_dir_change_password(p->dir, p->curp, old, new_pw, &why);
    rc = change_result(p, st, why);
    if (rc == PAM_SUCCESS && icsoe_pam_read_note(p) != NULL) {
        icsoe_ppolicy_info fresh = { 0, 0, 0, -1, -1 };

        /* The note from auth is stale now: the account step may pass. */
        rc = icsoe_pam_leave_note(p, &fresh);
    }
out:
    icsoe_capturist_clear(&c);
    icsoe_free_secret(old);
    icsoe_free_secret(new_pw);
    return rc;
}

int icsoe_pam_chauthtok(icsoe_pam *p)
{
    int valid, rc;

    valid = icsoe_pam_get_curp(p, &rc);
    if (valid < 0)
        return rc;
    if (valid == 0)
        return PAM_USER_UNKNOWN;
    /* Asked to change only expired passwords, and the auth step of this
     * transaction saw a valid one: nothing to do. */
    if ((p->flags & PAM_CHANGE_EXPIRED_AUTHTOK) && icsoe_pam_read_note(p) != NULL &&
        !icsoe_pam_needs_new_password(icsoe_pam_read_note(p)))
        return PAM_SUCCESS;
    if (p->flags & PAM_PRELIM_CHECK)
        return chauthtok_prelim(p);
    if (p->flags & PAM_UPDATE_AUTHTOK)
        return chauthtok_update(p);
    plog(p, ICSOE_LOG_ERR, "chauthtok: neither PRELIM_CHECK nor "
         "UPDATE_AUTHTOK in flags 0x%x", (unsigned)p->flags);
    return PAM_SERVICE_ERR;
}
