/* icsoe-capturists: the contractor's page ("alta de usuarios").
 *
 * The contractor (identified on every request by contractor_id.c: its
 * e.firma, or REMOTE_USER) lists its own capturists (paged, searchable by
 * CURP or name), adds one, re-sends a pending one's activation link and
 * unlinks one.  Every list and every action starts from the directory's
 * list of capturists linked to THIS contractor's RFC: a CURP posted for a
 * capturist of somebody else is a forged form (403, audited).
 *
 * Privacy rule: a CURP already registered (by another contractor or an
 * administrator) is only linked; the page never shows that person's name or
 * email to the contractor that linked it (icsoeRegisteredBy names the
 * contractor whose page created the account, and only it sees them).
 * The same rule covers the delivery state of the last mail (issue 17):
 * whether someone else's capturist's address bounces, or when that person
 * last asked for a reset link, is theirs; and the relay's own answer
 * (icsoe_delivery.error) is never shown to any contractor: it can quote
 * the address and the relay's internals, which is the administrator's
 * business (icsoectl capturist show).
 *
 * Desbloquear is deliberately not offered: a lock is either an
 * administrator's decision or slapd's ppolicy lockout after repeated wrong
 * passwords, and it covers the account for every contractor.  Any
 * contractor can link any CURP, so an unlock button would let one who
 * linked a victim's CURP undo the lockout that stops password guessing.
 * The administrator unlocks ("icsoectl capturist unlock").
 *
 * Forms: CSRF token from the cookie session (icsoe_pg_form_session), POST
 * with Origin/Sec-Fetch-Site checks, the same security headers as every
 * page.  Each action is audited with the contractor's RFC and certificate
 * serial. */
#include <string.h>
#include <strings.h>
#include <time.h>

#include "apr_lib.h"
#include "apr_strings.h"
#include "http_protocol.h"
#include "httpd.h"

#include "account.h"
#include "curp.h"
#include "handlers.h"
#include "input.h"
#include "secure.h"
#include "tz.h"

#define PAGE_SIZE 20
#define FILTER_MAX 100
#define NAME_PART_MAX 100   /* bytes of Nombre(s) and of each apellido */
#define EMAIL_MAX 254
#define PAGE_MAX 100000

/* The contractor's capturists, sorted by CURP, freed with the request. */
typedef struct roster {
    icsoe_capturist *v;
    size_t n;
} roster;

/* What the page shows besides the list. */
typedef struct page_state {
    const char *filter;
    size_t page;
    const char *message;
    int is_error;
    /* the add form, re-filled after an error */
    const char *curp, *nombre, *primer, *segundo, *correo;
    const char *report_html;  /* Carga masiva per-line report, or NULL */
} page_state;

static apr_status_t roster_cleanup(void *data)
{
    roster *ro = data;

    icsoe_capturist_list_free(ro->v, ro->n);
    ro->v = NULL;
    ro->n = 0;
    return APR_SUCCESS;
}

static int load_roster(request_rec *r, const icsoe_contractor_id *id, roster **out)
{
    roster *ro = apr_pcalloc(r->pool, sizeof(*ro));
    icsoe_dir *d = icsoe_dir_acquire(r);
    icsoe_status st;

    *out = ro;
    if (d == NULL)
        return HTTP_SERVICE_UNAVAILABLE;
    st = icsoe_dir_capturist_list(d, id->rfc, -1, &ro->v, &ro->n);
    if (st == ICSOE_OK) {
        apr_pool_cleanup_register(r->pool, ro, roster_cleanup, apr_pool_cleanup_null);
        return OK;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ICSOE_LOGNO(1661)
                  "icsoe capturists: list for %s: %s: %s", id->rfc,
                  icsoe_status_name(st), icsoe_dir_reason(d));
    return st == ICSOE_ERR_UNAVAILABLE ? HTTP_SERVICE_UNAVAILABLE
                                       : HTTP_INTERNAL_SERVER_ERROR;
}

