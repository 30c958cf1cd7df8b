/* The mailer: RFC 5322 / MIME messages sent with libcurl over SMTP.
 * Messages are UTF-8 multipart/alternative (text + HTML), RFC 2047 encoded
 * Subject, Date and Message-ID.  No CR or LF from any input ever reaches a
 * header: values containing them are refused (ICSOE_ERR_INVALID_INPUT). */
#ifndef ICSOE_MAIL_H
#define ICSOE_MAIL_H

#include <stddef.h>
#include <time.h>
#include "conf.h"
#include "err.h"
#include "template.h"

/* Files embedded at build time by scripts/embed-templates (the built-in
 * mail templates here, the built-in pages in mod_icsoe).  A table ends with
 * a { NULL, NULL, 0 } entry; data is NUL-terminated, len excludes the NUL. */
#ifndef ICSOE_EMBEDDED_DECLARED
#define ICSOE_EMBEDDED_DECLARED
struct icsoe_embedded {
    const char *name;
    const char *data;
    size_t len;
};
#endif
/* templates/mail/<name>.txt|.html, generated into lib/mail_templates.c */
extern const struct icsoe_embedded icsoe_mail_templates[];
/* The entry called name in table, NULL if none. */
const struct icsoe_embedded *icsoe_embedded_find(const struct icsoe_embedded *table,
                                                 const char *name);

/* libcurl's global state.  Each front end calls this once at start-up,
 * before any thread may send mail (Apache: post_config / child_init; PAM:
 * before the first send; icsoectl: in main), because curl_global_init is
 * not thread-safe on every libcurl build.  Returns 0 or -1.  Repeated calls
 * are harmless (libcurl counts them). */
int icsoe_mail_global_init(void);

typedef struct icsoe_mail {
    const char *to_addr;  /* checked with icsoe_email_valid */
    const char *to_name;  /* display name, may be NULL */
    const char *subject;  /* UTF-8 */
    const char *text;     /* text/plain body, UTF-8 */
    const char *html;     /* text/html body, UTF-8 */
} icsoe_mail;

/* Build the whole message (headers + body, CRLF line ends) into a malloc'd
 * string.  Pure apart from the random Message-ID and boundary.  NULL with
 * err on bad input: any control character (CR, LF, NUL, ...) in to_name,
 * to_addr, subject or conf->mail_from, an address refused by
 * icsoe_email_valid, text that is not UTF-8.  Headers: From, To, Subject
 * (RFC 2047 "B" encoded-words when not plain ASCII), Date (UTC), Message-ID
 * (<hex@domain of mail_from>), MIME-Version; the body is
 * multipart/alternative with text/plain and text/html parts in UTF-8,
 * quoted-printable (lines <= 76).  Dot-stuffing is left to libcurl. */
char *icsoe_mail_build(const icsoe_conf *conf, const icsoe_mail *m, time_t now,
                       char *err, size_t errlen);

/* Why a send failed, for the operator and the delivery state:
 *   TEMPORARY  4xx, connection refused or dropped, timeout: a resend may
 *              work as it is;
 *   REFUSED    the server refused the recipient permanently (5xx to RCPT
 *              TO, other than 552 and 5.7.x): the address must be corrected;
 *   CONFIG     our side: AUTH refused (535), certificate not trusted,
 *              STARTTLS required but not offered, sender or message
 *              refused, a template that does not render. */
typedef enum icsoe_mail_fail {
    ICSOE_MAIL_OK = 0,
    ICSOE_MAIL_TEMPORARY,
    ICSOE_MAIL_REFUSED,
    ICSOE_MAIL_CONFIG
} icsoe_mail_fail;

/* "sent", "temporary", "refused", "configuration". */
const char *icsoe_mail_fail_name(icsoe_mail_fail f);

/* The classification itself (exposed for unit tests): curl_code is the
 * CURLcode of the transfer, cmd the SMTP verb the failing reply answered
 * ("RCPT", "AUTH", "." for the end of the data...), reply that reply
 * ("550 5.1.1 ...") or "" when the server gave none. */
icsoe_mail_fail icsoe_mail_classify(int curl_code, const char *cmd, const char *reply);

/* Send through conf->smtp_url; ICSOE_ERR_UNAVAILABLE when the server is down
 * or refuses (err says what it answered and *fail why), within
 * conf->smtp_timeout.  ICSOE_ERR_INVALID_INPUT (nothing sent) when
 * icsoe_mail_build refuses.  fail may be NULL.
 * The EHLO name is conf->smtp_helo, else the URL's path when it has one,
 * else this host's name.  The server certificate is verified against
 * conf->smtp_tls_cacertfile when set, else the system store.
 * smtp_starttls: try -> STARTTLS when offered, required -> TLS or fail;
 * smtps:// is always TLS.  Thread-safe (CURLOPT_NOSIGNAL) once
 * icsoe_mail_global_init has run. */
icsoe_status icsoe_mail_send(const icsoe_conf *conf, const icsoe_mail *m,
                             icsoe_mail_fail *fail, char *err, size_t errlen);

/* Templated mails.  name is "activation", "reset", "password_set",
 * "locked" or "linked" (also gets contractor_rfc and contractor_name); the
 * subject is the text template's first line "Subject: ..." (one blank line
 * after it is skipped).  Templates come from
 * conf->mail_template_dir/<name>.txt|.html when set (each file that exists
 * there replaces its built-in; the directory itself must exist), else
 * built-in.  Text is rendered unescaped, HTML with HTML escaping.
 * Variables available: site_name, name, curp, link, valid_until, login_url. */
icsoe_status icsoe_mail_send_template(const icsoe_conf *conf, const char *name,
                                      const icsoe_tvar *vars, size_t nvars,
                                      const char *to_addr, const char *to_name,
                                      icsoe_mail_fail *fail, char *err, size_t errlen);

/* The SMTP server answers: greeting, EHLO, STARTTLS when smtp_starttls
 * asks for it, AUTH when smtp_user is set; no mail is sent.  For
 * "icsoectl check".  ICSOE_ERR_UNAVAILABLE with err saying why. */
icsoe_status icsoe_mail_probe(const icsoe_conf *conf, char *err, size_t errlen);

#endif
