/* pwcheckdrv: calls slapd_icsoe's check_password the way slapd 2.5 does
 * (dlopen, dlsym, one call, dlclose), for test_pwcheck.py's valgrind and
 * thread tests.
 *
 *   pwcheckdrv MODULE POLICY_CONF THREADS ROUNDS UID CN PASSWORD...
 *
 * Every thread checks every PASSWORD ROUNDS times against an entry with
 * uid=UID and cn=CN (built with the same leading fields as slapd's Entry)
 * and the first thread prints "rc<TAB>message" per password.  Exit 0 when
 * every thread saw the same answers. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lber.h>

typedef int (*check_fn)(char *pw, char **msg, void *entry, struct berval *arg);

struct ad { void *next; void *type; struct berval cname; };
struct attr {
    struct ad *desc;
    struct berval *vals;
    struct berval *nvals;
    unsigned numvals;
    unsigned flags;
    struct attr *next;
};
struct entry { unsigned long id; struct berval name; struct berval nname; struct attr *attrs; };

#define MAX_PW 16

static const char *module;
static struct berval arg;
static struct entry ent;
static char **pws;
static int npw, rounds;
static int answers[64][MAX_PW];

static void bv(struct berval *b, const char *s)
{
    b->bv_val = (char *)s;
    b->bv_len = strlen(s);
}

static int check_once(char *pw, char **msg)
{
    void *h = dlopen(module, RTLD_NOW | RTLD_LOCAL);
    check_fn fn;
    int rc;

    if (h == NULL) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        exit(2);
    }
    fn = (check_fn)(uintptr_t)dlsym(h, "check_password");
    if (fn == NULL) {
        fprintf(stderr, "dlsym: %s\n", dlerror());
        exit(2);
    }
    *msg = NULL;
    rc = fn(pw, msg, &ent, arg.bv_len ? &arg : NULL);
    dlclose(h);
    return rc;
}

static void *worker(void *p)
{
    int t = (int)(intptr_t)p;

    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < npw; i++) {
            char *msg = NULL;
            int rc = check_once(pws[i], &msg);

            answers[t][i] = rc;
            if (t == 0 && r == 0)
                printf("%d\t%s\n", rc, msg ? msg : "");
            free(msg);   /* slapd free()s it */
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    static struct ad ad_uid, ad_cn;
    static struct attr a_uid, a_cn;
    static struct berval uidv[2], cnv[2];
    pthread_t th[64];
    int nthreads;

    if (argc < 8) {
        fprintf(stderr, "usage: pwcheckdrv MODULE POLICY_CONF THREADS ROUNDS UID CN PASSWORD...\n");
        return 2;
    }
    module = argv[1];
    bv(&arg, argv[2]);
    nthreads = atoi(argv[3]);
    rounds = atoi(argv[4]);
    if (nthreads < 1 || nthreads > 64 || rounds < 1 || argc - 7 > MAX_PW)
        return 2;
    bv(&ad_uid.cname, "uid");
    bv(&ad_cn.cname, "cn");
    bv(&uidv[0], argv[5]);
    bv(&cnv[0], argv[6]);
    a_uid.desc = &ad_uid;
    a_uid.vals = a_uid.nvals = uidv;
    a_uid.numvals = 1;
    a_cn.desc = &ad_cn;
    a_cn.vals = a_cn.nvals = cnv;
    a_cn.numvals = 1;
    a_uid.next = &a_cn;
    ent.attrs = &a_uid;
    bv(&ent.name, "uid=x,ou=capturistas,dc=icsoe,dc=test");
    pws = argv + 7;
    npw = argc - 7;
    fflush(stdout);
    for (int t = 0; t < nthreads; t++)
        pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t);
    for (int t = 0; t < nthreads; t++)
        pthread_join(th[t], NULL);
    for (int t = 1; t < nthreads; t++)
        if (memcmp(answers[t], answers[0], sizeof(answers[0])) != 0)
            return 1;
    return 0;
}
