/* mod_icsoe internal interface: what the core (config, session cookie,
 * directory pool, forms, page rendering, auth) offers the page handlers.
 *
 * Ownership:
 *   core  (MODCORE): mod_icsoe.c config.c session_cookie.c dirpool.c form.c
 *                    page.c scrub.c auth.c appinfo.c
 *   pages (MODPAGES): one file per handler (icsoe_handle_* below) and the
 *                    generated built-in template table icsoe_page_templates.
 *
 * Every function here works on the request pool: nothing returned needs to
 * be freed by the caller, and lib objects handed out (icsoe_dir, icsoe_form)
 * are released by request-pool cleanups.
 *
 * Status convention: functions returning int give OK (0) on success or an
 * HTTP status the handler should return as is (ap_die produces the page);
 * exceptions are documented per function. */
#ifndef MOD_ICSOE_H
#define MOD_ICSOE_H

#include <stddef.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "apr_reslist.h"

#include "conf.h"
#include "dir.h"
#include "input.h"
#include "session.h"
#include "template.h"

/* Every file of the module logs as "icsoe", so "LogLevel icsoe:debug"
 * works for all of them. */
APLOG_USE_MODULE(icsoe);
extern module AP_MODULE_DECLARE_DATA icsoe_module;

/* Every log line starts with a unique tag, like httpd's APLOGNO but in our
 * own namespace: ICSOE_LOGNO(0123) -> "ICSOE0123: ".  Numbers 0100-0899
 * belong to the core files (one hundred per file), 1000-1999 to the page
 * handlers. */
#define ICSOE_LOGNO(n) "ICSOE" #n ": "

/* ---- handler names (fixed by DESIGN.md) ---- */
#define ICSOE_HANDLER_ACTIVATE "icsoe-activate"
#define ICSOE_HANDLER_LOGIN    "icsoe-login"
#define ICSOE_HANDLER_RECOVER  "icsoe-recover"
#define ICSOE_HANDLER_HOME     "icsoe-home"
#define ICSOE_HANDLER_SELECT   "icsoe-select"
#define ICSOE_HANDLER_LOGOUT   "icsoe-logout"
#define ICSOE_HANDLER_CAPTURISTS "icsoe-capturists" /* contractor's page */
#define ICSOE_HANDLER_CSS      "icsoe-css"   /* serves template "icsoe.css" */

/* ---- limits ---- */
#define ICSOE_FORM_BODY_MAX 8192          /* bigger request bodies: 413 */
#define ICSOE_TEMPLATE_MAX (64 * 1024)    /* template file size cap */
#define ICSOE_PAGE_MAX (256 * 1024)       /* rendered page size cap */

/* ---- defaults ---- */
#define ICSOE_DEFAULT_COOKIE "icsoe_session"  /* "__Host-" prepended when Secure */
#define ICSOE_DEFAULT_IDLE_TIMEOUT 1800       /* seconds */
#define ICSOE_DEFAULT_MAX_AGE 28800           /* seconds (8 h) */
#define ICSOE_DEFAULT_REVALIDATE 60           /* seconds */
#define ICSOE_DEFAULT_LOGIN_URL "/icsoe/ingresar"
#define ICSOE_DEFAULT_SELECT_URL "/icsoe/contratista"
#define ICSOE_DEFAULT_HOME_URL "/icsoe/inicio"
#define ICSOE_DEFAULT_START_URL "/icsoe/inicio"
#define ICSOE_DEFAULT_RECOVER_URL "/icsoe/recuperar"
#define ICSOE_DEFAULT_LOGOUT_URL "/icsoe/salir"
#define ICSOE_DEFAULT_HEADER_PREFIX "X-ICSOE-"
#define ICSOE_DEFAULT_CONTRACTOR_AUTH "efirma"
#define ICSOE_DEFAULT_BULK_MAX_ROWS 3000

/* ---- server configuration (one per virtual host, merged) ----
 * Integers use -1 and pointers NULL for "unset" while parsing; after
 * post_config every field of every server holds its effective value, so
 * handlers read them directly. */
