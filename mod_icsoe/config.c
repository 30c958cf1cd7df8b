/* The directives of mod_icsoe, declared once.
 *
 * Every plain field is listed a single time in ICSOE_STR_FIELDS or
 * ICSOE_INT_FIELDS; the directive table, the "unset" initialisation, the
 * vhost merge and the defaults are all generated from those lists, so a
 * field cannot be forgotten in the merge.  Two directives load files and
 * are written out by hand: ICSOEConfigFile (the shared icsoe.conf) and
 * ICSOESessionKeyFile (repeatable: first seals, all open).  Both load and
 * validate while the configuration is read, so "apache2 -t" refuses a bad
 * file and names the line of httpd.conf that points to it. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "apr_strings.h"
#include "apr_file_info.h"

#include "mod_icsoe.h"

/* X(field, directive, default, check, help) for string fields. */
#define ICSOE_STR_FIELDS(X)                                                   \
    X(cookie_name, "ICSOESessionCookie", ICSOE_DEFAULT_COOKIE, check_cookie,   \
      "name of the session cookie (\"__Host-\" is prepended when Secure)")     \
    X(login_url, "ICSOELoginURL", ICSOE_DEFAULT_LOGIN_URL, check_url,          \
      "URL of the login page (local path or absolute URL)")                    \
    X(select_url, "ICSOESelectURL", ICSOE_DEFAULT_SELECT_URL, check_url,       \
      "URL of the contractor selection page")                                  \
    X(home_url, "ICSOEHomeURL", ICSOE_DEFAULT_HOME_URL, check_url,             \
      "where \"Continuar\" lands after choosing a contractor")                 \
    X(start_url, "ICSOEStartURL", ICSOE_DEFAULT_START_URL, check_url,          \
      "the capturist's start page (icsoe-home), where a login lands")          \
    X(recover_url, "ICSOERecoverURL", ICSOE_DEFAULT_RECOVER_URL, check_url,    \
      "URL of the password recovery page")                                     \
    X(logout_url, "ICSOELogoutURL", ICSOE_DEFAULT_LOGOUT_URL, check_url,       \
      "URL of the logout handler")                                             \
    X(template_dir, "ICSOETemplateDir", NULL, check_dir,                       \
      "directory with page templates overriding the built-in ones")            \
    X(header_prefix, "ICSOEHeaderPrefix", ICSOE_DEFAULT_HEADER_PREFIX,         \
      check_prefix, "prefix of the identity request headers")                  \
    X(contractor_auth, "ICSOEContractorAuth", ICSOE_DEFAULT_CONTRACTOR_AUTH,   \
      check_contractor_auth, "how icsoe-capturists knows the contractor: "     \
      "efirma (TLS client certificate verified by mod_ssl) or remote-user")

/* X(field, directive, default, min, max, help) for integer fields. */
#define ICSOE_INT_FIELDS(X)                                                   \
    X(idle_timeout, "ICSOESessionIdleTimeout", ICSOE_DEFAULT_IDLE_TIMEOUT, 1,  \
      7 * 86400, "seconds of inactivity after which a session ends")           \
    X(max_age, "ICSOESessionMaxAge", ICSOE_DEFAULT_MAX_AGE, 1, 30 * 86400,     \
      "seconds after login after which a session ends")                        \
    X(revalidate, "ICSOERevalidateInterval", ICSOE_DEFAULT_REVALIDATE, 0,      \
      86400, "seconds between re-checks of the account against LDAP")          \
    X(bulk_max_rows, "ICSOEBulkMaxRows", ICSOE_DEFAULT_BULK_MAX_ROWS, 1,       \
      100000, "data rows accepted in one Carga masiva upload")

/* X(field, directive, default, help) for On|Off fields. */
#define ICSOE_FLAG_FIELDS(X)                                                  \
    X(cookie_secure, "ICSOECookieSecure", 1,                                   \
      "On (default): Secure cookie with the __Host- prefix; Off only for "     \
      "local demos over plain HTTP")                                          \
    X(strip_cookies, "ICSOEStripCookies", 1,                                   \
      "On (default): the session cookie is removed from the request before "  \
      "any other module, application or backend sees it")

typedef const char *(*icsoe_str_check)(cmd_parms *cmd, const char *value);

