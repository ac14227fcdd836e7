/*
 * policyload - load generator for policy servers (tests/bench/policy)
 *
 * Usage:
 *     policyload [-n N] [-r RCPT] spawn PROGRAM [ARG...]
 *     policyload [-n N] [-c CONNS] [-r RCPT] tcp HOST PORT
 *
 * spawn: PROGRAM runs with its stdin and stdout on one end of a socket
 * pair, as spawn(8) runs a policy server; N requests go over that one
 * connection, one after the other. tcp: CONNS processes, each with its
 * own connection to HOST:PORT, share N requests. Each request is a
 * Postfix 3.7-like RCPT request (about 30 attributes) whose sender,
 * sasl_username and client address vary with its number; the recipient
 * is RCPT (a signed address, say). The latency of each request is from
 * its first byte written to its empty line read.
 *
 * Prints one line: "requests=N seconds=S rps=R p50_us=X p99_us=Y
 * errors=E top=ACTION" (E: answers that did not start with "action=";
 * ACTION: the first answer, to show what the rules said).
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct LOAD {
    long    n;                          /* requests in all */
    int     conns;
    const char *rcpt;
    double *lat;                        /* shared: seconds per request */
    long   *errors;                     /* shared: one per connection */
    char   *first;                      /* shared: the first answer */
} LOAD;

/* now - monotonic seconds */
static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* request - the text of request i */
static int request(char *buf, size_t len, long i, const char *rcpt)
{
    return snprintf(buf, len,
                    "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
                    "helo_name=client%ld.example.net\nqueue_id=\nsender=user%ld@example.com\n"
                    "recipient=%s\nrecipient_count=0\nclient_address=192.0.2.%ld\n"
                    "client_name=client%ld.example.net\nreverse_client_name=client%ld.example.net\n"
                    "instance=%lx.1.1\nsasl_method=plain\nsasl_username=user%ld\nsasl_sender=\n"
                    "size=12345\nccert_subject=\nccert_issuer=\nccert_fingerprint=\n"
                    "ccert_pubkey_fingerprint=\nencryption_protocol=TLSv1.3\n"
                    "encryption_cipher=TLS_AES_256_GCM_SHA384\nencryption_keysize=256\n"
                    "etrn_domain=\nstress=\nclient_port=%ld\npolicy_context=\n"
                    "server_address=192.0.2.254\nserver_port=25\ncompatibility_level=3.6\n"
                    "mail_version=3.7.11\n\n",
                    i % 50, i % 1000, rcpt, 1 + i % 250, i % 50, i % 50, i, i % 100,
                    1024 + i % 60000);
}

/* answer - read to the empty line; 0, or -1 on EOF or error */
static int answer(int fd, char *buf, size_t len)
{
    size_t  got = 0;
    ssize_t n;

    for (;;) {
        if (got >= len - 1)
            return -1;
        if ((n = read(fd, buf + got, len - 1 - got)) <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)n;
        buf[got] = 0;
        if (got >= 2 && strcmp(buf + got - 2, "\n\n") == 0)
            return 0;
    }
}

/* run - requests [from, to) on fd; latencies into ld->lat */
static void run(LOAD *ld, int fd, long from, long to, int slot)
{
    char    req[4096], ans[4096];
    long    i;
    int     len;
    double  t0;

    for (i = from; i < to; i++) {
        len = request(req, sizeof(req), i, ld->rcpt);
        t0 = now();
        if (write(fd, req, (size_t)len) != len || answer(fd, ans, sizeof(ans)) < 0) {
            ld->errors[slot] += to - i;
            return;
        }
        ld->lat[i] = now() - t0;
        if (strncmp(ans, "action=", 7) != 0)
            ld->errors[slot]++;
        if (i == 0) {
            size_t  n = strcspn(ans + 7, "\n");

            memcpy(ld->first, ans + 7, n < 255 ? n : 255);
            ld->first[n < 255 ? n : 255] = 0;
        }
    }
}

/* tcp_connect - a connection to host:port; -1 */
static int tcp_connect(const char *host, const char *port)
{
    struct addrinfo hints, *res;
    int     fd;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    fd = socket(res->ai_family, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* spawn_load - the program on a socket pair, all requests on it */
static void spawn_load(LOAD *ld, char **argv)
{
    int     sv[2];
    pid_t   pid;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
        perror("socketpair");
        exit(1);
    }
    if ((pid = fork()) == 0) {
        dup2(sv[1], 0);
        dup2(sv[1], 1);
        close(sv[0]);
        close(sv[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(sv[1]);
    run(ld, sv[0], 0, ld->n, 0);
    close(sv[0]);
    waitpid(pid, NULL, 0);
}

/* tcp_load - ld->conns processes, one connection each */
static void tcp_load(LOAD *ld, const char *host, const char *port)
{
    int     c, fd;

    for (c = 0; c < ld->conns; c++) {
        if (fork() == 0) {
            long    from = ld->n * c / ld->conns, to = ld->n * (c + 1) / ld->conns;

            if ((fd = tcp_connect(host, port)) < 0) {
                ld->errors[c] = to - from;
                _exit(1);
            }
            run(ld, fd, from, to, c);
            _exit(0);
        }
    }
    while (wait(NULL) > 0)
         /* void */ ;
}

/* cmp - for qsort */
static int cmp(const void *a, const void *b)
{
    double  x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* report - the one line */
static void report(LOAD *ld, double secs)
{
    long    errors = 0, i, ok = 0;
    int     c;

    for (c = 0; c < ld->conns; c++)
        errors += ld->errors[c];
    for (i = 0; i < ld->n; i++)
        if (ld->lat[i] > 0)
            ld->lat[ok++] = ld->lat[i];
    qsort(ld->lat, (size_t)ok, sizeof(double), cmp);
    printf("requests=%ld seconds=%.3f rps=%.0f p50_us=%.0f p99_us=%.0f errors=%ld top=%s\n",
           ld->n, secs, (double)ok / secs, ok ? ld->lat[ok / 2] * 1e6 : 0,
           ok ? ld->lat[(long)((double)ok * 0.99)] * 1e6 : 0, errors, ld->first);
}

/* main - options, the load, the report */
int     main(int argc, char **argv)
{
    LOAD    ld = {10000, 1, "rcpt@example.net", NULL, NULL, NULL};
    double  t0;
    int     ch;

    while ((ch = getopt(argc, argv, "+n:c:r:")) != -1) {
        if (ch == 'n')
            ld.n = atol(optarg);
        else if (ch == 'c')
            ld.conns = atoi(optarg);
        else if (ch == 'r')
            ld.rcpt = optarg;
        else
            return 2;
    }
    if (argc - optind < 2 || ld.n <= 0 || ld.conns <= 0 || ld.conns > 1000) {
        fprintf(stderr, "usage: policyload [-n N] [-c CONNS] [-r RCPT] spawn PROG [ARG...] | tcp HOST PORT\n");
        return 2;
    }
    ld.lat = mmap(NULL, (size_t)ld.n * sizeof(double) + (size_t)ld.conns * sizeof(long) + 256,
                  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (ld.lat == MAP_FAILED)
        return 1;
    ld.errors = (long *)(ld.lat + ld.n);
    ld.first = (char *)(ld.errors + ld.conns);
    t0 = now();
    if (strcmp(argv[optind], "spawn") == 0)
        spawn_load(&ld, argv + optind + 1);
    else if (strcmp(argv[optind], "tcp") == 0 && argc - optind == 3)
        tcp_load(&ld, argv[optind + 1], argv[optind + 2]);
    else
        return 2;
    report(&ld, now() - t0);
    return 0;
}
