/* mod_icsoe: module record and hook wiring.  The work lives in the other
 * files (see mod_icsoe.h); this one only connects them to Apache:
 *   check_config  defaults, icsoe.conf and key checks (so "apache2 -t"
 *                 already refuses a broken set-up)
 *   child_init    one pool of directory handles per process
 *   handler       dispatch of the icsoe-* handler names to the pages */
#include <string.h>
#include <strings.h>

#include "apr_strings.h"
#include "apr_hash.h"
#include "http_protocol.h"
#include "http_request.h"
#include "ap_mpm.h"

#include "mod_icsoe.h"
#include "secure.h"

typedef int (*icsoe_handler_fn)(request_rec *r);

static const struct {
    const char *name;
    icsoe_handler_fn fn;
} icsoe_handlers[] = {
    {ICSOE_HANDLER_ACTIVATE, icsoe_handle_activate},
    {ICSOE_HANDLER_LOGIN, icsoe_handle_login},
    {ICSOE_HANDLER_RECOVER, icsoe_handle_recover},
    {ICSOE_HANDLER_HOME, icsoe_handle_home},
    {ICSOE_HANDLER_SELECT, icsoe_handle_select},
    {ICSOE_HANDLER_LOGOUT, icsoe_handle_logout},
    {ICSOE_HANDLER_CAPTURISTS, icsoe_handle_capturists},
    {ICSOE_HANDLER_CSS, icsoe_handle_css},
};

icsoe_srv_conf *icsoe_srv(request_rec *r)
{
    return ap_get_module_config(r->server->module_config, &icsoe_module);
}

static apr_status_t req_state_cleanup(void *data)
{
    icsoe_req *st = data;

    icsoe_wipe(&st->session, sizeof(st->session));
    return APR_SUCCESS;
}

icsoe_req *icsoe_req_state(request_rec *r)
{
    icsoe_req *st = ap_get_module_config(r->request_config, &icsoe_module);

    if (!st) {
        st = apr_pcalloc(r->pool, sizeof(*st));
        apr_pool_cleanup_register(r->pool, st, req_state_cleanup,
                                  apr_pool_cleanup_null);
        ap_set_module_config(r->request_config, &icsoe_module, st);
    }
    return st;
}

/* libicsoe reports through this callback into the server's error log; the
 * library's levels are syslog levels, as Apache's are. */
static void icsoe_ap_log(void *ctx, int level, const char *msg)
{
    server_rec *s = ctx;

    ap_log_error(APLOG_MARK, level, 0, s, ICSOE_LOGNO(0101) "%s", msg);
}

/* A handler that answers with a bare status still gets our Spanish page and
 * the security headers (Apache's built-in error page has neither). */
static int handler_result(request_rec *r, int rc)
{
    if (rc == OK || rc == DONE || rc == DECLINED || !ap_is_HTTP_ERROR(rc))
        return rc;
    icsoe_error_page(r, rc);
    return OK;
}

static int icsoe_handler(request_rec *r)
{
    size_t i;

    if (!r->handler || strncmp(r->handler, "icsoe-", 6) != 0)
        return DECLINED;
    for (i = 0; i < sizeof(icsoe_handlers) / sizeof(icsoe_handlers[0]); i++) {
        int rc;

        if (strcmp(r->handler, icsoe_handlers[i].name) != 0)
            continue;
        rc = icsoe_https_guard(r);
        if (rc != DECLINED)
            return handler_result(r, rc);
        return handler_result(r, icsoe_handlers[i].fn(r));
    }
    return DECLINED;
}

/* Describe a server for start-up messages ("127.0.0.1:8080"). */
static const char *server_label(apr_pool_t *p, const server_rec *s)
{
    return apr_psprintf(p, "%s:%u (%s:%d)",
                        s->server_hostname ? s->server_hostname : "?",
                        (unsigned)s->port,
                        s->defn_name ? s->defn_name : "main config",
                        (int)s->defn_line_number);
}

/* Fill defaults and make sure every server has icsoe.conf and session keys.
 * Runs before "-t" reports, so a broken set-up fails the syntax check. */
