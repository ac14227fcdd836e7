/*
 * probe - does the filter answer: connect, a 220 greeting, EHLO, a 250
 * reply, QUIT; all within CK_PROBE_TIME seconds (lib/netio deadlines).
 * For a milter: connect, send SMFIC_OPTNEG (protocol version 6, every
 * action and protocol step offered, as Postfix does), expect SMFIC_OPTNEG
 * back, send SMFIC_QUIT; all within CK_MILTER_TIME seconds.
 *
 * With --snapshot nothing is contacted: the snapshot's file "probe" holds
 * one line per address, "HOST:PORT RESULT", where RESULT is the greeting
 * when the filter answered ("220 ..."), "timeout", or why it did not
 * ("nothing listens (connection refused)", "EHLO reply: 502 ..."); for a
 * milter "ADDRESS RESULT" with the address as smtpd_milters writes it
 * (inet:127.0.0.1:10027, unix:/path) and RESULT "OPTNEG ..." when it
 * answered, "timeout", or why not.
 *
 * For postsift-policy: connect, send one request of the policy protocol
 * (request=smtpd_access_policy, protocol_state=CONNECT: no rate rule
 * counts it, no recipient is checked), expect "action=..." and the empty
 * line, within CK_POLICY_TIME seconds; in the snapshot "ADDRESS RESULT",
 * RESULT "action=..." when it answered.
 */
#include <stdio.h>
#include <string.h>

#include "check/check.h"
#include "lib/netio.h"

#define PR_LINE_MAX 2048
#define PR_MILTER_MAX 65536                     /* the longest OPTNEG reply we read */
#define PR_SMFIC_OPTNEG 'O'
#define PR_SMFIC_QUIT   'Q'
#define PR_SMFI_VERSION 6
#define PR_SMFIF_ALL    0x1ffU                  /* every action (SMFIF_*) */
#define PR_SMFIP_ALL    0x1fffffU               /* every protocol step (SMFIP_*) */

/* pr_reply - the last line of an SMTP reply into line; -1 on no reply */
static int pr_reply(NETIO *io, VBUF *line)
{
    for (;;) {
        if (netio_read_line(io, line, PR_LINE_MAX, NULL) < 0)
            return -1;
        if (vbuf_len(line) < 4 || line->data[3] != '-')
            return 0;
    }
}

/* pr_printable - a reply line as the finding quotes it */
static const char *pr_printable(CK *ck, const VBUF *line)
{
    char    buf[200];

    return ck_str(ck, msg_printable(buf, sizeof(buf), vbuf_str(line)));
}

/* pr_snapshot - the saved result for key ("host:port "), success when it
   starts with ok; -2 when there is none */
static int pr_snapshot(CK *ck, const char *key, const char *ok, VBUF *why)
{
    FILE   *fp = fopen(postconf_snap_path(ck, "probe"), "r");
    char    line[1024];
    int     ret = -2;

    while (fp && ret == -2 && fgets(line, sizeof(line), fp) != NULL) {
        line[strcspn(line, "\r\n")] = 0;
        if (strncmp(line, key, strlen(key)) != 0)
            continue;
        vbuf_strcpy(why, line + strlen(key));
        if (strcmp(vbuf_str(why), "timeout") == 0)
            ret = 1;
        else
            ret = strncmp(vbuf_str(why), ok, strlen(ok)) == 0 ? 0 : -1;
    }
    if (fp)
        fclose(fp);
    return ret;
}

/* ck_probe - 0 with the greeting in why when the filter answers; -1 with
   why not; 1 when it did not answer in time; -2: not probed (snapshot) */