static const icsoe_capturist *find_in(const roster *ro, const char *curp)
{
    for (size_t i = 0; i < ro->n; i++)
        if (strcmp(ro->v[i].curp, curp) == 0)
            return &ro->v[i];
    return NULL;
}

static int linked_to(const icsoe_capturist *c, const char *rfc)
{
    for (size_t i = 0; i < c->ncontractors; i++)
        if (strcmp(c->contractors[i], rfc) == 0)
            return 1;
    return 0;
}

/* Name and email are shown to the contractor that registered the account;
 * for accounts made before icsoeRegisteredBy existed, to the only
 * contractor they work for. */
static int may_see_contact(const icsoe_capturist *c, const char *rfc)
{
    if (c->registered_by[0] != '\0')
        return strcmp(c->registered_by, rfc) == 0;
    return c->ncontractors == 1 && strcmp(c->contractors[0], rfc) == 0;
}

static const char *status_label(const icsoe_capturist *c, time_t now)
{
    if (c->status == ICSOE_CAPTURIST_LOCKED || c->pp_locked)
        return "bloqueado";
    if (c->status == ICSOE_CAPTURIST_ACTIVE)
        return "activo";
    if (c->token_expiry != 0 && c->token_expiry > now)
        return "pendiente de activar";
    return "liga vencida";
}

/* "25/11/2026 12:30 CST" in the configured timezone, as the mails write
 * it (lib/tz.c), escaped: the abbreviation comes from a zone file.
 * Copied to the pool first: icsoe_pg_esc hands back its argument when
 * nothing needs escaping, and buf dies with this frame. */
static const char *time_label(request_rec *r, time_t t)
{
    char buf[ICSOE_TZ_TEXT_MAX];

    icsoe_tz_format(icsoe_srv(r)->conf->tz, t, buf, sizeof(buf));
    return icsoe_pg_esc(r, apr_pstrdup(r->pool, buf));
}

/* The registration day in the configured timezone (not UTC: an evening
 * registration in Mexico is already tomorrow in UTC). */
static const char *date_label(request_rec *r, time_t t)
{
    struct tm tm;
    char buf[32];

    if (t == 0 || (icsoe_tz_local(icsoe_srv(r)->conf->tz, t, &tm, NULL, NULL, 0) != 0 &&
                   gmtime_r(&t, &tm) == NULL) ||
        strftime(buf, sizeof(buf), "%d/%m/%Y", &tm) == 0)
        return "—";
    return apr_pstrdup(r->pool, buf);
}

/* The "Último correo" cell: what happened to the last mail, for the
 * contractor allowed to see it (the caller checks may_see_contact).  Only
 * fixed Spanish words and the time, never delivery.error. */
static const char *delivery_label(request_rec *r, const icsoe_capturist *c)
{
    const icsoe_delivery *dl = &c->delivery;

    switch (dl->state) {
    case ICSOE_MAIL_STATE_SENT:
        return apr_pstrcat(r->pool, "enviado el ", time_label(r, dl->when), NULL);
    case ICSOE_MAIL_STATE_UNSENT:
        return apr_pstrcat(r->pool, "no enviado (", time_label(r, dl->when), ")",
                           c->status == ICSOE_CAPTURIST_PENDING ?
                           ": usa «Reenviar liga»" : "", NULL);
    case ICSOE_MAIL_STATE_REFUSED:
        return apr_pstrcat(r->pool, "rechazado (", time_label(r, dl->when),
                           "): hay que corregir el correo", NULL);
    default: /* none recorded: made without mail, or before the record */
        return "sin registro";
    }
}

/* ASCII case-insensitive substring (names are UTF-8: accented letters must
 * be typed as stored). */
