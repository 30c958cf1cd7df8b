/* icsoectl validate curp|rfc [--strict] VALUE...
 *
 * Needs no configuration and no directory: sysadmins run it on import files
 * before anything is set up.  Each value gets a verdict (ok, warning,
 * invalid) and a reason token; exit 0 only when none is invalid.  A wrong
 * RFC check digit is a warning (SAT has issued some such RFCs) unless
 * --strict; a wrong CURP check digit is always invalid. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "icsoectl.h"
#include "output.h"

typedef struct verdict {
    const char *input;
    char normalized[ICSOE_RFC_BUFSZ]; /* big enough for either kind */
    const char *verdict;              /* "ok", "warning", "invalid" */
    const char *reason;               /* English token */
    const char *message;              /* Spanish, for end users */
} verdict;

static void judge_curp(const char *in, verdict *v)
{
    char out[ICSOE_CURP_LEN + 1];
    icsoe_curp_reason r = icsoe_curp_check(in, out);

    v->input = in;
    snprintf(v->normalized, sizeof(v->normalized), "%s", out);
    v->verdict = r == ICSOE_CURP_OK ? "ok" : "invalid";
    v->reason = icsoe_curp_reason_name(r);
    v->message = icsoe_curp_reason_message(r);
}

static void judge_rfc(const char *in, int strict, verdict *v)
{
    icsoe_rfc_reason r = icsoe_rfc_check(in, v->normalized);

    v->input = in;
    if (r == ICSOE_RFC_OK)
        v->verdict = "ok";
    else if (r == ICSOE_RFC_BAD_CHECK_DIGIT && !strict)
        v->verdict = "warning";
    else
        v->verdict = "invalid";
    v->reason = icsoe_rfc_reason_name(r);
    v->message = icsoe_rfc_reason_message(r);
}

static void print_json(const verdict *v, size_t n, const char *kind)
{
    ctl_json j;

    ctl_json_init(&j, stdout);
    ctl_json_begin_array(&j);
    for (size_t i = 0; i < n; i++) {
        ctl_json_begin_object(&j);
        ctl_json_kv_string(&j, "kind", kind);
        ctl_json_kv_string(&j, "input", v[i].input);
        ctl_json_kv_string(&j, "normalized",
                           v[i].normalized[0] != '\0' ? v[i].normalized : NULL);
        ctl_json_kv_string(&j, "verdict", v[i].verdict);
        ctl_json_kv_string(&j, "reason", v[i].reason);
        ctl_json_kv_string(&j, "message", v[i].message);
        ctl_json_end_object(&j);
    }
    ctl_json_end_array(&j);
    ctl_json_finish(&j);
}

static int print_table(const verdict *v, size_t n)
{
    ctl_table *t = ctl_table_new(3, NULL);

    if (t == NULL)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        const char *cells[3] = { v[i].input, v[i].verdict, v[i].reason };
        if (ctl_table_add(t, cells) != 0)
            goto oom;
    }
    ctl_table_print(t, stdout);
    ctl_table_free(t);
    return 0;

oom:
    ctl_table_free(t);
    ctl_err("out of memory");
    return -1;
}

static int validate(ctl *c, int argc, char **argv, int is_rfc)
{
    static const struct option longopts[] = {
        { "strict", no_argument, NULL, 's' },
        CTL_COMMON_LONGOPTS,
        { NULL, 0, NULL, 0 }
    };
    int strict = 0;
    int opt;
    int rc = CTL_EXIT_OK;
    size_t n;
    verdict *v;

    while ((opt = ctl_getopt(c, argc, argv, CTL_SHORT, longopts)) != CTL_OPT_END) {
        if (opt == CTL_OPT_HELP)
            return CTL_EXIT_OK;
        if (opt == CTL_OPT_ERROR)
            return CTL_EXIT_INPUT;
        if (opt == 's')
            strict = 1;
    }
    if (optind >= argc)
        return ctl_usage_error("no value to check");
    n = (size_t)(argc - optind);
    v = calloc(n, sizeof(*v));
    if (v == NULL) {
        ctl_err("out of memory");
        return CTL_EXIT_INTERNAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (is_rfc)
            judge_rfc(argv[optind + (int)i], strict, &v[i]);
        else
            judge_curp(argv[optind + (int)i], &v[i]);
        if (strcmp(v[i].verdict, "invalid") == 0)
            rc = CTL_EXIT_INPUT;
    }
    if (c->json)
        print_json(v, n, is_rfc ? "rfc" : "curp");
    else if (print_table(v, n) != 0)
        rc = CTL_EXIT_INTERNAL;
    free(v);
    return rc;
}

int ctl_validate_curp(ctl *c, int argc, char **argv)
{
    return validate(c, argc, argv, 0);
}

int ctl_validate_rfc(ctl *c, int argc, char **argv)
{
    return validate(c, argc, argv, 1);
}
