/* Authentication: password checks by binding as the capturist (OpenLDAP
 * hashes and compares, ppolicy counts failures and locks), password change
 * by the Password Modify extended operation (RFC 3062), and the password
 * policy response control (draft-behera-ldap-password-policy) on both.
 *
 * Rules: only result code 0 is success; a ppolicy control can only make
 * things worse, never turn a failure into success; user binds happen only
 * on the authentication connection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "curp.h"
#include "dir_internal.h"
#include "secure.h"

/* The ppolicy request control: an OID, no value, not critical (what
 * ldap_create_passwordpolicy_control builds, without its allocation and
 * free on every bind).  libldap only reads the controls it is given. */
static LDAPControl pp_request = {
    (char *)LDAP_CONTROL_PASSWORDPOLICYREQUEST, { 0, NULL }, 0
};

/* The BER of a ppolicy response without warning and error: SEQUENCE {}. */
static const unsigned char pp_empty[2] = { 0x30, 0x00 };

static void pp_init(icsoe_ppolicy_info *pp)
{
    memset(pp, 0, sizeof(*pp));
    pp->grace_left = -1;
    pp->expires_in = -1;
}

/* Reads the ppolicy response control among ctrls into pp; returns the
 * ppolicy error (PP_noError when absent). */
static int pp_parse(LDAP *ld, LDAPControl **ctrls, icsoe_ppolicy_info *pp)
{
    LDAPControl *c;
    ber_int_t expire = -1, grace = -1;
    LDAPPasswordPolicyError err = PP_noError;

    if (ctrls == NULL)
        return PP_noError;
    c = ldap_control_find(LDAP_CONTROL_PASSWORDPOLICYRESPONSE, ctrls, NULL);
    if (c == NULL)
        return PP_noError;
    /* slapd answers every bind that asked with the control; a good
     * password answers the empty SEQUENCE (no warning, no error), which
     * is exactly what pp_init left in pp.  Only these two bytes skip
     * libldap's parser (~1,300 instructions a login); any other value is
     * parsed in full. */
    if (c->ldctl_value.bv_len == sizeof(pp_empty) &&
        memcmp(c->ldctl_value.bv_val, pp_empty, sizeof(pp_empty)) == 0)
        return PP_noError;
    if (ldap_parse_passwordpolicy_control(ld, c, &expire, &grace, &err) != LDAP_SUCCESS)
        return PP_noError;
    pp->expires_in = expire >= 0 ? (int)expire : -1;
    pp->grace_left = grace >= 0 ? (int)grace : -1;
    pp->locked = err == PP_accountLocked;
    pp->expired = err == PP_passwordExpired;
    pp->must_change = err == PP_changeAfterReset;
    return (int)err;
}

/* Waits for the answer to msgid within the deadline; returns its result
 * code with the ppolicy control parsed into pp. */
static int await_result(icsoe_dir *d, LDAP *ld, int msgid, icsoe_ppolicy_info *pp,
                        int *pp_err)
{
    LDAPMessage *res = NULL;
    LDAPControl **ctrls = NULL;
    struct timeval tv;
    int rc, err = LDAP_OTHER;

    dir_timeval(d, &tv);
    rc = ldap_result(ld, msgid, LDAP_MSG_ALL, &tv, &res);
    if (rc == 0) {
        ldap_abandon_ext(ld, msgid, NULL, NULL);
        return LDAP_TIMEOUT;
    }
    if (rc < 0) {
        ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &rc);
        return rc == LDAP_SUCCESS ? LDAP_SERVER_DOWN : rc;
    }
    rc = ldap_parse_result(ld, res, &err, NULL, NULL, NULL, &ctrls, 1);
    if (rc != LDAP_SUCCESS)
        return rc;
    *pp_err = pp_parse(ld, ctrls, pp);
    ldap_controls_free(ctrls);
    return err;
}

/* Simple bind as dn on the authentication connection, with the ppolicy
 * request control.  Reconnects once if the connection was lost.  On
 * ICSOE_OK, *rc is the bind result. */
