/* Capturists: uid=<CURP>,ou=capturistas,<base>, inetOrgPerson +
 * icsoeCapturist.  Lookups by CURP are base searches on the DN (no filter
 * built from the CURP at all); lists use escaped filter values. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "curp.h"
#include "dir_internal.h"
#include "input.h"

#define NAME_MAX_BYTES 256

char *dir_capturist_attrs[] = {
    "uid", "cn", "mail", "icsoeStatus", "icsoeContractorRFC", "icsoeEpoch",
    "icsoeTokenExpiry", "icsoeTokenPurpose", "icsoeLastRecover",
    "pwdAccountLockedTime", "createTimestamp", "icsoeRegisteredBy",
    "icsoeMailState", "icsoeMailTime", "icsoeMailKind", "icsoeMailError",
    "uidNumber", "gidNumber", "homeDirectory", "loginShell", NULL
};

/* What a password check needs (lib/dir_auth.c): the status decides between
 * the user's bind and the decoy's, and a login seals the CURP, the name and
 * the epoch into the new session.  Asking slapd for these three instead of
 * all of dir_capturist_attrs makes the search request and its answer
 * smaller and the entry quicker to read: most of a login's LDAP work on
 * the Apache side (issue 16).  The CURP is not read from uid: the search
 * is a base search on uid=<CURP>,ou=capturistas, and the DN it found is
 * the identity that the bind then proves, so the session gets that CURP
 * (a uid value that differed from its own DN could otherwise name another
 * capturist in the session).  The other fields stay empty. */
static char *login_attrs[] = { "cn", "icsoeStatus", "icsoeEpoch", NULL };

static const char *const mail_state_names[] = { "none", "sent", "unsent", "refused" };
static const char *const mail_kinds[] = { "activation", "reset", "password_set" };

const char *icsoe_mail_state_name(icsoe_mail_state s)
{
    if ((unsigned)s < sizeof(mail_state_names) / sizeof(mail_state_names[0]))
        return mail_state_names[s];
    return "unknown";
}

static const char *const status_names[] = { "pending", "active", "locked" };

const char *icsoe_capturist_status_name(icsoe_capturist_status s)
{
    if ((unsigned)s < sizeof(status_names) / sizeof(status_names[0]))
        return status_names[s];
    return "unknown";
}

int icsoe_capturist_status_parse(const char *s)
{
    size_t i;

    if (s == NULL)
        return -1;
    for (i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++) {
        if (strcmp(s, status_names[i]) == 0)
            return (int)i;
    }
    return -1;
}

void icsoe_capturist_clear(icsoe_capturist *c)
{
    size_t i;

    if (c == NULL)
        return;
    free(c->name);
    free(c->email);
    free(c->delivery.error);
    free(c->unix_home);
    free(c->unix_shell);
    for (i = 0; i < c->ncontractors; i++)
        free(c->contractors[i]);
    free(c->contractors);
    memset(c, 0, sizeof(*c));
}

void icsoe_capturist_list_free(icsoe_capturist *v, size_t n)
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; i < n; i++)
        icsoe_capturist_clear(&v[i]);
    free(v);
}

static int parse_purpose(const char *s)
{
    if (s == NULL)
        return 0;
    if (strcmp(s, "activation") == 0)
        return ICSOE_TOKEN_ACTIVATION;
    if (strcmp(s, "reset") == 0)
        return ICSOE_TOKEN_RESET;
    return -1;
}

static int parse_epoch(const char *s, long long *out)
{
    char *end = NULL;

    if (s == NULL) {
        *out = 0;
        return 0;
    }
    errno = 0;
    *out = strtoll(s, &end, 10);
    return (end == s || *end != '\0' || errno == ERANGE) ? -1 : 0;
}

/* Optional generalizedTime attribute: 0 when absent, -1 when malformed. */
static time_t get_time(const dir_entry *ent, const char *attr, int *bad)
{
    char *s = dir_entry_str(ent, attr, bad);
    time_t t = 0;

    if (s != NULL) {
        t = dir_parse_gentime(s);
        if (t == (time_t)-1)
            *bad = 1;
        free(s);
    }
    return t == (time_t)-1 ? 0 : t;
}

/* The delivery record is information for people: a value that does not
 * parse leaves it at NONE instead of making the account unreadable (which
 * would refuse its logins). */
