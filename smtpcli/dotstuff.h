/*
 * dotstuff - message bytes to SMTP DATA bytes
 *
 * A state machine over any chunking of the input: every bare CR, bare LF and
 * CRLF becomes CRLF, a '.' at the start of a line is doubled, and the end
 * adds a CRLF when the last line was not terminated, then ".\r\n". A CR at
 * the end of one chunk is held until the next chunk shows whether an LF
 * follows. The output never contains a bare CR or LF (SMTP smuggling).
 */
#ifndef POSTSIFT_DOTSTUFF_H
#define POSTSIFT_DOTSTUFF_H

#include <stddef.h>

#include "lib/vbuf.h"

typedef struct DOTSTUFF {
    int bol;        /* at the beginning of a line */
    int cr;         /* a CR was seen and not yet resolved */
} DOTSTUFF;

void dotstuff_init(DOTSTUFF *ds);
/* dotstuff_encode - append the SMTP form of in[0..len) to out */
void dotstuff_encode(DOTSTUFF *ds, const char *in, size_t len, VBUF *out);
/* dotstuff_finish - close the last line and append ".\r\n" */
void dotstuff_finish(DOTSTUFF *ds, VBUF *out);

#endif
