/* multipart/form-data bodies (RFC 7578): the Carga masiva upload.
 *
 * Threat: the body is attacker-controlled and large (a CSV of thousands of
 * rows).  Rule: never copy the data, only point into the bounded body; every
 * header block, name and part count has a cap; a missing delimiter, a part
 * without a form-data disposition or a missing closing delimiter rejects the
 * whole body rather than guessing.  Pitfall: the delimiter is CRLF "--"
 * boundary, so a boundary string inside the data without the preceding
 * CRLF is data, not a delimiter. */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "input.h"

static int boundary_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           strchr("'()+_,-./:=? ", c) != NULL;
}

int icsoe_multipart_boundary(const char *ct, char out[ICSOE_MULTIPART_BOUNDARY_MAX + 1])
{
    static const char type[] = "multipart/form-data";
    const char *p;
    size_t n = 0;
    int quoted;

    out[0] = '\0';
    if (ct == NULL || strncasecmp(ct, type, sizeof(type) - 1) != 0)
        return -1;
    p = strcasestr(ct + sizeof(type) - 1, "boundary=");
    if (p == NULL)
        return -1;
    p += 9;
    quoted = *p == '"';
    p += quoted;
    while (p[n] != '\0' && p[n] != (quoted ? '"' : ';') && n <= ICSOE_MULTIPART_BOUNDARY_MAX) {
        if (!boundary_char(p[n]) || (!quoted && p[n] == ' '))
            return -1;
        n++;
    }
    if (n == 0 || n > ICSOE_MULTIPART_BOUNDARY_MAX || (quoted && p[n] != '"') ||
        p[n - 1] == ' ')
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

/* The quoted value of param (e.g. "name") in a disposition line, into out
 * (cap bytes).  1 found, 0 absent, -1 malformed or too long. */
static int disposition_param(const char *line, size_t len, const char *param,
                             char *out, size_t cap)
{
    size_t plen = strlen(param);

    for (size_t i = 0; i + plen + 2 <= len; i++) {
        size_t start, end;

        if ((line[i] != ';' && line[i] != ' ') || strncasecmp(line + i + 1, param, plen) != 0)
            continue;
        start = i + 1 + plen;
        if (start + 1 >= len || line[start] != '=' || line[start + 1] != '"')
            continue;
        start += 2;
        end = start;
        while (end < len && line[end] != '"')
            end++;
        if (end >= len || end - start >= cap)
            return -1;
        memcpy(out, line + start, end - start);
        out[end - start] = '\0';
        return 1;
    }
    return 0;
}

static int parse_disposition(const char *line, size_t len, icsoe_part *p)
{
    static const char key[] = "content-disposition:";
    size_t k = sizeof(key) - 1;
    int r;

    if (len < k || strncasecmp(line, key, k) != 0)
        return 0; /* another header: ignored */
    line += k;
    len -= k;
    while (len > 0 && *line == ' ') {
        line++;
        len--;
    }
    if (len < 9 || strncasecmp(line, "form-data", 9) != 0)
        return -1;
    if (p->name[0] != '\0')
        return -1; /* two dispositions */
    if (disposition_param(line, len, "name", p->name, sizeof(p->name)) != 1 ||
        p->name[0] == '\0')
        return -1;
    r = disposition_param(line, len, "filename", p->filename, sizeof(p->filename));
    if (r < 0)
        return -1;
    p->is_file = r == 1;
    return 0;
}

/* Header block [h, h+len) of one part (without the blank line). */
static int parse_headers(const char *h, size_t len, icsoe_part *p)
{
    while (len > 0) {
        const char *eol = memmem(h, len, "\r\n", 2);
        size_t n = eol != NULL ? (size_t)(eol - h) : len;

        for (size_t i = 0; i < n; i++)
            if (h[i] == '\0' || h[i] == '\r' || h[i] == '\n')
                return -1;
        if (parse_disposition(h, n, p) != 0)
            return -1;
        if (eol == NULL)
            break;
        h += n + 2;
        len -= n + 2;
    }
    return p->name[0] != '\0' ? 0 : -1;
}

int icsoe_multipart_parse(const char *body, size_t len, const char *boundary,
                          icsoe_multipart *out)
{
    char delim[ICSOE_MULTIPART_BOUNDARY_MAX + 5];
    size_t dlen, pos;

    memset(out, 0, sizeof(*out));
    if (body == NULL || boundary == NULL || boundary[0] == '\0' ||
        strlen(boundary) > ICSOE_MULTIPART_BOUNDARY_MAX)
        return -1;
    dlen = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
    /* the first delimiter has no CRLF before it */
    if (len < dlen - 2 || memcmp(body, delim + 2, dlen - 2) != 0)
        goto bad;
    pos = dlen - 2;
    for (;;) {
        icsoe_part *p;
        const char *hend, *next;
        size_t hlen;

        if (len - pos >= 2 && memcmp(body + pos, "--", 2) == 0)
            return out->n > 0 ? 0 : -1; /* closing delimiter; epilogue ignored */
        if (len - pos < 2 || memcmp(body + pos, "\r\n", 2) != 0 ||
            out->n == ICSOE_MULTIPART_MAX_PARTS)
            goto bad;
        pos += 2;
        hlen = len - pos < ICSOE_MULTIPART_HEADERS_MAX ? len - pos : ICSOE_MULTIPART_HEADERS_MAX;
        hend = memmem(body + pos, hlen, "\r\n\r\n", 4);
        if (hend == NULL)
            goto bad;
        p = &out->part[out->n];
        if (parse_headers(body + pos, (size_t)(hend - (body + pos)), p) != 0)
            goto bad;
        pos = (size_t)(hend - body) + 4;
        next = memmem(body + pos, len - pos, delim, dlen);
        if (next == NULL)
            goto bad;
        p->data = body + pos;
        p->len = (size_t)(next - (body + pos));
        out->n++;
        pos = (size_t)(next - body) + dlen;
    }
bad:
    memset(out, 0, sizeof(*out));
    return -1;
}

const icsoe_part *icsoe_multipart_get(const icsoe_multipart *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->part[i].name, name) == 0)
            return &m->part[i];
    return NULL;
}
