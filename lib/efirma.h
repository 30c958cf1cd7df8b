/* SAT e.firma (FIEL) and CSD certificates: the identity a contractor signs
 * in with.
 *
 * SAT puts the identity in two subject attributes that mod_ssl does not
 * export one by one:
 *   x500UniqueIdentifier (2.5.4.45)  "RFC" or "RFC / RFC-of-representative"
 *   serialNumber (2.5.4.5)           "CURP" or " / CURP-of-representative"
 * A FIEL (the e.firma, for signing in) has no OU; a CSD (sello digital, for
 * invoices) has one.  The parser is strict: one certificate, all bytes
 * consumed, every attribute it uses present at most once, every identifier
 * validated with lib/rfc.c and lib/curp.c.  It never trusts the certificate:
 * the chain and revocation are mod_ssl's job (SSLCACertificateFile,
 * SSLCARevocationFile, SSLOCSPEnable); this only reads what was verified.
 * Pure and thread-safe; the result is a fixed-size struct (nothing to free).
 */
#ifndef ICSOE_EFIRMA_H
#define ICSOE_EFIRMA_H

#include <stddef.h>
#include <time.h>
#include "curp.h"
#include "rfc.h"

#define ICSOE_EFIRMA_MAX_INPUT 16384 /* bytes of DER or PEM; SAT's are ~2 KiB */
#define ICSOE_EFIRMA_NAME_MAX 256    /* bytes of the holder name (UTF-8, NUL) */
#define ICSOE_EFIRMA_ISSUER_MAX 512  /* bytes of the one-line issuer DN */
#define ICSOE_EFIRMA_SERIAL_MAX 65   /* hex digits of a serial (<= 32 bytes), NUL */

typedef enum icsoe_efirma_kind {
    ICSOE_EFIRMA_FIEL = 0,
    ICSOE_EFIRMA_CSD
} icsoe_efirma_kind;

typedef enum icsoe_efirma_reason {
    ICSOE_EFIRMA_OK = 0,
    ICSOE_EFIRMA_EMPTY,
    ICSOE_EFIRMA_TOO_LARGE,
    ICSOE_EFIRMA_NOT_A_CERTIFICATE, /* not one DER/PEM X.509 certificate */
    ICSOE_EFIRMA_BAD_SUBJECT,       /* an attribute repeated, not text, too long */
    ICSOE_EFIRMA_NO_RFC,            /* no x500UniqueIdentifier */
    ICSOE_EFIRMA_BAD_RFC,
    ICSOE_EFIRMA_BAD_REP_RFC,
    ICSOE_EFIRMA_BAD_CURP,
    ICSOE_EFIRMA_BAD_VALIDITY,      /* unreadable dates, or not after > before */
    ICSOE_EFIRMA_BAD_SERIAL
} icsoe_efirma_reason;

typedef struct icsoe_efirma {
    icsoe_efirma_kind kind;
    char rfc[ICSOE_RFC_BUFSZ];        /* the holder: a person or a company */
    char rep_rfc[ICSOE_RFC_BUFSZ];    /* legal representative, "" if none */
    char curp[ICSOE_CURP_LEN + 1];    /* holder's or representative's, "" if none */
    int rfc_check_digit_warning;      /* an RFC fails its check digit (SAT issued some) */
    char name[ICSOE_EFIRMA_NAME_MAX]; /* CN, else name (2.5.4.41), else O */
    char issuer[ICSOE_EFIRMA_ISSUER_MAX]; /* RFC 2253, UTF-8 */
    char serial[ICSOE_EFIRMA_SERIAL_MAX]; /* uppercase hex, whole bytes (openssl x509 -serial) */
    time_t not_before;
    time_t not_after;
} icsoe_efirma;

/* Parse DER (a SAT .cer) or PEM ("-----BEGIN CERTIFICATE-----", what
 * mod_ssl's SSL_CLIENT_CERT holds).  On anything but OK, out is zeroed. */
icsoe_efirma_reason icsoe_efirma_parse(const void *data, size_t len,
                                       icsoe_efirma *out);
const char *icsoe_efirma_reason_message(icsoe_efirma_reason r); /* Spanish */
const char *icsoe_efirma_reason_name(icsoe_efirma_reason r);    /* English token */

/* Whether a parsed certificate may sign a contractor in at now. */
typedef enum icsoe_efirma_usable {
    ICSOE_EFIRMA_USABLE = 0,
    ICSOE_EFIRMA_IS_CSD,
    ICSOE_EFIRMA_EXPIRED,
    ICSOE_EFIRMA_NOT_YET_VALID
} icsoe_efirma_usable;
icsoe_efirma_usable icsoe_efirma_check_usable(const icsoe_efirma *e, time_t now);
const char *icsoe_efirma_usable_message(icsoe_efirma_usable u); /* Spanish */
const char *icsoe_efirma_usable_name(icsoe_efirma_usable u);    /* English token */
const char *icsoe_efirma_kind_name(icsoe_efirma_kind k);        /* "FIEL", "CSD" */

#endif
