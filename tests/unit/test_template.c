/* icsoe_template_render, icsoe_html_escape, icsoe_template_read_file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "template.h"

static const icsoe_tvar vars[] = {
    { "nombre", "Jos\xc3\xa9 <b>\"P\xc3\xa9rez\" & 'hijos'</b>" },
    { "curp", "GODE561231HDFRRN09" },
    { "vacio", NULL },
    { "html", "<p>ya escapado</p>" },
    { "a_1", "x" },
};
#define NVARS (sizeof(vars) / sizeof(vars[0]))

static char *render(const char *t, icsoe_escape esc, size_t maxout, char *err)
{
    return icsoe_template_render(t, strlen(t), vars, NVARS, esc, maxout, err, 128);
}

static void expect(const char *t, icsoe_escape esc, const char *want)
{
    char err[128] = "unset";
    char *got = render(t, esc, 4096, err);

    if (got == NULL)
        fail_msg("render failed: %s", err);
    assert_string_equal(got, want);
    assert_string_equal(err, "");
    free(got);
}

static void expect_error(const char *t, const char *want_err)
{
    char err[128] = "";
    char *got = render(t, ICSOE_ESC_HTML, 4096, err);

    assert_null(got);
    assert_string_equal(err, want_err);
}

static void test_html_escaping(void **state)
{
    (void)state;
    expect("<p>Hola {{nombre}}</p>", ICSOE_ESC_HTML,
           "<p>Hola Jos\xc3\xa9 &lt;b&gt;&quot;P\xc3\xa9rez&quot; &amp; &#39;hijos&#39;&lt;/b&gt;</p>");
    expect("{{curp}}{{curp}}", ICSOE_ESC_HTML, "GODE561231HDFRRN09GODE561231HDFRRN09");
    expect("[{{vacio}}]", ICSOE_ESC_HTML, "[]");
    expect("", ICSOE_ESC_HTML, "");
    expect("sin variables { } }} {x}", ICSOE_ESC_HTML, "sin variables { } }} {x}");
    expect("{{a_1}}", ICSOE_ESC_HTML, "x");
}

static void test_raw_and_text_mode(void **state)
{
    (void)state;
    expect("<div>{{&html}}</div>", ICSOE_ESC_HTML, "<div><p>ya escapado</p></div>");
    expect("Hola {{nombre}}", ICSOE_ESC_NONE,
           "Hola Jos\xc3\xa9 <b>\"P\xc3\xa9rez\" & 'hijos'</b>");
    expect("{{&nombre}}", ICSOE_ESC_NONE, "Jos\xc3\xa9 <b>\"P\xc3\xa9rez\" & 'hijos'</b>");
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("hola\n\n{{desconocida}}", "line 3: unknown variable 'desconocida'");
    expect_error("a\n{{curp", "line 2: unterminated tag");
    expect_error("{{curp}}\n{{curp}\n", "line 2: unterminated tag");
    expect_error("x {{", "line 1: unterminated tag");
    const char *malformed[] = {
        "{{ curp }}", "{{Curp}}", "{{}}", "{{&}}", "{{cu-rp}}", "{{#curp}}",
        "{{curp\n}}", "{{&&curp}}", "{{abcdefghijabcdefghijabcdefghijabc}}",
    };
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        char err[128] = "";
        char *got = render(malformed[i], ICSOE_ESC_HTML, 4096, err);
        if (got != NULL)
            fail_msg("accepted '%s'", malformed[i]);
        if (strncmp(err, "line 1: malformed tag", 21) != 0)
            fail_msg("'%s': unexpected error '%s'", malformed[i], err);
    }
    /* 32 characters is the longest name, and it is then simply unknown */
    expect_error("{{abcdefghijabcdefghijabcdefghijab}}",
                 "line 1: unknown variable 'abcdefghijabcdefghijabcdefghijab'");
}

