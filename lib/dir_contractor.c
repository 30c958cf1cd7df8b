/* Contractors: icsoeRFC=<RFC>,ou=contratistas,<base>, objectClass
 * icsoeContractor (o = name, mail, icsoeREPSE). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "curp.h"
#include "dir_internal.h"
#include "input.h"

#define CONTRACTOR_NAME_MAX 256
#define REPSE_MAX 64
#define GET_MANY_MAX 1000

static char *contractor_attrs[] = { "icsoeRFC", "o", "mail", "icsoeREPSE", NULL };

void icsoe_contractor_clear(icsoe_contractor *c)
{
    if (c == NULL)
        return;
    free(c->name);
    free(c->repse);
    free(c->email);
    memset(c, 0, sizeof(*c));
}

void icsoe_contractor_list_free(icsoe_contractor *v, size_t n)
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; i < n; i++)
        icsoe_contractor_clear(&v[i]);
    free(v);
}

static icsoe_status read_contractor(icsoe_dir *d, LDAP *ld, LDAPMessage *e,
                                    icsoe_contractor *out)
{
    int bad = 0;
    char *rfc, *dn;
    dir_entry ent;

    memset(out, 0, sizeof(*out));
    if (dir_entry_open(ld, e, &ent) != 0)
        bad = 1;
    rfc = dir_entry_str(&ent, "icsoeRFC", &bad);
    if (rfc != NULL && dir_rfc_shape_ok(rfc) && strlen(rfc) < sizeof(out->rfc))
        memcpy(out->rfc, rfc, strlen(rfc) + 1);
    else
        bad = 1;
    free(rfc);
    out->name = dir_entry_str(&ent, "o", &bad);
    if (out->name == NULL)
        bad = 1;
    out->repse = dir_entry_str(&ent, "icsoeREPSE", &bad);
    out->email = dir_entry_str(&ent, "mail", &bad);
    dir_entry_close(&ent);
    if (!bad)
        return ICSOE_OK;
    dn = ldap_get_dn(ld, e);
    dir_reason(d, "contractor entry %s has a missing or unsafe value", dn ? dn : "?");
    icsoe_log(d->lg, ICSOE_LOG_ERR, "icsoe_dir: %s", d->reason);
    ldap_memfree(dn);
    icsoe_contractor_clear(out);
    return ICSOE_ERR_INTERNAL;
}

static int cmp_contractor(const void *a, const void *b)
{
    return strcmp(((const icsoe_contractor *)a)->rfc, ((const icsoe_contractor *)b)->rfc);
}

/* Runs a search below ou=contratistas and reads every entry (bad entries
 * are logged and skipped), sorted by RFC. */
static icsoe_status contractor_search(icsoe_dir *d, const char *base, int scope,
                                      const char *filter, icsoe_contractor **out,
                                      size_t *n)
{
    dir_search s;
    icsoe_status st;
    icsoe_contractor *v = NULL;
    size_t count = 0;
    LDAPMessage *e;
    int rc;

    *out = NULL;
    *n = 0;
    memset(&s, 0, sizeof(s));
    s.base = base;
    s.scope = scope;
    s.filter = filter;
    s.attrs = contractor_attrs;
    st = dir_svc_run(d, dir_search_op, &s, &rc);
    if (st == ICSOE_OK) {
        if (rc == LDAP_NO_SUCH_OBJECT && scope == LDAP_SCOPE_BASE)
            rc = LDAP_SUCCESS; /* no entry: an empty answer */
        st = dir_map_rc(d, "contractor search", rc);
    }
    if (st != ICSOE_OK)
        goto out;
    v = calloc((size_t)ldap_count_entries(d->svc, s.res) + 1, sizeof(*v));
    if (v == NULL) {
        st = ICSOE_ERR_INTERNAL;
        goto out;
    }
    for (e = ldap_first_entry(d->svc, s.res); e != NULL; e = ldap_next_entry(d->svc, e)) {
        if (read_contractor(d, d->svc, e, &v[count]) == ICSOE_OK)
            count++;
    }
    qsort(v, count, sizeof(*v), cmp_contractor);
    *out = v;
    *n = count;
    v = NULL;
out:
    icsoe_contractor_list_free(v, count);
    if (s.res != NULL)
        ldap_msgfree(s.res);
    return st;
}

