/* Account workflows shared by icsoectl and mod_icsoe: issuing an activation
 * or reset link (token in LDAP, link by mail) and the "password registered"
 * notice.
 *
 * Links are built from conf->activation_url only, never from a request's
 * Host header, so a forged Host cannot point a capturist's link at someone
 * else's site.
 *
 * valid_until in the mails reads "25/11/2026 12:30 CST" (day/month/year,
 * 24-hour clock, the zone's abbreviation): local time of the configured
 * timezone (default America/Mexico_City), whatever TZ the process has. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "err.h"
#include "account.h"
#include "input.h"
#include "mail.h"
#include "secure.h"
#include "tz.h"

#define DEFAULT_TOKEN_LIFETIME (72 * 3600)
#define DEFAULT_RESET_LIFETIME 3600
#define VALID_UNTIL_MAX 64
#define NAME_MAX_BYTES 512


static int unset(const char *s)
{
    return s == NULL || s[0] == '\0';
}

static const char *conf_name(const icsoe_conf *conf)
{
    return conf->path != NULL ? conf->path : "the configuration";
}

/* Everything a mail needs, checked before anything is written so a
 * misconfigured site never stores a token it cannot send. */
static icsoe_status check_can_mail(const icsoe_conf *conf, const icsoe_capturist *c,
                                   char *err, size_t errlen)
{
    const char *missing = NULL;

    if (unset(conf->smtp_url))
        missing = "smtp_url";
    else if (unset(conf->mail_from))
        missing = "mail_from";
    if (missing != NULL) {
        icsoe_set_err(err, errlen, "cannot send mail: %s is not set in %s", missing,
                conf_name(conf));
        return ICSOE_ERR_INVALID_INPUT;
    }
    if (c->email == NULL || !icsoe_email_valid(c->email)) {
        icsoe_set_err(err, errlen, "capturist %s has no valid email address", c->curp);
        return ICSOE_ERR_INVALID_INPUT;
    }
    /* Names come from LDAP: no line breaks into mail headers. */
    if (c->name != NULL && !icsoe_text_is_safe(c->name, strnlen(c->name, NAME_MAX_BYTES + 1))) {
        icsoe_set_err(err, errlen, "capturist %s has a name with control characters or invalid UTF-8",
                c->curp);
        return ICSOE_ERR_INVALID_INPUT;
    }
    return ICSOE_OK;
}

/* activation_url + ("?" | "&" | "") + "t=" + token, malloc'd. */
static char *build_link(const char *url, const char *token)
{
    size_t n = strlen(url);
    const char *sep = "?";
    char *out;
    size_t len;

    if (strchr(url, '?') != NULL)
        sep = (url[n - 1] == '?' || url[n - 1] == '&') ? "" : "&";
    len = n + strlen(sep) + 2 + strlen(token) + 1;
    out = malloc(len);
    if (out != NULL)
        snprintf(out, len, "%s%st=%s", url, sep, token);
    return out;
}

static const char *login_url(const icsoe_conf *conf)
{
    return conf->login_url != NULL ? conf->login_url : "";
}

static const char *site_name(const icsoe_conf *conf)
{
    return unset(conf->site_name) ? "ICSOE" : conf->site_name;
}

static icsoe_status check_issue_args(const icsoe_conf *conf, const icsoe_capturist *c,
                                     icsoe_token_purpose purpose, int send,
                                     char *link_out, size_t link_len,
                                     char *err, size_t errlen)
{
    if (purpose != ICSOE_TOKEN_ACTIVATION && purpose != ICSOE_TOKEN_RESET) {
        icsoe_set_err(err, errlen, "unknown token purpose %d", (int)purpose);
        return ICSOE_ERR_INVALID_INPUT;
    }
    if (c->curp[0] == '\0') {
        icsoe_set_err(err, errlen, "no CURP");
        return ICSOE_ERR_INVALID_INPUT;
    }
    if (unset(conf->activation_url)) {
        icsoe_set_err(err, errlen, "cannot build the link: activation_url is not set in %s",
                conf_name(conf));
        return ICSOE_ERR_INVALID_INPUT;
    }
    if (strchr(conf->activation_url, '#') != NULL) {
        icsoe_set_err(err, errlen, "activation_url must not contain a fragment ('#')");
        return ICSOE_ERR_INVALID_INPUT;
    }
    if (link_out != NULL && link_len < strlen(conf->activation_url) + 3 + ICSOE_TOKEN_LEN + 1) {
        icsoe_set_err(err, errlen, "link buffer too small");
        return ICSOE_ERR_INVALID_INPUT;
    }
    return send ? check_can_mail(conf, c, err, errlen) : ICSOE_OK;
}

