/* Account workflows shared by icsoectl and mod_icsoe: issuing a link by
 * mail, notifying that a password was registered. */
#ifndef ICSOE_ACCOUNT_H
#define ICSOE_ACCOUNT_H

#include <stddef.h>
#include "conf.h"
#include "dir.h"
#include "err.h"
#include "mail.h"
#include "token.h"

/* Create a token for c (activation or reset), store it (voiding any older
 * one) and, when send is non-zero, mail the link.  The link
 * (activation_url?t=TOKEN) is copied into link_out when it is not NULL (for
 * "--no-mail").  If mailing fails the token stays stored (a later resend
 * voids it), the account is unchanged and ICSOE_ERR_UNAVAILABLE is
 * returned with err saying why and *fail (may be NULL) whether it was
 * temporary, a refused address or our configuration.  The outcome is
 * recorded in the account (icsoe_capturist.delivery); an unmailed link
 * clears the record. */
icsoe_status icsoe_account_issue_link(icsoe_dir *d, const icsoe_conf *conf,
                                      const icsoe_capturist *c,
                                      icsoe_token_purpose purpose, int send,
                                      char *link_out, size_t link_len,
                                      icsoe_mail_fail *fail, char *err, size_t errlen);

/* "Tu cuenta se bloqueó" mail with a reset link (the "locked" template),
 * sent once per ppolicy lockout (icsoe_dir_capturist_claim_lock_notice
 * decides); the new reset token voids any older one. */
icsoe_status icsoe_account_notify_locked(icsoe_dir *d, const icsoe_conf *conf,
                                         const icsoe_capturist *c,
                                         char *err, size_t errlen);

/* "Tu contraseña fue registrada" mail; its outcome is recorded in the
 * account when d is not NULL. */
icsoe_status icsoe_account_notify_password_set(icsoe_dir *d, const icsoe_conf *conf,
                                               const icsoe_capturist *c,
                                               icsoe_mail_fail *fail,
                                               char *err, size_t errlen);

/* "Un contratista te agregó como capturista" mail: an existing capturist
 * was linked to one more contractor (no new password, no link). */
icsoe_status icsoe_account_notify_linked(const icsoe_conf *conf,
                                         const icsoe_capturist *c,
                                         const char *contractor_rfc,
                                         const char *contractor_name,
                                         char *err, size_t errlen);

#endif
