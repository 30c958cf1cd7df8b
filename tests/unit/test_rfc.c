/* icsoe_rfc_check: both lengths, & and Ñ, dates, homoclave, the SAT mod-11
 * check digit and hostile input.  Expected digits were computed outside
 * the code under test (a throw-away Python version of the SAT algorithm);
 * EKU9003173C9 and CACX7605101P8 are SAT's own published test RFCs, and
 * XEXX010101000 / XAXX010101000 its generic ones. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "rfc.h"

typedef struct rfc_case {
    const char *label;
    const char *in;
    icsoe_rfc_reason want;
    const char *want_out; /* for OK and BAD_CHECK_DIGIT */
} rfc_case;

#define OK(label, in, out) { label, in, ICSOE_RFC_OK, out }
#define DIGIT(label, in, out) { label, in, ICSOE_RFC_BAD_CHECK_DIGIT, out }
#define BAD(label, in, reason) { label, in, reason, NULL }

#define NT "\xc3\x91" /* Ñ */
#define nt "\xc3\xb1" /* ñ */

static const rfc_case cases[] = {
    /* valid */
    OK("SAT test company (12)", "EKU9003173C9", "EKU9003173C9"),
    OK("SAT test person (13)", "CACX7605101P8", "CACX7605101P8"),
    OK("generic foreign resident", "XEXX010101000", "XEXX010101000"),
    OK("generic general public (by name)", "XAXX010101000", "XAXX010101000"),
    OK("company with ampersand", "A&B010203AB8", "A&B010203AB8"),
    OK("person with ampersand", "SOL&991231Z99", "SOL&991231Z99"),
    OK("company with N tilde", "PE" NT "120315XY6", "PE" NT "120315XY6"),
    OK("person with lowercase n tilde", "mu" nt "o800101ab3", "MU" NT "O800101AB3"),
    OK("two N tildes, 29 Feb 2000", NT "A" NT "O000229K75", NT "A" NT "O000229K75"),
    OK("29 February 96", "GOMA960229H28", "GOMA960229H28"),
    OK("check digit A (person)", "GOPE850101ADA", "GOPE850101ADA"),
    OK("check digit A (company)", "ABC170101ABA", "ABC170101ABA"),
    OK("check digit A in lowercase", "def010101a1a", "DEF010101A1A"),
    OK("lowercase and whitespace", " \tcacx7605101p8\r\n", "CACX7605101P8"),
    OK("31 December, digit homoclave", "ABC1712319Z1", "ABC1712319Z1"),
    /* check digit reported separately, out filled */
    DIGIT("wrong digit company", "EKU9003173C8", "EKU9003173C8"),
    DIGIT("wrong digit person", "CACX7605101P9", "CACX7605101P9"),
    DIGIT("SAT sandbox AAA010101AAA fails its digit", "aaa010101aaa", "AAA010101AAA"),
    DIGIT("wrong digit with N tilde", "pe" nt "120315xy7", "PE" NT "120315XY7"),
    DIGIT("digit A where 0 is due", "XEXX01010100A", "XEXX01010100A"),
    DIGIT("generic public with another digit", "XAXX010101001", "XAXX010101001"),
    /* dates */
    BAD("30 February", "GOMA960230H28", ICSOE_RFC_BAD_DATE),
    BAD("29 February 01", "GOMA010229H28", ICSOE_RFC_BAD_DATE),
    BAD("31 April", "GOMA960431H28", ICSOE_RFC_BAD_DATE),
    BAD("month 13", "EKU9013173C9", ICSOE_RFC_BAD_DATE),
    BAD("month 00", "EKU9000173C9", ICSOE_RFC_BAD_DATE),
    BAD("day 00", "EKU9003003C9", ICSOE_RFC_BAD_DATE),
    BAD("letter in date", "EKU90O3173C9", ICSOE_RFC_BAD_DATE),
    BAD("ampersand in date", "EKU9003&73C9", ICSOE_RFC_BAD_DATE),
    /* homoclave */
    BAD("ampersand in homoclave", "EKU900317&C9", ICSOE_RFC_BAD_HOMOCLAVE),
    BAD("N tilde in homoclave", "EKU900317" NT "C9", ICSOE_RFC_BAD_HOMOCLAVE),
    BAD("check position holds B", "EKU9003173CB", ICSOE_RFC_BAD_HOMOCLAVE),
    BAD("check position holds ampersand", "EKU9003173C&", ICSOE_RFC_BAD_HOMOCLAVE),
    /* letters */
    BAD("digit in company letters", "E1U9003173C9", ICSOE_RFC_BAD_NAME_LETTERS),
    BAD("digit as fourth person letter", "CAC17605101P8", ICSOE_RFC_BAD_NAME_LETTERS),
    /* length */
    BAD("11 characters", "EKU9003173C", ICSOE_RFC_BAD_LENGTH),
    BAD("14 characters", "CACX7605101P80", ICSOE_RFC_BAD_LENGTH),
    BAD("N tilde counts once (14)", "MU" NT "OO800101AB3", ICSOE_RFC_BAD_LENGTH),
    BAD("embedded NUL", "CACX760510\0" "1P8", ICSOE_RFC_BAD_LENGTH),
    /* empty */
    BAD("empty", "", ICSOE_RFC_EMPTY),
    BAD("whitespace only", "  \n", ICSOE_RFC_EMPTY),
    /* characters */
    BAD("hyphens", "CACX-760510-1P8", ICSOE_RFC_BAD_CHARS),
    BAD("internal space", "CACX 7605101P8", ICSOE_RFC_BAD_CHARS),
    BAD("e acute", "CAC\xc3\xa9" "7605101P8", ICSOE_RFC_BAD_CHARS),
    BAD("control char", "CACX7605101P\x08", ICSOE_RFC_BAD_CHARS),
    BAD("Latin-1 N tilde byte", "PE\xd1" "120315XY6", ICSOE_RFC_BAD_CHARS),
    BAD("lone lead byte", "PE\xc3" "120315XY6", ICSOE_RFC_BAD_CHARS),
    BAD("fullwidth ampersand", "A\xef\xbc\x86" "B010203AB8", ICSOE_RFC_BAD_CHARS),
};

