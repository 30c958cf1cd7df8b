/* Strict, bounded parsers for untrusted input that are not CURP/RFC:
 * urlencoded forms, return paths, header names and values, email
 * addresses, CSV rows.  All pure and thread-safe; every one has a fuzz
 * target. */
#ifndef ICSOE_INPUT_H
#define ICSOE_INPUT_H

#include <stddef.h>

/* ---- application/x-www-form-urlencoded ---- */
#define ICSOE_FORM_MAX_FIELDS 32
typedef struct icsoe_form {
    size_t n;
    char *name[ICSOE_FORM_MAX_FIELDS];
    char *value[ICSOE_FORM_MAX_FIELDS];
} icsoe_form;
/* Decode body (len bytes, not NUL-terminated).  -1 on malformed percent
 * escapes, NUL bytes after decoding, too many fields, a repeated field
 * name or a body over maxlen.  On success the caller frees with
 * icsoe_form_free (values are wiped: they may hold passwords). */
int icsoe_form_parse(const char *body, size_t len, size_t maxlen, icsoe_form *f);
const char *icsoe_form_get(const icsoe_form *f, const char *name);
void icsoe_form_free(icsoe_form *f);

/* ---- return paths (open redirect defence) ---- */
#define ICSOE_RETURN_PATH_MAX 1024
/* 1 when path is a same-site absolute path: starts with exactly one '/',
 * no '\\', no control characters or spaces, no "//" or "/\\" start even
 * after percent-decoding, no scheme, at most ICSOE_RETURN_PATH_MAX bytes. */
int icsoe_return_path_ok(const char *path);

/* ---- header names and values ---- */
/* 1 when name starts with prefix, ASCII case-insensitively, with '_' and
 * '-' treated as equal. */
int icsoe_header_has_prefix(const char *name, const char *prefix);
/* Percent-encode bytes >= 0x80, controls and '%' so any UTF-8 text becomes
 * a safe ASCII header value; malloc'd. NULL when out of memory. */
char *icsoe_header_value_encode(const char *s);
/* 1 if s (from LDAP) is safe for a header/env/mail: no CR, LF or NUL
 * within len bytes, valid UTF-8. */
int icsoe_text_is_safe(const char *s, size_t len);

/* ---- email addresses ---- */
#define ICSOE_EMAIL_MAX 254
/* 1 for a plain ASCII addr-spec local@domain (dot-atom local part, domain of
 * LDH labels with a dot, or a literal IP in brackets is NOT accepted). */
int icsoe_email_valid(const char *addr);

/* ---- CSV (RFC 4180, UTF-8) ---- */
#define ICSOE_CSV_MAX_FIELDS 16
#define ICSOE_CSV_MAX_LINE 4096
typedef struct icsoe_csv_row {
    size_t n;
    char *field[ICSOE_CSV_MAX_FIELDS];
} icsoe_csv_row;
/* Parse one record starting at *pos in buf (len bytes); quoted fields may
 * span lines.  Advances *pos past the record and its line end and counts
 * consumed newlines into *lines.  Returns 1 for a row, 0 at end of input,
 * -1 on a malformed record (unterminated quote, too many fields, record
 * over the limit, invalid UTF-8, NUL byte); on -1 *pos skips to the next
 * line so a caller can report and continue. */
int icsoe_csv_next(const char *buf, size_t len, size_t *pos, size_t *lines,
                   icsoe_csv_row *row);
void icsoe_csv_row_free(icsoe_csv_row *row);

#endif
