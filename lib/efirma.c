/* SAT e.firma / CSD certificate parser (see efirma.h).
 *
 * Threat: the bytes come from a TLS peer (mod_ssl verified the chain, but a
 * CA may still issue odd subjects) or from a file an administrator was
 * handed.  Rule: exactly one certificate, all input consumed, the identity
 * attributes present at most once and made of text, every identifier
 * validated before it is used as an LDAP key.  Pitfall: x500UniqueIdentifier
 * is a BIT STRING in X.520 but SAT writes it as a character string; a BIT
 * STRING (or any non-text type) is refused rather than guessed at. */
#define _GNU_SOURCE /* timegm */
#include <string.h>
#include <time.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "efirma.h"

/* The subject attributes we read, one slot each. */
enum { A_UID, A_SERIAL, A_CN, A_NAME, A_O, A_COUNT };
#define FIELD_MAX 256 /* bytes of one attribute value, UTF-8 */

typedef struct subject_fields {
    char value[A_COUNT][FIELD_MAX];
    int seen[A_COUNT];
    int has_ou;
} subject_fields;

static int attr_slot(int nid)
{
    switch (nid) {
    case NID_x500UniqueIdentifier: return A_UID;
    case NID_serialNumber: return A_SERIAL;
    case NID_commonName: return A_CN;
    case NID_name: return A_NAME;
    case NID_organizationName: return A_O;
    default: return -1;
    }
}

/* Text of an attribute as UTF-8 without control characters or NUL. */
static int entry_text(const X509_NAME_ENTRY *e, char out[FIELD_MAX])
{
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
    int rc = -1;

    if (n < 0 || utf8 == NULL)
        return -1;
    if ((size_t)n >= FIELD_MAX)
        goto cleanup;
    for (int i = 0; i < n; i++)
        if (utf8[i] < 0x20 || utf8[i] == 0x7f)
            goto cleanup;
    memcpy(out, utf8, (size_t)n);
    out[n] = '\0';
    rc = 0;
cleanup:
    OPENSSL_free(utf8);
    return rc;
}

static icsoe_efirma_reason read_subject(const X509 *x, subject_fields *f)
{
    const X509_NAME *subj = X509_get_subject_name(x);
    int count = X509_NAME_entry_count(subj);

    memset(f, 0, sizeof(*f));
    for (int i = 0; i < count; i++) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(subj, i);
        int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
        int slot;

        if (nid == NID_organizationalUnitName) {
            f->has_ou = 1;
            continue;
        }
        slot = attr_slot(nid);
        if (slot < 0)
            continue;
        if (f->seen[slot]++ > 0 || entry_text(e, f->value[slot]) != 0)
            return ICSOE_EFIRMA_BAD_SUBJECT;
    }
    return ICSOE_EFIRMA_OK;
}

/* Copy s[0..n) without surrounding blanks into out (FIELD_MAX bytes). */
static void trimmed(const char *s, size_t n, char out[FIELD_MAX])
{
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    memcpy(out, s, n);
    out[n] = '\0';
}

/* "A / B" -> "A", "B"; "A" -> "A", "".  More than one '/' is an error. */
static int split_slash(const char *v, char left[FIELD_MAX], char right[FIELD_MAX])
{
    const char *slash = strchr(v, '/');

    if (slash == NULL) {
        trimmed(v, strlen(v), left);
        right[0] = '\0';
        return 0;
    }
    if (strchr(slash + 1, '/') != NULL)
        return -1;
    trimmed(v, (size_t)(slash - v), left);
    trimmed(slash + 1, strlen(slash + 1), right);
    return 0;
}

/* A SAT-signed RFC with a wrong check digit is real (rfc.h): accepted,
 * flagged.  Anything else malformed is refused. */
static int take_rfc(const char *in, char out[ICSOE_RFC_BUFSZ], int *warning)
{
    icsoe_rfc_reason r = icsoe_rfc_check(in, out);

    if (r == ICSOE_RFC_BAD_CHECK_DIGIT) {
        *warning = 1;
        return 0;
    }
    return r == ICSOE_RFC_OK ? 0 : -1;
}

static icsoe_efirma_reason read_identity(const subject_fields *f, icsoe_efirma *out)
{
    char left[FIELD_MAX], right[FIELD_MAX];

    if (!f->seen[A_UID])
        return ICSOE_EFIRMA_NO_RFC;
    if (split_slash(f->value[A_UID], left, right) != 0 ||
        take_rfc(left, out->rfc, &out->rfc_check_digit_warning) != 0)
        return ICSOE_EFIRMA_BAD_RFC;
    if (right[0] != '\0' &&
        take_rfc(right, out->rep_rfc, &out->rfc_check_digit_warning) != 0)
        return ICSOE_EFIRMA_BAD_REP_RFC;
    if (f->seen[A_SERIAL]) {
        const char *curp;

        /* " / CURP" (company: the representative's) or "CURP" (person). */
        if (split_slash(f->value[A_SERIAL], left, right) != 0 ||
            (left[0] != '\0' && right[0] != '\0'))
            return ICSOE_EFIRMA_BAD_CURP;
        curp = right[0] != '\0' ? right : left;
        if (curp[0] != '\0' && icsoe_curp_check(curp, out->curp) != ICSOE_CURP_OK)
            return ICSOE_EFIRMA_BAD_CURP;
    }
    for (int slot = A_CN; slot <= A_O && out->name[0] == '\0'; slot++)
        trimmed(f->value[slot], strlen(f->value[slot]), out->name);
    return out->name[0] != '\0' ? ICSOE_EFIRMA_OK : ICSOE_EFIRMA_BAD_SUBJECT;
}