static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    if (hay == NULL)
        return 0;
    for (; *hay != '\0'; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

/* The search never matches on data the contractor may not see. */
static int matches(const icsoe_capturist *c, const char *rfc, const char *filter)
{
    return filter == NULL || filter[0] == '\0' || contains_ci(c->curp, filter) ||
           (may_see_contact(c, rfc) && contains_ci(c->name, filter));
}

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

static const char *action_form(request_rec *r, const char *csrf, const char *curp,
                               const char *accion, const char *label)
{
    return apr_pstrcat(r->pool,
        "<form method=\"post\" action=\"", icsoe_pg_esc(r, icsoe_pg_self(r)), "\">"
        "<input type=\"hidden\" name=\"csrf\" value=\"", icsoe_pg_esc(r, csrf), "\">"
        "<input type=\"hidden\" name=\"curp\" value=\"", icsoe_pg_esc(r, curp), "\">"
        "<button type=\"submit\" class=\"secondary\" name=\"accion\" value=\"",
        accion, "\" aria-label=\"", label, " ", icsoe_pg_esc(r, curp), "\">",
        label, "</button></form>", NULL);
}

static const char *row_html(request_rec *r, const icsoe_contractor_id *id,
                            const icsoe_capturist *c, const char *csrf, time_t now)
{
    int see = may_see_contact(c, id->rfc);
    const char *reserved = "<span class=\"hint\">Reservado</span>";
    const char *actions = "";

    if (c->status == ICSOE_CAPTURIST_PENDING)
        actions = action_form(r, csrf, c->curp, "reenviar", "Reenviar liga");
    actions = apr_pstrcat(r->pool, actions,
                          action_form(r, csrf, c->curp, "baja", "Dar de baja"), NULL);
    return apr_pstrcat(r->pool,
        "<tr><td>", icsoe_pg_esc(r, c->curp), "</td><td>",
        see ? icsoe_pg_esc(r, c->name) : reserved, "</td><td>",
        see ? icsoe_pg_esc(r, c->email) : reserved, "</td><td>",
        status_label(c, now), "</td><td>",
        see ? delivery_label(r, c) : reserved, "</td><td>", date_label(r, c->created),
        "</td><td class=\"row-actions\">", actions, "</td></tr>\n", NULL);
}

/* UTF-8 without any control character (icsoe_text_is_safe only refuses
 * CR, LF and NUL; a name or an echoed value needs more). */
static int plain_text(const char *v)
{
    for (const char *p = v; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return 0;
    return icsoe_utf8_valid(v, strlen(v));
}

/* A value typed into the add form, echoed back only when it is plain text
 * (a control character would make the page invalid HTML). */
static const char *echo(const char *v)
{
    return v != NULL && plain_text(v) ? v : "";
}

/* The Carga masiva section: the upload form and the last report. */
static const char *bulk_html(request_rec *r, const char *csrf, const page_state *ps)
{
    return apr_pstrcat(r->pool,
        "<section aria-labelledby=\"carga\"><h2 id=\"carga\">Carga masiva</h2>"
        "<p>Sube un archivo CSV con el encabezado <code>curp,nombre,correo,rfc</code> "
        "(separado por comas o por punto y coma, en UTF-8 o como lo guarda Excel) y "
        "una fila por capturista; el RFC de cada fila debe ser el tuyo. Hasta ",
        apr_itoa(r->pool, icsoe_srv(r)->bulk_max_rows), " filas.</p>"
        "<form method=\"post\" action=\"", icsoe_pg_esc(r, icsoe_pg_self(r)),
        "\" enctype=\"multipart/form-data\">"
        "<input type=\"hidden\" name=\"csrf\" value=\"", icsoe_pg_esc(r, csrf), "\">"
        "<div class=\"field\"><label for=\"archivo\">Archivo CSV</label>"
        "<input type=\"file\" id=\"archivo\" name=\"archivo\" accept=\".csv,text/csv\" "
        "required></div><div class=\"actions\"><button type=\"submit\" name=\"accion\" "
        "value=\"carga\">Cargar archivo</button></div></form>",
        ps->report_html != NULL ? ps->report_html : "", "</section>", NULL);
}

static int show_page(request_rec *r, const icsoe_contractor_id *id,
                     const icsoe_session *s, const roster *ro, const page_state *ps)
{
    const char *csrf = icsoe_csrf_token(r, s);
    const char *rows = "";
    const char *summary;
    time_t now = time(NULL);
    size_t matched = 0, pages, first, page = ps->page;

    for (size_t i = 0; i < ro->n; i++)
        matched += matches(&ro->v[i], id->rfc, ps->filter);
    pages = matched == 0 ? 1 : (matched + PAGE_SIZE - 1) / PAGE_SIZE;
    if (page > pages)
        page = pages;
    first = (page - 1) * PAGE_SIZE;
    for (size_t i = 0, k = 0; i < ro->n; i++) {
        if (!matches(&ro->v[i], id->rfc, ps->filter))
            continue;
        if (k >= first && k < first + PAGE_SIZE)
            rows = apr_pstrcat(r->pool, rows, row_html(r, id, &ro->v[i], csrf, now), NULL);
        k++;
    }
    if (matched == 0) {
        rows = ro->n == 0 ? "<tr><td colspan=\"7\">Aún no tienes capturistas.</td></tr>\n"
                          : "<tr><td colspan=\"7\">Ningún capturista coincide con "
                            "la búsqueda.</td></tr>\n";
        summary = "Sin capturistas";
    } else {
        size_t last = first + PAGE_SIZE < matched ? first + PAGE_SIZE : matched;
        summary = apr_psprintf(r->pool, "Capturistas %" APR_SIZE_T_FMT " a %"
                               APR_SIZE_T_FMT " de %" APR_SIZE_T_FMT,
                               first + 1, last, matched);
    }
    {
        icsoe_tvar vars[] = {
            { "action", icsoe_pg_self(r) },
            { "csrf", csrf },
            { "rfc", id->rfc },
            { "contractor_name", id->name },
            { "filter", ps->filter != NULL ? ps->filter : "" },
            { "summary", summary },
            { "rows_html", rows },
            { "pager_html", icsoe_pg_pager(r, page, pages, ps->filter) },
            { "message_html", ps->message != NULL ?
                              icsoe_pg_box(r, ps->is_error, ps->message) : "" },
            { "add_curp", echo(ps->curp) },
            { "add_nombre", echo(ps->nombre) },
            { "add_primer", echo(ps->primer) },
            { "add_segundo", echo(ps->segundo) },
            { "add_correo", echo(ps->correo) },
            { "bulk_html", bulk_html(r, csrf, ps) },
        };
        return icsoe_render_page(r, HTTP_OK, "capturists", vars,
                                 sizeof(vars) / sizeof(vars[0]));
    }
}

static void audit(request_rec *r, const icsoe_contractor_id *id, const char *event,
                  const char *curp, const char *extra)
{
    icsoe_audit(r, event, curp, apr_psprintf(r->pool, "rfc=%s serial=%s%s%s", id->rfc,
                                             id->serial, extra != NULL ? " " : "",
                                             extra != NULL ? extra : ""));
}

/* ---- Agregar capturista ---- */

/* A name part: trimmed, 1..NAME_PART_MAX bytes of safe UTF-8 (or empty
 * when optional).  NULL when bad. */
static const char *name_part(request_rec *r, const icsoe_form *f, const char *field,
                             int optional)
{
    const char *v = icsoe_pg_field(r, f, field, NAME_PART_MAX);

    if (v == NULL && optional && icsoe_form_get(f, field) == NULL)
        return "";
    if (v == NULL || (v[0] == '\0' && !optional))
        return NULL;
    if (v[0] != '\0' && !plain_text(v))
        return NULL;
    return v;
}

/* Validate the add form into ps (values kept for re-display); returns the
 * Spanish error or NULL, with curp normalised into out. */
static const char *check_add_form(request_rec *r, const icsoe_form *f, page_state *ps,
                                  char out[ICSOE_CURP_LEN + 1])
{
    icsoe_curp_reason cr;

    ps->curp = icsoe_pg_field(r, f, "curp", 64);
    ps->nombre = icsoe_pg_field(r, f, "nombre", NAME_PART_MAX);
    ps->primer = icsoe_pg_field(r, f, "primer_apellido", NAME_PART_MAX);
    ps->segundo = icsoe_pg_field(r, f, "segundo_apellido", NAME_PART_MAX);
    ps->correo = icsoe_pg_field(r, f, "correo", EMAIL_MAX);
    cr = icsoe_curp_check(ps->curp, out);
    if (cr != ICSOE_CURP_OK)
        return icsoe_curp_reason_message(cr);
    if (name_part(r, f, "nombre", 0) == NULL)
        return "Escribe el nombre o los nombres del capturista (hasta 100 caracteres).";
    if (name_part(r, f, "primer_apellido", 0) == NULL)
        return "Escribe el primer apellido del capturista (hasta 100 caracteres).";
    if (name_part(r, f, "segundo_apellido", 1) == NULL)
        return "El segundo apellido no es válido (hasta 100 caracteres).";
    if (ps->segundo == NULL)
        ps->segundo = "";
    if (ps->correo == NULL || !icsoe_email_valid(ps->correo))
        return "El correo electrónico no es válido.";
    return NULL;
}

/* A new account, registered by this contractor, and its activation mail.
 * ICSOE_ERR_EXISTS when somebody created the CURP meanwhile. */
static icsoe_status create_new(request_rec *r, icsoe_dir *d, const icsoe_contractor_id *id,
                               const char *curp, const char *name, const char *email,
                               icsoe_add_outcome *out)
{
    char *rfcs[1] = { (char *)id->rfc };
    char err[512] = "";
    icsoe_mail_fail fail = ICSOE_MAIL_OK;
    icsoe_capturist c;
    icsoe_status st;

    memset(&c, 0, sizeof(c));
    memcpy(c.curp, curp, sizeof(c.curp));
    c.name = (char *)name;
    c.email = (char *)email;
    c.contractors = rfcs;
    c.ncontractors = 1;
    memcpy(c.registered_by, id->rfc, sizeof(c.registered_by));
    st = icsoe_dir_capturist_add(d, &c);
    if (st != ICSOE_OK)
        return st;
    st = icsoe_account_issue_link(d, icsoe_srv(r)->conf, &c, ICSOE_TOKEN_ACTIVATION, 1,
                                  NULL, 0, &fail, err, sizeof(err));
    audit(r, id, "capturist-added", curp, st == ICSOE_OK ? "mail=sent" : "mail=failed");
    if (st != ICSOE_OK)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ICSOE_LOGNO(1662)
                      "icsoe capturists: activation of %s: %s", curp, err);
    if (st == ICSOE_OK)
        *out = ICSOE_ADD_CREATED;
    else
        *out = fail == ICSOE_MAIL_REFUSED ? ICSOE_ADD_CREATED_REFUSED
                                          : ICSOE_ADD_CREATED_NO_MAIL;
    return ICSOE_OK;
}

/* An existing account: linked to this contractor and told by mail. */
static icsoe_status link_existing(request_rec *r, icsoe_dir *d,
                                  const icsoe_contractor_id *id,
                                  const icsoe_capturist *c, icsoe_add_outcome *out)
{
    char err[512] = "";
    icsoe_status st;

    if (linked_to(c, id->rfc)) {
        *out = ICSOE_ADD_ALREADY;
        return ICSOE_OK;
    }
    st = icsoe_dir_capturist_grant(d, c->curp, id->rfc);
    if (st == ICSOE_ERR_EXISTS) {
        *out = ICSOE_ADD_ALREADY;
        return ICSOE_OK;
    }
    if (st != ICSOE_OK)
        return st;
    st = icsoe_account_notify_linked(icsoe_srv(r)->conf, c, id->rfc, id->name,
                                     err, sizeof(err));
    if (st != ICSOE_OK)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, ICSOE_LOGNO(1664)
                      "icsoe capturists: link notice for %s: %s", c->curp, err);
    audit(r, id, "capturist-linked", c->curp, st == ICSOE_OK ? "mail=sent" : "mail=failed");
    *out = ICSOE_ADD_LINKED;
    return ICSOE_OK;
}

