/*++
postsift-smtpcli(1)
NAME
    postsift-smtpcli - send a message file by SMTP or LMTP
SYNOPSIS
    postsift-smtpcli [-v] [-L] [-a] [-U] [-t timeout] [-H helo] [-f sender]
        [-r rcpt [-N notify] [-O orcpt]]... [-R FULL|HDRS] [-E envid]
        [-B 7BIT|8BITMIME] [-X attr=value]... [-n count] -s target FILE|-
    postsift-smtpcli --version
DESCRIPTION
    postsift-smtpcli sends one message, read from FILE or from standard
    input (-), to an SMTP or LMTP server with the given envelope, using the
    same client code as postsift-filter and postsift-reinject. It is meant
    for tests, benchmarks and injecting a message by hand, for example into
    the reinjection smtpd on [127.0.0.1]:10026 or into postsift-filter on
    [127.0.0.1]:10025.

    The client reads the greeting, sends EHLO (HELO when EHLO is refused
    with 5xx; LHLO with -L), and then XFORWARD with the attributes given by
    -X that the server offers, MAIL FROM and one RCPT TO per recipient.
    MAIL and RCPT are pipelined when the server offers PIPELINING. ESMTP
    parameters are sent only when the server announces the extension:
    SIZE (the file size), BODY (8BITMIME), SMTPUTF8, and with DSN, RET,
    ENVID, NOTIFY and ORCPT. DATA is sent only after the recipient
    replies are in. The message is sent with every bare CR and bare LF
    turned into CRLF and leading dots doubled, so that no bare line end
    reaches the server.

    Every server reply line is printed on standard output as "<<< line";
    with -v the commands sent are printed as ">>> line" as well (the
    message body is not). The last line of output is a summary: "queued as
    ID" with the queue id from the server's final reply, "accepted: reply"
    when the reply carries no queue id, or "failed: reason".
OPTIONS
    -s target
        Where to connect: [host]:port, host:port, inet:host:port,
        [::1]:port, unix:/path or /path. A missing port means 25. This
        option is required.
    -f sender
        The envelope sender; the default, and an empty string, is the null
        sender.
    -r rcpt
        A recipient; repeat for more. At least one is required. The
        address is given without angle brackets.
    -N notify
        DSN NOTIFY for the recipient of the preceding -r: NEVER, or a
        comma list of SUCCESS, FAILURE and DELAY.
    -O orcpt
        DSN ORCPT for the recipient of the preceding -r: an address, sent
        as rfc822;address, or type;value. The value is sent as xtext.
    -R FULL|HDRS
        DSN RET: return the full message or only its headers.
    -E envid
        DSN ENVID, sent as xtext.
    -B 7BIT|8BITMIME
        MAIL FROM BODY= parameter.
    -U
        Ask for SMTPUTF8.
    -X attr=value
        An XFORWARD attribute: NAME, ADDR, PORT, PROTO, HELO, IDENT or
        SOURCE (in any case). Repeat for more. Only the attributes that
        the server lists in its XFORWARD keyword are sent.
    -H helo
        The EHLO name; the default is the host name.
    -t timeout
        Seconds allowed for the connection and for each command, 1 to
        86400; the default is 300.
    -L
        Speak LMTP: LHLO, and one reply per accepted recipient after the
        message.
    -a
        All or nothing: when any recipient is refused, send RSET instead
        of the message.
    -n count
        Send the same message count times in one session (for benchmarks),
        1 to 10000000. The summary then gives the rate, "(N of COUNT
        messages sent in S s, R msg/s)". Sending stops at the first
        failure.
    -v
        Print the commands sent as well. Twice: also log protocol detail on
        standard error.
    --version
        As the first argument: print "postsift-smtpcli VERSION" and exit 0.

    A message read from standard input that is not a regular file is
    kept in memory, at most 256 MB; a larger one is an error (75).
EXIT STATUS
    0
        The server accepted the message for every recipient.
    69
        The server refused it permanently (5xx): in its greeting or to
        EHLO/LHLO, at MAIL FROM, for every recipient, or at the end of data, or some recipients were refused
        with 5xx while the others got the message.
    75
        Anything else: a usage error (a bad -t or -n value included), a
        file that cannot be read, a connection failure or timeout, a 4xx
        reply, or (with -a) a partial refusal.
SEE ALSO
    postsift(7), postsift-reinject(8), postsift-filter(8)
--*/

