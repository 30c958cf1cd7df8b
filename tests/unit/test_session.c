/* Sealed session cookies, key files, CSRF tokens. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include "secure.h"
#include "session.h"
#include "session_cache.h"

#define SITE "icsoe.example.org"
#define COOKIE_BUF 1100

static const unsigned char key_a[32] = "0123456789abcdef0123456789abcdef";
static const unsigned char key_b[32] = "fedcba9876543210fedcba9876543210";

typedef struct fixture {
    icsoe_keyring *a;   /* [A] */
    icsoe_keyring *b;   /* [B] */
    icsoe_keyring *ab;  /* [A, B] */
    icsoe_session s;
    char dir[64];
} fixture;

static void fill_session(icsoe_session *s)
{
    assert_int_equal(icsoe_session_start(s, 1700000000), 0);
    s->last_seen = 1700000123;
    s->validated = -5; /* signed values survive */
    s->epoch = INT64_MAX;
    memcpy(s->curp, "GODE561231HDFRRN09", 19);
    snprintf(s->name, sizeof(s->name), "Jos\xc3\xa9 P\xc3\xa9rez Pe\xc3\xb1" "a");
    snprintf(s->rfc, sizeof(s->rfc), "A\xc3\x91" "C010101AB1");
    snprintf(s->contractor_name, sizeof(s->contractor_name), "Constructora \"Norte\" & Hijos, S.A.");
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->a = icsoe_keyring_new();
    f->b = icsoe_keyring_new();
    f->ab = icsoe_keyring_new();
    assert_int_equal(icsoe_keyring_add_key(f->a, key_a), 0);
    assert_int_equal(icsoe_keyring_add_key(f->b, key_b), 0);
    assert_int_equal(icsoe_keyring_add_key(f->ab, key_a), 0);
    assert_int_equal(icsoe_keyring_add_key(f->ab, key_b), 0);
    fill_session(&f->s);
    snprintf(f->dir, sizeof(f->dir), "/tmp/icsoe-session-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    return 0;
}

/* The test directory holds only plain files (and "nodir" never exists). */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        assert_int_equal(unlink(path), 0);
    }
    closedir(d);
    assert_int_equal(rmdir(dir), 0);
}

static int teardown(void **state)
{
    fixture *f = *state;

    icsoe_keyring_free(f->a);
    icsoe_keyring_free(f->b);
    icsoe_keyring_free(f->ab);
    remove_dir(f->dir);
    free(f);
    return 0;
}

static size_t seal(const icsoe_keyring *kr, const icsoe_session *s, char *out)
{
    return icsoe_session_seal(kr, s, SITE, out, COOKIE_BUF);
}

static void assert_refused(const icsoe_keyring *kr, const char *c, size_t n, const char *site)
{
    icsoe_session out;

    memset(&out, 0x5a, sizeof(out));
    assert_int_equal(icsoe_session_open(kr, c, n, site, &out), ICSOE_ERR_INVALID_INPUT);
    /* a refused cookie leaves nothing usable behind */
    const unsigned char *p = (const unsigned char *)&out;
    for (size_t i = 0; i < sizeof(out); i++)
        if (p[i] != 0)
            fail_msg("byte %zu of the output not zeroed", i);
}

static void test_round_trip(void **state)
{
    fixture *f = *state;
    char c[COOKIE_BUF];
    icsoe_session out;
    size_t n = seal(f->a, &f->s, c);

    assert_true(n > 0);
    assert_int_equal(n, strlen(c));
    assert_true(n <= ICSOE_SESSION_MAX_COOKIE);
    assert_int_equal(strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), n);
    assert_int_equal(icsoe_session_open(f->a, c, n, SITE, &out), ICSOE_OK);
    assert_true(out.issued == 1700000000);
    assert_true(out.last_seen == 1700000123);
    assert_true(out.validated == -5);
    assert_true(out.epoch == INT64_MAX);
    assert_string_equal(out.curp, "GODE561231HDFRRN09");
    assert_string_equal(out.name, f->s.name);
    assert_string_equal(out.rfc, f->s.rfc);
    assert_string_equal(out.contractor_name, f->s.contractor_name);
    assert_memory_equal(out.csrf, f->s.csrf, ICSOE_SESSION_CSRF_BYTES);
}

