/* pam_icsoe module arguments (the words after the module path in a
 * /etc/pam.d file).  Parsed afresh on every call into a struct on the
 * caller's stack (cheaper than a cache: no lookup, nothing to invalidate). */
#ifndef ICSOE_PAM_ARGS_H
#define ICSOE_PAM_ARGS_H

#include <stddef.h>
#include <security/pam_modules.h>
#include "rfc.h"

/* Default of minimum_uid=: a CURP-shaped name that is a local system or
 * administrator account (uid below 1000, Debian's FIRST_UID) is never
 * authenticated against the directory. */
#define ICSOE_PAM_DEFAULT_MINIMUM_UID 1000L

/* contratista=RFC,RFC,... accepts at most this many contractors. */
#define ICSOE_PAM_MAX_CONTRACTORS 32

typedef struct icsoe_pam_args {
    const char *config;     /* config=FILE (points into argv), default path otherwise */
    int debug;              /* debug: log at LOG_DEBUG */
    int use_first_pass;     /* never prompt: take PAM_AUTHTOK / PAM_OLDAUTHTOK */
    int try_first_pass;     /* take the stored token if there is one, else prompt */
    int use_authtok;        /* password: the new password comes from PAM_AUTHTOK */
    long minimum_uid;       /* minimum_uid=N: local accounts below N are not ours */
    int contractor_filter;  /* a contratista= argument was given */
    int contractor_error;   /* ... and one of its RFCs was malformed: deny all */
    char contractors[ICSOE_PAM_MAX_CONTRACTORS][ICSOE_RFC_BUFSZ];
    size_t ncontractors;
} icsoe_pam_args;

/* Fills args from argv.  Unknown options are logged and ignored; a
 * malformed contratista= value is logged and sets contractor_error (the
 * account module then denies everyone: fail closed).  Never fails. */
void icsoe_pam_args_parse(pam_handle_t *pamh, int argc, const char **argv,
                          icsoe_pam_args *args);

/* 1 if rfc (normalised) is one of the contratista= contractors. */
int icsoe_pam_args_has_contractor(const icsoe_pam_args *args, const char *rfc);

#endif
