/* Unix identities of capturists (optional): posixAccount on the capturist
 * entry, posixGroup entries below ou=grupos, and the id pool they are
 * numbered from.  NSS (nslcd) reads them; PAM never needs them.
 *
 * Threat: one uidNumber given to two people makes their files, processes
 * and sudo rules one (a capturist of contractor A reads B's files).  Two
 * administrators, or an import and an administrator, enable capturists at
 * the same moment on different hosts.
 * Rule: numbers come only from cn=icsoe-idpool,ou=grupos,<base>, advanced
 * by one Modify that deletes the exact value read and adds the next one.
 * Of two concurrent allocations only one finds the old value; the other
 * gets noSuchAttribute, reads again and retries.  A number that some
 * entry already carries (set by hand, restored from a backup) is skipped,
 * never handed out twice.
 * Pitfall: the group memberships (memberUid on the contractor groups) are
 * a copy of icsoeContractorRFC; every change of either goes through
 * icsoe_dir_posix_sync, which recomputes them from the capturist entry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "curp.h"
#include "dir_internal.h"

#define POOL_CN "icsoe-idpool"
#define POOL_TRIES 64              /* concurrent allocations before giving up */
#define GROUPS_MAX 1000            /* groups one capturist can be in */

static icsoe_status posix_sync(icsoe_dir *d, const char *curp);

static char *join3(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *s = malloc(n);

    if (s != NULL)
        snprintf(s, n, "%s%s%s", a, b, c);
    return s;
}

static char *groups_dn(const icsoe_dir *d)
{
    return join3("ou=grupos,", d->conf->base, "");
}

static char *group_dn(const icsoe_dir *d, const char *name)
{
    char *parent = groups_dn(d), *esc = icsoe_ldap_dn_escape(name), *dn = NULL;

    if (parent != NULL && esc != NULL) {
        char *rdn = join3("cn=", esc, ",");

        if (rdn != NULL)
            dn = join3(rdn, parent, "");
        free(rdn);
    }
    free(parent);
    free(esc);
    return dn;
}

static icsoe_status posix_enabled_conf(icsoe_dir *d)
{
    if (d->conf->unix_uid_min == 0) {
        dir_reason(d, "Unix identities are off: set unix_uid_min, unix_uid_max, "
                   "unix_gid_min and unix_gid_max in %s",
                   d->conf->path ? d->conf->path : "the configuration");
        return ICSOE_ERR_INVALID_INPUT;
    }
    return ICSOE_OK;
}

/* ---- small LDAP steps, each inside an ongoing dir_call ---- */

static icsoe_status modify(icsoe_dir *d, const char *dn, LDAPMod **mods, int *rc)
{
    dir_modify m;

    memset(&m, 0, sizeof(m));
    m.dn = dn;
    m.mods = mods;
    return dir_wr_run(d, dir_modify_op, &m, rc);
}

/* Searches and hands the result to the caller (ldap_msgfree). */
static icsoe_status search(icsoe_dir *d, const char *base, int scope, const char *filter,
                           char **attrs, int sizelimit, LDAPMessage **res, int *rc)
{
    dir_search s;
    icsoe_status st;

    memset(&s, 0, sizeof(s));
    s.base = base;
    s.scope = scope;
    s.filter = filter;
    s.attrs = attrs;
    s.sizelimit = sizelimit;
    st = dir_svc_run(d, dir_search_op, &s, rc);
    *res = s.res;
    return st;
}

/* A non-negative decimal attribute value; -1 if absent or malformed. */
static long get_number(LDAP *ld, LDAPMessage *e, const char *attr)
{
    int bad = 0;
    char *v = dir_get_str(ld, e, attr, &bad), *end = NULL;
    long n = -1;

    if (v != NULL && !bad && v[0] >= '0' && v[0] <= '9') {
        n = strtol(v, &end, 10);
        if (*end != '\0' || n < 0 || n > 2147483647L)
            n = -1;
    }
    free(v);
    return n;
}

/* 1 when some entry below the base already has attr=n. */
static icsoe_status number_taken(icsoe_dir *d, const char *attr, long n, int *taken)
{
    char filter[64];
    char *noattrs[] = { "1.1", NULL };
    LDAPMessage *res = NULL;
    icsoe_status st;
    int rc;

    snprintf(filter, sizeof(filter), "(%s=%ld)", attr, n);
    st = search(d, d->conf->base, LDAP_SCOPE_SUBTREE, filter, noattrs, 1, &res, &rc);
    if (st == ICSOE_OK && rc == LDAP_SIZELIMIT_EXCEEDED)
        rc = LDAP_SUCCESS;
    if (st == ICSOE_OK)
        st = dir_map_rc(d, "id search", rc);
    *taken = st == ICSOE_OK && ldap_first_entry(d->svc, res) != NULL;
    if (res != NULL)
        ldap_msgfree(res);
    return st;
}

