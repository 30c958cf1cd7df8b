/* Sealed session cookies: AES-256-GCM from OpenSSL libcrypto, nothing
 * home-made.  See session.h for the cookie layout.
 *
 * Speed: each key gets two EVP_CIPHER_CTX templates (encrypt, decrypt)
 * with the key schedule expanded once when the key is added.  The
 * templates are never used for an operation, only read by
 * EVP_CIPHER_CTX_copy, so one keyring can be shared by all threads of an
 * Apache worker after start-up (adding keys is start-up only and not
 * thread-safe).  Each thread works in its own contexts, copied from a
 * template only when the key changes (see "working contexts" below), so a
 * seal or an open on a known key only sets the nonce.
 *
 * Payload (the plaintext, version 1), strict binary, big-endian:
 *   u8  format (1)
 *   i64 issued | i64 last_seen | i64 validated | i64 epoch
 *   16  csrf secret
 *   u8 len + curp            (0 or 18 bytes of [A-Z0-9])
 *   u8 len + rfc             (0, or 12-13 characters of [A-Z0-9&] or "Ñ")
 *   u8 len + name            (0..200 bytes, icsoe_text_is_safe)
 *   u8 len + contractor_name (0..200 bytes, icsoe_text_is_safe)
 * and nothing after.  The same checks run before sealing, so a session
 * that could not be opened is never issued. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "err.h"
#include "fileperm.h"
#include "input.h"
#include "secure.h"
#include "session.h"

#define KEYRING_MAX 8
#define KEY_ID_BYTES 4
#define NONCE_BYTES 12
#define TAG_BYTES 16
#define COOKIE_VERSION 1
#define PAYLOAD_FORMAT 1
#define HEADER_BYTES (1 + KEY_ID_BYTES + NONCE_BYTES)
#define KEY_HEX_CHARS (2 * ICSOE_SESSION_KEY_BYTES)
/* 1 + 4*8 + 16 + (1+18) + (1+31) + (1+200) + (1+200) */
#define PAYLOAD_MAX (1 + 32 + ICSOE_SESSION_CSRF_BYTES + 1 + ICSOE_CURP_LEN + \
                     1 + (ICSOE_RFC_BUFSZ - 1) + 2 * (1 + ICSOE_SESSION_NAME_MAX))
#define SEALED_MAX (HEADER_BYTES + PAYLOAD_MAX + TAG_BYTES)
/* Largest binary a cookie under the size cap can decode to. */
#define DECODED_MAX (ICSOE_SESSION_MAX_COOKIE / 4 * 3 + 2)

static const char aad_label[] = "icsoe-session-v1"; /* + NUL + site */

typedef struct keyring_key {
    unsigned char key[ICSOE_SESSION_KEY_BYTES];
    unsigned char id[KEY_ID_BYTES];
    uint64_t serial;     /* unique in the process, never reused */
    EVP_CIPHER_CTX *enc; /* template: key expanded, never used directly */
    EVP_CIPHER_CTX *dec;
} keyring_key;

struct icsoe_keyring {
    size_t n;
    keyring_key k[KEYRING_MAX];
};


/* ---- working contexts ----
 *
 * Why: copying a template into a fresh context and freeing it again was a
 * third of the instructions of opening a cookie, on every protected
 * request.  A thread keeps one working context per direction and copies a
 * template into it only when the key it holds is not the one wanted; the
 * common case just sets the nonce (EVP_CipherInit_ex with only an IV
 * resets the GCM state).  A context is identified by the serial of the key
 * it was copied from: serials come from a process-wide counter and are
 * never reused, so a key freed and another allocated at the same address
 * are never confused.  A thread's contexts are freed when it exits
 * (pthread key destructor); icsoe_keyring_free drops the calling thread's
 * copies of the keys it frees (icsoectl, tests).  Another thread's copy of
 * a freed key stays until that thread exits or takes another key: in
 * Apache keyrings are freed only when the process is done with them. */

typedef struct work_ctx {
    EVP_CIPHER_CTX *ctx;
    uint64_t serial; /* of the key copied into ctx; 0: none */
} work_ctx;

typedef struct thread_work {
    work_ctx enc;
    work_ctx dec;
} thread_work;

