/* icsoectl contractor add|list|show|remove */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "icsoectl.h"
#include "input.h"
#include "output.h"

/* REPSE registration numbers ("AR12345/2022"): trimmed, letters, digits
 * and / . - only, so the value is safe anywhere it is shown. */
static int check_repse(const char *in, char **out, char *why, size_t whylen)
{
    size_t start = 0;
    size_t end = strlen(in);

    *out = NULL;
    while (start < end && isspace((unsigned char)in[start]))
        start++;
    while (end > start && isspace((unsigned char)in[end - 1]))
        end--;
    if (end == start || end - start > CTL_REPSE_MAX) {
        snprintf(why, whylen, "the REPSE number must have 1 to %d characters",
                 CTL_REPSE_MAX);
        return -1;
    }
    for (size_t i = start; i < end; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (!isalnum(ch) && ch != '/' && ch != '.' && ch != '-') {
            snprintf(why, whylen, "invalid REPSE number '%s': only letters, digits, "
                     "'/', '.' and '-' are allowed", in);
            return -1;
        }
    }
    *out = strndup(in + start, end - start);
    if (*out == NULL) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    for (char *p = *out; *p != '\0'; p++)
        *p = (char)toupper((unsigned char)*p);
    return 0;
}

static void json_contractor(ctl_json *j, const icsoe_contractor *k)
{
    ctl_json_kv_string(j, "rfc", k->rfc);
    ctl_json_kv_string(j, "name", k->name);
    ctl_json_kv_string(j, "repse", k->repse);
    ctl_json_kv_string(j, "email", k->email);
}

/* ---- add ---- */

typedef struct add_args {
    const char *rfc;
    const char *name;
    const char *repse;
    const char *email;
    int strict;
} add_args;

static int parse_add(ctl *c, int argc, char **argv, add_args *a)
{
    static const struct option longopts[] = {
        { "rfc", required_argument, NULL, 'r' },
        { "name", required_argument, NULL, 'n' },
        { "repse", required_argument, NULL, 'p' },
        { "email", required_argument, NULL, 'e' },
        { "strict", no_argument, NULL, 's' },
        CTL_COMMON_LONGOPTS,
        { NULL, 0, NULL, 0 }
    };
    int opt;

    while ((opt = ctl_getopt(c, argc, argv, CTL_SHORT, longopts)) != CTL_OPT_END) {
        switch (opt) {
        case CTL_OPT_HELP: return CTL_EXIT_OK;
        case CTL_OPT_ERROR: return CTL_EXIT_INPUT;
        case 'r': a->rfc = optarg; break;
        case 'n': a->name = optarg; break;
        case 'p': a->repse = optarg; break;
        case 'e': a->email = optarg; break;
        case 's': a->strict = 1; break;
        default: break;
        }
    }
    if (optind < argc)
        return ctl_usage_error("unexpected argument '%s'", argv[optind]);
    if (a->rfc == NULL || a->name == NULL)
        return ctl_usage_error("--rfc and --name are required");
    return CTL_GO_ON;
}

/* Fill k from the arguments; prints the first problem.  Every field is
 * checked before anything is written. */
static int check_add(const add_args *a, icsoe_contractor *k)
{
    char why[512];
    int warning;

    if (ctl_check_rfc(a->rfc, a->strict, k->rfc, &warning, why, sizeof(why)) != 0) {
        ctl_err("%s", why);
        return CTL_EXIT_INPUT;
    }
    if (warning)
        ctl_warn("%s", why);
    if (ctl_check_name(a->name, &k->name, why, sizeof(why)) != 0) {
        ctl_err("%s", why);
        return CTL_EXIT_INPUT;
    }
    if (a->repse != NULL && check_repse(a->repse, &k->repse, why, sizeof(why)) != 0) {
        ctl_err("%s", why);
        return CTL_EXIT_INPUT;
    }
    if (a->email != NULL) {
        if (ctl_check_email(a->email, why, sizeof(why)) != 0) {
            ctl_err("%s", why);
            return CTL_EXIT_INPUT;
        }
        k->email = strdup(a->email);
        if (k->email == NULL) {
            ctl_err("out of memory");
            return CTL_EXIT_INTERNAL;
        }
    }
    return CTL_EXIT_OK;
}

