/*
 * pidfile - a server's pid file, held with flock() for the master's life
 *
 * Locked from before the bind until exit, so that a second server on the
 * same file refuses to start and a stale file from a dead one is simply
 * taken over. Root writes it: only a file that is what it seems is used
 * (lib/safefile). One pid file per process.
 */
#ifndef POSTSIFT_PIDFILE_H
#define POSTSIFT_PIDFILE_H

#include <sys/types.h>

/* pidfile_take - make the missing directories (owned by uid/gid when
 * chown_ok), open and lock path; another live server is fatal ("another
 * WHO (pid N) holds PATH"). param names the setting in messages. */
void    pidfile_take(const char *path, const char *param, const char *who,
                     uid_t uid, gid_t gid, int chown_ok);

/* pidfile_write - our pid into the locked file; this process owns it now */
void    pidfile_write(void);

/* pidfile_remove - the owner at exit (anyone else: nothing); when the
 * directory is not ours to change, the file is emptied instead */
void    pidfile_remove(void);

/* pidfile_forget - a child lets go of its copy (never removes it) */
void    pidfile_forget(void);

#endif
