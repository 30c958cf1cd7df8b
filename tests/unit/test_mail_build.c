/* icsoe_mail_build: the message as bytes, checked the way a receiving MTA
 * and a mail reader would see it (header lines, encoded-words decoded back,
 * quoted-printable decoded back), plus every header-injection route. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <curl/curl.h>
#include "input.h"
#include "mail.h"

#define NOW ((time_t)1795631400) /* Wed, 25 Nov 2026 18:30:00 UTC */

static icsoe_conf *make_conf(const char *from)
{
    static icsoe_conf conf;
    memset(&conf, 0, sizeof conf);
    conf.mail_from = (char *)from;
    conf.smtp_url = (char *)"smtp://127.0.0.1:9/";
    conf.smtp_timeout = 2;
    return &conf;
}

static icsoe_mail base_mail(void)
{
    icsoe_mail m = {
        .to_addr = "ana.lopez@example.test",
        .to_name = "Ana López",
        .subject = "Crea tu contraseña de ICSOE",
        .text = "Hola, Ana:\n\nhttps://icsoe.example.test/icsoe/activar?t=abc\n",
        .html = "<p>Hola, Ana:</p>\n<p><a href=\"https://x.test/\">enlace</a></p>\n",
    };
    return m;
}

static char *build_ok(const icsoe_conf *conf, const icsoe_mail *m)
{
    char err[256] = "";
    char *msg = icsoe_mail_build(conf, m, NOW, err, sizeof err);
    if (msg == NULL)
        fail_msg("build failed: %s", err);
    return msg;
}

/* ---- helpers: a tiny mail reader ---- */

/* Header block (up to the first empty line) unfolded: each logical header
 * as "Name: value" with folds (CRLF SP) replaced by a single space is not
 * what RFC 2047 wants between encoded-words, so keep the raw value and let
 * decode_words drop whitespace between words. */
static char *header_value(const char *msg, const char *name)
{
    size_t nl = strlen(name);
    const char *p = msg;
    const char *end = strstr(msg, "\r\n\r\n");
    assert_non_null(end);
    while (p < end) {
        if (strncmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            const char *q = v;
            char *out;
            size_t o = 0;
            /* through continuation lines */
            for (;;) {
                const char *eol = strstr(q, "\r\n");
                if (eol[2] == ' ' || eol[2] == '\t')
                    q = eol + 2;
                else {
                    q = eol;
                    break;
                }
            }
            out = malloc((size_t)(q - v) + 1);
            for (const char *s = v; s < q; s++) {
                if (*s == '\r' && s[1] == '\n') {
                    s++;
                    continue;
                }
                out[o++] = *s;
            }
            out[o] = '\0';
            return out;
        }
        p = strstr(p, "\r\n") + 2;
    }
    return NULL;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decode "=?UTF-8?B?...?=" words separated by whitespace (which RFC 2047
 * says to drop between adjacent encoded-words).  Plain text outside words
 * is copied.  Each word must be <= 75 chars and decode to whole UTF-8
 * characters. */
static char *decode_words(const char *v)
{
    char *out = calloc(1, strlen(v) + 1);
    size_t o = 0;
    int last_was_word = 0;
    while (*v == ' ')
        v++;
    while (*v != '\0') {
        if (strncmp(v, "=?UTF-8?B?", 10) == 0) {
            const char *end = strstr(v + 10, "?=");
            unsigned acc = 0;
            int bits = 0;
            size_t start = o;
            assert_non_null(end);
            assert_true(end + 2 - v <= 75);
            for (const char *s = v + 10; s < end; s++) {
                int d;
                if (*s == '=')
                    break;
                d = b64val(*s);
                assert_true(d >= 0);
                acc = (acc << 6) | (unsigned)d;
                bits += 6;
                if (bits >= 8) {
                    bits -= 8;
                    out[o++] = (char)((acc >> bits) & 0xff);
                }
            }
            assert_true(icsoe_utf8_valid(out + start, o - start));
            v = end + 2;
            last_was_word = 1;
            continue;
        }
        if (*v == ' ' && last_was_word) {
            const char *s = v;
            while (*s == ' ')
                s++;
            if (strncmp(s, "=?", 2) == 0) {
                v = s;
                continue;
            }
        }
        last_was_word = 0;
        out[o++] = *v++;
    }
    out[o] = '\0';
    return out;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Quoted-printable decoding of one part's body (CRLF line ends). */
static char *qp_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=') {
            if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
                i += 2;
                continue;
            }
            assert_true(i + 2 < n);
            assert_true(hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0);
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
            continue;
        }
        out[o++] = s[i];
    }
    out[o] = '\0';
    return out;
}

