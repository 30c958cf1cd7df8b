/* CSV records (RFC 4180) for bulk imports of contractors and capturists.
 *
 * Fields are returned exactly as written (no trimming: callers decide).  A
 * malformed record is reported and skipped up to the end of the physical
 * line where the fault is, so one bad row in a spreadsheet export does not
 * hide the rest of the file. */
#include <stdlib.h>
#include <string.h>
#include "input.h"

static const char utf8_bom[] = "\xef\xbb\xbf";

typedef struct csv_span {
    size_t start;   /* offset in buf of the field's first byte */
    size_t end;     /* one past its last byte (closing quote excluded) */
    int quoted;
} csv_span;

typedef struct csv_parse {
    const char *buf;
    size_t len;
    size_t i;       /* cursor */
    size_t newlines;
    size_t nfields;
    char sep;       /* ',' or ';' (what Excel writes in a Spanish locale) */
    csv_span span[ICSOE_CSV_MAX_FIELDS];
} csv_parse;

/* Line end at cursor: 1 for "\n", 2 for "\r\n", 0 otherwise. */
static size_t line_end_len(const csv_parse *cp, size_t i)
{
    if (i < cp->len && cp->buf[i] == '\n')
        return 1;
    if (i + 1 < cp->len && cp->buf[i] == '\r' && cp->buf[i + 1] == '\n')
        return 2;
    return 0;
}

/* Quoted field: cursor on the opening quote.  Leaves the cursor after the
 * closing quote.  -1 if the quote never closes. */
static int csv_quoted(csv_parse *cp, csv_span *sp)
{
    cp->i++;
    sp->start = cp->i;
    sp->quoted = 1;
    while (cp->i < cp->len) {
        char c = cp->buf[cp->i];
        if (c == '"') {
            if (cp->i + 1 < cp->len && cp->buf[cp->i + 1] == '"') {
                cp->i += 2;
                continue;
            }
            sp->end = cp->i;
            cp->i++;
            return 0;
        }
        if (c == '\n')
            cp->newlines++;
        cp->i++;
    }
    return -1;
}

/* Unquoted field: up to the separator or a line end.  A quote, a lone CR or a NUL
 * inside is malformed (RFC 4180 requires such fields to be quoted). */
static int csv_plain(csv_parse *cp, csv_span *sp)
{
    sp->start = cp->i;
    sp->quoted = 0;
    while (cp->i < cp->len && cp->buf[cp->i] != cp->sep && line_end_len(cp, cp->i) == 0) {
        char c = cp->buf[cp->i];
        if (c == '"' || c == '\r' || c == '\0')
            return -1;
        cp->i++;
    }
    sp->end = cp->i;
    return 0;
}

/* Scan one record from the cursor.  On error *fault is where the
 * problem is (for the opening quote of an unterminated field: the quote). */
static int csv_scan(csv_parse *cp, size_t *fault)
{
    size_t rec_start = cp->i;

    for (;;) {
        csv_span sp;
        size_t field_at = cp->i;
        int rc;

        if (cp->nfields >= ICSOE_CSV_MAX_FIELDS) {
            *fault = cp->i;
            return -1;
        }
        if (cp->i < cp->len && cp->buf[cp->i] == '"')
            rc = csv_quoted(cp, &sp);
        else
            rc = csv_plain(cp, &sp);
        if (rc != 0) {
            /* An unterminated quote runs to the end of the input: the
             * fault is the opening quote, so recovery resumes on the
             * next line instead of losing the rest of the file. */
            *fault = field_at < cp->len && cp->buf[field_at] == '"' ? field_at : cp->i;
            return -1;
        }
        if (cp->i - rec_start > ICSOE_CSV_MAX_LINE) {
            *fault = rec_start + ICSOE_CSV_MAX_LINE;
            return -1;
        }
        cp->span[cp->nfields++] = sp;
        if (cp->i >= cp->len || line_end_len(cp, cp->i) > 0)
            return 0;
        if (cp->buf[cp->i] != cp->sep) {
            *fault = cp->i; /* text after a closing quote */
            return -1;
        }
        cp->i++;
    }
}

