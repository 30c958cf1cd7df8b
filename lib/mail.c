/* The mailer: builds RFC 5322 / MIME messages and hands them to libcurl's
 * SMTP client.
 *
 * Header injection is the classic bug of web mailers, so every header value
 * that comes from outside (recipient, names from LDAP, subject rendered
 * from a template, mail_from from the config) is checked for control
 * characters and refused, never "cleaned".  Non-ASCII text goes into
 * headers only as RFC 2047 encoded-words, bodies only as quoted-printable,
 * so the message on the wire is 7-bit and every line is short. */
#define _GNU_SOURCE /* gethostname */
#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "err.h"
#include "input.h"
#include "mail.h"
#include "secure.h"

#define MAIL_MAX (1024 * 1024)       /* whole message, bodies included */
#define MAIL_HEADER_TEXT_MAX 512     /* subject and display names, bytes */
#define MAIL_LINE_SOFT 78            /* RFC 5322 recommended line length */
#define MAIL_QP_LINE 76              /* RFC 2045 limit for encoded lines */
/* Raw UTF-8 bytes per encoded-word: "=?UTF-8?B?" + 52 base64 chars + "?="
 * is 64 characters, well under RFC 2047's 75 even after "Subject: ". */
#define MAIL_EW_CHUNK 39
#define MAIL_TEMPLATE_MAX (64 * 1024)
#define MAIL_RENDER_MAX (256 * 1024)
#define MAIL_TEMPLATE_NAME_MAX 32
#define MAIL_REPLY_MAX 200

/* ---------------------------------------------------------------- errors */


/* ---------------------------------------------------------------- buffer */

/* A growing message buffer with a hard cap.  Failures are sticky so the
 * builder can append freely and check once at the end. */
typedef struct mbuf {
    char *p;
    size_t n;
    size_t cap;
    int failed;
} mbuf;

