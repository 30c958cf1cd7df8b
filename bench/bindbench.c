/* bindbench: raw LDAP simple binds per second (the baseline of P2 and P3).
 *
 *   bindbench -H URI -f DNFILE [-t THREADS] [-d SECONDS] [-n MAX] [-r] < PASSWORD
 *
 * Each thread opens one connection and binds as the DNs of DNFILE (one a
 * line) in turn, all with the password read from stdin, until SECONDS
 * passed or MAX binds were made in total (both bounds always apply).
 * -r reconnects for every bind (connect, bind, unbind), the cost of a
 * client that keeps no connection.  No controls are sent: this is the
 * floor any module on top of the same slapd pays.
 *
 * Output, last line:
 *   result binds=N ok=N failed=N seconds=S rate=R
 * Exit status 0 when every bind succeeded, 1 otherwise, 2 on usage. */
#include <ldap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define MAX_DNS 100000
#define LINE_MAX_LEN 1024

typedef struct opts {
    const char *uri;
    char **dns;
    size_t ndns;
    char password[LINE_MAX_LEN];
    int threads;
    double seconds;
    long max;
    int reconnect;
} opts;

static opts o;
static atomic_long issued;
static atomic_long ok_count;
static atomic_long failed;
static atomic_int first_error;

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static LDAP *connect_ld(void)
{
    LDAP *ld = NULL;
    int v3 = LDAP_VERSION3;
    struct timeval tv = { 10, 0 };

    if (ldap_initialize(&ld, o.uri) != LDAP_SUCCESS)
        return NULL;
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
    return ld;
}

static void *worker(void *arg)
{
    size_t next = (size_t)(long)arg * 7919u;
    double end = now() + o.seconds;
    struct berval cred;
    LDAP *ld = NULL;

    cred.bv_val = o.password;
    cred.bv_len = strlen(o.password);
    while (now() < end && atomic_fetch_add(&issued, 1) < o.max) {
        const char *dn = o.dns[next++ % o.ndns];
        int rc;

        if (ld == NULL && (ld = connect_ld()) == NULL) {
            atomic_fetch_add(&failed, 1);
            break;
        }
        rc = ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
        if (rc == LDAP_SUCCESS) {
            atomic_fetch_add(&ok_count, 1);
        } else {
            int zero = 0;

            atomic_fetch_add(&failed, 1);
            atomic_compare_exchange_strong(&first_error, &zero, rc);
        }
        if (o.reconnect || rc == LDAP_SERVER_DOWN) {
            ldap_unbind_ext_s(ld, NULL, NULL);
            ld = NULL;
        }
    }
    if (ld != NULL)
        ldap_unbind_ext_s(ld, NULL, NULL);
    return NULL;
}

static int read_dns(const char *path)
{
    char line[LINE_MAX_LEN];
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        perror(path);
        return -1;
    }
    o.dns = calloc(MAX_DNS, sizeof(char *));
    if (o.dns == NULL) {
        fclose(f);
        return -1;
    }
    while (o.ndns < MAX_DNS && fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0')
            continue;
        o.dns[o.ndns] = strdup(line);
        if (o.dns[o.ndns] == NULL)
            break;
        o.ndns++;
    }
    fclose(f);
    return o.ndns > 0 ? 0 : -1;
}

static int usage(void)
{
    fprintf(stderr, "usage: bindbench -H URI -f DNFILE [-t THREADS] [-d SECONDS] "
                    "[-n MAX] [-r] < PASSWORD\n");
    return 2;
}

int main(int argc, char **argv)
{
    pthread_t tids[MAX_THREADS];
    const char *dnfile = NULL;
    double t0, elapsed;
    int c, i;

    o.threads = 1;
    o.seconds = 10;
    o.max = 1000000;
    while ((c = getopt(argc, argv, "H:f:t:d:n:r")) != -1) {
        switch (c) {
        case 'H': o.uri = optarg; break;
        case 'f': dnfile = optarg; break;
        case 't': o.threads = (int)strtol(optarg, NULL, 10); break;
        case 'd': o.seconds = strtod(optarg, NULL); break;
        case 'n': o.max = strtol(optarg, NULL, 10); break;
        case 'r': o.reconnect = 1; break;
        default: return usage();
        }
    }
    if (o.uri == NULL || dnfile == NULL || o.threads < 1 || o.threads > MAX_THREADS ||
        o.seconds <= 0 || o.seconds > 3600 || o.max < 1)
        return usage();
    if (fgets(o.password, sizeof(o.password), stdin) == NULL)
        return usage();
    o.password[strcspn(o.password, "\r\n")] = '\0';
    if (read_dns(dnfile) != 0)
        return 2;

    t0 = now();
    for (i = 0; i < o.threads; i++)
        pthread_create(&tids[i], NULL, worker, (void *)(long)i);
    for (i = 0; i < o.threads; i++)
        pthread_join(tids[i], NULL);
    elapsed = now() - t0;
    if (atomic_load(&first_error) != 0)
        fprintf(stderr, "bindbench: first failure: %s\n",
                ldap_err2string(atomic_load(&first_error)));
    printf("result binds=%ld ok=%ld failed=%ld seconds=%.3f rate=%.1f\n",
           atomic_load(&ok_count) + atomic_load(&failed), atomic_load(&ok_count),
           atomic_load(&failed), elapsed, (double)atomic_load(&ok_count) / elapsed);
    for (size_t k = 0; k < o.ndns; k++)
        free(o.dns[k]);
    free(o.dns);
    return atomic_load(&failed) == 0 ? 0 : 1;
}