int     ck_probe(CK *ck, const char *host, const char *port, VBUF *why)
{
    VBUF   *line, *err;
    NETIO  *io;
    int     ret = -1;

    if (ck->opts->snapshot)
        return pr_snapshot(ck, ck_fmt(ck, strchr(host, ':') ? "[%s]:%s " : "%s:%s ", host, port),
                           "220", why);
    err = vbuf_alloc(4096);
    line = vbuf_alloc(PR_LINE_MAX + 1);
    if ((io = netio_connect(ck_fmt(ck, "[%s]:%s", host, port), CK_PROBE_TIME, err)) == NULL) {
        vbuf_strcpy(why, strstr(vbuf_str(err), "refused") ? "nothing listens (connection refused)"
                    : vbuf_str(err));
        goto out;
    }
    netio_set_timeout(io, 20);
    netio_set_deadline(io, CK_PROBE_TIME);
    if (pr_reply(io, line) < 0) {
        vbuf_strcpy(why, "greeting: no reply");
    } else if (strncmp(vbuf_str(line), "220", 3) != 0) {
        vbuf_sprintf(why, "greeting: %s", pr_printable(ck, line));
    } else {
        vbuf_strcpy(why, pr_printable(ck, line));
        netio_printf(io, "EHLO %s\r\n", *ck_main(ck, "myhostname") ? ck_main(ck, "myhostname")
                     : "localhost");
        if (netio_flush(io) < 0 || pr_reply(io, line) < 0) {
            vbuf_strcpy(why, "EHLO reply: no reply");
        } else if (strncmp(vbuf_str(line), "250", 3) != 0) {
            vbuf_sprintf(why, "EHLO reply: %s", pr_printable(ck, line));
        } else {
            ret = 0;
            netio_puts(io, "QUIT\r\n");
            if (netio_flush(io) == 0)
                (void)pr_reply(io, line);
        }
    }
    if (ret < 0 && netio_errkind(io) == NETIO_TIMEOUT)
        ret = 1;
    netio_close(io);
out:
    vbuf_free(line);
    vbuf_free(err);
    return ret;
}