/* The body of the part with the given Content-Type, QP-decoded. */
static char *part_body(const char *msg, const char *type)
{
    char needle[128];
    const char *p, *body, *end;
    snprintf(needle, sizeof needle, "Content-Type: %s; charset=UTF-8\r\n", type);
    p = strstr(msg, needle);
    assert_non_null(p);
    body = strstr(p, "\r\n\r\n");
    assert_non_null(body);
    body += 4;
    end = strstr(body, "\r\n--=_icsoe_");
    assert_non_null(end);
    return qp_decode(body, (size_t)(end - body));
}

static void assert_crlf_only(const char *msg)
{
    for (const char *p = msg; *p != '\0'; p++) {
        if (*p == '\n')
            assert_true(p > msg && p[-1] == '\r');
        if (*p == '\r')
            assert_true(p[1] == '\n');
        /* 7-bit on the wire */
        assert_true((unsigned char)*p < 0x80);
    }
}

static size_t max_line(const char *from, const char *to)
{
    size_t max = 0;
    while (from < to) {
        const char *eol = strstr(from, "\r\n");
        if (eol == NULL || eol > to)
            eol = to;
        if ((size_t)(eol - from) > max)
            max = (size_t)(eol - from);
        from = eol + 2;
    }
    return max;
}

/* ---- tests ---- */

static void test_headers_present(void **state)
{
    icsoe_mail m = base_mail();
    char *msg = build_ok(make_conf("ICSOE <icsoe@imss.example.test>"), &m);
    char *v;
    (void)state;

    assert_crlf_only(msg);
    v = header_value(msg, "From");
    assert_string_equal(v, " ICSOE <icsoe@imss.example.test>");
    free(v);
    v = header_value(msg, "Date");
    assert_string_equal(v, " Wed, 25 Nov 2026 18:30:00 +0000");
    free(v);
    v = header_value(msg, "MIME-Version");
    assert_string_equal(v, " 1.0");
    free(v);
    v = header_value(msg, "Message-ID");
    assert_non_null(v);
    assert_int_equal(strlen(v), strlen(" <") + 32 + strlen("@imss.example.test>"));
    assert_true(strncmp(v, " <", 2) == 0);
    assert_non_null(strstr(v, "@imss.example.test>"));
    free(v);
    v = header_value(msg, "Content-Type");
    assert_true(strncmp(v, " multipart/alternative; boundary=\"=_icsoe_", 42) == 0);
    free(v);
    assert_non_null(strstr(msg, "Content-Type: text/plain; charset=UTF-8\r\n"
                                "Content-Transfer-Encoding: quoted-printable\r\n"));
    assert_non_null(strstr(msg, "Content-Type: text/html; charset=UTF-8\r\n"
                                "Content-Transfer-Encoding: quoted-printable\r\n"));
    /* closing delimiter */
    assert_non_null(strstr(msg, "--\r\n"));
    assert_true(max_line(msg, strstr(msg, "\r\n\r\n")) <= 78);
    free(msg);
}

static void test_subject_and_name_decode(void **state)
{
    icsoe_mail m = base_mail();
    char *msg = build_ok(make_conf("ICSOE <icsoe@imss.example.test>"), &m);
    char *v, *d;
    (void)state;

    v = header_value(msg, "Subject");
    assert_non_null(strstr(v, "=?UTF-8?B?"));
    d = decode_words(v);
    assert_string_equal(d, "Crea tu contraseña de ICSOE");
    free(v);
    free(d);
    v = header_value(msg, "To");
    d = decode_words(v);
    assert_string_equal(d, "Ana López <ana.lopez@example.test>");
    free(v);
    free(d);
    free(msg);
}

