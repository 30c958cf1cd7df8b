/* Reading entries: values from LDAP are checked (no CR, LF or NUL, valid
 * UTF-8) before they can reach a header, an environment variable or a mail;
 * an entry with an unsafe value is an error, never passed on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "curp.h"
#include "dir_internal.h"
#include "input.h"

int dir_text_ok(const char *s, size_t len)
{
    return icsoe_text_is_safe(s, len);
}

char *dir_get_str(LDAP *ld, LDAPMessage *e, const char *attr, int *bad)
{
    struct berval **vals = ldap_get_values_len(ld, e, attr);
    char *s = NULL;

    if (vals == NULL)
        return NULL;
    if (vals[0] != NULL) {
        if (!dir_text_ok(vals[0]->bv_val, vals[0]->bv_len)) {
            *bad = 1;
        } else {
            s = malloc(vals[0]->bv_len + 1);
            if (s != NULL) {
                memcpy(s, vals[0]->bv_val, vals[0]->bv_len);
                s[vals[0]->bv_len] = '\0';
            } else {
                *bad = 1;
            }
        }
    }
    ldap_value_free_len(vals);
    return s;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **dir_get_strs(LDAP *ld, LDAPMessage *e, const char *attr, size_t *n, int *bad)
{
    struct berval **vals = ldap_get_values_len(ld, e, attr);
    size_t count, i;
    char **out;

    *n = 0;
    count = vals ? (size_t)ldap_count_values_len(vals) : 0;
    out = calloc(count + 1, sizeof(*out));
    if (out == NULL) {
        *bad = 1;
        goto done;
    }
    for (i = 0; i < count; i++) {
        if (!dir_text_ok(vals[i]->bv_val, vals[i]->bv_len)) {
            *bad = 1;
            continue;
        }
        out[*n] = malloc(vals[i]->bv_len + 1);
        if (out[*n] == NULL) {
            *bad = 1;
            continue;
        }
        memcpy(out[*n], vals[i]->bv_val, vals[i]->bv_len);
        out[*n][vals[i]->bv_len] = '\0';
        (*n)++;
    }
    if (*n > 0)
        qsort(out, *n, sizeof(*out), cmp_str);
done:
    if (vals != NULL)
        ldap_value_free_len(vals);
    return out;
}

int dir_entry_open(LDAP *ld, LDAPMessage *e, dir_entry *ent)
{
    struct berval dn;

    memset(ent, 0, sizeof(*ent));
    if (ldap_get_dn_ber(ld, e, &ent->ber, &dn) != LDAP_SUCCESS)
        return -1;
    for (;;) {
        struct berval name = { 0, NULL };
        BerVarray vals = NULL;

        if (ldap_get_attribute_ber(ld, e, ent->ber, &name, &vals) != LDAP_SUCCESS)
            return -1;
        if (name.bv_val == NULL)
            return 0;
        if (ent->n == DIR_ENTRY_MAX_ATTRS) {
            ber_memfree(vals);
            return -1;
        }
        ent->a[ent->n].name = name;
        ent->a[ent->n].vals = vals;
        ent->n++;
    }
}

void dir_entry_close(dir_entry *ent)
{
    for (size_t i = 0; i < ent->n; i++)
        ber_memfree(ent->a[i].vals);
    if (ent->ber != NULL)
        ber_free(ent->ber, 0);
    memset(ent, 0, sizeof(*ent));
}

const struct berval *dir_entry_vals(const dir_entry *ent, const char *attr)
{
    size_t len = strlen(attr);

    for (size_t i = 0; i < ent->n; i++) {
        if (ent->a[i].name.bv_len == len &&
            strncasecmp(ent->a[i].name.bv_val, attr, len) == 0)
            return ent->a[i].vals != NULL && ent->a[i].vals[0].bv_val != NULL
                   ? ent->a[i].vals : NULL;
    }
    return NULL;
}

static char *bv_str(const struct berval *v, int *bad)
{
    char *s;

    if (!dir_text_ok(v->bv_val, v->bv_len)) {
        *bad = 1;
        return NULL;
    }
    s = malloc(v->bv_len + 1);
    if (s == NULL) {
        *bad = 1;
        return NULL;
    }
    memcpy(s, v->bv_val, v->bv_len);
    s[v->bv_len] = '\0';
    return s;
}

char *dir_entry_str(const dir_entry *ent, const char *attr, int *bad)
{
    const struct berval *v = dir_entry_vals(ent, attr);

    return v != NULL ? bv_str(&v[0], bad) : NULL;
}

char **dir_entry_strs(const dir_entry *ent, const char *attr, size_t *n, int *bad)
{
    const struct berval *v = dir_entry_vals(ent, attr);
    size_t count = 0, i;
    char **out;

    *n = 0;
    while (v != NULL && v[count].bv_val != NULL)
        count++;
    out = calloc(count + 1, sizeof(*out));
    if (out == NULL) {
        *bad = 1;
        return NULL;
    }
    for (i = 0; i < count; i++) {
        out[*n] = bv_str(&v[i], bad);
        if (out[*n] != NULL)
            (*n)++;
    }
    if (*n > 0)
        qsort(out, *n, sizeof(*out), cmp_str);
    return out;
}

/* GeneralizedTime as slapd writes it: YYYYMMDDHHMMSS, optional fraction,
 * 'Z'.  Anything else is refused. */