/* The delivery record follows every mail (and a link handed out
 * unmailed clears it): without it a token that never left looks like a
 * mailed one.  A failure to record is logged by the directory and does
 * not change the mail's own outcome. */
static void record(icsoe_dir *d, const char *curp, const char *kind,
                   icsoe_status st, icsoe_mail_fail fail, const char *why)
{
    icsoe_mail_state state = ICSOE_MAIL_STATE_SENT;

    if (d == NULL)
        return;
    if (st != ICSOE_OK)
        state = fail == ICSOE_MAIL_REFUSED ? ICSOE_MAIL_STATE_REFUSED : ICSOE_MAIL_STATE_UNSENT;
    (void)icsoe_dir_capturist_record_mail(d, curp, kind, state, time(NULL),
                                          st == ICSOE_OK ? NULL : why);
}

/* template: the mail's template (NULL: the purpose's own); the delivery
 * record always names the purpose. */
static icsoe_status issue_link(icsoe_dir *d, const icsoe_conf *conf,
                               const icsoe_capturist *c, icsoe_token_purpose purpose,
                               const char *template, int send,
                               char *link_out, size_t link_len,
                               icsoe_mail_fail *fail, char *err, size_t errlen)
{
    char token[ICSOE_TOKEN_LEN + 1] = "";
    char hash[ICSOE_TOKEN_HASH_HEX + 1] = "";
    char valid_until[VALID_UNTIL_MAX];
    char *link = NULL;
    int lifetime;
    time_t expiry;
    icsoe_status st;
    icsoe_mail_fail why = ICSOE_MAIL_CONFIG;
    const char *kind = purpose == ICSOE_TOKEN_ACTIVATION ? "activation" : "reset";

    if (fail != NULL)
        *fail = ICSOE_MAIL_CONFIG; /* until a send says otherwise */
    if (d == NULL || conf == NULL || c == NULL) {
        icsoe_set_err(err, errlen, "no directory, configuration or capturist");
        return ICSOE_ERR_INVALID_INPUT;
    }
    st = check_issue_args(conf, c, purpose, send, link_out, link_len, err, errlen);
    if (st != ICSOE_OK)
        return st;
    if (purpose == ICSOE_TOKEN_ACTIVATION)
        lifetime = conf->token_lifetime > 0 ? conf->token_lifetime : DEFAULT_TOKEN_LIFETIME;
    else
        lifetime = conf->reset_token_lifetime > 0 ? conf->reset_token_lifetime
                                                  : DEFAULT_RESET_LIFETIME;

    st = ICSOE_ERR_INTERNAL;
    if (icsoe_token_new(token, hash) != 0) {
        icsoe_set_err(err, errlen, "random number generator failed");
        goto done;
    }
    link = build_link(conf->activation_url, token);
    if (link == NULL) {
        icsoe_set_err(err, errlen, "out of memory");
        goto done;
    }
    expiry = time(NULL) + lifetime;
    /* Storing voids any older token of the account. */
    st = icsoe_dir_token_store(d, c->curp, purpose, hash, expiry);
    if (st != ICSOE_OK) {
        icsoe_set_err(err, errlen, "cannot store the %s token for %s: %s",
                icsoe_token_purpose_name(purpose), c->curp, icsoe_dir_reason(d));
        goto done;
    }
    if (link_out != NULL)
        snprintf(link_out, link_len, "%s", link);
    if (send) {
        char mailerr[512] = "";
        /* the configured zone (loaded once with the configuration), never the
         * process's TZ (shared by every thread of an Apache child) */
        icsoe_tz_format(conf->tz, expiry, valid_until, sizeof valid_until);
        const icsoe_tvar vars[] = {
            { "site_name", site_name(conf) },
            { "name", c->name },
            { "curp", c->curp },
            { "link", link },
            { "valid_until", valid_until },
            { "login_url", login_url(conf) },
        };
        st = icsoe_mail_send_template(conf, template != NULL ? template : kind,
                                      vars, sizeof vars / sizeof vars[0],
                                      c->email, c->name, &why, mailerr, sizeof mailerr);
        if (st != ICSOE_OK)
            icsoe_set_err(err, errlen, "the %s link for %s was stored but not mailed: %s",
                    icsoe_token_purpose_name(purpose), c->curp, mailerr);
        record(d, c->curp, kind, st, why, mailerr);
        if (fail != NULL)
            *fail = st == ICSOE_OK ? ICSOE_MAIL_OK : why;
    } else {
        /* handed out by other means: no mail to account for */
        (void)icsoe_dir_capturist_record_mail(d, c->curp, kind, ICSOE_MAIL_STATE_NONE, 0, NULL);
        if (fail != NULL)
            *fail = ICSOE_MAIL_OK;
    }

done:
    icsoe_wipe(token, sizeof token);
    icsoe_wipe(hash, sizeof hash);
    icsoe_free_secret(link);
    return st;
}