static void test_long_subject_split_on_characters(void **state)
{
    /* 2-, 3- and 4-byte characters so chunk edges fall inside characters */
    char subject[512] = "";
    icsoe_mail m = base_mail();
    char *msg, *v, *d;
    const char *hdr_end;
    (void)state;

    for (int i = 0; i < 20; i++)
        strcat(subject, i % 3 == 0 ? "ñandú " : i % 3 == 1 ? "€uro " : "😀x");
    m.subject = subject;
    msg = build_ok(make_conf("icsoe@imss.example.test"), &m);
    hdr_end = strstr(msg, "\r\n\r\n");
    assert_true(max_line(msg, hdr_end) <= 78);
    v = header_value(msg, "Subject");
    d = decode_words(v); /* asserts each word <= 75 and whole characters */
    assert_string_equal(d, subject);
    free(v);
    free(d);
    free(msg);
}

/* The decoded text of each encoded-word of a header value, in order. */
static size_t decoded_words(const char *v, char **out, size_t max)
{
    size_t n = 0;
    const char *p = v;

    while (n < max && (p = strstr(p, "=?UTF-8?B?")) != NULL) {
        const char *end = strstr(p + 10, "?=");
        char one[128];
        size_t len;
        assert_non_null(end);
        len = (size_t)(end + 2 - p);
        assert_true(len < sizeof one);
        memcpy(one, p, len);
        one[len] = '\0';
        out[n++] = decode_words(one);
        p = end + 2;
    }
    return n;
}

/* Item 7 of issue 17: readers that show each encoded-word apart must not
 * see "Herná ndez".  Every encoded-word but the last ends with the space
 * between two words, so no word of the name is cut. */
static void test_long_name_split_between_words(void **state)
{
    static const char *const names[] = {
        "María Guadalupe Hernández Fernández de la Concepción Ñúñez",
        "José Ángel Gutiérrez Domínguez Hernández Velázquez Sánchez Ibáñez",
    };
    (void)state;

    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        icsoe_mail m = base_mail();
        char subject[256];
        const char *hdrs[] = { "To", "Subject" };
        char *msg;

        snprintf(subject, sizeof subject, "Bienvenida, %s", names[k]);
        m.to_name = names[k];
        m.subject = subject;
        msg = build_ok(make_conf("icsoe@imss.example.test"), &m);
        for (size_t h = 0; h < 2; h++) {
            char *words[16];
            char *v = header_value(msg, hdrs[h]);
            char *whole = decode_words(v);
            size_t n = decoded_words(v, words, 16);

            assert_true(n >= 2); /* long enough to need several words */
            assert_non_null(strstr(whole, names[k]));
            for (size_t i = 0; i < n; i++) {
                size_t len = strlen(words[i]);
                if (i + 1 < n)
                    assert_true(len > 0 && words[i][len - 1] == ' ');
                free(words[i]);
            }
            free(whole);
            free(v);
        }
        free(msg);
    }
}

/* A single word longer than an encoded-word can hold is still cut, but
 * only between characters (decode_words checks each word is UTF-8). */
static void test_overlong_word_split_on_characters(void **state)
{
    icsoe_mail m = base_mail();
    char *msg, *v, *d;
    const char *word =
        "Ñandúñandúñandúñandúñandúñandúñandúñandúñandúñandúñandúñandú";
    (void)state;

    m.to_name = word;
    msg = build_ok(make_conf("icsoe@imss.example.test"), &m);
    v = header_value(msg, "To");
    d = decode_words(v);
    assert_non_null(strstr(d, word));
    free(v);
    free(d);
    free(msg);
}

/* Item 4 of issue 17: a refused address, our configuration and an outage
 * are told apart by the reply and the command it answered. */
