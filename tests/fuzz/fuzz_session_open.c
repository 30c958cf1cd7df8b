/* Fuzz target: session cookie unsealing (lib/session.c).  Fixed key ring
 * [A, B], site "icsoe.example.org".  Each input is used three ways:
 *  1. as a cookie: open must refuse it with a zeroed session, or (for a
 *     seed sealed with key A) give a session that passes the payload rules;
 *  2. as a payload: sealed here with key A exactly as session.h describes
 *     (version, key id, nonce, AES-256-GCM over the payload with the AAD),
 *     so the fuzzer reaches the payload decoder behind the tag; the result
 *     must agree with a reference decoder written from session.c's layout
 *     comment, and bit flips, another site or a ring without A refuse it;
 *  3. as session fields: a session built from the input seals exactly when
 *     its fields are valid, and opens back to the same bytes.
 * Every session that opens is sealed again and must open to itself. */
#include <openssl/evp.h>
#include "fuzz.h"
#include "input.h"
#include "secure.h"
#include "session.h"

#define SITE "icsoe.example.org"
#define COOKIE_BUF 1100
#define HEADER_BYTES 17
#define TAG_BYTES 16

static const unsigned char key_a[32] = "fuzz-key-A-0123456789abcdefghijk";
static const unsigned char key_b[32] = "fuzz-key-B-0123456789abcdefghijk";

typedef struct rings {
    icsoe_keyring *ab, *a, *b;
} rings;

static const rings *keyrings(void)
{
    static rings r;

    if (r.ab != NULL)
        return &r;
    r.ab = icsoe_keyring_new();
    r.a = icsoe_keyring_new();
    r.b = icsoe_keyring_new();
    FUZZ_CHECK(r.ab != NULL && r.a != NULL && r.b != NULL);
    FUZZ_CHECK(icsoe_keyring_add_key(r.ab, key_a) == 0);
    FUZZ_CHECK(icsoe_keyring_add_key(r.ab, key_b) == 0);
    FUZZ_CHECK(icsoe_keyring_add_key(r.a, key_a) == 0);
    FUZZ_CHECK(icsoe_keyring_add_key(r.b, key_b) == 0);
    return &r;
}

/* ---- reference payload rules ---- */

static int ref_curp(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 1;
    if (n != ICSOE_CURP_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
            return 0;
    }
    return 1;
}

static int ref_rfc(const unsigned char *s, size_t n)
{
    size_t chars = 0;

    if (n == 0)
        return 1;
    for (size_t i = 0; i < n; i++, chars++) {
        if ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '&')
            continue;
        if (s[i] == 0xc3 && i + 1 < n && s[i + 1] == 0x91) {
            i++;
            continue;
        }
        return 0;
    }
    return chars == 12 || chars == 13;
}

static int ref_name(const unsigned char *s, size_t n)
{
    return n <= ICSOE_SESSION_NAME_MAX && icsoe_text_is_safe((const char *)s, n);
}

static int64_t ref_i64(const unsigned char *p)
{
    uint64_t u = 0;

    for (int i = 0; i < 8; i++)
        u = u << 8 | p[i];
    return (int64_t)u;
}

static int ref_str(const unsigned char *p, size_t n, size_t *o, char *dst, size_t dstsz,
                   int (*ok)(const unsigned char *, size_t))
{
    size_t len;

    if (*o >= n)
        return 0;
    len = p[*o];
    if (len >= dstsz || n - *o - 1 < len || !ok(p + *o + 1, len))
        return 0;
    memcpy(dst, p + *o + 1, len);
    *o += 1 + len;
    return 1;
}

/* 1 and *s filled when the payload is valid. */
static int ref_decode(const unsigned char *p, size_t n, icsoe_session *s)
{
    size_t o = 1 + 32 + ICSOE_SESSION_CSRF_BYTES;

    memset(s, 0, sizeof(*s));
    if (n < o || p[0] != 1)
        return 0;
    s->issued = ref_i64(p + 1);
    s->last_seen = ref_i64(p + 9);
    s->validated = ref_i64(p + 17);
    s->epoch = ref_i64(p + 25);
    memcpy(s->csrf, p + 33, ICSOE_SESSION_CSRF_BYTES);
    return ref_str(p, n, &o, s->curp, sizeof(s->curp), ref_curp) &&
           ref_str(p, n, &o, s->rfc, sizeof(s->rfc), ref_rfc) &&
           ref_str(p, n, &o, s->name, sizeof(s->name), ref_name) &&
           ref_str(p, n, &o, s->contractor_name, sizeof(s->contractor_name), ref_name) &&
           o == n;
}