/* ---- the id pool ---- */

static icsoe_status pool_create(icsoe_dir *d, const char *dn)
{
    char uid[16], gid[16];
    char *oc[] = { "icsoeIdPool", NULL }, *cn[] = { POOL_CN, NULL };
    char *uv[] = { uid, NULL }, *gv[] = { gid, NULL };
    LDAPMod m_oc = { LDAP_MOD_ADD, "objectClass", { oc } };
    LDAPMod m_cn = { LDAP_MOD_ADD, "cn", { cn } };
    LDAPMod m_u = { LDAP_MOD_ADD, "uidNumber", { uv } };
    LDAPMod m_g = { LDAP_MOD_ADD, "gidNumber", { gv } };
    LDAPMod *mods[] = { &m_oc, &m_cn, &m_u, &m_g, NULL };
    dir_add a = { dn, mods };
    icsoe_status st;
    int rc;

    snprintf(uid, sizeof(uid), "%d", d->conf->unix_uid_min);
    snprintf(gid, sizeof(gid), "%d", d->conf->unix_gid_min);
    st = dir_wr_run(d, dir_add_op, &a, &rc);
    if (st == ICSOE_OK && rc == LDAP_ALREADY_EXISTS)
        rc = LDAP_SUCCESS;      /* created meanwhile by someone else: fine */
    if (st == ICSOE_OK && rc == LDAP_NO_SUCH_OBJECT) {
        dir_reason(d, "ou=grupos,%s is missing (see schema/bootstrap.ldif)",
                   d->conf->base);
        return ICSOE_ERR_NOT_FOUND;
    }
    return st == ICSOE_OK ? dir_map_rc(d, "id pool create", rc) : st;
}

/* The pool's current value of attr; -1 when there is no pool entry. */
static icsoe_status pool_read(icsoe_dir *d, const char *dn, const char *attr, long *cur)
{
    char *attrs[] = { (char *)attr, NULL };
    LDAPMessage *res, *e;
    icsoe_status st;

    *cur = -1;
    st = dir_read_one(d, dn, "(objectClass=icsoeIdPool)", attrs, "id pool read", &res, &e);
    if (st == ICSOE_ERR_NOT_FOUND) /* not created yet: *cur stays -1 */
        st = ICSOE_OK;
    if (e != NULL) {
        *cur = get_number(d->svc, e, attr);
        if (*cur < 0) {
            dir_reason(d, "%s of %s is missing or malformed", attr, dn);
            st = ICSOE_ERR_INTERNAL;
        }
    }
    if (res != NULL)
        ldap_msgfree(res);
    return st;
}

/* Swaps the pool's attr from the exact value read to the next one.
 * *won is 0 when another allocation changed it first (noSuchAttribute:
 * the value to delete is gone). */
static icsoe_status pool_swap(icsoe_dir *d, const char *dn, const char *attr,
                              long read, long next, int *won)
{
    char oldv[24], newv[24];
    char *ov[] = { oldv, NULL }, *nv[] = { newv, NULL };
    LDAPMod m_del = { LDAP_MOD_DELETE, (char *)attr, { ov } };
    LDAPMod m_add = { LDAP_MOD_ADD, (char *)attr, { nv } };
    LDAPMod *mods[] = { &m_del, &m_add, NULL };
    icsoe_status st;
    int rc;

    snprintf(oldv, sizeof(oldv), "%ld", read);
    snprintf(newv, sizeof(newv), "%ld", next);
    *won = 0;
    st = modify(d, dn, mods, &rc);
    if (st != ICSOE_OK)
        return st;
    if (rc == LDAP_NO_SUCH_ATTRIBUTE || rc == LDAP_TYPE_OR_VALUE_EXISTS)
        return ICSOE_OK;
    st = dir_map_rc(d, "id pool update", rc);
    *won = st == ICSOE_OK;
    return st;
}