typedef struct str_field {
    size_t offset;
    icsoe_str_check check;
} str_field;

typedef struct int_field {
    size_t offset;
    long min;
    long max;
} int_field;

/* ---- validators: they reject at start-up what would misbehave later ---- */

static int is_token_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static const char *check_cookie(cmd_parms *cmd, const char *v)
{
    size_t len = strlen(v);
    size_t i;

    if (len == 0 || len > 64)
        return apr_psprintf(cmd->pool, "%s: the name must have 1 to 64 "
                            "characters", cmd->cmd->name);
    for (i = 0; i < len; i++) {
        if (!is_token_char((unsigned char)v[i]))
            return apr_psprintf(cmd->pool, "%s: '%s' may only contain "
                                "letters, digits, '-' and '_'",
                                cmd->cmd->name, v);
    }
    /* the prefix is ours to add: a configured one would be doubled */
    if (strncasecmp(v, "__Host-", 7) == 0 || strncasecmp(v, "__Secure-", 9) == 0)
        return apr_psprintf(cmd->pool, "%s: give the name without the "
                            "__Host-/__Secure- prefix (added when "
                            "ICSOECookieSecure is On)", cmd->cmd->name);
    return NULL;
}

static const char *check_url(cmd_parms *cmd, const char *v)
{
    const unsigned char *p;
    int local = v[0] == '/' && v[1] != '/' && v[1] != '\\';
    int absolute = strncmp(v, "https://", 8) == 0 || strncmp(v, "http://", 7) == 0;

    if (!local && !absolute)
        return apr_psprintf(cmd->pool, "%s: '%s' must be a local path "
                            "starting with '/' or an http(s):// URL",
                            cmd->cmd->name, v);
    for (p = (const unsigned char *)v; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '<' || *p == '>' ||
            *p == '\\')
            return apr_psprintf(cmd->pool, "%s: '%s' contains a character "
                                "that is not allowed in a URL",
                                cmd->cmd->name, v);
    }
    if (strlen(v) > 512)
        return apr_psprintf(cmd->pool, "%s: URL too long", cmd->cmd->name);
    return NULL;
}

static const char *check_dir(cmd_parms *cmd, const char *v)
{
    apr_finfo_t fi;

    if (v[0] != '/')
        return apr_psprintf(cmd->pool, "%s: '%s' must be an absolute path",
                            cmd->cmd->name, v);
    if (apr_stat(&fi, v, APR_FINFO_TYPE, cmd->temp_pool) != APR_SUCCESS ||
        fi.filetype != APR_DIR)
        return apr_psprintf(cmd->pool, "%s: '%s' is not a directory",
                            cmd->cmd->name, v);
    return NULL;
}

static const char *check_prefix(cmd_parms *cmd, const char *v)
{
    size_t len = strlen(v);
    size_t i;

    if (len < 2 || len > 64)
        return apr_psprintf(cmd->pool, "%s: the prefix must have 2 to 64 "
                            "characters", cmd->cmd->name);
    for (i = 0; i < len; i++) {
        if (!is_token_char((unsigned char)v[i]))
            return apr_psprintf(cmd->pool, "%s: '%s' may only contain "
                                "letters, digits, '-' and '_'",
                                cmd->cmd->name, v);
    }
    return NULL;
}

static const char *check_contractor_auth(cmd_parms *cmd, const char *v)
{
    if (strcmp(v, "efirma") == 0 || strcmp(v, "remote-user") == 0)
        return NULL;
    return apr_psprintf(cmd->pool, "%s: '%s' must be efirma or remote-user",
                        cmd->cmd->name, v);
}

/* ---- generic setters driven by the field descriptors ---- */

static const char *set_str(cmd_parms *cmd, void *dummy, const char *v)
{
    const str_field *f = cmd->info;
    icsoe_srv_conf *sc = ap_get_module_config(cmd->server->module_config,
                                              &icsoe_module);
    const char *err = f->check(cmd, v);

    (void)dummy;
    if (err)
        return err;
    *(const char **)((char *)sc + f->offset) = apr_pstrdup(cmd->pool, v);
    return NULL;
}

