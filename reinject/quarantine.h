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

#include "lib/vbuf.h"
#include "smtpcli/smtpcli.h"

typedef struct QUARANTINE_ENTRY {
    SMTP_ENVELOPE env;      /* strings owned by the entry */
    char   *verdict;
    char   *reason;
    char   *queue_id;
    int     fd;             /* the message, seekable */
    off_t   body_offset;    /* where the message starts in fd */
} QUARANTINE_ENTRY;

/* quarantine_store - write env + message (fd from offset 0) under dir;
 * the new id in id; -1 with why in err */
int quarantine_store(const char *dir, const SMTP_ENVELOPE *env, int fd,
                     const char *verdict, const char *reason,
                     const char *queue_id, VBUF *id, VBUF *err);

/* quarantine_open - read the entry for id; -1 with why in err */
int quarantine_open(const char *dir, const char *id, QUARANTINE_ENTRY *qe, VBUF *err);
void quarantine_close(QUARANTINE_ENTRY *qe);

/* quarantine_remove - delete the entry for id after release */
int quarantine_remove(const char *dir, const char *id, VBUF *err);

#endif
