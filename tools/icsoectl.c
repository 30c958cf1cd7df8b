/* icsoectl: administration of ICSOE contractors and capturists.
 *
 * A thin front end: it parses the command line, checks the input, and calls
 * libicsoe (directory, accounts, mail, session keys).  This file holds main,
 * the dispatch table and the helpers shared by the cmd_*.c files. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "icsoectl.h"
#include "input.h"
#include "mail.h"

static const ctl_cmd commands[] = {
    { "contractor", "add", ctl_contractor_add,
      "--rfc RFC --name NAME [--repse NUM] [--email EMAIL] [--strict]",
      "register a contractor" },
    { "contractor", "list", ctl_contractor_list, "", "list contractors" },
    { "contractor", "show", ctl_contractor_show, "RFC",
      "show a contractor and its capturists" },
    { "contractor", "remove", ctl_contractor_remove, "RFC [--force]",
      "remove a contractor (--force revokes it from its capturists)" },
    { "capturist", "add", ctl_capturist_add,
      "--curp CURP --name NAME --email EMAIL --contractor RFC "
      "[--contractor RFC ...] [--no-mail]",
      "create a pending capturist and send the activation email" },
    { "capturist", "resend", ctl_capturist_resend, "CURP [--no-mail] | --unsent",
      "send a new activation link (the old one stops working); --unsent: "
      "send every mail that was not delivered" },
    { "capturist", "set", ctl_capturist_set, "CURP --email EMAIL [--no-mail]",
      "change the email address (a pending account gets a new link there)" },
    { "capturist", "grant", ctl_capturist_grant, "CURP RFC",
      "let a capturist work for a contractor" },
    { "capturist", "revoke", ctl_capturist_revoke, "CURP RFC",
      "stop a capturist working for a contractor" },
    { "capturist", "lock", ctl_capturist_lock, "CURP",
      "lock an account and end its sessions" },
    { "capturist", "unlock", ctl_capturist_unlock, "CURP",
      "unlock an account (also clears a password-policy lockout)" },
    { "capturist", "remove", ctl_capturist_remove, "CURP", "delete an account" },
    { "capturist", "show", ctl_capturist_show, "CURP", "show an account" },
    { "capturist", "list", ctl_capturist_list,
      "[--contractor RFC] [--status pending|active|locked]", "list accounts" },
    { "capturist", "import", ctl_capturist_import, "FILE.csv [--no-mail]",
      "create capturists and grants from a CSV file (curp,nombre,correo,rfc)" },
    { "capturist", "posix", ctl_capturist_posix, "enable|disable|sync CURP",
      "give or take a capturist's Unix identity (uid, group, home) for ssh logins" },
    { "contractor", "posix", ctl_contractor_posix, "enable RFC --group NAME | disable RFC",
      "a Unix group with the contractor's capturists (for AllowGroups, files)" },
    { "key", "generate", ctl_key_generate, "FILE [--force]",
      "write a new session key for mod_icsoe (mode 0600)" },
    { "efirma", "show", ctl_efirma_show, "FILE",
      "show a SAT e.firma/CSD certificate (.cer or PEM); exit 0 only for a "
      "currently valid FIEL" },
    { "check", "", ctl_check, "[--key FILE]...",
      "check the whole set-up: configuration, files, each LDAP server and "
      "account, schema, ppolicy and quality module, SMTP (exit 0 or 1)" },
    { "validate", "curp", ctl_validate_curp, "VALUE...",
      "check CURPs (no configuration needed)" },
    { "validate", "rfc", ctl_validate_rfc, "[--strict] VALUE...",
      "check RFCs (no configuration needed)" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

const ctl_cmd *ctl_current;

/* ---- messages ---- */

/* One line, whatever the input: control characters (a CSV field may hold
 * a newline) become '?'. */
