/*
 * spawn - run a program without a shell, under a deadline (see spawn.h)
 *
 * The child reports a failed execve() (or chdir()) through a close-on-exec
 * pipe: end of file on it means the exec worked, four bytes are its errno.
 * So "the program could not be started" is told apart from anything the
 * program itself did. The parent polls the output pipes, the feed pipe
 * and a pidfd of the child (or, where there is none, wakes every 50 ms to
 * ask waitid()), all against one deadline on the monotonic clock. The
 * child is seen to exit with WNOWAIT, so that its process group can be
 * killed while the group id is still certainly its own, and only then
 * reaped.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/spawn.h"

#define SPAWN_CHUNK     65536   /* bytes read or fed at a time */
#define SPAWN_SLICE_MS  50      /* poll slice without a pidfd */
#define SPAWN_WHY_MAX   1024
#define SPAWN_DRAIN_READS 32    /* reads of a stream after the child exited */

const char *const spawn_status_names[] = {
    "exited", "killed by a signal", "timed out", "not started", "failed",
};

/* One output stream of the child. */
typedef struct SPAWN_STREAM {
    int     fd;                 /* our end, -1 at end of file */
    VBUF   *keep;               /* the first bytes */
    size_t  max;                /* how many are kept */
    int    *cut;                /* set when more came */
    VBUF   *line;               /* the line being read (its first bytes) */
    VBUF   *last;               /* the last non-empty line */
} SPAWN_STREAM;

/* The child's stdin, when we feed it. */
typedef struct SPAWN_FEED {
    int     fd;                 /* our end of the pipe, -1 when done */
    const char *prefix;         /* still to send of the prefix */
    size_t  prefix_left;
    int     src;                /* then this file */
    off_t   off;
    char   *buf;                /* a chunk of it */
    size_t  pos, len;
} SPAWN_FEED;

/* The child, as the loop sees it. */
typedef struct SPAWN_CHILD {
    pid_t   pid;
    int     pidfd;              /* -1: none, poll in slices */
    int     exited;             /* seen with WNOWAIT, not reaped yet */
    double  deadline;           /* clock_seconds() */
} SPAWN_CHILD;

/* spawn_request_init - no feed, stdin /dev/null, default bounds */
void spawn_request_init(SPAWN_REQUEST *req)
{
    memset(req, 0, sizeof(*req));
    req->stdin_fd = -1;
    req->feed_fd = -1;
}

/* spawn_result_init - nothing run yet */
void spawn_result_init(SPAWN_RESULT *res)
{
    res->status = SPAWN_FAILED;
    res->code = 0;
    res->out = vbuf_alloc(0);
    res->err = vbuf_alloc(0);
    res->out_last = vbuf_alloc(SPAWN_LINE_MAX);
    res->err_last = vbuf_alloc(SPAWN_LINE_MAX);
    res->out_cut = res->err_cut = 0;
    res->feed_errno = 0;
    res->why = vbuf_alloc(SPAWN_WHY_MAX);
}

/* spawn_result_free - release */
void spawn_result_free(SPAWN_RESULT *res)
{
    vbuf_free(res->out);
    vbuf_free(res->err);
    vbuf_free(res->out_last);
    vbuf_free(res->err_last);
    vbuf_free(res->why);
    res->out = res->err = res->out_last = res->err_last = res->why = NULL;
}

/* spawn_child_fail - tell the parent why the exec did not happen; exit */
PS_NORETURN static void spawn_child_fail(int report, int error)
{
    ssize_t n;

    do
        n = write(report, &error, sizeof(error));
    while (n < 0 && errno == EINTR);
    _exit(127);
}

/* spawn_child - in the child: set up the process, exec; never returns.
 * fds: stdin, stdout, stderr to be, and the report pipe (all above 2,
 * as fds 0-2 are open) */
PS_NORETURN static void spawn_child(const SPAWN_REQUEST *req, pid_t parent,
                                    int in, int out, int err, int report)
{
    static char *const no_env[] = {NULL};
    sigset_t all;
    int     sig;

    (void)setsid();
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);                     /* the parent is gone already */
    for (sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            (void)signal(sig, SIG_DFL);
    sigemptyset(&all);
    (void)sigprocmask(SIG_SETMASK, &all, NULL);
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 || dup2(report, 3) < 0
        || fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
        spawn_child_fail(report, errno);
    report = 3;
    if (close_range(4, ~0U, 0) < 0)
        for (sig = 4; sig < 1024; sig++)
            (void)close(sig);
    if (req->cwd && chdir(req->cwd) < 0)
        spawn_child_fail(report, errno);
    execve(req->argv[0], req->argv, req->envp ? req->envp : no_env);
    spawn_child_fail(report, errno);
}

