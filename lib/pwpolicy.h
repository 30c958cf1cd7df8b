/* Password policy shared by the web pages, PAM and the CLI.
 * Defaults follow NIST SP 800-63B rev. 4: length 15..128 code points (never
 * truncated), blocklist, no composition rules unless configured. */
#ifndef ICSOE_PWPOLICY_H
#define ICSOE_PWPOLICY_H

#include <stddef.h>

/* Bits in the result of icsoe_pwpolicy_check: every failed rule is set. */
enum icsoe_pw_rule {
    ICSOE_PW_TOO_SHORT     = 1u << 0,
    ICSOE_PW_TOO_LONG      = 1u << 1,
    ICSOE_PW_BAD_UTF8      = 1u << 2, /* invalid UTF-8 or control chars */
    ICSOE_PW_NEEDS_LOWER   = 1u << 3,
    ICSOE_PW_NEEDS_UPPER   = 1u << 4,
    ICSOE_PW_NEEDS_DIGIT   = 1u << 5,
    ICSOE_PW_NEEDS_SYMBOL  = 1u << 6,
    ICSOE_PW_HAS_CURP      = 1u << 7,
    ICSOE_PW_HAS_NAME      = 1u << 8, /* contains a word (>= 4 bytes) of the name */
    ICSOE_PW_BLOCKLISTED   = 1u << 9,
    ICSOE_PW_MISMATCH      = 1u << 10 /* set by callers: confirmation differs */
};
#define ICSOE_PW_RULE_COUNT 11

/* Required classes (password_classes): a subset of these letters. */
enum icsoe_pw_class {
    ICSOE_PWCLASS_LOWER = 1u << 0,
    ICSOE_PWCLASS_UPPER = 1u << 1,
    ICSOE_PWCLASS_DIGIT = 1u << 2,
    ICSOE_PWCLASS_SYMBOL = 1u << 3
};

typedef struct icsoe_blocklist icsoe_blocklist; /* immutable once loaded */

typedef struct icsoe_pwpolicy {
    unsigned min_length;          /* code points, default 15 */
    unsigned max_length;          /* code points, default 128 */
    unsigned classes;             /* icsoe_pw_class bits, default 0 */
    const icsoe_blocklist *blocklist; /* may be NULL; not owned */
} icsoe_pwpolicy;

void icsoe_pwpolicy_defaults(icsoe_pwpolicy *p);

/* Load a blocklist file: one password per line, compared case-insensitively
 * (ASCII folding).  Returns NULL and fills err on failure. Caller frees. */
icsoe_blocklist *icsoe_blocklist_load(const char *path, char *err, size_t errlen);
void icsoe_blocklist_free(icsoe_blocklist *bl);
int icsoe_blocklist_contains(const icsoe_blocklist *bl, const char *pw);

/* Returns 0 when pw is acceptable, else the OR of every failed rule.
 * curp and name may be NULL. Thread-safe; never logs. */
unsigned icsoe_pwpolicy_check(const icsoe_pwpolicy *p, const char *pw,
                              const char *curp, const char *name);

/* Spanish sentence for a single rule bit, for forms and PAM messages,
 * e.g. "Debe tener al menos 15 caracteres." (uses p for numbers).
 * Writes into buf and returns it. */
const char *icsoe_pwpolicy_rule_message(const icsoe_pwpolicy *p, unsigned rule,
                                        char *buf, size_t buflen);

/* The rules a user must follow, one Spanish sentence each, for the form's
 * "Reglas" list.  Fills up to max entries of lines (each buflen bytes)
 * and returns the count. */
size_t icsoe_pwpolicy_describe(const icsoe_pwpolicy *p, char lines[][160],
                               size_t max);

#endif
