/* TZif (RFC 8536) reader: enough of a zone to write a local time.
 *
 * The file comes from the system (root-owned tzdata), but it is parsed as
 * untrusted input anyway: every count is bounded, every index checked
 * against its table, every abbreviation must end inside the file.  Only
 * what a local time needs is kept: transition times, the type of each,
 * and per type the offset, the DST flag and the abbreviation. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "tz.h"

#define TZ_FILE_MAX (256 * 1024)
#define TZ_TIMECNT_MAX 4096
#define TZ_TYPECNT_MAX 256
#define TZ_CHARCNT_MAX 1024
#define TZ_LEAPCNT_MAX 64
#define TZ_HEADER 44

typedef struct tz_type {
    long utoff;                 /* seconds east of UTC */
    int isdst;
    char abbr[ICSOE_TZ_ABBR_MAX];
} tz_type;

struct icsoe_tz {
    char name[ICSOE_TZ_NAME_MAX + 1];
    size_t ntrans;
    int64_t *trans;             /* ascending */
    unsigned char *idx;         /* type of each transition */
    size_t ntypes;
    tz_type *types;
    int has_footer;             /* footer without DST: used after the last transition */
    tz_type footer;
};

typedef struct tz_header {
    char version;
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tz_header;

static uint32_t be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static int64_t be64(const unsigned char *p)
{
    uint64_t v = ((uint64_t)be32(p) << 32) | be32(p + 4);
    return (int64_t)v;
}

void icsoe_tz_free(icsoe_tz *z)
{
    if (z == NULL)
        return;
    free(z->trans);
    free(z->idx);
    free(z->types);
    free(z);
}

const char *icsoe_tz_name(const icsoe_tz *z)
{
    return z != NULL ? z->name : "";
}

static int read_header(const unsigned char *d, size_t len, size_t off, tz_header *h)
{
    if (len < TZ_HEADER || off > len - TZ_HEADER || memcmp(d + off, "TZif", 4) != 0)
        return -1;
    h->version = (char)d[off + 4];
    h->isutcnt = be32(d + off + 20);
    h->isstdcnt = be32(d + off + 24);
    h->leapcnt = be32(d + off + 28);
    h->timecnt = be32(d + off + 32);
    h->typecnt = be32(d + off + 36);
    h->charcnt = be32(d + off + 40);
    if (h->typecnt == 0 || h->typecnt > TZ_TYPECNT_MAX || h->timecnt > TZ_TIMECNT_MAX ||
        h->charcnt == 0 || h->charcnt > TZ_CHARCNT_MAX || h->leapcnt > TZ_LEAPCNT_MAX ||
        (h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
        (h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
        return -1;
    return 0;
}

/* Bytes of the data block after a header, for 4- or 8-byte times. */
static size_t block_size(const tz_header *h, size_t timesize)
{
    return (size_t)h->timecnt * timesize + h->timecnt + (size_t)h->typecnt * 6 +
           h->charcnt + (size_t)h->leapcnt * (timesize + 4) + h->isstdcnt + h->isutcnt;
}

static int read_types(icsoe_tz *z, const tz_header *h, const unsigned char *types,
                      const unsigned char *chars)
{
    z->ntypes = h->typecnt;
    z->types = calloc(z->ntypes, sizeof(*z->types));
    if (z->types == NULL)
        return -1;
    for (size_t i = 0; i < z->ntypes; i++) {
        const unsigned char *t = types + 6 * i;
        int32_t off = (int32_t)be32(t);
        size_t at = t[5], n;

        if (t[4] > 1 || at >= h->charcnt || off < -25 * 3600 || off > 26 * 3600)
            return -1;
        n = strnlen((const char *)chars + at, h->charcnt - at);
        if (at + n >= h->charcnt || n >= ICSOE_TZ_ABBR_MAX)
            return -1; /* not terminated inside the table, or too long */
        z->types[i].utoff = off;
        z->types[i].isdst = t[4];
        memcpy(z->types[i].abbr, chars + at, n);
        for (size_t k = 0; k < n; k++) {
            unsigned char c = (unsigned char)z->types[i].abbr[k];
            if (c < 0x20 || c > 0x7e)
                return -1; /* it goes into a mail */
        }
    }
    return 0;
}

static int read_block(icsoe_tz *z, const tz_header *h, const unsigned char *b,
                      size_t timesize)
{
    const unsigned char *idx = b + (size_t)h->timecnt * timesize;
    const unsigned char *types = idx + h->timecnt;
    const unsigned char *chars = types + (size_t)h->typecnt * 6;

    z->ntrans = h->timecnt;
    if (z->ntrans > 0) {
        z->trans = calloc(z->ntrans, sizeof(*z->trans));
        z->idx = calloc(z->ntrans, 1);
        if (z->trans == NULL || z->idx == NULL)
            return -1;
    }
    for (size_t i = 0; i < z->ntrans; i++) {
        z->trans[i] = timesize == 8 ? be64(b + 8 * i) : (int32_t)be32(b + 4 * i);
        z->idx[i] = idx[i];
        if (idx[i] >= h->typecnt || (i > 0 && z->trans[i] <= z->trans[i - 1]))
            return -1;
    }
    return read_types(z, h, types, chars);
}

/* [+-]hh[:mm[:ss]] of a POSIX TZ string; *secs is the POSIX value (west
 * positive).  Returns the characters read, 0 if none. */
static size_t posix_offset(const char *s, long *secs)
{
    size_t i = 0;
    long sign = 1, part[3] = { 0, 0, 0 };
    int nparts = 0;

    if (s[i] == '+' || s[i] == '-')
        sign = s[i++] == '-' ? -1 : 1;
    while (nparts < 3) {
        size_t start = i;
        long v = 0;
        while (s[i] >= '0' && s[i] <= '9' && i - start < 3)
            v = v * 10 + (s[i++] - '0');
        if (i == start)
            return nparts == 0 ? 0 : i - 1; /* a ':' without digits */
        part[nparts++] = v;
        if (s[i] != ':')
            break;
        i++;
    }
    if (part[0] > 24 || part[1] > 59 || part[2] > 59)
        return 0;
    *secs = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
    return i;
}

/* The footer "STDoffset" (no DST part) becomes z->footer; anything else
 * (a DST rule, or no footer) leaves has_footer 0. */
static void read_footer(icsoe_tz *z, const char *s, size_t len)
{
    char buf[128];
    size_t i = 0, n = 0, used;
    long secs = 0;

    if (len < 2 || len >= sizeof(buf) || s[0] != '\n' || s[len - 1] != '\n')
        return;
    memcpy(buf, s + 1, len - 2);
    buf[len - 2] = '\0';
    if (buf[0] == '<') {
        for (i = 1; buf[i] != '\0' && buf[i] != '>'; i++)
            ;
        if (buf[i] != '>')
            return;
        n = i - 1;
        memmove(buf, buf + 1, n); /* the name, without the brackets */
        i++;
    } else {
        while ((buf[i] >= 'A' && buf[i] <= 'Z') || (buf[i] >= 'a' && buf[i] <= 'z'))
            i++;
        n = i;
    }
    if (n < 3 || n >= ICSOE_TZ_ABBR_MAX)
        return;
    used = posix_offset(buf + i, &secs);
    if (used == 0 || buf[i + used] != '\0')
        return; /* no offset, or a DST rule follows */
    memcpy(z->footer.abbr, buf, n);
    z->footer.abbr[n] = '\0';
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)z->footer.abbr[k];
        if (c < 0x20 || c > 0x7e)
            return;
    }
    z->footer.utoff = -secs;
    z->footer.isdst = 0;
    z->has_footer = 1;
}

icsoe_tz *icsoe_tz_parse(const unsigned char *d, size_t len, char *err, size_t errlen)
{
    icsoe_tz *z = calloc(1, sizeof(*z));
    tz_header h;
    size_t off = 0, timesize = 4, v1;

    if (z == NULL) {
        icsoe_set_err(err, errlen, "out of memory");
        return NULL;
    }
    if (read_header(d, len, 0, &h) != 0)
        goto bad;
    if (h.version >= '2') {
        /* skip the 32-bit data: the 64-bit block and the footer follow */
        v1 = block_size(&h, 4);
        if (v1 > len - TZ_HEADER)
            goto bad;
        off = TZ_HEADER + v1;
        if (read_header(d, len, off, &h) != 0)
            goto bad;
        timesize = 8;
    }
    if (block_size(&h, timesize) > len - off - TZ_HEADER)
        goto bad;
    if (read_block(z, &h, d + off + TZ_HEADER, timesize) != 0)
        goto bad;
    off += TZ_HEADER + block_size(&h, timesize);
    if (timesize == 8 && off < len)
        read_footer(z, (const char *)d + off, len - off);
    return z;
bad:
    icsoe_set_err(err, errlen, "not a valid TZif time zone file");
    icsoe_tz_free(z);
    return NULL;
}

icsoe_tz *icsoe_tz_utc(void)
{
    icsoe_tz *z = calloc(1, sizeof(*z));

    if (z == NULL)
        return NULL;
    z->types = calloc(1, sizeof(*z->types));
    if (z->types == NULL) {
        free(z);
        return NULL;
    }
    z->ntypes = 1;
    snprintf(z->types[0].abbr, sizeof(z->types[0].abbr), "UTC");
    snprintf(z->name, sizeof(z->name), "UTC");
    return z;
}

/* A relative path of plain components: no "..", no absolute path, no
 * characters a zone name never has. */
static int name_ok(const char *name)
{
    size_t n = strnlen(name, ICSOE_TZ_NAME_MAX + 1);
    const char *comp = name;

    if (n == 0 || n > ICSOE_TZ_NAME_MAX)
        return 0;
    for (size_t i = 0; i <= n; i++) {
        char c = name[i];
        if (c == '/' || c == '\0') {
            size_t clen = (size_t)(name + i - comp);
            if (clen == 0 || comp[0] == '.')
                return 0; /* empty, ".", ".." or a hidden file */
            comp = name + i + 1;
            continue;
        }
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '+' || c == '.'))
            return 0;
    }
    return 1;
}