static void test_nul_in_template(void **state)
{
    char err[128] = "";
    (void)state;

    assert_null(icsoe_template_render("a\nb\0c", 5, vars, NVARS, ICSOE_ESC_HTML, 100, err, sizeof(err)));
    assert_string_equal(err, "line 2: NUL byte");
}

static void test_length_is_respected(void **state)
{
    char err[128] = "";
    char *got;
    (void)state;

    /* only len bytes: the tag after them is not rendered */
    got = icsoe_template_render("ab{{curp}}", 2, vars, NVARS, ICSOE_ESC_HTML, 100, err, sizeof(err));
    assert_non_null(got);
    assert_string_equal(got, "ab");
    free(got);
}

static void test_output_cap(void **state)
{
    char err[128] = "";
    char *got;
    (void)state;

    /* "GODE561231HDFRRN09" is 18 bytes: fits in 19 with the NUL, not in 18 */
    got = render("{{curp}}", ICSOE_ESC_HTML, 19, err);
    assert_non_null(got);
    assert_string_equal(got, "GODE561231HDFRRN09");
    free(got);
    got = render("{{curp}}", ICSOE_ESC_HTML, 18, err);
    assert_null(got);
    assert_string_equal(err, "line 1: output larger than 17 bytes");
    /* escaping growth counts: "&" becomes 5 bytes */
    got = render("x\n{{nombre}}", ICSOE_ESC_HTML, 20, err);
    assert_null(got);
    assert_string_equal(err, "line 2: output larger than 19 bytes");
    /* literal text alone can overflow too */
    got = render("0123456789", ICSOE_ESC_NONE, 10, err);
    assert_null(got);
    assert_string_equal(err, "line 1: output larger than 9 bytes");
}

static void test_html_escape(void **state)
{
    char *s;
    (void)state;

    s = icsoe_html_escape("a&b<c>d\"e'f\xc3\xb1");
    assert_non_null(s);
    assert_string_equal(s, "a&amp;b&lt;c&gt;d&quot;e&#39;f\xc3\xb1");
    free(s);
    s = icsoe_html_escape(NULL);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
}

static void test_read_file(void **state)
{
    char dir[] = "/tmp/icsoe-tmpl-XXXXXX";
    char path[128];
    char err[256] = "";
    size_t len = 99;
    char *s;
    FILE *fp;
    (void)state;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/login.html", dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("<p>{{curp}}</p>\n", fp);
    fclose(fp);

    s = icsoe_template_read_file(path, 1024, &len, err, sizeof(err));
    assert_non_null(s);
    assert_string_equal(s, "<p>{{curp}}</p>\n");
    assert_int_equal(len, 16);
    free(s);

    /* exactly at the cap is fine, one byte less is not */
    s = icsoe_template_read_file(path, 16, &len, err, sizeof(err));
    assert_non_null(s);
    free(s);
    s = icsoe_template_read_file(path, 15, &len, err, sizeof(err));
    assert_null(s);
    assert_non_null(strstr(err, "login.html: larger than 15 bytes"));

    /* a directory is not a template */
    s = icsoe_template_read_file(dir, 1024, &len, err, sizeof(err));
    assert_null(s);
    assert_non_null(strstr(err, "not a regular file"));

    /* a FIFO must not block */
    snprintf(path, sizeof(path), "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    s = icsoe_template_read_file(path, 1024, &len, err, sizeof(err));
    assert_null(s);
    assert_non_null(strstr(err, "not a regular file"));
    unlink(path);

    snprintf(path, sizeof(path), "%s/missing.html", dir);
    s = icsoe_template_read_file(path, 1024, &len, err, sizeof(err));
    assert_null(s);
    assert_non_null(strstr(err, "missing.html: No such file"));

    snprintf(path, sizeof(path), "%s/login.html", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_escaping),
        cmocka_unit_test(test_raw_and_text_mode),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_nul_in_template),
        cmocka_unit_test(test_length_is_respected),
        cmocka_unit_test(test_output_cap),
        cmocka_unit_test(test_html_escape),
        cmocka_unit_test(test_read_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
