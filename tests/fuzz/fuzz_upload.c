/* Fuzz target: the Carga masiva upload path (lib/multipart.c, then
 * lib/import.c and lib/csv.c on the file part).  Input: the boundary, a
 * NUL, the body.  Invariants: a parsed body has 1..MAX parts whose data
 * lies inside the body and whose names are non-empty; a converted file is
 * valid UTF-8 and a kept one is the input without its BOM; the header reader returns ',', ';' or 0
 * without moving on 0; every checked row has a valid CURP and RFC. */
#include "fuzz.h"
#include "import.h"
#include "input.h"

static void check_csv(const char *data, size_t len)
{
    size_t outlen = 0, pos = 0, lines = 0;
    int converted = 0;
    char *buf = icsoe_import_to_utf8(data, len, &outlen, &converted);
    char sep;

    if (buf == NULL)
        return;
    /* converted text is always UTF-8; kept text is the input minus a BOM */
    if (converted)
        FUZZ_CHECK(icsoe_utf8_valid(buf, outlen));
    else
        FUZZ_CHECK(outlen <= len && memcmp(buf, data + (len - outlen), outlen) == 0);
    sep = icsoe_import_header(buf, outlen, &pos, &lines);
    FUZZ_CHECK(sep == ',' || sep == ';' || (sep == 0 && pos == 0));
    for (int i = 0; sep != 0 && i < 64; i++) {
        icsoe_csv_row row;
        icsoe_import_row out;
        char why[256];
        int r = icsoe_csv_next_sep(buf, outlen, sep, &pos, &lines, &row);

        if (r == 0)
            break;
        FUZZ_CHECK(pos <= outlen);
        if (r == 1 && icsoe_import_check_row(&row, &out, why, sizeof(why)) == 0) {
            char again[ICSOE_CURP_LEN + 1];
            FUZZ_CHECK(icsoe_curp_check(out.curp, again) == ICSOE_CURP_OK);
            FUZZ_CHECK(icsoe_email_valid(out.email));
            FUZZ_CHECK(out.name[0] != '\0');
        }
        icsoe_csv_row_free(&row);
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t blen = size == 0 ? 0 : strnlen((const char *)data, size);
    char *boundary = fuzz_cstr(data, size);
    const char *body = (const char *)data + (blen < size ? blen + 1 : size);
    size_t len = (size_t)((const char *)data + size - body);
    icsoe_multipart m;

    if (icsoe_multipart_parse(body, len, boundary, &m) == 0) {
        FUZZ_CHECK(m.n >= 1 && m.n <= ICSOE_MULTIPART_MAX_PARTS);
        for (size_t i = 0; i < m.n; i++) {
            const icsoe_part *p = &m.part[i];
            FUZZ_CHECK(p->name[0] != '\0');
            FUZZ_CHECK(p->data >= body && p->data + p->len <= body + len);
            if (p->is_file)
                check_csv(p->data, p->len);
        }
    } else {
        FUZZ_CHECK(m.n == 0);
    }
    check_csv(body, len);
    free(boundary);
    return 0;
}
