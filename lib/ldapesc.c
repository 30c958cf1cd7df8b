/* Escaping of values put into LDAP filters (RFC 4515) and DNs (RFC 4514).
 * Every value that reaches a filter or a DN goes through one of these two
 * functions (nss-pam-ldapd's myldap_escape, httpd's
 * authn_ldap_build_filter). */
#include <stdlib.h>
#include <string.h>
#include "dir.h"
#include "dir_internal.h"

static const char hexdigits[] = "0123456789abcdef";

/* RFC 4515 section 3: '*', '(', ')', '\' and NUL become \XX.  Everything
 * else (including UTF-8) passes unchanged. */
char *icsoe_ldap_filter_escape(const char *value)
{
    size_t n = 0;
    const unsigned char *p;
    char *out, *o;

    if (value == NULL)
        return NULL;
    for (p = (const unsigned char *)value; *p != '\0'; p++)
        n += (*p == '*' || *p == '(' || *p == ')' || *p == '\\') ? 3 : 1;
    out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    o = out;
    for (p = (const unsigned char *)value; *p != '\0'; p++) {
        if (*p == '*' || *p == '(' || *p == ')' || *p == '\\') {
            *o++ = '\\';
            *o++ = hexdigits[*p >> 4];
            *o++ = hexdigits[*p & 0x0f];
        } else {
            *o++ = (char)*p;
        }
    }
    *o = '\0';
    return out;
}

static int dn_special(unsigned char c)
{
    return c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' ||
           c == '>' || c == ';' || c == '=' || c < 0x20 || c == 0x7f;
}

/* RFC 4514 section 2.4: a value in a DN.  Specials, a leading space or '#'
 * and a trailing space are escaped as \XX (hex form is always valid). */
char *icsoe_ldap_dn_escape(const char *value)
{
    size_t len, n = 0, i;
    const unsigned char *v = (const unsigned char *)value;
    char *out, *o;

    if (value == NULL)
        return NULL;
    len = strlen(value);
    for (i = 0; i < len; i++) {
        int esc = dn_special(v[i]) || (i == 0 && (v[i] == ' ' || v[i] == '#')) ||
                  (i == len - 1 && v[i] == ' ');
        n += esc ? 3 : 1;
    }
    out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    o = out;
    for (i = 0; i < len; i++) {
        int esc = dn_special(v[i]) || (i == 0 && (v[i] == ' ' || v[i] == '#')) ||
                  (i == len - 1 && v[i] == ' ');
        if (esc) {
            *o++ = '\\';
            *o++ = hexdigits[v[i] >> 4];
            *o++ = hexdigits[v[i] & 0x0f];
        } else {
            *o++ = (char)v[i];
        }
    }
    *o = '\0';
    return out;
}
