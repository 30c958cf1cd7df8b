/* The shared configuration file /etc/icsoe/icsoe.conf.
 *
 * Every key is declared once in conf_keys[] (name, type, where it goes,
 * default, range).  Parsing is strict: an unknown key, a repeated
 * single-valued key, a bad value, a line longer than ICSOE_CONF_LINE_MAX or a
 * NUL byte rejects the whole file with "FILE:LINE: message".
 *
 * Required keys are only "uri" and "base": pam_icsoe never sends mail, so
 * smtp_url, mail_from and activation_url are checked by the callers that
 * need them (icsoectl, mod_icsoe) with their own clear message.  binddn and
 * bindpw_file go together, and so do writer_binddn and writer_bindpw_file
 * (the writer account; without them writes use binddn). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ldap.h>

#include "conf.h"
#include "fileperm.h"
#include "secure.h"
#include "tz.h"

#define ICSOE_CONF_LINE_MAX 4096           /* bytes, without the newline */
#define ICSOE_CONF_FILE_MAX (1024 * 1024)  /* a config file is not a database */
#define ICSOE_SECRET_MAX 4096

typedef enum conf_type {
    CT_STR,       /* char * */
    CT_DN,        /* char *, an LDAPv3 DN (ldap_str2dn), never empty */
    CT_URL,       /* char *, scheme checked against key->schemes */
    CT_INT,       /* int within [min, max] */
    CT_UINT,      /* unsigned within [min, max] */
    CT_URIS,      /* the uri array (repeatable, several per line) */
    CT_SECRET,    /* char * path; the content goes to key->aux */
    CT_TLS,       /* icsoe_tls_reqcert */
    CT_STARTTLS,  /* icsoe_starttls */
    CT_CLASSES    /* password_classes bits */
} conf_type;

typedef struct conf_key {
    const char *name;
    conf_type type;
    size_t off;          /* field in icsoe_conf */
    size_t aux;          /* CT_SECRET: field receiving the secret */
    int required;
    long def;            /* default of numeric and enum keys */
    const char *defstr;  /* default of string keys, or NULL */
    long min, max;
    const char *const *schemes; /* CT_URL: accepted prefixes */
} conf_key;

static const char *const ldap_schemes[] = { "ldap://", "ldaps://", "ldapi://", NULL };
static const char *const smtp_schemes[] = { "smtp://", "smtps://", NULL };
static const char *const http_schemes[] = { "https://", "http://", NULL };

#define F(field) offsetof(icsoe_conf, field)

