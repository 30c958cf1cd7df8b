/* Minimal templates for pages and mails.
 *   {{name}}   the variable's value, escaped for the template's mode
 *   {{&name}}  the value as is (for fragments the caller already escaped)
 * Names are [a-z0-9_]{1,32}.  An unknown variable or malformed tag is an
 * error (never silently empty), so a broken override is noticed. */
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

/* Render into a malloc'd NUL-terminated string of at most maxout bytes.
 * NULL on error with a message in err ("line 3: unknown variable 'x'"). */
char *icsoe_template_render(const char *tmpl, size_t len, const icsoe_tvar *vars,
                            size_t nvars, icsoe_escape esc, size_t maxout,
                            char *err, size_t errlen);

/* HTML-escape into a malloc'd string (NULL when out of memory). */
char *icsoe_html_escape(const char *s);

/* Read a whole template file (regular file, at most maxlen bytes) into a
 * malloc'd string.  NULL with err on failure. */
char *icsoe_template_read_file(const char *path, size_t maxlen, size_t *len,
                               char *err, size_t errlen);

#endif