static void read_delivery(const dir_entry *ent, icsoe_delivery *out)
{
    int bad = 0;
    char *state = dir_entry_str(ent, "icsoeMailState", &bad);
    char *kind = dir_entry_str(ent, "icsoeMailKind", &bad);
    time_t when = get_time(ent, "icsoeMailTime", &bad);
    char *error = dir_entry_str(ent, "icsoeMailError", &bad);

    memset(out, 0, sizeof(*out));
    for (size_t i = 1; state != NULL && i < sizeof(mail_state_names) / sizeof(mail_state_names[0]); i++) {
        if (strcmp(state, mail_state_names[i]) == 0)
            out->state = (icsoe_mail_state)i;
    }
    for (size_t i = 0; kind != NULL && i < sizeof(mail_kinds) / sizeof(mail_kinds[0]); i++) {
        if (strcmp(kind, mail_kinds[i]) == 0)
            snprintf(out->kind, sizeof(out->kind), "%s", mail_kinds[i]);
    }
    if (bad || out->state == ICSOE_MAIL_STATE_NONE) {
        free(error);
        memset(out, 0, sizeof(*out));
    } else {
        out->when = when;
        out->error = out->state == ICSOE_MAIL_STATE_SENT ? NULL : error;
        if (out->error != error)
            free(error);
    }
    free(state);
    free(kind);
}

/* A Unix id number: -1 when absent or not a plain non-negative decimal. */
static long unix_number(const dir_entry *ent, const char *attr)
{
    int bad = 0;
    char *s = dir_entry_str(ent, attr, &bad);
    char *end = NULL;
    long v = -1;

    if (s != NULL && !bad && s[0] >= '0' && s[0] <= '9') {
        errno = 0;
        v = strtol(s, &end, 10);
        if (*end != '\0' || errno == ERANGE)
            v = -1;
    }
    free(s);
    return v;
}

/* The Unix identity is shown to administrators only: like the delivery
 * record, a bad value is shown as such instead of refusing the logins. */
static void read_unix(const dir_entry *ent, icsoe_capturist *out)
{
    int bad = 0;

    out->has_unix = dir_entry_vals(ent, "uidNumber") != NULL;
    out->unix_uid = out->unix_gid = -1;
    if (!out->has_unix)
        return;
    out->unix_uid = unix_number(ent, "uidNumber");
    out->unix_gid = unix_number(ent, "gidNumber");
    out->unix_home = dir_entry_str(ent, "homeDirectory", &bad);
    out->unix_shell = dir_entry_str(ent, "loginShell", &bad);
}

/* The first value of attr copied into buf (NUL-terminated) when present,
 * safe text and shorter than size; 0 absent, 1 copied, -1 bad.  For the
 * short values of a login: no malloc. */
static int first_val_buf(const dir_entry *ent, const char *attr, char *buf, size_t size)
{
    const struct berval *v = dir_entry_vals(ent, attr);

    buf[0] = '\0';
    if (v == NULL)
        return 0;
    if (v[0].bv_len >= size || !dir_text_ok(v[0].bv_val, v[0].bv_len))
        return -1;
    memcpy(buf, v[0].bv_val, v[0].bv_len);
    buf[v[0].bv_len] = '\0';
    return 1;
}

/* What a login needs: CURP, name, status, epoch.  dn_curp: the CURP of
 * the DN searched (a login, login_attrs), or NULL to read uid. */
static void read_identity(const dir_entry *ent, const char *dn_curp,
                          icsoe_capturist *out, int *bad)
{
    char buf[32];
    int status;

    if (dn_curp != NULL)
        memcpy(out->curp, dn_curp, ICSOE_CURP_LEN + 1);
    else if (first_val_buf(ent, "uid", buf, sizeof(buf)) == 1 && icsoe_curp_shape_ok(buf))
        memcpy(out->curp, buf, ICSOE_CURP_LEN + 1);
    else
        *bad = 1;
    out->name = dir_entry_str(ent, "cn", bad);
    if (out->name == NULL)
        *bad = 1;
    status = first_val_buf(ent, "icsoeStatus", buf, sizeof(buf)) == 1
             ? icsoe_capturist_status_parse(buf) : -1;
    if (status < 0)
        *bad = 1;
    else
        out->status = (icsoe_capturist_status)status;
    switch (first_val_buf(ent, "icsoeEpoch", buf, sizeof(buf))) {
    case 0:
        out->epoch = 0;
        break;
    case 1:
        if (parse_epoch(buf, &out->epoch) == 0)
            break;
        /* fall through */
    default:
        *bad = 1;
    }
}

