/* icsoectl capturist posix enable|disable CURP
 *          contractor posix enable RFC --group NAME | disable RFC
 * The optional Unix identities NSS needs for shell logins (docs/ssh.md):
 * numbers come from the directory's id pool (lib/dir_posix.c), so two
 * administrators enabling capturists at once never share a uidNumber. */
#include <stdio.h>
#include <string.h>

#include "icsoectl.h"
#include "output.h"

/* The library's reason says which range is exhausted, that the keys are
 * missing, or which group name is taken: show it. */
static int posix_fail(ctl *c, icsoe_status st, const char *what)
{
    const char *reason = icsoe_dir_reason(c->dir);

    if (reason != NULL && *reason != '\0')
        ctl_err("%s: %s", what, reason);
    else
        ctl_err("%s: %s", what, icsoe_status_name(st));
    return ctl_exit_for(st);
}

static void print_ids(ctl *c, const char *kind, const char *id, const char *action,
                      const char *name, long uid, long gid)
{
    if (c->json) {
        ctl_json j;

        ctl_json_init(&j, stdout);
        ctl_json_begin_object(&j);
        ctl_json_kv_string(&j, kind, id);
        ctl_json_kv_string(&j, "action", action);
        if (name != NULL)
            ctl_json_kv_string(&j, "group", name);
        if (uid >= 0)
            ctl_json_kv_int(&j, "uid", uid);
        if (gid >= 0)
            ctl_json_kv_int(&j, "gid", gid);
        ctl_json_end_object(&j);
        ctl_json_finish(&j);
        return;
    }
    printf("%s %s: %s", kind, id, action);
    if (name != NULL)
        printf(" group %s", name);
    if (uid >= 0)
        printf(" uid %ld", uid);
    if (gid >= 0)
        printf(" gid %ld", gid);
    putchar('\n');
}

/* "enable" -> 1, "disable" -> 0, "sync" -> 2 (when allowed), else -1
 * after a usage error. */
static int parse_action(const char *s, int sync_ok)
{
    if (strcmp(s, "enable") == 0)
        return 1;
    if (strcmp(s, "disable") == 0)
        return 0;
    if (sync_ok && strcmp(s, "sync") == 0)
        return 2;
    ctl_usage_error("expected 'enable'%s or 'disable', got '%s'",
                    sync_ok ? ", 'sync'" : "", s);
    return -1;
}

int ctl_capturist_posix(ctl *c, int argc, char **argv)
{
    char curp[ICSOE_CURP_LEN + 1], what[128];
    icsoe_status st;
    long uid = -1, gid = -1;
    int enable, rc = ctl_simple_args(c, argc, argv, 2);

    if (rc != CTL_GO_ON)
        return rc;
    enable = parse_action(argv[optind], 1);
    if (enable < 0)
        return CTL_EXIT_INPUT;
    rc = ctl_arg_curp(argv[optind + 1], curp);
    if (rc == CTL_EXIT_OK)
        rc = ctl_open_dir(c);
    if (rc != CTL_EXIT_OK)
        return rc;
    if (enable == 2) {
        st = icsoe_dir_posix_sync(c->dir, curp);
        if (st != ICSOE_OK)
            return posix_fail(c, st, "cannot update the Unix group memberships");
        print_ids(c, "capturist", curp, "Unix group memberships updated", NULL, -1, -1);
        return CTL_EXIT_OK;
    }
    snprintf(what, sizeof(what), "cannot %s the Unix identity of capturist %s",
             enable ? "enable" : "disable", curp);
    st = enable ? icsoe_dir_posix_enable(c->dir, curp, &uid, &gid)
                : icsoe_dir_posix_disable(c->dir, curp);
    if (enable && st == ICSOE_ERR_EXISTS && uid >= 0) {
        ctl_err("capturist %s already has a Unix identity (uid %ld)", curp, uid);
        return CTL_EXIT_CONFLICT;
    }
    if (st != ICSOE_OK)
        return posix_fail(c, st, what);
    print_ids(c, "capturist", curp, enable ? "Unix identity enabled"
                                           : "Unix identity disabled",
              NULL, uid, gid);
    return CTL_EXIT_OK;
}

