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
