/* icsoe_curp_check: normalisation, every positional rule, the check digit
 * and hostile input.  The expected check digits were computed outside the
 * code under test (RENAPO algorithm in a throw-away Python one-liner) and
 * two of them come from published examples (LORX350217HNEPDV08,
 * AAMR850214MGRBRN01). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "curp.h"

typedef struct curp_case {
    const char *label;
    const char *in;
    icsoe_curp_reason want;
    const char *want_out; /* normalised CURP when want == OK */
} curp_case;

#define OK(label, in, out) { label, in, ICSOE_CURP_OK, out }
#define BAD(label, in, reason) { label, in, reason, NULL }

static const curp_case cases[] = {
    /* valid: both centuries, sexes H/M/X, NE, leap days */
    OK("valid published NE 1935 H", "LORX350217HNEPDV08", "LORX350217HNEPDV08"),
    OK("valid published GR 1985 M", "AAMR850214MGRBRN01", "AAMR850214MGRBRN01"),
    OK("valid DF 1956 H", "GODE561231HDFRRN00", "GODE561231HDFRRN00"),
    OK("valid VZ 1956 M", "HEGG560427MVZRRL04", "HEGG560427MVZRRL04"),
    OK("valid 2000 leap day M letter differentiator", "MAPA000229MJCRRNA3",
       "MAPA000229MJCRRNA3"),
    OK("valid sex X born abroad", "ROXA850115XNELPR04", "ROXA850115XNELPR04"),
    OK("valid 2005 H NL", "GOMJ051010HNLNRSA6", "GOMJ051010HNLNRSA6"),
    OK("valid 1964 leap day", "LOPE640229HDFPRD04", "LOPE640229HDFPRD04"),
    OK("valid 1996 leap day", "GODE960229MDFRRN04", "GODE960229MDFRRN04"),
    OK("valid 30 April", "GODE850430MDFRRN00", "GODE850430MDFRRN00"),
    OK("valid first state AS", "GODE851231MASRRN08", "GODE851231MASRRN08"),
    OK("valid last state ZS", "GODE851231MZSRRN06", "GODE851231MZSRRN06"),
    OK("valid X as second letter", "BXXA701120HSPLRS00", "BXXA701120HSPLRS00"),
    /* normalisation */
    OK("lowercase and surrounding whitespace", " \t lorx350217hnepdv08\r\n",
       "LORX350217HNEPDV08"),
    OK("mixed case", "Aamr850214mGrBrN01", "AAMR850214MGRBRN01"),
    OK("UTF-8 upper N tilde becomes X", "PEGA800101HDF\xc3\x91RN08", "PEGA800101HDFXRN08"),
    OK("UTF-8 lower n tilde becomes X", "pega800101hdf\xc3\xb1rn08", "PEGA800101HDFXRN08"),
    OK("N tilde as first letter", "\xc3\x91UAM900101HDFXRN07", "XUAM900101HDFXRN07"),
    OK("64 bytes including padding",
       "                                          " "   LORX350217HNEPDV08 ",
       "LORX350217HNEPDV08"),
    /* check digit */
    BAD("wrong check digit", "LORX350217HNEPDV09", ICSOE_CURP_BAD_CHECK_DIGIT),
    BAD("letter as check digit", "LORX350217HNEPDV0A", ICSOE_CURP_BAD_CHECK_DIGIT),
    BAD("two adjacent chars swapped", "LORX350217HNEPVD08", ICSOE_CURP_BAD_CHECK_DIGIT),
    BAD("N tilde where the CURP has N", "PEGA800101HDFNRN08", ICSOE_CURP_BAD_CHECK_DIGIT),
    /* dates */
    BAD("30 February", "GODE850230MDFRRN02", ICSOE_CURP_BAD_DATE),
    BAD("31 April", "GODE850431MDFRRN01", ICSOE_CURP_BAD_DATE),
    BAD("29 February 1900 is not leap", "GODE000229HDFRRN08", ICSOE_CURP_BAD_DATE),
    BAD("29 February 1999", "GODE990229MDFRRN05", ICSOE_CURP_BAD_DATE),
    BAD("29 February 2001", "GODE010229MDFRRNA5", ICSOE_CURP_BAD_DATE),
    BAD("month 00", "GODE850015MDFRRN00", ICSOE_CURP_BAD_DATE),
    BAD("month 13", "GODE851315MDFRRN00", ICSOE_CURP_BAD_DATE),
    BAD("day 00", "GODE851200MDFRRN00", ICSOE_CURP_BAD_DATE),
    BAD("day 32", "GODE851232MDFRRN00", ICSOE_CURP_BAD_DATE),
    BAD("letter O in the year", "GODE8O1231MDFRRN00", ICSOE_CURP_BAD_DATE),
    /* sex, state, letters, consonants */
    BAD("sex F", "GODE851231FDFRRN00", ICSOE_CURP_BAD_SEX),
    BAD("sex digit", "GODE8512310DFRRN00", ICSOE_CURP_BAD_SEX),
    BAD("unknown state XX", "GODE851231MXXRRN00", ICSOE_CURP_BAD_STATE),
    BAD("state with digit", "GODE851231MD1RRN00", ICSOE_CURP_BAD_STATE),
    BAD("state EN (reversed NE)", "GODE851231MENRRN00", ICSOE_CURP_BAD_STATE),
    BAD("vowel where a consonant belongs", "GODE851231MDFARN00", ICSOE_CURP_BAD_CONSONANTS),
    BAD("vowel in last consonant", "GODE851231MDFRRU00", ICSOE_CURP_BAD_CONSONANTS),
    BAD("digit in consonants", "GODE851231MDFR1N00", ICSOE_CURP_BAD_CONSONANTS),
    BAD("digit in first letters", "G0DE851231MDFRRN00", ICSOE_CURP_BAD_NAME_LETTERS),
    BAD("digit in fourth letter", "GOD1851231MDFRRN00", ICSOE_CURP_BAD_NAME_LETTERS),
    BAD("consonant as second letter", "GRDE851231MDFRRN00", ICSOE_CURP_BAD_NAME_LETTERS),
    BAD("digit as first letter", "1ODE851231MDFRRN00", ICSOE_CURP_BAD_NAME_LETTERS),
    /* length */
    BAD("17 characters", "LORX350217HNEPDV0", ICSOE_CURP_BAD_LENGTH),
    BAD("19 characters", "LORX350217HNEPDV080", ICSOE_CURP_BAD_LENGTH),
    BAD("one character", "L", ICSOE_CURP_BAD_LENGTH),
    BAD("65 bytes of padding and CURP",
        "                                          " "    LORX350217HNEPDV08 ",
        ICSOE_CURP_BAD_LENGTH),
    BAD("embedded NUL truncates", "LORX350217\0HNEPDV08", ICSOE_CURP_BAD_LENGTH),
    BAD("N tilde counts as one character (19)", "PEGA800101HDF\xc3\x91RN080",
        ICSOE_CURP_BAD_LENGTH),
    /* empty */
    BAD("empty", "", ICSOE_CURP_EMPTY),
    BAD("only whitespace", " \t\r\n", ICSOE_CURP_EMPTY),
    /* characters */
    BAD("e acute", "GOD\xc3\xa9" "851231MDFRRN00", ICSOE_CURP_BAD_CHARS),
    BAD("A umlaut (C3 84)", "GOD\xc3\x84" "851231MDFRRN00", ICSOE_CURP_BAD_CHARS),
    BAD("fullwidth letters", "\xef\xbc\xac\xef\xbc\xaf\xef\xbc\xb2\xef\xbc\xb8"
        "350217HNEPDV08", ICSOE_CURP_BAD_CHARS),
    BAD("ampersand", "GOD&851231MDFRRN00", ICSOE_CURP_BAD_CHARS),
    BAD("internal space", "LORX350217 HNEPDV08", ICSOE_CURP_BAD_CHARS),
    BAD("hyphen", "LORX-350217HNEPDV08", ICSOE_CURP_BAD_CHARS),
    BAD("control char SOH", "LORX350217\x01NEPDV08", ICSOE_CURP_BAD_CHARS),
    BAD("DEL", "LORX350217H\x7f" "EPDV08", ICSOE_CURP_BAD_CHARS),
    BAD("lone lead byte at the end", "LORX350217HNEPDV0\xc3", ICSOE_CURP_BAD_CHARS),
    BAD("lone continuation byte", "LORX350217HNEPDV0\x91", ICSOE_CURP_BAD_CHARS),
    BAD("overlong encoding of N", "LORX350217H\xc1\x8e" "EPDV08", ICSOE_CURP_BAD_CHARS),
    BAD("Latin-1 N tilde byte", "PEGA800101HDF\xd1RN08", ICSOE_CURP_BAD_CHARS),
};

