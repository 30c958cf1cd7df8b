/* Capturist CSV files (see import.h): charset, header and row checks shared
 * by icsoectl and the contractor's page, so both accept exactly the same
 * files.  The bytes come from an upload: every function is bounded by len
 * and never trusts a length inside the data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "import.h"

/* Windows-1252 0x80..0x9F as Unicode code points; 0 = undefined. */
static const unsigned short cp1252_high[32] = {
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
    0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178
};

static size_t put_utf8(unsigned cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
}

static char *from_cp1252(const unsigned char *in, size_t len, size_t *outlen)
{
    char *out = malloc(len * 3 + 1); /* at most 3 bytes per character */
    size_t o = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned cp = in[i];

        if (cp >= 0x80 && cp < 0xA0) {
            cp = cp1252_high[cp - 0x80];
            if (cp == 0) {
                free(out);
                return NULL;
            }
        }
        o += put_utf8(cp, out + o);
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

/* Whether buf holds at least one well-formed multi-byte UTF-8 sequence:
 * then invalid bytes elsewhere are damage in a UTF-8 file (refused row by
 * row by the CSV reader), not Windows-1252 text. */
static int has_utf8_sequence(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;

        if (n > 0 && n <= len - i && icsoe_utf8_valid(buf + i, n))
            return 1;
    }
    return 0;
}

static char *copy_of(const char *buf, size_t len, size_t *outlen)
{
    char *out = malloc(len + 1);

    if (out == NULL)
        return NULL;
    memcpy(out, buf, len);
    out[len] = '\0';
    *outlen = len;
    return out;
}

char *icsoe_import_to_utf8(const char *buf, size_t len, size_t *outlen,
                           int *converted)
{
    *outlen = 0;
    *converted = 0;
    if (buf == NULL)
        return NULL;
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
        buf += 3;
        len -= 3;
    }
    if (icsoe_utf8_valid(buf, len) || has_utf8_sequence(buf, len))
        return copy_of(buf, len, outlen);
    *converted = 1;
    return from_cp1252((const unsigned char *)buf, len, outlen);
}

static int field_is(const char *field, const char *want)
{
    size_t start = 0, end = strlen(field);

    while (start < end && (field[start] == ' ' || field[start] == '\t'))
        start++;
    while (end > start && (field[end - 1] == ' ' || field[end - 1] == '\t'))
        end--;
    return end - start == strlen(want) &&
           strncasecmp(field + start, want, end - start) == 0;
}

static int is_header(const icsoe_csv_row *row)
{
    return row->n == 4 && field_is(row->field[0], "curp") &&
           field_is(row->field[1], "nombre") && field_is(row->field[2], "correo") &&
           field_is(row->field[3], "rfc");
}

char icsoe_import_header(const char *buf, size_t len, size_t *pos, size_t *lines)
{
    static const char seps[] = { ',', ';' };

    for (size_t i = 0; i < sizeof(seps); i++) {
        size_t p = *pos, l = 0;
        icsoe_csv_row row;
        int r = icsoe_csv_next_sep(buf, len, seps[i], &p, &l, &row);
        int ok = r == 1 && is_header(&row);

        icsoe_csv_row_free(&row);
        if (ok) {
            *pos = p;
            if (lines != NULL)
                *lines += l;
            return seps[i];
        }
    }
    return 0;
}

/* Trimmed copy of in into out (cap bytes with the NUL); -1 when empty, too
 * long or holding a control character. */
static int trimmed_text(const char *in, char *out, size_t cap)
{
    size_t start = 0, end = strlen(in);

    while (start < end && (in[start] == ' ' || in[start] == '\t'))
        start++;
    while (end > start && (in[end - 1] == ' ' || in[end - 1] == '\t'))
        end--;
    if (end == start || end - start >= cap)
        return -1;
    for (size_t i = start; i < end; i++)
        if ((unsigned char)in[i] < 0x20 || in[i] == 0x7f)
            return -1;
    memcpy(out, in + start, end - start);
    out[end - start] = '\0';
    return 0;
}

int icsoe_import_check_row(const icsoe_csv_row *row, icsoe_import_row *out,
                           char *why, size_t whylen)
{
    icsoe_curp_reason cr;
    icsoe_rfc_reason rr;

    memset(out, 0, sizeof(*out));
    if (row->n != 4) {
        snprintf(why, whylen, "Se esperaban 4 campos (curp, nombre, correo, rfc) "
                 "y hay %zu.", row->n);
        return -1;
    }
    cr = icsoe_curp_check(row->field[0], out->curp);
    if (cr != ICSOE_CURP_OK) {
        snprintf(why, whylen, "%s", icsoe_curp_reason_message(cr));
        return -1;
    }
    if (trimmed_text(row->field[1], out->name, sizeof(out->name)) != 0) {
        snprintf(why, whylen, "El nombre falta, es demasiado largo o tiene "
                 "caracteres de control.");
        return -1;
    }
    if (trimmed_text(row->field[2], out->email, sizeof(out->email)) != 0 ||
        !icsoe_email_valid(out->email)) {
        snprintf(why, whylen, "El correo electrónico no es válido.");
        return -1;
    }
    rr = icsoe_rfc_check(row->field[3], out->rfc);
    if (rr == ICSOE_RFC_BAD_CHECK_DIGIT)
        out->rfc_check_digit_warning = 1;
    else if (rr != ICSOE_RFC_OK) {
        snprintf(why, whylen, "%s", icsoe_rfc_reason_message(rr));
        return -1;
    }
    return 0;
}