static const conf_key conf_keys[] = {
    { "uri", CT_URIS, F(uri), 0, 1, 0, NULL, 0, 0, ldap_schemes },
    { "base", CT_DN, F(base), 0, 1, 0, NULL, 0, 0, NULL },
    { "binddn", CT_DN, F(binddn), 0, 0, 0, NULL, 0, 0, NULL },
    { "bindpw_file", CT_SECRET, F(bindpw_file), F(bindpw), 0, 0, NULL, 0, 0, NULL },
    { "writer_binddn", CT_DN, F(writer_binddn), 0, 0, 0, NULL, 0, 0, NULL },
    { "writer_bindpw_file", CT_SECRET, F(writer_bindpw_file), F(writer_bindpw), 0, 0, NULL, 0, 0, NULL },
    { "timeout", CT_INT, F(timeout), 0, 0, 5, NULL, 1, 300, NULL },
    { "server_timeout", CT_INT, F(server_timeout), 0, 0, 2, NULL, 1, 300, NULL },
    { "server_down_time", CT_INT, F(server_down_time), 0, 0, 30, NULL, 1, 3600, NULL },
    { "failback_interval", CT_INT, F(failback_interval), 0, 0, 30, NULL, 1, 3600, NULL },
    { "tls_reqcert", CT_TLS, F(tls_reqcert), 0, 0, ICSOE_TLS_REQCERT_DEMAND, NULL, 0, 0, NULL },
    { "tls_cacertfile", CT_STR, F(tls_cacertfile), 0, 0, 0, NULL, 0, 0, NULL },
    { "ppolicy_dn", CT_STR, F(ppolicy_dn), 0, 0, 0, NULL, 0, 0, NULL },
    { "ldap_starttls", CT_STARTTLS, F(ldap_starttls), 0, 0, ICSOE_STARTTLS_NO, NULL, 0, 0, NULL },
    { "smtp_url", CT_URL, F(smtp_url), 0, 0, 0, NULL, 0, 0, smtp_schemes },
    { "smtp_user", CT_STR, F(smtp_user), 0, 0, 0, NULL, 0, 0, NULL },
    { "smtp_pass_file", CT_SECRET, F(smtp_pass_file), F(smtp_pass), 0, 0, NULL, 0, 0, NULL },
    /* default resolved by smtp_tls_policy(): required unless loopback */
    { "smtp_starttls", CT_STARTTLS, F(smtp_starttls), 0, 0, ICSOE_STARTTLS_REQUIRED, NULL, 0, 0, NULL },
    { "smtp_timeout", CT_INT, F(smtp_timeout), 0, 0, 10, NULL, 1, 300, NULL },
    { "smtp_tls_cacertfile", CT_STR, F(smtp_tls_cacertfile), 0, 0, 0, NULL, 0, 0, NULL },
    { "smtp_helo", CT_STR, F(smtp_helo), 0, 0, 0, NULL, 0, 0, NULL },
    { "timezone", CT_STR, F(timezone), 0, 0, 0, NULL, 0, 0, NULL },
    { "mail_from", CT_STR, F(mail_from), 0, 0, 0, NULL, 0, 0, NULL },
    { "mail_template_dir", CT_STR, F(mail_template_dir), 0, 0, 0, NULL, 0, 0, NULL },
    { "activation_url", CT_URL, F(activation_url), 0, 0, 0, NULL, 0, 0, http_schemes },
    { "login_url", CT_URL, F(login_url), 0, 0, 0, NULL, 0, 0, http_schemes },
    { "token_lifetime", CT_INT, F(token_lifetime), 0, 0, 72 * 3600, NULL, 300, 30 * 86400, NULL },
    { "reset_token_lifetime", CT_INT, F(reset_token_lifetime), 0, 0, 3600, NULL, 300, 7 * 86400, NULL },
    { "recover_interval", CT_INT, F(recover_interval), 0, 0, 900, NULL, 0, 86400, NULL },
    { "site_name", CT_STR, F(site_name), 0, 0, 0, "ICSOE", 0, 0, NULL },
    { "unix_uid_min", CT_INT, F(unix_uid_min), 0, 0, 0, NULL, 1000, 2147483646, NULL },
    { "unix_uid_max", CT_INT, F(unix_uid_max), 0, 0, 0, NULL, 1000, 2147483646, NULL },
    { "unix_gid_min", CT_INT, F(unix_gid_min), 0, 0, 0, NULL, 1000, 2147483646, NULL },
    { "unix_gid_max", CT_INT, F(unix_gid_max), 0, 0, 0, NULL, 1000, 2147483646, NULL },
    { "unix_home", CT_STR, F(unix_home), 0, 0, 0, "/home", 0, 0, NULL },
    { "unix_shell", CT_STR, F(unix_shell), 0, 0, 0, "/bin/bash", 0, 0, NULL },
    { "unix_group", CT_STR, F(unix_group), 0, 0, 0, "capturistas", 0, 0, NULL },
    { "password_min_length", CT_UINT, F(pwpolicy.min_length), 0, 0, 15, NULL, 8, 128, NULL },
    { "password_max_length", CT_UINT, F(pwpolicy.max_length), 0, 0, 128, NULL, 64, 1024, NULL },
    { "password_classes", CT_CLASSES, F(pwpolicy.classes), 0, 0, 0, NULL, 0, 0, NULL },
    { "password_blocklist", CT_STR, F(password_blocklist), 0, 0, 0, NULL, 0, 0, NULL },
};
#define NKEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

#undef F

/* Parser state: the file being read and the line of every key seen. */
typedef struct conf_parse {
    icsoe_conf *c;
    const char *path;
    unsigned line;
    unsigned seen[NKEYS];   /* line of the first occurrence, 0 = unset */
    int policy_only;        /* icsoe_conf_load_policy: secrets not read */
    char *err;
    size_t errlen;
} conf_parse;

static void perr(conf_parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void perr(conf_parse *p, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "%s:%u: %s", p->path, p->line, msg);
}

static char **str_field(icsoe_conf *c, size_t off)
{
    return (char **)(void *)((char *)c + off);
}

static void *field(icsoe_conf *c, size_t off)
{
    return (char *)c + off;
}

/* ---- secret files ---- */

/* Checks an open descriptor against the secret rule of fileperm.h:
 * owned by root or by us, nobody else writes, others never read, the
 * group may read (Debian's 0640 root:<group>). */
static int check_secret_fd(int fd, const char *path, char *err, size_t errlen)
{
    struct stat st;

    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return icsoe_file_trusted(&st, path, ICSOE_FILE_SECRET, err, errlen);
}

