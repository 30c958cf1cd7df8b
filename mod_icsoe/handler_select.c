/* icsoe-select (seed steps 7-9): "Contratista a trabajar".
 *
 * GET lists the contractors assigned to the capturist (RFC, razón social,
 * REPSE) with a "Seleccionar" radio per row and "Siguiente"; more than
 * ICSOE_SELECT_PAGE_SIZE are paged and filterable by RFC or name, on the
 * server (no JavaScript needed).  POST step=siguiente shows "Elegiste al
 * contratista ... ¿Deseas continuar?" with "Continuar" and "Cancelar";
 * step=continuar stores the contractor in a re-issued session and goes to
 * ICSOEHomeURL.  Both POST steps re-read the assignment from LDAP: an RFC
 * the capturist does not work for is a forged form (403, audited). */
#include <string.h>
#include <strings.h>

#include "apr_lib.h"
#include "apr_strings.h"
#include "apr_tables.h"
#include "http_protocol.h"
#include "httpd.h"

#include "handlers.h"
#include "rfc.h"
#include "secure.h"

#define FILTER_MAX 100   /* bytes of the filter box */
#define PAGE_MAX 100000  /* highest page number we parse */

/* The capturist's contractors, sorted by RFC, freed with the request:
 * all of them, or one page of them (v[0] is the offset-th of total). */
typedef struct assigned {
    icsoe_contractor *v;
    size_t n;
    size_t offset;
    size_t total;
    int paged;     /* v is the page asked for, read as such */
} assigned;

static apr_status_t assigned_cleanup(void *data)
{
    assigned *a = data;

    icsoe_contractor_list_free(a->v, a->n);
    a->v = NULL;
    a->n = 0;
    return APR_SUCCESS;
}

static size_t page_count(size_t n)
{
    return n == 0 ? 1 : (n + ICSOE_SELECT_PAGE_SIZE - 1) / ICSOE_SELECT_PAGE_SIZE;
}

/* Read the assignment from the directory: every contractor (page NULL),
 * or only those of *page (clamped to the last page).  The capturist entry
 * lists its RFCs sorted, so an unfiltered page needs only its 20 contractor
 * entries, not all of them (a capturist may have hundreds; issue 16).
 * OK or an HTTP status. */
static int load_assigned(request_rec *r, const char *curp, size_t *page,
                         assigned **out)
{
    assigned *a = apr_pcalloc(r->pool, sizeof(*a));
    icsoe_dir *d = icsoe_dir_acquire(r);
    const icsoe_capturist *cap;
    icsoe_capturist c;
    icsoe_status st = ICSOE_OK;
    size_t want;

    *out = a;
    if (d == NULL)
        return HTTP_SERVICE_UNAVAILABLE;
    memset(&c, 0, sizeof(c));
    /* These pages revalidate first (icsoe_pg_require_login): the entry
     * that check just read is as fresh as a second read would be. */
    cap = icsoe_revalidated_capturist(r, curp);
    if (cap == NULL) {
        st = icsoe_dir_capturist_get(d, curp, &c);
        cap = &c;
    }
    a->total = want = cap->ncontractors;
    if (st == ICSOE_OK && page != NULL) {
        if (*page > page_count(cap->ncontractors))
            *page = page_count(cap->ncontractors);
        a->offset = (*page - 1) * ICSOE_SELECT_PAGE_SIZE;
        want = cap->ncontractors - a->offset < ICSOE_SELECT_PAGE_SIZE ?
               cap->ncontractors - a->offset : ICSOE_SELECT_PAGE_SIZE;
    }
    if (st == ICSOE_OK && want > 0) {
        st = icsoe_dir_contractor_get_many(
            d, (const char *const *)cap->contractors + a->offset, want, &a->v, &a->n);
        if (st == ICSOE_OK)
            apr_pool_cleanup_register(r->pool, a, assigned_cleanup,
                                      apr_pool_cleanup_null);
    }
    a->paged = page != NULL;
    if (page == NULL)
        a->total = a->n;
    icsoe_capturist_clear(&c);
    if (st == ICSOE_OK)
        return OK;
    ap_log_rerror(APLOG_MARK, st == ICSOE_ERR_UNAVAILABLE ? APLOG_ERR : APLOG_WARNING,
                  0, r, ICSOE_LOGNO(1601)
                       "icsoe select: contractors of %s: %s: %s", curp,
                  icsoe_status_name(st), icsoe_dir_reason(d));
    if (st == ICSOE_ERR_UNAVAILABLE)
        return HTTP_SERVICE_UNAVAILABLE;
    /* The account vanished between revalidation and now: deny. */
    return st == ICSOE_ERR_NOT_FOUND ? HTTP_FORBIDDEN : HTTP_INTERNAL_SERVER_ERROR;
}