static void run_case(void **state)
{
    const curp_case *c = *state;
    char out[ICSOE_CURP_LEN + 1];
    icsoe_curp_reason got;

    memset(out, 'Z', sizeof(out));
    got = icsoe_curp_check(c->in, out);
    if (got != c->want)
        fail_msg("%s: got %s, want %s", c->label, icsoe_curp_reason_name(got),
                 icsoe_curp_reason_name(c->want));
    if (c->want == ICSOE_CURP_OK)
        assert_string_equal(out, c->want_out);
    else
        assert_string_equal(out, ""); /* nothing half-written */
}

static void test_null_input(void **state)
{
    char out[ICSOE_CURP_LEN + 1] = "garbage";
    (void)state;

    assert_int_equal(icsoe_curp_check(NULL, out), ICSOE_CURP_EMPTY);
    assert_string_equal(out, "");
}

static void test_null_out_allowed(void **state)
{
    (void)state;
    assert_int_equal(icsoe_curp_check("LORX350217HNEPDV08", NULL), ICSOE_CURP_OK);
    assert_int_equal(icsoe_curp_check("LORX350217HNEPDV09", NULL),
                     ICSOE_CURP_BAD_CHECK_DIGIT);
}

static void test_1000_bytes(void **state)
{
    char *in = malloc(1001);
    char out[ICSOE_CURP_LEN + 1];
    (void)state;

    assert_non_null(in);
    memset(in, 'A', 1000);
    in[1000] = '\0';
    assert_int_equal(icsoe_curp_check(in, out), ICSOE_CURP_BAD_LENGTH);
    assert_string_equal(out, "");
    /* A valid CURP behind 982 spaces is still refused: the bound applies
     * before trimming. */
    memset(in, ' ', 1000);
    memcpy(in + 982, "LORX350217HNEPDV08", 18);
    assert_int_equal(icsoe_curp_check(in, out), ICSOE_CURP_BAD_LENGTH);
    free(in);
}

