/*
 * spawn - run a program without a shell, under a deadline
 *
 * The one place postsift starts another program (sendmail for the
 * reinjection, the command scanner). The child gets the argv and the
 * environment it is given and nothing else: no shell, no PATH search
 * (argv[0] is the path), a session and process group of its own, default
 * signal handling, every descriptor above 2 closed, and death when we die
 * (PR_SET_PDEATHSIG). Its stdin is a file, /dev/null, or a pipe that we
 * feed with a prefix and then a file. Its stdout and stderr are read into
 * bounded buffers while it runs: what passes the bound is read and thrown
 * away, so a flood neither blocks the child nor grows our memory; the last
 * line of each stream is kept apart (for a reason in a reply or a log).
 *
 * Past the deadline the whole process group is killed with SIGKILL and
 * reaped. When the child exits, whatever it left behind in its process
 * group is killed too. No zombie and no straggler outlives spawn_run().
 */
#ifndef POSTSIFT_SPAWN_H
#define POSTSIFT_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/vbuf.h"

#define SPAWN_OUTPUT_MAX    (64 * 1024)     /* default bytes kept of each stream */
#define SPAWN_LINE_MAX      1024            /* bytes kept of the last line */

typedef struct SPAWN_REQUEST {
    char   *const *argv;        /* argv[0]: the program's path; NULL-terminated */
    char   *const *envp;        /* the whole environment; NULL: an empty one */
    const char *cwd;            /* directory to run in; NULL: ours */
    int     stdin_fd;           /* the child's stdin; -1: /dev/null (or the feed) */
    int     feed_fd;            /* >= 0: stdin is a pipe fed with feed_prefix, */
    const char *feed_prefix;    /* then feed_fd from feed_offset to its end */
    size_t  feed_prefix_len;
    off_t   feed_offset;
    int     merge_stderr;       /* stderr goes where stdout goes (one buffer) */
    size_t  output_max;         /* bytes kept of each stream; 0: SPAWN_OUTPUT_MAX */
    double  timeout;            /* seconds from the start; must be > 0 */
} SPAWN_REQUEST;

typedef enum SPAWN_STATUS {
    SPAWN_EXITED = 0,           /* code: the exit status */
    SPAWN_SIGNALED,             /* code: the signal that killed it */
    SPAWN_TIMEOUT,              /* past the deadline: killed */
    SPAWN_EXEC_FAILED,          /* code: execve's errno (or chdir's) */
    SPAWN_FAILED,               /* our side: pipe, fork, reading the feed */
} SPAWN_STATUS;

typedef struct SPAWN_RESULT {
    SPAWN_STATUS status;
    int     code;               /* see SPAWN_STATUS */
    VBUF   *out;                /* the first output_max bytes of stdout */
    VBUF   *err;                /* the same of stderr (empty when merged) */
    VBUF   *out_last;           /* the last non-empty line of stdout, no line end */
    VBUF   *err_last;           /* the same of stderr */
    int     out_cut;            /* more came than was kept */
    int     err_cut;
    int     feed_errno;         /* the child stopped reading its stdin (EPIPE) */
    VBUF   *why;                /* SPAWN_FAILED, SPAWN_EXEC_FAILED: what failed */
} SPAWN_RESULT;

extern const char *const spawn_status_names[];  /* "exited", ... for logs */

/* spawn_request_init - no feed, stdin /dev/null, default bounds */
void    spawn_request_init(SPAWN_REQUEST *req);

void    spawn_result_init(SPAWN_RESULT *res);
void    spawn_result_free(SPAWN_RESULT *res);

/* spawn_run - run the program to its end or its deadline; returns
 * res->status. The feed, when there is one, must not be a pipe. */
SPAWN_STATUS spawn_run(const SPAWN_REQUEST *req, SPAWN_RESULT *res);

/* spawn_describe - one line for a log or a reason: "exited with status
 * 2", "killed by signal 9", "timed out after 30s", "cannot execute
 * /x: No such file or directory", ... (appended to out) */
void    spawn_describe(const SPAWN_REQUEST *req, const SPAWN_RESULT *res, VBUF *out);

#endif
