/* icsoectl: shared state of one run, exit codes, and the helpers every
 * command file uses (messages, options, input checks, directory access). */
#ifndef ICSOECTL_H
#define ICSOECTL_H

#include <getopt.h>
#include <stddef.h>
#include "conf.h"
#include "curp.h"
#include "dir.h"
#include "err.h"
#include "log.h"
#include "mail.h"
#include "rfc.h"

/* Exit codes (documented in icsoectl(8) and docs/icsoectl.md). */
enum ctl_exit {
    CTL_EXIT_OK = 0,
    CTL_EXIT_INPUT = 1,       /* bad input or usage */
    CTL_EXIT_CONFLICT = 2,    /* not found, already exists, still in use */
    CTL_EXIT_UNAVAILABLE = 3, /* directory or mail server unavailable */
    CTL_EXIT_CONFIG = 4,      /* configuration file missing or invalid */
    CTL_EXIT_INTERNAL = 5     /* out of memory, unexpected answer */
};

#define CTL_NAME_MAX 200      /* bytes of a contractor or capturist name */
#define CTL_REPSE_MAX 64
#define CTL_MAX_CONTRACTORS 64 /* --contractor options per capturist */

typedef struct ctl {
    const char *config_path;  /* -c, else $ICSOE_CONFIG, else the default */
    int json;                 /* --json */
    int verbose;              /* -v: library debug messages on stderr */
    icsoe_logger lg;
    icsoe_conf *conf;         /* loaded on demand by ctl_open_dir */
    icsoe_dir *dir;
} ctl;

typedef int (*ctl_verb_fn)(ctl *c, int argc, char **argv);

/* One row of the dispatch table in icsoectl.c. */
typedef struct ctl_cmd {
    const char *object;
    const char *verb;
    ctl_verb_fn fn;
    const char *args;     /* usage after "OBJECT VERB" */
    const char *summary;
} ctl_cmd;

/* The command being run (for usage messages). */
extern const ctl_cmd *ctl_current;

/* ---- messages: one line on stderr, control characters replaced ---- */
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ctl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the message and the current command's usage; returns 1. */
int ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- options ----
 * Every verb accepts the common options too (so "--json" may come after
 * the verb).  Short option strings must start with CTL_SHORT. */
#define CTL_SHORT ":c:vh"
#define CTL_COMMON_LONGOPTS \
    { "json", no_argument, NULL, 'J' }, \
    { "config", required_argument, NULL, 'c' }, \
    { "verbose", no_argument, NULL, 'v' }, \
    { "help", no_argument, NULL, 'h' }
#define CTL_OPT_END (-1)
#define CTL_OPT_ERROR (-2) /* usage error already printed: exit 1 */
#define CTL_OPT_HELP (-3)  /* usage printed on stdout: exit 0 */
/* getopt_long with the common options handled and errors reported. */
int ctl_getopt(ctl *c, int argc, char **argv, const char *shortopts,
               const struct option *longopts);
void ctl_print_usage(FILE *f, const ctl_cmd *cmd);
/* For verbs without options of their own: parse the common ones and expect
 * exactly nargs positional arguments (then at argv[optind...]).  Returns
 * CTL_GO_ON to proceed, else the exit code to return. */
#define CTL_GO_ON (-1)
int ctl_simple_args(ctl *c, int argc, char **argv, int nargs);

/* ---- input checks; 0 when fine, else -1 with why filled (English) ---- */
/* Normalised CURP into out. */
int ctl_check_curp(const char *in, char out[ICSOE_CURP_LEN + 1], char *why,
                   size_t whylen);
/* Normalised RFC into out.  A wrong check digit sets *warning and is only
 * an error when strict. */
int ctl_check_rfc(const char *in, int strict, char out[ICSOE_RFC_BUFSZ],
                  int *warning, char *why, size_t whylen);
int ctl_check_email(const char *in, char *why, size_t whylen);
/* Trimmed copy (malloc'd) of a name: 1..CTL_NAME_MAX bytes, UTF-8 without
 * control characters. */
