/*
 * session - one smtpd session among the harness's peers, for the
 * fuzz_smtpd and fuzz_esmtp targets (see fuzz.h)
 *
 * The session engine (filter/smtpd.c) serves one end of a socket pair;
 * the other end sends the input as a pipelining client would, closes
 * only when the server waits for more, and keeps every reply. The
 * downstream (reinject_target) and the scanner (one clamd) are unix
 * sockets served by the harness (peer.c). The settings make every action
 * reachable from the message: EICAR for infected (quarantined), a banned
 * name for reject, ambiguous MIME for unchecked (discarded), a clamd
 * error for defer, more than 4000 bytes for oversize (tagged), anything
 * else clean (passed).
 *
 * After the session: every reply line is a well-formed, printable,
 * CRLF-ended SMTP reply line, multi-line replies are consistent; every
 * message the downstream accepted was reported to the client with the
 * downstream's queue id (else the client would send it again: a
 * duplicate); and every message the downstream accepted is exactly what
 * the client sent after that 354, as a model of RFC 5321 written here
 * reads it (the end only at CRLF "." CRLF, one dot of stuffing removed,
 * every line end one line end), under our X-Virus-Scanned header: no
 * byte of the client's lost, added or moved to another message
 * (smuggling). The model knows LMTP (RFC 2033) too: after an accepted
 * LHLO the final dot gets one reply per recipient accepted since MAIL.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "scan/inspect.h"
#include "filter/smtpd.h"
#include "lib/params.h"
#include "lib/vbuf.h"
#include "tests/fuzz/fuzz.h"

#define REPLY_LINE_MAX  2048    /* Postfix's line_length_limit */

static INSPECTOR *session_inspector;

/* session_close - at exit */
static void session_close(void)
{
    inspector_close(session_inspector);
    session_inspector = NULL;
}

/* fuzz_session_setup - settings, peers, inspector */
void fuzz_session_setup(const char *name)
{
    VBUF   *err;

    fuzz_setup(name);
    fuzz_set("reinject_target=unix:%s", fuzz_listen(FUZZ_SMTP, "downstream.sock"));
    fuzz_set("scanner=clamd:unix:%s", fuzz_listen(FUZZ_CLAMD, "clamd.sock"));
    fuzz_set("smtpd_listen=127.0.0.1:10025");
    fuzz_set("message_size_limit=4000");
    fuzz_set("oversize_action=tag");
    fuzz_set("virus_action=quarantine");
    fuzz_set("banned_action=reject");
    fuzz_set("unchecked_action=discard");
    fuzz_set("error_action=defer");
    err = vbuf_alloc(4096);
    if ((session_inspector = inspector_open(err)) == NULL)
        fuzz_fail("inspector_open: %s", vbuf_str(err));
    vbuf_free(err);
    fuzz_peers_reset();             /* clamd's VERSION connection */
    fuzz_at_exit(session_close);
}

/* check_replies - what smtpd sent is a sequence of well-formed replies */
static void check_replies(const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len, *nl, *q;
    char    code[4] = "";
    int     open = 0;           /* inside a multi-line reply */
    size_t  llen;

    while (p < end) {
        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            fuzz_fail("reply: last line has no line end: %.200s", p);
        if (nl == p || nl[-1] != '\r')
            fuzz_fail("reply: line ends in a bare LF: %.200s", p);
        llen = (size_t)(nl - 1 - p);
        if (llen > REPLY_LINE_MAX)
            fuzz_fail("reply: line of %zu bytes: %.200s", llen, p);
        for (q = p; q < nl - 1; q++)
            if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e)
                fuzz_fail("reply: byte 0x%02x in a reply line: %.200s", (unsigned char)*q, p);
        if (llen < 3 || p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '9'
            || p[2] < '0' || p[2] > '9' || (llen > 3 && p[3] != ' ' && p[3] != '-'))
            fuzz_fail("reply: not a reply line: %.200s", p);
        if (open && memcmp(code, p, 3) != 0)
            fuzz_fail("reply: code changes inside a multi-line reply: %.200s", p);
        memcpy(code, p, 3);
        open = llen > 3 && p[3] == '-';
        p = nl + 1;
    }
    if (open)
        fuzz_fail("reply: the session ended inside a multi-line reply");
}

/* check_accepted - every queue id the downstream gave out went upstream */
static void check_accepted(const char *buf, size_t len, const char *ids)
{
    char    want[64] = "queued as ";
    const char *id = ids, *hit, *from;
    size_t  n, wlen;

    while (*id) {
        n = strcspn(id, " ");
        if (n > sizeof(want) - 11)
            fuzz_fail("queue id too long: %s", id);
        memcpy(want + 10, id, n);
        want[10 + n] = 0;
        wlen = 10 + n;
        for (from = buf; (hit = memmem(from, len - (size_t)(from - buf), want, wlen)) != NULL;
             from = hit + 1)
            if (hit + wlen == buf + len || (hit[wlen] < '0' || hit[wlen] > '9'))
                break;
        if (hit == NULL)
            fuzz_fail("the downstream accepted %.*s but the client was not told "
                      "(it will send the message again)", (int)n, id);
        id += n;
        id += strspn(id, " ");
    }
}