static void vmessage(const char *prefix, const char *fmt, va_list ap)
{
    char line[2048];

    vsnprintf(line, sizeof(line), fmt, ap);
    for (char *p = line; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    fprintf(stderr, "icsoectl: %s%s\n", prefix, line);
}

void ctl_err(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmessage("", fmt, ap);
    va_end(ap);
}

void ctl_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmessage("warning: ", fmt, ap);
    va_end(ap);
}

void ctl_print_usage(FILE *f, const ctl_cmd *cmd)
{
    fprintf(f, "usage: icsoectl [-c FILE] [--json] [-v] %s%s%s%s%s\n", cmd->object,
            cmd->verb[0] != '\0' ? " " : "", cmd->verb, cmd->args[0] != '\0' ? " " : "",
            cmd->args);
}

int ctl_usage_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmessage("", fmt, ap);
    va_end(ap);
    if (ctl_current != NULL)
        ctl_print_usage(stderr, ctl_current);
    return CTL_EXIT_INPUT;
}

static void print_all_usage(FILE *f)
{
    fputs("usage: icsoectl [-c FILE] [--json] [-v] OBJECT VERB [ARGS]\n"
          "\n"
          "options:\n"
          "  -c, --config FILE  configuration (default $ICSOE_CONFIG, else "
          ICSOE_CONF_DEFAULT_PATH ")\n"
          "  --json             machine-readable output\n"
          "  -v, --verbose      library debug messages on stderr\n"
          "  -h, --help         this help;  --version  the version\n"
          "\ncommands:\n", f);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %s%s%s%s%s\n      %s\n", commands[i].object,
                commands[i].verb[0] != '\0' ? " " : "", commands[i].verb,
                commands[i].args[0] != '\0' ? " " : "", commands[i].args,
                commands[i].summary);
    fputs("\nexit status: 0 ok, 1 bad input or usage (or an address the mail server\n"
          "refused), 2 not found or conflict, 3 directory or mail server unavailable,\n"
          "4 configuration error (mail settings included), 5 internal error.\n"
          "See icsoectl(8).\n", f);
}

/* ---- library log messages ---- */

static const char *level_name(int level)
{
    switch (level) {
    case ICSOE_LOG_ERR: return "error";
    case ICSOE_LOG_WARNING: return "warning";
    case ICSOE_LOG_NOTICE: return "notice";
    case ICSOE_LOG_INFO: return "info";
    default: return "debug";
    }
}

/* Library messages go to stderr: warnings and errors always, the rest
 * with -v.  They never carry tokens or passwords (lib/log.h). */
static void log_to_stderr(void *ctx, int level, const char *msg)
{
    const ctl *c = ctx;

    if (level > ICSOE_LOG_WARNING && !c->verbose)
        return;
    fprintf(stderr, "icsoectl: %s: %s\n", level_name(level), msg);
}

/* ---- options ---- */

int ctl_getopt(ctl *c, int argc, char **argv, const char *shortopts,
               const struct option *longopts)
{
    opterr = 0; /* our own messages, naming the command */
    for (;;) {
        int opt = getopt_long(argc, argv, shortopts, longopts, NULL);

        switch (opt) {
        case 'J':
            c->json = 1;
            break;
        case 'c':
            c->config_path = optarg;
            break;
        case 'v':
            c->verbose = 1;
            break;
        case 'h':
            if (ctl_current != NULL)
                ctl_print_usage(stdout, ctl_current);
            else
                print_all_usage(stdout);
            return CTL_OPT_HELP;
        case '?':
            if (optopt != 0)
                ctl_usage_error("unknown option '-%c'", optopt);
            else
                ctl_usage_error("unknown option '%s'", argv[optind - 1]);
            return CTL_OPT_ERROR;
        case ':':
            ctl_usage_error("option '%s' needs a value", argv[optind - 1]);
            return CTL_OPT_ERROR;
        default:
            return opt; /* the verb's own option, or -1 at the end */
        }
    }
}