static int open_secret(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (check_secret_fd(fd, path, err, errlen) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int icsoe_check_secret_file(const char *path, char *err, size_t errlen)
{
    int fd = open_secret(path, err, errlen);

    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

/* Reads a one-line secret: one trailing newline is dropped; empty content,
 * a NUL or another line break is an error.  Returned string is malloc'd and
 * must be freed with icsoe_free_secret. */
static char *read_secret(const char *path, char *err, size_t errlen)
{
    char buf[ICSOE_SECRET_MAX + 2];
    size_t len = 0;
    ssize_t r;
    char *out = NULL;
    int fd = open_secret(path, err, errlen);

    if (fd < 0)
        return NULL;
    for (;;) {
        r = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
        if (len >= sizeof(buf) - 1)
            break;
    }
    if (r < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (len > ICSOE_SECRET_MAX) {
        snprintf(err, errlen, "%s: longer than %d bytes", path, ICSOE_SECRET_MAX);
        goto out;
    }
    if (len > 0 && buf[len - 1] == '\n')
        len--;
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    if (len == 0) {
        snprintf(err, errlen, "%s: empty", path);
        goto out;
    }
    if (memchr(buf, '\0', len) || memchr(buf, '\n', len) || memchr(buf, '\r', len)) {
        snprintf(err, errlen, "%s: must hold a single line", path);
        goto out;
    }
    out = malloc(len + 1);
    if (out == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    memcpy(out, buf, len);
    out[len] = '\0';
out:
    icsoe_wipe(buf, sizeof(buf));
    close(fd);
    return out;
}

/* ---- values ---- */

static int parse_long(conf_parse *p, const conf_key *k, const char *v, long *out)
{
    char *end = NULL;
    long n;

    errno = 0;
    n = strtol(v, &end, 10);
    if (end == v || *end != '\0' || errno == ERANGE ||
        !((v[0] >= '0' && v[0] <= '9') || v[0] == '-')) {
        perr(p, "%s: '%s' is not an integer", k->name, v);
        return -1;
    }
    if (n < k->min || n > k->max) {
        perr(p, "%s: %ld is out of range (%ld..%ld)", k->name, n, k->min, k->max);
        return -1;
    }
    *out = n;
    return 0;
}

static int parse_choice(conf_parse *p, const conf_key *k, const char *v,
                        const char *const *names, int *out)
{
    int i;

    for (i = 0; names[i] != NULL; i++) {
        if (strcmp(v, names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    perr(p, "%s: unknown value '%s'", k->name, v);
    return -1;
}

static int parse_classes(conf_parse *p, const conf_key *k, const char *v, unsigned *out)
{
    static const char *const names[] = { "lower", "upper", "digit", "symbol" };
    unsigned bits = 0;
    const char *s = v;

    if (strcmp(v, "none") == 0) {
        *out = 0;
        return 0;
    }
    while (*s != '\0') {
        size_t n = strcspn(s, ",");
        size_t i;
        int found = 0;

        while (n > 0 && (*s == ' ' || *s == '\t')) {
            s++;
            n--;
        }
        for (i = 0; i < 4; i++) {
            size_t nl = strlen(names[i]);
            size_t m = n;

            while (m > 0 && (s[m - 1] == ' ' || s[m - 1] == '\t'))
                m--;
            if (m == nl && strncmp(s, names[i], nl) == 0) {
                bits |= 1u << i;
                found = 1;
            }
        }
        if (!found) {
            perr(p, "%s: expected a comma list of lower, upper, digit, symbol, or none; got '%s'",
                 k->name, v);
            return -1;
        }
        s += n;
        if (*s == ',') {
            s++;
            if (*s == '\0') {
                perr(p, "%s: trailing comma in '%s'", k->name, v);
                return -1;
            }
        }
    }
    *out = bits;
    return 0;
}

static int url_ok(const conf_key *k, const char *v)
{
    size_t i;

    for (i = 0; k->schemes[i] != NULL; i++) {
        size_t n = strlen(k->schemes[i]);

        if (strncmp(v, k->schemes[i], n) == 0 && v[n] != '\0')
            return 1;
    }
    return 0;
}

static int dup_str(conf_parse *p, char **dst, const char *v)
{
    *dst = strdup(v);
    if (*dst == NULL) {
        perr(p, "out of memory");
        return -1;
    }
    return 0;
}

/* A non-empty LDAPv3 DN: a wrong base or binddn is caught here (and by
 * apache2ctl configtest) instead of as "Usuario o contraseña incorrectos"
 * at every login. */
static int dn_ok(const char *v)
{
    LDAPDN dn = NULL;
    int ok = ldap_str2dn(v, &dn, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS && dn != NULL;

    if (dn != NULL)
        ldap_dnfree(dn);
    return ok;
}

/* The port of scheme://host[:port][/...], when given, is 1..65535. */
static int url_port_ok(const char *v)
{
    const char *host = strstr(v, "://");
    const char *end, *colon;
    long port;
    char *stop;

    if (host == NULL)
        return 0;
    host += 3;
    end = host + strcspn(host, "/?#");
    if (host < end && *host == '[') {          /* [IPv6]:port */
        const char *close = memchr(host, ']', (size_t)(end - host));

        if (close == NULL)
            return 0;
        host = close;
    }
    colon = memchr(host, ':', (size_t)(end - host));
    if (colon == NULL)
        return 1;
    if (colon + 1 == end)
        return 0;
    errno = 0;
    port = strtol(colon + 1, &stop, 10);
    return errno == 0 && stop == end && colon[1] >= '0' && colon[1] <= '9' &&
           port >= 1 && port <= 65535;
}

static int add_uris(conf_parse *p, const conf_key *k, const char *v)
{
    icsoe_conf *c = p->c;
    const char *s = v;

    while (*s != '\0') {
        size_t n = strcspn(s, " \t");
        char one[ICSOE_CONF_LINE_MAX + 1];
        LDAPURLDesc *lud = NULL;

        memcpy(one, s, n);
        one[n] = '\0';
        if (c->nuri >= ICSOE_CONF_MAX_URIS) {
            perr(p, "%s: more than %d URIs", k->name, ICSOE_CONF_MAX_URIS);
            return -1;
        }
        if (!url_ok(k, one) || ldap_url_parse(one, &lud) != LDAP_URL_SUCCESS) {
            perr(p, "%s: '%s' is not an ldap://, ldaps:// or ldapi:// URI", k->name, one);
            return -1;
        }
        /* libldap takes ":0" and ":99999" (and then cannot connect) */
        if (strncmp(one, "ldapi://", 8) != 0 &&
            (lud->lud_port < 1 || lud->lud_port > 65535 || !url_port_ok(one))) {
            ldap_free_urldesc(lud);
            perr(p, "%s: '%s': the port must be 1 to 65535", k->name, one);
            return -1;
        }
        ldap_free_urldesc(lud);
        if (dup_str(p, &c->uri[c->nuri], one) != 0)
            return -1;
        c->nuri++;
        s += n;
        while (*s == ' ' || *s == '\t')
            s++;
    }
    return 0;
}

static int set_secret(conf_parse *p, const conf_key *k, const char *v)
{
    char why[512];
    char *secret;

    if (v[0] != '/') {
        perr(p, "%s %s: must be an absolute path", k->name, v);
        return -1;
    }
    if (p->policy_only)
        return dup_str(p, str_field(p->c, k->off), v);
    secret = read_secret(v, why, sizeof(why));
    if (secret == NULL) {
        perr(p, "%s %s", k->name, why);
        return -1;
    }
    *str_field(p->c, k->aux) = secret;
    return dup_str(p, str_field(p->c, k->off), v);
}

static int set_value(conf_parse *p, const conf_key *k, const char *v)
{
    static const char *const tls_names[] = { "demand", "hard", "try", "allow", "never", NULL };
    static const char *const starttls_names[] = { "no", "try", "required", NULL };
    long n;
    int choice;

    switch (k->type) {
    case CT_STR:
        return dup_str(p, str_field(p->c, k->off), v);
    case CT_URL:
        if (!url_ok(k, v) || strpbrk(v, " \t") != NULL) {
            perr(p, "%s: '%s' must start with %s%s%s", k->name, v, k->schemes[0],
                 k->schemes[1] ? " or " : "", k->schemes[1] ? k->schemes[1] : "");
            return -1;
        }
        if (!url_port_ok(v)) {
            perr(p, "%s: '%s': the port must be 1 to 65535", k->name, v);
            return -1;
        }
        return dup_str(p, str_field(p->c, k->off), v);
    case CT_DN:
        if (!dn_ok(v)) {
            perr(p, "%s: '%s' is not a valid LDAP DN", k->name, v);
            return -1;
        }
        return dup_str(p, str_field(p->c, k->off), v);
    case CT_INT:
        if (parse_long(p, k, v, &n) != 0)
            return -1;
        *(int *)field(p->c, k->off) = (int)n;
        return 0;
    case CT_UINT:
        if (parse_long(p, k, v, &n) != 0)
            return -1;
        *(unsigned *)field(p->c, k->off) = (unsigned)n;
        return 0;
    case CT_URIS:
        return add_uris(p, k, v);
    case CT_SECRET:
        return set_secret(p, k, v);
    case CT_TLS:
        if (parse_choice(p, k, v, tls_names, &choice) != 0)
            return -1;
        *(icsoe_tls_reqcert *)field(p->c, k->off) = (icsoe_tls_reqcert)choice;
        return 0;
    case CT_STARTTLS:
        if (parse_choice(p, k, v, starttls_names, &choice) != 0)
            return -1;
        *(icsoe_starttls *)field(p->c, k->off) = (icsoe_starttls)choice;
        return 0;
    case CT_CLASSES:
        return parse_classes(p, k, v, (unsigned *)field(p->c, k->off));
    }
    perr(p, "%s: internal error (type)", k->name);
    return -1;
}

/* ---- lines ---- */

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* One line without its newline, NUL-terminated, may be modified. */
static int parse_line(conf_parse *p, char *line)
{
    char *s = line, *kw, *v, *end;
    size_t i;

    end = s + strlen(s);
    if (end > s && end[-1] == '\r')     /* tolerate files edited on Windows */
        *--end = '\0';
    while (is_blank(*s))
        s++;
    if (*s == '\0' || *s == '#')
        return 0;
    kw = s;
    while (*s != '\0' && !is_blank(*s))
        s++;
    if (*s != '\0')
        *s++ = '\0';
    while (is_blank(*s))
        s++;
    v = s;
    end = v + strlen(v);
    while (end > v && is_blank(end[-1]))
        *--end = '\0';
    for (i = 0; i < NKEYS; i++) {
        if (strcmp(kw, conf_keys[i].name) == 0)
            break;
    }
    if (i == NKEYS) {
        perr(p, "unknown keyword '%s'", kw);
        return -1;
    }
    if (*v == '\0') {
        perr(p, "%s: missing value", kw);
        return -1;
    }
    for (s = v; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 && *s != '\t') {
            perr(p, "%s: control character in value", kw);
            return -1;
        }
    }
    if (p->seen[i] != 0 && conf_keys[i].type != CT_URIS) {
        perr(p, "duplicate keyword '%s' (first set on line %u)", kw, p->seen[i]);
        return -1;
    }
    if (p->seen[i] == 0)
        p->seen[i] = p->line;
    return set_value(p, &conf_keys[i], v);
}

static void set_defaults(icsoe_conf *c)
{
    size_t i;

    for (i = 0; i < NKEYS; i++) {
        const conf_key *k = &conf_keys[i];

        switch (k->type) {
        case CT_INT:
            *(int *)field(c, k->off) = (int)k->def;
            break;
        case CT_UINT:
        case CT_CLASSES:
            *(unsigned *)field(c, k->off) = (unsigned)k->def;
            break;
        case CT_TLS:
            *(icsoe_tls_reqcert *)field(c, k->off) = (icsoe_tls_reqcert)k->def;
            break;
        case CT_STARTTLS:
            *(icsoe_starttls *)field(c, k->off) = (icsoe_starttls)k->def;
            break;
        default:
            break;
        }
    }
}

static int set_string_defaults(conf_parse *p)
{
    size_t i;

    for (i = 0; i < NKEYS; i++) {
        const conf_key *k = &conf_keys[i];

        if (k->defstr != NULL && p->seen[i] == 0 &&
            dup_str(p, str_field(p->c, k->off), k->defstr) != 0)
            return -1;
    }
    return 0;
}

/* login_url defaults to activation_url with its last path segment replaced
 * by "ingresar" (https://site/icsoe/activar -> https://site/icsoe/ingresar). */
static int derive_login_url(conf_parse *p)
{
    icsoe_conf *c = p->c;
    size_t n, cut;
    char *slash;

    if (c->login_url != NULL || c->activation_url == NULL)
        return 0;
    n = strcspn(c->activation_url, "?#");
    slash = NULL;
    for (cut = 0; cut < n; cut++) {
        if (c->activation_url[cut] == '/')
            slash = c->activation_url + cut;
    }
    if (slash == NULL) /* impossible: the scheme was checked */
        slash = c->activation_url + n - 1;
    cut = (size_t)(slash - c->activation_url) + 1;
    c->login_url = malloc(cut + sizeof("ingresar"));
    if (c->login_url == NULL) {
        perr(p, "out of memory");
        return -1;
    }
    memcpy(c->login_url, c->activation_url, cut);
    memcpy(c->login_url + cut, "ingresar", sizeof("ingresar"));
    return 0;
}

static unsigned key_index(const char *name)
{
    unsigned i;

    for (i = 0; i < NKEYS; i++) {
        if (strcmp(conf_keys[i].name, name) == 0)
            return i;
    }
    return 0;
}

/* An EHLO name: a host name (letters, digits, '-', '.') or an address
 * literal ("[192.0.2.1]"), as RFC 5321 wants it. */
static int helo_ok(const char *v)
{
    size_t n = strlen(v);
    int literal = v[0] == '[';

    if (n == 0 || n > 253 || (literal && (n < 3 || v[n - 1] != ']')))
        return 0;
    for (size_t i = literal; i < n - (size_t)literal; i++) {
        char ch = v[i];
        int ok = (ch >= '0' && ch <= '9') || ch == '.' ||
                 (literal ? (ch == ':' || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'))
                          : ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '-'));
        if (!ok)
            return 0;
    }
    return literal || (v[0] != '-' && v[0] != '.');
}

static int check_mail_keys(conf_parse *p)
{
    icsoe_conf *c = p->c;

    if (c->smtp_helo != NULL && !helo_ok(c->smtp_helo)) {
        p->line = p->seen[key_index("smtp_helo")];
        perr(p, "smtp_helo: '%s' is not a host name (e.g. icsoe.example.org)", c->smtp_helo);
        return -1;
    }
    if (c->smtp_tls_cacertfile != NULL && c->smtp_tls_cacertfile[0] != '/') {
        p->line = p->seen[key_index("smtp_tls_cacertfile")];
        perr(p, "smtp_tls_cacertfile %s: must be an absolute path", c->smtp_tls_cacertfile);
        return -1;
    }
    return 0;
}

/* The zone of the times written in mails.  An explicit timezone must load;
 * without one, America/Mexico_City is used when the system has it and UTC
 * otherwise (a host without tzdata still authenticates: pam_icsoe reads
 * this file too and never writes a time). */
static int load_timezone(conf_parse *p)
{
    icsoe_conf *c = p->c;
    char why[512];

    if (c->timezone == NULL) {
        c->tz = icsoe_tz_load(ICSOE_CONF_DEFAULT_TIMEZONE, why, sizeof(why));
        if (c->tz == NULL)
            c->tz = icsoe_tz_utc();
    } else {
        c->tz = icsoe_tz_load(c->timezone, why, sizeof(why));
        if (c->tz == NULL) {
            p->line = p->seen[key_index("timezone")];
            perr(p, "timezone: %s", why);
            return -1;
        }
    }
    if (c->tz == NULL) {
        perr(p, "out of memory");
        return -1;
    }
    return 0;
}

static int check_policy(conf_parse *p)
{
    icsoe_conf *c = p->c;

    if (c->pwpolicy.min_length > c->pwpolicy.max_length) {
        p->line = p->seen[key_index("password_min_length")];
        perr(p, "password_min_length %u is greater than password_max_length %u",
             c->pwpolicy.min_length, c->pwpolicy.max_length);
        return -1;
    }
    return 0;
}

/* Checks that need the whole file; errors point at the end of the file or
 * at the line of the key involved. */
static int check_file(conf_parse *p)
{
    icsoe_conf *c = p->c;
    size_t i;

    for (i = 0; i < NKEYS; i++) {
        if (conf_keys[i].required && p->seen[i] == 0) {
            perr(p, "missing required keyword '%s'", conf_keys[i].name);
            return -1;
        }
    }
    if ((c->binddn == NULL) != (c->bindpw_file == NULL)) {
        p->line = p->seen[key_index(c->binddn ? "binddn" : "bindpw_file")];
        perr(p, "binddn and bindpw_file must be set together");
        return -1;
    }
    if ((c->writer_binddn == NULL) != (c->writer_bindpw_file == NULL)) {
        p->line = p->seen[key_index(c->writer_binddn ? "writer_binddn" : "writer_bindpw_file")];
        perr(p, "writer_binddn and writer_bindpw_file must be set together");
        return -1;
    }
    if (c->smtp_user != NULL && c->smtp_pass_file == NULL) {
        p->line = p->seen[key_index("smtp_user")];
        perr(p, "smtp_user needs smtp_pass_file");
        return -1;
    }
    if (c->server_timeout > c->timeout && p->seen[key_index("server_timeout")]) {
        /* One server may not use up the whole call: the next uri would
         * never get a chance. */
        p->line = p->seen[key_index("server_timeout")];
        perr(p, "server_timeout %d is greater than timeout %d", c->server_timeout,
             c->timeout);
        return -1;
    }
    if (c->server_timeout > c->timeout)
        c->server_timeout = c->timeout;
    if (check_mail_keys(p) != 0)
        return -1;
    return check_policy(p);
}

/* The Unix identity keys come as a whole: both ranges, each min <= max,
 * absolute paths, and a group name NSS and sshd accept. */
static int check_unix(conf_parse *p)
{
    icsoe_conf *c = p->c;
    const char *g = c->unix_group;
    int any = p->seen[key_index("unix_uid_min")] || p->seen[key_index("unix_uid_max")] ||
              p->seen[key_index("unix_gid_min")] || p->seen[key_index("unix_gid_max")];

    if (any && (c->unix_uid_min == 0 || c->unix_uid_max == 0 ||
                c->unix_gid_min == 0 || c->unix_gid_max == 0)) {
        perr(p, "unix_uid_min, unix_uid_max, unix_gid_min and unix_gid_max "
             "must be set together");
        return -1;
    }
    if (c->unix_uid_min > c->unix_uid_max || c->unix_gid_min > c->unix_gid_max) {
        p->line = p->seen[key_index(c->unix_uid_min > c->unix_uid_max
                                    ? "unix_uid_min" : "unix_gid_min")];
        perr(p, "a unix_*_min is greater than its unix_*_max");
        return -1;
    }
    if (c->unix_home[0] != '/' || c->unix_shell[0] != '/') {
        p->line = p->seen[key_index(c->unix_home[0] != '/' ? "unix_home" : "unix_shell")];
        perr(p, "unix_home and unix_shell must be absolute paths");
        return -1;
    }
    if (!icsoe_unix_name_ok(g)) {
        p->line = p->seen[key_index("unix_group")];
        perr(p, "unix_group '%s' is not a portable group name "
             "([a-z_][a-z0-9_-]*, at most 32 characters)", g);
        return -1;
    }
    return 0;
}

int icsoe_unix_name_ok(const char *s)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > 32 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return 0;
    for (i = 1; i < n; i++) {
        char ch = s[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '-'))
            return 0;
    }
    return 1;
}

/* 1 when the smtp:// URL names this host (127.0.0.0/8, ::1, localhost):
 * nobody can sit on that path to strip STARTTLS. */
static int smtp_url_is_loopback(const char *url)
{
    const char *h = url + strlen("smtp://");
    size_t n;

    if (h[0] == '[')
        return strncmp(h, "[::1]", 5) == 0 && (h[5] == '\0' || h[5] == ':' || h[5] == '/');
    n = strcspn(h, ":/");
    if ((n == 9 && strncmp(h, "localhost", 9) == 0) ||
        (n == 10 && strncmp(h, "localhost.", 10) == 0))
        return 1;
    if (n < 7 || n > 15 || strncmp(h, "127.", 4) != 0)
        return 0;
    for (size_t i = 4; i < n; i++)
        if (!((h[i] >= '0' && h[i] <= '9') || h[i] == '.'))
            return 0;
    return 1;
}

/* SMTP downgrade: on the path to an SMTP server, an attacker strips
 * STARTTLS and reads the links and the SMTP AUTH password.  So STARTTLS is
 * required by default for every smtp:// server but this host's; "try" and
 * "no" only when written; and never for SMTP AUTH over smtp:// to another
 * host (the password would cross the network in clear). */
static int smtp_tls_policy(conf_parse *p)
{
    icsoe_conf *c = p->c;
    unsigned line = p->seen[key_index("smtp_starttls")];
    int plain = c->smtp_url != NULL && strncmp(c->smtp_url, "smtp://", 7) == 0;
    int loopback = plain && smtp_url_is_loopback(c->smtp_url);

    if (line == 0) {
        c->smtp_starttls = loopback && c->smtp_user == NULL
                           ? ICSOE_STARTTLS_NO : ICSOE_STARTTLS_REQUIRED;
        return 0;
    }
    if (plain && !loopback && c->smtp_user != NULL &&
        c->smtp_starttls != ICSOE_STARTTLS_REQUIRED) {
        p->line = line;
        perr(p, "smtp_user over smtp:// to another host needs smtp_starttls "
             "required (or an smtps:// smtp_url)");
        return -1;
    }
    return 0;
}

static int load_blocklist(conf_parse *p)
{
    icsoe_conf *c = p->c;
    char why[512];

    if (c->password_blocklist == NULL)
        return 0;
    c->blocklist = icsoe_blocklist_load(c->password_blocklist, why, sizeof(why));
    if (c->blocklist == NULL) {
        p->line = p->seen[key_index("password_blocklist")];
        perr(p, "password_blocklist %s", why);
        return -1;
    }
    c->pwpolicy.blocklist = c->blocklist;
    return 0;
}

/* Reads the whole file (bounded) so NUL bytes and overlong lines are seen. */
static char *slurp(conf_parse *p, size_t *len)
{
    char *buf = NULL;
    size_t cap = 0, n = 0;
    FILE *f = fopen(p->path, "re");
    struct stat st;

    if (f == NULL) {
        snprintf(p->err, p->errlen, "%s: %s", p->path, strerror(errno));
        return NULL;
    }
    /* The file steers a root process (PAM, Apache): see fileperm.h. */
    if (fstat(fileno(f), &st) != 0) {
        snprintf(p->err, p->errlen, "%s: %s", p->path, strerror(errno));
        goto fail;
    }
    if (icsoe_file_trusted(&st, p->path, ICSOE_FILE_CONFIG, p->err,
                           p->errlen) != 0)
        goto fail;
    for (;;) {
        size_t r;

        if (n == cap) {
            char *nb;

            if (cap >= ICSOE_CONF_FILE_MAX) {
                snprintf(p->err, p->errlen, "%s: larger than %d bytes", p->path,
                         ICSOE_CONF_FILE_MAX);
                goto fail;
            }
            cap = cap ? cap * 2 : 8192;
            nb = realloc(buf, cap + 1);
            if (nb == NULL) {
                snprintf(p->err, p->errlen, "%s: out of memory", p->path);
                goto fail;
            }
            buf = nb;
        }
        r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    if (ferror(f)) {
        snprintf(p->err, p->errlen, "%s: read error", p->path);
        goto fail;
    }
    fclose(f);
    if (buf == NULL)
        buf = calloc(1, 1);
    if (buf == NULL) {
        snprintf(p->err, p->errlen, "%s: out of memory", p->path);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
fail:
    fclose(f);
    free(buf);
    return NULL;
}

static int parse_buffer(conf_parse *p, char *buf, size_t len)
{
    size_t pos = 0;

    p->line = 0;
    while (pos < len) {
        char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) : len;

        p->line++;
        if (end - pos > ICSOE_CONF_LINE_MAX) {
            perr(p, "line longer than %d bytes", ICSOE_CONF_LINE_MAX);
            return -1;
        }
        if (memchr(buf + pos, '\0', end - pos) != NULL) {
            perr(p, "NUL byte in line");
            return -1;
        }
        buf[end] = '\0';
        if (parse_line(p, buf + pos) != 0)
            return -1;
        pos = end + 1;
    }
    return 0;
}

/* Both loaders: the whole file is parsed with the same rules; the policy
 * loader reads no secret file and checks only the password_* keys. */
static icsoe_conf *conf_load(const char *path, int policy_only, char *err, size_t errlen)
{
    conf_parse p;
    char *buf = NULL;
    size_t len = 0;
    icsoe_conf *c;
    int ok = 0;

    memset(&p, 0, sizeof(p));
    p.path = path;
    p.err = err;
    p.errlen = errlen;
    p.policy_only = policy_only;
    if (errlen > 0)
        err[0] = '\0';
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    p.c = c;
    set_defaults(c);
    c->path = strdup(path);
    if (c->path == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    buf = slurp(&p, &len);
    if (buf == NULL)
        goto out;
    if (parse_buffer(&p, buf, len) != 0)
        goto out;
    p.line = p.line ? p.line : 1;
    if (policy_only) {
        if (check_policy(&p) != 0 || load_blocklist(&p) != 0)
            goto out;
    } else if (check_file(&p) != 0 || set_string_defaults(&p) != 0 ||
               derive_login_url(&p) != 0 || check_unix(&p) != 0 ||
               smtp_tls_policy(&p) != 0 || load_blocklist(&p) != 0 ||
               load_timezone(&p) != 0) {
        goto out;
    }
    ok = 1;
out:
    if (buf != NULL) {
        icsoe_wipe(buf, len);
        free(buf);
    }
    if (!ok) {
        icsoe_conf_free(c);
        return NULL;
    }
    return c;
}

icsoe_conf *icsoe_conf_load(const char *path, char *err, size_t errlen)
{
    return conf_load(path, 0, err, errlen);
}

icsoe_conf *icsoe_conf_load_policy(const char *path, char *err, size_t errlen)
{
    return conf_load(path, 1, err, errlen);
}

/* From the key table, so that a new file key is listed without anyone
 * having to remember the cache. */
size_t icsoe_conf_files(const icsoe_conf *c, icsoe_conf_file *out, size_t max)
{
    size_t i, n = 0;

    if (n < max)
        out[n] = (icsoe_conf_file){ c->path, ICSOE_FILE_CONFIG };
    n++;
    for (i = 0; i < NKEYS; i++) {
        const conf_key *k = &conf_keys[i];
        const char *path;

        if (k->type != CT_SECRET)
            continue;   /* only now is the field known to be a char * */
        path = *(char *const *)(const void *)((const char *)c + k->off);
        if (path == NULL)
            continue;
        if (n < max)
            out[n] = (icsoe_conf_file){ path, ICSOE_FILE_SECRET };
        n++;
    }
    if (c->password_blocklist != NULL) {
        if (n < max)
            out[n] = (icsoe_conf_file){ c->password_blocklist, ICSOE_FILE_CONFIG };
        n++;
    }
    return n;
}

void icsoe_conf_free(icsoe_conf *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < NKEYS; i++) {
        const conf_key *k = &conf_keys[i];

        if (k->type == CT_STR || k->type == CT_DN || k->type == CT_URL ||
            k->type == CT_SECRET)
            free(*str_field(c, k->off));
        if (k->type == CT_SECRET)
            icsoe_free_secret(*str_field(c, k->aux));
    }
    for (i = 0; i < c->nuri && i < ICSOE_CONF_MAX_URIS; i++)
        free(c->uri[i]);
    if (c->blocklist != NULL)
        icsoe_blocklist_free(c->blocklist);
    icsoe_tz_free(c->tz);
    free(c->path);
    free(c);
}
