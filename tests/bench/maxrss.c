/*
 * tests/bench/maxrss.c - run a command, report its peak RSS and times
 *
 * Usage: maxrss [-u user] [-o result_file] -- command [arg...]
 *
 * Forks, (as root, with -u) switches the child to user's uid, gid and
 * groups, execs the command with the standard descriptors inherited,
 * waits for it with wait4(2) and writes one line to result_file (else
 * standard error):
 *
 *     maxrss_kb wall_s user_s sys_s status
 *
 * maxrss_kb is ru_maxrss of the child, which on Linux is the larger of
 * the child's own peak and that of its waited-for descendants; status is
 * the exit status, or 128+signal. The exit status of maxrss is the
 * child's, 127 when it cannot be started. Built and used by
 * tests/bench/run; not installed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void usage(void)
{
    fprintf(stderr, "usage: maxrss [-u user] [-o result_file] -- command [arg...]\n");
    exit(127);
}

int     main(int argc, char **argv)
{
    const char *user = NULL, *result = NULL;
    struct passwd *pw = NULL;
    struct timespec t0, t1;
    struct rusage ru;
    pid_t   pid;
    int     c, status, code;
    FILE   *out;

    while ((c = getopt(argc, argv, "u:o:")) != -1) {
        switch (c) {
        case 'u':
            user = optarg;
            break;
        case 'o':
            result = optarg;
            break;
        default:
            usage();
        }
    }
    if (optind >= argc)
        usage();
    if (user && (pw = getpwnam(user)) == NULL) {
        fprintf(stderr, "maxrss: unknown user %s\n", user);
        return 127;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((pid = fork()) < 0) {
        perror("maxrss: fork");
        return 127;
    }
    if (pid == 0) {
        if (pw && (initgroups(pw->pw_name, pw->pw_gid) < 0
                   || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)) {
            perror("maxrss: cannot switch user");
            _exit(127);
        }
        execvp(argv[optind], argv + optind);
        fprintf(stderr, "maxrss: %s: %s\n", argv[optind], strerror(errno));
        _exit(127);
    }
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("maxrss: wait4");
            return 127;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    code = WIFEXITED(status) ? WEXITSTATUS(status)
        : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 127;
    out = result ? fopen(result, "w") : stderr;
    if (out == NULL) {
        perror(result);
        return 127;
    }
    fprintf(out, "%ld %.4f %.4f %.4f %d\n", ru.ru_maxrss,
            (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
            ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
            ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, code);
    if (out != stderr)
        fclose(out);
    return code;
}