int ctl_simple_args(ctl *c, int argc, char **argv, int nargs)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONGOPTS,
        { NULL, 0, NULL, 0 }
    };
    int opt;

    while ((opt = ctl_getopt(c, argc, argv, CTL_SHORT, longopts)) != CTL_OPT_END) {
        if (opt == CTL_OPT_HELP)
            return CTL_EXIT_OK;
        if (opt == CTL_OPT_ERROR)
            return CTL_EXIT_INPUT;
    }
    if (argc - optind != nargs)
        return ctl_usage_error("expected %d argument%s, got %d", nargs,
                               nargs == 1 ? "" : "s", argc - optind);
    return CTL_GO_ON;
}

/* ---- input checks ---- */

int ctl_check_curp(const char *in, char out[ICSOE_CURP_LEN + 1], char *why,
                   size_t whylen)
{
    icsoe_curp_reason r = icsoe_curp_check(in, out);

    if (r == ICSOE_CURP_OK)
        return 0;
    snprintf(why, whylen, "invalid CURP '%s': %s", in != NULL ? in : "",
             icsoe_curp_reason_name(r));
    return -1;
}

int ctl_check_rfc(const char *in, int strict, char out[ICSOE_RFC_BUFSZ],
                  int *warning, char *why, size_t whylen)
{
    icsoe_rfc_reason r = icsoe_rfc_check(in, out);

    *warning = 0;
    if (r == ICSOE_RFC_OK)
        return 0;
    if (r == ICSOE_RFC_BAD_CHECK_DIGIT) {
        snprintf(why, whylen, "RFC '%s': wrong check digit%s", out,
                 strict ? "" : " (accepted; --strict refuses it)");
        if (!strict) {
            *warning = 1;
            return 0;
        }
        out[0] = '\0';
        return -1;
    }
    snprintf(why, whylen, "invalid RFC '%s': %s", in != NULL ? in : "",
             icsoe_rfc_reason_name(r));
    return -1;
}

int ctl_check_email(const char *in, char *why, size_t whylen)
{
    if (in != NULL && icsoe_email_valid(in))
        return 0;
    snprintf(why, whylen, "invalid email address '%s'", in != NULL ? in : "");
    return -1;
}

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' ||
           ch == '\f';
}

int ctl_check_name(const char *in, char **out, char *why, size_t whylen)
{
    size_t start = 0;
    size_t end;

    *out = NULL;
    if (in == NULL)
        in = "";
    end = strlen(in);
    while (start < end && is_blank(in[start]))
        start++;
    while (end > start && is_blank(in[end - 1]))
        end--;
    if (end == start) {
        snprintf(why, whylen, "the name is empty");
        return -1;
    }
    if (end - start > CTL_NAME_MAX) {
        snprintf(why, whylen, "the name is longer than %d bytes", CTL_NAME_MAX);
        return -1;
    }
    for (size_t i = start; i < end; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch < 0x20 || ch == 0x7f) {
            snprintf(why, whylen, "the name contains control characters");
            return -1;
        }
    }
    if (!icsoe_text_is_safe(in + start, end - start)) {
        snprintf(why, whylen, "the name is not valid UTF-8 text");
        return -1;
    }
    *out = strndup(in + start, end - start);
    if (*out == NULL) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    return 0;
}

int ctl_arg_rfc(const char *in, char out[ICSOE_RFC_BUFSZ])
{
    char why[512];
    int warning;

    if (ctl_check_rfc(in, 0, out, &warning, why, sizeof(why)) != 0) {
        ctl_err("%s", why);
        return CTL_EXIT_INPUT;
    }
    return CTL_EXIT_OK;
}

int ctl_arg_curp(const char *in, char out[ICSOE_CURP_LEN + 1])
{
    char why[512];

    if (ctl_check_curp(in, out, why, sizeof(why)) != 0) {
        ctl_err("%s", why);
        return CTL_EXIT_INPUT;
    }
    return CTL_EXIT_OK;
}

/* ---- directory ---- */

