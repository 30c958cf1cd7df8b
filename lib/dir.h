/* The directory: capturists, contractors and tokens in OpenLDAP.
 *
 * An icsoe_dir is one "session" with the directory: a service connection
 * (bound as binddn, reused, reconnected after the server drops) and a
 * separate authentication connection used only for user binds (never for
 * service operations).  An icsoe_dir is NOT thread-safe: use one per thread
 * (Apache keeps a pool of them, PAM opens one per call).  Every operation
 * tries the configured URIs in order and gives up after conf->timeout
 * seconds with ICSOE_ERR_UNAVAILABLE.  Every filter value is escaped.
 *
 * Layout under conf->base (see schema/README):
 *   ou=contratistas   icsoeRFC=<RFC>   objectClass icsoeContractor
 *   ou=capturistas    uid=<CURP>       inetOrgPerson + icsoeCapturist
 *   cn=icsoe-decoy                     bound on unknown/pending CURPs so a
 *                                      failed login costs the same work
 */
#ifndef ICSOE_DIR_H
#define ICSOE_DIR_H

#include <stddef.h>
#include <time.h>
#include "conf.h"
#include "err.h"
#include "log.h"
#include "rfc.h"
#include "curp.h"
#include "token.h"

typedef struct icsoe_dir icsoe_dir;

/* Never connects here (connections are lazy).  NULL only when out of memory.
 * conf and lg must outlive the handle. */
icsoe_dir *icsoe_dir_open(const icsoe_conf *conf, const icsoe_logger *lg);
void icsoe_dir_close(icsoe_dir *d);
/* For short-lived handles (pam_icsoe: one per PAM call): a user bind is
 * made on the service connection, which from then on belongs to user binds
 * only (a later service operation opens a new one), instead of opening a
 * second connection.  Saves a TCP connect and slapd's connection set-up per
 * authentication; the rule that a user-bound connection never does service
 * work still holds. */
void icsoe_dir_one_connection(icsoe_dir *d);
/* Last error in words for logs (e.g. "ldap://127.0.0.1:389: Can't contact
 * LDAP server"), never a secret.  Valid until the next call. */
const char *icsoe_dir_reason(const icsoe_dir *d);

/* ---- contractors ---- */
typedef struct icsoe_contractor {
    char rfc[ICSOE_RFC_BUFSZ];
    char *name;   /* razón social, required */
    char *repse;  /* may be NULL */
    char *email;  /* may be NULL */
} icsoe_contractor;

void icsoe_contractor_clear(icsoe_contractor *c);              /* frees members */
void icsoe_contractor_list_free(icsoe_contractor *v, size_t n); /* and array */

icsoe_status icsoe_dir_contractor_add(icsoe_dir *d, const icsoe_contractor *c);
icsoe_status icsoe_dir_contractor_get(icsoe_dir *d, const char *rfc,
                                      icsoe_contractor *out);
/* All contractors, sorted by RFC. */
icsoe_status icsoe_dir_contractor_list(icsoe_dir *d, icsoe_contractor **out,
                                       size_t *n);
/* The given RFCs in one search (unknown RFCs are skipped), sorted by RFC. */
icsoe_status icsoe_dir_contractor_get_many(icsoe_dir *d,
                                           const char *const *rfcs, size_t nrfc,
                                           icsoe_contractor **out, size_t *n);
/* ICSOE_ERR_EXISTS while capturists are assigned, unless force (which
 * revokes it from them first). */
icsoe_status icsoe_dir_contractor_remove(icsoe_dir *d, const char *rfc, int force);

/* ---- capturists ---- */
typedef enum icsoe_capturist_status {
    ICSOE_CAPTURIST_PENDING = 0,
    ICSOE_CAPTURIST_ACTIVE,
    ICSOE_CAPTURIST_LOCKED
} icsoe_capturist_status;

const char *icsoe_capturist_status_name(icsoe_capturist_status s); /* "pending"... */
int icsoe_capturist_status_parse(const char *s); /* -1 if unknown */

/* Delivery state of the last mail sent to a capturist (schema attributes
 * icsoeMailState/Time/Kind/Error).  NONE: nothing recorded (no mail sent
 * since the account was created or its link was handed out with
 * --no-mail, or an account older than the record). */
