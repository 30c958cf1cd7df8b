/* pam_icsoe session and credential services: setcred and close_session
 * have nothing to do; open_session exports ICSOE_CURP to the session. */
#include <stdio.h>

#include "core.h"

int icsoe_pam_setcred(icsoe_pam *p)
{
    (void)p;
    return PAM_SUCCESS;
}

int icsoe_pam_open_session(icsoe_pam *p)
{
    char env[sizeof("ICSOE_CURP=") + ICSOE_CURP_LEN];
    int valid, rc;

    valid = icsoe_pam_get_curp(p, &rc);
    if (valid < 0)
        return rc;
    if (valid == 0)
        return PAM_IGNORE;  /* not a capturist: nothing to add */
    snprintf(env, sizeof(env), "ICSOE_CURP=%s", p->curp);
    return pam_putenv(p->pamh, env);
}

int icsoe_pam_close_session(icsoe_pam *p)
{
    (void)p;
    return PAM_SUCCESS;
}