/* Takes the next free attr ("uidNumber" or "gidNumber") in [min, max]. */
static icsoe_status pool_take(icsoe_dir *d, const char *attr, long min, long max,
                              long *out)
{
    char *dn = group_dn(d, POOL_CN);
    icsoe_status st = dn != NULL ? ICSOE_OK : ICSOE_ERR_INTERNAL;
    int tries;

    for (tries = 0; st == ICSOE_OK && tries < POOL_TRIES; tries++) {
        long read, cur;
        int won = 0, taken = 0;

        st = pool_read(d, dn, attr, &read);
        if (st == ICSOE_OK && read < 0) {
            st = pool_create(d, dn);
            continue;
        }
        if (st != ICSOE_OK)
            break;
        cur = read < min ? min : read;   /* the range may have moved up */
        if (cur > max) {
            dir_reason(d, "no free %s left in %ld-%ld", attr, min, max);
            st = ICSOE_ERR_EXISTS;
            break;
        }
        st = pool_swap(d, dn, attr, read, cur + 1, &won);
        if (st != ICSOE_OK || !won)
            continue;           /* another allocation won: read again */
        st = number_taken(d, attr, cur, &taken);
        if (st == ICSOE_OK && !taken) {
            *out = cur;
            free(dn);
            return ICSOE_OK;
        }
        if (st == ICSOE_OK)
            icsoe_log(d->lg, ICSOE_LOG_WARNING, "icsoe_dir: %s %ld is already "
                      "used by an entry: skipped", attr, cur);
    }
    if (st == ICSOE_OK) {
        dir_reason(d, "%s pool busy: %d concurrent allocations", attr, POOL_TRIES);
        st = ICSOE_ERR_UNAVAILABLE;
    }
    free(dn);
    return st;
}

/* ---- groups ---- */

/* DNs of the entries below ou=grupos matching filter (NULL-terminated,
 * malloc'd), and the gidNumber of the first one (-1 if none). */
static icsoe_status find_groups(icsoe_dir *d, const char *filter, char ***dns,
                                size_t *n, long *first_gid)
{
    char *attrs[] = { "gidNumber", NULL };
    char *base = groups_dn(d);
    LDAPMessage *res = NULL, *e;
    icsoe_status st = base != NULL ? ICSOE_OK : ICSOE_ERR_INTERNAL;
    size_t count = 0;
    int rc;

    *dns = NULL;
    *n = 0;
    if (first_gid != NULL)
        *first_gid = -1;
    if (st == ICSOE_OK)
        st = search(d, base, LDAP_SCOPE_ONELEVEL, filter, attrs, GROUPS_MAX, &res, &rc);
    if (st == ICSOE_OK)
        st = dir_map_rc(d, "group search", rc);
    if (st == ICSOE_OK) {
        count = (size_t)ldap_count_entries(d->svc, res);
        *dns = calloc(count + 1, sizeof(**dns));
        if (*dns == NULL)
            st = ICSOE_ERR_INTERNAL;
    }
    for (e = st == ICSOE_OK ? ldap_first_entry(d->svc, res) : NULL;
         e != NULL && *n < count; e = ldap_next_entry(d->svc, e)) {
        char *dn = ldap_get_dn(d->svc, e);

        if (dn == NULL || ((*dns)[*n] = strdup(dn)) == NULL) {
            ldap_memfree(dn);
            st = ICSOE_ERR_INTERNAL;
            break;
        }
        ldap_memfree(dn);
        if (*n == 0 && first_gid != NULL)
            *first_gid = get_number(d->svc, e, "gidNumber");
        (*n)++;
    }
    if (res != NULL)
        ldap_msgfree(res);
    free(base);
    return st;
}

static void free_strs(char **v)
{
    if (v == NULL)
        return;
    for (char **p = v; *p != NULL; p++)
        free(*p);
    free(v);
}

/* "(&(objectClass=posixGroup)(ATTR=VALUE))" with VALUE escaped. */
static char *group_filter(const char *attr, const char *value)
{
    char *esc = icsoe_ldap_filter_escape(value), *f = NULL;

    if (esc != NULL) {
        size_t n = strlen(attr) + strlen(esc) + 40;

        f = malloc(n);
        if (f != NULL)
            snprintf(f, n, "(&(objectClass=posixGroup)(%s=%s))", attr, esc);
    }
    free(esc);
    return f;
}

