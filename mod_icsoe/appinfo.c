/* What a downstream application receives for a request that passed
 * AuthType ICSOE (DESIGN.md's table):
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

/* Printable ASCII without '%': nothing to encode, and safe text by
 * construction (no control character, no byte >= 0x80).  One pass instead
 * of a UTF-8 check and an encoding on every request for most values. */
static int plain_ascii(const char *value, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];

        if (c < 0x20 || c >= 0x7f || c == '%')
            return 0;
    }
    return 1;
}

static int set_one(request_rec *r, const char *prefix, const app_field *f,
                   const char *value)
{
    size_t len = strnlen(value, f->size);
    const char *name;
    char *encoded;

    if (len < f->size && plain_ascii(value, len)) {
        name = apr_pstrcat(r->pool, prefix, f->header, NULL);
        apr_table_setn(r->headers_in, name, apr_pstrmemdup(r->pool, value, len));
        apr_table_set(r->subprocess_env, f->env, value);
        return OK;
    }
    /* the sealed session was checked when it was opened; check again
     * because a header or env var is no place for CR, LF or NUL */
    if (len == f->size || !icsoe_text_is_safe(value, len)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ICSOE_LOGNO(0801)
                      "session value for %s is not safe text", f->env);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    encoded = icsoe_header_value_encode(value);
    if (!encoded)
        return HTTP_INTERNAL_SERVER_ERROR;
    apr_table_set(r->headers_in, apr_pstrcat(r->pool, prefix, f->header, NULL),
                  encoded);
    free(encoded);
    apr_table_set(r->subprocess_env, f->env, value);
    return OK;
}

int icsoe_set_app_info(request_rec *r, const icsoe_session *s)
{
    const char *prefix = icsoe_srv(r)->header_prefix;
    size_t i;

    r->user = apr_pstrdup(r->pool, s->curp);
    for (i = 0; i < sizeof(app_fields) / sizeof(app_fields[0]); i++) {
        const app_field *f = &app_fields[i];
        const char *value = (const char *)s + f->offset;
        int rc;

        if (!value[0] && f->offset != offsetof(icsoe_session, curp) &&
            f->offset != offsetof(icsoe_session, name))
            continue; /* no contractor chosen */
        rc = set_one(r, prefix, f, value);
        if (rc != OK)
            return rc;
    }
    return OK;
}
