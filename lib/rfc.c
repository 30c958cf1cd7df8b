/* RFC normalisation and validation (SAT format, mod-11 check digit).
 *
 * Like the CURP checker, the input is first decoded into an array of single
 * byte codes (Ñ as RFC_NTILDE) so the positional rules index a fixed array;
 * the normalised output re-encodes Ñ as UTF-8.  At most RFC_MAX_INPUT + 1
 * bytes of the input are ever read.
 *
 * Precedence: every structural fault is reported before the check digit,
 * and a last character outside [0-9A] is a homoclave fault (it can never be
 * a check digit), so ICSOE_RFC_BAD_CHECK_DIGIT always means "well formed,
 * only the digit disagrees" and out holds the normalised RFC. */
#include <string.h>
#include "rfc.h"

#define RFC_MAX_INPUT 64 /* raw bytes before trimming */
#define RFC_NTILDE 0xD1  /* internal code for Ñ (its Latin-1 value) */

/* The generic RFC SAT assigns for sales to the general public does not
 * satisfy its own check digit (it computes to 4), yet every CFDI system
 * must accept it; it is accepted by name.  The foreign-resident generic
 * RFC, XEXX010101000, passes the check on its own. */
static const char rfc_generic_public[] = "XAXX010101000";

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
           c == '\r';
}

static int is_upper(unsigned char c)
{
    return c >= 'A' && c <= 'Z';
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_name_letter(unsigned char c)
{
    return is_upper(c) || c == '&' || c == RFC_NTILDE;
}

/* Trim, uppercase and decode into code[], setting *n to the character
 * count.  Returns OK, EMPTY, BAD_CHARS or BAD_LENGTH. */
static icsoe_rfc_reason rfc_decode(const char *in, unsigned char code[ICSOE_RFC_MAXLEN],
                                   size_t *n)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t len, start = 0, count = 0;

    len = strnlen(in, RFC_MAX_INPUT + 1);
    if (len > RFC_MAX_INPUT)
        return ICSOE_RFC_BAD_LENGTH;
    while (start < len && is_space(s[start]))
        start++;
    while (len > start && is_space(s[len - 1]))
        len--;
    if (start == len)
        return ICSOE_RFC_EMPTY;

    for (size_t i = start; i < len; i++) {
        unsigned char c = s[i];

        if (c >= 'a' && c <= 'z') {
            c = (unsigned char)(c - 'a' + 'A');
        } else if (c == 0xC3 && i + 1 < len && (s[i + 1] == 0x91 || s[i + 1] == 0xB1)) {
            c = RFC_NTILDE;
            i++;
        } else if (!is_upper(c) && !is_digit(c) && c != '&') {
            return ICSOE_RFC_BAD_CHARS;
        }
        if (count < ICSOE_RFC_MAXLEN)
            code[count] = c;
        count++;
    }
    if (count != 12 && count != 13)
        return ICSOE_RFC_BAD_LENGTH;
    *n = count;
    return ICSOE_RFC_OK;
}

static unsigned two_digits(const unsigned char *p)
{
    return (unsigned)(p[0] - '0') * 10u + (unsigned)(p[1] - '0');
}

/* YYMMDD.  The RFC does not say the century, so 29 February is allowed in
 * every year divisible by 4 (true for 19YY and 20YY alike, 1900 aside). */
