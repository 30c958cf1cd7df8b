/* Page output: templates (ICSOETemplateDir, then the built-in set), the
 * security headers every response of ours carries, redirects, the Spanish
 * error pages and the audit log line. */
#include <string.h>

#include "apr_strings.h"
#include "apr_file_info.h"
#include "apr_network_io.h"
#include "http_protocol.h"
#include "http_request.h"

#include "curp.h"
#include "mod_icsoe.h"

#define ICSOE_CSP "default-src 'none'; style-src 'self'; img-src 'self'; " \
                  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
#define ICSOE_MAX_VARS 64

void icsoe_security_headers(request_rec *r)
{
    apr_table_t *h = r->err_headers_out;

    apr_table_setn(h, "Cache-Control", "no-store");
    apr_table_setn(h, "Content-Security-Policy", ICSOE_CSP);
    apr_table_setn(h, "X-Frame-Options", "DENY");
    apr_table_setn(h, "Referrer-Policy", "no-referrer");
    apr_table_setn(h, "X-Content-Type-Options", "nosniff");
}

/* Template names come from our code, but they become file names: keep them
 * to [a-z0-9_.-] and never let them climb out of the directory. */
static int template_name_ok(const char *name)
{
    const char *p;

    if (!name || !name[0] || name[0] == '.' || strlen(name) > 64)
        return 0;
    for (p = name; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.' || *p == '-'))
            return 0;
    }
    return 1;
}

typedef enum { TMPL_FOUND, TMPL_MISSING, TMPL_BROKEN } tmpl_result;

/* Find a template: the override directory first, then the built-in table.
 * An override that exists but cannot be read is an error, not a silent
 * fallback, so a sysadmin notices a broken file. */
static tmpl_result find_template(request_rec *r, const char *name,
                                 const char **text, size_t *len)
{
    icsoe_srv_conf *sc = icsoe_srv(r);
    const char *file;
    const struct icsoe_embedded *e;

    if (!template_name_ok(name))
        return TMPL_MISSING;
    file = strchr(name, '.') ? name : apr_pstrcat(r->pool, name, ".html", NULL);
    if (sc->template_dir) {
        const char *path = apr_pstrcat(r->pool, sc->template_dir, "/", file,
                                       NULL);
        apr_finfo_t fi;

        if (apr_stat(&fi, path, APR_FINFO_TYPE, r->pool) == APR_SUCCESS) {
            char err[256] = "";
            char *data = icsoe_template_read_file(path, ICSOE_TEMPLATE_MAX,
                                                  len, err, sizeof(err));

            if (!data) {
                ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ICSOE_LOGNO(0601)
                              "template %s: %s", path, err);
                return TMPL_BROKEN;
            }
            *text = apr_pmemdup(r->pool, data, *len + 1);
            free(data);
            return TMPL_FOUND;
        }
    }
    for (e = icsoe_page_templates; e->name; e++) {
        if (strcmp(e->name, file) == 0) {
            *text = e->data;
            *len = e->len;
            return TMPL_FOUND;
        }
    }
    return TMPL_MISSING;
}

static const char *site_name(request_rec *r)
{
    const icsoe_conf *c = icsoe_srv(r)->conf;

    return c && c->site_name && c->site_name[0] ? c->site_name : "ICSOE";
}

static int has_var(const icsoe_tvar *vars, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (vars[i].name && strcmp(vars[i].name, name) == 0)
            return 1;
    }
    return 0;
}

/* The handler's variables plus the common ones it did not set itself. */
static icsoe_tvar *page_vars(request_rec *r, const icsoe_tvar *vars, size_t n,
                             size_t *total)
{
    icsoe_srv_conf *sc = icsoe_srv(r);
    const icsoe_tvar common[] = {
        {"site_name", site_name(r)},
        {"css_url", ICSOE_CSS_URL},
        {"login_url", sc->login_url},
        {"home_url", sc->home_url},
        {"select_url", sc->select_url},
        {"start_url", sc->start_url},
        {"recover_url", sc->recover_url},
        {"logout_url", sc->logout_url},
    };
    size_t ncommon = sizeof(common) / sizeof(common[0]);
    icsoe_tvar *all = apr_palloc(r->pool, (n + ncommon) * sizeof(*all));
    size_t i;

    if (n)
        memcpy(all, vars, n * sizeof(*all));
    *total = n;
    for (i = 0; i < ncommon; i++) {
        if (!has_var(vars, n, common[i].name))
            all[(*total)++] = common[i];
    }
    return all;
}

