/* Password policy: every rule alone and together, code-point lengths,
 * strict UTF-8, personal data, the blocklist file and the Spanish texts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "pwpolicy.h"

#define GOOD "caballo correcto bateria grapa"   /* 30 ASCII chars */
#define CURP "GODE561231HDFRRN00"
#define NAME "María José Pérez Núñez"

static char *repeat(const char *unit, size_t times)
{
    size_t ulen = strlen(unit);
    char *s = malloc(ulen * times + 1);

    assert_non_null(s);
    for (size_t i = 0; i < times; i++)
        memcpy(s + i * ulen, unit, ulen);
    s[ulen * times] = '\0';
    return s;
}

/* Writes len bytes to a fresh temporary file; caller unlinks and frees. */
static char *temp_file(const char *data, size_t len)
{
    char *path = strdup("/tmp/icsoe-blocklist-XXXXXX");
    int fd;

    assert_non_null(path);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
    return path;
}

static void drop_file(char *path)
{
    unlink(path);
    free(path);
}

static void test_defaults(void **state)
{
    icsoe_pwpolicy p;
    (void)state;

    memset(&p, 0xff, sizeof(p));
    icsoe_pwpolicy_defaults(&p);
    assert_int_equal(p.min_length, 15);
    assert_int_equal(p.max_length, 128);
    assert_int_equal(p.classes, 0);
    assert_null(p.blocklist);
    /* NIST style: a long lowercase passphrase is fine, no composition */
    assert_int_equal(icsoe_pwpolicy_check(&p, GOOD, CURP, NAME), 0);
    /* NULL policy means the defaults */
    assert_int_equal(icsoe_pwpolicy_check(NULL, GOOD, NULL, NULL), 0);
    assert_int_equal(icsoe_pwpolicy_check(NULL, "corto", NULL, NULL), ICSOE_PW_TOO_SHORT);
}

static void test_length_boundaries(void **state)
{
    icsoe_pwpolicy p;
    char *s;
    (void)state;

    icsoe_pwpolicy_defaults(&p);
    s = repeat("a", 14);
    assert_int_equal(icsoe_pwpolicy_check(&p, s, NULL, NULL), ICSOE_PW_TOO_SHORT);
    free(s);
    s = repeat("a", 15);
    assert_int_equal(icsoe_pwpolicy_check(&p, s, NULL, NULL), 0);
    free(s);
    s = repeat("a", 128);
    assert_int_equal(icsoe_pwpolicy_check(&p, s, NULL, NULL), 0);
    free(s);
    s = repeat("a", 129); /* never truncated: refused */
    assert_int_equal(icsoe_pwpolicy_check(&p, s, NULL, NULL), ICSOE_PW_TOO_LONG);
    free(s);
    assert_int_equal(icsoe_pwpolicy_check(&p, "", NULL, NULL), ICSOE_PW_TOO_SHORT);
    assert_int_equal(icsoe_pwpolicy_check(&p, NULL, NULL, NULL), ICSOE_PW_TOO_SHORT);
}

static void test_length_counts_code_points(void **state)
{
    icsoe_pwpolicy p;
    char *s;
    (void)state;

    icsoe_pwpolicy_defaults(&p);
    s = repeat("ñ", 15); /* 15 characters, 30 bytes */
    assert_int_equal(strlen(s), 30);
    assert_int_equal(icsoe_pwpolicy_check(&p, s, NULL, NULL), 0);
    free(s);
    s = repeat("ñ", 14); /* 28 bytes but only 14 characters */
    assert_int_equal(icsoe_pwpolicy_check(&p, s, NULL, NULL), ICSOE_PW_TOO_SHORT);
    free(s);
    s = repeat("€", 128); /* 3-byte characters, 384 bytes */
    assert_int_equal(icsoe_pwpolicy_check(&p, s, NULL, NULL), 0);
    free(s);
    s = repeat("\xf0\x9f\x94\x92", 128); /* U+1F512, 4 bytes each */
    assert_int_equal(icsoe_pwpolicy_check(&p, s, NULL, NULL), 0);
    free(s);
    s = repeat("\xf0\x9f\x94\x92", 129);
    assert_int_equal(icsoe_pwpolicy_check(&p, s, NULL, NULL), ICSOE_PW_TOO_LONG);
    free(s);
    s = repeat("ñ", 129);
    assert_int_equal(icsoe_pwpolicy_check(&p, s, NULL, NULL), ICSOE_PW_TOO_LONG);
    free(s);
}

