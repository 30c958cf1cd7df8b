/* pam_icsoe: Linux-PAM module for ICSOE capturists (CURP-keyed accounts in
 * OpenLDAP, the same accounts, password policy and ppolicy lockout as the
 * web pages of mod_icsoe).
 *
 * The six pam_sm_* entry points are one-liners into one dispatcher.  Each
 * call parses its arguments, loads the configuration, opens its own
 * directory handle, does its work and frees everything before returning:
 * nothing survives between calls except the small ppolicy note the auth
 * step leaves for the account step with pam_set_data() (freed by libpam).
 * So the module is thread-safe as long as each thread has its own PAM
 * handle, which is what PAM requires anyway.
 *
 * Return codes (see pam_icsoe(8)):
 *   auth     PAM_SUCCESS, PAM_AUTH_ERR (unknown, malformed or pending CURP,
 *            wrong password: all alike), PAM_MAXTRIES (ppolicy lockout),
 *            PAM_PERM_DENIED (locked by an administrator),
 *            PAM_AUTHTOK_EXPIRED (expired, no grace login left),
 *            PAM_AUTHINFO_UNAVAIL (directory unreachable), PAM_SERVICE_ERR
 *            (bad configuration).
 *   account  PAM_SUCCESS, PAM_USER_UNKNOWN, PAM_PERM_DENIED,
 *            PAM_NEW_AUTHTOK_REQD, PAM_AUTHINFO_UNAVAIL, PAM_SERVICE_ERR.
 *   password PAM_SUCCESS, PAM_USER_UNKNOWN, PAM_AUTH_ERR, PAM_AUTHTOK_ERR,
 *            PAM_AUTHTOK_EXPIRED,
 *            PAM_PERM_DENIED, PAM_AUTHINFO_UNAVAIL, PAM_SERVICE_ERR. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#define PAM_SM_SESSION
#define PAM_SM_PASSWORD
#include <security/pam_modules.h>
#include <security/pam_ext.h>

#include "args.h"
#include "conf.h"
#include "conv.h"
#include "curp.h"
#include "dir.h"
#include "log.h"
#include "pwpolicy.h"
#include "secure.h"

/* pam_set_data() key of the note the auth step leaves for acct_mgmt. */
#define ICSOE_PAM_NOTE "pam_icsoe_ppolicy_note"

/* Verified with a made-up but well-formed CURP when the user name is not a
 * CURP, so that a malformed name costs the same directory work as an
 * unknown one (the 18th character, the check digit, is computed). */
#define ICSOE_DECOY_CURP17 "XEXX010101HNEXXXA"
/* Sent with the decoy CURP when the password is empty: an empty password
 * must never reach a bind (it would be an anonymous bind). */
#define ICSOE_DECOY_PASSWORD "pam_icsoe decoy password"

/* User-facing messages (es-MX). */
#define MSG_LOCKED      "Tu cuenta está bloqueada. Pide a tu contratista o al administrador que la desbloquee."
#define MSG_UNAVAILABLE "El servicio de cuentas no está disponible. Intenta más tarde."
#define MSG_DENIED      "Tu cuenta no tiene acceso a este servicio."
#define MSG_EXPIRED     "Tu contraseña venció: debes cambiarla ahora."
#define MSG_EXPIRED_NO_GRACE "Tu contraseña venció. Crea una nueva con «¿Olvidaste tu contraseña?» en la página de ICSOE."
#define MSG_MUST_CHANGE "Debes cambiar tu contraseña ahora."
#define MSG_BAD_OLD     "La contraseña actual no es correcta."
#define MSG_RULES       "La contraseña nueva no cumple estas reglas:"
#define MSG_CHANGED     "Tu contraseña fue actualizada."
#define MSG_NO_CHANGE   "No se pudo cambiar la contraseña."

typedef enum icsoe_pam_op {
    ICSOE_PAM_AUTHENTICATE = 0,
    ICSOE_PAM_SETCRED,
    ICSOE_PAM_ACCT_MGMT,
    ICSOE_PAM_OPEN_SESSION,
    ICSOE_PAM_CLOSE_SESSION,
    ICSOE_PAM_CHAUTHTOK
} icsoe_pam_op;