static void test_pre_login_session(void **state)
{
    fixture *f = *state;
    icsoe_session s;
    icsoe_session out;
    char c[COOKIE_BUF];
    size_t n;
    (void)f;

    assert_int_equal(icsoe_session_start(&s, 42), 0);
    n = seal(f->a, &s, c);
    assert_true(n > 0);
    assert_int_equal(icsoe_session_open(f->a, c, n, SITE, &out), ICSOE_OK);
    assert_string_equal(out.curp, "");
    assert_string_equal(out.rfc, "");
    assert_string_equal(out.name, "");
    assert_true(out.issued == 42 && out.last_seen == 42 && out.validated == 42);
    assert_memory_equal(out.csrf, s.csrf, ICSOE_SESSION_CSRF_BYTES);
}

static void test_longest_fields(void **state)
{
    fixture *f = *state;
    icsoe_session s = f->s;
    icsoe_session out;
    char c[COOKIE_BUF];
    size_t n;

    /* 100 two-byte characters = 200 bytes, the maximum */
    for (int i = 0; i < 100; i++) {
        memcpy(s.name + 2 * i, "\xc3\xb1", 2);
        memcpy(s.contractor_name + 2 * i, "\xc3\x91", 2);
    }
    s.name[200] = '\0';
    s.contractor_name[200] = '\0';
    snprintf(s.rfc, sizeof(s.rfc), "\xc3\x91\xc3\x91\xc3\x91\xc3\x91" "010101AB1");
    n = seal(f->a, &s, c);
    assert_true(n > 0 && n <= ICSOE_SESSION_MAX_COOKIE);
    assert_int_equal(icsoe_session_open(f->a, c, n, SITE, &out), ICSOE_OK);
    assert_string_equal(out.name, s.name);
    assert_string_equal(out.rfc, s.rfc);
}

static void test_seal_refuses_bad_sessions(void **state)
{
    fixture *f = *state;
    char c[COOKIE_BUF];
    icsoe_session s;

    s = f->s; memcpy(s.curp, "gode561231hdfrrn09", 19);
    assert_int_equal(seal(f->a, &s, c), 0);
    assert_string_equal(c, "");
    s = f->s; s.curp[17] = '\0'; /* 17 characters */
    assert_int_equal(seal(f->a, &s, c), 0);
    s = f->s; snprintf(s.name, sizeof(s.name), "Juan\r\nSet-Cookie: x");
    assert_int_equal(seal(f->a, &s, c), 0);
    s = f->s; snprintf(s.contractor_name, sizeof(s.contractor_name), "bad \xc3 utf8");
    assert_int_equal(seal(f->a, &s, c), 0);
    s = f->s; snprintf(s.rfc, sizeof(s.rfc), "ABC-10101AB1");
    assert_int_equal(seal(f->a, &s, c), 0);
    s = f->s; snprintf(s.rfc, sizeof(s.rfc), "ABC010101");
    assert_int_equal(seal(f->a, &s, c), 0);
    s = f->s; memset(s.name, 'x', sizeof(s.name)); /* unterminated */
    assert_int_equal(seal(f->a, &s, c), 0);
    /* no key, small buffer */
    icsoe_keyring *empty = icsoe_keyring_new();
    assert_int_equal(icsoe_session_seal(empty, &f->s, SITE, c, sizeof(c)), 0);
    icsoe_keyring_free(empty);
    assert_int_equal(icsoe_session_seal(f->a, &f->s, SITE, c, 100), 0);
    assert_int_equal(icsoe_session_seal(NULL, &f->s, SITE, c, sizeof(c)), 0);
}

static void test_tamper_every_byte(void **state)
{
    fixture *f = *state;
    char c[COOKIE_BUF];
    char t[COOKIE_BUF];
    unsigned char bin[800];
    size_t n = seal(f->a, &f->s, c);
    long bn = icsoe_b64url_decode(c, n, bin, sizeof(bin));

    assert_true(bn > 0);
    for (long i = 0; i < bn; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            bin[i] ^= (unsigned char)(1u << bit);
            icsoe_b64url_encode(bin, (size_t)bn, t);
            assert_refused(f->ab, t, strlen(t), SITE);
            bin[i] ^= (unsigned char)(1u << bit);
        }
    }
    /* and every character of the text form */
    for (size_t i = 0; i < n; i++) {
        memcpy(t, c, n + 1);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        assert_refused(f->ab, t, n, SITE);
    }
}

static void test_truncated_and_extended(void **state)
{
    fixture *f = *state;
    char c[COOKIE_BUF];
    size_t n = seal(f->a, &f->s, c);

    for (size_t len = 0; len < n; len++)
        assert_refused(f->a, c, len, SITE);
    c[n] = 'A';
    c[n + 1] = 'A';
    c[n + 2] = '\0';
    assert_refused(f->a, c, n + 2, SITE);
}

