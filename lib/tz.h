/* Time zones for the times written in mails ("válido hasta 25/11/2026
 * 12:30 CST"), read from the system's TZif files without touching the
 * process's TZ.
 *
 * Why not setenv("TZ") + localtime_r: TZ is process-wide state; changing it
 * in an Apache worker or inside a PAM application races with every other
 * thread's time calls (and setenv with getenv).  A zone loaded here is an
 * immutable object: load once with the configuration, share between
 * threads. */
#ifndef ICSOE_TZ_H
#define ICSOE_TZ_H

#include <stddef.h>
#include <time.h>

#define ICSOE_TZ_DIR "/usr/share/zoneinfo"
#define ICSOE_TZ_NAME_MAX 64
#define ICSOE_TZ_ABBR_MAX 16

typedef struct icsoe_tz icsoe_tz;

/* A zone by its IANA name ("America/Mexico_City", "UTC") from
 * ICSOE_TZ_DIR/<name>.  NULL with err for a name that is not a plain
 * relative path ("..", absolute, odd characters), a missing file, or a
 * file that is not TZif.  Free with icsoe_tz_free. */
icsoe_tz *icsoe_tz_load(const char *name, char *err, size_t errlen);
/* The same from a TZif image in memory (for tests and fuzzing). */
icsoe_tz *icsoe_tz_parse(const unsigned char *data, size_t len, char *err,
                         size_t errlen);
/* UTC, never fails except out of memory. */
icsoe_tz *icsoe_tz_utc(void);
void icsoe_tz_free(icsoe_tz *z);
const char *icsoe_tz_name(const icsoe_tz *z); /* as loaded, "UTC" for icsoe_tz_utc */

/* t as local time in z: *out broken down, *utoff the offset east of UTC
 * in seconds, abbr (may be NULL) the zone's abbreviation ("CST", "-03").
 * 0, or -1 if t cannot be represented.  Times after the file's last
 * transition follow its POSIX footer when that has no daylight-saving
 * rule, else the last transition (Debian's files list transitions up to
 * 2037). */
int icsoe_tz_local(const icsoe_tz *z, time_t t, struct tm *out, long *utoff,
                   char *abbr, size_t abbrlen);

/* "25/11/2026 12:30 CST": how mails and pages write a time for people (z
 * NULL or a time z cannot place: UTC; "?" if even that fails).  out needs
 * ICSOE_TZ_TEXT_MAX bytes. */
#define ICSOE_TZ_TEXT_MAX (24 + ICSOE_TZ_ABBR_MAX)
void icsoe_tz_format(const icsoe_tz *z, time_t t, char *out, size_t outlen);

#endif
