/* Return paths ("?r=/informativa/x" on the login page): the open-redirect
 * defence.  Only a same-site absolute path may come back from the client.
 *
 * Browsers are lenient in ways that turn innocent-looking paths into other
 * hosts: "//evil" and "/\evil" are network paths, tabs and newlines are
 * silently removed ("/\t/evil" becomes "//evil"), and some back ends decode
 * percent escapes before routing.  So the path is checked raw and again
 * after each round of percent-decoding (double encoding included). */
#include <string.h>
#include "input.h"

/* Rounds of percent-decoding checked ("%25252F" is still caught). */
#define RETURN_PATH_DECODE_ROUNDS 3

/* The rules every form of the path must meet: one leading '/', not
 * followed by '/' or '\\', no control characters (a decoded space is
 * fine: "%20" is how a space travels). */
static int path_shape_ok(const unsigned char *p, size_t n)
{
    if (n == 0 || p[0] != '/')
        return 0;
    if (n > 1 && (p[1] == '/' || p[1] == '\\'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f)
            return 0;
    }
    return 1;
}

/* Decode one round of %XX from in into out (out has room for n bytes).
 * strict: a '%' not followed by two hex digits is an error (first round,
 * as the client sent it); later rounds keep such a '%' literally because
 * "%25zz" legitimately decodes to "%zz".  Returns the length or -1. */
static long percent_decode(const unsigned char *in, size_t n,
                           unsigned char *out, int strict)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        int hi = -1;
        int lo = -1;
        if (in[i] == '%' && i + 2 < n) {
            hi = icsoe_hex_value(in[i + 1]);
            lo = icsoe_hex_value(in[i + 2]);
        }
        if (in[i] == '%' && (hi < 0 || lo < 0) && strict)
            return -1;
        if (in[i] == '%' && hi >= 0 && lo >= 0) {
            out[o++] = (unsigned char)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    return (long)o;
}

/* The raw form, as it will appear in a Location header. */
static int raw_path_ok(const unsigned char *p, size_t n)
{
    if (!path_shape_ok(p, n))
        return 0;
    for (size_t i = 0; i < n; i++) {
        /* Raw spaces, backslashes and non-ASCII bytes never appear in a
         * URL our own pages build: they are percent-encoded. */
        if (p[i] == ' ' || p[i] == '\\' || p[i] >= 0x80)
            return 0;
    }
    return 1;
}

int icsoe_return_path_ok(const char *path)
{
    unsigned char a[ICSOE_RETURN_PATH_MAX];
    unsigned char b[ICSOE_RETURN_PATH_MAX];
    const unsigned char *cur = (const unsigned char *)path;
    unsigned char *next = a;
    size_t n;

    if (path == NULL)
        return 0;
    n = strnlen(path, ICSOE_RETURN_PATH_MAX + 1);
    if (n > ICSOE_RETURN_PATH_MAX || !raw_path_ok(cur, n))
        return 0;
    for (int round = 0; round < RETURN_PATH_DECODE_ROUNDS; round++) {
        long m = percent_decode(cur, n, next, round == 0);
        if (m < 0 || !path_shape_ok(next, (size_t)m))
            return 0;
        if ((size_t)m == n)
            break; /* nothing left to decode */
        n = (size_t)m;
        cur = next;
        next = next == a ? b : a;
    }
    return 1;
}