icsoe_status icsoe_account_issue_link(icsoe_dir *d, const icsoe_conf *conf,
                                      const icsoe_capturist *c,
                                      icsoe_token_purpose purpose, int send,
                                      char *link_out, size_t link_len,
                                      icsoe_mail_fail *fail, char *err, size_t errlen)
{
    return issue_link(d, conf, c, purpose, NULL, send, link_out, link_len, fail,
                      err, errlen);
}

/* The lockout notice carries a reset link: the owner who forgot the
 * password gets back in (setting it clears the lock), and whoever
 * triggered the lock learns nothing (the mail goes to the owner). */
icsoe_status icsoe_account_notify_locked(icsoe_dir *d, const icsoe_conf *conf,
                                         const icsoe_capturist *c,
                                         char *err, size_t errlen)
{
    return issue_link(d, conf, c, ICSOE_TOKEN_RESET, "locked", 1, NULL, 0, NULL,
                      err, errlen);
}

icsoe_status icsoe_account_notify_password_set(icsoe_dir *d, const icsoe_conf *conf,
                                               const icsoe_capturist *c,
                                               icsoe_mail_fail *fail,
                                               char *err, size_t errlen)
{
    char mailerr[512] = "";
    icsoe_mail_fail why = ICSOE_MAIL_CONFIG;
    icsoe_status st;

    if (fail != NULL)
        *fail = ICSOE_MAIL_CONFIG;
    if (conf == NULL || c == NULL) {
        icsoe_set_err(err, errlen, "no configuration or capturist");
        return ICSOE_ERR_INVALID_INPUT;
    }
    st = check_can_mail(conf, c, err, errlen);
    if (st != ICSOE_OK)
        return st;
    {
        /* Every variable is defined for every mail, so an override may use
         * any of them; link and valid_until are empty here. */
        const icsoe_tvar vars[] = {
            { "site_name", site_name(conf) },
            { "name", c->name },
            { "curp", c->curp },
            { "link", "" },
            { "valid_until", "" },
            { "login_url", login_url(conf) },
        };
        st = icsoe_mail_send_template(conf, "password_set", vars, sizeof vars / sizeof vars[0],
                                      c->email, c->name, &why, mailerr, sizeof mailerr);
    }
    if (st != ICSOE_OK)
        icsoe_set_err(err, errlen, "password notice for %s not mailed: %s", c->curp, mailerr);
    record(d, c->curp, "password_set", st, why, mailerr);
    if (fail != NULL)
        *fail = st == ICSOE_OK ? ICSOE_MAIL_OK : why;
    return st;
}

icsoe_status icsoe_account_notify_linked(const icsoe_conf *conf,
                                         const icsoe_capturist *c,
                                         const char *contractor_rfc,
                                         const char *contractor_name,
                                         char *err, size_t errlen)
{
    char mailerr[512] = "";
    icsoe_status st;

    if (conf == NULL || c == NULL || contractor_rfc == NULL) {
        icsoe_set_err(err, errlen, "no configuration, capturist or contractor");
        return ICSOE_ERR_INVALID_INPUT;
    }
    st = check_can_mail(conf, c, err, errlen);
    if (st != ICSOE_OK)
        return st;
    {
        const icsoe_tvar vars[] = {
            { "site_name", site_name(conf) },
            { "name", c->name },
            { "curp", c->curp },
            { "link", "" },
            { "valid_until", "" },
            { "login_url", login_url(conf) },
            { "contractor_rfc", contractor_rfc },
            { "contractor_name", contractor_name != NULL ? contractor_name : "" },
        };
        st = icsoe_mail_send_template(conf, "linked", vars, sizeof vars / sizeof vars[0],
                                      c->email, c->name, NULL, mailerr, sizeof mailerr);
    }
    if (st != ICSOE_OK)
        icsoe_set_err(err, errlen, "link notice for %s not mailed: %s", c->curp, mailerr);
    return st;
}
