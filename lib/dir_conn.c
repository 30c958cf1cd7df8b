/* Directory connections: the service connection (bound as binddn, the
 * reader: searches only, reused, reconnected once when the server dropped
 * it), the writer connection (bound as writer_binddn, only for changes and
 * token lookups; without a writer configured the service connection does
 * those) and the authentication connection (only user binds), all on the
 * server chosen by dir_route.c.  A host that only authenticates (PAM) holds
 * the reader's password alone: whoever steals it can read accounts but
 * change nothing.  A short-lived handle (PAM, icsoe_dir_one_connection)
 * hands its service connection over to the user bind instead of opening a
 * second one; it is never a service connection again.
 * Every call is bounded by a deadline of conf->timeout seconds (network
 * connect and each synchronous operation get what is left of it), and a
 * new connection to one server by conf->server_timeout, so a server that
 * accepts connections but never answers costs that much once and the next
 * uri still gets its turn. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dir_internal.h"
#include "secure.h"

/* ---- deadline and SIGPIPE ---- */

void dir_call_begin(icsoe_dir *d, dir_call *call)
{
    sigset_t pipe_set, pending;

    clock_gettime(CLOCK_MONOTONIC, &d->deadline);
    d->deadline.tv_sec += d->conf->timeout > 0 ? d->conf->timeout : 5;
    d->reason[0] = '\0';

    /* libldap write()s to sockets the server may have closed: a SIGPIPE
     * must not kill a PAM application or the CLI.  Block it in this thread
     * and discard one raised by us before unblocking (curl does the same). */
    memset(call, 0, sizeof(*call));
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigemptyset(&pending);
    sigpending(&pending);
    call->sigpipe_was_pending = sigismember(&pending, SIGPIPE) == 1;
    call->masked = pthread_sigmask(SIG_BLOCK, &pipe_set, &call->oldmask) == 0;
    dir_failback(d);
}

void dir_call_end(icsoe_dir *d, dir_call *call, icsoe_status st)
{
    sigset_t pipe_set, pending;
    struct timespec zero = { 0, 0 };

    /* Outcomes without a directory error (not found, exists...) still get
     * a reason, so a log line never says "no error" for a failure. */
    if (st != ICSOE_OK && d->reason[0] == '\0')
        dir_reason(d, "%s", icsoe_status_name(st));
    if (!call->masked)
        return;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigemptyset(&pending);
    sigpending(&pending);
    if (!call->sigpipe_was_pending && sigismember(&pending, SIGPIPE) == 1) {
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &call->oldmask, NULL);
}

long dir_remaining_ms(const icsoe_dir *d)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(d->deadline.tv_sec - now.tv_sec) * 1000 +
           (d->deadline.tv_nsec - now.tv_nsec) / 1000000;
}

void dir_timeval(const icsoe_dir *d, struct timeval *tv)
{
    long ms = dir_remaining_ms(d);

    if (ms < 1)
        ms = 1;
    tv->tv_sec = ms / 1000;
    tv->tv_usec = (ms % 1000) * 1000;
}

/* Both the connect timeout and the synchronous-call timeout get what is
 * left of the deadline. */
static void dir_arm(icsoe_dir *d, LDAP *ld)
{
    struct timeval tv;

    dir_timeval(d, &tv);
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
}

void dir_reason(icsoe_dir *d, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
    va_end(ap);
}

int dir_conn_lost(int rc)
{
    return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR ||
           rc == LDAP_TIMEOUT || rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY;
}

icsoe_status dir_map_rc(icsoe_dir *d, const char *what, int rc)
{
    if (rc == LDAP_SUCCESS)
        return ICSOE_OK;
    dir_reason(d, "%s: %s: %s", what, d->uris, ldap_err2string(rc));
    if (dir_conn_lost(rc)) {
        icsoe_log(d->lg, ICSOE_LOG_ERR, "icsoe_dir: %s", d->reason);
        return ICSOE_ERR_UNAVAILABLE;
    }
    icsoe_log(d->lg, ICSOE_LOG_ERR, "icsoe_dir: unexpected answer: %s", d->reason);
    return ICSOE_ERR_INTERNAL;
}

/* ---- handles ---- */

/* libldap's extra words about the last failure (e.g. the TLS certificate
 * error), as " (...)" or "". */
