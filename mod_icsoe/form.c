/* POST forms: a bounded body read, the strict urlencoded parser of
 * lib/form.c, and the two cross-site checks (Fetch metadata / Origin, and
 * the CSRF token bound to the session). */
#include <string.h>
#include <strings.h>

#include "apr_strings.h"
#include "apr_uri.h"
#include "http_protocol.h"
#include "http_request.h"

#include "mod_icsoe.h"
#include "secure.h"

static apr_status_t form_cleanup(void *data)
{
    icsoe_form_free(data);
    return APR_SUCCESS;
}

static int is_urlencoded(const char *ct)
{
    static const char want[] = "application/x-www-form-urlencoded";
    size_t n = sizeof(want) - 1;

    if (!ct || strncasecmp(ct, want, n) != 0)
        return 0;
    /* parameters (charset=UTF-8) may follow */
    ct += n;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

/* Read at most max bytes of body into buf; HTTP_REQUEST_ENTITY_TOO_LARGE
 * as soon as more arrive (the rest is left for Apache to discard). */
static int read_body(request_rec *r, char *buf, size_t max, size_t *len)
{
    int rc;

    *len = 0;
    /* Apache parses Content-Length strictly here (400 when malformed) and
     * keeps it in r->remaining: a declared body over max is refused
     * before a byte of it is read */
    rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK);
    if (rc != OK)
        return rc;
    if (!r->read_chunked && r->remaining > (apr_off_t)max)
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    if (!ap_should_client_block(r))
        return OK;
    for (;;) {
        long got;

        if (*len == max) {
            char extra;

            got = ap_get_client_block(r, &extra, 1);
            if (got < 0)
                return HTTP_BAD_REQUEST;
            return got == 0 ? OK : HTTP_REQUEST_ENTITY_TOO_LARGE;
        }
        got = ap_get_client_block(r, buf + *len, max - *len);
        if (got < 0)
            return HTTP_BAD_REQUEST;
        if (got == 0)
            return OK;
        *len += (size_t)got;
    }
}

int icsoe_read_form(request_rec *r, icsoe_form *out)
{
    char *body = apr_palloc(r->pool, ICSOE_FORM_BODY_MAX + 1);
    /* the parsed form lives in the pool, where its cleanup can reach it
     * after the caller's (usually stack) struct is gone; the caller gets a
     * shallow copy whose strings stay valid until the request ends */
    icsoe_form *f = apr_palloc(r->pool, sizeof(*f)); /* parse sets it all */
    size_t len = 0, wipe;
    int rc;

    memset(out, 0, sizeof(*out));
    if (r->method_number != M_POST)
        return HTTP_METHOD_NOT_ALLOWED;
    rc = icsoe_check_post_origin(r);
    if (rc != OK)
        return rc;
    if (!is_urlencoded(apr_table_get(r->headers_in, "Content-Type")))
        return HTTP_UNSUPPORTED_MEDIA_TYPE;
    rc = read_body(r, body, ICSOE_FORM_BODY_MAX, &len);
    /* what was read (and its terminator); all of it after a failed read */
    wipe = rc == OK ? len + 1 : ICSOE_FORM_BODY_MAX + 1;
    if (rc == OK && icsoe_form_parse(body, len, ICSOE_FORM_BODY_MAX, f) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ICSOE_LOGNO(0401)
                      "malformed form body (%lu bytes)", (unsigned long)len);
        rc = HTTP_BAD_REQUEST;
    }
    /* the body may hold a password (8 KiB wiped on every POST was 4 % of
     * a login's instructions) */
    icsoe_wipe(body, wipe);
    if (rc == HTTP_REQUEST_ENTITY_TOO_LARGE)
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ICSOE_LOGNO(0402)
                      "form body over %d bytes refused", ICSOE_FORM_BODY_MAX);
    if (rc != OK)
        return rc;
    apr_pool_cleanup_register(r->pool, f, form_cleanup, apr_pool_cleanup_null);
    *out = *f;
    return OK;
}

