/* Helpers shared by the page handlers: escaping for template fragments,
 * pre-login sessions carrying the CSRF secret, POST checks and the
 * "must be logged in" gate. */
#include <string.h>

#include "apr_lib.h"
#include "apr_strings.h"
#include "http_protocol.h"
#include "http_request.h"
#include "httpd.h"

#include "handlers.h"

/* Query strings are small (a token, a return path, a filter, a page). */
#define QUERY_MAX 4096

/* The same five characters the template engine escapes in {{name}}, so a
 * fragment built here is as safe in an attribute as in text. */
static const char *entity(char c)
{
    switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&#39;";
    default: return NULL;
    }
}

const char *icsoe_pg_esc(request_rec *r, const char *s)
{
    size_t extra = 0;
    size_t i;
    char *out;
    char *p;

    if (s == NULL)
        return "";
    for (i = 0; s[i] != '\0'; i++) {
        const char *e = entity(s[i]);
        if (e != NULL)
            extra += strlen(e) - 1;
    }
    if (extra == 0)
        return s;
    out = apr_palloc(r->pool, i + extra + 1);
    p = out;
    for (i = 0; s[i] != '\0'; i++) {
        const char *e = entity(s[i]);
        if (e != NULL) {
            size_t n = strlen(e);
            memcpy(p, e, n);
            p += n;
        } else {
            *p++ = s[i];
        }
    }
    *p = '\0';
    return out;
}

const char *icsoe_pg_self(request_rec *r)
{
    return ap_escape_uri(r->pool, r->uri);
}

const char *icsoe_pg_box(request_rec *r, int is_error, const char *text)
{
    return apr_pstrcat(r->pool,
                       is_error ? "<div class=\"alert\" role=\"alert\"><p>"
                                : "<div class=\"notice\" role=\"status\"><p>",
                       icsoe_pg_esc(r, text), "</p></div>", NULL);
}

static apr_status_t form_cleanup(void *data)
{
    icsoe_form_free(data);
    return APR_SUCCESS;
}

icsoe_form *icsoe_pg_new_form(request_rec *r)
{
    return apr_pcalloc(r->pool, sizeof(icsoe_form));
}

icsoe_form *icsoe_pg_query(request_rec *r)
{
    icsoe_form *q = icsoe_pg_new_form(r);
    const char *args = icsoe_request_query(r);

    if (args == NULL || args[0] == '\0')
        return q;
    if (icsoe_form_parse(args, strlen(args), QUERY_MAX, q) != 0) {
        memset(q, 0, sizeof(*q));
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ICSOE_LOGNO(1001)
                      "icsoe_pg_query: malformed query string ignored");
        return q;
    }
    apr_pool_cleanup_register(r->pool, q, form_cleanup, apr_pool_cleanup_null);
    return q;
}

int icsoe_pg_fail(request_rec *r, int status)
{
    if (status == HTTP_METHOD_NOT_ALLOWED)
        apr_table_setn(r->err_headers_out, "Allow", "GET, POST");
    return icsoe_error_page(r, status);
}

int icsoe_pg_form_session(request_rec *r, icsoe_session *s)
{
    int rv;

    if (icsoe_session_load(r, s))
        return OK;
    rv = icsoe_session_new(r, s, NULL, NULL, 0);
    if (rv != OK)
        return rv;
    return icsoe_session_save(r, s);
}

int icsoe_pg_read_post(request_rec *r, icsoe_form **f, icsoe_session *s)
{
    int rv;

    /* icsoe_read_form fills all of it, empty on failure: no zeroing here */
    *f = apr_palloc(r->pool, sizeof(**f));
    memset(s, 0, sizeof(*s));
    rv = icsoe_read_form(r, *f);

    if (rv != OK)
        return rv;
    /* A zeroed session has a zero CSRF secret whose token anybody can
     * compute: without a cookie that opens there is nothing to compare. */
    if (!icsoe_session_load(r, s)) {
        icsoe_audit(r, "csrf-failed", NULL, "no-session");
        return HTTP_FORBIDDEN;
    }
    return icsoe_check_csrf(r, s, *f);
}

int icsoe_pg_require_login(request_rec *r, icsoe_session *s, int *rv)
{
    int st;

    if (!icsoe_session_load(r, s) || s->curp[0] == '\0') {
        *rv = icsoe_redirect_303(r, icsoe_login_redirect_url(r));
        return 0;
    }
    /* Force the check: a copy of a logged-out cookie, a locked account or
     * a revoked contractor must not get through these pages at all. */
    s->validated = 0;
    st = icsoe_session_revalidate(r, s);
    if (st == OK)
        return 1;
    if (st == HTTP_UNAUTHORIZED)
        *rv = icsoe_redirect_303(r, icsoe_login_redirect_url(r));
    else
        *rv = icsoe_pg_fail(r, st);
    return 0;
}

const char *icsoe_pg_field(request_rec *r, const icsoe_form *f,
                           const char *name, size_t max)
{
    const char *v = icsoe_form_get(f, name);
    size_t start = 0;
    size_t end;

    if (v == NULL)
        return NULL;
    end = strlen(v);
    while (start < end && apr_isspace(v[start]))
        start++;
    while (end > start && apr_isspace(v[end - 1]))
        end--;
    if (end - start > max)
        return NULL;
    return apr_pstrmemdup(r->pool, v + start, end - start);
}

static const char *page_href(request_rec *r, size_t page, const char *filter)
{
    const char *href = apr_psprintf(r->pool, "%s?p=%" APR_SIZE_T_FMT,
                                    icsoe_pg_self(r), page);

    if (filter != NULL && filter[0] != '\0')
        href = apr_pstrcat(r->pool, href, "&q=",
                           ap_escape_urlencoded(r->pool, filter), NULL);
    return icsoe_pg_esc(r, href);
}

/* "Página N de M" with previous/next links to this page, keeping the
 * filter text; empty for a single page. */
const char *icsoe_pg_pager(request_rec *r, size_t page, size_t pages,
                           const char *filter)
{
    const char *html;

    if (pages <= 1)
        return "";
    html = apr_psprintf(r->pool, "<nav class=\"pager\" aria-label=\"Páginas\">"
                        "<span>Página %" APR_SIZE_T_FMT " de %"
                        APR_SIZE_T_FMT "</span>", page, pages);
    if (page > 1)
        html = apr_pstrcat(r->pool, html, "<a href=\"",
                           page_href(r, page - 1, filter),
                           "\" rel=\"prev\">Página anterior</a>", NULL);
    if (page < pages)
        html = apr_pstrcat(r->pool, html, "<a href=\"",
                           page_href(r, page + 1, filter),
                           "\" rel=\"next\">Página siguiente</a>", NULL);
    return apr_pstrcat(r->pool, html, "</nav>", NULL);
}
