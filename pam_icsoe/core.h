/* pam_icsoe core: what every PAM service of the module shares.
 *
 * One call = one icsoe_pam on the dispatcher's stack (pam_icsoe.c): the
 * parsed arguments, the logger, the configuration and the directory handle
 * opened on demand, and the CURP of PAM_USER.  The service files (auth.c,
 * account.c, password.c, session.c) only map their PAM world onto these
 * helpers and libicsoe; nothing here keeps state between calls except the
 * ppolicy note (pam_set_data(), freed by libpam) and the process-wide
 * configuration cache (confcache.h), checked against the files on every
 * call. */
#ifndef ICSOE_PAM_CORE_H
#define ICSOE_PAM_CORE_H

#include <security/pam_modules.h>
#include <security/pam_ext.h>

#include "args.h"
#include "conf.h"
#include "confcache.h"
#include "conv.h"
#include "curp.h"
#include "dir.h"
#include "log.h"

/* User-facing messages (es-MX). */
#define MSG_LOCKED      "Tu cuenta está bloqueada. Pide a tu contratista o al administrador que la desbloquee."
#define MSG_UNAVAILABLE "El servicio de cuentas no está disponible. Intenta más tarde."
#define MSG_DENIED      "Tu cuenta no tiene acceso a este servicio."
#define MSG_EXPIRED     "Tu contraseña venció: debes cambiarla ahora."
#define MSG_EXPIRED_NO_GRACE "Tu contraseña venció. Crea una nueva con «¿Olvidaste tu contraseña?» en la página de ICSOE."
#define MSG_MUST_CHANGE "Debes cambiar tu contraseña ahora."
#define MSG_BAD_OLD     "La contraseña actual no es correcta."
#define MSG_RULES       "La contraseña nueva no cumple estas reglas:"
#define MSG_CHANGED     "Tu contraseña fue actualizada."
#define MSG_NO_CHANGE   "No se pudo cambiar la contraseña."

/* Everything one call needs; lives on the dispatcher's stack. */
typedef struct icsoe_pam {
    pam_handle_t *pamh;
    int flags;
    const char *opname;
    icsoe_pam_args args;
    icsoe_logger logger;
    const icsoe_conf *conf;          /* from the cache (confcache.h) */
    icsoe_confcache_ref *conf_ref;
    icsoe_dir *dir;
    char curp[ICSOE_CURP_LEN + 1];   /* "" when the user name is no CURP */
} icsoe_pam;

/* What the auth step learnt from ppolicy, for acct_mgmt and chauthtok in
 * the same PAM transaction.  Bound to the CURP it was learnt for. */
typedef struct icsoe_pam_note {
    char curp[ICSOE_CURP_LEN + 1];
    int expired;        /* expired, this bind used a grace login */
    int must_change;    /* changeAfterReset */
    int grace_left;     /* -1 when not sent */
    int expires_in;     /* seconds, -1 when not sent */
} icsoe_pam_note;

/* Debug lines are not even formatted unless the debug option is on. */
#define plog(p, level, ...)                                                  \
    do {                                                                     \
        if ((level) < ICSOE_LOG_DEBUG || (p)->args.debug)                    \
            icsoe_log(&(p)->logger, (level), __VA_ARGS__);                   \
    } while (0)

/* Sets up p for one call (arguments parsed, logger wired). */
void icsoe_pam_init(icsoe_pam *p, pam_handle_t *pamh, int flags,
                    const char *opname, int argc, const char **argv);
/* Frees what the call opened (directory, configuration). */
void icsoe_pam_fini(icsoe_pam *p);

/* Reads PAM_USER (prompting "CURP: " if the application set none) and
 * normalises it into p->curp.  Returns 1 for a valid CURP, 0 for a name
 * that is not one (control characters, surrounding spaces, not a
 * well-formed CURP, or a local account below minimum_uid=), -1 (with *rc
 * set) when there is no user at all.  Reads no configuration and talks to
 * no server: the caller answers 0 with PAM_USER_UNKNOWN or PAM_IGNORE. */
int icsoe_pam_get_curp(icsoe_pam *p, int *rc);

/* Sets PAM_USER to the canonical CURP in p->curp (after a success), so
 * the application and the modules below see one name per account. */
int icsoe_pam_set_canonical_user(icsoe_pam *p);

/* Takes the configuration (cached, or loaded when a file changed) and
 * opens a directory handle into p. */
int icsoe_pam_open_directory(icsoe_pam *p);

/* Obtains a password into *out (malloc'd, wiped by the caller with
 * icsoe_free_secret): from the PAM item when use_first_pass or
 * try_first_pass allows it, else by prompting.  A prompted answer is
 * stored in the item so modules stacked below can use_first_pass. */
int icsoe_pam_get_password(icsoe_pam *p, int item, const char *prompt,
                           int use_first, int try_first, char **out);

/* Verifies a password for p->curp, or does the same work for a decoy. */
icsoe_status icsoe_pam_verify(icsoe_pam *p, const char *password,
                              icsoe_ppolicy_info *pp);

/* The ppolicy note: leave one for p->curp, read the one for p->curp. */
int icsoe_pam_leave_note(icsoe_pam *p, const icsoe_ppolicy_info *pp);
const icsoe_pam_note *icsoe_pam_read_note(const icsoe_pam *p);
int icsoe_pam_needs_new_password(const icsoe_pam_note *n);

/* The PAM services, one file each. */
int icsoe_pam_authenticate(icsoe_pam *p);      /* auth.c */
int icsoe_pam_acct_mgmt(icsoe_pam *p);         /* account.c */
int icsoe_pam_chauthtok(icsoe_pam *p);         /* password.c */
int icsoe_pam_setcred(icsoe_pam *p);           /* session.c */
int icsoe_pam_open_session(icsoe_pam *p);      /* session.c */
int icsoe_pam_close_session(icsoe_pam *p);     /* session.c */

#endif