static icsoe_status group_lookup(icsoe_dir *d, const char *attr, const char *value,
                                 char **dn, long *gid)
{
    char *f = group_filter(attr, value);
    char **dns = NULL;
    size_t n = 0;
    icsoe_status st = f != NULL ? find_groups(d, f, &dns, &n, gid) : ICSOE_ERR_INTERNAL;

    free(f);
    if (dn != NULL)
        *dn = NULL;
    if (st == ICSOE_OK && n == 0)
        st = ICSOE_ERR_NOT_FOUND;
    if (st == ICSOE_OK && dn != NULL) {
        *dn = dns[0];           /* handed over; the rest is freed here */
        for (size_t i = 1; i < n; i++)
            free(dns[i]);
        free(dns);
        dns = NULL;
    }
    free_strs(dns);
    return st;
}

/* Adds cn=name,ou=grupos with a new gidNumber; rfc NULL for the site
 * group, else a contractor group with members. */
static icsoe_status group_add(icsoe_dir *d, const char *name, const char *rfc,
                              char **members, long *gid)
{
    char gidv[24];
    char *oc_site[] = { "posixGroup", NULL };
    char *oc_ctr[] = { "posixGroup", "icsoeContractorGroup", NULL };
    char *cn[] = { (char *)name, NULL }, *gv[] = { gidv, NULL };
    char *rv[] = { (char *)rfc, NULL };
    LDAPMod m_oc = { LDAP_MOD_ADD, "objectClass", { rfc != NULL ? oc_ctr : oc_site } };
    LDAPMod m_cn = { LDAP_MOD_ADD, "cn", { cn } };
    LDAPMod m_gid = { LDAP_MOD_ADD, "gidNumber", { gv } };
    LDAPMod m_rfc = { LDAP_MOD_ADD, "icsoeContractorRFC", { rv } };
    LDAPMod m_mem = { LDAP_MOD_ADD, "memberUid", { members } };
    LDAPMod *mods[6];
    dir_add a;
    icsoe_status st;
    size_t k = 0;
    int rc;

    st = pool_take(d, "gidNumber", d->conf->unix_gid_min, d->conf->unix_gid_max, gid);
    if (st != ICSOE_OK)
        return st;
    snprintf(gidv, sizeof(gidv), "%ld", *gid);
    mods[k++] = &m_oc;
    mods[k++] = &m_cn;
    mods[k++] = &m_gid;
    if (rfc != NULL)
        mods[k++] = &m_rfc;
    if (members != NULL && members[0] != NULL)
        mods[k++] = &m_mem;
    mods[k] = NULL;
    a.dn = group_dn(d, name);
    a.mods = mods;
    if (a.dn == NULL)
        return ICSOE_ERR_INTERNAL;
    st = dir_wr_run(d, dir_add_op, &a, &rc);
    free((char *)a.dn);
    if (st == ICSOE_OK && rc == LDAP_ALREADY_EXISTS) {
        dir_reason(d, "a group named %s already exists", name);
        return ICSOE_ERR_EXISTS;
    }
    return st == ICSOE_OK ? dir_map_rc(d, "group add", rc) : st;
}

/* The gidNumber of the site group (conf unix_group), created on first use. */
static icsoe_status site_group(icsoe_dir *d, long *gid)
{
    icsoe_status st = group_lookup(d, "cn", d->conf->unix_group, NULL, gid);

    if (st != ICSOE_ERR_NOT_FOUND)
        return st;
    st = group_add(d, d->conf->unix_group, NULL, NULL, gid);
    if (st == ICSOE_ERR_EXISTS)  /* created meanwhile by someone else */
        st = group_lookup(d, "cn", d->conf->unix_group, NULL, gid);
    if (st == ICSOE_OK)
        icsoe_log(d->lg, ICSOE_LOG_NOTICE, "icsoe_dir: Unix group %s (gid %ld) created",
                  d->conf->unix_group, *gid);
    return st;
}

/* ---- the capturist's posixAccount ---- */

typedef struct posix_state {
    int posix;              /* objectClass posixAccount present */
    long uid, gid;
    int has[5];             /* which of posix_attrs[0..4] are present */
    char **contractors;     /* icsoeContractorRFC values */
    size_t ncontractors;
} posix_state;

static const char *const posix_attrs[] = {
    "uidNumber", "gidNumber", "homeDirectory", "loginShell", "gecos"
};

static void posix_state_clear(posix_state *ps)
{
    for (size_t i = 0; i < ps->ncontractors; i++)
        free(ps->contractors[i]);
    free(ps->contractors);
    memset(ps, 0, sizeof(*ps));
}

