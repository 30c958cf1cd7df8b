/* icsoectl capturist import FILE.csv [--no-mail]
 *
 * Header "curp,nombre,correo,rfc" (any case, UTF-8 BOM allowed; ';' instead
 * of ',' and Windows-1252/Latin-1 text, as Excel writes, are accepted: the
 * decoding and header rules live in lib/import.c, shared with the
 * contractor's Carga masiva); one row per
 * capturist and contractor, so a capturist working for three contractors
 * has three rows.  Every row is checked first; each bad one is reported as
 * "FILE:LINE: reason" and skipped.  The good ones then create the missing
 * capturists (pending, one activation email each) and grant the missing
 * contractors to existing ones (no email).  Running the same file again
 * changes nothing and sends nothing, except the activation mails that
 * were never delivered (a pending account whose last mail is recorded as
 * unsent gets a new link): so re-running the import once the relay is
 * back finishes the job.  An address the server refused is only reported
 * (correct it with "capturist set --email").  A mail configuration error
 * (AUTH refused, untrusted certificate...) stops the import: every other
 * mail would fail the same way.
 *
 * Exit: 0 all rows imported and mailed, 1 some rows were bad or an address
 * was refused (the good ones were still imported), 3 the directory or the
 * mail server was unavailable, 4 mail configuration error (accounts whose
 * email failed stay pending and are recorded as unsent: "capturist resend
 * --unsent" or a re-run sends them). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "account.h"
#include "icsoectl.h"
#include "import.h"
#include "input.h"
#include "output.h"
#include "secure.h"
#include "token.h"

#define IMPORT_MAX_BYTES (16u * 1024 * 1024)
#define IMPORT_RFC_CHUNK 32 /* RFCs per directory search */

typedef struct imp_row {
    size_t line;
    char curp[ICSOE_CURP_LEN + 1];
    char rfc[ICSOE_RFC_BUFSZ];
    char *name;
    char *email;
    int bad;
} imp_row;

typedef struct imp_msg {
    size_t line;
    size_t seq;     /* keeps messages of one line in order */
    char *text;
} imp_msg;

typedef struct imp_link {
    char curp[ICSOE_CURP_LEN + 1];
    char *link;     /* secret: wiped on free */
} imp_link;

typedef struct importer {
    ctl *c;
    const char *file;
    int send;
    imp_row *rows;
    size_t nrows, caprows;
    imp_msg *msgs;
    size_t nmsgs, capmsgs;
    imp_link *links;
    size_t nlinks, caplinks;
    size_t total;       /* data rows read (bad ones included) */
    size_t bad;
    char sep;           /* ',' or ';' (from the header) */
    size_t created, granted, mails, mail_failures, resent;
    size_t refused;     /* addresses the mail server refused for good */
    int mail_temporary; /* a mail failed for a reason a resend may fix */
    int mail_config;    /* a mail failed on our configuration: stopped */
    int unavailable;    /* the directory failed: processing stopped */
    int oom;
} importer;

