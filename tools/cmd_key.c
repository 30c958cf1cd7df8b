/* icsoectl key generate FILE [--force]: a new session key for mod_icsoe
 * (ICSOESessionKeyFile), written with mode 0600 by libicsoe.  Needs no
 * configuration.  The key itself is never printed. */
#include <stdio.h>
#include <unistd.h>
#include "icsoectl.h"
#include "output.h"
#include "session.h"

int ctl_key_generate(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "force", no_argument, NULL, 'f' },
        CTL_COMMON_LONGOPTS,
        { NULL, 0, NULL, 0 }
    };
    char err[1024] = "";
    int force = 0;
    int opt;
    const char *path;
    int existed;

    while ((opt = ctl_getopt(c, argc, argv, CTL_SHORT "f", longopts)) != CTL_OPT_END) {
        if (opt == CTL_OPT_HELP)
            return CTL_EXIT_OK;
        if (opt == CTL_OPT_ERROR)
            return CTL_EXIT_INPUT;
        if (opt == 'f')
            force = 1;
    }
    if (argc - optind != 1)
        return ctl_usage_error("expected exactly one FILE");
    path = argv[optind];
    existed = access(path, F_OK) == 0;
    if (icsoe_keyfile_generate(path, force, err, sizeof(err)) != 0) {
        ctl_err("%s", err[0] != '\0' ? err : "cannot write the key file");
        /* Refusing to overwrite is a conflict; anything else is the
         * filesystem refusing, i.e. bad input (a path we cannot use). */
        return existed && !force ? CTL_EXIT_CONFLICT : CTL_EXIT_INPUT;
    }
    if (c->json) {
        ctl_json j;

        ctl_json_init(&j, stdout);
        ctl_json_begin_object(&j);
        ctl_json_kv_string(&j, "file", path);
        ctl_json_kv_bool(&j, "replaced", existed);
        ctl_json_end_object(&j);
        ctl_json_finish(&j);
    } else {
        printf("%s session key written to %s (mode 0600)\n",
               existed ? "replacement" : "new", path);
    }
    return CTL_EXIT_OK;
}