/* The rest of the record: mail, contractors, token, times, delivery, Unix. */
static void read_record(const dir_entry *ent, icsoe_capturist *out, int *bad)
{
    char *s;
    int purpose;

    out->email = dir_entry_str(ent, "mail", bad);
    out->contractors = dir_entry_strs(ent, "icsoeContractorRFC", &out->ncontractors, bad);
    out->token_expiry = get_time(ent, "icsoeTokenExpiry", bad);
    s = dir_entry_str(ent, "icsoeTokenPurpose", bad);
    purpose = parse_purpose(s);
    free(s);
    if (purpose < 0)
        *bad = 1;
    else
        out->token_purpose = purpose;
    out->last_recover = get_time(ent, "icsoeLastRecover", bad);
    out->created = get_time(ent, "createTimestamp", bad);
    s = dir_entry_str(ent, "icsoeRegisteredBy", bad);
    if (s != NULL && strlen(s) < sizeof(out->registered_by))
        memcpy(out->registered_by, s, strlen(s) + 1);
    else if (s != NULL)
        *bad = 1;
    free(s);
    out->pp_locked = dir_entry_vals(ent, "pwdAccountLockedTime") != NULL;
    read_delivery(ent, &out->delivery);
    read_unix(ent, out);
}

/* whole: the record (dir_capturist_attrs), else the identity only
 * (login_attrs: nothing else was asked for; dn_curp is the CURP of the
 * DN that a base search found). */
static icsoe_status read_capturist(icsoe_dir *d, LDAP *ld, LDAPMessage *e, int whole,
                                   const char *dn_curp, icsoe_capturist *out)
{
    int bad = 0;
    dir_entry ent;
    char *dn;

    memset(out, 0, sizeof(*out));
    if (dir_entry_open(ld, e, &ent) != 0)
        bad = 1;
    read_identity(&ent, whole ? NULL : dn_curp, out, &bad);
    if (whole)
        read_record(&ent, out, &bad);
    dir_entry_close(&ent);
    if (!bad)
        return ICSOE_OK;
    dn = ldap_get_dn(ld, e);
    dir_reason(d, "capturist entry %s has a missing or unsafe value", dn ? dn : "?");
    icsoe_log(d->lg, ICSOE_LOG_ERR, "icsoe_dir: %s", d->reason);
    ldap_memfree(dn);
    icsoe_capturist_clear(out);
    return ICSOE_ERR_INTERNAL;
}

icsoe_status dir_read_capturist(icsoe_dir *d, LDAP *ld, LDAPMessage *e,
                                icsoe_capturist *out)
{
    return read_capturist(d, ld, e, 1, NULL, out);
}

static icsoe_status fetch_capturist(icsoe_dir *d, const char *curp, int whole,
                                    icsoe_capturist *out, char **dn_out)
{
    icsoe_status st;
    LDAPMessage *res, *e;
    char *dn;

    if (dn_out != NULL)
        *dn_out = NULL;
    if (!icsoe_curp_shape_ok(curp))
        return ICSOE_ERR_INVALID_INPUT;
    dn = dir_capturist_dn(d, curp);
    if (dn == NULL)
        return ICSOE_ERR_INTERNAL;
    st = dir_read_one(d, dn, "(objectClass=icsoeCapturist)",
                      whole ? dir_capturist_attrs : login_attrs,
                      "capturist search", &res, &e);
    if (st == ICSOE_OK)
        st = read_capturist(d, d->svc, e, whole, curp, out);
    if (st == ICSOE_OK && dn_out != NULL) {
        *dn_out = dn;
        dn = NULL;
    }
    if (res != NULL)
        ldap_msgfree(res);
    free(dn);
    return st;
}

icsoe_status dir_fetch_capturist(icsoe_dir *d, const char *curp,
                                 icsoe_capturist *out, char **dn_out)
{
    return fetch_capturist(d, curp, 1, out, dn_out);
}

icsoe_status dir_fetch_capturist_login(icsoe_dir *d, const char *curp,
                                       icsoe_capturist *out, char **dn_out)
{
    return fetch_capturist(d, curp, 0, out, dn_out);
}

icsoe_status icsoe_dir_capturist_get(icsoe_dir *d, const char *curp,
                                     icsoe_capturist *out)
{
    dir_call call;
    icsoe_status st;

    memset(out, 0, sizeof(*out));
    dir_call_begin(d, &call);
    st = dir_fetch_capturist(d, curp, out, NULL);
    dir_call_end(d, &call, st);
    return st;
}

/* ---- writes ---- */

static int name_ok(const char *s)
{
    size_t n;

    if (s == NULL)
        return 0;
    n = strlen(s);
    return n > 0 && n <= NAME_MAX_BYTES && icsoe_text_is_safe(s, n) &&
           s[0] != ' ' && s[n - 1] != ' ';
}

/* Sorted, duplicates refused: a capturist lists each contractor once. */
static int contractors_ok(char *const *rfcs, size_t n)
{
    size_t i, j;

    for (i = 0; i < n; i++) {
        if (!dir_rfc_shape_ok(rfcs[i]))
            return 0;
        for (j = 0; j < i; j++) {
            if (strcmp(rfcs[i], rfcs[j]) == 0)
                return 0;
        }
    }
    return 1;
}

