/* Fuzz target: urlencoded form bodies (lib/form.c).
 * Invariants: -1 leaves the form empty; on success there are at most
 * ICSOE_FORM_MAX_FIELDS fields with non-empty unique names, lookup finds
 * each value, decoding never grows the text, and re-encoding the parsed
 * fields gives a body that parses back to exactly the same fields. */
#include "fuzz.h"
#include "input.h"

#define FORM_MAX 8192

/* Percent-encode everything but unreserved characters; '+' for space. */
static size_t encode(const char *s, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out[o++] = (char)c;
        } else if (c == ' ') {
            out[o++] = '+';
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    return o;
}

static void check_round_trip(const icsoe_form *f, size_t size)
{
    /* Each byte becomes at most 3, plus '=' and '&' per field. */
    char *body = malloc(3 * size + 2 * ICSOE_FORM_MAX_FIELDS + 1);
    icsoe_form g;
    size_t o = 0;

    FUZZ_CHECK(body != NULL);
    for (size_t i = 0; i < f->n; i++) {
        if (i > 0)
            body[o++] = '&';
        o += encode(f->name[i], body + o);
        body[o++] = '=';
        o += encode(f->value[i], body + o);
    }
    FUZZ_CHECK(icsoe_form_parse(body, o, 3 * size + 2 * ICSOE_FORM_MAX_FIELDS, &g) == 0);
    FUZZ_CHECK(g.n == f->n);
    for (size_t i = 0; i < g.n; i++) {
        FUZZ_CHECK(strcmp(g.name[i], f->name[i]) == 0);
        FUZZ_CHECK(strcmp(g.value[i], f->value[i]) == 0);
    }
    icsoe_form_free(&g);
    FUZZ_CHECK(g.n == 0);
    free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    icsoe_form f;
    size_t total = 0;
    int rc;

    memset(&f, 0xa5, sizeof(f)); /* the parser must initialise it */
    rc = icsoe_form_parse((const char *)data, size, FORM_MAX, &f);
    if (rc != 0) {
        FUZZ_CHECK(rc == -1);
        FUZZ_CHECK(f.n == 0);
        icsoe_form_free(&f);
        return 0;
    }
    FUZZ_CHECK(size <= FORM_MAX);
    FUZZ_CHECK(f.n <= ICSOE_FORM_MAX_FIELDS);
    FUZZ_CHECK(size > 0 || f.n == 0);
    FUZZ_CHECK(size == 0 || f.n > 0);
    FUZZ_CHECK(memchr(data, '\0', size) == NULL);
    for (size_t i = 0; i < f.n; i++) {
        FUZZ_CHECK(f.name[i] != NULL && f.value[i] != NULL);
        FUZZ_CHECK(f.name[i][0] != '\0');
        FUZZ_CHECK(icsoe_form_get(&f, f.name[i]) == f.value[i]);
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(f.name[i], f.name[j]) != 0);
        total += strlen(f.name[i]) + strlen(f.value[i]) + 1;
    }
    FUZZ_CHECK(total <= size);
    FUZZ_CHECK(icsoe_form_get(&f, NULL) == NULL);
    check_round_trip(&f, size);
    icsoe_form_free(&f);
    FUZZ_CHECK(f.n == 0);
    return 0;
}