static void test_failure_classification(void **state)
{
    (void)state;
    assert_int_equal(icsoe_mail_classify(CURLE_OK, "", ""), ICSOE_MAIL_OK);
    /* recipient refused for good */
    assert_int_equal(icsoe_mail_classify(CURLE_SEND_ERROR, "RCPT", "550 5.1.1 no such user"),
                     ICSOE_MAIL_REFUSED);
    assert_int_equal(icsoe_mail_classify(CURLE_SEND_ERROR, "RCPT", "553 bad address syntax"),
                     ICSOE_MAIL_REFUSED);
    /* "relaying denied" at RCPT is policy: our AUTH or relay settings */
    assert_int_equal(icsoe_mail_classify(CURLE_SEND_ERROR, "RCPT", "550 5.7.1 relaying denied"),
                     ICSOE_MAIL_CONFIG);
    /* full mailbox and greylisting: later */
    assert_int_equal(icsoe_mail_classify(CURLE_SEND_ERROR, "RCPT", "552 5.2.2 mailbox full"),
                     ICSOE_MAIL_TEMPORARY);
    assert_int_equal(icsoe_mail_classify(CURLE_SEND_ERROR, "RCPT", "451 4.7.1 greylisted"),
                     ICSOE_MAIL_TEMPORARY);
    /* wrong password, sender refused, content refused */
    assert_int_equal(icsoe_mail_classify(CURLE_LOGIN_DENIED, "AUTH", "535 5.7.8 bad credentials"),
                     ICSOE_MAIL_CONFIG);
    assert_int_equal(icsoe_mail_classify(CURLE_LOGIN_DENIED, "AUTH", "454 4.7.0 try later"),
                     ICSOE_MAIL_TEMPORARY);
    assert_int_equal(icsoe_mail_classify(CURLE_SEND_ERROR, "MAIL", "550 sender refused"),
                     ICSOE_MAIL_CONFIG);
    assert_int_equal(icsoe_mail_classify(CURLE_WEIRD_SERVER_REPLY, ".", "554 spam"),
                     ICSOE_MAIL_CONFIG);
    /* STARTTLS: 454 is the relay's trouble, no STARTTLS at all is ours */
    assert_int_equal(icsoe_mail_classify(CURLE_USE_SSL_FAILED, "STARTTLS", "454 TLS not available"),
                     ICSOE_MAIL_TEMPORARY);
    assert_int_equal(icsoe_mail_classify(CURLE_USE_SSL_FAILED, "EHLO", ""), ICSOE_MAIL_CONFIG);
    /* no reply at all */
    assert_int_equal(icsoe_mail_classify(CURLE_COULDNT_CONNECT, "", ""), ICSOE_MAIL_TEMPORARY);
    assert_int_equal(icsoe_mail_classify(CURLE_OPERATION_TIMEDOUT, "", ""), ICSOE_MAIL_TEMPORARY);
    assert_int_equal(icsoe_mail_classify(CURLE_PEER_FAILED_VERIFICATION, "", ""),
                     ICSOE_MAIL_CONFIG);
    assert_string_equal(icsoe_mail_fail_name(ICSOE_MAIL_REFUSED), "refused");
}

static void test_ascii_subject_raw(void **state)
{
    icsoe_mail m = base_mail();
    char *msg, *v;
    (void)state;

    m.subject = "Hello ICSOE";
    m.to_name = NULL;
    msg = build_ok(make_conf("icsoe@imss.example.test"), &m);
    v = header_value(msg, "Subject");
    assert_string_equal(v, " Hello ICSOE");
    free(v);
    v = header_value(msg, "To");
    assert_string_equal(v, " ana.lopez@example.test");
    free(v);
    v = header_value(msg, "From");
    assert_string_equal(v, " icsoe@imss.example.test");
    free(v);
    free(msg);
}

static void test_subject_posing_as_encoded_word(void **state)
{
    /* A literal "=?...?=" in a subject must not be shown decoded. */
    icsoe_mail m = base_mail();
    char *msg, *v, *d;
    (void)state;

    m.subject = "=?UTF-8?B?SGk=?=";
    msg = build_ok(make_conf("icsoe@imss.example.test"), &m);
    v = header_value(msg, "Subject");
    d = decode_words(v);
    assert_string_equal(d, "=?UTF-8?B?SGk=?=");
    free(v);
    free(d);
    free(msg);
}

