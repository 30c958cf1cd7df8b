/* AuthType ICSOE and "Require icsoe-contratista [RFC ...]".
 *
 * How the decision is split between the hooks:
 *   1. Before authentication, mod_authz_core evaluates the Require lines
 *      with no user; our provider then records that the location needs a
 *      contractor (and which RFCs it admits) and answers "denied, no user",
 *      which makes Apache run authentication.
 *   2. check_user_id (AuthType ICSOE) loads the session cookie, revalidates
 *      it against LDAP when due, and -- knowing from step 1 what the
 *      location needs -- answers the cases that must not end as a bare 401:
 *        no session:        browser 303 to ICSOELoginURL?r=<path>,
 *                           other clients 401 + WWW-Authenticate
 *        no contractor:     browser 303 to ICSOESelectURL, others 403
 *        contractor not admitted by any icsoe-contratista list: 403
 *        directory down at revalidation: 503 (fail closed)
 *      It writes those responses itself (our pages, security headers) and
 *      returns DONE.
 *   3. After authentication the provider decides for real (so RequireAll /
 *      RequireAny combinations keep their meaning) and fixups hand the
 *      identity to the application (appinfo.c). */
#include <string.h>
#include <strings.h>

#include "apr_strings.h"
#include "ap_provider.h"
#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_auth.h"

#include "mod_icsoe.h"
#include "secure.h"

#define ICSOE_AUTH_TYPE "ICSOE"
#define ICSOE_AUTHZ_PROVIDER "icsoe-contratista"

static int is_icsoe_auth(request_rec *r)
{
    const char *type = ap_auth_type(r);

    return type && strcasecmp(type, ICSOE_AUTH_TYPE) == 0;
}

static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; hay && *hay; hay++) {
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    }
    return 0;
}

/* A top-level navigation of a browser (it can follow a redirect to a login
 * page and come back); XHR/fetch and non-browser clients get status codes
 * they can act on instead. */
static int is_browser_navigation(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");
    const char *mode = apr_table_get(r->headers_in, "Sec-Fetch-Mode");

    if (!accept || !contains_ci(accept, "text/html"))
        return 0;
    if (apr_table_get(r->headers_in, "X-Requested-With"))
        return 0;
    return !mode || strcasecmp(mode, "navigate") == 0;
}

static const char *realm(request_rec *r)
{
    const char *name = ap_auth_name(r);
    const icsoe_conf *c = icsoe_srv(r)->conf;
    char *q;
    char *p;

    if (!name || !name[0])
        name = c && c->site_name && c->site_name[0] ? c->site_name : "ICSOE";
    /* a quoted-string: no quotes, backslashes or controls inside */
    q = apr_pstrdup(r->pool, name);
    for (p = q; *p; p++) {
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
            *p = '_';
    }
    return q;
}

static void note_challenge(request_rec *r)
{
    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   apr_pstrcat(r->pool, ICSOE_AUTH_TYPE " realm=\"", realm(r),
                               "\"", NULL));
}

/* Answer with one of our pages and stop request processing. */
static int finish_with(request_rec *r, int status)
{
    if (r->main)
        return status; /* a subrequest never writes the response */
    if (status == HTTP_UNAUTHORIZED)
        note_challenge(r);
    icsoe_error_page(r, status);
    return DONE;
}

static int redirect_to(request_rec *r, const char *location)
{
    if (r->main)
        return HTTP_UNAUTHORIZED;
    icsoe_redirect_303(r, location);
    return DONE;
}

static int deny_no_session(request_rec *r)
{
    if (is_browser_navigation(r))
        return redirect_to(r, icsoe_login_redirect_url(r));
    return finish_with(r, HTTP_UNAUTHORIZED);
}

static int rfc_listed(const apr_array_header_t *rfcs, const char *rfc)
{
    int i;

    if (rfcs->nelts == 0)
        return 1; /* "Require icsoe-contratista": any contractor */
    for (i = 0; i < rfcs->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(rfcs, i, const char *), rfc) == 0)
            return 1;
    }
    return 0;
}

/* Some icsoe-contratista line of this location admits the contractor?  (The
 * authoritative decision, with RequireAll/Any logic, is authz's; this only
 * picks a 403 page over authz's generic 401 when no line could admit.) */
static int some_list_admits(const icsoe_req *st, const char *rfc)
{
    int i;

    if (!st->rfc_lists)
        return 1;
    for (i = 0; i < st->rfc_lists->nelts; i++) {
        if (rfc_listed(APR_ARRAY_IDX(st->rfc_lists, i,
                                     const apr_array_header_t *), rfc))
            return 1;
    }
    return 0;
}

