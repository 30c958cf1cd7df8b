/* pam_icsoe: Linux-PAM module for ICSOE capturists (CURP-keyed accounts in
 * OpenLDAP, the same accounts, password policy and ppolicy lockout as the
 * web pages of mod_icsoe).
 *
 * The six pam_sm_* entry points are one-liners into one dispatcher.  Each
 * call parses its arguments, takes the configuration (confcache.c: parsed
 * once per process, checked against the files on every call), opens its
 * own directory handle, does its work and frees everything before
 * returning: nothing else survives between calls except the small ppolicy
 * note the auth step leaves for the account step with pam_set_data()
 * (freed by libpam).  So the module is thread-safe as long as each thread
 * has its own PAM handle, which is what PAM requires anyway.
 *
 * Return codes (see pam_icsoe(8)):
 *   auth     PAM_SUCCESS, PAM_AUTH_ERR (unknown, malformed or pending CURP,
 *            wrong password: all alike), PAM_MAXTRIES (ppolicy lockout),
 *            PAM_PERM_DENIED (locked by an administrator),
 *            PAM_AUTHTOK_EXPIRED (expired, no grace login left),
 *            PAM_AUTHINFO_UNAVAIL (directory unreachable), PAM_SERVICE_ERR
 *            (bad configuration).
 *   account  PAM_SUCCESS, PAM_USER_UNKNOWN, PAM_PERM_DENIED,
 *            PAM_NEW_AUTHTOK_REQD, PAM_ACCT_EXPIRED, PAM_AUTHINFO_UNAVAIL,
 *            PAM_SERVICE_ERR, PAM_SYSTEM_ERR.
 *   password PAM_SUCCESS, PAM_USER_UNKNOWN, PAM_AUTH_ERR, PAM_AUTHTOK_ERR,
 *            PAM_AUTHTOK_EXPIRED,
 *            PAM_PERM_DENIED, PAM_AUTHINFO_UNAVAIL, PAM_SERVICE_ERR.
 *
 * Layout (the nss-pam-ldapd shape): this file is only the exported ABI and
 * the dispatcher; core.c holds what the services share; auth.c, account.c,
 * password.c and session.c hold one PAM service each. */
#include <string.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#define PAM_SM_SESSION
#define PAM_SM_PASSWORD
#include "core.h"

typedef enum icsoe_pam_op {
    ICSOE_PAM_AUTHENTICATE = 0,
    ICSOE_PAM_SETCRED,
    ICSOE_PAM_ACCT_MGMT,
    ICSOE_PAM_OPEN_SESSION,
    ICSOE_PAM_CLOSE_SESSION,
    ICSOE_PAM_CHAUTHTOK
} icsoe_pam_op;

static const struct {
    const char *name;
    int (*run)(icsoe_pam *p);
} icsoe_pam_ops[] = {
    [ICSOE_PAM_AUTHENTICATE]  = { "auth", icsoe_pam_authenticate },
    [ICSOE_PAM_SETCRED]       = { "setcred", icsoe_pam_setcred },
    [ICSOE_PAM_ACCT_MGMT]     = { "account", icsoe_pam_acct_mgmt },
    [ICSOE_PAM_OPEN_SESSION]  = { "open_session", icsoe_pam_open_session },
    [ICSOE_PAM_CLOSE_SESSION] = { "close_session", icsoe_pam_close_session },
    [ICSOE_PAM_CHAUTHTOK]     = { "chauthtok", icsoe_pam_chauthtok },
};

static int icsoe_pam_dispatch(icsoe_pam_op op, pam_handle_t *pamh, int flags,
                              int argc, const char **argv)
{
    icsoe_pam p;
    int rc;

    icsoe_pam_init(&p, pamh, flags, icsoe_pam_ops[op].name, argc, argv);
    rc = icsoe_pam_ops[op].run(&p);
    plog(&p, ICSOE_LOG_DEBUG, "%s: %s -> %s", p.opname,
         p.curp[0] != '\0' ? p.curp : "-", pam_strerror(pamh, rc));
    icsoe_pam_fini(&p);
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
