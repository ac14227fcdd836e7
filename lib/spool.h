/*
 * spool - private temporary files for messages and decoded parts
 *
 * spool_dir is created 0700 when missing, refused when it is a symlink, not
 * a directory or not ours, and made 0700 (with a warning) when it is open
 * to group or other. Files are created 0600 with
 * O_TMPFILE, or failing that with an unpredictable name, O_EXCL|O_NOFOLLOW,
 * and unlinked at once: no path ever outlives the open descriptor, so no
 * exit path (SIGKILL included) can leave a message behind.
 *
 * A transient spool file (the SMTP designs and the milter, where Postfix
 * keeps the message in its queue until our reply) lives in memory, in a
 * memfd that has no name anywhere, up to var_memory_spool_limit bytes;
 * spool_write_grow() moves it to a disk spool file, under the same
 * descriptor number, when it would grow past that.
 */
#ifndef POSTSIFT_SPOOL_H
#define POSTSIFT_SPOOL_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/vbuf.h"

/* spool_dir_check - create dir 0700 if missing, verify ownership/mode;
   -1 with why in err */
int spool_dir_check(const char *dir, VBUF *err);

/* spool_create - new anonymous read/write file in dir; -1 with why in err */
int spool_create(const char *dir, VBUF *err);

/* spool_create_mem - a transient file: in memory when the limit allows
 * and the kernel can, else spool_create(dir); -1 with why in err */
int spool_create_mem(const char *dir, VBUF *err);

/* spool_is_mem - fd is a spool file in memory */
int spool_is_mem(int fd);

/* spool_write_grow - append len bytes to a spool file that holds have
 * bytes (its offset at the end); one in memory that would pass
 * var_memory_spool_limit moves to a disk file in dir first, under the
 * same descriptor number. 0, or -1 with errno set */
int spool_write_grow(int fd, const char *dir, off_t have, const void *buf, size_t len);

/* spool_random_name - fill buf with min(len-1, 64) unpredictable [A-Za-z0-9] chars */
void spool_random_name(char *buf, size_t len);

/* spool_copy_fd - copy all of src (from its start; a pipe or socket: all
 * that is left in it) to dst; -1 on error */
int spool_copy_fd(int src, int dst);

/* spool_write_all - write len bytes, retrying short writes and EINTR; 0,
 * or -1 with errno set (a 0-byte write counts as an error) */
int spool_write_all(int fd, const void *buf, size_t len);

/* spool_size - size of an open file, -1 on error */
off_t spool_size(int fd);

 /*
  * Private directories, for a library that insists on paths of its own
  * (libclamav's CL_ENGINE_TMPDIR). A process makes one under dir and
  * holds an exclusive flock on it for as long as it lives; the kernel
  * drops the lock when the process dies, however it dies (SIGKILL from
  * pipe(8)'s time limit included). Any process that starts sweeps the
  * directories whose lock is free, with all they hold, and never one
  * whose lock is held.
  */

/* spool_private_dir - a new directory dir/PREFIXrandom, 0700, locked;
 * its path in path. The descriptor that holds the lock (close-on-exec,
 * keep it open), or -1 with why in err */
int spool_private_dir(const char *dir, const char *prefix, VBUF *path, VBUF *err);

/* spool_sweep - remove every directory dir/PREFIX* of our effective uid
 * whose lock is free, with its contents, following no symlink (another
 * user's is never opened: dir may be shared, like /dev/shm); the number
 * removed */
int spool_sweep(const char *dir, const char *prefix);

/* spool_private_dir_remove - remove a directory of spool_private_dir()
 * with its contents, then close fd (the lock goes with it) */
void spool_private_dir_remove(int fd, const char *path);

#endif
