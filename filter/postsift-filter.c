/*++
postsift-filter(8)
NAME
    postsift-filter - scan mail for Postfix and pass, tag, reject, discard, quarantine or defer it
SYNOPSIS
    postsift-filter -m pipe [-v] [-c config] [-o name=value]... [-q queue_id]
        [-X attr=value]... [-O orcpt]... -f sender -- recipient...
    postsift-filter -m smtpd [-d [-F]] [-v] [-c config] [-o name=value]...
    postsift-filter [-c config] [-o name=value]... -n [-a]
DESCRIPTION
    postsift-filter is the content filter of the postsift toolkit. In pipe
    mode it is run by Postfix's pipe(8) delivery agent as the FILTER_README
    simple design's filter: the message arrives on standard input, the
    envelope on the command line.

    The message is first copied to an anonymous file in spool_dir. GMime
    parses that file; every leaf part, nested messages included, is decoded
    and inspected: its file name (RFC 2047 and RFC 2231 decoded) and its
    true type (libmagic) against the banned rules, its content against the
    malware scanner (libclamav in the process, or clamd servers). When the
    MIME structure is ambiguous, the raw message is scanned as well, by
    libclamav's own mail parser.

    The worst finding is the verdict: error, infected, banned, rejected,
    unchecked or clean. The *_action settings map each verdict to an
    action. pass and tag send the message back to Postfix (reinject_target:
    SMTP to [127.0.0.1]:10026 by default, or sendmail) with an
    X-Virus-Scanned header and, when tagged, X-Virus-Status; no other byte
    of the message changes. reject makes pipe(8) bounce the message with
    5.7.1; discard drops it; quarantine stores it in quarantine_dir, from
    where postsift-reinject --release sends it on; defer makes Postfix try
    again later.

    In smtpd mode postsift-filter is an SMTP server for the FILTER_README
    advanced design (a Postfix smtp transport, usually "scan", delivers to
    it on 127.0.0.1:10025) and for SMTPD_PROXY_README's before-queue
    smtpd_proxy_filter. MAIL and RCPT are relayed in lock-step to
    reinject_target, so that recipient replies come from the real Postfix;
    DATA is spooled, ending only at <CRLF>.<CRLF>, inspected exactly as in
    pipe mode, and on pass or tag streamed on; the downstream's final reply
    goes back to the client. A policy reject is 554 5.7.1 (before the
    queue it reaches the remote client, so nothing bounces), discard and
    quarantine are a 250 that says so, anything else is 451: never 5xx
    for our own failures. Without -d it serves one session on standard
    input and output, as spawn(8) runs it; standard error is then the
    socket, and nothing is ever written there. With -d it is a daemon: it
    binds smtpd_listen, loads the scanner once, drops to daemon_user and
    serves through smtpd_workers worker processes (see DAEMON below).

    One line is logged per message, with the Postfix queue id (in smtpd
    mode from XFORWARD IDENT, and the client from XFORWARD NAME/ADDR):
    QUEUE_ID: [client=NAME[ADDR], ]from=<sender>, to=<recipient>, size=N,
    verdict=V, action=A, detail="...", queued_as=ID, delay=S, status=...
OPTIONS
    -m pipe
        Pipe mode: the simple design, run by pipe(8).
    -m smtpd
        SMTP server mode: one session on stdin/stdout (spawn(8)), or with
        -d the daemon.
    -d
        With -m smtpd: run as the daemon.
    -F
        With -d: stay in the foreground (systemd Type=simple, tests); log
        to stderr as well when it is a terminal.
    -c config
        Read settings from this file instead of /etc/postsift/postsift.conf.
    -o name=value
        Override one setting; may be repeated, so one master.cf service can
        tune itself.
    -n
        Print the settings that differ from their defaults and exit; with
        -a, print all settings.
    -f sender
        The envelope sender (pipe(8): -f ${sender}, with null_sender= so that
        the null sender arrives as an empty string).
    -q queue_id
        The Postfix queue id (pipe(8): ${queue_id}), logged and passed on as
        XFORWARD IDENT.
    -X attr=value
        Client attributes for XFORWARD on SMTP reinjection: addr, name,
        helo, proto (pipe(8): ${client_address}, ${client_hostname},
        ${client_helo}, ${client_protocol}). Empty values are ignored.
    -O orcpt
        The original recipient of the n-th recipient, passed on as ORCPT
        (rfc822; is added when the value has no address type). pipe(8):
        -O=${original_recipient}, which pipe(8) repeats once per recipient;
        a leading = is dropped, and an empty value sends no ORCPT.
    -v
        Log each part inspected; repeat for more.
EXIT STATUS
    pipe(8) defers mail only on exit status 75 and bounces it on every
    other non-zero status, so postsift-filter uses exactly three:
    0
        Reinjected, or deliberately discarded or quarantined.
    69
        The policy says reject, or the reinjection smtpd refused the message
        with 5xx. pipe(8) bounces the message with the first line of output.
    75
        Anything else: a bad configuration or usage, a full or unwritable
        spool, a scanner that cannot be loaded or answer, pipe_deadline
        passed, a 4xx or no answer from the reinjection smtpd, a partial
        refusal of the recipients, an envelope address longer than 16384
        bytes (4.1.7 or 4.1.3; shorter ones are relayed exactly as they
        came, however far past RFC 5321's 256 octets). Postfix keeps the
        message and retries.
    The daemon exits 0 after a drain and 75 when it cannot start (bad
    settings, an address it cannot bind, another daemon on the pid file,
    a scanner that cannot be loaded).
DAEMON
    Started as root, the daemon binds every smtpd_listen address, writes
    and locks smtpd_pid_file, drops to daemon_user and only then loads the
    scanner; started as another user, daemon_user must name that user.
    smtpd_workers processes forked after the load share the engine; each
    serves smtpd_max_sessions sessions and is replaced. Signals:
    SIGTERM, SIGINT
        Drain: no new sessions; idle sessions get 421 at once, a
        transaction in progress is finished first; then exit 0.
    SIGHUP
        Reload the settings and the signatures. The new engine is loaded
        beside the old one while the old workers keep serving; new workers
        start on it, then the old ones finish their sessions and exit. No
        connection is refused meanwhile. A bad configuration or a failed
        load keeps the old ones. A change of the signature directory,
        checked every signature_check_interval, does the same.
    smtpd_listen, daemon_user and smtpd_pid_file need a restart.
DIAGNOSTICS
    The first line on standard output is an enhanced status code and a
    reason; pipe(8) puts it in the delivery status and the DSN. That holds
    for usage errors too: nothing is written to standard error first (the
    synopsis goes there only when it is a terminal). Problems are logged to
    syslog (facility mail, ident postsift/filter) or to log_file.
SECURITY
    postsift-filter refuses to run as root: pipe(8) runs it as the user= of
    the master.cf entry. spool_dir and quarantine_dir are 0700, files 0600,
    and spool files have no name at all (O_TMPFILE, or unlinked at once), so
    nothing is left behind even when the process is killed. libclamav
    insists on a directory for what it decodes: each process gives it one
    of its own in spool_dir (clamtmp-RANDOM), locked while the process
    lives and removed when it is done; one left by a process that was
    killed (pipe_deadline, pipe(8)'s time limit) is removed by the next
    process that starts, never one whose process still runs. The daemon,
    started as root, opens log_file and smtpd_pid_file only when they are
    what they seem (a regular file with one link, not a symbolic link,
    owned by root or daemon_user, in a directory not writable by
    everyone), and hands to daemon_user only a log_file it created
    itself. Envelope data never reaches a shell. pipe(8) does not pass
    NOTIFY or RET, so they cannot be relayed in pipe mode; smtpd mode
    relays every ESMTP parameter. The daemon never serves as root, and
    spawn mode refuses root like pipe mode.
SEE ALSO
    postsift(7), postsift.conf(5), postsift-reinject(8), postsift-postfix(8),
    pipe(8), FILTER_README
--*/

