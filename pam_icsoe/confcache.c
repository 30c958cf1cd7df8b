/* pam_icsoe configuration cache (see confcache.h).
 *
 * Why: reading and parsing icsoe.conf and its secret files was about a
 * sixth of a PAM authentication's own work (bench/p3_pam); a process that
 * authenticates many users pays it once per change instead.
 *
 * The threat is a cache that outlives what it was read from: a secret
 * rotated or taken away, a configuration made writable by others.  So a
 * cached entry is checked on every call against what the files are now
 * (stat fields that any write, chmod, chown or replacement changes), the
 * trust rule of fileperm.h is applied to what stat says now, and the
 * caller's effective identity must still be able to read each file (a
 * process that dropped privileges does not keep using a secret it could
 * no longer read).  Any difference reloads with icsoe_conf_load(), and a
 * failed reload leaves nothing cached.  A secret stays in memory only
 * while its entry is cached or in use; it is wiped when the entry goes
 * (a change seen, eviction, process exit).
 *
 * The pitfall is stat's timestamp granularity: a same-size rewrite inside
 * one timestamp tick after the read would not show.  A file whose ctime
 * is less than ICSOE_CONFCACHE_SETTLE_S seconds older than the load is
 * therefore not cached (the "racily clean" rule of git's index).
 *
 * Threads: one mutex guards the list and the reference counts; files are
 * stat()ed and loaded outside it.  An entry is freed when its last
 * reference goes (the list holds one).  fork(): the mutex is taken around
 * it so that a child never inherits it locked. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "confcache.h"
#include "fileperm.h"

/* Different config= paths kept at once (one per PAM stack, usually 1). */
#define CC_MAX_ENTRIES 4

typedef struct cc_file {
    const char *path;           /* into conf */
    icsoe_file_kind kind;
    struct stat st;             /* when the entry was loaded */
} cc_file;

struct icsoe_confcache_ref {
    char *key;                  /* config= path as given */
    icsoe_conf *conf;
    cc_file files[ICSOE_CONF_MAX_FILES];
    size_t nfiles;
    unsigned refs;              /* calls using it, +1 while listed */
    int listed;
    struct icsoe_confcache_ref *next;
};

static pthread_mutex_t cc_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t cc_once = PTHREAD_ONCE_INIT;
static struct icsoe_confcache_ref *cc_head;

static void cc_prepare(void) { pthread_mutex_lock(&cc_lock); }
static void cc_parent(void) { pthread_mutex_unlock(&cc_lock); }
static void cc_child(void) { pthread_mutex_unlock(&cc_lock); }

static void cc_init(void)
{
    pthread_atfork(cc_prepare, cc_parent, cc_child);
}

static void cc_free(struct icsoe_confcache_ref *e)
{
    icsoe_conf_free(e->conf);   /* wipes the secrets */
    free(e->key);
    free(e);
}

/* Takes e off the list and drops the list's reference; cc_lock held.
 * Returns e when that was its last reference (to be freed outside the
 * lock), else NULL. */
static struct icsoe_confcache_ref *cc_unlist_locked(struct icsoe_confcache_ref *e)
{
    struct icsoe_confcache_ref **pp;

    if (!e->listed)
        return NULL;
    for (pp = &cc_head; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            break;
        }
    }
    e->next = NULL;
    e->listed = 0;
    return --e->refs == 0 ? e : NULL;
}

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
           a->st_size == b->st_size && a->st_mode == b->st_mode &&
           a->st_uid == b->st_uid && a->st_gid == b->st_gid &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
           a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* 1 when f is still the file that was read, trusted and readable by us. */
static int file_current(const cc_file *f)
{
    struct stat now;
    char why[256];

    if (stat(f->path, &now) != 0 || !same_file(&now, &f->st))
        return 0;
    if (icsoe_file_trusted(&now, f->path, f->kind, why, sizeof(why)) != 0)
        return 0;
    return faccessat(AT_FDCWD, f->path, R_OK, AT_EACCESS) == 0;
}

static int entry_current(const struct icsoe_confcache_ref *e)
{
    size_t i;

    for (i = 0; i < e->nfiles; i++) {
        if (!file_current(&e->files[i]))
            return 0;
    }
    return 1;
}

/* 1 when ctime is at least ICSOE_CONFCACHE_SETTLE_S before loaded. */
static int settled(const struct timespec *ctime, const struct timespec *loaded)
{
    time_t limit = loaded->tv_sec - ICSOE_CONFCACHE_SETTLE_S;

    return ctime->tv_sec < limit ||
           (ctime->tv_sec == limit && ctime->tv_nsec <= loaded->tv_nsec);
}

/* Records what e's files are now; 0 when one of them changed too recently
 * before `loaded` (or cannot be stat()ed) for the record to be trusted. */
