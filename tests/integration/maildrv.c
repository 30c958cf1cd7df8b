/* maildrv: drives libicsoe's mailer for the integration tests.
 *
 *   maildrv -c CONF send TO NAME SUBJECT [TEXTFILE [HTMLFILE]]
 *   maildrv -c CONF template NAME TO TONAME [var=value...]
 *   maildrv -c CONF build TO NAME SUBJECT      (prints the message, no I/O)
 *   maildrv -c CONF issue CURP activation|reset mail|nomail
 *                                              (icsoe_account_issue_link; prints link=)
 *   maildrv -c CONF notify CURP                (icsoe_account_notify_password_set)
 *
 * NAME/TONAME "" means no display name.  Prints "status=<name>" and, on
 * failure, "fail=<temporary|refused|configuration>" and "error=<message>";
 * exits 0 only on ICSOE_OK. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "account.h"
#include "conf.h"
#include "dir.h"
#include "err.h"
#include "mail.h"
#include "template.h"

#define MAX_VARS 16
#define BODY_MAX (512 * 1024)

static const char default_text[] =
    "Hola:\n\nEste es un mensaje de prueba de ICSOE.\n.\nFin del mensaje.\n";
static const char default_html[] =
    "<p>Hola:</p>\n<p>Este es un mensaje de prueba de ICSOE.</p>\n";

static int usage(void)
{
    fprintf(stderr,
            "usage: maildrv -c CONF send TO NAME SUBJECT [TEXTFILE [HTMLFILE]]\n"
            "       maildrv -c CONF template NAME TO TONAME [var=value...]\n"
            "       maildrv -c CONF build TO NAME SUBJECT\n"
            "       maildrv -c CONF issue CURP activation|reset mail|nomail\n"
            "       maildrv -c CONF notify CURP\n");
    return 2;
}

static int report_fail(icsoe_status st, icsoe_mail_fail fail, const char *err)
{
    printf("status=%s\n", icsoe_status_name(st));
    if (st != ICSOE_OK) {
        printf("fail=%s\n", icsoe_mail_fail_name(fail));
        printf("error=%s\n", err);
    }
    return st == ICSOE_OK ? 0 : 1;
}

static int report(icsoe_status st, const char *err)
{
    return report_fail(st, ICSOE_MAIL_CONFIG, err);
}

static char *read_body(const char *path)
{
    char err[256];
    char *s = icsoe_template_read_file(path, BODY_MAX, NULL, err, sizeof err);
    if (s == NULL)
        fprintf(stderr, "maildrv: %s\n", err);
    return s;
}

static int cmd_send(const icsoe_conf *conf, int argc, char **argv, int build_only)
{
    char err[1024] = "";
    char *text = NULL, *html = NULL;
    icsoe_mail m = { 0 };
    int rc = 1;

    if (argc < 3 || argc > 5 || (build_only && argc != 3))
        return usage();
    m.to_addr = argv[0];
    m.to_name = argv[1][0] != '\0' ? argv[1] : NULL;
    m.subject = argv[2];
    m.text = default_text;
    m.html = default_html;
    if (argc >= 4) {
        text = read_body(argv[3]);
        if (text == NULL)
            goto done;
        m.text = text;
    }
    if (argc == 5) {
        html = read_body(argv[4]);
        if (html == NULL)
            goto done;
        m.html = html;
    }
    if (build_only) {
        char *msg = icsoe_mail_build(conf, &m, time(NULL), err, sizeof err);
        if (msg == NULL) {
            rc = report(ICSOE_ERR_INVALID_INPUT, err);
            goto done;
        }
        fputs(msg, stdout);
        free(msg);
        rc = 0;
        goto done;
    }
    {
        icsoe_mail_fail fail = ICSOE_MAIL_OK;
        icsoe_status st = icsoe_mail_send(conf, &m, &fail, err, sizeof err);
        rc = report_fail(st, fail, err);
    }

done:
    free(text);
    free(html);
    return rc;
}

static int cmd_template(const icsoe_conf *conf, int argc, char **argv)
{
    icsoe_tvar vars[MAX_VARS];
    size_t nvars = 0;
    char err[1024] = "";

    if (argc < 3 || argc - 3 > MAX_VARS)
        return usage();
    for (int i = 3; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (eq == NULL)
            return usage();
        *eq = '\0';
        vars[nvars].name = argv[i];
        vars[nvars].value = eq + 1;
        nvars++;
    }
    {
        icsoe_mail_fail fail = ICSOE_MAIL_OK;
        icsoe_status st = icsoe_mail_send_template(conf, argv[0], vars, nvars, argv[1],
                                                   argv[2][0] != '\0' ? argv[2] : NULL,
                                                   &fail, err, sizeof err);
        return report_fail(st, fail, err);
    }
}

static void log_stderr(void *ctx, int level, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "log<%d>: %s\n", level, msg);
}

/* issue / notify: the capturist is read from the directory first, as the
 * front ends do. */