/*
 * postsift-smtpcli - main program; the protocol is in smtpcli.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/exitpolicy.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/progstart.h"
#include "lib/vbuf.h"
#include "smtpcli/smtpcli.h"

#define STDIN_MESSAGE_CAP   (256 * 1024 * 1024)

static int verbose;

/* usage - say how, and give up (75: a usage error is never a bounce) */
static PS_NORETURN void usage(void)
{
    fprintf(stderr,
            "usage: postsift-smtpcli [-v] [-L] [-a] [-U] [-t timeout] [-H helo] [-f sender]\n"
            "           [-r rcpt [-N notify] [-O orcpt]]... [-R FULL|HDRS] [-E envid]\n"
            "           [-B 7BIT|8BITMIME] [-X attr=value]... [-n count] -s target FILE|-\n");
    exit(EXIT_TEMPFAIL);
}

/* trace - print a reply line, and with -v a command line */
static void trace(void *ctx, int dir, const char *line)
{
    char buf[SMTP_LINE_MAX + 1];

    (void)ctx;
    if (dir == '>' && !verbose)
        return;
    printf("%s %s\n", dir == '>' ? ">>>" : "<<<", msg_printable(buf, sizeof(buf), line));
}

/* reply_desc - "550 5.1.1 text" on one line, or our own text for code 0 */
static const char *reply_desc(const SMTP_REPLY *r, VBUF *out)
{
    VBUF *one = vbuf_alloc(0);
    char buf[4096];

    msg_printable(buf, sizeof(buf), smtp_reply_one_line(r, one));
    if (r->code)
        vbuf_sprintf(out, "%d %s", r->code, buf);
    else
        vbuf_strcpy(out, buf);
    vbuf_free(one);
    return vbuf_str(out);
}

