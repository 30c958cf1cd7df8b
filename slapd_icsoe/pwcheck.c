/* icsoe_pwcheck.so: slapd's password-quality module (slapo-ppolicy(5),
 * pwdCheckModule) on libicsoe's password policy.
 *
 * Threat: the ACL lets a capturist (self) and the writer set userPassword
 * with any LDAP client; without this module `ldappasswd` stores a
 * 1-character password that the web pages and PAM would refuse.
 * Rule: slapd runs the very icsoe_pwpolicy_check of the front ends, with
 * the site's password_* keys (read from the icsoe.conf named by
 * pwdCheckModuleArg), and refuses with the same Spanish sentences.
 * Pitfalls (OpenLDAP 2.5): slapd dlopen()s the module for each check and
 * dlclose()s it afterwards, so nothing may be cached across calls; it
 * calls check_password under its own mutex, but we keep no mutable global
 * state anyway; it free()s the message we return; the Entry is slapd's
 * internal structure (slap.h is not installed): the few leading fields we
 * read are mirrored below.  Anything unexpected (no policy file, a bad
 * one) refuses the password: fail closed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <lber.h>

#include "conf.h"
#include "curp.h"
#include "pwpolicy.h"

#define PWCHECK_DEFAULT_CONF "/etc/icsoe/icsoe.conf"
#define PWCHECK_OK 0               /* LDAP_SUCCESS */
#define PWCHECK_REFUSED 19         /* LDAP_CONSTRAINT_VIOLATION */
#define PWCHECK_MSG_MAX 1024
#define PWCHECK_NAME_MAX 512
#define PWCHECK_MAX_ATTRS 4096     /* a loop guard, far above any entry */

/* The leading members of slapd 2.5's AttributeDescription, Attribute and
 * Entry (servers/slapd/slap.h), unchanged since 2.4.  Only read. */
typedef struct mirror_ad {
    void *ad_next;
    void *ad_type;
    struct berval ad_cname;
} mirror_ad;

typedef struct mirror_attr {
    mirror_ad *a_desc;
    struct berval *a_vals;
    struct berval *a_nvals;
    unsigned a_numvals;
    unsigned a_flags;
    struct mirror_attr *a_next;
} mirror_attr;

typedef struct mirror_entry {
    unsigned long e_id;
    struct berval e_name;
    struct berval e_nname;
    mirror_attr *e_attrs;
} mirror_entry;

int check_password(char *passwd, char **errmsg, void *entry, struct berval *arg)
    __attribute__((visibility("default")));

/* First value of attribute name (e.g. "uid") copied into out, or "". */
static void entry_value(const mirror_entry *e, const char *name, char *out, size_t outlen)
{
    const mirror_attr *a;
    size_t n = 0;

    out[0] = '\0';
    if (e == NULL)
        return;
    for (a = e->e_attrs; a != NULL && n < PWCHECK_MAX_ATTRS; a = a->a_next, n++) {
        const struct berval *cname;

        if (a->a_desc == NULL || a->a_vals == NULL || a->a_vals[0].bv_val == NULL)
            continue;
        cname = &a->a_desc->ad_cname;
        if (cname->bv_len != strlen(name) || strncasecmp(cname->bv_val, name, cname->bv_len) != 0)
            continue;
        if (a->a_vals[0].bv_len < outlen && memchr(a->a_vals[0].bv_val, '\0',
                                                   a->a_vals[0].bv_len) == NULL) {
            memcpy(out, a->a_vals[0].bv_val, a->a_vals[0].bv_len);
            out[a->a_vals[0].bv_len] = '\0';
        }
        return;
    }
}

static void set_message(char **errmsg, const char *msg)
{
    if (errmsg != NULL)
        *errmsg = strdup(msg);   /* slapd free()s it; NULL is allowed */
}

/* Every failed rule's Spanish sentence, as the pages list them. */
static void describe(const icsoe_pwpolicy *p, unsigned failed, char *out, size_t outlen)
{
    char one[256];
    unsigned bit;

    out[0] = '\0';
    for (bit = 1; bit != 0 && bit <= failed; bit <<= 1) {
        if (!(failed & bit))
            continue;
        icsoe_pwpolicy_rule_message(p, bit, one, sizeof(one));
        if (out[0] != '\0')
            strncat(out, " ", outlen - strlen(out) - 1);
        strncat(out, one, outlen - strlen(out) - 1);
    }
}

/* The policy file: pwdCheckModuleArg when it is a sane absolute path. */
static int conf_path(const struct berval *arg, char *out, size_t outlen)
{
    if (arg == NULL || arg->bv_val == NULL || arg->bv_len == 0) {
        snprintf(out, outlen, "%s", PWCHECK_DEFAULT_CONF);
        return 0;
    }
    if (arg->bv_len >= outlen || arg->bv_val[0] != '/' ||
        memchr(arg->bv_val, '\0', arg->bv_len) != NULL)
        return -1;
    memcpy(out, arg->bv_val, arg->bv_len);
    out[arg->bv_len] = '\0';
    return 0;
}

int check_password(char *passwd, char **errmsg, void *entry, struct berval *arg)
{
    char path[1024], err[512], msg[PWCHECK_MSG_MAX];
    char uid[PWCHECK_NAME_MAX], cn[PWCHECK_NAME_MAX];
    icsoe_conf *conf;
    unsigned failed;

    if (passwd == NULL)
        return PWCHECK_REFUSED;
    if (conf_path(arg, path, sizeof(path)) != 0) {
        fprintf(stderr, "icsoe_pwcheck: pwdCheckModuleArg is not an absolute path\n");
        set_message(errmsg, "No se pudo verificar la contraseña: configuración del servidor.");
        return PWCHECK_REFUSED;
    }
    conf = icsoe_conf_load_policy(path, err, sizeof(err));
    if (conf == NULL) {
        fprintf(stderr, "icsoe_pwcheck: %s\n", err);
        set_message(errmsg, "No se pudo verificar la contraseña: configuración del servidor.");
        return PWCHECK_REFUSED;
    }
    entry_value(entry, "uid", uid, sizeof(uid));
    entry_value(entry, "cn", cn, sizeof(cn));
    failed = icsoe_pwpolicy_check(&conf->pwpolicy, passwd,
                                  strlen(uid) == ICSOE_CURP_LEN ? uid : NULL,
                                  cn[0] ? cn : NULL);
    if (failed != 0)
        describe(&conf->pwpolicy, failed, msg, sizeof(msg));
    icsoe_conf_free(conf);
    if (failed == 0)
        return PWCHECK_OK;
    set_message(errmsg, msg);
    return PWCHECK_REFUSED;
}
