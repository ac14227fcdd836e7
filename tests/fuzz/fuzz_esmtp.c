/*
 * fuzz_esmtp - XFORWARD and the MAIL/RCPT parameters
 *
 * The input is a list of lines; each becomes a command of a session
 * whose frame stays valid, so that mutations go into the parameters
 * rather than into the protocol around them:
 *
 *     X...    XFORWARD ...
 *     M...    MAIL FROM:...
 *     R...    RCPT TO:...
 *     other   the line as it is
 *
 * after "EHLO", and followed by DATA, a short message and QUIT. The
 * session runs as in fuzz_smtpd; the downstream checks what was relayed:
 * xtext in XFORWARD, ENVID and ORCPT, only parameters smtpcli sends, no
 * line breaks or NULs, XFORWARD lines within 512 bytes.
 */
#include <string.h>

#include "lib/vbuf.h"
#include "tests/fuzz/fuzz.h"

static VBUF *esmtp_session;

/* esmtp_free - at exit */
static void esmtp_free(void)
{
    vbuf_free(esmtp_session);
    esmtp_session = NULL;
}

/* LLVMFuzzerInitialize - once per process */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_session_setup("esmtp");
    esmtp_session = vbuf_alloc(0);
    fuzz_at_exit(esmtp_free);
    return 0;
}

/* esmtp_prefix - the command a line's first byte stands for, or NULL */
static const char *esmtp_prefix(int c)
{
    switch (c) {
    case 'X':
        return "XFORWARD ";
    case 'M':
        return "MAIL FROM:";
    case 'R':
        return "RCPT TO:";
    default:
        return NULL;
    }
}

/* LLVMFuzzerTestOneInput - lines to commands, one session */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size, *nl, *prefix;
    size_t  len;

    vbuf_strcpy(esmtp_session, "EHLO client.example\r\n");
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len > 0 && p[len - 1] == '\r')
            len--;
        if (len > 0 && (prefix = esmtp_prefix(*p)) != NULL) {
            vbuf_strcat(esmtp_session, prefix);
            p++;
            len--;
        }
        vbuf_append(esmtp_session, p, len);
        vbuf_strcat(esmtp_session, "\r\n");
        p = nl ? nl + 1 : end;
    }
    vbuf_strcat(esmtp_session, "DATA\r\nSubject: esmtp\r\n\r\nhello\r\n.\r\nQUIT\r\n");
    fuzz_session_run(vbuf_str(esmtp_session), vbuf_len(esmtp_session));
    return 0;
}
