/* CURP (Clave Única de Registro de Población) normalisation and validation.
 *
 * Representation of Ñ: the only non-ASCII letter a CURP may contain.  On
 * input we accept it as UTF-8 "Ñ"/"ñ" (C3 91 / C3 B1); internally and in the
 * normalised output RENAPO's own convention is used: the letter is replaced
 * by 'X' (RENAPO issues CURPs with X where the name has Ñ), so a normalised
 * CURP is always 18 ASCII bytes.  For the check digit the alphabet is
 * "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ" where '&' stands for Ñ (value 24).
 */
#ifndef ICSOE_CURP_H
#define ICSOE_CURP_H

#define ICSOE_CURP_LEN 18

typedef enum icsoe_curp_reason {
    ICSOE_CURP_OK = 0,
    ICSOE_CURP_EMPTY,
    ICSOE_CURP_BAD_LENGTH,
    ICSOE_CURP_BAD_CHARS,        /* non-ASCII or symbols */
    ICSOE_CURP_BAD_NAME_LETTERS, /* positions 1-4 */
    ICSOE_CURP_BAD_DATE,         /* positions 5-10, not a calendar date */
    ICSOE_CURP_BAD_SEX,          /* position 11: H, M or X */
    ICSOE_CURP_BAD_STATE,        /* positions 12-13 */
    ICSOE_CURP_BAD_CONSONANTS,   /* positions 14-16 */
    ICSOE_CURP_BAD_DIFFERENTIATOR, /* position 17 */
    ICSOE_CURP_BAD_CHECK_DIGIT   /* position 18 */
} icsoe_curp_reason;

/* Trim surrounding ASCII whitespace, uppercase, and validate.  On
 * ICSOE_CURP_OK, out (19 bytes) holds the normalised CURP; otherwise out is
 * an empty string.  in may be NULL. Pure, thread-safe. */
icsoe_curp_reason icsoe_curp_check(const char *in, char out[ICSOE_CURP_LEN + 1]);

/* Spanish message for users ("La CURP debe tener 18 caracteres."). */
const char *icsoe_curp_reason_message(icsoe_curp_reason r);
/* Short English token for logs and --json ("bad-check-digit"). */
const char *icsoe_curp_reason_name(icsoe_curp_reason r);

/* 1 when s is a normalised CURP's shape: exactly 18 of [A-Z0-9] (no
 * date, state or check-digit test: for values that came from a full
 * icsoe_curp_check or from the directory).  s may be NULL. */
int icsoe_curp_shape_ok(const char *s);

/* The check digit (as '0'..'9') for the first 17 characters of a normalised
 * CURP, or 0 when a character is outside the alphabet. */
char icsoe_curp_check_digit(const char *first17);

#endif
