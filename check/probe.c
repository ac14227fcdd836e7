/*
 * probe - does the filter answer: connect, a 220 greeting, EHLO, a 250
 * reply, QUIT; all within CK_PROBE_TIME seconds (lib/netio deadlines).
 *
 * With --snapshot nothing is contacted: the snapshot's file "probe" holds
 * one line per address, "HOST:PORT RESULT", where RESULT is the greeting
 * when the filter answered ("220 ..."), "timeout", or why it did not
 * ("nothing listens (connection refused)", "EHLO reply: 502 ...").
 */
#include <stdio.h>
#include <string.h>

#include "check/check.h"
#include "lib/netio.h"

#define PR_LINE_MAX 2048

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

/* pr_snapshot - the saved result for host:port; -2 when there is none */
static int pr_snapshot(CK *ck, const char *host, const char *port, VBUF *why)
{
    const char *key = ck_fmt(ck, strchr(host, ':') ? "[%s]:%s " : "%s:%s ", host, port);
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
            ret = strncmp(vbuf_str(why), "220", 3) == 0 ? 0 : -1;
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
        return pr_snapshot(ck, host, port, why);
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
