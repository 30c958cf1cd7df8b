/* One-time tokens: shape, randomness, hashing (vectors from Python's
 * hashlib), strict rejection of malformed tokens, hash comparison. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "token.h"

#define TOKEN_COUNT 1000

static int is_b64url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static unsigned b64url_value(char c)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *p = strchr(alphabet, c);

    assert_non_null(p);
    return (unsigned)(p - alphabet);
}

static int is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void test_new_shape(void **state)
{
    char token[ICSOE_TOKEN_LEN + 1];
    char hash[ICSOE_TOKEN_HASH_HEX + 1];
    char again[ICSOE_TOKEN_HASH_HEX + 1];
    (void)state;

    assert_int_equal(icsoe_token_new(token, hash), 0);
    assert_int_equal(strlen(token), ICSOE_TOKEN_LEN);
    assert_int_equal(strlen(hash), ICSOE_TOKEN_HASH_HEX);
    for (size_t i = 0; i < ICSOE_TOKEN_LEN; i++)
        assert_true(is_b64url(token[i]));
    for (size_t i = 0; i < ICSOE_TOKEN_HASH_HEX; i++)
        assert_true(is_lower_hex(hash[i]));
    /* the returned hash is the hash of the returned token */
    assert_int_equal(icsoe_token_hash(token, again), 0);
    assert_string_equal(hash, again);
}

