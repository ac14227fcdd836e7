/*
 * safefile - open a file that a privileged process writes by name
 *
 * log_file and the daemon's pid file are opened by root, at paths in
 * directories that others may be able to write. Whatever is found at the
 * path must be what it seems: a regular file with one link (a hard link
 * to /etc/shadow has two), not a symbolic link, owned by root, by the
 * process's own user or by the one user the caller names, in a directory
 * not writable by everyone (unless sticky), and still the same file after
 * the open as before it (fstat against lstat). A missing file is created
 * with O_EXCL, so that the caller knows it made it, and only then may
 * hand it to another user. Postfix's safe_open() is the model.
 */
#ifndef POSTSIFT_SAFEFILE_H
#define POSTSIFT_SAFEFILE_H

#include <sys/types.h>

#include "lib/vbuf.h"

#define SAFEFILE_NO_OWNER ((uid_t)-1)

/* safefile_open - open path with flags (O_WRONLY|O_APPEND, O_RDWR...;
 * O_CLOEXEC and O_NOFOLLOW are added), creating it with mode when it is
 * missing. owner: one more user that may own an existing file, or
 * SAFEFILE_NO_OWNER. *created says whether this call made the file. The
 * descriptor, or -1 with why in err (the path is not in it). */
int safefile_open(const char *path, int flags, mode_t mode, uid_t owner,
                  int *created, VBUF *err);

#endif
