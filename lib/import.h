/* Capturist CSV files: the format shared by "icsoectl capturist import" and
 * the contractor's "Carga masiva" (mod_icsoe icsoe-capturists).
 *
 * Header "curp,nombre,correo,rfc" (any case), then one row per capturist
 * and contractor.  Excel writes these files in Windows-1252 and, in a
 * Spanish locale, with ';' between fields: both are accepted.  Pure and
 * thread-safe. */
#ifndef ICSOE_IMPORT_H
#define ICSOE_IMPORT_H

#include <stddef.h>
#include "curp.h"
#include "input.h"
#include "rfc.h"

#define ICSOE_IMPORT_NAME_MAX 200 /* bytes of a name (UTF-8) */

/* The file as UTF-8, malloc'd and NUL-terminated (*outlen without the NUL;
 * a UTF-8 BOM is dropped).  Valid UTF-8 is kept as is, and so is a file
 * that holds some well-formed multi-byte UTF-8 next to invalid bytes (a
 * damaged UTF-8 file: the CSV reader refuses its bad rows one by one).  A
 * file without any UTF-8 sequence is read as Windows-1252 (which agrees
 * with Latin-1 on every printable character) and converted, *converted
 * set.  NULL when out of memory or when such a file has a byte Windows-1252
 * leaves undefined (the file is then neither). */
char *icsoe_import_to_utf8(const char *buf, size_t len, size_t *outlen,
                           int *converted);

/* Reads the first record of buf (UTF-8): the header with ',' or ';'
 * between the four names (blanks around them allowed).  Returns the
 * separator and advances *pos and *lines past the header, or 0 when the
 * first record is not the header. */
char icsoe_import_header(const char *buf, size_t len, size_t *pos, size_t *lines);

typedef struct icsoe_import_row {
    char curp[ICSOE_CURP_LEN + 1];
    char rfc[ICSOE_RFC_BUFSZ];
    char name[ICSOE_IMPORT_NAME_MAX + 1];
    char email[ICSOE_EMAIL_MAX + 1];
    int rfc_check_digit_warning;
} icsoe_import_row;

/* Check one data record: four fields, a valid CURP (normalised), a name
 * (trimmed, 1..ICSOE_IMPORT_NAME_MAX bytes, no control characters), a
 * valid email address and an RFC (a wrong check digit only sets the
 * warning).  0, or -1 with why (Spanish, for the per-line report). */
int icsoe_import_check_row(const icsoe_csv_row *row, icsoe_import_row *out,
                           char *why, size_t whylen);

#endif