static void test_bad_utf8_and_controls(void **state)
{
    static const char *const bad[] = {
        "caballo correcto \xc3",              /* truncated 2-byte */
        "caballo correcto \xe2\x82",          /* truncated 3-byte */
        "caballo correcto \x80 bateria",      /* stray continuation */
        "caballo correcto \xc0\xaf bateria",  /* overlong '/' */
        "caballo correcto \xe0\x80\xaf bat",  /* overlong 3-byte */
        "caballo correcto \xf0\x80\x80\xaf b",/* overlong 4-byte */
        "caballo correcto \xed\xa0\x80 bat",  /* UTF-16 surrogate */
        "caballo correcto \xf4\x90\x80\x80 b",/* above U+10FFFF */
        "caballo correcto \xf5\x80\x80\x80 b",
        "caballo correcto \xff bateria",
        "caballo correcto\tbateria grapa",    /* C0 controls */
        "caballo correcto\nbateria grapa",
        "caballo correcto\rbateria grapa",
        "caballo correcto\x01" "bateria grapa",
        "caballo correcto\x1b[2Jbateria",
        "caballo correcto\x7f" "bateria grapa", /* DEL */
        "caballo correcto\xc2\x85" "bateria",   /* C1 NEL */
        "\xc3\x91\xc3",                         /* short AND invalid */
    };
    icsoe_pwpolicy p;
    (void)state;

    icsoe_pwpolicy_defaults(&p);
    p.classes = ICSOE_PWCLASS_UPPER;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned got = icsoe_pwpolicy_check(&p, bad[i], CURP, NAME);
        if (got != ICSOE_PW_BAD_UTF8)
            fail_msg("case %zu: got 0x%x, want only BAD_UTF8", i, got);
    }
    /* valid neighbours of the above pass */
    p.classes = 0;
    assert_int_equal(icsoe_pwpolicy_check(&p, "caballo correcto \xc2\xa0 bateria", NULL, NULL), 0);
    assert_int_equal(icsoe_pwpolicy_check(&p, "caballo correcto \xf4\x8f\xbf\xbf b", NULL, NULL), 0);
    assert_int_equal(icsoe_pwpolicy_check(&p, "caballo correcto \xee\x80\x80 bat", NULL, NULL), 0);
}

static void test_each_class_alone(void **state)
{
    icsoe_pwpolicy p;
    (void)state;

    icsoe_pwpolicy_defaults(&p);
    p.classes = ICSOE_PWCLASS_LOWER;
    assert_int_equal(icsoe_pwpolicy_check(&p, "CABALLO CORRECTO 42", NULL, NULL),
                     ICSOE_PW_NEEDS_LOWER);
    assert_int_equal(icsoe_pwpolicy_check(&p, "CABALLO CORRECTO ñ", NULL, NULL), 0);
    p.classes = ICSOE_PWCLASS_UPPER;
    assert_int_equal(icsoe_pwpolicy_check(&p, GOOD, NULL, NULL), ICSOE_PW_NEEDS_UPPER);
    assert_int_equal(icsoe_pwpolicy_check(&p, "caballo correcto Ñ", NULL, NULL), 0);
    assert_int_equal(icsoe_pwpolicy_check(&p, "caballo correcto É", NULL, NULL), 0);
    p.classes = ICSOE_PWCLASS_DIGIT;
    assert_int_equal(icsoe_pwpolicy_check(&p, GOOD, NULL, NULL), ICSOE_PW_NEEDS_DIGIT);
    assert_int_equal(icsoe_pwpolicy_check(&p, GOOD " 7", NULL, NULL), 0);
    p.classes = ICSOE_PWCLASS_SYMBOL;
    assert_int_equal(icsoe_pwpolicy_check(&p, "caballocorrectobateria", NULL, NULL),
                     ICSOE_PW_NEEDS_SYMBOL);
    assert_int_equal(icsoe_pwpolicy_check(&p, GOOD, NULL, NULL), 0); /* space */
    assert_int_equal(icsoe_pwpolicy_check(&p, "caballocorrecto!bat", NULL, NULL), 0);
    assert_int_equal(icsoe_pwpolicy_check(&p, "caballocorrecto\xe2\x82\xac", NULL, NULL), 0);
    /* × and ÷ are symbols, not letters */
    p.classes = ICSOE_PWCLASS_UPPER;
    assert_int_equal(icsoe_pwpolicy_check(&p, "caballocorrecto\xc3\x97", NULL, NULL),
                     ICSOE_PW_NEEDS_UPPER);
    p.classes = ICSOE_PWCLASS_LOWER;
    assert_int_equal(icsoe_pwpolicy_check(&p, "CABALLOCORRECTO\xc3\xb7", NULL, NULL),
                     ICSOE_PW_NEEDS_LOWER);
}

