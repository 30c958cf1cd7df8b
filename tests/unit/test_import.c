/* lib/import.c (charset, header, row checks of capturist CSV files) and
 * lib/multipart.c (the upload body). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "import.h"
#include "input.h"

static char *utf8(const char *in, size_t len, size_t *outlen, int *converted)
{
    char *out = icsoe_import_to_utf8(in, len, outlen, converted);

    assert_non_null(out);
    return out;
}

static void test_utf8_kept_and_bom_dropped(void **state)
{
    static const char in[] = "\xef\xbb\xbf" "Pe\xc3\xb1" "a";
    size_t n;
    int conv;
    char *out = utf8(in, sizeof(in) - 1, &n, &conv);

    (void)state;
    assert_string_equal(out, "Pe\xc3\xb1" "a");
    assert_int_equal(n, 5);
    assert_int_equal(conv, 0);
    free(out);
}

static void test_windows_1252_converted(void **state)
{
    /* "Peña" in Latin-1, the euro sign and a right quote (0x80, 0x92) */
    static const char in[] = "Pe\xf1" "a \x80\x92";
    size_t n;
    int conv;
    char *out = utf8(in, sizeof(in) - 1, &n, &conv);

    (void)state;
    assert_string_equal(out, "Pe\xc3\xb1" "a \xe2\x82\xac\xe2\x80\x99");
    assert_int_equal(conv, 1);
    free(out);
}

static void test_undefined_1252_byte_refused(void **state)
{
    size_t n;
    int conv;

    (void)state;
    assert_null(icsoe_import_to_utf8("a\x81" "b", 3, &n, &conv));
    assert_null(icsoe_import_to_utf8("\x9d", 1, &n, &conv));
}

static void test_damaged_utf8_is_not_reinterpreted(void **state)
{
    /* a Cyrillic A (valid UTF-8) and stray 0xFF 0xFE: damaged UTF-8, kept
     * as is so the CSV reader refuses the bad row instead of importing
     * "\xc3\xbf\xc3\xbe" as a name */
    static const char in[] = "\xd0\x90,x\n\xff\xfe,y\n";
    size_t n;
    int conv;
    char *out = utf8(in, sizeof(in) - 1, &n, &conv);

    (void)state;
    assert_int_equal(conv, 0);
    assert_int_equal(n, sizeof(in) - 1);
    assert_memory_equal(out, in, n);
    free(out);
}

static void test_header_separators(void **state)
{
    static const char comma[] = "curp,nombre,correo,rfc\nA,B,C,D\n";
    static const char semi[] = " CURP ; Nombre;CORREO;rfc\r\nA;B;C;D\r\n";
    static const char wrong[] = "curp,nombre,correo\n";
    static const char mixed[] = "curp;nombre,correo;rfc\n";
    size_t pos = 0, lines = 0;

    (void)state;
    assert_int_equal(icsoe_import_header(comma, sizeof(comma) - 1, &pos, &lines), ',');
    assert_int_equal(pos, 23);
    assert_int_equal(lines, 1);
    pos = 0;
    assert_int_equal(icsoe_import_header(semi, sizeof(semi) - 1, &pos, NULL), ';');
    pos = 0;
    assert_int_equal(icsoe_import_header(wrong, sizeof(wrong) - 1, &pos, NULL), 0);
    assert_int_equal(pos, 0);
    assert_int_equal(icsoe_import_header(mixed, sizeof(mixed) - 1, &pos, NULL), 0);
}

static void check(const char *line, char sep, int want, const char *why_has)
{
    size_t pos = 0;
    icsoe_csv_row row;
    icsoe_import_row out;
    char why[256] = "";

    assert_int_equal(icsoe_csv_next_sep(line, strlen(line), sep, &pos, NULL, &row), 1);
    assert_int_equal(icsoe_import_check_row(&row, &out, why, sizeof(why)), want);
    if (why_has != NULL)
        assert_non_null(strstr(why, why_has));
    icsoe_csv_row_free(&row);
}