/*
 * postsift-filter - main program: options, then the pipe-mode flow
 * (capture, decide, act, exit status), or the smtpd mode (smtpd.c for a
 * session, daemon.c for the daemon). The scanning lives in inspect.c and
 * decide.c, shared by both modes.
 */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "scan/banned.h"
#include "filter/daemon.h"
#include "scan/decide.h"
#include "scan/inspect.h"
#include "scan/logline.h"
#include "filter/smtpd.h"
#include "scan/verdict.h"
#include "lib/config.h"
#include "lib/exitpolicy.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/progstart.h"
#include "lib/spool.h"
#include "lib/quarantine.h"
#include "reinject/reinject.h"

#define USAGE "usage: postsift-filter -m pipe [-v] [-c config] [-o name=value]... " \
    "[-q queue_id] [-X attr=value]... [-O orcpt]... -f sender -- recipient... | " \
    "postsift-filter -m smtpd [-d [-F]] [-v] [-c config] [-o name=value]..."

typedef struct PIPE_ARGS {
    const char *sender;
    const char *queue_id;
    char *const *rcpts;
    int         nrcpt;
    const char **orcpts;
    int         norcpt;
    const char *xf_addr, *xf_name, *xf_helo, *xf_proto;
} PIPE_ARGS;

static struct timespec start_time;

