/* icsoectl check [--json] [--key FILE]...: the whole wiring, one line per
 * check, exit 0 when nothing failed (warnings allowed), else 1.
 *
 * Why: a wrong base, a service password that does not match, a slapd
 * without the ppolicy overlay or the quality module, an SMTP relay that
 * refuses STARTTLS -- each of these otherwise shows up only as "Usuario o
 * contraseña incorrectos" or a mail that never arrives.  Every check here
 * only reads: the quality-module probe sends a password Modify as the
 * reader (who may not write passwords) with an assertion that is never
 * true, so even a misconfigured server changes nothing; the SMTP probe
 * stops before MAIL FROM. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ldap.h>

#include "csn.h"
#include "fileperm.h"
#include "icsoectl.h"
#include "mail.h"
#include "output.h"
#include "template.h"

#define CHECK_DETAIL_MAX 600
#define CHECK_KEYS_MAX 8
#define DEFAULT_KEY "/etc/icsoe/session.key"
#define PPOLICY_CONTROL_OID "1.3.6.1.4.1.42.2.27.8.5.1"
#define TEMPLATE_MAX (64 * 1024)

typedef enum { CK_OK, CK_WARN, CK_FAIL } ck_status;

typedef struct checker {
    ctl *c;
    ctl_json json;
    int failed;
} checker;

static void report(checker *k, ck_status st, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void report(checker *k, ck_status st, const char *name, const char *fmt, ...)
{
    static const char *const words[] = { "ok", "warn", "FAIL" };
    char detail[CHECK_DETAIL_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    for (char *p = detail; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    if (st == CK_FAIL)
        k->failed = 1;
    if (k->c->json) {
        ctl_json_begin_object(&k->json);
        ctl_json_kv_string(&k->json, "check", name);
        ctl_json_kv_string(&k->json, "status", st == CK_FAIL ? "fail" : words[st]);
        ctl_json_kv_string(&k->json, "detail", detail);
        ctl_json_end_object(&k->json);
    } else {
        printf("%-4s  %s: %s\n", words[st], name, detail);
    }
}

/* ---- files ---- */

/* The loaders' own trust rule (lib/fileperm.c), so that check says "ok"
 * exactly when Apache, pam_icsoe and icsoectl will accept the file. */
static void check_file(checker *k, const char *what, const char *path,
                       icsoe_file_kind kind)
{
    struct stat sb;
    char why[512];

    if (path == NULL)
        return;
    if (stat(path, &sb) != 0)
        report(k, CK_FAIL, what, "%s: %s", path, strerror(errno));
    else if (icsoe_file_trusted(&sb, path, kind, why, sizeof(why)) != 0)
        report(k, CK_FAIL, what, "%s", why);
    else
        report(k, CK_OK, what, "%s: mode %04o, uid %u", path,
               (unsigned)(sb.st_mode & 07777), (unsigned)sb.st_uid);
}

/* Mail template overrides: every file there must render with the
 * documented variables (a broken override would stop every mail). */
