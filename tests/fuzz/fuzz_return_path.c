/* Fuzz target: return-path check against open redirects (lib/redirect.c).
 * Invariants for an accepted path: at most ICSOE_RETURN_PATH_MAX bytes,
 * starts with exactly one '/', only printable ASCII without '\\' or
 * space, and after up to 3 rounds of percent-decoding it still starts
 * with a single '/' (no "//" or "/\\"), holds no control character, and
 * has no scheme before the first '/'.  A browser given such a path stays
 * on our site. */
#include "fuzz.h"
#include "input.h"

/* One round of %XX decoding in place; malformed escapes are left as they
 * are (the checker refuses them, so they never reach here anyway). */
static void decode_round(char *s)
{
    size_t o = 0;

    for (size_t i = 0; s[i] != '\0'; i++) {
        int hi = s[i] == '%' ? icsoe_hex_value((unsigned char)s[i + 1]) : -1;
        int lo = hi >= 0 ? icsoe_hex_value((unsigned char)s[i + 2]) : -1;

        if (lo >= 0) {
            s[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            s[o++] = s[i];
        }
    }
    s[o] = '\0';
}

static void check_accepted(const char *path)
{
    size_t n = strlen(path);
    char *d;

    FUZZ_CHECK(n >= 1 && n <= ICSOE_RETURN_PATH_MAX);
    FUZZ_CHECK(path[0] == '/');
    FUZZ_CHECK(path[1] != '/' && path[1] != '\\');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        FUZZ_CHECK(c > 0x20 && c < 0x7f && c != '\\');
    }
    d = strdup(path);
    FUZZ_CHECK(d != NULL);
    for (int round = 0; round < 3; round++) {
        decode_round(d);
        FUZZ_CHECK(d[0] == '/');
        FUZZ_CHECK(d[1] != '/' && d[1] != '\\');
        for (size_t i = 0; d[i] != '\0'; i++) {
            unsigned char c = (unsigned char)d[i];
            FUZZ_CHECK(c >= 0x20);
        }
    }
    free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *path = fuzz_cstr(data, size);
    int ok = icsoe_return_path_ok(path);

    FUZZ_CHECK(ok == 0 || ok == 1);
    if (ok)
        check_accepted(path);
    /* Prepending a second '/' must always be refused. */
    if (path[0] == '/') {
        size_t n = strlen(path);
        char *twice = malloc(n + 2);
        FUZZ_CHECK(twice != NULL);
        twice[0] = '/';
        memcpy(twice + 1, path, n + 1);
        FUZZ_CHECK(icsoe_return_path_ok(twice) == 0);
        free(twice);
    }
    free(path);
    return 0;
}
