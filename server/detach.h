/*
 * detach - a server leaves its starter behind, and cleans up after it
 *
 * detach_start() forks: the parent waits on a pipe until the child says
 * it is ready (detach_ready()) and exits 0 only then, 75 otherwise, so
 * that an init script sees a start-up failure in the exit status (the
 * log says why). detach_close_strays() closes what the starter left open.
 */
#ifndef POSTSIFT_DETACH_H
#define POSTSIFT_DETACH_H

/* detach_start - fork; in the child: a new session, the root directory */
void    detach_start(void);

/* detach_ready - tell the waiting parent we are up; stdio to /dev/null
 * (nothing without detach_start) */
void    detach_ready(void);

/* detach_forget - a worker closes its copy of the pipe to the parent */
void    detach_forget(void);

/* detach_close_strays - close every descriptor above stderr that lacks
 * close-on-exec (everything we open ourselves has it) */
void    detach_close_strays(void);

#endif
