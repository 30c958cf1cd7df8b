/* contextCSN comparison for the failback rule of lib/dir_route.c: a client
 * returns to a server only when it holds every change the server being left
 * holds.  CSNs of one serverID have a fixed width, so they order as
 * strings; values of different serverIDs are never compared (two clocks). */
#include <string.h>
#include <time.h>

#include "csn.h"
#include "input.h"

/* "YYYYmmddHHMMSS.uuuuuuZ#cccccc#sss#mmmmmm" */
#define CSN_TIME_LEN 22
#define CSN_LEN (CSN_TIME_LEN + 1 + 6 + 1 + 3 + 1 + 6)

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int all_hex(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (icsoe_hex_value((unsigned char)s[i]) < 0)
            return 0;
    }
    return 1;
}

int icsoe_csn_sid(const char *csn)
{
    size_t i;

    if (csn == NULL || strnlen(csn, CSN_LEN + 1) != CSN_LEN)
        return -1;
    for (i = 0; i < 14; i++) {
        if (!is_digit(csn[i]))
            return -1;
    }
    if (csn[14] != '.' || csn[21] != 'Z' || csn[22] != '#' || csn[29] != '#' ||
        csn[33] != '#')
        return -1;
    for (i = 15; i < 21; i++) {
        if (!is_digit(csn[i]))
            return -1;
    }
    if (!all_hex(csn + 23, 6) || !all_hex(csn + 30, 3) || !all_hex(csn + 34, 6))
        return -1;
    return icsoe_hex_value((unsigned char)csn[30]) * 256 +
           icsoe_hex_value((unsigned char)csn[31]) * 16 +
           icsoe_hex_value((unsigned char)csn[32]);
}

/* a's newest value for sid, or NULL. */
static const char *newest_for(const char *const *a, size_t na, int sid)
{
    const char *best = NULL;
    size_t i;

    for (i = 0; i < na; i++) {
        if (icsoe_csn_sid(a[i]) != sid)
            continue;
        /* Case of the hex digits is the same for every value slapd writes,
         * so plain ordering is enough. */
        if (best == NULL || strcmp(a[i], best) > 0)
            best = a[i];
    }
    return best;
}

int icsoe_csn_covers(const char *const *a, size_t na, const char *const *b, size_t nb)
{
    size_t i;

    for (i = 0; i < nb; i++) {
        int sid = icsoe_csn_sid(b[i]);
        const char *mine;

        if (sid < 0)
            return 0;
        mine = newest_for(a, na, sid);
        if (mine == NULL || strcmp(mine, b[i]) < 0)
            return 0;
    }
    return 1;
}

static int digits(const char *s, size_t n)
{
    int v = 0;
    size_t i;

    for (i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

long long icsoe_csn_usec(const char *csn)
{
    struct tm tm;
    time_t t;

    if (icsoe_csn_sid(csn) < 0)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = digits(csn, 4) - 1900;
    tm.tm_mon = digits(csn + 4, 2) - 1;
    tm.tm_mday = digits(csn + 6, 2);
    tm.tm_hour = digits(csn + 8, 2);
    tm.tm_min = digits(csn + 10, 2);
    tm.tm_sec = digits(csn + 12, 2);
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    return (long long)t * 1000000 + digits(csn + 15, 6);
}

long long icsoe_csn_lag_usec(const char *const *a, size_t na, const char *const *all,
                             size_t nall, int *sid)
{
    long long worst = 0;
    size_t i;

    for (i = 0; i < nall; i++) {
        int s = icsoe_csn_sid(all[i]);
        const char *newest, *mine;
        long long lag;

        if (s < 0)
            continue;
        newest = newest_for(all, nall, s);
        mine = newest_for(a, na, s);
        if (mine == NULL) {
            if (sid != NULL)
                *sid = s;
            return -1;
        }
        lag = icsoe_csn_usec(newest) - icsoe_csn_usec(mine);
        if (lag > worst) {
            worst = lag;
            if (sid != NULL)
                *sid = s;
        }
    }
    return worst;
}