/* read_stdin - all of standard input, for a source that can be read again */
static VBUF *read_stdin(void)
{
    VBUF *vb = vbuf_alloc(STDIN_MESSAGE_CAP);
    char buf[65536];
    ssize_t n;

    for (;;) {
        n = read(STDIN_FILENO, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            msg_fatal("read standard input: %s", strerror(errno));
        if (n == 0)
            return vb;
        if (vbuf_append(vb, buf, (size_t)n) < 0)
            msg_fatal("standard input: message larger than %d bytes", STDIN_MESSAGE_CAP);
    }
}

/* worst_rcpt_status - exit status for the refused recipients */
static int worst_rcpt_status(const SMTP_RESULT *res, const SMTP_ENVELOPE *env,
                             VBUF *why, VBUF *tmp)
{
    int i, status = EXIT_DONE, first = 1;

    for (i = 0; i < res->nrcpt; i++) {
        int st = exit_status_for_code(res->rcpt[i].code);

        if (st == EXIT_DONE)
            continue;
        if (st == EXIT_TEMPFAIL || status == EXIT_DONE)
            status = st;
        if (first) {
            vbuf_sprintf_append(why, "<%s>: %s", env->rcpt[i].addr, reply_desc(&res->rcpt[i], tmp));
            first = 0;
        }
    }
    return status;
}

/* CLI_ARGS - what the command line asks for */
typedef struct CLI_ARGS {
    SMTPCLI_OPTS opts;
    SMTP_ENVELOPE env;
    const char *target;     /* -s */
    const char *path;       /* FILE or - */
    int         aon;        /* -a: all or nothing */
    int         count;      /* -n: messages per session */
} CLI_ARGS;

/* envelope_option - one envelope option into env; 0 when ch is not one */
static int envelope_option(SMTP_ENVELOPE *env, int ch, char *arg, VBUF *why)
{
    switch (ch) {
    case 'U':
        env->smtputf8 = 1;
        break;
    case 'f':
        env->sender = arg;
        break;
    case 'r':
        env->rcpt = myrealloc(env->rcpt, (size_t)(env->nrcpt + 1) * sizeof(SMTP_RCPT));
        memset(&env->rcpt[env->nrcpt], 0, sizeof(SMTP_RCPT));
        env->rcpt[env->nrcpt++].addr = arg;
        break;
    case 'N':
        if (env->nrcpt == 0)
            msg_fatal("-N must follow the -r it applies to");
        env->rcpt[env->nrcpt - 1].notify = arg;
        break;
    case 'O':
        if (env->nrcpt == 0)
            msg_fatal("-O must follow the -r it applies to");
        if (envelope_orcpt_option(env, env->nrcpt - 1, arg, why) < 0)
            msg_fatal("-O: %s", vbuf_str(why));
        break;
    case 'R':
        if (strcasecmp(arg, "FULL") != 0 && strcasecmp(arg, "HDRS") != 0)
            msg_fatal("-R %s: expected FULL or HDRS", arg);
        env->ret = arg;
        break;
    case 'E':
        env->envid = arg;
        break;
    case 'B':
        if (strcasecmp(arg, "7BIT") != 0 && strcasecmp(arg, "8BITMIME") != 0)
            msg_fatal("-B %s: expected 7BIT or 8BITMIME", arg);
        env->body = arg;
        break;
    case 'X':
        if (envelope_xforward_option(env, arg, ENVELOPE_EMPTY_UNAVAILABLE, why) < 0)
            msg_fatal("%s", vbuf_str(why));
        break;
    default:
        return 0;
    }
    return 1;
}

/* parse_args - the command line into args, or usage() */
static void parse_args(CLI_ARGS *args, int argc, char **argv, VBUF *why)
{
    int     ch;
    long    val;
    char   *end;

    while ((ch = getopt(argc, argv, "vLaUt:H:f:r:N:O:R:E:B:X:n:s:")) != -1) {
        if (envelope_option(&args->env, ch, optarg, why))
            continue;
        switch (ch) {
        case 'v':
            verbose++;
            if (verbose > 1)
                msg_verbose++;
            break;
        case 'L':
            args->opts.lmtp = 1;
            break;
        case 'a':
            args->aon = 1;
            break;
        case 't':
            val = strtol(optarg, &end, 10);
            if (*optarg == 0 || *end || val < 1 || val > 86400)
                msg_fatal("-t %s: expected seconds from 1 to 86400", optarg);
            args->opts.timeout = (int)val;
            break;
        case 'H':
            args->opts.helo = optarg;
            break;
        case 'n':
            val = strtol(optarg, &end, 10);
            if (*optarg == 0 || *end || val < 1 || val > 10000000)
                msg_fatal("-n %s: expected a count from 1 to 10000000", optarg);
            args->count = (int)val;
            break;
        case 's':
            args->target = optarg;
            break;
        default:
            usage();
        }
    }
    if (args->target == NULL || args->env.nrcpt == 0 || argc - optind != 1)
        usage();
    args->path = argv[optind];
}

/* open_message - the message as a source that can be read again: a file
 * read with pread, or standard input kept in memory (returned) */
static VBUF *open_message(const char *path, SMTP_ENVELOPE *env, SMTP_FD_SOURCE *src, int *fd)
{
    VBUF   *stdin_msg;
    struct stat st;

    memset(src, 0, sizeof(*src));
    if (strcmp(path, "-") == 0 && !(fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode))) {
        stdin_msg = read_stdin();
        src->prefix = vbuf_str(stdin_msg);
        src->prefix_len = vbuf_len(stdin_msg);
        src->fd = -1;
        env->size = (long long)vbuf_len(stdin_msg);
        return stdin_msg;
    }
    if (strcmp(path, "-") == 0)
        *fd = STDIN_FILENO;
    else if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        msg_fatal("open %s: %s", path, strerror(errno));
    if (fstat(*fd, &st) < 0)
        msg_fatal("fstat %s: %s", path, strerror(errno));
    src->fd = *fd;
    env->size = (long long)st.st_size;
    return NULL;
}

/* send_all - the message count times, stopping at the first failure;
 * the result of the last smtpcli_send() */
static int send_all(SMTPCLI *cli, const CLI_ARGS *args, SMTP_FD_SOURCE *src,
                    SMTP_RESULT *res, int *nsent)
{
    int     i, rc = 0;

    for (i = 0; i < args->count; i++) {
        src->prefix_off = 0;
        src->off = 0;
        rc = smtpcli_send(cli, &args->env, args->aon, smtp_fd_source_read, src, res);
        if (rc == 0)
            (*nsent)++;
        if (rc < 0 || res->naccepted < res->nrcpt)
            break;
    }
    return rc;
}