icsoe_add_outcome icsoe_pg_add_capturist(request_rec *r, const icsoe_contractor_id *id,
                                         const char *curp, const char *name,
                                         const char *email)
{
    icsoe_dir *d = icsoe_dir_acquire(r);
    icsoe_add_outcome out = ICSOE_ADD_FAILED;
    icsoe_capturist c;
    icsoe_status st;

    if (d == NULL)
        return ICSOE_ADD_UNAVAILABLE;
    memset(&c, 0, sizeof(c));
    st = icsoe_dir_capturist_get(d, curp, &c);
    if (st == ICSOE_ERR_NOT_FOUND) {
        st = create_new(r, d, id, curp, name, email, &out);
        if (st == ICSOE_ERR_EXISTS) /* created meanwhile by somebody else */
            st = icsoe_dir_capturist_get(d, curp, &c);
        else if (st == ICSOE_OK)
            return out;
    }
    if (st == ICSOE_OK)
        st = link_existing(r, d, id, &c, &out);
    icsoe_capturist_clear(&c);
    if (st == ICSOE_OK)
        return out;
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ICSOE_LOGNO(1665)
                  "icsoe capturists: add %s for %s: %s: %s", curp, id->rfc,
                  icsoe_status_name(st), icsoe_dir_reason(d));
    return st == ICSOE_ERR_UNAVAILABLE ? ICSOE_ADD_UNAVAILABLE : ICSOE_ADD_FAILED;
}