/* Everything one call needs; lives on the dispatcher's stack. */
typedef struct icsoe_pam {
    pam_handle_t *pamh;
    int flags;
    const char *opname;
    icsoe_pam_args args;
    icsoe_logger logger;
    icsoe_conf *conf;
    icsoe_dir *dir;
    char curp[ICSOE_CURP_LEN + 1];   /* "" when the user name is no CURP */
} icsoe_pam;

/* What the auth step learnt from ppolicy, for acct_mgmt and chauthtok in
 * the same PAM transaction.  Bound to the CURP it was learnt for. */
typedef struct icsoe_pam_note {
    char curp[ICSOE_CURP_LEN + 1];
    int expired;        /* expired, this bind used a grace login */
    int must_change;    /* changeAfterReset */
    int grace_left;     /* -1 when not sent */
    int expires_in;     /* seconds, -1 when not sent */
} icsoe_pam_note;

/* ---------------------------------------------------------------- logging */

/* Adapter from the library's logger to pam_syslog: the library never logs
 * by itself.  Debug lines only with the debug option. */
static void pam_logger(void *ctx, int level, const char *msg)
{
    const icsoe_pam *p = ctx;

    if (level >= ICSOE_LOG_DEBUG && !p->args.debug)
        return;
    pam_syslog(p->pamh, level, "%s", msg);
}

#define plog(p, level, ...) icsoe_log(&(p)->logger, (level), __VA_ARGS__)

/* ----------------------------------------------------------- user, config */

/* Reads PAM_USER (prompting "CURP: " if the application set none) and
 * normalises it into p->curp.  Returns 1 for a valid CURP, 0 for a name
 * that is not one, -1 (with *rc set) when there is no user at all. */
static int get_curp(icsoe_pam *p, int *rc)
{
    const char *user = NULL;
    icsoe_curp_reason r;

    *rc = pam_get_user(p->pamh, &user, ICSOE_PROMPT_USER);
    if (*rc != PAM_SUCCESS || user == NULL) {
        plog(p, ICSOE_LOG_ERR, "%s: no user name (%s)", p->opname,
             pam_strerror(p->pamh, *rc));
        if (*rc == PAM_SUCCESS)
            *rc = PAM_SERVICE_ERR;
        return -1;
    }
    r = icsoe_curp_check(user, p->curp);
    if (r != ICSOE_CURP_OK) {
        /* The name is not logged: it may be a password typed in the wrong
         * field. */
        plog(p, ICSOE_LOG_DEBUG, "%s: user name is not a CURP (%s)",
             p->opname, icsoe_curp_reason_name(r));
        p->curp[0] = '\0';
        return 0;
    }
    return 1;
}

static int open_directory(icsoe_pam *p)
{
    char err[512];

    p->conf = icsoe_conf_load(p->args.config, err, sizeof(err));
    if (p->conf == NULL) {
        plog(p, ICSOE_LOG_ERR, "%s: configuration: %s", p->opname, err);
        return PAM_SERVICE_ERR;
    }
    p->dir = icsoe_dir_open(p->conf, &p->logger);
    if (p->dir == NULL) {
        plog(p, ICSOE_LOG_ERR, "%s: out of memory", p->opname);
        return PAM_BUF_ERR;
    }
    return PAM_SUCCESS;
}

/* ------------------------------------------------------------- passwords */

/* Obtains a password into *out (malloc'd, wiped by the caller with
 * icsoe_free_secret): from the PAM item when use_first_pass or
 * try_first_pass allows it, else by prompting.  A prompted answer is
 * stored in the item so modules stacked below can use_first_pass. */
