/*
 * listener - the listening sockets of a server
 *
 * Bound from a list of addresses ("host:port", "[host]:port", "*:port" or
 * ":port" for every address, "unix:/path" when the caller allows it), or
 * taken over from a service manager that passed them (socket activation:
 * LISTEN_PID and LISTEN_FDS, read here directly). Every socket is
 * non-blocking and close-on-exec, so that workers can poll them all and
 * nothing we run inherits them.
 */
#ifndef POSTSIFT_LISTENER_H
#define POSTSIFT_LISTENER_H

#include <sys/types.h>

#include "lib/vbuf.h"

typedef struct LISTENER {
    int     fd;
    char   *name;                       /* "127.0.0.1:10025", "[::1]:10025",
                                         * "unix:/run/x.sock" */
    char   *unlink_path;                /* a unix socket we made: removed at
                                         * exit (NULL otherwise) */
} LISTENER;

typedef struct LISTENERS {
    LISTENER *items;
    int     count;
    int     inherited;                  /* passed by a service manager */
} LISTENERS;

/* What a unix socket we create gets: permissions, and an owner when root
 * makes it for the user it becomes. */
typedef struct LISTENER_UNIX {
    int     allowed;                    /* "unix:/path" entries are sockets */
    mode_t  mode;
    uid_t   uid;
    gid_t   gid;
    int     chown;
} LISTENER_UNIX;

/* listener_inherit - the sockets a service manager passed us (LISTEN_PID
 * is our pid, LISTEN_FDS counts them from descriptor 3); the variables
 * are removed from the environment either way. Returns how many (0: none
 * passed, bind instead); anything but listening stream sockets is fatal. */
int     listener_inherit(LISTENERS *ls);

/* listener_bind_all - bind every address of spec (comma or space list);
 * param names the setting in error messages; any failure is fatal */
void    listener_bind_all(LISTENERS *ls, const char *spec, const char *param,
                          const LISTENER_UNIX *ux);

/* listener_names - "a, b" for the logs */
void    listener_names(const LISTENERS *ls, VBUF *buf);

/* listener_close_all - close and forget; remove_files: unlink the unix
 * sockets we made (the master at exit, never a worker) */
void    listener_close_all(LISTENERS *ls, int remove_files);

#endif
