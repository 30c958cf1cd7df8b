/* One-time tokens for activation and reset links.  Only the SHA-256 hex of
 * a token is stored (icsoeTokenHash, with icsoeTokenExpiry and
 * icsoeTokenPurpose); storing a new one replaces, and so voids, the old.
 *
 * Consumption is a single Modify that deletes the exact hash value: slapd
 * applies a Modify atomically, so of any number of concurrent consumers of
 * one token exactly one succeeds and the others get noSuchAttribute. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "curp.h"
#include "dir_internal.h"
#include "secure.h"

static const char *purpose_name(int p)
{
    return p == ICSOE_TOKEN_ACTIVATION ? "activation" : p == ICSOE_TOKEN_RESET ? "reset" : NULL;
}

static int hash_hex_ok(const char *h)
{
    size_t i;

    if (h == NULL)
        return 0;
    for (i = 0; i < ICSOE_TOKEN_HASH_HEX; i++) {
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
            return 0;
    }
    return h[ICSOE_TOKEN_HASH_HEX] == '\0';
}

icsoe_status icsoe_dir_token_store(icsoe_dir *d, const char *curp,
                                   icsoe_token_purpose purpose, const char *hash_hex,
                                   time_t expiry)
{
    char exp[16];
    char *hv[] = { (char *)hash_hex, NULL }, *ev[] = { exp, NULL };
    char *pv[] = { (char *)purpose_name(purpose), NULL };
    LDAPMod m_hash = { LDAP_MOD_REPLACE, "icsoeTokenHash", { hv } };
    LDAPMod m_exp = { LDAP_MOD_REPLACE, "icsoeTokenExpiry", { ev } };
    LDAPMod m_purpose = { LDAP_MOD_REPLACE, "icsoeTokenPurpose", { pv } };
    LDAPMod *mods[] = { &m_hash, &m_exp, &m_purpose, NULL };
    dir_modify m;
    dir_call call;
    icsoe_status st;
    int rc;

    if (!icsoe_curp_shape_ok(curp) || !hash_hex_ok(hash_hex) || pv[0] == NULL || expiry <= 0)
        return ICSOE_ERR_INVALID_INPUT;
    dir_format_gentime(expiry, exp);
    memset(&m, 0, sizeof(m));
    m.dn = dir_capturist_dn(d, curp);
    m.mods = mods;
    if (m.dn == NULL)
        return ICSOE_ERR_INTERNAL;
    dir_call_begin(d, &call);
    st = dir_wr_run(d, dir_modify_op, &m, &rc);
    if (st == ICSOE_OK)
        st = rc == LDAP_NO_SUCH_OBJECT ? ICSOE_ERR_NOT_FOUND : dir_map_rc(d, "token store", rc);
    if (st == ICSOE_OK)
        icsoe_log(d->lg, ICSOE_LOG_INFO, "icsoe_dir: %s token stored for %s",
                  pv[0], curp);
    dir_call_end(d, &call, st);
    free((char *)m.dn);
    return st;
}

/* Finds the capturist holding the token: NOT_FOUND for malformed, unknown
 * or wrong-purpose tokens, EXPIRED past the expiry. */
static icsoe_status find_token(icsoe_dir *d, const char *token, int purpose,
                               icsoe_capturist *c, char **dn,
                               char hash[ICSOE_TOKEN_HASH_HEX + 1])
{
    char filter[ICSOE_TOKEN_HASH_HEX + 64];
    dir_search s;
    icsoe_status st;
    LDAPMessage *e;
    int rc;

    memset(c, 0, sizeof(*c));
    *dn = NULL;
    if (purpose != 0 && purpose_name(purpose) == NULL)
        return ICSOE_ERR_INVALID_INPUT;
    if (token == NULL || icsoe_token_hash(token, hash) != 0 || !hash_hex_ok(hash))
        return ICSOE_ERR_NOT_FOUND;
    /* hash is lowercase hex: nothing to escape in the filter. */
    snprintf(filter, sizeof(filter), "(&(objectClass=icsoeCapturist)(icsoeTokenHash=%s))",
             hash);
    memset(&s, 0, sizeof(s));
    s.base = d->capturists_dn;
    s.scope = LDAP_SCOPE_ONELEVEL;
    s.filter = filter;
    s.attrs = dir_capturist_attrs;
    s.sizelimit = 2;
    st = dir_wr_run(d, dir_search_op, &s, &rc);
    if (st == ICSOE_OK)
        st = dir_map_rc(d, "token search", rc);
    if (st != ICSOE_OK)
        goto out;
    if (ldap_count_entries(dir_wr_ld(d), s.res) != 1) {
        st = ldap_count_entries(dir_wr_ld(d), s.res) == 0 ? ICSOE_ERR_NOT_FOUND : ICSOE_ERR_INTERNAL;
        if (st == ICSOE_ERR_INTERNAL)
            icsoe_log(d->lg, ICSOE_LOG_ERR, "icsoe_dir: one token hash on several entries");
        goto out;
    }
    e = ldap_first_entry(dir_wr_ld(d), s.res);
    st = dir_read_capturist(d, dir_wr_ld(d), e, c);
    if (st != ICSOE_OK)
        goto out;
    if (purpose != 0 && c->token_purpose != purpose) {
        st = ICSOE_ERR_NOT_FOUND;
    } else if (c->token_expiry == 0 || time(NULL) >= c->token_expiry) {
        st = ICSOE_ERR_EXPIRED;
    } else {
        *dn = ldap_get_dn(dir_wr_ld(d), e);
        st = *dn ? ICSOE_OK : ICSOE_ERR_INTERNAL;
    }
out:
    if (st != ICSOE_OK)
        icsoe_capturist_clear(c);
    if (s.res != NULL)
        ldap_msgfree(s.res);
    return st;
}

