/* Page and mail templates.  A sysadmin can override every template, so a
 * typo in an override must be loud: an unknown variable or a broken tag is
 * an error naming the line, never an empty string. */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "err.h"
#include "template.h"
#include "fileperm.h"

#define TEMPLATE_NAME_MAX 32

typedef struct tbuf {
    char *p;
    size_t n;
    size_t cap;
    size_t max;     /* bytes allowed including the final NUL */
} tbuf;


/* Append n bytes; -1 when the result would not fit in max (NUL included)
 * or out of memory. */
static int tbuf_put(tbuf *b, const char *s, size_t n)
{
    if (n >= b->max - b->n)
        return -1;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap == 0 ? 256 : b->cap;
        char *p;
        while (cap < b->n + n + 1)
            cap *= 2;
        if (cap > b->max)
            cap = b->max;
        p = realloc(b->p, cap);
        if (p == NULL)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return 0;
}

static const char *html_entity(char c)
{
    switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&#39;";
    default: return NULL;
    }
}

static int tbuf_put_escaped(tbuf *b, const char *s, icsoe_escape esc)
{
    size_t run = 0;

    if (esc != ICSOE_ESC_HTML)
        return tbuf_put(b, s, strlen(s));
    for (size_t i = 0; s[i] != '\0'; i++) {
        const char *ent = html_entity(s[i]);
        if (ent == NULL)
            continue;
        if (tbuf_put(b, s + run, i - run) != 0 || tbuf_put(b, ent, strlen(ent)) != 0)
            return -1;
        run = i + 1;
    }
    return tbuf_put(b, s + run, strlen(s + run));
}

