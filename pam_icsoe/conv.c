#include <stdlib.h>
#include <string.h>
#include <security/pam_ext.h>
#include "conv.h"
#include "secure.h"

int icsoe_conv_secret(pam_handle_t *pamh, const char *prompt, char **answer)
{
    char *resp = NULL;
    int rc;

    *answer = NULL;
    rc = pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &resp, "%s", prompt);
    if (rc != PAM_SUCCESS) {
        icsoe_free_secret(resp);
        return rc;
    }
    /* An application may answer a prompt with no response at all (e.g.
     * on end of input): that is a conversation failure, not an empty
     * password. */
    if (resp == NULL)
        return PAM_CONV_ERR;
    *answer = resp;
    return PAM_SUCCESS;
}

static void show(pam_handle_t *pamh, int flags, int style, const char *msg)
{
    if (flags & PAM_SILENT)
        return;
    /* Nothing useful can be done if the application cannot show it. */
    (void)pam_prompt(pamh, style, NULL, "%s", msg);
}

void icsoe_conv_error(pam_handle_t *pamh, int flags, const char *msg)
{
    show(pamh, flags, PAM_ERROR_MSG, msg);
}

void icsoe_conv_info(pam_handle_t *pamh, int flags, const char *msg)
{
    show(pamh, flags, PAM_TEXT_INFO, msg);
}
