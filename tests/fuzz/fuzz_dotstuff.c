/*
 * fuzz_dotstuff - message bytes to SMTP DATA bytes (smtpcli/dotstuff.c)
 * and the prefix-then-file data source (smtp_fd_source_read)
 *
 * Input: byte 0 seeds the chunk sizes, byte 1 is the length of a prefix
 * (our added headers), the rest the message. The data source reads the
 * prefix and then the message from a file in chunks of varying size; the
 * bytes it gives must be prefix + message exactly. They are encoded once
 * at a time and once in those chunks (so a CR at the end of one chunk
 * meets its LF in the next): both outputs must be equal to a reference
 * written here without the state machine: every CRLF, bare CR and bare
 * LF one CRLF, a dot at the start of a line doubled, a last line without
 * its end closed, then ".\r\n". Hence no bare CR or LF, and no line "."
 * but the last, can reach the server.
 */
#include <string.h>
#include <unistd.h>

#include "lib/vbuf.h"
#include "smtpcli/dotstuff.h"
#include "smtpcli/smtpcli.h"
#include "tests/fuzz/fuzz.h"

static VBUF *whole, *chunked, *want, *source;

/* dotstuff_free - at exit */
static void dotstuff_free(void)
{
    vbuf_free(whole);
    vbuf_free(chunked);
    vbuf_free(want);
    vbuf_free(source);
}

/* LLVMFuzzerInitialize - once per process */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup("dotstuff");
    whole = vbuf_alloc(0);
    chunked = vbuf_alloc(0);
    want = vbuf_alloc(0);
    source = vbuf_alloc(0);
    fuzz_at_exit(dotstuff_free);
    return 0;
}

/* next_chunk - the next chunk size (1..64), from a small generator */
static size_t next_chunk(unsigned *state)
{
    *state = *state * 1103515245u + 12345u;
    return (*state >> 16) % 64 + 1;
}

/* reference - the SMTP form of in, the plain way */
static void reference(const char *in, size_t len, VBUF *out)
{
    size_t  i = 0, start;

    vbuf_reset(out);
    while (i < len) {
        start = i;
        while (i < len && in[i] != '\r' && in[i] != '\n')
            i++;
        if (start < len && in[start] == '.')
            vbuf_addch(out, '.');
        vbuf_append(out, in + start, i - start);
        vbuf_strcat(out, "\r\n");
        if (i < len && in[i] == '\r' && i + 1 < len && in[i + 1] == '\n')
            i += 2;
        else if (i < len)
            i++;
    }
    vbuf_strcat(out, ".\r\n");
}

/* LLVMFuzzerTestOneInput - source, encode twice, compare */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    SMTP_FD_SOURCE src;
    DOTSTUFF ds;
    const char *msg;
    char    buf[64];
    unsigned seed;
    size_t  plen, mlen, off, n;
    ssize_t got;

    if (size < 2)
        return 0;
    seed = data[0];
    plen = data[1] < size - 2 ? data[1] : size - 2;
    msg = (const char *)data + 2;
    mlen = size - 2;

    /* the data source: prefix, then the file, in small reads */
    memset(&src, 0, sizeof(src));
    src.prefix = msg;
    src.prefix_len = plen;
    src.fd = fuzz_memfd(msg + plen, mlen - plen);
    vbuf_reset(source);
    while ((got = smtp_fd_source_read(&src, buf, next_chunk(&seed))) > 0)
        vbuf_append(source, buf, (size_t)got);
    close(src.fd);
    if (got < 0)
        fuzz_fail("smtp_fd_source_read: error");
    if (vbuf_len(source) != mlen || memcmp(vbuf_str(source), msg, mlen) != 0)
        fuzz_fail("smtp_fd_source_read: %zu bytes, want %zu", vbuf_len(source), mlen);

    /* at once, and in chunks */
    vbuf_reset(whole);
    dotstuff_init(&ds);
    dotstuff_encode(&ds, msg, mlen, whole);
    dotstuff_finish(&ds, whole);
    vbuf_reset(chunked);
    dotstuff_init(&ds);
    for (off = 0; off < mlen; off += n) {
        n = next_chunk(&seed);
        if (n > mlen - off)
            n = mlen - off;
        dotstuff_encode(&ds, msg + off, n, chunked);
    }
    dotstuff_finish(&ds, chunked);

    reference(msg, mlen, want);
    if (vbuf_len(whole) != vbuf_len(want) || memcmp(vbuf_str(whole), vbuf_str(want), vbuf_len(want)))
        fuzz_fail("dotstuff: %zu bytes differ from the reference (%zu bytes)",
                  vbuf_len(whole), vbuf_len(want));
    if (vbuf_len(chunked) != vbuf_len(want)
        || memcmp(vbuf_str(chunked), vbuf_str(want), vbuf_len(want)))
        fuzz_fail("dotstuff: chunked, %zu bytes differ from the reference (%zu bytes)",
                  vbuf_len(chunked), vbuf_len(want));
    return 0;
}