/* summarize - the summary line of the last message sent; the exit status */
static int summarize(VBUF *line, int rc, const SMTP_RESULT *res,
                     const SMTP_ENVELOPE *env, VBUF *why, VBUF *tmp)
{
    VBUF   *qid = vbuf_alloc(0);
    int     status;

    vbuf_reset(line);
    if (rc == 0) {
        status = worst_rcpt_status(res, env, why, tmp);
        if (*smtp_queue_id(&res->data, qid))
            vbuf_sprintf(line, "queued as %s", vbuf_str(qid));
        else
            vbuf_sprintf(line, "accepted: %s", reply_desc(&res->data, tmp));
        if (status != EXIT_DONE)
            vbuf_sprintf_append(line, " for %d of %d recipients; refused %s",
                                res->naccepted, res->nrcpt, vbuf_str(why));
    } else if (res->mail.code / 100 != 2) {
        status = exit_status_for_code(res->mail.code);
        vbuf_sprintf(line, "failed: MAIL FROM:<%s>: %s", env->sender, reply_desc(&res->mail, tmp));
    } else if (res->naccepted < res->nrcpt) {
        status = worst_rcpt_status(res, env, why, tmp);
        if (res->naccepted > 0)
            status = EXIT_TEMPFAIL;     /* some were accepted: never a bounce */
        vbuf_sprintf(line, "failed: %s%s", res->naccepted > 0 ?
                     "nothing sent, recipient refused: " : "every recipient refused: ",
                     vbuf_str(why));
    } else {
        status = exit_status_for_code(res->data.code);
        if (status == EXIT_DONE)
            status = EXIT_TEMPFAIL;
        vbuf_sprintf(line, "failed: %s", reply_desc(&res->data, tmp));
    }
    vbuf_free(qid);
    return status;
}

/* append_rate - with -n: how many were sent, and how fast */
static void append_rate(VBUF *line, int nsent, int count, struct timespec t0, struct timespec t1)
{
    double  secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

    vbuf_sprintf_append(line, " (%d of %d messages sent in %.3f s, %.1f msg/s)",
                        nsent, count, secs, secs > 0 ? nsent / secs : 0.0);
}

/* main - parse, connect, send, report */
int main(int argc, char **argv)
{
    CLI_ARGS args = {.opts = {.helo = NULL, .timeout = 300, .deadline = 0, .lmtp = 0},
                     .count = 1};
    SMTP_FD_SOURCE src;
    SMTP_RESULT res;
    SMTP_REPLY reply;
    SMTPCLI *cli;
    VBUF   *why, *tmp, *line, *stdin_msg;
    struct timespec t0, t1;
    int     nsent = 0, status, fd = -1, rc;

    prog_hygiene();
    prog_version(argc, argv, "postsift-smtpcli");
    msg_init(argv[0], MSG_STDERR);
    args.env.sender = "";
    why = vbuf_alloc(0);
    parse_args(&args, argc, argv, why);
    setvbuf(stdout, NULL, _IOLBF, 0);
    stdin_msg = open_message(args.path, &args.env, &src, &fd);

    smtpcli_set_trace(trace, NULL);
    tmp = vbuf_alloc(0);
    line = vbuf_alloc(0);
    smtp_reply_init(&reply);
    smtp_result_init(&res);

    t0 = clock_now();
    if ((cli = smtpcli_open(args.target, &args.opts, &reply)) == NULL) {
        printf("failed: %s\n", reply_desc(&reply, tmp));
        exit(exit_status_for_code(reply.code));
    }
    rc = send_all(cli, &args, &src, &res, &nsent);
    t1 = clock_now();
    status = summarize(line, rc, &res, &args.env, why, tmp);
    if (args.count > 1)
        append_rate(line, nsent, args.count, t0, t1);
    smtpcli_quit(cli);
    printf("%s\n", vbuf_str(line));

    smtp_result_free(&res);
    smtp_reply_free(&reply);
    vbuf_free(why);
    vbuf_free(tmp);
    vbuf_free(line);
    vbuf_free(stdin_msg);
    myfree(args.env.rcpt);
    if (fd > STDIN_FILENO)
        close(fd);
    exit(status);
}