static void mb_put(mbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (n >= MAIL_MAX - b->n) {
        b->failed = 1;
        return;
    }
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap == 0 ? 4096 : b->cap;
        char *p;
        while (cap < b->n + n + 1)
            cap *= 2;
        p = realloc(b->p, cap);
        if (p == NULL) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void mb_puts(mbuf *b, const char *s)
{
    mb_put(b, s, strlen(s));
}

static void mb_printf(mbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void mb_printf(mbuf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        b->failed = 1;
        return;
    }
    mb_put(b, tmp, (size_t)n);
}

/* The message may carry a one-time link: wipe before freeing. */
static void mb_free(mbuf *b)
{
    if (b->p != NULL) {
        icsoe_wipe(b->p, b->cap);
        free(b->p);
    }
    b->p = NULL;
    b->n = b->cap = 0;
}

/* ---------------------------------------------------------------- checks */

/* A header value from outside: bounded, UTF-8, and no control character at
 * all (CR and LF would start a new header; the rest has no business in a
 * name or subject either). */
static int header_text_ok(const char *s, size_t max)
{
    size_t n;

    if (s == NULL)
        return 0;
    n = strnlen(s, max + 1);
    if (n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return 0;
    }
    return icsoe_utf8_valid(s, n);
}

static int is_plain_ascii(const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c > 0x7e)
            return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------- headers */

/* A header being written, to fold between tokens before a line grows past
 * 78 characters. */
typedef struct hdr {
    mbuf *b;
    size_t col;
    int tokens;
} hdr;

static void hdr_begin(hdr *h, mbuf *b, const char *name)
{
    h->b = b;
    h->tokens = 0;
    mb_puts(b, name);
    mb_puts(b, ":");
    h->col = strlen(name) + 1;
}

/* Append a token preceded by a space, or by a fold (CRLF SP) when the line
 * would get too long.  Tokens never contain CR or LF. */
static void hdr_token(hdr *h, const char *tok, size_t len)
{
    if (h->tokens > 0 && h->col + 1 + len > MAIL_LINE_SOFT) {
        mb_puts(h->b, "\r\n");
        h->col = 0;
    }
    mb_puts(h->b, " ");
    mb_put(h->b, tok, len);
    h->col += 1 + len;
    h->tokens++;
}

static void hdr_end(hdr *h)
{
    mb_puts(h->b, "\r\n");
}

static void base64_encode(const unsigned char *in, size_t n, char *out)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;

    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

/* How many bytes of s (n left) go into the next encoded-word.  Readers
 * join adjacent encoded-words without the space between them, but some
 * show a word cut in two as two words ("Herná ndez"): so a word ends only
 * after a space (encoded inside it), and only a single word longer than a
 * whole chunk is cut, then between characters (a word must never split a
 * UTF-8 sequence: continuation bytes are 10xxxxxx, valid UTF-8 has a
 * character start within 3 bytes). */
static size_t ew_chunk(const char *s, size_t n)
{
    size_t chunk;

    if (n <= MAIL_EW_CHUNK)
        return n;
    for (chunk = MAIL_EW_CHUNK; chunk > 0; chunk--) {
        if (s[chunk - 1] == ' ')
            return chunk;
    }
    chunk = MAIL_EW_CHUNK;
    while (chunk > 1 && ((unsigned char)s[chunk] & 0xC0) == 0x80)
        chunk--;
    return chunk;
}

/* UTF-8 text as RFC 2047 "B" encoded-words, each one a header token. */
static void hdr_encoded_words(hdr *h, const char *s)
{
    size_t n = strlen(s);
    size_t i = 0;

    while (i < n) {
        char word[16 + 4 * MAIL_EW_CHUNK];
        char b64[4 * MAIL_EW_CHUNK / 3 + 8];
        size_t chunk = ew_chunk(s + i, n - i);
        int len;

        base64_encode((const unsigned char *)s + i, chunk, b64);
        len = snprintf(word, sizeof word, "=?UTF-8?B?%s?=", b64);
        hdr_token(h, word, (size_t)len);
        i += chunk;
    }
}

static int is_atext_or_space(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == ' ' ||
           strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* A display name (RFC 5322 phrase): atoms as they are, other ASCII as a
 * quoted-string, anything non-ASCII as encoded-words.  "=?" is quoted so
 * a name can never pose as an encoded-word. */
static void hdr_phrase(hdr *h, const char *name)
{
    int atoms = 1;

    if (!is_plain_ascii(name)) {
        hdr_encoded_words(h, name);
        return;
    }
    for (const char *p = name; *p != '\0'; p++) {
        if (!is_atext_or_space((unsigned char)*p))
            atoms = 0;
    }
    if (name[0] == ' ' || strstr(name, "=?") != NULL || strstr(name, "  ") != NULL)
        atoms = 0;
    if (atoms) {
        hdr_token(h, name, strlen(name));
        return;
    }
    {
        char q[2 * MAIL_HEADER_TEXT_MAX + 3];
        size_t o = 0;
        q[o++] = '"';
        for (const char *p = name; *p != '\0'; p++) {
            if (*p == '"' || *p == '\\')
                q[o++] = '\\';
            q[o++] = *p;
        }
        q[o++] = '"';
        hdr_token(h, q, o);
    }
}

static void put_mailbox_header(mbuf *b, const char *field, const char *name,
                               const char *addr)
{
    hdr h;
    char angle[ICSOE_EMAIL_MAX + 3];
    int len;

    hdr_begin(&h, b, field);
    if (name == NULL || name[0] == '\0') {
        hdr_token(&h, addr, strlen(addr));
    } else {
        hdr_phrase(&h, name);
        len = snprintf(angle, sizeof angle, "<%s>", addr);
        hdr_token(&h, angle, (size_t)len);
    }
    hdr_end(&h);
}

/* Unstructured Subject: short plain ASCII as it is, else encoded-words. */
static void put_subject(mbuf *b, const char *subject)
{
    hdr h;

    hdr_begin(&h, b, "Subject");
    if (subject[0] == '\0') {
        mb_puts(b, " ");
    } else if (is_plain_ascii(subject) && strstr(subject, "=?") == NULL &&
               subject[0] != ' ' && strlen(subject) + 10 <= MAIL_LINE_SOFT) {
        hdr_token(&h, subject, strlen(subject));
    } else {
        hdr_encoded_words(&h, subject);
    }
    hdr_end(&h);
}

/* RFC 5322 date in UTC, with English names whatever the locale says. */
static int format_date(time_t now, char *out, size_t outlen)
{
    static const char *const wday[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    struct tm tm;
    int n;

    if (gmtime_r(&now, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 ||
        tm.tm_mon < 0 || tm.tm_mon > 11)
        return -1;
    n = snprintf(out, outlen, "%s, %02d %s %04d %02d:%02d:%02d +0000",
                 wday[tm.tm_wday], tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900,
                 tm.tm_hour, tm.tm_min, tm.tm_sec);
    return n > 0 && (size_t)n < outlen ? 0 : -1;
}

static int random_hex(char *out, size_t nbytes)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[32];

    if (nbytes > sizeof raw || icsoe_random(raw, nbytes) != 0)
        return -1;
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * nbytes] = '\0';
    return 0;
}

/* ---------------------------------------------------------------- mail_from */

typedef struct sender {
    char name[MAIL_HEADER_TEXT_MAX + 1];
    char addr[ICSOE_EMAIL_MAX + 1];
} sender;

/* mail_from is "addr", "Name <addr>" or "\"Name\" <addr>". */
static int parse_mail_from(const char *from, sender *out, char *err, size_t errlen)
{
    const char *lt, *gt, *end;
    size_t nlen, alen, o = 0;

    out->name[0] = out->addr[0] = '\0';
    if (from == NULL || from[0] == '\0') {
        icsoe_set_err(err, errlen, "mail_from is not set");
        return -1;
    }
    if (!header_text_ok(from, MAIL_HEADER_TEXT_MAX + ICSOE_EMAIL_MAX + 3)) {
        icsoe_set_err(err, errlen, "mail_from contains control characters, is not UTF-8 or is too long");
        return -1;
    }
    lt = strrchr(from, '<');
    if (lt == NULL) {
        alen = strlen(from);
        if (alen > ICSOE_EMAIL_MAX)
            goto bad_addr;
        memcpy(out->addr, from, alen + 1);
        goto check_addr;
    }
    gt = strchr(lt, '>');
    end = from + strlen(from);
    while (end > from && end[-1] == ' ')
        end--;
    if (gt == NULL || gt + 1 != end)
        goto bad_addr;
    alen = (size_t)(gt - lt - 1);
    if (alen > ICSOE_EMAIL_MAX)
        goto bad_addr;
    memcpy(out->addr, lt + 1, alen);
    out->addr[alen] = '\0';

    /* The display name, trimmed, unquoted. */
    while (from < lt && *from == ' ')
        from++;
    nlen = (size_t)(lt - from);
    while (nlen > 0 && from[nlen - 1] == ' ')
        nlen--;
    if (nlen >= 2 && from[0] == '"' && from[nlen - 1] == '"') {
        from++;
        nlen -= 2;
        for (size_t i = 0; i < nlen && o < MAIL_HEADER_TEXT_MAX; i++) {
            if (from[i] == '\\' && i + 1 < nlen)
                i++;
            out->name[o++] = from[i];
        }
    } else {
        for (size_t i = 0; i < nlen && o < MAIL_HEADER_TEXT_MAX; i++)
            out->name[o++] = from[i];
    }
    out->name[o] = '\0';

check_addr:
    if (icsoe_email_valid(out->addr))
        return 0;
bad_addr:
    icsoe_set_err(err, errlen, "mail_from: not a valid address");
    return -1;
}

/* ---------------------------------------------------------------- bodies */

/* Quoted-printable (RFC 2045 6.7) of UTF-8 text whose line ends may be LF,
 * CRLF or a lone CR: each becomes a hard CRLF.  Encoded lines stay within
 * 76 characters (soft breaks), trailing blanks are encoded. */
static void qp_body(mbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t col = 0;

    for (const char *p = s; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        char tok[3];
        size_t t;

        if (c == '\r' || c == '\n') {
            if (c == '\r' && p[1] == '\n')
                p++;
            mb_puts(b, "\r\n");
            col = 0;
            continue;
        }
        if ((c >= 33 && c <= 126 && c != '=') ||
            ((c == ' ' || c == '\t') && p[1] != '\0' && p[1] != '\r' && p[1] != '\n')) {
            tok[0] = (char)c;
            t = 1;
        } else {
            tok[0] = '=';
            tok[1] = hex[c >> 4];
            tok[2] = hex[c & 15];
            t = 3;
        }
        /* Room for the soft break's '=' on this line. */
        if (col + t > MAIL_QP_LINE - 1) {
            mb_puts(b, "=\r\n");
            col = 0;
        }
        mb_put(b, tok, t);
        col += t;
    }
    mb_puts(b, "\r\n");
}

static void put_part(mbuf *b, const char *boundary, const char *type, const char *body)
{
    mb_printf(b, "--%s\r\n", boundary);
    mb_printf(b, "Content-Type: %s; charset=UTF-8\r\n", type);
    mb_puts(b, "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
    qp_body(b, body);
}

/* ---------------------------------------------------------------- build */

static icsoe_status check_mail(const icsoe_mail *m, char *err, size_t errlen)
{
    if (m->to_addr == NULL || !header_text_ok(m->to_addr, ICSOE_EMAIL_MAX) ||
        !icsoe_email_valid(m->to_addr)) {
        icsoe_set_err(err, errlen, "recipient address is not a valid email address");
        return ICSOE_ERR_INVALID_INPUT;
    }
    if (m->to_name != NULL && !header_text_ok(m->to_name, MAIL_HEADER_TEXT_MAX)) {
        icsoe_set_err(err, errlen, "recipient name contains control characters, is not UTF-8 or is too long");
        return ICSOE_ERR_INVALID_INPUT;
    }
    if (!header_text_ok(m->subject, MAIL_HEADER_TEXT_MAX)) {
        icsoe_set_err(err, errlen, "subject is missing, contains control characters, is not UTF-8 or is too long");
        return ICSOE_ERR_INVALID_INPUT;
    }
    if (m->text == NULL || !icsoe_utf8_valid(m->text, strlen(m->text))) {
        icsoe_set_err(err, errlen, "text body is missing or not UTF-8");
        return ICSOE_ERR_INVALID_INPUT;
    }
    if (m->html != NULL && !icsoe_utf8_valid(m->html, strlen(m->html))) {
        icsoe_set_err(err, errlen, "HTML body is not UTF-8");
        return ICSOE_ERR_INVALID_INPUT;
    }
    return ICSOE_OK;
}

static icsoe_status build(const icsoe_conf *conf, const icsoe_mail *m, time_t now,
                          sender *from, mbuf *b, char *err, size_t errlen)
{
    char date[64], id[33], boundary[48], hexb[25];
    const char *domain;
    icsoe_status st;

    if (conf == NULL || m == NULL) {
        icsoe_set_err(err, errlen, "no configuration or message");
        return ICSOE_ERR_INVALID_INPUT;
    }
    if (parse_mail_from(conf->mail_from, from, err, errlen) != 0)
        return ICSOE_ERR_INVALID_INPUT;
    st = check_mail(m, err, errlen);
    if (st != ICSOE_OK)
        return st;
    if (format_date(now, date, sizeof date) != 0) {
        icsoe_set_err(err, errlen, "cannot format the date");
        return ICSOE_ERR_INVALID_INPUT;
    }
    if (random_hex(id, 16) != 0 || random_hex(hexb, 12) != 0) {
        icsoe_set_err(err, errlen, "random number generator failed");
        return ICSOE_ERR_INTERNAL;
    }
    /* "=_" never occurs in quoted-printable output, so the boundary cannot
     * collide with a body line. */
    snprintf(boundary, sizeof boundary, "=_icsoe_%s", hexb);
    domain = strchr(from->addr, '@') + 1;

    put_mailbox_header(b, "From", from->name, from->addr);
    put_mailbox_header(b, "To", m->to_name, m->to_addr);
    put_subject(b, m->subject);
    mb_printf(b, "Date: %s\r\n", date);
    mb_printf(b, "Message-ID: <%s@%s>\r\n", id, domain);
    mb_puts(b, "MIME-Version: 1.0\r\n");
    /* RFC 3834: tells autoresponders not to answer. */
    mb_puts(b, "Auto-Submitted: auto-generated\r\n");
    if (m->html == NULL) {
        mb_puts(b, "Content-Type: text/plain; charset=UTF-8\r\n");
        mb_puts(b, "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
        qp_body(b, m->text);
    } else {
        mb_printf(b, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n",
                  boundary);
        put_part(b, boundary, "text/plain", m->text);
        put_part(b, boundary, "text/html", m->html);
        mb_printf(b, "--%s--\r\n", boundary);
    }
    if (b->failed) {
        icsoe_set_err(err, errlen, "message too large or out of memory");
        return ICSOE_ERR_INTERNAL;
    }
    return ICSOE_OK;
}

char *icsoe_mail_build(const icsoe_conf *conf, const icsoe_mail *m, time_t now,
                       char *err, size_t errlen)
{
    mbuf b = { 0 };
    sender from;

    if (build(conf, m, now, &from, &b, err, errlen) != ICSOE_OK) {
        mb_free(&b);
        return NULL;
    }
    return b.p;
}

/* ---------------------------------------------------------------- sending */

int icsoe_mail_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

typedef struct upload {
    const char *p;
    size_t left;
} upload;

static size_t read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
    upload *u = ud;
    size_t n = size * nitems;

    if (n > u->left)
        n = u->left;
    memcpy(buf, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

/* What the server answered, to explain a refusal and to tell a refused
 * address from an outage from our own misconfiguration.
 *
 * cmd is the verb of the last command we sent, read from what libcurl
 * reports as sent (CURLINFO_HEADER_OUT): only the first word, and only
 * when it is a known SMTP verb, so the lines of an AUTH exchange (which
 * carry credentials) are never copied and leave cmd at "AUTH".  After a
 * 354 the next reply answers the end of the data: cmd becomes ".".
 * last is the last 4xx/5xx reply with the command it answered; a later
 * success clears it, except "221" (the reply to the QUIT libcurl sends
 * after a failure). */
typedef struct reply {
    char cmd[12];
    char last[MAIL_REPLY_MAX + 1];
    char last_cmd[12];
} reply;

static void note_command(reply *r, const char *data, size_t size)
{
    static const char *const verbs[] = {
        "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "QUIT", "RSET", "NOOP", NULL
    };

    for (size_t i = 0; verbs[i] != NULL; i++) {
        size_t n = strlen(verbs[i]);
        if (size >= n && memcmp(data, verbs[i], n) == 0 &&
            (size == n || data[n] == ' ' || data[n] == '\r' || data[n] == '\n')) {
            memcpy(r->cmd, verbs[i], n + 1);
            return;
        }
    }
}

static void note_reply(reply *r, const char *data, size_t size)
{
    size_t o = 0;

    while (size > 0 && (data[size - 1] == '\n' || data[size - 1] == '\r'))
        size--;
    if (size >= 3 && memcmp(data, "354", 3) == 0)
        snprintf(r->cmd, sizeof r->cmd, ".");
    if (size == 0 || (data[0] != '4' && data[0] != '5')) {
        if (size >= 3 && memcmp(data, "221", 3) != 0)
            r->last[0] = '\0';
        return;
    }
    for (size_t i = 0; i < size && o < MAIL_REPLY_MAX; i++) {
        unsigned char c = (unsigned char)data[i];
        r->last[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    r->last[o] = '\0';
    memcpy(r->last_cmd, r->cmd, sizeof r->cmd);
}

static int debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *ud)
{
    reply *r = ud;

    (void)h;
    if (type == CURLINFO_HEADER_OUT)
        note_command(r, data, size);
    else if (type == CURLINFO_HEADER_IN)
        note_reply(r, data, size);
    return 0;
}

const char *icsoe_mail_fail_name(icsoe_mail_fail f)
{
    switch (f) {
    case ICSOE_MAIL_OK: return "sent";
    case ICSOE_MAIL_TEMPORARY: return "temporary";
    case ICSOE_MAIL_REFUSED: return "refused";
    case ICSOE_MAIL_CONFIG: return "configuration";
    }
    return "unknown";
}

/* A 5xx to RCPT is about the address, unless its enhanced status code
 * says policy (5.7.x: "relaying denied", authentication required), which
 * is our configuration.  552 to RCPT is a full mailbox: RFC 5321 lets a
 * client treat it as temporary. */
static icsoe_mail_fail classify_reply(const char *cmd, const char *reply)
{
    if (reply[0] == '4')
        return ICSOE_MAIL_TEMPORARY;
    if (strcmp(cmd, "RCPT") == 0) {
        if (strncmp(reply, "552", 3) == 0)
            return ICSOE_MAIL_TEMPORARY;
        if (strlen(reply) >= 8 && strncmp(reply + 3, " 5.7.", 5) == 0)
            return ICSOE_MAIL_CONFIG;
        return ICSOE_MAIL_REFUSED;
    }
    /* EHLO, STARTTLS, AUTH (535), MAIL (sender refused), DATA, end of
     * data (content refused): resending the same thing fails the same
     * way until the configuration or the message changes. */
    return ICSOE_MAIL_CONFIG;
}

icsoe_mail_fail icsoe_mail_classify(int curl_code, const char *cmd, const char *reply)
{
    if (curl_code == CURLE_OK)
        return ICSOE_MAIL_OK;
    if (reply != NULL && (reply[0] == '4' || reply[0] == '5'))
        return classify_reply(cmd != NULL ? cmd : "", reply);
    switch (curl_code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_SSL_CONNECT_ERROR:       /* TLS handshake: wrong port or versions */
    case CURLE_PEER_FAILED_VERIFICATION: /* whose CA? smtp_tls_cacertfile */
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_USE_SSL_FAILED:          /* STARTTLS required, not offered */
    case CURLE_LOGIN_DENIED:            /* smtp_user set, no usable AUTH */
    case CURLE_NOT_BUILT_IN:
        return ICSOE_MAIL_CONFIG;
    default:
        /* down, unreachable, timed out, connection dropped: try later */
        return ICSOE_MAIL_TEMPORARY;
    }
}

/* The URL libcurl connects to, with the EHLO name as its path (libcurl
 * takes the path as the EHLO argument): smtp_helo when set (replacing any
 * path), else the URL's own path, else this host's name. */
static char *smtp_url_with_ehlo(const char *url, const char *helo)
{
    const char *scheme_end = strstr(url, "://");
    const char *path;
    char host[256];
    size_t n, base;
    char *out;

    if (scheme_end == NULL)
        return strdup(url);
    path = strchr(scheme_end + 3, '/');
    base = path != NULL ? (size_t)(path - url) : strlen(url);
    if (helo != NULL && helo[0] != '\0') {
        snprintf(host, sizeof host, "%s", helo);
    } else {
        if (path != NULL && path[1] != '\0')
            return strdup(url);
        if (gethostname(host, sizeof host) != 0 || host[0] == '\0')
            snprintf(host, sizeof host, "localhost");
        host[sizeof host - 1] = '\0';
        for (char *p = host; *p != '\0'; p++) {
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '-' || *p == '.')) {
                snprintf(host, sizeof host, "localhost");
                break;
            }
        }
    }
    n = base + 1 + strlen(host) + 1;
    out = malloc(n);
    if (out != NULL)
        snprintf(out, n, "%.*s/%s", (int)base, url, host);
    return out;
}

static const char *fail_advice(icsoe_mail_fail f)
{
    switch (f) {
    case ICSOE_MAIL_REFUSED:
        return "the server refused the recipient address permanently";
    case ICSOE_MAIL_CONFIG:
        return "check the mail settings (smtp_url, smtp_user, smtp_pass_file, "
               "smtp_tls_cacertfile, mail_from)";
    default:
        return "temporary failure, a later resend may work";
    }
}

static void send_error(const char *url, CURLcode rc, const char *errbuf,
                       const reply *r, icsoe_mail_fail f, char *err, size_t errlen)
{
    /* A URL with user info could carry a password: name it only without. */
    const char *where = strchr(url, '@') == NULL ? url : "SMTP server";
    const char *what = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);

    if (r->last[0] == '4' || r->last[0] == '5')
        icsoe_set_err(err, errlen, "%s: %s (server replied \"%s\" to %s): %s", where, what,
                      r->last, r->last_cmd[0] == '.' ? "the message" : r->last_cmd,
                      fail_advice(f));
    else
        icsoe_set_err(err, errlen, "%s: %s: %s", where, what, fail_advice(f));
}

/* What a sending and a probing connection share: the server, its
 * protocols, time limits, TLS and the relay's credentials. */
static CURLcode set_transport(CURL *h, const icsoe_conf *conf, const char *url,
                              char *errbuf)
{
    long timeout = conf->smtp_timeout > 0 ? conf->smtp_timeout : 10;
    long use_ssl = CURLUSESSL_NONE;
    CURLcode rc = CURLE_OK;

    if (conf->smtp_starttls == ICSOE_STARTTLS_TRY)
        use_ssl = CURLUSESSL_TRY;
    else if (conf->smtp_starttls == ICSOE_STARTTLS_REQUIRED)
        use_ssl = CURLUSESSL_ALL;
#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(h, opt, val); } while (0)
    SET(CURLOPT_ERRORBUFFER, errbuf);
    SET(CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
    SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
    /* Signals are process-wide: an Apache worker thread must not use them
     * (DNS timeouts then rely on the threaded resolver). */
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_CONNECTTIMEOUT, timeout);
    SET(CURLOPT_TIMEOUT, timeout);
    SET(CURLOPT_USE_SSL, use_ssl);
    /* A relay with a certificate from a private CA: trust that CA for
     * SMTP only (tls_cacertfile is the directory's).  Verification itself
     * is never turned off. */
    if (conf->smtp_tls_cacertfile != NULL && conf->smtp_tls_cacertfile[0] != '\0')
        SET(CURLOPT_CAINFO, conf->smtp_tls_cacertfile);
    if (conf->smtp_user != NULL && conf->smtp_user[0] != '\0') {
        SET(CURLOPT_USERNAME, conf->smtp_user);
        SET(CURLOPT_PASSWORD, conf->smtp_pass != NULL ? conf->smtp_pass : "");
    }
#undef SET
    return rc;
}

static icsoe_status curl_setup(CURL *h, const icsoe_conf *conf, const char *url,
                               const sender *from, struct curl_slist *rcpt,
                               upload *u, reply *r, char *errbuf)
{
    char mailfrom[ICSOE_EMAIL_MAX + 3];
    CURLcode rc;

    snprintf(mailfrom, sizeof mailfrom, "<%s>", from->addr);
    rc = set_transport(h, conf, url, errbuf);
#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(h, opt, val); } while (0)
    SET(CURLOPT_MAIL_FROM, mailfrom);
    SET(CURLOPT_MAIL_RCPT, rcpt);
    SET(CURLOPT_UPLOAD, 1L);
    SET(CURLOPT_READFUNCTION, read_cb);
    SET(CURLOPT_READDATA, u);
    SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)u->left);
    SET(CURLOPT_DEBUGFUNCTION, debug_cb);
    SET(CURLOPT_DEBUGDATA, r);
    SET(CURLOPT_VERBOSE, 1L); /* the debug callback sees only when verbose */
#undef SET
    return rc == CURLE_OK ? ICSOE_OK : ICSOE_ERR_INTERNAL;
}

icsoe_status icsoe_mail_send(const icsoe_conf *conf, const icsoe_mail *m,
                             icsoe_mail_fail *fail, char *err, size_t errlen)
{
    char errbuf[CURL_ERROR_SIZE];
    char rcptaddr[ICSOE_EMAIL_MAX + 3];
    struct curl_slist *rcpt = NULL;
    reply r = { { 0 }, { 0 }, { 0 } };
    mbuf b = { 0 };
    sender from;
    upload u;
    char *url = NULL;
    CURL *h = NULL;
    CURLcode rc;
    icsoe_status st;
    icsoe_mail_fail f = ICSOE_MAIL_CONFIG;

    errbuf[0] = '\0';
    st = build(conf, m, time(NULL), &from, &b, err, errlen);
    if (st != ICSOE_OK) {
        if (st == ICSOE_ERR_INVALID_INPUT && m != NULL && m->to_addr != NULL &&
            !icsoe_email_valid(m->to_addr))
            f = ICSOE_MAIL_REFUSED;
        goto done;
    }
    if (conf->smtp_url == NULL || conf->smtp_url[0] == '\0') {
        icsoe_set_err(err, errlen, "smtp_url is not set");
        st = ICSOE_ERR_UNAVAILABLE;
        goto done;
    }
    st = ICSOE_ERR_INTERNAL;
    f = ICSOE_MAIL_TEMPORARY;
    url = smtp_url_with_ehlo(conf->smtp_url, conf->smtp_helo);
    snprintf(rcptaddr, sizeof rcptaddr, "<%s>", m->to_addr);
    rcpt = curl_slist_append(NULL, rcptaddr);
    h = curl_easy_init();
    if (url == NULL || rcpt == NULL || h == NULL) {
        icsoe_set_err(err, errlen, "out of memory");
        goto done;
    }
    u.p = b.p;
    u.left = b.n;
    if (curl_setup(h, conf, url, &from, rcpt, &u, &r, errbuf) != ICSOE_OK) {
        icsoe_set_err(err, errlen, "libcurl refused an option (built without SMTP?)");
        f = ICSOE_MAIL_CONFIG;
        goto done;
    }
    rc = curl_easy_perform(h);
    f = icsoe_mail_classify((int)rc, r.last_cmd, r.last);
    if (rc != CURLE_OK) {
        send_error(conf->smtp_url, rc, errbuf, &r, f, err, errlen);
        st = ICSOE_ERR_UNAVAILABLE;
        goto done;
    }
    st = ICSOE_OK;

done:
    if (fail != NULL)
        *fail = st == ICSOE_OK ? ICSOE_MAIL_OK : f;
    if (h != NULL)
        curl_easy_cleanup(h);
    curl_slist_free_all(rcpt);
    free(url);
    mb_free(&b);
    return st;
}

/* ---------------------------------------------------------------- templates */

const struct icsoe_embedded *icsoe_embedded_find(const struct icsoe_embedded *table,
                                                 const char *name)
{
    if (table == NULL || name == NULL)
        return NULL;
    for (; table->name != NULL; table++) {
        if (strcmp(table->name, name) == 0)
            return table;
    }
    return NULL;
}

static int template_name_ok(const char *name)
{
    size_t n = 0;

    if (name == NULL)
        return 0;
    for (; name[n] != '\0'; n++) {
        if (n >= MAIL_TEMPLATE_NAME_MAX ||
            !((name[n] >= 'a' && name[n] <= 'z') || name[n] == '_'))
            return 0;
    }
    return n > 0;
}

/* The source of <name>.<ext>: the override file when it exists, else the
 * built-in.  *owned is set when the caller must free the result. */
static const char *load_template(const icsoe_conf *conf, const char *name,
                                 const char *ext, size_t *len, char **owned,
                                 char *err, size_t errlen)
{
    char file[MAIL_TEMPLATE_NAME_MAX + 8];
    const struct icsoe_embedded *e;

    *owned = NULL;
    snprintf(file, sizeof file, "%s.%s", name, ext);
    if (conf->mail_template_dir != NULL && conf->mail_template_dir[0] != '\0') {
        struct stat st;
        char *path = NULL;
        if (stat(conf->mail_template_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            icsoe_set_err(err, errlen, "mail_template_dir %s: not a directory",
                    conf->mail_template_dir);
            return NULL;
        }
        if (asprintf(&path, "%s/%s", conf->mail_template_dir, file) < 0) {
            icsoe_set_err(err, errlen, "out of memory");
            return NULL;
        }
        if (lstat(path, &st) == 0 || errno != ENOENT) {
            *owned = icsoe_template_read_file(path, MAIL_TEMPLATE_MAX, len, err, errlen);
            free(path);
            return *owned;
        }
        free(path);
    }
    e = icsoe_embedded_find(icsoe_mail_templates, file);
    if (e == NULL) {
        icsoe_set_err(err, errlen, "no mail template '%s'", file);
        return NULL;
    }
    *len = e->len;
    return e->data;
}

static char *render_piece(const char *name, const char *ext, const char *src,
                          size_t len, const icsoe_tvar *vars, size_t nvars,
                          icsoe_escape esc, char *err, size_t errlen)
{
    char why[256];
    char *out;

    why[0] = '\0';
    out = icsoe_template_render(src, len, vars, nvars, esc, MAIL_RENDER_MAX,
                                why, sizeof why);
    if (out == NULL)
        icsoe_set_err(err, errlen, "mail template %s.%s: %s", name, ext, why);
    return out;
}

/* The text template: line 1 is "Subject: ...", the rest is the body (one
 * blank line after the subject is skipped).  The subject line is rendered
 * on its own, so a value with a line break stays inside the subject (and
 * is refused there) instead of silently moving text into the body.  The
 * body is rendered from the newline ending line 1, so template errors keep
 * their line numbers. */
static icsoe_status render_text(const icsoe_conf *conf, const char *name,
                                const icsoe_tvar *vars, size_t nvars,
                                char **subject, char **body,
                                char *err, size_t errlen)
{
    static const char prefix[] = "Subject: ";
    const size_t plen = sizeof prefix - 1;
    char *owned = NULL, *b;
    size_t len = 0, eol, skip;
    const char *src = load_template(conf, name, "txt", &len, &owned, err, errlen);
    icsoe_status st = ICSOE_ERR_INTERNAL;

    *subject = *body = NULL;
    if (src == NULL)
        return st;
    if (len < plen || memcmp(src, prefix, plen) != 0) {
        icsoe_set_err(err, errlen,
                "mail template %s.txt: the first line must be \"Subject: ...\"", name);
        goto done;
    }
    for (eol = 0; eol < len && src[eol] != '\n'; eol++)
        ;
    *subject = render_piece(name, "txt", src + plen,
                            eol - plen - (eol > plen && src[eol - 1] == '\r'),
                            vars, nvars, ICSOE_ESC_NONE, err, errlen);
    if (*subject == NULL)
        goto done;
    b = render_piece(name, "txt", src + eol, len - eol, vars, nvars, ICSOE_ESC_NONE,
                     err, errlen);
    if (b == NULL)
        goto done;
    /* drop the newline of line 1 and one blank line */
    skip = b[0] == '\n' ? 1 : 0;
    if (b[skip] == '\r' && b[skip + 1] == '\n')
        skip += 2;
    else if (b[skip] == '\n')
        skip++;
    memmove(b, b + skip, strlen(b + skip) + 1);
    *body = b;
    st = ICSOE_OK;

done:
    if (st != ICSOE_OK) {
        icsoe_free_secret(*subject);
        *subject = NULL;
    }
    free(owned);
    return st;
}

static char *render_html(const icsoe_conf *conf, const char *name,
                         const icsoe_tvar *vars, size_t nvars, char *err, size_t errlen)
{
    char *owned = NULL, *out;
    size_t len = 0;
    const char *src = load_template(conf, name, "html", &len, &owned, err, errlen);

    if (src == NULL)
        return NULL;
    out = render_piece(name, "html", src, len, vars, nvars, ICSOE_ESC_HTML, err, errlen);
    free(owned);
    return out;
}

icsoe_status icsoe_mail_send_template(const icsoe_conf *conf, const char *name,
                                      const icsoe_tvar *vars, size_t nvars,
                                      const char *to_addr, const char *to_name,
                                      icsoe_mail_fail *fail, char *err, size_t errlen)
{
    char *subject = NULL, *text = NULL, *html = NULL;
    icsoe_status st = ICSOE_ERR_INTERNAL;
    icsoe_mail m = { 0 };

    if (fail != NULL)
        *fail = ICSOE_MAIL_CONFIG; /* a template that does not render */
    if (conf == NULL || !template_name_ok(name)) {
        icsoe_set_err(err, errlen, "bad mail template name");
        return ICSOE_ERR_INVALID_INPUT;
    }
    if (render_text(conf, name, vars, nvars, &subject, &text, err, errlen) != ICSOE_OK)
        goto done;
    html = render_html(conf, name, vars, nvars, err, errlen);
    if (html == NULL)
        goto done;
    m.to_addr = to_addr;
    m.to_name = to_name;
    m.subject = subject;
    m.text = text;
    m.html = html;
    st = icsoe_mail_send(conf, &m, fail, err, errlen);

done:
    /* Rendered mails hold one-time links. */
    icsoe_free_secret(subject);
    icsoe_free_secret(text);
    icsoe_free_secret(html);
    return st;
}

/* icsoectl check: connect, greeting, EHLO, STARTTLS (as smtp_starttls
 * asks) and AUTH when smtp_user is set, then QUIT -- no MAIL command, so
 * nothing is ever sent.  libcurl's CONNECT_ONLY stops right after the
 * protocol's connection phase. */
icsoe_status icsoe_mail_probe(const icsoe_conf *conf, char *err, size_t errlen)
{
    char errbuf[CURL_ERROR_SIZE];
    char *url = NULL;
    CURL *h = NULL;
    CURLcode rc;
    icsoe_status st = ICSOE_ERR_INTERNAL;

    errbuf[0] = '\0';
    if (conf->smtp_url == NULL || conf->smtp_url[0] == '\0') {
        icsoe_set_err(err, errlen, "smtp_url is not set");
        return ICSOE_ERR_INVALID_INPUT;
    }
    url = smtp_url_with_ehlo(conf->smtp_url, conf->smtp_helo);
    h = curl_easy_init();
    if (url == NULL || h == NULL) {
        icsoe_set_err(err, errlen, "out of memory");
        goto done;
    }
    rc = set_transport(h, conf, url, errbuf);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
    if (rc == CURLE_OK)
        rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        const char *where = strchr(conf->smtp_url, '@') == NULL ? conf->smtp_url : "SMTP server";

        icsoe_set_err(err, errlen, "%s: %s", where,
                      errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
        st = ICSOE_ERR_UNAVAILABLE;
        goto done;
    }
    st = ICSOE_OK;
done:
    if (h != NULL)
        curl_easy_cleanup(h);
    free(url);
    return st;
}