/* elapsed - seconds since start */
static double elapsed(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start_time.tv_sec) + (now.tv_nsec - start_time.tv_nsec) / 1e9;
}

/* usage - a usage error is a temporary failure, never a bounce; the
 * first line of output is the 4.x.x line that pipe(8) reads, and the
 * synopsis goes to a person's terminal only */
static void usage(const char *why)
{
    if (why)
        msg_warn("%s", why);
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "%s\n", USAGE);
    exit_with(EXIT_TEMPFAIL, "4.3.5", "postsift-filter: %s", why ? why : USAGE);
}

/* option_error - getopt's complaint in our words: opterr is 0, because
 * getopt's own text on stderr would be the first line pipe(8) sees */
static void option_error(int ch)
{
    char    text[64];

    if (optopt > 0 && optopt < 256 && isprint(optopt))
        snprintf(text, sizeof(text), "%s -%c", ch == ':' ? "missing value for option"
                 : "unknown option", optopt);
    else
        snprintf(text, sizeof(text), "unknown option (byte 0x%02X)", (unsigned)(optopt & 0xff));
    usage(text);
}

/* deadline_handler - pipe_deadline passed: tell pipe(8) to retry */
static void deadline_handler(int sig)
{
    static const char text[] = "4.4.7 postsift-filter: pipe_deadline exceeded, will retry\n";

    (void)sig;
    (void)!write(STDOUT_FILENO, text, sizeof(text) - 1);
    _exit(EXIT_TEMPFAIL);
}

/* capture - stdin to the spool; all of it is read, whatever happens */
static int capture(int fd, long limit, int keep_oversize, long long *size, int *eightbit,
                   int *oversize, VBUF *err)
{
    char buf[65536];
    int writing = 1, ret = 0;
    ssize_t n, i;

    *size = 0;
    *eightbit = 0;
    *oversize = 0;
    for (;;) {
        n = read(STDIN_FILENO, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            vbuf_sprintf(err, "read message from stdin: %s", strerror(errno));
            return -1;
        }
        if (n == 0)
            break;
        *size += n;
        if (limit > 0 && *size > limit && !*oversize) {
            *oversize = 1;
            writing = keep_oversize;
        }
        for (i = 0; i < n && !*eightbit; i++)
            if (buf[i] & 0x80)
                *eightbit = 1;
        if (writing && ret == 0) {
            for (char *p = buf; n > 0;) {
                ssize_t w = write(fd, p, (size_t)n);

                if (w < 0 && errno == EINTR)
                    continue;
                if (w <= 0) {
                    /* Keep reading: pipe(8) must see us consume it all. */
                    vbuf_sprintf(err, "write to spool: %s", strerror(errno));
                    ret = -1;
                    break;
                }
                p += w;
                n -= w;
            }
        }
    }
    return ret;
}

/* has_utf8 - any non-ASCII byte in the envelope */
static int has_utf8(const PIPE_ARGS *pa)
{
    const char *s;
    int i;

    for (s = pa->sender; *s; s++)
        if (*s & 0x80)
            return 1;
    for (i = 0; i < pa->nrcpt; i++)
        for (s = pa->rcpts[i]; *s; s++)
            if (*s & 0x80)
                return 1;
    return 0;
}

