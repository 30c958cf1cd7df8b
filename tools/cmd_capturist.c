/* icsoectl capturist add|resend|set|grant|revoke|lock|unlock|remove|show|list
 * (import lives in cmd_import.c).  Tokens and their hashes are never
 * printed: show gives only the purpose and expiry of a pending link. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "account.h"
#include "icsoectl.h"
#include "output.h"
#include "secure.h"
#include "token.h"

/* ---- shared ---- */

static int not_found_capturist(const char *curp)
{
    ctl_err("capturist %s does not exist", curp);
    return CTL_EXIT_CONFLICT;
}

/* Look up a capturist named on the command line. */
static int get_capturist(ctl *c, const char *curp, icsoe_capturist *out)
{
    char what[128];
    icsoe_status st = icsoe_dir_capturist_get(c->dir, curp, out);

    if (st == ICSOE_ERR_NOT_FOUND)
        return not_found_capturist(curp);
    if (st != ICSOE_OK) {
        snprintf(what, sizeof(what), "cannot read capturist %s", curp);
        return ctl_dir_fail(c, st, what);
    }
    return CTL_EXIT_OK;
}

/* Parse the common options, expect nargs positional arguments, normalise
 * the first as a CURP and open the directory.  CTL_GO_ON to proceed, else
 * the exit code (0 after --help). */
static int curp_verb_setup(ctl *c, int argc, char **argv, int nargs,
                           char curp[ICSOE_CURP_LEN + 1])
{
    int rc = ctl_simple_args(c, argc, argv, nargs);

    if (rc != CTL_GO_ON)
        return rc;
    rc = ctl_arg_curp(argv[optind], curp);
    if (rc == CTL_EXIT_OK)
        rc = ctl_open_dir(c);
    return rc == CTL_EXIT_OK ? CTL_GO_ON : rc;
}

static void print_done(ctl *c, const char *curp, const char *rfc,
                       const char *action, const char *status)
{
    if (c->json) {
        ctl_json j;

        ctl_json_init(&j, stdout);
        ctl_json_begin_object(&j);
        ctl_json_kv_string(&j, "curp", curp);
        if (rfc != NULL)
            ctl_json_kv_string(&j, "rfc", rfc);
        ctl_json_kv_string(&j, "action", action);
        if (status != NULL)
            ctl_json_kv_string(&j, "status", status);
        ctl_json_end_object(&j);
        ctl_json_finish(&j);
        return;
    }
    printf("capturist %s: %s%s%s%s%s\n", curp, action, rfc != NULL ? " " : "",
           rfc != NULL ? rfc : "", status != NULL ? ", status " : "",
           status != NULL ? status : "");
}

/* Issue an activation link for cap: mailed when send, else printed (the
 * operator asked for it with --no-mail).  done says what happened before
 * ("added", "new activation link"); the link buffer is wiped.  A mail that
 * did not go is explained by its cause (ctl_mail_failed). */
static int issue_activation(ctl *c, const icsoe_capturist *cap, int send,
                            const char *done, int created, int quiet)
{
    char err[1024] = "";
    char until[32];
    size_t linklen = (c->conf->activation_url != NULL
                      ? strlen(c->conf->activation_url) : 0) + ICSOE_TOKEN_LEN + 64;
    char *link = calloc(1, linklen);
    icsoe_mail_fail fail = ICSOE_MAIL_OK;
    icsoe_status st;
    int rc = CTL_EXIT_OK;

    if (link == NULL) {
        ctl_err("out of memory");
        return CTL_EXIT_INTERNAL;
    }
    st = icsoe_account_issue_link(c->dir, c->conf, cap, ICSOE_TOKEN_ACTIVATION,
                                  send, link, linklen, &fail, err, sizeof(err));
    ctl_format_time(time(NULL) + c->conf->token_lifetime, until, sizeof(until));
    if (st != ICSOE_OK && st != ICSOE_ERR_UNAVAILABLE) {
        ctl_err("%s%s", created ? "account created but no activation link was issued: " : "",
                err[0] != '\0' ? err : icsoe_status_name(st));
        rc = ctl_exit_for(st);
    } else if (st != ICSOE_OK) {
        rc = ctl_mail_failed(cap->curp, cap->email, fail,
                             err[0] != '\0' ? err : icsoe_status_name(st));
    }
    if (quiet) {
        /* a batch (resend --unsent --json) reports once, at the end */
    } else if (c->json) {
        ctl_json j;

        ctl_json_init(&j, stdout);
        ctl_json_begin_object(&j);
        ctl_json_kv_string(&j, "curp", cap->curp);
        ctl_json_kv_string(&j, "status", icsoe_capturist_status_name(cap->status));
        ctl_json_kv_bool(&j, "mail_sent", st == ICSOE_OK && send);
        if (st == ICSOE_OK) {
            ctl_json_kv_string(&j, "valid_until", until);
            if (!send)
                ctl_json_kv_string(&j, "link", link);
        } else {
            ctl_json_kv_string(&j, "error", err[0] != '\0' ? err : icsoe_status_name(st));
            if (st == ICSOE_ERR_UNAVAILABLE)
                ctl_json_kv_string(&j, "mail_failure", icsoe_mail_fail_name(fail));
        }
        ctl_json_end_object(&j);
        ctl_json_finish(&j);
    } else if (st == ICSOE_OK && send) {
        printf("capturist %s: %s; activation email sent to %s (link valid until %s)\n",
               cap->curp, done, cap->email, until);
    } else if (st == ICSOE_OK) {
        printf("capturist %s: %s; activation link (valid until %s, not mailed):\n%s\n",
               cap->curp, done, until, link);
    } else if (created) {
        printf("capturist %s: %s, status pending, activation email NOT sent\n",
               cap->curp, done);
    }
    icsoe_wipe(link, linklen);
    free(link);
    return rc;
}