static void test_all_classes(void **state)
{
    icsoe_pwpolicy p;
    (void)state;

    icsoe_pwpolicy_defaults(&p);
    p.classes = ICSOE_PWCLASS_LOWER | ICSOE_PWCLASS_UPPER | ICSOE_PWCLASS_DIGIT |
                ICSOE_PWCLASS_SYMBOL;
    assert_int_equal(icsoe_pwpolicy_check(&p, "caballocorrectobateria", NULL, NULL),
                     ICSOE_PW_NEEDS_UPPER | ICSOE_PW_NEEDS_DIGIT | ICSOE_PW_NEEDS_SYMBOL);
    assert_int_equal(icsoe_pwpolicy_check(&p, "123456789012345678", NULL, NULL),
                     ICSOE_PW_NEEDS_LOWER | ICSOE_PW_NEEDS_UPPER | ICSOE_PW_NEEDS_SYMBOL);
    assert_int_equal(icsoe_pwpolicy_check(&p, "Caballo correcto 42", NULL, NULL), 0);
}

static void test_curp_rule(void **state)
{
    icsoe_pwpolicy p;
    (void)state;

    icsoe_pwpolicy_defaults(&p);
    assert_int_equal(icsoe_pwpolicy_check(&p, "mi curp es " CURP, CURP, NULL),
                     ICSOE_PW_HAS_CURP);
    assert_int_equal(icsoe_pwpolicy_check(&p, "mi curp es gode561231hdfrrn00", CURP, NULL),
                     ICSOE_PW_HAS_CURP);
    /* the first 10 characters (initials and birth date) are enough */
    assert_int_equal(icsoe_pwpolicy_check(&p, "xx Gode561231 contraseña", CURP, NULL),
                     ICSOE_PW_HAS_CURP);
    /* 9 of them are not */
    assert_int_equal(icsoe_pwpolicy_check(&p, "xx gode56123 contraseña", CURP, NULL), 0);
    assert_int_equal(icsoe_pwpolicy_check(&p, "mi curp es " CURP, NULL, NULL), 0);
    assert_int_equal(icsoe_pwpolicy_check(&p, "mi curp es " CURP, "", NULL), 0);
    assert_int_equal(icsoe_pwpolicy_check(&p, "mi curp es GODE", "GODE", NULL), 0);
}

