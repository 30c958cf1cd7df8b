/* Fuzz target: template rendering (lib/template.c) and HTML escaping.
 * The input is the template; the variables are fixed and hostile.
 * Invariants:
 *  - the result equals a small reference renderer written from
 *    template.h (tags {{name}} / {{&name}}, names [a-z0-9_]{1,32}, first
 *    definition wins, NULL renders "", unknown/malformed/unterminated tags
 *    and NUL bytes are errors, output under maxout), in both modes and
 *    with a large and a small output cap;
 *  - a failed render fills err;
 *  - in HTML mode without raw tags the output has no more '<', '>', '"'
 *    or '\'' than the template itself: no value can open markup;
 *  - icsoe_html_escape leaves none of & < > " ' unescaped and unescaping
 *    its output gives the input back. */
#include "fuzz.h"
#include "template.h"

#define BIG_CAP 65536
#define SMALL_CAP 48

static const icsoe_tvar vars[] = {
    { "nombre", "Pe\xc3\xb1" "a <script>alert(\"x\")</script> & 'hijos'" },
    { "curp", "GODE561231HDFRRN09" },
    { "url", "https://icsoe.example.org/icsoe/activar?t=abc&x=<1>" },
    { "vacio", NULL },
    { "llaves", "{{nombre}}" }, /* a value is never re-expanded */
    { "nombre", "second definition, ignored" },
    { "a_1", "\"'" },
};
#define NVARS (sizeof(vars) / sizeof(vars[0]))

typedef struct rbuf {
    char *p;
    size_t n, cap;
} rbuf;

static void radd(rbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        char *np = realloc(b->p, cap);
        FUZZ_CHECK(np != NULL);
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void radd_escaped(rbuf *b, const char *s, icsoe_escape esc)
{
    for (; *s != '\0'; s++) {
        const char *rep = NULL;
        if (esc == ICSOE_ESC_HTML) {
            switch (*s) {
            case '&': rep = "&amp;"; break;
            case '<': rep = "&lt;"; break;
            case '>': rep = "&gt;"; break;
            case '"': rep = "&quot;"; break;
            case '\'': rep = "&#39;"; break;
            default: break;
            }
        }
        if (rep != NULL)
            radd(b, rep, strlen(rep));
        else
            radd(b, s, 1);
    }
}

static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static const icsoe_tvar *lookup(const char *name, size_t n)
{
    for (size_t i = 0; i < NVARS; i++) {
        if (strlen(vars[i].name) == n && memcmp(vars[i].name, name, n) == 0)
            return &vars[i];
    }
    return NULL;
}

/* Reference renderer: malloc'd output or NULL on any error. */
static char *reference(const char *t, size_t len, icsoe_escape esc, size_t maxout)
{
    rbuf b = { NULL, 0, 0 };
    size_t i = 0;

    radd(&b, "", 0);
    if (memchr(t, '\0', len) != NULL)
        goto fail;
    while (i < len) {
        size_t j, start;
        int raw;
        const icsoe_tvar *v;

        if (!(t[i] == '{' && i + 1 < len && t[i + 1] == '{')) {
            radd(&b, t + i, 1);
            i++;
            continue;
        }
        j = i + 2;
        raw = j < len && t[j] == '&';
        if (raw)
            j++;
        start = j;
        while (j < len && name_char(t[j]))
            j++;
        if (j == start || j - start > 32 || j + 1 >= len || t[j] != '}' || t[j + 1] != '}')
            goto fail;
        v = lookup(t + start, j - start);
        if (v == NULL)
            goto fail;
        if (v->value != NULL)
            radd_escaped(&b, v->value, raw ? ICSOE_ESC_NONE : esc);
        i = j + 2;
    }
    if (b.n >= maxout)
        goto fail;
    return b.p;
fail:
    free(b.p);
    return NULL;
}

static size_t count_chars(const char *s, size_t n, const char *set)
{
    size_t c = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\0' && strchr(set, s[i]) != NULL)
            c++;
    }
    return c;
}

static void check_render(const char *t, size_t len, icsoe_escape esc, size_t maxout)
{
    char err[256];
    char *got, *want;

    memset(err, 0, sizeof(err));
    got = icsoe_template_render(t, len, vars, NVARS, esc, maxout, err, sizeof(err));
    want = reference(t, len, esc, maxout);
    if (want == NULL) {
        FUZZ_CHECK(got == NULL);
        FUZZ_CHECK(err[0] != '\0');
        return;
    }
    FUZZ_CHECK(got != NULL);
    FUZZ_CHECK(strcmp(got, want) == 0);
    FUZZ_CHECK(strlen(got) < maxout);
    if (esc == ICSOE_ESC_HTML) {
        int has_raw = 0;
        for (size_t i = 0; i + 2 < len; i++) {
            if (t[i] == '{' && t[i + 1] == '{' && t[i + 2] == '&')
                has_raw = 1;
        }
        for (const char *c = "<>\"'"; !has_raw && *c != '\0'; c++) {
            char one[2] = { *c, '\0' };
            FUZZ_CHECK(count_chars(got, strlen(got), one) <= count_chars(t, len, one));
        }
    }
    free(got);
    free(want);
}

static void check_escape(const uint8_t *data, size_t size)
{
    char *in = fuzz_cstr(data, size);
    char *esc = icsoe_html_escape(in);
    size_t o = 0;
    char *back;

    FUZZ_CHECK(esc != NULL);
    FUZZ_CHECK(strpbrk(esc, "<>\"'") == NULL);
    back = malloc(strlen(esc) + 1);
    FUZZ_CHECK(back != NULL);
    for (size_t i = 0; esc[i] != '\0';) {
        static const char *const ent[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&#39;" };
        static const char ch[] = "&<>\"'";
        size_t k;

        if (esc[i] != '&') {
            back[o++] = esc[i++];
            continue;
        }
        for (k = 0; k < 5; k++) {
            if (strncmp(esc + i, ent[k], strlen(ent[k])) == 0)
                break;
        }
        FUZZ_CHECK(k < 5); /* every '&' starts one of our entities */
        back[o++] = ch[k];
        i += strlen(ent[k]);
    }
    back[o] = '\0';
    FUZZ_CHECK(strcmp(back, in) == 0);
    free(back);
    free(esc);
    free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy so reading past len is caught by ASan. */
    char *t = calloc(size > 0 ? size : 1, 1);

    FUZZ_CHECK(t != NULL);
    if (size > 0)
        memcpy(t, data, size);
    check_render(t, size, ICSOE_ESC_HTML, BIG_CAP);
    check_render(t, size, ICSOE_ESC_NONE, BIG_CAP);
    check_render(t, size, ICSOE_ESC_HTML, SMALL_CAP);
    check_render(t, size, ICSOE_ESC_NONE, SMALL_CAP);
    check_escape(data, size);
    free(t);
    return 0;
}