static void check_mail_templates(checker *k, const icsoe_conf *conf)
{
    static const char *const names[] = { "activation", "reset", "password_set",
                                         "linked", "locked" };
    static const icsoe_tvar vars[] = {
        { "site_name", "x" }, { "name", "x" }, { "curp", "x" }, { "link", "x" },
        { "valid_until", "x" }, { "login_url", "x" }, { "contractor_rfc", "x" },
        { "contractor_name", "x" },
    };
    int found = 0;

    if (conf->mail_template_dir == NULL)
        return;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        for (int html = 0; html < 2; html++) {
            char path[4096], err[256] = "", what[64];
            size_t len;
            char *text, *out;

            snprintf(path, sizeof(path), "%s/%s.%s", conf->mail_template_dir, names[i],
                     html ? "html" : "txt");
            if (access(path, F_OK) != 0)
                continue;
            found++;
            snprintf(what, sizeof(what), "mail template %s.%s", names[i], html ? "html" : "txt");
            text = icsoe_template_read_file(path, TEMPLATE_MAX, &len, err, sizeof(err));
            out = text == NULL ? NULL :
                icsoe_template_render(text, len, vars, sizeof(vars) / sizeof(vars[0]),
                                      html ? ICSOE_ESC_HTML : ICSOE_ESC_NONE, TEMPLATE_MAX,
                                      err, sizeof(err));
            if (out == NULL)
                report(k, CK_FAIL, what, "%s: %s", path, err);
            else if (!html && strncmp(text, "Subject: ", 9) != 0)
                report(k, CK_FAIL, what, "%s: the first line must be \"Subject: ...\"", path);
            else
                report(k, CK_OK, what, "%s", path);
            free(out);
            free(text);
        }
    }
    if (!found)
        report(k, CK_OK, "mail templates", "%s: no override (built-in templates)",
               conf->mail_template_dir);
}

/* ---- directory ---- */

static int loopback_host(const char *host)
{
    return host == NULL || host[0] == '\0' || strcmp(host, "localhost") == 0 ||
           strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0;
}

static void check_transport(checker *k, const icsoe_conf *conf, const char *uri)
{
    LDAPURLDesc *lud = NULL;

    if (strncmp(uri, "ldap://", 7) != 0 || conf->ldap_starttls != ICSOE_STARTTLS_NO)
        return;
    if (ldap_url_parse(uri, &lud) == LDAP_URL_SUCCESS && !loopback_host(lud->lud_host))
        report(k, CK_WARN, "transport", "%s: ldap:// to another host without StartTLS: "
               "passwords cross the network in clear (ldap_starttls required, or ldaps://)",
               uri);
    if (lud != NULL)
        ldap_free_urldesc(lud);
}

/* A connection to uri bound as dn, with the configuration's TLS settings;
 * NULL with why filled. */
static LDAP *bind_as(const icsoe_conf *conf, const char *uri, const char *dn,
                     const char *pw, char *why, size_t whylen)
{
    struct timeval tv = { conf->timeout > 0 ? conf->timeout : 5, 0 };
    int version = LDAP_VERSION3, zero = 0, rc;
    struct berval cred;
    LDAP *ld = NULL;

    if (ldap_initialize(&ld, uri) != LDAP_SUCCESS) {
        snprintf(why, whylen, "cannot use URI");
        return NULL;
    }
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
    if (conf->tls_cacertfile != NULL)
        ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, conf->tls_cacertfile);
    if (conf->tls_reqcert == ICSOE_TLS_REQCERT_NEVER) {
        int never = LDAP_OPT_X_TLS_NEVER;

        ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &never);
    }
    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
    rc = LDAP_SUCCESS;
    if (conf->ldap_starttls != ICSOE_STARTTLS_NO && strncmp(uri, "ldap://", 7) == 0) {
        rc = ldap_start_tls_s(ld, NULL, NULL);
        if (rc != LDAP_SUCCESS && conf->ldap_starttls == ICSOE_STARTTLS_TRY)
            rc = LDAP_SUCCESS;
    }
    if (rc == LDAP_SUCCESS) {
        cred.bv_val = (char *)pw;
        cred.bv_len = strlen(pw);
        rc = ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
    }
    if (rc != LDAP_SUCCESS) {
        snprintf(why, whylen, "%s", ldap_err2string(rc));
        ldap_unbind_ext_s(ld, NULL, NULL);
        return NULL;
    }
    return ld;
}

/* 1 when a base-scope search of dn finds the entry. */
static int entry_exists(LDAP *ld, const char *dn, char *why, size_t whylen)
{
    LDAPMessage *res = NULL;
    char *attrs[] = { "1.1", NULL };
    int rc = ldap_search_ext_s(ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL,
                               NULL, NULL, 1, &res);
    int found = rc == LDAP_SUCCESS && ldap_count_entries(ld, res) == 1;

    if (!found)
        snprintf(why, whylen, "%s", ldap_err2string(rc == LDAP_SUCCESS ? LDAP_NO_SUCH_OBJECT : rc));
    ldap_msgfree(res);
    return found;
}