static pthread_key_t work_key;
static pthread_once_t work_once = PTHREAD_ONCE_INIT;
static int work_key_made;
static uint64_t next_serial = 1; /* __atomic_fetch_add */

static void work_ctx_clear(work_ctx *w)
{
    EVP_CIPHER_CTX_free(w->ctx); /* cleanses the expanded key */
    w->ctx = NULL;
    w->serial = 0;
}

static void thread_work_free(void *data)
{
    thread_work *tw = data;

    work_ctx_clear(&tw->enc);
    work_ctx_clear(&tw->dec);
    free(tw);
}

static void work_key_make(void)
{
    work_key_made = pthread_key_create(&work_key, thread_work_free) == 0;
}

/* A module unloaded by a restart must not leave a key whose destructor
 * points into unmapped code. */
__attribute__((destructor)) static void work_key_unmake(void)
{
    if (work_key_made) {
        thread_work *tw = pthread_getspecific(work_key);

        if (tw != NULL)
            thread_work_free(tw);
        pthread_key_delete(work_key);
        work_key_made = 0;
    }
}

static thread_work *thread_work_get(int create)
{
    thread_work *tw;

    if (pthread_once(&work_once, work_key_make) != 0 || !work_key_made)
        return NULL;
    tw = pthread_getspecific(work_key);
    if (tw == NULL && create) {
        tw = calloc(1, sizeof(*tw));
        if (tw != NULL && pthread_setspecific(work_key, tw) != 0) {
            free(tw);
            tw = NULL;
        }
    }
    return tw;
}

/* The calling thread's context for k (enc or dec), the key in place;
 * NULL on failure. */
static EVP_CIPHER_CTX *work_ctx_for(const keyring_key *k, int enc)
{
    thread_work *tw = thread_work_get(1);
    work_ctx *w;

    if (tw == NULL)
        return NULL;
    w = enc ? &tw->enc : &tw->dec;
    if (w->serial == k->serial)
        return w->ctx;
    if (w->ctx == NULL && (w->ctx = EVP_CIPHER_CTX_new()) == NULL)
        return NULL;
    if (EVP_CIPHER_CTX_copy(w->ctx, enc ? k->enc : k->dec) != 1) {
        work_ctx_clear(w);
        return NULL;
    }
    w->serial = k->serial;
    return w->ctx;
}

/* After a failed operation the context's state is unknown: copy afresh
 * next time. */
static void work_ctx_forget(int enc)
{
    thread_work *tw = thread_work_get(0);

    if (tw != NULL)
        (enc ? &tw->enc : &tw->dec)->serial = 0;
}

/* Drop the calling thread's copies of a key being freed. */
static void work_ctx_drop_key(uint64_t serial)
{
    thread_work *tw = thread_work_get(0);

    if (tw == NULL)
        return;
    if (tw->enc.serial == serial)
        work_ctx_clear(&tw->enc);
    if (tw->dec.serial == serial)
        work_ctx_clear(&tw->dec);
}

/* ---- keyring ---- */

icsoe_keyring *icsoe_keyring_new(void)
{
    return calloc(1, sizeof(icsoe_keyring));
}

static void key_clear(keyring_key *k)
{
    if (k->serial != 0)
        work_ctx_drop_key(k->serial);
    EVP_CIPHER_CTX_free(k->enc); /* frees cleanse the expanded schedule */
    EVP_CIPHER_CTX_free(k->dec);
    icsoe_wipe(k, sizeof(*k));
}

void icsoe_keyring_free(icsoe_keyring *kr)
{
    if (kr == NULL)
        return;
    for (size_t i = 0; i < kr->n; i++)
        key_clear(&kr->k[i]);
    icsoe_wipe(kr, sizeof(*kr));
    free(kr);
}

size_t icsoe_keyring_count(const icsoe_keyring *kr)
{
    return kr != NULL ? kr->n : 0;
}

uint64_t icsoe_keyring_id(const icsoe_keyring *kr)
{
    return kr != NULL && kr->n > 0 ? kr->k[0].serial : 0;
}

