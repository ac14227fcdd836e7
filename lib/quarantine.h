/*
 * quarantine - store a message with its envelope, and find it again
 *
 * One file per message in quarantine_dir (0700), mode 0600, named by an
 * unpredictable id. The file starts with an envelope block of "name: value"
 * lines (sender, recipient, orcpt, notify, ret, envid, verdict, reason,
 * queue_id, time), an empty line, then the message bytes as received.
 * postsift-reinject --release ID sends it on to its original recipients.
 */
#ifndef POSTSIFT_QUARANTINE_H
#define POSTSIFT_QUARANTINE_H

#include <stdio.h>

#include "lib/envelope.h"
#include "lib/vbuf.h"

typedef struct QUARANTINE_ENTRY {
    SMTP_ENVELOPE env;      /* strings owned by the entry */
    const char *verdict;    /* owned by the entry too */
    const char *reason;
    const char *queue_id;
    int     fd;             /* the message, seekable */
    off_t   body_offset;    /* where the message starts in fd */
} QUARANTINE_ENTRY;

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
 * to=<R>,<R> verdict=V reason="..."", control bytes escaped), a warning
 * for anything else in the directory; the count, or -1 with why in err */
int quarantine_list(const char *dir, FILE *fp, VBUF *err);

/* quarantine_release_header - the X-Postsift-Released header line for a
 * release of entry qe as id, LF-terminated, appended to out: one line,
 * whatever the entry holds */
void quarantine_release_header(VBUF *out, const char *id, const QUARANTINE_ENTRY *qe);

/* quarantine_remove - delete the entry for id after release */
int quarantine_remove(const char *dir, const char *id, VBUF *err);

#endif
