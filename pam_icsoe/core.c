/* pam_icsoe core: the helpers every PAM service shares (see core.h):
 * logging through pam_syslog, the user name, the configuration and
 * directory, passwords from items or the conversation, the decoy
 * verification, and the ppolicy note between auth and the later steps. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "core.h"
#include "secure.h"

/* pam_set_data() key of the note the auth step leaves for acct_mgmt. */
#define ICSOE_PAM_NOTE "pam_icsoe_ppolicy_note"

/* Verified with a made-up but well-formed CURP when the password is empty,
 * so that an empty password costs the same directory work as a wrong one
 * (the 18th character, the check digit, is computed).  (A name that is not
 * a CURP never gets this far: see icsoe_pam_get_curp.) */
#define ICSOE_DECOY_CURP17 "XEXX010101HNEXXXA"
/* Sent with the decoy CURP when the password is empty: an empty password
 * must never reach a bind (it would be an anonymous bind). */
#define ICSOE_DECOY_PASSWORD "pam_icsoe decoy password"

/* ---------------------------------------------------------------- logging */

/* Adapter from the library's logger to pam_syslog: the library never logs
 * by itself.  Debug lines only with the debug option. */
static void pam_logger(void *ctx, int level, const char *msg)
{
    const icsoe_pam *p = ctx;

    if (level >= ICSOE_LOG_DEBUG && !p->args.debug)
        return;
    pam_syslog(p->pamh, level, "%s", msg);
}

void icsoe_pam_init(icsoe_pam *p, pam_handle_t *pamh, int flags,
                    const char *opname, int argc, const char **argv)
{
    memset(p, 0, sizeof(*p));
    p->pamh = pamh;
    p->flags = flags;
    p->opname = opname;
    p->logger.fn = pam_logger;
    p->logger.ctx = p;
    icsoe_pam_args_parse(pamh, argc, argv, &p->args);
}

void icsoe_pam_fini(icsoe_pam *p)
{
    icsoe_dir_close(p->dir);
    p->dir = NULL;
    icsoe_confcache_release(p->conf_ref);
    p->conf_ref = NULL;
    p->conf = NULL;
}

/* ----------------------------------------------------------- user, config */

/* A user name is taken only as a person would type it on a terminal: no
 * control character anywhere (a "CURP\n" would reach the application's
 * PAM_USER, mod_authnz_pam's REMOTE_USER or a log line with its newline)
 * and no surrounding space (it would be an alias of the real name).  Lower
 * case is accepted: CURPs are case-insensitive, and PAM_USER is rewritten
 * to the canonical upper-case CURP on success. */
static int user_name_is_plain(const char *user)
{
    size_t len = strlen(user);

    if (len == 0 || user[0] == ' ' || user[len - 1] == ' ')
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)user[i];

        if (c < 0x20 || c == 0x7f)
            return 0;
    }
    return 1;
}

/* 1 when name is a local account (passwd database) with a uid below
 * minimum_uid: root, daemons and administrators are never ours, even
 * when someone gives one a CURP-shaped name. */
static int is_local_system_account(const icsoe_pam *p, const char *name)
{
    struct passwd pw, *found = NULL;
    char buf[4096];

    if (p->args.minimum_uid <= 0)
        return 0;
    errno = 0;
    if (getpwnam_r(name, &pw, buf, sizeof(buf), &found) == ERANGE)
        return 1;   /* an entry too big to read: not ours (fail closed) */
    if (found == NULL)
        return 0;
    return (long)found->pw_uid < p->args.minimum_uid;
}

int icsoe_pam_get_curp(icsoe_pam *p, int *rc)
{
    const char *user = NULL;
    icsoe_curp_reason r;

    *rc = pam_get_user(p->pamh, &user, ICSOE_PROMPT_USER);
    if (*rc != PAM_SUCCESS || user == NULL) {
        plog(p, ICSOE_LOG_ERR, "%s: no user name (%s)", p->opname,
             pam_strerror(p->pamh, *rc));
        if (*rc == PAM_SUCCESS)
            *rc = PAM_SERVICE_ERR;
        return -1;
    }
    p->curp[0] = '\0';
    /* The name is not logged: it may be a password typed in the wrong
     * field. */
    if (!user_name_is_plain(user)) {
        plog(p, ICSOE_LOG_DEBUG, "%s: user name has a control character "
             "or surrounding spaces", p->opname);
        return 0;
    }
    r = icsoe_curp_check(user, p->curp);
    if (r != ICSOE_CURP_OK) {
        plog(p, ICSOE_LOG_DEBUG, "%s: user name is not a CURP (%s)",
             p->opname, icsoe_curp_reason_name(r));
        p->curp[0] = '\0';
        return 0;
    }
    /* user differs from p->curp only in case: each may be an account */
    if (is_local_system_account(p, user) ||
        (strcmp(user, p->curp) != 0 && is_local_system_account(p, p->curp))) {
        plog(p, ICSOE_LOG_NOTICE, "%s: %s is a local account below "
             "minimum_uid=%ld, not a capturist", p->opname, p->curp,
             p->args.minimum_uid);
        p->curp[0] = '\0';
        return 0;
    }
    return 1;
}

int icsoe_pam_set_canonical_user(icsoe_pam *p)
{
    const void *item = NULL;
    int rc;

    if (p->curp[0] == '\0')
        return PAM_SUCCESS;
    rc = pam_get_item(p->pamh, PAM_USER, &item);
    if (rc == PAM_SUCCESS && item != NULL && strcmp(item, p->curp) == 0)
        return PAM_SUCCESS;
    rc = pam_set_item(p->pamh, PAM_USER, p->curp);
    if (rc != PAM_SUCCESS)
        plog(p, ICSOE_LOG_ERR, "%s: cannot set PAM_USER to %s (%s)",
             p->opname, p->curp, pam_strerror(p->pamh, rc));
    return rc;
}