static int do_add(request_rec *r, const icsoe_contractor_id *id, const icsoe_form *f,
                  page_state *ps)
{
    char curp[ICSOE_CURP_LEN + 1];
    const char *name;

    ps->message = check_add_form(r, f, ps, curp);
    if (ps->message != NULL) {
        ps->is_error = 1;
        return OK;
    }
    name = apr_pstrcat(r->pool, ps->nombre, " ", ps->primer,
                       ps->segundo[0] != '\0' ? " " : "", ps->segundo, NULL);
    switch (icsoe_pg_add_capturist(r, id, curp, name, ps->correo)) {
    case ICSOE_ADD_CREATED:
        ps->message = apr_psprintf(r->pool, "Se registró al capturista %s. Recibirá "
                                   "en su correo la liga para crear su contraseña.", curp);
        break;
    case ICSOE_ADD_CREATED_NO_MAIL:
        ps->message = apr_psprintf(r->pool, "Se registró al capturista %s, pero el "
                                   "correo con la liga NO se envió: el servidor de "
                                   "correo no está disponible. Vuelve a enviarla más "
                                   "tarde con «Reenviar liga».", curp);
        ps->is_error = 1;
        break;
    case ICSOE_ADD_CREATED_REFUSED:
        ps->message = apr_psprintf(r->pool, "Se registró al capturista %s, pero el "
                                   "correo con la liga NO se envió: el servidor de "
                                   "correo rechazó la dirección %s. Revisa que esté "
                                   "bien escrita y pide al administrador que la "
                                   "corrija; después se le enviará una liga nueva.",
                                   curp, ps->correo);
        ps->is_error = 1;
        break;
    case ICSOE_ADD_LINKED:
        /* Nothing about the account beyond its CURP, not even whether the
         * notice reached that person's address (theirs, not ours to see):
         * so no claim that it did either. */
        ps->message = apr_psprintf(r->pool, "La CURP %s ya estaba registrada en el "
                                   "sistema: se vinculó como tu capturista. El aviso "
                                   "se envía a la dirección que esa persona tiene "
                                   "registrada.", curp);
        break;
    case ICSOE_ADD_ALREADY:
        ps->message = apr_psprintf(r->pool, "La CURP %s ya es uno de tus capturistas.",
                                   curp);
        break;
    case ICSOE_ADD_UNAVAILABLE:
        return HTTP_SERVICE_UNAVAILABLE;
    default:
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!ps->is_error) /* done: an empty form for the next one */
        ps->curp = ps->nombre = ps->primer = ps->segundo = ps->correo = NULL;
    return OK;
}