static const char *dir_diag(LDAP *ld, char *buf, size_t len)
{
    char *msg = NULL;

    buf[0] = '\0';
    if (ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg) == LDAP_OPT_SUCCESS &&
        msg != NULL && msg[0] != '\0' && msg[0] != '(') /* "(unknown error code)" */
        snprintf(buf, len, " (%s)", msg);
    ldap_memfree(msg);
    return buf;
}

static int tls_reqcert_value(icsoe_tls_reqcert r)
{
    switch (r) {
    case ICSOE_TLS_REQCERT_DEMAND: return LDAP_OPT_X_TLS_DEMAND;
    case ICSOE_TLS_REQCERT_HARD: return LDAP_OPT_X_TLS_HARD;
    case ICSOE_TLS_REQCERT_TRY: return LDAP_OPT_X_TLS_TRY;
    case ICSOE_TLS_REQCERT_ALLOW: return LDAP_OPT_X_TLS_ALLOW;
    case ICSOE_TLS_REQCERT_NEVER: return LDAP_OPT_X_TLS_NEVER;
    }
    return LDAP_OPT_X_TLS_DEMAND;
}

static int uses_tls(const icsoe_dir *d, const char *uri)
{
    return d->conf->ldap_starttls != ICSOE_STARTTLS_NO || strncmp(uri, "ldaps://", 8) == 0;
}

/* Per-handle TLS settings, then a fresh TLS context so they take effect
 * without touching libldap's global defaults (other users of libldap in
 * the same process, e.g. other Apache modules, keep theirs). */
static int dir_set_tls(icsoe_dir *d, LDAP *ld)
{
    int reqcert = tls_reqcert_value(d->conf->tls_reqcert);
    int is_server = 0;

    if (ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &reqcert) != LDAP_OPT_SUCCESS)
        return -1;
    if (d->conf->tls_cacertfile != NULL &&
        ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, d->conf->tls_cacertfile) !=
            LDAP_OPT_SUCCESS)
        return -1;
    if (ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &is_server) != LDAP_OPT_SUCCESS)
        return -1;
    return 0;
}

static icsoe_status dir_starttls(icsoe_dir *d, LDAP *ld, const char *uri)
{
    int rc;

    if (d->conf->ldap_starttls == ICSOE_STARTTLS_NO)
        return ICSOE_OK;
    rc = ldap_start_tls_s(ld, NULL, NULL);
    if (rc == LDAP_SUCCESS)
        return ICSOE_OK;
    if (d->conf->ldap_starttls == ICSOE_STARTTLS_TRY && !dir_conn_lost(rc) &&
        ldap_tls_inplace(ld) == 0) {
        icsoe_log(d->lg, ICSOE_LOG_WARNING,
                  "icsoe_dir: StartTLS refused by %s (%s), continuing in clear",
                  uri, ldap_err2string(rc));
        return ICSOE_OK;
    }
    {
        char diag[256];

        dir_reason(d, "StartTLS: %s: %s%s", uri, ldap_err2string(rc),
                   dir_diag(ld, diag, sizeof(diag)));
    }
    return dir_conn_lost(rc) ? ICSOE_ERR_UNAVAILABLE : ICSOE_ERR_INTERNAL;
}

/* A new handle on one uri with our options, connected (an unreachable
 * server shows here, not in the middle of an operation). */
static icsoe_status dir_new_handle(icsoe_dir *d, const char *uri, LDAP **out)
{
    LDAP *ld = NULL;
    int version = LDAP_VERSION3;
    icsoe_status st;
    int rc;

    *out = NULL;
    rc = ldap_initialize(&ld, uri);
    if (rc != LDAP_SUCCESS) {
        dir_reason(d, "ldap_initialize(%s): %s", uri, ldap_err2string(rc));
        return ICSOE_ERR_INTERNAL;
    }
    if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version) != LDAP_OPT_SUCCESS ||
        ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
        ldap_set_option(ld, LDAP_OPT_RESTART, LDAP_OPT_ON) != LDAP_OPT_SUCCESS ||
        (uses_tls(d, uri) && dir_set_tls(d, ld) != 0)) {
        dir_reason(d, "%s: cannot set connection options", uri);
        ldap_unbind_ext_s(ld, NULL, NULL);
        return ICSOE_ERR_INTERNAL;
    }
    dir_arm(d, ld);
    rc = ldap_connect(ld);
    if (rc != LDAP_SUCCESS) {
        char diag[256];

        dir_reason(d, "connect to %s: %s%s", uri, ldap_err2string(rc),
                   dir_diag(ld, diag, sizeof(diag)));
        ldap_unbind_ext_s(ld, NULL, NULL);
        return dir_conn_lost(rc) || rc == LDAP_OTHER ? ICSOE_ERR_UNAVAILABLE
                                                     : ICSOE_ERR_INTERNAL;
    }
    st = dir_starttls(d, ld, uri);
    if (st != ICSOE_OK) {
        ldap_unbind_ext_s(ld, NULL, NULL);
        return st;
    }
    *out = ld;
    return ICSOE_OK;
}