/* Grow *arr (of elsize-byte items) so one more fits.  -1 on ENOMEM. */
static int grow(void **arr, size_t *cap, size_t n, size_t elsize)
{
    size_t ncap;
    void *p;

    if (n < *cap)
        return 0;
    ncap = *cap ? *cap * 2 : 64;
    p = realloc(*arr, ncap * elsize);
    if (p == NULL)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

static void add_msg(importer *im, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_msg(importer *im, size_t line, const char *fmt, ...)
{
    char text[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (grow((void **)&im->msgs, &im->capmsgs, im->nmsgs, sizeof(imp_msg)) != 0) {
        im->oom = 1;
        return;
    }
    im->msgs[im->nmsgs].line = line;
    im->msgs[im->nmsgs].seq = im->nmsgs;
    im->msgs[im->nmsgs].text = strdup(text);
    if (im->msgs[im->nmsgs].text == NULL) {
        im->oom = 1;
        return;
    }
    im->nmsgs++;
}

/* A bad row: reported and counted once. */
static void row_bad(importer *im, imp_row *r, size_t line, const char *why)
{
    add_msg(im, line, "%s", why);
    im->bad++;
    if (r != NULL)
        r->bad = 1;
}

/* ---- reading ---- */

/* Line number of the record that starts at or after pos: csv_next skips
 * a BOM and blank lines before a record, and lines counts the newlines
 * before pos. */
static size_t record_line(const char *buf, size_t len, size_t pos, size_t lines)
{
    size_t line = lines + 1;

    if (pos == 0 && len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
        pos = 3;
    for (;;) {
        if (pos < len && buf[pos] == '\n') {
            pos++;
        } else if (pos + 1 < len && buf[pos] == '\r' && buf[pos + 1] == '\n') {
            pos += 2;
        } else {
            break;
        }
        line++;
    }
    return line;
}

/* The header (',' or ';' between the names, see lib/import.h) into
 * im->sep. */
static int check_header(importer *im, const char *buf, size_t len, size_t *pos,
                        size_t *lines)
{
    icsoe_csv_row row;
    size_t p = *pos;

    im->sep = icsoe_import_header(buf, len, pos, lines);
    if (im->sep != 0)
        return 0;
    if (icsoe_csv_next(buf, len, &p, NULL, &row) == 0)
        ctl_err("%s: empty file (expected the header curp,nombre,correo,rfc)",
                im->file);
    else
        ctl_err("%s:1: the first line must be the header curp,nombre,correo,rfc "
                "(or with ';')", im->file);
    icsoe_csv_row_free(&row);
    return -1;
}

/* Check one data row; a good one is appended to im->rows. */
static void check_row(importer *im, const icsoe_csv_row *row, size_t line)
{
    imp_row r;
    char why[512];
    char msg[640];
    int warning;

    memset(&r, 0, sizeof(r));
    r.line = line;
    if (row->n != 4) {
        snprintf(msg, sizeof(msg), "expected 4 fields (curp,nombre,correo,rfc), "
                 "found %zu", row->n);
        row_bad(im, NULL, line, msg);
        return;
    }
    if (ctl_check_curp(row->field[0], r.curp, why, sizeof(why)) != 0 ||
        ctl_check_name(row->field[1], &r.name, why, sizeof(why)) != 0 ||
        ctl_check_email(row->field[2], why, sizeof(why)) != 0 ||
        ctl_check_rfc(row->field[3], 0, r.rfc, &warning, why, sizeof(why)) != 0) {
        row_bad(im, NULL, line, why);
        free(r.name);
        return;
    }
    r.email = strdup(row->field[2]);
    if (r.email == NULL ||
        grow((void **)&im->rows, &im->caprows, im->nrows, sizeof(imp_row)) != 0) {
        im->oom = 1;
        free(r.name);
        free(r.email);
        return;
    }
    im->rows[im->nrows++] = r;
}

static int read_rows(importer *im)
{
    char why[512];
    size_t len = 0;
    size_t pos = 0;
    size_t lines = 0;
    size_t rawlen = 0;
    int converted = 0;
    char *raw = ctl_read_file(im->file, IMPORT_MAX_BYTES, &rawlen, why, sizeof(why));
    char *buf;
    int rc = CTL_EXIT_OK;

    if (raw == NULL) {
        ctl_err("%s", why);
        return CTL_EXIT_INPUT;
    }
    /* Excel's "CSV" is Windows-1252: converted to UTF-8 first. */
    buf = icsoe_import_to_utf8(raw, rawlen, &len, &converted);
    free(raw);
    if (buf == NULL) {
        ctl_err("%s: neither UTF-8 nor Windows-1252 text", im->file);
        return CTL_EXIT_INPUT;
    }
    if (check_header(im, buf, len, &pos, &lines) != 0) {
        rc = CTL_EXIT_INPUT;
        goto out;
    }
    while (!im->oom) {
        icsoe_csv_row row;
        size_t line = record_line(buf, len, pos, lines);
        int r = icsoe_csv_next_sep(buf, len, im->sep, &pos, &lines, &row);

        if (r == 0)
            break;
        im->total++;
        if (r < 0)
            row_bad(im, NULL, line, "malformed CSV record (quotes, field count, "
                    "length or UTF-8)");
        else
            check_row(im, &row, line);
        icsoe_csv_row_free(&row);
    }
    if (im->oom) {
        ctl_err("out of memory");
        rc = CTL_EXIT_INTERNAL;
    }

out:
    free(buf);
    return rc;
}

/* ---- checks against the file itself and the directory ---- */

static int cmp_row(const void *a, const void *b)
{
    const imp_row *x = a;
    const imp_row *y = b;
    int d = strcmp(x->curp, y->curp);

    if (d != 0)
        return d;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* Rows of one CURP must agree on the name and email: the first row gives
 * them; a later row that disagrees is bad (which one is right is for the
 * operator to say). */
static void check_conflicts(importer *im)
{
    size_t first = 0;

    for (size_t i = 1; i < im->nrows; i++) {
        imp_row *r = &im->rows[i];
        char msg[768];

        if (strcmp(r->curp, im->rows[first].curp) != 0) {
            first = i;
            continue;
        }
        if (strcmp(r->name, im->rows[first].name) != 0)
            snprintf(msg, sizeof(msg), "CURP %s: name '%s' differs from line %zu",
                     r->curp, r->name, im->rows[first].line);
        else if (strcasecmp(r->email, im->rows[first].email) != 0)
            snprintf(msg, sizeof(msg), "CURP %s: email '%s' differs from line %zu",
                     r->curp, r->email, im->rows[first].line);
        else
            continue;
        row_bad(im, r, r->line, msg);
    }
}

static int rfc_known(char **known, size_t nknown, const char *rfc)
{
    for (size_t i = 0; i < nknown; i++)
        if (strcmp(known[i], rfc) == 0)
            return 1;
    return 0;
}

/* Look the RFCs up in the directory, a chunk at a time; rows naming an
 * unknown contractor are bad. */
static int check_contractors(importer *im)
{
    char *chunk[IMPORT_RFC_CHUNK];
    size_t nchunk = 0;
    size_t next = 0;

    while (next < im->nrows) {
        icsoe_contractor *found = NULL;
        size_t nfound = 0;
        icsoe_status st;
        size_t i;

        nchunk = 0;
        for (i = next; i < im->nrows; i++) {
            if (im->rows[i].bad || rfc_known(chunk, nchunk, im->rows[i].rfc))
                continue;
            if (nchunk == IMPORT_RFC_CHUNK)
                break;
            chunk[nchunk++] = im->rows[i].rfc;
        }
        if (nchunk == 0)
            break;
        st = icsoe_dir_contractor_get_many(im->c->dir, (const char *const *)chunk,
                                           nchunk, &found, &nfound);
        if (st != ICSOE_OK)
            return ctl_dir_fail(im->c, st, "cannot look up contractors");
        for (size_t k = next; k < i; k++) {
            int ok = 0;
            if (im->rows[k].bad)
                continue;
            for (size_t f = 0; f < nfound; f++)
                ok |= strcmp(found[f].rfc, im->rows[k].rfc) == 0;
            if (!ok) {
                char msg[128];
                snprintf(msg, sizeof(msg), "unknown contractor %s", im->rows[k].rfc);
                row_bad(im, &im->rows[k], im->rows[k].line, msg);
            }
        }
        icsoe_contractor_list_free(found, nfound);
        next = i;
    }
    return CTL_EXIT_OK;
}

/* ---- applying ---- */

static int has_contractor(const icsoe_capturist *cap, const char *rfc)
{
    for (size_t i = 0; i < cap->ncontractors; i++)
        if (strcmp(cap->contractors[i], rfc) == 0)
            return 1;
    return 0;
}

static void keep_link(importer *im, const char *curp, const char *link)
{
    if (grow((void **)&im->links, &im->caplinks, im->nlinks, sizeof(imp_link)) != 0) {
        im->oom = 1;
        return;
    }
    snprintf(im->links[im->nlinks].curp, sizeof(im->links[im->nlinks].curp), "%s",
             curp);
    im->links[im->nlinks].link = strdup(link);
    if (im->links[im->nlinks].link == NULL) {
        im->oom = 1;
        return;
    }
    im->nlinks++;
}

/* Issue an activation link for cap (mailed unless --no-mail, then kept
 * for the output) and count what happened to the mail. */
static void send_link(importer *im, const icsoe_capturist *cap, size_t line, int again)
{
    char err[1024] = "";
    size_t linklen = strlen(im->c->conf->activation_url != NULL
                            ? im->c->conf->activation_url : "") + ICSOE_TOKEN_LEN + 64;
    char *link = calloc(1, linklen);
    icsoe_mail_fail fail = ICSOE_MAIL_OK;
    icsoe_status st;

    if (link == NULL) {
        im->oom = 1;
        return;
    }
    st = icsoe_account_issue_link(im->c->dir, im->c->conf, cap, ICSOE_TOKEN_ACTIVATION,
                                  im->send, link, linklen, &fail, err, sizeof(err));
    if (st != ICSOE_OK) {
        im->mail_failures++;
        if (st == ICSOE_ERR_UNAVAILABLE && fail == ICSOE_MAIL_REFUSED) {
            im->refused++;
            add_msg(im, line, "CURP %s: the mail server refused the address %s for good: "
                    "%s; correct it with 'icsoectl capturist set %s --email NEW_ADDRESS'",
                    cap->curp, cap->email, err, cap->curp);
        } else if (st == ICSOE_ERR_UNAVAILABLE && fail == ICSOE_MAIL_TEMPORARY) {
            im->mail_temporary = 1;
            add_msg(im, line, "CURP %s: %sthe activation email could not be sent: %s; "
                    "re-run the import or 'icsoectl capturist resend --unsent' later",
                    cap->curp, again ? "" : "account created but ", err);
        } else {
            im->mail_config = 1;
            add_msg(im, line, "CURP %s: %sthe activation email could not be sent, "
                    "configuration error: %s; import stopped: fix the configuration and "
                    "run it again", cap->curp, again ? "" : "account created but ",
                    err[0] != '\0' ? err : icsoe_status_name(st));
        }
    } else if (im->send) {
        im->mails++;
        im->resent += again != 0;
    } else {
        keep_link(im, cap->curp, link);
    }
    icsoe_wipe(link, linklen);
    free(link);
}

/* A new capturist for rows[from..to) (all good, one CURP). */
static void create_capturist(importer *im, size_t from, size_t to)
{
    const imp_row *first = NULL;
    char *rfcs[CTL_MAX_CONTRACTORS * 4 + 1];
    icsoe_capturist cap;
    icsoe_status st;

    memset(&cap, 0, sizeof(cap));
    for (size_t i = from; i < to; i++) {
        if (im->rows[i].bad)
            continue;
        if (first == NULL)
            first = &im->rows[i];
        if (!has_contractor(&cap, im->rows[i].rfc) &&
            cap.ncontractors + 1 < sizeof(rfcs) / sizeof(rfcs[0])) {
            rfcs[cap.ncontractors++] = im->rows[i].rfc;
            rfcs[cap.ncontractors] = NULL; /* libldap wants a terminated list */
            cap.contractors = rfcs;
        }
    }
    if (first == NULL)
        return;
    memcpy(cap.curp, first->curp, sizeof(cap.curp));
    cap.name = first->name;
    cap.email = first->email;
    cap.status = ICSOE_CAPTURIST_PENDING;
    st = icsoe_dir_capturist_add(im->c->dir, &cap);
    if (st != ICSOE_OK) {
        add_msg(im, first->line, "CURP %s: cannot create the account: %s%s%s",
                cap.curp, icsoe_status_name(st), st == ICSOE_ERR_UNAVAILABLE ? ": " : "",
                st == ICSOE_ERR_UNAVAILABLE ? icsoe_dir_reason(im->c->dir) : "");
        im->unavailable |= st == ICSOE_ERR_UNAVAILABLE;
        return;
    }
    im->created++;
    send_link(im, &cap, first->line, 0);
}

/* An existing capturist: grant what the file adds, nothing else. */
static void update_capturist(importer *im, const icsoe_capturist *cap,
                             size_t from, size_t to)
{
    for (size_t i = from; i < to && !im->unavailable; i++) {
        imp_row *r = &im->rows[i];
        icsoe_status st;
        int dup = 0;

        if (r->bad || has_contractor(cap, r->rfc))
            continue;
        for (size_t k = from; k < i; k++)
            dup |= !im->rows[k].bad && strcmp(im->rows[k].rfc, r->rfc) == 0;
        if (dup)
            continue;
        st = icsoe_dir_capturist_grant(im->c->dir, r->curp, r->rfc);
        if (st == ICSOE_OK) {
            im->granted++;
        } else if (st != ICSOE_ERR_EXISTS) {
            add_msg(im, r->line, "CURP %s: cannot grant %s: %s", r->curp, r->rfc,
                    icsoe_status_name(st));
            im->unavailable |= st == ICSOE_ERR_UNAVAILABLE;
        }
    }
    for (size_t i = from; i < to; i++) {
        if (im->rows[i].bad)
            continue;
        if ((cap->email != NULL && strcasecmp(cap->email, im->rows[i].email) != 0) ||
            (cap->name != NULL && strcmp(cap->name, im->rows[i].name) != 0))
            add_msg(im, im->rows[i].line, "note: CURP %s already exists with another "
                    "name or email; only contractor grants were applied",
                    im->rows[i].curp);
        /* The mail of an earlier run that never left: send it now. */
        if (im->send && !im->unavailable && cap->status == ICSOE_CAPTURIST_PENDING &&
            cap->delivery.state == ICSOE_MAIL_STATE_UNSENT)
            send_link(im, cap, im->rows[i].line, 1);
        else if (cap->status == ICSOE_CAPTURIST_PENDING &&
                 cap->delivery.state == ICSOE_MAIL_STATE_REFUSED)
            add_msg(im, im->rows[i].line, "CURP %s: its address %s was refused by the mail "
                    "server: correct it with 'icsoectl capturist set %s --email NEW_ADDRESS'",
                    cap->curp, cap->email != NULL ? cap->email : "?", cap->curp);
        break;
    }
}

static void apply(importer *im)
{
    size_t from = 0;

    while (from < im->nrows && !im->unavailable && !im->mail_config && !im->oom) {
        size_t to = from + 1;
        icsoe_capturist cap;
        icsoe_status st;

        while (to < im->nrows && strcmp(im->rows[to].curp, im->rows[from].curp) == 0)
            to++;
        memset(&cap, 0, sizeof(cap));
        st = icsoe_dir_capturist_get(im->c->dir, im->rows[from].curp, &cap);
        if (st == ICSOE_ERR_NOT_FOUND) {
            create_capturist(im, from, to);
        } else if (st == ICSOE_OK) {
            update_capturist(im, &cap, from, to);
        } else {
            add_msg(im, im->rows[from].line, "CURP %s: cannot read the account: %s",
                    im->rows[from].curp, icsoe_status_name(st));
            im->unavailable |= st == ICSOE_ERR_UNAVAILABLE;
        }
        icsoe_capturist_clear(&cap);
        from = to;
    }
}

/* ---- output ---- */

static int cmp_msg(const void *a, const void *b)
{
    const imp_msg *x = a;
    const imp_msg *y = b;

    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void report(importer *im)
{
    if (im->nmsgs > 0) /* qsort(NULL, 0, ...) is undefined behaviour */
        qsort(im->msgs, im->nmsgs, sizeof(imp_msg), cmp_msg);
    for (size_t i = 0; i < im->nmsgs; i++)
        ctl_err("%s:%zu: %s", im->file, im->msgs[i].line, im->msgs[i].text);
    if (im->c->json) {
        ctl_json j;

        ctl_json_init(&j, stdout);
        ctl_json_begin_object(&j);
        ctl_json_kv_string(&j, "file", im->file);
        ctl_json_kv_int(&j, "rows", (long long)im->total);
        ctl_json_kv_int(&j, "bad", (long long)im->bad);
        ctl_json_kv_int(&j, "created", (long long)im->created);
        ctl_json_kv_int(&j, "granted", (long long)im->granted);
        ctl_json_kv_int(&j, "mails", (long long)im->mails);
        ctl_json_kv_int(&j, "mail_failures", (long long)im->mail_failures);
        ctl_json_kv_int(&j, "resent", (long long)im->resent);
        ctl_json_kv_int(&j, "refused", (long long)im->refused);
        ctl_json_kv_bool(&j, "complete", !im->unavailable && !im->mail_config && !im->oom);
        ctl_json_key(&j, "messages");
        ctl_json_begin_array(&j);
        for (size_t i = 0; i < im->nmsgs; i++) {
            ctl_json_begin_object(&j);
            ctl_json_kv_int(&j, "line", (long long)im->msgs[i].line);
            ctl_json_kv_string(&j, "message", im->msgs[i].text);
            ctl_json_end_object(&j);
        }
        ctl_json_end_array(&j);
        if (!im->send) {
            ctl_json_key(&j, "links");
            ctl_json_begin_array(&j);
            for (size_t i = 0; i < im->nlinks; i++) {
                ctl_json_begin_object(&j);
                ctl_json_kv_string(&j, "curp", im->links[i].curp);
                ctl_json_kv_string(&j, "link", im->links[i].link);
                ctl_json_end_object(&j);
            }
            ctl_json_end_array(&j);
        }
        ctl_json_end_object(&j);
        ctl_json_finish(&j);
        return;
    }
    for (size_t i = 0; i < im->nlinks; i++)
        printf("%s\t%s\n", im->links[i].curp, im->links[i].link);
    printf("%s: %zu rows, %zu bad, %zu created, %zu granted, %zu mails",
           im->file, im->total, im->bad, im->created, im->granted, im->mails);
    if (im->resent > 0)
        printf(" (%zu of them resent)", im->resent);
    if (im->mail_failures > 0)
        printf(", %zu mail failures", im->mail_failures);
    if (im->refused > 0)
        printf(" (%zu address%s refused)", im->refused, im->refused == 1 ? "" : "es");
    if (im->unavailable)
        printf(" (stopped: directory unavailable)");
    if (im->mail_config)
        printf(" (stopped: mail configuration error)");
    printf("\n");
}

static void importer_free(importer *im)
{
    for (size_t i = 0; i < im->nrows; i++) {
        free(im->rows[i].name);
        free(im->rows[i].email);
    }
    free(im->rows);
    for (size_t i = 0; i < im->nmsgs; i++)
        free(im->msgs[i].text);
    free(im->msgs);
    for (size_t i = 0; i < im->nlinks; i++)
        icsoe_free_secret(im->links[i].link);
    free(im->links);
}

int ctl_capturist_import(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "no-mail", no_argument, NULL, 'M' },
        CTL_COMMON_LONGOPTS,
        { NULL, 0, NULL, 0 }
    };
    importer im;
    int opt;
    int rc;

    memset(&im, 0, sizeof(im));
    im.c = c;
    im.send = 1;
    while ((opt = ctl_getopt(c, argc, argv, CTL_SHORT, longopts)) != CTL_OPT_END) {
        if (opt == CTL_OPT_HELP)
            return CTL_EXIT_OK;
        if (opt == CTL_OPT_ERROR)
            return CTL_EXIT_INPUT;
        if (opt == 'M')
            im.send = 0;
    }
    if (argc - optind != 1)
        return ctl_usage_error("expected exactly one FILE.csv");
    im.file = argv[optind];
    /* The file is read and checked before the directory is touched: a file
     * that is not an import file at all changes nothing. */
    rc = read_rows(&im);
    if (rc != CTL_EXIT_OK)
        goto out;
    rc = ctl_open_dir(c);
    if (rc == CTL_EXIT_OK)
        rc = ctl_need_link_conf(c, im.send);
    if (rc != CTL_EXIT_OK)
        goto out;
    if (im.nrows > 0)
        qsort(im.rows, im.nrows, sizeof(imp_row), cmp_row);
    check_conflicts(&im);
    rc = check_contractors(&im);
    if (rc != CTL_EXIT_OK)
        goto out;
    apply(&im);
    report(&im);
    if (im.oom) {
        ctl_err("out of memory");
        rc = CTL_EXIT_INTERNAL;
    } else if (im.mail_config) {
        rc = CTL_EXIT_CONFIG;
    } else if (im.unavailable || im.mail_temporary) {
        rc = CTL_EXIT_UNAVAILABLE;
    } else if (im.bad > 0 || im.refused > 0 || im.mail_failures > 0) {
        rc = CTL_EXIT_INPUT;
    }

out:
    importer_free(&im);
    return rc;
}