/* reply_next - the next whole reply from *p (the replies are known to
 * be well-formed): its start, *p past it; NULL when there is none */
static const char *reply_next(const char **p, const char *end)
{
    const char *start = *p, *nl;
    int     last;

    while (*p < end && (nl = memchr(*p, '\n', (size_t)(end - *p))) != NULL) {
        last = nl - *p < 5 || (*p)[3] != '-';
        *p = nl + 1;
        if (last)
            return start;
    }
    return NULL;
}

/* model_body - the message that starts at c[*pos], as RFC 5321 reads it:
 * its lines, each ended by LF, into out; 1 with *pos past the final dot,
 * 0 when the input ends first */
static int model_body(const char *c, size_t len, size_t *pos, VBUF *out)
{
    size_t  i = *pos, start, n;
    int     crlf, prev_crlf = 1;

    vbuf_reset(out);
    while (i < len) {
        for (start = i; i < len && c[i] != '\r' && c[i] != '\n'; i++)
             /* void */ ;
        if (i == len || (c[i] == '\r' && i + 1 == len))
            return 0;
        n = i - start;
        crlf = c[i] == '\r' && c[i + 1] == '\n';
        i += crlf ? 2 : 1;
        if (n == 1 && c[start] == '.' && crlf && prev_crlf) {
            *pos = i;
            return 1;
        }
        if (n > 1 && c[start] == '.') {
            start++;
            n--;
        }
        vbuf_append(out, c + start, n);
        vbuf_addch(out, '\n');
        prev_crlf = crlf;
    }
    return 0;
}

/* drop_untrusted - remove "X-Untrusted-" where a line starts (the only
 * change allowed inside the message) */
static void drop_untrusted(VBUF *v)
{
    size_t  r, w, n = strlen("X-Untrusted-");
    int     bol = 1;

    for (r = w = 0; r < vbuf_len(v);) {
        if (bol && vbuf_len(v) - r >= n && memcmp(v->data + r, "X-Untrusted-", n) == 0)
            r += n;
        bol = v->data[r] == '\n';
        v->data[w++] = v->data[r++];
    }
    vbuf_truncate(v, w);
}

/* line_after - the start of the next line, or end */
static const char *line_after(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));

    return nl ? nl + 1 : end;
}

/* bdat_chunk - the size of the chunk smtpd skips after this command line
 * (cmd_bdat: "BDAT n ..." with no control or NUL byte; CHUNKING is
 * refused, but its data must never be read as commands), else 0 */