/* ---- Reenviar liga, Dar de baja ---- */

/* The posted CURP among this contractor's capturists, or NULL after
 * auditing a forged form. */
static const icsoe_capturist *posted_own(request_rec *r, const icsoe_contractor_id *id,
                                         const icsoe_form *f, const roster *ro)
{
    const char *in = icsoe_pg_field(r, f, "curp", 64);
    char curp[ICSOE_CURP_LEN + 1];
    const icsoe_capturist *c = NULL;

    if (in != NULL && icsoe_curp_check(in, curp) == ICSOE_CURP_OK)
        c = find_in(ro, curp);
    if (c == NULL)
        audit(r, id, "capturist-forged", NULL,
              apr_pstrcat(r->pool, "curp=", in != NULL ? in : "-", NULL));
    return c;
}

/* What the page says when the new link was not mailed.  The token was
 * stored before mailing, so the older link is dead either way.  Only the
 * contractor that registered the account learns that its address was
 * refused (the privacy rule above). */
static const char *resend_failed_message(request_rec *r, const icsoe_contractor_id *id,
                                         const icsoe_capturist *c, icsoe_mail_fail fail)
{
    if (fail == ICSOE_MAIL_REFUSED && may_see_contact(c, id->rfc))
        return apr_psprintf(r->pool, "La nueva liga para %s NO se envió: el servidor "
                            "de correo rechazó la dirección %s. Pide al administrador "
                            "que la corrija. La liga anterior ya no funciona.",
                            c->curp, c->email);
    return apr_psprintf(r->pool, "La nueva liga para %s NO se envió: no fue posible "
                        "entregar el correo. La liga anterior ya no funciona; vuelve a "
                        "intentarlo más tarde con «Reenviar liga».", c->curp);
}