static icsoe_status user_bind(icsoe_dir *d, const char *dn, const char *password,
                              int *rc, icsoe_ppolicy_info *pp)
{
    struct berval cred;
    LDAPControl *ctrls[2] = { &pp_request, NULL };
    icsoe_status st;
    LDAP *ld;
    int attempt, msgid, pp_err = PP_noError;

    cred.bv_val = (char *)password;
    cred.bv_len = strlen(password);
    for (attempt = 0; attempt < 2; attempt++) {
        pp_init(pp);
        if (dir_remaining_ms(d) <= 0) {
            dir_reason(d, "%s: no answer within %d s", d->uris, d->conf->timeout);
            return ICSOE_ERR_UNAVAILABLE;
        }
        st = dir_auth_conn(d, &ld);
        if (st != ICSOE_OK)
            return st;
        *rc = ldap_sasl_bind(ld, dn, LDAP_SASL_SIMPLE, &cred, ctrls, NULL, &msgid);
        if (*rc == LDAP_SUCCESS)
            *rc = await_result(d, ld, msgid, pp, &pp_err);
        if (!dir_conn_lost(*rc))
            return ICSOE_OK;
        dir_reason(d, "user bind: %s: %s", d->conf->uri[d->cur], ldap_err2string(*rc));
        icsoe_log(d->lg, ICSOE_LOG_INFO, "icsoe_dir: %s%s", d->reason,
                  attempt == 0 ? ", reconnecting" : "");
        dir_conn_failed(d, *rc);
    }
    return ICSOE_ERR_UNAVAILABLE;
}

int dir_user_bind_ok(icsoe_dir *d, const char *dn, const char *password)
{
    icsoe_ppolicy_info pp;
    int rc = LDAP_OTHER;

    return user_bind(d, dn, password, &rc, &pp) == ICSOE_OK && rc == LDAP_SUCCESS;
}

/* The same hashing work as a real login, for unknown and pending CURPs;
 * the answer is ignored (even 0: nobody logs in as the decoy). */
static icsoe_status decoy_bind(icsoe_dir *d, const char *password)
{
    icsoe_ppolicy_info pp;
    icsoe_status st;
    int rc;

    st = user_bind(d, d->decoy_dn, password, &rc, &pp);
    return st == ICSOE_OK ? ICSOE_ERR_INVALID_CREDENTIALS : st;
}

static int password_sane(const char *pw)
{
    size_t n;

    if (pw == NULL)
        return 0;
    n = strnlen(pw, DIR_PASSWORD_MAX + 1);
    /* An empty password would be an unauthenticated bind (RFC 4513 5.1.2),
     * which "succeeds": never send one. */
    return n > 0 && n <= DIR_PASSWORD_MAX;
}

/* Maps a capturist bind (result rc, control pp) to our status. */
static icsoe_status bind_outcome(icsoe_dir *d, const icsoe_capturist *c, int rc,
                                 const icsoe_ppolicy_info *pp)
{
    if (rc == LDAP_SUCCESS) {
        if (pp->locked)
            return ICSOE_ERR_LOCKED;
        if (pp->expired)
            return ICSOE_ERR_EXPIRED;
        if (c->status == ICSOE_CAPTURIST_LOCKED)
            return ICSOE_ERR_LOCKED;
        if (c->status != ICSOE_CAPTURIST_ACTIVE)
            return ICSOE_ERR_INVALID_CREDENTIALS;
        return ICSOE_OK;
    }
    if (rc == LDAP_INVALID_CREDENTIALS) {
        if (pp->locked)
            return ICSOE_ERR_LOCKED;
        if (pp->expired)
            return ICSOE_ERR_EXPIRED;
        return ICSOE_ERR_INVALID_CREDENTIALS;
    }
    return dir_map_rc(d, "user bind", rc);
}

/* Finds the capturist and binds as it (or the decoy).  c and dn are set
 * when the account exists (c: the identity fields only). */