/* ---- add ---- */

typedef struct add_args {
    const char *curp;
    const char *name;
    const char *email;
    const char *contractor[CTL_MAX_CONTRACTORS];
    size_t ncontractor;
    int no_mail;
} add_args;

static int parse_add(ctl *c, int argc, char **argv, add_args *a)
{
    static const struct option longopts[] = {
        { "curp", required_argument, NULL, 'u' },
        { "name", required_argument, NULL, 'n' },
        { "email", required_argument, NULL, 'e' },
        { "contractor", required_argument, NULL, 'r' },
        { "no-mail", no_argument, NULL, 'M' },
        CTL_COMMON_LONGOPTS,
        { NULL, 0, NULL, 0 }
    };
    int opt;

    while ((opt = ctl_getopt(c, argc, argv, CTL_SHORT, longopts)) != CTL_OPT_END) {
        switch (opt) {
        case CTL_OPT_HELP: return CTL_EXIT_OK;
        case CTL_OPT_ERROR: return CTL_EXIT_INPUT;
        case 'u': a->curp = optarg; break;
        case 'n': a->name = optarg; break;
        case 'e': a->email = optarg; break;
        case 'M': a->no_mail = 1; break;
        case 'r':
            if (a->ncontractor == CTL_MAX_CONTRACTORS)
                return ctl_usage_error("at most %d --contractor options",
                                       CTL_MAX_CONTRACTORS);
            a->contractor[a->ncontractor++] = optarg;
            break;
        default: break;
        }
    }
    if (optind < argc)
        return ctl_usage_error("unexpected argument '%s'", argv[optind]);
    if (a->curp == NULL || a->name == NULL || a->email == NULL || a->ncontractor == 0)
        return ctl_usage_error("--curp, --name, --email and at least one "
                               "--contractor are required");
    return CTL_GO_ON;
}

/* The new account as given, every field checked; RFCs normalised and
 * deduplicated into rfcs[] (which cap->contractors points into). */
static int check_add(const add_args *a, icsoe_capturist *cap,
                     char rfcs[][ICSOE_RFC_BUFSZ], char **rfcp)
{
    char why[512];

    if (ctl_check_curp(a->curp, cap->curp, why, sizeof(why)) != 0 ||
        ctl_check_name(a->name, &cap->name, why, sizeof(why)) != 0 ||
        ctl_check_email(a->email, why, sizeof(why)) != 0) {
        ctl_err("%s", why);
        return CTL_EXIT_INPUT;
    }
    cap->email = strdup(a->email);
    if (cap->email == NULL) {
        ctl_err("out of memory");
        return CTL_EXIT_INTERNAL;
    }
    cap->status = ICSOE_CAPTURIST_PENDING;
    cap->ncontractors = 0;
    for (size_t i = 0; i < a->ncontractor; i++) {
        char rfc[ICSOE_RFC_BUFSZ];
        int dup = 0;

        if (ctl_arg_rfc(a->contractor[i], rfc) != CTL_EXIT_OK)
            return CTL_EXIT_INPUT;
        for (size_t k = 0; k < cap->ncontractors; k++)
            dup |= strcmp(rfcs[k], rfc) == 0;
        if (dup)
            continue;
        memcpy(rfcs[cap->ncontractors], rfc, sizeof(rfc));
        rfcp[cap->ncontractors] = rfcs[cap->ncontractors];
        cap->ncontractors++;
    }
    /* NULL-terminated as well: lib/dir_capturist.c hands the array to
     * libldap as the attribute's value list. */
    rfcp[cap->ncontractors] = NULL;
    cap->contractors = rfcp;
    return CTL_EXIT_OK;
}

/* Every contractor must exist: say which one does not. */
static int check_contractors_exist(ctl *c, const icsoe_capturist *cap)
{
    for (size_t i = 0; i < cap->ncontractors; i++) {
        icsoe_contractor k;
        char what[128];
        icsoe_status st;

        memset(&k, 0, sizeof(k));
        st = icsoe_dir_contractor_get(c->dir, cap->contractors[i], &k);
        icsoe_contractor_clear(&k);
        if (st == ICSOE_ERR_NOT_FOUND) {
            ctl_err("contractor %s does not exist (add it with 'icsoectl "
                    "contractor add')", cap->contractors[i]);
            return CTL_EXIT_CONFLICT;
        }
        if (st != ICSOE_OK) {
            snprintf(what, sizeof(what), "cannot read contractor %s",
                     cap->contractors[i]);
            return ctl_dir_fail(c, st, what);
        }
    }
    return CTL_EXIT_OK;
}