static void test_rows(void **state)
{
    (void)state;
    check("gode561231hdfrrn00, Ana Peña ,ana@example.test,EKU9003173C9", ',', 0, NULL);
    check("GODE561231HDFRRN00;Ana;ana@example.test;EKU9003173C9", ';', 0, NULL);
    check("GODE561231HDFRRN00,Ana,ana@example.test", ',', -1, "4 campos");
    check("GODE561231HDFRRN0,Ana,ana@example.test,EKU9003173C9", ',', -1, "CURP");
    check("GODE561231HDFRRN00,  ,ana@example.test,EKU9003173C9", ',', -1, "nombre");
    check("GODE561231HDFRRN00,Ana,no-es-correo,EKU9003173C9", ',', -1, "correo");
    check("GODE561231HDFRRN00,Ana,ana@example.test,XX", ',', -1, "RFC");
    check("GODE561231HDFRRN00,\"A\x01\",ana@example.test,EKU9003173C9", ',', -1, "nombre");
}

static void test_bad_separator(void **state)
{
    size_t pos = 0;
    icsoe_csv_row row;

    (void)state;
    assert_int_equal(icsoe_csv_next_sep("a\tb", 3, '\t', &pos, NULL, &row), -1);
}

#define BODY(b)                                                               \
    "--" b "\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nTOKEN\r\n"  \
    "--" b "\r\nContent-Disposition: form-data; name=\"archivo\"; "             \
    "filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\nx,y--" b "z\r\n"       \
    "\r\n--" b "--\r\n"

static void test_multipart(void **state)
{
    static const char body[] = BODY("XyZ");
    char boundary[ICSOE_MULTIPART_BOUNDARY_MAX + 1];
    icsoe_multipart m;
    const icsoe_part *p;

    (void)state;
    assert_int_equal(icsoe_multipart_boundary("multipart/form-data; boundary=XyZ",
                                              boundary), 0);
    assert_string_equal(boundary, "XyZ");
    assert_int_equal(icsoe_multipart_boundary("multipart/form-data; boundary=\"a b\"",
                                              boundary), 0);
    assert_int_equal(icsoe_multipart_boundary("text/plain; boundary=x", boundary), -1);
    assert_int_equal(icsoe_multipart_boundary("multipart/form-data", boundary), -1);
    assert_int_equal(icsoe_multipart_parse(body, sizeof(body) - 1, "XyZ", &m), 0);
    assert_int_equal(m.n, 2);
    p = icsoe_multipart_get(&m, "csrf");
    assert_non_null(p);
    assert_int_equal(p->is_file, 0);
    assert_int_equal(p->len, 5);
    assert_memory_equal(p->data, "TOKEN", 5);
    p = icsoe_multipart_get(&m, "archivo");
    assert_non_null(p);
    assert_int_equal(p->is_file, 1);
    assert_string_equal(p->filename, "a.csv");
    /* a boundary string inside the data without CRLF before it is data */
    assert_int_equal(p->len, strlen("x,y--XyZz\r\n"));
    /* no closing delimiter, wrong boundary, truncated */
    assert_int_equal(icsoe_multipart_parse(body, sizeof(body) - 9, "XyZ", &m), -1);
    assert_int_equal(m.n, 0);
    assert_int_equal(icsoe_multipart_parse(body, sizeof(body) - 1, "Xy", &m), -1);
    assert_int_equal(icsoe_multipart_parse(body, 20, "XyZ", &m), -1);
    /* a delimiter followed by anything but CRLF or "--" */
    assert_int_equal(icsoe_multipart_parse("--b\r\nContent-Disposition: form-data; "
                                           "name=\"a\"\r\n\r\nx\r\n--bz", 44, "b", &m), -1);
}

static void test_multipart_refusals(void **state)
{
    static const char noname[] = "--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--";
    static const char nodisp[] = "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--";
    static const char twice[] = "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n"
                                "Content-Disposition: form-data; name=\"b\"\r\n\r\nx\r\n--b--";
    static const char empty[] = "--b--\r\n";
    icsoe_multipart m;

    (void)state;
    assert_int_equal(icsoe_multipart_parse(noname, sizeof(noname) - 1, "b", &m), -1);
    assert_int_equal(icsoe_multipart_parse(nodisp, sizeof(nodisp) - 1, "b", &m), -1);
    assert_int_equal(icsoe_multipart_parse(twice, sizeof(twice) - 1, "b", &m), -1);
    assert_int_equal(icsoe_multipart_parse(empty, sizeof(empty) - 1, "b", &m), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_kept_and_bom_dropped),
        cmocka_unit_test(test_windows_1252_converted),
        cmocka_unit_test(test_undefined_1252_byte_refused),
        cmocka_unit_test(test_damaged_utf8_is_not_reinterpreted),
        cmocka_unit_test(test_header_separators),
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_bad_separator),
        cmocka_unit_test(test_multipart),
        cmocka_unit_test(test_multipart_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
