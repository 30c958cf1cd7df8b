/* lib/tz.c: local times of the configured zone for the mails (issue 17,
 * item 6), read from the system's TZif files without touching TZ, and the
 * file parser refusing what is not a zone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "tz.h"

#define T_2026_11_25_1830Z ((time_t)1795631400)
#define T_2020_06_01_1200Z ((time_t)1591012800)
#define T_2045_01_01_0000Z ((time_t)2366841600)
#define T_2026_07_01_1200Z ((time_t)1782907200)

static void check(const icsoe_tz *z, time_t t, int hour, int min, long off, const char *abbr)
{
    struct tm tm;
    long utoff = 1;
    char a[ICSOE_TZ_ABBR_MAX] = "";

    assert_int_equal(icsoe_tz_local(z, t, &tm, &utoff, a, sizeof a), 0);
    assert_int_equal(tm.tm_hour, hour);
    assert_int_equal(tm.tm_min, min);
    assert_int_equal(utoff, off);
    assert_string_equal(a, abbr);
}

static void test_mexico_city(void **state)
{
    char err[256] = "";
    icsoe_tz *z = icsoe_tz_load("America/Mexico_City", err, sizeof err);
    (void)state;

    if (z == NULL)
        fail_msg("%s", err);
    assert_string_equal(icsoe_tz_name(z), "America/Mexico_City");
    /* today: no daylight saving time since 2022, UTC-6 */
    check(z, T_2026_11_25_1830Z, 12, 30, -6 * 3600, "CST");
    /* June 2020 still had it: from the transition table */
    check(z, T_2020_06_01_1200Z, 7, 0, -5 * 3600, "CDT");
    /* after the last transition: the footer "CST6" */
    check(z, T_2045_01_01_0000Z, 18, 0, -6 * 3600, "CST");
    icsoe_tz_free(z);
}

static void test_daylight_zone_and_utc(void **state)
{
    char err[256] = "";
    icsoe_tz *ny = icsoe_tz_load("America/New_York", err, sizeof err);
    icsoe_tz *utc = icsoe_tz_utc();
    (void)state;

    if (ny == NULL)
        fail_msg("%s", err);
    check(ny, T_2026_07_01_1200Z, 8, 0, -4 * 3600, "EDT");
    check(ny, T_2026_11_25_1830Z, 13, 30, -5 * 3600, "EST");
    check(utc, T_2026_11_25_1830Z, 18, 30, 0, "UTC");
    icsoe_tz_free(ny);
    icsoe_tz_free(utc);
}

/* The text mails and the contractor page show. */
static void test_format_for_people(void **state)
{
    char err[256] = "", out[ICSOE_TZ_TEXT_MAX];
    icsoe_tz *z = icsoe_tz_load("America/Mexico_City", err, sizeof err);
    (void)state;

    if (z == NULL)
        fail_msg("%s", err);
    icsoe_tz_format(z, T_2026_11_25_1830Z, out, sizeof out);
    assert_string_equal(out, "25/11/2026 12:30 CST");
    icsoe_tz_format(NULL, T_2026_11_25_1830Z, out, sizeof out);
    assert_string_equal(out, "25/11/2026 18:30 UTC");
    icsoe_tz_format(z, T_2026_11_25_1830Z, out, 6); /* cut, still terminated */
    assert_string_equal(out, "25/11");
    icsoe_tz_free(z);
}

/* Names are relative paths of plain components under the zoneinfo
 * directory: nothing else can be opened through them. */
static void test_bad_names_refused(void **state)
{
    static const char *const bad[] = {
        "", "/etc/passwd", "../../etc/passwd", "America/../../etc/passwd",
        "America//Mexico_City", "America/", ".hidden", "Mars/Olympus_Mons",
        "America/Mexico City", "America/Mexico_City\n",
    };
    (void)state;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        icsoe_tz *z = icsoe_tz_load(bad[i], err, sizeof err);
        assert_null(z);
        assert_true(err[0] != '\0');
    }
    assert_null(icsoe_tz_load(NULL, NULL, 0));
}

/* Not a TZif file, cut short, or with indexes out of their tables. */
static void test_bad_files_refused(void **state)
{
    unsigned char img[64];
    char err[128];
    (void)state;

    memset(img, 0, sizeof img);
    assert_null(icsoe_tz_parse((const unsigned char *)"hello", 5, err, sizeof err));
    memcpy(img, "TZif2", 5);
    /* typecnt 0 */
    assert_null(icsoe_tz_parse(img, sizeof img, err, sizeof err));
    /* one transition, one type, counts larger than the data */
    img[35] = 1;  /* timecnt */
    img[39] = 1;  /* typecnt */
    img[43] = 200; /* charcnt */
    assert_null(icsoe_tz_parse(img, sizeof img, err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mexico_city),
        cmocka_unit_test(test_daylight_zone_and_utc),
        cmocka_unit_test(test_format_for_people),
        cmocka_unit_test(test_bad_names_refused),
        cmocka_unit_test(test_bad_files_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
