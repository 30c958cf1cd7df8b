/* The session cookie: reading, writing, timeouts and revalidation.
 *
 * lib/session.c seals and opens; this file decides which cookie to try,
 * what "expired" means (ICSOESessionIdleTimeout, ICSOESessionMaxAge), when
 * to re-issue, and when to ask LDAP again (ICSOERevalidateInterval).  Any
 * cookie that does not open, or opens but is out of time, is simply "no
 * session": it is logged at debug level and never becomes an error page. */
#include <string.h>

#include "apr_strings.h"
#include "http_protocol.h"
#include "http_request.h"

#include "mod_icsoe.h"
#include "secure.h"
#include "session_cache.h"

#define ICSOE_MAX_COOKIE_TRIES 4   /* same-named cookies tried per request */
#define ICSOE_CLOCK_SKEW 300       /* seconds a peer server may be ahead */
/* Opened cookies kept per process (~1.3 KB each): a few hundred browsers
 * active at once in one child keep their cookie's open cached. */
#define ICSOE_SESSION_CACHE_SLOTS 512

static icsoe_session_cache *opened_cookies; /* per process, child_init */

static apr_status_t session_cache_cleanup(void *data)
{
    (void)data;
    icsoe_session_cache_free(opened_cookies);
    opened_cookies = NULL;
    return APR_SUCCESS;
}

void icsoe_session_cache_child_init(apr_pool_t *pchild, server_rec *s)
{
    opened_cookies = icsoe_session_cache_new(ICSOE_SESSION_CACHE_SLOTS);
    if (opened_cookies == NULL) {
        /* every request then opens its cookie: slower, not less safe */
        ap_log_error(APLOG_MARK, APLOG_WARNING, APR_ENOMEM, s, ICSOE_LOGNO(2000)
                     "mod_icsoe: no session cache in this process");
        return;
    }
    apr_pool_cleanup_register(pchild, NULL, session_cache_cleanup,
                              apr_pool_cleanup_null);
}

/* Open a cookie, or take what opening these same bytes gave before.  The
 * owner is the server_rec, not its configuration: virtual hosts without
 * ICSOE directives share one configuration but not their site name (the
 * cookie's associated data). */
static icsoe_status open_cookie(request_rec *r, const icsoe_srv_conf *sc,
                                const char *val, size_t vlen,
                                icsoe_session *out)
{
    uint64_t kid = icsoe_keyring_id(sc->keyring);
    icsoe_status st;

    if (icsoe_session_cache_get(opened_cookies, r->server, kid, val, vlen, out))
        return ICSOE_OK;
    st = icsoe_session_open(sc->keyring, val, vlen,
                            r->server->server_hostname, out);
    if (st == ICSOE_OK)
        icsoe_session_cache_put(opened_cookies, r->server, kid, val, vlen, out);
    return st;
}

static int64_t now_sec(request_rec *r)
{
    return (int64_t)apr_time_sec(r->request_time);
}

/* Re-issue for the idle timeout at most this often, so that a busy client
 * does not get a new Set-Cookie on every response. */
static int64_t refresh_after(const icsoe_srv_conf *sc)
{
    int64_t quarter = sc->idle_timeout / 4;

    if (quarter < 1)
        return 1;
    return quarter < 60 ? quarter : 60;
}

/* Why a session opened fine but is not usable now; NULL when usable. */
static const char *session_time_fault(const icsoe_srv_conf *sc,
                                      const icsoe_session *s, int64_t now)
{
    if (s->issued > now + ICSOE_CLOCK_SKEW || s->last_seen > now + ICSOE_CLOCK_SKEW)
        return "issued in the future";
    if (now - s->issued > sc->max_age)
        return "past ICSOESessionMaxAge";
    if (now - s->last_seen > sc->idle_timeout)
        return "past ICSOESessionIdleTimeout";
    return NULL;
}

typedef struct cookie_scan {
    request_rec *r;
    icsoe_srv_conf *sc;
    icsoe_session *out;
    int tries;
    int found;
} cookie_scan;

/* Try one "name=value" pair of a Cookie header. */
static void try_cookie(cookie_scan *cs, const char *pair, size_t len)
{
    const char *name = cs->sc->cookie_full_name;
    size_t nlen = strlen(name);
    const char *val;
    size_t vlen;
    const char *fault;
    icsoe_status st;

    if (len <= nlen || memcmp(pair, name, nlen) != 0 || pair[nlen] != '=')
        return;
    val = pair + nlen + 1;
    vlen = len - nlen - 1;
    if (++cs->tries > ICSOE_MAX_COOKIE_TRIES)
        return;
    if (vlen > ICSOE_SESSION_MAX_COOKIE) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, cs->r, ICSOE_LOGNO(0301)
                      "session cookie refused: %lu bytes", (unsigned long)vlen);
        return;
    }
    st = open_cookie(cs->r, cs->sc, val, vlen, cs->out);
    if (st != ICSOE_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, cs->r, ICSOE_LOGNO(0302)
                      "session cookie refused: does not open for site %s",
                      cs->r->server->server_hostname);
        return;
    }
    fault = session_time_fault(cs->sc, cs->out, now_sec(cs->r));
    if (fault) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, cs->r, ICSOE_LOGNO(0303)
                      "session of %s refused: %s",
                      cs->out->curp[0] ? cs->out->curp : "(pre-login)", fault);
        icsoe_wipe(cs->out, sizeof(*cs->out));
        return;
    }
    cs->found = 1;
}

