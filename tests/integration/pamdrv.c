/* pamdrv: a small PAM application for the integration tests.
 *
 * Runs a list of PAM operations on one handle and prints, one per line,
 * every conversation event and the exact return code of every operation,
 * so tests can assert on PAM_MAXTRIES vs PAM_AUTH_ERR, on the prompts
 * that were (or were not) shown and on the messages.  With -T it runs the
 * same operations in several threads at once, each with its own handle,
 * to show the module is thread-safe.
 *
 *   pamdrv [-c CONFDIR] [-s SERVICE] [-u USER] [-r ANSWER]...
 *          [-T THREADS] [-n ROUNDS] [-k] [-S] OP...
 *
 *   OP: auth setcred acct open close chauthtok chauthtok-expired env wait
 *
 * -c uses pam_start_confdir(CONFDIR) instead of pam_start() (pam_wrapper).
 * -r answers the next prompt (in order); a prompt with no answer left
 *    fails the conversation.  -k keeps going after a failed operation.
 * PAM_AUTHTOK and PAM_OLDAUTHTOK cannot be set by an application (libpam
 * answers PAM_BAD_ITEM): tests put pam_wrapper's pam_set_items.so first in
 * the stack and pass the values in the environment instead.
 * Output:  "prompt: TEXT", "error: TEXT", "info: TEXT",
 *          "OP: CODE NAME MILLISECONDS", "env: PAM_USER=VALUE" and
 *          "env: ICSOE_CURP=VALUE" (op env),
 *          with -T: "threads: N rounds: R" then "OP NAME: COUNT" lines.
 * wait prints "waiting" and reads a line from stdin before going on, so a
 * test can change files between two calls of the module in one process
 * (the configuration cache); end of input answers PAM_ABORT.
 * Exit status: 0 all operations succeeded, 1 one failed, 2 usage/setup. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <security/pam_appl.h>

#define MAX_ANSWERS 16
#define MAX_OPS 16
#define MAX_THREADS 64
#define PAM_CODES 32

static const char *const pam_code_names[PAM_CODES] = {
    "PAM_SUCCESS", "PAM_OPEN_ERR", "PAM_SYMBOL_ERR", "PAM_SERVICE_ERR",
    "PAM_SYSTEM_ERR", "PAM_BUF_ERR", "PAM_PERM_DENIED", "PAM_AUTH_ERR",
    "PAM_CRED_INSUFFICIENT", "PAM_AUTHINFO_UNAVAIL", "PAM_USER_UNKNOWN",
    "PAM_MAXTRIES", "PAM_NEW_AUTHTOK_REQD", "PAM_ACCT_EXPIRED",
    "PAM_SESSION_ERR", "PAM_CRED_UNAVAIL", "PAM_CRED_EXPIRED",
    "PAM_CRED_ERR", "PAM_NO_MODULE_DATA", "PAM_CONV_ERR", "PAM_AUTHTOK_ERR",
    "PAM_AUTHTOK_RECOVERY_ERR", "PAM_AUTHTOK_LOCK_BUSY",
    "PAM_AUTHTOK_DISABLE_AGING", "PAM_TRY_AGAIN", "PAM_IGNORE", "PAM_ABORT",
    "PAM_AUTHTOK_EXPIRED", "PAM_MODULE_UNKNOWN", "PAM_BAD_ITEM",
    "PAM_CONV_AGAIN", "PAM_INCOMPLETE",
};

typedef enum drv_op {
    OP_AUTH, OP_SETCRED, OP_ACCT, OP_OPEN, OP_CLOSE, OP_CHAUTHTOK,
    OP_CHAUTHTOK_EXPIRED, OP_ENV, OP_WAIT, OP_COUNT
} drv_op;

static const char *const op_names[OP_COUNT] = {
    "auth", "setcred", "acct", "open", "close", "chauthtok",
    "chauthtok-expired", "env", "wait",
};

typedef struct drv_options {
    const char *confdir;
    const char *service;
    const char *user;
    const char *answers[MAX_ANSWERS];
    size_t nanswers;
    drv_op ops[MAX_OPS];
    size_t nops;
    int threads;
    int rounds;
    int keep_going;
    int flags;
} drv_options;

/* One conversation: the answers it still has, and whether to print. */
typedef struct drv_conv {
    const drv_options *opt;
    size_t next;
    int quiet;
} drv_conv;

/* Per-thread tally of results: counts[op][code]. */
typedef struct drv_thread {
    pthread_t tid;
    const drv_options *opt;
    int failed;
    unsigned counts[OP_COUNT][PAM_CODES];
} drv_thread;