int icsoe_read_upload(request_rec *r, size_t max, icsoe_multipart *out)
{
    char boundary[ICSOE_MULTIPART_BOUNDARY_MAX + 1];
    char *body;
    size_t len = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    if (r->method_number != M_POST)
        return HTTP_METHOD_NOT_ALLOWED;
    rc = icsoe_check_post_origin(r);
    if (rc != OK)
        return rc;
    if (icsoe_multipart_boundary(apr_table_get(r->headers_in, "Content-Type"),
                                 boundary) != 0)
        return HTTP_UNSUPPORTED_MEDIA_TYPE;
    body = apr_palloc(r->pool, max + 1);
    rc = read_body(r, body, max, &len);
    if (rc == HTTP_REQUEST_ENTITY_TOO_LARGE)
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ICSOE_LOGNO(0404)
                      "upload over %lu bytes refused", (unsigned long)max);
    if (rc != OK)
        return rc;
    if (icsoe_multipart_parse(body, len, boundary, out) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ICSOE_LOGNO(0405)
                      "malformed multipart body (%lu bytes)", (unsigned long)len);
        return HTTP_BAD_REQUEST;
    }
    return OK;
}

int icsoe_read_query(request_rec *r, icsoe_form *out)
{
    icsoe_form *q = apr_pcalloc(r->pool, sizeof(*q));

    memset(out, 0, sizeof(*out));
    if (!r->args || !r->args[0])
        return OK;
    if (icsoe_form_parse(r->args, strlen(r->args), ICSOE_QUERY_MAX, q) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ICSOE_LOGNO(0403)
                      "malformed query string");
        return HTTP_BAD_REQUEST;
    }
    apr_pool_cleanup_register(r->pool, q, form_cleanup, apr_pool_cleanup_null);
    *out = *q;
    return OK;
}

/* host[:port] of an Origin header value equals the request's Host? */
static int origin_matches(request_rec *r, const char *origin)
{
    const char *host = apr_table_get(r->headers_in, "Host");
    apr_uri_t u;
    const char *authority;

    if (!host || apr_uri_parse(r->pool, origin, &u) != APR_SUCCESS ||
        !u.scheme || !u.hostname || u.path || u.query || u.fragment)
        return 0;
    if (strcasecmp(u.scheme, "http") != 0 && strcasecmp(u.scheme, "https") != 0)
        return 0;
    authority = u.port_str ? apr_pstrcat(r->pool, u.hostname, ":", u.port_str,
                                         NULL)
                           : u.hostname;
    if (strcasecmp(authority, host) == 0)
        return 1;
    /* a Host that names the scheme's default port explicitly */
    if (!u.port_str) {
        const char *dflt = strcasecmp(u.scheme, "https") == 0 ? ":443" : ":80";

        return strcasecmp(apr_pstrcat(r->pool, u.hostname, dflt, NULL),
                          host) == 0;
    }
    return 0;
}

int icsoe_check_post_origin(request_rec *r)
{
    const char *site = apr_table_get(r->headers_in, "Sec-Fetch-Site");
    const char *origin = apr_table_get(r->headers_in, "Origin");

    if (site && strcasecmp(site, "same-origin") != 0 &&
        strcasecmp(site, "none") != 0) {
        icsoe_audit(r, "csrf-origin", NULL,
                    apr_pstrcat(r->pool, "sec-fetch-site:",
                                ap_escape_logitem(r->pool, site), NULL));
        return HTTP_FORBIDDEN;
    }
    /* Our pages send "Referrer-Policy: no-referrer", under which browsers
     * send "Origin: null" even for a same-origin form.  "null" is accepted
     * only together with "Sec-Fetch-Site: same-origin", which a page cannot
     * forge; alone it is refused (sandboxed frames and data: URLs send it
     * too).  The CSRF token is checked in any case. */
    if (origin && strcmp(origin, "null") == 0) {
        if (site && strcasecmp(site, "same-origin") == 0)
            return OK;
        icsoe_audit(r, "csrf-origin", NULL, "origin-null");
        return HTTP_FORBIDDEN;
    }
    if (origin && !origin_matches(r, origin)) {
        icsoe_audit(r, "csrf-origin", NULL, "origin");
        return HTTP_FORBIDDEN;
    }
    return OK;
}

int icsoe_check_csrf(request_rec *r, const icsoe_session *s,
                     const icsoe_form *f)
{
    const char *token = icsoe_form_get(f, "csrf");

    if (s && token && icsoe_session_csrf_ok(s, token))
        return OK;
    icsoe_audit(r, "csrf-failed", s && s->curp[0] ? s->curp : NULL,
                token ? "mismatch" : "missing");
    return HTTP_FORBIDDEN;
}

const char *icsoe_csrf_token(request_rec *r, const icsoe_session *s)
{
    char tok[32];
    const char *out;

    icsoe_session_csrf_token(s, tok);
    out = apr_pstrdup(r->pool, tok);
    icsoe_wipe(tok, sizeof(tok));
    return out;
}