static int get_password(icsoe_pam *p, int item, const char *prompt,
                        int use_first, int try_first, char **out)
{
    const void *stored = NULL;
    char *answer = NULL;
    int rc;

    *out = NULL;
    if (use_first || try_first) {
        rc = pam_get_item(p->pamh, item, &stored);
        if (rc == PAM_SUCCESS && stored != NULL) {
            *out = strdup(stored);
            return *out != NULL ? PAM_SUCCESS : PAM_BUF_ERR;
        }
        if (use_first) {
            plog(p, ICSOE_LOG_ERR, "%s: use_first_pass but no password "
                 "from a previous module", p->opname);
            return PAM_AUTHTOK_RECOVERY_ERR;
        }
    }
    rc = icsoe_conv_secret(p->pamh, prompt, &answer);
    if (rc != PAM_SUCCESS) {
        plog(p, ICSOE_LOG_ERR, "%s: conversation failed (%s)", p->opname,
             pam_strerror(p->pamh, rc));
        return rc;
    }
    rc = pam_set_item(p->pamh, item, answer);
    if (rc != PAM_SUCCESS) {
        icsoe_free_secret(answer);
        return rc;
    }
    *out = answer;
    return PAM_SUCCESS;
}

/* Verifies a password for p->curp, or does exactly the same work for a
 * decoy account when the name is not a CURP or the password is empty, so
 * that none of these cases can be told apart by timing.  A decoy never
 * succeeds; an unreachable directory is still reported as such. */
static icsoe_status verify(icsoe_pam *p, const char *password,
                           icsoe_ppolicy_info *pp)
{
    char decoy[ICSOE_CURP_LEN + 1];
    int use_decoy = p->curp[0] == '\0' || password[0] == '\0';
    icsoe_status st;

    memset(pp, 0, sizeof(*pp));
    pp->grace_left = -1;
    pp->expires_in = -1;
    if (!use_decoy)
        return icsoe_dir_verify_password(p->dir, p->curp, password, NULL, pp);

    memcpy(decoy, ICSOE_DECOY_CURP17, ICSOE_CURP_LEN - 1);
    decoy[ICSOE_CURP_LEN - 1] = icsoe_curp_check_digit(decoy);
    decoy[ICSOE_CURP_LEN] = '\0';
    st = icsoe_dir_verify_password(p->dir, decoy, password[0] != '\0' ?
                                   password : ICSOE_DECOY_PASSWORD, NULL, pp);
    memset(pp, 0, sizeof(*pp));
    pp->grace_left = -1;
    pp->expires_in = -1;
    return st == ICSOE_ERR_UNAVAILABLE ? st : ICSOE_ERR_INVALID_CREDENTIALS;
}

/* ----------------------------------------------------------- ppolicy note */

static void free_note(pam_handle_t *pamh, void *data, int error_status)
{
    (void)pamh;
    (void)error_status;
    free(data);
}

static int leave_note(icsoe_pam *p, const icsoe_ppolicy_info *pp)
{
    icsoe_pam_note *n = calloc(1, sizeof(*n));
    int rc;

    if (n == NULL)
        return PAM_BUF_ERR;
    memcpy(n->curp, p->curp, sizeof(n->curp));
    n->expired = pp->expired || pp->grace_left >= 0;
    n->must_change = pp->must_change;
    n->grace_left = pp->grace_left;
    n->expires_in = pp->expires_in;
    rc = pam_set_data(p->pamh, ICSOE_PAM_NOTE, n, free_note);
    if (rc != PAM_SUCCESS)
        free(n);
    return rc;
}

/* The note for p->curp, or NULL. */
static const icsoe_pam_note *read_note(const icsoe_pam *p)
{
    const void *data = NULL;
    const icsoe_pam_note *n;

    if (pam_get_data(p->pamh, ICSOE_PAM_NOTE, &data) != PAM_SUCCESS ||
        data == NULL)
        return NULL;
    n = data;
    return strcmp(n->curp, p->curp) == 0 ? n : NULL;
}

static int needs_new_password(const icsoe_pam_note *n)
{
    return n != NULL && (n->expired || n->must_change);
}

/* ------------------------------------------------------------------- auth */

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
        return leave_note(p, pp);
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
             p->curp[0] != '\0' ? p->curp : "a malformed user name");
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