static const char *code_name(int rc)
{
    return rc >= 0 && rc < PAM_CODES ? pam_code_names[rc] : "PAM_UNKNOWN";
}

static void free_replies(struct pam_response *r, int n)
{
    for (int i = 0; i < n; i++) {
        if (r[i].resp != NULL) {
            memset(r[i].resp, 0, strlen(r[i].resp));
            free(r[i].resp);
        }
    }
    free(r);
}

static int conversation(int n, const struct pam_message **msg,
                        struct pam_response **resp, void *appdata)
{
    drv_conv *c = appdata;
    struct pam_response *r;

    if (n <= 0 || n > PAM_MAX_NUM_MSG)
        return PAM_CONV_ERR;
    r = calloc((size_t)n, sizeof(*r));
    if (r == NULL)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        const char *text = msg[i]->msg != NULL ? msg[i]->msg : "";

        switch (msg[i]->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
        case PAM_PROMPT_ECHO_ON:
            if (!c->quiet)
                printf("prompt: %s\n", text);
            if (c->next >= c->opt->nanswers)
                goto fail;
            r[i].resp = strdup(c->opt->answers[c->next++]);
            if (r[i].resp == NULL)
                goto fail;
            break;
        case PAM_ERROR_MSG:
            if (!c->quiet)
                printf("error: %s\n", text);
            break;
        case PAM_TEXT_INFO:
            if (!c->quiet)
                printf("info: %s\n", text);
            break;
        default:
            goto fail;
        }
    }
    *resp = r;
    return PAM_SUCCESS;
fail:
    free_replies(r, n);
    return PAM_CONV_ERR;
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* PAM_USER as the application sees it now, control characters shown as
 * \xNN so that one line stays one line. */
static void print_user(pam_handle_t *pamh)
{
    const void *item = NULL;
    const unsigned char *u;

    if (pam_get_item(pamh, PAM_USER, &item) != PAM_SUCCESS || item == NULL) {
        printf("env: PAM_USER=(unset)\n");
        return;
    }
    printf("env: PAM_USER=");
    for (u = item; *u != '\0'; u++) {
        if (*u < 0x20 || *u == 0x7f)
            printf("\\x%02x", *u);
        else
            putchar(*u);
    }
    putchar('\n');
}

static int wait_for_line(void)
{
    char line[64];

    printf("waiting\n");
    fflush(stdout);
    return fgets(line, sizeof(line), stdin) != NULL ? PAM_SUCCESS : PAM_ABORT;
}

static int run_op(pam_handle_t *pamh, drv_op op, int flags, int quiet)
{
    const char *v;

    switch (op) {
    case OP_AUTH:
        return pam_authenticate(pamh, flags);
    case OP_SETCRED:
        return pam_setcred(pamh, flags | PAM_ESTABLISH_CRED);
    case OP_ACCT:
        return pam_acct_mgmt(pamh, flags);
    case OP_OPEN:
        return pam_open_session(pamh, flags);
    case OP_CLOSE:
        return pam_close_session(pamh, flags);
    case OP_CHAUTHTOK:
        return pam_chauthtok(pamh, flags);
    case OP_CHAUTHTOK_EXPIRED:
        return pam_chauthtok(pamh, flags | PAM_CHANGE_EXPIRED_AUTHTOK);
    case OP_ENV:
        if (!quiet)
            print_user(pamh);
        v = pam_getenv(pamh, "ICSOE_CURP");
        if (!quiet)
            printf("env: ICSOE_CURP=%s\n", v != NULL ? v : "(unset)");
        return v != NULL ? PAM_SUCCESS : PAM_NO_MODULE_DATA;
    case OP_WAIT:
        return wait_for_line();
    default:
        return PAM_ABORT;
    }
}

static int start(const drv_options *opt, drv_conv *c, pam_handle_t **pamh)
{
    struct pam_conv conv = { conversation, c };
    int rc;

    if (opt->confdir != NULL)
        rc = pam_start_confdir(opt->service, opt->user, &conv, opt->confdir,
                               pamh);
    else
        rc = pam_start(opt->service, opt->user, &conv, pamh);
    return rc;
}

/* One transaction: start, the operations in order, end.  Returns 0 when
 * every operation succeeded. */