/* The whole body and the end of stream in one brigade, as Apache's
 * default handler sends a file: ap_rwrite would copy the body into a
 * buffer of its own and pass it through one more filter when the request
 * ends (~1k instructions a page).  body lives in the request pool or
 * longer. */
static void write_body(request_rec *r, const char *body, size_t len)
{
    apr_bucket_alloc_t *ba = r->connection->bucket_alloc;
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, ba);

    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_pool_create(body, len, r->pool, ba));
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(ba));
    /* a client gone away is Apache's to log, as with ap_rwrite */
    (void)ap_pass_brigade(r->output_filters, bb);
}

static int send_body(request_rec *r, int status, const char *type,
                     const char *body, size_t len)
{
    r->status = status;
    ap_set_content_type(r, type);
    icsoe_security_headers(r);
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only)
        write_body(r, body, len);
    return OK;
}

int icsoe_render_page(request_rec *r, int status, const char *template_name,
                      const icsoe_tvar *vars, size_t n)
{
    const char *tmpl = NULL;
    size_t len = 0;
    size_t total = 0;
    icsoe_tvar *all;
    char err[256] = "";
    char *html;
    const char *body;
    size_t blen;

    if (n > ICSOE_MAX_VARS || find_template(r, template_name, &tmpl, &len) !=
        TMPL_FOUND) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ICSOE_LOGNO(0602)
                      "page template '%s' not available", template_name);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    all = page_vars(r, vars, n, &total);
    html = icsoe_template_render(tmpl, len, all, total, ICSOE_ESC_HTML,
                                 ICSOE_PAGE_MAX, err, sizeof(err));
    if (!html) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ICSOE_LOGNO(0603)
                      "page template '%s': %s", template_name, err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    blen = strlen(html);
    body = apr_pmemdup(r->pool, html, blen + 1);
    free(html);
    return send_body(r, status, "text/html; charset=utf-8", body, blen);
}

#define REDIRECT_HEAD "<!DOCTYPE html>\n<html lang=\"es-MX\"><head><meta charset=\"utf-8\">" \
    "<title>Redirigiendo</title></head><body><p><a href=\""
#define REDIRECT_TAIL "\">Continuar</a></p></body></html>\n"

int icsoe_redirect_303(request_rec *r, const char *location)
{
    /* a local path or configured URL seldom has anything to escape: then
     * no escaping copy (ap_escape_html's test is these same characters) */
    const char *href = strpbrk(location, "<>&\"") != NULL
                       ? ap_escape_html(r->pool, location) : location;
    size_t hlen = strlen(href);
    char *body = apr_palloc(r->pool, sizeof(REDIRECT_HEAD) - 1 + hlen +
                                     sizeof(REDIRECT_TAIL));
    size_t len = 0;

    memcpy(body, REDIRECT_HEAD, sizeof(REDIRECT_HEAD) - 1);
    len += sizeof(REDIRECT_HEAD) - 1;
    memcpy(body + len, href, hlen);
    len += hlen;
    memcpy(body + len, REDIRECT_TAIL, sizeof(REDIRECT_TAIL));
    len += sizeof(REDIRECT_TAIL) - 1;
    apr_table_setn(r->headers_out, "Location", location);
    return send_body(r, HTTP_SEE_OTHER, "text/html; charset=utf-8", body, len);
}

/* Words for the fallback page when no template exists for a status. */
static const char *status_words(int status)
{
    switch (status) {
    case HTTP_BAD_REQUEST:
        return "La solicitud no es válida.";
    case HTTP_UNAUTHORIZED:
        return "Necesitas iniciar sesión para ver esta página.";
    case HTTP_FORBIDDEN:
        return "No tienes permiso para realizar esta acción.";
    case HTTP_NOT_FOUND:
        return "La página que buscas no existe.";
    case HTTP_METHOD_NOT_ALLOWED:
        return "Esta página no admite ese tipo de solicitud.";
    case HTTP_REQUEST_ENTITY_TOO_LARGE:
        return "Los datos enviados son demasiado grandes.";
    case HTTP_UNSUPPORTED_MEDIA_TYPE:
        return "El formato de los datos enviados no es válido.";
    case HTTP_SERVICE_UNAVAILABLE:
        return "El servicio no está disponible en este momento. "
               "Intenta de nuevo en unos minutos.";
    default:
        return "Ocurrió un error en el servidor. Intenta de nuevo más tarde.";
    }
}