static void test_quoted_display_names(void **state)
{
    icsoe_mail m = base_mail();
    char *msg, *v;
    (void)state;

    m.to_name = "Perez, \"Ana\" \\ Q";
    msg = build_ok(make_conf("\"Mesa de ayuda, ICSOE\" <icsoe@imss.example.test>"), &m);
    v = header_value(msg, "To");
    assert_string_equal(v, " \"Perez, \\\"Ana\\\" \\\\ Q\" <ana.lopez@example.test>");
    free(v);
    v = header_value(msg, "From");
    assert_string_equal(v, " \"Mesa de ayuda, ICSOE\" <icsoe@imss.example.test>");
    free(v);
    free(msg);
}

static void test_non_ascii_from(void **state)
{
    icsoe_mail m = base_mail();
    char *msg, *v, *d;
    (void)state;

    msg = build_ok(make_conf("Buzón ICSOE <icsoe@imss.example.test>"), &m);
    v = header_value(msg, "From");
    d = decode_words(v);
    assert_string_equal(d, "Buzón ICSOE <icsoe@imss.example.test>");
    free(v);
    free(d);
    free(msg);
}

static void test_bodies_qp_roundtrip(void **state)
{
    char longline[1200];
    char text[1400];
    icsoe_mail m = base_mail();
    char *msg, *t, *h;
    const char *body;
    (void)state;

    /* one 600-byte line mixing '=', blanks and 2-byte characters */
    longline[0] = '\0';
    for (int i = 0; i < 60; i++)
        strcat(longline, "ñandú=x y");
    snprintf(text, sizeof text, "línea uno\nlínea dos\r\ntres\rcuatro  \n.\n%s\nfin\t\n",
             longline);
    m.text = text;
    msg = build_ok(make_conf("icsoe@imss.example.test"), &m);
    assert_crlf_only(msg);
    body = strstr(msg, "\r\n\r\n");
    assert_true(max_line(body, body + strlen(body)) <= 76);
    t = part_body(msg, "text/plain");
    {
        /* line ends normalised to CRLF, everything else exact */
        char expect[1500];
        snprintf(expect, sizeof expect,
                 "línea uno\r\nlínea dos\r\ntres\r\ncuatro  \r\n.\r\n%s\r\nfin\t\r\n",
                 longline);
        assert_string_equal(t, expect);
    }
    /* trailing blanks are encoded, never left at a line end */
    assert_non_null(strstr(msg, "cuatro =20\r\n"));
    assert_non_null(strstr(msg, "fin=09\r\n"));
    h = part_body(msg, "text/html");
    assert_string_equal(h, "<p>Hola, Ana:</p>\r\n<p><a href=\"https://x.test/\">enlace</a></p>\r\n");
    free(t);
    free(h);
    free(msg);
}

static void test_random_ids_differ(void **state)
{
    icsoe_mail m = base_mail();
    icsoe_conf *conf = make_conf("icsoe@imss.example.test");
    char *a = build_ok(conf, &m);
    char *b = build_ok(conf, &m);
    char *ia = header_value(a, "Message-ID"), *ib = header_value(b, "Message-ID");
    char *ca = header_value(a, "Content-Type"), *cb = header_value(b, "Content-Type");
    (void)state;
    assert_string_not_equal(ia, ib);
    assert_string_not_equal(ca, cb);
    free(ia); free(ib); free(ca); free(cb); free(a); free(b);
}

static void test_text_only(void **state)
{
    icsoe_mail m = base_mail();
    char *msg, *v;
    (void)state;

    m.html = NULL;
    msg = build_ok(make_conf("icsoe@imss.example.test"), &m);
    v = header_value(msg, "Content-Type");
    assert_string_equal(v, " text/plain; charset=UTF-8");
    free(v);
    assert_null(strstr(msg, "multipart"));
    free(msg);
}

/* ---- refusals ---- */

static void expect_refused(const icsoe_conf *conf, const icsoe_mail *m, const char *what)
{
    char err[256] = "";
    char *msg = icsoe_mail_build(conf, m, NOW, err, sizeof err);
    if (msg != NULL)
        fail_msg("accepted %s:\n%s", what, msg);
    assert_true(err[0] != '\0');
    /* icsoe_mail_send refuses before any network I/O (smtp_url is a
     * closed port: a connection attempt would say UNAVAILABLE). */
    assert_int_equal(icsoe_mail_send(conf, m, NULL, err, sizeof err), ICSOE_ERR_INVALID_INPUT);
}

