/* Sealed session cookies (AES-256-GCM, OpenSSL libcrypto).
 *
 * Cookie = base64url( version(1) | key id(4) | nonce(12) | ciphertext | tag(16) )
 * with a fresh random nonce per seal and the site name (server name) bound as
 * associated data, so a cookie from one vhost is refused on another.  The
 * first key of a keyring seals, every key opens (rotation).  Keys are read
 * once at start-up; opening a cookie costs microseconds.
 *
 * Details (session.c has the payload layout):
 *   - version = 1; key id = first 4 bytes of SHA-256(key), used to pick the
 *     key (ids that collide are each tried); nonce = 12 bytes icsoe_random.
 *   - AAD = "icsoe-session-v1" NUL site.
 *   - the payload is a strict binary serialisation of icsoe_session; on
 *     open every field is bounded and checked (curp "" or 18 [A-Z0-9], rfc
 *     "" or 12-13 characters of [A-Z0-9&Ñ], names icsoe_text_is_safe and at
 *     most ICSOE_SESSION_NAME_MAX bytes), no trailing bytes.  Sealing runs
 *     the same checks and fails on a session that could not be opened.
 *   - each key is expanded once into EVP_CIPHER_CTX templates when added;
 *     seal/open work in the calling thread's own contexts, copied from a
 *     template when the key changes (never using it directly), so after
 *     start-up a keyring is read-only and may be shared by threads.  Adding
 *     keys is not thread-safe.  A thread's contexts are freed when it
 *     exits.
 *   - a full sealed cookie is at most 714 characters. */
#ifndef ICSOE_SESSION_H
#define ICSOE_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include "curp.h"
#include "rfc.h"
#include "err.h"

#define ICSOE_SESSION_KEY_BYTES 32
#define ICSOE_SESSION_CSRF_BYTES 16
#define ICSOE_SESSION_MAX_COOKIE 1024 /* larger cookies are refused unread */
#define ICSOE_SESSION_NAME_MAX 200    /* bytes of a name kept in the session */

typedef struct icsoe_keyring icsoe_keyring;

icsoe_keyring *icsoe_keyring_new(void);
void icsoe_keyring_free(icsoe_keyring *kr); /* wipes the keys */
/* Key file: 64 hex characters (32 bytes, either case) and an optional
 * single newline, a regular file with no group/other permission bits
 * (checked on the open descriptor, same rule as icsoe_check_secret_file).
 * -1 with a message naming the file ("session key /x/y: must be 64 hex
 * characters (32 bytes)", "...: readable by group or others (chmod 600)").
 * At most 8 keys per ring. */
int icsoe_keyring_add_file(icsoe_keyring *kr, const char *path, char *err,
                           size_t errlen);
int icsoe_keyring_add_key(icsoe_keyring *kr, const unsigned char key[32]);
size_t icsoe_keyring_count(const icsoe_keyring *kr);
/* Identifies this keyring's key set for the life of the process (the
 * serial of its first key; 0 when empty): a keyring built again from the
 * same files gets another id. */
uint64_t icsoe_keyring_id(const icsoe_keyring *kr);

/* Write a fresh random key file (64 lowercase hex + newline) with mode
 * 0600 whatever the umask, fsync'd; refuses to overwrite unless force (then
 * a temporary file is renamed over it, so readers never see half a key).
 * Used by "icsoectl key generate". */
int icsoe_keyfile_generate(const char *path, int force, char *err, size_t errlen);

typedef struct icsoe_session {
    int64_t issued;        /* login time */
    int64_t last_seen;     /* refreshed for the idle timeout */
    int64_t validated;     /* last revalidation against LDAP */
    int64_t epoch;         /* account epoch at login/revalidation */
    char curp[ICSOE_CURP_LEN + 1];           /* "" = pre-login session */
    char name[ICSOE_SESSION_NAME_MAX + 1];
    char rfc[ICSOE_RFC_BUFSZ];               /* "" = no contractor chosen */
    char contractor_name[ICSOE_SESSION_NAME_MAX + 1];
    unsigned char csrf[ICSOE_SESSION_CSRF_BYTES];
} icsoe_session;

/* Seal into out (base64url, NUL-terminated).  Returns the length, 0 on
 * error (no key, buffer too small, RNG failure). */
size_t icsoe_session_seal(const icsoe_keyring *kr, const icsoe_session *s,
                          const char *site, char *out, size_t outlen);
/* Open; any fault (size, encoding, unknown key, tag mismatch, bad payload)
 * gives ICSOE_ERR_INVALID_INPUT and a zeroed *out. Times are NOT checked
 * here (the caller applies its own timeouts). */
/* The session exactly as icsoe_session_open would return it after sealing
 * in (fields copied up to their NUL, everything else zero): what the
 * cache of opened cookies stores for a cookie just sealed. */
void icsoe_session_canonical(const icsoe_session *in, icsoe_session *out);
icsoe_status icsoe_session_open(const icsoe_keyring *kr, const char *cookie,
                                size_t len, const char *site, icsoe_session *out);

/* A fresh session: all zero, the three times set to now, a random csrf
 * secret.  -1 when the RNG fails (the session must not be used). */
int icsoe_session_start(icsoe_session *s, int64_t now);

/* CSRF token for forms: base64url of the session's csrf secret (22 chars);
 * check is constant-time, refuses any other length and refuses everything
 * when the secret is all zero (a session not made by icsoe_session_start). */
void icsoe_session_csrf_token(const icsoe_session *s, char out[32]);
int icsoe_session_csrf_ok(const icsoe_session *s, const char *token);

#endif