static int icsoe_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *main_s)
{
    icsoe_srv_conf *main_sc = ap_get_module_config(main_s->module_config,
                                                   &icsoe_module);
    server_rec *s;

    (void)plog;
    if (!main_sc->conf_path) {
        const char *err;

        main_sc->conf_path = ICSOE_CONF_DEFAULT_PATH;
        err = icsoe_load_conf_file(pconf, main_sc->conf_path, &main_sc->conf);
        if (err) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                         ICSOE_LOGNO(0103) "mod_icsoe: %s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    if (!main_sc->key_files) {
        const char *err = icsoe_add_key_file(pconf, main_sc,
                                             ICSOE_SESSION_KEY_DEFAULT_PATH);

        if (err) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                         ICSOE_LOGNO(1202) "mod_icsoe: no ICSOESessionKeyFile "
                         "configured and the default one cannot be used: %s "
                         "(create it with \"icsoectl key generate "
                         ICSOE_SESSION_KEY_DEFAULT_PATH "\")", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    for (s = main_s; s; s = s->next) {
        icsoe_srv_conf *sc = ap_get_module_config(s->module_config,
                                                  &icsoe_module);

        /* vhosts were merged before the main server got its defaults */
        if (!sc->conf) {
            sc->conf_path = main_sc->conf_path;
            sc->conf = main_sc->conf;
        }
        if (!sc->key_files) {
            sc->key_files = main_sc->key_files;
            sc->keyring = main_sc->keyring;
        }
        if (!sc->keyring || icsoe_keyring_count(sc->keyring) == 0) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                         ICSOE_LOGNO(0104) "mod_icsoe: no ICSOESessionKeyFile "
                         "for server %s: sessions cannot be sealed "
                         "(create one with \"icsoectl key generate\")",
                         server_label(ptemp, s));
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (sc->template_dir && (s == main_s || sc->template_dir != main_sc->template_dir)) {
            const char *err = icsoe_check_template_dir(ptemp, sc->template_dir);

            if (err) {
                ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                             ICSOE_LOGNO(1120) "mod_icsoe: %s (server %s)", err,
                             server_label(ptemp, s));
                return HTTP_INTERNAL_SERVER_ERROR;
            }
        }
        icsoe_srv_conf_finish(sc);
        sc->cookie_full_name = sc->cookie_secure
            ? apr_pstrcat(pconf, "__Host-", sc->cookie_name, NULL)
            : sc->cookie_name;
        icsoe_app_info_names(pconf, sc);
        sc->logger.fn = icsoe_ap_log;
        sc->logger.ctx = s;
    }
    return OK;
}

static int icsoe_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s)
{
    icsoe_srv_conf *sc = ap_get_module_config(s->module_config, &icsoe_module);

    (void)plog;
    (void)ptemp;
    icsoe_audit_init(pconf);
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, ICSOE_LOGNO(0105)
                 "mod_icsoe: %s, %lu session key(s), revalidation every %d s",
                 sc->conf_path, (unsigned long)icsoe_keyring_count(sc->keyring),
                 sc->revalidate);
    return OK;
}

/* One directory pool per distinct icsoe.conf in this process. */
static void icsoe_child_init(apr_pool_t *pchild, server_rec *main_s)
{
    apr_hash_t *by_conf = apr_hash_make(pchild);
    server_rec *s;

    icsoe_session_cache_child_init(pchild, main_s);
    for (s = main_s; s; s = s->next) {
        icsoe_srv_conf *sc = ap_get_module_config(s->module_config,
                                                  &icsoe_module);
        apr_reslist_t *shared = apr_hash_get(by_conf, &sc->conf,
                                             sizeof(sc->conf));
        apr_status_t rv;

        if (shared) {
            sc->dirpool = shared;
            continue;
        }
        rv = icsoe_dirpool_create(pchild, s, sc);
        if (rv != APR_SUCCESS) {
            /* requests then answer 503 (fail closed), the rest works */
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, ICSOE_LOGNO(0106)
                         "mod_icsoe: cannot create the directory pool");
            continue;
        }
        apr_hash_set(by_conf, apr_pmemdup(pchild, &sc->conf, sizeof(sc->conf)),
                     sizeof(sc->conf), sc->dirpool);
    }
}

static void icsoe_register_hooks(apr_pool_t *p)
{
    ap_hook_check_config(icsoe_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(icsoe_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(icsoe_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(icsoe_handler, NULL, NULL, APR_HOOK_MIDDLE);
    icsoe_register_scrub_hooks(p);
    icsoe_register_redact_hooks(p);
    icsoe_register_cookie_strip_hooks(p);
    icsoe_register_auth_hooks(p);
}

/* not AP_DECLARE_MODULE: mod_icsoe.h already did APLOG_USE_MODULE */
module AP_MODULE_DECLARE_DATA icsoe_module = {
    STANDARD20_MODULE_STUFF,
    NULL,                  /* per-directory config: none */
    NULL,
    icsoe_create_srv_conf,
    icsoe_merge_srv_conf,
    icsoe_directives,
    icsoe_register_hooks,
    AP_MODULE_FLAG_NONE
};
