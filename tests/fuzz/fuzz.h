/* Shared helpers for the libFuzzer targets in tests/fuzz/.
 *
 * Every target defines LLVMFuzzerTestOneInput and is built twice: with
 * clang -fsanitize=fuzzer,address,undefined by tests/fuzz/run (real
 * fuzzing), and with the project's gcc flags linked to replay_main.c, a
 * check program that "make check" runs over the target's seed corpus.
 * An invariant that does not hold aborts, so both builds report it. */
#ifndef ICSOE_FUZZ_H
#define ICSOE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__attribute__((noreturn, unused)) static void fuzz_fail(const char *file, int line,
                                                        const char *what)
{
    fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, what);
    abort();
}

#define FUZZ_CHECK(cond)                                  \
    do {                                                  \
        if (!(cond))                                      \
            fuzz_fail(__FILE__, __LINE__, #cond);         \
    } while (0)

/* The input as a malloc'd C string: the bytes up to the first NUL (the
 * parsers under test take C strings, and a NUL ends them for every caller
 * too).  Exits on out of memory: that is not a finding. */
__attribute__((unused)) static char *fuzz_cstr(const uint8_t *data, size_t size)
{
    size_t n = size == 0 ? 0 : strnlen((const char *)data, size);
    char *s = malloc(n + 1);

    if (s == NULL)
        abort();
    if (n > 0)
        memcpy(s, data, n);
    s[n] = '\0';
    return s;
}

/* Split the input at NUL bytes into up to max malloc'd C strings (missing
 * parts are ""), so one input drives several arguments. */
__attribute__((unused)) static void fuzz_split(const uint8_t *data, size_t size,
                                               char **part, size_t max)
{
    size_t pos = 0;

    for (size_t i = 0; i < max; i++) {
        size_t n = 0;

        if (pos < size)
            n = strnlen((const char *)data + pos, size - pos);
        part[i] = malloc(n + 1);
        if (part[i] == NULL)
            abort();
        if (n > 0)
            memcpy(part[i], data + pos, n);
        part[i][n] = '\0';
        pos += n + 1;
        if (i + 1 == max || pos > size)
            pos = size + 1;
    }
}

__attribute__((unused)) static void fuzz_split_free(char **part, size_t max)
{
    for (size_t i = 0; i < max; i++)
        free(part[i]);
}

#endif