/* log_result - the one line per message (logline.h, shared with smtpd) */
static void log_result(const PIPE_ARGS *pa, long long size, const DECISION *d,
                       const char *queued_as, const char *status, const char *why)
{
    LOGLINE ll;

    memset(&ll, 0, sizeof(ll));
    ll.queue_id = pa->queue_id;
    ll.sender = pa->sender;
    ll.rcpt = (const char *const *)pa->rcpts;
    ll.nrcpt = pa->nrcpt;
    ll.size = size;
    ll.verdict = d->verdict;
    ll.action = d->action;
    ll.detail = vbuf_str(d->detail);
    ll.queued_as = queued_as;
    ll.delay = elapsed();
    ll.status = status;
    ll.why = why;
    logline_log(&ll);
}

/* too_long - an envelope address we cannot relay as it came: retry */
PS_NORETURN static void too_long(const PIPE_ARGS *pa, const char *dsn, const char *what,
                                 const char *addr)
{
    msg_warn("%s: %s too long to relay (%zu bytes, at most %d)",
             pa->queue_id ? pa->queue_id : "NOQUEUE", what, strlen(addr), SMTP_ADDRESS_MAX);
    exit_with(EXIT_TEMPFAIL, dsn, "postsift-filter: %s too long (%zu bytes, at most %d)",
              what, strlen(addr), SMTP_ADDRESS_MAX);
}

/* pipe_envelope - the envelope as Postfix wants to see it again; an
 * address too long to relay exactly as it came is a temporary failure
 * (never the null sender, never a shortened address) */
static void pipe_envelope(const PIPE_ARGS *pa, SMTP_ENVELOPE *env)
{
    VBUF   *buf;
    int     i;

    memset(env, 0, sizeof(*env));
    buf = vbuf_alloc(REINJECT_ADDRESS_BUF);
    if ((env->sender = reinject_address(pa->sender, buf)) == NULL)
        too_long(pa, "4.1.7", "sender address", pa->sender);
    env->nrcpt = pa->nrcpt;
    env->rcpt = mycalloc((size_t)pa->nrcpt, sizeof(SMTP_RCPT));
    for (i = 0; i < pa->nrcpt; i++) {
        buf = vbuf_alloc(REINJECT_ADDRESS_BUF);
        if ((env->rcpt[i].addr = reinject_address(pa->rcpts[i], buf)) == NULL)
            too_long(pa, "4.1.3", "recipient address", pa->rcpts[i]);
        if (i < pa->norcpt && *pa->orcpts[i]) {
            if (strlen(pa->orcpts[i]) > SMTP_ADDRESS_MAX)
                too_long(pa, "4.1.3", "original recipient", pa->orcpts[i]);
            env->rcpt[i].orcpt = pa->orcpts[i];
        }
    }
    env->smtputf8 = has_utf8(pa);
    env->xf_addr = pa->xf_addr;
    env->xf_name = pa->xf_name;
    env->xf_helo = pa->xf_helo;
    env->xf_proto = pa->xf_proto;
    env->xf_ident = pa->queue_id;
}

