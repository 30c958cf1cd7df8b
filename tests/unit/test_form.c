/* icsoe_form_parse: strict application/x-www-form-urlencoded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "input.h"

static int parse(const char *body, icsoe_form *f)
{
    return icsoe_form_parse(body, strlen(body), 4096, f);
}

static void assert_refused(const char *body)
{
    icsoe_form f;

    assert_int_equal(parse(body, &f), -1);
    assert_int_equal(f.n, 0); /* nothing half-parsed left behind */
    icsoe_form_free(&f);
}

static void test_basic_fields(void **state)
{
    icsoe_form f;
    (void)state;

    assert_int_equal(parse("curp=GODE561231HDFRRN09&password=secreto&csrf=abc", &f), 0);
    assert_int_equal(f.n, 3);
    assert_string_equal(icsoe_form_get(&f, "curp"), "GODE561231HDFRRN09");
    assert_string_equal(icsoe_form_get(&f, "password"), "secreto");
    assert_string_equal(icsoe_form_get(&f, "csrf"), "abc");
    assert_null(icsoe_form_get(&f, "missing"));
    assert_null(icsoe_form_get(&f, "CURP")); /* names are case-sensitive */
    icsoe_form_free(&f);
    assert_int_equal(f.n, 0);
    assert_null(icsoe_form_get(&f, "curp"));
}

static void test_plus_and_escapes(void **state)
{
    icsoe_form f;
    (void)state;

    assert_int_equal(parse("a=hola+mundo&b=%41%62%2b%2B%25&c=Pe%C3%B1a&d=%3D%26", &f), 0);
    assert_string_equal(icsoe_form_get(&f, "a"), "hola mundo");
    assert_string_equal(icsoe_form_get(&f, "b"), "Ab++%");
    assert_string_equal(icsoe_form_get(&f, "c"), "Pe\xc3\xb1" "a");
    assert_string_equal(icsoe_form_get(&f, "d"), "=&");
    icsoe_form_free(&f);

    /* escaped names, empty value, literal '=' inside a value */
    assert_int_equal(parse("n%61me=&x=a=b", &f), 0);
    assert_string_equal(icsoe_form_get(&f, "name"), "");
    assert_string_equal(icsoe_form_get(&f, "x"), "a=b");
    icsoe_form_free(&f);

    /* a '+' or an escape first or last in a value, between plain runs */
    assert_int_equal(parse("p=+x%41&q=%41x+&r=++&s=ab%2Bcd+ef", &f), 0);
    assert_string_equal(icsoe_form_get(&f, "p"), " xA");
    assert_string_equal(icsoe_form_get(&f, "q"), "Ax ");
    assert_string_equal(icsoe_form_get(&f, "r"), "  ");
    assert_string_equal(icsoe_form_get(&f, "s"), "ab+cd ef");
    icsoe_form_free(&f);
}

static void test_empty_body(void **state)
{
    icsoe_form f;
    (void)state;

    assert_int_equal(icsoe_form_parse("", 0, 100, &f), 0);
    assert_int_equal(f.n, 0);
    icsoe_form_free(&f);
    assert_int_equal(icsoe_form_parse(NULL, 0, 100, &f), 0);
    assert_int_equal(f.n, 0);
    icsoe_form_free(&f);
}

static void test_bad_escapes(void **state)
{
    (void)state;
    assert_refused("a=%");
    assert_refused("a=%4");
    assert_refused("a=%G1");
    assert_refused("a=%1G");
    assert_refused("a=%%41");
    assert_refused("a=1&b=x%");
    assert_refused("%zz=1");
    assert_refused("a=%-1");
}

static void test_nul(void **state)
{
    icsoe_form f;
    (void)state;

    assert_refused("a=x%00y");
    assert_refused("a%00b=1");
    assert_int_equal(icsoe_form_parse("a=x\0y", 5, 100, &f), -1);
    assert_int_equal(f.n, 0);
}

static void test_malformed_pairs(void **state)
{
    (void)state;
    assert_refused("a");          /* no '=' */
    assert_refused("=1");         /* empty name */
    assert_refused("a=1&&b=2");   /* empty pair */
    assert_refused("a=1&");       /* trailing '&' */
    assert_refused("&a=1");
}