char *icsoe_html_escape(const char *s)
{
    tbuf b = { .max = (size_t)-1 };

    if (tbuf_put(&b, "", 0) != 0 || tbuf_put_escaped(&b, s != NULL ? s : "", ICSOE_ESC_HTML) != 0) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static const icsoe_tvar *find_var(const icsoe_tvar *vars, size_t nvars,
                                  const char *name, size_t n)
{
    for (size_t i = 0; i < nvars; i++) {
        if (vars[i].name != NULL && strlen(vars[i].name) == n &&
            memcmp(vars[i].name, name, n) == 0)
            return &vars[i];
    }
    return NULL;
}

static size_t count_lines(const char *s, size_t n)
{
    size_t lines = 0;

    for (size_t i = 0; i < n; i++)
        lines += s[i] == '\n';
    return lines;
}

/* One tag at tmpl[at] ("{{").  Returns the offset after "}}" or 0 on
 * error (err filled). */
static size_t render_tag(const char *tmpl, size_t len, size_t at, size_t line,
                         const icsoe_tvar *vars, size_t nvars, icsoe_escape esc,
                         tbuf *out, char *err, size_t errlen)
{
    const char *close = memmem(tmpl + at + 2, len - at - 2, "}}", 2);
    size_t name_at = at + 2;
    size_t name_end;
    int raw = 0;
    const icsoe_tvar *v;

    if (close == NULL) {
        icsoe_set_err(err, errlen, "line %zu: unterminated tag", line);
        return 0;
    }
    name_end = (size_t)(close - tmpl);
    if (name_at < name_end && tmpl[name_at] == '&') {
        raw = 1;
        name_at++;
    }
    for (size_t i = name_at; i < name_end; i++) {
        if (!name_char(tmpl[i]))
            goto malformed;
    }
    if (name_end == name_at || name_end - name_at > TEMPLATE_NAME_MAX)
        goto malformed;
    v = find_var(vars, nvars, tmpl + name_at, name_end - name_at);
    if (v == NULL) {
        icsoe_set_err(err, errlen, "line %zu: unknown variable '%.*s'", line,
                (int)(name_end - name_at), tmpl + name_at);
        return 0;
    }
    if (tbuf_put_escaped(out, v->value != NULL ? v->value : "",
                         raw ? ICSOE_ESC_NONE : esc) != 0) {
        icsoe_set_err(err, errlen, "line %zu: output larger than %zu bytes", line,
                out->max - 1);
        return 0;
    }
    return name_end + 2;

malformed:
    icsoe_set_err(err, errlen, "line %zu: malformed tag (expected {{name}} or {{&name}}, "
            "name of 1-%d characters a-z 0-9 _)", line, TEMPLATE_NAME_MAX);
    return 0;
}

char *icsoe_template_render(const char *tmpl, size_t len, const icsoe_tvar *vars,
                            size_t nvars, icsoe_escape esc, size_t maxout,
                            char *err, size_t errlen)
{
    tbuf out = { .max = maxout };
    size_t i = 0;
    size_t line = 1;

    icsoe_set_err(err, errlen, "%s", "");
    if (tmpl == NULL || maxout == 0 || (vars == NULL && nvars > 0)) {
        icsoe_set_err(err, errlen, "invalid arguments");
        return NULL;
    }
    if (memchr(tmpl, '\0', len) != NULL) {
        const char *nul = memchr(tmpl, '\0', len);
        icsoe_set_err(err, errlen, "line %zu: NUL byte", 1 + count_lines(tmpl, (size_t)(nul - tmpl)));
        return NULL;
    }
    if (tbuf_put(&out, "", 0) != 0)
        goto overflow;
    while (i < len) {
        const char *open = len - i >= 2 ? memmem(tmpl + i, len - i, "{{", 2) : NULL;
        size_t text_end = open != NULL ? (size_t)(open - tmpl) : len;
        if (tbuf_put(&out, tmpl + i, text_end - i) != 0)
            goto overflow;
        line += count_lines(tmpl + i, text_end - i);
        i = text_end;
        if (open == NULL)
            break;
        i = render_tag(tmpl, len, i, line, vars, nvars, esc, &out, err, errlen);
        if (i == 0)
            goto fail;
    }
    return out.p;

overflow:
    icsoe_set_err(err, errlen, "line %zu: output larger than %zu bytes", line, maxout - 1);
fail:
    free(out.p);
    return NULL;
}

char *icsoe_template_read_file(const char *path, size_t maxlen, size_t *len,
                               char *err, size_t errlen)
{
    struct stat st;
    char why[512];
    char *buf = NULL;
    size_t n = 0;
    int fd;

    if (len != NULL)
        *len = 0;
    /* O_NONBLOCK: a FIFO planted in the template directory must not hang
     * start-up; it is refused below as not a regular file. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        icsoe_set_err(err, errlen, "template %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) != 0) {
        icsoe_set_err(err, errlen, "template %s: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        icsoe_set_err(err, errlen, "template %s: not a regular file", path);
        goto fail;
    }
    /* Templates are read by root (Apache at start-up, icsoectl): nobody
     * else may write them (fileperm.h). */
    if (icsoe_file_trusted(&st, path, ICSOE_FILE_CONFIG, why, sizeof(why)) != 0) {
        icsoe_set_err(err, errlen, "template %s", why);
        goto fail;
    }
    if ((unsigned long long)st.st_size > maxlen) {
        icsoe_set_err(err, errlen, "template %s: larger than %zu bytes", path, maxlen);
        goto fail;
    }
    buf = malloc(maxlen + 1);
    if (buf == NULL) {
        icsoe_set_err(err, errlen, "template %s: out of memory", path);
        goto fail;
    }
    /* Read up to one byte beyond the cap: the file may grow after fstat. */
    for (;;) {
        ssize_t got = read(fd, buf + n, maxlen + 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            icsoe_set_err(err, errlen, "template %s: %s", path, strerror(errno));
            goto fail;
        }
        if (got == 0)
            break;
        n += (size_t)got;
        if (n > maxlen) {
            icsoe_set_err(err, errlen, "template %s: larger than %zu bytes", path, maxlen);
            goto fail;
        }
    }
    close(fd);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;

fail:
    free(buf);
    close(fd);
    return NULL;
}