static void dir_drop(LDAP **ld)
{
    if (*ld != NULL) {
        ldap_unbind_ext_s(*ld, NULL, NULL);
        *ld = NULL;
    }
}

void dir_drop_auth(icsoe_dir *d)
{
    dir_drop(&d->auth);
}

void dir_drop_all(icsoe_dir *d)
{
    dir_drop(&d->svc);
    dir_drop(&d->wr);
    dir_drop(&d->auth);
}

/* Shortens the call's deadline to conf->server_timeout from now; returns
 * the deadline to restore. */
static struct timespec dir_server_budget(icsoe_dir *d)
{
    struct timespec saved = d->deadline, lim;

    clock_gettime(CLOCK_MONOTONIC, &lim);
    lim.tv_sec += d->conf->server_timeout;
    if (lim.tv_sec < d->deadline.tv_sec ||
        (lim.tv_sec == d->deadline.tv_sec && lim.tv_nsec < d->deadline.tv_nsec))
        d->deadline = lim;
    return saved;
}

/* A new connection to conf->uri[i] bound as dn (a service account),
 * within conf->server_timeout. */
static icsoe_status dir_open_as(icsoe_dir *d, size_t i, const char *role,
                                const char *dn, const char *pw, LDAP **out)
{
    const char *uri = d->conf->uri[i];
    struct timespec saved;
    struct berval cred;
    icsoe_status st;
    LDAP *ld = NULL;
    int rc;

    *out = NULL;
    saved = dir_server_budget(d);
    st = dir_new_handle(d, uri, &ld);
    if (st == ICSOE_OK) {
        cred.bv_val = (char *)pw;
        cred.bv_len = strlen(pw);
        dir_arm(d, ld);
        rc = ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
        if (rc != LDAP_SUCCESS) {
            char diag[256];

            dir_reason(d, "%s bind as %s at %s: %s%s", role, dn, uri,
                       ldap_err2string(rc), dir_diag(ld, diag, sizeof(diag)));
            ldap_unbind_ext_s(ld, NULL, NULL);
            ld = NULL;
            st = dir_conn_lost(rc) ? ICSOE_ERR_UNAVAILABLE : ICSOE_ERR_INTERNAL;
        }
    }
    d->deadline = saved;
    if (st == ICSOE_ERR_INTERNAL)
        icsoe_log(d->lg, ICSOE_LOG_ERR, "icsoe_dir: %s", d->reason);
    *out = ld;
    return st;
}

icsoe_status dir_open_server(icsoe_dir *d, size_t i, LDAP **out)
{
    *out = NULL;
    if (d->conf->binddn == NULL || d->conf->bindpw == NULL) {
        dir_reason(d, "%s: no binddn/bindpw_file configured", d->conf->path);
        return ICSOE_ERR_INTERNAL;
    }
    return dir_open_as(d, i, "service", d->conf->binddn, d->conf->bindpw, out);
}

/* Tries the servers from the handle's current one on (the earlier ones
 * only when none of those answers: the return to an earlier server is
 * dir_failback's decision), skipping the ones known to be down unless all
 * are. */