/* The assigned contractor with this RFC (normalised first), or NULL. */
static const icsoe_contractor *find_assigned(const assigned *a, const char *rfc)
{
    char norm[ICSOE_RFC_BUFSZ];
    icsoe_rfc_reason why;

    if (rfc == NULL)
        return NULL;
    why = icsoe_rfc_check(rfc, norm);
    if (why != ICSOE_RFC_OK && why != ICSOE_RFC_BAD_CHECK_DIGIT)
        return NULL;
    for (size_t i = 0; i < a->n; i++) {
        if (strcmp(a->v[i].rfc, norm) == 0)
            return &a->v[i];
    }
    return NULL;
}

/* ASCII case-insensitive substring test (names are UTF-8: accented letters
 * must be typed as stored). */
static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    if (hay == NULL)
        return 0;
    for (; *hay != '\0'; hay++) {
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    }
    return 0;
}

static int matches(const icsoe_contractor *c, const char *filter)
{
    return filter == NULL || filter[0] == '\0' || contains_ci(c->rfc, filter) ||
           contains_ci(c->name, filter);
}

/* Page number from the query: digits only, else 1. */
static size_t parse_page(const char *s)
{
    size_t p = 0;

    if (s == NULL || s[0] == '\0' || strlen(s) > 6)
        return 1;
    for (; *s != '\0'; s++) {
        if (!apr_isdigit(*s))
            return 1;
        p = p * 10 + (size_t)(*s - '0');
    }
    return p == 0 || p > PAGE_MAX ? 1 : p;
}

static const char *row_html(request_rec *r, const icsoe_contractor *c,
                            size_t idx, const icsoe_session *s)
{
    const char *id = apr_psprintf(r->pool, "c-%" APR_SIZE_T_FMT, idx);
    const char *rfc = icsoe_pg_esc(r, c->rfc);

    return apr_pstrcat(r->pool,
        "<tr><td class=\"choice\"><input type=\"radio\" name=\"rfc\" id=\"", id,
        "\" value=\"", rfc, "\" aria-describedby=\"", id, "-rfc\" required",
        strcmp(s->rfc, c->rfc) == 0 ? " checked" : "",
        "> <label class=\"inline\" for=\"", id, "\">Seleccionar</label></td>"
        "<td id=\"", id, "-rfc\">", rfc, "</td><td>", icsoe_pg_esc(r, c->name),
        "</td><td>", c->repse != NULL && c->repse[0] != '\0' ?
                     icsoe_pg_esc(r, c->repse) : "—",
        "</td></tr>\n", NULL);
}

static const char *filter_html(request_rec *r, const char *filter)
{
    return apr_pstrcat(r->pool,
        "<form method=\"get\" action=\"", icsoe_pg_esc(r, icsoe_pg_self(r)),
        "\" class=\"filter\" role=\"search\">"
        "<div class=\"field\"><label for=\"q\">Buscar por RFC o nombre</label>"
        "<input type=\"search\" id=\"q\" name=\"q\" maxlength=\"100\" value=\"",
        icsoe_pg_esc(r, filter), "\"></div>"
        "<button type=\"submit\" class=\"secondary\">Buscar</button></form>\n",
        NULL);
}

static int show_none(request_rec *r, const icsoe_session *s)
{
    icsoe_tvar vars[] = {
        { "name", s->name },
    };
    return icsoe_render_page(r, HTTP_OK, "select_none", vars,
                             sizeof(vars) / sizeof(vars[0]));
}

