/* Fuzz target: CSV import rows (lib/csv.c), iterating icsoe_csv_next over
 * the whole input as "icsoectl capturist import" does.
 * Invariants: every call makes progress (the loop ends), *pos never passes
 * the end, the newline count never exceeds the input's; a row has 1..16
 * fields of valid UTF-8 without NUL, each within ICSOE_CSV_MAX_LINE; a
 * refused record leaves the row empty; and writing a row back out (every
 * field quoted, quotes doubled) parses to the very same fields. */
#include "fuzz.h"
#include "input.h"

/* UTF-8 well-formedness is fuzzed on its own in fuzz_header. */
static void check_row(const icsoe_csv_row *row)
{
    FUZZ_CHECK(row->n >= 1 && row->n <= ICSOE_CSV_MAX_FIELDS);
    for (size_t i = 0; i < row->n; i++) {
        size_t len;
        FUZZ_CHECK(row->field[i] != NULL);
        len = strlen(row->field[i]);
        FUZZ_CHECK(len <= ICSOE_CSV_MAX_LINE);
        FUZZ_CHECK(icsoe_utf8_valid(row->field[i], len));
    }
}

static void check_round_trip(const icsoe_csv_row *row)
{
    size_t cap = 3, o = 0, pos = 0, lines = 0;
    icsoe_csv_row again;
    char *buf;

    for (size_t i = 0; i < row->n; i++)
        cap += 2 * strlen(row->field[i]) + 3;
    buf = malloc(cap);
    FUZZ_CHECK(buf != NULL);
    for (size_t i = 0; i < row->n; i++) {
        if (i > 0)
            buf[o++] = ',';
        buf[o++] = '"';
        for (const char *p = row->field[i]; *p != '\0'; p++) {
            if (*p == '"')
                buf[o++] = '"';
            buf[o++] = *p;
        }
        buf[o++] = '"';
    }
    buf[o++] = '\n';
    /* Only records the parser must take: quoting may push a long one over
     * the record limit. */
    if (o + 2 < ICSOE_CSV_MAX_LINE) {
        FUZZ_CHECK(icsoe_csv_next(buf, o, &pos, &lines, &again) == 1);
        FUZZ_CHECK(pos == o);
        FUZZ_CHECK(again.n == row->n);
        for (size_t i = 0; i < row->n; i++)
            FUZZ_CHECK(strcmp(again.field[i], row->field[i]) == 0);
        icsoe_csv_row_free(&again);
        FUZZ_CHECK(icsoe_csv_next(buf, o, &pos, &lines, &again) == 0);
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy so reading past len is caught by ASan. */
    char *buf = malloc(size > 0 ? size : 1);
    size_t pos = 0, lines = 0, newlines = 0, calls = 0;

    FUZZ_CHECK(buf != NULL);
    if (size > 0)
        memcpy(buf, data, size);
    for (size_t i = 0; i < size; i++)
        newlines += buf[i] == '\n';
    for (;;) {
        icsoe_csv_row row;
        size_t before = pos;
        int rc;

        memset(&row, 0xa5, sizeof(row));
        rc = icsoe_csv_next(buf, size, &pos, &lines, &row);
        FUZZ_CHECK(pos <= size);
        FUZZ_CHECK(lines <= newlines);
        FUZZ_CHECK(++calls <= size + 1);
        if (rc == 0) {
            FUZZ_CHECK(pos == size); /* only blank lines were left */
            break;
        }
        FUZZ_CHECK(rc == 1 || rc == -1);
        FUZZ_CHECK(pos > before);
        if (rc == -1) {
            FUZZ_CHECK(row.n == 0);
            continue;
        }
        check_row(&row);
        check_round_trip(&row);
        icsoe_csv_row_free(&row);
        FUZZ_CHECK(row.n == 0);
    }
    free(buf);
    return 0;
}