/* Does any value of attr in the base entry dn contain needle? */
static int value_contains(LDAP *ld, const char *dn, const char *attr, const char *needle)
{
    LDAPMessage *res = NULL, *e;
    char *attrs[] = { (char *)attr, NULL };
    int found = 0;

    if (ldap_search_ext_s(ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL, NULL,
                          NULL, 1, &res) == LDAP_SUCCESS &&
        (e = ldap_first_entry(ld, res)) != NULL) {
        struct berval **v = ldap_get_values_len(ld, e, attr);

        for (size_t i = 0; v != NULL && v[i] != NULL && !found; i++)
            found = memmem(v[i]->bv_val, v[i]->bv_len, needle, strlen(needle)) != NULL;
        ldap_value_free_len(v);
    }
    ldap_msgfree(res);
    return found;
}

static void check_schema(checker *k, LDAP *ld)
{
    static const char *const names[] = { "NAME 'icsoeCapturist'", "NAME 'icsoeContractor'",
                                         "NAME 'icsoeLockNotice'" };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *attr = i < 2 ? "objectClasses" : "attributeTypes";

        if (!value_contains(ld, "cn=Subschema", attr, names[i])) {
            report(k, CK_FAIL, "schema", "%s missing in cn=Subschema: load schema/icsoe.ldif "
                   "(icsoe-slapd-setup)", names[i] + 5);
            return;
        }
    }
    report(k, CK_OK, "schema", "icsoeCapturist, icsoeContractor, icsoeLockNotice");
}

static void check_ppolicy(checker *k, LDAP *ld, const char *base)
{
    char policy[1024];

    if (!value_contains(ld, "", "supportedControl", PPOLICY_CONTROL_OID)) {
        report(k, CK_FAIL, "ppolicy", "slapd does not offer the password policy control: "
               "load the ppolicy module and overlay");
        return;
    }
    snprintf(policy, sizeof(policy), "cn=default,ou=policies,%s", base);
    if (!value_contains(ld, policy, "pwdCheckModule", "icsoe_pwcheck"))
        report(k, CK_FAIL, "ppolicy", "%s has no pwdCheckModule icsoe_pwcheck.so", policy);
    else
        report(k, CK_OK, "ppolicy", "overlay answers; %s uses icsoe_pwcheck.so", policy);
}

/* The quality module answers: a one-character password for a capturist,
 * sent by the reader with an assertion that never holds.  slapd's ppolicy
 * checks quality before the backend looks at the assertion or the ACL, so
 * the module's Spanish refusal comes back; if ppolicy had no module, the
 * backend would answer insufficientAccess or assertionFailed and nothing
 * would change either way. */