static void test_name_rule(void **state)
{
    icsoe_pwpolicy p;
    (void)state;

    icsoe_pwpolicy_defaults(&p);
    assert_int_equal(icsoe_pwpolicy_check(&p, "la familia perez xyz", NULL, NAME), 0);
    assert_int_equal(icsoe_pwpolicy_check(&p, "la familia pérez xyz", NULL, NAME),
                     ICSOE_PW_HAS_NAME);
    /* case folding covers accented capitals */
    assert_int_equal(icsoe_pwpolicy_check(&p, "la familia PÉREZ xyz", NULL, NAME),
                     ICSOE_PW_HAS_NAME);
    assert_int_equal(icsoe_pwpolicy_check(&p, "soy NÚÑEZ de corazón", NULL, NAME),
                     ICSOE_PW_HAS_NAME);
    assert_int_equal(icsoe_pwpolicy_check(&p, "mi hermana maría x", NULL, NAME),
                     ICSOE_PW_HAS_NAME);
    /* "José" is 5 bytes: a word */
    assert_int_equal(icsoe_pwpolicy_check(&p, "jose y josé juntos", NULL, NAME),
                     ICSOE_PW_HAS_NAME);
    /* words shorter than 4 bytes are ignored */
    assert_int_equal(icsoe_pwpolicy_check(&p, "ana de la luz clara", NULL, "Ana de la Luz"), 0);
    assert_int_equal(icsoe_pwpolicy_check(&p, "ana de la luz clara", NULL, "Ana Clara"),
                     ICSOE_PW_HAS_NAME);
    /* compound surnames are split */
    assert_int_equal(icsoe_pwpolicy_check(&p, "viva el garcía 2024", NULL,
                                          "Luis García-López"), ICSOE_PW_HAS_NAME);
    assert_int_equal(icsoe_pwpolicy_check(&p, "mi amigo LUIS viene", NULL,
                                          "  Luis\tGarcía  "), ICSOE_PW_HAS_NAME);
    assert_int_equal(icsoe_pwpolicy_check(&p, GOOD, NULL, ""), 0);
    assert_int_equal(icsoe_pwpolicy_check(&p, GOOD, NULL, "   "), 0);
}

static icsoe_blocklist *load_text(const char *text)
{
    char err[256] = "";
    char *path = temp_file(text, strlen(text));
    icsoe_blocklist *bl = icsoe_blocklist_load(path, err, sizeof(err));

    if (bl == NULL)
        fail_msg("load failed: %s", err);
    assert_string_equal(err, "");
    drop_file(path);
    return bl;
}

static void test_blocklist_lookup(void **state)
{
    icsoe_blocklist *bl;
    char *long_line;
    char *text;
    (void)state;

    long_line = repeat("z", 256);
    text = malloc(strlen(long_line) + 200);
    assert_non_null(text);
    snprintf(text, strlen(long_line) + 200,
             "Password123\r\ncontraseña123\n\n\r\nQWERTYUIOP\nqwertyuiop\n"
             "CONTRASEÑA ÑOÑA\n con espacios \n%s\nsin salto final", long_line);
    bl = load_text(text);
    assert_true(icsoe_blocklist_contains(bl, "password123"));
    assert_true(icsoe_blocklist_contains(bl, "PASSWORD123"));
    assert_true(icsoe_blocklist_contains(bl, "PassWord123"));
    assert_true(icsoe_blocklist_contains(bl, "CONTRASEÑA123"));
    assert_true(icsoe_blocklist_contains(bl, "contraseña ñoña"));
    assert_true(icsoe_blocklist_contains(bl, "qwertyuiop"));
    assert_true(icsoe_blocklist_contains(bl, " con espacios ")); /* kept as is */
    assert_true(icsoe_blocklist_contains(bl, long_line));        /* 256 bytes */
    assert_true(icsoe_blocklist_contains(bl, "sin salto final"));
    assert_false(icsoe_blocklist_contains(bl, "con espacios"));
    assert_false(icsoe_blocklist_contains(bl, "password12"));    /* no prefix match */
    assert_false(icsoe_blocklist_contains(bl, "password1234"));
    assert_false(icsoe_blocklist_contains(bl, "password123\r"));
    assert_false(icsoe_blocklist_contains(bl, ""));              /* empty lines skipped */
    assert_false(icsoe_blocklist_contains(bl, NULL));
    assert_false(icsoe_blocklist_contains(NULL, "password123"));
    {
        char *longer = repeat("z", 257);
        assert_false(icsoe_blocklist_contains(bl, longer));
        free(longer);
    }
    icsoe_blocklist_free(bl);
    icsoe_blocklist_free(NULL);
    free(text);
    free(long_line);
}

