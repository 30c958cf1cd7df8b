/* Fuzz target: CURP normalisation and validation (lib/curp.c).
 * Invariants: the result is a known reason with a message and a name; an
 * accepted CURP normalises to 18 characters of [A-Z0-9] ending in its own
 * check digit, and the normalised form (also lowercased and padded with
 * whitespace) re-validates to itself; a refused one leaves out empty. */
#include <ctype.h>
#include "fuzz.h"
#include "curp.h"

static void check_normalised(const char *curp)
{
    char again[ICSOE_CURP_LEN + 1];
    char lower[ICSOE_CURP_LEN + 8];
    size_t i;

    FUZZ_CHECK(strlen(curp) == ICSOE_CURP_LEN);
    for (i = 0; i < ICSOE_CURP_LEN; i++)
        FUZZ_CHECK((curp[i] >= 'A' && curp[i] <= 'Z') || (curp[i] >= '0' && curp[i] <= '9'));
    FUZZ_CHECK(icsoe_curp_check_digit(curp) == curp[17]);

    FUZZ_CHECK(icsoe_curp_check(curp, again) == ICSOE_CURP_OK);
    FUZZ_CHECK(strcmp(again, curp) == 0);

    /* Case and surrounding whitespace are normalised away. */
    lower[0] = ' ';
    lower[1] = '\t';
    for (i = 0; i < ICSOE_CURP_LEN; i++)
        lower[2 + i] = (char)tolower((unsigned char)curp[i]);
    lower[2 + ICSOE_CURP_LEN] = '\n';
    lower[3 + ICSOE_CURP_LEN] = '\0';
    FUZZ_CHECK(icsoe_curp_check(lower, again) == ICSOE_CURP_OK);
    FUZZ_CHECK(strcmp(again, curp) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_cstr(data, size);
    char out[ICSOE_CURP_LEN + 1];
    icsoe_curp_reason r;
    const char *msg, *name;

    memset(out, 'Z', sizeof(out));
    r = icsoe_curp_check(in, out);
    FUZZ_CHECK(r >= ICSOE_CURP_OK && r <= ICSOE_CURP_BAD_CHECK_DIGIT);
    msg = icsoe_curp_reason_message(r);
    name = icsoe_curp_reason_name(r);
    FUZZ_CHECK(msg != NULL && msg[0] != '\0');
    FUZZ_CHECK(name != NULL && name[0] != '\0');
    if (r == ICSOE_CURP_OK)
        check_normalised(out);
    else
        FUZZ_CHECK(out[0] == '\0');
    if (strlen(in) >= 17) /* any 17 bytes: a digit or 0, never a crash */
        FUZZ_CHECK(icsoe_curp_check_digit(in) == 0 ||
                   (icsoe_curp_check_digit(in) >= '0' && icsoe_curp_check_digit(in) <= '9'));
    free(in);
    return 0;
}
