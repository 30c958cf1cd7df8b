/* lib/secure.c: base64url (RFC 4648 section 5 vectors, round trips, strict
 * rejection), constant-time comparison, wiping, the kernel RNG. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "secure.h"

typedef struct b64_vector {
    const char *raw;
    size_t rawlen;
    const char *enc;
} b64_vector;

/* RFC 4648 test vectors without padding, plus bytes that need '-' '_'. */
static const b64_vector vectors[] = {
    { "", 0, "" },
    { "f", 1, "Zg" },
    { "fo", 2, "Zm8" },
    { "foo", 3, "Zm9v" },
    { "foob", 4, "Zm9vYg" },
    { "fooba", 5, "Zm9vYmE" },
    { "foobar", 6, "Zm9vYmFy" },
    { "\xfb\xff", 2, "-_8" },
    { "\xff\xff\xff", 3, "____" },
    { "\xfb\xef\xbe", 3, "----" },
    { "\x00\x00\x00\x00", 4, "AAAAAA" },
};

static void test_b64url_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const b64_vector *v = &vectors[i];
        char enc[32];
        unsigned char dec[32];

        assert_int_equal(icsoe_b64url_len(v->rawlen), strlen(v->enc));
        icsoe_b64url_encode((const unsigned char *)v->raw, v->rawlen, enc);
        assert_string_equal(enc, v->enc);
        assert_int_equal(icsoe_b64url_decode(v->enc, strlen(v->enc), dec, sizeof(dec)),
                         (long)v->rawlen);
        assert_memory_equal(dec, v->raw, v->rawlen);
    }
}

static void test_b64url_round_trips(void **state)
{
    unsigned char raw[100], dec[100];
    char enc[140];
    (void)state;

    for (size_t n = 0; n <= sizeof(raw); n++) {
        assert_int_equal(icsoe_random(raw, n), 0);
        icsoe_b64url_encode(raw, n, enc);
        assert_int_equal(strlen(enc), icsoe_b64url_len(n));
        assert_null(strpbrk(enc, "+/="));
        /* exact output room works, one byte less is refused */
        assert_int_equal(icsoe_b64url_decode(enc, strlen(enc), dec, n), (long)n);
        assert_memory_equal(dec, raw, n);
        if (n > 0)
            assert_int_equal(icsoe_b64url_decode(enc, strlen(enc), dec, n - 1), -1);
    }
}

/* The table-free encoder (secrets) and the table one (sealed cookies)
 * give the alphabet's symbols: every 1- and 2-byte input (each 6-bit
 * value in each place of a group), then random inputs of every length
 * up to 100. */
static void ref_encode(const unsigned char *in, size_t n, char *out)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned acc = 0;
    int bits = 0;

    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            *out++ = abc[(acc >> bits) & 63];
        }
    }
    if (bits > 0)
        *out++ = abc[(acc << (6 - bits)) & 63];
    *out = '\0';
}

static void check_encoders(const unsigned char *in, size_t n)
{
    char want[140], got[140], got_public[140];

    ref_encode(in, n, want);
    icsoe_b64url_encode(in, n, got);
    icsoe_b64url_encode_public(in, n, got_public);
    assert_string_equal(got, want);
    assert_string_equal(got_public, want);
}

static void test_b64url_encoders_agree(void **state)
{
    unsigned char raw[100];

    (void)state;
    for (unsigned v = 0; v < 65536; v++) {
        raw[0] = (unsigned char)(v >> 8);
        raw[1] = (unsigned char)v;
        raw[2] = (unsigned char)(v * 7);
        check_encoders(raw, 1);
        check_encoders(raw, 2);
        check_encoders(raw, 3);
    }
    for (size_t n = 0; n <= sizeof(raw); n++) {
        assert_int_equal(icsoe_random(raw, n), 0);
        check_encoders(raw, n);
    }
}

static void expect_bad(const char *in, size_t len)
{
    unsigned char dec[64];

    if (icsoe_b64url_decode(in, len, dec, sizeof(dec)) != -1)
        fail_msg("decoder accepted \"%.*s\"", (int)len, in);
}