static void check_quality_module(checker *k, LDAP *ld, const char *base)
{
    char capturists[1024];
    char *attrs[] = { "1.1", NULL }, *one[] = { "x", NULL }, *dn = NULL, *text = NULL;
    LDAPMod mod = { LDAP_MOD_REPLACE, "userPassword", { one } }, *mods[] = { &mod, NULL };
    LDAPControl *assert_ctrl = NULL, *ctrls[2] = { NULL, NULL };
    LDAPMessage *res = NULL, *e, *mres = NULL;
    int rc, msgid, err = LDAP_OTHER;

    snprintf(capturists, sizeof(capturists), "ou=capturistas,%s", base);
    rc = ldap_search_ext_s(ld, capturists, LDAP_SCOPE_ONELEVEL, "(objectClass=icsoeCapturist)",
                           attrs, 0, NULL, NULL, NULL, 1, &res);
    e = (rc == LDAP_SUCCESS || rc == LDAP_SIZELIMIT_EXCEEDED) ? ldap_first_entry(ld, res) : NULL;
    if (e == NULL) {
        report(k, CK_WARN, "quality module", "no capturist yet to probe it with "
               "(run icsoectl check again after the first one)");
        goto out;
    }
    dn = ldap_get_dn(ld, e);
    if (dn == NULL ||
        ldap_create_assertion_control(ld, "(!(objectClass=*))", 1, &assert_ctrl) != LDAP_SUCCESS) {
        report(k, CK_FAIL, "quality module", "cannot build the probe");
        goto out;
    }
    ctrls[0] = assert_ctrl;
    rc = ldap_modify_ext(ld, dn, mods, ctrls, NULL, &msgid);
    if (rc == LDAP_SUCCESS && ldap_result(ld, msgid, LDAP_MSG_ALL, NULL, &mres) > 0)
        ldap_parse_result(ld, mres, &err, NULL, &text, NULL, NULL, 0);
    if (err == LDAP_CONSTRAINT_VIOLATION && text != NULL && strstr(text, "Debe ") != NULL)
        report(k, CK_OK, "quality module", "slapd refuses a 1-character password: \"%s\"", text);
    else
        report(k, CK_FAIL, "quality module", "slapd did not run icsoe_pwcheck.so (answer: %s%s%s%s); "
               "is it in slapd's modulepath, is pwdCheckModuleArg's file readable by slapd?",
               ldap_err2string(err), text ? ", \"" : "", text ? text : "", text ? "\"" : "");
out:
    ldap_memfree(text);
    ldap_msgfree(mres);
    if (assert_ctrl != NULL)
        ldap_control_free(assert_ctrl);
    ldap_memfree(dn);
    ldap_msgfree(res);
}

/* Binds each account at each URI; the content checks run once, as the
 * reader, on the first URI where it binds. */
/* ---- replication (mirror pairs, docs/scale-out.md) ---- */

#define CSN_PER_SERVER 8
#define LAG_WARN_USEC (5LL * 1000000)
#define LAG_FAIL_USEC (60LL * 1000000)

typedef struct server_csn {
    int read;                                  /* contextCSN could be read */
    size_t n;
    char v[CSN_PER_SERVER][ICSOE_CSN_MAX + 1];
    const char *p[CSN_PER_SERVER];
} server_csn;

static void read_context_csn(LDAP *ld, const char *base, server_csn *out)
{
    char *attrs[] = { "contextCSN", NULL };
    LDAPMessage *res = NULL, *e;
    struct berval **vals = NULL;

    memset(out, 0, sizeof(*out));
    if (ldap_search_ext_s(ld, base, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL, NULL,
                          NULL, 1, &res) != LDAP_SUCCESS)
        goto out;
    e = ldap_first_entry(ld, res);
    if (e == NULL)
        goto out;
    out->read = 1;
    vals = ldap_get_values_len(ld, e, "contextCSN");
    for (size_t i = 0; vals != NULL && vals[i] != NULL && out->n < CSN_PER_SERVER; i++) {
        if (vals[i]->bv_len > ICSOE_CSN_MAX)
            continue;
        memcpy(out->v[out->n], vals[i]->bv_val, vals[i]->bv_len);
        out->v[out->n][vals[i]->bv_len] = '\0';
        out->p[out->n] = out->v[out->n];
        out->n++;
    }
out:
    ldap_value_free_len(vals);
    ldap_msgfree(res);
}

/* With several uri: every server's contextCSN and how far it lags behind
 * the newest change any of them holds (per serverID).  A mirror pair in
 * step shows the same values; a lag that lasts means broken replication. */
