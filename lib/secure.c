#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "secure.h"

void icsoe_wipe(void *p, size_t n)
{
    if (p != NULL && n > 0)
        explicit_bzero(p, n);
}

void icsoe_free_secret(char *s)
{
    if (s == NULL)
        return;
    icsoe_wipe(s, strlen(s));
    free(s);
}

int icsoe_memeq_ct(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a;
    const volatile unsigned char *y = b;
    unsigned char diff = 0;

    for (size_t i = 0; i < n; i++)
        diff |= x[i] ^ y[i];
    return diff == 0;
}

int icsoe_random(void *buf, size_t n)
{
    unsigned char *p = buf;

    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

/* The symbol of a 6-bit value, as a constant expression. */
#define B64S(v) ((v) < 26 ? 'A' + (v) : (v) < 52 ? 'a' + (v) - 26 : \
                 (v) < 62 ? '0' + (v) - 52 : (v) == 62 ? '-' : '_')
/* The two symbols of each 12-bit value: a group of 3 bytes is 2 lookups
 * instead of 4 (a login seals a ~120-byte cookie; 8 KiB of table).  Only
 * for bytes that are no secret (icsoe_b64url_encode_public): which of its
 * 128 cache lines are touched depends on the data. */
#define B64P(i) { (char)B64S((i) >> 6), (char)B64S((i) & 63) }
#define B64P4(i) B64P(i), B64P((i) + 1), B64P((i) + 2), B64P((i) + 3)
#define B64P16(i) B64P4(i), B64P4((i) + 4), B64P4((i) + 8), B64P4((i) + 12)
#define B64P64(i) B64P16(i), B64P16((i) + 16), B64P16((i) + 32), B64P16((i) + 48)
#define B64P256(i) B64P64(i), B64P64((i) + 64), B64P64((i) + 128), B64P64((i) + 192)
#define B64P1024(i) B64P256(i), B64P256((i) + 256), B64P256((i) + 512), B64P256((i) + 768)
static const char b64url_pairs[4096][2] = {
    B64P1024(0), B64P1024(1024), B64P1024(2048), B64P1024(3072)
};
#undef B64P1024
#undef B64P256
#undef B64P64
#undef B64P16
#undef B64P4
#undef B64P

size_t icsoe_b64url_len(size_t n)
{
    return (n / 3) * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

/* All ones when v > bound, else 0 (v, bound < 2^31), without a branch. */
static unsigned above(unsigned v, unsigned bound)
{
    return 0u - ((bound - v) >> 31);
}

/* The symbol of a 6-bit value computed, not looked up: no memory access
 * depends on v.  'A' + v, moved on by the distance to the next range for
 * each range boundary v has passed ('a' at 26, '0' at 52, '-', '_'). */
static char b64url_symbol(unsigned v)
{
    unsigned c = 'A' + v;

    c += above(v, 25) & (unsigned)('a' - 26 - 'A');
    c += above(v, 51) & (unsigned)(('0' - 52) - ('a' - 26));
    c += above(v, 61) & (unsigned)('-' - ('0' + 10));
    c += above(v, 62) & (unsigned)('_' - ('-' + 1));
    return (char)c;
}

/* Tokens and CSRF values are secrets: their encoding indexes no table, so
 * the cache lines touched say nothing about them (the pair table below
 * spans 128 lines, which would). */
void icsoe_b64url_encode(const unsigned char *in, size_t n, char *out)
{
    size_t i = 0;
    char *o = out;

    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];

        *o++ = b64url_symbol(v >> 18);
        *o++ = b64url_symbol((v >> 12) & 63);
        *o++ = b64url_symbol((v >> 6) & 63);
        *o++ = b64url_symbol(v & 63);
    }
    if (n - i >= 1) {
        unsigned v = (unsigned)in[i] << 16 | (n - i == 2 ? (unsigned)in[i + 1] << 8 : 0u);

        *o++ = b64url_symbol(v >> 18);
        *o++ = b64url_symbol((v >> 12) & 63);
        if (n - i == 2)
            *o++ = b64url_symbol((v >> 6) & 63);
    }
    *o = '\0';
}