static int do_resend(request_rec *r, const icsoe_contractor_id *id,
                     const icsoe_capturist *c, page_state *ps)
{
    char err[512] = "";
    icsoe_mail_fail fail = ICSOE_MAIL_OK;
    icsoe_dir *d = icsoe_dir_acquire(r);
    icsoe_status st;

    if (d == NULL)
        return HTTP_SERVICE_UNAVAILABLE;
    if (c->status != ICSOE_CAPTURIST_PENDING) {
        ps->message = "Solo se puede reenviar la liga a un capturista pendiente de activar.";
        ps->is_error = 1;
        return OK;
    }
    /* Storing the new token voids the old one: the older link dies. */
    st = icsoe_account_issue_link(d, icsoe_srv(r)->conf, c, ICSOE_TOKEN_ACTIVATION, 1,
                                  NULL, 0, &fail, err, sizeof(err));
    audit(r, id, "capturist-resend", c->curp, st == ICSOE_OK ? "mail=sent" : "mail=failed");
    if (st == ICSOE_OK) {
        ps->message = apr_psprintf(r->pool, "Se envió una nueva liga a %s. La liga "
                                   "anterior ya no funciona.", c->curp);
        return OK;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ICSOE_LOGNO(1666)
                  "icsoe capturists: resend to %s: %s", c->curp, err);
    ps->message = resend_failed_message(r, id, c, fail);
    ps->is_error = 1;
    return OK;
}

static int do_unlink(request_rec *r, const icsoe_contractor_id *id,
                     const icsoe_capturist *c, page_state *ps)
{
    icsoe_dir *d = icsoe_dir_acquire(r);
    icsoe_status st;

    if (d == NULL)
        return HTTP_SERVICE_UNAVAILABLE;
    st = icsoe_dir_capturist_revoke(d, c->curp, id->rfc);
    if (st != ICSOE_OK && st != ICSOE_ERR_NOT_FOUND) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ICSOE_LOGNO(1667)
                      "icsoe capturists: unlink %s from %s: %s: %s", c->curp, id->rfc,
                      icsoe_status_name(st), icsoe_dir_reason(d));
        return st == ICSOE_ERR_UNAVAILABLE ? HTTP_SERVICE_UNAVAILABLE
                                           : HTTP_INTERNAL_SERVER_ERROR;
    }
    audit(r, id, "capturist-unlinked", c->curp, NULL);
    ps->message = apr_psprintf(r->pool, "Se dio de baja a %s de tus capturistas.", c->curp);
    return OK;
}

