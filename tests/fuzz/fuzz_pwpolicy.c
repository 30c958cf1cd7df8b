/* Fuzz target: password policy (lib/pwpolicy.c), with and without a
 * blocklist.  Input: 3 policy bytes (classes, min, max), then password,
 * CURP and name separated by NUL bytes.
 * Invariants: invalid UTF-8 or a control character gives BAD_UTF8 alone;
 * otherwise TOO_SHORT/TOO_LONG agree with a reference code-point count,
 * NEEDS_* only for required classes (NEEDS_DIGIT exactly when no ASCII
 * digit), MISMATCH never (callers set it); the blocklist only ever adds
 * BLOCKLISTED, and does add it for a listed password in any ASCII case;
 * a password holding the CURP's first 10 characters gets HAS_CURP; every
 * set bit has a Spanish message; describe stays within its array. */
#include <unistd.h>
#include "fuzz.h"
#include "pwpolicy.h"

static const char *const blocked[] = {
    "password123", "contrasenacontrasena", "icsoeicsoeicsoe", "123456789012345",
};
#define NBLOCKED (sizeof(blocked) / sizeof(blocked[0]))

static icsoe_blocklist *blocklist(void)
{
    static icsoe_blocklist *bl;
    char path[] = "/tmp/icsoe-fuzz-blocklist-XXXXXX";
    char err[256];
    FILE *f;
    int fd;

    if (bl != NULL)
        return bl;
    fd = mkstemp(path);
    FUZZ_CHECK(fd >= 0);
    f = fdopen(fd, "w");
    FUZZ_CHECK(f != NULL);
    for (size_t i = 0; i < NBLOCKED; i++)
        fprintf(f, "%s\n", blocked[i]);
    FUZZ_CHECK(fclose(f) == 0);
    bl = icsoe_blocklist_load(path, err, sizeof(err));
    unlink(path);
    if (bl == NULL) {
        fprintf(stderr, "blocklist: %s\n", err);
        abort();
    }
    return bl;
}