static const char *set_int(cmd_parms *cmd, void *dummy, const char *v)
{
    const int_field *f = cmd->info;
    icsoe_srv_conf *sc = ap_get_module_config(cmd->server->module_config,
                                              &icsoe_module);
    char *end = NULL;
    apr_int64_t n;

    (void)dummy;
    errno = 0;
    n = apr_strtoi64(v, &end, 10);
    if (errno || end == v || *end != '\0' || n < f->min || n > f->max)
        return apr_psprintf(cmd->pool, "%s: '%s' is not a number "
                            "between %ld and %ld", cmd->cmd->name, v,
                            f->min, f->max);
    *(int *)((char *)sc + f->offset) = (int)n;
    return NULL;
}

static const char *set_flag(cmd_parms *cmd, void *dummy, int on)
{
    size_t offset = (size_t)cmd->info;
    icsoe_srv_conf *sc = ap_get_module_config(cmd->server->module_config,
                                              &icsoe_module);

    (void)dummy;
    *(int *)((char *)sc + offset) = on ? 1 : 0;
    return NULL;
}

/* ---- the two file-loading directives ---- */

static apr_status_t conf_cleanup(void *data)
{
    icsoe_conf_free(data);
    return APR_SUCCESS;
}

static apr_status_t keyring_cleanup(void *data)
{
    icsoe_keyring_free(data);
    return APR_SUCCESS;
}

/* Load icsoe.conf into a pool-owned object (freed with the config pool). */
const char *icsoe_load_conf_file(apr_pool_t *p, const char *path,
                                 const icsoe_conf **out)
{
    char err[512] = "";
    icsoe_conf *c = icsoe_conf_load(path, err, sizeof(err));

    if (!c)
        return apr_psprintf(p, "ICSOEConfigFile: %s", err[0] ? err : path);
    apr_pool_cleanup_register(p, c, conf_cleanup, apr_pool_cleanup_null);
    *out = c;
    return NULL;
}

static const char *set_conf_file(cmd_parms *cmd, void *dummy, const char *v)
{
    icsoe_srv_conf *sc = ap_get_module_config(cmd->server->module_config,
                                              &icsoe_module);
    const char *path = ap_server_root_relative(cmd->pool, v);

    (void)dummy;
    if (!path)
        return apr_psprintf(cmd->pool, "ICSOEConfigFile: bad path '%s'", v);
    if (sc->conf_path)
        return "ICSOEConfigFile: given twice for the same server";
    sc->conf_path = path;
    return icsoe_load_conf_file(cmd->pool, path, &sc->conf);
}

/* Add one key file to a server's keyring (created on first use). */
const char *icsoe_add_key_file(apr_pool_t *p, icsoe_srv_conf *sc,
                               const char *path)
{
    char err[512] = "";

    if (!sc->key_files) {
        icsoe_keyring *kr = icsoe_keyring_new();

        if (!kr)
            return "ICSOESessionKeyFile: out of memory";
        apr_pool_cleanup_register(p, kr, keyring_cleanup,
                                  apr_pool_cleanup_null);
        sc->keyring = kr;
        sc->key_files = apr_array_make(p, 2, sizeof(const char *));
    }
    /* the keyring is ours until post_config hands it out read-only */
    if (icsoe_keyring_add_file((icsoe_keyring *)sc->keyring, path, err,
                               sizeof(err)) != 0)
        return apr_psprintf(p, "ICSOESessionKeyFile: %s", err[0] ? err : path);
    APR_ARRAY_PUSH(sc->key_files, const char *) = path;
    return NULL;
}

static const char *set_key_file(cmd_parms *cmd, void *dummy, const char *v)
{
    icsoe_srv_conf *sc = ap_get_module_config(cmd->server->module_config,
                                              &icsoe_module);
    const char *path = ap_server_root_relative(cmd->pool, v);

    (void)dummy;
    if (!path)
        return apr_psprintf(cmd->pool, "ICSOESessionKeyFile: bad path '%s'", v);
    return icsoe_add_key_file(cmd->pool, sc, path);
}

/* ---- generated tables ---- */

#define STR_DESC(field, dir, def, check, help)                                \
    static const str_field desc_##field = {offsetof(icsoe_srv_conf, field),   \
                                           check};
ICSOE_STR_FIELDS(STR_DESC)
#undef STR_DESC