/* pipe_mode - the whole life of one message under pipe(8) */
static void pipe_mode(const PIPE_ARGS *pa)
{
    VBUF *err = vbuf_alloc(4096);
    VBUF *id = vbuf_alloc(256);
    SMTP_ENVELOPE env;
    DECISION d;
    REINJECT_RESULT res;
    INSPECTOR *in = NULL;
    ACTION oversize_action = action_for_oversize();
    long long size;
    int fd, eightbit, oversize, status, remaining;

    if (geteuid() == 0)
        exit_with(EXIT_TEMPFAIL, "4.3.5", "postsift-filter must not run as root; "
                  "set user= in the master.cf pipe entry");
    pipe_envelope(pa, &env);
    if (var_pipe_deadline > 0) {
        signal(SIGALRM, deadline_handler);
        alarm((unsigned)var_pipe_deadline);
    }
    if (spool_dir_check(var_spool_dir, err) < 0 || (fd = spool_create(var_spool_dir, err)) < 0) {
        msg_warn("%s", vbuf_str(err));
        exit_with(EXIT_TEMPFAIL, "4.3.0", "postsift-filter: %s", vbuf_str(err));
    }
    if (capture(fd, var_message_size_limit,
                oversize_action == ACTION_PASS || oversize_action == ACTION_TAG
                || oversize_action == ACTION_QUARANTINE,
                &size, &eightbit, &oversize, err) < 0) {
        msg_warn("%s: %s", pa->queue_id ? pa->queue_id : "NOQUEUE", vbuf_str(err));
        exit_with(EXIT_TEMPFAIL, "4.3.0", "postsift-filter: %s", vbuf_str(err));
    }

    decision_init(&d);
    if (!oversize && (in = inspector_open(err)) == NULL)
        msg_warn("%s", vbuf_str(err));
    decide_message(in, vbuf_str(err), fd, oversize, &d);
    if (d.verdict == VERDICT_ERROR)
        msg_warn("%s: %s", pa->queue_id ? pa->queue_id : "NOQUEUE", vbuf_str(d.detail));

    env.body = eightbit ? "8BITMIME" : NULL;
    env.size = size + (long long)vbuf_len(d.prefix);

    switch (d.action) {
    case ACTION_PASS:
    case ACTION_TAG:
        reinject_result_init(&res);
        remaining = var_pipe_deadline > 0 ? (int)(var_pipe_deadline - elapsed()) : 0;
        status = reinject_message(var_reinject_target, &env, vbuf_str(d.prefix),
                                  vbuf_len(d.prefix), d.fd, 0, remaining > 0 ? remaining : 1, &res);
        log_result(pa, size, &d, vbuf_str(res.queue_id),
                   status == EXIT_DONE ? "sent" : status == EXIT_REFUSED ? "bounced" : "deferred",
                   vbuf_str(res.text));
        exit_with(status, res.dsn, "%s", vbuf_str(res.text));
    case ACTION_REJECT:
        log_result(pa, size, &d, NULL, "bounced", "rejected by policy");
        exit_with(EXIT_REFUSED, "5.7.1", "message content rejected: %s: %s",
                  verdict_names[d.verdict], vbuf_str(d.detail));
    case ACTION_DISCARD:
        log_result(pa, size, &d, NULL, "discarded", "dropped by policy");
        exit_with(EXIT_DONE, "2.0.0", "discarded: %s: %s", verdict_names[d.verdict],
                  vbuf_str(d.detail));
    case ACTION_QUARANTINE:
        if (quarantine_store(var_quarantine_dir, &env, fd, verdict_names[d.verdict],
                             vbuf_str(d.detail), pa->queue_id, id, err) < 0) {
            log_result(pa, size, &d, NULL, "deferred", vbuf_str(err));
            exit_with(EXIT_TEMPFAIL, "4.3.0", "quarantine failed: %s", vbuf_str(err));
        }
        log_result(pa, size, &d, vbuf_str(id), "quarantined", vbuf_str(id));
        exit_with(EXIT_DONE, "2.0.0", "quarantined as %s: %s: %s", vbuf_str(id),
                  verdict_names[d.verdict], vbuf_str(d.detail));
    case ACTION_DEFER:
    case ACTION_COUNT:
        break;
    }
    log_result(pa, size, &d, NULL, "deferred", "deferred by policy");
    exit_with(EXIT_TEMPFAIL, d.verdict == VERDICT_ERROR ? "4.3.0" : "4.7.1",
              "postsift-filter: %s: %s", verdict_names[d.verdict], vbuf_str(d.detail));
}

/* set_xforward - -X attr=value */
static void set_xforward(PIPE_ARGS *pa, const char *arg)
{
    const char *eq = strchr(arg, '=');
    const char *value = eq ? eq + 1 : "";
    size_t len = eq ? (size_t)(eq - arg) : 0;

    if (eq == NULL)
        usage("-X needs attr=value");
    if (*value == 0)
        return;
    if (len == 4 && strncmp(arg, "addr", 4) == 0)
        pa->xf_addr = value;
    else if (len == 4 && strncmp(arg, "name", 4) == 0)
        pa->xf_name = value;
    else if (len == 4 && strncmp(arg, "helo", 4) == 0)
        pa->xf_helo = value;
    else if (len == 5 && strncmp(arg, "proto", 5) == 0)
        pa->xf_proto = value;
    else
        usage("-X: unknown attribute (use addr, name, helo or proto)");
}

/* spawn_session - -m smtpd without -d: one SMTP session on stdin/stdout
 * (spawn(8)); stderr is the socket too, so nothing is written there */