static icsoe_status read_posix(icsoe_dir *d, const char *dn, posix_state *ps)
{
    char *attrs[] = { "objectClass", "uidNumber", "gidNumber", "homeDirectory",
                      "loginShell", "gecos", "icsoeContractorRFC", NULL };
    LDAPMessage *res, *e;
    icsoe_status st;
    int bad = 0;

    memset(ps, 0, sizeof(*ps));
    st = dir_read_one(d, dn, "(objectClass=icsoeCapturist)", attrs, "capturist search",
                      &res, &e);
    if (e != NULL) {
        size_t noc = 0;
        char **oc = dir_get_strs(d->svc, e, "objectClass", &noc, &bad);

        for (size_t i = 0; i < noc; i++) {
            ps->posix |= strcasecmp(oc[i], "posixAccount") == 0;
            free(oc[i]);
        }
        free(oc);
        for (size_t i = 0; i < 5; i++) {
            struct berval **v = ldap_get_values_len(d->svc, e, posix_attrs[i]);

            ps->has[i] = v != NULL;
            ldap_value_free_len(v);
        }
        ps->uid = get_number(d->svc, e, "uidNumber");
        ps->gid = get_number(d->svc, e, "gidNumber");
        ps->contractors = dir_get_strs(d->svc, e, "icsoeContractorRFC",
                                       &ps->ncontractors, &bad);
    }
    if (res != NULL)
        ldap_msgfree(res);
    return st;
}

static char *home_of(const icsoe_dir *d, const char *curp)
{
    const char *h = d->conf->unix_home;
    size_t n = strlen(h);

    return join3(h, n > 1 && h[n - 1] == '/' ? "" : "/", curp);
}

icsoe_status icsoe_dir_posix_enable(icsoe_dir *d, const char *curp, long *uid, long *gid)
{
    char uidv[24], gidv[24];
    char *oc[] = { "posixAccount", NULL }, *uv[] = { uidv, NULL }, *gv[] = { gidv, NULL };
    char *hv[] = { NULL, NULL }, *sv[] = { d->conf->unix_shell, NULL };
    LDAPMod m_oc = { LDAP_MOD_ADD, "objectClass", { oc } };
    LDAPMod m_u = { LDAP_MOD_ADD, "uidNumber", { uv } };
    LDAPMod m_g = { LDAP_MOD_ADD, "gidNumber", { gv } };
    LDAPMod m_h = { LDAP_MOD_ADD, "homeDirectory", { hv } };
    LDAPMod m_s = { LDAP_MOD_ADD, "loginShell", { sv } };
    LDAPMod *mods[] = { &m_oc, &m_u, &m_g, &m_h, &m_s, NULL };
    posix_state ps;
    dir_call call;
    icsoe_status st;
    char *dn = NULL;
    int rc;

    memset(&ps, 0, sizeof(ps));
    *uid = *gid = -1;
    if (!icsoe_curp_shape_ok(curp))
        return ICSOE_ERR_INVALID_INPUT;
    st = posix_enabled_conf(d);
    if (st != ICSOE_OK)
        return st;
    dir_call_begin(d, &call);
    dn = dir_capturist_dn(d, curp);
    hv[0] = home_of(d, curp);
    st = dn != NULL && hv[0] != NULL ? read_posix(d, dn, &ps) : ICSOE_ERR_INTERNAL;
    if (st == ICSOE_OK && ps.posix) {
        *uid = ps.uid;
        *gid = ps.gid;
        st = ICSOE_ERR_EXISTS;
    }
    if (st == ICSOE_OK)
        st = site_group(d, gid);
    if (st == ICSOE_OK)
        st = pool_take(d, "uidNumber", d->conf->unix_uid_min, d->conf->unix_uid_max, uid);
    if (st == ICSOE_OK) {
        snprintf(uidv, sizeof(uidv), "%ld", *uid);
        snprintf(gidv, sizeof(gidv), "%ld", *gid);
        st = modify(d, dn, mods, &rc);
        if (st == ICSOE_OK && (rc == LDAP_TYPE_OR_VALUE_EXISTS))
            st = ICSOE_ERR_EXISTS;  /* enabled meanwhile; this uid stays unused */
        else if (st == ICSOE_OK)
            st = rc == LDAP_NO_SUCH_OBJECT ? ICSOE_ERR_NOT_FOUND
                                           : dir_map_rc(d, "posix enable", rc);
    }
    if (st == ICSOE_OK) {
        icsoe_log(d->lg, ICSOE_LOG_NOTICE, "icsoe_dir: capturist %s: Unix identity "
                  "uid %ld gid %ld", curp, *uid, *gid);
        st = posix_sync(d, curp);
    }
    posix_state_clear(&ps);
    free(hv[0]);
    free(dn);
    dir_call_end(d, &call, st);
    return st;
}

