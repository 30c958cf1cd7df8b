/* icsoe_csv_next: RFC 4180 records for bulk imports. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "input.h"

typedef struct reader {
    const char *buf;
    size_t len;
    size_t pos;
    size_t lines;
    icsoe_csv_row row;
} reader;

static void reader_init(reader *r, const char *buf, size_t len)
{
    memset(r, 0, sizeof(*r));
    r->buf = buf;
    r->len = len;
}

static int next(reader *r)
{
    icsoe_csv_row_free(&r->row);
    return icsoe_csv_next(r->buf, r->len, &r->pos, &r->lines, &r->row);
}

static void expect_row(reader *r, size_t n, const char *const *want)
{
    assert_int_equal(next(r), 1);
    assert_int_equal(r->row.n, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(r->row.field[i], want[i]);
}

static void test_simple_lf(void **state)
{
    static const char in[] = "rfc,nombre\nABC010101AB1,Constructora\n";
    reader r;
    (void)state;

    reader_init(&r, in, strlen(in));
    expect_row(&r, 2, (const char *[]){ "rfc", "nombre" });
    assert_int_equal(r.lines, 1);
    expect_row(&r, 2, (const char *[]){ "ABC010101AB1", "Constructora" });
    assert_int_equal(r.lines, 2);
    assert_int_equal(next(&r), 0);
    assert_int_equal(next(&r), 0); /* stays at end */
    assert_int_equal(r.pos, strlen(in));
}

static void test_crlf_and_no_final_newline(void **state)
{
    static const char in[] = "a,b\r\nc,d\r\ne,f";
    reader r;
    (void)state;

    reader_init(&r, in, strlen(in));
    expect_row(&r, 2, (const char *[]){ "a", "b" });
    expect_row(&r, 2, (const char *[]){ "c", "d" });
    expect_row(&r, 2, (const char *[]){ "e", "f" });
    assert_int_equal(r.lines, 2);
    assert_int_equal(next(&r), 0);
}

static void test_quotes(void **state)
{
    static const char in[] =
        "\"Pe\xc3\xb1" "a, S.A.\",\"dice \"\"hola\"\"\",\"\"\n"
        " sp ,,\"\"\"\"\n";
    reader r;
    (void)state;

    reader_init(&r, in, strlen(in));
    expect_row(&r, 3, (const char *[]){ "Pe\xc3\xb1" "a, S.A.", "dice \"hola\"", "" });
    /* untrimmed, empty middle field, a field that is one quote */
    expect_row(&r, 3, (const char *[]){ " sp ", "", "\"" });
    assert_int_equal(next(&r), 0);
}

static void test_embedded_newline(void **state)
{
    static const char in[] = "1,\"line one\nline two\r\nthree\",x\n2,y,z\n";
    reader r;
    (void)state;

    reader_init(&r, in, strlen(in));
    expect_row(&r, 3, (const char *[]){ "1", "line one\nline two\r\nthree", "x" });
    assert_int_equal(r.lines, 3);
    expect_row(&r, 3, (const char *[]){ "2", "y", "z" });
    assert_int_equal(r.lines, 4);
    icsoe_csv_row_free(&r.row);
}

static void test_bom(void **state)
{
    static const char in[] = "\xef\xbb\xbfrfc,email\n";
    static const char mid[] = "a\n\xef\xbb\xbf" "b\n";
    reader r;
    (void)state;

    reader_init(&r, in, strlen(in));
    expect_row(&r, 2, (const char *[]){ "rfc", "email" });
    /* only at the very start: a BOM later is data */
    icsoe_csv_row_free(&r.row);
    reader_init(&r, mid, strlen(mid));
    expect_row(&r, 1, (const char *[]){ "a" });
    expect_row(&r, 1, (const char *[]){ "\xef\xbb\xbf" "b" });
    icsoe_csv_row_free(&r.row);
}

static void test_blank_lines_skipped(void **state)
{
    static const char in[] = "\n\r\na\n\n\nb\n\n";
    reader r;
    (void)state;

    reader_init(&r, in, strlen(in));
    expect_row(&r, 1, (const char *[]){ "a" });
    assert_int_equal(r.lines, 3);
    expect_row(&r, 1, (const char *[]){ "b" });
    assert_int_equal(r.lines, 6);
    assert_int_equal(next(&r), 0);
    assert_int_equal(r.lines, 7);
}

static void test_unterminated_quote_recovers(void **state)
{
    static const char in[] = "a,b\nc,\"open\nd,e\nf,g\n";
    reader r;
    (void)state;

    reader_init(&r, in, strlen(in));
    expect_row(&r, 2, (const char *[]){ "a", "b" });
    assert_int_equal(next(&r), -1);
    assert_int_equal(r.row.n, 0);
    assert_int_equal(r.lines, 2); /* the faulty line was consumed */
    expect_row(&r, 2, (const char *[]){ "d", "e" });
    expect_row(&r, 2, (const char *[]){ "f", "g" });
    assert_int_equal(next(&r), 0);
    assert_int_equal(r.lines, 4);
}