static int icsoe_check_user_id(request_rec *r)
{
    icsoe_req *st;
    icsoe_session s;
    int rc;

    if (!is_icsoe_auth(r))
        return DECLINED;
    st = icsoe_req_state(r);
    if (!icsoe_session_load(r, &s) || !s.curp[0]) {
        icsoe_wipe(&s, sizeof(s));
        return deny_no_session(r);
    }
    rc = icsoe_session_revalidate(r, &s);
    if (rc == HTTP_UNAUTHORIZED)
        return deny_no_session(r);
    if (rc != OK)
        return finish_with(r, rc);
    st->session = s;
    st->has_session = 1;
    icsoe_wipe(&s, sizeof(s));
    r->user = apr_pstrdup(r->pool, st->session.curp);

    if (!st->contractor_required)
        return OK;
    if (!st->session.rfc[0]) {
        if (is_browser_navigation(r))
            return redirect_to(r, icsoe_srv(r)->select_url);
        return finish_with(r, HTTP_FORBIDDEN);
    }
    if (!some_list_admits(st, st->session.rfc)) {
        icsoe_audit(r, "contractor-forbidden", st->session.curp,
                    apr_pstrcat(r->pool, st->session.rfc, " ", r->uri, NULL));
        return finish_with(r, HTTP_FORBIDDEN);
    }
    return OK;
}

static int icsoe_note_auth_failure(request_rec *r, const char *auth_type)
{
    if (!auth_type || strcasecmp(auth_type, ICSOE_AUTH_TYPE) != 0)
        return DECLINED;
    note_challenge(r);
    return OK;
}

/* ---- the authz provider ---- */

static const char *contractor_parse(cmd_parms *cmd, const char *line,
                                    const void **parsed)
{
    apr_array_header_t *rfcs = apr_array_make(cmd->pool, 2, sizeof(const char *));
    const char *p = line;
    char *word;

    while (*p && (word = ap_getword_conf(cmd->temp_pool, &p)) && *word) {
        char norm[ICSOE_RFC_BUFSZ];
        icsoe_rfc_reason why = icsoe_rfc_check(word, norm);

        /* a wrong check digit is kept: a few real RFCs fail it */
        if (why != ICSOE_RFC_OK && why != ICSOE_RFC_BAD_CHECK_DIGIT)
            return apr_psprintf(cmd->pool, "Require " ICSOE_AUTHZ_PROVIDER
                                ": '%s' is not an RFC (%s)", word,
                                icsoe_rfc_reason_name(why));
        APR_ARRAY_PUSH(rfcs, const char *) = apr_pstrdup(cmd->pool, norm);
    }
    *parsed = rfcs;
    return NULL;
}

static authz_status contractor_check(request_rec *r, const char *require_args,
                                     const void *parsed)
{
    const apr_array_header_t *rfcs = parsed;
    const icsoe_session *s;

    (void)require_args;
    if (!r->user) {
        /* before authentication: tell check_user_id what we need */
        icsoe_req *st = icsoe_req_state(r);

        st->contractor_required = 1;
        if (!st->rfc_lists)
            st->rfc_lists = apr_array_make(r->pool, 1, sizeof(rfcs));
        APR_ARRAY_PUSH(st->rfc_lists, const apr_array_header_t *) = rfcs;
        return AUTHZ_DENIED_NO_USER;
    }
    s = icsoe_request_session(r);
    if (!s || strcmp(s->curp, r->user) != 0 || !s->rfc[0])
        return AUTHZ_DENIED;
    return rfc_listed(rfcs, s->rfc) ? AUTHZ_GRANTED : AUTHZ_DENIED;
}

static const authz_provider contractor_provider = {
    &contractor_check,
    &contractor_parse,
};

/* ---- identity for the application ---- */

static int icsoe_fixups(request_rec *r)
{
    const icsoe_session *s;

    if (!r->user)
        return DECLINED;
    s = icsoe_request_session(r);
    if (!s || strcmp(s->curp, r->user) != 0)
        return DECLINED;
    return icsoe_set_app_info(r, s);
}

void icsoe_register_auth_hooks(apr_pool_t *p)
{
    ap_hook_check_authn(icsoe_check_user_id, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_note_auth_failure(icsoe_note_auth_failure, NULL, NULL,
                              APR_HOOK_MIDDLE);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, ICSOE_AUTHZ_PROVIDER,
                              AUTHZ_PROVIDER_VERSION, &contractor_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    /* before mod_rewrite's per-directory rules, so they can see ICSOE_* */
    ap_hook_fixups(icsoe_fixups, NULL, NULL, APR_HOOK_REALLY_FIRST);
}
