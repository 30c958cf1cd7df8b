/* Fuzz target: header prefix matching, header value encoding, UTF-8 and
 * "safe text" checks (lib/header.c).  The input is split at NUL bytes into
 * a header name and a prefix; the whole input is also used as a value.
 * Invariants:
 *  - icsoe_header_has_prefix agrees with a straightforward reference
 *    (ASCII case folding, '-' == '_'), also for the default prefix;
 *  - an encoded value is pure printable ASCII (0x20..0x7e), every '%'
 *    starts an uppercase %XX escape, and decoding it gives back the input;
 *  - icsoe_utf8_valid agrees with a reference RFC 3629 decoder, and
 *    icsoe_text_is_safe == valid UTF-8 without CR, LF or NUL. */
#include "fuzz.h"
#include "input.h"

static unsigned char fold(unsigned char c)
{
    if (c >= 'a' && c <= 'z')
        return (unsigned char)(c - 'a' + 'A');
    if (c == '_')
        return '-';
    return c;
}

static int ref_has_prefix(const char *name, const char *prefix)
{
    size_t n = strlen(prefix);

    if (n == 0 || strlen(name) < n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (fold((unsigned char)name[i]) != fold((unsigned char)prefix[i]))
            return 0;
    }
    return 1;
}

/* Reference RFC 3629 check: shortest form, no surrogates, <= U+10FFFF. */
static int ref_utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        unsigned long cp;
        size_t more;

        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            more = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            more = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            more = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i - 1 < more)
            return 0;
        for (size_t k = 1; k <= more; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += more + 1;
    }
    return 1;
}

static void check_encode(const char *value)
{
    char *enc = icsoe_header_value_encode(value);
    size_t n, o = 0;
    char *dec;

    FUZZ_CHECK(enc != NULL);
    n = strlen(enc);
    dec = malloc(n + 1);
    FUZZ_CHECK(dec != NULL);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)enc[i];
        FUZZ_CHECK(c >= 0x20 && c <= 0x7e);
        if (c == '%') {
            int hi = icsoe_hex_value((unsigned char)enc[i + 1]);
            int lo = hi >= 0 ? icsoe_hex_value((unsigned char)enc[i + 2]) : -1;
            FUZZ_CHECK(hi >= 0 && lo >= 0);
            dec[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            dec[o++] = (char)c;
        }
    }
    dec[o] = '\0';
    FUZZ_CHECK(strcmp(dec, value) == 0);
    free(dec);
    free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *part[2];
    char *whole = fuzz_cstr(data, size);
    int valid, safe, has_crlfnul;

    fuzz_split(data, size, part, 2);
    FUZZ_CHECK(icsoe_header_has_prefix(part[0], part[1]) == ref_has_prefix(part[0], part[1]));
    FUZZ_CHECK(icsoe_header_has_prefix(part[0], "X-ICSOE-") ==
               ref_has_prefix(part[0], "X-ICSOE-"));
    FUZZ_CHECK(icsoe_header_has_prefix(part[0], NULL) == 0);
    FUZZ_CHECK(icsoe_header_has_prefix(part[0], "") == 0);

    check_encode(whole);
    FUZZ_CHECK(icsoe_header_value_encode(NULL) == NULL);

    valid = icsoe_utf8_valid((const char *)data, size);
    FUZZ_CHECK(valid == ref_utf8_valid(data, size));
    safe = icsoe_text_is_safe((const char *)data, size);
    has_crlfnul = memchr(data, '\r', size) != NULL || memchr(data, '\n', size) != NULL ||
                  memchr(data, '\0', size) != NULL;
    FUZZ_CHECK(safe == (valid && !has_crlfnul));

    fuzz_split_free(part, 2);
    free(whole);
    return 0;
}