static int read_issuer(const X509 *x, char out[ICSOE_EFIRMA_ISSUER_MAX])
{
    BIO *b = BIO_new(BIO_s_mem());
    unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
    int n, rc = -1;

    if (b == NULL)
        return -1;
    if (X509_NAME_print_ex(b, X509_get_issuer_name(x), 0, flags) < 0)
        goto cleanup;
    n = BIO_read(b, out, ICSOE_EFIRMA_ISSUER_MAX);
    if (n <= 0 || n >= ICSOE_EFIRMA_ISSUER_MAX || memchr(out, '\0', (size_t)n) != NULL)
        goto cleanup;
    out[n] = '\0';
    rc = 0;
cleanup:
    BIO_free(b);
    return rc;
}

static int read_serial(const X509 *x, char out[ICSOE_EFIRMA_SERIAL_MAX])
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = NULL;
    int rc = -1;

    if (bn == NULL || BN_is_negative(bn))
        goto cleanup;
    hex = BN_bn2hex(bn);
    if (hex == NULL || strlen(hex) >= ICSOE_EFIRMA_SERIAL_MAX)
        goto cleanup;
    memcpy(out, hex, strlen(hex) + 1);
    rc = 0;
cleanup:
    OPENSSL_free(hex);
    BN_free(bn);
    return rc;
}

static int asn1_time(const ASN1_TIME *t, time_t *out)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return -1;
    *out = timegm(&tm);
    return *out == (time_t)-1 ? -1 : 0;
}

static int only_blanks(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
            return 0;
    return 1;
}

static size_t leading_blanks(const char *p, size_t len)
{
    size_t i = 0;

    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    return i;
}

