/* One mail per lockout (issue 13, defect 9).
 *
 * Threat: a login page that says "tu cuenta está bloqueada" tells whoever
 * guessed pwdMaxFailure times that the CURP has an account.  Rule: the
 * page answers a locked account exactly like a wrong password, and the
 * owner learns of the lock by mail instead -- once per lock, however many
 * attempts the attacker makes while it lasts.
 * How: slapd's pwdAccountLockedTime identifies the lock; the account keeps
 * in icsoeLockNotice the lock it was told about.  Claiming a notice is one
 * Modify that deletes the exact old value (or adds to the empty
 * single-valued attribute), so of concurrent logins exactly one sends. */
#include <stdlib.h>
#include <string.h>

#include "curp.h"
#include "dir_internal.h"

/* GeneralizedTime as slapd writes it ("20261125143005Z", perhaps with
 * fractions): a sane bounded value, never empty. */
#define LOCKTIME_MAX 32

typedef struct lock_state {
    char locked[LOCKTIME_MAX];   /* pwdAccountLockedTime, "" when not locked */
    char notice[LOCKTIME_MAX];   /* icsoeLockNotice, "" when none */
} lock_state;

static void copy_value(LDAP *ld, LDAPMessage *e, const char *attr, char *out)
{
    struct berval **v = ldap_get_values_len(ld, e, attr);

    out[0] = '\0';
    if (v != NULL && v[0] != NULL && v[0]->bv_len > 0 && v[0]->bv_len < LOCKTIME_MAX &&
        memchr(v[0]->bv_val, '\0', v[0]->bv_len) == NULL) {
        memcpy(out, v[0]->bv_val, v[0]->bv_len);
        out[v[0]->bv_len] = '\0';
    }
    if (v != NULL)
        ldap_value_free_len(v);
}

static icsoe_status read_lock_state(icsoe_dir *d, const char *dn, lock_state *ls)
{
    char *attrs[] = { "pwdAccountLockedTime", "icsoeLockNotice", NULL };
    LDAPMessage *res, *e;
    icsoe_status st;

    memset(ls, 0, sizeof(*ls));
    st = dir_read_one(d, dn, "(objectClass=icsoeCapturist)", attrs, "lock state", &res, &e);
    if (st == ICSOE_OK) {
        copy_value(d->svc, e, "pwdAccountLockedTime", ls->locked);
        copy_value(d->svc, e, "icsoeLockNotice", ls->notice);
    }
    if (res != NULL)
        ldap_msgfree(res);
    return st;
}

static icsoe_status claim(icsoe_dir *d, const char *dn, lock_state *ls)
{
    char *oldvals[] = { ls->notice, NULL }, *newvals[] = { ls->locked, NULL };
    LDAPMod m_del = { LDAP_MOD_DELETE, "icsoeLockNotice", { oldvals } };
    LDAPMod m_add = { LDAP_MOD_ADD, "icsoeLockNotice", { newvals } };
    LDAPMod *mods[3] = { &m_add, NULL, NULL };
    dir_modify m;
    icsoe_status st;
    int rc;

    if (ls->notice[0] != '\0') {
        mods[0] = &m_del;
        mods[1] = &m_add;
    }
    memset(&m, 0, sizeof(m));
    m.dn = dn;
    m.mods = mods;
    st = dir_wr_run(d, dir_modify_op, &m, &rc);
    if (st != ICSOE_OK)
        return st;
    /* Somebody else changed the notice first: they send the mail. */
    if (rc == LDAP_NO_SUCH_ATTRIBUTE || rc == LDAP_TYPE_OR_VALUE_EXISTS ||
        rc == LDAP_CONSTRAINT_VIOLATION)
        return ICSOE_ERR_EXISTS;
    return dir_map_rc(d, "lock notice", rc);
}

icsoe_status icsoe_dir_capturist_claim_lock_notice(icsoe_dir *d, const char *curp)
{
    lock_state ls;
    dir_call call;
    icsoe_status st;
    char *dn;

    if (!icsoe_curp_shape_ok(curp))
        return ICSOE_ERR_INVALID_INPUT;
    dn = dir_capturist_dn(d, curp);
    if (dn == NULL)
        return ICSOE_ERR_INTERNAL;
    dir_call_begin(d, &call);
    st = read_lock_state(d, dn, &ls);
    if (st == ICSOE_OK && ls.locked[0] == '\0')
        st = ICSOE_ERR_NOT_FOUND;        /* not locked (any more) */
    else if (st == ICSOE_OK && strcmp(ls.locked, ls.notice) == 0)
        st = ICSOE_ERR_EXISTS;           /* this lock was already told */
    else if (st == ICSOE_OK)
        st = claim(d, dn, &ls);
    dir_call_end(d, &call, st);
    free(dn);
    return st;
}