int ctl_contractor_add(ctl *c, int argc, char **argv)
{
    add_args a = { 0 };
    icsoe_contractor k;
    icsoe_status st;
    char what[128];
    int rc = parse_add(c, argc, argv, &a);

    memset(&k, 0, sizeof(k));
    if (rc != CTL_GO_ON)
        return rc;
    rc = check_add(&a, &k);
    if (rc != CTL_EXIT_OK)
        goto out;
    rc = ctl_open_dir(c);
    if (rc != CTL_EXIT_OK)
        goto out;
    st = icsoe_dir_contractor_add(c->dir, &k);
    if (st == ICSOE_ERR_EXISTS) {
        ctl_err("contractor %s already exists", k.rfc);
        rc = CTL_EXIT_CONFLICT;
        goto out;
    }
    if (st != ICSOE_OK) {
        snprintf(what, sizeof(what), "cannot add contractor %s", k.rfc);
        rc = ctl_dir_fail(c, st, what);
        goto out;
    }
    if (c->json) {
        ctl_json j;

        ctl_json_init(&j, stdout);
        ctl_json_begin_object(&j);
        json_contractor(&j, &k);
        ctl_json_end_object(&j);
        ctl_json_finish(&j);
    } else {
        printf("contractor %s added\n", k.rfc);
    }

out:
    icsoe_contractor_clear(&k);
    return rc;
}

/* ---- list ---- */

int ctl_contractor_list(ctl *c, int argc, char **argv)
{
    static const char *const headers[] = { "RFC", "NAME", "REPSE", "EMAIL" };
    icsoe_contractor *v = NULL;
    size_t n = 0;
    icsoe_status st;
    int rc = ctl_simple_args(c, argc, argv, 0);

    if (rc != CTL_GO_ON)
        return rc;
    rc = ctl_open_dir(c);
    if (rc != CTL_EXIT_OK)
        return rc;
    st = icsoe_dir_contractor_list(c->dir, &v, &n);
    if (st != ICSOE_OK)
        return ctl_dir_fail(c, st, "cannot list contractors");
    if (c->json) {
        ctl_json j;

        ctl_json_init(&j, stdout);
        ctl_json_begin_array(&j);
        for (size_t i = 0; i < n; i++) {
            ctl_json_begin_object(&j);
            json_contractor(&j, &v[i]);
            ctl_json_end_object(&j);
        }
        ctl_json_end_array(&j);
        ctl_json_finish(&j);
    } else {
        ctl_table *t = ctl_table_new(4, headers);

        for (size_t i = 0; t != NULL && i < n; i++) {
            const char *cells[4] = { v[i].rfc, v[i].name, v[i].repse, v[i].email };
            if (ctl_table_add(t, cells) != 0) {
                ctl_table_free(t);
                t = NULL;
            }
        }
        if (t == NULL) {
            ctl_err("out of memory");
            rc = CTL_EXIT_INTERNAL;
        } else {
            ctl_table_print(t, stdout);
            ctl_table_free(t);
            rc = CTL_EXIT_OK;
        }
    }
    icsoe_contractor_list_free(v, n);
    return rc == CTL_GO_ON ? CTL_EXIT_OK : rc;
}

/* ---- show ---- */

static int show_human(const icsoe_contractor *k, const icsoe_capturist *caps,
                      size_t ncaps)
{
    ctl_table *t = ctl_table_new(2, NULL);
    char count[32];
    int rc = CTL_EXIT_OK;

    snprintf(count, sizeof(count), "%zu", ncaps);
    {
        const char *rows[][2] = {
            { "rfc:", k->rfc }, { "name:", k->name }, { "repse:", k->repse },
            { "email:", k->email }, { "capturists:", count },
        };
        for (size_t i = 0; t != NULL && i < sizeof(rows) / sizeof(rows[0]); i++)
            if (ctl_table_add(t, rows[i]) != 0)
                rc = CTL_EXIT_INTERNAL;
    }
    for (size_t i = 0; t != NULL && i < ncaps; i++) {
        char line[512];
        const char *row[2] = { "", line };

        snprintf(line, sizeof(line), "%s  %s  (%s)", caps[i].curp,
                 caps[i].name != NULL ? caps[i].name : "",
                 icsoe_capturist_status_name(caps[i].status));
        if (ctl_table_add(t, row) != 0)
            rc = CTL_EXIT_INTERNAL;
    }
    if (t == NULL || rc != CTL_EXIT_OK) {
        ctl_err("out of memory");
        ctl_table_free(t);
        return CTL_EXIT_INTERNAL;
    }
    ctl_table_print(t, stdout);
    ctl_table_free(t);
    return CTL_EXIT_OK;
}