static EVP_CIPHER_CTX *gcm_template(const unsigned char *key, int enc)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

    if (ctx == NULL)
        return NULL;
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, NULL, enc) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_BYTES, NULL) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int icsoe_keyring_add_key(icsoe_keyring *kr, const unsigned char key[32])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    keyring_key *k;

    if (kr == NULL || key == NULL || kr->n >= KEYRING_MAX)
        return -1;
    k = &kr->k[kr->n];
    memcpy(k->key, key, ICSOE_SESSION_KEY_BYTES);
    /* The key id only picks the key to try; it reveals 32 bits of a hash
     * of a 256-bit key, which gives nothing away. */
    if (EVP_Digest(key, ICSOE_SESSION_KEY_BYTES, digest, &dlen, EVP_sha256(), NULL) != 1)
        goto fail;
    memcpy(k->id, digest, KEY_ID_BYTES);
    k->enc = gcm_template(key, 1);
    k->dec = gcm_template(key, 0);
    if (k->enc == NULL || k->dec == NULL)
        goto fail;
    k->serial = __atomic_fetch_add(&next_serial, 1, __ATOMIC_RELAXED);
    kr->n++;
    return 0;

fail:
    key_clear(k);
    return -1;
}

/* Same rule as icsoe_check_secret_file (conf.c), applied to the open
 * descriptor so the file checked is the file read. */
