/* Who is the contractor on icsoe-capturists.
 *
 * Threat: somebody manages another contractor's capturists.  Rule: the
 * identity comes only from what mod_ssl verified on this connection
 * (ssl_var_lookup: SSL_CLIENT_VERIFY must be SUCCESS, SSL_CLIENT_CERT is
 * parsed by lib/efirma.c) or, with "ICSOEContractorAuth remote-user", from
 * r->user set by the site's own authentication module; never from a request
 * header (scrub.c removes ours anyway).  A FIEL only: a CSD (sello digital,
 * OU set), an expired or not yet valid certificate, a malformed RFC, and an
 * RFC that is not a registered contractor are refused, each with its own
 * Spanish page and an audit line (RFC and certificate serial).  Pitfall:
 * mod_ssl exports no variable for x500UniqueIdentifier (2.5.4.45), and
 * SSL_CLIENT_S_DN is an escaped string: parse the certificate itself. */
#include <string.h>
#include <time.h>

#include "apr_optional.h"
#include "apr_strings.h"
#include "http_protocol.h"
#include "httpd.h"
#include "mod_ssl.h"

#include "efirma.h"
#include "handlers.h"

int icsoe_pg_contractor_refused(request_rec *r, int status, const char *title,
                                const char *text)
{
    icsoe_tvar vars[] = {
        { "title", title },
        { "message", text },
    };
    int rv = icsoe_render_page(r, status, "contractor_refused", vars,
                               sizeof(vars) / sizeof(vars[0]));

    return rv == OK ? OK : icsoe_pg_fail(r, rv);
}

static int refuse(request_rec *r, const char *reason, const char *rfc,
                  const char *serial, const char *title, const char *text)
{
    icsoe_audit(r, "contractor-refused", NULL,
                apr_psprintf(r->pool, "reason=%s rfc=%s serial=%s", reason,
                             rfc != NULL && rfc[0] != '\0' ? rfc : "-",
                             serial != NULL && serial[0] != '\0' ? serial : "-"));
    return icsoe_pg_contractor_refused(r, HTTP_FORBIDDEN, title, text);
}

static const char *ssl_var(request_rec *r, const char *name)
{
    APR_OPTIONAL_FN_TYPE(ssl_var_lookup) *lookup =
        APR_RETRIEVE_OPTIONAL_FN(ssl_var_lookup);

    if (lookup == NULL)
        return NULL;
    return lookup(r->pool, r->server, r->connection, r, (char *)name);
}

/* The certificate mod_ssl verified, parsed.  OK, or a refusal written
 * (1 returned through *rv). */
static int read_efirma(request_rec *r, icsoe_efirma *e, int *rv)
{
    const char *verify = ssl_var(r, "SSL_CLIENT_VERIFY");
    const char *pem;
    icsoe_efirma_reason why;
    icsoe_efirma_usable use;

    if (verify == NULL || strcmp(verify, "SUCCESS") != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ICSOE_LOGNO(1651)
                      "icsoe capturists: no verified client certificate "
                      "(SSL_CLIENT_VERIFY=%s)",
                      verify != NULL ? ap_escape_logitem(r->pool, verify)
                                     : "(mod_ssl not active here)");
        *rv = refuse(r, "unverified", NULL, NULL,
                     "Se requiere tu e.firma",
                     "Para entrar a esta página tu navegador debe presentar "
                     "tu certificado de e.firma (FIEL) vigente, emitido por "
                     "el SAT. No se recibió un certificado verificado.");
        return 0;
    }
    pem = ssl_var(r, "SSL_CLIENT_CERT");
    why = icsoe_efirma_parse(pem, pem != NULL ? strlen(pem) : 0, e);
    if (why != ICSOE_EFIRMA_OK) {
        *rv = refuse(r, icsoe_efirma_reason_name(why), NULL,
                     ssl_var(r, "SSL_CLIENT_M_SERIAL"),
                     "Certificado no válido", icsoe_efirma_reason_message(why));
        return 0;
    }
    use = icsoe_efirma_check_usable(e, time(NULL));
    if (use != ICSOE_EFIRMA_USABLE) {
        *rv = refuse(r, icsoe_efirma_usable_name(use), e->rfc, e->serial,
                     use == ICSOE_EFIRMA_IS_CSD ? "Usa tu e.firma, no tu sello digital"
                                                : "Certificado no vigente",
                     icsoe_efirma_usable_message(use));
        return 0;
    }
    return 1;
}

/* r->user names the contractor (another module authenticated it). */
static int read_remote_user(request_rec *r, icsoe_contractor_id *id, int *rv)
{
    icsoe_rfc_reason why = icsoe_rfc_check(r->user, id->rfc);

    id->serial = "-";
    if (why == ICSOE_RFC_OK || why == ICSOE_RFC_BAD_CHECK_DIGIT)
        return 1;
    *rv = refuse(r, r->user == NULL ? "no-remote-user" : "bad-rfc",
                 NULL, "-", "No es posible ingresar",
                 r->user == NULL ? "La página no recibió la identidad del "
                                   "contratista. Avisa al administrador del sitio."
                                 : icsoe_rfc_reason_message(why));
    return 0;
}

/* The RFC must be a registered contractor (removed ones are gone). */
static int lookup_contractor(request_rec *r, icsoe_contractor_id *id, int *rv)
{
    icsoe_dir *d = icsoe_dir_acquire(r);
    icsoe_contractor c;
    icsoe_status st;

    if (d == NULL) {
        *rv = icsoe_pg_fail(r, HTTP_SERVICE_UNAVAILABLE);
        return 0;
    }
    memset(&c, 0, sizeof(c));
    st = icsoe_dir_contractor_get(d, id->rfc, &c);
    if (st == ICSOE_OK) {
        id->name = apr_pstrdup(r->pool, c.name);
        icsoe_contractor_clear(&c);
        return 1;
    }
    if (st == ICSOE_ERR_NOT_FOUND) {
        *rv = refuse(r, "unknown-contractor", id->rfc, id->serial,
                     "Contratista no registrado",
                     "El RFC de tu e.firma no corresponde a un contratista "
                     "registrado en este sistema.");
        return 0;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ICSOE_LOGNO(1652)
                  "icsoe capturists: contractor %s: %s: %s", id->rfc,
                  icsoe_status_name(st), icsoe_dir_reason(d));
    *rv = icsoe_pg_fail(r, st == ICSOE_ERR_UNAVAILABLE ? HTTP_SERVICE_UNAVAILABLE
                                                       : HTTP_INTERNAL_SERVER_ERROR);
    return 0;
}

int icsoe_pg_require_contractor(request_rec *r, icsoe_contractor_id *id, int *rv)
{
    const char *mode = icsoe_srv(r)->contractor_auth;

    memset(id, 0, sizeof(*id));
    if (mode != NULL && strcmp(mode, "remote-user") == 0) {
        if (!read_remote_user(r, id, rv))
            return 0;
    } else {
        icsoe_efirma e;

        if (!read_efirma(r, &e, rv))
            return 0;
        memcpy(id->rfc, e.rfc, sizeof(id->rfc));
        id->serial = apr_pstrdup(r->pool, e.serial);
    }
    return lookup_contractor(r, id, rv);
}
