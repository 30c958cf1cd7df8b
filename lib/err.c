#include <stdarg.h>
#include <stdio.h>
#include "err.h"

const char *icsoe_status_name(icsoe_status st)
{
    switch (st) {
    case ICSOE_OK: return "ok";
    case ICSOE_ERR_INVALID_CREDENTIALS: return "invalid credentials";
    case ICSOE_ERR_LOCKED: return "locked";
    case ICSOE_ERR_EXPIRED: return "expired";
    case ICSOE_ERR_NOT_FOUND: return "not found";
    case ICSOE_ERR_EXISTS: return "exists";
    case ICSOE_ERR_UNAVAILABLE: return "unavailable";
    case ICSOE_ERR_POLICY: return "policy";
    case ICSOE_ERR_INVALID_INPUT: return "invalid input";
    case ICSOE_ERR_INTERNAL: return "internal error";
    }
    return "unknown error";
}

void icsoe_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}