static icsoe_status check_password(icsoe_dir *d, const char *curp, const char *password,
                                   icsoe_capturist *c, char **dn, icsoe_ppolicy_info *pp)
{
    icsoe_status st = ICSOE_ERR_NOT_FOUND;
    int rc;

    memset(c, 0, sizeof(*c));
    *dn = NULL;
    if (icsoe_curp_shape_ok(curp)) {
        st = dir_fetch_capturist_login(d, curp, c, dn);
        if (st != ICSOE_OK && st != ICSOE_ERR_NOT_FOUND)
            return st;
    }
    if (st == ICSOE_ERR_NOT_FOUND ||
        (c->status != ICSOE_CAPTURIST_ACTIVE && c->status != ICSOE_CAPTURIST_LOCKED)) {
        st = decoy_bind(d, password);
        icsoe_log(d->lg, ICSOE_LOG_NOTICE, "icsoe_dir: login refused for %s: %s",
                  icsoe_curp_shape_ok(curp) ? curp : "(malformed CURP)",
                  st == ICSOE_ERR_INVALID_CREDENTIALS ? "unknown or pending account"
                                                      : icsoe_dir_reason(d));
        return st;
    }
    st = user_bind(d, *dn, password, &rc, pp);
    if (st != ICSOE_OK)
        return st;
    st = bind_outcome(d, c, rc, pp);
    if (st != ICSOE_OK)
        icsoe_log(d->lg, ICSOE_LOG_NOTICE, "icsoe_dir: login refused for %s: %s", curp,
                  icsoe_status_name(st));
    return st;
}

icsoe_status icsoe_dir_verify_password(icsoe_dir *d, const char *curp,
                                       const char *password, icsoe_capturist *out,
                                       icsoe_ppolicy_info *pp)
{
    icsoe_ppolicy_info local_pp;
    icsoe_capturist c;
    dir_call call;
    icsoe_status st;
    char *dn = NULL;

    if (pp == NULL)
        pp = &local_pp;
    pp_init(pp);
    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (!password_sane(password))
        return ICSOE_ERR_INVALID_CREDENTIALS;
    dir_call_begin(d, &call);
    st = check_password(d, curp, password, &c, &dn, pp);
    dir_call_end(d, &call, st);
    if (st == ICSOE_OK && out != NULL) {
        *out = c;
        memset(&c, 0, sizeof(c));
    }
    icsoe_capturist_clear(&c);
    free(dn);
    return st;
}

/* ---- password change ---- */

const char *icsoe_pwchange_reason_message(icsoe_pwchange_reason r)
{
    switch (r) {
    case ICSOE_PWCHANGE_NONE:
        return "La contraseña se cambió correctamente.";
    case ICSOE_PWCHANGE_IN_HISTORY:
        return "La contraseña nueva no puede ser igual a una de tus contraseñas anteriores.";
    case ICSOE_PWCHANGE_TOO_YOUNG:
        return "Cambiaste tu contraseña hace muy poco; inténtalo más tarde.";
    case ICSOE_PWCHANGE_QUALITY:
        return "La contraseña nueva no cumple las reglas de calidad.";
    case ICSOE_PWCHANGE_TOO_SHORT:
        return "La contraseña nueva es demasiado corta.";
    case ICSOE_PWCHANGE_NOT_ALLOWED:
        return "No puedes cambiar tu contraseña; comunícate con el administrador.";
    case ICSOE_PWCHANGE_OTHER:
        break;
    }
    return "La política de contraseñas no permitió el cambio.";
}

static icsoe_pwchange_reason pwchange_reason(int pp_err, int rc)
{
    switch (pp_err) {
    case PP_passwordInHistory: return ICSOE_PWCHANGE_IN_HISTORY;
    case PP_passwordTooYoung: return ICSOE_PWCHANGE_TOO_YOUNG;
    case PP_insufficientPasswordQuality: return ICSOE_PWCHANGE_QUALITY;
    case PP_passwordTooShort: return ICSOE_PWCHANGE_TOO_SHORT;
    case PP_passwordModNotAllowed:
    case PP_mustSupplyOldPassword: return ICSOE_PWCHANGE_NOT_ALLOWED;
    default: break;
    }
    return rc == LDAP_INSUFFICIENT_ACCESS ? ICSOE_PWCHANGE_NOT_ALLOWED : ICSOE_PWCHANGE_OTHER;
}

