/* Header prefix scrub, header value encoding, LDAP text safety. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "input.h"

static void test_prefix_matches(void **state)
{
    static const char *ours[] = {
        "X-ICSOE-CURP", "x-icsoe-curp", "X_ICSOE_CURP", "x_Icsoe-Curp",
        "X-ICSOE-Contratista-RFC", "X-ICSOE-", "x_icsoe_",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
        if (!icsoe_header_has_prefix(ours[i], "X-ICSOE-"))
            fail_msg("'%s' should match", ours[i]);
    }
    /* the prefix itself may be written with '_' or in lowercase */
    assert_true(icsoe_header_has_prefix("X-ICSOE-CURP", "x_icsoe_"));
}

static void test_prefix_non_matches(void **state)
{
    static const char *theirs[] = {
        "X-ICSOE",      /* the prefix minus its trailing '-' */
        "X-ICSOEX",
        "X-ICSOEX-CURP",
        "X-ICSO",
        "ICSOE-CURP",
        "X-IC$OE-CURP",
        "Accept",
        "",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(theirs) / sizeof(theirs[0]); i++) {
        if (icsoe_header_has_prefix(theirs[i], "X-ICSOE-"))
            fail_msg("'%s' should not match", theirs[i]);
    }
    assert_false(icsoe_header_has_prefix(NULL, "X-ICSOE-"));
    assert_false(icsoe_header_has_prefix("X-ICSOE-CURP", NULL));
    assert_false(icsoe_header_has_prefix("X-ICSOE-CURP", "")); /* matches nothing */
}