static int entry_stamp(struct icsoe_confcache_ref *e, const struct timespec *loaded)
{
    icsoe_conf_file files[ICSOE_CONF_MAX_FILES];
    size_t i, n = icsoe_conf_files(e->conf, files, ICSOE_CONF_MAX_FILES);

    if (n > ICSOE_CONF_MAX_FILES)
        return 0;
    for (i = 0; i < n; i++) {
        cc_file *f = &e->files[i];

        f->path = files[i].path;
        f->kind = files[i].kind;
        if (stat(f->path, &f->st) != 0)
            return 0;
        if (!settled(&f->st.st_ctim, loaded))
            return 0;
    }
    e->nfiles = n;
    return 1;
}

/* The listed entry for key, with a reference taken, or NULL. */
static struct icsoe_confcache_ref *cc_find(const char *key)
{
    struct icsoe_confcache_ref *e;

    pthread_mutex_lock(&cc_lock);
    for (e = cc_head; e != NULL; e = e->next) {
        if (strcmp(e->key, key) == 0) {
            e->refs++;
            break;
        }
    }
    pthread_mutex_unlock(&cc_lock);
    return e;
}

/* Lists e in front (replacing an entry for the same key, evicting the
 * oldest beyond CC_MAX_ENTRIES). */
static void cc_insert(struct icsoe_confcache_ref *e)
{
    struct icsoe_confcache_ref *gone[CC_MAX_ENTRIES + 1], *x, *next;
    size_t ngone = 0, kept = 0, i;

    pthread_mutex_lock(&cc_lock);
    for (x = cc_head; x != NULL; x = next) {
        next = x->next;
        if (strcmp(x->key, e->key) == 0 || kept + 1 >= CC_MAX_ENTRIES) {
            struct icsoe_confcache_ref *last = cc_unlist_locked(x);

            if (last != NULL && ngone < sizeof(gone) / sizeof(gone[0]))
                gone[ngone++] = last;
        } else {
            kept++;
        }
    }
    e->refs++;
    e->listed = 1;
    e->next = cc_head;
    cc_head = e;
    pthread_mutex_unlock(&cc_lock);
    for (i = 0; i < ngone; i++)
        cc_free(gone[i]);
}

/* Drops a caller's reference, and the listing too when unlist (the
 * caller's reference keeps e alive until the end). */
static void cc_drop(struct icsoe_confcache_ref *e, int unlist)
{
    int last;

    pthread_mutex_lock(&cc_lock);
    if (unlist)
        (void)cc_unlist_locked(e);
    last = --e->refs == 0;
    pthread_mutex_unlock(&cc_lock);
    if (last)
        cc_free(e);
}

static struct icsoe_confcache_ref *cc_load(const char *key, char *err, size_t errlen)
{
    struct icsoe_confcache_ref *e = calloc(1, sizeof(*e));
    struct timespec loaded;

    if (e == NULL || (e->key = strdup(key)) == NULL) {
        free(e);
        snprintf(err, errlen, "%s: out of memory", key);
        return NULL;
    }
    clock_gettime(CLOCK_REALTIME, &loaded);
    e->conf = icsoe_conf_load(key, err, errlen);
    if (e->conf == NULL) {
        free(e->key);
        free(e);
        return NULL;
    }
    e->refs = 1;
    if (entry_stamp(e, &loaded))
        cc_insert(e);
    return e;
}

const icsoe_conf *icsoe_confcache_get(const char *path, icsoe_confcache_ref **ref,
                                      int *from_cache, char *err, size_t errlen)
{
    struct icsoe_confcache_ref *e;

    pthread_once(&cc_once, cc_init);
    *ref = NULL;
    *from_cache = 0;
    e = cc_find(path);
    if (e != NULL) {
        if (entry_current(e)) {
            *ref = e;
            *from_cache = 1;
            return e->conf;
        }
        /* a file changed: unlisted now, so that a failed reload leaves
         * nothing behind to be used */
        cc_drop(e, 1);
    }
    e = cc_load(path, err, errlen);
    if (e == NULL)
        return NULL;
    *ref = e;
    return e->conf;
}

void icsoe_confcache_release(icsoe_confcache_ref *ref)
{
    if (ref != NULL)
        cc_drop(ref, 0);
}

/* Process exit (the module is never unloaded: -z nodelete): wipe and free
 * what no call is using. */
__attribute__((destructor)) static void cc_fini(void)
{
    struct icsoe_confcache_ref *e, *next, *last;

    pthread_mutex_lock(&cc_lock);
    for (e = cc_head; e != NULL; e = next) {
        next = e->next;
        last = cc_unlist_locked(e);
        if (last != NULL)
            cc_free(last);
    }
    cc_head = NULL;
    pthread_mutex_unlock(&cc_lock);
}