/* Every RFC in rfcs names an existing contractor. */
static icsoe_status contractors_exist(icsoe_dir *d, char *const *rfcs, size_t n)
{
    icsoe_contractor *found = NULL;
    size_t nfound = 0;
    icsoe_status st;

    if (n == 0)
        return ICSOE_OK;
    st = dir_contractor_get_many(d, (const char *const *)rfcs, n, &found, &nfound);
    if (st == ICSOE_OK && nfound != n) {
        dir_reason(d, "%zu of %zu contractors do not exist", n - nfound, n);
        st = ICSOE_ERR_NOT_FOUND;
    }
    icsoe_contractor_list_free(found, nfound);
    return st;
}

static icsoe_status capturist_add(icsoe_dir *d, const icsoe_capturist *c)
{
    char *oc[] = { "inetOrgPerson", "icsoeCapturist", NULL };
    char *uid[] = { (char *)c->curp, NULL };
    char *name[] = { c->name, NULL };
    char *mail[] = { c->email, NULL };
    char *status[] = { "pending", NULL };
    char *epoch[] = { "0", NULL };
    char *regby[] = { (char *)c->registered_by, NULL };
    LDAPMod m_regby = { LDAP_MOD_ADD, "icsoeRegisteredBy", { regby } };
    LDAPMod m_oc = { LDAP_MOD_ADD, "objectClass", { oc } };
    LDAPMod m_uid = { LDAP_MOD_ADD, "uid", { uid } };
    LDAPMod m_cn = { LDAP_MOD_ADD, "cn", { name } };
    LDAPMod m_sn = { LDAP_MOD_ADD, "sn", { name } };
    LDAPMod m_mail = { LDAP_MOD_ADD, "mail", { mail } };
    LDAPMod m_status = { LDAP_MOD_ADD, "icsoeStatus", { status } };
    LDAPMod m_epoch = { LDAP_MOD_ADD, "icsoeEpoch", { epoch } };
    /* libldap wants a NULL-terminated value list; the caller's array is
     * counted (ncontractors), so terminate a copy of the pointers. */
    char **rfcs = calloc(c->ncontractors + 1, sizeof(*rfcs));
    LDAPMod m_rfc = { LDAP_MOD_ADD, "icsoeContractorRFC", { rfcs } };
    LDAPMod *mods[10];
    dir_add a;
    icsoe_status st;
    size_t n = 0;
    int rc;

    mods[n++] = &m_oc;
    mods[n++] = &m_uid;
    mods[n++] = &m_cn;
    mods[n++] = &m_sn;
    mods[n++] = &m_status;
    mods[n++] = &m_epoch;
    if (c->email != NULL)
        mods[n++] = &m_mail;
    if (c->ncontractors > 0)
        mods[n++] = &m_rfc;
    if (c->registered_by[0] != '\0')
        mods[n++] = &m_regby;
    mods[n] = NULL;
    if (rfcs == NULL)
        return ICSOE_ERR_INTERNAL;
    for (size_t i = 0; i < c->ncontractors; i++)
        rfcs[i] = c->contractors[i];
    a.dn = dir_capturist_dn(d, c->curp);
    a.mods = mods;
    if (a.dn == NULL) {
        free(rfcs);
        return ICSOE_ERR_INTERNAL;
    }
    st = dir_wr_run(d, dir_add_op, &a, &rc);
    if (st == ICSOE_OK) {
        if (rc == LDAP_ALREADY_EXISTS)
            st = ICSOE_ERR_EXISTS;
        else
            st = dir_map_rc(d, "capturist add", rc);
    }
    if (st == ICSOE_OK)
        icsoe_log(d->lg, ICSOE_LOG_NOTICE, "icsoe_dir: capturist %s added (pending)", c->curp);
    free((char *)a.dn);
    free(rfcs);
    return st;
}

icsoe_status icsoe_dir_capturist_add(icsoe_dir *d, const icsoe_capturist *c)
{
    dir_call call;
    icsoe_status st;

    if (c == NULL || !icsoe_curp_shape_ok(c->curp) || !name_ok(c->name) ||
        (c->email != NULL && !icsoe_email_valid(c->email)) ||
        (c->ncontractors > 0 && c->contractors == NULL) ||
        !contractors_ok(c->contractors, c->ncontractors))
        return ICSOE_ERR_INVALID_INPUT;
    dir_call_begin(d, &call);
    st = contractors_exist(d, c->contractors, c->ncontractors);
    if (st == ICSOE_OK)
        st = capturist_add(d, c);
    dir_call_end(d, &call, st);
    return st;
}

/* One Modify on a capturist; NOT_FOUND when the entry does not exist,
 * other codes mapped by the caller through *rc. */