/* apr_table_do callback over every Cookie header. */
static int scan_cookie_header(void *data, const char *key, const char *value)
{
    cookie_scan *cs = data;
    const char *p = value;

    (void)key;
    while (*p && !cs->found) {
        const char *end;
        size_t len;

        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        end = strchr(p, ';');
        len = end ? (size_t)(end - p) : strlen(p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len > 0)
            try_cookie(cs, p, len);
        p = end ? end + 1 : p + strlen(p);
    }
    return !cs->found;
}

/* Replace any Set-Cookie of ours already queued on this response (a
 * revalidation followed by a handler's save must send one cookie). */
static void put_set_cookie(request_rec *r, const char *cookie)
{
    const char *name = icsoe_srv(r)->cookie_full_name;
    size_t nlen = strlen(name);
    const apr_array_header_t *arr = apr_table_elts(r->err_headers_out);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    apr_array_header_t *keep;
    int i;

    /* the common case (a login, a refresh): no Set-Cookie of any kind yet */
    if (apr_table_get(r->err_headers_out, "Set-Cookie") == NULL) {
        apr_table_addn(r->err_headers_out, "Set-Cookie", cookie);
        return;
    }
    keep = apr_array_make(r->pool, 2, sizeof(const char *));
    for (i = 0; i < arr->nelts; i++) {
        if (!e[i].key || strcasecmp(e[i].key, "Set-Cookie") != 0)
            continue;
        if (strncmp(e[i].val, name, nlen) == 0 && e[i].val[nlen] == '=')
            continue;
        APR_ARRAY_PUSH(keep, const char *) = e[i].val;
    }
    apr_table_unset(r->err_headers_out, "Set-Cookie");
    for (i = 0; i < keep->nelts; i++)
        apr_table_addn(r->err_headers_out, "Set-Cookie",
                       APR_ARRAY_IDX(keep, i, const char *));
    apr_table_addn(r->err_headers_out, "Set-Cookie", cookie);
}

static const char *cookie_attributes(const icsoe_srv_conf *sc)
{
    return sc->cookie_secure ? "; Path=/; Secure; HttpOnly; SameSite=Lax"
                             : "; Path=/; HttpOnly; SameSite=Lax";
}

/* "NAME=VALUE; attributes", joined with the lengths already known (what
 * apr_pstrcat would measure again). */
static const char *cookie_header(request_rec *r, const icsoe_srv_conf *sc,
                                 const char *val, size_t vlen)
{
    const char *attrs = cookie_attributes(sc);
    size_t nlen = strlen(sc->cookie_full_name);
    size_t alen = strlen(attrs);
    char *h = apr_palloc(r->pool, nlen + 1 + vlen + alen + 1);

    memcpy(h, sc->cookie_full_name, nlen);
    h[nlen] = '=';
    memcpy(h + nlen + 1, val, vlen);
    memcpy(h + nlen + 1 + vlen, attrs, alen + 1);
    return h;
}

int icsoe_session_save(request_rec *r, const icsoe_session *s)
{
    icsoe_srv_conf *sc = icsoe_srv(r);
    icsoe_session copy = *s;
    char sealed[ICSOE_SESSION_MAX_COOKIE + 1];
    size_t n;
    int rc = HTTP_INTERNAL_SERVER_ERROR;

    copy.last_seen = now_sec(r);
    n = icsoe_session_seal(sc->keyring, &copy, r->server->server_hostname,
                           sealed, sizeof(sealed));
    if (n == 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ICSOE_LOGNO(0304)
                      "cannot seal the session of %s",
                      copy.curp[0] ? copy.curp : "(pre-login)");
        goto out;
    }
    put_set_cookie(r, cookie_header(r, sc, sealed, n));
    /* the browser's next request (the login POST after the form, the
     * selection page after the login, ...) then needs no decryption when it
     * comes back to this process, as it usually does on a kept-alive
     * connection */
    icsoe_session_cache_put(opened_cookies, r->server,
                            icsoe_keyring_id(sc->keyring), sealed, n, &copy);
    /* keep the copy the auth hook hands to handlers and fixups current */
    {
        icsoe_req *st = icsoe_req_state(r);

        if (st->has_session)
            st->session = copy;
    }
    rc = OK;