static int do_authenticate(icsoe_pam *p)
{
    icsoe_ppolicy_info pp;
    char *password = NULL;
    icsoe_status st;
    int rc;

    if (get_curp(p, &rc) < 0)
        goto out;
    rc = open_directory(p);
    if (rc != PAM_SUCCESS)
        goto out;
    rc = get_password(p, PAM_AUTHTOK, ICSOE_PROMPT_PASSWORD,
                      p->args.use_first_pass, p->args.try_first_pass,
                      &password);
    if (rc != PAM_SUCCESS)
        goto out;
    st = verify(p, password, &pp);
    rc = auth_result(p, st, &pp);
out:
    icsoe_free_secret(password);
    return rc;
}

static int do_setcred(icsoe_pam *p)
{
    (void)p;
    return PAM_SUCCESS;
}

/* ---------------------------------------------------------------- account */

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

/* ppolicy state seen by the auth step of this transaction. */
static int account_password_state(icsoe_pam *p)
{
    const icsoe_pam_note *n = read_note(p);
    char msg[160];

    if (n == NULL)
        return PAM_SUCCESS;
    if (needs_new_password(n)) {
        icsoe_conv_error(p->pamh, p->flags,
                         n->must_change ? MSG_MUST_CHANGE : MSG_EXPIRED);
        plog(p, ICSOE_LOG_NOTICE, "account: %s must change the password "
             "(%s)", p->curp, n->must_change ? "reset" : "expired");
        return PAM_NEW_AUTHTOK_REQD;
    }
    if (n->expires_in > 0) {
        int days = (n->expires_in + 86399) / 86400;

        snprintf(msg, sizeof(msg), "Tu contraseña vence en %d %s.", days,
                 days == 1 ? "día" : "días");
        icsoe_conv_info(p->pamh, p->flags, msg);
    }
    return PAM_SUCCESS;
}