/* The list: filter, page, rows and an optional message (plain text). */
static int show_list(request_rec *r, const icsoe_session *s, const assigned *a,
                     const char *filter, size_t page, const char *message)
{
    const char *rows = "";
    const char *summary;
    size_t matched = 0;
    size_t pages;
    size_t first;

    if (a->total == 0)
        return show_none(r, s);
    if (a->paged) {
        /* no filter text: a->v is the page (load_assigned clamped it) */
        matched = a->total;
        first = a->offset;
        page = first / ICSOE_SELECT_PAGE_SIZE + 1;
        for (size_t i = 0; i < a->n; i++)
            rows = apr_pstrcat(r->pool, rows, row_html(r, &a->v[i], first + i, s),
                               NULL);
    } else {
        for (size_t i = 0; i < a->n; i++)
            matched += matches(&a->v[i], filter);
        if (page > page_count(matched))
            page = page_count(matched);
        first = (page - 1) * ICSOE_SELECT_PAGE_SIZE;
        for (size_t i = 0, k = 0; i < a->n; i++) {
            if (!matches(&a->v[i], filter))
                continue;
            if (k >= first && k < first + ICSOE_SELECT_PAGE_SIZE)
                rows = apr_pstrcat(r->pool, rows, row_html(r, &a->v[i], i, s), NULL);
            k++;
        }
    }
    pages = page_count(matched);
    if (matched == 0) {
        rows = "<tr><td colspan=\"4\">Ningún contratista coincide con la "
               "búsqueda.</td></tr>\n";
        summary = "Sin resultados";
    } else {
        size_t last = first + ICSOE_SELECT_PAGE_SIZE < matched ?
                      first + ICSOE_SELECT_PAGE_SIZE : matched;
        summary = apr_psprintf(r->pool, "Contratistas %" APR_SIZE_T_FMT
                               " a %" APR_SIZE_T_FMT " de %" APR_SIZE_T_FMT,
                               first + 1, last, matched);
    }
    {
        icsoe_tvar vars[] = {
            { "action", icsoe_pg_self(r) },
            { "csrf", icsoe_csrf_token(r, s) },
            { "name", s->name },
            { "summary", summary },
            { "rows_html", rows },
            { "pager_html", icsoe_pg_pager(r, page, pages, filter) },
            { "filter_html", a->total > ICSOE_SELECT_PAGE_SIZE ?
                             filter_html(r, filter != NULL ? filter : "") : "" },
            { "message_html", message != NULL ? icsoe_pg_box(r, 1, message) : "" },
        };
        return icsoe_render_page(r, HTTP_OK, "select", vars,
                                 sizeof(vars) / sizeof(vars[0]));
    }
}

static int handle_get(request_rec *r, const icsoe_session *s)
{
    icsoe_form *q;
    assigned *a;
    const char *filter;
    size_t page;
    int rv;

    q = icsoe_pg_query(r);
    filter = icsoe_pg_field(r, q, "q", FILTER_MAX);
    page = parse_page(icsoe_form_get(q, "p"));
    /* without filter text only the page's contractors are read */
    rv = load_assigned(r, s->curp, filter == NULL || filter[0] == '\0' ? &page : NULL,
                       &a);
    if (rv != OK)
        return icsoe_pg_fail(r, rv);
    return show_list(r, s, a, filter, page, NULL);
}

static int confirm(request_rec *r, const icsoe_session *s,
                   const icsoe_contractor *c)
{
    icsoe_tvar vars[] = {
        { "action", icsoe_pg_self(r) },
        { "csrf", icsoe_csrf_token(r, s) },
        { "rfc", c->rfc },
        { "contractor_name", c->name },
    };
    return icsoe_render_page(r, HTTP_OK, "select_confirm", vars,
                             sizeof(vars) / sizeof(vars[0]));
}

/* Set-Cookie lines of our cookie already in err_headers_out (revalidation
 * re-issues it) are dropped first, so the response carries one cookie. */
typedef struct cookie_filter {
    const char *prefix;            /* "<cookie name>=" */
    apr_array_header_t *others;    /* Set-Cookie values to keep */
} cookie_filter;

