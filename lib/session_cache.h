/* A per-process cache of opened session cookies.
 *
 * Why: a browser sends the same sealed cookie with every request until it
 * is re-issued (at most once a minute), and opening it (base64url, AES-GCM
 * through EVP, the field checks) was most of what a protected request cost
 * mod_icsoe.  Opening is a pure function of (cookie bytes, keyring, site),
 * so the result of a successful open can be reused for the same bytes.
 *
 * Rules that keep it exactly as strict as opening every time:
 *   - only cookies that opened, or that this process has just sealed,
 *     are stored (a sealed cookie opens to exactly the session sealed in
 *     it: icsoe_session_canonical): a forged or tampered cookie is never
 *     in the cache and is always opened (and refused) for real;
 *   - a hit needs the same owner (for mod_icsoe the server_rec, which
 *     fixes the site name, and the id of its keyring, see
 *     icsoe_keyring_id) and the whole cookie,
 *     byte for byte, compared in constant time (no timing hint about a
 *     stored cookie's bytes);
 *   - what is stored is the opened session before any time check: callers
 *     run their idle/max-age/revalidation checks on every request as
 *     before;
 *   - a keyring replaced by a restart has a new id, so an entry can never
 *     be served under another key set.
 * Entries are overwritten (direct-mapped, slot picked from the cookie's
 * last characters, the tag's); freeing the cache wipes them.  Thread-safe:
 * one mutex per slot group. */
#ifndef ICSOE_SESSION_CACHE_H
#define ICSOE_SESSION_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include "session.h"

typedef struct icsoe_session_cache icsoe_session_cache;

/* slots: rounded up to a power of two, at least 16.  NULL on failure. */
icsoe_session_cache *icsoe_session_cache_new(size_t slots);
void icsoe_session_cache_free(icsoe_session_cache *c);

/* 1 and *out filled when these exact cookie bytes opened before for this
 * owner; 0 otherwise (out untouched). */
int icsoe_session_cache_get(icsoe_session_cache *c, const void *owner,
                            uint64_t keyring_id, const char *cookie,
                            size_t len, icsoe_session *out);
/* Remember a cookie that icsoe_session_open accepted, or that
 * icsoe_session_seal just made from s (stored in its canonical form).
 * Cookies longer than a sealed cookie can be are ignored. */
void icsoe_session_cache_put(icsoe_session_cache *c, const void *owner,
                             uint64_t keyring_id, const char *cookie,
                             size_t len, const icsoe_session *s);

#endif
