/* Fuzz target: email address check (lib/email.c).
 * Invariants for an accepted address: at most ICSOE_EMAIL_MAX bytes, one
 * '@' splitting a dot-atom local part (no leading, trailing or double dot)
 * from a domain of LDH labels (1..63 bytes, no leading or trailing '-')
 * with at least one dot; nothing outside printable ASCII, no space, no
 * CR/LF (so it can never inject a mail header), no '[' (no IP literals). */
#include "fuzz.h"
#include "input.h"

static int atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static int ldh(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-';
}

static void check_accepted(const char *addr)
{
    size_t n = strlen(addr);
    const char *at = strchr(addr, '@');
    const char *domain, *label;
    size_t local_len, dots = 0;

    FUZZ_CHECK(n <= ICSOE_EMAIL_MAX);
    FUZZ_CHECK(at != NULL && strchr(at + 1, '@') == NULL);
    local_len = (size_t)(at - addr);
    FUZZ_CHECK(local_len >= 1 && local_len <= 64);
    FUZZ_CHECK(addr[0] != '.' && at[-1] != '.');
    for (size_t i = 0; i < local_len; i++) {
        unsigned char c = (unsigned char)addr[i];
        FUZZ_CHECK(atext(c) || (c == '.' && addr[i + 1] != '.'));
    }
    domain = at + 1;
    label = domain;
    for (const char *p = domain;; p++) {
        if (*p == '.' || *p == '\0') {
            size_t len = (size_t)(p - label);
            FUZZ_CHECK(len >= 1 && len <= 63);
            FUZZ_CHECK(label[0] != '-' && p[-1] != '-');
            if (*p == '\0')
                break;
            dots++;
            label = p + 1;
            continue;
        }
        FUZZ_CHECK(ldh((unsigned char)*p));
    }
    FUZZ_CHECK(dots >= 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *addr = fuzz_cstr(data, size);
    int ok = icsoe_email_valid(addr);

    FUZZ_CHECK(ok == 0 || ok == 1);
    if (ok)
        check_accepted(addr);
    free(addr);
    return 0;
}