int icsoe_pg_capturists_page(request_rec *r, const icsoe_contractor_id *id,
                             const icsoe_session *s, const char *message, int is_error,
                             const char *report_html)
{
    page_state ps;
    roster *ro;
    int rv = load_roster(r, id, &ro);

    memset(&ps, 0, sizeof(ps));
    ps.page = 1;
    ps.message = message;
    ps.is_error = is_error;
    ps.report_html = report_html;
    if (rv == OK)
        rv = show_page(r, id, s, ro, &ps);
    return rv == OK ? OK : icsoe_pg_fail(r, rv);
}

/* ---- requests ---- */

static int handle_get(request_rec *r, const icsoe_contractor_id *id)
{
    icsoe_session s;
    icsoe_form *q = icsoe_pg_query(r);
    page_state ps;
    roster *ro;
    int rv = icsoe_pg_form_session(r, &s);

    memset(&ps, 0, sizeof(ps));
    ps.filter = icsoe_pg_field(r, q, "q", FILTER_MAX);
    ps.page = parse_page(icsoe_form_get(q, "p"));
    if (rv == OK)
        rv = load_roster(r, id, &ro);
    if (rv == OK)
        rv = show_page(r, id, &s, ro, &ps);
    icsoe_wipe(&s, sizeof(s));
    return rv == OK ? OK : icsoe_pg_fail(r, rv);
}

static int dispatch(request_rec *r, const icsoe_contractor_id *id, const icsoe_form *f,
                    page_state *ps)
{
    const char *accion = icsoe_form_get(f, "accion");
    const icsoe_capturist *c;
    roster *ro;
    int rv;

    if (accion == NULL)
        return HTTP_BAD_REQUEST;
    if (strcmp(accion, "agregar") == 0)
        return do_add(r, id, f, ps);
    if (strcmp(accion, "reenviar") != 0 && strcmp(accion, "baja") != 0)
        return HTTP_BAD_REQUEST;
    rv = load_roster(r, id, &ro);
    if (rv != OK)
        return rv;
    c = posted_own(r, id, f, ro);
    if (c == NULL)
        return HTTP_FORBIDDEN;
    return strcmp(accion, "reenviar") == 0 ? do_resend(r, id, c, ps)
                                           : do_unlink(r, id, c, ps);
}

static int handle_post(request_rec *r, const icsoe_contractor_id *id)
{
    icsoe_session s;
    icsoe_form *f;
    page_state ps;
    roster *ro;
    int rv = icsoe_pg_read_post(r, &f, &s);

    memset(&ps, 0, sizeof(ps));
    ps.page = 1;
    if (rv == OK)
        rv = dispatch(r, id, f, &ps);
    if (rv == OK)
        rv = load_roster(r, id, &ro);
    if (rv == OK)
        rv = show_page(r, id, &s, ro, &ps);
    icsoe_wipe(&s, sizeof(s));
    return rv == OK ? OK : icsoe_pg_fail(r, rv);
}

int icsoe_handle_capturists(request_rec *r)
{
    icsoe_contractor_id id;
    int rv = OK;

    if (r->method_number != M_GET && r->method_number != M_POST)
        return icsoe_pg_fail(r, HTTP_METHOD_NOT_ALLOWED);
    if (!icsoe_pg_require_contractor(r, &id, &rv))
        return rv;
    if (r->method_number == M_GET)
        return handle_get(r, &id);
    if (strncasecmp(apr_table_get(r->headers_in, "Content-Type") != NULL ?
                    apr_table_get(r->headers_in, "Content-Type") : "",
                    "multipart/form-data", 19) == 0)
        return icsoe_capturists_bulk(r, &id);
    return handle_post(r, &id);
}
