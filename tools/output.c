/* Aligned tables and JSON for icsoectl (see output.h). */
#include <stdlib.h>
#include <string.h>
#include "output.h"

/* ---- UTF-8 ---- */

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0 when the bytes
 * there are not one (overlong, surrogate, above U+10FFFF, truncated). */
static size_t utf8_seq_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n;
    unsigned long cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0; /* also stops at the NUL terminator */
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

size_t ctl_display_width(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t w = 0;

    if (s == NULL)
        return 0;
    while (*p != '\0') {
        size_t n = utf8_seq_len(p);
        p += n > 0 ? n : 1;
        w++;
    }
    return w;
}

void ctl_format_time(time_t t, char *out, size_t outlen)
{
    struct tm tm;

    if (outlen == 0)
        return;
    if (t == 0 || gmtime_r(&t, &tm) == NULL ||
        strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, outlen, "-");
}

/* ---- tables ---- */

struct ctl_table {
    size_t ncols;
    char **headers;   /* ncols or NULL */
    char **cells;     /* nrows * ncols */
    size_t nrows;
    size_t cap;
};

/* Cells are copied with control characters shown as '?', so a value with
 * an escape sequence or a newline cannot garble the terminal or the
 * alignment.  A missing value (NULL) prints as "-"; "" stays blank (the
 * continuation lines of a key/value block). */
static char *dup_or_dash(const char *s)
{
    char *d = strdup(s != NULL ? s : "-");

    if (d == NULL)
        return NULL;
    for (char *p = d; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return d;
}

ctl_table *ctl_table_new(size_t ncols, const char *const *headers)
{
    ctl_table *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return NULL;
    t->ncols = ncols;
    if (headers != NULL) {
        t->headers = calloc(ncols, sizeof(char *));
        if (t->headers == NULL)
            goto fail;
        for (size_t i = 0; i < ncols; i++) {
            t->headers[i] = dup_or_dash(headers[i]);
            if (t->headers[i] == NULL)
                goto fail;
        }
    }
    return t;

fail:
    ctl_table_free(t);
    return NULL;
}

int ctl_table_add(ctl_table *t, const char *const *cells)
{
    size_t base;

    if (t->nrows == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 16;
        char **nc = realloc(t->cells, ncap * t->ncols * sizeof(char *));
        if (nc == NULL)
            return -1;
        t->cells = nc;
        t->cap = ncap;
    }
    base = t->nrows * t->ncols;
    for (size_t i = 0; i < t->ncols; i++) {
        t->cells[base + i] = dup_or_dash(cells[i]);
        if (t->cells[base + i] == NULL) {
            for (size_t k = 0; k < i; k++)
                free(t->cells[base + k]);
            return -1;
        }
    }
    t->nrows++;
    return 0;
}

static void print_row(FILE *f, char *const *row, const size_t *width, size_t ncols)
{
    size_t last = 0; /* last non-empty cell: no trailing blanks after it */

    for (size_t c = 0; c < ncols; c++)
        if (row[c][0] != '\0')
            last = c;
    for (size_t c = 0; c < ncols; c++) {
        fputs(row[c], f);
        if (c < last) {
            size_t pad = width[c] - ctl_display_width(row[c]) + 2;
            for (size_t k = 0; k < pad; k++)
                fputc(' ', f);
        }
    }
    fputc('\n', f);
}

void ctl_table_print(const ctl_table *t, FILE *f)
{
    size_t *width = calloc(t->ncols ? t->ncols : 1, sizeof(size_t));

    if (width == NULL)
        return;
    for (size_t c = 0; c < t->ncols; c++) {
        if (t->headers != NULL)
            width[c] = ctl_display_width(t->headers[c]);
        for (size_t r = 0; r < t->nrows; r++) {
            size_t w = ctl_display_width(t->cells[r * t->ncols + c]);
            if (w > width[c])
                width[c] = w;
        }
    }
    if (t->headers != NULL)
        print_row(f, t->headers, width, t->ncols);
    for (size_t r = 0; r < t->nrows; r++)
        print_row(f, t->cells + r * t->ncols, width, t->ncols);
    free(width);
}

void ctl_table_free(ctl_table *t)
{
    if (t == NULL)
        return;
    if (t->headers != NULL)
        for (size_t i = 0; i < t->ncols; i++)
            free(t->headers[i]);
    free(t->headers);
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}

/* ---- JSON ---- */

void ctl_json_write_string(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    fputc('"', f);
    while (*p != '\0') {
        size_t n = utf8_seq_len(p);

        if (n == 0) {
            fputs("\\ufffd", f); /* not UTF-8: keep the document valid */
            p++;
            continue;
        }
        if (n > 1) {
            fwrite(p, 1, n, f);
            p += n;
            continue;
        }
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
        p++;
    }
    fputc('"', f);
}

void ctl_json_init(ctl_json *j, FILE *f)
{
    memset(j, 0, sizeof(*j));
    j->f = f;
}

/* Separator before a value: a comma unless it is the first member of its
 * container or the value of a key just written. */
static void json_sep(ctl_json *j)
{
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (j->depth > 0 && j->depth <= CTL_JSON_MAX_DEPTH &&
        j->count[j->depth - 1]++ > 0)
        fputc(',', j->f);
}

static void json_open(ctl_json *j, char c)
{
    json_sep(j);
    fputc(c, j->f);
    if (j->depth < CTL_JSON_MAX_DEPTH)
        j->count[j->depth] = 0;
    j->depth++;
}

static void json_close(ctl_json *j, char c)
{
    if (j->depth > 0)
        j->depth--;
    fputc(c, j->f);
}

void ctl_json_begin_object(ctl_json *j) { json_open(j, '{'); }
void ctl_json_end_object(ctl_json *j) { json_close(j, '}'); }
void ctl_json_begin_array(ctl_json *j) { json_open(j, '['); }
void ctl_json_end_array(ctl_json *j) { json_close(j, ']'); }

void ctl_json_key(ctl_json *j, const char *key)
{
    json_sep(j);
    ctl_json_write_string(j->f, key);
    fputc(':', j->f);
    j->after_key = 1;
}

void ctl_json_string(ctl_json *j, const char *s)
{
    if (s == NULL) {
        ctl_json_null(j);
        return;
    }
    json_sep(j);
    ctl_json_write_string(j->f, s);
}

void ctl_json_int(ctl_json *j, long long v)
{
    json_sep(j);
    fprintf(j->f, "%lld", v);
}

void ctl_json_bool(ctl_json *j, int v)
{
    json_sep(j);
    fputs(v ? "true" : "false", j->f);
}

void ctl_json_null(ctl_json *j)
{
    json_sep(j);
    fputs("null", j->f);
}

void ctl_json_finish(ctl_json *j)
{
    fputc('\n', j->f);
}

void ctl_json_kv_string(ctl_json *j, const char *key, const char *s)
{
    ctl_json_key(j, key);
    ctl_json_string(j, s);
}

void ctl_json_kv_int(ctl_json *j, const char *key, long long v)
{
    ctl_json_key(j, key);
    ctl_json_int(j, v);
}

void ctl_json_kv_bool(ctl_json *j, const char *key, int v)
{
    ctl_json_key(j, key);
    ctl_json_bool(j, v);
}