/* Exactly 65 bytes without a terminator: the checker must stop there
 * (valgrind reports any read past the block). */
static void test_unterminated_bound(void **state)
{
    char *in = malloc(65);
    char out[ICSOE_CURP_LEN + 1];
    (void)state;

    assert_non_null(in);
    memset(in, 'A', 65);
    assert_int_equal(icsoe_curp_check(in, out), ICSOE_CURP_BAD_LENGTH);
    free(in);
}

/* Exact-size heap copies: no read past the NUL (checked by valgrind). */
static void test_exact_size_buffers(void **state)
{
    static const char *const inputs[] = {
        "LORX350217HNEPDV08", "LORX350217HNEPDV0\xc3", "PEGA800101HDF\xc3\x91RN08", "x"
    };
    (void)state;

    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        size_t n = strlen(inputs[i]) + 1;
        char *copy = malloc(n);
        char out[ICSOE_CURP_LEN + 1];

        assert_non_null(copy);
        memcpy(copy, inputs[i], n);
        (void)icsoe_curp_check(copy, out);
        free(copy);
    }
}

/* Every pair of capitals as the state (positions 12-13), the check digit
 * recomputed: exactly RENAPO's 32 states and NE are accepted, every other
 * pair is BAD_STATE (the state table is a bit mask per first letter). */
