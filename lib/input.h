/* Strict, bounded parsers for untrusted input that are not CURP/RFC:
 * urlencoded forms, return paths, header names and values, email
 * addresses, CSV rows.  All pure and thread-safe; every one has a fuzz
 * target. */
#ifndef ICSOE_INPUT_H
#define ICSOE_INPUT_H

#include <stddef.h>

/* The value of a hex digit of either case; -1 for any other byte. */
static inline int icsoe_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* ---- application/x-www-form-urlencoded ---- */
#define ICSOE_FORM_MAX_FIELDS 32
typedef struct icsoe_form {
    size_t n;
    char *name[ICSOE_FORM_MAX_FIELDS];
    char *value[ICSOE_FORM_MAX_FIELDS];
    char *buf;     /* icsoe_form_parse: every name and value, one block */
    size_t bufsz;
} icsoe_form;
/* Decode body (len bytes, not NUL-terminated): '&'-separated "name=value"
 * pairs, '+' is a space, %XX in either case.  -1 on malformed percent
 * escapes, NUL bytes (raw or decoded), too many fields, a repeated field
 * name, an empty pair or name, a pair without '=', or a body over maxlen;
 * *f is then empty.  An empty body is 0 fields.  Other raw bytes are kept
 * as sent.  On success the caller frees with icsoe_form_free (names and
 * values are wiped: they may hold passwords). */
int icsoe_form_parse(const char *body, size_t len, size_t maxlen, icsoe_form *f);
const char *icsoe_form_get(const icsoe_form *f, const char *name);
void icsoe_form_free(icsoe_form *f);

/* ---- return paths (open redirect defence) ---- */
#define ICSOE_RETURN_PATH_MAX 1024
/* 1 when path is a same-site absolute path: starts with exactly one '/',
 * no '\\', no control characters or spaces, no "//" or "/\\" start even
 * after percent-decoding, no scheme, at most ICSOE_RETURN_PATH_MAX bytes.
 * Raw bytes >= 0x80 and malformed %-escapes are refused; decoded control
 * characters are refused anywhere; decoding is repeated (up to 3 rounds) so
 * double-encoded "//" is caught too.  "/.." segments are fine (same site). */
int icsoe_return_path_ok(const char *path);

/* ---- header names and values ---- */
/* 1 when name starts with prefix, ASCII case-insensitively, with '_' and
 * '-' treated as equal ("x_Icsoe-Curp" has the prefix "X-ICSOE-"; "X-ICSOE"
 * and "X-ICSOEX" do not).  An empty or NULL prefix matches nothing. */
int icsoe_header_has_prefix(const char *name, const char *prefix);
/* Percent-encode bytes >= 0x80, controls (< 0x20 and 0x7f) and '%' as
 * uppercase %XX so any UTF-8 text becomes a safe ASCII header value
 * ("Peña & Hijos" -> "Pe%C3%B1a & Hijos"); malloc'd.  NULL when out of
 * memory or s is NULL. */
char *icsoe_header_value_encode(const char *s);
/* The same for len bytes of s, into a buffer the caller sized: the encoded
 * length (without the NUL) is icsoe_header_value_encoded_len; equal to len
 * when nothing needs encoding.  mod_icsoe encodes into the request pool. */
size_t icsoe_header_value_encoded_len(const char *s, size_t len);
void icsoe_header_value_encode_to(const char *s, size_t len, char *out);
/* 1 if s (from LDAP) is safe for a header/env/mail: no CR, LF or NUL
 * within len bytes, valid UTF-8. */
int icsoe_text_is_safe(const char *s, size_t len);
/* 1 if the len bytes are well-formed UTF-8 (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF). */
int icsoe_utf8_valid(const char *s, size_t len);

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
 * consumed newlines into *lines (may be NULL).  Returns 1 for a row, 0 at
 * end of input, -1 on a malformed record (unterminated quote, too many
 * fields, record over ICSOE_CSV_MAX_LINE bytes, invalid UTF-8, NUL byte, a
 * quote inside an unquoted field, text after a closing quote, a lone CR);
 * on -1 *pos skips past the physical line holding the fault (for an
 * unterminated quote: the line of the opening quote) so a caller can report
 * and continue.  Line ends are LF or CRLF; a UTF-8 BOM at offset 0 is
 * skipped; blank lines are skipped (not rows).  Fields are returned as
 * written, untrimmed, with "" turned into ". */
int icsoe_csv_next(const char *buf, size_t len, size_t *pos, size_t *lines,
                   icsoe_csv_row *row);
/* The same with ';' as the separator when sep is ';' (sep must be ',' or
 * ';'; anything else gives -1). */
int icsoe_csv_next_sep(const char *buf, size_t len, char sep, size_t *pos,
                       size_t *lines, icsoe_csv_row *row);
void icsoe_csv_row_free(icsoe_csv_row *row);

/* ---- multipart/form-data (RFC 7578), for file uploads ---- */
#define ICSOE_MULTIPART_MAX_PARTS 8
#define ICSOE_MULTIPART_BOUNDARY_MAX 70
#define ICSOE_MULTIPART_HEADERS_MAX 1024 /* bytes of one part's header block */
typedef struct icsoe_part {
    char name[64];        /* the field name */
    char filename[256];   /* the file name as sent, "" when none */
    int is_file;          /* a filename parameter was present */
    const char *data;     /* points into the body: not NUL-terminated */
    size_t len;
} icsoe_part;
typedef struct icsoe_multipart {
    size_t n;
    icsoe_part part[ICSOE_MULTIPART_MAX_PARTS];
} icsoe_multipart;
/* The boundary parameter of a "multipart/form-data; boundary=..." value
 * (quoted or not, 1..70 characters of RFC 2046's set).  0 or -1. */
int icsoe_multipart_boundary(const char *content_type,
                             char out[ICSOE_MULTIPART_BOUNDARY_MAX + 1]);
/* Split body (len bytes) into its parts.  Strict: the body starts with the
 * first delimiter, each part has a Content-Disposition: form-data with a
 * quoted name (filename optional), header blocks stay under
 * ICSOE_MULTIPART_HEADERS_MAX, at most ICSOE_MULTIPART_MAX_PARTS parts, and
 * the closing delimiter is present.  0, or -1 with *out zeroed. */
int icsoe_multipart_parse(const char *body, size_t len, const char *boundary,
                          icsoe_multipart *out);
/* The first part called name, or NULL. */
const icsoe_part *icsoe_multipart_get(const icsoe_multipart *m, const char *name);

#endif