int ctl_capturist_add(ctl *c, int argc, char **argv)
{
    add_args a;
    icsoe_capturist cap;
    char rfcs[CTL_MAX_CONTRACTORS][ICSOE_RFC_BUFSZ];
    char *rfcp[CTL_MAX_CONTRACTORS + 1];
    char what[128];
    icsoe_status st;
    int rc;

    memset(&a, 0, sizeof(a));
    memset(&cap, 0, sizeof(cap));
    rc = parse_add(c, argc, argv, &a);
    if (rc != CTL_GO_ON)
        return rc;
    rc = check_add(&a, &cap, rfcs, rfcp);
    if (rc != CTL_EXIT_OK)
        goto out;
    rc = ctl_open_dir(c);
    if (rc == CTL_EXIT_OK)
        rc = ctl_need_link_conf(c, !a.no_mail);
    if (rc != CTL_EXIT_OK)
        goto out;
    rc = check_contractors_exist(c, &cap);
    if (rc != CTL_EXIT_OK)
        goto out;
    st = icsoe_dir_capturist_add(c->dir, &cap);
    if (st == ICSOE_ERR_EXISTS) {
        ctl_err("capturist %s already exists", cap.curp);
        rc = CTL_EXIT_CONFLICT;
        goto out;
    }
    if (st == ICSOE_ERR_NOT_FOUND) {
        ctl_err("cannot add capturist %s: a contractor does not exist", cap.curp);
        rc = CTL_EXIT_CONFLICT;
        goto out;
    }
    if (st != ICSOE_OK) {
        snprintf(what, sizeof(what), "cannot add capturist %s", cap.curp);
        rc = ctl_dir_fail(c, st, what);
        goto out;
    }
    rc = issue_activation(c, &cap, !a.no_mail, "added (pending)", 1, 0);

out:
    /* contractors point into rfcs[] on the stack: not freed */
    free(cap.name);
    free(cap.email);
    return rc;
}

/* ---- resend ---- */

/* What "resend --unsent" does for one account: a new activation link for
 * a pending account whose last mail did not go, the "contraseña
 * registrada" notice again for an active one whose notice did not go.
 * Refused addresses are skipped with the way to correct them (resending
 * to them fails the same way); reset links are the capturist's to ask for
 * again. */
typedef struct unsent_totals {
    size_t sent, failed, refused, skipped;
    int rc;
} unsent_totals;

/* Exit codes are ordered by how much they need attention (5 internal >
 * 4 configuration > 3 unavailable > 2 conflict > 1 input > 0). */
static int worse(int a, int b)
{
    return a > b ? a : b;
}

static void resend_one(ctl *c, const icsoe_capturist *cap, unsent_totals *t, int quiet)
{
    const icsoe_delivery *dl = &cap->delivery;
    char err[1024] = "";
    icsoe_mail_fail fail = ICSOE_MAIL_OK;
    icsoe_status st;
    int rc;

    if (dl->state == ICSOE_MAIL_STATE_REFUSED) {
        ctl_err("capturist %s: the mail server refused %s for good: correct it with "
                "'icsoectl capturist set %s --email NEW_ADDRESS'", cap->curp,
                cap->email != NULL ? cap->email : "its address", cap->curp);
        t->refused++;
        t->rc = worse(t->rc, CTL_EXIT_INPUT);
        return;
    }
    if (dl->state != ICSOE_MAIL_STATE_UNSENT)
        return;
    if (cap->status == ICSOE_CAPTURIST_PENDING) {
        rc = issue_activation(c, cap, 1, "new activation link (the old one no longer works)",
                              0, quiet);
    } else if (cap->status == ICSOE_CAPTURIST_ACTIVE && strcmp(dl->kind, "password_set") == 0) {
        st = icsoe_account_notify_password_set(c->dir, c->conf, cap, &fail, err, sizeof(err));
        if (st == ICSOE_OK) {
            rc = CTL_EXIT_OK;
            if (!quiet)
                printf("capturist %s: password notice sent to %s\n", cap->curp, cap->email);
        } else {
            rc = st == ICSOE_ERR_UNAVAILABLE
                 ? ctl_mail_failed(cap->curp, cap->email, fail, err) : ctl_exit_for(st);
        }
    } else {
        t->skipped++; /* a reset link, or a locked account: nothing to resend */
        return;
    }
    if (rc == CTL_EXIT_OK)
        t->sent++;
    else
        t->failed++;
    t->rc = worse(t->rc, rc);
    /* a configuration error fails every other mail the same way */
}