static void test_every_state_code(void **state)
{
    static const char states[] = "AS BC BS CC CL CM CS CH DF DG GT GR HG JC MC MN "
                                 "MS NT NL OC PL QT QR SP SL SR TC TS TL VZ YN ZS NE";
    char c[ICSOE_CURP_LEN + 1] = "GODE851231MXXRRN00";
    int accepted = 0;
    (void)state;

    for (char a = 'A'; a <= 'Z'; a++) {
        for (char b = 'A'; b <= 'Z'; b++) {
            char pair[3] = { a, b, '\0' };
            icsoe_curp_reason got;

            c[11] = a;
            c[12] = b;
            c[17] = icsoe_curp_check_digit(c);
            got = icsoe_curp_check(c, NULL);
            if (strstr(states, pair) != NULL) { /* codes are space-separated */
                if (got != ICSOE_CURP_OK)
                    fail_msg("state %s refused: %s", pair, icsoe_curp_reason_name(got));
                accepted++;
            } else if (got != ICSOE_CURP_BAD_STATE) {
                fail_msg("state %s: got %s", pair, icsoe_curp_reason_name(got));
            }
        }
    }
    assert_int_equal(accepted, 33);
}

static void test_check_digit_function(void **state)
{
    (void)state;
    assert_int_equal(icsoe_curp_check_digit("LORX350217HNEPDV0"), '8');
    assert_int_equal(icsoe_curp_check_digit("AAMR850214MGRBRN0"), '1');
    assert_int_equal(icsoe_curp_check_digit("GODE561231HDFRRN0"), '0');
    assert_int_equal(icsoe_curp_check_digit("MAPA000229MJCRRNA"), '3');
    /* '&' stands for Ñ with value 24 (sum 1726 computed externally) */
    assert_int_equal(icsoe_curp_check_digit("ABCD851231MNE&RN0"), '4');
    /* only the first 17 characters count */
    assert_int_equal(icsoe_curp_check_digit("LORX350217HNEPDV0XYZ"), '8');
    assert_int_equal(icsoe_curp_check_digit(NULL), 0);
    assert_int_equal(icsoe_curp_check_digit(""), 0);
    assert_int_equal(icsoe_curp_check_digit("LORX350217HNEPDV"), 0); /* 16 */
    assert_int_equal(icsoe_curp_check_digit("lorx350217hnepdv0"), 0);
    assert_int_equal(icsoe_curp_check_digit("LORX350217HNEPD-0"), 0);
}

/* Every character of RENAPO's alphabet weighs its index (seen mod 10
 * through weight 11 at index 7), and the bytes next to each range of it
 * are outside (the value is computed by ranges, not looked up). */
static void test_check_digit_alphabet(void **state)
{
    static const char alphabet[] = "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ";
    static const char outside[] = "/:@[%'`{ \x7f";
    char s[18];

    (void)state;
    for (size_t v = 0; v < sizeof(alphabet) - 1; v++) {
        memset(s, '0', 17);
        s[17] = '\0';
        s[7] = alphabet[v];
        assert_int_equal(icsoe_curp_check_digit(s), '0' + (int)((10 - v % 10) % 10));
    }
    for (size_t i = 0; i < sizeof(outside) - 1; i++) {
        memset(s, '0', 17);
        s[17] = '\0';
        s[7] = outside[i];
        assert_int_equal(icsoe_curp_check_digit(s), 0);
    }
    memset(s, '0', 17);
    s[17] = '\0';
    s[7] = (char)0xC3; /* a UTF-8 lead byte: no value */
    assert_int_equal(icsoe_curp_check_digit(s), 0);
}

