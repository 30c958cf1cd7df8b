/* Minimal templates for pages and mails.
 *   {{name}}   the variable's value, escaped for the template's mode
 *   {{&name}}  the value as is (for fragments the caller already escaped)
 * Names are [a-z0-9_]{1,32}, with no spaces inside the braces.  An unknown
 * variable, a malformed tag ("{{ name }}", "{{Name}}", "{{}}") or an
 * unterminated one ("{{name" with no "}}" after it) is an error (never
 * silently empty), so a broken override is noticed.  "{{" always opens a
 * tag (there is no way to write it literally); a lone '{' or "}}" outside a
 * tag is plain text.  A NUL byte in the template is an error. */
#ifndef ICSOE_TEMPLATE_H
#define ICSOE_TEMPLATE_H

#include <stddef.h>

typedef struct icsoe_tvar {
    const char *name;
    const char *value; /* NULL renders as "" */
} icsoe_tvar;

typedef enum icsoe_escape {
    ICSOE_ESC_NONE = 0, /* plain text mails */
    ICSOE_ESC_HTML      /* & < > " ' escaped */
} icsoe_escape;

/* Render into a malloc'd NUL-terminated string of at most maxout bytes
 * counting the NUL (so strlen < maxout).  Later duplicates in vars are
 * ignored.  NULL on error with a message in err ("line 3: unknown variable
 * 'x'", "line 9: output larger than 65535 bytes"); err may be NULL. */
char *icsoe_template_render(const char *tmpl, size_t len, const icsoe_tvar *vars,
                            size_t nvars, icsoe_escape esc, size_t maxout,
                            char *err, size_t errlen);

/* HTML-escape (& < > " ' as &amp; &lt; &gt; &quot; &#39;) into a malloc'd
 * string; NULL s gives "".  NULL when out of memory. */
char *icsoe_html_escape(const char *s);

/* Read a whole template file (regular file, at most maxlen bytes) into a
 * malloc'd NUL-terminated string, its length in *len (may be NULL).  NULL
 * with err naming the file on failure (missing, not a regular file, too
 * large). */
char *icsoe_template_read_file(const char *path, size_t maxlen, size_t *len,
                               char *err, size_t errlen);

#endif
