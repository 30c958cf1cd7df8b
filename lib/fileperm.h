/* Which files may steer or feed a process that runs as root.
 *
 * pam_icsoe runs inside root's PAM stacks and Apache reads its files as
 * root: a configuration, template or blocklist that someone else can
 * write lets that someone point uri at their own server or rewrite the
 * pages; a secret someone else owns can be swapped.  So every such file
 * must be a regular file owned by root or by the user running the
 * program (an unprivileged test run, a PAM service running as its own
 * user with its own copy), and nobody else may write it.  Secrets must
 * in addition keep others out entirely; their group may only read them
 * (Debian's "0640 root:<group>").  Session keys keep group out too. */
#ifndef ICSOE_FILEPERM_H
#define ICSOE_FILEPERM_H

#include <stddef.h>
#include <sys/stat.h>

typedef enum icsoe_file_kind {
    ICSOE_FILE_CONFIG = 0,  /* icsoe.conf, templates, blocklist */
    ICSOE_FILE_SECRET,      /* bindpw_file, smtp_pass_file: at most 0640 */
    ICSOE_FILE_KEY          /* session keys: at most 0600 */
} icsoe_file_kind;

/* 0 when st (of the open file, so that the file checked is the file read)
 * is trusted for kind; otherwise -1 and a message starting with path in
 * err, saying what to do. */
int icsoe_file_trusted(const struct stat *st, const char *path,
                       icsoe_file_kind kind, char *err, size_t errlen);

#endif
