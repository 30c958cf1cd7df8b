/* Scrub, then set: the identity headers are ours alone.
 *
 * Before any other module sees a request (post_read_request, really first)
 * every incoming header whose name starts with ICSOEHeaderPrefix -- in any
 * case, '_' counted as '-' (CGI and some backends fold them) -- is removed,
 * on every request, protected or not.  Tokens naming such headers are also
 * removed from Connection: mod_proxy drops the headers a client lists there
 * (hop-by-hop), which would let a client strip the identity we add. */
#include <string.h>

#include "apr_strings.h"
#include "http_protocol.h"
#include "http_request.h"

#include "mod_icsoe.h"

/* 1 when a Connection value lists a token with our prefix.  A token
 * cannot match across a ',' (prefixes are letters, digits, '-', '_'). */
static int lists_ours(const char *value, const char *prefix)
{
    for (const char *p = value; p != NULL; p = strchr(p, ',')) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        if (icsoe_header_has_prefix(p, prefix))
            return 1;
    }
    return 0;
}

/* Connection without the tokens that name our headers; NULL when nothing
 * remains. */
static const char *clean_connection(request_rec *r, const char *prefix,
                                    const char *value, int *changed)
{
    char *copy = apr_pstrdup(r->pool, value);
    char *state = NULL;
    char *tok;
    const char *out = NULL;

    for (tok = apr_strtok(copy, ",", &state); tok;
         tok = apr_strtok(NULL, ",", &state)) {
        char *t = tok;
        size_t len;

        while (*t == ' ' || *t == '\t')
            t++;
        len = strlen(t);
        while (len > 0 && (t[len - 1] == ' ' || t[len - 1] == '\t'))
            t[--len] = '\0';
        if (len == 0)
            continue;
        if (icsoe_header_has_prefix(t, prefix)) {
            *changed = 1;
            continue;
        }
        out = out ? apr_pstrcat(r->pool, out, ", ", t, NULL) : t;
    }
    return out;
}

static void scrub_connection(request_rec *r, const char *prefix)
{
    const apr_array_header_t *arr = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    apr_array_header_t *kept = apr_array_make(r->pool, 2, sizeof(const char *));
    int changed = 0;
    int i;

    for (i = 0; i < arr->nelts; i++) {
        const char *v;

        if (!e[i].key || strcasecmp(e[i].key, "Connection") != 0)
            continue;
        v = clean_connection(r, prefix, e[i].val, &changed);
        if (v)
            APR_ARRAY_PUSH(kept, const char *) = v;
    }
    if (!changed)
        return;
    apr_table_unset(r->headers_in, "Connection");
    for (i = 0; i < kept->nelts; i++)
        apr_table_addn(r->headers_in, "Connection",
                       APR_ARRAY_IDX(kept, i, const char *));
}

/* Runs on every request: one walk over the headers, and copies or
 * rewrites only when a header of ours is there. */
static int icsoe_scrub(request_rec *r)
{
    icsoe_srv_conf *sc = icsoe_srv(r);
    const char *prefix = sc->header_prefix ? sc->header_prefix
                                           : ICSOE_DEFAULT_HEADER_PREFIX;
    const apr_array_header_t *arr = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    apr_array_header_t *names = NULL;
    int connection_lists_ours = 0;
    int i;

    for (i = 0; i < arr->nelts; i++) {
        const char *key = e[i].key;

        if (key == NULL)
            continue;
        if (icsoe_header_has_prefix(key, prefix)) {
            if (names == NULL)
                names = apr_array_make(r->pool, 2, sizeof(const char *));
            APR_ARRAY_PUSH(names, const char *) = key;
        } else if ((key[0] | 0x20) == 'c' && strcasecmp(key, "Connection") == 0 &&
                   e[i].val != NULL && lists_ours(e[i].val, prefix)) {
            connection_lists_ours = 1;
        }
    }
    for (i = 0; names != NULL && i < names->nelts; i++) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);

        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ICSOE_LOGNO(0501)
                      "removed client header %s",
                      ap_escape_logitem(r->pool, name));
        apr_table_unset(r->headers_in, name);
    }
    if (connection_lists_ours)
        scrub_connection(r, prefix);
    return DECLINED;
}

void icsoe_register_scrub_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_post_read_request(icsoe_scrub, NULL, NULL, APR_HOOK_REALLY_FIRST);
}
