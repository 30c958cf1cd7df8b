/* Header names and values: the identity-header scrub ("X-ICSOE-*" in any
 * case, '_' for '-', because CGI and some proxies fold them together) and
 * the encoding of LDAP text into header values and env vars. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "input.h"

static unsigned char ascii_fold(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return (unsigned char)(c - 'A' + 'a');
    if (c == '_')
        return '-';
    return c;
}

int icsoe_header_has_prefix(const char *name, const char *prefix)
{
    size_t i;

    /* An empty prefix would make every header "ours" and scrub the whole
     * request: treat it as matching nothing. */
    if (name == NULL || prefix == NULL || prefix[0] == '\0')
        return 0;
    for (i = 0; prefix[i] != '\0'; i++) {
        if (name[i] == '\0')
            return 0;
        if (ascii_fold((unsigned char)name[i]) != ascii_fold((unsigned char)prefix[i]))
            return 0;
    }
    return 1;
}

static int needs_encoding(unsigned char c)
{
    return c == '%' || c < 0x20 || c >= 0x7f;
}

/* Nonzero when one of the 8 bytes in w needs encoding: a byte below 0x20
 * (x - 0x20 borrows into bit 7 only where x < 0x20 and bit 7 was clear),
 * a byte of 0x7f or more (x + 1 sets bit 7, or bit 7 was set), or '%'
 * (a zero byte of w ^ '%%%%%%%%').  Each test is exact about whether some
 * byte qualifies, which is all the caller asks. */
static uint64_t word_needs_encoding(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL;
    const uint64_t high = 0x8080808080808080ULL;
    uint64_t pct = w ^ (ones * '%');
    uint64_t below = (w - ones * 0x20) & ~w;
    uint64_t above = (w + ones) | w;
    uint64_t percent = (pct - ones) & ~pct;

    return (below | above | percent) & high;
}

/* Called on every protected request for each identity value: whole words
 * at a time, and the byte rule only inside a word that has such a byte. */
size_t icsoe_header_value_encoded_len(const char *s, size_t len)
{
    size_t n = len;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        uint64_t w;

        memcpy(&w, s + i, sizeof(w));
        if (!word_needs_encoding(w))
            continue;
        for (size_t j = i; j < i + 8; j++)
            if (needs_encoding((unsigned char)s[j]))
                n += 2;
    }
    for (; i < len; i++)
        if (needs_encoding((unsigned char)s[i]))
            n += 2;
    return n;
}

void icsoe_header_value_encode_to(const char *s, size_t len, char *out)
{
    static const char hex[] = "0123456789ABCDEF";

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (needs_encoding(c)) {
            *out++ = '%';
            *out++ = hex[c >> 4];
            *out++ = hex[c & 0x0f];
        } else {
            *out++ = (char)c;
        }
    }
    *out = '\0';
}

char *icsoe_header_value_encode(const char *s)
{
    size_t len;
    char *out;

    if (s == NULL)
        return NULL;
    len = strlen(s);
    out = malloc(icsoe_header_value_encoded_len(s, len) + 1);
    if (out != NULL)
        icsoe_header_value_encode_to(s, len, out);
    return out;
}

/* Length of the UTF-8 sequence at p (at most n bytes available), or 0 when
 * it is malformed: truncated, overlong, a surrogate or above U+10FFFF
 * (RFC 3629 table of well-formed byte sequences). */
static size_t utf8_sequence_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    unsigned char lo = 0x80;
    unsigned char hi = 0xbf;
    size_t len;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates U+D800..U+DFFF */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    } else {
        return 0; /* continuation byte, C0/C1 overlongs, F5..FF */
    }
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    }
    return len;
}

int icsoe_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    if (s == NULL)
        return len == 0;
    while (i < len) {
        size_t step = utf8_sequence_len(p + i, len - i);
        if (step == 0)
            return 0;
        i += step;
    }
    return 1;
}

/* One pass instead of two (a login checks the capturist's name three
 * times): ASCII bytes are tested for CR, LF and NUL here, other bytes must
 * start a well-formed UTF-8 sequence, whose continuation bytes (0x80-0xBF)
 * can never be CR, LF or NUL. */
int icsoe_text_is_safe(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    if (s == NULL)
        return len == 0;
    while (i < len) {
        size_t step;

        if (p[i] < 0x80) {
            if (p[i] == '\r' || p[i] == '\n' || p[i] == '\0')
                return 0;
            i++;
            continue;
        }
        step = utf8_sequence_len(p + i, len - i);
        if (step == 0)
            return 0;
        i += step;
    }
    return 1;
}