static void check_replication(checker *k, const icsoe_conf *conf, const server_csn *s)
{
    const char *all[ICSOE_CONF_MAX_URIS * CSN_PER_SERVER];
    size_t nall = 0;

    if (conf->nuri < 2)
        return;
    for (size_t i = 0; i < conf->nuri; i++)
        for (size_t j = 0; j < s[i].n; j++)
            all[nall++] = s[i].p[j];
    for (size_t i = 0; i < conf->nuri; i++) {
        char values[CSN_PER_SERVER * (ICSOE_CSN_MAX + 1) + 1] = "";
        long long lag;
        int sid = -1;

        if (!s[i].read) {
            report(k, CK_WARN, "replication", "%s: contextCSN not read (server not reached)",
                   conf->uri[i]);
            continue;
        }
        if (s[i].n == 0) {
            report(k, CK_WARN, "replication", "%s: no contextCSN (no syncprov: several uri "
                   "but not a mirror pair? see docs/scale-out.md)", conf->uri[i]);
            continue;
        }
        for (size_t j = 0; j < s[i].n; j++) {
            strcat(values, j ? " " : "");
            strcat(values, s[i].p[j]);
        }
        lag = icsoe_csn_lag_usec(s[i].p, s[i].n, all, nall, &sid);
        if (lag < 0)
            report(k, CK_FAIL, "replication", "%s: contextCSN %s; has nothing from serverID %d "
                   "(replication broken?)", conf->uri[i], values, sid);
        else if (lag == 0)
            report(k, CK_OK, "replication", "%s: contextCSN %s; in step", conf->uri[i], values);
        else
            report(k, lag >= LAG_FAIL_USEC ? CK_FAIL : lag >= LAG_WARN_USEC ? CK_WARN : CK_OK,
                   "replication", "%s: contextCSN %s; %lld.%03lld s behind on serverID %d",
                   conf->uri[i], values, lag / 1000000, lag % 1000000 / 1000, sid);
    }
}

static void check_directory(checker *k, const icsoe_conf *conf)
{
    int content_done = 0;
    server_csn csn[ICSOE_CONF_MAX_URIS];

    if (conf->binddn == NULL) {
        report(k, CK_FAIL, "accounts", "binddn/bindpw_file are not set");
        return;
    }
    if (conf->writer_binddn == NULL)
        report(k, CK_WARN, "accounts", "no writer_binddn: writes use binddn %s; right for "
               "a PAM-only host, but a web server and icsoectl need the writer "
               "(cn=icsoe-writer) unless binddn has its rights", conf->binddn);
    for (size_t i = 0; i < conf->nuri; i++) {
        const char *uri = conf->uri[i];
        char why[256] = "", name[64];
        LDAP *reader, *writer;

        check_transport(k, conf, uri);
        reader = bind_as(conf, uri, conf->binddn, conf->bindpw, why, sizeof(why));
        if (reader == NULL)
            report(k, CK_FAIL, "bind reader", "%s as %s: %s", uri, conf->binddn, why);
        else
            report(k, CK_OK, "bind reader", "%s as %s", uri, conf->binddn);
        if (conf->writer_binddn != NULL) {
            writer = bind_as(conf, uri, conf->writer_binddn, conf->writer_bindpw, why,
                             sizeof(why));
            if (writer == NULL)
                report(k, CK_FAIL, "bind writer", "%s as %s: %s", uri, conf->writer_binddn, why);
            else
                report(k, CK_OK, "bind writer", "%s as %s", uri, conf->writer_binddn);
            if (writer != NULL)
                ldap_unbind_ext_s(writer, NULL, NULL);
        }
        if (reader != NULL && !content_done) {
            char decoy[1024];

            content_done = 1;
            snprintf(name, sizeof(name), "base");
            if (entry_exists(reader, conf->base, why, sizeof(why)))
                report(k, CK_OK, name, "%s found", conf->base);
            else
                report(k, CK_FAIL, name, "%s: %s (is base right?)", conf->base, why);
            snprintf(decoy, sizeof(decoy), "cn=icsoe-decoy,%s", conf->base);
            if (entry_exists(reader, decoy, why, sizeof(why)))
                report(k, CK_OK, "decoy", "%s found", decoy);
            else
                report(k, CK_FAIL, "decoy", "%s: %s (load schema/bootstrap.ldif)", decoy, why);
            check_schema(k, reader);
            check_ppolicy(k, reader, conf->base);
            check_quality_module(k, reader, conf->base);
        }
        memset(&csn[i], 0, sizeof(csn[i]));
        if (reader != NULL) {
            read_context_csn(reader, conf->base, &csn[i]);
            ldap_unbind_ext_s(reader, NULL, NULL);
        }
    }
    check_replication(k, conf, csn);
}

