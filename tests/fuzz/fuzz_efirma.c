/* Fuzz target: the SAT e.firma / CSD certificate parser (lib/efirma.c).
 * Invariants: a known reason with a Spanish message and a name; on failure
 * the result is all zero; on success the RFC (and the representative's RFC
 * and CURP when present) re-validate with lib/rfc.c and lib/curp.c, every
 * string is NUL-terminated inside its buffer, the name is not empty, the
 * validity window is ordered and check_usable answers a known value. */
#include <time.h>
#include "efirma.h"
#include "fuzz.h"

static int all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return 0;
    return 1;
}

static void check_ok(const icsoe_efirma *e)
{
    char again[ICSOE_RFC_BUFSZ];
    char curp[ICSOE_CURP_LEN + 1];
    icsoe_rfc_reason r;
    icsoe_efirma_usable u;

    FUZZ_CHECK(memchr(e->name, '\0', sizeof(e->name)) != NULL && e->name[0] != '\0');
    FUZZ_CHECK(memchr(e->issuer, '\0', sizeof(e->issuer)) != NULL);
    FUZZ_CHECK(memchr(e->serial, '\0', sizeof(e->serial)) != NULL && e->serial[0] != '\0');
    r = icsoe_rfc_check(e->rfc, again);
    FUZZ_CHECK(r == ICSOE_RFC_OK || r == ICSOE_RFC_BAD_CHECK_DIGIT);
    FUZZ_CHECK(strcmp(again, e->rfc) == 0);
    if (e->rep_rfc[0] != '\0') {
        r = icsoe_rfc_check(e->rep_rfc, again);
        FUZZ_CHECK(r == ICSOE_RFC_OK || r == ICSOE_RFC_BAD_CHECK_DIGIT);
    }
    if (e->curp[0] != '\0')
        FUZZ_CHECK(icsoe_curp_check(e->curp, curp) == ICSOE_CURP_OK);
    FUZZ_CHECK(e->not_after > e->not_before);
    FUZZ_CHECK(e->kind == ICSOE_EFIRMA_FIEL || e->kind == ICSOE_EFIRMA_CSD);
    u = icsoe_efirma_check_usable(e, time(NULL));
    FUZZ_CHECK(u >= ICSOE_EFIRMA_USABLE && u <= ICSOE_EFIRMA_NOT_YET_VALID);
    FUZZ_CHECK(icsoe_efirma_usable_message(u)[0] != '\0');
    FUZZ_CHECK((u == ICSOE_EFIRMA_IS_CSD) == (e->kind == ICSOE_EFIRMA_CSD));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    icsoe_efirma e;
    icsoe_efirma_reason r;

    memset(&e, 0x5a, sizeof(e));
    r = icsoe_efirma_parse(data, size, &e);
    FUZZ_CHECK(r >= ICSOE_EFIRMA_OK && r <= ICSOE_EFIRMA_BAD_SERIAL);
    FUZZ_CHECK(icsoe_efirma_reason_message(r)[0] != '\0');
    FUZZ_CHECK(strcmp(icsoe_efirma_reason_name(r), "unknown") != 0);
    if (r == ICSOE_EFIRMA_OK)
        check_ok(&e);
    else
        FUZZ_CHECK(all_zero(&e, sizeof(e)));
    return 0;
}
