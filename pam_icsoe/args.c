#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <security/pam_ext.h>
#include "args.h"
#include "conf.h"

/* Longest single RFC token we look at before calling it malformed. */
#define RFC_TOKEN_MAX 64

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Adds one RFC token (not NUL-terminated) to the contractor filter. */
static void add_contractor(pam_handle_t *pamh, const char *tok, size_t len,
                           icsoe_pam_args *args)
{
    char raw[RFC_TOKEN_MAX];
    char rfc[ICSOE_RFC_BUFSZ];
    icsoe_rfc_reason r;

    if (len == 0 || len >= sizeof(raw)) {
        pam_syslog(pamh, LOG_ERR, "contratista=: empty or overlong RFC, "
                   "denying every account");
        args->contractor_error = 1;
        return;
    }
    memcpy(raw, tok, len);
    raw[len] = '\0';
    r = icsoe_rfc_check(raw, rfc);
    /* A few RFCs really issued by SAT fail the check digit: they are
     * still contractors an administrator may name. */
    if (r != ICSOE_RFC_OK && r != ICSOE_RFC_BAD_CHECK_DIGIT) {
        pam_syslog(pamh, LOG_ERR, "contratista=: malformed RFC '%s' (%s), "
                   "denying every account", raw, icsoe_rfc_reason_name(r));
        args->contractor_error = 1;
        return;
    }
    if (args->ncontractors >= ICSOE_PAM_MAX_CONTRACTORS) {
        pam_syslog(pamh, LOG_ERR, "contratista=: more than %d RFCs, "
                   "denying every account", ICSOE_PAM_MAX_CONTRACTORS);
        args->contractor_error = 1;
        return;
    }
    memcpy(args->contractors[args->ncontractors], rfc, sizeof(rfc));
    args->ncontractors++;
}

/* contratista=RFC[,RFC...]: comma separated, no spaces (PAM splits
 * arguments at spaces). */
static void parse_contractors(pam_handle_t *pamh, const char *list,
                              icsoe_pam_args *args)
{
    const char *p = list;

    args->contractor_filter = 1;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);

        add_contractor(pamh, p, len, args);
        if (comma == NULL)
            break;
        p = comma + 1;
    }
}

/* minimum_uid=N: a decimal number, nothing else.  A bad value keeps the
 * highest sane protection (fail closed): every local account is skipped. */
static void parse_minimum_uid(pam_handle_t *pamh, const char *value,
                              icsoe_pam_args *args)
{
    char *end = NULL;
    long n;

    errno = 0;
    n = strtol(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || n < 0) {
        pam_syslog(pamh, LOG_ERR, "minimum_uid=: bad value '%s', skipping "
                   "every local account", value);
        args->minimum_uid = LONG_MAX;
        return;
    }
    args->minimum_uid = n;
}

void icsoe_pam_args_parse(pam_handle_t *pamh, int argc, const char **argv,
                          icsoe_pam_args *args)
{
    memset(args, 0, sizeof(*args));
    args->config = ICSOE_CONF_DEFAULT_PATH;
    args->minimum_uid = ICSOE_PAM_DEFAULT_MINIMUM_UID;

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];

        if (a == NULL)
            continue;
        if (strcmp(a, "debug") == 0)
            args->debug = 1;
        else if (strcmp(a, "use_first_pass") == 0)
            args->use_first_pass = 1;
        else if (strcmp(a, "try_first_pass") == 0)
            args->try_first_pass = 1;
        else if (strcmp(a, "use_authtok") == 0)
            args->use_authtok = 1;
        else if (starts_with(a, "config=") && a[7] != '\0')
            args->config = a + 7;
        else if (starts_with(a, "minimum_uid="))
            parse_minimum_uid(pamh, a + 12, args);
        else if (starts_with(a, "contratista="))
            parse_contractors(pamh, a + 12, args);
        else
            pam_syslog(pamh, LOG_ERR, "unknown option '%s' ignored", a);
    }
}

int icsoe_pam_args_has_contractor(const icsoe_pam_args *args, const char *rfc)
{
    for (size_t i = 0; i < args->ncontractors; i++)
        if (strcmp(args->contractors[i], rfc) == 0)
            return 1;
    return 0;
}