static int rfc_date_ok(const unsigned char *d)
{
    static const unsigned days[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    unsigned year, month, day;

    for (int i = 0; i < 6; i++)
        if (!is_digit(d[i]))
            return 0;
    year = two_digits(d);
    month = two_digits(d + 2);
    day = two_digits(d + 4);
    if (month < 1 || month > 12 || day < 1 || day > days[month - 1])
        return 0;
    return !(month == 2 && day == 29 && year % 4 != 0);
}

/* SAT alphabet: 0-9 -> 0-9, A-N -> 10-23, & -> 24, O-Z -> 25-36,
 * space -> 37, Ñ -> 38. */
static unsigned rfc_value(unsigned char c)
{
    if (is_digit(c))
        return (unsigned)(c - '0');
    if (c >= 'A' && c <= 'N')
        return (unsigned)(c - 'A') + 10u;
    if (c == '&')
        return 24;
    if (c >= 'O' && c <= 'Z')
        return (unsigned)(c - 'O') + 25u;
    if (c == RFC_NTILDE)
        return 38;
    return 37; /* space: the padding of a 12-character RFC */
}

/* Expected check digit of a structurally valid RFC of n characters. */
static unsigned char rfc_check_digit(const unsigned char *code, size_t n)
{
    unsigned char padded[ICSOE_RFC_MAXLEN];
    unsigned sum = 0, r;

    /* A company RFC is weighed as if it had a leading space. */
    padded[0] = ' ';
    memcpy(padded + (ICSOE_RFC_MAXLEN - n), code, n);
    for (int i = 0; i < ICSOE_RFC_MAXLEN - 1; i++)
        sum += rfc_value(padded[i]) * (unsigned)(ICSOE_RFC_MAXLEN - i);
    r = sum % 11;
    if (r == 0)
        return '0';
    if (11 - r == 10)
        return 'A';
    return (unsigned char)('0' + (11 - r));
}

static icsoe_rfc_reason rfc_fields(const unsigned char *code, size_t n)
{
    size_t letters = n - 9; /* 3 for a company, 4 for a person */
    const unsigned char *h;

    for (size_t i = 0; i < letters; i++)
        if (!is_name_letter(code[i]))
            return ICSOE_RFC_BAD_NAME_LETTERS;
    if (!rfc_date_ok(code + letters))
        return ICSOE_RFC_BAD_DATE;
    h = code + letters + 6;
    for (int i = 0; i < 2; i++)
        if (!is_upper(h[i]) && !is_digit(h[i]))
            return ICSOE_RFC_BAD_HOMOCLAVE;
    if (!is_digit(h[2]) && h[2] != 'A')
        return ICSOE_RFC_BAD_HOMOCLAVE;
    return ICSOE_RFC_OK;
}

/* Normalised UTF-8 form: at most 13 characters, 4 of them 2-byte Ñ. */
static void rfc_encode(const unsigned char *code, size_t n, char out[ICSOE_RFC_BUFSZ])
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        if (code[i] == RFC_NTILDE) {
            out[o++] = (char)0xC3;
            out[o++] = (char)0x91;
        } else {
            out[o++] = (char)code[i];
        }
    }
    out[o] = '\0';
}

icsoe_rfc_reason icsoe_rfc_check(const char *in, char out[ICSOE_RFC_BUFSZ])
{
    unsigned char code[ICSOE_RFC_MAXLEN];
    char norm[ICSOE_RFC_BUFSZ];
    size_t n = 0;
    icsoe_rfc_reason r;

    if (out != NULL)
        out[0] = '\0';
    if (in == NULL)
        return ICSOE_RFC_EMPTY;
    r = rfc_decode(in, code, &n);
    if (r == ICSOE_RFC_OK)
        r = rfc_fields(code, n);
    if (r != ICSOE_RFC_OK)
        return r;
    rfc_encode(code, n, norm);
    if (code[n - 1] != rfc_check_digit(code, n) &&
        strcmp(norm, rfc_generic_public) != 0)
        r = ICSOE_RFC_BAD_CHECK_DIGIT;
    if (out != NULL)
        memcpy(out, norm, strlen(norm) + 1);
    return r;
}

const char *icsoe_rfc_reason_message(icsoe_rfc_reason r)
{
    switch (r) {
    case ICSOE_RFC_OK:
        return "El RFC es válido.";
    case ICSOE_RFC_EMPTY:
        return "Escribe el RFC.";
    case ICSOE_RFC_BAD_LENGTH:
        return "El RFC debe tener 12 caracteres (persona moral) o 13 "
               "(persona física).";
    case ICSOE_RFC_BAD_CHARS:
        return "El RFC solo puede contener letras, números, & y Ñ.";
    case ICSOE_RFC_BAD_NAME_LETTERS:
        return "El RFC debe empezar con 3 letras (persona moral) o 4 "
               "(persona física).";
    case ICSOE_RFC_BAD_DATE:
        return "La fecha del RFC (seis dígitos AAMMDD después de las letras) "
               "no es una fecha válida.";
    case ICSOE_RFC_BAD_HOMOCLAVE:
        return "La homoclave del RFC (últimos tres caracteres) no es válida.";
    case ICSOE_RFC_BAD_CHECK_DIGIT:
        return "El dígito verificador del RFC no es correcto.";
    }
    return "El RFC no es válido.";
}

const char *icsoe_rfc_reason_name(icsoe_rfc_reason r)
{
    switch (r) {
    case ICSOE_RFC_OK:
        return "ok";
    case ICSOE_RFC_EMPTY:
        return "empty";
    case ICSOE_RFC_BAD_LENGTH:
        return "bad-length";
    case ICSOE_RFC_BAD_CHARS:
        return "bad-chars";
    case ICSOE_RFC_BAD_NAME_LETTERS:
        return "bad-name-letters";
    case ICSOE_RFC_BAD_DATE:
        return "bad-date";
    case ICSOE_RFC_BAD_HOMOCLAVE:
        return "bad-homoclave";
    case ICSOE_RFC_BAD_CHECK_DIGIT:
        return "bad-check-digit";
    }
    return "unknown";
}
