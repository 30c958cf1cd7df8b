/* Talking to the user through the application's PAM conversation:
 * Spanish prompts and messages, secrets returned in malloc'd buffers the
 * caller wipes with icsoe_free_secret(). */
#ifndef ICSOE_PAM_CONV_H
#define ICSOE_PAM_CONV_H

#include <security/pam_modules.h>

/* Prompts (es-MX).  The colon and space are part of the prompt. */
#define ICSOE_PROMPT_USER         "CURP: "
#define ICSOE_PROMPT_PASSWORD     "Contraseña: "
#define ICSOE_PROMPT_OLD_PASSWORD "Contraseña actual: "
#define ICSOE_PROMPT_NEW_PASSWORD "Contraseña nueva: "
#define ICSOE_PROMPT_NEW_AGAIN    "Repite la contraseña nueva: "

/* Asks with echo off.  On PAM_SUCCESS *answer is a malloc'd string (maybe
 * empty) the caller frees with icsoe_free_secret(); otherwise NULL. */
int icsoe_conv_secret(pam_handle_t *pamh, const char *prompt, char **answer);

/* Shows an error (PAM_ERROR_MSG) or an informational (PAM_TEXT_INFO)
 * message, unless the application asked for PAM_SILENT. */
void icsoe_conv_error(pam_handle_t *pamh, int flags, const char *msg);
void icsoe_conv_info(pam_handle_t *pamh, int flags, const char *msg);

#endif