static int resend_unsent(ctl *c)
{
    icsoe_capturist *v = NULL;
    unsent_totals t;
    size_t n = 0;
    icsoe_status st;
    int json = c->json;
    int rc = ctl_open_dir(c);

    memset(&t, 0, sizeof(t));
    if (rc == CTL_EXIT_OK)
        rc = ctl_need_link_conf(c, 1);
    if (rc != CTL_EXIT_OK)
        return rc;
    st = icsoe_dir_capturist_list(c->dir, NULL, -1, &v, &n);
    if (st != ICSOE_OK)
        return ctl_dir_fail(c, st, "cannot list capturists");
    /* with --json, one document for the whole run (the reasons of the
     * failures still go to stderr, one line each) */
    for (size_t i = 0; i < n && t.rc < CTL_EXIT_CONFIG; i++)
        resend_one(c, &v[i], &t, json);
    icsoe_capturist_list_free(v, n);
    if (json) {
        ctl_json j;

        ctl_json_init(&j, stdout);
        ctl_json_begin_object(&j);
        ctl_json_kv_int(&j, "sent", (long long)t.sent);
        ctl_json_kv_int(&j, "failed", (long long)t.failed);
        ctl_json_kv_int(&j, "refused", (long long)t.refused);
        ctl_json_kv_bool(&j, "complete", t.rc < CTL_EXIT_CONFIG);
        ctl_json_end_object(&j);
        ctl_json_finish(&j);
    } else {
        printf("resend --unsent: %zu sent, %zu failed, %zu refused address%s%s\n",
               t.sent, t.failed, t.refused, t.refused == 1 ? "" : "es",
               t.rc >= CTL_EXIT_CONFIG ? " (stopped: mail configuration error)" : "");
    }
    return t.rc;
}

int ctl_capturist_resend(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "no-mail", no_argument, NULL, 'M' },
        { "unsent", no_argument, NULL, 'U' },
        CTL_COMMON_LONGOPTS,
        { NULL, 0, NULL, 0 }
    };
    char curp[ICSOE_CURP_LEN + 1];
    icsoe_capturist cap;
    int no_mail = 0, unsent = 0;
    int opt;
    int rc;

    memset(&cap, 0, sizeof(cap));
    while ((opt = ctl_getopt(c, argc, argv, CTL_SHORT, longopts)) != CTL_OPT_END) {
        if (opt == CTL_OPT_HELP)
            return CTL_EXIT_OK;
        if (opt == CTL_OPT_ERROR)
            return CTL_EXIT_INPUT;
        if (opt == 'M')
            no_mail = 1;
        else if (opt == 'U')
            unsent = 1;
    }
    if (unsent) {
        if (no_mail || argc != optind)
            return ctl_usage_error("--unsent takes no CURP and no --no-mail");
        return resend_unsent(c);
    }
    if (argc - optind != 1)
        return ctl_usage_error("expected exactly one CURP (or --unsent)");
    rc = ctl_arg_curp(argv[optind], curp);
    if (rc == CTL_EXIT_OK)
        rc = ctl_open_dir(c);
    if (rc == CTL_EXIT_OK)
        rc = ctl_need_link_conf(c, !no_mail);
    if (rc == CTL_EXIT_OK)
        rc = get_capturist(c, curp, &cap);
    if (rc != CTL_EXIT_OK)
        goto out;
    /* An activation link sets a password without the old one: only for
     * accounts that never had one.  Active users recover their password
     * themselves; a locked account must be unlocked first. */
    if (cap.status != ICSOE_CAPTURIST_PENDING) {
        ctl_err("capturist %s is %s, not pending: activation links are only for "
                "new accounts", curp, icsoe_capturist_status_name(cap.status));
        rc = CTL_EXIT_CONFLICT;
        goto out;
    }
    rc = issue_activation(c, &cap, !no_mail, "new activation link (the old one "
                          "no longer works)", 0, 0);

out:
    icsoe_capturist_clear(&cap);
    return rc;
}

/* ---- set ---- */

/* A new email address.  A pending account's link went to the old address
 * (refused, mistyped, someone else's): a new link is issued at once, which
 * voids the old one, and mailed to the new address (printed with
 * --no-mail).  An active account just gets the address for its next
 * recovery. */