/* spawn_line - track the last non-empty line of a stream */
static void spawn_line(SPAWN_STREAM *s, const char *buf, size_t len)
{
    const char *nl;
    size_t  n, room;

    while (len > 0) {
        nl = memchr(buf, '\n', len);
        n = nl ? (size_t)(nl - buf) : len;
        room = SPAWN_LINE_MAX - vbuf_len(s->line);
        (void)vbuf_append(s->line, buf, n < room ? n : room);
        if (nl == NULL)
            return;
        while (vbuf_len(s->line) > 0 && s->line->data[vbuf_len(s->line) - 1] == '\r')
            vbuf_truncate(s->line, vbuf_len(s->line) - 1);
        if (vbuf_len(s->line) > 0) {
            vbuf_reset(s->last);
            (void)vbuf_append(s->last, s->line->data, vbuf_len(s->line));
        }
        vbuf_reset(s->line);
        buf += n + 1;
        len -= n + 1;
    }
}

/* spawn_read - what the stream has now; at end of file it is closed.
 * all: read what is left, then close (the child is gone; a bounded
 * number of reads, as a descendant that escaped its process group may
 * still be writing) */
static void spawn_read(SPAWN_STREAM *s, int all)
{
    char    buf[SPAWN_CHUNK];
    size_t  room;
    ssize_t n;
    int     reads = 0;

    while (s->fd >= 0) {
        if (all && ++reads > SPAWN_DRAIN_READS)
            n = 0;
        else if ((n = read(s->fd, buf, sizeof(buf))) < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !all)
            return;
        if (n <= 0) {
            spawn_line(s, "\n", 1);     /* an unended last line counts */
            (void)close(s->fd);
            s->fd = -1;
            return;
        }
        room = s->max - vbuf_len(s->keep);
        if ((size_t)n > room)
            *s->cut = 1;
        (void)vbuf_append(s->keep, buf, (size_t)n < room ? (size_t)n : room);
        spawn_line(s, buf, (size_t)n);
        if (!all)
            return;
    }
}

/* spawn_feed_close - no more input for the child */
static void spawn_feed_close(SPAWN_FEED *f)
{
    if (f->fd >= 0)
        (void)close(f->fd);
    f->fd = -1;
}

/* spawn_feed - write what the pipe takes now; -1 when reading the source
 * failed (why in res), 0 otherwise (the feed may be finished or broken) */
static int spawn_feed(SPAWN_FEED *f, SPAWN_RESULT *res)
{
    ssize_t n;

    while (f->fd >= 0) {
        if (f->prefix_left == 0 && f->pos == f->len) {
            if ((n = pread(f->src, f->buf, SPAWN_CHUNK, f->off)) < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                vbuf_sprintf(res->why, "read the input: %s", strerror(errno));
                return -1;
            }
            if (n == 0) {
                spawn_feed_close(f);    /* all sent */
                return 0;
            }
            f->off += n;
            f->pos = 0;
            f->len = (size_t)n;
        }
        if (f->prefix_left > 0)
            n = write(f->fd, f->prefix, f->prefix_left);
        else
            n = write(f->fd, f->buf + f->pos, f->len - f->pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n < 0) {
            res->feed_errno = errno;    /* the child closed its stdin */
            spawn_feed_close(f);
            return 0;
        }
        if (f->prefix_left > 0) {
            f->prefix += n;
            f->prefix_left -= (size_t)n;
        } else {
            f->pos += (size_t)n;
        }
    }
    return 0;
}

/* spawn_exited - has the child ended (not reaped: WNOWAIT) */
static int spawn_exited(SPAWN_CHILD *c)
{
    siginfo_t si;

    if (!c->exited) {
        memset(&si, 0, sizeof(si));
        while (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
            if (errno != EINTR) {
                c->exited = 1;          /* not ours to wait for: treat as gone */
                return 1;
            }
        }
        c->exited = (si.si_pid == c->pid);
    }
    return c->exited;
}

/* spawn_reap - kill what is left of the child's process group, reap the
 * child; 0 with its wait status, or -1 (someone else reaped it) */
static int spawn_reap(SPAWN_CHILD *c, int *status)
{
    pid_t   pid;

    (void)kill(-c->pid, SIGKILL);
    if (!c->exited)
        (void)kill(c->pid, SIGKILL);
    while ((pid = waitpid(c->pid, status, 0)) < 0 && errno == EINTR)
        /* again */ ;
    if (c->pidfd >= 0)
        (void)close(c->pidfd);
    c->pidfd = -1;
    return pid == c->pid ? 0 : -1;
}