/* RFC 3062 on the (user-bound) authentication connection. */
static icsoe_status passwd_exop(icsoe_dir *d, const char *old_password,
                                const char *new_password, icsoe_pwchange_reason *why)
{
    struct berval oldb, newb;
    LDAPControl *ctrls[2] = { &pp_request, NULL };
    icsoe_ppolicy_info pp;
    icsoe_status st;
    LDAP *ld;
    int rc, msgid, pp_err = PP_noError;

    st = dir_auth_conn(d, &ld);
    if (st != ICSOE_OK)
        return st;
    oldb.bv_val = (char *)old_password;
    oldb.bv_len = strlen(old_password);
    newb.bv_val = (char *)new_password;
    newb.bv_len = strlen(new_password);
    pp_init(&pp);
    rc = ldap_passwd(ld, NULL, &oldb, &newb, ctrls, NULL, &msgid);
    if (rc == LDAP_SUCCESS)
        rc = await_result(d, ld, msgid, &pp, &pp_err);
    if (rc == LDAP_SUCCESS && pp_err == PP_noError)
        return ICSOE_OK;
    if (rc == LDAP_INVALID_CREDENTIALS)
        return ICSOE_ERR_INVALID_CREDENTIALS;
    if (rc == LDAP_CONSTRAINT_VIOLATION || rc == LDAP_INSUFFICIENT_ACCESS ||
        rc == LDAP_UNWILLING_TO_PERFORM || pp_err != PP_noError) {
        *why = pwchange_reason(pp_err, rc);
        dir_reason(d, "password change refused: %s (ppolicy %d)", ldap_err2string(rc), pp_err);
        return ICSOE_ERR_POLICY;
    }
    if (dir_conn_lost(rc))
        dir_conn_failed(d, rc);
    return dir_map_rc(d, "password modify", rc);
}

/* Ends the account's other sessions.  Done on the user's own connection
 * (still bound as the user after the Password Modify; the ACL lets "self"
 * write icsoeEpoch): a PAM host holds only the reader account, which
 * cannot write. */
static icsoe_status bump_epoch(icsoe_dir *d, const char *dn)
{
    char *one[] = { "1", NULL };
    LDAPMod m_epoch = { LDAP_MOD_INCREMENT, "icsoeEpoch", { one } };
    LDAPMod *mods[] = { &m_epoch, NULL };
    dir_modify m;
    icsoe_status st;
    LDAP *ld;
    int rc;

    memset(&m, 0, sizeof(m));
    m.dn = dn;
    m.mods = mods;
    st = dir_auth_conn(d, &ld);
    if (st != ICSOE_OK)
        return st;
    rc = dir_modify_op(d, ld, &m);
    if (dir_conn_lost(rc))
        dir_drop_auth(d);
    return dir_map_rc(d, "epoch", rc);
}

icsoe_status icsoe_dir_change_password(icsoe_dir *d, const char *curp,
                                       const char *old_password,
                                       const char *new_password,
                                       icsoe_pwchange_reason *why)
{
    icsoe_pwchange_reason local_why;
    icsoe_ppolicy_info pp;
    icsoe_capturist c;
    dir_call call;
    icsoe_status st;
    char *dn = NULL;

    if (why == NULL)
        why = &local_why;
    *why = ICSOE_PWCHANGE_NONE;
    if (!password_sane(old_password))
        return ICSOE_ERR_INVALID_CREDENTIALS;
    if (!password_sane(new_password))
        return ICSOE_ERR_INVALID_INPUT;
    dir_call_begin(d, &call);
    st = check_password(d, curp, old_password, &c, &dn, &pp);
    if (st == ICSOE_OK)
        st = passwd_exop(d, old_password, new_password, why);
    if (st == ICSOE_OK) {
        icsoe_log(d->lg, ICSOE_LOG_NOTICE, "icsoe_dir: capturist %s changed its password",
                  curp);
        st = bump_epoch(d, dn);
    }
    dir_call_end(d, &call, st);
    icsoe_capturist_clear(&c);
    free(dn);
    return st;
}
