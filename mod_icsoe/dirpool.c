/* A per-process pool of directory handles.
 *
 * An icsoe_dir is not thread-safe, and opening LDAP connections per request
 * would cost a TCP (and TLS) handshake and a bind each time, so every
 * process keeps a reslist of handles: a request takes one on first use and
 * a cleanup on the request pool gives it back, whatever path the handler
 * leaves by.  The handles connect lazily and reconnect after the server
 * drops them (lib/dir), so a restarted slapd needs nothing from us. */
#include "apr_strings.h"
#include "ap_mpm.h"
#include "http_request.h"

#include "mod_icsoe.h"

#define ICSOE_DIRPOOL_WAIT (10 * APR_USEC_PER_SEC) /* then 503 */

static apr_status_t dir_construct(void **resource, void *params,
                                  apr_pool_t *pool)
{
    icsoe_srv_conf *sc = params;
    icsoe_dir *d = icsoe_dir_open(sc->conf, &sc->logger);

    (void)pool;
    if (!d)
        return APR_ENOMEM;
    *resource = d;
    return APR_SUCCESS;
}

static apr_status_t dir_destruct(void *resource, void *params,
                                 apr_pool_t *pool)
{
    (void)params;
    (void)pool;
    icsoe_dir_close(resource);
    return APR_SUCCESS;
}

apr_status_t icsoe_dirpool_create(apr_pool_t *p, server_rec *s,
                                  icsoe_srv_conf *sc)
{
    int threads = 1;
    apr_status_t rv;

    (void)s;
    /* one handle per worker thread at most: nobody ever waits for long */
    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS ||
        threads < 1)
        threads = 1;
    rv = apr_reslist_create(&sc->dirpool, 0, threads, threads, 0,
                            dir_construct, dir_destruct, sc, p);
    if (rv != APR_SUCCESS)
        return rv;
    apr_reslist_timeout_set(sc->dirpool, ICSOE_DIRPOOL_WAIT);
    return APR_SUCCESS;
}

typedef struct dir_lease {
    apr_reslist_t *pool;
    icsoe_dir *dir;
} dir_lease;

static apr_status_t dir_release(void *data)
{
    dir_lease *l = data;

    apr_reslist_release(l->pool, l->dir);
    return APR_SUCCESS;
}

icsoe_dir *icsoe_dir_acquire(request_rec *r)
{
    icsoe_srv_conf *sc = icsoe_srv(r);
    request_rec *main_r = r;
    icsoe_req *st;
    dir_lease *l;
    void *res = NULL;
    apr_status_t rv;

    /* subrequests share their main request's handle */
    while (main_r->main)
        main_r = main_r->main;
    st = icsoe_req_state(main_r);
    if (st->dir)
        return st->dir;
    if (!sc->dirpool) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ICSOE_LOGNO(0201)
                      "no directory pool in this process");
        return NULL;
    }
    rv = apr_reslist_acquire(sc->dirpool, &res);
    if (rv != APR_SUCCESS || !res) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, ICSOE_LOGNO(0202)
                      "no directory handle available");
        return NULL;
    }
    l = apr_palloc(main_r->pool, sizeof(*l));
    l->pool = sc->dirpool;
    l->dir = res;
    apr_pool_cleanup_register(main_r->pool, l, dir_release,
                              apr_pool_cleanup_null);
    st->dir = res;
    return st->dir;
}
