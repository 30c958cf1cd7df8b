/* Password policy shared by the web pages, PAM and the CLI.
 *
 * Decisions documented here because callers and users see their effect:
 * - Length is counted in Unicode code points of strictly valid UTF-8
 *   (no overlongs, no surrogates, nothing above U+10FFFF).  Invalid UTF-8
 *   or a control character (C0, DEL, C1) makes the password unusable in
 *   some front end, so it is reported alone as ICSOE_PW_BAD_UTF8: lengths
 *   and classes of such a string mean nothing.
 * - Classes: ASCII letters and the Latin-1 letters (Á, ñ, ü...) count as
 *   upper/lower case; ASCII digits as digits; everything else printable,
 *   including space and letters of other scripts, as a symbol.
 * - Case-insensitive comparisons (CURP, name, blocklist) fold ASCII and the
 *   Latin-1 letters, so "PÉREZ" matches "pérez".
 * - HAS_CURP: the password contains the first 10 characters of the CURP
 *   (name initials and birth date, the part people reuse); a password that
 *   holds the whole CURP holds those 10 as well.
 * - HAS_NAME: the password contains a word of the name of at least
 *   PW_NAME_MIN_WORD bytes; words are split on whitespace and on the
 *   punctuation found in names (- ' , .).
 * - The password is never copied except into a bounded stack buffer for the
 *   blocklist lookup, which is wiped. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "err.h"
#include "pwpolicy.h"
#include "secure.h"
#include "fileperm.h"

#define PW_DEFAULT_MIN 15
#define PW_DEFAULT_MAX 128
#define PW_CURP_PREFIX 10
#define PW_NAME_MIN_WORD 4
#define BL_MAX_LINE 256
#define BL_MAX_ENTRIES 1000000

struct icsoe_blocklist {
    char *arena;   /* every entry, folded, NUL-terminated, back to back */
    char **entry;  /* sorted, unique; points into arena */
    size_t count;
};

void icsoe_pwpolicy_defaults(icsoe_pwpolicy *p)
{
    p->min_length = PW_DEFAULT_MIN;
    p->max_length = PW_DEFAULT_MAX;
    p->classes = 0;
    p->blocklist = NULL;
}

/* ---- case folding ---------------------------------------------------- */

/* Byte i of s folded to lower case.  Latin-1 capitals are C3 80..9E in
 * UTF-8 (× is C3 97) and their small letters are 0x20 further, so the
 * second byte is shifted when the first is C3. */
static unsigned char fold_at(const unsigned char *s, size_t i)
{
    unsigned char c = s[i];

    if (c >= 'A' && c <= 'Z')
        return (unsigned char)(c + ('a' - 'A'));
    if (i > 0 && s[i - 1] == 0xC3 && c >= 0x80 && c <= 0x9E && c != 0x97)
        return (unsigned char)(c + 0x20);
    return c;
}

/* Does hay (hlen bytes) contain needle (nlen bytes), folded? */
static int contains_folded(const unsigned char *hay, size_t hlen,
                           const unsigned char *needle, size_t nlen)
{
    if (nlen == 0 || nlen > hlen)
        return 0;
    for (size_t start = 0; start + nlen <= hlen; start++) {
        size_t k = 0;

        while (k < nlen && fold_at(hay, start + k) == fold_at(needle, k))
            k++;
        if (k == nlen)
            return 1;
    }
    return 0;
}

/* ---- UTF-8 scan ------------------------------------------------------ */

typedef struct pw_scan {
    size_t codepoints;
    unsigned classes; /* icsoe_pw_class bits present */
} pw_scan;

static unsigned class_of(unsigned long cp)
{
    if (cp >= 'a' && cp <= 'z')
        return ICSOE_PWCLASS_LOWER;
    if (cp >= 'A' && cp <= 'Z')
        return ICSOE_PWCLASS_UPPER;
    if (cp >= '0' && cp <= '9')
        return ICSOE_PWCLASS_DIGIT;
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)
        return ICSOE_PWCLASS_UPPER;
    if (cp >= 0xDF && cp <= 0xFF && cp != 0xF7)
        return ICSOE_PWCLASS_LOWER;
    return ICSOE_PWCLASS_SYMBOL;
}