/* spawn_poll_set - the descriptors to wait for; their number */
static nfds_t spawn_poll_set(struct pollfd *pfd, SPAWN_STREAM *streams, SPAWN_FEED *f,
                             const SPAWN_CHILD *c)
{
    nfds_t  n = 0;
    int     i;

    for (i = 0; i < 2; i++)
        if (streams[i].fd >= 0) {
            pfd[n].fd = streams[i].fd;
            pfd[n++].events = POLLIN;
        }
    if (f->fd >= 0) {
        pfd[n].fd = f->fd;
        pfd[n++].events = POLLOUT;
    }
    if (c->pidfd >= 0) {
        pfd[n].fd = c->pidfd;
        pfd[n++].events = POLLIN;
    }
    for (i = 0; i < (int)n; i++)
        pfd[i].revents = 0;
    return n;
}

/* spawn_loop - read, feed and wait until the child exits (0), the deadline
 * passes (1), or feeding fails on our side (-1) */
static int spawn_loop(SPAWN_CHILD *c, SPAWN_STREAM *streams, SPAWN_FEED *f,
                      SPAWN_RESULT *res)
{
    struct pollfd pfd[4];
    double  left;
    nfds_t  n;
    int     ms, i;

    while (!spawn_exited(c)) {
        if ((left = c->deadline - clock_seconds()) <= 0)
            return 1;
        ms = left > 3600 ? 3600 * 1000 : (int)(left * 1000) + 1;
        if (c->pidfd < 0 && ms > SPAWN_SLICE_MS)
            ms = SPAWN_SLICE_MS;
        n = spawn_poll_set(pfd, streams, f, c);
        if (poll(pfd, n, ms) < 0 && errno != EINTR) {
            vbuf_sprintf(res->why, "poll: %s", strerror(errno));
            return -1;
        }
        for (i = 0; i < 2; i++)
            spawn_read(streams + i, 0);
        if (f->fd >= 0 && spawn_feed(f, res) < 0)
            return -1;
    }
    spawn_feed_close(f);
    (void)kill(-c->pid, SIGKILL);       /* what it left running in its group */
    for (i = 0; i < 2; i++) {
        spawn_read(streams + i, 1);     /* what it wrote before it went */
        if (streams[i].fd >= 0)
            (void)close(streams[i].fd);
        streams[i].fd = -1;
    }
    return 0;
}

/* spawn_started - the report pipe says whether the exec worked; 0 yes,
 * -1 with res filled in */
static int spawn_started(const SPAWN_REQUEST *req, int report, SPAWN_RESULT *res)
{
    int     error = 0;
    ssize_t n;

    while ((n = read(report, &error, sizeof(error))) < 0 && errno == EINTR)
        /* again */ ;
    if (n <= 0)
        return 0;
    res->status = SPAWN_EXEC_FAILED;
    res->code = error;
    vbuf_sprintf(res->why, "cannot execute %s: %s", req->argv[0],
                 n == sizeof(error) ? strerror(error) : "unknown error");
    return -1;
}

/* spawn_pipes - the pipes and the stdin of the child; -1 with why. p:
 * [0,1] stdout, [2,3] stderr, [4,5] report, [6,7] feed; *in: its stdin */