static icsoe_status capturist_modify(icsoe_dir *d, const char *curp, LDAPMod **mods,
                                     int relax, int *rc)
{
    dir_modify m;
    icsoe_status st;

    memset(&m, 0, sizeof(m));
    m.dn = dir_capturist_dn(d, curp);
    m.mods = mods;
    m.relax = relax;
    if (m.dn == NULL)
        return ICSOE_ERR_INTERNAL;
    st = dir_wr_run(d, dir_modify_op, &m, rc);
    free((char *)m.dn);
    if (st == ICSOE_OK && *rc == LDAP_NO_SUCH_OBJECT)
        st = ICSOE_ERR_NOT_FOUND;
    return st;
}

icsoe_status icsoe_dir_capturist_grant(icsoe_dir *d, const char *curp, const char *rfc)
{
    char *vals[] = { (char *)rfc, NULL };
    LDAPMod mod = { LDAP_MOD_ADD, "icsoeContractorRFC", { vals } };
    LDAPMod *mods[] = { &mod, NULL };
    char *one[] = { (char *)rfc, NULL };
    dir_call call;
    icsoe_status st;
    int rc;

    if (!icsoe_curp_shape_ok(curp) || !dir_rfc_shape_ok(rfc))
        return ICSOE_ERR_INVALID_INPUT;
    dir_call_begin(d, &call);
    st = contractors_exist(d, one, 1);
    if (st == ICSOE_OK)
        st = capturist_modify(d, curp, mods, 0, &rc);
    if (st == ICSOE_OK)
        st = rc == LDAP_TYPE_OR_VALUE_EXISTS ? ICSOE_ERR_EXISTS : dir_map_rc(d, "grant", rc);
    dir_call_end(d, &call, st);
    return st;
}

icsoe_status icsoe_dir_capturist_revoke(icsoe_dir *d, const char *curp, const char *rfc)
{
    char *vals[] = { (char *)rfc, NULL };
    LDAPMod mod = { LDAP_MOD_DELETE, "icsoeContractorRFC", { vals } };
    LDAPMod *mods[] = { &mod, NULL };
    dir_call call;
    icsoe_status st;
    int rc;

    if (!icsoe_curp_shape_ok(curp) || !dir_rfc_shape_ok(rfc))
        return ICSOE_ERR_INVALID_INPUT;
    dir_call_begin(d, &call);
    st = capturist_modify(d, curp, mods, 0, &rc);
    if (st == ICSOE_OK)
        st = rc == LDAP_NO_SUCH_ATTRIBUTE ? ICSOE_ERR_NOT_FOUND : dir_map_rc(d, "revoke", rc);
    dir_call_end(d, &call, st);
    return st;
}

/* The epoch increment (RFC 4525 Modify-Increment). */
static char *one_val[] = { "1", NULL };

icsoe_status icsoe_dir_capturist_lock(icsoe_dir *d, const char *curp)
{
    char *locked[] = { "locked", NULL };
    LDAPMod m_status = { LDAP_MOD_REPLACE, "icsoeStatus", { locked } };
    LDAPMod m_epoch = { LDAP_MOD_INCREMENT, "icsoeEpoch", { one_val } };
    LDAPMod *mods[] = { &m_status, &m_epoch, NULL };
    dir_call call;
    icsoe_status st;
    int rc;

    if (!icsoe_curp_shape_ok(curp))
        return ICSOE_ERR_INVALID_INPUT;
    dir_call_begin(d, &call);
    st = capturist_modify(d, curp, mods, 0, &rc);
    if (st == ICSOE_OK)
        st = dir_map_rc(d, "lock", rc);
    if (st == ICSOE_OK)
        icsoe_log(d->lg, ICSOE_LOG_NOTICE, "icsoe_dir: capturist %s locked", curp);
    dir_call_end(d, &call, st);
    return st;
}

/* 1 if the account ever had a password (ppolicy keeps pwdChangedTime). */
static icsoe_status has_password(icsoe_dir *d, const char *dn, int *yes)
{
    char *attrs[] = { "pwdChangedTime", NULL };
    LDAPMessage *res, *e;
    icsoe_status st;

    *yes = 0;
    st = dir_read_one(d, dn, "(objectClass=icsoeCapturist)", attrs, "search", &res, &e);
    if (st == ICSOE_OK) {
        struct berval **v = ldap_get_values_len(d->svc, e, "pwdChangedTime");

        *yes = v != NULL;
        if (v != NULL)
            ldap_value_free_len(v);
    }
    if (res != NULL)
        ldap_msgfree(res);
    return st;
}