static int text_field_ok(const char *s, size_t max)
{
    size_t n;

    if (s == NULL)
        return 0;
    n = strlen(s);
    return n > 0 && n <= max && icsoe_text_is_safe(s, n) && s[0] != ' ' && s[n - 1] != ' ';
}

icsoe_status icsoe_dir_contractor_add(icsoe_dir *d, const icsoe_contractor *c)
{
    char *oc[] = { "icsoeContractor", NULL };
    char *rfc[] = { (char *)c->rfc, NULL };
    char *name[] = { c->name, NULL };
    char *mail[] = { c->email, NULL };
    char *repse[] = { c->repse, NULL };
    LDAPMod m_oc = { LDAP_MOD_ADD, "objectClass", { oc } };
    LDAPMod m_rfc = { LDAP_MOD_ADD, "icsoeRFC", { rfc } };
    LDAPMod m_o = { LDAP_MOD_ADD, "o", { name } };
    LDAPMod m_mail = { LDAP_MOD_ADD, "mail", { mail } };
    LDAPMod m_repse = { LDAP_MOD_ADD, "icsoeREPSE", { repse } };
    LDAPMod *mods[6];
    dir_add a;
    dir_call call;
    icsoe_status st;
    size_t n = 0;
    int rc;

    if (!dir_rfc_shape_ok(c->rfc) || !text_field_ok(c->name, CONTRACTOR_NAME_MAX) ||
        (c->repse != NULL && !text_field_ok(c->repse, REPSE_MAX)) ||
        (c->email != NULL && !icsoe_email_valid(c->email)))
        return ICSOE_ERR_INVALID_INPUT;
    mods[n++] = &m_oc;
    mods[n++] = &m_rfc;
    mods[n++] = &m_o;
    if (c->email != NULL)
        mods[n++] = &m_mail;
    if (c->repse != NULL)
        mods[n++] = &m_repse;
    mods[n] = NULL;
    a.dn = dir_contractor_dn(d, c->rfc);
    a.mods = mods;
    if (a.dn == NULL)
        return ICSOE_ERR_INTERNAL;
    dir_call_begin(d, &call);
    st = dir_wr_run(d, dir_add_op, &a, &rc);
    if (st == ICSOE_OK)
        st = rc == LDAP_ALREADY_EXISTS ? ICSOE_ERR_EXISTS : dir_map_rc(d, "contractor add", rc);
    if (st == ICSOE_OK)
        icsoe_log(d->lg, ICSOE_LOG_NOTICE, "icsoe_dir: contractor %s added", c->rfc);
    dir_call_end(d, &call, st);
    free((char *)a.dn);
    return st;
}

static icsoe_status contractor_get(icsoe_dir *d, const char *rfc, icsoe_contractor *out)
{
    icsoe_contractor *v = NULL;
    size_t n = 0;
    icsoe_status st;
    char *dn = dir_contractor_dn(d, rfc);

    if (dn == NULL)
        return ICSOE_ERR_INTERNAL;
    st = contractor_search(d, dn, LDAP_SCOPE_BASE, "(objectClass=icsoeContractor)", &v, &n);
    if (st == ICSOE_OK && n == 0)
        st = ICSOE_ERR_NOT_FOUND;
    if (st == ICSOE_OK) {
        *out = v[0];
        memset(&v[0], 0, sizeof(v[0]));
    }
    icsoe_contractor_list_free(v, n);
    free(dn);
    return st;
}

icsoe_status icsoe_dir_contractor_get(icsoe_dir *d, const char *rfc, icsoe_contractor *out)
{
    dir_call call;
    icsoe_status st;

    memset(out, 0, sizeof(*out));
    if (!dir_rfc_shape_ok(rfc))
        return ICSOE_ERR_INVALID_INPUT;
    dir_call_begin(d, &call);
    st = contractor_get(d, rfc, out);
    dir_call_end(d, &call, st);
    return st;
}

icsoe_status icsoe_dir_contractor_list(icsoe_dir *d, icsoe_contractor **out, size_t *n)
{
    dir_call call;
    icsoe_status st;

    dir_call_begin(d, &call);
    st = contractor_search(d, d->contractors_dn, LDAP_SCOPE_ONELEVEL,
                           "(objectClass=icsoeContractor)", out, n);
    dir_call_end(d, &call, st);
    return st;
}

