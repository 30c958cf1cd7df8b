/* Activation and recovery links never reach a log.
 *
 * Threat: a link activation_url?t=TOKEN is a bearer credential until it is
 * spent; mod_log_config prints it through %r, %U%q, %q, %{QUERY_STRING}e,
 * and core logs the request line at trace5 before any module runs, so
 * whoever reads the logs could take the account over.
 * Rule: the query of a request for the activation page is replaced by
 * "REDACTED" in every field Apache logs from (the_request, unparsed_uri,
 * args, parsed_uri.query) as soon as the request line is read
 * (post_read_request, really first, when the path is activation_url's),
 * and again by the icsoe-activate handler wherever it is mapped; the
 * handler reads the original query from the request state.
 * Pitfall: core's "Request received from client" trace5 line is written
 * while the request line is read, before any hook can look at the path:
 * core's level is capped at trace4 for that moment (pre_read_request) on
 * every request, and this module logs the line itself with any query
 * replaced (it cannot know yet where the request will be handled). */
#include <string.h>

#include "apr_strings.h"
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"

#include "mod_icsoe.h"

#define REDACTED "REDACTED"

/* The path of activation_url ("https://h/icsoe/activar" -> "/icsoe/activar"),
 * or NULL. */
static const char *activation_path(request_rec *r)
{
    const icsoe_srv_conf *sc = icsoe_srv(r);
    const char *u, *p;
    size_t len;

    if (sc == NULL || sc->conf == NULL || sc->conf->activation_url == NULL)
        return NULL;
    u = strstr(sc->conf->activation_url, "://");
    if (u == NULL)
        return NULL;
    p = strchr(u + 3, '/');
    if (p == NULL)
        return "/";
    len = strcspn(p, "?#");
    return apr_pstrmemdup(r->pool, p, len);
}

/* "GET /p?secret HTTP/1.1" -> "GET /p?REDACTED HTTP/1.1". */
static char *redact_line(apr_pool_t *p, char *line)
{
    const char *q = line != NULL ? strchr(line, '?') : NULL;
    const char *end;

    if (q == NULL)
        return line;
    end = strchr(q, ' ');
    return apr_pstrcat(p, apr_pstrmemdup(p, line, (apr_size_t)(q - line + 1)),
                       REDACTED, end != NULL ? end : "", NULL);
}

static void redact_one(request_rec *r)
{
    const char *q;

    r->the_request = redact_line(r->pool, r->the_request);
    if (r->unparsed_uri != NULL) {
        q = strchr(r->unparsed_uri, '?');
        if (q != NULL)
            r->unparsed_uri = apr_pstrcat(r->pool,
                apr_pstrmemdup(r->pool, r->unparsed_uri,
                               (apr_size_t)(q - r->unparsed_uri + 1)),
                REDACTED, NULL);
    }
    if (r->args != NULL)
        r->args = apr_pstrdup(r->pool, REDACTED);
    if (r->parsed_uri.query != NULL)
        r->parsed_uri.query = apr_pstrdup(r->pool, REDACTED);
}

const char *icsoe_request_query(request_rec *r)
{
    const icsoe_req *st = icsoe_req_state(r);

    return st->query_redacted ? st->query : r->args;
}

void icsoe_redact_query(request_rec *r)
{
    icsoe_req *st = icsoe_req_state(r);

    if (!st->query_redacted) {
        st->query = r->args;
        st->query_redacted = 1;
    }
    /* an internal redirect or a subrequest logs through its parents */
    for (request_rec *x = r; x != NULL; x = x->prev)
        redact_one(x);
    for (request_rec *x = r->main; x != NULL; x = x->main)
        redact_one(x);
}

static void icsoe_pre_read_request(request_rec *r, conn_rec *c)
{
    icsoe_req *st;
    struct ap_logconf *capped;

    (void)c;
    if (ap_get_request_module_loglevel(r, core_module.module_index) <
        APLOG_TRACE5)
        return;
    st = icsoe_req_state(r);
    st->log_before_read = r->log;
    capped = ap_new_log_config(r->pool, r->log != NULL ? r->log
                               : r->connection->log != NULL ? r->connection->log
                               : &r->server->log);
    ap_set_module_loglevel(r->pool, capped, core_module.module_index,
                           APLOG_TRACE4);
    st->log_capped = capped;
    r->log = capped;
}

static int icsoe_redact_post_read(request_rec *r)
{
    icsoe_req *st = icsoe_req_state(r);

    /* only a request with a query has anything to redact: the others (a
     * login POST, a static file) skip working out activation_url's path */
    if (r->args != NULL && r->parsed_uri.path != NULL) {
        const char *path = activation_path(r);

        if (path != NULL && strcmp(r->parsed_uri.path, path) == 0)
            icsoe_redact_query(r);
    }
    if (st->log_capped != NULL) {
        if (r->log == st->log_capped)
            r->log = st->log_before_read;
        st->log_capped = NULL;
        /* Whether this request reaches icsoe-activate is not known yet
         * (a site may map it on another path), so no query here. */
        ap_log_rerror(APLOG_MARK, APLOG_TRACE5, 0, r, ICSOE_LOGNO(1050)
                      "Request received from client: %s",
                      ap_escape_logitem(r->pool,
                                        redact_line(r->pool, r->the_request)));
    }
    return DECLINED;
}

void icsoe_register_redact_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_pre_read_request(icsoe_pre_read_request, NULL, NULL,
                             APR_HOOK_REALLY_FIRST);
    ap_hook_post_read_request(icsoe_redact_post_read, NULL, NULL,
                              APR_HOOK_REALLY_FIRST);
}