static void test_blocklist_in_policy(void **state)
{
    icsoe_pwpolicy p;
    icsoe_blocklist *bl;
    (void)state;

    bl = load_text("contrasenasegura1\ncaballo correcto bateria grapa\n");
    icsoe_pwpolicy_defaults(&p);
    p.blocklist = bl;
    assert_int_equal(icsoe_pwpolicy_check(&p, "Caballo Correcto Bateria Grapa", NULL, NULL),
                     ICSOE_PW_BLOCKLISTED);
    assert_int_equal(icsoe_pwpolicy_check(&p, "caballo correcto bateria grapas", NULL, NULL), 0);
    /* several rules at once */
    p.classes = ICSOE_PWCLASS_DIGIT | ICSOE_PWCLASS_UPPER;
    assert_int_equal(icsoe_pwpolicy_check(&p, "caballo correcto bateria grapa", NULL, NULL),
                     ICSOE_PW_BLOCKLISTED | ICSOE_PW_NEEDS_DIGIT | ICSOE_PW_NEEDS_UPPER);
    p.classes = 0;
    assert_int_equal(icsoe_pwpolicy_check(&p, "CONTRASENASEGURA1", NULL, NULL),
                     ICSOE_PW_BLOCKLISTED);
    icsoe_blocklist_free(bl);
}

static void test_several_rules(void **state)
{
    icsoe_pwpolicy p;
    unsigned got;
    (void)state;

    icsoe_pwpolicy_defaults(&p);
    p.classes = ICSOE_PWCLASS_SYMBOL;
    got = icsoe_pwpolicy_check(&p, "Perez561231", "PEPJ561231HDFRRN00", "Juan Perez");
    assert_int_equal(got, ICSOE_PW_TOO_SHORT | ICSOE_PW_NEEDS_SYMBOL | ICSOE_PW_HAS_NAME);
    got = icsoe_pwpolicy_check(&p, "pepj561231juan", "PEPJ561231HDFRRN00", "Juan Perez");
    assert_int_equal(got, ICSOE_PW_TOO_SHORT | ICSOE_PW_NEEDS_SYMBOL |
                          ICSOE_PW_HAS_CURP | ICSOE_PW_HAS_NAME);
    p.max_length = 20;
    got = icsoe_pwpolicy_check(&p, "juanperezjuanperezjuanperez", "PEPJ561231HDFRRN00",
                               "Juan Perez");
    assert_int_equal(got, ICSOE_PW_TOO_LONG | ICSOE_PW_NEEDS_SYMBOL | ICSOE_PW_HAS_NAME);
}