typedef enum icsoe_mail_state {
    ICSOE_MAIL_STATE_NONE = 0,
    ICSOE_MAIL_STATE_SENT,     /* the relay accepted it */
    ICSOE_MAIL_STATE_UNSENT,   /* temporary or configuration failure: resend */
    ICSOE_MAIL_STATE_REFUSED   /* address refused for good: correct it first */
} icsoe_mail_state;

const char *icsoe_mail_state_name(icsoe_mail_state s); /* "none", "sent", ... */

#define ICSOE_MAIL_KIND_MAX 16
#define ICSOE_MAIL_ERROR_MAX 512

typedef struct icsoe_delivery {
    icsoe_mail_state state;
    time_t when;                       /* of the attempt; 0 with NONE */
    char kind[ICSOE_MAIL_KIND_MAX];    /* "activation", "reset", "password_set" or "" */
    char *error;                       /* why not delivered; NULL when sent */
} icsoe_delivery;

typedef struct icsoe_capturist {
    char curp[ICSOE_CURP_LEN + 1];
    char *name;
    char *email;
    icsoe_capturist_status status;
    char **contractors;     /* RFCs, sorted; counted by ncontractors (no NULL needed) */
    size_t ncontractors;
    long long epoch;        /* bumped on logout, lock and password change */
    time_t token_expiry;    /* 0 when no token is pending */
    int token_purpose;      /* icsoe_token_purpose or 0 */
    time_t last_recover;    /* last recovery mail, 0 if never */
    int pp_locked;          /* ppolicy pwdAccountLockedTime present */
    time_t created;         /* createTimestamp (registration), 0 if unknown */
    char registered_by[ICSOE_RFC_BUFSZ]; /* contractor that created it
                                          * on its page, "" if unknown */
    icsoe_delivery delivery; /* the last mail sent to the account */
    /* Unix identity (posixAccount, lib/dir_posix.c), read in the same walk
     * of the entry; information only: a malformed value never makes the
     * account unreadable. */
    int has_unix;           /* uidNumber present */
    long unix_uid, unix_gid; /* -1 when absent or malformed */
    char *unix_home;        /* homeDirectory, NULL if absent */
    char *unix_shell;       /* loginShell, NULL if absent */
} icsoe_capturist;

/* Password expiry and forced change as ppolicy will judge them at the
 * next bind, read with the service connection (lib/dir_pwstate.c). */
typedef struct icsoe_pwstate {
    int must_change;        /* pwdReset, and the policy has pwdMustChange */
    int expired;            /* pwdChangedTime + pwdMaxAge has passed */
    int grace_left;         /* when expired: grace binds left (>= 0) */
    long long expires_in;   /* seconds until expiry; -1 when it never does */
    int warn;               /* inside the policy's pwdExpireWarning */
} icsoe_pwstate;

/* ICSOE_OK and *out filled; ICSOE_ERR_NOT_FOUND when no such capturist;
 * ICSOE_ERR_INTERNAL when the entry or its policy cannot be read or is
 * malformed (the caller denies); ICSOE_ERR_UNAVAILABLE. */
icsoe_status icsoe_dir_password_state(icsoe_dir *d, const char *curp,
                                      icsoe_pwstate *out);

void icsoe_capturist_clear(icsoe_capturist *c);
void icsoe_capturist_list_free(icsoe_capturist *v, size_t n);

/* Creates a pending account without password; every contractor must exist
 * (ICSOE_ERR_NOT_FOUND otherwise), ICSOE_ERR_EXISTS if the CURP exists. */
icsoe_status icsoe_dir_capturist_add(icsoe_dir *d, const icsoe_capturist *c);
icsoe_status icsoe_dir_capturist_get(icsoe_dir *d, const char *curp,
                                     icsoe_capturist *out);
/* rfc NULL = any; status -1 = any.  Sorted by CURP. */
icsoe_status icsoe_dir_capturist_list(icsoe_dir *d, const char *rfc, int status,
                                      icsoe_capturist **out, size_t *n);
icsoe_status icsoe_dir_capturist_grant(icsoe_dir *d, const char *curp,
                                       const char *rfc); /* EXISTS if already */
