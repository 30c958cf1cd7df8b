/* Fuzz target: RFC normalisation and validation (lib/rfc.c).
 * Invariants: a known reason with message and name; out is filled exactly
 * for OK and BAD_CHECK_DIGIT, holding 12 or 13 characters of [A-Z0-9&] or
 * UTF-8 "Ñ", and re-checking the normalised form (also lowercased, with
 * whitespace around it) gives the same reason and the same text. */
#include "fuzz.h"
#include "rfc.h"

/* Characters (Ñ counts as one) when s has the normalised alphabet, else 0. */
static size_t rfc_chars(const char *s)
{
    size_t chars = 0;

    for (size_t i = 0; s[i] != '\0'; i++, chars++) {
        char c = s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '&')
            continue;
        if (c == '\xc3' && s[i + 1] == '\x91') {
            i++;
            continue;
        }
        return 0;
    }
    return chars;
}

static void check_normalised(const char *rfc, icsoe_rfc_reason r)
{
    char again[ICSOE_RFC_BUFSZ];
    char lower[ICSOE_RFC_BUFSZ + 4];
    size_t n = strlen(rfc), chars = rfc_chars(rfc), o = 0;

    FUZZ_CHECK(chars == 12 || chars == 13);
    FUZZ_CHECK(icsoe_rfc_check(rfc, again) == r);
    FUZZ_CHECK(strcmp(again, rfc) == 0);

    lower[o++] = ' ';
    for (size_t i = 0; i < n; i++) {
        char c = rfc[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        else if (c == '\x91' && i > 0 && rfc[i - 1] == '\xc3')
            c = '\xb1'; /* ñ */
        lower[o++] = c;
    }
    lower[o++] = '\t';
    lower[o] = '\0';
    FUZZ_CHECK(icsoe_rfc_check(lower, again) == r);
    FUZZ_CHECK(strcmp(again, rfc) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_cstr(data, size);
    char out[ICSOE_RFC_BUFSZ];
    icsoe_rfc_reason r;
    const char *msg, *name;

    memset(out, 'Z', sizeof(out));
    r = icsoe_rfc_check(in, out);
    FUZZ_CHECK(r >= ICSOE_RFC_OK && r <= ICSOE_RFC_BAD_CHECK_DIGIT);
    msg = icsoe_rfc_reason_message(r);
    name = icsoe_rfc_reason_name(r);
    FUZZ_CHECK(msg != NULL && msg[0] != '\0');
    FUZZ_CHECK(name != NULL && name[0] != '\0');
    FUZZ_CHECK(memchr(out, '\0', sizeof(out)) != NULL);
    if (r == ICSOE_RFC_OK || r == ICSOE_RFC_BAD_CHECK_DIGIT)
        check_normalised(out, r);
    else
        FUZZ_CHECK(out[0] == '\0');
    free(in);
    return 0;
}
