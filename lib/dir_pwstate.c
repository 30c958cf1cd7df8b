/* Password expiry and forced change as ppolicy will see them at the next
 * bind, read without binding as the capturist.
 *
 * Threat: the PAM account step runs without an auth step (ssh keys) or
 * after auth answered PAM_AUTHTOK_EXPIRED; if expiry were learnt only from
 * the ppolicy control of the user's own bind, an expired account would
 * pass.  Rule: read the entry's pwdChangedTime, pwdReset, pwdGraceUseTime
 * and pwdPolicySubentry, and its policy's pwdMaxAge, pwdGraceAuthNLimit,
 * pwdMustChange and pwdExpireWarning, with the service connection, and
 * compute what slapd would answer.  Pitfall: a policy entry that cannot be
 * read is not "no policy": it is an error (fail closed), so the policy DN
 * must be right (pwdPolicySubentry, else conf ppolicy_dn, else
 * cn=default,ou=policies,<base> as schema/ ships it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "curp.h"
#include "dir_internal.h"

typedef struct pw_policy {
    long max_age;           /* pwdMaxAge, seconds, 0 = never expires */
    long grace_limit;       /* pwdGraceAuthNLimit */
    long expire_warning;    /* pwdExpireWarning, seconds */
    int must_change;        /* pwdMustChange */
} pw_policy;

/* A non-negative integer attribute; def when absent, *bad when malformed. */
static long get_long(LDAP *ld, LDAPMessage *e, const char *attr, long def,
                     int *bad)
{
    char *s = dir_get_str(ld, e, attr, bad), *end = NULL;
    long v = def;

    if (s != NULL) {
        v = strtol(s, &end, 10);
        if (end == s || *end != '\0' || v < 0)
            *bad = 1;
        free(s);
    }
    return v;
}

static int get_bool(LDAP *ld, LDAPMessage *e, const char *attr, int *bad)
{
    char *s = dir_get_str(ld, e, attr, bad);
    int v = 0;

    if (s != NULL) {
        if (strcmp(s, "TRUE") == 0)
            v = 1;
        else if (strcmp(s, "FALSE") != 0)
            *bad = 1;
        free(s);
    }
    return v;
}

static icsoe_status read_policy(icsoe_dir *d, const char *dn, pw_policy *pol)
{
    char *attrs[] = { "pwdMaxAge", "pwdGraceAuthNLimit", "pwdMustChange",
                      "pwdExpireWarning", NULL };
    LDAPMessage *res, *e;
    icsoe_status st;
    int bad = 0;

    st = dir_read_one(d, dn, "(objectClass=*)", attrs, "password policy search", &res, &e);
    if (st == ICSOE_ERR_NOT_FOUND) {
        dir_reason(d, "password policy %s not found (set ppolicy_dn)", dn);
        st = ICSOE_ERR_INTERNAL;
    }
    if (st == ICSOE_OK) {
        pol->max_age = get_long(d->svc, e, "pwdMaxAge", 0, &bad);
        pol->grace_limit = get_long(d->svc, e, "pwdGraceAuthNLimit", 0, &bad);
        pol->expire_warning = get_long(d->svc, e, "pwdExpireWarning", 0, &bad);
        pol->must_change = get_bool(d->svc, e, "pwdMustChange", &bad);
        if (bad) {
            dir_reason(d, "password policy %s has a malformed value", dn);
            st = ICSOE_ERR_INTERNAL;
        }
    }
    if (res != NULL)
        ldap_msgfree(res);
    return st;
}

/* The policy that governs the entry: its own pwdPolicySubentry, else the
 * configured default.  Malloc'd. */
static char *policy_dn(icsoe_dir *d, LDAP *ld, LDAPMessage *e, int *bad)
{
    char *dn = dir_get_str(ld, e, "pwdPolicySubentry", bad);
    size_t n;

    if (dn != NULL)
        return dn;
    if (d->conf->ppolicy_dn != NULL)
        return strdup(d->conf->ppolicy_dn);
    n = strlen("cn=default,ou=policies,") + strlen(d->conf->base) + 1;
    dn = malloc(n);
    if (dn != NULL)
        snprintf(dn, n, "cn=default,ou=policies,%s", d->conf->base);
    return dn;
}

static void compute(const pw_policy *pol, time_t changed, int reset,
                    size_t graces_used, time_t now, icsoe_pwstate *out)
{
    out->must_change = reset && pol->must_change;
    if (pol->max_age <= 0 || changed == 0)
        return;
    out->expires_in = (long long)changed + pol->max_age - (long long)now;
    if (out->expires_in <= 0) {
        out->expired = 1;
        out->expires_in = 0;
        out->grace_left = pol->grace_limit > (long)graces_used ?
                          (int)(pol->grace_limit - (long)graces_used) : 0;
        return;
    }
    out->warn = pol->expire_warning > 0 &&
                out->expires_in <= pol->expire_warning;
}

static icsoe_status password_state(icsoe_dir *d, const char *curp,
                                   icsoe_pwstate *out)
{
    char *attrs[] = { "pwdChangedTime", "pwdReset", "pwdGraceUseTime",
                      "pwdPolicySubentry", NULL };
    char *dn = NULL, *pdn = NULL, *changed_s = NULL, **graces = NULL;
    LDAPMessage *res = NULL, *e;
    pw_policy pol;
    time_t changed = 0;
    size_t ngraces = 0;
    int bad = 0, reset;
    icsoe_status st;

    if (!icsoe_curp_shape_ok(curp))
        return ICSOE_ERR_INVALID_INPUT;
    dn = dir_capturist_dn(d, curp);
    if (dn == NULL)
        return ICSOE_ERR_INTERNAL;
    st = dir_read_one(d, dn, "(objectClass=*)", attrs, "password state search", &res, &e);
    if (st != ICSOE_OK)
        goto out;
    changed_s = dir_get_str(d->svc, e, "pwdChangedTime", &bad);
    if (changed_s != NULL) {
        changed = dir_parse_gentime(changed_s);
        if (changed == (time_t)-1) {
            changed = 0;
            bad = 1;
        }
    }
    reset = get_bool(d->svc, e, "pwdReset", &bad);
    graces = dir_get_strs(d->svc, e, "pwdGraceUseTime", &ngraces, &bad);
    pdn = policy_dn(d, d->svc, e, &bad);
    if (bad || pdn == NULL) {
        dir_reason(d, "password state of %s: missing or malformed value", dn);
        st = ICSOE_ERR_INTERNAL;
        goto out;
    }
    memset(&pol, 0, sizeof(pol));
    st = read_policy(d, pdn, &pol);
    if (st == ICSOE_OK)
        compute(&pol, changed, reset, ngraces, time(NULL), out);
out:
    if (st != ICSOE_OK && st != ICSOE_ERR_NOT_FOUND)
        icsoe_log(d->lg, ICSOE_LOG_ERR, "icsoe_dir: %s", d->reason);
    if (res != NULL)
        ldap_msgfree(res);
    for (size_t i = 0; graces != NULL && graces[i] != NULL; i++)
        free(graces[i]);
    free(graces);
    free(changed_s);
    free(pdn);
    free(dn);
    return st;
}

icsoe_status icsoe_dir_password_state(icsoe_dir *d, const char *curp,
                                      icsoe_pwstate *out)
{
    dir_call call;
    icsoe_status st;

    memset(out, 0, sizeof(*out));
    out->expires_in = -1;
    dir_call_begin(d, &call);
    st = password_state(d, curp, out);
    dir_call_end(d, &call, st);
    return st;
}