static int key_file_mode_ok(int fd, const char *path, char *err, size_t errlen)
{
    struct stat st;
    char why[512];

    if (fstat(fd, &st) != 0) {
        icsoe_set_err(err, errlen, "session key %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        icsoe_set_err(err, errlen, "session key %s: not a regular file", path);
        return -1;
    }
    if ((st.st_mode & 077) != 0) {
        icsoe_set_err(err, errlen, "session key %s: readable by group or others (chmod 600)", path);
        return -1;
    }
    /* owned by root or by us (fileperm.h) */
    if (icsoe_file_trusted(&st, path, ICSOE_FILE_KEY, why, sizeof(why)) != 0) {
        icsoe_set_err(err, errlen, "session key %s", why);
        return -1;
    }
    return 0;
}

/* Exactly 64 hex digits and an optional single '\n'. */
static int parse_key_hex(const char *text, size_t n, unsigned char key[32])
{
    if (n == KEY_HEX_CHARS + 1 && text[KEY_HEX_CHARS] == '\n')
        n--;
    if (n != KEY_HEX_CHARS)
        return -1;
    for (size_t i = 0; i < ICSOE_SESSION_KEY_BYTES; i++) {
        int hi = icsoe_hex_value((unsigned char)text[2 * i]);
        int lo = icsoe_hex_value((unsigned char)text[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        key[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

int icsoe_keyring_add_file(icsoe_keyring *kr, const char *path, char *err,
                           size_t errlen)
{
    char text[KEY_HEX_CHARS + 2];
    unsigned char key[ICSOE_SESSION_KEY_BYTES];
    size_t n = 0;
    int rc = -1;
    int fd;

    if (kr == NULL || path == NULL) {
        icsoe_set_err(err, errlen, "session key: invalid arguments");
        return -1;
    }
    if (kr->n >= KEYRING_MAX) {
        icsoe_set_err(err, errlen, "session key %s: at most %d keys", path, KEYRING_MAX);
        return -1;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        icsoe_set_err(err, errlen, "session key %s: %s", path, strerror(errno));
        return -1;
    }
    if (key_file_mode_ok(fd, path, err, errlen) != 0)
        goto out;
    /* Read one byte more than a valid file can hold to detect extra data. */
    while (n < sizeof(text)) {
        ssize_t got = read(fd, text + n, sizeof(text) - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            icsoe_set_err(err, errlen, "session key %s: %s", path, strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    if (parse_key_hex(text, n, key) != 0) {
        icsoe_set_err(err, errlen, "session key %s: must be 64 hex characters (32 bytes)", path);
        goto out;
    }
    if (icsoe_keyring_add_key(kr, key) != 0) {
        icsoe_set_err(err, errlen, "session key %s: cannot set up AES-256-GCM", path);
        goto out;
    }
    rc = 0;

out:
    icsoe_wipe(text, sizeof(text));
    icsoe_wipe(key, sizeof(key));
    close(fd);
    return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Write the key text to fd, force mode 0600 whatever the umask, and sync. */
static int write_key_fd(int fd, const char *text, size_t n)
{
    if (fchmod(fd, 0600) != 0 || write_all(fd, text, n) != 0 || fsync(fd) != 0)
        return -1;
    return 0;
}

int icsoe_keyfile_generate(const char *path, int force, char *err, size_t errlen)
{
    static const char hexdig[] = "0123456789abcdef";
    unsigned char key[ICSOE_SESSION_KEY_BYTES];
    char text[KEY_HEX_CHARS + 1];
    char tmp[4096];
    int rc = -1;
    int fd = -1;
    int saved;

    if (path == NULL || path[0] == '\0') {
        icsoe_set_err(err, errlen, "session key: no file name");
        return -1;
    }
    if (icsoe_random(key, sizeof(key)) != 0) {
        icsoe_set_err(err, errlen, "session key %s: random number generator failed", path);
        return -1;
    }
    for (size_t i = 0; i < sizeof(key); i++) {
        text[2 * i] = hexdig[key[i] >> 4];
        text[2 * i + 1] = hexdig[key[i] & 0x0f];
    }
    text[KEY_HEX_CHARS] = '\n';

    if (!force) {
        /* O_EXCL: never replace an existing key by accident (every
         * cookie sealed with it would be refused). */
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
            icsoe_set_err(err, errlen, errno == EEXIST ?
                    "session key %s: already exists (use force to replace it)" :
                    "session key %s: %s", path, strerror(errno));
            goto out;
        }
        if (write_key_fd(fd, text, sizeof(text)) != 0 || close(fd) != 0) {
            saved = errno;
            fd = -1;
            unlink(path);
            icsoe_set_err(err, errlen, "session key %s: %s", path, strerror(saved));
            goto out;
        }
        fd = -1;
        rc = 0;
        goto out;
    }

    /* force: write a temporary file next to it and rename it into place,
     * so readers see the old key or the new one, never half a key. */
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp)) {
        icsoe_set_err(err, errlen, "session key %s: path too long", path);
        goto out;
    }
    fd = mkstemp(tmp);
    if (fd < 0) {
        icsoe_set_err(err, errlen, "session key %s: %s", path, strerror(errno));
        goto out;
    }
    if (write_key_fd(fd, text, sizeof(text)) != 0 || close(fd) != 0 ||
        rename(tmp, path) != 0) {
        saved = errno;
        fd = -1;
        unlink(tmp);
        icsoe_set_err(err, errlen, "session key %s: %s", path, strerror(saved));
        goto out;
    }
    fd = -1;
    rc = 0;

out:
    if (fd >= 0)
        close(fd);
    icsoe_wipe(key, sizeof(key));
    icsoe_wipe(text, sizeof(text));
    return rc;
}

/* ---- payload ---- */

static int curp_ok(const char *s, size_t n)
{
    if (n == 0)
        return 1;
    if (n != ICSOE_CURP_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return 0;
    }
    return 1;
}

/* Shape only (the check digit was verified when the contractor was
 * chosen): 12 or 13 characters of [A-Z0-9&], 'Ñ' as UTF-8. */
static int rfc_ok(const char *s, size_t n)
{
    size_t chars = 0;

    if (n == 0)
        return 1;
    for (size_t i = 0; i < n; i++, chars++) {
        char c = s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '&')
            continue;
        if (c == '\xc3' && i + 1 < n && s[i + 1] == '\x91') {
            i++;
            continue;
        }
        return 0;
    }
    return chars == 12 || chars == 13;
}

static int name_ok(const char *s, size_t n)
{
    return n <= ICSOE_SESSION_NAME_MAX && icsoe_text_is_safe(s, n);
}

/* Length of a char array field; SIZE_MAX-ish (bufsz) when unterminated. */
static size_t field_len(const char *s, size_t bufsz)
{
    return strnlen(s, bufsz);
}

static void put_i64(unsigned char *p, int64_t v)
{
    uint64_t u = (uint64_t)v;

    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)(u & 0xff);
        u >>= 8;
    }
}

static int64_t get_i64(const unsigned char *p)
{
    uint64_t u = 0;

    for (int i = 0; i < 8; i++)
        u = u << 8 | p[i];
    return (int64_t)u;
}

static size_t put_str(unsigned char *p, const char *s, size_t n)
{
    p[0] = (unsigned char)n;
    memcpy(p + 1, s, n);
    return 1 + n;
}

/* Serialise s into buf (PAYLOAD_MAX bytes).  0 when s is not valid. */
static size_t payload_encode(const icsoe_session *s, unsigned char *buf)
{
    size_t curp = field_len(s->curp, sizeof(s->curp));
    size_t rfc = field_len(s->rfc, sizeof(s->rfc));
    size_t name = field_len(s->name, sizeof(s->name));
    size_t cname = field_len(s->contractor_name, sizeof(s->contractor_name));
    size_t o = 0;

    if (curp >= sizeof(s->curp) || rfc >= sizeof(s->rfc) || name >= sizeof(s->name) ||
        cname >= sizeof(s->contractor_name) || !curp_ok(s->curp, curp) ||
        !rfc_ok(s->rfc, rfc) || !name_ok(s->name, name) ||
        !name_ok(s->contractor_name, cname))
        return 0;
    buf[o++] = PAYLOAD_FORMAT;
    put_i64(buf + o, s->issued);
    put_i64(buf + o + 8, s->last_seen);
    put_i64(buf + o + 16, s->validated);
    put_i64(buf + o + 24, s->epoch);
    o += 32;
    memcpy(buf + o, s->csrf, ICSOE_SESSION_CSRF_BYTES);
    o += ICSOE_SESSION_CSRF_BYTES;
    o += put_str(buf + o, s->curp, curp);
    o += put_str(buf + o, s->rfc, rfc);
    o += put_str(buf + o, s->name, name);
    o += put_str(buf + o, s->contractor_name, cname);
    return o;
}

/* Read a length-prefixed string into dst (dstsz bytes, NUL added). */
static int get_str(const unsigned char *p, size_t n, size_t *o, char *dst,
                   size_t dstsz, int (*valid)(const char *, size_t))
{
    size_t len;

    if (*o >= n)
        return -1;
    len = p[*o];
    if (len >= dstsz || n - *o - 1 < len)
        return -1;
    memcpy(dst, p + *o + 1, len);
    dst[len] = '\0';
    *o += 1 + len;
    return valid(dst, len) ? 0 : -1;
}

static int payload_decode(const unsigned char *p, size_t n, icsoe_session *s)
{
    size_t o = 1 + 32 + ICSOE_SESSION_CSRF_BYTES;

    if (n < o || p[0] != PAYLOAD_FORMAT)
        return -1;
    s->issued = get_i64(p + 1);
    s->last_seen = get_i64(p + 9);
    s->validated = get_i64(p + 17);
    s->epoch = get_i64(p + 25);
    memcpy(s->csrf, p + 33, ICSOE_SESSION_CSRF_BYTES);
    if (get_str(p, n, &o, s->curp, sizeof(s->curp), curp_ok) != 0 ||
        get_str(p, n, &o, s->rfc, sizeof(s->rfc), rfc_ok) != 0 ||
        get_str(p, n, &o, s->name, sizeof(s->name), name_ok) != 0 ||
        get_str(p, n, &o, s->contractor_name, sizeof(s->contractor_name), name_ok) != 0)
        return -1;
    return o == n ? 0 : -1; /* no trailing bytes */
}

/* ---- AEAD ---- */

/* The label, its NUL (it separates label and site) and the site, given to
 * GCM in one update.  A site name is a host name (at most 255 bytes);
 * anything longer is refused rather than truncated. */
#define AAD_MAX (sizeof(aad_label) + 255)

static int gcm_aad(EVP_CIPHER_CTX *ctx, const char *site)
{
    unsigned char aad[AAD_MAX];
    size_t slen = strlen(site);
    int outl = 0;

    if (slen > AAD_MAX - sizeof(aad_label))
        return 0;
    memcpy(aad, aad_label, sizeof(aad_label));
    memcpy(aad + sizeof(aad_label), site, slen);
    return EVP_CipherUpdate(ctx, NULL, &outl, aad,
                            (int)(sizeof(aad_label) + slen)) == 1;
}

static int seal_with(const keyring_key *k, const unsigned char *nonce,
                     const char *site, const unsigned char *pt, size_t n,
                     unsigned char *ct, unsigned char *tag)
{
    EVP_CIPHER_CTX *ctx = work_ctx_for(k, 1);
    int outl = 0;
    int fin = 0;
    int ok;

    if (ctx == NULL)
        return 0;
    ok = EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) == 1 &&
         gcm_aad(ctx, site) &&
         EVP_EncryptUpdate(ctx, ct, &outl, pt, (int)n) == 1 &&
         EVP_EncryptFinal_ex(ctx, ct + outl, &fin) == 1 &&
         (size_t)(outl + fin) == n &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, tag) == 1;
    if (!ok)
        work_ctx_forget(1);
    return ok;
}

static int open_with(const keyring_key *k, const unsigned char *nonce,
                     const char *site, const unsigned char *ct, size_t n,
                     const unsigned char *tag, unsigned char *pt)
{
    EVP_CIPHER_CTX *ctx = work_ctx_for(k, 0);
    unsigned char tagbuf[TAG_BYTES];
    int outl = 0;
    int fin = 0;
    int ok;

    if (ctx == NULL)
        return 0;
    memcpy(tagbuf, tag, TAG_BYTES); /* the ctrl takes a non-const pointer */
    ok = EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, nonce) == 1 &&
         gcm_aad(ctx, site) &&
         EVP_DecryptUpdate(ctx, pt, &outl, ct, (int)n) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, tagbuf) == 1 &&
         EVP_DecryptFinal_ex(ctx, pt + outl, &fin) == 1 &&
         (size_t)(outl + fin) == n;
    if (!ok)
        work_ctx_forget(0);
    return ok;
}