/* Code points of strict UTF-8 without C0/DEL/C1 controls; -1 otherwise. */
static long ref_codepoints(const unsigned char *s)
{
    long count = 0;

    while (*s != '\0') {
        unsigned long cp;
        size_t more;

        if (*s < 0x80) {
            cp = *s;
            more = 0;
        } else if (*s >= 0xc2 && *s <= 0xdf) {
            cp = *s & 0x1f;
            more = 1;
        } else if (*s >= 0xe0 && *s <= 0xef) {
            cp = *s & 0x0f;
            more = 2;
        } else if (*s >= 0xf0 && *s <= 0xf4) {
            cp = *s & 0x07;
            more = 3;
        } else {
            return -1;
        }
        for (size_t k = 1; k <= more; k++) {
            if ((s[k] & 0xc0) != 0x80)
                return -1;
            cp = cp << 6 | (s[k] & 0x3f);
        }
        if ((more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
            return -1;
        s += more + 1;
        count++;
    }
    return count;
}

static int ascii_caseeq(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++) {
        char x = (*a >= 'A' && *a <= 'Z') ? (char)(*a - 'A' + 'a') : *a;
        char y = (*b >= 'A' && *b <= 'Z') ? (char)(*b - 'A' + 'a') : *b;
        if (x != y)
            return 0;
    }
    return *a == '\0' && *b == '\0';
}

static void check_messages(const icsoe_pwpolicy *p, unsigned bits)
{
    char buf[256];
    char lines[16][160];
    size_t n;

    for (unsigned bit = 0; bit < ICSOE_PW_RULE_COUNT; bit++) {
        const char *m;
        if (!(bits & (1u << bit)))
            continue;
        m = icsoe_pwpolicy_rule_message(p, 1u << bit, buf, sizeof(buf));
        FUZZ_CHECK(m != NULL && m[0] != '\0');
    }
    n = icsoe_pwpolicy_describe(p, lines, 16);
    FUZZ_CHECK(n <= 16);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(memchr(lines[i], '\0', sizeof(lines[i])) != NULL && lines[i][0] != '\0');
    FUZZ_CHECK(icsoe_pwpolicy_describe(p, lines, 2) <= 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    icsoe_pwpolicy p;
    char *part[3];
    unsigned plain, listed;
    long cps;
    int listed_pw = 0;

    if (size < 3)
        return 0;
    icsoe_pwpolicy_defaults(&p);
    p.classes = data[0] & 0x0f;
    p.min_length = data[1] % 40;
    p.max_length = data[2] == 0 ? 0 : p.min_length + data[2] % 140; /* 0: no maximum */
    fuzz_split(data + 3, size - 3, part, 3);

    plain = icsoe_pwpolicy_check(&p, part[0], part[1], part[2]);
    p.blocklist = blocklist();
    listed = icsoe_pwpolicy_check(&p, part[0], part[1], part[2]);
    FUZZ_CHECK((listed & ~(unsigned)ICSOE_PW_BLOCKLISTED) == plain);
    FUZZ_CHECK(!(plain & ICSOE_PW_BLOCKLISTED));
    FUZZ_CHECK(!(listed & ICSOE_PW_MISMATCH));
    FUZZ_CHECK(listed < (1u << ICSOE_PW_RULE_COUNT));

    cps = ref_codepoints((const unsigned char *)part[0]);
    if (cps < 0) {
        FUZZ_CHECK(listed == ICSOE_PW_BAD_UTF8);
    } else {
        FUZZ_CHECK(!(listed & ICSOE_PW_BAD_UTF8));
        FUZZ_CHECK(!!(listed & ICSOE_PW_TOO_SHORT) == (cps < (long)p.min_length));
        FUZZ_CHECK(!!(listed & ICSOE_PW_TOO_LONG) ==
                   (p.max_length > 0 && cps > (long)p.max_length));
        FUZZ_CHECK(!(listed & ICSOE_PW_NEEDS_LOWER) || (p.classes & ICSOE_PWCLASS_LOWER));
        FUZZ_CHECK(!(listed & ICSOE_PW_NEEDS_UPPER) || (p.classes & ICSOE_PWCLASS_UPPER));
        FUZZ_CHECK(!(listed & ICSOE_PW_NEEDS_SYMBOL) || (p.classes & ICSOE_PWCLASS_SYMBOL));
        FUZZ_CHECK(!!(listed & ICSOE_PW_NEEDS_DIGIT) ==
                   ((p.classes & ICSOE_PWCLASS_DIGIT) && strpbrk(part[0], "0123456789") == NULL));
        for (size_t i = 0; i < NBLOCKED; i++)
            listed_pw |= ascii_caseeq(part[0], blocked[i]);
        if (listed_pw)
            FUZZ_CHECK(listed & ICSOE_PW_BLOCKLISTED);
        if (strlen(part[1]) >= 10) {
            /* A CURP is ASCII: a byte-wise match inside a multi-byte
             * character is not "containing the CURP". */
            char prefix[11];
            int ascii = 1;
            memcpy(prefix, part[1], 10);
            prefix[10] = '\0';
            for (size_t i = 0; i < 10; i++)
                ascii &= (unsigned char)prefix[i] < 0x80;
            if (ascii && strstr(part[0], prefix) != NULL)
                FUZZ_CHECK(listed & ICSOE_PW_HAS_CURP);
        }
    }
    FUZZ_CHECK(icsoe_pwpolicy_check(&p, part[0], NULL, NULL) ==
               (listed & ~(unsigned)(ICSOE_PW_HAS_CURP | ICSOE_PW_HAS_NAME)));
    FUZZ_CHECK(!!icsoe_blocklist_contains(p.blocklist, part[0]) ==
               !!(listed & ICSOE_PW_BLOCKLISTED) || cps < 0);
    check_messages(&p, listed);
    fuzz_split_free(part, 3);
    return 0;
}