static void test_wrong_site(void **state)
{
    fixture *f = *state;
    char c[COOKIE_BUF];
    size_t n = seal(f->a, &f->s, c);
    icsoe_session out;

    assert_refused(f->a, c, n, "other.example.org");
    assert_refused(f->a, c, n, "icsoe.example.or");
    assert_refused(f->a, c, n, "");
    assert_int_equal(icsoe_session_open(f->a, c, n, SITE, &out), ICSOE_OK);
}

static void test_other_key_refused(void **state)
{
    fixture *f = *state;
    char c[COOKIE_BUF];
    size_t n = seal(f->a, &f->s, c);

    assert_refused(f->b, c, n, SITE);
}

static void test_rotation(void **state)
{
    fixture *f = *state;
    char c[COOKIE_BUF];
    icsoe_session out;
    size_t n;

    /* an old cookie sealed with B still opens on the ring [A, B] */
    n = seal(f->b, &f->s, c);
    assert_int_equal(icsoe_session_open(f->ab, c, n, SITE, &out), ICSOE_OK);
    assert_string_equal(out.curp, "GODE561231HDFRRN09");
    /* the ring [A, B] seals with A: [A] opens it, [B] does not */
    n = seal(f->ab, &f->s, c);
    assert_int_equal(icsoe_session_open(f->a, c, n, SITE, &out), ICSOE_OK);
    assert_refused(f->b, c, n, SITE);
    assert_int_equal(icsoe_keyring_count(f->ab), 2);
}

static void test_fresh_nonce(void **state)
{
    fixture *f = *state;
    char c1[COOKIE_BUF];
    char c2[COOKIE_BUF];
    unsigned char b1[800];
    unsigned char b2[800];
    size_t n1 = seal(f->a, &f->s, c1);
    size_t n2 = seal(f->a, &f->s, c2);

    assert_int_equal(n1, n2);
    assert_string_not_equal(c1, c2);
    assert_true(icsoe_b64url_decode(c1, n1, b1, sizeof(b1)) > 17);
    assert_true(icsoe_b64url_decode(c2, n2, b2, sizeof(b2)) > 17);
    assert_memory_equal(b1, b2, 5);                 /* version, key id */
    assert_memory_not_equal(b1 + 5, b2 + 5, 12);    /* nonce */
}

static void test_oversize_and_garbage(void **state)
{
    fixture *f = *state;
    char big[ICSOE_SESSION_MAX_COOKIE + 2];
    (void)f;

    memset(big, 'A', sizeof(big));
    big[sizeof(big) - 1] = '\0';
    assert_refused(f->a, big, ICSOE_SESSION_MAX_COOKIE + 1, SITE);
    assert_refused(f->a, big, ICSOE_SESSION_MAX_COOKIE, SITE);
    assert_refused(f->a, "", 0, SITE);
    assert_refused(f->a, "!!!!", 4, SITE);
    assert_refused(f->a, "AQ==", 4, SITE);
    assert_refused(f->a, "AQID BAUG", 9, SITE);
    assert_refused(f->a, "A", 1, SITE);
    assert_refused(NULL, "AAAA", 4, SITE);
    assert_refused(f->a, NULL, 4, SITE);
    assert_int_equal(icsoe_session_open(f->a, "AAAA", 4, SITE, NULL), ICSOE_ERR_INVALID_INPUT);
}

/* Build a cookie the way session.h documents it, with any payload: proves
 * the documented format and lets the payload parser be attacked. */
static size_t forge(const unsigned char key[32], const unsigned char *pt, size_t n,
                    const char *site, char *out)
{
    unsigned char bin[1024];
    unsigned char digest[32];
    unsigned int dlen = 0;
    int l = 0;
    int fin = 0;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

    assert_int_equal(EVP_Digest(key, 32, digest, &dlen, EVP_sha256(), NULL), 1);
    bin[0] = 1;
    memcpy(bin + 1, digest, 4);
    memset(bin + 5, 7, 12);
    assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, bin + 5), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &l, (const unsigned char *)"icsoe-session-v1", 17), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &l, (const unsigned char *)site, (int)strlen(site)), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, bin + 17, &l, pt, (int)n), 1);
    assert_int_equal(EVP_EncryptFinal_ex(ctx, bin + 17 + l, &fin), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, bin + 17 + n), 1);
    EVP_CIPHER_CTX_free(ctx);
    icsoe_b64url_encode(bin, 17 + n + 16, out);
    return strlen(out);
}

