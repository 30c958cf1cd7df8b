/* Private to lib/dir*.c and lib/ldapesc.c: the icsoe_dir structure and the
 * helpers shared by the directory files.  Not installed, not used by the
 * front ends. */
#ifndef ICSOE_DIR_INTERNAL_H
#define ICSOE_DIR_INTERNAL_H

#include <signal.h>
#include <time.h>
#include <ldap.h>
#include "dir.h"

#define DIR_REASON_MAX 512
/* Longest password we send to slapd; larger input is refused before any
 * network work (the policy's own maximum is far below). */
#define DIR_PASSWORD_MAX 4096

struct icsoe_dir {
    const icsoe_conf *conf;
    const icsoe_logger *lg;
    LDAP *svc;                 /* bound as conf->binddn (reader): searches */
    LDAP *wr;                  /* bound as conf->writer_binddn: writes; NULL
                                * and unused when no writer is configured */
    LDAP *auth;                /* only ever used for user binds */
    struct timespec deadline;  /* CLOCK_MONOTONIC end of the current call */
    char *uris;                /* conf->uri joined by spaces (for messages) */
    size_t cur;                /* conf->uri[cur] serves both connections */
    time_t next_failback;      /* wall-clock second of the next return check */
    char *capturists_dn;       /* ou=capturistas,<base> */
    char *contractors_dn;      /* ou=contratistas,<base> */
    char *decoy_dn;            /* cn=icsoe-decoy,<base> */
    char reason[DIR_REASON_MAX];
    unsigned long svc_replays; /* operations re-sent after a lost connection */
    int one_connection;        /* icsoe_dir_one_connection(): user binds take
                                * over the service connection */
};

/* One public call: starts the deadline (conf->timeout) and keeps SIGPIPE
 * from killing the process while libldap writes to a dropped socket. */
typedef struct dir_call {
    sigset_t oldmask;
    int sigpipe_was_pending;
    int masked;
} dir_call;

void dir_call_begin(icsoe_dir *d, dir_call *call);
void dir_call_end(icsoe_dir *d, dir_call *call, icsoe_status st);

/* Milliseconds left before the deadline (<= 0 when it has passed). */
long dir_remaining_ms(const icsoe_dir *d);