/* One search for up to GET_MANY_CHUNK RFCs (already shape-checked). */
static icsoe_status get_chunk(icsoe_dir *d, const char *const *rfcs, size_t nrfc,
                              icsoe_contractor **out, size_t *n)
{
    size_t i, len = 64;
    char *filter, *p;
    char **esc;
    icsoe_status st = ICSOE_ERR_INTERNAL;

    esc = calloc(nrfc, sizeof(*esc));
    if (esc == NULL)
        return ICSOE_ERR_INTERNAL;
    for (i = 0; i < nrfc; i++) {
        esc[i] = icsoe_ldap_filter_escape(rfcs[i]);
        if (esc[i] == NULL)
            goto out;
        len += strlen(esc[i]) + sizeof("(icsoeRFC=)");
    }
    filter = malloc(len);
    if (filter == NULL)
        goto out;
    p = filter;
    p += snprintf(p, len, "(&(objectClass=icsoeContractor)(|");
    for (i = 0; i < nrfc; i++)
        p += snprintf(p, len - (size_t)(p - filter), "(icsoeRFC=%s)", esc[i]);
    snprintf(p, len - (size_t)(p - filter), "))");
    st = contractor_search(d, d->contractors_dn, LDAP_SCOPE_ONELEVEL, filter, out, n);
    free(filter);
out:
    for (i = 0; i < nrfc; i++)
        free(esc[i]);
    free(esc);
    return st;
}

/* slapd tests every candidate entry against every clause of an OR filter,
 * so one search for k RFCs costs O(k^2): 500 RFCs took ~170 ms, in
 * searches of 20 the same 500 take ~17 ms (bench/p4_size). */
#define GET_MANY_CHUNK 20

icsoe_status dir_contractor_get_many(icsoe_dir *d, const char *const *rfcs, size_t nrfc,
                                     icsoe_contractor **out, size_t *n)
{
    icsoe_contractor *all, *part = NULL;
    size_t i, count = 0, npart = 0;
    icsoe_status st = ICSOE_OK;

    *out = NULL;
    *n = 0;
    if (nrfc > GET_MANY_MAX)
        return ICSOE_ERR_INVALID_INPUT;
    for (i = 0; i < nrfc; i++) {
        if (!dir_rfc_shape_ok(rfcs[i]))
            return ICSOE_ERR_INVALID_INPUT;
    }
    all = calloc(nrfc + 1, sizeof(*all));
    if (all == NULL)
        return ICSOE_ERR_INTERNAL;
    for (i = 0; i < nrfc && st == ICSOE_OK; i += GET_MANY_CHUNK) {
        size_t k = nrfc - i < GET_MANY_CHUNK ? nrfc - i : GET_MANY_CHUNK;

        st = get_chunk(d, rfcs + i, k, &part, &npart);
        if (st != ICSOE_OK)
            break;
        /* a chunk answers at most its k RFCs (the RFC is the entry's RDN);
         * never write past all[nrfc] whatever the server sends */
        while (npart > k)
            icsoe_contractor_clear(&part[--npart]);
        if (npart > 0)
            memcpy(all + count, part, npart * sizeof(*part));
        count += npart;
        free(part); /* the members moved to all */
        part = NULL;
    }
    if (st != ICSOE_OK) {
        icsoe_contractor_list_free(all, count);
        return st;
    }
    if (count > 0)
        qsort(all, count, sizeof(*all), cmp_contractor);
    *out = all;
    *n = count;
    return ICSOE_OK;
}

icsoe_status icsoe_dir_contractor_get_many(icsoe_dir *d, const char *const *rfcs,
                                           size_t nrfc, icsoe_contractor **out, size_t *n)
{
    dir_call call;
    icsoe_status st;

    dir_call_begin(d, &call);
    st = dir_contractor_get_many(d, rfcs, nrfc, out, n);
    dir_call_end(d, &call, st);
    return st;
}