int ctl_capturist_set(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "email", required_argument, NULL, 'e' },
        { "no-mail", no_argument, NULL, 'M' },
        CTL_COMMON_LONGOPTS,
        { NULL, 0, NULL, 0 }
    };
    char curp[ICSOE_CURP_LEN + 1];
    char why[512];
    const char *email = NULL;
    icsoe_capturist cap;
    icsoe_status st;
    int no_mail = 0;
    int opt, rc;

    memset(&cap, 0, sizeof(cap));
    while ((opt = ctl_getopt(c, argc, argv, CTL_SHORT, longopts)) != CTL_OPT_END) {
        if (opt == CTL_OPT_HELP)
            return CTL_EXIT_OK;
        if (opt == CTL_OPT_ERROR)
            return CTL_EXIT_INPUT;
        if (opt == 'e')
            email = optarg;
        else if (opt == 'M')
            no_mail = 1;
    }
    if (argc - optind != 1)
        return ctl_usage_error("expected exactly one CURP");
    if (email == NULL)
        return ctl_usage_error("nothing to set (--email EMAIL)");
    rc = ctl_arg_curp(argv[optind], curp);
    if (rc != CTL_EXIT_OK)
        return rc;
    if (ctl_check_email(email, why, sizeof(why)) != 0) {
        ctl_err("%s", why);
        return CTL_EXIT_INPUT;
    }
    rc = ctl_open_dir(c);
    if (rc == CTL_EXIT_OK)
        rc = get_capturist(c, curp, &cap);
    if (rc == CTL_EXIT_OK && cap.status == ICSOE_CAPTURIST_PENDING)
        rc = ctl_need_link_conf(c, !no_mail); /* checked before anything changes */
    if (rc != CTL_EXIT_OK)
        goto out;
    st = icsoe_dir_capturist_set_email(c->dir, curp, email);
    if (st != ICSOE_OK) {
        snprintf(why, sizeof(why), "cannot change the email of capturist %s", curp);
        rc = st == ICSOE_ERR_NOT_FOUND ? not_found_capturist(curp) : ctl_dir_fail(c, st, why);
        goto out;
    }
    free(cap.email);
    cap.email = strdup(email);
    if (cap.email == NULL) {
        ctl_err("out of memory");
        rc = CTL_EXIT_INTERNAL;
        goto out;
    }
    if (cap.status == ICSOE_CAPTURIST_PENDING) {
        rc = issue_activation(c, &cap, !no_mail, "email changed; new activation link "
                              "(the old one no longer works)", 0, 0);
    } else {
        print_done(c, curp, NULL, "email changed", icsoe_capturist_status_name(cap.status));
    }

out:
    icsoe_capturist_clear(&cap);
    return rc;
}

/* ---- grant / revoke ---- */

static int grant_revoke(ctl *c, int argc, char **argv, int grant)
{
    char curp[ICSOE_CURP_LEN + 1];
    char rfc[ICSOE_RFC_BUFSZ];
    char what[160];
    icsoe_capturist cap;
    icsoe_contractor k;
    icsoe_status st;
    int rc = curp_verb_setup(c, argc, argv, 2, curp);

    memset(&cap, 0, sizeof(cap));
    memset(&k, 0, sizeof(k));
    if (rc != CTL_GO_ON)
        return rc;
    rc = ctl_arg_rfc(argv[optind + 1], rfc);
    if (rc != CTL_EXIT_OK)
        return rc;
    rc = get_capturist(c, curp, &cap);
    if (rc != CTL_EXIT_OK)
        goto out;
    snprintf(what, sizeof(what), "cannot %s %s for capturist %s",
             grant ? "grant" : "revoke", rfc, curp);
    if (grant) {
        st = icsoe_dir_contractor_get(c->dir, rfc, &k);
        if (st == ICSOE_ERR_NOT_FOUND) {
            ctl_err("contractor %s does not exist", rfc);
            rc = CTL_EXIT_CONFLICT;
            goto out;
        }
        if (st == ICSOE_OK)
            st = icsoe_dir_capturist_grant(c->dir, curp, rfc);
    } else {
        st = icsoe_dir_capturist_revoke(c->dir, curp, rfc);
    }
    if (grant && st == ICSOE_ERR_EXISTS) {
        ctl_err("capturist %s already works for %s", curp, rfc);
        rc = CTL_EXIT_CONFLICT;
    } else if (!grant && st == ICSOE_ERR_NOT_FOUND) {
        ctl_err("capturist %s does not work for %s", curp, rfc);
        rc = CTL_EXIT_CONFLICT;
    } else if (st != ICSOE_OK) {
        rc = ctl_dir_fail(c, st, what);
    } else {
        print_done(c, curp, rfc, grant ? "granted" : "revoked", NULL);
        rc = ctl_posix_sync(c, curp);
    }

out:
    icsoe_contractor_clear(&k);
    icsoe_capturist_clear(&cap);
    return rc;
}

int ctl_capturist_grant(ctl *c, int argc, char **argv)
{
    return grant_revoke(c, argc, argv, 1);
}

int ctl_capturist_revoke(ctl *c, int argc, char **argv)
{
    return grant_revoke(c, argc, argv, 0);
}

/* ---- lock / unlock / remove ---- */

typedef enum simple_op { OP_LOCK, OP_UNLOCK, OP_REMOVE } simple_op;

static int simple_verb(ctl *c, int argc, char **argv, simple_op op)
{
    static const char *const names[] = { "lock", "unlock", "remove" };
    static const char *const done[] = { "locked", "unlocked", "removed" };
    char curp[ICSOE_CURP_LEN + 1];
    char what[128];
    icsoe_capturist cap;
    icsoe_status st;
    int rc = curp_verb_setup(c, argc, argv, 1, curp);

    memset(&cap, 0, sizeof(cap));
    if (rc != CTL_GO_ON)
        return rc;
    if (op == OP_LOCK)
        st = icsoe_dir_capturist_lock(c->dir, curp);
    else if (op == OP_UNLOCK)
        st = icsoe_dir_capturist_unlock(c->dir, curp);
    else
        st = icsoe_dir_capturist_remove(c->dir, curp);
    if (st == ICSOE_ERR_NOT_FOUND)
        return not_found_capturist(curp);
    if (st != ICSOE_OK) {
        snprintf(what, sizeof(what), "cannot %s capturist %s", names[op], curp);
        return ctl_dir_fail(c, st, what);
    }
    if (op == OP_REMOVE && ctl_posix_sync(c, curp) != CTL_EXIT_OK)
        return CTL_EXIT_UNAVAILABLE;
    /* Report the resulting status (unlock goes back to active or pending). */
    if (op != OP_REMOVE && icsoe_dir_capturist_get(c->dir, curp, &cap) == ICSOE_OK)
        print_done(c, curp, NULL, done[op], icsoe_capturist_status_name(cap.status));
    else
        print_done(c, curp, NULL, done[op], NULL);
    icsoe_capturist_clear(&cap);
    return CTL_EXIT_OK;
}