static icsoe_status dir_svc_connect(icsoe_dir *d)
{
    size_t n = d->conf->nuri, k, i;
    int pass, tried = 0;
    icsoe_status st = ICSOE_ERR_UNAVAILABLE;
    char why[DIR_REASON_MAX] = "";

    for (pass = 0; pass < 2; pass++) {
        for (k = 0; k < n; k++) {
            LDAP *ld = NULL;

            i = (d->cur + k) % n;
            if ((pass == 0) == dir_server_is_down(d, i))
                continue;
            if (pass == 1 && tried)
                break;  /* some server answered nothing useful: no retry of down ones */
            if (dir_remaining_ms(d) <= 0)
                goto out;
            tried = 1;
            st = dir_open_server(d, i, &ld);
            if (st == ICSOE_ERR_INTERNAL)
                return st;  /* refused credentials: fail closed, no failover */
            if (st != ICSOE_OK) {
                snprintf(why, sizeof(why), "%s", d->reason);
                dir_server_down(d, i, d->reason);
                continue;
            }
            if (!dir_caught_up(d, i, ld)) {
                ldap_unbind_ext_s(ld, NULL, NULL);
                snprintf(why, sizeof(why), "%s has not caught up", d->conf->uri[i]);
                st = ICSOE_ERR_UNAVAILABLE;
                continue;
            }
            dir_server_up(d, i);
            if (i != d->cur) {
                dir_drop(&d->auth);
                dir_drop(&d->wr);
            }
            dir_route_settle(d, i);
            d->svc = ld;
            return ICSOE_OK;
        }
    }
out:
    dir_reason(d, "no directory server answered (%s): %s", d->uris,
               why[0] ? why : "out of time");
    icsoe_log(d->lg, ICSOE_LOG_ERR, "icsoe_dir: %s", d->reason);
    return ICSOE_ERR_UNAVAILABLE;
}

icsoe_status dir_svc_run(icsoe_dir *d, dir_op_fn op, void *arg, int *rc)
{
    int attempt;
    icsoe_status st;

    *rc = LDAP_OTHER;
    for (attempt = 0; attempt < 2; attempt++) {
        if (dir_remaining_ms(d) <= 0) {
            dir_reason(d, "%s: no answer within %d s", d->uris, d->conf->timeout);
            icsoe_log(d->lg, ICSOE_LOG_ERR, "icsoe_dir: %s", d->reason);
            return ICSOE_ERR_UNAVAILABLE;
        }
        if (d->svc == NULL) {
            st = dir_svc_connect(d);
            if (st != ICSOE_OK)
                return st;
        }
        dir_arm(d, d->svc);
        *rc = op(d, d->svc, arg);
        if (!dir_conn_lost(*rc))
            return ICSOE_OK;
        /* The server went away (restart, failover, idle timeout): a new
         * connection may reach it or the next URI. */
        dir_reason(d, "%s: %s", d->conf->uri[d->cur], ldap_err2string(*rc));
        icsoe_log(d->lg, attempt == 0 ? ICSOE_LOG_INFO : ICSOE_LOG_ERR,
                  "icsoe_dir: connection lost (%s)%s", d->reason,
                  attempt == 0 ? ", reconnecting" : "");
        dir_conn_failed(d, *rc);
        if (attempt == 0)
            d->svc_replays++;
    }
    return ICSOE_ERR_UNAVAILABLE;
}

/* The writer connection, on the server the service connection chose
 * (a write goes where the reads went: one server at a time). */
static icsoe_status dir_wr_connect(icsoe_dir *d)
{
    icsoe_status st;

    if (d->svc == NULL) {
        st = dir_svc_connect(d);
        if (st != ICSOE_OK)
            return st;
    }
    st = dir_open_as(d, d->cur, "writer", d->conf->writer_binddn,
                     d->conf->writer_bindpw, &d->wr);
    if (st == ICSOE_ERR_UNAVAILABLE)
        dir_server_failed(d, d->reason);
    return st;
}

icsoe_status dir_wr_run(icsoe_dir *d, dir_op_fn op, void *arg, int *rc)
{
    int attempt;
    icsoe_status st = ICSOE_ERR_UNAVAILABLE;

    if (d->conf->writer_binddn == NULL)
        return dir_svc_run(d, op, arg, rc);
    *rc = LDAP_OTHER;
    for (attempt = 0; attempt < 2; attempt++) {
        if (dir_remaining_ms(d) <= 0) {
            dir_reason(d, "%s: no answer within %d s", d->uris, d->conf->timeout);
            icsoe_log(d->lg, ICSOE_LOG_ERR, "icsoe_dir: %s", d->reason);
            return ICSOE_ERR_UNAVAILABLE;
        }
        if (d->wr == NULL) {
            st = dir_wr_connect(d);
            if (st == ICSOE_ERR_INTERNAL)
                return st;     /* refused credentials: fail closed */
            if (st != ICSOE_OK)
                continue;      /* that server failed: the next one, once */
        }
        dir_arm(d, d->wr);
        *rc = op(d, d->wr, arg);
        if (!dir_conn_lost(*rc))
            return ICSOE_OK;
        dir_reason(d, "%s: %s", d->conf->uri[d->cur], ldap_err2string(*rc));
        icsoe_log(d->lg, attempt == 0 ? ICSOE_LOG_INFO : ICSOE_LOG_ERR,
                  "icsoe_dir: writer connection lost (%s)%s", d->reason,
                  attempt == 0 ? ", reconnecting" : "");
        dir_conn_failed(d, *rc);
        st = ICSOE_ERR_UNAVAILABLE;
        if (attempt == 0)
            d->svc_replays++;
    }
    return st;
}