static void test_b64url_rejects(void **state)
{
    (void)state;
    expect_bad("Zg==", 4);        /* padding */
    expect_bad("Zm9v+A", 6);      /* standard alphabet */
    expect_bad("Zm9v/A", 6);
    expect_bad("Zm9 v", 5);       /* whitespace */
    expect_bad("Zm9v\n", 5);
    expect_bad("Zm9v\0Zg", 7);    /* NUL inside the counted length */
    expect_bad("Z", 1);           /* length 1 mod 4 */
    expect_bad("Zm9vY", 5);
    expect_bad("Zh", 2);          /* non-canonical: stray low bits */
    expect_bad("Zm9", 3);
    expect_bad("-_9", 3);
    expect_bad("Zm9v\xc3\xa9", 6); /* non-ASCII */
    expect_bad("Zm9v%41", 7);
    /* a bad character anywhere in a whole 4-character group (decoded a
     * group at a time) or in the tail */
    for (size_t i = 0; i < 10; i++) {
        char s[] = "Zm9vYmFyZm8";

        s[i] = '=';
        expect_bad(s, 11);
        s[i] = '\x80';
        expect_bad(s, 11);
    }
}

static void test_b64url_outmax(void **state)
{
    unsigned char dec[4] = { 0xAA, 0xAA, 0xAA, 0xAA };
    (void)state;

    assert_int_equal(icsoe_b64url_decode("Zm9v", 4, dec, 2), -1);
    assert_int_equal(dec[2], 0xAA); /* nothing written past outmax */
    assert_int_equal(icsoe_b64url_decode("Zm9v", 4, dec, 3), 3);
    assert_int_equal(icsoe_b64url_decode("", 0, dec, 0), 0);
    /* only inlen bytes are read: a prefix decodes on its own */
    assert_int_equal(icsoe_b64url_decode("Zm9vYmFy", 4, dec, 4), 3);
    assert_memory_equal(dec, "foo", 3);
}

static void test_memeq_ct(void **state)
{
    unsigned char a[64], b[64];
    (void)state;

    assert_int_equal(icsoe_random(a, sizeof(a)), 0);
    memcpy(b, a, sizeof(a));
    assert_int_equal(icsoe_memeq_ct(a, b, sizeof(a)), 1);
    assert_int_equal(icsoe_memeq_ct(a, b, 0), 1);
    for (size_t i = 0; i < sizeof(a); i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            b[i] ^= (unsigned char)(1u << bit);
            assert_int_equal(icsoe_memeq_ct(a, b, sizeof(a)), 0);
            b[i] ^= (unsigned char)(1u << bit);
        }
    }
    /* differences beyond n do not count */
    b[10] ^= 1;
    assert_int_equal(icsoe_memeq_ct(a, b, 10), 1);
    assert_int_equal(icsoe_memeq_ct(a, b, 11), 0);
}

static void test_wipe(void **state)
{
    unsigned char buf[32];
    unsigned char zero[32] = { 0 };
    char *secret;
    (void)state;

    memset(buf, 0x5A, sizeof(buf));
    icsoe_wipe(buf, 16);
    assert_memory_equal(buf, zero, 16);
    assert_int_equal(buf[16], 0x5A); /* only n bytes */
    icsoe_wipe(NULL, 10);            /* tolerated */
    icsoe_wipe(buf, 0);

    secret = strdup("contraseña muy secreta");
    assert_non_null(secret);
    icsoe_free_secret(secret); /* valgrind: no leak */
    icsoe_free_secret(NULL);
}

static void test_random(void **state)
{
    unsigned char a[32] = { 0 }, b[32] = { 0 }, zero[32] = { 0 };
    unsigned char big[70000];
    (void)state;

    assert_int_equal(icsoe_random(a, sizeof(a)), 0);
    assert_int_equal(icsoe_random(b, sizeof(b)), 0);
    assert_memory_not_equal(a, zero, sizeof(a));
    assert_memory_not_equal(a, b, sizeof(a));
    assert_int_equal(icsoe_random(a, 0), 0);
    /* a large request must be filled completely, even if getrandom()
     * returns it in pieces */
    memset(big, 0, sizeof(big));
    assert_int_equal(icsoe_random(big, sizeof(big)), 0);
    assert_memory_not_equal(big + sizeof(big) - 32, zero, 32);
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url_vectors),
        cmocka_unit_test(test_b64url_round_trips),
        cmocka_unit_test(test_b64url_encoders_agree),
        cmocka_unit_test(test_b64url_rejects),
        cmocka_unit_test(test_b64url_outmax),
        cmocka_unit_test(test_memeq_ct),
        cmocka_unit_test(test_wipe),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests_name("secure", tests, NULL, NULL);
}
