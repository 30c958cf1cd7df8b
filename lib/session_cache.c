/* Cache of opened session cookies; the rules are in session_cache.h. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "secure.h"
#include "session_cache.h"

#define COOKIE_MAX 720 /* a sealed cookie is at most 714 characters */
#define LOCKS 64       /* slots share LOCKS mutexes (slot % LOCKS) */

typedef struct slot {
    const void *owner;   /* NULL: empty */
    uint64_t keyring_id;
    size_t len;
    char cookie[COOKIE_MAX];
    icsoe_session session;
} slot;

struct icsoe_session_cache {
    size_t mask;         /* slots - 1 */
    slot *slots;
    pthread_mutex_t locks[LOCKS];
};

icsoe_session_cache *icsoe_session_cache_new(size_t slots)
{
    icsoe_session_cache *c;
    size_t n = 16;

    while (n < slots && n < ((size_t)1 << 20))
        n <<= 1;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->slots = calloc(n, sizeof(slot));
    if (c->slots == NULL) {
        free(c);
        return NULL;
    }
    c->mask = n - 1;
    for (size_t i = 0; i < LOCKS; i++)
        pthread_mutex_init(&c->locks[i], NULL);
    return c;
}

void icsoe_session_cache_free(icsoe_session_cache *c)
{
    if (c == NULL)
        return;
    icsoe_wipe(c->slots, (c->mask + 1) * sizeof(slot));
    free(c->slots);
    for (size_t i = 0; i < LOCKS; i++)
        pthread_mutex_destroy(&c->locks[i]);
    free(c);
}

/* The slot of a cookie: its last 8 characters are base64url of the GCM
 * tag, random for every seal, so they spread cookies without hashing the
 * rest.  Anyone may pick a cookie's slot; that only decides which entry a
 * valid cookie may evict, and only valid cookies are stored. */
static size_t slot_of(const icsoe_session_cache *c, const char *cookie,
                      size_t len)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a offset basis */
    size_t from = len > 8 ? len - 8 : 0;

    for (size_t i = from; i < len; i++)
        h = (h ^ (unsigned char)cookie[i]) * 1099511628211ULL;
    return (size_t)(h ^ (h >> 29)) & c->mask;
}

/* Constant time in the bytes (not in len, which the caller compared):
 * eight bytes a step. */
static int same_bytes(const char *a, const char *b, size_t len)
{
    uint64_t diff = 0;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        uint64_t x, y;

        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        diff |= x ^ y;
    }
    for (; i < len; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

int icsoe_session_cache_get(icsoe_session_cache *c, const void *owner,
                            uint64_t keyring_id, const char *cookie,
                            size_t len, icsoe_session *out)
{
    size_t i;
    slot *s;
    int hit;

    if (c == NULL || owner == NULL || cookie == NULL || len == 0 ||
        len > COOKIE_MAX || out == NULL)
        return 0;
    i = slot_of(c, cookie, len);
    s = &c->slots[i];
    pthread_mutex_lock(&c->locks[i % LOCKS]);
    hit = s->owner == owner && s->keyring_id == keyring_id &&
          s->len == len && same_bytes(s->cookie, cookie, len);
    if (hit)
        *out = s->session;
    pthread_mutex_unlock(&c->locks[i % LOCKS]);
    return hit;
}

void icsoe_session_cache_put(icsoe_session_cache *c, const void *owner,
                             uint64_t keyring_id, const char *cookie,
                             size_t len, const icsoe_session *sess)
{
    size_t i;
    slot *s;

    if (c == NULL || owner == NULL || cookie == NULL || len == 0 ||
        len > COOKIE_MAX || sess == NULL)
        return;
    i = slot_of(c, cookie, len);
    s = &c->slots[i];
    pthread_mutex_lock(&c->locks[i % LOCKS]);
    s->owner = owner;
    s->keyring_id = keyring_id;
    s->len = len;
    memcpy(s->cookie, cookie, len);
    icsoe_session_canonical(sess, &s->session);
    pthread_mutex_unlock(&c->locks[i % LOCKS]);
}
