/* The pages never work over plain HTTP while the cookie is Secure.
 *
 * Threat: a page location reachable on a port-80 virtual host (a server-wide
 * <Location>, or the pages snippet included in the wrong vhost) shows the
 * login form over plain HTTP, takes the password in clear, and sets a Secure
 * cookie the browser then drops: a password on the wire and a silent login
 * loop.  Rule: with ICSOECookieSecure On (the default) a page handler
 * reached by a request whose scheme is not https answers before it reads
 * anything: a GET or HEAD is sent to the same URL over https (nothing secret
 * has been sent yet), anything else gets a Spanish 403 page and its body is
 * never read (a POST may already carry a password: it must not be used, and
 * must not be bounced to https by a 307 that would make the browser send it
 * again).  Pitfall: TLS terminated by a proxy in front of Apache makes every
 * request plain HTTP here; such a site declares its public scheme with
 * "ServerName https://name", which is what ap_http_scheme() reports, so the
 * check follows the site's declared scheme and never a client's header. */
#include <string.h>

#include "apr_strings.h"
#include "http_core.h"
#include "http_protocol.h"

#include "mod_icsoe.h"

static const char *https_url(request_rec *r)
{
    return apr_pstrcat(r->pool, "https://", ap_get_server_name_for_url(r),
                       r->unparsed_uri ? r->unparsed_uri : "/", NULL);
}

int icsoe_https_guard(request_rec *r)
{
    icsoe_srv_conf *sc = icsoe_srv(r);
    const char *scheme = ap_http_scheme(r);
    const icsoe_tvar vars[] = {
        {"status", "403"},
        {"message", "Esta página sólo funciona con una conexión segura "
                    "(HTTPS). Por su seguridad no se recibió ningún dato: "
                    "abra la dirección del sitio con https:// y vuelva a "
                    "intentarlo."},
    };
    int rc;

    if (!sc->cookie_secure || (scheme && strcmp(scheme, "https") == 0))
        return DECLINED;
    /* the body (maybe a password) is left unread and the connection closed */
    r->connection->keepalive = AP_CONN_CLOSE;
    if (r->method_number == M_GET) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ICSOE_LOGNO(1200)
                      "%s over plain HTTP: redirected to https", r->handler);
        icsoe_security_headers(r);
        apr_table_setn(r->headers_out, "Location", https_url(r));
        return HTTP_MOVED_PERMANENTLY;
    }
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, ICSOE_LOGNO(1201)
                  "%s %s over plain HTTP refused (ICSOECookieSecure On): "
                  "include the pages in the HTTPS virtual host only",
                  r->method, r->handler);
    rc = icsoe_render_page(r, HTTP_FORBIDDEN, "error", vars, 2);
    return rc == OK ? OK : HTTP_FORBIDDEN;
}
