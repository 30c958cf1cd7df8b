/* Change sequence numbers (CSN) of OpenLDAP replication, as found in the
 * suffix's contextCSN: "YYYYmmddHHMMSS.uuuuuuZ#cccccc#sid#mmmmmm".  A mirror
 * pair keeps one value per serverID; a server has caught up with another
 * when, for every serverID the other knows, its own value is not older.
 * Pure functions (no LDAP), unit-tested in tests/unit/test_csn.c. */
#ifndef ICSOE_CSN_H
#define ICSOE_CSN_H

#include <stddef.h>

/* Longest CSN accepted (they are 40 characters in OpenLDAP 2.4-2.6). */
#define ICSOE_CSN_MAX 64

/* The serverID of a well-formed CSN (0..4095), or -1 when malformed. */
int icsoe_csn_sid(const char *csn);

/* 1 when the set a has, for every serverID present in b, a value >= b's
 * value for it; 0 otherwise.  A malformed value in b counts as not covered
 * (fail closed); a malformed value in a is ignored. */
int icsoe_csn_covers(const char *const *a, size_t na, const char *const *b, size_t nb);

/* The time of a well-formed CSN in microseconds since 1970 (UTC), or -1. */
long long icsoe_csn_usec(const char *csn);

/* How far the set a lags behind the newest values of all (the values of
 * every server together), in microseconds: the largest difference over the
 * serverIDs all has.  -1 when a lacks a serverID all has (*sid receives it,
 * may be NULL), 0 when a is not behind. */
long long icsoe_csn_lag_usec(const char *const *a, size_t na, const char *const *all,
                             size_t nall, int *sid);

#endif
