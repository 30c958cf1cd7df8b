/* /etc/icsoe/icsoe.conf: "keyword value" lines, '#' comments.
 *
 * Every key is declared once in conf.c's table (name, type, default, range).
 * Errors name the file and line: "icsoe.conf:12: unknown keyword 'urii'".
 * Secret files (bindpw_file, smtp_pass_file) must not be readable or
 * writable by group or other.  The loaded struct is immutable and may be
 * shared between threads. */
#ifndef ICSOE_CONF_H
#define ICSOE_CONF_H

#include <stddef.h>
#include "fileperm.h"
#include "pwpolicy.h"

#define ICSOE_CONF_MAX_URIS 8

typedef enum icsoe_tls_reqcert {
    ICSOE_TLS_REQCERT_DEMAND = 0, /* default */
    ICSOE_TLS_REQCERT_HARD,
    ICSOE_TLS_REQCERT_TRY,
    ICSOE_TLS_REQCERT_ALLOW,
    ICSOE_TLS_REQCERT_NEVER
} icsoe_tls_reqcert;

typedef enum icsoe_starttls {
    ICSOE_STARTTLS_NO = 0,   /* ldap:// or smtp:// in clear (loopback only!) */
    ICSOE_STARTTLS_TRY,
    ICSOE_STARTTLS_REQUIRED
} icsoe_starttls;

typedef struct icsoe_conf {
    char *path;                        /* file it was read from */

    /* directory */
    char *uri[ICSOE_CONF_MAX_URIS];    /* "uri ldap://a ldaps://b" (repeatable) */
    size_t nuri;
    char *base;                        /* required */
    char *binddn;                      /* reader service account: searches */
    char *bindpw;                      /* read from bindpw_file; wiped on free */
    char *bindpw_file;
    char *writer_binddn;               /* writer account; NULL: writes use binddn */
    char *writer_bindpw;               /* read from writer_bindpw_file; wiped */
    char *writer_bindpw_file;
    int timeout;                       /* seconds, network and operation; default 5 */
    int server_timeout;                /* seconds one server has to connect and
                                        * answer the service bind; default 2 */
    int server_down_time;              /* seconds a failed server is skipped; default 30 */
    int failback_interval;             /* seconds between checks for a return to
                                        * an earlier uri; default 30 */
    icsoe_tls_reqcert tls_reqcert;
    char *tls_cacertfile;
    icsoe_starttls ldap_starttls;      /* "ldap_starttls no|try|required", default no */
    char *ppolicy_dn;                  /* default password policy (ppolicy_default); NULL = cn=default,ou=policies,<base> */

    /* mail */
    char *smtp_url;                    /* smtp://host:port or smtps:// */
    char *smtp_user;
    char *smtp_pass;                   /* from smtp_pass_file; wiped on free */
    char *smtp_pass_file;
    icsoe_starttls smtp_starttls;      /* default required; no for a loopback smtp:// without smtp_user */
    int smtp_timeout;                  /* seconds, default 10 */
    char *smtp_tls_cacertfile;         /* CA bundle for the SMTP server's certificate
                                        * (default: the system store) */
    char *smtp_helo;                   /* EHLO name (default: the URL's path, else
                                        * this host's name) */
    char *mail_from;                   /* "ICSOE <icsoe@example.org>" */
    char *mail_template_dir;           /* optional override of built-in mails */

    /* links and tokens */
    char *activation_url;              /* https://site/icsoe/activar */
    char *login_url;                   /* for mails; default derived from activation_url */
    int token_lifetime;                /* seconds, default 72h */
    int reset_token_lifetime;          /* seconds, default 1h */
    int recover_interval;              /* seconds between recovery mails per account, default 900 */
    char *site_name;                   /* "ICSOE", used in mails and pages */
    char *timezone;                    /* IANA zone of the times in mails, as set */
    struct icsoe_tz *tz;               /* loaded: timezone, else the default or UTC */

    /* optional Unix identities for capturists (NSS, ssh): off while
     * unix_uid_min is 0 */
    int unix_uid_min, unix_uid_max;    /* uidNumber range of capturists */
    int unix_gid_min, unix_gid_max;    /* gidNumber range of ICSOE groups */
    char *unix_home;                   /* parent of the homes, default /home */
    char *unix_shell;                  /* default /bin/bash */
    char *unix_group;                  /* primary group of every capturist */

    /* password policy (the blocklist is owned by the conf) */
    icsoe_pwpolicy pwpolicy;
    char *password_blocklist;          /* path */
    icsoe_blocklist *blocklist;
} icsoe_conf;

/* Load and validate.  Returns NULL on error with a one-line message in err
 * naming file and line.  Caller frees with icsoe_conf_free. */
icsoe_conf *icsoe_conf_load(const char *path, char *err, size_t errlen);
void icsoe_conf_free(icsoe_conf *c);
/* The same file, parsed with the same rules, for the password policy alone
 * (pwpolicy, blocklist): no secret file is read and no key is required, so
 * a process that may not read the secrets (slapd's quality module, running
 * as openldap) can use the site's icsoe.conf or a file of password_* keys. */
icsoe_conf *icsoe_conf_load_policy(const char *path, char *err, size_t errlen);

/* 1 for a portable Unix group name: [a-z_][a-z0-9_-]*, 1..32 bytes. */
int icsoe_unix_name_ok(const char *s);

#define ICSOE_CONF_DEFAULT_TIMEZONE "America/Mexico_City"

/* Default path when nothing else is given. */
#define ICSOE_CONF_DEFAULT_PATH "/etc/icsoe/icsoe.conf"

/* The files a configuration was read from: the file itself, every secret
 * file it names, the password blocklist (the time zone comes from the
 * system's tzdata and is not listed).  For a caller that keeps c across
 * calls and must see when one of them changes (pam_icsoe/confcache.c).
 * Fills at most max entries (paths point into c); returns how many. */
typedef struct icsoe_conf_file {
    const char *path;
    icsoe_file_kind kind;
} icsoe_conf_file;
#define ICSOE_CONF_MAX_FILES 8
size_t icsoe_conf_files(const icsoe_conf *c, icsoe_conf_file *out, size_t max);

/* Check that a secret file is a regular file not accessible by group/other.
 * 0 if fine, -1 with message in err. Shared with the session key loader. */
int icsoe_check_secret_file(const char *path, char *err, size_t errlen);

#endif