static void test_injection_refused(void **state)
{
    static const char *const bad[] = {
        "Ana\r\nBcc: x@evil.test", "Ana\nBcc: x@evil.test", "Ana\rBcc: x@evil.test",
        "Ana\r\n", "\nAna", "Ana\tTab", "Ana\x7f",
    };
    (void)state;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        icsoe_mail m = base_mail();
        char from[128];
        m.to_name = bad[i];
        expect_refused(make_conf("icsoe@imss.example.test"), &m, "to_name");
        m = base_mail();
        m.subject = bad[i];
        expect_refused(make_conf("icsoe@imss.example.test"), &m, "subject");
        m = base_mail();
        snprintf(from, sizeof from, "%s <icsoe@imss.example.test>", bad[i]);
        expect_refused(make_conf(from), &m, "mail_from name");
    }
    {
        icsoe_mail m = base_mail();
        m.to_addr = "ana@example.test\r\nBcc: x@evil.test";
        expect_refused(make_conf("icsoe@imss.example.test"), &m, "to_addr CRLF");
        m.to_addr = "ana@example.test\n";
        expect_refused(make_conf("icsoe@imss.example.test"), &m, "to_addr LF");
        m = base_mail();
        expect_refused(make_conf("icsoe@imss.example.test\r\nBcc: x@evil.test"), &m,
                       "mail_from CRLF");
        expect_refused(make_conf("ICSOE <icsoe@imss.example.test>\r\nBcc: x@evil.test"),
                       &m, "mail_from CRLF after addr");
    }
}

static void test_bad_values_refused(void **state)
{
    icsoe_mail m;
    char longsubj[700];
    (void)state;

    m = base_mail();
    m.to_addr = "not-an-address";
    expect_refused(make_conf("icsoe@imss.example.test"), &m, "bad address");
    m.to_addr = "ana@[127.0.0.1]";
    expect_refused(make_conf("icsoe@imss.example.test"), &m, "domain literal");
    m.to_addr = NULL;
    expect_refused(make_conf("icsoe@imss.example.test"), &m, "no address");
    m = base_mail();
    m.subject = "Contrase\xf1" "a"; /* Latin-1, not UTF-8 */
    expect_refused(make_conf("icsoe@imss.example.test"), &m, "latin-1 subject");
    m.subject = NULL;
    expect_refused(make_conf("icsoe@imss.example.test"), &m, "no subject");
    m = base_mail();
    memset(longsubj, 'a', sizeof longsubj - 1);
    longsubj[sizeof longsubj - 1] = '\0';
    m.subject = longsubj;
    expect_refused(make_conf("icsoe@imss.example.test"), &m, "overlong subject");
    m = base_mail();
    m.text = "caf\xe9";
    expect_refused(make_conf("icsoe@imss.example.test"), &m, "latin-1 body");
    m = base_mail();
    m.text = NULL;
    expect_refused(make_conf("icsoe@imss.example.test"), &m, "no text body");
    m = base_mail();
    expect_refused(make_conf(NULL), &m, "no mail_from");
    expect_refused(make_conf("ICSOE"), &m, "mail_from without address");
    expect_refused(make_conf("ICSOE <icsoe@imss.example.test> x"), &m, "text after >");
    expect_refused(make_conf("ICSOE <icsoe>"), &m, "mail_from bad address");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headers_present),
        cmocka_unit_test(test_subject_and_name_decode),
        cmocka_unit_test(test_long_subject_split_on_characters),
        cmocka_unit_test(test_long_name_split_between_words),
        cmocka_unit_test(test_overlong_word_split_on_characters),
        cmocka_unit_test(test_failure_classification),
        cmocka_unit_test(test_ascii_subject_raw),
        cmocka_unit_test(test_subject_posing_as_encoded_word),
        cmocka_unit_test(test_quoted_display_names),
        cmocka_unit_test(test_non_ascii_from),
        cmocka_unit_test(test_bodies_qp_roundtrip),
        cmocka_unit_test(test_random_ids_differ),
        cmocka_unit_test(test_text_only),
        cmocka_unit_test(test_injection_refused),
        cmocka_unit_test(test_bad_values_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