const char *ctl_config_path(const ctl *c)
{
    const char *env;

    if (c->config_path != NULL)
        return c->config_path;
    env = getenv("ICSOE_CONFIG");
    if (env != NULL && *env != '\0')
        return env;
    return ICSOE_CONF_DEFAULT_PATH;
}

int ctl_open_dir(ctl *c)
{
    char err[1024] = "";

    if (c->dir != NULL)
        return CTL_EXIT_OK;
    if (c->conf == NULL) {
        c->conf = icsoe_conf_load(ctl_config_path(c), err, sizeof(err));
        if (c->conf == NULL) {
            ctl_err("%s", err[0] != '\0' ? err : "cannot load the configuration");
            return CTL_EXIT_CONFIG;
        }
    }
    c->dir = icsoe_dir_open(c->conf, &c->lg);
    if (c->dir == NULL) {
        ctl_err("out of memory");
        return CTL_EXIT_INTERNAL;
    }
    return CTL_EXIT_OK;
}

int ctl_need_link_conf(ctl *c, int send)
{
    if (c->conf->activation_url == NULL) {
        ctl_err("%s: activation_url is not set (it is the address of the "
                "links in activation emails)", c->conf->path);
        return CTL_EXIT_CONFIG;
    }
    if (send && (c->conf->smtp_url == NULL || c->conf->mail_from == NULL)) {
        ctl_err("%s: smtp_url and mail_from must be set to send activation "
                "emails (or use --no-mail)", c->conf->path);
        return CTL_EXIT_CONFIG;
    }
    return CTL_EXIT_OK;
}

int ctl_exit_for(icsoe_status st)
{
    switch (st) {
    case ICSOE_OK:
        return CTL_EXIT_OK;
    case ICSOE_ERR_NOT_FOUND:
    case ICSOE_ERR_EXISTS:
        return CTL_EXIT_CONFLICT;
    case ICSOE_ERR_UNAVAILABLE:
        return CTL_EXIT_UNAVAILABLE;
    case ICSOE_ERR_INVALID_INPUT:
    case ICSOE_ERR_POLICY:
        return CTL_EXIT_INPUT;
    default:
        return CTL_EXIT_INTERNAL; /* fail closed on anything unexpected */
    }
}

int ctl_dir_fail(ctl *c, icsoe_status st, const char *what)
{
    const char *reason = c->dir != NULL ? icsoe_dir_reason(c->dir) : NULL;

    if (st == ICSOE_ERR_UNAVAILABLE || st == ICSOE_ERR_INTERNAL)
        ctl_err("%s: directory %s%s%s", what, icsoe_status_name(st),
                reason != NULL && *reason != '\0' ? ": " : "",
                reason != NULL ? reason : "");
    else
        ctl_err("%s: %s", what, icsoe_status_name(st));
    return ctl_exit_for(st);
}

int ctl_mail_failed(const char *curp, const char *email, icsoe_mail_fail fail,
                    const char *err)
{
    switch (fail) {
    case ICSOE_MAIL_REFUSED:
        ctl_err("capturist %s: the mail server refused the address %s for good: %s; "
                "correct it with 'icsoectl capturist set %s --email NEW_ADDRESS' "
                "(a new link is mailed there)", curp, email != NULL ? email : "?", err, curp);
        return CTL_EXIT_INPUT;
    case ICSOE_MAIL_CONFIG:
        ctl_err("capturist %s: mail not sent, configuration error: %s; fix the "
                "configuration, then run 'icsoectl capturist resend --unsent'", curp, err);
        return CTL_EXIT_CONFIG;
    default:
        ctl_err("capturist %s: mail not sent, the mail server is unavailable: %s; "
                "run 'icsoectl capturist resend --unsent' once it is back", curp, err);
        return CTL_EXIT_UNAVAILABLE;
    }
}

