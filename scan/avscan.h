/*
 * avscan - the scanners of the scanner setting, as one
 *
 * The setting lists scanners, each a backend of its own file:
 * "clamav" (avclamav.c: libclamav in-process), "clamd:unix:/path" and
 * "clamd:inet:host:port" (avclamd.c: every clamd entry of the list is one
 * pool of servers, tried in order) and "command:/path" (avcommand.c: an
 * external program, postprox's contract). At most one ClamAV (in-process
 * or a clamd pool) and any number of commands; every listed scanner runs.
 *
 * Part scanners (ClamAV) see each decoded part: avscan_scan_fd() and
 * avscan_scan_mem() give the worst answer of them all (an error beats a
 * virus: fail closed). Message scanners (commands) see the whole message
 * once: avscan_scan_message(), in the order listed; the first that
 * rejects or fails ends it, and one that replaces the message hands its
 * replacement to the next. An AVSCAN is not for sharing between threads.
 */
#ifndef POSTSIFT_AVSCAN_H
#define POSTSIFT_AVSCAN_H

#include <stddef.h>

#include "lib/envelope.h"
#include "lib/vbuf.h"

#define AV_CLEAN    0
#define AV_VIRUS    1
#define AV_REJECT   2       /* a message scanner refused the message */
#define AV_ERROR    (-1)

typedef struct AVSCAN AVSCAN;

/* What a message scanner said besides clean/reject/error. */
typedef struct AVSCAN_REPLY {
    int     code;           /* AV_REJECT: the SMTP code, 5xx (554 unless given) */
    char    dsn[16];        /* AV_REJECT: the enhanced status, 5.x.x (5.7.1) */
    VBUF   *text;           /* AV_REJECT: the reason, printable ASCII, one line */
    VBUF   *scanner;        /* the scanner that answered, for the detail */
    int     fd;             /* AV_CLEAN: a replacement message (ours), or -1 */
} AVSCAN_REPLY;

/* avscan_open - set up the scanners listed in spec (var_scanner) with
 * the limits of the clamav_*, clamd_* and command_* settings; dbdir is
 * clamav_database_directory ("bundled": the test signatures only; empty:
 * /var/lib/clamav). NULL with why in err; no usable signature database is
 * such a failure (fail closed), and err then names the directory and the
 * fix */
AVSCAN *avscan_open(const char *spec, const char *dbdir, VBUF *err);

/* avscan_scan_fd - run the part scanners on a whole file (from offset
 * 0); AV_VIRUS puts the signature name in virname; AV_ERROR puts why in
 * err; AV_CLEAN when there is no part scanner */
int avscan_scan_fd(AVSCAN *av, int fd, VBUF *virname, VBUF *err);

/* avscan_scan_mem - the same for bytes in memory */
int avscan_scan_mem(AVSCAN *av, const void *buf, size_t len, VBUF *virname, VBUF *err);

/* avscan_has_message_scanners - 1 when a command is listed */
int avscan_has_message_scanners(const AVSCAN *av);

void avscan_reply_init(AVSCAN_REPLY *reply);
void avscan_reply_free(AVSCAN_REPLY *reply);   /* closes reply->fd when set */

/* avscan_scan_message - run the message scanners on the message in fd
 * (from offset 0) with its envelope (NULL: an empty one): AV_CLEAN
 * (reply->fd is a replacement when one was made: ours to close, or
 * given to whoever takes it, with -1 left in its place), AV_REJECT
 * (reply says why) or AV_ERROR (why in err) */
int avscan_scan_message(AVSCAN *av, int fd, const SMTP_ENVELOPE *env, AVSCAN_REPLY *reply,
                        VBUF *err);

/* avscan_version - for X-Virus-Scanned: "ClamAV 1.4.6/27000" (engine and
 * signature version), or "clamd ClamAV 1.4.6/..." as clamd reports it;
 * with commands, ", command NAME" for each */
const char *avscan_version(AVSCAN *av);

/* avscan_signatures - number of loaded signatures (0 for clamd and
 * commands) */
unsigned long avscan_signatures(const AVSCAN *av);

/* avscan_changed - 1 when the signatures on disk differ from the loaded
 * ones (cl_statchkdir() of the loaded directory), so that a
 * long-running process should load a new AVSCAN; 0 otherwise, and always 0
 * for the bundled test signatures, for clamd, which reloads by itself, and
 * for commands */
int avscan_changed(AVSCAN *av);

/* avscan_signature_age - seconds since the newest loaded signature
 * database was built (libclamav: the build time in the .cvd/.cld headers,
 * or the newest file's modification time in a directory without any), or
 * -1 when unknown (clamd, which owns its database; commands; the bundled
 * test signatures) */
long long avscan_signature_age(const AVSCAN *av);

/* avscan_test_signatures - 1 when the ClamAV scanner has only the bundled
 * test signatures (clamav_database_directory = bundled): it detects test
 * files and nothing else */
int avscan_test_signatures(const AVSCAN *av);

void avscan_close(AVSCAN *av);

/* avscan_tmpdir - this process's own directory for libclamav's temporary
 * files (spool_dir/clamtmp-RANDOM, locked while the process lives), or
 * NULL when it has none. It is made by the first "clamav" avscan_open()
 * of a process (or the first scan of a forked one) and removed when the
 * last one is closed or the process exits. */
const char *avscan_tmpdir(void);

/* avscan_tmpdir_remove - remove it now (a daemon worker before _exit) */
void avscan_tmpdir_remove(void);

/* avscan_heuristic_unchecked - 1 when a detection name means "could not be
 * inspected" (Heuristics.Encrypted.*, Heuristics.Limits.Exceeded.*) rather
 * than malware */
int avscan_heuristic_unchecked(const char *virname);

#endif
