/* The trust rule of fileperm.h, in one place for every loader. */
#include <stdio.h>
#include <unistd.h>

#include "fileperm.h"

static int owner_trusted(const struct stat *st)
{
    return st->st_uid == 0 || st->st_uid == geteuid();
}

int icsoe_file_trusted(const struct stat *st, const char *path,
                       icsoe_file_kind kind, char *err, size_t errlen)
{
    mode_t m = st->st_mode;

    if (!S_ISREG(m)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        return -1;
    }
    if (!owner_trusted(st)) {
        snprintf(err, errlen, "%s: owned by uid %lu, not by root or the user "
                 "running this (uid %lu): chown root", path,
                 (unsigned long)st->st_uid, (unsigned long)geteuid());
        return -1;
    }
    if (m & (S_IWGRP | S_IWOTH)) {
        snprintf(err, errlen, "%s: writable by group or others (chmod go-w)",
                 path);
        return -1;
    }
    if (kind == ICSOE_FILE_CONFIG)
        return 0;
    if (m & S_IRWXO) {
        snprintf(err, errlen, "%s: accessible by others (chmod 600, or 640 "
                 "root:GROUP)", path);
        return -1;
    }
    if (m & S_IXGRP || (kind == ICSOE_FILE_KEY && (m & S_IRGRP))) {
        snprintf(err, errlen, "%s: accessible by group (chmod 600)", path);
        return -1;
    }
    return 0;
}
