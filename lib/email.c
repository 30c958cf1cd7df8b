/* Email addresses of capturists and contractors.  Deliberately narrower
 * than RFC 5322: no quoted local parts, no comments, no domain literals, no
 * internationalised addresses.  What passes here can go into an SMTP
 * envelope and a mail header without further quoting, and a CR/LF from
 * input can never reach a header. */
#include <string.h>
#include "input.h"

#define EMAIL_LOCAL_MAX 64
#define EMAIL_LABEL_MAX 63

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* RFC 5322 atext. */
static int is_atext(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* dot-atom: atext runs separated by single dots, none at either end. */
static int local_part_ok(const unsigned char *p, size_t n)
{
    if (n == 0 || n > EMAIL_LOCAL_MAX || p[0] == '.' || p[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '.') {
            if (p[i + 1] == '.')
                return 0;
        } else if (!is_atext(p[i])) {
            return 0;
        }
    }
    return 1;
}

/* An LDH label: 1..63 letters, digits and hyphens, no hyphen at an end. */
static int label_ok(const unsigned char *p, size_t n)
{
    if (n == 0 || n > EMAIL_LABEL_MAX || p[0] == '-' || p[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_alpha(p[i]) && !is_digit(p[i]) && p[i] != '-')
            return 0;
    }
    return 1;
}

static int domain_ok(const unsigned char *p, size_t n)
{
    size_t start = 0;
    size_t labels = 0;
    size_t last_start = 0;

    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != '.')
            continue;
        if (!label_ok(p + start, i - start))
            return 0;
        labels++;
        last_start = start;
        start = i + 1;
    }
    if (labels < 2 || n - last_start < 2)
        return 0;
    /* The top-level domain is alphabetic: catches "user@10.0.0.1". */
    for (size_t i = last_start; i < n; i++) {
        if (!is_alpha(p[i]))
            return 0;
    }
    return 1;
}

int icsoe_email_valid(const char *addr)
{
    const unsigned char *p = (const unsigned char *)addr;
    const char *at;
    size_t n;
    size_t local;

    if (addr == NULL)
        return 0;
    n = strnlen(addr, ICSOE_EMAIL_MAX + 1);
    if (n == 0 || n > ICSOE_EMAIL_MAX)
        return 0;
    at = strchr(addr, '@');
    /* '@' is not atext, so a second one is refused by the local part or
     * domain checks; strrchr would be equivalent. */
    if (at == NULL)
        return 0;
    local = (size_t)(at - addr);
    return local_part_ok(p, local) && domain_ok(p + local + 1, n - local - 1);
}