int ctl_capturist_lock(ctl *c, int argc, char **argv)
{
    return simple_verb(c, argc, argv, OP_LOCK);
}

int ctl_capturist_unlock(ctl *c, int argc, char **argv)
{
    return simple_verb(c, argc, argv, OP_UNLOCK);
}

int ctl_capturist_remove(ctl *c, int argc, char **argv)
{
    return simple_verb(c, argc, argv, OP_REMOVE);
}

/* ---- show / list ---- */

/* The account for scripts: never the token, only what it is for and when
 * it expires. */
/* "unix": null without an identity; "groups" only when they were read
 * (show: one search; list leaves them out rather than search per entry). */
static void json_unix(ctl_json *j, const icsoe_capturist *cap, char **groups)
{
    ctl_json_key(j, "unix");
    if (!cap->has_unix) {
        ctl_json_null(j);
        return;
    }
    ctl_json_begin_object(j);
    ctl_json_key(j, "uid");
    if (cap->unix_uid >= 0)
        ctl_json_int(j, cap->unix_uid);
    else
        ctl_json_null(j);
    ctl_json_key(j, "gid");
    if (cap->unix_gid >= 0)
        ctl_json_int(j, cap->unix_gid);
    else
        ctl_json_null(j);
    ctl_json_kv_string(j, "home", cap->unix_home);
    ctl_json_kv_string(j, "shell", cap->unix_shell);
    if (groups != NULL) {
        ctl_json_key(j, "groups");
        ctl_json_begin_array(j);
        for (char **g = groups; *g != NULL; g++)
            ctl_json_string(j, *g);
        ctl_json_end_array(j);
    }
    ctl_json_end_object(j);
}

static void json_capturist(ctl_json *j, const icsoe_capturist *cap, char **groups)
{
    char t[32];

    ctl_json_kv_string(j, "curp", cap->curp);
    ctl_json_kv_string(j, "name", cap->name);
    ctl_json_kv_string(j, "email", cap->email);
    ctl_json_kv_string(j, "status", icsoe_capturist_status_name(cap->status));
    ctl_json_key(j, "contractors");
    ctl_json_begin_array(j);
    for (size_t i = 0; i < cap->ncontractors; i++)
        ctl_json_string(j, cap->contractors[i]);
    ctl_json_end_array(j);
    ctl_json_key(j, "token");
    if (cap->token_expiry != 0) {
        ctl_json_begin_object(j);
        ctl_json_kv_string(j, "purpose", cap->token_purpose != 0
                           ? icsoe_token_purpose_name(cap->token_purpose) : NULL);
        ctl_format_time(cap->token_expiry, t, sizeof(t));
        ctl_json_kv_string(j, "expires", t);
        ctl_json_kv_bool(j, "expired", cap->token_expiry <= time(NULL));
        ctl_json_end_object(j);
    } else {
        ctl_json_null(j);
    }
    ctl_json_kv_bool(j, "ppolicy_locked", cap->pp_locked);
    ctl_json_kv_int(j, "epoch", cap->epoch);
    ctl_format_time(cap->last_recover, t, sizeof(t));
    ctl_json_kv_string(j, "last_recover", cap->last_recover != 0 ? t : NULL);
    ctl_json_key(j, "mail");
    if (cap->delivery.state != ICSOE_MAIL_STATE_NONE) {
        ctl_json_begin_object(j);
        ctl_json_kv_string(j, "state", icsoe_mail_state_name(cap->delivery.state));
        ctl_json_kv_string(j, "kind", cap->delivery.kind[0] != '\0' ? cap->delivery.kind : NULL);
        ctl_format_time(cap->delivery.when, t, sizeof(t));
        ctl_json_kv_string(j, "time", cap->delivery.when != 0 ? t : NULL);
        ctl_json_kv_string(j, "error", cap->delivery.error);
        ctl_json_end_object(j);
    } else {
        ctl_json_null(j);
    }
    json_unix(j, cap, groups);
}

/* "uid 200000, gid 200000, /home/icsoe/CURP, /bin/bash" or "none". */
static void describe_unix(const icsoe_capturist *cap, char *out, size_t outlen)
{
    char uid[24] = "invalid", gid[24] = "invalid";

    if (!cap->has_unix) {
        snprintf(out, outlen, "none");
        return;
    }
    if (cap->unix_uid >= 0)
        snprintf(uid, sizeof(uid), "%ld", cap->unix_uid);
    if (cap->unix_gid >= 0)
        snprintf(gid, sizeof(gid), "%ld", cap->unix_gid);
    snprintf(out, outlen, "uid %s, gid %s, home %s, shell %s", uid, gid,
             cap->unix_home != NULL ? cap->unix_home : "(none)",
             cap->unix_shell != NULL ? cap->unix_shell : "(none)");
}