icsoe_status icsoe_dir_capturist_unlock(icsoe_dir *d, const char *curp)
{
    char *active[] = { "active", NULL }, *pending[] = { "pending", NULL };
    LDAPMod m_status = { LDAP_MOD_REPLACE, "icsoeStatus", { active } };
    /* Replace with no values removes the attribute if present and is not
     * an error if absent. */
    LDAPMod m_locked = { LDAP_MOD_REPLACE, "pwdAccountLockedTime", { NULL } };
    LDAPMod m_fail = { LDAP_MOD_REPLACE, "pwdFailureTime", { NULL } };
    LDAPMod *mods[] = { &m_status, &m_locked, &m_fail, NULL };
    dir_call call;
    icsoe_status st;
    char *dn = NULL;
    int rc, pw = 0;

    if (!icsoe_curp_shape_ok(curp))
        return ICSOE_ERR_INVALID_INPUT;
    dir_call_begin(d, &call);
    dn = dir_capturist_dn(d, curp);
    st = dn ? has_password(d, dn, &pw) : ICSOE_ERR_INTERNAL;
    if (st == ICSOE_OK) {
        if (!pw)
            m_status.mod_values = pending;
        st = capturist_modify(d, curp, mods, 1, &rc);
    }
    if (st == ICSOE_OK)
        st = dir_map_rc(d, "unlock", rc);
    if (st == ICSOE_OK)
        icsoe_log(d->lg, ICSOE_LOG_NOTICE, "icsoe_dir: capturist %s unlocked", curp);
    dir_call_end(d, &call, st);
    free(dn);
    return st;
}

icsoe_status icsoe_dir_capturist_remove(icsoe_dir *d, const char *curp)
{
    dir_call call;
    icsoe_status st;
    char *dn;
    int rc;

    if (!icsoe_curp_shape_ok(curp))
        return ICSOE_ERR_INVALID_INPUT;
    dn = dir_capturist_dn(d, curp);
    if (dn == NULL)
        return ICSOE_ERR_INTERNAL;
    dir_call_begin(d, &call);
    st = dir_wr_run(d, dir_delete_op, dn, &rc);
    if (st == ICSOE_OK)
        st = rc == LDAP_NO_SUCH_OBJECT ? ICSOE_ERR_NOT_FOUND : dir_map_rc(d, "remove", rc);
    if (st == ICSOE_OK)
        icsoe_log(d->lg, ICSOE_LOG_NOTICE, "icsoe_dir: capturist %s removed", curp);
    dir_call_end(d, &call, st);
    free(dn);
    return st;
}

icsoe_status icsoe_dir_capturist_bump_epoch(icsoe_dir *d, const char *curp)
{
    LDAPMod m_epoch = { LDAP_MOD_INCREMENT, "icsoeEpoch", { one_val } };
    LDAPMod *mods[] = { &m_epoch, NULL };
    dir_call call;
    icsoe_status st;
    int rc;

    if (!icsoe_curp_shape_ok(curp))
        return ICSOE_ERR_INVALID_INPUT;
    dir_call_begin(d, &call);
    st = capturist_modify(d, curp, mods, 0, &rc);
    if (st == ICSOE_OK)
        st = dir_map_rc(d, "epoch", rc);
    dir_call_end(d, &call, st);
    return st;
}

icsoe_status icsoe_dir_capturist_claim_recover(icsoe_dir *d, const char *curp,
                                               time_t now, int min_interval,
                                               time_t *previous)
{
    char oldv[16], newv[16];
    char *oldvals[] = { oldv, NULL }, *newvals[] = { newv, NULL };
    LDAPMod m_del = { LDAP_MOD_DELETE, "icsoeLastRecover", { oldvals } };
    LDAPMod m_add = { LDAP_MOD_ADD, "icsoeLastRecover", { newvals } };
    LDAPMod *mods[3];
    icsoe_capturist c;
    dir_call call;
    icsoe_status st;
    int rc;

    memset(&c, 0, sizeof(c));
    if (previous != NULL)
        *previous = 0;
    if (!icsoe_curp_shape_ok(curp) || min_interval < 0)
        return ICSOE_ERR_INVALID_INPUT;
    dir_call_begin(d, &call);
    st = dir_fetch_capturist(d, curp, &c, NULL);
    if (st != ICSOE_OK)
        goto out;
    if (previous != NULL)
        *previous = c.last_recover;
    if (c.last_recover != 0 && now - c.last_recover < (time_t)min_interval &&
        now >= c.last_recover) {
        st = ICSOE_ERR_EXISTS;
        goto out;
    }
    /* Delete the exact old value and add the new one in one Modify: of two
     * concurrent claims only one finds the old value (or, with none, only
     * one can add to the single-valued attribute). */
    dir_format_gentime(now, newv);
    if (c.last_recover != 0) {
        dir_format_gentime(c.last_recover, oldv);
        mods[0] = &m_del;
        mods[1] = &m_add;
        mods[2] = NULL;
    } else {
        mods[0] = &m_add;
        mods[1] = NULL;
    }
    st = capturist_modify(d, curp, mods, 0, &rc);
    if (st == ICSOE_OK) {
        if (rc == LDAP_NO_SUCH_ATTRIBUTE || rc == LDAP_TYPE_OR_VALUE_EXISTS ||
            rc == LDAP_CONSTRAINT_VIOLATION)
            st = ICSOE_ERR_EXISTS;
        else
            st = dir_map_rc(d, "claim recover", rc);
    }
out:
    icsoe_capturist_clear(&c);
    dir_call_end(d, &call, st);
    return st;
}