/* A valid payload: format, 4 times, csrf, curp, rfc, name, contractor. */
static size_t payload(unsigned char *p, const char *curp, const char *rfc,
                      const char *name, const char *cname)
{
    size_t o = 0;
    const char *str[4] = { curp, rfc, name, cname };

    p[o++] = 1;
    memset(p + o, 0, 32);
    p[o + 7] = 9; /* issued = 9 */
    o += 32;
    memset(p + o, 0xab, 16);
    o += 16;
    for (int i = 0; i < 4; i++) {
        size_t n = strlen(str[i]);
        p[o++] = (unsigned char)n;
        memcpy(p + o, str[i], n);
        o += n;
    }
    return o;
}

static void test_documented_format(void **state)
{
    fixture *f = *state;
    unsigned char p[600];
    char c[COOKIE_BUF];
    icsoe_session out;
    size_t n = payload(p, "GODE561231HDFRRN09", "ABC010101AB1", "Ana", "Norte");
    size_t cn = forge(key_a, p, n, SITE, c);

    assert_int_equal(icsoe_session_open(f->a, c, cn, SITE, &out), ICSOE_OK);
    assert_true(out.issued == 9);
    assert_string_equal(out.curp, "GODE561231HDFRRN09");
    assert_string_equal(out.rfc, "ABC010101AB1");
    assert_string_equal(out.name, "Ana");
    assert_string_equal(out.contractor_name, "Norte");
}

