/*
 * worker - one worker process of the preforking server
 *
 * Polls every listening socket (ppoll, with its stop signals blocked
 * outside it so that no wake-up is lost), accepts with close-on-exec,
 * takes turns among the sockets, and hands each connection to the front
 * end's serve(). SIGTERM/SIGINT: stop accepting and set the front end's
 * shutdown flag (drain); SIGUSR1: stop accepting, the session in
 * progress ends normally (retired after a reload); SIGUSR2: log_file
 * is opened again before the next line (logrotate). After max_sessions
 * it exits 0.
 */
#ifndef POSTSIFT_WORKER_H
#define POSTSIFT_WORKER_H

#include <signal.h>
#include <sys/types.h>

#include "lib/msg.h"
#include "server/listener.h"
#include "server/server.h"

typedef struct WORKER_ENV {
    const SERVER_OPS *ops;
    void   *ctx;
    void   *engine;                     /* of the generation it belongs to */
    const LISTENERS *ls;
    long    max_sessions;
    pid_t   master_pid;
    sigset_t sig_open;                  /* the mask inside ppoll() and serve() */
    sigset_t sig_blocked;               /* the mask elsewhere */
} WORKER_ENV;

/* worker_main - in a child just forked by the master: serve, then exit */
PS_NORETURN void worker_main(const WORKER_ENV *env);

#endif
