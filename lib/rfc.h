/* RFC (Registro Federal de Contribuyentes) normalisation and validation.
 * 12 characters for a company (persona moral), 13 for a person (persona
 * física).  A wrong check digit is reported separately
 * (ICSOE_RFC_BAD_CHECK_DIGIT) because a small share of RFCs really issued by
 * SAT fail it: callers decide whether it is fatal.  '&' is a legal RFC
 * character (company names); 'Ñ' is accepted as UTF-8 (either case) and kept
 * as UTF-8 "Ñ" in the normalised form, so the buffer is larger than 13. */
#ifndef ICSOE_RFC_H
#define ICSOE_RFC_H

#define ICSOE_RFC_MAXLEN 13 /* characters */
#define ICSOE_RFC_BUFSZ 32  /* bytes: 13 chars, UTF-8 Ñ, NUL */

typedef enum icsoe_rfc_reason {
    ICSOE_RFC_OK = 0,
    ICSOE_RFC_EMPTY,
    ICSOE_RFC_BAD_LENGTH,
    ICSOE_RFC_BAD_CHARS,
    ICSOE_RFC_BAD_NAME_LETTERS,
    ICSOE_RFC_BAD_DATE,
    ICSOE_RFC_BAD_HOMOCLAVE,
    ICSOE_RFC_BAD_CHECK_DIGIT
} icsoe_rfc_reason;

/* Trim, uppercase, validate.  out receives the normalised RFC whenever the
 * reason is OK or BAD_CHECK_DIGIT, else "".  in may be NULL. Pure. */
icsoe_rfc_reason icsoe_rfc_check(const char *in, char out[ICSOE_RFC_BUFSZ]);
const char *icsoe_rfc_reason_message(icsoe_rfc_reason r); /* Spanish */
const char *icsoe_rfc_reason_name(icsoe_rfc_reason r);    /* English token */

#endif