static int cmd_account(const icsoe_conf *conf, int notify, int argc, char **argv)
{
    icsoe_logger lg = { log_stderr, NULL };
    icsoe_capturist c;
    char link[1024] = "";
    char err[1024] = "";
    icsoe_dir *d;
    icsoe_status st;
    icsoe_mail_fail fail = ICSOE_MAIL_OK;
    int purpose = 0, send = 0;

    if (notify ? argc != 1 : argc != 3)
        return usage();
    if (!notify) {
        purpose = strcmp(argv[1], "activation") == 0 ? ICSOE_TOKEN_ACTIVATION
                  : strcmp(argv[1], "reset") == 0    ? ICSOE_TOKEN_RESET
                                                     : 0;
        send = strcmp(argv[2], "mail") == 0;
        if (purpose == 0 || (!send && strcmp(argv[2], "nomail") != 0))
            return usage();
    }
    d = icsoe_dir_open(conf, &lg);
    if (d == NULL)
        return report(ICSOE_ERR_INTERNAL, "out of memory");
    st = icsoe_dir_capturist_get(d, argv[0], &c);
    if (st != ICSOE_OK) {
        snprintf(err, sizeof err, "%s", icsoe_dir_reason(d));
        icsoe_dir_close(d);
        return report(st, err);
    }
    if (notify)
        st = icsoe_account_notify_password_set(d, conf, &c, &fail, err, sizeof err);
    else
        st = icsoe_account_issue_link(d, conf, &c, (icsoe_token_purpose)purpose, send,
                                      link, sizeof link, &fail, err, sizeof err);
    if (link[0] != '\0')
        printf("link=%s\n", link);
    icsoe_capturist_clear(&c);
    icsoe_dir_close(d);
    return report_fail(st, fail, err);
}

int main(int argc, char **argv)
{
    char err[512];
    icsoe_conf *conf;
    int rc;

    if (argc < 4 || strcmp(argv[1], "-c") != 0)
        return usage();
    if (icsoe_mail_global_init() != 0) {
        fprintf(stderr, "maildrv: curl_global_init failed\n");
        return 1;
    }
    conf = icsoe_conf_load(argv[2], err, sizeof err);
    if (conf == NULL) {
        printf("status=conf\nerror=%s\n", err);
        return 1;
    }
    if (strcmp(argv[3], "send") == 0)
        rc = cmd_send(conf, argc - 4, argv + 4, 0);
    else if (strcmp(argv[3], "build") == 0)
        rc = cmd_send(conf, argc - 4, argv + 4, 1);
    else if (strcmp(argv[3], "template") == 0)
        rc = cmd_template(conf, argc - 4, argv + 4);
    else if (strcmp(argv[3], "issue") == 0)
        rc = cmd_account(conf, 0, argc - 4, argv + 4);
    else if (strcmp(argv[3], "notify") == 0)
        rc = cmd_account(conf, 1, argc - 4, argv + 4);
    else
        rc = usage();
    icsoe_conf_free(conf);
    return rc;
}