/* Copy a field, turning "" into " inside quoted ones.  NULL when the
 * bytes are not UTF-8 or out of memory. */
static char *csv_field_dup(const csv_parse *cp, const csv_span *sp)
{
    size_t n = sp->end - sp->start;
    char *out;
    size_t o = 0;

    if (memchr(cp->buf + sp->start, '\0', n) != NULL ||
        !icsoe_utf8_valid(cp->buf + sp->start, n))
        return NULL;
    out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    for (size_t i = sp->start; i < sp->end; i++) {
        out[o++] = cp->buf[i];
        if (sp->quoted && cp->buf[i] == '"')
            i++; /* the second quote of a "" pair */
    }
    out[o] = '\0';
    return out;
}

/* Position after the line end that follows from, or len. */
static size_t next_line(const char *buf, size_t len, size_t from)
{
    const char *nl = from < len ? memchr(buf + from, '\n', len - from) : NULL;

    return nl != NULL ? (size_t)(nl - buf) + 1 : len;
}

static size_t count_newlines(const char *buf, size_t from, size_t to)
{
    size_t n = 0;

    for (size_t i = from; i < to; i++)
        n += buf[i] == '\n';
    return n;
}

/* Skip blank lines (they are not records: a trailing empty line in a
 * spreadsheet export must not count as an empty row). */
static void csv_skip_blank(csv_parse *cp)
{
    size_t le;

    while ((le = line_end_len(cp, cp->i)) > 0) {
        cp->i += le;
        cp->newlines++;
    }
}

int icsoe_csv_next(const char *buf, size_t len, size_t *pos, size_t *lines,
                   icsoe_csv_row *row)
{
    return icsoe_csv_next_sep(buf, len, ',', pos, lines, row);
}

int icsoe_csv_next_sep(const char *buf, size_t len, char sep, size_t *pos,
                       size_t *lines, icsoe_csv_row *row)
{
    csv_parse cp = { .buf = buf, .len = len, .sep = sep };
    size_t fault = 0;
    size_t start;
    size_t le;

    if (row != NULL)
        memset(row, 0, sizeof(*row));
    if (buf == NULL || pos == NULL || row == NULL || *pos > len ||
        (sep != ',' && sep != ';'))
        return -1;
    start = *pos;
    cp.i = start;
    if (cp.i == 0 && len >= 3 && memcmp(buf, utf8_bom, 3) == 0)
        cp.i = 3;
    csv_skip_blank(&cp);
    if (cp.i >= len) {
        *pos = len;
        if (lines != NULL)
            *lines += cp.newlines;
        return 0;
    }
    if (csv_scan(&cp, &fault) != 0)
        goto fail;
    for (size_t f = 0; f < cp.nfields; f++) {
        row->field[f] = csv_field_dup(&cp, &cp.span[f]);
        if (row->field[f] == NULL) {
            row->n = f;
            fault = cp.span[f].start;
            goto fail;
        }
    }
    row->n = cp.nfields;
    le = line_end_len(&cp, cp.i);
    cp.i += le;
    cp.newlines += le > 0;
    *pos = cp.i;
    if (lines != NULL)
        *lines += cp.newlines;
    return 1;

fail:
    icsoe_csv_row_free(row);
    *pos = next_line(buf, len, fault);
    if (lines != NULL)
        *lines += count_newlines(buf, start, *pos);
    return -1;
}

void icsoe_csv_row_free(icsoe_csv_row *row)
{
    if (row == NULL)
        return;
    for (size_t i = 0; i < row->n && i < ICSOE_CSV_MAX_FIELDS; i++)
        free(row->field[i]);
    memset(row, 0, sizeof(*row));
}
