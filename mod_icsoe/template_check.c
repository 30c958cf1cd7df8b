/* ICSOETemplateDir overrides checked at start-up (issue 13, icsoectl check):
 * a broken override (unknown variable, malformed or unterminated tag,
 * unreadable file) makes "apache2 -t" and the start fail, naming the file,
 * instead of answering 500 to every capturist who reaches that page.
 *
 * Variables: the union of those the built-in pages use and the common
 * ones icsoe_render_page adds.  A variable of one page used in another
 * still passes here and is refused (500, logged) at request time: the
 * check refuses nothing a running server would accept. */
#include <stdlib.h>
#include <string.h>

#include "apr_file_info.h"
#include "apr_hash.h"
#include "apr_strings.h"

#include "mod_icsoe.h"

#define TAG_NAME_MAX 32

static const char *const common_vars[] = {
    "site_name", "css_url", "login_url", "home_url", "select_url", "start_url",
    "recover_url", "logout_url"
};

/* Adds every {{name}} / {{&name}} of a built-in template to names. */
static void collect_names(apr_pool_t *p, apr_hash_t *names, const char *t, size_t len)
{
    const char *end = t + len, *s = t;

    while ((s = memchr(s, '{', (size_t)(end - s))) != NULL && s + 1 < end) {
        const char *n = s + 2, *e;

        if (s[1] != '{') {
            s++;
            continue;
        }
        if (n < end && *n == '&')
            n++;
        for (e = n; e < end && e - n <= TAG_NAME_MAX &&
             ((*e >= 'a' && *e <= 'z') || (*e >= '0' && *e <= '9') || *e == '_'); e++)
            ;
        if (e > n && e + 1 < end && e[0] == '}' && e[1] == '}')
            apr_hash_set(names, apr_pstrmemdup(p, n, (apr_size_t)(e - n)),
                         APR_HASH_KEY_STRING, "");
        s = e;
    }
}

static icsoe_tvar *known_vars(apr_pool_t *p, size_t *n)
{
    apr_hash_t *names = apr_hash_make(p);
    const struct icsoe_embedded *e;
    apr_hash_index_t *hi;
    icsoe_tvar *vars;
    size_t i = 0;

    for (i = 0; i < sizeof(common_vars) / sizeof(common_vars[0]); i++)
        apr_hash_set(names, common_vars[i], APR_HASH_KEY_STRING, "");
    for (e = icsoe_page_templates; e->name; e++)
        collect_names(p, names, e->data, e->len);
    vars = apr_pcalloc(p, apr_hash_count(names) * sizeof(*vars));
    i = 0;
    for (hi = apr_hash_first(p, names); hi; hi = apr_hash_next(hi)) {
        const void *key;

        apr_hash_this(hi, &key, NULL, NULL);
        vars[i].name = key;
        vars[i].value = "x";
        i++;
    }
    *n = i;
    return vars;
}

const char *icsoe_check_template_dir(apr_pool_t *p, const char *dir)
{
    const struct icsoe_embedded *e;
    icsoe_tvar *vars;
    size_t nvars;

    if (!dir)
        return NULL;
    vars = known_vars(p, &nvars);
    for (e = icsoe_page_templates; e->name; e++) {
        const char *path, *dot = strrchr(e->name, '.');
        char err[256] = "";
        apr_finfo_t fi;
        size_t len;
        char *text, *html;

        if (!dot || strcmp(dot, ".html") != 0)
            continue;   /* the stylesheet is served as is */
        path = apr_pstrcat(p, dir, "/", e->name, NULL);
        if (apr_stat(&fi, path, APR_FINFO_TYPE, p) != APR_SUCCESS)
            continue;   /* no override: the built-in one */
        text = icsoe_template_read_file(path, ICSOE_TEMPLATE_MAX, &len, err, sizeof(err));
        html = text ? icsoe_template_render(text, len, vars, nvars, ICSOE_ESC_HTML,
                                            ICSOE_PAGE_MAX, err, sizeof(err))
                    : NULL;
        free(text);
        if (!html)
            return apr_psprintf(p, "ICSOETemplateDir %s: %s: %s", dir, e->name, err);
        free(html);
    }
    return NULL;
}