static unsigned char *read_zone_file(const char *path, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    unsigned char *buf = NULL;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

    if (fd < 0) {
        icsoe_set_err(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        st.st_size > TZ_FILE_MAX) {
        icsoe_set_err(err, errlen, "%s: not a time zone file", path);
        goto out;
    }
    buf = malloc((size_t)st.st_size);
    if (buf == NULL) {
        icsoe_set_err(err, errlen, "out of memory");
        goto out;
    }
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            icsoe_set_err(err, errlen, "%s: read error", path);
            free(buf);
            buf = NULL;
            goto out;
        }
        got += (size_t)r;
    }
    *len = got;
out:
    close(fd);
    return buf;
}

icsoe_tz *icsoe_tz_load(const char *name, char *err, size_t errlen)
{
    char path[sizeof(ICSOE_TZ_DIR) + ICSOE_TZ_NAME_MAX + 2];
    char why[256] = "";
    unsigned char *data;
    size_t len = 0;
    icsoe_tz *z;

    if (name == NULL || !name_ok(name)) {
        icsoe_set_err(err, errlen, "'%s' is not a time zone name (e.g. America/Mexico_City)",
                      name != NULL ? name : "");
        return NULL;
    }
    snprintf(path, sizeof(path), "%s/%s", ICSOE_TZ_DIR, name);
    data = read_zone_file(path, &len, why, sizeof(why));
    if (data == NULL) {
        icsoe_set_err(err, errlen, "unknown time zone '%s' (%s; is tzdata installed?)",
                      name, why);
        return NULL;
    }
    z = icsoe_tz_parse(data, len, why, sizeof(why));
    free(data);
    if (z == NULL) {
        icsoe_set_err(err, errlen, "time zone '%s': %s: %s", name, path, why);
        return NULL;
    }
    snprintf(z->name, sizeof(z->name), "%s", name);
    return z;
}

