/* Result codes shared by every libicsoe operation.
 *
 * Front ends map these to their own world (HTTP status, PAM_* code, CLI exit
 * status).  Anything a front end does not recognise must be treated as a
 * denial (fail closed). */
#ifndef ICSOE_ERR_H
#define ICSOE_ERR_H

#include <stddef.h>

typedef enum icsoe_status {
    ICSOE_OK = 0,
    ICSOE_ERR_INVALID_CREDENTIALS, /* wrong password, unknown or pending user */
    ICSOE_ERR_LOCKED,              /* ppolicy lockout or status "locked"       */
    ICSOE_ERR_EXPIRED,             /* password expired / token expired         */
    ICSOE_ERR_NOT_FOUND,           /* entry or token does not exist            */
    ICSOE_ERR_EXISTS,              /* entry already exists / still referenced  */
    ICSOE_ERR_UNAVAILABLE,         /* directory or mail server unreachable     */
    ICSOE_ERR_POLICY,              /* refused by password policy               */
    ICSOE_ERR_INVALID_INPUT,       /* malformed argument                       */
    ICSOE_ERR_INTERNAL             /* out of memory, bug, unexpected answer    */
} icsoe_status;

/* Stable lowercase English name ("ok", "invalid credentials", ...). */
const char *icsoe_status_name(icsoe_status st);

/* Format a one-line error message into a caller's buffer (the err/errlen
 * pair most libicsoe calls take); err may be NULL. */
void icsoe_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
