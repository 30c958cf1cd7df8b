/* icsoe_email_valid: conservative addr-spec. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "input.h"

static void test_good(void **state)
{
    static const char *good[] = {
        "capturista@example.com",
        "juan.perez@imss.gob.mx",
        "a@b.co",
        "JUAN@EXAMPLE.MX",
        "first.last+tag@sub.example.org",
        "o'brien@example.ie",
        "x_y-z@mail-server.example.com",
        "1234@example.com",
        "!#$%&'*+-/=?^_`{|}~@example.com",
        "user@xn--exmple-cua.com",
        "user@a1.b2.example",
        "user@123.example.com",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (!icsoe_email_valid(good[i]))
            fail_msg("refused good address '%s'", good[i]);
    }
}

static void test_bad(void **state)
{
    static const char *bad[] = {
        "",
        "plainaddress",
        "@example.com",
        "user@",
        "user@localhost",            /* no dot */
        "user@example",
        "user@example.c",            /* TLD too short */
        "user@example.c0m",          /* TLD not alphabetic */
        "user@10.0.0.1",
        "user@[10.0.0.1]",
        "user@@example.com",
        "a@b@example.com",
        ".user@example.com",
        "user.@example.com",
        "us..er@example.com",
        "user@.example.com",
        "user@example..com",
        "user@example.com.",
        "user@-example.com",
        "user@example-.com",
        "user@exa_mple.com",
        "us er@example.com",
        "user@exa mple.com",
        " user@example.com",
        "user@example.com ",
        "\"user\"@example.com",
        "user\r\n@example.com",
        "user@example.com\r\nBcc: x@evil.com",
        "<user@example.com>",
        "User <user@example.com>",
        "a@example.com,b@example.com",
        "us\xc3\xa9r@example.com",     /* non-ASCII */
        "user@ex\xc3\xa1mple.com",
        "user(comment)@example.com",
        "user@example.com\t",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (icsoe_email_valid(bad[i]))
            fail_msg("accepted bad address '%s'", bad[i]);
    }
    assert_false(icsoe_email_valid(NULL));
}

static void test_lengths(void **state)
{
    char addr[400];
    char local[70];
    char label[70];
    (void)state;

    /* local part: 64 ok, 65 refused */
    memset(local, 'a', 65);
    local[64] = '\0';
    snprintf(addr, sizeof(addr), "%s@example.com", local);
    assert_true(icsoe_email_valid(addr));
    local[64] = 'a';
    local[65] = '\0';
    snprintf(addr, sizeof(addr), "%s@example.com", local);
    assert_false(icsoe_email_valid(addr));

    /* label: 63 ok, 64 refused */
    memset(label, 'b', 63);
    label[63] = '\0';
    snprintf(addr, sizeof(addr), "u@%s.com", label);
    assert_true(icsoe_email_valid(addr));
    snprintf(addr, sizeof(addr), "u@b%s.com", label);
    assert_false(icsoe_email_valid(addr));

    /* whole address: 254 ok, 255 refused (labels of 60 characters) */
    memset(label, 'c', 60);
    label[60] = '\0';
    snprintf(addr, sizeof(addr), "u@%s.%s.%s.%s.comxxxxx", label, label, label, label);
    assert_int_equal(strlen(addr), 254);
    assert_true(icsoe_email_valid(addr));
    snprintf(addr, sizeof(addr), "u@%s.%s.%s.%s.comxxxxxx", label, label, label, label);
    assert_int_equal(strlen(addr), 255);
    assert_false(icsoe_email_valid(addr));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