size_t icsoe_session_seal(const icsoe_keyring *kr, const icsoe_session *s,
                          const char *site, char *out, size_t outlen)
{
    unsigned char pt[PAYLOAD_MAX];
    unsigned char sealed[SEALED_MAX];
    const keyring_key *k;
    size_t n;
    size_t total;
    size_t enclen = 0;

    if (out != NULL && outlen > 0)
        out[0] = '\0';
    if (kr == NULL || kr->n == 0 || s == NULL || site == NULL || out == NULL)
        return 0;
    k = &kr->k[0];
    n = payload_encode(s, pt);
    if (n == 0)
        goto out;
    total = HEADER_BYTES + n + TAG_BYTES;
    if (icsoe_b64url_len(total) + 1 > outlen ||
        icsoe_b64url_len(total) > ICSOE_SESSION_MAX_COOKIE)
        goto out;
    sealed[0] = COOKIE_VERSION;
    memcpy(sealed + 1, k->id, KEY_ID_BYTES);
    /* A fresh random nonce per seal: 96 random bits keep the chance of a
     * repeat negligible for far more seals than a key will ever make. */
    if (icsoe_random(sealed + 1 + KEY_ID_BYTES, NONCE_BYTES) != 0)
        goto out;
    if (!seal_with(k, sealed + 1 + KEY_ID_BYTES, site, pt, n,
                   sealed + HEADER_BYTES, sealed + HEADER_BYTES + n))
        goto out;
    icsoe_b64url_encode_public(sealed, total, out);
    enclen = icsoe_b64url_len(total);

out:
    icsoe_wipe(pt, sizeof(pt));
    return enclen;
}