static long long bdat_chunk(const char *line, size_t len)
{
    size_t  i, n;

    if (len > 0 && line[len - 1] == '\r')
        len--;
    for (i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            return 0;
    while (len > 0 && *line == ' ')
        line++, len--;
    if (len < 5 || strncasecmp(line, "BDAT ", 5) != 0)
        return 0;
    for (line += 5, len -= 5; len > 0 && *line == ' '; line++, len--)
        /* void */ ;
    for (n = 0; n < len && isdigit((unsigned char)line[n]); n++)
        /* void */ ;
    if (n == 0 || n > 18 || (n < len && line[n] != ' '))
        return 0;
    return strtoll(line, NULL, 10);
}

/* MODEL - what the model knows of the session */
typedef struct MODEL {
    int     lmtp;               /* an LHLO was accepted */
    int     nrcpt;              /* recipients accepted since MAIL */
} MODEL;

/* cmd_is - the command line is verb (as smtpd reads it: leading spaces
 * skipped, any case, then a space or the end of the line) */
static int cmd_is(const char *line, size_t len, const char *verb)
{
    size_t  n = strlen(verb);

    while (len > 0 && *line == ' ')
        line++, len--;
    return len >= n && strncasecmp(line, verb, n) == 0
        && (len == n || line[n] == ' ' || line[n] == '\r' || line[n] == '\n');
}

/* model_command - one command and its reply: the protocol and the
 * recipients of the transaction */
static void model_command(MODEL *m, const char *line, size_t len, const char *reply)
{
    if (reply[0] != '2')
        return;
    if (cmd_is(line, len, "LHLO") || cmd_is(line, len, "EHLO") || cmd_is(line, len, "HELO")) {
        m->lmtp = cmd_is(line, len, "LHLO");
        m->nrcpt = 0;
    } else if (cmd_is(line, len, "MAIL")) {
        m->nrcpt = 0;
    } else if (cmd_is(line, len, "RCPT")) {
        m->nrcpt++;
    }
}

/* check_message - the downstream got what the client sent (want), if
 * reply r says it took the message */
static void check_message(const char *r, VBUF *want, VBUF *have)
{
    const char *id, *b, *bend;
    const VBUF *got;
    size_t  idlen;
    char    qid[32];

    if (strncmp(r, "250 2.0.0 Ok: queued as FZ", 26) != 0)
        return;
    id = r + 24;
    idlen = strcspn(id, "\r");
    snprintf(qid, sizeof(qid), "%.*s", (int)(idlen < 30 ? idlen : 30), id);
    if ((got = fuzz_smtp_body(qid)) == NULL)
        return;                                     /* more than were kept */
    b = vbuf_str(got);
    bend = b + vbuf_len(got);
    if (strncmp(b, "X-Virus-Scanned: postsift ", 26) != 0)
        fuzz_fail("message %s went out without our X-Virus-Scanned header", qid);
    b = line_after(b, bend);
    if (bend - b >= 16 && strncmp(b, "X-Virus-Status: ", 16) == 0)
        b = line_after(b, bend);
    vbuf_reset(have);
    vbuf_append(have, b, (size_t)(bend - b));
    drop_untrusted(have);
    drop_untrusted(want);
    if ((vbuf_len(have) != vbuf_len(want)
         || memcmp(vbuf_str(have), vbuf_str(want), vbuf_len(want))) && fuzz_verbose() > 1)
        fprintf(stderr, "message %s\n--- the client sent:\n%s\n--- the downstream got:\n%s\n---\n",
                qid, vbuf_str(want), vbuf_str(have));
    if (vbuf_len(have) != vbuf_len(want) || memcmp(vbuf_str(have), vbuf_str(want), vbuf_len(want)))
        fuzz_fail("message %s: the downstream got %zu bytes, not the %zu the client sent",
                  qid, vbuf_len(have), vbuf_len(want));
    if (fuzz_verbose() > 1)
        fprintf(stderr, "message %s: %zu bytes as sent\n", qid, vbuf_len(want));
}

/* check_relayed - what the downstream accepted is what the client sent:
 * each command line against its reply; after a 354 the message, then
 * its replies (one, or in LMTP one per recipient: every one that says
 * "queued as" names the same message, which is checked once) */
static void check_relayed(const char *c, size_t clen, const char *rbuf, size_t rlen)
{
    const char *rp = rbuf, *rend = rbuf + rlen, *r = NULL, *nl;
    VBUF   *want = vbuf_alloc(0), *have = vbuf_alloc(0);
    MODEL   m = {0, 0};
    size_t  pos = 0;
    long long chunk;
    int     n, i, checked;

    (void)reply_next(&rp, rend);                    /* the greeting */
    while ((r = reply_next(&rp, rend)) != NULL && strncmp(r, "421", 3) != 0) {
        if ((nl = memchr(c + pos, '\n', clen - pos)) == NULL)
            break;
        model_command(&m, c + pos, (size_t)(nl - c) - pos, r);
        chunk = bdat_chunk(c + pos, (size_t)(nl - c) - pos);
        pos = (size_t)(nl - c) + 1;                 /* the command */
        pos += chunk < (long long)(clen - pos) ? (size_t)chunk : clen - pos;
        if (strncmp(r, "354", 3) != 0)
            continue;
        if (!model_body(c, clen, &pos, want))
            break;
        n = m.lmtp ? m.nrcpt : 1;
        checked = 0;
        for (i = 0; i < n && (r = reply_next(&rp, rend)) != NULL; i++) {
            if (strncmp(r, "421", 3) == 0)
                break;
            if (!checked && strncmp(r, "250 2.0.0 Ok: queued as FZ", 26) == 0) {
                check_message(r, want, have);
                checked = 1;
            }
        }
        if (i < n)
            break;
    }
    vbuf_free(want);
    vbuf_free(have);
}

/* fuzz_session_run - one session, then the checks */
void fuzz_session_run(const char *data, size_t len)
{
    SMTPD_PEER peer = {"192.0.2.1", "4711"};
    const char *replies;
    size_t  rlen;
    int     fd, id;

    id = fuzz_script_pair(data, len, 1, &fd);
    smtpd_session(fd, fd, &peer, session_inspector, NULL);
    replies = fuzz_script_received(id, &rlen);
    if (fuzz_verbose() > 1)
        fprintf(stderr, "%.*s", (int)rlen, replies);
    check_replies(replies, rlen);
    check_accepted(replies, rlen, fuzz_smtp_accepted());
    check_relayed(data, len, replies, rlen);
    close(fd);
    fuzz_peers_reset();
    fuzz_empty_dir(var_quarantine_dir);
}