int icsoe_error_page(request_rec *r, int status)
{
    const char *name = apr_psprintf(r->pool, "error_%d", status);
    const char *tmpl = NULL;
    size_t len = 0;
    const char *body;
    const icsoe_tvar vars[] = {
        {"status", apr_psprintf(r->pool, "%d", status)},
        {"message", status_words(status)},
    };

    if (status == HTTP_SERVICE_UNAVAILABLE)
        apr_table_setn(r->err_headers_out, "Retry-After", "30");
    /* the rest of an oversized or broken body is not worth reading */
    if (ap_status_drops_connection(status))
        r->connection->keepalive = AP_CONN_CLOSE;
    if (find_template(r, name, &tmpl, &len) == TMPL_FOUND &&
        icsoe_render_page(r, status, name, vars, 2) == OK)
        return OK;
    if (find_template(r, "error", &tmpl, &len) == TMPL_FOUND &&
        icsoe_render_page(r, status, "error", vars, 2) == OK)
        return OK;
    /* last resort, so an error never turns into a bare 500 */
    body = apr_pstrcat(r->pool,
        "<!DOCTYPE html>\n<html lang=\"es-MX\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, "
        "initial-scale=1\"><title>", ap_escape_html(r->pool, site_name(r)),
        "</title><link rel=\"stylesheet\" href=\"" ICSOE_CSS_URL "\"></head>"
        "<body><main><h1>", ap_escape_html(r->pool, site_name(r)),
        "</h1><p>", status_words(status), "</p></main></body></html>\n", NULL);
    return send_body(r, status, "text/html; charset=utf-8", body, strlen(body));
}

const char *icsoe_login_redirect_url(request_rec *r)
{
    icsoe_srv_conf *sc = icsoe_srv(r);
    const char *ret = r->unparsed_uri;

    /* only a same-site path may come back (open redirect defence) */
    if (!ret || !icsoe_return_path_ok(ret))
        return sc->login_url;
    return apr_pstrcat(r->pool, sc->login_url,
                       strchr(sc->login_url, '?') ? "&r=" : "?r=",
                       ap_escape_urlencoded(r->pool, ret), NULL);
}

/* This host's name, taken once in the parent (post_config) so the audit
 * lines of N front ends behind a load balancer can be merged. */
static char audit_node[APRMAXHOSTLEN + 1] = "-";

void icsoe_audit_init(apr_pool_t *p)
{
    char name[APRMAXHOSTLEN + 1];
    const char *safe;

    if (apr_gethostname(name, sizeof(name), p) != APR_SUCCESS || name[0] == '\0')
        return;
    /* a host name has no spaces or control characters; keep it that way */
    safe = ap_escape_logitem(p, name);
    if (strchr(safe, ' ') == NULL && strlen(safe) < sizeof(audit_node))
        memcpy(audit_node, safe, strlen(safe) + 1);
}

/* s as ap_escape_logitem would give it: itself when it has a normalised
 * CURP's shape (nothing to escape: no copy), else the escaped copy. */
static const char *audit_item(request_rec *r, const char *s)
{
    return icsoe_curp_shape_ok(s) ? s : ap_escape_logitem(r->pool, s);
}

void icsoe_audit(request_rec *r, const char *event, const char *curp,
                 const char *detail)
{
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                  "icsoe audit: node=%s event=%s curp=%s client=%s%s%s", audit_node, event,
                  curp && curp[0] ? audit_item(r, curp) : "-",
                  r->useragent_ip ? r->useragent_ip : "-",
                  detail ? " detail=" : "",
                  detail ? ap_escape_logitem(r->pool, detail) : "");
}

/* GET /icsoe/icsoe.css: the stylesheet (override or built-in), cacheable. */
int icsoe_handle_css(request_rec *r)
{
    const char *text = NULL;
    size_t len = 0;

    if (r->method_number != M_GET)
        return HTTP_METHOD_NOT_ALLOWED;
    if (find_template(r, "icsoe.css", &text, &len) != TMPL_FOUND)
        return HTTP_NOT_FOUND;
    r->status = HTTP_OK;
    ap_set_content_type(r, "text/css; charset=utf-8");
    icsoe_security_headers(r);
    /* the one response that may be cached: it is the same for everybody */
    apr_table_setn(r->err_headers_out, "Cache-Control", "public, max-age=3600");
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only)
        ap_rwrite(text, (int)len, r);
    return OK;
}