typedef struct icsoe_srv_conf {
    const char *conf_path;          /* ICSOEConfigFile */
    apr_array_header_t *key_files;  /* ICSOESessionKeyFile, const char * */
    const char *cookie_name;        /* ICSOESessionCookie (without __Host-) */
    int idle_timeout;               /* ICSOESessionIdleTimeout, seconds */
    int max_age;                    /* ICSOESessionMaxAge, seconds */
    int revalidate;                 /* ICSOERevalidateInterval, seconds */
    int cookie_secure;              /* ICSOECookieSecure On|Off (1|0) */
    int strip_cookies;              /* ICSOEStripCookies On|Off (1|0) */
    const char *login_url;          /* ICSOELoginURL */
    const char *select_url;         /* ICSOESelectURL */
    const char *home_url;           /* ICSOEHomeURL */
    const char *start_url;          /* ICSOEStartURL */
    const char *recover_url;        /* ICSOERecoverURL */
    const char *logout_url;         /* ICSOELogoutURL */
    const char *template_dir;       /* ICSOETemplateDir, NULL = built-in */
    const char *header_prefix;      /* ICSOEHeaderPrefix */
    const char *contractor_auth;    /* ICSOEContractorAuth efirma|remote-user */
    int bulk_max_rows;              /* ICSOEBulkMaxRows */

    /* filled in post_config / child_init; shared by servers that name the
     * same files */
    const icsoe_conf *conf;         /* loaded icsoe.conf (immutable) */
    const icsoe_keyring *keyring;   /* loaded keys (immutable) */
    const char *cookie_full_name;   /* cookie_name, with "__Host-" if Secure */
    const char *app_header[4];      /* appinfo.c: prefix + header names */
    apr_reslist_t *dirpool;         /* per process: icsoe_dir handles */
    icsoe_logger logger;            /* lib logging into this server's log */
} icsoe_srv_conf;

/* Effective server configuration of the request's virtual host. */
icsoe_srv_conf *icsoe_srv(request_rec *r);

/* ---- the directory ----
 * A handle from the per-process pool, reserved for this request and given
 * back by a request-pool cleanup (callers never release it).  NULL when the
 * pool is exhausted or broken: answer 503 (icsoe_error_page). Connections
 * inside are lazy: the first operation may still say ICSOE_ERR_UNAVAILABLE. */
icsoe_dir *icsoe_dir_acquire(request_rec *r);

/* ---- the session ----
 * Load: 1 when the request carries a cookie that opens with our keys for
 * this site (ServerName), is not past ICSOESessionMaxAge since issue nor
 * ICSOESessionIdleTimeout since last seen; *s receives it.  0 otherwise
 * (no, tampered, foreign, expired cookie: logged at debug), with *s zeroed.
 * Loading does NOT revalidate against LDAP (the auth hook does). */
int icsoe_session_load(request_rec *r, icsoe_session *s);
/* This process's cache of opened cookies (lib/session_cache.h), freed
 * with pchild. */
void icsoe_session_cache_child_init(apr_pool_t *pchild, server_rec *s);
/* Seal *s (last_seen is set to now) and send it as a Set-Cookie in
 * err_headers_out (so it also rides on redirects and error pages):
 * HttpOnly; SameSite=Lax; Path=/; Secure and the "__Host-" name unless
 * ICSOECookieSecure Off.  OK, or HTTP_INTERNAL_SERVER_ERROR. */
int icsoe_session_save(request_rec *r, const icsoe_session *s);
/* Send an expired cookie (logout, refused session). */
void icsoe_session_clear(request_rec *r);
/* A fresh session: new random CSRF secret, issued = last_seen = validated =
 * now, the given CURP (NULL or "" = pre-login session for the login form's
 * CSRF token), capturist name (may be NULL) and account epoch; no
 * contractor.  The CURP must be one icsoe_curp_check accepted (the login
 * checks the form's field before the directory is asked, and hands over
 * that CURP only); here only its shape is checked again, 18 of [A-Z0-9].
 * OK, or HTTP_INTERNAL_SERVER_ERROR (RNG failure, a CURP of another shape,
 * name that is not safe text). */