time_t dir_parse_gentime(const char *s)
{
    struct tm tm;
    int v[6], i, pos = 0;
    static const int width[6] = { 4, 2, 2, 2, 2, 2 };

    if (s == NULL)
        return -1;
    for (i = 0; i < 6; i++) {
        int k;

        v[i] = 0;
        for (k = 0; k < width[i]; k++, pos++) {
            if (s[pos] < '0' || s[pos] > '9')
                return -1;
            v[i] = v[i] * 10 + (s[pos] - '0');
        }
    }
    if (s[pos] == '.') {
        pos++;
        if (s[pos] < '0' || s[pos] > '9')
            return -1;
        while (s[pos] >= '0' && s[pos] <= '9')
            pos++;
    }
    if (s[pos] != 'Z' || s[pos + 1] != '\0')
        return -1;
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 ||
        v[5] > 60)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = v[0] - 1900;
    tm.tm_mon = v[1] - 1;
    tm.tm_mday = v[2];
    tm.tm_hour = v[3];
    tm.tm_min = v[4];
    tm.tm_sec = v[5];
    return timegm(&tm);
}

void dir_format_gentime(time_t t, char out[16])
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 16, "%Y%m%d%H%M%SZ", &tm);
}

/* attr=value,parent; malloc'd.  value must already be escaped. */
static char *join_dn(const char *attr, const char *value, const char *parent)
{
    size_t na = strlen(attr), nv = strlen(value), np = strlen(parent);
    char *dn = malloc(na + 1 + nv + 1 + np + 1);

    if (dn == NULL)
        return NULL;
    memcpy(dn, attr, na);
    dn[na] = '=';
    memcpy(dn + na + 1, value, nv);
    dn[na + 1 + nv] = ',';
    memcpy(dn + na + 1 + nv + 1, parent, np + 1);
    return dn;
}

static char *rdn_dn(const char *attr, const char *value, const char *parent)
{
    char *esc = icsoe_ldap_dn_escape(value);
    char *dn;

    if (esc == NULL)
        return NULL;
    dn = join_dn(attr, esc, parent);
    free(esc);
    return dn;
}

char *dir_capturist_dn(const icsoe_dir *d, const char *curp)
{
    /* 18 of [A-Z0-9] (every CURP that reaches the directory) have nothing
     * to escape: skip the escaping copy, once per login */
    if (icsoe_curp_shape_ok(curp))
        return join_dn("uid", curp, d->capturists_dn);
    return rdn_dn("uid", curp, d->capturists_dn);
}

char *dir_contractor_dn(const icsoe_dir *d, const char *rfc)
{
    return rdn_dn("icsoeRFC", rfc, d->contractors_dn);
}

int dir_rfc_shape_ok(const char *rfc)
{
    const unsigned char *p = (const unsigned char *)rfc;
    size_t chars = 0;

    if (rfc == NULL)
        return 0;
    while (*p != '\0') {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '&') {
            p++;
        } else if (p[0] == 0xC3 && p[1] == 0x91) { /* UTF-8 "Ñ" */
            p += 2;
        } else {
            return 0;
        }
        if (++chars > ICSOE_RFC_MAXLEN)
            return 0;
    }
    return chars == 12 || chars == 13;
}