int ctl_contractor_posix(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "group", required_argument, NULL, 'g' },
        CTL_COMMON_LONGOPTS,
        { NULL, 0, NULL, 0 }
    };
    char rfc[ICSOE_RFC_BUFSZ], what[160];
    const char *group = NULL;
    icsoe_status st;
    long gid = -1;
    int opt, enable, rc;

    while ((opt = ctl_getopt(c, argc, argv, CTL_SHORT, longopts)) != CTL_OPT_END) {
        if (opt == CTL_OPT_HELP)
            return CTL_EXIT_OK;
        if (opt == CTL_OPT_ERROR)
            return CTL_EXIT_INPUT;
        if (opt == 'g')
            group = optarg;
    }
    if (argc - optind != 2)
        return ctl_usage_error("expected 'enable' or 'disable' and an RFC");
    enable = parse_action(argv[optind], 0);
    if (enable < 0)
        return CTL_EXIT_INPUT;
    if (enable && group == NULL)
        return ctl_usage_error("enable needs --group NAME");
    if (!enable && group != NULL)
        return ctl_usage_error("--group is only for enable");
    if (group != NULL && !icsoe_unix_name_ok(group)) {
        ctl_err("invalid group name '%s': use [a-z_][a-z0-9_-]*, at most 32 "
                "characters", group);
        return CTL_EXIT_INPUT;
    }
    rc = ctl_arg_rfc(argv[optind + 1], rfc);
    if (rc == CTL_EXIT_OK)
        rc = ctl_open_dir(c);
    if (rc != CTL_EXIT_OK)
        return rc;
    snprintf(what, sizeof(what), "cannot %s the Unix group of contractor %s",
             enable ? "enable" : "disable", rfc);
    st = enable ? icsoe_dir_posix_group_enable(c->dir, rfc, group, &gid)
                : icsoe_dir_posix_group_disable(c->dir, rfc);
    if (st == ICSOE_ERR_NOT_FOUND && enable) {
        ctl_err("contractor %s does not exist", rfc);
        return CTL_EXIT_CONFLICT;
    }
    if (st == ICSOE_ERR_NOT_FOUND) {
        ctl_err("contractor %s has no Unix group", rfc);
        return CTL_EXIT_CONFLICT;
    }
    if (st != ICSOE_OK)
        return posix_fail(c, st, what);
    print_ids(c, "contractor", rfc, enable ? "Unix group enabled" : "Unix group disabled",
              group, -1, gid);
    return CTL_EXIT_OK;
}

int ctl_posix_sync(ctl *c, const char *curp)
{
    char what[128];
    icsoe_status st;

    if (c->conf == NULL || c->conf->unix_uid_min == 0)
        return CTL_EXIT_OK;     /* Unix identities are off: nothing to keep */
    st = icsoe_dir_posix_sync(c->dir, curp);
    if (st == ICSOE_OK)
        return CTL_EXIT_OK;
    snprintf(what, sizeof(what), "capturist %s: Unix group memberships not updated "
             "(run 'icsoectl capturist posix sync %s')", curp, curp);
    return posix_fail(c, st, what);
}

int ctl_posix_group_gone(ctl *c, const char *rfc)
{
    char what[128];
    icsoe_status st;

    if (c->conf == NULL || c->conf->unix_uid_min == 0)
        return CTL_EXIT_OK;
    st = icsoe_dir_posix_group_disable(c->dir, rfc);
    if (st == ICSOE_OK || st == ICSOE_ERR_NOT_FOUND)
        return CTL_EXIT_OK;     /* removed, or it never had one */
    snprintf(what, sizeof(what), "contractor %s: its Unix group was not removed "
             "(run 'icsoectl contractor posix disable %s')", rfc, rfc);
    return posix_fail(c, st, what);
}