#define INT_DESC(field, dir, def, lo, hi, help)                               \
    static const int_field desc_##field = {offsetof(icsoe_srv_conf, field),   \
                                           lo, hi};
ICSOE_INT_FIELDS(INT_DESC)
#undef INT_DESC

#define STR_CMD(field, dir, def, check, help)                                 \
    AP_INIT_TAKE1(dir, set_str, (void *)&desc_##field, RSRC_CONF, help),
#define INT_CMD(field, dir, def, lo, hi, help)                                \
    AP_INIT_TAKE1(dir, set_int, (void *)&desc_##field, RSRC_CONF, help),
#define FLAG_CMD(field, dir, def, help)                                       \
    AP_INIT_FLAG(dir, set_flag,                                               \
                 (void *)offsetof(icsoe_srv_conf, field), RSRC_CONF, help),

const command_rec icsoe_directives[] = {
    AP_INIT_TAKE1("ICSOEConfigFile", set_conf_file, NULL, RSRC_CONF,
                  "path of the shared icsoe.conf (default "
                  ICSOE_CONF_DEFAULT_PATH ")"),
    AP_INIT_TAKE1("ICSOESessionKeyFile", set_key_file, NULL, RSRC_CONF,
                  "session key file (64 hex digits, mode 0600; default "
                  ICSOE_SESSION_KEY_DEFAULT_PATH "); repeat for rotation: "
                  "the first seals, all open"),
    ICSOE_STR_FIELDS(STR_CMD)
    ICSOE_INT_FIELDS(INT_CMD)
    ICSOE_FLAG_FIELDS(FLAG_CMD)
    {NULL}
};
#undef STR_CMD
#undef INT_CMD
#undef FLAG_CMD

void *icsoe_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    icsoe_srv_conf *sc = apr_pcalloc(p, sizeof(*sc));

    (void)s;
#define INT_UNSET(field, dir, def, lo, hi, help) sc->field = -1;
#define FLAG_UNSET(field, dir, def, help) sc->field = -1;
    ICSOE_INT_FIELDS(INT_UNSET)
    ICSOE_FLAG_FIELDS(FLAG_UNSET)
#undef INT_UNSET
#undef FLAG_UNSET
    return sc;
}

void *icsoe_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    const icsoe_srv_conf *base = basev;
    const icsoe_srv_conf *add = addv;
    icsoe_srv_conf *m = apr_pcalloc(p, sizeof(*m));

#define STR_MERGE(field, dir, def, check, help)                               \
    m->field = add->field ? add->field : base->field;
#define INT_MERGE(field, dir, def, lo, hi, help)                              \
    m->field = add->field != -1 ? add->field : base->field;
#define FLAG_MERGE(field, dir, def, help)                                     \
    m->field = add->field != -1 ? add->field : base->field;
    ICSOE_STR_FIELDS(STR_MERGE)
    ICSOE_INT_FIELDS(INT_MERGE)
    ICSOE_FLAG_FIELDS(FLAG_MERGE)
#undef STR_MERGE
#undef INT_MERGE
#undef FLAG_MERGE

    /* files travel with the objects loaded from them */
    if (add->conf_path) {
        m->conf_path = add->conf_path;
        m->conf = add->conf;
    } else {
        m->conf_path = base->conf_path;
        m->conf = base->conf;
    }
    if (add->key_files) {
        m->key_files = add->key_files;
        m->keyring = add->keyring;
    } else {
        m->key_files = base->key_files;
        m->keyring = base->keyring;
    }
    return m;
}

void icsoe_srv_conf_finish(icsoe_srv_conf *sc)
{
#define STR_DEF(field, dir, def, check, help)                                 \
    if (!sc->field)                                                           \
        sc->field = def;
#define INT_DEF(field, dir, def, lo, hi, help)                                \
    if (sc->field == -1)                                                      \
        sc->field = def;
#define FLAG_DEF(field, dir, def, help)                                       \
    if (sc->field == -1)                                                      \
        sc->field = def;
    ICSOE_STR_FIELDS(STR_DEF)
    ICSOE_INT_FIELDS(INT_DEF)
    ICSOE_FLAG_FIELDS(FLAG_DEF)
#undef STR_DEF
#undef INT_DEF
#undef FLAG_DEF
}