static const tz_type *type_at(const icsoe_tz *z, time_t t)
{
    size_t lo = 0, hi = z->ntrans;

    if (z->ntrans == 0 || (int64_t)t < z->trans[0])
        return z->ntrans == 0 && z->has_footer ? &z->footer : &z->types[0];
    /* the last transition at or before t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->trans[mid] <= (int64_t)t)
            lo = mid;
        else
            hi = mid;
    }
    if (lo == z->ntrans - 1 && z->has_footer)
        return &z->footer;
    return &z->types[z->idx[lo]];
}

int icsoe_tz_local(const icsoe_tz *z, time_t t, struct tm *out, long *utoff,
                   char *abbr, size_t abbrlen)
{
    const tz_type *ty;
    time_t local;

    if (z == NULL || out == NULL || z->ntypes == 0)
        return -1;
    ty = type_at(z, t);
    if (__builtin_add_overflow(t, (time_t)ty->utoff, &local) || gmtime_r(&local, out) == NULL)
        return -1;
    out->tm_isdst = ty->isdst;
    if (utoff != NULL)
        *utoff = ty->utoff;
    if (abbr != NULL && abbrlen > 0)
        snprintf(abbr, abbrlen, "%s", ty->abbr);
    return 0;
}

void icsoe_tz_format(const icsoe_tz *z, time_t t, char *out, size_t outlen)
{
    char abbr[ICSOE_TZ_ABBR_MAX] = "UTC";
    struct tm tm;

    if (outlen == 0)
        return;
    if ((z == NULL || icsoe_tz_local(z, t, &tm, NULL, abbr, sizeof(abbr)) != 0) &&
        gmtime_r(&t, &tm) == NULL) {
        snprintf(out, outlen, "?");
        return;
    }
    snprintf(out, outlen, "%02d/%02d/%04d %02d:%02d %s", tm.tm_mday, tm.tm_mon + 1,
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, abbr);
}