/* pr_put32 - a 32-bit number in network order */
static void pr_put32(unsigned char *p, unsigned long v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* pr_get32 - a 32-bit number in network order */
static unsigned long pr_get32(const unsigned char *p)
{
    return ((unsigned long)p[0] << 24) | ((unsigned long)p[1] << 16)
        | ((unsigned long)p[2] << 8) | p[3];
}

/* pr_read_full - exactly len bytes; -1 on EOF, error or time-out */
static int pr_read_full(NETIO *io, unsigned char *buf, size_t len)
{
    ssize_t n;
    size_t  got;

    for (got = 0; got < len; got += (size_t)n)
        if ((n = netio_read(io, buf + got, len - got)) <= 0)
            return -1;
    return 0;
}

/* pr_optneg - the OPTNEG exchange on a connected milter; 0 with what it
   answered in why, -1 with why not */
static int pr_optneg(NETIO *io, VBUF *why)
{
    unsigned char pkt[17], hdr[5], body[12], skip[512];
    unsigned long len, n;

    pr_put32(pkt, 13);
    pkt[4] = PR_SMFIC_OPTNEG;
    pr_put32(pkt + 5, PR_SMFI_VERSION);
    pr_put32(pkt + 9, PR_SMFIF_ALL);
    pr_put32(pkt + 13, PR_SMFIP_ALL);
    if (netio_write(io, pkt, sizeof(pkt)) < 0 || netio_flush(io) < 0
        || pr_read_full(io, hdr, sizeof(hdr)) < 0) {
        vbuf_strcpy(why, "no answer to SMFIC_OPTNEG");
        return -1;
    }
    len = pr_get32(hdr);
    if (hdr[4] != PR_SMFIC_OPTNEG || len < 13 || len > PR_MILTER_MAX) {
        vbuf_sprintf(why, "answered SMFIC_OPTNEG with command 0x%02x, length %lu, not OPTNEG "
                     "(not a milter?)", hdr[4], len);
        return -1;
    }
    if (pr_read_full(io, body, sizeof(body)) < 0) {
        vbuf_strcpy(why, "OPTNEG reply cut short");
        return -1;
    }
    for (len -= 13; len > 0; len -= n)          /* macro lists: not needed */
        if (pr_read_full(io, skip, n = len < sizeof(skip) ? len : sizeof(skip)) < 0)
            break;
    vbuf_sprintf(why, "OPTNEG version %lu, actions 0x%lx, protocol 0x%lx",
                 pr_get32(body), pr_get32(body + 4), pr_get32(body + 8));
    pkt[4] = PR_SMFIC_QUIT;
    pr_put32(pkt, 1);
    (void)netio_write(io, pkt, 5);
    (void)netio_flush(io);
    return 0;
}

/* pr_connect - a probe's connection to target, with seconds for the
 * whole exchange; NULL with why (and *ret: 1 a time-out, -1 otherwise)
 * when nothing answers */
static NETIO *pr_connect(const char *target, int seconds, VBUF *why, int *ret)
{
    VBUF   *err = vbuf_alloc(4096);
    NETIO  *io;

    if ((io = netio_connect(target, seconds, err)) == NULL) {
        if (strstr(vbuf_str(err), "refused"))
            vbuf_strcpy(why, "nothing listens (connection refused)");
        else if (strstr(vbuf_str(err), "No such file"))
            vbuf_sprintf(why, "no socket %s (No such file or directory)", target + 5);
        else
            vbuf_strcpy(why, vbuf_str(err));
        *ret = strstr(vbuf_str(why), "timed out") ? 1 : -1;
    } else {
        netio_set_timeout(io, seconds);
        netio_set_deadline(io, seconds);
    }
    vbuf_free(err);
    return io;
}

/* ck_milter_probe - 0 with the OPTNEG reply in why when the milter addr
   (connected as target: "inet:host:port" or "unix:/path") answers; -1
   with why not; 1 when it did not answer in time; -2: not probed */
int     ck_milter_probe(CK *ck, const char *addr, const char *target, VBUF *why)
{
    NETIO  *io;
    int     ret;

    if (ck->opts->snapshot)
        return pr_snapshot(ck, ck_fmt(ck, "%s ", addr), "OPTNEG", why);
    if ((io = pr_connect(target, CK_MILTER_TIME, why, &ret)) == NULL)
        return ret;
    if ((ret = pr_optneg(io, why)) < 0 && netio_errkind(io) == NETIO_TIMEOUT)
        ret = 1;
    netio_close(io);
    return ret;
}

/* pr_policy - one policy request on io; 0 with the answer in why */
static int pr_policy(CK *ck, NETIO *io, VBUF *why)
{
    VBUF   *line = vbuf_alloc(PR_LINE_MAX + 1);
    int     ret = -1;

    netio_puts(io, "request=smtpd_access_policy\nprotocol_state=CONNECT\n"
               "protocol_name=SMTP\nclient_address=127.0.0.1\nclient_name=localhost\n"
               "reverse_client_name=localhost\ninstance=postsift.check\n\n");
    if (netio_flush(io) < 0 || netio_read_line(io, line, PR_LINE_MAX, NULL) < 0) {
        vbuf_strcpy(why, netio_errkind(io) == NETIO_TIMEOUT ? "timeout" : "no answer");
    } else if (strncmp(vbuf_str(line), "action=", 7) != 0) {
        vbuf_sprintf(why, "answer: %s", pr_printable(ck, line));
    } else {
        vbuf_strcpy(why, pr_printable(ck, line));
        ret = 0;
    }
    vbuf_free(line);
    return ret;
}

/* ck_policy_probe - 0 with the answer ("action=...") in why when the
   policy service addr (connected as target: "[host]:port" or
   "unix:/path") answers a request; -1 with why not; 1 when it did not
   answer in time; -2: not probed */
int     ck_policy_probe(CK *ck, const char *addr, const char *target, VBUF *why)
{
    NETIO  *io;
    int     ret;

    if (ck->opts->snapshot)
        return pr_snapshot(ck, ck_fmt(ck, "%s ", addr), "action=", why);
    if ((io = pr_connect(target, CK_POLICY_TIME, why, &ret)) == NULL)
        return ret;
    if ((ret = pr_policy(ck, io, why)) < 0 && strcmp(vbuf_str(why), "timeout") == 0)
        ret = 1;
    netio_close(io);
    return ret;
}
