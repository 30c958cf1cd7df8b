/* Our session cookie is ours alone.
 *
 * Threat: the sealed session cookie is a bearer credential; a proxied
 * backend, a CGI or another module that receives "Cookie:
 * __Host-icsoe_session=..." may log it or replay it (mod_auth_openidc
 * strips its cookies for the same reason, OIDCStripCookies).
 * Rule: with ICSOEStripCookies On (the default), before any other module
 * sees the request (post_read_request, really first) every Cookie pair
 * named like our cookie (with or without the __Host- prefix; the
 * pre-login session that carries the login form's CSRF secret is the same
 * cookie) is taken out of the Cookie headers and kept in the request
 * state, where session_cookie.c reads it; every other pair keeps its name
 * and value.  Internal redirects and subrequests find it through r->prev
 * and r->main.
 * Pitfall: a Cookie header left empty must go, not stay as "Cookie: ". */
#include <string.h>

#include "apr_strings.h"
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"

#include "mod_icsoe.h"

typedef struct strip_ctx {
    request_rec *r;
    const char *name;           /* cookie_name */
    size_t name_len;
    const char *own;            /* pairs taken out, "; "-joined */
    apr_array_header_t *kept;   /* new Cookie header values, const char * */
    int changed;
} strip_ctx;

/* "NAME=...", "__Host-NAME=..." or either name alone (len bytes at
 * pair) */
static int is_ours(const strip_ctx *c, const char *pair, size_t len)
{
    if (len > 7 && memcmp(pair, "__Host-", 7) == 0) {
        pair += 7;
        len -= 7;
    }
    return len >= c->name_len && memcmp(pair, c->name, c->name_len) == 0 &&
           (len == c->name_len || pair[c->name_len] == '=');
}

/* Append a pair to a "; "-joined list being built in buf (*used bytes). */
static void append_pair(char *buf, size_t *used, const char *pair, size_t len)
{
    if (*used > 0) {
        memcpy(buf + *used, "; ", 2);
        *used += 2;
    }
    memcpy(buf + *used, pair, len);
    *used += len;
    buf[*used] = '\0';
}

/* One Cookie header: our pairs to c->own, the others to c->kept.  Both
 * lists are built in one pass into buffers of twice the header's length:
 * a pair is never longer than the header, and a separator we write ("; ")
 * is at most one byte longer than the one it replaces (at least ";"). */
static void strip_header(strip_ctx *c, const char *value)
{
    const char *p = value;
    size_t vlen, own_used = 0, kept_used = 0;
    char *own, *kept;

    /* most requests carry no cookie of ours: keep those headers untouched
     * without splitting them (__Host-NAME contains NAME too) */
    if (strstr(value, c->name) == NULL) {
        APR_ARRAY_PUSH(c->kept, const char *) = value;
        return;
    }
    vlen = strlen(value);
    own = apr_palloc(c->r->pool, 2 * vlen + 1);
    kept = apr_palloc(c->r->pool, 2 * vlen + 1);
    for (const char *stop = value + vlen; p < stop;) {
        const char *end;
        size_t len;

        while (p < stop && (*p == ' ' || *p == '\t' || *p == ';'))
            p++;
        end = memchr(p, ';', (size_t)(stop - p));
        len = (size_t)((end != NULL ? end : stop) - p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len > 0 && is_ours(c, p, len))
            append_pair(own, &own_used, p, len);
        else if (len > 0)
            append_pair(kept, &kept_used, p, len);
        p = end != NULL ? end + 1 : stop;
    }
    if (own_used == 0) {
        /* a header without ours stays exactly as it came */
        APR_ARRAY_PUSH(c->kept, const char *) = value;
        return;
    }
    c->changed = 1;
    c->own = c->own != NULL ? apr_pstrcat(c->r->pool, c->own, "; ", own, NULL)
                            : own;
    if (kept_used > 0)
        APR_ARRAY_PUSH(c->kept, const char *) = kept;
}

static int icsoe_strip_cookies(request_rec *r)
{
    icsoe_srv_conf *sc = icsoe_srv(r);
    strip_ctx c;
    const apr_array_header_t *arr;
    const apr_table_entry_t *e;
    int headers = 0;

    if (sc == NULL || sc->strip_cookies != 1 || sc->cookie_name == NULL ||
        apr_table_get(r->headers_in, "Cookie") == NULL)
        return DECLINED;
    memset(&c, 0, sizeof(c));
    c.r = r;
    c.name = sc->cookie_name;
    c.name_len = strlen(sc->cookie_name);
    /* every Cookie header, in one walk over the headers */
    arr = apr_table_elts(r->headers_in);
    e = (const apr_table_entry_t *)arr->elts;
    for (int i = 0; i < arr->nelts; i++) {
        if (e[i].key == NULL || (e[i].key[0] | 0x20) != 'c' ||
            strcasecmp(e[i].key, "Cookie") != 0)
            continue;
        if (c.kept == NULL)
            c.kept = apr_array_make(r->pool, 2, sizeof(const char *));
        strip_header(&c, e[i].val);
        headers++;
    }
    if (!c.changed)
        return DECLINED;
    if (headers == 1 && c.kept->nelts == 1) {
        apr_table_setn(r->headers_in, "Cookie",
                       APR_ARRAY_IDX(c.kept, 0, const char *));
    } else {
        apr_table_unset(r->headers_in, "Cookie");
        for (int i = 0; i < c.kept->nelts; i++)
            apr_table_addn(r->headers_in, "Cookie",
                           APR_ARRAY_IDX(c.kept, i, const char *));
    }
    icsoe_req_state(r)->own_cookies = c.own;
    ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r, ICSOE_LOGNO(1060)
                  "session cookie taken out of the request headers "
                  "(ICSOEStripCookies On)");
    return DECLINED;
}

const char *icsoe_own_cookies(request_rec *r)
{
    for (request_rec *x = r; x != NULL; x = x->prev) {
        for (request_rec *m = x; m != NULL; m = m->main) {
            const icsoe_req *st = ap_get_module_config(m->request_config,
                                                       &icsoe_module);

            if (st != NULL && st->own_cookies != NULL)
                return st->own_cookies;
        }
    }
    return NULL;
}

void icsoe_register_cookie_strip_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_post_read_request(icsoe_strip_cookies, NULL, NULL,
                              APR_HOOK_REALLY_FIRST);
}