static int cmp_token(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_new_unique(void **state)
{
    char (*tokens)[ICSOE_TOKEN_LEN + 1] = calloc(TOKEN_COUNT, sizeof(*tokens));
    char hash[ICSOE_TOKEN_HASH_HEX + 1];
    unsigned long ones = 0;
    (void)state;

    assert_non_null(tokens);
    for (size_t i = 0; i < TOKEN_COUNT; i++)
        assert_int_equal(icsoe_token_new(tokens[i], hash), 0);
    qsort(tokens, TOKEN_COUNT, sizeof(*tokens), cmp_token);
    for (size_t i = 1; i < TOKEN_COUNT; i++)
        assert_string_not_equal(tokens[i - 1], tokens[i]);
    /* crude bias check: first 42 chars carry 6 random bits each; about
     * half the bits are set (expect 126000, sd ~ 355) */
    for (size_t i = 0; i < TOKEN_COUNT; i++)
        for (size_t j = 0; j < ICSOE_TOKEN_LEN - 1; j++)
            ones += (unsigned long)__builtin_popcount(b64url_value(tokens[i][j]));
    assert_in_range(ones, 122000, 130000);
    free(tokens);
}

static void test_hash_vectors(void **state)
{
    char hash[ICSOE_TOKEN_HASH_HEX + 1];
    (void)state;

    /* base64url of bytes 0..31; sha256 of that text (hashlib) */
    assert_int_equal(icsoe_token_hash("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", hash), 0);
    assert_string_equal(hash, "ea866a757e4c38babfa8127cbe9a409d3e1f93a00ff1488ff735fcf917afffd0");
    assert_int_equal(icsoe_token_hash("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", hash), 0);
    assert_string_equal(hash, "0f007385b6f9d4b7eeb2748605afe1a984a0a3bfa3f014d09e2a784ce9e5cd1a");
    /* bytes 224..255 use both URL-safe characters */
    assert_int_equal(icsoe_token_hash("4OHi4-Tl5ufo6err7O3u7_Dx8vP09fb3-Pn6-_z9_v8", hash), 0);
    assert_string_equal(hash, "d90bad97384181273203dd0f8cc30e16a817bef7a51b026eb6bf0a7fcba3312a");
}

static void expect_rejected(const char *token)
{
    char hash[ICSOE_TOKEN_HASH_HEX + 1];

    memset(hash, 'x', sizeof(hash));
    if (icsoe_token_hash(token, hash) != -1)
        fail_msg("accepted malformed token \"%s\"", token ? token : "(null)");
    assert_string_equal(hash, "");
}

static void test_hash_rejects_malformed(void **state)
{
    (void)state;
    expect_rejected(NULL);
    expect_rejected("");
    expect_rejected("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh");   /* 42 */
    expect_rejected("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8A"); /* 44 */
    expect_rejected("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="); /* padding */
    expect_rejected("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9"); /* stray bits */
    expect_rejected("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh_"); /* stray bits */
    expect_rejected("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd+h8"); /* std b64 */
    expect_rejected("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd/h8");
    expect_rejected("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd h8");
    expect_rejected("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd%h8");
    expect_rejected("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\xc3\xa9" "8"); /* é */
    expect_rejected("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n");
    /* a very long string is rejected without reading it all */
    {
        char *big = malloc(10001);
        assert_non_null(big);
        memset(big, 'A', 10000);
        big[10000] = '\0';
        expect_rejected(big);
        free(big);
    }
}

/* 44 bytes with no terminator: the length check reads at most 44. */
static void test_hash_unterminated(void **state)
{
    char *t = malloc(ICSOE_TOKEN_LEN + 1);
    char hash[ICSOE_TOKEN_HASH_HEX + 1];
    (void)state;

    assert_non_null(t);
    memset(t, 'A', ICSOE_TOKEN_LEN + 1);
    assert_int_equal(icsoe_token_hash(t, hash), -1);
    free(t);
}

static void test_hash_equal(void **state)
{
    static const char h1[] = "ea866a757e4c38babfa8127cbe9a409d3e1f93a00ff1488ff735fcf917afffd0";
    static const char h1_last[] = "ea866a757e4c38babfa8127cbe9a409d3e1f93a00ff1488ff735fcf917afffd1";
    static const char h1_first[] = "fa866a757e4c38babfa8127cbe9a409d3e1f93a00ff1488ff735fcf917afffd0";
    static const char h1_upper[] = "EA866A757E4C38BABFA8127CBE9A409D3E1F93A00FF1488FF735FCF917AFFFD0";
    char copy[sizeof(h1)];
    (void)state;

    memcpy(copy, h1, sizeof(h1));
    assert_int_equal(icsoe_token_hash_equal(h1, copy), 1);
    assert_int_equal(icsoe_token_hash_equal(h1, h1_last), 0);
    assert_int_equal(icsoe_token_hash_equal(h1, h1_first), 0);
    assert_int_equal(icsoe_token_hash_equal(h1, h1_upper), 0);
    assert_int_equal(icsoe_token_hash_equal(h1, NULL), 0);
    assert_int_equal(icsoe_token_hash_equal(NULL, h1), 0);
    assert_int_equal(icsoe_token_hash_equal(NULL, NULL), 0);
    assert_int_equal(icsoe_token_hash_equal("", ""), 0);          /* not a hash */
    assert_int_equal(icsoe_token_hash_equal("abc", "abc"), 0);
    /* a prefix is not equal, and neither is a longer string */
    assert_int_equal(icsoe_token_hash_equal(h1, "ea866a757e4c38ba"), 0);
    {
        char longer[ICSOE_TOKEN_HASH_HEX + 2];
        memcpy(longer, h1, ICSOE_TOKEN_HASH_HEX);
        longer[ICSOE_TOKEN_HASH_HEX] = '0';
        longer[ICSOE_TOKEN_HASH_HEX + 1] = '\0';
        assert_int_equal(icsoe_token_hash_equal(h1, longer), 0);
    }
}

static void test_purpose_name(void **state)
{
    (void)state;
    assert_string_equal(icsoe_token_purpose_name(ICSOE_TOKEN_ACTIVATION), "activation");
    assert_string_equal(icsoe_token_purpose_name(ICSOE_TOKEN_RESET), "reset");
    assert_string_equal(icsoe_token_purpose_name((icsoe_token_purpose)0), "unknown");
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_shape),
        cmocka_unit_test(test_new_unique),
        cmocka_unit_test(test_hash_vectors),
        cmocka_unit_test(test_hash_rejects_malformed),
        cmocka_unit_test(test_hash_unterminated),
        cmocka_unit_test(test_hash_equal),
        cmocka_unit_test(test_purpose_name),
    };
    return cmocka_run_group_tests_name("token", tests, NULL, NULL);
}