static void copy_field(char *dst, const char *src, size_t size)
{
    size_t n = strnlen(src, size - 1);

    memcpy(dst, src, n);
    dst[n] = '\0';
}

void icsoe_session_canonical(const icsoe_session *in, icsoe_session *out)
{
    memset(out, 0, sizeof(*out));
    out->issued = in->issued;
    out->last_seen = in->last_seen;
    out->validated = in->validated;
    out->epoch = in->epoch;
    memcpy(out->csrf, in->csrf, sizeof(out->csrf));
    copy_field(out->curp, in->curp, sizeof(out->curp));
    copy_field(out->rfc, in->rfc, sizeof(out->rfc));
    copy_field(out->name, in->name, sizeof(out->name));
    copy_field(out->contractor_name, in->contractor_name, sizeof(out->contractor_name));
}

icsoe_status icsoe_session_open(const icsoe_keyring *kr, const char *cookie,
                                size_t len, const char *site, icsoe_session *out)
{
    unsigned char sealed[DECODED_MAX];
    unsigned char pt[DECODED_MAX];
    icsoe_status st = ICSOE_ERR_INVALID_INPUT;
    const unsigned char *nonce;
    const unsigned char *ct;
    size_t ctlen;
    long dec;

    if (out == NULL)
        return ICSOE_ERR_INVALID_INPUT;
    memset(out, 0, sizeof(*out));
    /* The size cap comes first: an attacker's megabyte cookie costs a
     * comparison, not a decode. */
    if (kr == NULL || cookie == NULL || site == NULL || len == 0 ||
        len > ICSOE_SESSION_MAX_COOKIE)
        return ICSOE_ERR_INVALID_INPUT;
    dec = icsoe_b64url_decode(cookie, len, sealed, sizeof(sealed));
    if (dec < (long)(HEADER_BYTES + 1 + TAG_BYTES) || dec > (long)SEALED_MAX ||
        sealed[0] != COOKIE_VERSION)
        return ICSOE_ERR_INVALID_INPUT;
    nonce = sealed + 1 + KEY_ID_BYTES;
    ct = sealed + HEADER_BYTES;
    ctlen = (size_t)dec - HEADER_BYTES - TAG_BYTES;
    /* The key id selects candidates; a collision of ids between two keys
     * of the ring only costs one more tag check. */
    for (size_t i = 0; i < kr->n; i++) {
        const keyring_key *k = &kr->k[i];
        if (memcmp(k->id, sealed + 1, KEY_ID_BYTES) != 0)
            continue;
        if (!open_with(k, nonce, site, ct, ctlen, ct + ctlen, pt))
            continue;
        if (payload_decode(pt, ctlen, out) == 0)
            st = ICSOE_OK;
        break;
    }
    if (st != ICSOE_OK)
        icsoe_wipe(out, sizeof(*out));
    icsoe_wipe(pt, sizeof(pt));
    return st;
}

