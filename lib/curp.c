/* CURP normalisation and validation (RENAPO format, check digit).
 *
 * The checker first turns the input into 18 ASCII bytes (trim, uppercase,
 * UTF-8 Ñ -> 'X') and only then looks at positions, so every later step can
 * index a fixed array.  It never reads more than ICSOE_CURP_MAX_INPUT + 1
 * bytes of the input, whatever its length. */
#include <string.h>
#include "curp.h"

/* Longer raw input (before trimming) is refused without being scanned. */
#define ICSOE_CURP_MAX_INPUT 64

/* The 32 state codes plus NE (born abroad). */
static const char curp_states[][3] = {
    "AS", "BC", "BS", "CC", "CL", "CM", "CS", "CH", "DF", "DG", "GT",
    "GR", "HG", "JC", "MC", "MN", "MS", "NT", "NL", "OC", "PL", "QT",
    "QR", "SP", "SL", "SR", "TC", "TS", "TL", "VZ", "YN", "ZS", "NE"
};

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
           c == '\r';
}

static int is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_vowel(char c)
{
    return c == 'A' || c == 'E' || c == 'I' || c == 'O' || c == 'U';
}

/* Positions 14-16: internal consonants.  'X' (also RENAPO's stand-in for Ñ
 * and for a missing consonant) is a consonant. */
static int is_consonant(char c)
{
    return is_upper(c) && !is_vowel(c);
}

/* Trim and uppercase into norm (18 bytes + NUL).  Ñ/ñ in UTF-8 become 'X'.
 * Returns OK, EMPTY, BAD_CHARS or BAD_LENGTH.  Characters are checked
 * before the length so that "é" is reported as a bad character, not as a
 * 19-byte CURP. */
static icsoe_curp_reason curp_normalise(const char *in, char norm[ICSOE_CURP_LEN + 1])
{
    size_t len, start = 0, n = 0;
    const unsigned char *s = (const unsigned char *)in;

    len = strnlen(in, ICSOE_CURP_MAX_INPUT + 1);
    if (len > ICSOE_CURP_MAX_INPUT)
        return ICSOE_CURP_BAD_LENGTH;
    while (start < len && is_space(s[start]))
        start++;
    while (len > start && is_space(s[len - 1]))
        len--;
    if (start == len)
        return ICSOE_CURP_EMPTY;

    for (size_t i = start; i < len; i++) {
        unsigned char c = s[i];
        char out;

        if (c >= 'a' && c <= 'z') {
            out = (char)(c - 'a' + 'A');
        } else if (is_upper((char)c) || is_digit((char)c)) {
            out = (char)c;
        } else if (c == 0xC3 && i + 1 < len && (s[i + 1] == 0x91 || s[i + 1] == 0xB1)) {
            out = 'X'; /* RENAPO writes Ñ as X */
            i++;
        } else {
            return ICSOE_CURP_BAD_CHARS;
        }
        if (n < ICSOE_CURP_LEN)
            norm[n] = out;
        n++;
    }
    if (n != ICSOE_CURP_LEN)
        return ICSOE_CURP_BAD_LENGTH;
    norm[ICSOE_CURP_LEN] = '\0';
    return ICSOE_CURP_OK;
}

static int is_leap(unsigned year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static unsigned two_digits(const char *p)
{
    return (unsigned)(p[0] - '0') * 10u + (unsigned)(p[1] - '0');
}

/* YYMMDD at c[4..9]; the century comes from the differentiator (c[16]):
 * RENAPO uses a digit for births before 2000 and a letter from 2000 on. */
static int curp_date_ok(const char *c)
{
    static const unsigned days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    unsigned year, month, day, limit;

    for (int i = 4; i < 10; i++)
        if (!is_digit(c[i]))
            return 0;
    year = (is_digit(c[16]) ? 1900u : 2000u) + two_digits(c + 4);
    month = two_digits(c + 6);
    day = two_digits(c + 8);
    if (month < 1 || month > 12 || day < 1)
        return 0;
    limit = days[month - 1];
    if (month == 2 && is_leap(year))
        limit = 29;
    return day <= limit;
}

static int curp_state_ok(const char *c)
{
    for (size_t i = 0; i < sizeof(curp_states) / sizeof(curp_states[0]); i++)
        if (c[0] == curp_states[i][0] && c[1] == curp_states[i][1])
            return 1;
    return 0;
}

/* Value of a character in the check-digit alphabet
 * "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ", -1 if outside (computed, not
 * searched: this runs 17 times per CURP check, twice per login). */
static int curp_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'N')
        return 10 + (c - 'A');
    if (c == '&')
        return 24;
    if (c >= 'O' && c <= 'Z')
        return 25 + (c - 'O');
    return -1;
}

