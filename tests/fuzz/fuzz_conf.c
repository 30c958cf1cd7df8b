/* Fuzz target: the icsoe.conf parser (lib/conf.c).  conf.h has no
 * from-buffer entry, so the input goes into a memfd and is loaded through
 * its /proc/self/fd path (no file on disk, nothing left behind).
 * Invariants: a refused file gives a message that starts with the file
 * name (so the admin knows where to look); an accepted one has 1..8 LDAP
 * URIs with an LDAP scheme, a base, every number within its documented
 * range, min <= max password length, binddn and bindpw_file together, a
 * secret for every secret file, URLs with the right scheme. */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>
#include "fuzz.h"
#include "conf.h"

static int has_prefix(const char *s, const char *const *prefixes)
{
    if (s == NULL)
        return 1; /* optional keys */
    for (; *prefixes != NULL; prefixes++) {
        if (strncmp(s, *prefixes, strlen(*prefixes)) == 0)
            return 1;
    }
    return 0;
}

static void check_loaded(const icsoe_conf *c, const char *path)
{
    static const char *const ldap[] = { "ldap://", "ldaps://", "ldapi://", NULL };
    static const char *const smtp[] = { "smtp://", "smtps://", NULL };
    static const char *const http[] = { "https://", "http://", NULL };

    FUZZ_CHECK(c->path != NULL && strcmp(c->path, path) == 0);
    FUZZ_CHECK(c->nuri >= 1 && c->nuri <= ICSOE_CONF_MAX_URIS);
    for (size_t i = 0; i < c->nuri; i++)
        FUZZ_CHECK(c->uri[i] != NULL && has_prefix(c->uri[i], ldap));
    FUZZ_CHECK(c->base != NULL);
    FUZZ_CHECK(c->timeout >= 1 && c->timeout <= 300);
    FUZZ_CHECK(c->smtp_timeout >= 1 && c->smtp_timeout <= 300);
    FUZZ_CHECK(c->token_lifetime >= 300 && c->token_lifetime <= 30 * 86400);
    FUZZ_CHECK(c->reset_token_lifetime >= 300 && c->reset_token_lifetime <= 7 * 86400);
    FUZZ_CHECK(c->recover_interval >= 0 && c->recover_interval <= 86400);
    FUZZ_CHECK(c->pwpolicy.min_length >= 8 && c->pwpolicy.min_length <= c->pwpolicy.max_length);
    FUZZ_CHECK(c->pwpolicy.max_length <= 1024);
    FUZZ_CHECK(c->pwpolicy.classes <= 15);
    FUZZ_CHECK((int)c->tls_reqcert >= 0 && c->tls_reqcert <= ICSOE_TLS_REQCERT_NEVER);
    FUZZ_CHECK((int)c->ldap_starttls >= 0 && c->ldap_starttls <= ICSOE_STARTTLS_REQUIRED);
    FUZZ_CHECK((int)c->smtp_starttls >= 0 && c->smtp_starttls <= ICSOE_STARTTLS_REQUIRED);
    FUZZ_CHECK((c->binddn == NULL) == (c->bindpw_file == NULL));
    FUZZ_CHECK((c->bindpw == NULL) == (c->bindpw_file == NULL));
    FUZZ_CHECK((c->smtp_pass == NULL) == (c->smtp_pass_file == NULL));
    FUZZ_CHECK(c->smtp_user == NULL || c->smtp_pass_file != NULL);
    FUZZ_CHECK(has_prefix(c->smtp_url, smtp));
    FUZZ_CHECK(has_prefix(c->activation_url, http));
    FUZZ_CHECK(has_prefix(c->login_url, http));
    FUZZ_CHECK(c->site_name != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], err[512];
    icsoe_conf *c;
    size_t done = 0;
    int fd;

    /* Device and proc paths in a secret or blocklist key could block on
     * a FIFO or read forever: not the parser's business, and not a file
     * an administrator writes. */
    if (memmem(data, size, "/dev", 4) != NULL || memmem(data, size, "/proc", 5) != NULL ||
        memmem(data, size, "/sys", 4) != NULL)
        return 0;
    fd = memfd_create("icsoe.conf", MFD_CLOEXEC);
    FUZZ_CHECK(fd >= 0);
    while (done < size) {
        ssize_t w = write(fd, data + done, size - done);
        FUZZ_CHECK(w > 0);
        done += (size_t)w;
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    memset(err, 0, sizeof(err));
    c = icsoe_conf_load(path, err, sizeof(err));
    if (c == NULL) {
        FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0);
        FUZZ_CHECK(err[strlen(path)] == ':');
    } else {
        check_loaded(c, path);
        icsoe_conf_free(c);
    }
    close(fd);
    return 0;
}