/* Length of the UTF-8 sequence starting at s[0] and its code point, or 0
 * when the sequence is invalid or truncated (n bytes available). */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned long *cp)
{
    size_t len;
    unsigned long v;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the 2nd byte */

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        len = 2;
        v = s[0] & 0x1Fu;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        len = 3;
        v = s[0] & 0x0Fu;
        if (s[0] == 0xE0)
            lo = 0xA0; /* overlong */
        if (s[0] == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4;
        v = s[0] & 0x07u;
        if (s[0] == 0xF0)
            lo = 0x90; /* overlong */
        if (s[0] == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (len > n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0u) != 0x80u)
            return 0;
        v = (v << 6) | (s[k] & 0x3Fu);
    }
    *cp = v;
    return len;
}

static int is_control(unsigned long cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

/* 0 and the counts in *sc, or -1 on invalid UTF-8 or a control char. */
static int scan_password(const unsigned char *s, size_t n, pw_scan *sc)
{
    size_t i = 0;

    sc->codepoints = 0;
    sc->classes = 0;
    while (i < n) {
        unsigned long cp;
        size_t len = utf8_decode(s + i, n - i, &cp);

        if (len == 0 || is_control(cp))
            return -1;
        sc->classes |= class_of(cp);
        sc->codepoints++;
        i += len;
    }
    return 0;
}

/* ---- personal data --------------------------------------------------- */

static int has_curp(const unsigned char *pw, size_t n, const char *curp)
{
    if (curp == NULL || strnlen(curp, PW_CURP_PREFIX) < PW_CURP_PREFIX)
        return 0;
    return contains_folded(pw, n, (const unsigned char *)curp, PW_CURP_PREFIX);
}

static int is_name_separator(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
           c == '\r' || c == '-' || c == '\'' || c == ',' || c == '.';
}

static int has_name(const unsigned char *pw, size_t n, const char *name)
{
    const unsigned char *s = (const unsigned char *)name;
    size_t i = 0;

    if (name == NULL)
        return 0;
    while (s[i] != '\0') {
        size_t start;

        while (s[i] != '\0' && is_name_separator(s[i]))
            i++;
        start = i;
        while (s[i] != '\0' && !is_name_separator(s[i]))
            i++;
        if (i - start >= PW_NAME_MIN_WORD && contains_folded(pw, n, s + start, i - start))
            return 1;
    }
    return 0;
}

unsigned icsoe_pwpolicy_check(const icsoe_pwpolicy *p, const char *pw,
                              const char *curp, const char *name)
{
    icsoe_pwpolicy defaults;
    const unsigned char *s;
    size_t n;
    pw_scan sc;
    unsigned failed = 0;

    if (p == NULL) {
        icsoe_pwpolicy_defaults(&defaults);
        p = &defaults;
    }
    if (pw == NULL)
        pw = "";
    s = (const unsigned char *)pw;
    n = strlen(pw);
    if (scan_password(s, n, &sc) != 0)
        return ICSOE_PW_BAD_UTF8;

    if (sc.codepoints < p->min_length)
        failed |= ICSOE_PW_TOO_SHORT;
    if (p->max_length > 0 && sc.codepoints > p->max_length)
        failed |= ICSOE_PW_TOO_LONG;
    if ((p->classes & ICSOE_PWCLASS_LOWER) && !(sc.classes & ICSOE_PWCLASS_LOWER))
        failed |= ICSOE_PW_NEEDS_LOWER;
    if ((p->classes & ICSOE_PWCLASS_UPPER) && !(sc.classes & ICSOE_PWCLASS_UPPER))
        failed |= ICSOE_PW_NEEDS_UPPER;
    if ((p->classes & ICSOE_PWCLASS_DIGIT) && !(sc.classes & ICSOE_PWCLASS_DIGIT))
        failed |= ICSOE_PW_NEEDS_DIGIT;
    if ((p->classes & ICSOE_PWCLASS_SYMBOL) && !(sc.classes & ICSOE_PWCLASS_SYMBOL))
        failed |= ICSOE_PW_NEEDS_SYMBOL;
    if (has_curp(s, n, curp))
        failed |= ICSOE_PW_HAS_CURP;
    if (has_name(s, n, name))
        failed |= ICSOE_PW_HAS_NAME;
    if (icsoe_blocklist_contains(p->blocklist, pw))
        failed |= ICSOE_PW_BLOCKLISTED;
    return failed;
}

/* ---- messages -------------------------------------------------------- */

static const char *plural(unsigned n)
{
    return n == 1 ? "carácter" : "caracteres";
}

const char *icsoe_pwpolicy_rule_message(const icsoe_pwpolicy *p, unsigned rule,
                                        char *buf, size_t buflen)
{
    icsoe_pwpolicy defaults;
    const char *text;

    if (buf == NULL || buflen == 0)
        return "";
    if (p == NULL) {
        icsoe_pwpolicy_defaults(&defaults);
        p = &defaults;
    }
    switch (rule) {
    case ICSOE_PW_TOO_SHORT:
        snprintf(buf, buflen, "Debe tener al menos %u %s.", p->min_length,
                 plural(p->min_length));
        return buf;
    case ICSOE_PW_TOO_LONG:
        snprintf(buf, buflen, "Debe tener como máximo %u %s.", p->max_length,
                 plural(p->max_length));
        return buf;
    case ICSOE_PW_BAD_UTF8:
        text = "Solo puede contener texto válido, sin caracteres de control.";
        break;
    case ICSOE_PW_NEEDS_LOWER:
        text = "Debe incluir al menos una letra minúscula.";
        break;
    case ICSOE_PW_NEEDS_UPPER:
        text = "Debe incluir al menos una letra mayúscula.";
        break;
    case ICSOE_PW_NEEDS_DIGIT:
        text = "Debe incluir al menos un número.";
        break;
    case ICSOE_PW_NEEDS_SYMBOL:
        text = "Debe incluir al menos un símbolo o un espacio (por ejemplo ! # $ %).";
        break;
    case ICSOE_PW_HAS_CURP:
        text = "No debe contener tu CURP.";
        break;
    case ICSOE_PW_HAS_NAME:
        text = "No debe contener tu nombre ni tus apellidos.";
        break;
    case ICSOE_PW_BLOCKLISTED:
        text = "No debe ser una contraseña común o conocida por filtraciones.";
        break;
    case ICSOE_PW_MISMATCH:
        text = "Las contraseñas no coinciden.";
        break;
    default:
        text = "La contraseña no cumple las reglas.";
        break;
    }
    snprintf(buf, buflen, "%s", text);
    return buf;
}

size_t icsoe_pwpolicy_describe(const icsoe_pwpolicy *p, char lines[][160],
                               size_t max)
{
    icsoe_pwpolicy defaults;
    unsigned rules[ICSOE_PW_RULE_COUNT];
    size_t nrules = 0, count = 0;

    if (lines == NULL)
        return 0;
    if (p == NULL) {
        icsoe_pwpolicy_defaults(&defaults);
        p = &defaults;
    }
    if (p->min_length > 0)
        rules[nrules++] = ICSOE_PW_TOO_SHORT;
    if (p->max_length > 0)
        rules[nrules++] = ICSOE_PW_TOO_LONG;
    if (p->classes & ICSOE_PWCLASS_LOWER)
        rules[nrules++] = ICSOE_PW_NEEDS_LOWER;
    if (p->classes & ICSOE_PWCLASS_UPPER)
        rules[nrules++] = ICSOE_PW_NEEDS_UPPER;
    if (p->classes & ICSOE_PWCLASS_DIGIT)
        rules[nrules++] = ICSOE_PW_NEEDS_DIGIT;
    if (p->classes & ICSOE_PWCLASS_SYMBOL)
        rules[nrules++] = ICSOE_PW_NEEDS_SYMBOL;
    rules[nrules++] = ICSOE_PW_HAS_CURP;
    rules[nrules++] = ICSOE_PW_HAS_NAME;
    if (p->blocklist != NULL)
        rules[nrules++] = ICSOE_PW_BLOCKLISTED;

    for (size_t i = 0; i < nrules && count < max; i++)
        icsoe_pwpolicy_rule_message(p, rules[i], lines[count++], sizeof(lines[0]));
    return count;
}

/* ---- blocklist ------------------------------------------------------- */

/* Growing state while a file is read; offsets because the arena moves. */
typedef struct bl_build {
    char *arena;
    size_t used, cap;
    size_t *offset;
    size_t count, offcap;
} bl_build;


/* Append one folded entry. 0, or -1 when out of memory. */
static int bl_append(bl_build *b, const unsigned char *line, size_t len)
{
    if (b->used + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        char *grown;

        while (b->used + len + 1 > cap)
            cap *= 2;
        grown = realloc(b->arena, cap);
        if (grown == NULL)
            return -1;
        b->arena = grown;
        b->cap = cap;
    }
    if (b->count == b->offcap) {
        size_t offcap = b->offcap ? b->offcap * 2 : 1024;
        size_t *grown = realloc(b->offset, offcap * sizeof(*grown));

        if (grown == NULL)
            return -1;
        b->offset = grown;
        b->offcap = offcap;
    }
    b->offset[b->count++] = b->used;
    for (size_t i = 0; i < len; i++)
        b->arena[b->used + i] = (char)fold_at(line, i);
    b->arena[b->used + len] = '\0';
    b->used += len + 1;
    return 0;
}

typedef enum bl_line_status {
    BL_LINE_OK,
    BL_LINE_EOF,
    BL_LINE_TOO_LONG,
    BL_LINE_NUL,
    BL_LINE_IO
} bl_line_status;

/* Reads one line (without its LF and trailing CRs) into line.  Stops
 * reading as soon as the line is known to be too long. */
static bl_line_status bl_read_line(FILE *f, unsigned char line[BL_MAX_LINE + 2],
                                   size_t *len)
{
    size_t n = 0;
    int c;

    for (;;) {
        c = getc(f);
        if (c == EOF || c == '\n')
            break;
        if (c == '\0')
            return BL_LINE_NUL;
        /* room for the password plus the CR of a CRLF file */
        if (n == BL_MAX_LINE + 1)
            return BL_LINE_TOO_LONG;
        line[n++] = (unsigned char)c;
    }
    if (c == EOF && ferror(f))
        return BL_LINE_IO;
    if (c == EOF && n == 0)
        return BL_LINE_EOF;
    while (n > 0 && line[n - 1] == '\r')
        n--;
    if (n > BL_MAX_LINE)
        return BL_LINE_TOO_LONG;
    *len = n;
    return BL_LINE_OK;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Turns the offsets into a sorted, duplicate-free pointer array. */
static icsoe_blocklist *bl_finish(bl_build *b)
{
    icsoe_blocklist *bl = calloc(1, sizeof(*bl));
    size_t unique = 0;

    if (bl == NULL)
        return NULL;
    bl->entry = malloc((b->count ? b->count : 1) * sizeof(*bl->entry));
    if (bl->entry == NULL) {
        free(bl);
        return NULL;
    }
    for (size_t i = 0; i < b->count; i++)
        bl->entry[i] = b->arena + b->offset[i];
    qsort(bl->entry, b->count, sizeof(*bl->entry), cmp_entry);
    for (size_t i = 0; i < b->count; i++)
        if (unique == 0 || strcmp(bl->entry[unique - 1], bl->entry[i]) != 0)
            bl->entry[unique++] = bl->entry[i];
    bl->count = unique;
    bl->arena = b->arena;
    b->arena = NULL;
    return bl;
}

/* The blocklist is read by root (PAM, Apache at start-up): nobody else may
 * write it (fileperm.h), or a local user could empty it. */
static int blocklist_file_trusted(FILE *f, const char *path, char *err,
                                  size_t errlen)
{
    struct stat st;
    char why[512];

    if (fstat(fileno(f), &st) != 0) {
        icsoe_set_err(err, errlen, "%s: %s", path, strerror(errno));
        return 0;
    }
    if (icsoe_file_trusted(&st, path, ICSOE_FILE_CONFIG, why, sizeof(why)) != 0) {
        icsoe_set_err(err, errlen, "%s", why);
        return 0;
    }
    return 1;
}

icsoe_blocklist *icsoe_blocklist_load(const char *path, char *err, size_t errlen)
{
    bl_build b = { 0 };
    icsoe_blocklist *bl = NULL;
    unsigned char line[BL_MAX_LINE + 2];
    unsigned long lineno = 0;
    FILE *f = NULL;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (path == NULL) {
        icsoe_set_err(err, errlen, "no blocklist file given");
        return NULL;
    }
    f = fopen(path, "re");
    if (f == NULL) {
        icsoe_set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        goto cleanup;
    }
    if (!blocklist_file_trusted(f, path, err, errlen))
        goto cleanup;
    for (;;) {
        size_t len = 0;
        bl_line_status st = bl_read_line(f, line, &len);

        if (st == BL_LINE_EOF)
            break;
        lineno++;
        if (st == BL_LINE_TOO_LONG) {
            icsoe_set_err(err, errlen, "%s:%lu: line longer than %d bytes", path, lineno,
                    BL_MAX_LINE);
            goto cleanup;
        }
        if (st == BL_LINE_NUL) {
            icsoe_set_err(err, errlen, "%s:%lu: NUL byte in line", path, lineno);
            goto cleanup;
        }
        if (st == BL_LINE_IO) {
            icsoe_set_err(err, errlen, "%s:%lu: read error: %s", path, lineno, strerror(errno));
            goto cleanup;
        }
        if (len == 0)
            continue;
        if (b.count == BL_MAX_ENTRIES) {
            icsoe_set_err(err, errlen, "%s:%lu: more than %d entries", path, lineno,
                    BL_MAX_ENTRIES);
            goto cleanup;
        }
        if (bl_append(&b, line, len) != 0) {
            icsoe_set_err(err, errlen, "%s:%lu: out of memory", path, lineno);
            goto cleanup;
        }
    }
    bl = bl_finish(&b);
    if (bl == NULL)
        icsoe_set_err(err, errlen, "%s:%lu: out of memory", path, lineno);
cleanup:
    if (f != NULL)
        fclose(f);
    icsoe_wipe(line, sizeof(line));
    free(b.arena);
    free(b.offset);
    return bl;
}

void icsoe_blocklist_free(icsoe_blocklist *bl)
{
    if (bl == NULL)
        return;
    free(bl->entry);
    free(bl->arena);
    free(bl);
}

int icsoe_blocklist_contains(const icsoe_blocklist *bl, const char *pw)
{
    unsigned char folded[BL_MAX_LINE + 1];
    const char *key = (const char *)folded;
    size_t n;
    int found;

    if (bl == NULL || pw == NULL || bl->count == 0)
        return 0;
    n = strnlen(pw, BL_MAX_LINE + 1);
    if (n == 0 || n > BL_MAX_LINE)
        return 0; /* longer than any entry can be */
    for (size_t i = 0; i < n; i++)
        folded[i] = fold_at((const unsigned char *)pw, i);
    folded[n] = '\0';
    found = bsearch(&key, bl->entry, bl->count, sizeof(*bl->entry), cmp_entry) != NULL;
    icsoe_wipe(folded, sizeof(folded));
    return found;
}