int icsoe_session_start(icsoe_session *s, int64_t now)
{
    if (s == NULL)
        return -1;
    memset(s, 0, sizeof(*s));
    s->issued = now;
    s->last_seen = now;
    s->validated = now;
    return icsoe_random(s->csrf, sizeof(s->csrf));
}

/* ---- CSRF ---- */

#define CSRF_TOKEN_LEN 22 /* base64url of 16 bytes */

void icsoe_session_csrf_token(const icsoe_session *s, char out[32])
{
    if (s == NULL) {
        out[0] = '\0';
        return;
    }
    icsoe_b64url_encode(s->csrf, ICSOE_SESSION_CSRF_BYTES, out);
}

int icsoe_session_csrf_ok(const icsoe_session *s, const char *token)
{
    char want[32];
    unsigned char any = 0;
    int ok;

    if (s == NULL || token == NULL || strnlen(token, CSRF_TOKEN_LEN + 1) != CSRF_TOKEN_LEN)
        return 0;
    /* A session nobody gave a secret (icsoe_session_start not called)
     * would accept a guessable token: fail closed.  Whether the secret is
     * all zero is no secret; the loop reads every byte all the same. */
    for (size_t i = 0; i < sizeof(s->csrf); i++)
        any |= s->csrf[i];
    if (any == 0)
        return 0;
    /* The secret is encoded with no table (icsoe_b64url_encode) and the
     * strings compared in constant time: neither the cache lines touched
     * nor the time taken depend on the secret or on the token a victim's
     * browser sends (a table decoder indexed by the token would). */
    icsoe_b64url_encode(s->csrf, ICSOE_SESSION_CSRF_BYTES, want);
    ok = icsoe_memeq_ct(want, token, CSRF_TOKEN_LEN);
    icsoe_wipe(want, sizeof(want));
    return ok;
}
