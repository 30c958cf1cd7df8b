/* pambench: PAM authentications per second, and the process's memory over
 * many of them (P3, P5).
 *
 *   pambench -c CONFDIR -s SERVICE -f USERFILE [-t THREADS] [-d SECONDS]
 *            [-n MAX] [-m CHECKPOINTS] < PASSWORD
 *
 * Like a real service (sshd, su) every authentication is a whole PAM
 * transaction: pam_start_confdir() (Linux-PAM >= 1.4: the stack comes from
 * CONFDIR/SERVICE, the system's /etc/pam.d is never read), pam_authenticate(),
 * pam_end().  The conversation answers echo-off prompts with the password
 * from stdin and echo-on prompts with the user name.  Users come from
 * USERFILE (one a line) in turn.  Stops after SECONDS or MAX
 * authentications in total, whichever comes first.
 *
 * -m N prints "rss n=DONE kib=VmRSS" N times along the run, so memory
 * growth over 10^5 transactions in one process shows.
 *
 * Output, last line:
 *   result auths=N ok=N failed=N seconds=S rate=R rss_start=KiB rss_end=KiB hwm=KiB
 * (rss_start is taken after the first authentication.)  Exit status 0 when
 * all succeeded, 1 otherwise, 2 on usage. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <security/pam_appl.h>

#define MAX_THREADS 64
#define MAX_USERS 100000
#define LINE_MAX_LEN 1024

typedef struct opts {
    const char *confdir;
    const char *service;
    char **users;
    size_t nusers;
    char password[LINE_MAX_LEN];
    int threads;
    double seconds;
    long max;
    long checkpoints;
} opts;

static opts o;
static atomic_long issued;
static atomic_long ok_count;
static atomic_long failed;
static atomic_int first_error;
static long rss_start;

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* VmRSS or VmHWM of this process, KiB. */
static long status_kib(const char *key)
{
    char line[256];
    size_t klen = strlen(key);
    long v = -1;
    FILE *f = fopen("/proc/self/status", "r");

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, key, klen) == 0) {
            v = strtol(line + klen, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp,
                void *data)
{
    const char *user = data;
    struct pam_response *r = calloc((size_t)n, sizeof(*r));
    int i;

    if (r == NULL)
        return PAM_BUF_ERR;
    for (i = 0; i < n; i++) {
        const char *answer = NULL;

        if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF)
            answer = o.password;
        else if (msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
            answer = user;
        if (answer != NULL && (r[i].resp = strdup(answer)) == NULL)
            goto fail;
    }
    *resp = r;
    return PAM_SUCCESS;
fail:
    for (i = 0; i < n; i++)
        free(r[i].resp);
    free(r);
    return PAM_BUF_ERR;
}

static int authenticate(const char *user)
{
    struct pam_conv c = { conv, (void *)user };
    pam_handle_t *h = NULL;
    int rc;

    rc = pam_start_confdir(o.service, user, &c, o.confdir, &h);
    if (rc != PAM_SUCCESS)
        return rc;
    rc = pam_authenticate(h, PAM_SILENT);
    pam_end(h, rc);
    return rc;
}

static void *worker(void *arg)
{
    size_t next = (size_t)(long)arg * 7919u;
    double end = now() + o.seconds;
    long every = o.checkpoints > 0 ? o.max / o.checkpoints : 0;
    long n;

    while (now() < end && (n = atomic_fetch_add(&issued, 1)) < o.max) {
        int rc = authenticate(o.users[next++ % o.nusers]);

        if (rc == PAM_SUCCESS) {
            atomic_fetch_add(&ok_count, 1);
        } else {
            int zero = 0;

            atomic_fetch_add(&failed, 1);
            atomic_compare_exchange_strong(&first_error, &zero, rc);
        }
        if (n == 0)
            rss_start = status_kib("VmRSS:");
        if (every > 0 && (n + 1) % every == 0)
            printf("rss n=%ld kib=%ld\n", n + 1, status_kib("VmRSS:"));
    }
    return NULL;
}

static int read_users(const char *path)
{
    char line[LINE_MAX_LEN];
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        perror(path);
        return -1;
    }
    o.users = calloc(MAX_USERS, sizeof(char *));
    if (o.users == NULL) {
        fclose(f);
        return -1;
    }
    while (o.nusers < MAX_USERS && fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0')
            continue;
        o.users[o.nusers] = strdup(line);
        if (o.users[o.nusers] == NULL)
            break;
        o.nusers++;
    }
    fclose(f);
    return o.nusers > 0 ? 0 : -1;
}

static int usage(void)
{
    fprintf(stderr, "usage: pambench -c CONFDIR -s SERVICE -f USERFILE [-t THREADS] "
                    "[-d SECONDS] [-n MAX] [-m CHECKPOINTS] < PASSWORD\n");
    return 2;
}

int main(int argc, char **argv)
{
    pthread_t tids[MAX_THREADS];
    const char *userfile = NULL;
    double t0, elapsed;
    int c, i;

    o.threads = 1;
    o.seconds = 10;
    o.max = 1000000;
    while ((c = getopt(argc, argv, "c:s:f:t:d:n:m:")) != -1) {
        switch (c) {
        case 'c': o.confdir = optarg; break;
        case 's': o.service = optarg; break;
        case 'f': userfile = optarg; break;
        case 't': o.threads = (int)strtol(optarg, NULL, 10); break;
        case 'd': o.seconds = strtod(optarg, NULL); break;
        case 'n': o.max = strtol(optarg, NULL, 10); break;
        case 'm': o.checkpoints = strtol(optarg, NULL, 10); break;
        default: return usage();
        }
    }
    if (o.confdir == NULL || o.service == NULL || userfile == NULL || o.threads < 1 ||
        o.threads > MAX_THREADS || o.seconds <= 0 || o.seconds > 7200 || o.max < 1 ||
        o.checkpoints < 0)
        return usage();
    if (fgets(o.password, sizeof(o.password), stdin) == NULL)
        return usage();
    o.password[strcspn(o.password, "\r\n")] = '\0';
    if (read_users(userfile) != 0)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);

    t0 = now();
    for (i = 0; i < o.threads; i++)
        pthread_create(&tids[i], NULL, worker, (void *)(long)i);
    for (i = 0; i < o.threads; i++)
        pthread_join(tids[i], NULL);
    elapsed = now() - t0;
    if (atomic_load(&first_error) != 0)
        fprintf(stderr, "pambench: first failure: %d (%s)\n", atomic_load(&first_error),
                pam_strerror(NULL, atomic_load(&first_error)));
    printf("result auths=%ld ok=%ld failed=%ld seconds=%.3f rate=%.1f rss_start=%ld "
           "rss_end=%ld hwm=%ld\n",
           atomic_load(&ok_count) + atomic_load(&failed), atomic_load(&ok_count),
           atomic_load(&failed), elapsed, (double)atomic_load(&ok_count) / elapsed,
           rss_start, status_kib("VmRSS:"), status_kib("VmHWM:"));
    for (size_t k = 0; k < o.nusers; k++)
        free(o.users[k]);
    free(o.users);
    return atomic_load(&failed) == 0 ? 0 : 1;
}
