/* CURP normalisation and validation (RENAPO format, check digit).
 *
 * The checker first turns the input into 18 ASCII bytes (trim, uppercase,
 * UTF-8 Ñ -> 'X') and only then looks at positions, so every later step can
 * index a fixed array.  It never reads more than ICSOE_CURP_MAX_INPUT + 1
 * bytes of the input, whatever its length. */
#include <stdint.h>
#include <string.h>
#include "curp.h"

/* Longer raw input (before trimming) is refused without being scanned. */
#define ICSOE_CURP_MAX_INPUT 64

/* The 32 state codes plus NE (born abroad), as a bit per second letter
 * for each first letter (one lookup instead of a walk over 33 codes):
 * AS BC BS CC CL CM CS CH DF DG GT GR HG JC MC MN MS NT NL OC PL QT QR SP
 * SL SR TC TS TL VZ YN ZS NE. */
#define L(c) (1u << ((c) - 'A'))
static const uint32_t curp_states[26] = {
    ['A' - 'A'] = L('S'),
    ['B' - 'A'] = L('C') | L('S'),
    ['C' - 'A'] = L('C') | L('L') | L('M') | L('S') | L('H'),
    ['D' - 'A'] = L('F') | L('G'),
    ['G' - 'A'] = L('T') | L('R'),
    ['H' - 'A'] = L('G'),
    ['J' - 'A'] = L('C'),
    ['M' - 'A'] = L('C') | L('N') | L('S'),
    ['N' - 'A'] = L('T') | L('L') | L('E'),
    ['O' - 'A'] = L('C'),
    ['P' - 'A'] = L('L'),
    ['Q' - 'A'] = L('T') | L('R'),
    ['S' - 'A'] = L('P') | L('L') | L('R'),
    ['T' - 'A'] = L('C') | L('S') | L('L'),
    ['V' - 'A'] = L('Z'),
    ['Y' - 'A'] = L('N'),
    ['Z' - 'A'] = L('S'),
};
#undef L

/* Each byte a normalised CURP may hold, as itself, and lower-case letters
 * as their capitals; 0 for every other byte (one lookup a character). */
#define UP(c) [c] = (c), [(c) - 'A' + 'a'] = (c)
#define DG(c) [c] = (c)
static const unsigned char curp_norm[256] = {
    UP('A'), UP('B'), UP('C'), UP('D'), UP('E'), UP('F'), UP('G'), UP('H'),
    UP('I'), UP('J'), UP('K'), UP('L'), UP('M'), UP('N'), UP('O'), UP('P'),
    UP('Q'), UP('R'), UP('S'), UP('T'), UP('U'), UP('V'), UP('W'), UP('X'),
    UP('Y'), UP('Z'),
    DG('0'), DG('1'), DG('2'), DG('3'), DG('4'), DG('5'), DG('6'), DG('7'),
    DG('8'), DG('9'),
};
#undef UP
#undef DG

/* Value + 1 of each character of the check-digit alphabet
 * "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ"; 0 outside it (NUL included). */
#define V(c, v) [c] = (v) + 1
static const unsigned char curp_value[256] = {
    V('0', 0), V('1', 1), V('2', 2), V('3', 3), V('4', 4), V('5', 5),
    V('6', 6), V('7', 7), V('8', 8), V('9', 9),
    V('A', 10), V('B', 11), V('C', 12), V('D', 13), V('E', 14), V('F', 15),
    V('G', 16), V('H', 17), V('I', 18), V('J', 19), V('K', 20), V('L', 21),
    V('M', 22), V('N', 23), V('&', 24), V('O', 25), V('P', 26), V('Q', 27),
    V('R', 28), V('S', 29), V('T', 30), V('U', 31), V('V', 32), V('W', 33),
    V('X', 34), V('Y', 35), V('Z', 36),
};
#undef V

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
        char out = (char)curp_norm[c];

        if (out == 0) {
            if (c != 0xC3 || i + 1 >= len || (s[i + 1] != 0x91 && s[i + 1] != 0xB1))
                return ICSOE_CURP_BAD_CHARS;
            out = 'X'; /* RENAPO writes Ñ as X */
            i++;
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
    return is_upper(c[0]) && is_upper(c[1]) &&
           (curp_states[c[0] - 'A'] >> (c[1] - 'A') & 1u) != 0;
}

char icsoe_curp_check_digit(const char *first17)
{
    unsigned sum = 0;

    if (first17 == NULL)
        return 0;
    /* Stops at the first byte outside the alphabet (including NUL), so a
     * short string is never read past its end. */
    for (int i = 0; i < ICSOE_CURP_LEN - 1; i++) {
        unsigned v = curp_value[(unsigned char)first17[i]];
        if (v == 0)
            return 0;
        sum += (v - 1) * (unsigned)(ICSOE_CURP_LEN - i);
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

int icsoe_curp_shape_ok(const char *s)
{
    if (s == NULL)
        return 0;
    for (int i = 0; i < ICSOE_CURP_LEN; i++) {
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
            return 0;
    }
    return s[ICSOE_CURP_LEN] == '\0';
}