static int do_acct_mgmt(icsoe_pam *p)
{
    icsoe_capturist c;
    icsoe_status st;
    int valid, rc;

    memset(&c, 0, sizeof(c));
    valid = get_curp(p, &rc);
    if (valid < 0)
        return rc;
    if (valid == 0)
        return PAM_USER_UNKNOWN;
    rc = open_directory(p);
    if (rc != PAM_SUCCESS)
        return rc;
    st = icsoe_dir_capturist_get(p->dir, p->curp, &c);
    switch (st) {
    case ICSOE_OK:
        rc = account_status(p, &c);
        if (rc == PAM_SUCCESS)
            rc = account_password_state(p);
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

/* ---------------------------------------------------------------- session */

static int do_open_session(icsoe_pam *p)
{
    char env[sizeof("ICSOE_CURP=") + ICSOE_CURP_LEN];
    int valid, rc;

    valid = get_curp(p, &rc);
    if (valid < 0)
        return rc;
    if (valid == 0)
        return PAM_IGNORE;  /* not a capturist: nothing to add */
    snprintf(env, sizeof(env), "ICSOE_CURP=%s", p->curp);
    return pam_putenv(p->pamh, env);
}

static int do_close_session(icsoe_pam *p)
{
    (void)p;
    return PAM_SUCCESS;
}

/* --------------------------------------------------------------- password */

static int chauthtok_prelim(icsoe_pam *p)
{
    icsoe_ppolicy_info pp;
    char *old = NULL;
    icsoe_status st;
    int rc;

    rc = open_directory(p);
    if (rc != PAM_SUCCESS)
        goto out;
    rc = get_password(p, PAM_OLDAUTHTOK, ICSOE_PROMPT_OLD_PASSWORD,
                      p->args.use_first_pass, p->args.try_first_pass, &old);
    if (rc != PAM_SUCCESS)
        goto out;
    st = verify(p, old, &pp);
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
        return get_password(p, PAM_AUTHTOK, NULL, 1, 0, out);
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
    rc = open_directory(p);
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
    if (rc == PAM_SUCCESS && read_note(p) != NULL) {
        icsoe_ppolicy_info fresh = { 0, 0, 0, -1, -1 };

        /* The note from auth is stale now: the account step may pass. */
        rc = leave_note(p, &fresh);
    }
out:
    icsoe_capturist_clear(&c);
    icsoe_free_secret(old);
    icsoe_free_secret(new_pw);
    return rc;
}

static int do_chauthtok(icsoe_pam *p)
{
    int valid, rc;

    valid = get_curp(p, &rc);
    if (valid < 0)
        return rc;
    if (valid == 0)
        return PAM_USER_UNKNOWN;
    /* Asked to change only expired passwords, and the auth step of this
     * transaction saw a valid one: nothing to do. */
    if ((p->flags & PAM_CHANGE_EXPIRED_AUTHTOK) && read_note(p) != NULL &&
        !needs_new_password(read_note(p)))
        return PAM_SUCCESS;
    if (p->flags & PAM_PRELIM_CHECK)
        return chauthtok_prelim(p);
    if (p->flags & PAM_UPDATE_AUTHTOK)
        return chauthtok_update(p);
    plog(p, ICSOE_LOG_ERR, "chauthtok: neither PRELIM_CHECK nor "
         "UPDATE_AUTHTOK in flags 0x%x", (unsigned)p->flags);
    return PAM_SERVICE_ERR;
}

/* ------------------------------------------------------------- dispatcher */

static const struct {
    const char *name;
    int (*run)(icsoe_pam *p);
} icsoe_pam_ops[] = {
    [ICSOE_PAM_AUTHENTICATE]  = { "auth", do_authenticate },
    [ICSOE_PAM_SETCRED]       = { "setcred", do_setcred },
    [ICSOE_PAM_ACCT_MGMT]     = { "account", do_acct_mgmt },
    [ICSOE_PAM_OPEN_SESSION]  = { "open_session", do_open_session },
    [ICSOE_PAM_CLOSE_SESSION] = { "close_session", do_close_session },
    [ICSOE_PAM_CHAUTHTOK]     = { "chauthtok", do_chauthtok },
};

static int icsoe_pam_dispatch(icsoe_pam_op op, pam_handle_t *pamh, int flags,
                              int argc, const char **argv)
{
    icsoe_pam p;
    int rc;

    memset(&p, 0, sizeof(p));
    p.pamh = pamh;
    p.flags = flags;
    p.opname = icsoe_pam_ops[op].name;
    p.logger.fn = pam_logger;
    p.logger.ctx = &p;
    icsoe_pam_args_parse(pamh, argc, argv, &p.args);

    rc = icsoe_pam_ops[op].run(&p);

    plog(&p, ICSOE_LOG_DEBUG, "%s: %s -> %s", p.opname,
         p.curp[0] != '\0' ? p.curp : "-", pam_strerror(pamh, rc));
    icsoe_dir_close(p.dir);
    icsoe_conf_free(p.conf);
    return rc;
}

/* --------------------------------------------------- the exported ABI */

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
                                   const char **argv)
{
    return icsoe_pam_dispatch(ICSOE_PAM_AUTHENTICATE, pamh, flags, argc, argv);
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc,
                              const char **argv)
{
    return icsoe_pam_dispatch(ICSOE_PAM_SETCRED, pamh, flags, argc, argv);
}

PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc,
                                const char **argv)
{
    return icsoe_pam_dispatch(ICSOE_PAM_ACCT_MGMT, pamh, flags, argc, argv);
}

PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc,
                                   const char **argv)
{
    return icsoe_pam_dispatch(ICSOE_PAM_OPEN_SESSION, pamh, flags, argc, argv);
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
                                    const char **argv)
{
    return icsoe_pam_dispatch(ICSOE_PAM_CLOSE_SESSION, pamh, flags, argc, argv);
}

PAM_EXTERN int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc,
                                const char **argv)
{
    return icsoe_pam_dispatch(ICSOE_PAM_CHAUTHTOK, pamh, flags, argc, argv);
}