/* "ctr-a, ctr-b", "none", or why they could not be read. */
static void describe_groups(char **groups, icsoe_status st, char *out, size_t outlen)
{
    size_t off = 0;

    if (st != ICSOE_OK) {
        snprintf(out, outlen, "(cannot be read: %s)", icsoe_status_name(st));
        return;
    }
    snprintf(out, outlen, "none");
    for (char **g = groups; g != NULL && *g != NULL && off < outlen; g++) {
        int w = snprintf(out + off, outlen - off, "%s%s", off > 0 ? ", " : "", *g);

        if (w < 0)
            break;
        off += (size_t)w;
    }
}

/* "sent 2026-11-25T18:30:00Z (activation)", "NOT SENT ... : why; ..." */
static void describe_mail(const icsoe_capturist *cap, char *out, size_t outlen)
{
    const icsoe_delivery *dl = &cap->delivery;
    char when[32];

    ctl_format_time(dl->when, when, sizeof(when));
    switch (dl->state) {
    case ICSOE_MAIL_STATE_SENT:
        snprintf(out, outlen, "sent %s (%s)", when, dl->kind);
        break;
    case ICSOE_MAIL_STATE_UNSENT:
        snprintf(out, outlen, "NOT SENT %s (%s): %s; 'icsoectl capturist resend --unsent' "
                 "sends it", when, dl->kind, dl->error != NULL ? dl->error : "?");
        break;
    case ICSOE_MAIL_STATE_REFUSED:
        snprintf(out, outlen, "ADDRESS REFUSED %s (%s): %s; correct it with 'icsoectl "
                 "capturist set %s --email NEW_ADDRESS'", when, dl->kind,
                 dl->error != NULL ? dl->error : "?", cap->curp);
        break;
    default:
        snprintf(out, outlen, "none recorded");
        break;
    }
}

static int show_human(ctl *c, const icsoe_capturist *cap, char **groups,
                      icsoe_status gst)
{
    char unixid[1024];
    char ugroups[1024];
    icsoe_contractor *ks = NULL;
    size_t nks = 0;
    char token[96] = "none";
    char recover[32];
    char epoch[32];
    char mail[1024];
    ctl_table *t = ctl_table_new(2, NULL);
    int ok = t != NULL;

    if (cap->token_expiry != 0) {
        char until[32];
        ctl_format_time(cap->token_expiry, until, sizeof(until));
        snprintf(token, sizeof(token), "%s link, %s %s",
                 cap->token_purpose != 0
                 ? icsoe_token_purpose_name(cap->token_purpose) : "unknown",
                 cap->token_expiry <= time(NULL) ? "expired" : "expires", until);
    }
    ctl_format_time(cap->last_recover, recover, sizeof(recover));
    snprintf(epoch, sizeof(epoch), "%lld", cap->epoch);
    describe_mail(cap, mail, sizeof(mail));
    describe_unix(cap, unixid, sizeof(unixid));
    describe_groups(groups, gst, ugroups, sizeof(ugroups));
    {
        const char *rows[][2] = {
            { "curp:", cap->curp },
            { "name:", cap->name },
            { "email:", cap->email },
            { "status:", icsoe_capturist_status_name(cap->status) },
            { "token:", token },
            { "mail:", mail },
            { "ppolicy lock:", cap->pp_locked ? "yes" : "no" },
            { "epoch:", epoch },
            { "last recovery:", recover },
            { "unix:", unixid },
            { "unix groups:", cap->has_unix ? ugroups : "none" },
            { "contractors:", cap->ncontractors == 0 ? "none" : "" },
        };
        for (size_t i = 0; ok && i < sizeof(rows) / sizeof(rows[0]); i++)
            ok = ctl_table_add(t, rows[i]) == 0;
    }
    /* Names are a convenience: an RFC whose entry vanished is still shown. */
    if (cap->ncontractors > 0)
        (void)icsoe_dir_contractor_get_many(c->dir,
                                            (const char *const *)cap->contractors,
                                            cap->ncontractors, &ks, &nks);
    for (size_t i = 0; ok && i < cap->ncontractors; i++) {
        char line[512];
        const char *row[2] = { "", line };
        const char *name = "(contractor entry missing)";

        for (size_t k = 0; k < nks; k++)
            if (strcmp(ks[k].rfc, cap->contractors[i]) == 0)
                name = ks[k].name;
        snprintf(line, sizeof(line), "%s  %s", cap->contractors[i], name);
        ok = ctl_table_add(t, row) == 0;
    }
    icsoe_contractor_list_free(ks, nks);
    if (!ok) {
        ctl_table_free(t);
        ctl_err("out of memory");
        return CTL_EXIT_INTERNAL;
    }
    ctl_table_print(t, stdout);
    ctl_table_free(t);
    return CTL_EXIT_OK;
}