out:
    icsoe_wipe(&copy, sizeof(copy));
    icsoe_wipe(sealed, sizeof(sealed));
    return rc;
}

void icsoe_session_clear(request_rec *r)
{
    icsoe_srv_conf *sc = icsoe_srv(r);
    icsoe_req *st = icsoe_req_state(r);

    put_set_cookie(r, apr_pstrcat(r->pool, sc->cookie_full_name,
                                  "=; Max-Age=0; Expires=Thu, 01 Jan 1970 "
                                  "00:00:00 GMT", cookie_attributes(sc), NULL));
    st->has_session = 0;
    icsoe_wipe(&st->session, sizeof(st->session));
}

int icsoe_session_load(request_rec *r, icsoe_session *s)
{
    icsoe_srv_conf *sc = icsoe_srv(r);
    cookie_scan cs = {r, sc, s, 0, 0};

    const char *own = icsoe_own_cookies(r);

    memset(s, 0, sizeof(*s));
    /* ICSOEStripCookies On: ours were taken out of the headers */
    if (own != NULL)
        scan_cookie_header(&cs, "Cookie", own);
    if (!cs.found)
        apr_table_do(scan_cookie_header, &cs, r->headers_in, "Cookie", NULL);
    if (!cs.found) {
        icsoe_wipe(s, sizeof(*s));
        return 0;
    }
    /* idle timeout: the cookie carries last_seen, so move it forward now
     * and then (never on every response) */
    if (now_sec(r) - s->last_seen >= refresh_after(sc) &&
        icsoe_session_save(r, s) == OK)
        s->last_seen = now_sec(r);
    return 1;
}

/* Copy text into a session field of cap bytes (NUL included), cutting at a
 * UTF-8 character boundary when too long.  0 when text is not safe. */
static int copy_name(char *dst, size_t cap, const char *text)
{
    size_t len;

    if (!text)
        text = "";
    len = strlen(text);
    if (!icsoe_text_is_safe(text, len))
        return 0;
    if (len > cap - 1) {
        len = cap - 1;
        /* back up over continuation bytes of a cut character */
        while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(dst, text, len);
    dst[len] = '\0';
    return 1;
}

int icsoe_session_new(request_rec *r, icsoe_session *s, const char *curp,
                      const char *name, long long epoch)
{
    if (icsoe_session_start(s, now_sec(r)) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ICSOE_LOGNO(0305)
                      "no random bytes for a new session");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (curp && curp[0]) {
        /* the whole check (date, state, check digit) ran where the CURP
         * came in (the login form); here its shape is enough */
        if (!icsoe_curp_shape_ok(curp)) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ICSOE_LOGNO(0306)
                          "refusing a session for a malformed CURP");
            goto fail;
        }
        memcpy(s->curp, curp, sizeof(s->curp));
    }
    if (!copy_name(s->name, sizeof(s->name), name)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ICSOE_LOGNO(0307)
                      "capturist name of %s is not safe text", s->curp);
        goto fail;
    }
    s->epoch = epoch;
    return OK;
fail:
    icsoe_wipe(s, sizeof(*s));
    return HTTP_INTERNAL_SERVER_ERROR;
}

int icsoe_session_set_contractor(request_rec *r, icsoe_session *s,
                                 const char *rfc, const char *name)
{
    char norm[ICSOE_RFC_BUFSZ];
    icsoe_rfc_reason why = icsoe_rfc_check(rfc, norm);

    if (why != ICSOE_RFC_OK && why != ICSOE_RFC_BAD_CHECK_DIGIT) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ICSOE_LOGNO(0308)
                      "contractor RFC refused: %s", icsoe_rfc_reason_name(why));
        return HTTP_BAD_REQUEST;
    }
    if (!copy_name(s->contractor_name, sizeof(s->contractor_name), name)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ICSOE_LOGNO(0309)
                      "name of contractor %s is not safe text", norm);
        return HTTP_BAD_REQUEST;
    }
    memcpy(s->rfc, norm, sizeof(s->rfc));
    return OK;
}

const icsoe_session *icsoe_request_session(request_rec *r)
{
    request_rec *q;

    /* subrequests and internal redirects of an authenticated request are
     * not authenticated again (AP_AUTH_INTERNAL_PER_CONF) */
    for (q = r; q; q = q->main ? q->main : q->prev) {
        icsoe_req *st = ap_get_module_config(q->request_config, &icsoe_module);

        if (st && st->has_session)
            return &st->session;
    }
    return NULL;
}

/* ---- revalidation ---- */

static int refuse(request_rec *r, icsoe_session *s, const char *why)
{
    icsoe_audit(r, "session-refused", s->curp, why);
    icsoe_session_clear(r);
    icsoe_wipe(s, sizeof(*s));
    return HTTP_UNAUTHORIZED;
}