static void test_strict_payload(void **state)
{
    fixture *f = *state;
    unsigned char p[600];
    char c[COOKIE_BUF];
    char longname[260];
    size_t n;

    /* trailing byte */
    n = payload(p, "GODE561231HDFRRN09", "", "Ana", "");
    p[n++] = 0;
    assert_refused(f->a, c, forge(key_a, p, n, SITE, c), SITE);
    /* a length running past the end */
    n = payload(p, "GODE561231HDFRRN09", "", "Ana", "");
    p[n - 1] = 5;
    assert_refused(f->a, c, forge(key_a, p, n, SITE, c), SITE);
    /* truncated before the strings */
    assert_refused(f->a, c, forge(key_a, p, 40, SITE, c), SITE);
    /* unknown payload format */
    n = payload(p, "", "", "", "");
    p[0] = 2;
    assert_refused(f->a, c, forge(key_a, p, n, SITE, c), SITE);
    /* bad fields */
    n = payload(p, "GODE561231hdfrrn09", "", "", "");
    assert_refused(f->a, c, forge(key_a, p, n, SITE, c), SITE);
    n = payload(p, "GODE561231HDFRRN0", "", "", "");
    assert_refused(f->a, c, forge(key_a, p, n, SITE, c), SITE);
    n = payload(p, "", "ABC010101AB1ABC010101AB1ABC01010", "", "");
    assert_refused(f->a, c, forge(key_a, p, n, SITE, c), SITE);
    n = payload(p, "", "abc010101ab1", "", "");
    assert_refused(f->a, c, forge(key_a, p, n, SITE, c), SITE);
    n = payload(p, "", "", "Ana\nBcc: x", "");
    assert_refused(f->a, c, forge(key_a, p, n, SITE, c), SITE);
    n = payload(p, "", "", "", "Norte\r");
    assert_refused(f->a, c, forge(key_a, p, n, SITE, c), SITE);
    n = payload(p, "", "", "\xed\xa0\x80", "");
    assert_refused(f->a, c, forge(key_a, p, n, SITE, c), SITE);
    memset(longname, 'x', 201);
    longname[201] = '\0';
    n = payload(p, "", "", longname, "");
    assert_refused(f->a, c, forge(key_a, p, n, SITE, c), SITE);
    /* an embedded NUL inside a name */
    n = payload(p, "", "", "Ana", "");
    p[n - 3] = '\0';
    assert_refused(f->a, c, forge(key_a, p, n, SITE, c), SITE);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd;

    /* a fresh file each time: the previous one may be mode 0400, which
       only root could reopen for writing */
    assert_true(unlink(path) == 0 || errno == ENOENT);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void test_key_files(void **state)
{
    fixture *f = *state;
    char path[128];
    char err[256];
    char c[COOKIE_BUF];
    icsoe_session out;
    icsoe_keyring *kr = icsoe_keyring_new();
    static const char hex_a[] =
        "30313233343536373839616263646566"
        "30313233343536373839616263646566"; /* key_a */
    char text[80];

    snprintf(path, sizeof(path), "%s/session.key", f->dir);
    /* with newline */
    snprintf(text, sizeof(text), "%s\n", hex_a);
    write_file(path, text, 0600);
    assert_int_equal(icsoe_keyring_add_file(kr, path, err, sizeof(err)), 0);
    assert_int_equal(icsoe_keyring_count(kr), 1);
    /* it is key_a: opens what ring [A] sealed */
    size_t n = seal(f->a, &f->s, c);
    assert_int_equal(icsoe_session_open(kr, c, n, SITE, &out), ICSOE_OK);
    /* without newline, uppercase, mode 0400 */
    snprintf(text, sizeof(text), "%s", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    write_file(path, text, 0400);
    assert_int_equal(icsoe_keyring_add_file(kr, path, err, sizeof(err)), 0);
    assert_int_equal(icsoe_keyring_count(kr), 2);

    /* permissions */
    static const mode_t bad_modes[] = { 0644, 0640, 0604, 0620, 0602, 0610 };
    for (size_t i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); i++) {
        snprintf(text, sizeof(text), "%s\n", hex_a);
        write_file(path, text, bad_modes[i]);
        assert_int_equal(icsoe_keyring_add_file(kr, path, err, sizeof(err)), -1);
        char want[256];
        snprintf(want, sizeof(want), "session key %s: readable by group or others (chmod 600)", path);
        assert_string_equal(err, want);
    }
    assert_int_equal(icsoe_keyring_count(kr), 2);

    /* contents */
    static const char *bad[] = {
        "",
        "\n",
        "303132333435363738396162636465663031323334353637383961626364656",    /* 63 */
        "30313233343536373839616263646566303132333435363738396162636465660", /* 65 */
        "3031323334353637383961626364656630313233343536373839616263646566\n\n",
        "3031323334353637383961626364656630313233343536373839616263646566\r\n",
        " 3031323334353637383961626364656630313233343536373839616263646566",
        "g031323334353637383961626364656630313233343536373839616263646566",
        "303132333435363738396162636465663031323334353637383961626364656 ",
        "0x3132333435363738396162636465663031323334353637383961626364656",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char want[256];
        write_file(path, bad[i], 0600);
        assert_int_equal(icsoe_keyring_add_file(kr, path, err, sizeof(err)), -1);
        snprintf(want, sizeof(want), "session key %s: must be 64 hex characters (32 bytes)", path);
        assert_string_equal(err, want);
    }
    assert_int_equal(icsoe_keyring_count(kr), 2);

    /* missing file and a directory */
    snprintf(path, sizeof(path), "%s/missing.key", f->dir);
    assert_int_equal(icsoe_keyring_add_file(kr, path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "missing.key: No such file"));
    assert_int_equal(chmod(f->dir, 0700), 0);
    assert_int_equal(icsoe_keyring_add_file(kr, f->dir, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a regular file"));
    icsoe_keyring_free(kr);
}

static void test_keyring_limit(void **state)
{
    icsoe_keyring *kr = icsoe_keyring_new();
    unsigned char key[32] = { 0 };
    (void)state;

    for (int i = 0; i < 8; i++) {
        key[0] = (unsigned char)i;
        assert_int_equal(icsoe_keyring_add_key(kr, key), 0);
    }
    key[0] = 99;
    assert_int_equal(icsoe_keyring_add_key(kr, key), -1);
    assert_int_equal(icsoe_keyring_count(kr), 8);
    icsoe_keyring_free(kr);
    assert_int_equal(icsoe_keyring_count(NULL), 0);
}

static void test_keyfile_generate(void **state)
{
    fixture *f = *state;
    char path[128];
    char err[256];
    char first[80] = "";
    char second[80] = "";
    struct stat st;
    FILE *fp;
    icsoe_keyring *kr = icsoe_keyring_new();
    mode_t old = umask(0); /* the file is 0600 whatever the umask */

    snprintf(path, sizeof(path), "%s/new.key", f->dir);
    assert_int_equal(icsoe_keyfile_generate(path, 0, err, sizeof(err)), 0);
    umask(old);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, 65);
    fp = fopen(path, "r");
    assert_non_null(fp);
    assert_non_null(fgets(first, sizeof(first), fp));
    fclose(fp);
    assert_int_equal(strspn(first, "0123456789abcdef"), 64);
    assert_string_equal(first + 64, "\n");
    assert_int_equal(icsoe_keyring_add_file(kr, path, err, sizeof(err)), 0);

    /* no overwrite without force; the old key is intact */
    assert_int_equal(icsoe_keyfile_generate(path, 0, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "already exists"));
    assert_non_null(strstr(err, path));
    fp = fopen(path, "r");
    assert_non_null(fgets(second, sizeof(second), fp));
    fclose(fp);
    assert_string_equal(first, second);

    /* force replaces it (even a 0644 file) with a new key, mode 0600 */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(icsoe_keyfile_generate(path, 1, err, sizeof(err)), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    fp = fopen(path, "r");
    assert_non_null(fgets(second, sizeof(second), fp));
    fclose(fp);
    assert_string_not_equal(first, second);
    assert_int_equal(icsoe_keyring_add_file(kr, path, err, sizeof(err)), 0);
    icsoe_keyring_free(kr);

    /* a directory that does not exist: clear error, nothing created */
    snprintf(path, sizeof(path), "%s/nodir/x.key", f->dir);
    assert_int_equal(icsoe_keyfile_generate(path, 0, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "nodir/x.key"));
    assert_int_equal(icsoe_keyfile_generate(path, 1, err, sizeof(err)), -1);
}

static void test_csrf(void **state)
{
    fixture *f = *state;
    char tok[32];
    char bad[40];
    icsoe_session other;
    icsoe_session zero;

    icsoe_session_csrf_token(&f->s, tok);
    assert_int_equal(strlen(tok), 22);
    assert_true(icsoe_session_csrf_ok(&f->s, tok));

    memcpy(bad, tok, 23);
    bad[21] = bad[21] == 'A' ? 'B' : 'A';
    assert_false(icsoe_session_csrf_ok(&f->s, bad));
    memcpy(bad, tok, 23);
    bad[21] = '\0'; /* too short */
    assert_false(icsoe_session_csrf_ok(&f->s, bad));
    snprintf(bad, sizeof(bad), "%sA", tok); /* too long */
    assert_false(icsoe_session_csrf_ok(&f->s, bad));
    assert_false(icsoe_session_csrf_ok(&f->s, ""));
    assert_false(icsoe_session_csrf_ok(&f->s, NULL));
    /* the same 16 bytes written another way (the last symbol's 4 unused
     * bits set) or with a symbol outside base64url are refused too */
    {
        static const char abc[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        size_t v = (size_t)(strchr(abc, tok[21]) - abc);

        memcpy(bad, tok, 23);
        bad[21] = abc[v | 1];
        assert_false(icsoe_session_csrf_ok(&f->s, bad));
        memcpy(bad, tok, 23);
        bad[0] = '+';
        assert_false(icsoe_session_csrf_ok(&f->s, bad));
        memcpy(bad, tok, 23);
        bad[0] = bad[0] == 'A' ? 'B' : 'A';
        assert_false(icsoe_session_csrf_ok(&f->s, bad));
    }

    /* another session's token is refused */
    assert_int_equal(icsoe_session_start(&other, 1), 0);
    assert_false(icsoe_session_csrf_ok(&other, tok));
    /* a session with no secret accepts nothing, not even its own token */
    memset(&zero, 0, sizeof(zero));
    icsoe_session_csrf_token(&zero, tok);
    assert_false(icsoe_session_csrf_ok(&zero, tok));
}

/* Threads share keyrings and each works in its own cipher contexts,
 * switching keys on every call (the worst case for the per-thread copies):
 * every seal opens under the ring that holds its key and under no other,
 * and a refused cookie does not spoil the next open. */
#define THREADS 4
#define ROUNDS 300

typedef struct thread_arg {
    const fixture *f;
    int failures;
} thread_arg;

static void *seal_open_loop(void *data)
{
    thread_arg *t = data;
    const fixture *f = t->f;
    char ca[COOKIE_BUF], cb[COOKIE_BUF];
    icsoe_session out;

    for (int i = 0; i < ROUNDS; i++) {
        size_t na = seal(f->a, &f->s, ca);
        size_t nb = seal(f->b, &f->s, cb);

        if (na == 0 || nb == 0 ||
            icsoe_session_open(f->ab, ca, na, SITE, &out) != ICSOE_OK ||
            memcmp(out.curp, f->s.curp, sizeof(out.curp)) != 0 ||
            icsoe_session_open(f->a, cb, nb, SITE, &out) == ICSOE_OK ||
            icsoe_session_open(f->ab, cb, nb, "other.example.org", &out) == ICSOE_OK ||
            icsoe_session_open(f->b, cb, nb, SITE, &out) != ICSOE_OK ||
            icsoe_session_open(f->b, ca, na, SITE, &out) == ICSOE_OK)
            t->failures++;
    }
    return NULL;
}

static void test_threads(void **state)
{
    fixture *f = *state;
    pthread_t tid[THREADS];
    thread_arg args[THREADS];

    for (int i = 0; i < THREADS; i++) {
        args[i].f = f;
        args[i].failures = 0;
        assert_int_equal(pthread_create(&tid[i], NULL, seal_open_loop, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(tid[i], NULL), 0);
        assert_int_equal(args[i].failures, 0);
    }
}

/* A keyring freed and another made with a different key: this thread's
 * contexts must follow the key, not the address. */
static void test_keyring_remade(void **state)
{
    fixture *f = *state;
    char c[COOKIE_BUF];
    icsoe_session out;
    size_t n;

    for (int i = 0; i < 20; i++) {
        icsoe_keyring *kr = icsoe_keyring_new();

        assert_non_null(kr);
        assert_int_equal(icsoe_keyring_add_key(kr, i % 2 ? key_a : key_b), 0);
        n = seal(kr, &f->s, c);
        assert_true(n > 0);
        assert_int_equal(icsoe_session_open(kr, c, n, SITE, &out), ICSOE_OK);
        assert_int_equal(icsoe_session_open(i % 2 ? f->a : f->b, c, n, SITE, &out),
                         ICSOE_OK);
        assert_int_not_equal(icsoe_session_open(i % 2 ? f->b : f->a, c, n, SITE, &out),
                             ICSOE_OK);
        icsoe_keyring_free(kr);
    }
    /* the cache's key-set id: distinct per keyring, 0 when empty */
    {
        icsoe_keyring *empty = icsoe_keyring_new();

        assert_int_equal(icsoe_keyring_id(empty), 0);
        assert_int_not_equal(icsoe_keyring_id(f->a), 0);
        assert_int_not_equal(icsoe_keyring_id(f->a), icsoe_keyring_id(f->b));
        assert_int_not_equal(icsoe_keyring_id(f->a), icsoe_keyring_id(f->ab));
        icsoe_keyring_free(empty);
    }
}

/* ---- the cache of opened cookies (session_cache.h) ---- */

static void cookie_text(char *buf, size_t len, char fill, const char *tail)
{
    memset(buf, fill, len);
    memcpy(buf + len - strlen(tail), tail, strlen(tail));
    buf[len] = '\0';
}

static void test_cache_exact_match(void **state)
{
    fixture *f = *state;
    icsoe_session_cache *c = icsoe_session_cache_new(64);
    static const int owner_a, owner_b;
    char cookie[300], other[300];
    icsoe_session out;

    assert_non_null(c);
    cookie_text(cookie, 271, 'Q', "tagTAG12");
    assert_int_equal(icsoe_session_cache_get(c, &owner_a, 7, cookie, 271, &out), 0);
    icsoe_session_cache_put(c, &owner_a, 7, cookie, 271, &f->s);
    memset(&out, 0, sizeof(out));
    assert_int_equal(icsoe_session_cache_get(c, &owner_a, 7, cookie, 271, &out), 1);
    assert_memory_equal(&out, &f->s, sizeof(out));
    /* any byte different, a prefix, another owner or key set: a miss */
    for (size_t i = 0; i < 271; i += 27) {
        memcpy(other, cookie, sizeof(cookie));
        other[i] ^= 1;
        assert_int_equal(icsoe_session_cache_get(c, &owner_a, 7, other, 271, &out), 0);
    }
    memcpy(other, cookie, sizeof(cookie));
    other[270] = 'X';
    assert_int_equal(icsoe_session_cache_get(c, &owner_a, 7, other, 271, &out), 0);
    assert_int_equal(icsoe_session_cache_get(c, &owner_a, 7, cookie, 270, &out), 0);
    assert_int_equal(icsoe_session_cache_get(c, &owner_b, 7, cookie, 271, &out), 0);
    assert_int_equal(icsoe_session_cache_get(c, &owner_a, 8, cookie, 271, &out), 0);
    assert_int_equal(icsoe_session_cache_get(c, NULL, 7, cookie, 271, &out), 0);
    icsoe_session_cache_free(c);
    icsoe_session_cache_free(NULL);
}

static void test_cache_evicts_and_bounds(void **state)
{
    fixture *f = *state;
    icsoe_session_cache *c = icsoe_session_cache_new(1);
    static const int owner;
    char a[300], b[300], huge[800];
    icsoe_session other = f->s, out;

    assert_non_null(c);
    /* the same last characters pick the same slot: b replaces a */
    cookie_text(a, 200, 'a', "sameTAIL");
    cookie_text(b, 200, 'b', "sameTAIL");
    memcpy(other.curp, "XEXX010101HNEXXXA4", 19);
    icsoe_session_cache_put(c, &owner, 1, a, 200, &f->s);
    icsoe_session_cache_put(c, &owner, 1, b, 200, &other);
    assert_int_equal(icsoe_session_cache_get(c, &owner, 1, a, 200, &out), 0);
    assert_int_equal(icsoe_session_cache_get(c, &owner, 1, b, 200, &out), 1);
    assert_string_equal(out.curp, "XEXX010101HNEXXXA4");
    /* longer than any sealed cookie: never stored */
    cookie_text(huge, 721, 'h', "hugeTAIL");
    icsoe_session_cache_put(c, &owner, 1, huge, 721, &f->s);
    assert_int_equal(icsoe_session_cache_get(c, &owner, 1, huge, 721, &out), 0);
    icsoe_session_cache_free(c);
}

/* Threads storing and reading their own cookies in a small cache (many
 * evictions): a hit always returns the session stored for those bytes. */
#define CACHE_COOKIES 8

typedef struct cache_arg {
    icsoe_session_cache *c;
    const fixture *f;
    int id;
    int wrong;
} cache_arg;

static void *cache_loop(void *data)
{
    cache_arg *t = data;
    static const int owner;

    for (int i = 0; i < 2000; i++) {
        char cookie[64];
        icsoe_session s = t->f->s, out;
        int k = (i * 7 + t->id) % CACHE_COOKIES;

        snprintf(cookie, sizeof(cookie), "cookie-of-thread-%d-number-%d", t->id, k);
        snprintf(s.curp, sizeof(s.curp), "T%dK%d", t->id, k);
        icsoe_session_cache_put(t->c, &owner, 3, cookie, strlen(cookie), &s);
        if (icsoe_session_cache_get(t->c, &owner, 3, cookie, strlen(cookie), &out) &&
            strcmp(out.curp, s.curp) != 0)
            t->wrong++;
    }
    return NULL;
}

static void test_cache_threads(void **state)
{
    icsoe_session_cache *c = icsoe_session_cache_new(16);
    pthread_t tid[THREADS];
    cache_arg args[THREADS];

    assert_non_null(c);
    for (int i = 0; i < THREADS; i++) {
        args[i] = (cache_arg){c, *state, i, 0};
        assert_int_equal(pthread_create(&tid[i], NULL, cache_loop, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(tid[i], NULL), 0);
        assert_int_equal(args[i].wrong, 0);
    }
    icsoe_session_cache_free(c);
}

/* A cookie stored when it is sealed gives back exactly what opening it
 * gives, even when the session handed to the seal carries bytes after
 * its strings' NULs. */
static void test_cache_put_at_seal_is_canonical(void **state)
{
    fixture *f = *state;
    icsoe_session_cache *c = icsoe_session_cache_new(64);
    static const int owner;
    icsoe_session dirty = f->s, opened, cached;
    char cookie[COOKIE_BUF];
    size_t n;

    assert_non_null(c);
    memset(dirty.name + strlen(dirty.name) + 1, 'Z', 10);
    memset(dirty.rfc + strlen(dirty.rfc) + 1, 'Y',
           sizeof(dirty.rfc) - strlen(dirty.rfc) - 1);
    n = seal(f->a, &dirty, cookie);
    assert_true(n > 0);
    icsoe_session_cache_put(c, &owner, 1, cookie, n, &dirty);
    assert_int_equal(icsoe_session_open(f->a, cookie, n, SITE, &opened), ICSOE_OK);
    assert_int_equal(icsoe_session_cache_get(c, &owner, 1, cookie, n, &cached), 1);
    assert_memory_equal(&cached, &opened, sizeof(opened));
    icsoe_session_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pre_login_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_longest_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seal_refuses_bad_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_every_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_and_extended, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_site, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_key_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fresh_nonce, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversize_and_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_documented_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strict_payload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_files, setup, teardown),
        cmocka_unit_test(test_keyring_limit),
        cmocka_unit_test_setup_teardown(test_keyfile_generate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csrf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyring_remade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_exact_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_evicts_and_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_put_at_seal_is_canonical, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
