/* application/x-www-form-urlencoded bodies (the login, activation and
 * selection forms).  Strict: a malformed escape, a NUL, a repeated name or
 * too many fields rejects the whole body rather than guessing, because a
 * guess is where parameter-pollution bugs live. */
#include <stdlib.h>
#include <string.h>
#include "input.h"
#include "secure.h"

/* Decode s[0..n) into out, NUL-terminated; returns the byte after the NUL,
 * or NULL on a bad escape or a NUL byte (raw or encoded).  Never writes
 * more than n + 1 bytes.  Runs of plain bytes are copied whole (a CSRF
 * token has no escapes at all). */
static char *form_decode(const char *s, size_t n, char *out)
{
    size_t i = 0, o = 0;

    while (i < n) {
        size_t run = i;
        int hi, lo;

        while (run < n && s[run] != '%' && s[run] != '+' && s[run] != '\0')
            run++;
        memcpy(out + o, s + i, run - i);
        o += run - i;
        i = run;
        if (i == n)
            break;
        if (s[i] == '\0')
            return NULL;
        if (s[i] == '+') {
            out[o++] = ' ';
            i++;
            continue;
        }
        hi = i + 2 < n ? icsoe_hex_value((unsigned char)s[i + 1]) : -1;
        lo = i + 2 < n ? icsoe_hex_value((unsigned char)s[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            return NULL;
        out[o++] = (char)(hi << 4 | lo);
        i += 3;
    }
    out[o] = '\0';
    return out + o + 1;
}

/* One "name=value" pair, decoded at *next (which moves past it).  0 on
 * success, -1 if malformed. */
static int form_add_pair(icsoe_form *f, const char *p, size_t n, char **next)
{
    const char *eq = memchr(p, '=', n);
    char *name = *next;
    char *value;

    /* Browsers always send "name=value"; an empty pair ("a=1&&b=2"), a
     * missing '=' or an empty name is not something a form of ours makes. */
    if (eq == NULL || eq == p || f->n >= ICSOE_FORM_MAX_FIELDS)
        return -1;
    value = form_decode(p, (size_t)(eq - p), name);
    if (value == NULL)
        return -1;
    *next = form_decode(eq + 1, n - (size_t)(eq - p) - 1, value);
    if (*next == NULL || icsoe_form_get(f, name) != NULL)
        return -1;
    f->name[f->n] = name;
    f->value[f->n] = value;
    f->n++;
    return 0;
}

/* All names and values go into one block of len + 1 bytes (one malloc,
 * one wipe and one free a form, instead of two of each a field): a pair
 * "n=v" and its '&' take as many bytes encoded as "n\0v\0" decoded, and
 * decoding never lengthens, so len + 1 always holds the last pair too. */
int icsoe_form_parse(const char *body, size_t len, size_t maxlen, icsoe_form *f)
{
    size_t start = 0;
    char *next;

    if (f == NULL)
        return -1;
    memset(f, 0, sizeof(*f));
    if (len > maxlen || (body == NULL && len > 0))
        return -1;
    if (len == 0)
        return 0;
    f->buf = malloc(len + 1);
    if (f->buf == NULL)
        return -1;
    f->bufsz = len + 1;
    next = f->buf;
    while (start <= len) {
        const char *amp = memchr(body + start, '&', len - start);
        size_t end = amp != NULL ? (size_t)(amp - body) : len;
        if (form_add_pair(f, body + start, end - start, &next) != 0)
            goto fail;
        start = end + 1;
    }
    return 0;

fail:
    icsoe_form_free(f);
    return -1;
}

const char *icsoe_form_get(const icsoe_form *f, const char *name)
{
    if (f == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < f->n && i < ICSOE_FORM_MAX_FIELDS; i++) {
        if (strcmp(f->name[i], name) == 0)
            return f->value[i];
    }
    return NULL;
}

void icsoe_form_free(icsoe_form *f)
{
    if (f == NULL)
        return;
    if (f->buf != NULL) {
        icsoe_wipe(f->buf, f->bufsz);
        free(f->buf);
    }
    memset(f, 0, sizeof(*f));
}
