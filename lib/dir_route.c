/* Which server a handle uses (mirror-mode OpenLDAP pairs, issue 15).
 *
 * Threat: two mirror nodes that both take writes lose them (entry-level
 * last-writer-wins) and let an activation link be used twice.  With
 * ppolicy every bind is a write, so "one writer" means every client sends
 * everything to the same node: the first server of the ordered uri list
 * that answers.
 *
 * Rules: (1) a handle keeps both of its connections on one server;
 * (2) a server that refused or did not answer is skipped by the whole
 * process for server_down_time seconds (a hanging server costs
 * server_timeout once, not on every request); (3) a new connection to a
 * server that is not the last of the list is used only when that server's
 * contextCSN covers the next reachable server's, so nobody writes to a
 * restarted node before it has caught up; (4) a handle that failed over
 * checks every failback_interval seconds, at wall-clock multiples of it so
 * processes on every host move back together, whether it can return.
 *
 * Pitfall: a server that hangs (SIGSTOP, stalled disk) and later resumes
 * still executes what was queued on its sockets; see docs/scale-out.md. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csn.h"
#include "dir_internal.h"

/* ---- process-wide memory of servers that failed ---- */

#define DOWN_SLOTS 16
#define DOWN_URI_MAX 512

typedef struct down_slot {
    char uri[DOWN_URI_MAX];
    time_t until;              /* CLOCK_MONOTONIC seconds; 0 = free */
} down_slot;

static pthread_mutex_t down_lock = PTHREAD_MUTEX_INITIALIZER;
static down_slot down_table[DOWN_SLOTS];

static time_t mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* Slot holding uri, or NULL.  Caller holds down_lock. */
static down_slot *down_find(const char *uri)
{
    size_t i;

    for (i = 0; i < DOWN_SLOTS; i++) {
        if (down_table[i].until != 0 && strcmp(down_table[i].uri, uri) == 0)
            return &down_table[i];
    }
    return NULL;
}

int dir_server_is_down(const icsoe_dir *d, size_t i)
{
    down_slot *s;
    int down = 0;

    pthread_mutex_lock(&down_lock);
    s = down_find(d->conf->uri[i]);
    if (s != NULL) {
        if (mono_now() < s->until)
            down = 1;
        else
            s->until = 0;
    }
    pthread_mutex_unlock(&down_lock);
    return down;
}

void dir_server_down(icsoe_dir *d, size_t i, const char *why)
{
    const char *uri = d->conf->uri[i];
    time_t now = mono_now();
    down_slot *s;
    int fresh = 0;
    size_t k;

    if (strlen(uri) >= DOWN_URI_MAX)
        return;  /* not remembered: only costs a retry */
    pthread_mutex_lock(&down_lock);
    s = down_find(uri);
    if (s == NULL || s->until <= now) {
        fresh = 1;
        if (s == NULL) {
            /* a free or expired slot, else the one expiring first */
            s = &down_table[0];
            for (k = 0; k < DOWN_SLOTS; k++) {
                if (down_table[k].until <= now) {
                    s = &down_table[k];
                    break;
                }
                if (down_table[k].until < s->until)
                    s = &down_table[k];
            }
            memcpy(s->uri, uri, strlen(uri) + 1);
        }
    }
    s->until = now + d->conf->server_down_time;
    pthread_mutex_unlock(&down_lock);
    if (fresh)
        icsoe_log(d->lg, ICSOE_LOG_WARNING,
                  "icsoe_dir: server %s is down (%s); skipped for %d s", uri, why,
                  d->conf->server_down_time);
}

void dir_server_up(const icsoe_dir *d, size_t i)
{
    down_slot *s;

    pthread_mutex_lock(&down_lock);
    s = down_find(d->conf->uri[i]);
    if (s != NULL)
        s->until = 0;
    pthread_mutex_unlock(&down_lock);
}

/* ---- contextCSN ---- */

#define CSN_VALUES_MAX 32

typedef struct csn_set {
    size_t n;
    char v[CSN_VALUES_MAX][ICSOE_CSN_MAX + 1];
    const char *p[CSN_VALUES_MAX];
} csn_set;

/* The suffix's contextCSN values on ld; -1 when they cannot be read. */
static int read_csn(icsoe_dir *d, LDAP *ld, csn_set *out)
{
    char *attrs[] = { "contextCSN", NULL };
    LDAPMessage *res = NULL, *e;
    struct berval **vals = NULL;
    struct timeval tv;
    int rc;
    size_t i;

    out->n = 0;
    dir_timeval(d, &tv);
    rc = ldap_search_ext_s(ld, d->conf->base, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0,
                           NULL, NULL, &tv, 1, &res);
    if (rc != LDAP_SUCCESS) {
        ldap_msgfree(res);
        return -1;
    }
    e = ldap_first_entry(ld, res);
    if (e != NULL)
        vals = ldap_get_values_len(ld, e, "contextCSN");
    for (i = 0; vals != NULL && vals[i] != NULL && out->n < CSN_VALUES_MAX; i++) {
        if (vals[i]->bv_len > ICSOE_CSN_MAX)
            continue;
        memcpy(out->v[out->n], vals[i]->bv_val, vals[i]->bv_len);
        out->v[out->n][vals[i]->bv_len] = '\0';
        out->p[out->n] = out->v[out->n];
        out->n++;
    }
    ldap_value_free_len(vals);
    ldap_msgfree(res);
    return e == NULL ? -1 : 0;
}

/* At most this long for asking the next server its contextCSN: it only
 * guards against a restarted server that has not caught up, so a standby
 * that hangs must not slow every new connection by a whole server_timeout
 * (each PAM login is a new connection). */
#define REFERENCE_PROBE_MS 1000

