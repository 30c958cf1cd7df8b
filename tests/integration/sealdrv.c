/* sealdrv: seal or open an ICSOE session cookie from the command line, so
 * the Apache tests (and bench/p1_protected) can hold a logged-in session
 * without going through the login page, and can look inside the cookies
 * the module issues.
 *
 *   sealdrv seal --key FILE [--key FILE...] --site NAME [--curp CURP]
 *                [--name TEXT] [--rfc RFC] [--contractor-name TEXT]
 *                [--epoch N] [--issued T] [--last-seen T] [--validated T]
 *       prints the cookie value (times default to now; T may be "now-120")
 *   sealdrv open --key FILE [--key FILE...] --site NAME COOKIE
 *       prints key=value lines (curp, name, rfc, contractor_name, epoch,
 *       issued, last_seen, validated); exit 1 when it does not open
 *
 * Exit status: 0 ok, 1 refused/failed, 2 usage. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "session.h"
#include "secure.h"

#define MAX_KEYS 8

typedef struct args {
    const char *mode;
    const char *keys[MAX_KEYS];
    size_t nkeys;
    const char *site;
    const char *curp;
    const char *name;
    const char *rfc;
    const char *contractor_name;
    const char *epoch;
    const char *issued;
    const char *last_seen;
    const char *validated;
    const char *cookie;
} args;

static int usage(void)
{
    fprintf(stderr, "usage: sealdrv seal|open --key FILE --site NAME "
                    "[options] [COOKIE]\n");
    return 2;
}

/* "123", "now", "now-120", "now+30" -> seconds since the epoch */
static int parse_time(const char *s, int64_t now, int64_t *out)
{
    char *end = NULL;
    long long v;

    if (strncmp(s, "now", 3) == 0) {
        if (s[3] == '\0') {
            *out = now;
            return 0;
        }
        errno = 0;
        v = strtoll(s + 3, &end, 10);
        if (errno || end == s + 3 || *end != '\0')
            return -1;
        *out = now + v;
        return 0;
    }
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int copy_field(char *dst, size_t cap, const char *src, const char *what)
{
    size_t n = strlen(src);

    if (n >= cap) {
        fprintf(stderr, "sealdrv: %s too long\n", what);
        return -1;
    }
    memcpy(dst, src, n + 1);
    return 0;
}

static int parse_args(int argc, char **argv, args *a)
{
    int i;

    memset(a, 0, sizeof(*a));
    if (argc < 2)
        return -1;
    a->mode = argv[1];
    for (i = 2; i < argc; i++) {
        const char *opt = argv[i];
        const char **slot = NULL;

        if (opt[0] != '-') {
            if (a->cookie)
                return -1;
            a->cookie = opt;
            continue;
        }
        if (i + 1 >= argc)
            return -1;
        if (strcmp(opt, "--key") == 0) {
            if (a->nkeys == MAX_KEYS)
                return -1;
            a->keys[a->nkeys++] = argv[++i];
            continue;
        }
        if (strcmp(opt, "--site") == 0)
            slot = &a->site;
        else if (strcmp(opt, "--curp") == 0)
            slot = &a->curp;
        else if (strcmp(opt, "--name") == 0)
            slot = &a->name;
        else if (strcmp(opt, "--rfc") == 0)
            slot = &a->rfc;
        else if (strcmp(opt, "--contractor-name") == 0)
            slot = &a->contractor_name;
        else if (strcmp(opt, "--epoch") == 0)
            slot = &a->epoch;
        else if (strcmp(opt, "--issued") == 0)
            slot = &a->issued;
        else if (strcmp(opt, "--last-seen") == 0)
            slot = &a->last_seen;
        else if (strcmp(opt, "--validated") == 0)
            slot = &a->validated;
        else
            return -1;
        *slot = argv[++i];
    }
    return (a->nkeys > 0 && a->site) ? 0 : -1;
}

static int do_seal(const args *a, const icsoe_keyring *kr)
{
    icsoe_session s;
    int64_t now = (int64_t)time(NULL);
    char out[ICSOE_SESSION_MAX_COOKIE + 1];
    int rc = 1;

    if (icsoe_session_start(&s, now) != 0)
        return 1;
    if ((a->curp && copy_field(s.curp, sizeof(s.curp), a->curp, "curp")) ||
        (a->name && copy_field(s.name, sizeof(s.name), a->name, "name")) ||
        (a->rfc && copy_field(s.rfc, sizeof(s.rfc), a->rfc, "rfc")) ||
        (a->contractor_name &&
         copy_field(s.contractor_name, sizeof(s.contractor_name),
                    a->contractor_name, "contractor name")))
        goto out;
    if ((a->issued && parse_time(a->issued, now, &s.issued)) ||
        (a->last_seen && parse_time(a->last_seen, now, &s.last_seen)) ||
        (a->validated && parse_time(a->validated, now, &s.validated)) ||
        (a->epoch && parse_time(a->epoch, now, &s.epoch))) {
        fprintf(stderr, "sealdrv: bad number\n");
        goto out;
    }
    if (icsoe_session_seal(kr, &s, a->site, out, sizeof(out)) == 0) {
        fprintf(stderr, "sealdrv: seal failed\n");
        goto out;
    }
    printf("%s\n", out);
    rc = 0;
out:
    icsoe_wipe(&s, sizeof(s));
    return rc;
}

static int do_open(const args *a, const icsoe_keyring *kr)
{
    icsoe_session s;
    icsoe_status st;
    char token[32];

    if (!a->cookie)
        return 2;
    st = icsoe_session_open(kr, a->cookie, strlen(a->cookie), a->site, &s);
    if (st != ICSOE_OK) {
        fprintf(stderr, "sealdrv: %s\n", icsoe_status_name(st));
        return 1;
    }
    /* the form token of the session (what its login page would carry):
     * lets a benchmark POST with a pre-login cookie no Apache has seen */
    icsoe_session_csrf_token(&s, token);
    printf("curp=%s\nname=%s\nrfc=%s\ncontractor_name=%s\nepoch=%" PRId64
           "\nissued=%" PRId64 "\nlast_seen=%" PRId64 "\nvalidated=%" PRId64
           "\ncsrf_token=%s\n", s.curp, s.name, s.rfc, s.contractor_name, s.epoch,
           s.issued, s.last_seen, s.validated, token);
    icsoe_wipe(&s, sizeof(s));
    return 0;
}

int main(int argc, char **argv)
{
    args a;
    icsoe_keyring *kr = NULL;
    char err[512];
    size_t i;
    int rc = 1;

    if (parse_args(argc, argv, &a) != 0)
        return usage();
    kr = icsoe_keyring_new();
    if (!kr)
        return 1;
    for (i = 0; i < a.nkeys; i++) {
        if (icsoe_keyring_add_file(kr, a.keys[i], err, sizeof(err)) != 0) {
            fprintf(stderr, "sealdrv: %s\n", err);
            goto out;
        }
    }
    if (strcmp(a.mode, "seal") == 0)
        rc = do_seal(&a, kr);
    else if (strcmp(a.mode, "open") == 0)
        rc = do_open(&a, kr);
    else
        rc = usage();
out:
    icsoe_keyring_free(kr);
    return rc;
}
