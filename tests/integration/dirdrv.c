/* dirdrv: exposes libicsoe's config and directory operations to pytest.
 *
 *   dirdrv -c CONF COMMAND [ARGS...]
 *
 * Prints one line "status=<name> key=value ..." (the status name from
 * icsoe_status_name with spaces as '_'; a free-text value such as a name
 * comes last) and exits 0 for ok, 1 otherwise, 2 on usage errors.
 * Passwords are read from stdin, one per line, never from argv.  Library
 * log messages go to stderr as "log<LEVEL>: message" so tests can check
 * that no secret is ever logged. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "dir.h"
#include "secure.h"
#include "token.h"

#define PW_MAX 8192

static icsoe_conf *conf;
static icsoe_logger logger;

static void log_stderr(void *ctx, int level, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "log<%d>: %s\n", level, msg);
}

static const char *status_word(icsoe_status st)
{
    static char buf[64];
    size_t i;

    snprintf(buf, sizeof(buf), "%s", icsoe_status_name(st));
    for (i = 0; buf[i] != '\0'; i++) {
        if (buf[i] == ' ')
            buf[i] = '_';
    }
    return buf;
}

static int finish(icsoe_dir *d, icsoe_status st)
{
    if (st == ICSOE_OK || d == NULL)
        printf("status=%s\n", status_word(st));
    else
        printf("status=%s reason=%s\n", status_word(st), icsoe_dir_reason(d));
    return st == ICSOE_OK ? 0 : 1;
}

/* One line from stdin without its newline; "" at EOF. */
static int read_line(char *buf, size_t len)
{
    size_t n;

    if (fgets(buf, (int)len, stdin) == NULL) {
        buf[0] = '\0';
        return -1;
    }
    n = strlen(buf);
    if (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    return 0;
}

static void print_capturist(const char *prefix, const icsoe_capturist *c)
{
    size_t i;

    printf("%scurp=%s state=%s epoch=%lld pp_locked=%d token_purpose=%d token_expiry=%lld "
           "last_recover=%lld contractors=",
           prefix, c->curp, icsoe_capturist_status_name(c->status), c->epoch, c->pp_locked,
           c->token_purpose, (long long)c->token_expiry, (long long)c->last_recover);
    for (i = 0; i < c->ncontractors; i++)
        printf("%s%s", i ? "," : "", c->contractors[i]);
    printf(" email=%s name=%s\n", c->email ? c->email : "", c->name ? c->name : "");
}

static void print_contractor(const char *prefix, const icsoe_contractor *c)
{
    printf("%srfc=%s email=%s repse=%s name=%s\n", prefix, c->rfc, c->email ? c->email : "",
           c->repse ? c->repse : "", c->name ? c->name : "");
}

static int cmd_conf_check(void)
{
    size_t i;

    printf("status=ok base=%s timeout=%d server_timeout=%d server_down_time=%d "
           "failback_interval=%d nuri=%zu uris=", conf->base, conf->timeout,
           conf->server_timeout, conf->server_down_time, conf->failback_interval, conf->nuri);
    for (i = 0; i < conf->nuri; i++)
        printf("%s%s", i ? "," : "", conf->uri[i]);
    printf(" binddn=%s bindpw_len=%zu smtp_pass_len=%zu min=%u max=%u classes=%u "
           "token_lifetime=%d reset_token_lifetime=%d recover_interval=%d "
           "tls_reqcert=%d ldap_starttls=%d smtp_starttls=%d smtp_timeout=%d "
           "blocklist=%s login_url=%s name=%s\n",
           conf->binddn ? conf->binddn : "", conf->bindpw ? strlen(conf->bindpw) : 0,
           conf->smtp_pass ? strlen(conf->smtp_pass) : 0, conf->pwpolicy.min_length,
           conf->pwpolicy.max_length, conf->pwpolicy.classes, conf->token_lifetime,
           conf->reset_token_lifetime, conf->recover_interval, (int)conf->tls_reqcert,
           (int)conf->ldap_starttls, (int)conf->smtp_starttls, conf->smtp_timeout,
           conf->blocklist ? "loaded" : "none", conf->login_url ? conf->login_url : "",
           conf->site_name ? conf->site_name : "");
    return 0;
}

static int cmd_contractor_add(icsoe_dir *d, int argc, char **argv)
{
    icsoe_contractor c;

    if (argc < 2)
        return 2;
    memset(&c, 0, sizeof(c));
    snprintf(c.rfc, sizeof(c.rfc), "%s", argv[0]);
    c.name = argv[1];
    c.email = argc > 2 && argv[2][0] ? argv[2] : NULL;
    c.repse = argc > 3 && argv[3][0] ? argv[3] : NULL;
    return finish(d, icsoe_dir_contractor_add(d, &c));
}

static int cmd_contractor_get(icsoe_dir *d, int argc, char **argv)
{
    icsoe_contractor c;
    icsoe_status st;

    if (argc < 1)
        return 2;
    st = icsoe_dir_contractor_get(d, argv[0], &c);
    if (st != ICSOE_OK)
        return finish(d, st);
    print_contractor("status=ok ", &c);
    icsoe_contractor_clear(&c);
    return 0;
}

static int cmd_contractor_list(icsoe_dir *d, int argc, char **argv)
{
    icsoe_contractor *v = NULL;
    size_t n = 0, i;
    icsoe_status st;

    if (argc > 0)
        st = icsoe_dir_contractor_get_many(d, (const char *const *)argv, (size_t)argc, &v, &n);
    else
        st = icsoe_dir_contractor_list(d, &v, &n);
    if (st != ICSOE_OK)
        return finish(d, st);
    printf("status=ok n=%zu rfcs=", n);
    for (i = 0; i < n; i++)
        printf("%s%s", i ? "," : "", v[i].rfc);
    printf("\n");
    icsoe_contractor_list_free(v, n);
    return 0;
}

static int cmd_capturist_add(icsoe_dir *d, int argc, char **argv)
{
    icsoe_capturist c;

    if (argc < 3)
        return 2;
    memset(&c, 0, sizeof(c));
    snprintf(c.curp, sizeof(c.curp), "%s", argv[0]);
    c.name = argv[1];
    c.email = argv[2][0] ? argv[2] : NULL;
    c.contractors = argc > 3 ? argv + 3 : NULL;
    c.ncontractors = (size_t)(argc - 3);
    return finish(d, icsoe_dir_capturist_add(d, &c));
}

static int cmd_capturist_get(icsoe_dir *d, int argc, char **argv)
{
    icsoe_capturist c;
    icsoe_status st;

    if (argc < 1)
        return 2;
    st = icsoe_dir_capturist_get(d, argv[0], &c);
    if (st != ICSOE_OK)
        return finish(d, st);
    print_capturist("status=ok ", &c);
    icsoe_capturist_clear(&c);
    return 0;
}

static int cmd_capturist_list(icsoe_dir *d, int argc, char **argv)
{
    icsoe_capturist *v = NULL;
    size_t n = 0, i;
    icsoe_status st;
    const char *rfc = argc > 0 && strcmp(argv[0], "-") != 0 ? argv[0] : NULL;
    int status = argc > 1 && strcmp(argv[1], "-") != 0
                     ? icsoe_capturist_status_parse(argv[1]) : -1;

    st = icsoe_dir_capturist_list(d, rfc, status, &v, &n);
    if (st != ICSOE_OK)
        return finish(d, st);
    printf("status=ok n=%zu curps=", n);
    for (i = 0; i < n; i++)
        printf("%s%s", i ? "," : "", v[i].curp);
    printf("\n");
    icsoe_capturist_list_free(v, n);
    return 0;
}

static int print_verify(icsoe_dir *d, icsoe_status st, const icsoe_capturist *c,
                        const icsoe_ppolicy_info *pp)
{
    if (st == ICSOE_OK) {
        printf("status=ok locked=%d expired=%d must_change=%d grace=%d ", pp->locked,
               pp->expired, pp->must_change, pp->grace_left);
        print_capturist("", c);
    } else {
        printf("status=%s locked=%d expired=%d reason=%s\n", status_word(st), pp->locked,
               pp->expired, icsoe_dir_reason(d));
    }
    fflush(stdout);
    return st == ICSOE_OK ? 0 : 1;
}

static int cmd_verify(icsoe_dir *d, int argc, char **argv)
{
    char pw[PW_MAX];
    icsoe_capturist c;
    icsoe_ppolicy_info pp;
    icsoe_status st;
    int rc;

    if (argc < 1)
        return 2;
    read_line(pw, sizeof(pw));
    st = icsoe_dir_verify_password(d, argv[0], pw, &c, &pp);
    icsoe_wipe(pw, sizeof(pw));
    rc = print_verify(d, st, &c, &pp);
    icsoe_capturist_clear(&c);
    return rc;
}

/* One verification per stdin line, same process and handle (reconnect
 * tests restart slapd between two lines). */
static int cmd_verify_loop(icsoe_dir *d, int argc, char **argv)
{
    char pw[PW_MAX];
    icsoe_capturist c;
    icsoe_ppolicy_info pp;
    icsoe_status st;

    if (argc < 1)
        return 2;
    while (read_line(pw, sizeof(pw)) == 0) {
        st = icsoe_dir_verify_password(d, argv[0], pw, &c, &pp);
        print_verify(d, st, &c, &pp);
        icsoe_capturist_clear(&c);
    }
    icsoe_wipe(pw, sizeof(pw));
    return 0;
}

static int cmd_simple(icsoe_dir *d, const char *cmd, int argc, char **argv)
{
    if (strcmp(cmd, "grant") == 0 && argc >= 2)
        return finish(d, icsoe_dir_capturist_grant(d, argv[0], argv[1]));
    if (strcmp(cmd, "revoke") == 0 && argc >= 2)
        return finish(d, icsoe_dir_capturist_revoke(d, argv[0], argv[1]));
    if (strcmp(cmd, "lock") == 0 && argc >= 1)
        return finish(d, icsoe_dir_capturist_lock(d, argv[0]));
    if (strcmp(cmd, "unlock") == 0 && argc >= 1)
        return finish(d, icsoe_dir_capturist_unlock(d, argv[0]));
    if (strcmp(cmd, "capturist-remove") == 0 && argc >= 1)
        return finish(d, icsoe_dir_capturist_remove(d, argv[0]));
    if (strcmp(cmd, "bump-epoch") == 0 && argc >= 1)
        return finish(d, icsoe_dir_capturist_bump_epoch(d, argv[0]));
    if (strcmp(cmd, "contractor-remove") == 0 && argc >= 1)
        return finish(d, icsoe_dir_contractor_remove(d, argv[0],
                                                     argc > 1 && strcmp(argv[1], "force") == 0));
    if (strcmp(cmd, "claim-recover") == 0 && argc >= 3)
        return finish(d, icsoe_dir_capturist_claim_recover(d, argv[0],
                                                           (time_t)strtoll(argv[1], NULL, 10),
                                                           (int)strtol(argv[2], NULL, 10),
                                                           NULL));
    return 2;
}

static int parse_purpose(const char *s)
{
    if (strcmp(s, "activation") == 0)
        return ICSOE_TOKEN_ACTIVATION;
    if (strcmp(s, "reset") == 0)
        return ICSOE_TOKEN_RESET;
    if (strcmp(s, "any") == 0)
        return 0;
    return (int)strtol(s, NULL, 10);
}

/* token-store CURP PURPOSE LIFETIME (seconds, may be negative). */
static int cmd_token_store(icsoe_dir *d, int argc, char **argv)
{
    char token[ICSOE_TOKEN_LEN + 1], hash[ICSOE_TOKEN_HASH_HEX + 1];
    icsoe_status st;

    if (argc < 3)
        return 2;
    if (icsoe_token_new(token, hash) != 0)
        return finish(d, ICSOE_ERR_INTERNAL);
    st = icsoe_dir_token_store(d, argv[0], (icsoe_token_purpose)parse_purpose(argv[1]), hash,
                               time(NULL) + strtol(argv[2], NULL, 10));
    if (st != ICSOE_OK)
        return finish(d, st);
    printf("status=ok token=%s hash=%s\n", token, hash);
    return 0;
}

static int cmd_token_lookup(icsoe_dir *d, int argc, char **argv)
{
    icsoe_capturist c;
    icsoe_status st;

    if (argc < 1)
        return 2;
    st = icsoe_dir_token_lookup(d, argv[0], argc > 1 ? parse_purpose(argv[1]) : 0, &c);
    if (st != ICSOE_OK)
        return finish(d, st);
    print_capturist("status=ok ", &c);
    icsoe_capturist_clear(&c);
    return 0;
}

static int cmd_token_consume(icsoe_dir *d, int argc, char **argv)
{
    char pw[PW_MAX];
    icsoe_capturist c;
    icsoe_status st;

    if (argc < 1)
        return 2;
    read_line(pw, sizeof(pw));
    st = icsoe_dir_token_consume(d, argv[0], argc > 1 ? parse_purpose(argv[1]) : 0, pw, &c);
    icsoe_wipe(pw, sizeof(pw));
    if (st != ICSOE_OK)
        return finish(d, st);
    print_capturist("status=ok ", &c);
    icsoe_capturist_clear(&c);
    return 0;
}

/* ---- token-race: N threads, each with its own handle, one token ---- */
typedef struct racer {
    pthread_t tid;
    int index;
    const char *token;
    pthread_barrier_t *barrier;
    icsoe_status st;
} racer;

static void *race_one(void *arg)
{
    racer *r = arg;
    char pw[64];
    icsoe_dir *d = icsoe_dir_open(conf, &logger);
    icsoe_capturist c;

    r->st = ICSOE_ERR_INTERNAL;
    snprintf(pw, sizeof(pw), "pw-%d-correct-horse-battery-staple", r->index);
    if (d != NULL) {
        /* Connect before the barrier so the consumes really overlap. */
        icsoe_dir_contractor_get(d, "AAA010101AAA", &(icsoe_contractor){ 0 });
    }
    pthread_barrier_wait(r->barrier);
    if (d != NULL) {
        r->st = icsoe_dir_token_consume(d, r->token, 0, pw, &c);
        icsoe_capturist_clear(&c);
        icsoe_dir_close(d);
    }
    return NULL;
}

static int cmd_token_race(int argc, char **argv)
{
    pthread_barrier_t barrier;
    racer *rs;
    int n, i, ok = 0, winner = -1, notfound = 0, other = 0;

    if (argc < 2)
        return 2;
    n = (int)strtol(argv[1], NULL, 10);
    if (n < 1 || n > 500)
        return 2;
    rs = calloc((size_t)n, sizeof(*rs));
    if (rs == NULL || pthread_barrier_init(&barrier, NULL, (unsigned)n) != 0)
        return 1;
    for (i = 0; i < n; i++) {
        rs[i].index = i;
        rs[i].token = argv[0];
        rs[i].barrier = &barrier;
        if (pthread_create(&rs[i].tid, NULL, race_one, &rs[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(1);
        }
    }
    for (i = 0; i < n; i++) {
        pthread_join(rs[i].tid, NULL);
        if (rs[i].st == ICSOE_OK) {
            ok++;
            winner = i;
        } else if (rs[i].st == ICSOE_ERR_NOT_FOUND) {
            notfound++;
        } else {
            other++;
            fprintf(stderr, "racer %d: %s\n", i, icsoe_status_name(rs[i].st));
        }
    }
    pthread_barrier_destroy(&barrier);
    free(rs);
    printf("status=ok succeeded=%d winner=%d not_found=%d other=%d\n", ok, winner, notfound,
           other);
    return 0;
}

static int cmd_change_password(icsoe_dir *d, int argc, char **argv)
{
    char oldpw[PW_MAX], newpw[PW_MAX];
    icsoe_pwchange_reason why = ICSOE_PWCHANGE_NONE;
    icsoe_status st;

    if (argc < 1)
        return 2;
    read_line(oldpw, sizeof(oldpw));
    read_line(newpw, sizeof(newpw));
    st = icsoe_dir_change_password(d, argv[0], oldpw, newpw, &why);
    icsoe_wipe(oldpw, sizeof(oldpw));
    icsoe_wipe(newpw, sizeof(newpw));
    printf("status=%s why=%d message=%s\n", status_word(st), (int)why,
           icsoe_pwchange_reason_message(why));
    return st == ICSOE_OK ? 0 : 1;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: dirdrv -c CONF COMMAND [ARGS]\n"
            "  conf-check | escape VALUE\n"
            "  contractor-add RFC NAME [EMAIL [REPSE]] | contractor-get RFC\n"
            "  contractor-list [RFC...] | contractor-remove RFC [force]\n"
            "  capturist-add CURP NAME EMAIL [RFC...] | capturist-get CURP\n"
            "  capturist-list [RFC|-] [STATUS|-] | capturist-remove CURP\n"
            "  grant CURP RFC | revoke CURP RFC | lock CURP | unlock CURP\n"
            "  bump-epoch CURP | claim-recover CURP NOW INTERVAL\n"
            "  verify CURP | verify-loop CURP | change-password CURP  (stdin)\n"
            "  token-store CURP PURPOSE LIFETIME | token-lookup TOKEN [PURPOSE]\n"
            "  token-consume TOKEN [PURPOSE] (stdin) | token-race TOKEN N\n");
    return 2;
}

static int dispatch(icsoe_dir *d, const char *cmd, int argc, char **argv)
{
    if (strcmp(cmd, "contractor-add") == 0)
        return cmd_contractor_add(d, argc, argv);
    if (strcmp(cmd, "contractor-get") == 0)
        return cmd_contractor_get(d, argc, argv);
    if (strcmp(cmd, "contractor-list") == 0)
        return cmd_contractor_list(d, argc, argv);
    if (strcmp(cmd, "capturist-add") == 0)
        return cmd_capturist_add(d, argc, argv);
    if (strcmp(cmd, "capturist-get") == 0)
        return cmd_capturist_get(d, argc, argv);
    if (strcmp(cmd, "capturist-list") == 0)
        return cmd_capturist_list(d, argc, argv);
    if (strcmp(cmd, "verify") == 0)
        return cmd_verify(d, argc, argv);
    if (strcmp(cmd, "verify-loop") == 0)
        return cmd_verify_loop(d, argc, argv);
    if (strcmp(cmd, "token-store") == 0)
        return cmd_token_store(d, argc, argv);
    if (strcmp(cmd, "token-lookup") == 0)
        return cmd_token_lookup(d, argc, argv);
    if (strcmp(cmd, "token-consume") == 0)
        return cmd_token_consume(d, argc, argv);
    if (strcmp(cmd, "change-password") == 0)
        return cmd_change_password(d, argc, argv);
    return cmd_simple(d, cmd, argc, argv);
}

int main(int argc, char **argv)
{
    char err[1024];
    const char *path = NULL, *cmd;
    icsoe_dir *d;
    int opt, rc;

    setvbuf(stdout, NULL, _IOLBF, 0);
    while ((opt = getopt(argc, argv, "+c:")) != -1) {
        if (opt == 'c')
            path = optarg;
        else
            return usage();
    }
    if (optind >= argc)
        return usage();
    cmd = argv[optind];
    argc -= optind + 1;
    argv += optind + 1;
    if (strcmp(cmd, "escape") == 0 && argc >= 1) {
        char *e = icsoe_ldap_filter_escape(argv[0]);

        printf("status=ok escaped=%s\n", e ? e : "(null)");
        free(e);
        return 0;
    }
    if (path == NULL)
        return usage();
    logger.fn = log_stderr;
    conf = icsoe_conf_load(path, err, sizeof(err));
    if (conf == NULL) {
        printf("status=invalid_input error=%s\n", err);
        return 1;
    }
    if (strcmp(cmd, "conf-check") == 0) {
        rc = cmd_conf_check();
    } else if (strcmp(cmd, "token-race") == 0) {
        rc = cmd_token_race(argc, argv);
    } else {
        d = icsoe_dir_open(conf, &logger);
        if (d == NULL) {
            icsoe_conf_free(conf);
            return 1;
        }
        rc = dispatch(d, cmd, argc, argv);
        if (rc == 2)
            usage();
        icsoe_dir_close(d);
    }
    icsoe_conf_free(conf);
    return rc;
}