static int transaction(const drv_options *opt, int quiet,
                       unsigned counts[OP_COUNT][PAM_CODES])
{
    drv_conv c = { opt, 0, quiet };
    pam_handle_t *pamh = NULL;
    int rc, failed = 0;

    rc = start(opt, &c, &pamh);
    if (rc != PAM_SUCCESS) {
        if (!quiet)
            printf("start: %d %s\n", rc, code_name(rc));
        if (pamh != NULL)
            pam_end(pamh, rc);
        return 1;
    }
    for (size_t i = 0; i < opt->nops; i++) {
        double t0 = now_ms();

        rc = run_op(pamh, opt->ops[i], opt->flags, quiet);
        if (!quiet)
            printf("%s: %d %s %.1f\n", op_names[opt->ops[i]], rc,
                   code_name(rc), now_ms() - t0);
        if (counts != NULL && rc >= 0 && rc < PAM_CODES)
            counts[opt->ops[i]][rc]++;
        if (rc != PAM_SUCCESS) {
            failed = 1;
            if (!opt->keep_going)
                break;
        }
    }
    fflush(stdout);
    pam_end(pamh, rc);
    return failed;
}

static void *thread_main(void *arg)
{
    drv_thread *t = arg;

    for (int r = 0; r < t->opt->rounds; r++)
        if (transaction(t->opt, 1, t->counts) != 0)
            t->failed = 1;
    return NULL;
}

static int run_threads(const drv_options *opt)
{
    drv_thread *t = calloc((size_t)opt->threads, sizeof(*t));
    unsigned total[OP_COUNT][PAM_CODES];
    int failed = 0, started = 0;

    if (t == NULL)
        return 2;
    memset(total, 0, sizeof(total));
    for (int i = 0; i < opt->threads; i++) {
        t[i].opt = opt;
        if (pthread_create(&t[i].tid, NULL, thread_main, &t[i]) != 0) {
            failed = 2;
            break;
        }
        started++;
    }
    for (int i = 0; i < started; i++) {
        pthread_join(t[i].tid, NULL);
        failed |= t[i].failed;
        for (int o = 0; o < OP_COUNT; o++)
            for (int k = 0; k < PAM_CODES; k++)
                total[o][k] += t[i].counts[o][k];
    }
    printf("threads: %d rounds: %d\n", started, opt->rounds);
    for (int o = 0; o < OP_COUNT; o++)
        for (int k = 0; k < PAM_CODES; k++)
            if (total[o][k] != 0)
                printf("%s %s: %u\n", op_names[o], pam_code_names[k],
                       total[o][k]);
    free(t);
    return failed;
}

static int parse_op(const char *s, drv_op *op)
{
    for (int i = 0; i < OP_COUNT; i++) {
        if (strcmp(s, op_names[i]) == 0) {
            *op = (drv_op)i;
            return 0;
        }
    }
    return -1;
}

static int parse_count(const char *s, int max, int *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);

    if (end == s || *end != '\0' || v < 1 || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: pamdrv [-c CONFDIR] [-s SERVICE] [-u USER] "
            "[-r ANSWER]... [-T THREADS] "
            "[-n ROUNDS] [-k] [-S] OP...\n");
    return 2;
}

int main(int argc, char **argv)
{
    drv_options opt;
    int ch;

    memset(&opt, 0, sizeof(opt));
    opt.service = "icsoe";
    opt.threads = 1;
    opt.rounds = 1;
    while ((ch = getopt(argc, argv, "c:s:u:r:T:n:kS")) != -1) {
        switch (ch) {
        case 'c': opt.confdir = optarg; break;
        case 's': opt.service = optarg; break;
        case 'u': opt.user = optarg; break;
        case 'r':
            if (opt.nanswers >= MAX_ANSWERS)
                return usage();
            opt.answers[opt.nanswers++] = optarg;
            break;
        case 'T':
            if (parse_count(optarg, MAX_THREADS, &opt.threads) != 0)
                return usage();
            break;
        case 'n':
            if (parse_count(optarg, 100000, &opt.rounds) != 0)
                return usage();
            break;
        case 'k': opt.keep_going = 1; break;
        case 'S': opt.flags |= PAM_SILENT; break;
        default: return usage();
        }
    }
    for (int i = optind; i < argc; i++) {
        if (opt.nops >= MAX_OPS || parse_op(argv[i], &opt.ops[opt.nops]) != 0)
            return usage();
        opt.nops++;
    }
    if (opt.nops == 0)
        return usage();
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (opt.threads > 1 || opt.rounds > 1)
        return run_threads(&opt);
    return transaction(&opt, 0, NULL);
}