int icsoe_pam_open_directory(icsoe_pam *p)
{
    char err[512];
    int cached = 0;

    p->conf = icsoe_confcache_get(p->args.config, &p->conf_ref, &cached, err,
                                  sizeof(err));
    if (p->conf == NULL) {
        plog(p, ICSOE_LOG_ERR, "%s: configuration: %s", p->opname, err);
        return PAM_SERVICE_ERR;
    }
    plog(p, ICSOE_LOG_DEBUG, "%s: configuration %s %s", p->opname,
         p->args.config, cached ? "unchanged (cached)" : "loaded");
    p->dir = icsoe_dir_open(p->conf, &p->logger);
    if (p->dir == NULL) {
        plog(p, ICSOE_LOG_ERR, "%s: out of memory", p->opname);
        return PAM_BUF_ERR;
    }
    /* one PAM call, one LDAP connection: service bind, search, then the
     * user's bind on it; closed at the end of the call (issue 16) */
    icsoe_dir_one_connection(p->dir);
    return PAM_SUCCESS;
}

/* ------------------------------------------------------------- passwords */

int icsoe_pam_get_password(icsoe_pam *p, int item, const char *prompt,
                           int use_first, int try_first, char **out)
{
    const void *stored = NULL;
    char *answer = NULL;
    int rc;

    *out = NULL;
    if (use_first || try_first) {
        rc = pam_get_item(p->pamh, item, &stored);
        if (rc == PAM_SUCCESS && stored != NULL) {
            *out = strdup(stored);
            return *out != NULL ? PAM_SUCCESS : PAM_BUF_ERR;
        }
        if (use_first) {
            plog(p, ICSOE_LOG_ERR, "%s: use_first_pass but no password "
                 "from a previous module", p->opname);
            return PAM_AUTHTOK_RECOVERY_ERR;
        }
    }
    rc = icsoe_conv_secret(p->pamh, prompt, &answer);
    if (rc != PAM_SUCCESS) {
        plog(p, ICSOE_LOG_ERR, "%s: conversation failed (%s)", p->opname,
             pam_strerror(p->pamh, rc));
        return rc;
    }
    rc = pam_set_item(p->pamh, item, answer);
    if (rc != PAM_SUCCESS) {
        icsoe_free_secret(answer);
        return rc;
    }
    *out = answer;
    return PAM_SUCCESS;
}

/* Verifies a password for p->curp, or does exactly the same work for a
 * decoy account when the password is empty, so that it cannot be told
 * from a wrong one by timing (unknown and pending CURPs get the library's
 * own decoy bind).  A decoy never
 * succeeds; an unreachable directory is still reported as such. */
icsoe_status icsoe_pam_verify(icsoe_pam *p, const char *password,
                              icsoe_ppolicy_info *pp)
{
    char decoy[ICSOE_CURP_LEN + 1];
    int use_decoy = p->curp[0] == '\0' || password[0] == '\0';
    icsoe_status st;

    memset(pp, 0, sizeof(*pp));
    pp->grace_left = -1;
    pp->expires_in = -1;
    if (!use_decoy)
        return icsoe_dir_verify_password(p->dir, p->curp, password, NULL, pp);

    memcpy(decoy, ICSOE_DECOY_CURP17, ICSOE_CURP_LEN - 1);
    decoy[ICSOE_CURP_LEN - 1] = icsoe_curp_check_digit(decoy);
    decoy[ICSOE_CURP_LEN] = '\0';
    st = icsoe_dir_verify_password(p->dir, decoy, password[0] != '\0' ?
                                   password : ICSOE_DECOY_PASSWORD, NULL, pp);
    memset(pp, 0, sizeof(*pp));
    pp->grace_left = -1;
    pp->expires_in = -1;
    return st == ICSOE_ERR_UNAVAILABLE ? st : ICSOE_ERR_INVALID_CREDENTIALS;
}

/* ----------------------------------------------------------- ppolicy note */

static void free_note(pam_handle_t *pamh, void *data, int error_status)
{
    (void)pamh;
    (void)error_status;
    free(data);
}

int icsoe_pam_leave_note(icsoe_pam *p, const icsoe_ppolicy_info *pp)
{
    icsoe_pam_note *n = calloc(1, sizeof(*n));
    int rc;

    if (n == NULL)
        return PAM_BUF_ERR;
    memcpy(n->curp, p->curp, sizeof(n->curp));
    n->expired = pp->expired || pp->grace_left >= 0;
    n->must_change = pp->must_change;
    n->grace_left = pp->grace_left;
    n->expires_in = pp->expires_in;
    rc = pam_set_data(p->pamh, ICSOE_PAM_NOTE, n, free_note);
    if (rc != PAM_SUCCESS)
        free(n);
    return rc;
}

/* The note for p->curp, or NULL. */
const icsoe_pam_note *icsoe_pam_read_note(const icsoe_pam *p)
{
    const void *data = NULL;
    const icsoe_pam_note *n;

    if (pam_get_data(p->pamh, ICSOE_PAM_NOTE, &data) != PAM_SUCCESS ||
        data == NULL)
        return NULL;
    n = data;
    return strcmp(n->curp, p->curp) == 0 ? n : NULL;
}

int icsoe_pam_needs_new_password(const icsoe_pam_note *n)
{
    return n != NULL && (n->expired || n->must_change);
}