icsoe_status dir_auth_conn(icsoe_dir *d, LDAP **out)
{
    icsoe_status st;
    int attempt;

    *out = NULL;
    if (d->auth == NULL && d->one_connection && d->svc != NULL) {
        /* the service connection becomes the user binds' (never back) */
        d->auth = d->svc;
        d->svc = NULL;
    }
    for (attempt = 0; attempt < 2 && d->auth == NULL; attempt++) {
        struct timespec saved;

        /* The service connection chooses the server; user binds follow it. */
        if (d->svc == NULL) {
            st = dir_svc_connect(d);
            if (st != ICSOE_OK)
                return st;
        }
        saved = dir_server_budget(d);
        st = dir_new_handle(d, d->conf->uri[d->cur], &d->auth);
        d->deadline = saved;
        if (st == ICSOE_ERR_INTERNAL)
            return st;
        if (st != ICSOE_OK)
            dir_server_failed(d, d->reason);
    }
    if (d->auth == NULL)
        return ICSOE_ERR_UNAVAILABLE;
    dir_arm(d, d->auth);
    *out = d->auth;
    return ICSOE_OK;
}

void dir_conn_failed(icsoe_dir *d, int rc)
{
    /* No answer in time: the server hangs, do not wait for it again.
     * Connection closed: maybe a restart or an idle timeout, so the next
     * connection tries the same server first. */
    if (rc == LDAP_TIMEOUT)
        dir_server_failed(d, "no answer");
    else
        dir_drop_all(d);
}

/* ---- generic operations ---- */

int dir_search_op(icsoe_dir *d, LDAP *ld, void *arg)
{
    dir_search *s = arg;
    struct timeval tv;

    if (s->res != NULL) {
        ldap_msgfree(s->res);
        s->res = NULL;
    }
    dir_timeval(d, &tv);
    return ldap_search_ext_s(ld, s->base, s->scope, s->filter, s->attrs, 0, NULL, NULL,
                             &tv, s->sizelimit, &s->res);
}

icsoe_status dir_read_one(icsoe_dir *d, const char *dn, const char *filter,
                          char **attrs, const char *what,
                          LDAPMessage **res, LDAPMessage **e)
{
    dir_search s;
    icsoe_status st;
    int rc;

    memset(&s, 0, sizeof(s));
    s.base = dn;
    s.scope = LDAP_SCOPE_BASE;
    s.filter = filter;
    s.attrs = attrs;
    s.sizelimit = 1;
    *e = NULL;
    st = dir_svc_run(d, dir_search_op, &s, &rc);
    *res = s.res;
    if (st != ICSOE_OK)
        return st;
    if (rc == LDAP_NO_SUCH_OBJECT)
        return ICSOE_ERR_NOT_FOUND;
    st = dir_map_rc(d, what, rc);
    if (st != ICSOE_OK)
        return st;
    *e = ldap_first_entry(d->svc, s.res);
    return *e != NULL ? ICSOE_OK : ICSOE_ERR_NOT_FOUND;
}

int dir_add_op(icsoe_dir *d, LDAP *ld, void *arg)
{
    dir_add *a = arg;

    (void)d;
    return ldap_add_ext_s(ld, a->dn, a->mods, NULL, NULL);
}

int dir_delete_op(icsoe_dir *d, LDAP *ld, void *arg)
{
    (void)d;
    return ldap_delete_ext_s(ld, (const char *)arg, NULL, NULL);
}