static int spawn_pipes(const SPAWN_REQUEST *req, int *p, int *in, SPAWN_RESULT *res)
{
    int     i;

    for (i = 0; i < 8; i++)
        p[i] = -1;
    *in = -1;
    if (pipe2(p, O_CLOEXEC) < 0 || (!req->merge_stderr && pipe2(p + 2, O_CLOEXEC) < 0)
        || pipe2(p + 4, O_CLOEXEC) < 0 || (req->feed_fd >= 0 && pipe2(p + 6, O_CLOEXEC) < 0)) {
        vbuf_sprintf(res->why, "pipe: %s", strerror(errno));
        return -1;
    }
    if (req->feed_fd >= 0)
        *in = p[6];
    else if (req->stdin_fd >= 0)
        *in = req->stdin_fd;
    else if ((*in = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
        vbuf_sprintf(res->why, "open /dev/null: %s", strerror(errno));
        return -1;
    }
    (void)fcntl(p[0], F_SETFL, O_NONBLOCK);
    if (p[2] >= 0)
        (void)fcntl(p[2], F_SETFL, O_NONBLOCK);
    if (p[7] >= 0)
        (void)fcntl(p[7], F_SETFL, O_NONBLOCK);
    return 0;
}

/* spawn_close - close what is open of the pipes and our /dev/null */
static void spawn_close(const SPAWN_REQUEST *req, int *p, int in)
{
    int     i;

    for (i = 0; i < 8; i++)
        if (p[i] >= 0)
            (void)close(p[i]);
    if (in >= 0 && req->feed_fd < 0 && in != req->stdin_fd)
        (void)close(in);
}

/* spawn_status - the wait status as a result */
static void spawn_status(int status, SPAWN_RESULT *res)
{
    if (WIFEXITED(status)) {
        res->status = SPAWN_EXITED;
        res->code = WEXITSTATUS(status);
    } else {
        res->status = SPAWN_SIGNALED;
        res->code = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
}

/* spawn_watch - the parent's part once the child runs */
static void spawn_watch(const SPAWN_REQUEST *req, SPAWN_CHILD *c, int *p, SPAWN_RESULT *res)
{
    SPAWN_STREAM streams[2] = {
        {p[0], res->out, req->output_max, &res->out_cut, NULL, res->out_last},
        {p[2], res->err, req->output_max, &res->err_cut, NULL, res->err_last},
    };
    SPAWN_FEED feed = {p[7], req->feed_prefix, req->feed_prefix_len, req->feed_fd,
        req->feed_offset, NULL, 0, 0};
    struct sigaction ign, old;
    int     rc, status = 0;

    if (streams[0].max == 0)
        streams[0].max = streams[1].max = SPAWN_OUTPUT_MAX;
    streams[0].line = vbuf_alloc(SPAWN_LINE_MAX);
    streams[1].line = vbuf_alloc(SPAWN_LINE_MAX);
    p[0] = p[2] = p[7] = -1;            /* the streams and the feed own them now */
    if (feed.fd >= 0)
        feed.buf = mymalloc(SPAWN_CHUNK);
    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    (void)sigaction(SIGPIPE, &ign, &old);   /* a child that stops reading: EPIPE */
    rc = spawn_loop(c, streams, &feed, res);
    (void)sigaction(SIGPIPE, &old, NULL);
    spawn_feed_close(&feed);
    for (int i = 0; i < 2; i++)
        if (streams[i].fd >= 0)
            (void)close(streams[i].fd);
    if (spawn_reap(c, &status) < 0) {
        vbuf_sprintf(res->why, "lost the child process %ld: %s", (long)c->pid, strerror(errno));
        rc = -1;
    }
    spawn_status(status, res);
    if (rc > 0) {
        res->status = SPAWN_TIMEOUT;
        res->code = 0;
    } else if (rc < 0) {
        res->status = SPAWN_FAILED;
    }
    if (feed.buf)
        myfree(feed.buf);
    vbuf_free(streams[0].line);
    vbuf_free(streams[1].line);
}

/* spawn_run - run the program to its end or its deadline */
SPAWN_STATUS spawn_run(const SPAWN_REQUEST *req, SPAWN_RESULT *res)
{
    SPAWN_CHILD c;
    pid_t   parent = getpid();
    int     p[8], in;

    vbuf_reset(res->out);
    vbuf_reset(res->err);
    vbuf_reset(res->out_last);
    vbuf_reset(res->err_last);
    vbuf_reset(res->why);
    res->out_cut = res->err_cut = res->feed_errno = 0;
    res->status = SPAWN_FAILED;
    res->code = 0;
    if (req->argv == NULL || req->argv[0] == NULL)
        msg_panic("spawn_run: no program");
    memset(&c, 0, sizeof(c));
    c.deadline = clock_seconds() + (req->timeout > 0 ? req->timeout : 1);
    if (spawn_pipes(req, p, &in, res) < 0) {
        spawn_close(req, p, in);
        return res->status;
    }
    if ((c.pid = fork()) < 0) {
        vbuf_sprintf(res->why, "fork: %s", strerror(errno));
        spawn_close(req, p, in);
        return res->status;
    }
    if (c.pid == 0)
        spawn_child(req, parent, in, p[1], req->merge_stderr ? p[1] : p[3], p[5]);
    (void)close(p[1]), (void)close(p[5]), (void)close(p[6]);
    p[1] = p[5] = p[6] = -1;
    if (p[3] >= 0)
        (void)close(p[3]);
    p[3] = -1;
#ifdef SYS_pidfd_open
    c.pidfd = (int)syscall(SYS_pidfd_open, c.pid, 0);
#else
    c.pidfd = -1;
#endif
    if (spawn_started(req, p[4], res) < 0) {
        int     status;

        c.exited = 1;
        (void)spawn_reap(&c, &status);
    } else {
        spawn_watch(req, &c, p, res);
    }
    spawn_close(req, p, in);
    return res->status;
}

/* spawn_describe - what happened, one line */
void spawn_describe(const SPAWN_REQUEST *req, const SPAWN_RESULT *res, VBUF *out)
{
    switch (res->status) {
    case SPAWN_EXITED:
        vbuf_sprintf_append(out, "exited with status %d", res->code);
        break;
    case SPAWN_SIGNALED:
        vbuf_sprintf_append(out, "killed by signal %d", res->code);
        break;
    case SPAWN_TIMEOUT:
        vbuf_sprintf_append(out, "timed out after %gs", req->timeout);
        break;
    case SPAWN_EXEC_FAILED:
    case SPAWN_FAILED:
        vbuf_strcat(out, vbuf_len(res->why) ? vbuf_str(res->why) : "failed");
        break;
    }
}