static void test_messages_and_names(void **state)
{
    (void)state;
    assert_string_equal(icsoe_curp_reason_message(ICSOE_CURP_BAD_LENGTH),
                        "La CURP debe tener 18 caracteres.");
    assert_string_equal(icsoe_curp_reason_message(ICSOE_CURP_BAD_CHECK_DIGIT),
                        "El dígito verificador de la CURP no es correcto.");
    assert_string_equal(icsoe_curp_reason_name(ICSOE_CURP_BAD_CHECK_DIGIT),
                        "bad-check-digit");
    assert_string_equal(icsoe_curp_reason_name(ICSOE_CURP_OK), "ok");
    assert_string_equal(icsoe_curp_reason_name(ICSOE_CURP_BAD_STATE), "bad-state");
    /* every reason has a distinct message and name */
    for (int a = ICSOE_CURP_OK; a <= ICSOE_CURP_BAD_CHECK_DIGIT; a++) {
        const char *ma = icsoe_curp_reason_message((icsoe_curp_reason)a);
        const char *na = icsoe_curp_reason_name((icsoe_curp_reason)a);

        assert_non_null(ma);
        assert_true(strstr(ma, "CURP") != NULL);
        assert_string_not_equal(na, "unknown");
        for (int b = a + 1; b <= ICSOE_CURP_BAD_CHECK_DIGIT; b++) {
            assert_string_not_equal(ma, icsoe_curp_reason_message((icsoe_curp_reason)b));
            assert_string_not_equal(na, icsoe_curp_reason_name((icsoe_curp_reason)b));
        }
    }
    assert_string_equal(icsoe_curp_reason_name((icsoe_curp_reason)99), "unknown");
    assert_string_equal(icsoe_curp_reason_message((icsoe_curp_reason)99),
                        "La CURP no es válida.");
}

/* The shape alone: 18 of [A-Z0-9], nothing else checked. */
static void test_shape_ok(void **state)
{
    (void)state;
    assert_true(icsoe_curp_shape_ok("GODE561231HDFRRN09"));
    assert_true(icsoe_curp_shape_ok("ZZZZ999999ZZZZZZ99")); /* no date check */
    assert_false(icsoe_curp_shape_ok("gode561231hdfrrn09"));
    assert_false(icsoe_curp_shape_ok("GODE561231HDFRRN0"));
    assert_false(icsoe_curp_shape_ok("GODE561231HDFRRN091"));
    assert_false(icsoe_curp_shape_ok("GODE561231HDFRRN0 "));
    assert_false(icsoe_curp_shape_ok("GOD\xc3\x91" "561231HDFRRN0"));
    assert_false(icsoe_curp_shape_ok(""));
    assert_false(icsoe_curp_shape_ok(NULL));
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_null_input),
        cmocka_unit_test(test_null_out_allowed),
        cmocka_unit_test(test_1000_bytes),
        cmocka_unit_test(test_unterminated_bound),
        cmocka_unit_test(test_exact_size_buffers),
        cmocka_unit_test(test_check_digit_function),
        cmocka_unit_test(test_every_state_code),
        cmocka_unit_test(test_check_digit_alphabet),
        cmocka_unit_test(test_messages_and_names),
        cmocka_unit_test(test_shape_ok),
    };
    size_t ncases = sizeof(cases) / sizeof(cases[0]);
    size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
    struct CMUnitTest *tests = calloc(ncases + nfixed, sizeof(*tests));
    int rc;

    if (tests == NULL)
        return 1;
    /* one named cmocka test per table row, so a failure names its case */
    for (size_t i = 0; i < ncases; i++) {
        tests[i].name = cases[i].label;
        tests[i].test_func = run_case;
        tests[i].initial_state = (void *)&cases[i];
    }
    memcpy(tests + ncases, fixed, sizeof(fixed));
    rc = _cmocka_run_group_tests("curp", tests, ncases + nfixed, NULL, NULL);
    free(tests);
    return rc;
}