icsoe_status icsoe_dir_capturist_unclaim_recover(icsoe_dir *d, const char *curp,
                                                 time_t claimed, time_t previous)
{
    char claimedv[16], prevv[16];
    char *claimedvals[] = { claimedv, NULL }, *prevvals[] = { prevv, NULL };
    LDAPMod m_del = { LDAP_MOD_DELETE, "icsoeLastRecover", { claimedvals } };
    LDAPMod m_add = { LDAP_MOD_ADD, "icsoeLastRecover", { prevvals } };
    LDAPMod *mods[] = { &m_del, previous != 0 ? &m_add : NULL, NULL };
    dir_call call;
    icsoe_status st;
    int rc;

    if (!icsoe_curp_shape_ok(curp) || claimed == 0)
        return ICSOE_ERR_INVALID_INPUT;
    dir_format_gentime(claimed, claimedv);
    if (previous != 0)
        dir_format_gentime(previous, prevv);
    dir_call_begin(d, &call);
    /* Deleting the exact value claimed: if a later claim replaced it, the
     * Modify fails with noSuchAttribute and that claim stands. */
    st = capturist_modify(d, curp, mods, 0, &rc);
    if (st == ICSOE_OK)
        st = rc == LDAP_NO_SUCH_ATTRIBUTE ? ICSOE_OK : dir_map_rc(d, "unclaim recover", rc);
    dir_call_end(d, &call, st);
    return st;
}

/* ---- delivery state ---- */

/* Printable ASCII only, at most ICSOE_MAIL_ERROR_MAX bytes: the reason
 * comes from a remote server's reply. */