icsoe_status icsoe_dir_token_lookup(icsoe_dir *d, const char *token, int purpose,
                                    icsoe_capturist *out)
{
    char hash[ICSOE_TOKEN_HASH_HEX + 1];
    icsoe_capturist c;
    dir_call call;
    icsoe_status st;
    char *dn = NULL;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    dir_call_begin(d, &call);
    st = find_token(d, token, purpose, &c, &dn, hash);
    dir_call_end(d, &call, st);
    ldap_memfree(dn);
    if (st == ICSOE_OK && out != NULL)
        *out = c;
    else
        icsoe_capturist_clear(&c);
    return st;
}

/* The control carries an error (PP_noError is 65535; -1 = no control). */
static int pp_is_error(int e)
{
    return e >= 0 && e != PP_noError;
}

/* The one Modify that consumes the token and sets the password. */
static icsoe_status consume(icsoe_dir *d, const char *dn, const char *hash,
                            const icsoe_capturist *c, const char *new_password)
{
    char *hv[] = { (char *)hash, NULL };
    char *pw[] = { (char *)new_password, NULL };
    char *oldst[] = { (char *)icsoe_capturist_status_name(c->status), NULL };
    char *active[] = { "active", NULL };
    char *one[] = { "1", NULL };
    /* Deleting the exact hash is the single-use guarantee; deleting the
     * status value read at lookup makes a concurrent admin lock win. */
    LDAPMod m_hash = { LDAP_MOD_DELETE, "icsoeTokenHash", { hv } };
    LDAPMod m_oldst = { LDAP_MOD_DELETE, "icsoeStatus", { oldst } };
    LDAPMod m_status = { LDAP_MOD_ADD, "icsoeStatus", { active } };
    LDAPMod m_pw = { LDAP_MOD_REPLACE, "userPassword", { pw } };
    LDAPMod m_exp = { LDAP_MOD_REPLACE, "icsoeTokenExpiry", { NULL } };
    LDAPMod m_purpose = { LDAP_MOD_REPLACE, "icsoeTokenPurpose", { NULL } };
    LDAPMod m_epoch = { LDAP_MOD_INCREMENT, "icsoeEpoch", { one } };
    LDAPMod *mods[] = { &m_hash, &m_oldst, &m_status, &m_pw, &m_exp, &m_purpose,
                        &m_epoch, NULL };
    dir_modify m;
    icsoe_status st;
    int rc;

    memset(&m, 0, sizeof(m));
    m.dn = dn;
    m.mods = mods;
    m.want_ppolicy = 1;
    st = dir_wr_run(d, dir_modify_op, &m, &rc);
    if (st != ICSOE_OK)
        return st;
    if (rc == LDAP_SUCCESS && !pp_is_error(m.pp_err))
        return ICSOE_OK;
    if (rc == LDAP_NO_SUCH_ATTRIBUTE || rc == LDAP_NO_SUCH_OBJECT)
        return ICSOE_ERR_NOT_FOUND;
    if (rc == LDAP_CONSTRAINT_VIOLATION || rc == LDAP_UNWILLING_TO_PERFORM ||
        pp_is_error(m.pp_err)) {
        dir_reason(d, "password refused by the directory: %s (ppolicy %d)",
                   ldap_err2string(rc), m.pp_err);
        return ICSOE_ERR_POLICY;
    }
    return dir_map_rc(d, "token consume", rc);
}

icsoe_status icsoe_dir_token_consume(icsoe_dir *d, const char *token, int purpose,
                                     const char *new_password, icsoe_capturist *out)
{
    char hash[ICSOE_TOKEN_HASH_HEX + 1];
    icsoe_capturist c;
    dir_call call;
    icsoe_status st;
    char *dn = NULL;
    size_t n;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    n = new_password ? strnlen(new_password, DIR_PASSWORD_MAX + 1) : 0;
    if (n == 0 || n > DIR_PASSWORD_MAX)
        return ICSOE_ERR_INVALID_INPUT;
    dir_call_begin(d, &call);
    st = find_token(d, token, purpose, &c, &dn, hash);
    if (st == ICSOE_OK && c.status == ICSOE_CAPTURIST_LOCKED) {
        /* An administrator locked the account: a link must not unlock it. */
        st = ICSOE_ERR_LOCKED;
    }
    if (st == ICSOE_OK) {
        unsigned long replays = d->svc_replays;

        st = consume(d, dn, hash, &c, new_password);
        /* A Modify re-sent after a lost answer may find its own first
         * attempt applied: the token gone (NOT_FOUND) or the password "in
         * history" (POLICY).  Only then, a bind with the new password tells
         * which; a concurrent consumer chose another password and fails it. */
        if ((st == ICSOE_ERR_NOT_FOUND || st == ICSOE_ERR_POLICY) &&
            d->svc_replays != replays && dir_user_bind_ok(d, dn, new_password)) {
            icsoe_log(d->lg, ICSOE_LOG_INFO, "icsoe_dir: token consume for %s was "
                      "applied before the connection was lost", c.curp);
            st = ICSOE_OK;
        }
    }
    if (st == ICSOE_OK)
        icsoe_log(d->lg, ICSOE_LOG_NOTICE, "icsoe_dir: capturist %s set a password (%s link)",
                  c.curp, purpose_name(c.token_purpose) ? purpose_name(c.token_purpose) : "?");
    dir_call_end(d, &call, st);
    ldap_memfree(dn);
    if (st == ICSOE_OK && out != NULL)
        *out = c;
    else
        icsoe_capturist_clear(&c);
    return st;
}
