/* What a downstream application receives for a request that passed
 * AuthType ICSOE (DESIGN.md's table; r->user, hence REMOTE_USER, was set
 * by the auth hook):
 *
 *   env (CGI, SSI, rewrite)      request header (proxied)     value
 *   REMOTE_USER, ICSOE_CURP      <prefix>CURP                 CURP
 *   ICSOE_CAPTURISTA_NOMBRE      <prefix>Capturista-Nombre    capturist name
 *   ICSOE_CONTRATISTA_RFC        <prefix>Contratista-RFC      contractor RFC
 *   ICSOE_CONTRATISTA_NOMBRE     <prefix>Contratista-Nombre   contractor name
 *
 * Env values are the UTF-8 text; header values are ASCII, with bytes >= 0x80,
 * controls and '%' percent-encoded (icsoe_header_value_encode).  Client
 * headers with the prefix were removed in post_read_request (scrub.c), so
 * these are the only ones the application can see.  The contractor rows are
 * left out when no contractor is chosen (Require valid-user). */
#include <string.h>

#include "apr_strings.h"
#include "http_request.h"

#include "mod_icsoe.h"

typedef struct app_field {
    const char *env;
    const char *header; /* appended to ICSOEHeaderPrefix */
    size_t offset;      /* char array in icsoe_session */
    size_t size;
} app_field;

#define SESSION_FIELD(f) offsetof(icsoe_session, f), sizeof(((icsoe_session *)0)->f)

static const app_field app_fields[] = {
    {"ICSOE_CURP", "CURP", SESSION_FIELD(curp)},
    {"ICSOE_CAPTURISTA_NOMBRE", "Capturista-Nombre", SESSION_FIELD(name)},
    {"ICSOE_CONTRATISTA_RFC", "Contratista-RFC", SESSION_FIELD(rfc)},
    {"ICSOE_CONTRATISTA_NOMBRE", "Contratista-Nombre",
     SESSION_FIELD(contractor_name)},
};

#define APP_FIELDS (sizeof(app_fields) / sizeof(app_fields[0]))

/* What every env name above starts with. */
#define ICSOE_ENV_PREFIX "ICSOE_"

void icsoe_app_info_names(apr_pool_t *p, icsoe_srv_conf *sc)
{
    const char *prefix = sc->header_prefix ? sc->header_prefix
                                           : ICSOE_DEFAULT_HEADER_PREFIX;

    for (size_t i = 0; i < APP_FIELDS; i++)
        sc->app_header[i] = apr_pstrcat(p, prefix, app_fields[i].header, NULL);
}

/* The header form of a value (len bytes, no NUL inside): the value itself
 * when nothing needs encoding (most values: no copy), else its
 * percent-encoded copy in p (lib/header.c's rule).  NULL for CR or LF: the
 * session was checked when it was opened (UTF-8, no CR, LF or NUL), and
 * this keeps a header or env var from ever carrying a line break whatever
 * the caller.  (A value that needs no encoding has no control character,
 * so only the others are searched for CR and LF.) */
static const char *header_form(apr_pool_t *p, const char *value, size_t len)
{
    size_t n;
    char *out;

    n = icsoe_header_value_encoded_len(value, len);
    if (n == len)
        return value;
    if (memchr(value, '\r', len) != NULL || memchr(value, '\n', len) != NULL)
        return NULL;
    out = apr_palloc(p, n + 1);
    icsoe_header_value_encode_to(value, len, out);
    return out;
}

/* How a name is put in a table: apr_table_setn replaces every entry of
 * that name (an earlier SetEnvIf or RequestHeader must not leave a forged
 * value first), apr_table_addn only appends.  When no entry of the table
 * starts with the names' common prefix (the usual case: scrub.c removed
 * the client's), both give the same table, and addn does not search it
 * once per name. */
typedef void (*table_put)(apr_table_t *t, const char *key, const char *val);

static table_put put_for(const apr_table_t *t, const char *prefix)
{
    const apr_array_header_t *arr = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;

    if (prefix == NULL || prefix[0] == '\0')
        return apr_table_setn;
    for (int i = 0; i < arr->nelts; i++) {
        if (e[i].key != NULL && icsoe_header_has_prefix(e[i].key, prefix))
            return apr_table_setn;
    }
    return apr_table_addn;
}

/* Names are the server's, built at start-up; values are copied into the
 * request pool (the session itself is wiped by a pool cleanup). */
static int set_one(request_rec *r, table_put put_header, table_put put_env,
                   const char *header, const app_field *f, const char *value)
{
    size_t len = strnlen(value, f->size);
    const char *copy;
    const char *hval;

    if (len == f->size ||
        (hval = header_form(r->pool, copy = apr_pstrmemdup(r->pool, value, len),
                            len)) == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ICSOE_LOGNO(0801)
                      "session value for %s is not safe text", f->env);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    put_header(r->headers_in, header, hval);
    put_env(r->subprocess_env, f->env, copy);
    return OK;
}

int icsoe_set_app_info(request_rec *r, const icsoe_session *s)
{
    const icsoe_srv_conf *sc = icsoe_srv(r);
    const char *const *header = sc->app_header;
    table_put put_header = put_for(r->headers_in, sc->header_prefix
                                                      ? sc->header_prefix
                                                      : ICSOE_DEFAULT_HEADER_PREFIX);
    table_put put_env = put_for(r->subprocess_env, ICSOE_ENV_PREFIX);

    for (size_t i = 0; i < APP_FIELDS; i++) {
        const app_field *f = &app_fields[i];
        const char *value = (const char *)s + f->offset;
        int rc;

        if (!value[0] && f->offset != offsetof(icsoe_session, curp) &&
            f->offset != offsetof(icsoe_session, name))
            continue; /* no contractor chosen */
        rc = set_one(r, put_header, put_env, header[i], f, value);
        if (rc != OK)
            return rc;
    }
    return OK;
}