static void clean_error(const char *in, char *out, size_t outlen)
{
    size_t o = 0;

    for (; in != NULL && *in != '\0' && o + 1 < outlen; in++) {
        unsigned char c = (unsigned char)*in;
        out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[o] = '\0';
    if (o == 0 && outlen > 1)
        snprintf(out, outlen, "unknown");
}

icsoe_status icsoe_dir_capturist_record_mail(icsoe_dir *d, const char *curp,
                                             const char *kind, icsoe_mail_state state,
                                             time_t when, const char *error)
{
    char statev[16], timev[16], kindv[ICSOE_MAIL_KIND_MAX], errv[ICSOE_MAIL_ERROR_MAX + 1];
    char *statevals[] = { statev, NULL }, *timevals[] = { timev, NULL };
    char *kindvals[] = { kindv, NULL }, *errvals[] = { errv, NULL };
    LDAPMod m_state = { LDAP_MOD_REPLACE, "icsoeMailState", { statevals } };
    LDAPMod m_time = { LDAP_MOD_REPLACE, "icsoeMailTime", { timevals } };
    LDAPMod m_kind = { LDAP_MOD_REPLACE, "icsoeMailKind", { kindvals } };
    LDAPMod m_err = { LDAP_MOD_REPLACE, "icsoeMailError", { errvals } };
    LDAPMod *mods[] = { &m_state, &m_time, &m_kind, &m_err, NULL };
    int known = 0;
    dir_call call;
    icsoe_status st;
    int rc;

    for (size_t i = 0; kind != NULL && i < sizeof(mail_kinds) / sizeof(mail_kinds[0]); i++)
        known |= strcmp(kind, mail_kinds[i]) == 0;
    if (!icsoe_curp_shape_ok(curp) || (unsigned)state > ICSOE_MAIL_STATE_REFUSED ||
        (state != ICSOE_MAIL_STATE_NONE && !known))
        return ICSOE_ERR_INVALID_INPUT;
    if (state == ICSOE_MAIL_STATE_NONE) {
        /* replace with no values: removed, and no error if absent */
        m_state.mod_values = m_time.mod_values = m_kind.mod_values = m_err.mod_values = NULL;
    } else {
        snprintf(statev, sizeof(statev), "%s", mail_state_names[state]);
        dir_format_gentime(when, timev);
        snprintf(kindv, sizeof(kindv), "%s", kind);
        clean_error(error, errv, sizeof(errv));
        if (state == ICSOE_MAIL_STATE_SENT)
            m_err.mod_values = NULL;
    }
    dir_call_begin(d, &call);
    st = capturist_modify(d, curp, mods, 0, &rc);
    if (st == ICSOE_OK)
        st = dir_map_rc(d, "record mail", rc);
    if (st != ICSOE_OK)
        icsoe_log(d->lg, ICSOE_LOG_WARNING,
                  "icsoe_dir: delivery state '%s' of the %s mail to %s not recorded: %s",
                  icsoe_mail_state_name(state), known ? kind : "?", curp, d->reason);
    dir_call_end(d, &call, st);
    return st;
}

icsoe_status icsoe_dir_capturist_set_email(icsoe_dir *d, const char *curp,
                                           const char *email)
{
    char *vals[] = { (char *)email, NULL };
    LDAPMod m_mail = { LDAP_MOD_REPLACE, "mail", { vals } };
    LDAPMod *mods[] = { &m_mail, NULL };
    dir_call call;
    icsoe_status st;
    int rc;

    if (!icsoe_curp_shape_ok(curp) || email == NULL || !icsoe_email_valid(email))
        return ICSOE_ERR_INVALID_INPUT;
    dir_call_begin(d, &call);
    st = capturist_modify(d, curp, mods, 0, &rc);
    if (st == ICSOE_OK)
        st = dir_map_rc(d, "set email", rc);
    if (st == ICSOE_OK)
        icsoe_log(d->lg, ICSOE_LOG_NOTICE, "icsoe_dir: capturist %s: email changed", curp);
    dir_call_end(d, &call, st);
    return st;
}

/* ---- lists ---- */

static int cmp_capturist(const void *a, const void *b)
{
    return strcmp(((const icsoe_capturist *)a)->curp, ((const icsoe_capturist *)b)->curp);
}

static char *list_filter(const char *rfc, int status)
{
    char *erfc = NULL, *f = NULL;
    size_t n;

    if (rfc != NULL) {
        erfc = icsoe_ldap_filter_escape(rfc);
        if (erfc == NULL)
            return NULL;
    }
    n = 128 + (erfc ? strlen(erfc) : 0);
    f = malloc(n);
    if (f != NULL) {
        snprintf(f, n, "(&(objectClass=icsoeCapturist)%s%s%s%s%s%s)",
                 erfc ? "(icsoeContractorRFC=" : "", erfc ? erfc : "", erfc ? ")" : "",
                 status >= 0 ? "(icsoeStatus=" : "",
                 status >= 0 ? icsoe_capturist_status_name((icsoe_capturist_status)status) : "",
                 status >= 0 ? ")" : "");
    }
    free(erfc);
    return f;
}

icsoe_status icsoe_dir_capturist_list(icsoe_dir *d, const char *rfc, int status,
                                      icsoe_capturist **out, size_t *n)
{
    dir_search s;
    dir_call call;
    icsoe_status st;
    icsoe_capturist *v = NULL;
    size_t count = 0;
    LDAPMessage *e;
    char *filter;
    int rc;

    *out = NULL;
    *n = 0;
    if ((rfc != NULL && !dir_rfc_shape_ok(rfc)) || status < -1 || status > ICSOE_CAPTURIST_LOCKED)
        return ICSOE_ERR_INVALID_INPUT;
    filter = list_filter(rfc, status);
    if (filter == NULL)
        return ICSOE_ERR_INTERNAL;
    memset(&s, 0, sizeof(s));
    s.base = d->capturists_dn;
    s.scope = LDAP_SCOPE_ONELEVEL;
    s.filter = filter;
    s.attrs = dir_capturist_attrs;
    dir_call_begin(d, &call);
    st = dir_svc_run(d, dir_search_op, &s, &rc);
    if (st == ICSOE_OK)
        st = dir_map_rc(d, "capturist list", rc);
    if (st != ICSOE_OK)
        goto out;
    v = calloc((size_t)ldap_count_entries(d->svc, s.res) + 1, sizeof(*v));
    if (v == NULL) {
        st = ICSOE_ERR_INTERNAL;
        goto out;
    }
    for (e = ldap_first_entry(d->svc, s.res); e != NULL; e = ldap_next_entry(d->svc, e)) {
        /* An entry with unsafe values is logged (dir_read_capturist) and
         * left out rather than failing the whole list. */
        if (dir_read_capturist(d, d->svc, e, &v[count]) == ICSOE_OK)
            count++;
    }
    qsort(v, count, sizeof(*v), cmp_capturist);
    *out = v;
    *n = count;
    v = NULL;
out:
    icsoe_capturist_list_free(v, count);
    if (s.res != NULL)
        ldap_msgfree(s.res);
    free(filter);
    dir_call_end(d, &call, st);
    return st;
}