static void run_case(void **state)
{
    const rfc_case *c = *state;
    char out[ICSOE_RFC_BUFSZ];
    icsoe_rfc_reason got;

    memset(out, 'Z', sizeof(out));
    got = icsoe_rfc_check(c->in, out);
    if (got != c->want)
        fail_msg("%s: got %s, want %s", c->label, icsoe_rfc_reason_name(got),
                 icsoe_rfc_reason_name(c->want));
    if (c->want_out != NULL)
        assert_string_equal(out, c->want_out);
    else
        assert_string_equal(out, "");
}

static void test_null(void **state)
{
    char out[ICSOE_RFC_BUFSZ] = "garbage";
    (void)state;

    assert_int_equal(icsoe_rfc_check(NULL, out), ICSOE_RFC_EMPTY);
    assert_string_equal(out, "");
    assert_int_equal(icsoe_rfc_check("EKU9003173C9", NULL), ICSOE_RFC_OK);
}

static void test_long_input(void **state)
{
    char *in = malloc(1001);
    char out[ICSOE_RFC_BUFSZ];
    (void)state;

    assert_non_null(in);
    memset(in, ' ', 1000);
    in[1000] = '\0';
    memcpy(in + 500, "EKU9003173C9", 12);
    assert_int_equal(icsoe_rfc_check(in, out), ICSOE_RFC_BAD_LENGTH);
    assert_string_equal(out, "");
    free(in);

    /* 65 bytes, no terminator: must not be read past (valgrind) */
    in = malloc(65);
    assert_non_null(in);
    memset(in, 'A', 65);
    assert_int_equal(icsoe_rfc_check(in, out), ICSOE_RFC_BAD_LENGTH);
    free(in);
}

/* The biggest normalised RFC (4 Ñ + 9) fits the buffer with room. */
static void test_largest_output(void **state)
{
    char out[ICSOE_RFC_BUFSZ];
    icsoe_rfc_reason r;
    (void)state;

    r = icsoe_rfc_check(NT NT NT NT "000229K70", out);
    assert_true(r == ICSOE_RFC_OK || r == ICSOE_RFC_BAD_CHECK_DIGIT);
    assert_int_equal(strlen(out), 17);
    assert_memory_equal(out, NT NT NT NT "000229K7", 16);
}

static void test_messages(void **state)
{
    (void)state;
    assert_string_equal(icsoe_rfc_reason_message(ICSOE_RFC_BAD_CHECK_DIGIT),
                        "El dígito verificador del RFC no es correcto.");
    assert_string_equal(icsoe_rfc_reason_name(ICSOE_RFC_BAD_CHECK_DIGIT),
                        "bad-check-digit");
    assert_string_equal(icsoe_rfc_reason_name(ICSOE_RFC_BAD_HOMOCLAVE), "bad-homoclave");
    for (int a = ICSOE_RFC_OK; a <= ICSOE_RFC_BAD_CHECK_DIGIT; a++) {
        const char *ma = icsoe_rfc_reason_message((icsoe_rfc_reason)a);
        const char *na = icsoe_rfc_reason_name((icsoe_rfc_reason)a);

        assert_true(strstr(ma, "RFC") != NULL);
        assert_string_not_equal(na, "unknown");
        for (int b = a + 1; b <= ICSOE_RFC_BAD_CHECK_DIGIT; b++) {
            assert_string_not_equal(ma, icsoe_rfc_reason_message((icsoe_rfc_reason)b));
            assert_string_not_equal(na, icsoe_rfc_reason_name((icsoe_rfc_reason)b));
        }
    }
    assert_string_equal(icsoe_rfc_reason_name((icsoe_rfc_reason)42), "unknown");
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_null),
        cmocka_unit_test(test_long_input),
        cmocka_unit_test(test_largest_output),
        cmocka_unit_test(test_messages),
    };
    size_t ncases = sizeof(cases) / sizeof(cases[0]);
    size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
    struct CMUnitTest *tests = calloc(ncases + nfixed, sizeof(*tests));
    int rc;

    if (tests == NULL)
        return 1;
    for (size_t i = 0; i < ncases; i++) {
        tests[i].name = cases[i].label;
        tests[i].test_func = run_case;
        tests[i].initial_state = (void *)&cases[i];
    }
    memcpy(tests + ncases, fixed, sizeof(fixed));
    rc = _cmocka_run_group_tests("rfc", tests, ncases + nfixed, NULL, NULL);
    free(tests);
    return rc;
}