icsoe_status icsoe_dir_capturist_revoke(icsoe_dir *d, const char *curp,
                                        const char *rfc); /* NOT_FOUND if not */
/* Admin lock: status locked and epoch bumped (ends sessions). */
icsoe_status icsoe_dir_capturist_lock(icsoe_dir *d, const char *curp);
/* Status back to active (or pending if no password was ever set) and the
 * ppolicy lockout cleared (pwdAccountLockedTime, pwdFailureTime). */
icsoe_status icsoe_dir_capturist_unlock(icsoe_dir *d, const char *curp);
icsoe_status icsoe_dir_capturist_remove(icsoe_dir *d, const char *curp);
/* Ends every session of the account (logout). */
icsoe_status icsoe_dir_capturist_bump_epoch(icsoe_dir *d, const char *curp);
/* Rate limit for recovery mails: records now and returns ICSOE_OK if the
 * previous one is older than min_interval, else ICSOE_ERR_EXISTS. Atomic
 * (the old value is deleted by value).  *previous (may be NULL) receives
 * the value it replaced (0: none), for icsoe_dir_capturist_unclaim_recover. */
icsoe_status icsoe_dir_capturist_claim_recover(icsoe_dir *d, const char *curp,
                                               time_t now, int min_interval,
                                               time_t *previous);

/* Record the delivery state of a mail just sent (or not) to the account:
 * kind "activation", "reset" or "password_set"; error (may be NULL) is
 * stored cut to ICSOE_MAIL_ERROR_MAX bytes with control characters
 * replaced.  state NONE removes the record. */
icsoe_status icsoe_dir_capturist_record_mail(icsoe_dir *d, const char *curp,
                                             const char *kind, icsoe_mail_state state,
                                             time_t when, const char *error);
/* A new address (checked with icsoe_email_valid).  The caller voids any
 * link mailed to the old one (a pending account gets a new link). */
icsoe_status icsoe_dir_capturist_set_email(icsoe_dir *d, const char *curp,
                                           const char *email);
/* Give back a recovery claim whose mail was not delivered, so the rate
 * limit counts only delivered mails: claimed (the time
 * icsoe_dir_capturist_claim_recover recorded) is replaced by previous (0:
 * none).  Does nothing if another claim replaced it meanwhile. */
icsoe_status icsoe_dir_capturist_unclaim_recover(icsoe_dir *d, const char *curp,
                                                 time_t claimed, time_t previous);

/* Once per ppolicy lockout: records the account's pwdAccountLockedTime in
 * icsoeLockNotice.  ICSOE_OK when this caller claimed it (it sends the
 * "cuenta bloqueada" mail), ICSOE_ERR_EXISTS when that lock was already
 * notified (or a concurrent caller won), ICSOE_ERR_NOT_FOUND when the
 * account is not locked by ppolicy or does not exist.  Atomic. */
icsoe_status icsoe_dir_capturist_claim_lock_notice(icsoe_dir *d, const char *curp);

/* ---- one-time tokens ---- */
/* Store hash+expiry+purpose, replacing (voiding) any previous token. */
icsoe_status icsoe_dir_token_store(icsoe_dir *d, const char *curp,
                                   icsoe_token_purpose purpose,
                                   const char *hash_hex, time_t expiry);
/* Find the account owning token (purpose 0 = any).  NOT_FOUND for unknown,
 * malformed or wrong-purpose tokens, EXPIRED when past expiry.  Never
 * consumes. */
icsoe_status icsoe_dir_token_lookup(icsoe_dir *d, const char *token, int purpose,
                                    icsoe_capturist *out);
/* Atomically: delete the exact token hash, set userPassword (slapd hashes
 * it), status active, bump epoch.  A concurrent or second use gets
 * NOT_FOUND; EXPIRED past expiry; POLICY if slapd's ppolicy refuses (msg
 * says why).  out (may be NULL) receives the account as it was. */
icsoe_status icsoe_dir_token_consume(icsoe_dir *d, const char *token, int purpose,
                                     const char *new_password,
                                     icsoe_capturist *out);

/* ---- authentication ---- */
typedef struct icsoe_ppolicy_info {
    int locked;          /* accountLocked */
    int expired;         /* passwordExpired */
    int must_change;     /* changeAfterReset */
    int grace_left;      /* -1 when not sent */
    int expires_in;      /* seconds, -1 when not sent */
} icsoe_ppolicy_info;