icsoe_status icsoe_dir_posix_disable(icsoe_dir *d, const char *curp)
{
    char *oc[] = { "posixAccount", NULL };
    LDAPMod m_oc = { LDAP_MOD_DELETE, "objectClass", { oc } };
    LDAPMod m_attr[5];
    LDAPMod *mods[7];
    posix_state ps;
    dir_call call;
    icsoe_status st;
    char *dn;
    size_t k = 0;
    int rc;

    memset(&ps, 0, sizeof(ps));
    if (!icsoe_curp_shape_ok(curp))
        return ICSOE_ERR_INVALID_INPUT;
    dir_call_begin(d, &call);
    dn = dir_capturist_dn(d, curp);
    st = dn != NULL ? read_posix(d, dn, &ps) : ICSOE_ERR_INTERNAL;
    if (st == ICSOE_OK && !ps.posix) {
        dir_reason(d, "capturist %s has no Unix identity", curp);
        st = ICSOE_ERR_NOT_FOUND;
    }
    if (st == ICSOE_OK) {
        /* delete every value of the attributes that are there (deleting an
         * absent attribute would fail the whole Modify) */
        mods[k++] = &m_oc;
        for (size_t i = 0; i < 5; i++) {
            if (!ps.has[i])
                continue;
            m_attr[i].mod_op = LDAP_MOD_DELETE;
            m_attr[i].mod_type = (char *)posix_attrs[i];
            m_attr[i].mod_values = NULL;
            mods[k++] = &m_attr[i];
        }
        mods[k] = NULL;
        st = modify(d, dn, mods, &rc);
        if (st == ICSOE_OK && rc == LDAP_NO_SUCH_ATTRIBUTE) {
            dir_reason(d, "capturist %s: Unix identity removed meanwhile", curp);
            st = ICSOE_ERR_NOT_FOUND;
        } else if (st == ICSOE_OK) {
            st = dir_map_rc(d, "posix disable", rc);
        }
    }
    if (st == ICSOE_OK) {
        icsoe_log(d->lg, ICSOE_LOG_NOTICE, "icsoe_dir: capturist %s: Unix identity "
                  "uid %ld removed", curp, ps.uid);
        st = posix_sync(d, curp);
    }
    posix_state_clear(&ps);
    free(dn);
    dir_call_end(d, &call, st);
    return st;
}

/* ---- group memberships ---- */

static int in_list(char **v, const char *s)
{
    for (; v != NULL && *v != NULL; v++)
        if (strcasecmp(*v, s) == 0)
            return 1;
    return 0;
}

/* (&(objectClass=icsoeContractorGroup)(|(icsoeContractorRFC=R1)...)) */
static char *contractor_groups_filter(char **rfcs, size_t n)
{
    size_t len = 80, i;
    char *f, *p;

    for (i = 0; i < n; i++)
        len += 3 * strlen(rfcs[i]) + 24;
    f = malloc(len);
    if (f == NULL)
        return NULL;
    p = f + snprintf(f, len, "(&(objectClass=icsoeContractorGroup)(|");
    for (i = 0; i < n; i++) {
        char *esc = icsoe_ldap_filter_escape(rfcs[i]);

        if (esc == NULL) {
            free(f);
            return NULL;
        }
        p += snprintf(p, len - (size_t)(p - f), "(icsoeContractorRFC=%s)", esc);
        free(esc);
    }
    snprintf(p, len - (size_t)(p - f), "))");
    return f;
}

static icsoe_status member_change(icsoe_dir *d, const char *group, const char *curp,
                                  int op)
{
    char *v[] = { (char *)curp, NULL };
    LDAPMod m = { op, "memberUid", { v } };
    LDAPMod *mods[] = { &m, NULL };
    icsoe_status st;
    int rc;

    st = modify(d, group, mods, &rc);
    if (st == ICSOE_OK && (rc == LDAP_TYPE_OR_VALUE_EXISTS || rc == LDAP_NO_SUCH_ATTRIBUTE ||
                           rc == LDAP_NO_SUCH_OBJECT))
        rc = LDAP_SUCCESS;      /* already as wanted, or group just removed */
    return st == ICSOE_OK ? dir_map_rc(d, "group member", rc) : st;
}