static int keep_other_cookies(void *rec, const char *key, const char *value)
{
    cookie_filter *cf = rec;

    (void)key;
    if (strncmp(value, cf->prefix, strlen(cf->prefix)) != 0)
        APR_ARRAY_PUSH(cf->others, const char *) = value;
    return 1;
}

static int save_once(request_rec *r, const icsoe_session *s)
{
    const char *name = icsoe_srv(r)->cookie_full_name;
    cookie_filter cf;

    if (name != NULL) {
        cf.prefix = apr_pstrcat(r->pool, name, "=", NULL);
        cf.others = apr_array_make(r->pool, 2, sizeof(const char *));
        apr_table_do(keep_other_cookies, &cf, r->err_headers_out, "Set-Cookie",
                     NULL);
        apr_table_unset(r->err_headers_out, "Set-Cookie");
        for (int i = 0; i < cf.others->nelts; i++)
            apr_table_addn(r->err_headers_out, "Set-Cookie",
                           APR_ARRAY_IDX(cf.others, i, const char *));
    }
    return icsoe_session_save(r, s);
}

static int choose(request_rec *r, icsoe_session *s, const icsoe_contractor *c)
{
    int rv = icsoe_session_set_contractor(r, s, c->rfc, c->name);

    /* A new CSRF secret with the new contractor: forms of the previous
     * choice stop working. */
    if (rv == OK && icsoe_random(s->csrf, sizeof(s->csrf)) != 0)
        rv = HTTP_INTERNAL_SERVER_ERROR;
    if (rv == OK)
        rv = save_once(r, s);
    if (rv != OK)
        return icsoe_pg_fail(r, rv);
    icsoe_audit(r, "select-ok", s->curp, c->rfc);
    return icsoe_redirect_303(r, icsoe_srv(r)->home_url);
}

static int handle_post(request_rec *r, icsoe_session *s)
{
    icsoe_form *f;
    icsoe_session posted;
    const icsoe_contractor *c;
    const char *step;
    const char *rfc;
    assigned *a;
    int rv = icsoe_pg_read_post(r, &f, &posted);

    /* The form's session must be the one that passed the login gate. */
    if (rv == OK && strcmp(posted.curp, s->curp) != 0)
        rv = HTTP_FORBIDDEN;
    icsoe_wipe(&posted, sizeof(posted));
    if (rv != OK)
        return icsoe_pg_fail(r, rv);
    step = icsoe_form_get(f, "step");
    if (step != NULL && strcmp(step, "cancelar") == 0)
        return icsoe_redirect_303(r, icsoe_srv(r)->select_url);
    if (step == NULL || (strcmp(step, "siguiente") != 0 &&
                         strcmp(step, "continuar") != 0))
        return icsoe_pg_fail(r, HTTP_BAD_REQUEST);
    rv = load_assigned(r, s->curp, NULL, &a);
    if (rv != OK)
        return icsoe_pg_fail(r, rv);
    rfc = icsoe_pg_field(r, f, "rfc", ICSOE_RFC_BUFSZ);
    if (rfc == NULL || rfc[0] == '\0') {
        if (strcmp(step, "siguiente") == 0)
            return show_list(r, s, a, NULL, 1, "Selecciona un contratista.");
        return icsoe_pg_fail(r, HTTP_BAD_REQUEST);
    }
    c = find_assigned(a, rfc);
    if (c == NULL) {
        icsoe_audit(r, "contractor-forged", s->curp,
                    ap_escape_logitem(r->pool, rfc));
        return icsoe_pg_fail(r, HTTP_FORBIDDEN);
    }
    if (strcmp(step, "siguiente") == 0)
        return confirm(r, s, c);
    return choose(r, s, c);
}

int icsoe_handle_select(request_rec *r)
{
    icsoe_session s;
    int rv = OK;

    if (r->method_number != M_GET && r->method_number != M_POST)
        return icsoe_pg_fail(r, HTTP_METHOD_NOT_ALLOWED);
    if (icsoe_pg_require_login(r, &s, &rv))
        rv = r->method_number == M_GET ? handle_get(r, &s) : handle_post(r, &s);
    icsoe_wipe(&s, sizeof(s));
    return rv;
}