int ctl_check_name(const char *in, char **out, char *why, size_t whylen);

/* An RFC or CURP naming an existing entry (a command argument): normalised
 * into out, or an error printed and CTL_EXIT_INPUT returned.  A wrong RFC
 * check digit is no reason to refuse a lookup. */
int ctl_arg_rfc(const char *in, char out[ICSOE_RFC_BUFSZ]);
int ctl_arg_curp(const char *in, char out[ICSOE_CURP_LEN + 1]);

/* ---- directory ---- */
/* Load the configuration and open the directory handle (lazily connected).
 * Returns an exit code (0 on success) after printing the error. */
int ctl_open_dir(ctl *c);
/* -c, else $ICSOE_CONFIG, else the default path. */
const char *ctl_config_path(const ctl *c);
/* After ctl_open_dir: the keys needed to issue activation links (and to
 * mail them when send) are set.  Checked before anything is written, so a
 * half-configured host creates no account without its email. */
int ctl_need_link_conf(ctl *c, int send);
/* Exit code for a library status (unknown statuses are internal errors). */
int ctl_exit_for(icsoe_status st);
/* Print "icsoectl: <what>: <status>" (with the directory's reason when it
 * was unavailable) and return the exit code for st. */
int ctl_dir_fail(ctl *c, icsoe_status st, const char *what);

/* A mail that did not go (ICSOE_ERR_UNAVAILABLE from the mailer): print
 * what happened and what to do about it, and return the exit code of its
 * cause: 1 for an address the server refused for good (correct it with
 * "capturist set --email"), 4 for our configuration (AUTH refused,
 * certificate not trusted...), 3 for a temporary failure ("resend
 * --unsent" later). */
int ctl_mail_failed(const char *curp, const char *email, icsoe_mail_fail fail,
                    const char *err);

/* Read a whole regular file of at most maxlen bytes.  NULL with why. */
char *ctl_read_file(const char *path, size_t maxlen, size_t *len, char *why,
                    size_t whylen);

/* ---- the commands ---- */
int ctl_contractor_add(ctl *c, int argc, char **argv);
int ctl_contractor_list(ctl *c, int argc, char **argv);
int ctl_contractor_show(ctl *c, int argc, char **argv);
int ctl_contractor_remove(ctl *c, int argc, char **argv);

int ctl_capturist_add(ctl *c, int argc, char **argv);
int ctl_capturist_resend(ctl *c, int argc, char **argv);
int ctl_capturist_set(ctl *c, int argc, char **argv);
int ctl_capturist_grant(ctl *c, int argc, char **argv);
int ctl_capturist_revoke(ctl *c, int argc, char **argv);
int ctl_capturist_lock(ctl *c, int argc, char **argv);
int ctl_capturist_unlock(ctl *c, int argc, char **argv);
int ctl_capturist_remove(ctl *c, int argc, char **argv);
int ctl_capturist_show(ctl *c, int argc, char **argv);
int ctl_capturist_list(ctl *c, int argc, char **argv);
int ctl_capturist_import(ctl *c, int argc, char **argv);

int ctl_capturist_posix(ctl *c, int argc, char **argv);
int ctl_contractor_posix(ctl *c, int argc, char **argv);
/* After a grant, revoke or removal: the capturist's Unix group memberships
 * follow (nothing when Unix identities are off).  An exit code. */
int ctl_posix_sync(ctl *c, const char *curp);
/* After a contractor is removed: its Unix group goes too.  An exit code. */
int ctl_posix_group_gone(ctl *c, const char *rfc);

int ctl_key_generate(ctl *c, int argc, char **argv);
int ctl_check(ctl *c, int argc, char **argv);
int ctl_efirma_show(ctl *c, int argc, char **argv);
int ctl_validate_curp(ctl *c, int argc, char **argv);
int ctl_validate_rfc(ctl *c, int argc, char **argv);

#endif