void icsoe_b64url_encode_public(const unsigned char *in, size_t n, char *out)
{
    size_t i = 0;
    char *o = out;

    for (; i + 3 <= n; i += 3, o += 4) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];

        memcpy(o, b64url_pairs[v >> 12], 2);
        memcpy(o + 2, b64url_pairs[v & 0xfff], 2);
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 4;

        memcpy(o, b64url_pairs[v], 2);
        o += 2;
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;

        memcpy(o, b64url_pairs[v >> 12], 2);
        o[2] = (char)B64S((v >> 6) & 63);
        o += 3;
    }
    *o = '\0';
}

/* Symbol values + 1 (0 = not in the alphabet): a table lookup per
 * character, as every protected request decodes its session cookie. */
#define B64V(c, v) [(unsigned char)(c)] = (v) + 1
static const unsigned char b64url_table[256] = {
    B64V('A', 0), B64V('B', 1), B64V('C', 2), B64V('D', 3), B64V('E', 4),
    B64V('F', 5), B64V('G', 6), B64V('H', 7), B64V('I', 8), B64V('J', 9),
    B64V('K', 10), B64V('L', 11), B64V('M', 12), B64V('N', 13), B64V('O', 14),
    B64V('P', 15), B64V('Q', 16), B64V('R', 17), B64V('S', 18), B64V('T', 19),
    B64V('U', 20), B64V('V', 21), B64V('W', 22), B64V('X', 23), B64V('Y', 24),
    B64V('Z', 25), B64V('a', 26), B64V('b', 27), B64V('c', 28), B64V('d', 29),
    B64V('e', 30), B64V('f', 31), B64V('g', 32), B64V('h', 33), B64V('i', 34),
    B64V('j', 35), B64V('k', 36), B64V('l', 37), B64V('m', 38), B64V('n', 39),
    B64V('o', 40), B64V('p', 41), B64V('q', 42), B64V('r', 43), B64V('s', 44),
    B64V('t', 45), B64V('u', 46), B64V('v', 47), B64V('w', 48), B64V('x', 49),
    B64V('y', 50), B64V('z', 51), B64V('0', 52), B64V('1', 53), B64V('2', 54),
    B64V('3', 55), B64V('4', 56), B64V('5', 57), B64V('6', 58), B64V('7', 59),
    B64V('8', 60), B64V('9', 61), B64V('-', 62), B64V('_', 63),
};
#undef B64V

static int b64url_value(unsigned char c)
{
    return (int)b64url_table[c] - 1;
}

long icsoe_b64url_decode(const char *in, size_t inlen, unsigned char *out,
                         size_t outmax)
{
    size_t outlen = 0;
    unsigned acc = 0;
    int bits = 0;

    size_t i = 0;

    if (inlen % 4 == 1)
        return -1;
    /* whole groups of 4 characters -> 3 bytes (a cookie opened on every
     * request: a third of the per-character work of the loop below) */
    for (; i + 4 <= inlen && outlen + 3 <= outmax; i += 4) {
        int a = b64url_value((unsigned char)in[i]);
        int b = b64url_value((unsigned char)in[i + 1]);
        int c = b64url_value((unsigned char)in[i + 2]);
        int d = b64url_value((unsigned char)in[i + 3]);
        unsigned v;

        if ((a | b | c | d) < 0)
            return -1;
        v = ((unsigned)a << 18) | ((unsigned)b << 12) | ((unsigned)c << 6) | (unsigned)d;
        out[outlen++] = (unsigned char)(v >> 16);
        out[outlen++] = (unsigned char)(v >> 8);
        out[outlen++] = (unsigned char)v;
    }
    for (; i < inlen; i++) {
        int v = b64url_value((unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (outlen >= outmax)
                return -1;
            out[outlen++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* Canonical encoding only: leftover bits must be zero. */
    if (acc != 0)
        return -1;
    return (long)outlen;
}
