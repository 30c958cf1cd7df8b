/* icsoe_csn_sid / icsoe_csn_covers: the failback rule "return to a server
 * only when it holds everything the server being left holds", per serverID
 * of a mirror pair, failing closed on values it cannot read. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "csn.h"

#define T1_S1 "20261125133224.100000Z#000000#001#000000"
#define T2_S1 "20261125133224.200000Z#000000#001#000000"
#define T2_S1_C1 "20261125133224.200000Z#000001#001#000000"
#define T1_S2 "20261125133224.100000Z#000000#002#000000"
#define T3_S2 "20261125133225.000000Z#000000#002#000000"
#define OLD_S0 "20251125133224.100000Z#000000#000#000000"

static void test_sid(void **state)
{
    (void)state;
    assert_int_equal(icsoe_csn_sid(T1_S1), 1);
    assert_int_equal(icsoe_csn_sid(T3_S2), 2);
    assert_int_equal(icsoe_csn_sid(OLD_S0), 0);
    assert_int_equal(icsoe_csn_sid("20261125133224.100000Z#000000#fff#000000"), 4095);
    assert_int_equal(icsoe_csn_sid(NULL), -1);
    assert_int_equal(icsoe_csn_sid(""), -1);
    /* one character short, long, wrong separators, non-digits */
    assert_int_equal(icsoe_csn_sid("20261125133224.100000Z#000000#001#00000"), -1);
    assert_int_equal(icsoe_csn_sid(T1_S1 "0"), -1);
    assert_int_equal(icsoe_csn_sid("20261125133224.100000Z#000000-001#000000"), -1);
    assert_int_equal(icsoe_csn_sid("2026112513322x.100000Z#000000#001#000000"), -1);
    assert_int_equal(icsoe_csn_sid("20261125133224.100000Z#000000#0g1#000000"), -1);
}

static void test_covers_same_sid(void **state)
{
    const char *newer[] = { T2_S1 }, *older[] = { T1_S1 }, *counted[] = { T2_S1_C1 };

    (void)state;
    assert_true(icsoe_csn_covers(newer, 1, older, 1));
    assert_false(icsoe_csn_covers(older, 1, newer, 1));
    assert_true(icsoe_csn_covers(newer, 1, newer, 1));      /* equal is caught up */
    assert_true(icsoe_csn_covers(counted, 1, newer, 1));    /* same time, later count */
    assert_false(icsoe_csn_covers(newer, 1, counted, 1));
}

static void test_covers_per_server_id(void **state)
{
    /* ldap1 restarted: its own writes are newest, but ldap2 wrote during
     * the outage (serverID 2) and ldap1 has not received that yet */
    const char *ldap1[] = { T2_S1, T1_S2 }, *ldap2[] = { T1_S1, T3_S2 };
    const char *caught_up[] = { T3_S2, T2_S1 };
    const char *no_s2[] = { T2_S1 };

    (void)state;
    assert_false(icsoe_csn_covers(ldap1, 2, ldap2, 2));
    assert_true(icsoe_csn_covers(caught_up, 2, ldap2, 2));   /* order of values is free */
    /* a serverID the reference has and the candidate lacks: not caught up */
    assert_false(icsoe_csn_covers(no_s2, 1, ldap2, 2));
    /* a serverID only the candidate has does not matter */
    assert_true(icsoe_csn_covers(ldap2, 2, no_s2, 0));
}

static void test_covers_empty_and_malformed(void **state)
{
    const char *one[] = { T1_S1 }, *bad[] = { "garbage" }, *mixed[] = { "garbage", T2_S1 };

    (void)state;
    /* single servers without syncprov have no contextCSN: nothing to wait for */
    assert_true(icsoe_csn_covers(NULL, 0, NULL, 0));
    assert_true(icsoe_csn_covers(one, 1, NULL, 0));
    assert_false(icsoe_csn_covers(NULL, 0, one, 1));
    /* unreadable reference value: fail closed */
    assert_false(icsoe_csn_covers(one, 1, bad, 1));
    /* unreadable candidate value: ignored, the readable one decides */
    assert_true(icsoe_csn_covers(mixed, 2, one, 1));
    assert_false(icsoe_csn_covers(bad, 1, one, 1));
}

static void test_time_and_lag(void **state)
{
    const char *ldap1[] = { T2_S1, T1_S2 }, *ldap2[] = { T1_S1, T3_S2 };
    const char *all[] = { T2_S1, T1_S2, T1_S1, T3_S2 };
    const char *no_s2[] = { T2_S1 };
    int sid = -1;

    (void)state;
    /* 2026-11-25 13:32:24.1 UTC */
    assert_true(icsoe_csn_usec(T1_S1) == 1795613544100000LL);
    assert_true(icsoe_csn_usec("garbage") == -1);
    assert_true(icsoe_csn_usec("20261325133224.100000Z#000000#001#000000") == -1);
    /* ldap1 is 0.9 s behind on serverID 2; ldap2 0.1 s behind on 1 */
    assert_true(icsoe_csn_lag_usec(ldap1, 2, all, 4, &sid) == 900000);
    assert_int_equal(sid, 2);
    assert_true(icsoe_csn_lag_usec(ldap2, 2, all, 4, &sid) == 100000);
    assert_int_equal(sid, 1);
    assert_true(icsoe_csn_lag_usec(all, 4, all, 4, NULL) == 0);
    /* a serverID it never heard of */
    assert_true(icsoe_csn_lag_usec(no_s2, 1, all, 4, &sid) == -1);
    assert_int_equal(sid, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sid),
        cmocka_unit_test(test_covers_same_sid),
        cmocka_unit_test(test_covers_per_server_id),
        cmocka_unit_test(test_covers_empty_and_malformed),
        cmocka_unit_test(test_time_and_lag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