int ctl_capturist_show(ctl *c, int argc, char **argv)
{
    char curp[ICSOE_CURP_LEN + 1];
    icsoe_capturist cap;
    char **groups = NULL;
    icsoe_status gst = ICSOE_OK;
    int rc = curp_verb_setup(c, argc, argv, 1, curp);

    memset(&cap, 0, sizeof(cap));
    if (rc != CTL_GO_ON)
        return rc;
    rc = get_capturist(c, curp, &cap);
    if (rc != CTL_EXIT_OK)
        return rc;
    if (cap.has_unix) {
        size_t ng = 0;

        gst = icsoe_dir_posix_groups_of(c->dir, curp, &groups, &ng);
    }
    if (c->json) {
        ctl_json j;

        if (gst != ICSOE_OK) {
            icsoe_capturist_clear(&cap);
            return ctl_dir_fail(c, gst, "cannot read the capturist's Unix groups");
        }
        ctl_json_init(&j, stdout);
        ctl_json_begin_object(&j);
        json_capturist(&j, &cap, groups);
        ctl_json_end_object(&j);
        ctl_json_finish(&j);
    } else {
        rc = show_human(c, &cap, groups, gst);
    }
    icsoe_dir_posix_groups_free(groups);
    icsoe_capturist_clear(&cap);
    return rc;
}

static int list_human(const icsoe_capturist *v, size_t n)
{
    static const char *const headers[] = {
        "CURP", "STATUS", "NAME", "EMAIL", "CONTRACTORS", "MAIL"
    };
    ctl_table *t = ctl_table_new(6, headers);
    int ok = t != NULL;

    for (size_t i = 0; ok && i < n; i++) {
        char rfcs[1024] = "";
        size_t off = 0;
        const char *cells[6];

        for (size_t k = 0; k < v[i].ncontractors && off < sizeof(rfcs); k++) {
            int w = snprintf(rfcs + off, sizeof(rfcs) - off, "%s%s",
                             k > 0 ? "," : "", v[i].contractors[k]);
            if (w < 0)
                break;
            off += (size_t)w;
        }
        cells[0] = v[i].curp;
        cells[1] = icsoe_capturist_status_name(v[i].status);
        cells[2] = v[i].name;
        cells[3] = v[i].email;
        cells[4] = rfcs[0] != '\0' ? rfcs : NULL;
        /* "-" when nothing is recorded; "unsent"/"refused" need action */
        cells[5] = v[i].delivery.state != ICSOE_MAIL_STATE_NONE
                   ? icsoe_mail_state_name(v[i].delivery.state) : NULL;
        ok = ctl_table_add(t, cells) == 0;
    }
    if (!ok) {
        ctl_table_free(t);
        ctl_err("out of memory");
        return CTL_EXIT_INTERNAL;
    }
    ctl_table_print(t, stdout);
    ctl_table_free(t);
    return CTL_EXIT_OK;
}

int ctl_capturist_list(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "contractor", required_argument, NULL, 'r' },
        { "status", required_argument, NULL, 's' },
        CTL_COMMON_LONGOPTS,
        { NULL, 0, NULL, 0 }
    };
    const char *rfc_arg = NULL;
    const char *status_arg = NULL;
    char rfc[ICSOE_RFC_BUFSZ];
    int status = -1;
    icsoe_capturist *v = NULL;
    size_t n = 0;
    icsoe_status st;
    int opt;
    int rc;

    while ((opt = ctl_getopt(c, argc, argv, CTL_SHORT, longopts)) != CTL_OPT_END) {
        if (opt == CTL_OPT_HELP)
            return CTL_EXIT_OK;
        if (opt == CTL_OPT_ERROR)
            return CTL_EXIT_INPUT;
        if (opt == 'r')
            rfc_arg = optarg;
        else if (opt == 's')
            status_arg = optarg;
    }
    if (optind < argc)
        return ctl_usage_error("unexpected argument '%s'", argv[optind]);
    if (rfc_arg != NULL && ctl_arg_rfc(rfc_arg, rfc) != CTL_EXIT_OK)
        return CTL_EXIT_INPUT;
    if (status_arg != NULL) {
        status = icsoe_capturist_status_parse(status_arg);
        if (status < 0)
            return ctl_usage_error("unknown status '%s' (pending, active or locked)",
                                   status_arg);
    }
    rc = ctl_open_dir(c);
    if (rc != CTL_EXIT_OK)
        return rc;
    st = icsoe_dir_capturist_list(c->dir, rfc_arg != NULL ? rfc : NULL, status,
                                  &v, &n);
    if (st != ICSOE_OK)
        return ctl_dir_fail(c, st, "cannot list capturists");
    if (c->json) {
        ctl_json j;

        ctl_json_init(&j, stdout);
        ctl_json_begin_array(&j);
        for (size_t i = 0; i < n; i++) {
            ctl_json_begin_object(&j);
            json_capturist(&j, &v[i], NULL);
            ctl_json_end_object(&j);
        }
        ctl_json_end_array(&j);
        ctl_json_finish(&j);
    } else {
        rc = list_human(v, n);
    }
    icsoe_capturist_list_free(v, n);
    return rc;
}