static void check_encode(const char *in, const char *want)
{
    char *got = icsoe_header_value_encode(in);

    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_value_encode(void **state)
{
    (void)state;
    check_encode("GODE561231HDFRRN09", "GODE561231HDFRRN09");
    check_encode("Jos\xc3\xa9 Pe\xc3\xb1" "a", "Jos%C3%A9 Pe%C3%B1a");
    check_encode("Construcciones P\xc3\xa9rez & Hijos", "Construcciones P%C3%A9rez & Hijos");
    check_encode("100% real", "100%25 real");
    check_encode("a\r\nb\tc\x7f" "d", "a%0D%0Ab%09c%7Fd");
    check_encode("", "");
    assert_null(icsoe_header_value_encode(NULL));
}

/* The sized form mod_icsoe uses: len bytes, not up to a NUL. */
static void test_value_encode_to(void **state)
{
    const char *in = "Pe\xc3\xb1" "a 100%\tX";
    char out[64];

    (void)state;
    assert_int_equal(icsoe_header_value_encoded_len(in, 5), 9);
    icsoe_header_value_encode_to(in, 5, out);
    assert_string_equal(out, "Pe%C3%B1a");
    assert_int_equal(icsoe_header_value_encoded_len(in, strlen(in)), 20);
    icsoe_header_value_encode_to(in, strlen(in), out);
    assert_string_equal(out, "Pe%C3%B1a 100%25%09X");
    assert_int_equal(icsoe_header_value_encoded_len("CURP18", 6), 6);
    icsoe_header_value_encode_to("", 0, out);
    assert_string_equal(out, "");
}

/* The length is counted a word at a time: every byte value, at every
 * place of a word, with the bytes around it on either side of the rule
 * (0x1f/0x20, 0x7e/0x7f, '%'), gives what the byte-by-byte rule gives. */
static size_t encoded_len_by_byte(const unsigned char *s, size_t len)
{
    size_t n = len;

    for (size_t i = 0; i < len; i++)
        if (s[i] == '%' || s[i] < 0x20 || s[i] >= 0x7f)
            n += 2;
    return n;
}

static void test_value_encoded_len_every_byte(void **state)
{
    static const unsigned char fill[] = {'A', 0x20, 0x7e, 0x1f, 0x7f, '%', 0xff, 0x80};
    unsigned char buf[40];

    (void)state;
    for (size_t f = 0; f < sizeof(fill); f++) {
        for (unsigned b = 0; b < 256; b++) {
            for (size_t at = 0; at < 19; at++) {
                for (size_t len = at + 1; len <= 19; len += 6) {
                    memset(buf, fill[f], sizeof(buf));
                    buf[3 + at] = (unsigned char)b;
                    /* from an odd address too: words are not aligned */
                    assert_int_equal(
                        icsoe_header_value_encoded_len((const char *)buf + 3, len),
                        encoded_len_by_byte(buf + 3, len));
                }
            }
        }
    }
}

/* The one-pass check answers as its definition does (no CR, LF or NUL
 * anywhere, and icsoe_utf8_valid): every string of up to four bytes drawn
 * from the bytes where UTF-8's rules change, and CR/LF/NUL among them. */
static void test_text_is_safe_matches_its_definition(void **state)
{
    static const unsigned char b[] = {
        0x00, 0x0a, 0x0d, 0x20, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0,
        0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff
    };
    const size_t nb = sizeof(b);
    unsigned char s[4];
    (void)state;

    for (size_t len = 1; len <= 4; len++) {
        size_t total = 1;

        for (size_t k = 0; k < len; k++)
            total *= nb;
        for (size_t n = 0; n < total; n++) {
            size_t m = n;
            int want;

            for (size_t k = 0; k < len; k++, m /= nb)
                s[k] = b[m % nb];
            want = memchr(s, '\r', len) == NULL && memchr(s, '\n', len) == NULL &&
                   memchr(s, '\0', len) == NULL && icsoe_utf8_valid((const char *)s, len);
            if (icsoe_text_is_safe((const char *)s, len) != want)
                fail_msg("%zu bytes %02x %02x %02x %02x: want %d", len, s[0],
                         len > 1 ? s[1] : 0, len > 2 ? s[2] : 0, len > 3 ? s[3] : 0, want);
        }
    }
}

static void test_text_is_safe(void **state)
{
    (void)state;
    assert_true(icsoe_text_is_safe("Juan P\xc3\xa9rez", strlen("Juan P\xc3\xa9rez")));
    assert_true(icsoe_text_is_safe("", 0));
    assert_true(icsoe_text_is_safe(NULL, 0));
    assert_true(icsoe_text_is_safe("\xf0\x9f\x98\x80", 4)); /* emoji, 4 bytes */
    assert_true(icsoe_text_is_safe("\xf4\x8f\xbf\xbf", 4)); /* U+10FFFF */
    assert_true(icsoe_text_is_safe("\xed\x9f\xbf", 3));     /* U+D7FF */

    assert_false(icsoe_text_is_safe("a\rb", 3));
    assert_false(icsoe_text_is_safe("a\nb", 3));
    assert_false(icsoe_text_is_safe("a\0b", 3));
    assert_false(icsoe_text_is_safe("Set-Cookie: x\r\n", 15));
    /* bad UTF-8 */
    assert_false(icsoe_text_is_safe("\xc3", 1));             /* truncated */
    assert_false(icsoe_text_is_safe("\xc3(", 2));
    assert_false(icsoe_text_is_safe("\x80", 1));             /* lone continuation */
    assert_false(icsoe_text_is_safe("\xc0\xaf", 2));         /* overlong '/' */
    assert_false(icsoe_text_is_safe("\xc1\xbf", 2));
    assert_false(icsoe_text_is_safe("\xe0\x80\xaf", 3));     /* overlong */
    assert_false(icsoe_text_is_safe("\xf0\x80\x80\xaf", 4)); /* overlong */
    assert_false(icsoe_text_is_safe("\xed\xa0\x80", 3));     /* surrogate U+D800 */
    assert_false(icsoe_text_is_safe("\xed\xbf\xbf", 3));     /* surrogate U+DFFF */
    assert_false(icsoe_text_is_safe("\xf4\x90\x80\x80", 4)); /* U+110000 */
    assert_false(icsoe_text_is_safe("\xf5\x80\x80\x80", 4));
    assert_false(icsoe_text_is_safe("\xff", 1));
    assert_false(icsoe_text_is_safe("\xe2\x82", 2));         /* truncated euro */
    assert_false(icsoe_text_is_safe("\xe2\x28\xa1", 3));
    /* only len bytes are examined */
    assert_true(icsoe_text_is_safe("ok\n", 2));
    assert_false(icsoe_text_is_safe(NULL, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix_matches),
        cmocka_unit_test(test_prefix_non_matches),
        cmocka_unit_test(test_value_encode),
        cmocka_unit_test(test_value_encode_to),
        cmocka_unit_test(test_value_encoded_len_every_byte),
        cmocka_unit_test(test_text_is_safe),
        cmocka_unit_test(test_text_is_safe_matches_its_definition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