static int session_valid(const icsoe_session *s)
{
    return ref_curp((const unsigned char *)s->curp, strlen(s->curp)) &&
           ref_rfc((const unsigned char *)s->rfc, strlen(s->rfc)) &&
           ref_name((const unsigned char *)s->name, strlen(s->name)) &&
           ref_name((const unsigned char *)s->contractor_name, strlen(s->contractor_name));
}

static int is_zero(const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++) {
        if (b[i] != 0)
            return 0;
    }
    return 1;
}

/* Seal s with ring [A] and open it with [A, B] and [B]. */
static void check_reseal(const icsoe_session *s)
{
    char cookie[COOKIE_BUF];
    icsoe_session back;
    size_t n = icsoe_session_seal(keyrings()->a, s, SITE, cookie, sizeof(cookie));

    FUZZ_CHECK(n > 0 && n <= ICSOE_SESSION_MAX_COOKIE && n == strlen(cookie));
    FUZZ_CHECK(icsoe_session_open(keyrings()->ab, cookie, n, SITE, &back) == ICSOE_OK);
    FUZZ_CHECK(memcmp(&back, s, sizeof(back)) == 0);
    FUZZ_CHECK(icsoe_session_open(keyrings()->b, cookie, n, SITE, &back) != ICSOE_OK);
    FUZZ_CHECK(is_zero(&back, sizeof(back)));
    FUZZ_CHECK(icsoe_session_open(keyrings()->ab, cookie, n, "other.example.org", &back) !=
               ICSOE_OK);
}

/* 1: the input as a cookie. */
static void as_cookie(const uint8_t *data, size_t size)
{
    icsoe_session s;
    icsoe_status st;

    memset(&s, 0xa5, sizeof(s));
    st = icsoe_session_open(keyrings()->ab, (const char *)data, size, SITE, &s);
    if (st != ICSOE_OK) {
        FUZZ_CHECK(st == ICSOE_ERR_INVALID_INPUT);
        FUZZ_CHECK(is_zero(&s, sizeof(s)));
        return;
    }
    FUZZ_CHECK(size <= ICSOE_SESSION_MAX_COOKIE);
    FUZZ_CHECK(session_valid(&s));
    check_reseal(&s);
}

/* The key id: the first 4 bytes of SHA-256(key). */
static void key_id(const unsigned char *key, unsigned char id[4])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;

    FUZZ_CHECK(EVP_Digest(key, 32, md, &mdlen, EVP_sha256(), NULL) == 1 && mdlen >= 4);
    memcpy(id, md, 4);
}

/* Seal an arbitrary payload with key A the way session.c does. */
static size_t seal_raw(const uint8_t *pt, size_t n, unsigned char *sealed)
{
    static const char label[] = "icsoe-session-v1";
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int outl = 0, fin = 0, ok;

    FUZZ_CHECK(ctx != NULL);
    sealed[0] = 1;
    key_id(key_a, sealed + 1);
    memset(sealed + 5, 0x42, 12); /* any nonce opens; fixed keeps runs reproducible */
    ok = EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key_a, sealed + 5) == 1 &&
         EVP_EncryptUpdate(ctx, NULL, &outl, (const unsigned char *)label, sizeof(label)) == 1 &&
         EVP_EncryptUpdate(ctx, NULL, &outl, (const unsigned char *)SITE, strlen(SITE)) == 1 &&
         EVP_EncryptUpdate(ctx, sealed + HEADER_BYTES, &outl, pt, (int)n) == 1 &&
         EVP_EncryptFinal_ex(ctx, sealed + HEADER_BYTES + outl, &fin) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES,
                             sealed + HEADER_BYTES + n) == 1;
    EVP_CIPHER_CTX_free(ctx);
    FUZZ_CHECK(ok);
    return HEADER_BYTES + n + TAG_BYTES;
}

