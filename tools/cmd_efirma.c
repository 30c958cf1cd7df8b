/* icsoectl efirma show [--json] FILE
 *
 * Shows what mod_icsoe would read from a SAT certificate (the DER .cer as
 * SAT ships it, or PEM): type, RFC, representative, CURP, holder, issuer,
 * validity, serial.  Needs no configuration: a contractor's helpdesk runs it
 * on the file a contractor sends.  Exit 0 only for a FIEL that is valid
 * now; 2 for a well-formed certificate that cannot sign in (CSD, expired,
 * not yet valid); 1 for a file that is not a usable SAT certificate.  The
 * chain is NOT verified here (mod_ssl does that against the SAT CAs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "efirma.h"
#include "icsoectl.h"
#include "output.h"

static void print_json(const icsoe_efirma *e, icsoe_efirma_usable u)
{
    char nb[32], na[32];
    ctl_json j;

    ctl_format_time(e->not_before, nb, sizeof(nb));
    ctl_format_time(e->not_after, na, sizeof(na));
    ctl_json_init(&j, stdout);
    ctl_json_begin_object(&j);
    ctl_json_kv_string(&j, "type", icsoe_efirma_kind_name(e->kind));
    ctl_json_kv_string(&j, "rfc", e->rfc);
    ctl_json_kv_string(&j, "representative_rfc", e->rep_rfc[0] != '\0' ? e->rep_rfc : NULL);
    ctl_json_kv_string(&j, "curp", e->curp[0] != '\0' ? e->curp : NULL);
    ctl_json_kv_bool(&j, "rfc_check_digit_warning", e->rfc_check_digit_warning);
    ctl_json_kv_string(&j, "name", e->name);
    ctl_json_kv_string(&j, "issuer", e->issuer);
    ctl_json_kv_string(&j, "serial", e->serial);
    ctl_json_kv_string(&j, "not_before", nb);
    ctl_json_kv_string(&j, "not_after", na);
    ctl_json_kv_string(&j, "usable", icsoe_efirma_usable_name(u));
    ctl_json_kv_string(&j, "message", icsoe_efirma_usable_message(u));
    ctl_json_end_object(&j);
    ctl_json_finish(&j);
}

static int print_text(const icsoe_efirma *e, icsoe_efirma_usable u)
{
    char nb[32], na[32];
    ctl_table *t = ctl_table_new(2, NULL);
    int rc = 0;

    ctl_format_time(e->not_before, nb, sizeof(nb));
    ctl_format_time(e->not_after, na, sizeof(na));
    const char *rows[][2] = {
        { "type:", icsoe_efirma_kind_name(e->kind) },
        { "rfc:", e->rfc },
        { "representative rfc:", e->rep_rfc[0] != '\0' ? e->rep_rfc : NULL },
        { "curp:", e->curp[0] != '\0' ? e->curp : NULL },
        { "name:", e->name },
        { "issuer:", e->issuer },
        { "serial:", e->serial },
        { "not before:", nb },
        { "not after:", na },
        { "usable:", icsoe_efirma_usable_name(u) },
    };
    if (t == NULL)
        return -1;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]) && rc == 0; i++)
        rc = ctl_table_add(t, rows[i]);
    if (rc == 0)
        ctl_table_print(t, stdout);
    ctl_table_free(t);
    return rc;
}

int ctl_efirma_show(ctl *c, int argc, char **argv)
{
    char why[512];
    size_t len = 0;
    char *buf;
    icsoe_efirma e;
    icsoe_efirma_reason r;
    icsoe_efirma_usable u;
    int rc = ctl_simple_args(c, argc, argv, 1);

    if (rc != CTL_GO_ON)
        return rc;
    buf = ctl_read_file(argv[optind], ICSOE_EFIRMA_MAX_INPUT, &len, why, sizeof(why));
    if (buf == NULL) {
        ctl_err("%s", why);
        return CTL_EXIT_INPUT;
    }
    r = icsoe_efirma_parse(buf, len, &e);
    free(buf);
    if (r != ICSOE_EFIRMA_OK) {
        ctl_err("%s: %s (%s)", argv[optind], icsoe_efirma_reason_name(r),
                icsoe_efirma_reason_message(r));
        return CTL_EXIT_INPUT;
    }
    u = icsoe_efirma_check_usable(&e, time(NULL));
    if (c->json)
        print_json(&e, u);
    else if (print_text(&e, u) != 0) {
        ctl_err("out of memory");
        return CTL_EXIT_INTERNAL;
    }
    if (e.rfc_check_digit_warning)
        ctl_warn("an RFC in the certificate fails its check digit");
    if (u != ICSOE_EFIRMA_USABLE) {
        ctl_err("%s: cannot sign in: %s", argv[optind], icsoe_efirma_usable_name(u));
        return CTL_EXIT_CONFLICT;
    }
    return CTL_EXIT_OK;
}