int icsoe_session_new(request_rec *r, icsoe_session *s, const char *curp,
                      const char *name, long long epoch);
/* Store the chosen contractor (rfc, name) in *s (validated is left as is);
 * the caller then calls icsoe_session_save.  OK or HTTP_BAD_REQUEST. */
int icsoe_session_set_contractor(request_rec *r, icsoe_session *s,
                                 const char *rfc, const char *name);
/* The session the auth hook loaded (and revalidated) for this request, or
 * NULL when the request has none.  Handlers may use it instead of loading
 * again. */
const icsoe_session *icsoe_request_session(request_rec *r);

/* ---- forms ---- */
/* Read an urlencoded POST body into *f.  The parsed form is owned by the
 * request pool (a cleanup wipes and frees it when the request ends): *f is
 * a shallow copy the caller may keep on its stack but must NOT pass to
 * icsoe_form_free.  (A cleanup registered on a stack struct would run after
 * the handler's frame is gone.)  Requires method POST
 * (HTTP_METHOD_NOT_ALLOWED) and Content-Type
 * application/x-www-form-urlencoded (HTTP_UNSUPPORTED_MEDIA_TYPE); a body
 * over ICSOE_FORM_BODY_MAX bytes gives HTTP_REQUEST_ENTITY_TOO_LARGE, a
 * malformed one HTTP_BAD_REQUEST.  Also runs icsoe_check_post_origin. */
int icsoe_read_form(request_rec *r, icsoe_form *f);
/* A multipart/form-data POST (a file upload) of at most max bytes: the
 * origin checks of icsoe_read_form, then the body read into the request
 * pool and split by lib/multipart.c (the parts point into that body, which
 * lives as long as the request).  Same statuses as icsoe_read_form (415
 * when it is not multipart with a boundary).  The caller checks the CSRF
 * field itself. */
int icsoe_read_upload(request_rec *r, size_t max, icsoe_multipart *out);
/* The query string (r->args) parsed like a form, same ownership rule as
 * icsoe_read_form (pool-owned, *q a shallow copy, never freed by the
 * caller).  OK (an empty form when there is no query) or HTTP_BAD_REQUEST
 * for a malformed or over-long (ICSOE_QUERY_MAX) query. */
#define ICSOE_QUERY_MAX 4096
int icsoe_read_query(request_rec *r, icsoe_form *q);
/* OK when Sec-Fetch-Site is absent, "same-origin" or "none", and Origin is
 * absent or names this server (host and port as the request's Host);
 * HTTP_FORBIDDEN otherwise (audited as "csrf-origin"). */
int icsoe_check_post_origin(request_rec *r);
/* OK when field "csrf" matches s's CSRF secret (constant time);
 * HTTP_FORBIDDEN otherwise (audited as "csrf-failed"). */
int icsoe_check_csrf(request_rec *r, const icsoe_session *s,
                     const icsoe_form *f);
/* The token to put in a form's hidden "csrf" field (request pool). */
const char *icsoe_csrf_token(request_rec *r, const icsoe_session *s);

/* ---- pages ---- */
/* Built-in templates, generated by MODPAGES with scripts/embed-templates
 * (-s icsoe_page_templates) from templates/pages/; the table ends with an
 * entry whose name is NULL.  Entry names are file names ("login.html",
 * "error_403.html", "icsoe.css").  icsoe_render_page takes the bare name
 * ("login", "error_403"): it looks for ICSOETemplateDir/<name>.html first,
 * then the built-in "<name>.html" (a name that already has an extension is
 * used as is). */
#ifndef ICSOE_EMBEDDED_DECLARED
#define ICSOE_EMBEDDED_DECLARED
struct icsoe_embedded {
    const char *name;
    const char *data;
    size_t len;
};
#endif
extern const struct icsoe_embedded icsoe_page_templates[];

