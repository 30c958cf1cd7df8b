/* pam_icsoe configuration cache: the parsed icsoe.conf and the secrets it
 * names, kept across PAM calls of one process (sshd's monitor, a daemon
 * that authenticates with PAM) instead of read and parsed on every call.
 *
 * A cached configuration is used only while every file it was read from
 * (the configuration, bindpw_file, writer_bindpw_file, password_blocklist)
 * is unchanged on disk (stat: device, inode, size, mtime, ctime, mode,
 * owner, group), still passes its trust check (fileperm.h) and is still
 * readable by the caller's effective identity (faccessat AT_EACCESS);
 * anything else reloads from disk, with all of icsoe_conf_load()'s checks.
 * A file changed less than ICSOE_CONFCACHE_SETTLE_S seconds before it was
 * read is not cached (a change inside the same timestamp tick would be
 * invisible to stat): that call's configuration is used once and freed. */
#ifndef ICSOE_PAM_CONFCACHE_H
#define ICSOE_PAM_CONFCACHE_H

#include <stddef.h>

#include "conf.h"

#define ICSOE_CONFCACHE_SETTLE_S 2

typedef struct icsoe_confcache_ref icsoe_confcache_ref;

/* The configuration of path, cached or freshly loaded; *from_cache says
 * which.  NULL with a one-line message in err when it cannot be loaded
 * (the cache then holds nothing for path).  The configuration is
 * immutable and stays valid until icsoe_confcache_release(ref). */
const icsoe_conf *icsoe_confcache_get(const char *path, icsoe_confcache_ref **ref,
                                      int *from_cache, char *err, size_t errlen);
void icsoe_confcache_release(icsoe_confcache_ref *ref);

#endif