/* CURPs of the capturists assigned to rfc (malloc'd list). */
static icsoe_status assigned_capturists(icsoe_dir *d, const char *rfc, char ***curps,
                                        size_t *n)
{
    char *attrs[] = { "uid", NULL };
    dir_search s;
    icsoe_status st;
    LDAPMessage *e;
    char *esc, *filter = NULL;
    size_t len, count = 0;
    int rc, bad = 0;

    *curps = NULL;
    *n = 0;
    memset(&s, 0, sizeof(s));
    esc = icsoe_ldap_filter_escape(rfc);
    if (esc == NULL)
        return ICSOE_ERR_INTERNAL;
    len = strlen(esc) + 64;
    filter = malloc(len);
    if (filter == NULL) {
        st = ICSOE_ERR_INTERNAL;
        goto out;
    }
    snprintf(filter, len, "(&(objectClass=icsoeCapturist)(icsoeContractorRFC=%s))", esc);
    s.base = d->capturists_dn;
    s.scope = LDAP_SCOPE_ONELEVEL;
    s.filter = filter;
    s.attrs = attrs;
    st = dir_svc_run(d, dir_search_op, &s, &rc);
    if (st == ICSOE_OK)
        st = dir_map_rc(d, "assigned capturists", rc);
    if (st != ICSOE_OK)
        goto out;
    *curps = calloc((size_t)ldap_count_entries(d->svc, s.res) + 1, sizeof(char *));
    if (*curps == NULL) {
        st = ICSOE_ERR_INTERNAL;
        goto out;
    }
    for (e = ldap_first_entry(d->svc, s.res); e != NULL; e = ldap_next_entry(d->svc, e)) {
        char *uid = dir_get_str(d->svc, e, "uid", &bad);

        if (uid != NULL && icsoe_curp_shape_ok(uid))
            (*curps)[count++] = uid;
        else
            free(uid);
    }
    *n = count;
out:
    if (s.res != NULL)
        ldap_msgfree(s.res);
    free(filter);
    free(esc);
    return st;
}

static icsoe_status revoke_all(icsoe_dir *d, const char *rfc, char **curps, size_t n)
{
    char *vals[] = { (char *)rfc, NULL };
    LDAPMod mod = { LDAP_MOD_DELETE, "icsoeContractorRFC", { vals } };
    LDAPMod *mods[] = { &mod, NULL };
    dir_modify m;
    icsoe_status st = ICSOE_OK;
    size_t i;
    int rc;

    for (i = 0; i < n && st == ICSOE_OK; i++) {
        memset(&m, 0, sizeof(m));
        m.dn = dir_capturist_dn(d, curps[i]);
        m.mods = mods;
        if (m.dn == NULL)
            return ICSOE_ERR_INTERNAL;
        st = dir_wr_run(d, dir_modify_op, &m, &rc);
        /* Gone meanwhile (entry or value): nothing left to revoke. */
        if (st == ICSOE_OK && rc != LDAP_NO_SUCH_OBJECT && rc != LDAP_NO_SUCH_ATTRIBUTE)
            st = dir_map_rc(d, "revoke", rc);
        free((char *)m.dn);
    }
    return st;
}

icsoe_status icsoe_dir_contractor_remove(icsoe_dir *d, const char *rfc, int force)
{
    icsoe_contractor c;
    dir_call call;
    icsoe_status st;
    char **curps = NULL;
    size_t n = 0, i;
    char *dn = NULL;
    int rc;

    memset(&c, 0, sizeof(c));
    if (!dir_rfc_shape_ok(rfc))
        return ICSOE_ERR_INVALID_INPUT;
    dir_call_begin(d, &call);
    st = contractor_get(d, rfc, &c);
    if (st != ICSOE_OK)
        goto out;
    st = assigned_capturists(d, rfc, &curps, &n);
    if (st != ICSOE_OK)
        goto out;
    if (n > 0 && !force) {
        dir_reason(d, "contractor %s is assigned to %zu capturist(s)", rfc, n);
        st = ICSOE_ERR_EXISTS;
        goto out;
    }
    st = revoke_all(d, rfc, curps, n);
    if (st != ICSOE_OK)
        goto out;
    dn = dir_contractor_dn(d, rfc);
    if (dn == NULL) {
        st = ICSOE_ERR_INTERNAL;
        goto out;
    }
    st = dir_wr_run(d, dir_delete_op, dn, &rc);
    if (st == ICSOE_OK)
        st = rc == LDAP_NO_SUCH_OBJECT ? ICSOE_ERR_NOT_FOUND
                                       : dir_map_rc(d, "contractor remove", rc);
    if (st == ICSOE_OK)
        icsoe_log(d->lg, ICSOE_LOG_NOTICE, "icsoe_dir: contractor %s removed (%zu revoked)",
                  rfc, n);
out:
    for (i = 0; i < n; i++)
        free(curps[i]);
    free(curps);
    free(dn);
    icsoe_contractor_clear(&c);
    dir_call_end(d, &call, st);
    return st;
}