/* Every page template may use these variables besides the handler's own;
 * render_page adds them (a handler's var of the same name wins):
 *   site_name   icsoe.conf site_name ("ICSOE" when unset)
 *   css_url     URL of the stylesheet ("/icsoe/icsoe.css")
 *   login_url, home_url, select_url, start_url, recover_url, logout_url
 *                                     from the directives */
#define ICSOE_CSS_URL "/icsoe/icsoe.css"

/* Every override in dir (ICSOETemplateDir) renders with the page
 * variables: NULL, or an error naming the file (template_check.c). */
const char *icsoe_check_template_dir(apr_pool_t *p, const char *dir);

/* Render template_name with vars (HTML-escaped), send it with status and
 * the security headers (icsoe_security_headers).  Returns OK (the
 * response is written; a handler returns OK) or HTTP_INTERNAL_SERVER_ERROR
 * when the template is missing or broken (logged with the reason). */
int icsoe_render_page(request_rec *r, int status, const char *template_name,
                      const icsoe_tvar *vars, size_t n);
/* Content-Type is left alone; sets in err_headers_out:
 * Cache-Control: no-store, Content-Security-Policy "default-src 'none';
 * style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors
 * 'none'; base-uri 'none'", X-Frame-Options: DENY, Referrer-Policy:
 * no-referrer, X-Content-Type-Options: nosniff. */
void icsoe_security_headers(request_rec *r);
/* 303 See Other to location (a local path or absolute URL built by us;
 * never from the request unchecked).  Returns OK after writing the
 * response with the security headers. */
int icsoe_redirect_303(request_rec *r, const char *location);
/* Spanish error page from template "error_<status>" (403, 404, 405, 413,
 * 500, 503; others fall back to "error_500" text with the real status).
 * Returns OK (response written). */
int icsoe_error_page(request_rec *r, int status);
/* https_only.c: with ICSOECookieSecure On, a page reached over plain HTTP
 * is answered here (301 to https for GET/HEAD, 403 page otherwise) before
 * its handler reads anything.  DECLINED when the request may go on. */
int icsoe_https_guard(request_rec *r);
/* login_url?r=<percent-encoded path+query of this request> */
const char *icsoe_login_redirect_url(request_rec *r);

/* ---- audit ----
 * One NOTICE line "icsoe audit: node=<host> event=<event> curp=<curp|->
 * client=<ip> [detail=<detail>]" (node: this front end's host name, from
 * icsoe_audit_init at start-up); event is a fixed token (login-ok, login-failed,
 * login-locked, logout, activate-ok, activate-failed, recover-sent,
 * recover-ignored, select-ok, select-forbidden, csrf-failed, csrf-origin,
 * session-refused, ...).  Never pass a password, token or cookie. */
void icsoe_audit(request_rec *r, const char *event, const char *curp,
                 const char *detail);
void icsoe_audit_init(apr_pool_t *p);

/* ---- handlers (MODPAGES) ----
 * Called by the core's handler hook when r->handler matches; r->method is
 * not filtered (handlers answer 405 for methods they do not serve).  They
 * return OK after writing a response (render/redirect/error_page) or an
 * HTTP status. */
int icsoe_handle_activate(request_rec *r);
int icsoe_handle_login(request_rec *r);
int icsoe_handle_recover(request_rec *r);
int icsoe_handle_home(request_rec *r);
int icsoe_handle_select(request_rec *r);
int icsoe_handle_logout(request_rec *r);
int icsoe_handle_capturists(request_rec *r);

/* ---- core internals shared between core files ---- */
/* Per-request state of the core, in r->request_config (created on first
 * use; the session copy is wiped by a pool cleanup). */