static void check_smtp(checker *k, const icsoe_conf *conf)
{
    char err[512] = "";

    if (conf->smtp_url == NULL) {
        report(k, CK_WARN, "smtp", "smtp_url is not set: no activation or recovery mail");
        return;
    }
    if (icsoe_mail_probe(conf, err, sizeof(err)) == ICSOE_OK)
        report(k, CK_OK, "smtp", "%s answers EHLO%s%s", conf->smtp_url,
               conf->smtp_starttls == ICSOE_STARTTLS_REQUIRED ? " and STARTTLS" : "",
               conf->smtp_user != NULL ? ", AUTH accepted" : "");
    else
        report(k, CK_FAIL, "smtp", "%s", err);
}

int ctl_check(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONGOPTS,
        { "key", required_argument, NULL, 'k' },
        { NULL, 0, NULL, 0 }
    };
    const char *keys[CHECK_KEYS_MAX];
    size_t nkeys = 0;
    char err[1024] = "";
    checker k;
    int opt;

    while ((opt = ctl_getopt(c, argc, argv, CTL_SHORT "k:", longopts)) != CTL_OPT_END) {
        if (opt == CTL_OPT_ERROR)
            return CTL_EXIT_INPUT;
        if (opt == CTL_OPT_HELP)
            return CTL_EXIT_OK;
        if (opt == 'k') {
            if (nkeys == CHECK_KEYS_MAX)
                return ctl_usage_error("at most %d --key options", CHECK_KEYS_MAX);
            keys[nkeys++] = optarg;
        }
    }
    if (optind != argc)
        return ctl_usage_error("unexpected argument '%s'", argv[optind]);
    memset(&k, 0, sizeof(k));
    k.c = c;
    if (c->json) {
        ctl_json_init(&k.json, stdout);
        ctl_json_begin_array(&k.json);
    }
    c->conf = icsoe_conf_load(ctl_config_path(c), err, sizeof(err));
    if (c->conf == NULL) {
        report(&k, CK_FAIL, "config", "%s", err);
    } else {
        report(&k, CK_OK, "config", "%s: %zu uri, base %s", c->conf->path, c->conf->nuri,
               c->conf->base);
        check_file(&k, "config file", c->conf->path, ICSOE_FILE_CONFIG);
        check_file(&k, "secret bindpw_file", c->conf->bindpw_file, ICSOE_FILE_SECRET);
        check_file(&k, "secret writer_bindpw_file", c->conf->writer_bindpw_file, ICSOE_FILE_SECRET);
        check_file(&k, "secret smtp_pass_file", c->conf->smtp_pass_file, ICSOE_FILE_SECRET);
        if (nkeys == 0 && access(DEFAULT_KEY, F_OK) == 0)
            keys[nkeys++] = DEFAULT_KEY;
        for (size_t i = 0; i < nkeys; i++)
            check_file(&k, "session key", keys[i], ICSOE_FILE_KEY);
        check_mail_templates(&k, c->conf);
        check_directory(&k, c->conf);
        check_smtp(&k, c->conf);
    }
    if (c->json) {
        ctl_json_end_array(&k.json);
        ctl_json_finish(&k.json);
    }
    return k.failed ? 1 : CTL_EXIT_OK;
}
