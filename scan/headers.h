/*
 * headers - our trace and status headers, and the ones we do not trust
 *
 * Every message that leaves the filter gets "X-Virus-Scanned: postsift
 * VERSION (ENGINE) on HOST" at the top; a tagged one also gets
 * "X-Virus-Status: Title (detail)". Headers of those names that arrived
 * with the message are renamed "X-Untrusted-X-Virus-Scanned" and
 * "X-Untrusted-X-Virus-Status" (every one in the top-level header block,
 * however long the block is and wherever the header sits in it: the file
 * is streamed, memory stays bounded; no other byte changes), so
 * downstream rules never act on a forged verdict.
 * Our own earlier X-Virus-Scanned headers, renamed or not, are counted for
 * loop detection.
 */
#ifndef POSTSIFT_HEADERS_H
#define POSTSIFT_HEADERS_H

#include "scan/verdict.h"
#include "lib/vbuf.h"

typedef struct HEADER_INFO {
    int     our_trace;      /* X-Virus-Scanned: postsift ... seen (renamed or not) */
    int     foreign;        /* X-Virus-Scanned / X-Virus-Status to rename */
} HEADER_INFO;

/* headers_scan - look at the top-level header block of the message in fd */
int headers_scan(int fd, HEADER_INFO *info, VBUF *err);

/* headers_neutralize - a new spool file (in dir) with the untrusted headers
 * renamed; the old fd is left open. -1 with why in err. */
int headers_neutralize(int fd, const char *dir, VBUF *err);

/* headers_build - our headers, LF-terminated, appended to out */
void headers_build(VBUF *out, const char *engine, const char *host,
                   VERDICT verdict, const char *detail, int tag);

#endif
