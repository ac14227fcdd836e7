/*
 * quarantine - store a message with its envelope, and find it again
 *
 * One file per message in quarantine_dir (0700), mode 0600, named by an
 * unpredictable id. The file starts with an envelope block of "name: value"
 * lines (sender, recipient, orcpt, notify, ret, envid, verdict, reason,
 * queue_id, time), an empty line, then the message bytes as received.
 * postsift-reinject --release ID sends it on to its original recipients.
 *
 * The time an entry was stored is the file's modification time (list and
 * expiry use it; the "time" line is a record). A release first takes the
 * entry: flock(LOCK_EX) on the file, then rename ID to ID.releasing, so
 * that two releases of one message deliver it once; after the hand-over
 * the file is deleted, after a failure it is renamed back. A
 * ID.releasing file without a lock holder is what a crash midway leaves.
 */
#ifndef POSTSIFT_QUARANTINE_H
#define POSTSIFT_QUARANTINE_H

#include <stdio.h>
#include <time.h>

#include "lib/envelope.h"
#include "lib/vbuf.h"

typedef struct QUARANTINE_ENTRY {
    SMTP_ENVELOPE env;      /* strings owned by the entry */
    const char *verdict;    /* owned by the entry too */
    const char *reason;
    const char *queue_id;
    int     fd;             /* the message, seekable */
    off_t   body_offset;    /* where the message starts in fd */
    time_t  mtime;          /* when it was stored: the file's mtime */
    time_t  ctime;          /* the file's ctime (a rename sets it) */
    off_t   size;           /* bytes of the message */
    int     releasing;      /* opened under the name ID.releasing */
} QUARANTINE_ENTRY;

#define QUARANTINE_RELEASING ".releasing"

/* Results of quarantine_claim() */
#define QUARANTINE_CLAIMED  0
#define QUARANTINE_ERROR    (-1)    /* no such entry, damaged, I/O */
#define QUARANTINE_BUSY     (-2)    /* another process holds it */
#define QUARANTINE_STALE    (-3)    /* ID.releasing left by a crash */

/* Flags of quarantine_list() */
#define QUARANTINE_LIST_JSON 1

/* quarantine_store - write env + message (fd from offset 0) under dir;
 * the new id in id; -1 with why in err */
int quarantine_store(const char *dir, const SMTP_ENVELOPE *env, int fd,
                     const char *verdict, const char *reason,
                     const char *queue_id, VBUF *id, VBUF *err);

/* quarantine_open - read the entry for id; -1 with why in err. Only a
 * regular file is opened (a FIFO or device put there never blocks us),
 * and an envelope block that is not exactly what quarantine_store()
 * writes (a key given twice, an orcpt without its recipient, no sender or
 * no recipient) is refused rather than guessed at. */
int quarantine_open(const char *dir, const char *id, QUARANTINE_ENTRY *qe, VBUF *err);
void quarantine_close(QUARANTINE_ENTRY *qe);

/* quarantine_list - one line per entry of dir on fp ("ID from=<S>
 * to=<R>,<R> verdict=V detail="..." time=ISO size=N queue_id=Q", with
 * " state=releasing" or " state=stale" for ID.releasing; more than
 * three recipients as to="N recipients: <a>, <b>, <c>, ..."), control
 * bytes escaped, or one JSON object a line with QUARANTINE_LIST_JSON;
 * a warning for anything else in the directory; the count, or -1 with
 * why in err */
int quarantine_list(const char *dir, FILE *fp, int flags, VBUF *err);

/* quarantine_line - the listing line of entry qe as id (no newline) */
void quarantine_line(VBUF *out, const char *id, const QUARANTINE_ENTRY *qe);

/* quarantine_show - the envelope and the header of entry qe on fp, control
 * bytes escaped; with full, the whole message as stored, unchanged; 0, or
 * -1 on a read error */
int quarantine_show(FILE *fp, const char *id, const QUARANTINE_ENTRY *qe, int full);

/* quarantine_claim - take entry id for a release or a deletion: lock it
 * and rename it to ID.releasing. An ID.releasing that nobody holds is
 * QUARANTINE_STALE unless force; one that a live process holds is
 * QUARANTINE_BUSY. On QUARANTINE_CLAIMED qe is open and locked; then
 * quarantine_unclaim() or quarantine_finish() */
int quarantine_claim(const char *dir, const char *id, int force, QUARANTINE_ENTRY *qe,
                     VBUF *err);

/* quarantine_unclaim - put a claimed entry back under its id; close qe */
int quarantine_unclaim(const char *dir, const char *id, QUARANTINE_ENTRY *qe, VBUF *err);

/* quarantine_finish - delete a claimed entry; close qe */
int quarantine_finish(const char *dir, const char *id, QUARANTINE_ENTRY *qe, VBUF *err);

/* quarantine_delete - claim (taking over a stale release) and delete */
int quarantine_delete(const char *dir, const char *id, VBUF *err);

/* quarantine_expire - delete every entry stored before "before" that no
 * process holds, one "expired LINE" on fp each; the count, or -1 */
int quarantine_expire(const char *dir, time_t before, FILE *fp, VBUF *err);

/* quarantine_sync_dir - fsync a directory, so a rename or unlink in it
 * survives a crash; -1 with why in err */
int quarantine_sync_dir(const char *dir, VBUF *err);

/* quarantine_release_header - the X-Postsift-Released header line for a
 * release of entry qe as id, LF-terminated, appended to out: one line,
 * whatever the entry holds */
void quarantine_release_header(VBUF *out, const char *id, const QUARANTINE_ENTRY *qe);

/* quarantine_remove - delete the entry for id after release */
int quarantine_remove(const char *dir, const char *id, VBUF *err);

#endif