/* Bind as the capturist.  ICSOE_OK only if the bind answered 0 and the
 * account is active.  Unknown CURP, wrong password and pending account all
 * give ICSOE_ERR_INVALID_CREDENTIALS after the same work (a bind of the
 * decoy entry).  ppolicy lockout or status locked: ICSOE_ERR_LOCKED.
 * Expired password: ICSOE_ERR_EXPIRED.  out and pp may be NULL.  out
 * receives what a login needs: curp, name, status and epoch (the other
 * fields empty; icsoe_dir_capturist_get reads the whole record). */
icsoe_status icsoe_dir_verify_password(icsoe_dir *d, const char *curp,
                                       const char *password,
                                       icsoe_capturist *out,
                                       icsoe_ppolicy_info *pp);

typedef enum icsoe_pwchange_reason {
    ICSOE_PWCHANGE_NONE = 0,
    ICSOE_PWCHANGE_IN_HISTORY,
    ICSOE_PWCHANGE_TOO_YOUNG,
    ICSOE_PWCHANGE_QUALITY,
    ICSOE_PWCHANGE_TOO_SHORT,
    ICSOE_PWCHANGE_NOT_ALLOWED,
    ICSOE_PWCHANGE_OTHER
} icsoe_pwchange_reason;
const char *icsoe_pwchange_reason_message(icsoe_pwchange_reason r); /* Spanish */

/* Password Modify extended operation (RFC 3062) bound as the user.
 * INVALID_CREDENTIALS for a wrong old password, POLICY with *why set when
 * ppolicy refuses. Bumps the epoch on success. */
icsoe_status icsoe_dir_change_password(icsoe_dir *d, const char *curp,
                                       const char *old_password,
                                       const char *new_password,
                                       icsoe_pwchange_reason *why);

/* ---- Unix identities (optional; lib/dir_posix.c) ----
 * posixAccount on capturist entries and posixGroup entries below
 * ou=grupos, numbered from the id pool cn=icsoe-idpool,ou=grupos (atomic:
 * two concurrent calls never get the same number).  Every call returns
 * ICSOE_ERR_INVALID_INPUT when unix_uid_min/max are not configured. */
/* Gives the capturist uidNumber, gidNumber (the unix_group site group,
 * created on first use), homeDirectory unix_home/CURP and loginShell, and
 * puts it in its contractors' groups.  EXISTS (with *uid, *gid) if it
 * already has them; ICSOE_ERR_EXISTS with the reason set when a range is
 * exhausted. */
icsoe_status icsoe_dir_posix_enable(icsoe_dir *d, const char *curp, long *uid, long *gid);
/* Removes them and the group memberships; NOT_FOUND if it has none. */
icsoe_status icsoe_dir_posix_disable(icsoe_dir *d, const char *curp);
/* Recomputes the capturist's contractor-group memberships from its entry
 * (after a grant, revoke or removal).  A missing capturist leaves every
 * group. */
icsoe_status icsoe_dir_posix_sync(icsoe_dir *d, const char *curp);
/* A posixGroup cn=name for the capturists of rfc (those with a Unix
 * identity become members).  EXISTS if rfc already has a group or the
 * name is taken; INVALID_INPUT for a name that is not [a-z_][a-z0-9_-]*. */
icsoe_status icsoe_dir_posix_group_enable(icsoe_dir *d, const char *rfc,
                                          const char *name, long *gid);
icsoe_status icsoe_dir_posix_group_disable(icsoe_dir *d, const char *rfc);
/* Names (cn) of the contractor groups whose memberUid include curp,
 * sorted, NULL-terminated and malloc'd (*n counts them); one search. */
icsoe_status icsoe_dir_posix_groups_of(icsoe_dir *d, const char *curp,
                                       char ***names, size_t *n);
void icsoe_dir_posix_groups_free(char **names);

/* ---- helpers (exposed for tests and fuzzing) ---- */
/* RFC 4515 escaping of a filter value into a malloc'd string. */
char *icsoe_ldap_filter_escape(const char *value) __attribute__((warn_unused_result));

#endif