static void show_json(const icsoe_contractor *k, const icsoe_capturist *caps,
                      size_t ncaps)
{
    ctl_json j;

    ctl_json_init(&j, stdout);
    ctl_json_begin_object(&j);
    json_contractor(&j, k);
    ctl_json_key(&j, "capturists");
    ctl_json_begin_array(&j);
    for (size_t i = 0; i < ncaps; i++) {
        ctl_json_begin_object(&j);
        ctl_json_kv_string(&j, "curp", caps[i].curp);
        ctl_json_kv_string(&j, "name", caps[i].name);
        ctl_json_kv_string(&j, "status", icsoe_capturist_status_name(caps[i].status));
        ctl_json_end_object(&j);
    }
    ctl_json_end_array(&j);
    ctl_json_end_object(&j);
    ctl_json_finish(&j);
}

int ctl_contractor_show(ctl *c, int argc, char **argv)
{
    char rfc[ICSOE_RFC_BUFSZ];
    char what[128];
    icsoe_contractor k;
    icsoe_capturist *caps = NULL;
    size_t ncaps = 0;
    icsoe_status st;
    int rc = ctl_simple_args(c, argc, argv, 1);

    memset(&k, 0, sizeof(k));
    if (rc != CTL_GO_ON)
        return rc;
    rc = ctl_arg_rfc(argv[optind], rfc);
    if (rc != CTL_EXIT_OK)
        return rc;
    rc = ctl_open_dir(c);
    if (rc != CTL_EXIT_OK)
        return rc;
    st = icsoe_dir_contractor_get(c->dir, rfc, &k);
    if (st == ICSOE_ERR_NOT_FOUND) {
        ctl_err("contractor %s does not exist", rfc);
        return CTL_EXIT_CONFLICT;
    }
    snprintf(what, sizeof(what), "cannot read contractor %s", rfc);
    if (st != ICSOE_OK)
        return ctl_dir_fail(c, st, what);
    st = icsoe_dir_capturist_list(c->dir, rfc, -1, &caps, &ncaps);
    if (st != ICSOE_OK) {
        rc = ctl_dir_fail(c, st, what);
        goto out;
    }
    if (c->json)
        show_json(&k, caps, ncaps);
    else
        rc = show_human(&k, caps, ncaps);

out:
    icsoe_capturist_list_free(caps, ncaps);
    icsoe_contractor_clear(&k);
    return rc;
}

/* ---- remove ---- */

int ctl_contractor_remove(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "force", no_argument, NULL, 'f' },
        CTL_COMMON_LONGOPTS,
        { NULL, 0, NULL, 0 }
    };
    char rfc[ICSOE_RFC_BUFSZ];
    char what[128];
    int force = 0;
    int opt;
    int rc;
    icsoe_status st;

    while ((opt = ctl_getopt(c, argc, argv, CTL_SHORT "f", longopts)) != CTL_OPT_END) {
        if (opt == CTL_OPT_HELP)
            return CTL_EXIT_OK;
        if (opt == CTL_OPT_ERROR)
            return CTL_EXIT_INPUT;
        if (opt == 'f')
            force = 1;
    }
    if (argc - optind != 1)
        return ctl_usage_error("expected exactly one RFC");
    rc = ctl_arg_rfc(argv[optind], rfc);
    if (rc != CTL_EXIT_OK)
        return rc;
    rc = ctl_open_dir(c);
    if (rc != CTL_EXIT_OK)
        return rc;
    st = icsoe_dir_contractor_remove(c->dir, rfc, force);
    if (st == ICSOE_ERR_NOT_FOUND) {
        ctl_err("contractor %s does not exist", rfc);
        return CTL_EXIT_CONFLICT;
    }
    if (st == ICSOE_ERR_EXISTS) {
        ctl_err("contractor %s still has capturists assigned; "
                "'contractor remove --force %s' revokes it from them", rfc, rfc);
        return CTL_EXIT_CONFLICT;
    }
    if (st != ICSOE_OK) {
        snprintf(what, sizeof(what), "cannot remove contractor %s", rfc);
        return ctl_dir_fail(c, st, what);
    }
    if (c->json) {
        ctl_json j;

        ctl_json_init(&j, stdout);
        ctl_json_begin_object(&j);
        ctl_json_kv_string(&j, "rfc", rfc);
        ctl_json_kv_bool(&j, "removed", 1);
        ctl_json_end_object(&j);
        ctl_json_finish(&j);
    } else {
        printf("contractor %s removed\n", rfc);
    }
    return ctl_posix_group_gone(c, rfc);
}
