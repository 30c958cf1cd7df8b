/* Helpers shared by the page handlers (handler_*.c).  The entry points
 * themselves (icsoe_handle_*) are declared in mod_icsoe.h, which the core's
 * handler hook calls; this header is private to the handler files.
 *
 * Everything works on the request pool. */
#ifndef ICSOE_HANDLERS_H
#define ICSOE_HANDLERS_H

#include "mod_icsoe.h"

/* Contractors shown per page on the selection page. */
#define ICSOE_SELECT_PAGE_SIZE 20

/* HTML-escaped copy of s (NULL gives "") in the request pool, for the
 * fragments handed to templates as {{&name}}. */
const char *icsoe_pg_esc(request_rec *r, const char *s);

/* The request's own path, URL-escaped, for a form's action attribute
 * (the query string is left out: forms carry their state in fields). */
const char *icsoe_pg_self(request_rec *r);
const char *icsoe_pg_pager(request_rec *r, size_t page, size_t pages,
                           const char *filter);

/* <div class="alert|notice" role=...><p>text</p></div>, text escaped. */
const char *icsoe_pg_box(request_rec *r, int is_error, const char *text);

/* The query string parsed as urlencoded fields, in the request pool (and
 * freed by a pool cleanup).  A malformed or oversized query gives an empty
 * form. */
icsoe_form *icsoe_pg_query(request_rec *r);

/* Write the error page for status (403, 405, 413, 500, 503...) and return
 * what the handler returns.  405 also gets an Allow header. */
int icsoe_pg_fail(request_rec *r, int status);

/* The session that carries a form's CSRF secret on pages shown before login
 * (login, activation, recovery): the request's own session when it has a
 * valid one, else a fresh pre-login session that is saved as the cookie.
 * OK, or an HTTP status. */
int icsoe_pg_form_session(request_rec *r, icsoe_session *s);

/* Read a POST form and check it came from our own page: the body (413,
 * 415, 400, origin checks in icsoe_read_form), a session cookie that opens
 * (else 403: a form without a session cannot carry a valid CSRF token) and
 * the CSRF field.  OK, or an HTTP status. */
int icsoe_pg_read_post(request_rec *r, icsoe_form **f, icsoe_session *s);
/* A zeroed form in the request pool: icsoe_read_form registers a cleanup
 * on the form it fills, so the form must live as long as the request. */
icsoe_form *icsoe_pg_new_form(request_rec *r);

/* Pages that need a logged-in capturist.  Returns 1 with *s holding the
 * session, revalidated against the directory right now (these pages are
 * rare and a logged-out copy of a cookie must stop at once).  Returns 0
 * when a response was written or must be: *rv is then the handler's return
 * value (a redirect to the login page, or 503 when LDAP is down). */
int icsoe_pg_require_login(request_rec *r, icsoe_session *s, int *rv);

/* Trimmed copy of a form field (NULL when absent), bounded by max bytes:
 * longer values give NULL too. */
const char *icsoe_pg_field(request_rec *r, const icsoe_form *f,
                           const char *name, size_t max);

/* The login form with "Sesión cerrada" and a new pre-login session
 * (handler_login.c, used by icsoe-logout).  Returns the handler's value. */
int icsoe_pg_login_after_logout(request_rec *r);

/* ---- the contractor's page (contractor_id.c) ---- */

/* The contractor signed in on icsoe-capturists, for this request only:
 * there is no contractor session, every request proves the identity again
 * (the TLS client certificate rides on the connection). */
typedef struct icsoe_contractor_id {
    char rfc[ICSOE_RFC_BUFSZ];
    const char *serial;   /* certificate serial (hex), "-" for remote-user */
    const char *name;     /* razón social from the directory */
} icsoe_contractor_id;

/* 1 with *id filled when the request comes from a registered contractor
 * (ICSOEContractorAuth: efirma = a FIEL verified by mod_ssl and valid now;
 * remote-user = r->user is its RFC).  0 when a refusal was written (a
 * Spanish page and an audit line naming the RFC and the serial): *rv is
 * then the handler's return value. */
int icsoe_pg_require_contractor(request_rec *r, icsoe_contractor_id *id, int *rv);

/* Agregar capturista, shared by the form and the Carga masiva
 * (handler_capturists.c): a CURP that does not exist becomes a pending
 * account registered by this contractor and gets its activation mail; an
 * existing one is linked and its owner told by mail.  Audited. */
typedef enum icsoe_add_outcome {
    ICSOE_ADD_CREATED = 0,
    ICSOE_ADD_CREATED_NO_MAIL,  /* created; the activation mail failed (resend) */
    ICSOE_ADD_CREATED_REFUSED,  /* created; the relay refused the address */
    ICSOE_ADD_LINKED,
    ICSOE_ADD_ALREADY,          /* already this contractor's */
    ICSOE_ADD_UNAVAILABLE,      /* directory down: nothing written */
    ICSOE_ADD_FAILED
} icsoe_add_outcome;
icsoe_add_outcome icsoe_pg_add_capturist(request_rec *r, const icsoe_contractor_id *id,
                                         const char *curp, const char *name,
                                         const char *email);

/* The contractor's page with a message (plain text) and an optional
 * per-line report fragment.  Returns the handler's value. */
int icsoe_pg_capturists_page(request_rec *r, const icsoe_contractor_id *id,
                             const icsoe_session *s, const char *message, int is_error,
                             const char *report_html);

/* Carga masiva (handler_bulk.c): the multipart POST of a CSV file; writes
 * the report page.  Returns the handler's value. */
int icsoe_capturists_bulk(request_rec *r, const icsoe_contractor_id *id);

/* A Spanish page "No es posible ingresar" with title and text, status
 * 403 (or the given one), for the contractor's page refusals. */
int icsoe_pg_contractor_refused(request_rec *r, int status, const char *title,
                                const char *text);

#endif
