/* Carga masiva on the contractor's page: the CSV of "icsoectl capturist
 * import" (lib/import.c decodes it: UTF-8 or Windows-1252, ',' or ';'),
 * uploaded as multipart/form-data.
 *
 * Rules: the whole file is read and every line checked BEFORE anything is
 * written, so a file over ICSOEBulkMaxRows or one that is not a capturist
 * CSV changes nothing; then each good line is one capturist added or linked
 * (one directory operation, icsoe_pg_add_capturist), so a bad line never
 * half-writes anything and a good one is never undone by a later bad one.
 * A line naming another contractor's RFC is refused: a contractor only
 * registers its own capturists.  The report lists every line with what
 * happened and why, never anything about an existing account but its CURP. */
#include <stdlib.h>
#include <string.h>

#include "apr_strings.h"
#include "http_protocol.h"
#include "httpd.h"

#include "handlers.h"
#include "import.h"
#include "secure.h"

#define BULK_BYTES_PER_ROW 512         /* generous: a row is ~100 bytes */
#define BULK_BODY_SLACK (64 * 1024)    /* form fields and multipart headers */

typedef struct bulk_line {
    size_t line;
    const char *curp;     /* as normalised, or as typed when bad */
    const char *result;   /* Spanish */
    int bad;
    icsoe_import_row row;
} bulk_line;

typedef struct bulk {
    request_rec *r;
    const icsoe_contractor_id *id;
    apr_array_header_t *lines;  /* bulk_line */
    size_t bad, added, linked, already, failed;
} bulk;

/* Line number of the record at pos (after blank lines), as icsoectl does. */
static size_t record_line(const char *buf, size_t len, size_t pos, size_t lines)
{
    size_t line = lines + 1;

    for (;;) {
        if (pos < len && buf[pos] == '\n')
            pos++;
        else if (pos + 1 < len && buf[pos] == '\r' && buf[pos + 1] == '\n')
            pos += 2;
        else
            break;
        line++;
    }
    return line;
}

static void check_line(bulk *b, const icsoe_csv_row *row, int parsed, size_t line)
{
    bulk_line *l = apr_array_push(b->lines);
    char why[256];

    memset(l, 0, sizeof(*l));
    l->line = line;
    l->curp = parsed && row->n > 0 ? apr_pstrdup(b->r->pool, row->field[0]) : "";
    if (!parsed)
        l->result = "Renglón mal formado (comillas, número de campos, longitud o "
                    "caracteres no válidos).";
    else if (icsoe_import_check_row(row, &l->row, why, sizeof(why)) != 0)
        l->result = apr_pstrdup(b->r->pool, why);
    else if (strcmp(l->row.rfc, b->id->rfc) != 0)
        l->result = "El RFC no es el de tu e.firma: solo puedes registrar a tus "
                    "propios capturistas.";
    else {
        l->curp = apr_pstrdup(b->r->pool, l->row.curp);
        return;
    }
    l->bad = 1;
    b->bad++;
}

/* Parse and check every line.  NULL, or a Spanish reason to refuse the
 * whole file (nothing written). */
static const char *read_lines(bulk *b, const icsoe_part *file)
{
    size_t len = 0, pos = 0, lines = 0, rows = 0;
    int converted = 0;
    char *buf = icsoe_import_to_utf8(file->data, file->len, &len, &converted);
    const char *refusal = NULL;
    char sep;

    if (buf == NULL)
        return "El archivo no es texto (UTF-8 o Windows-1252).";
    sep = icsoe_import_header(buf, len, &pos, &lines);
    if (sep == 0)
        refusal = "La primera línea del archivo debe ser el encabezado "
                  "curp,nombre,correo,rfc.";
    while (refusal == NULL) {
        icsoe_csv_row row;
        size_t line = record_line(buf, len, pos, lines);
        int r = icsoe_csv_next_sep(buf, len, sep, &pos, &lines, &row);

        if (r == 0)
            break;
        if (++rows > (size_t)icsoe_srv(b->r)->bulk_max_rows)
            refusal = apr_psprintf(b->r->pool, "El archivo tiene más de %d filas; no "
                                   "se procesó. Divídelo en varios archivos.",
                                   icsoe_srv(b->r)->bulk_max_rows);
        else
            check_line(b, &row, r == 1, line);
        icsoe_csv_row_free(&row);
    }
    if (refusal == NULL && rows == 0)
        refusal = "El archivo no tiene filas de capturistas.";
    free(buf);
    return refusal;
}

static void apply_line(bulk *b, bulk_line *l)
{
    switch (icsoe_pg_add_capturist(b->r, b->id, l->row.curp, l->row.name, l->row.email)) {
    case ICSOE_ADD_CREATED:
        l->result = "Agregado: se envió la liga de activación.";
        b->added++;
        return;
    case ICSOE_ADD_CREATED_NO_MAIL:
        l->result = "Agregado, pero la liga NO se envió (el servidor de correo no está "
                    "disponible): usa «Reenviar liga» más tarde.";
        b->added++;
        return;
    case ICSOE_ADD_CREATED_REFUSED:
        l->result = "Agregado, pero la liga NO se envió: el servidor de correo rechazó "
                    "la dirección; pide al administrador que la corrija.";
        b->added++;
        return;
    case ICSOE_ADD_LINKED:
        /* nothing about that person's mail (see handler_capturists.c) */
        l->result = "Ya estaba registrado en el sistema: se vinculó contigo (el aviso va "
                    "a la dirección que esa persona tiene registrada).";
        b->linked++;
        return;
    case ICSOE_ADD_ALREADY:
        l->result = "Ya era tu capturista: sin cambios.";
        b->already++;
        return;
    default:
        l->result = "No se pudo procesar (el directorio no respondió): vuelve a "
                    "cargar el archivo más tarde.";
        l->bad = 1;
        b->failed++;
        return;
    }
}