char icsoe_curp_check_digit(const char *first17)
{
    unsigned sum = 0;

    if (first17 == NULL)
        return 0;
    /* Stops at the first byte outside the alphabet (including NUL), so a
     * short string is never read past its end. */
    for (int i = 0; i < ICSOE_CURP_LEN - 1; i++) {
        int v = curp_value(first17[i]);
        if (v < 0)
            return 0;
        sum += (unsigned)v * (unsigned)(ICSOE_CURP_LEN - i);
    }
    return (char)('0' + (10 - sum % 10) % 10);
}

/* Positional checks on a normalised CURP, in reading order. */
static icsoe_curp_reason curp_fields(const char *c)
{
    if (!is_upper(c[0]) || !(is_vowel(c[1]) || c[1] == 'X') ||
        !is_upper(c[2]) || !is_upper(c[3]))
        return ICSOE_CURP_BAD_NAME_LETTERS;
    if (!curp_date_ok(c))
        return ICSOE_CURP_BAD_DATE;
    if (c[10] != 'H' && c[10] != 'M' && c[10] != 'X')
        return ICSOE_CURP_BAD_SEX;
    if (!curp_state_ok(c + 11))
        return ICSOE_CURP_BAD_STATE;
    if (!is_consonant(c[13]) || !is_consonant(c[14]) || !is_consonant(c[15]))
        return ICSOE_CURP_BAD_CONSONANTS;
    if (!is_upper(c[16]) && !is_digit(c[16]))
        return ICSOE_CURP_BAD_DIFFERENTIATOR;
    if (c[17] != icsoe_curp_check_digit(c))
        return ICSOE_CURP_BAD_CHECK_DIGIT;
    return ICSOE_CURP_OK;
}

icsoe_curp_reason icsoe_curp_check(const char *in, char out[ICSOE_CURP_LEN + 1])
{
    char norm[ICSOE_CURP_LEN + 1];
    icsoe_curp_reason r;

    if (out != NULL)
        out[0] = '\0';
    if (in == NULL)
        return ICSOE_CURP_EMPTY;
    r = curp_normalise(in, norm);
    if (r == ICSOE_CURP_OK)
        r = curp_fields(norm);
    if (r == ICSOE_CURP_OK && out != NULL)
        memcpy(out, norm, sizeof(norm));
    return r;
}

const char *icsoe_curp_reason_message(icsoe_curp_reason r)
{
    switch (r) {
    case ICSOE_CURP_OK:
        return "La CURP es válida.";
    case ICSOE_CURP_EMPTY:
        return "Escribe la CURP.";
    case ICSOE_CURP_BAD_LENGTH:
        return "La CURP debe tener 18 caracteres.";
    case ICSOE_CURP_BAD_CHARS:
        return "La CURP solo puede contener letras y números.";
    case ICSOE_CURP_BAD_NAME_LETTERS:
        return "Los primeros cuatro caracteres de la CURP deben ser letras "
               "y el segundo una vocal.";
    case ICSOE_CURP_BAD_DATE:
        return "La fecha de nacimiento de la CURP (caracteres 5 a 10) no es "
               "una fecha válida.";
    case ICSOE_CURP_BAD_SEX:
        return "El carácter 11 de la CURP debe ser H, M o X.";
    case ICSOE_CURP_BAD_STATE:
        return "La entidad de nacimiento de la CURP (caracteres 12 y 13) no "
               "es válida.";
    case ICSOE_CURP_BAD_CONSONANTS:
        return "Los caracteres 14 a 16 de la CURP deben ser consonantes.";
    case ICSOE_CURP_BAD_DIFFERENTIATOR:
        return "El carácter 17 de la CURP debe ser una letra o un número.";
    case ICSOE_CURP_BAD_CHECK_DIGIT:
        return "El dígito verificador de la CURP no es correcto.";
    }
    return "La CURP no es válida.";
}

const char *icsoe_curp_reason_name(icsoe_curp_reason r)
{
    switch (r) {
    case ICSOE_CURP_OK:
        return "ok";
    case ICSOE_CURP_EMPTY:
        return "empty";
    case ICSOE_CURP_BAD_LENGTH:
        return "bad-length";
    case ICSOE_CURP_BAD_CHARS:
        return "bad-chars";
    case ICSOE_CURP_BAD_NAME_LETTERS:
        return "bad-name-letters";
    case ICSOE_CURP_BAD_DATE:
        return "bad-date";
    case ICSOE_CURP_BAD_SEX:
        return "bad-sex";
    case ICSOE_CURP_BAD_STATE:
        return "bad-state";
    case ICSOE_CURP_BAD_CONSONANTS:
        return "bad-consonants";
    case ICSOE_CURP_BAD_DIFFERENTIATOR:
        return "bad-differentiator";
    case ICSOE_CURP_BAD_CHECK_DIGIT:
        return "bad-check-digit";
    }
    return "unknown";
}