/* DER: all bytes must be the one certificate. */
static X509 *decode_der(const unsigned char *p, size_t len)
{
    const unsigned char *q = p;
    X509 *x = d2i_X509(NULL, &q, (long)len);

    if (x != NULL && q != p + len) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* PEM: one CERTIFICATE block without headers, only blanks around it. */
static X509 *decode_pem(const char *p, size_t len)
{
    size_t skip = leading_blanks(p, len);
    BIO *b = BIO_new_mem_buf(p + skip, (int)(len - skip));
    char *name = NULL, *header = NULL, rest[64];
    unsigned char *der = NULL;
    long derlen = 0;
    X509 *x = NULL;
    int n;

    if (b == NULL)
        return NULL;
    if (PEM_read_bio(b, &name, &header, &der, &derlen) != 1 ||
        strcmp(name, PEM_STRING_X509) != 0 || header[0] != '\0' || derlen <= 0)
        goto cleanup;
    while ((n = BIO_read(b, rest, sizeof(rest))) > 0)
        if (!only_blanks(rest, (size_t)n))
            goto cleanup;
    x = decode_der(der, (size_t)derlen);
cleanup:
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(der);
    BIO_free(b);
    return x;
}

static int looks_pem(const char *p, size_t len)
{
    static const char begin[] = "-----BEGIN ";
    size_t i = leading_blanks(p, len);

    return len - i >= sizeof(begin) - 1 && memcmp(p + i, begin, sizeof(begin) - 1) == 0;
}

static icsoe_efirma_reason parse_cert(const X509 *x, icsoe_efirma *out)
{
    subject_fields f;
    icsoe_efirma_reason r = read_subject(x, &f);

    if (r != ICSOE_EFIRMA_OK)
        return r;
    out->kind = f.has_ou ? ICSOE_EFIRMA_CSD : ICSOE_EFIRMA_FIEL;
    r = read_identity(&f, out);
    if (r != ICSOE_EFIRMA_OK)
        return r;
    if (read_issuer(x, out->issuer) != 0)
        return ICSOE_EFIRMA_BAD_SUBJECT;
    if (read_serial(x, out->serial) != 0)
        return ICSOE_EFIRMA_BAD_SERIAL;
    if (asn1_time(X509_get0_notBefore(x), &out->not_before) != 0 ||
        asn1_time(X509_get0_notAfter(x), &out->not_after) != 0 ||
        out->not_after <= out->not_before)
        return ICSOE_EFIRMA_BAD_VALIDITY;
    return ICSOE_EFIRMA_OK;
}

icsoe_efirma_reason icsoe_efirma_parse(const void *data, size_t len, icsoe_efirma *out)
{
    X509 *x = NULL;
    icsoe_efirma_reason r;

    memset(out, 0, sizeof(*out));
    if (data == NULL || len == 0)
        return ICSOE_EFIRMA_EMPTY;
    if (len > ICSOE_EFIRMA_MAX_INPUT)
        return ICSOE_EFIRMA_TOO_LARGE;
    if (looks_pem(data, len))
        x = decode_pem(data, len);
    else
        x = decode_der(data, len);
    if (x == NULL)
        return ICSOE_EFIRMA_NOT_A_CERTIFICATE;
    r = parse_cert(x, out);
    X509_free(x);
    if (r != ICSOE_EFIRMA_OK)
        memset(out, 0, sizeof(*out));
    return r;
}

icsoe_efirma_usable icsoe_efirma_check_usable(const icsoe_efirma *e, time_t now)
{
    if (e->kind != ICSOE_EFIRMA_FIEL)
        return ICSOE_EFIRMA_IS_CSD;
    if (now < e->not_before)
        return ICSOE_EFIRMA_NOT_YET_VALID;
    if (now > e->not_after)
        return ICSOE_EFIRMA_EXPIRED;
    return ICSOE_EFIRMA_USABLE;
}

const char *icsoe_efirma_kind_name(icsoe_efirma_kind k)
{
    return k == ICSOE_EFIRMA_FIEL ? "FIEL" : "CSD";
}

const char *icsoe_efirma_reason_message(icsoe_efirma_reason r)
{
    switch (r) {
    case ICSOE_EFIRMA_OK: return "Certificado válido.";
    case ICSOE_EFIRMA_EMPTY: return "No se recibió ningún certificado.";
    case ICSOE_EFIRMA_TOO_LARGE: return "El archivo es demasiado grande para ser un certificado.";
    case ICSOE_EFIRMA_NOT_A_CERTIFICATE: return "El archivo no es un certificado (.cer) válido.";
    case ICSOE_EFIRMA_BAD_SUBJECT: return "Los datos del titular del certificado no tienen el formato del SAT.";
    case ICSOE_EFIRMA_NO_RFC: return "El certificado no contiene un RFC.";
    case ICSOE_EFIRMA_BAD_RFC: return "El RFC del certificado no es válido.";
    case ICSOE_EFIRMA_BAD_REP_RFC: return "El RFC del representante legal no es válido.";
    case ICSOE_EFIRMA_BAD_CURP: return "La CURP del certificado no es válida.";
    case ICSOE_EFIRMA_BAD_VALIDITY: return "Las fechas de vigencia del certificado no son válidas.";
    case ICSOE_EFIRMA_BAD_SERIAL: return "El número de serie del certificado no es válido.";
    }
    return "El certificado no es válido.";
}

const char *icsoe_efirma_reason_name(icsoe_efirma_reason r)
{
    switch (r) {
    case ICSOE_EFIRMA_OK: return "ok";
    case ICSOE_EFIRMA_EMPTY: return "empty";
    case ICSOE_EFIRMA_TOO_LARGE: return "too-large";
    case ICSOE_EFIRMA_NOT_A_CERTIFICATE: return "not-a-certificate";
    case ICSOE_EFIRMA_BAD_SUBJECT: return "bad-subject";
    case ICSOE_EFIRMA_NO_RFC: return "no-rfc";
    case ICSOE_EFIRMA_BAD_RFC: return "bad-rfc";
    case ICSOE_EFIRMA_BAD_REP_RFC: return "bad-representative-rfc";
    case ICSOE_EFIRMA_BAD_CURP: return "bad-curp";
    case ICSOE_EFIRMA_BAD_VALIDITY: return "bad-validity";
    case ICSOE_EFIRMA_BAD_SERIAL: return "bad-serial";
    }
    return "unknown";
}

const char *icsoe_efirma_usable_message(icsoe_efirma_usable u)
{
    switch (u) {
    case ICSOE_EFIRMA_USABLE: return "Certificado de e.firma vigente.";
    case ICSOE_EFIRMA_IS_CSD:
        return "El certificado es un Certificado de Sello Digital (CSD). "
               "Para ingresar usa tu e.firma (FIEL).";
    case ICSOE_EFIRMA_EXPIRED: return "Tu certificado de e.firma está vencido.";
    case ICSOE_EFIRMA_NOT_YET_VALID: return "Tu certificado de e.firma todavía no es vigente.";
    }
    return "El certificado no puede usarse para ingresar.";
}

const char *icsoe_efirma_usable_name(icsoe_efirma_usable u)
{
    switch (u) {
    case ICSOE_EFIRMA_USABLE: return "usable";
    case ICSOE_EFIRMA_IS_CSD: return "csd";
    case ICSOE_EFIRMA_EXPIRED: return "expired";
    case ICSOE_EFIRMA_NOT_YET_VALID: return "not-yet-valid";
    }
    return "unknown";
}