typedef struct icsoe_req {
    icsoe_dir *dir;                 /* dirpool.c: handle reserved for r */
    int has_session;                /* auth.c: a valid session was loaded */
    icsoe_session session;          /* ... and revalidated if it was due */
    int contractor_required;        /* auth.c: Require icsoe-contratista seen */
    apr_array_header_t *rfc_lists;  /* auth.c: its RFC lists (may be empty) */
    int query_redacted;             /* redact.c: r->args holds "REDACTED" ... */
    const char *query;              /* ... and this the original query */
    const char *own_cookies;        /* cookie_strip.c: our "name=value"
                                     * pairs taken out of Cookie, "; "-joined */
    const struct ap_logconf *log_before_read; /* redact.c: r->log while */
    const struct ap_logconf *log_capped;      /* the request line is read */
    icsoe_capturist *revalidated;   /* session_cookie.c: the entry this
                                     * request's revalidation read (freed
                                     * by a pool cleanup), NULL if none */
} icsoe_req;
icsoe_req *icsoe_req_state(request_rec *r);       /* mod_icsoe.c */
int icsoe_handle_css(request_rec *r);             /* page.c */
void icsoe_register_auth_hooks(apr_pool_t *p);    /* auth.c */
void icsoe_register_scrub_hooks(apr_pool_t *p);   /* scrub.c */
/* redact.c: tokens out of every logged field.  icsoe_redact_query replaces
 * the query of r (and its parents) by "REDACTED" in the_request,
 * unparsed_uri, args and parsed_uri.query; icsoe_request_query returns the
 * original query (r->args when nothing was redacted). */
void icsoe_register_redact_hooks(apr_pool_t *p);
/* cookie_strip.c: with ICSOEStripCookies On our session cookie leaves the
 * Cookie header at post_read_request; the module reads it back from here
 * (also in internal redirects and subrequests).  NULL when none. */
void icsoe_register_cookie_strip_hooks(apr_pool_t *p);
const char *icsoe_own_cookies(request_rec *r);
void icsoe_redact_query(request_rec *r);
const char *icsoe_request_query(request_rec *r);
/* appinfo.c: r->user, env vars and identity headers for a passing
 * request; HTTP_INTERNAL_SERVER_ERROR when a value is not safe text. */
int icsoe_set_app_info(request_rec *r, const icsoe_session *s);
/* Build sc->app_header (once per server at start-up, after the merge). */
void icsoe_app_info_names(apr_pool_t *p, icsoe_srv_conf *sc);
/* Revalidate s against LDAP when older than ICSOERevalidateInterval
 * (re-reads status, epoch, contractor assignment) and re-issue the cookie;
 * OK, HTTP_UNAUTHORIZED (session refused: cookie cleared, audited) or
 * HTTP_SERVICE_UNAVAILABLE (directory down: fail closed). */
int icsoe_session_revalidate(request_rec *r, icsoe_session *s);
/* The capturist entry a revalidation of this request read, when it was
 * for this CURP: the selection page lists its contractors without reading
 * the entry a second time.  NULL otherwise. */
const icsoe_capturist *icsoe_revalidated_capturist(request_rec *r,
                                                   const char *curp);
apr_status_t icsoe_dirpool_create(apr_pool_t *p, server_rec *s,
                                  icsoe_srv_conf *sc);  /* dirpool.c */
extern const command_rec icsoe_directives[];           /* config.c */
void *icsoe_create_srv_conf(apr_pool_t *p, server_rec *s);
void *icsoe_merge_srv_conf(apr_pool_t *p, void *base, void *add);
/* Fill unset fields with defaults (called in check_config per server). */
void icsoe_srv_conf_finish(icsoe_srv_conf *sc);
/* Load icsoe.conf into an object freed with pool p; NULL or an error
 * message naming the file and line. */
const char *icsoe_load_conf_file(apr_pool_t *p, const char *path,
                                 const icsoe_conf **out);
/* Add a session key file to sc's keyring (created in pool p on first use);
 * NULL or an error message naming the file. */
const char *icsoe_add_key_file(apr_pool_t *p, icsoe_srv_conf *sc,
                               const char *path);
/* The key file used when no ICSOESessionKeyFile is configured, so the
 * Debian mods-available file can hold only commented defaults. */
#define ICSOE_SESSION_KEY_DEFAULT_PATH "/etc/icsoe/session.key"

#endif