/* Shortens the call's deadline to ms from now; returns the one to restore. */
static struct timespec limit_deadline(icsoe_dir *d, long ms)
{
    struct timespec saved = d->deadline, lim;

    clock_gettime(CLOCK_MONOTONIC, &lim);
    lim.tv_sec += ms / 1000;
    lim.tv_nsec += (ms % 1000) * 1000000L;
    if (lim.tv_nsec >= 1000000000L) {
        lim.tv_sec++;
        lim.tv_nsec -= 1000000000L;
    }
    if (lim.tv_sec < d->deadline.tv_sec ||
        (lim.tv_sec == d->deadline.tv_sec && lim.tv_nsec < d->deadline.tv_nsec))
        d->deadline = lim;
    return saved;
}

/* The contextCSN of the first server after i that answers (the handle's
 * own connection when it is that server), read within
 * REFERENCE_PROBE_MS; a server that does not answer is remembered as
 * down.  -1 when none answers. */
static int reference_csn(icsoe_dir *d, size_t i, csn_set *out, size_t *ref)
{
    size_t j;

    out->n = 0;
    for (j = i + 1; j < d->conf->nuri; j++) {
        struct timespec saved;
        icsoe_status st = ICSOE_OK;
        LDAP *ld = NULL;
        int rc = -1;

        if (j == d->cur && d->svc != NULL) {
            rc = read_csn(d, d->svc, out);
        } else if (!dir_server_is_down(d, j)) {
            saved = limit_deadline(d, REFERENCE_PROBE_MS);
            st = dir_open_server(d, j, &ld);
            if (st == ICSOE_OK) {
                rc = read_csn(d, ld, out);
                ldap_unbind_ext_s(ld, NULL, NULL);
            }
            d->deadline = saved;
            if (st == ICSOE_ERR_UNAVAILABLE)
                dir_server_down(d, j, d->reason);
        }
        if (rc == 0) {
            *ref = j;
            return 0;
        }
    }
    return -1;
}

/* Names the first serverID for which server i is behind server j. */
static void log_behind(icsoe_dir *d, size_t i, size_t j, const csn_set *mine,
                       const csn_set *ref)
{
    const char *theirs = "?", *own = "none";
    size_t k, m;

    for (k = 0; k < ref->n; k++) {
        if (!icsoe_csn_covers(mine->p, mine->n, &ref->p[k], 1)) {
            theirs = ref->p[k];
            break;
        }
    }
    for (m = 0; m < mine->n; m++) {
        if (icsoe_csn_sid(mine->p[m]) == icsoe_csn_sid(theirs) &&
            (strcmp(own, "none") == 0 || strcmp(mine->p[m], own) > 0))
            own = mine->p[m];
    }
    icsoe_log(d->lg, ICSOE_LOG_WARNING,
              "icsoe_dir: %s has not caught up with %s yet (contextCSN %s < %s); not using it",
              d->conf->uri[i], d->conf->uri[j], own, theirs);
}

int dir_caught_up(icsoe_dir *d, size_t i, LDAP *ld)
{
    csn_set mine, ref;
    size_t j = i;
    struct timespec saved;
    int rc;

    if (i + 1 >= d->conf->nuri)
        return 1;
    if (reference_csn(d, i, &ref, &j) != 0)
        return 1;  /* nobody after it answers: it is the best we have */
    /* The candidate answered its bind a moment ago, but it may hang now:
     * this search gets server_timeout, not the rest of the call. */
    saved = limit_deadline(d, d->conf->server_timeout * 1000L);
    rc = read_csn(d, ld, &mine);
    d->deadline = saved;
    if (rc != 0) {
        icsoe_log(d->lg, ICSOE_LOG_WARNING,
                  "icsoe_dir: cannot read the contextCSN of %s; not using it",
                  d->conf->uri[i]);
        dir_server_down(d, i, "no answer to the contextCSN search");
        return 0;
    }
    if (icsoe_csn_covers(mine.p, mine.n, ref.p, ref.n))
        return 1;
    log_behind(d, i, j, &mine, &ref);
    return 0;
}

/* ---- failback ---- */

static void schedule_failback(icsoe_dir *d)
{
    time_t now = time(NULL), step = d->conf->failback_interval;

    d->next_failback = (now / step + 1) * step;
}

void dir_failback(icsoe_dir *d)
{
    size_t i;

    if (d->cur == 0 || d->next_failback == 0)
        return;
    if (time(NULL) < d->next_failback)
        return;
    schedule_failback(d);
    for (i = 0; i < d->cur; i++) {
        LDAP *ld = NULL;

        if (dir_server_is_down(d, i) || dir_open_server(d, i, &ld) != ICSOE_OK)
            continue;
        if (!dir_caught_up(d, i, ld)) {
            ldap_unbind_ext_s(ld, NULL, NULL);
            continue;
        }
        icsoe_log(d->lg, ICSOE_LOG_NOTICE, "icsoe_dir: back on %s (it has caught up), leaving %s",
                  d->conf->uri[i], d->conf->uri[d->cur]);
        dir_drop_all(d);
        d->svc = ld;
        d->cur = i;
        if (i == 0)
            d->next_failback = 0;
        return;
    }
}

void dir_server_failed(icsoe_dir *d, const char *why)
{
    dir_server_down(d, d->cur, why);
    dir_drop_all(d);
}

/* Called by dir_conn.c when the handle settles on server i. */
void dir_route_settle(icsoe_dir *d, size_t i)
{
    if (i != d->cur)
        icsoe_log(d->lg, ICSOE_LOG_WARNING, "icsoe_dir: now using %s instead of %s",
                  d->conf->uri[i], d->conf->uri[d->cur]);
    d->cur = i;
    if (i == 0)
        d->next_failback = 0;
    else if (d->next_failback == 0)
        schedule_failback(d);
}
