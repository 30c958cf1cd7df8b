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

typedef struct icsoe_mail {
    const char *to_addr;  /* checked with icsoe_email_valid */
    const char *to_name;  /* display name, may be NULL */
    const char *subject;  /* UTF-8 */
    const char *text;     /* text/plain body, UTF-8 */
    const char *html;     /* text/html body, UTF-8 */
} icsoe_mail;

/* Build the whole message (headers + body, CRLF line ends) into a malloc'd
 * string.  Pure apart from the random Message-ID. */
char *icsoe_mail_build(const icsoe_conf *conf, const icsoe_mail *m, time_t now,
                       char *err, size_t errlen);

/* Send through conf->smtp_url; ICSOE_ERR_UNAVAILABLE when the server is down
 * or refuses (err says what it answered), within conf->smtp_timeout. */
icsoe_status icsoe_mail_send(const icsoe_conf *conf, const icsoe_mail *m,
                             char *err, size_t errlen);

/* Templated mails.  name is "activation", "reset" or "password_set"; the
 * subject is the text template's first line "Subject: ...".  Templates come
 * from conf->mail_template_dir/<name>.txt|.html when set, else built-in.
 * Variables available: site_name, name, curp, link, valid_until, login_url. */
icsoe_status icsoe_mail_send_template(const icsoe_conf *conf, const char *name,
                                      const icsoe_tvar *vars, size_t nvars,
                                      const char *to_addr, const char *to_name,
                                      char *err, size_t errlen);

#endif