static void test_malformed_fields(void **state)
{
    static const char *bad[] = {
        "a\"b,c\n",          /* quote inside an unquoted field */
        "\"a\"b,c\n",        /* text after a closing quote */
        "\"a\" ,c\n",
        "a\rb\n",            /* lone CR */
        "\xc3(,x\n",         /* invalid UTF-8 */
        "\"\xed\xa0\x80\"\n",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char buf[64];
        reader r;
        size_t n = strlen(bad[i]);

        memcpy(buf, bad[i], n);
        memcpy(buf + n, "ok,1\n", 5);
        reader_init(&r, buf, n + 5);
        if (next(&r) != -1)
            fail_msg("accepted malformed record %zu", i);
        assert_int_equal(r.row.n, 0);
        assert_int_equal(r.lines, 1);
        expect_row(&r, 2, (const char *[]){ "ok", "1" });
        icsoe_csv_row_free(&r.row);
    }
}

static void test_nul(void **state)
{
    static const char in[] = "a,b\0c\nd,e\n\"x\0\",y\nf,g\n";
    reader r;
    (void)state;

    reader_init(&r, in, sizeof(in) - 1);
    assert_int_equal(next(&r), -1);
    expect_row(&r, 2, (const char *[]){ "d", "e" });
    assert_int_equal(next(&r), -1);
    expect_row(&r, 2, (const char *[]){ "f", "g" });
    icsoe_csv_row_free(&r.row);
}

static void test_field_limit(void **state)
{
    char in[256];
    size_t o = 0;
    reader r;
    (void)state;

    for (int i = 0; i < ICSOE_CSV_MAX_FIELDS; i++) {
        in[o++] = (char)('a' + i);
        in[o++] = i + 1 < ICSOE_CSV_MAX_FIELDS ? ',' : '\n';
    }
    reader_init(&r, in, o);
    assert_int_equal(next(&r), 1);
    assert_int_equal(r.row.n, ICSOE_CSV_MAX_FIELDS);
    assert_string_equal(r.row.field[15], "p");

    /* one more field, then a good line */
    icsoe_csv_row_free(&r.row);
    in[o - 1] = ',';
    memcpy(in + o, "q\nz\n", 4);
    reader_init(&r, in, o + 4);
    assert_int_equal(next(&r), -1);
    assert_int_equal(r.row.n, 0);
    expect_row(&r, 1, (const char *[]){ "z" });
    icsoe_csv_row_free(&r.row);
}

static void test_record_limit(void **state)
{
    size_t n = ICSOE_CSV_MAX_LINE + 1;
    char *in = malloc(n + 8);
    reader r;
    (void)state;

    assert_non_null(in);
    memset(in, 'x', ICSOE_CSV_MAX_LINE);
    memcpy(in + ICSOE_CSV_MAX_LINE, "\nok\n", 4);
    reader_init(&r, in, ICSOE_CSV_MAX_LINE + 4);
    assert_int_equal(next(&r), 1); /* exactly at the limit */
    assert_int_equal(strlen(r.row.field[0]), ICSOE_CSV_MAX_LINE);
    expect_row(&r, 1, (const char *[]){ "ok" });

    icsoe_csv_row_free(&r.row);
    memset(in, 'x', n);
    memcpy(in + n, "\nok\n", 4);
    reader_init(&r, in, n + 4);
    assert_int_equal(next(&r), -1);
    expect_row(&r, 1, (const char *[]){ "ok" });
    icsoe_csv_row_free(&r.row);
    free(in);
}

static void test_trailing_comma_and_empty_input(void **state)
{
    reader r;
    size_t pos = 0;
    icsoe_csv_row row;
    (void)state;

    reader_init(&r, "a,b,\n", 5);
    expect_row(&r, 3, (const char *[]){ "a", "b", "" });
    icsoe_csv_row_free(&r.row);

    assert_int_equal(icsoe_csv_next("", 0, &pos, NULL, &row), 0);
    assert_int_equal(icsoe_csv_next("\xef\xbb\xbf", 3, &pos, NULL, &row), 0);
    pos = 10;
    assert_int_equal(icsoe_csv_next("abc", 3, &pos, NULL, &row), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_lf),
        cmocka_unit_test(test_crlf_and_no_final_newline),
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_embedded_newline),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_blank_lines_skipped),
        cmocka_unit_test(test_unterminated_quote_recovers),
        cmocka_unit_test(test_malformed_fields),
        cmocka_unit_test(test_nul),
        cmocka_unit_test(test_field_limit),
        cmocka_unit_test(test_record_limit),
        cmocka_unit_test(test_trailing_comma_and_empty_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
