/*
 * dotstuff - message bytes to SMTP DATA bytes (see dotstuff.h)
 *
 * Two bits of state carry across chunks: whether the output is at the
 * beginning of a line (a '.' there is doubled), and whether a CR was seen
 * whose fate depends on the next byte (CRLF stays one line end, a CR
 * followed by anything else is a line end of its own). Every line end
 * that goes out is CRLF, so no bare CR or LF can reach the server and no
 * "<LF>.<LF>"-style sequence can end the data early (SMTP smuggling).
 */
#include <string.h>

#include "lib/vbuf.h"
#include "smtpcli/dotstuff.h"

/* dotstuff_init - start of a message */
void dotstuff_init(DOTSTUFF *ds)
{
    ds->bol = 1;
    ds->cr = 0;
}

/* dotstuff_eol - append one CRLF line end */
static void dotstuff_eol(DOTSTUFF *ds, VBUF *out)
{
    vbuf_append(out, "\r\n", 2);
    ds->bol = 1;
}

/* dotstuff_encode - append the SMTP form of in[0..len) to out */
void dotstuff_encode(DOTSTUFF *ds, const char *in, size_t len, VBUF *out)
{
    const char *end = in + len;
    const char *run;

    while (in < end) {
        if (ds->cr) {
            /* a held CR: with an LF it is CRLF, otherwise a line end alone */
            ds->cr = 0;
            dotstuff_eol(ds, out);
            if (*in == '\n') {
                in++;
                continue;
            }
        }
        if (*in == '\r') {
            ds->cr = 1;
            in++;
            continue;
        }
        if (*in == '\n') {
            dotstuff_eol(ds, out);
            in++;
            continue;
        }
        if (ds->bol && *in == '.')
            vbuf_addch(out, '.');
        ds->bol = 0;
        /* copy the run of ordinary bytes up to the next CR or LF at once */
        for (run = in; in < end && *in != '\r' && *in != '\n'; in++)
             /* void */ ;
        vbuf_append(out, run, (size_t)(in - run));
    }
}

/* dotstuff_finish - close the last line and append ".\r\n" */
void dotstuff_finish(DOTSTUFF *ds, VBUF *out)
{
    if (ds->cr) {
        ds->cr = 0;
        dotstuff_eol(ds, out);
    }
    if (!ds->bol)
        dotstuff_eol(ds, out);
    vbuf_append(out, ".\r\n", 3);
    dotstuff_init(ds);
}