static icsoe_status posix_sync(icsoe_dir *d, const char *curp)
{
    char *dn = dir_capturist_dn(d, curp), *f_want = NULL, *f_have = NULL;
    char **want = NULL, **have = NULL;
    size_t nwant = 0, nhave = 0, i;
    posix_state ps;
    icsoe_status st;

    memset(&ps, 0, sizeof(ps));
    st = dn != NULL ? read_posix(d, dn, &ps) : ICSOE_ERR_INTERNAL;
    if (st == ICSOE_ERR_NOT_FOUND)
        st = ICSOE_OK;          /* removed: in no group at all */
    if (st == ICSOE_OK && ps.posix && ps.ncontractors > 0) {
        f_want = contractor_groups_filter(ps.contractors, ps.ncontractors);
        st = f_want != NULL ? find_groups(d, f_want, &want, &nwant, NULL)
                            : ICSOE_ERR_INTERNAL;
    }
    if (st == ICSOE_OK) {
        f_have = group_filter("memberUid", curp);
        st = f_have != NULL ? find_groups(d, f_have, &have, &nhave, NULL)
                            : ICSOE_ERR_INTERNAL;
    }
    for (i = 0; st == ICSOE_OK && i < nwant; i++)
        if (!in_list(have, want[i]))
            st = member_change(d, want[i], curp, LDAP_MOD_ADD);
    for (i = 0; st == ICSOE_OK && i < nhave; i++)
        if (!in_list(want, have[i]))
            st = member_change(d, have[i], curp, LDAP_MOD_DELETE);
    free_strs(want);
    free_strs(have);
    free(f_want);
    free(f_have);
    posix_state_clear(&ps);
    free(dn);
    return st;
}

icsoe_status icsoe_dir_posix_sync(icsoe_dir *d, const char *curp)
{
    dir_call call;
    icsoe_status st;

    if (!icsoe_curp_shape_ok(curp))
        return ICSOE_ERR_INVALID_INPUT;
    dir_call_begin(d, &call);
    st = posix_sync(d, curp);
    dir_call_end(d, &call, st);
    return st;
}

/* ---- contractor groups ---- */

/* CURPs of the capturists of rfc that have a Unix identity (NULL-terminated). */
static icsoe_status posix_members(icsoe_dir *d, const char *rfc, char ***out)
{
    char *attrs[] = { "uid", NULL };
    char *esc = icsoe_ldap_filter_escape(rfc), *f = NULL;
    LDAPMessage *res = NULL, *e;
    icsoe_status st = ICSOE_ERR_INTERNAL;
    size_t n = 0, count;
    int rc, bad = 0;

    *out = NULL;
    if (esc != NULL && (f = malloc(strlen(esc) + 80)) != NULL) {
        snprintf(f, strlen(esc) + 80, "(&(objectClass=posixAccount)"
                 "(objectClass=icsoeCapturist)(icsoeContractorRFC=%s))", esc);
        st = search(d, d->capturists_dn, LDAP_SCOPE_ONELEVEL, f, attrs, 0, &res, &rc);
    }
    if (st == ICSOE_OK)
        st = dir_map_rc(d, "capturist search", rc);
    count = st == ICSOE_OK ? (size_t)ldap_count_entries(d->svc, res) : 0;
    if (st == ICSOE_OK && (*out = calloc(count + 1, sizeof(**out))) == NULL)
        st = ICSOE_ERR_INTERNAL;
    for (e = st == ICSOE_OK ? ldap_first_entry(d->svc, res) : NULL;
         e != NULL && n < count; e = ldap_next_entry(d->svc, e)) {
        char *uid = dir_get_str(d->svc, e, "uid", &bad);

        if (uid != NULL && icsoe_curp_shape_ok(uid) && strlen(uid) == ICSOE_CURP_LEN)
            (*out)[n++] = uid;
        else
            free(uid);
    }
    if (res != NULL)
        ldap_msgfree(res);
    free(esc);
    free(f);
    return st;
}