void dir_reason(icsoe_dir *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* 1 if rc means the connection is unusable (drop it, maybe retry). */
int dir_conn_lost(int rc);

/* An operation on the service connection.  Returns an LDAP result code
 * (or a negative libldap client code). */
typedef int (*dir_op_fn)(icsoe_dir *d, LDAP *ld, void *arg);

/* Runs op on the service connection (connecting and binding first when
 * needed), reconnecting and retrying once if the connection turns out to be
 * lost.  ICSOE_ERR_UNAVAILABLE when no server could be reached or the
 * deadline passed; ICSOE_ERR_INTERNAL when the service bind is refused;
 * else ICSOE_OK with *rc the result of op. */
icsoe_status dir_svc_run(icsoe_dir *d, dir_op_fn op, void *arg, int *rc);
/* The same on the writer connection (conf->writer_binddn), for every
 * operation that changes the directory and for token lookups (the reader
 * may not see icsoeTokenHash).  Without a writer configured it is
 * dir_svc_run: single-account sites keep working. */
icsoe_status dir_wr_run(icsoe_dir *d, dir_op_fn op, void *arg, int *rc);
/* The handle dir_wr_run used (to read its results). */
static inline LDAP *dir_wr_ld(const icsoe_dir *d)
{
    return d->conf->writer_binddn != NULL ? d->wr : d->svc;
}

/* 1 when a simple bind as dn with password answers 0 (auth connection). */
int dir_user_bind_ok(icsoe_dir *d, const char *dn, const char *password);

/* The authentication connection (connected, not bound as anyone in
 * particular).  NULL with the reason set when unreachable. */
icsoe_status dir_auth_conn(icsoe_dir *d, LDAP **out);
void dir_drop_auth(icsoe_dir *d);

/* Maps a final LDAP result code that has no special meaning for the
 * operation: 0 -> OK, connection problems -> UNAVAILABLE, everything else
 * -> INTERNAL (fail closed), with the reason recorded. */
icsoe_status dir_map_rc(icsoe_dir *d, const char *what, int rc);

/* Timeout for one synchronous call: what is left of the deadline. */
void dir_timeval(const icsoe_dir *d, struct timeval *tv);

/* ---- server choice (dir_route.c) ----
 * Every connection of a handle goes to one server, conf->uri[d->cur]: binds
 * are writes (ppolicy), so a handle never splits its work over two mirror
 * nodes.  A server that failed is remembered as down by the whole process
 * for conf->server_down_time seconds.  A new connection to a server that is
 * not the last of the list is used only once that server has caught up
 * (contextCSN) with the next reachable one, which keeps every process off a
 * restarted node until it holds what was written during its absence. */

/* Connects to conf->uri[i] and binds as the service account, all within
 * conf->server_timeout (and the call's deadline).  UNAVAILABLE when the
 * server cannot be reached or does not answer, INTERNAL when the bind is
 * refused. */
icsoe_status dir_open_server(icsoe_dir *d, size_t i, LDAP **out);

/* 1 when conf->uri[i] is remembered as down by this process. */
int dir_server_is_down(const icsoe_dir *d, size_t i);
/* Remembers conf->uri[i] as down (logged once) or forgets it. */
void dir_server_down(icsoe_dir *d, size_t i, const char *why);
void dir_server_up(const icsoe_dir *d, size_t i);

/* 1 when ld (connected to conf->uri[i], service-bound) may be used: i is
 * the last server, or its contextCSN covers that of the first reachable
 * server after it, or none after it answers. */
int dir_caught_up(icsoe_dir *d, size_t i, LDAP *ld);

/* At the start of a call on a handle that is not on the first server:
 * once per conf->failback_interval (aligned on the wall clock, so every
 * process and host checks at the same moments) moves back to the first
 * server that answers and has caught up. */
void dir_failback(icsoe_dir *d);

/* The server of the handle failed (no answer, connection refused): both
 * connections are dropped and the server is remembered as down, so the
 * next connection goes to the next one. */
void dir_server_failed(icsoe_dir *d, const char *why);

/* After an operation answered rc with dir_conn_lost(rc): a timeout marks
 * the server as down, anything else drops the connections so the next
 * attempt reconnects (to the same server first). */
void dir_conn_failed(icsoe_dir *d, int rc);

/* Drops both connections (the server choice is kept). */
void dir_drop_all(icsoe_dir *d);

/* The handle now uses conf->uri[i] (logged when it changes; schedules the
 * failback checks when i is not the first). */
void dir_route_settle(icsoe_dir *d, size_t i);

/* ---- search helpers (dir_capturist.c etc.) ---- */
typedef struct dir_search {
    const char *base;
    int scope;
    const char *filter;
    char **attrs;
    LDAPMessage *res;          /* owned by the caller after success */
    int sizelimit;
} dir_search;

/* Op for dir_svc_run: a synchronous search bounded by the deadline. */
int dir_search_op(icsoe_dir *d, LDAP *ld, void *arg);

/* The entry at dn matching filter (a base search on the service
 * connection, inside a dir_call): *e points into *res, which the caller
 * frees with ldap_msgfree whatever the result (it may be NULL).  NOT_FOUND
 * when there is no such DN or it does not match; what names the search in
 * the reason of other errors. */
icsoe_status dir_read_one(icsoe_dir *d, const char *dn, const char *filter,
                          char **attrs, const char *what,
                          LDAPMessage **res, LDAPMessage **e);

/* Single-valued string attribute as a malloc'd string (NULL if absent).
 * *bad is set when the value is unsafe (CR, LF, NUL or invalid UTF-8). */
char *dir_get_str(LDAP *ld, LDAPMessage *e, const char *attr, int *bad);
/* Multi-valued attribute as a NULL-terminated malloc'd array of strings. */
char **dir_get_strs(LDAP *ld, LDAPMessage *e, const char *attr, size_t *n, int *bad);
int dir_text_ok(const char *s, size_t len);

/* An entry's attributes, read by walking its BER once (ldap_get_values_len
 * re-parses the entry from the start for every attribute asked: ten of
 * them cost a login more than the rest of it).  Values point into the
 * LDAPMessage, which must outlive the dir_entry. */
#define DIR_ENTRY_MAX_ATTRS 32
typedef struct dir_entry {
    BerElement *ber;
    size_t n;
    struct {
        struct berval name;
        BerVarray vals;        /* ends with a NULL bv_val; NULL if no values */
    } a[DIR_ENTRY_MAX_ATTRS];
} dir_entry;

/* 0, or -1 (malformed entry, more attributes than expected, no memory):
 * fail closed, as for an unsafe value.  dir_entry_close in both cases. */
int dir_entry_open(LDAP *ld, LDAPMessage *e, dir_entry *ent);
void dir_entry_close(dir_entry *ent);
/* The values of attr (case-insensitive name), NULL when absent or empty. */
const struct berval *dir_entry_vals(const dir_entry *ent, const char *attr);
/* As dir_get_str / dir_get_strs, from a walked entry. */
char *dir_entry_str(const dir_entry *ent, const char *attr, int *bad);
char **dir_entry_strs(const dir_entry *ent, const char *attr, size_t *n, int *bad);

/* "2024..Z" generalizedTime <-> time_t (UTC). -1 if malformed. */
time_t dir_parse_gentime(const char *s);
void dir_format_gentime(time_t t, char out[16]);

/* DNs built from an escaped value; malloc'd. */
char *dir_capturist_dn(const icsoe_dir *d, const char *curp);
char *dir_contractor_dn(const icsoe_dir *d, const char *rfc);

/* Shape checks done before any value reaches the directory (the full
 * validation with check digits is icsoe_curp_check / icsoe_rfc_check in the
 * callers): a CURP's is icsoe_curp_shape_ok (curp.h); an RFC's, 12 or 13
 * of [A-Z0-9&] or UTF-8 Ñ. */
int dir_rfc_shape_ok(const char *rfc);

/* Reads a capturist entry into out (which is cleared first). */
icsoe_status dir_read_capturist(icsoe_dir *d, LDAP *ld, LDAPMessage *e,
                                icsoe_capturist *out);
/* Attributes dir_read_capturist needs. */
extern char *dir_capturist_attrs[];

/* Fetches one capturist by CURP (base search on its DN); NOT_FOUND if
 * missing.  dn_out (may be NULL) receives the DN, malloc'd.  The _login
 * form asks for and fills only what a password check needs: curp, name,
 * status and epoch (the other fields stay empty). */
icsoe_status dir_fetch_capturist(icsoe_dir *d, const char *curp,
                                 icsoe_capturist *out, char **dn_out);
icsoe_status dir_fetch_capturist_login(icsoe_dir *d, const char *curp,
                                       icsoe_capturist *out, char **dn_out);

/* A single Modify on the service connection; returns the LDAP rc in *rc.
 * pp_err (may be NULL) receives the ppolicy error (-1 if no control). */
typedef struct dir_modify {
    const char *dn;
    LDAPMod **mods;
    int want_ppolicy;   /* send the ppolicy request control */
    int relax;          /* send the Relax control (ppolicy lockout attrs) */
    int pp_err;         /* out: LDAPPasswordPolicyError or -1 */
} dir_modify;
int dir_modify_op(icsoe_dir *d, LDAP *ld, void *arg);

/* An Add (arg: dir_add) and a Delete (arg: the DN) for dir_wr_run. */
typedef struct dir_add {
    const char *dn;
    LDAPMod **mods;
} dir_add;
int dir_add_op(icsoe_dir *d, LDAP *ld, void *arg);
int dir_delete_op(icsoe_dir *d, LDAP *ld, void *arg);

/* icsoe_dir_contractor_get_many inside an ongoing call. */
icsoe_status dir_contractor_get_many(icsoe_dir *d, const char *const *rfcs, size_t nrfc,
                                     icsoe_contractor **out, size_t *n);

/* RFC 4514 escaping of a DN attribute value (malloc'd). */
char *icsoe_ldap_dn_escape(const char *value);

#endif
