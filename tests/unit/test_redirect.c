/* icsoe_return_path_ok: the open-redirect defence. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "input.h"

static void test_good_paths(void **state)
{
    static const char *good[] = {
        "/",
        "/informativa/x?y=1#z",
        "/informativa",
        "/icsoe/inicio",
        "/a/../b",              /* same site, whatever it resolves to */
        "/..",
        "/x?r=%2F%2Fevil",      /* "//" inside the query is harmless */
        "/buscar?q=Pe%C3%B1a",
        "/a%20b",               /* an encoded space is a normal path */
        "/x?q=100%25off",       /* %25 -> "%of" is not re-parsed strictly */
        "/x:y",
        "/http://evil",         /* a path that happens to hold a URL */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (!icsoe_return_path_ok(good[i]))
            fail_msg("refused good path '%s'", good[i]);
    }
}

static void test_attacks(void **state)
{
    static const char *bad[] = {
        "",
        "//evil",
        "//evil.example/x",
        "/\\evil",
        "\\\\evil",
        "\\/evil",
        "https://evil",
        "http:evil",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,x",
        "/%2F%2Fevil",
        "/%2f/evil",
        "/%5Cevil",
        "/%5cevil",
        "%2F%2Fevil",
        "/%252F%252Fevil",      /* double encoded */
        "/%25252F/evil",        /* triple encoded */
        "evil",
        "informativa/x",
        "./x",
        "../x",
        "?x=1",
        "#x",
        "/\t/evil",
        "/\n/evil",
        "/\r/evil",
        "/x\ty",
        "/x\ny",
        "/x\ry",
        "/x%09y",
        "/x%0Ay",
        "/x%0dy",
        "/x%00y",
        "/%09/evil",
        "/x%250Ay",            /* encoded control after two rounds */
        "/x y",
        " /x",
        "/x\x7f",
        "/x\\y",
        "/Pe\xc3\xb1" "a",     /* raw non-ASCII */
        "/x%",
        "/x%4",
        "/x%zz",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (icsoe_return_path_ok(bad[i]))
            fail_msg("accepted bad path '%s'", bad[i]);
    }
    assert_false(icsoe_return_path_ok(NULL));
}

static void test_length_limit(void **state)
{
    char path[ICSOE_RETURN_PATH_MAX + 2];
    (void)state;

    memset(path, 'a', sizeof(path));
    path[0] = '/';
    path[ICSOE_RETURN_PATH_MAX] = '\0';
    assert_true(icsoe_return_path_ok(path)); /* exactly 1024 */
    path[ICSOE_RETURN_PATH_MAX] = 'a';
    path[ICSOE_RETURN_PATH_MAX + 1] = '\0';
    assert_false(icsoe_return_path_ok(path)); /* 1025 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_paths),
        cmocka_unit_test(test_attacks),
        cmocka_unit_test(test_length_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
