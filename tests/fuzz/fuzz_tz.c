/* Fuzz target: the TZif reader (lib/tz.c), which turns a zone file into
 * the times written in mails.
 * Invariants: a file either loads or is refused with a message; a loaded
 * zone gives, for times across its range, an offset within -25h..+26h,
 * an abbreviation of printable ASCII shorter than ICSOE_TZ_ABBR_MAX, and
 * a broken-down time that is t + offset in UTC. */
#include <time.h>
#include "fuzz.h"
#include "tz.h"

static void check_time(const icsoe_tz *z, time_t t)
{
    struct tm tm, utc;
    char abbr[ICSOE_TZ_ABBR_MAX];
    long off = 0;
    time_t shifted;

    if (icsoe_tz_local(z, t, &tm, &off, abbr, sizeof abbr) != 0)
        return;
    FUZZ_CHECK(off >= -25 * 3600 && off <= 26 * 3600);
    FUZZ_CHECK(strlen(abbr) < ICSOE_TZ_ABBR_MAX);
    for (const char *p = abbr; *p != '\0'; p++)
        FUZZ_CHECK(*p >= 0x20 && *p < 0x7f);
    shifted = t + (time_t)off;
    FUZZ_CHECK(gmtime_r(&shifted, &utc) != NULL);
    FUZZ_CHECK(utc.tm_hour == tm.tm_hour && utc.tm_min == tm.tm_min &&
               utc.tm_mday == tm.tm_mday && utc.tm_year == tm.tm_year);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const time_t times[] = {
        -2147483648LL, -1, 0, 1000000000, 1591012800, 1795631400, 2147483647LL,
        2366841600LL, 4102444800LL,
    };
    char err[256] = "";
    icsoe_tz *z = icsoe_tz_parse(data, size, err, sizeof err);

    if (z == NULL) {
        FUZZ_CHECK(err[0] != '\0');
        return 0;
    }
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++)
        check_time(z, times[i]);
    icsoe_tz_free(z);
    return 0;
}