static void test_duplicates(void **state)
{
    (void)state;
    assert_refused("a=1&a=2");
    assert_refused("a=1&b=2&a=1");
    assert_refused("a=1&%61=2"); /* duplicate after decoding */
}

static void test_field_limit(void **state)
{
    char body[1024];
    size_t o = 0;
    icsoe_form f;
    (void)state;

    for (int i = 0; i < ICSOE_FORM_MAX_FIELDS; i++)
        o += (size_t)snprintf(body + o, sizeof(body) - o, "%sf%d=%d", i ? "&" : "", i, i);
    assert_int_equal(parse(body, &f), 0);
    assert_int_equal(f.n, ICSOE_FORM_MAX_FIELDS);
    assert_string_equal(icsoe_form_get(&f, "f31"), "31");
    icsoe_form_free(&f);

    snprintf(body + o, sizeof(body) - o, "&extra=1");
    assert_refused(body);
}

static void test_maxlen(void **state)
{
    icsoe_form f;
    const char *body = "password=0123456789";
    (void)state;

    assert_int_equal(icsoe_form_parse(body, strlen(body), strlen(body), &f), 0);
    assert_string_equal(icsoe_form_get(&f, "password"), "0123456789");
    icsoe_form_free(&f);
    assert_int_equal(icsoe_form_parse(body, strlen(body), strlen(body) - 1, &f), -1);
    assert_int_equal(f.n, 0);
}

static void test_not_nul_terminated(void **state)
{
    icsoe_form f;
    const char body[] = { 'a', '=', '1', '&', 'b', '=', '2', 'X' };
    (void)state;

    /* only len bytes are read: the trailing X is not part of the body */
    assert_int_equal(icsoe_form_parse(body, 7, 100, &f), 0);
    assert_string_equal(icsoe_form_get(&f, "b"), "2");
    icsoe_form_free(&f);
}

/* Names and values share one block of len + 1 bytes: bodies whose decoded
 * form fills it exactly (no escapes: "n=v&" is as long as "n\0v\0"), with
 * the most and the fewest fields, all read back (ASan and valgrind runs of
 * this test catch a write past the block). */
static void test_exact_fit(void **state)
{
    char body[5 * ICSOE_FORM_MAX_FIELDS];
    char name[3];
    icsoe_form f;
    size_t len = 0;
    (void)state;

    for (int i = 0; i < ICSOE_FORM_MAX_FIELDS; i++) {
        if (i > 0)
            body[len++] = '&';
        body[len++] = (char)('A' + i % 26);
        body[len++] = (char)('a' + i / 26);
        body[len++] = '=';
        body[len++] = (char)('0' + i % 10);
    }
    assert_int_equal(icsoe_form_parse(body, len, sizeof(body), &f), 0);
    assert_int_equal(f.n, ICSOE_FORM_MAX_FIELDS);
    for (int i = 0; i < ICSOE_FORM_MAX_FIELDS; i++) {
        char want[2] = { (char)('0' + i % 10), '\0' };

        name[0] = (char)('A' + i % 26);
        name[1] = (char)('a' + i / 26);
        name[2] = '\0';
        assert_string_equal(icsoe_form_get(&f, name), want);
    }
    icsoe_form_free(&f);
    assert_int_equal(f.n, 0);
    assert_null(f.buf);

    assert_int_equal(icsoe_form_parse("a=", 2, 2, &f), 0);
    assert_string_equal(icsoe_form_get(&f, "a"), "");
    icsoe_form_free(&f);
    /* a refused body leaves no block behind */
    assert_int_equal(icsoe_form_parse("a=1&a=2", 7, 7, &f), -1);
    assert_null(f.buf);
    assert_int_equal(f.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_fields),
        cmocka_unit_test(test_plus_and_escapes),
        cmocka_unit_test(test_empty_body),
        cmocka_unit_test(test_bad_escapes),
        cmocka_unit_test(test_nul),
        cmocka_unit_test(test_malformed_pairs),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_field_limit),
        cmocka_unit_test(test_maxlen),
        cmocka_unit_test(test_not_nul_terminated),
        cmocka_unit_test(test_exact_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