static int spawn_session(void)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    char host[NI_MAXHOST] = "unknown", port[NI_MAXSERV] = "";
    SMTPD_PEER peer;
    INSPECTOR *in = NULL;
    VBUF *err = vbuf_alloc(4096);

    if (getpeername(STDIN_FILENO, (struct sockaddr *)&ss, &sslen) == 0)
        (void)getnameinfo((struct sockaddr *)&ss, sslen, host, sizeof(host), port,
                          sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV);
    peer.addr = host;
    peer.port = port;
    if (geteuid() == 0) {
        msg_warn("postsift-filter must not run as root; set user= in the master.cf spawn entry");
        vbuf_sprintf(err, "postsift-filter runs as root");
    } else if ((in = inspector_open(err)) == NULL) {
        msg_warn("%s", vbuf_str(err));
    }
    smtpd_session(STDIN_FILENO, STDOUT_FILENO, &peer, in, vbuf_str(err));
    inspector_close(in);
    vbuf_free(err);
    return 0;
}

int main(int argc, char **argv)
{
    PROG_OPTS po;
    PIPE_ARGS pa;
    VBUF *err;
    const char *mode = NULL;
    int ch, print_config = 0, print_all = 0, daemon_mode = 0, foreground = 0;
    int to_stderr = isatty(STDERR_FILENO);

    clock_gettime(CLOCK_MONOTONIC, &start_time);
    prog_hygiene();
    /* Under spawn(8) stderr is the socket: never log there unless it is
     * a terminal (a person trying the program by hand). */
    msg_init(argv[0], MSG_SYSLOG | (to_stderr ? MSG_STDERR : 0));
    msg_set_fatal_status(EXIT_TEMPFAIL);
    prog_opts_init(&po);
    memset(&pa, 0, sizeof(pa));
    err = vbuf_alloc(4096);

    opterr = 0;
    while ((ch = getopt(argc, argv, ":ac:dFf:m:no:q:vX:O:")) != -1) {
        switch (ch) {
        case 'a':
            print_all = 1;
            break;
        case 'c':
            prog_opts_config(&po, optarg);
            break;
        case 'd':
            daemon_mode = 1;
            break;
        case 'F':
            foreground = 1;
            break;
        case 'f':
            pa.sender = optarg;
            break;
        case 'm':
            mode = optarg;
            break;
        case 'n':
            print_config = 1;
            break;
        case 'o':
            prog_opts_override(&po, optarg);
            break;
        case 'q':
            pa.queue_id = optarg;
            break;
        case 'v':
            msg_verbose++;
            break;
        case 'X':
            set_xforward(&pa, optarg);
            break;
        case 'O':
            /* -O=${original_recipient}: pipe(8) repeats the argument once
             * per recipient; the '=' keeps an empty value from taking the
             * next argument as its own */
            pa.orcpts = myrealloc(pa.orcpts, (size_t)(pa.norcpt + 1) * sizeof(char *));
            pa.orcpts[pa.norcpt++] = optarg + (*optarg == '=');
            break;
        default:
            option_error(ch);
        }
    }
    if (prog_configure(&po, err) < 0) {
        msg_warn("configuration error: %s", vbuf_str(err));
        exit_with(EXIT_TEMPFAIL, "4.3.5", "postsift configuration error: %s", vbuf_str(err));
    }
    if (action_check(err) < 0 || banned_settings_check(err) < 0) {
        msg_warn("configuration error: %s", vbuf_str(err));
        exit_with(EXIT_TEMPFAIL, "4.3.5", "postsift configuration error: %s", vbuf_str(err));
    }
    if (print_config) {
        config_print(stdout, print_all);
        return 0;
    }
    if (mode == NULL)
        usage("missing -m pipe or -m smtpd");
    if (strcmp(mode, "smtpd") == 0) {
        int status = daemon_mode ? daemon_main(&po, foreground) : spawn_session();

        vbuf_free(err);
        prog_opts_free(&po);
        return status;
    }
    if (strcmp(mode, "pipe") != 0)
        usage("unknown mode (use -m pipe or -m smtpd)");
    if (daemon_mode || foreground)
        usage("-d and -F go with -m smtpd");
    if (pa.sender == NULL)
        usage("missing -f sender");
    if (optind >= argc)
        usage("missing recipients");
    pa.rcpts = &argv[optind];
    pa.nrcpt = argc - optind;
    pipe_mode(&pa);
    return EXIT_TEMPFAIL;
}