static int dir_down(request_rec *r, icsoe_dir *d, const char *what)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ICSOE_LOGNO(0310)
                  "revalidation impossible (%s): %s", what,
                  d ? icsoe_dir_reason(d) : "no directory handle");
    return HTTP_SERVICE_UNAVAILABLE;
}

static int assigned(const icsoe_capturist *c, const char *rfc)
{
    size_t i;

    for (i = 0; i < c->ncontractors; i++) {
        if (c->contractors[i] && strcmp(c->contractors[i], rfc) == 0)
            return 1;
    }
    return 0;
}

/* The chosen contractor: still assigned and still there?  Refreshes its
 * name; a revoked one is dropped from the session (the capturist stays
 * logged in and is sent to choose again). */
static int recheck_contractor(request_rec *r, icsoe_dir *d, icsoe_session *s,
                              const icsoe_capturist *cap)
{
    icsoe_contractor c;
    icsoe_status st;
    int rc = OK;

    if (!s->rfc[0])
        return OK;
    memset(&c, 0, sizeof(c));
    if (!assigned(cap, s->rfc)) {
        icsoe_audit(r, "contractor-revoked", s->curp, s->rfc);
        goto drop;
    }
    st = icsoe_dir_contractor_get(d, s->rfc, &c);
    if (st == ICSOE_ERR_NOT_FOUND) {
        icsoe_audit(r, "contractor-removed", s->curp, s->rfc);
        goto drop;
    }
    if (st != ICSOE_OK) {
        rc = dir_down(r, d, icsoe_status_name(st));
        goto out;
    }
    if (!copy_name(s->contractor_name, sizeof(s->contractor_name), c.name)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ICSOE_LOGNO(0311)
                      "name of contractor %s is not safe text", s->rfc);
        goto drop;
    }
    goto out;
drop:
    s->rfc[0] = '\0';
    s->contractor_name[0] = '\0';
out:
    icsoe_contractor_clear(&c);
    return rc;
}

static apr_status_t revalidated_cleanup(void *data)
{
    icsoe_capturist_clear(data);
    return APR_SUCCESS;
}

/* Keep the entry a successful revalidation read until the request ends
 * (takes it over: *cap is left empty).  The first one read stays. */
static void keep_revalidated(request_rec *r, icsoe_capturist *cap)
{
    icsoe_req *st = icsoe_req_state(r);

    if (st->revalidated != NULL)
        return;
    st->revalidated = apr_pmemdup(r->pool, cap, sizeof(*cap));
    memset(cap, 0, sizeof(*cap));
    apr_pool_cleanup_register(r->pool, st->revalidated, revalidated_cleanup,
                              apr_pool_cleanup_null);
}

const icsoe_capturist *icsoe_revalidated_capturist(request_rec *r,
                                                   const char *curp)
{
    const icsoe_capturist *c = icsoe_req_state(r)->revalidated;

    return c != NULL && curp != NULL && strcmp(c->curp, curp) == 0 ? c : NULL;
}

int icsoe_session_revalidate(request_rec *r, icsoe_session *s)
{
    icsoe_srv_conf *sc = icsoe_srv(r);
    int64_t now = now_sec(r);
    icsoe_capturist cap;
    icsoe_dir *d;
    icsoe_status st;
    int rc;

    /* between revalidations a request costs no LDAP round trip */
    if (s->validated <= now && now - s->validated < sc->revalidate)
        return OK;
    memset(&cap, 0, sizeof(cap));
    d = icsoe_dir_acquire(r);
    if (!d)
        return dir_down(r, NULL, "pool");
    st = icsoe_dir_capturist_get(d, s->curp, &cap);
    if (st == ICSOE_ERR_NOT_FOUND) {
        rc = refuse(r, s, "account-removed");
        goto out;
    }
    if (st != ICSOE_OK) {
        /* unavailable or anything unexpected: fail closed */
        rc = dir_down(r, d, icsoe_status_name(st));
        goto out;
    }
    if (cap.status != ICSOE_CAPTURIST_ACTIVE || cap.pp_locked) {
        rc = refuse(r, s, "account-locked");
        goto out;
    }
    if ((int64_t)cap.epoch != s->epoch) {
        rc = refuse(r, s, "session-ended");
        goto out;
    }
    if (!copy_name(s->name, sizeof(s->name), cap.name)) {
        rc = refuse(r, s, "unsafe-name");
        goto out;
    }
    rc = recheck_contractor(r, d, s, &cap);
    if (rc != OK)
        goto out;
    s->validated = now;
    rc = icsoe_session_save(r, s);
    if (rc == OK)
        keep_revalidated(r, &cap);
out:
    icsoe_capturist_clear(&cap);
    return rc;
}