int dir_modify_op(icsoe_dir *d, LDAP *ld, void *arg)
{
    dir_modify *m = arg;
    LDAPControl *ppreq = NULL, relax, *ctrls[3];
    LDAPControl **resctrls = NULL;
    LDAPMessage *res = NULL;
    struct timeval tv;
    int msgid, rc, err = LDAP_SUCCESS, n = 0;

    m->pp_err = -1;
    if (m->want_ppolicy) {
        rc = ldap_create_passwordpolicy_control(ld, &ppreq);
        if (rc != LDAP_SUCCESS)
            return rc;
        ctrls[n++] = ppreq;
    }
    if (m->relax) {
        memset(&relax, 0, sizeof(relax));
        relax.ldctl_oid = LDAP_CONTROL_RELAX;
        relax.ldctl_iscritical = 1;
        ctrls[n++] = &relax;
    }
    ctrls[n] = NULL;
    rc = ldap_modify_ext(ld, m->dn, m->mods, n ? ctrls : NULL, NULL, &msgid);
    if (rc != LDAP_SUCCESS)
        goto out;
    dir_timeval(d, &tv);
    rc = ldap_result(ld, msgid, LDAP_MSG_ALL, &tv, &res);
    if (rc == 0) {
        ldap_abandon_ext(ld, msgid, NULL, NULL);
        rc = LDAP_TIMEOUT;
        goto out;
    }
    if (rc < 0) {
        ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &rc);
        if (rc == LDAP_SUCCESS)
            rc = LDAP_SERVER_DOWN;
        goto out;
    }
    rc = ldap_parse_result(ld, res, &err, NULL, NULL, NULL, &resctrls, 0);
    if (rc != LDAP_SUCCESS)
        goto out;
    rc = err;
    if (resctrls != NULL) {
        LDAPControl *c = ldap_control_find(LDAP_CONTROL_PASSWORDPOLICYRESPONSE, resctrls, NULL);
        ber_int_t expire = -1, grace = -1;
        LDAPPasswordPolicyError pperr = PP_noError;

        if (c != NULL &&
            ldap_parse_passwordpolicy_control(ld, c, &expire, &grace, &pperr) == LDAP_SUCCESS)
            m->pp_err = (int)pperr;
    }
out:
    if (resctrls != NULL)
        ldap_controls_free(resctrls);
    if (res != NULL)
        ldap_msgfree(res);
    if (ppreq != NULL)
        ldap_control_free(ppreq);
    return rc;
}

/* ---- the handle ---- */

static char *join_uris(const icsoe_conf *conf)
{
    size_t i, len = 1;
    char *s;

    for (i = 0; i < conf->nuri; i++)
        len += strlen(conf->uri[i]) + 1;
    s = malloc(len);
    if (s == NULL)
        return NULL;
    s[0] = '\0';
    for (i = 0; i < conf->nuri; i++) {
        if (i > 0)
            strcat(s, " ");
        strcat(s, conf->uri[i]);
    }
    return s;
}

static char *child_dn(const char *rdn, const char *base)
{
    size_t n = strlen(rdn) + 1 + strlen(base) + 1;
    char *s = malloc(n);

    if (s != NULL)
        snprintf(s, n, "%s,%s", rdn, base);
    return s;
}

void icsoe_dir_one_connection(icsoe_dir *d)
{
    d->one_connection = 1;
}

icsoe_dir *icsoe_dir_open(const icsoe_conf *conf, const icsoe_logger *lg)
{
    icsoe_dir *d = calloc(1, sizeof(*d));

    if (d == NULL)
        return NULL;
    d->conf = conf;
    d->lg = lg;
    d->uris = join_uris(conf);
    d->capturists_dn = child_dn("ou=capturistas", conf->base);
    d->contractors_dn = child_dn("ou=contratistas", conf->base);
    d->decoy_dn = child_dn("cn=icsoe-decoy", conf->base);
    if (d->uris == NULL || d->capturists_dn == NULL || d->contractors_dn == NULL ||
        d->decoy_dn == NULL) {
        icsoe_dir_close(d);
        return NULL;
    }
    return d;
}

void icsoe_dir_close(icsoe_dir *d)
{
    dir_call call;

    if (d == NULL)
        return;
    if (d->svc != NULL || d->wr != NULL || d->auth != NULL) {
        d->next_failback = 0;  /* closing is no time to move */
        dir_call_begin(d, &call);
        dir_drop(&d->svc);
        dir_drop(&d->wr);
        dir_drop(&d->auth);
        dir_call_end(d, &call, ICSOE_OK);
    }
    free(d->uris);
    free(d->capturists_dn);
    free(d->contractors_dn);
    free(d->decoy_dn);
    free(d);
}

const char *icsoe_dir_reason(const icsoe_dir *d)
{
    if (d == NULL)
        return "no directory handle";
    return d->reason[0] ? d->reason : "no error";
}
