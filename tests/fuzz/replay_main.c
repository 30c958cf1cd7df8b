/* Replays seed corpora through a fuzz target without libFuzzer, so "make
 * check" (gcc, -Werror, optionally sanitizers) runs every seed on every
 * build.  Usage: fuzz_<target> [DIR|FILE...]; with no argument the corpus
 * tests/fuzz/corpus/<program name> under ICSOE_FUZZ_CORPUS (the source
 * tree's corpus root, compiled in) is replayed.  Each file is passed in a
 * buffer of exactly its size, so a sanitizer build catches over-reads.
 * Exit 1 when a directory holds no input (a missing corpus must not pass). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "fuzz.h"

#ifndef ICSOE_FUZZ_CORPUS
#define ICSOE_FUZZ_CORPUS "tests/fuzz/corpus"
#endif
#define REPLAY_MAX_INPUT (1024 * 1024)

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    long size;
    int rc = -1;

    if (f == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || size > REPLAY_MAX_INPUT ||
        fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "replay: %s: unreadable or larger than %d bytes\n", path,
                REPLAY_MAX_INPUT);
        goto out;
    }
    buf = malloc(size > 0 ? (size_t)size : 1);
    if (buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "replay: %s: read error\n", path);
        goto out;
    }
    LLVMFuzzerTestOneInput(buf, (size_t)size);
    rc = 0;
out:
    free(buf);
    fclose(f);
    return rc;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir, in name order (stable output). */
static int replay_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    if (d == NULL) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            char **nn = realloc(names, (cap ? cap * 2 : 64) * sizeof(*names));
            if (nn == NULL) {
                rc = -1;
                goto out;
            }
            names = nn;
            cap = cap ? cap * 2 : 64;
        }
        names[n] = strdup(e->d_name);
        if (names[n] == NULL) {
            rc = -1;
            goto out;
        }
        n++;
    }
    qsort(names, n, sizeof(*names), name_cmp);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char path[4096];
        struct stat st;

        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= sizeof(path)) {
            rc = -1;
            break;
        }
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (replay_file(path) != 0)
            rc = -1;
        else
            (*count)++;
    }
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

static int replay_arg(const char *arg)
{
    struct stat st;
    size_t count = 0;

    if (stat(arg, &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", arg, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (replay_file(arg) != 0)
            return -1;
        printf("replayed 1 input: %s\n", arg);
        return 0;
    }
    if (replay_dir(arg, &count) != 0)
        return -1;
    if (count == 0) {
        fprintf(stderr, "replay: %s: no inputs\n", arg);
        return -1;
    }
    printf("replayed %zu inputs from %s\n", count, arg);
    return 0;
}

int main(int argc, char **argv)
{
    char dflt[4096];
    const char *base;

    if (argc > 1) {
        for (int i = 1; i < argc; i++) {
            if (replay_arg(argv[i]) != 0)
                return 1;
        }
        return 0;
    }
    base = strrchr(argv[0], '/');
    base = base != NULL ? base + 1 : argv[0];
    if (strncmp(base, "lt-", 3) == 0) /* libtool's wrapper renames us */
        base += 3;
    if ((size_t)snprintf(dflt, sizeof(dflt), "%s/%s", ICSOE_FUZZ_CORPUS, base) >= sizeof(dflt))
        return 1;
    return replay_arg(dflt) == 0 ? 0 : 1;
}