static const char *report_html(bulk *b)
{
    request_rec *r = b->r;
    const char *rows = "";

    for (int i = 0; i < b->lines->nelts; i++) {
        const bulk_line *l = &APR_ARRAY_IDX(b->lines, i, bulk_line);

        rows = apr_pstrcat(r->pool, rows, "<tr><td>",
                           apr_psprintf(r->pool, "%lu", (unsigned long)l->line),
                           "</td><td>", icsoe_pg_esc(r, l->curp), "</td><td>",
                           l->bad ? "Rechazado" : "Procesado", "</td><td>",
                           icsoe_pg_esc(r, l->result), "</td></tr>\n", NULL);
    }
    return apr_pstrcat(r->pool,
        "<div class=\"table-wrap\"><table><caption class=\"hint\">Resultado por línea"
        "</caption><thead><tr><th scope=\"col\">Línea</th><th scope=\"col\">CURP</th>"
        "<th scope=\"col\">Resultado</th><th scope=\"col\">Detalle</th></tr></thead>"
        "<tbody>\n", rows, "</tbody></table></div>", NULL);
}

/* The multipart form: body, session and CSRF field; the file part. */
static int read_upload(request_rec *r, icsoe_session *s, const icsoe_part **file)
{
    size_t max = (size_t)icsoe_srv(r)->bulk_max_rows * BULK_BYTES_PER_ROW + BULK_BODY_SLACK;
    icsoe_multipart *mp = apr_pcalloc(r->pool, sizeof(*mp));
    const icsoe_part *csrf;
    icsoe_form f;
    int rv = icsoe_read_upload(r, max, mp);

    if (rv != OK)
        return rv;
    if (!icsoe_session_load(r, s)) {
        icsoe_audit(r, "csrf-failed", NULL, "no-session");
        return HTTP_FORBIDDEN;
    }
    csrf = icsoe_multipart_get(mp, "csrf");
    memset(&f, 0, sizeof(f));
    if (csrf != NULL && !csrf->is_file) {
        f.n = 1;
        f.name[0] = "csrf";
        f.value[0] = apr_pstrmemdup(r->pool, csrf->data, csrf->len);
    }
    rv = icsoe_check_csrf(r, s, &f);
    if (rv != OK)
        return rv;
    *file = icsoe_multipart_get(mp, "archivo");
    return *file != NULL && (*file)->is_file ? OK : HTTP_BAD_REQUEST;
}

int icsoe_capturists_bulk(request_rec *r, const icsoe_contractor_id *id)
{
    icsoe_session s;
    const icsoe_part *file = NULL;
    const char *refusal;
    const char *summary;
    bulk b;
    int rv = read_upload(r, &s, &file);

    if (rv != OK) {
        icsoe_wipe(&s, sizeof(s));
        return icsoe_pg_fail(r, rv);
    }
    memset(&b, 0, sizeof(b));
    b.r = r;
    b.id = id;
    b.lines = apr_array_make(r->pool, 64, sizeof(bulk_line));
    refusal = read_lines(&b, file);
    if (refusal != NULL) {
        icsoe_audit(r, "capturists-bulk-refused", NULL,
                    apr_psprintf(r->pool, "rfc=%s serial=%s", id->rfc, id->serial));
        rv = icsoe_pg_capturists_page(r, id, &s, refusal, 1, NULL);
        icsoe_wipe(&s, sizeof(s));
        return rv;
    }
    for (int i = 0; i < b.lines->nelts; i++) {
        bulk_line *l = &APR_ARRAY_IDX(b.lines, i, bulk_line);
        if (!l->bad)
            apply_line(&b, l);
    }
    icsoe_audit(r, "capturists-bulk", NULL,
                apr_psprintf(r->pool, "rfc=%s serial=%s lines=%d added=%lu linked=%lu "
                             "already=%lu refused=%lu failed=%lu", id->rfc, id->serial,
                             b.lines->nelts, (unsigned long)b.added,
                             (unsigned long)b.linked, (unsigned long)b.already,
                             (unsigned long)b.bad, (unsigned long)b.failed));
    summary = apr_psprintf(r->pool, "Carga masiva: %d líneas; %lu agregados, %lu "
                           "vinculados, %lu sin cambios, %lu rechazados.",
                           b.lines->nelts, (unsigned long)b.added, (unsigned long)b.linked,
                           (unsigned long)b.already, (unsigned long)(b.bad + b.failed));
    rv = icsoe_pg_capturists_page(r, id, &s, summary, b.bad + b.failed > 0,
                                  report_html(&b));
    icsoe_wipe(&s, sizeof(s));
    return rv;
}