/* 2: the input as the plaintext payload behind a valid tag. */
static void as_payload(const uint8_t *data, size_t size)
{
    unsigned char sealed[1024];
    char cookie[COOKIE_BUF];
    icsoe_session got, want;
    size_t total, clen;
    int valid;

    /* Cookies over the size cap are refused before decoding. */
    if (size > 700)
        return;
    total = seal_raw(data, size, sealed);
    clen = icsoe_b64url_len(total);
    if (clen > ICSOE_SESSION_MAX_COOKIE)
        return;
    icsoe_b64url_encode(sealed, total, cookie);
    valid = ref_decode(data, size, &want);
    memset(&got, 0xa5, sizeof(got));
    if (icsoe_session_open(keyrings()->ab, cookie, clen, SITE, &got) != ICSOE_OK) {
        FUZZ_CHECK(!valid);
        FUZZ_CHECK(is_zero(&got, sizeof(got)));
        return;
    }
    FUZZ_CHECK(valid);
    FUZZ_CHECK(memcmp(&got, &want, sizeof(got)) == 0);
    check_reseal(&got);
    /* Any flipped bit in the sealed bytes is refused. */
    for (size_t i = 0; i < total; i += 1 + total / 8) {
        icsoe_session t;
        sealed[i] ^= (unsigned char)(1u << (i % 8));
        icsoe_b64url_encode(sealed, total, cookie);
        FUZZ_CHECK(icsoe_session_open(keyrings()->ab, cookie, clen, SITE, &t) != ICSOE_OK);
        sealed[i] ^= (unsigned char)(1u << (i % 8));
    }
    icsoe_b64url_encode(sealed, total, cookie);
    FUZZ_CHECK(icsoe_session_open(keyrings()->b, cookie, clen, SITE, &got) != ICSOE_OK);
    FUZZ_CHECK(icsoe_session_open(keyrings()->ab, cookie, clen, "", &got) != ICSOE_OK);
    FUZZ_CHECK(icsoe_session_open(keyrings()->ab, cookie, clen - 1, SITE, &got) != ICSOE_OK);
}

/* Copy the next field of the input (up to a NUL) into dst. */
static void take(const uint8_t *data, size_t size, size_t *pos, char *dst, size_t dstsz)
{
    size_t n = 0;

    while (*pos < size && data[*pos] != 0 && n + 1 < dstsz)
        dst[n++] = (char)data[(*pos)++];
    dst[n] = '\0';
    while (*pos < size && data[*pos] != 0) /* the rest of an overlong field */
        (*pos)++;
    if (*pos < size)
        (*pos)++;
}

/* 3: the input as session fields. */
static void as_fields(const uint8_t *data, size_t size)
{
    icsoe_session s;
    char cookie[COOKIE_BUF];
    size_t pos = 0, n;

    memset(&s, 0, sizeof(s));
    if (size >= 8)
        memcpy(&s.issued, data, 8);
    memcpy(s.csrf, key_b, sizeof(s.csrf));
    s.last_seen = s.issued ^ 0x5555;
    s.validated = ~s.issued;
    s.epoch = INT64_MIN;
    take(data, size, &pos, s.curp, sizeof(s.curp));
    take(data, size, &pos, s.rfc, sizeof(s.rfc));
    take(data, size, &pos, s.name, sizeof(s.name));
    take(data, size, &pos, s.contractor_name, sizeof(s.contractor_name));
    n = icsoe_session_seal(keyrings()->ab, &s, SITE, cookie, sizeof(cookie));
    FUZZ_CHECK((n > 0) == session_valid(&s));
    if (n > 0)
        check_reseal(&s);
    /* Too small an output buffer is an error, never an overflow. */
    FUZZ_CHECK(icsoe_session_seal(keyrings()->ab, &s, SITE, cookie, 40) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    as_cookie(data, size);
    as_payload(data, size);
    as_fields(data, size);
    return 0;
}