static void expect_load_error(const char *path, const char *want_in_err)
{
    char err[512] = "";
    icsoe_blocklist *bl = icsoe_blocklist_load(path, err, sizeof(err));

    if (bl != NULL) {
        icsoe_blocklist_free(bl);
        fail_msg("loaded %s, expected an error with \"%s\"", path, want_in_err);
    }
    if (strstr(err, want_in_err) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", err, want_in_err);
}

static void test_blocklist_file_errors(void **state)
{
    char *path, *data, want[128];
    size_t len;
    (void)state;

    expect_load_error("/nonexistent/icsoe/blocklist.txt",
                      "/nonexistent/icsoe/blocklist.txt: cannot open");
    expect_load_error("/tmp", "/tmp: not a regular file"); /* a directory: refused before reading (fileperm.h) */
    assert_null(icsoe_blocklist_load(NULL, NULL, 0));

    /* 257-byte line on line 3 */
    data = malloc(400);
    assert_non_null(data);
    memcpy(data, "uno\ndos\n", 8);
    memset(data + 8, 'x', 257);
    memcpy(data + 8 + 257, "\ntres\n", 6);
    len = 8 + 257 + 6;
    path = temp_file(data, len);
    snprintf(want, sizeof(want), "%s:3: line longer than 256 bytes", path);
    expect_load_error(path, want);
    drop_file(path);

    /* 256 bytes plus CRLF is fine */
    data[8 + 256] = '\r';
    path = temp_file(data, len);
    {
        char err[256];
        icsoe_blocklist *bl = icsoe_blocklist_load(path, err, sizeof(err));
        assert_non_null(bl);
        assert_true(icsoe_blocklist_contains(bl, "TRES"));
        icsoe_blocklist_free(bl);
    }
    drop_file(path);

    /* NUL byte on line 2 */
    path = temp_file("uno\nd\0s\ntres\n", 13);
    snprintf(want, sizeof(want), "%s:2: NUL byte", path);
    expect_load_error(path, want);
    drop_file(path);
    free(data);

    /* a tiny error buffer is truncated, not overrun */
    {
        char err[8];
        memset(err, 'Q', sizeof(err));
        assert_null(icsoe_blocklist_load("/nonexistent/x", err, 5));
        assert_int_equal(strlen(err), 4);
        assert_int_equal(err[5], 'Q');
    }
}

static void test_blocklist_empty_file(void **state)
{
    icsoe_blocklist *bl = load_text("");
    (void)state;

    assert_false(icsoe_blocklist_contains(bl, "password"));
    icsoe_blocklist_free(bl);
    bl = load_text("\n\r\n\n");
    assert_false(icsoe_blocklist_contains(bl, ""));
    icsoe_blocklist_free(bl);
}

static void test_blocklist_entry_limit(void **state)
{
    const size_t limit = 1000000;
    size_t cap = (limit + 1) * 9, len = 0;
    char *data = malloc(cap);
    char *path, want[128];
    (void)state;

    assert_non_null(data);
    for (size_t i = 0; i < limit; i++)
        len += (size_t)snprintf(data + len, cap - len, "p%zu\n", i);
    /* exactly one million entries load */
    path = temp_file(data, len);
    {
        char err[256];
        icsoe_blocklist *bl = icsoe_blocklist_load(path, err, sizeof(err));
        assert_non_null(bl);
        assert_true(icsoe_blocklist_contains(bl, "P0"));
        assert_true(icsoe_blocklist_contains(bl, "p999999"));
        assert_true(icsoe_blocklist_contains(bl, "p500000"));
        assert_false(icsoe_blocklist_contains(bl, "p1000000"));
        icsoe_blocklist_free(bl);
    }
    drop_file(path);
    /* one more is refused, naming the line */
    len += (size_t)snprintf(data + len, cap - len, "extra\n");
    path = temp_file(data, len);
    snprintf(want, sizeof(want), "%s:1000001: more than 1000000 entries", path);
    expect_load_error(path, want);
    drop_file(path);
    free(data);
}

static void test_rule_messages(void **state)
{
    icsoe_pwpolicy p;
    char buf[160];
    char seen[ICSOE_PW_RULE_COUNT][160];
    (void)state;

    icsoe_pwpolicy_defaults(&p);
    assert_string_equal(icsoe_pwpolicy_rule_message(&p, ICSOE_PW_TOO_SHORT, buf, sizeof(buf)),
                        "Debe tener al menos 15 caracteres.");
    assert_string_equal(icsoe_pwpolicy_rule_message(&p, ICSOE_PW_TOO_LONG, buf, sizeof(buf)),
                        "Debe tener como máximo 128 caracteres.");
    p.min_length = 20;
    assert_string_equal(icsoe_pwpolicy_rule_message(&p, ICSOE_PW_TOO_SHORT, buf, sizeof(buf)),
                        "Debe tener al menos 20 caracteres.");
    p.min_length = 1;
    assert_string_equal(icsoe_pwpolicy_rule_message(&p, ICSOE_PW_TOO_SHORT, buf, sizeof(buf)),
                        "Debe tener al menos 1 carácter.");
    assert_string_equal(icsoe_pwpolicy_rule_message(NULL, ICSOE_PW_TOO_SHORT, buf, sizeof(buf)),
                        "Debe tener al menos 15 caracteres.");
    assert_string_equal(icsoe_pwpolicy_rule_message(&p, ICSOE_PW_HAS_CURP, buf, sizeof(buf)),
                        "No debe contener tu CURP.");
    /* one distinct sentence per rule */
    for (unsigned i = 0; i < ICSOE_PW_RULE_COUNT; i++) {
        icsoe_pwpolicy_rule_message(&p, 1u << i, seen[i], sizeof(seen[i]));
        assert_true(strlen(seen[i]) > 10);
        assert_int_equal(seen[i][strlen(seen[i]) - 1], '.');
        for (unsigned j = 0; j < i; j++)
            assert_string_not_equal(seen[i], seen[j]);
    }
    /* several bits or an unknown one: a generic sentence */
    assert_string_equal(icsoe_pwpolicy_rule_message(&p, 3, buf, sizeof(buf)),
                        "La contraseña no cumple las reglas.");
    assert_string_equal(icsoe_pwpolicy_rule_message(&p, 1u << 20, buf, sizeof(buf)),
                        "La contraseña no cumple las reglas.");
    /* short buffers are truncated, never overrun */
    memset(buf, 'Q', sizeof(buf));
    icsoe_pwpolicy_rule_message(&p, ICSOE_PW_HAS_NAME, buf, 6);
    assert_string_equal(buf, "No de");
    assert_int_equal(buf[6], 'Q');
    assert_string_equal(icsoe_pwpolicy_rule_message(&p, ICSOE_PW_HAS_NAME, NULL, 0), "");
}

static void test_describe(void **state)
{
    icsoe_pwpolicy p;
    icsoe_blocklist *bl;
    char lines[12][160];
    size_t n;
    (void)state;

    icsoe_pwpolicy_defaults(&p);
    n = icsoe_pwpolicy_describe(&p, lines, 12);
    assert_int_equal(n, 4);
    assert_string_equal(lines[0], "Debe tener al menos 15 caracteres.");
    assert_string_equal(lines[1], "Debe tener como máximo 128 caracteres.");
    assert_string_equal(lines[2], "No debe contener tu CURP.");
    assert_string_equal(lines[3], "No debe contener tu nombre ni tus apellidos.");

    bl = load_text("x\n");
    p.blocklist = bl;
    p.classes = ICSOE_PWCLASS_LOWER | ICSOE_PWCLASS_UPPER | ICSOE_PWCLASS_DIGIT |
                ICSOE_PWCLASS_SYMBOL;
    n = icsoe_pwpolicy_describe(&p, lines, 12);
    assert_int_equal(n, 9);
    assert_string_equal(lines[2], "Debe incluir al menos una letra minúscula.");
    assert_string_equal(lines[5], "Debe incluir al menos un símbolo o un espacio "
                                  "(por ejemplo ! # $ %).");
    assert_true(strstr(lines[8], "común") != NULL);
    /* max caps the count */
    assert_int_equal(icsoe_pwpolicy_describe(&p, lines, 3), 3);
    assert_int_equal(icsoe_pwpolicy_describe(&p, lines, 0), 0);
    icsoe_blocklist_free(bl);
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_length_boundaries),
        cmocka_unit_test(test_length_counts_code_points),
        cmocka_unit_test(test_bad_utf8_and_controls),
        cmocka_unit_test(test_each_class_alone),
        cmocka_unit_test(test_all_classes),
        cmocka_unit_test(test_curp_rule),
        cmocka_unit_test(test_name_rule),
        cmocka_unit_test(test_several_rules),
        cmocka_unit_test(test_blocklist_lookup),
        cmocka_unit_test(test_blocklist_in_policy),
        cmocka_unit_test(test_blocklist_file_errors),
        cmocka_unit_test(test_blocklist_empty_file),
        cmocka_unit_test(test_blocklist_entry_limit),
        cmocka_unit_test(test_rule_messages),
        cmocka_unit_test(test_describe),
    };
    return cmocka_run_group_tests_name("pwpolicy", tests, NULL, NULL);
}
