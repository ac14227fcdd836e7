/*
 * avbackend - what a scanner backend offers avscan (private to scan/)
 *
 * One table of these in avscan.c, one backend a file: avclamav.c,
 * avclamd.c, avcommand.c. A backend is a part scanner (scan_fd and
 * scan_mem: every decoded part, in memory or in a file), a message
 * scanner (scan_message: the whole spooled message once), or both; what
 * it is not is NULL. open gets the entries of the scanner setting that
 * are its own: one, or for a pool (clamd) all of them, in order.
 */
#ifndef POSTSIFT_AVBACKEND_H
#define POSTSIFT_AVBACKEND_H

#include <stddef.h>

#include "scan/avscan.h"
#include "lib/envelope.h"
#include "lib/vbuf.h"

typedef struct AVBACKEND {
    const char *prefix;         /* "clamav" (exact), "clamd:", "command:" */
    int     exact;              /* the entry is the prefix itself */
    int     pool;               /* all entries of this kind make one backend */
    int     engine;             /* a ClamAV engine: at most one of them listed */
    void   *(*open)(char *const *specs, int nspecs, const char *dbdir, VBUF *err);
    int     (*scan_fd)(void *h, int fd, VBUF *virname, VBUF *err);
    int     (*scan_mem)(void *h, const void *buf, size_t len, VBUF *virname, VBUF *err);
    int     (*scan_message)(void *h, int fd, const SMTP_ENVELOPE *env,
                            AVSCAN_REPLY *reply, VBUF *err);
    const char *(*version)(void *h);
    unsigned long (*signatures)(const void *h);   /* NULL: none known */
    int     (*changed)(void *h);                   /* NULL: never reloads */
    void    (*close)(void *h);
    long long (*built)(const void *h);          /* NULL or 0: age unknown */
    int     (*test_only)(const void *h);        /* NULL: real signatures */
} AVBACKEND;

extern const AVBACKEND avclamav_backend;
extern const AVBACKEND avclamd_backend;
extern const AVBACKEND avcommand_backend;

/* avclamav_tmpdir, avclamav_tmpdir_remove - see avscan_tmpdir() */
const char *avclamav_tmpdir(void);
void    avclamav_tmpdir_remove(void);

#endif