char *ctl_read_file(const char *path, size_t maxlen, size_t *len, char *why,
                    size_t whylen)
{
    struct stat st;
    char *buf = NULL;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        snprintf(why, whylen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, whylen, "%s: not a regular file", path);
        goto fail;
    }
    if ((unsigned long long)st.st_size > maxlen) {
        snprintf(why, whylen, "%s: larger than %zu bytes", path, maxlen);
        goto fail;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        snprintf(why, whylen, "out of memory");
        goto fail;
    }
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            snprintf(why, whylen, "%s: %s", path, r < 0 ? strerror(errno) : "short read");
            goto fail;
        }
        got += (size_t)r;
    }
    buf[got] = '\0';
    *len = got;
    close(fd);
    return buf;

fail:
    free(buf);
    close(fd);
    return NULL;
}

/* ---- dispatch ---- */

static const ctl_cmd *find_command(const char *object, const char *verb,
                                   int *object_known)
{
    *object_known = 0;
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(commands[i].object, object) != 0)
            continue;
        *object_known = 1;
        if (commands[i].verb[0] == '\0')
            return &commands[i];     /* a command without verb ("check") */
        if (verb != NULL && strcmp(commands[i].verb, verb) == 0)
            return &commands[i];
    }
    return NULL;
}

static void print_object_usage(FILE *f, const char *object)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].object, object) == 0)
            ctl_print_usage(f, &commands[i]);
}

/* Global options come before OBJECT ("+": stop at the first word). */
static int parse_global(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONGOPTS,
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    int opt = ctl_getopt(c, argc, argv, "+" CTL_SHORT, longopts);

    if (opt == 'V') {
        printf("icsoectl %s\n", PACKAGE_VERSION);
        return CTL_OPT_HELP;
    }
    return opt;
}

static int run(ctl *c, int argc, char **argv)
{
    const ctl_cmd *cmd;
    int object_known;
    int opt = parse_global(c, argc, argv);

    if (opt == CTL_OPT_HELP)
        return CTL_EXIT_OK;
    if (opt == CTL_OPT_ERROR)
        return CTL_EXIT_INPUT;
    if (optind >= argc) {
        print_all_usage(stderr);
        return CTL_EXIT_INPUT;
    }
    if (strcmp(argv[optind], "help") == 0) {
        print_all_usage(stdout);
        return CTL_EXIT_OK;
    }
    cmd = find_command(argv[optind], optind + 1 < argc ? argv[optind + 1] : NULL,
                       &object_known);
    if (cmd == NULL) {
        if (!object_known) {
            ctl_err("unknown object '%s' (try 'icsoectl --help')", argv[optind]);
        } else {
            if (optind + 1 < argc)
                ctl_err("unknown command '%s %s'", argv[optind], argv[optind + 1]);
            else
                ctl_err("'%s' needs a verb", argv[optind]);
            print_object_usage(stderr, argv[optind]);
        }
        return CTL_EXIT_INPUT;
    }
    ctl_current = cmd;
    /* The verb's argv starts at the verb itself; optind = 0 makes glibc's
     * getopt start over. */
    if (cmd->verb[0] == '\0') {       /* argv starts at the command word */
        argv += optind;
        argc -= optind;
    } else {
        argv += optind + 1;
        argc -= optind + 1;
    }
    optind = 0;
    return cmd->fn(c, argc, argv);
}

int main(int argc, char **argv)
{
    ctl c;
    int rc;

    memset(&c, 0, sizeof(c));
    c.lg.fn = log_to_stderr;
    c.lg.ctx = &c;
    /* libcurl's global state, once, before anything may send mail. */
    if (icsoe_mail_global_init() != 0) {
        ctl_err("cannot initialise libcurl");
        return CTL_EXIT_INTERNAL;
    }
    rc = run(&c, argc, argv);
    if (fflush(stdout) != 0 && rc == CTL_EXIT_OK) {
        ctl_err("cannot write the output: %s", strerror(errno));
        rc = CTL_EXIT_INTERNAL;
    }
    if (c.dir != NULL)
        icsoe_dir_close(c.dir);
    if (c.conf != NULL)
        icsoe_conf_free(c.conf);
    return rc;
}