icsoe_status icsoe_dir_posix_group_enable(icsoe_dir *d, const char *rfc,
                                          const char *name, long *gid)
{
    char *rfcs[] = { (char *)rfc, NULL };
    char **members = NULL;
    icsoe_contractor *found = NULL;
    size_t nfound = 0;
    dir_call call;
    icsoe_status st;

    *gid = -1;
    if (!dir_rfc_shape_ok(rfc) || !icsoe_unix_name_ok(name))
        return ICSOE_ERR_INVALID_INPUT;
    st = posix_enabled_conf(d);
    if (st != ICSOE_OK)
        return st;
    dir_call_begin(d, &call);
    st = dir_contractor_get_many(d, (const char *const *)rfcs, 1, &found, &nfound);
    if (st == ICSOE_OK && nfound == 0)
        st = ICSOE_ERR_NOT_FOUND;
    if (st == ICSOE_OK) {
        st = group_lookup(d, "icsoeContractorRFC", rfc, NULL, gid);
        if (st == ICSOE_OK) {
            dir_reason(d, "contractor %s already has a Unix group", rfc);
            st = ICSOE_ERR_EXISTS;
        } else if (st == ICSOE_ERR_NOT_FOUND) {
            st = ICSOE_OK;
        }
    }
    if (st == ICSOE_OK)
        st = posix_members(d, rfc, &members);
    if (st == ICSOE_OK)
        st = group_add(d, name, rfc, members, gid);
    if (st == ICSOE_OK)
        icsoe_log(d->lg, ICSOE_LOG_NOTICE, "icsoe_dir: contractor %s: Unix group %s "
                  "(gid %ld)", rfc, name, *gid);
    free_strs(members);
    icsoe_contractor_list_free(found, nfound);
    dir_call_end(d, &call, st);
    return st;
}

icsoe_status icsoe_dir_posix_group_disable(icsoe_dir *d, const char *rfc)
{
    dir_call call;
    icsoe_status st;
    char *dn = NULL;
    long gid;
    int rc;

    if (!dir_rfc_shape_ok(rfc))
        return ICSOE_ERR_INVALID_INPUT;
    dir_call_begin(d, &call);
    st = group_lookup(d, "icsoeContractorRFC", rfc, &dn, &gid);
    if (st == ICSOE_OK) {
        st = dir_wr_run(d, dir_delete_op, dn, &rc);
        if (st == ICSOE_OK)
            st = rc == LDAP_NO_SUCH_OBJECT ? ICSOE_ERR_NOT_FOUND
                                           : dir_map_rc(d, "group delete", rc);
    }
    if (st == ICSOE_OK)
        icsoe_log(d->lg, ICSOE_LOG_NOTICE, "icsoe_dir: contractor %s: Unix group "
                  "(gid %ld) removed", rfc, gid);
    free(dn);
    dir_call_end(d, &call, st);
    return st;
}

/* ---- what an administrator sees (icsoectl capturist show) ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

icsoe_status icsoe_dir_posix_groups_of(icsoe_dir *d, const char *curp,
                                       char ***names, size_t *n)
{
    char *attrs[] = { "cn", NULL };
    char *base = NULL, *f = NULL;
    LDAPMessage *res = NULL, *e;
    icsoe_status st = ICSOE_ERR_INTERNAL;
    dir_call call;
    size_t count = 0;
    int rc = LDAP_SUCCESS, bad = 0;

    *names = NULL;
    *n = 0;
    if (!icsoe_curp_shape_ok(curp))
        return ICSOE_ERR_INVALID_INPUT;
    dir_call_begin(d, &call);
    base = groups_dn(d);
    f = group_filter("memberUid", curp);
    if (base != NULL && f != NULL)
        st = search(d, base, LDAP_SCOPE_ONELEVEL, f, attrs, GROUPS_MAX, &res, &rc);
    /* a directory without ou=grupos has no groups at all */
    if (st == ICSOE_OK && rc != LDAP_NO_SUCH_OBJECT)
        st = dir_map_rc(d, "group search", rc);
    if (st == ICSOE_OK && rc != LDAP_NO_SUCH_OBJECT)
        count = (size_t)ldap_count_entries(d->svc, res);
    if (st == ICSOE_OK && (*names = calloc(count + 1, sizeof(**names))) == NULL)
        st = ICSOE_ERR_INTERNAL;
    for (e = st == ICSOE_OK && count > 0 ? ldap_first_entry(d->svc, res) : NULL;
         e != NULL && *n < count; e = ldap_next_entry(d->svc, e)) {
        char *cn = dir_get_str(d->svc, e, "cn", &bad);

        if (cn != NULL)
            (*names)[(*n)++] = cn;
    }
    if (st == ICSOE_OK)
        qsort(*names, *n, sizeof(**names), cmp_str);
    else {
        free_strs(*names);
        *names = NULL;
        *n = 0;
    }
    if (res != NULL)
        ldap_msgfree(res);
    free(base);
    free(f);
    dir_call_end(d, &call, st);
    return st;
}

void icsoe_dir_posix_groups_free(char **names)
{
    free_strs(names);
}
