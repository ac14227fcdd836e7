/*++
postsift-filter(8)
NAME
    postsift-filter - scan mail for Postfix and pass, tag, reject, discard, quarantine or defer it
SYNOPSIS
    postsift-filter -m pipe [-v] [-c config] [-o name=value]... [-q queue_id]
        [-X attr=value]... [-O orcpt]... -f sender -- recipient...
    postsift-filter -m smtpd [-d [-F]] [-v] [-c config] [-o name=value]...
    postsift-filter -m milter [-F] [-v] [-c config] [-o name=value]...
    postsift-filter -m scan [--json] [-v] [-c config] [-o name=value]... [FILE|-]...
    postsift-filter -m status [--json] [-c config] [-o name=value]...
    postsift-filter [-c config] [-o name=value]... -n [-a]
    postsift-filter --version
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

    The bounds of an smtpd mode session: a command line is at most 2048
    bytes (500 5.5.2 beyond), as in Postfix's smtpd, so an address that
    fits on one is taken; an address with a control character is
    refused (501 5.1.7 for the sender, 501 5.1.3 for a recipient); a message takes at most 1000
    recipients (452 4.5.3 for the others, which Postfix sends again in
    another transaction); the 20th protocol error ends the session (421
    4.7.0; see smtpd_junk_command_limit); smtpd_timeout and
    smtpd_session_deadline passed give 421 4.4.2 and close, and
    smtpd_data_done_timeout passed gives 451 4.4.7 for the message.

    In smtpd mode the session may also be LMTP (RFC 2033), so that
    Postfix's lmtp(8) client can be the scan transport (content_filter =
    scan:inet:[127.0.0.1]:10025 with master.cf "scan unix - - n - 10
    lmtp"; postsift-postfix install advanced --lmtp writes both). A
    client that greets with LHLO gets the same extensions as with EHLO,
    and the session is LMTP from then on: EHLO and HELO are answered 500,
    as LHLO is in an SMTP session. MAIL and RCPT are answered by the
    filter itself; the envelope goes to reinject_target (by SMTP) only
    after the message was inspected, and the final "." gets one reply per
    recipient, in RCPT order: a recipient the reinjection smtpd refused
    gets that refusal (so Postfix bounces or defers that recipient
    alone), the others get the reinjection smtpd's reply to the message.
    reject, discard, quarantine and defer give every recipient the same
    reply; a failure of the filter or of the whole downstream transaction
    is a 451 for every recipient, never a 5xx. DATA without an accepted
    recipient is 503 in LMTP. The reinjection itself is always SMTP. In
    an LMTP session a recipient refused downstream while others were
    accepted is logged on a line of its own, "QUEUE_ID: to=<recipient>,
    refused by TARGET: CODE TEXT", and the message's line ends with "N of
    M recipients refused downstream".

    In milter mode postsift-filter is a daemon that Postfix's smtpd_milters
    (and non_smtpd_milters) talk to with the milter protocol, version 6,
    before the message is queued (see MILTER below).

    One line is logged per message, with the Postfix queue id (in smtpd
    mode from XFORWARD IDENT, and the client from XFORWARD NAME/ADDR; in
    milter mode from the {i} macro and the connect information):
    QUEUE_ID: verdict=V, action=A, status=STATUS (why), detail="...",
    queued_as=ID, delay=S, size=N, [client=NAME[ADDR], ]from=<sender>,
    to=<r1>,<r2>,<r3> (+N more)
    QUEUE_ID is NOQUEUE when there is none, queued_as and status are "-"
    when there is nothing to say, and delay is in seconds with two
    decimals. status is sent (handed back to Postfix), discarded,
    quarantined (the quarantine id in parentheses), deferred, bounced
    (pipe mode: a reject, or a 5xx from the reinjection smtpd; pipe(8)
    bounces the message), rejected (smtpd and milter modes: a 5xx given
    to the client) or held (milter mode, quarantine_method = hold).
    What matters comes first; detail= is there when there is one, quoted
    (\" and \\ escaped, control characters as \xHH). The recipient list
    ends the line: at most three recipients are named, then "(+N more)"
    counts the others, and each field has a bound (the detail 500 bytes,
    an address 300, a recipient 256: longer ones end in "..."), so that
    the line never passes 2000 bytes and the 2048 bytes of a log line
    never cut it.
    With clamav_database_directory = bundled (the test signatures only)
    every line also says scanner=test-signatures after the detail.

    In scan mode postsift-filter inspects messages given by hand and
    says what it found, delivering nothing (see HAND TEST below).
OPTIONS
    -m pipe
        Pipe mode: the simple design, run by pipe(8).
    -m smtpd
        SMTP server mode: one session on stdin/stdout (spawn(8)), or with
        -d the daemon.
    -m milter
        Milter mode: always a daemon (see MILTER).
    -m scan
        Hand test: inspect each FILE (or standard input, named - or when
        no FILE is given) and print what was found; see HAND TEST.
    -m status
        Print the counters of metrics_file; see COUNTERS.
    --json
        With -m scan: one JSON object per message instead of text. With
        -m status: one JSON object instead of the table.
    -d
        With -m smtpd: run as the daemon (-m milter always is one).
    -F
        With -d or -m milter: stay in the foreground (systemd Type=simple, tests); log
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
        helo, proto, port, source or ident, in any case (pipe(8):
        ${client_address}, ${client_hostname}, ${client_helo},
        ${client_protocol}, ${client_port}). Empty values are ignored; -q
        wins over -X ident.
    -O orcpt
        The original recipient of the n-th recipient, passed on as ORCPT
        (rfc822; is added when the value has no address type). pipe(8):
        -O=${original_recipient}, which pipe(8) repeats once per recipient;
        a leading = is dropped, and an empty value sends no ORCPT.
    -v
        Log each part inspected; repeat for more.
    --version
        As the first argument: print "postsift-filter VERSION" and exit 0.
HAND TEST
    postsift-filter -m scan [--json] [FILE|-]... inspects each message
    exactly as delivery would: the same settings (-c, -o), the same copy
    to a spool file, message_size_limit, the loop check, the MIME walk,
    the banned rules, the malware scanner and the command scanners (which
    get an empty envelope), and the same *_action settings. Then it
    prints, per message, one line per part, FILE: KIND PATH: name="...",
    declared=TYPE, type=TYPE, size=N, finding=VERDICT["words"], and one
    line for the message, FILE: verdict=V, action=A, size=N, parts=N[,
    detail="..."]; for example "eicar.eml: part 2: name="eicar.com",
    declared=application/octet-stream, type=text/plain, size=68,
    finding=infected "Eicar-Test-Signature in part 2 \"eicar.com\""".
    Standard input is named stdin. A part is named by its IMAP part number (1, 2,
    2.1 for the first part of a message attached as part 2), and is a
    part, a preamble or epilogue that says more than "This is a
    multi-part message", or "names" for a part beyond mime_max_parts, of
    which only the file names are checked; type is the true type
    (libmagic); finding is the worst finding in that part, with its
    words. What concerns the whole message (ambiguous MIME, the raw
    scan, a command scanner's answer, the size limit) is in the verdict
    line only. A message that cannot be read gives "FILE: error: why".

    With --json each message is one JSON object on one line: file, size,
    verdict, action, detail, virus and parts, an array of objects with
    part, kind, name, declared, type, size, finding and detail (bytes
    that are not UTF-8 become U+FFFD); a message that cannot be read is
    {"file": ..., "verdict": null, "error": ...}.

    Nothing is delivered, quarantined, reinjected or logged to the mail
    log: warnings (and with -v the part-by-part debugging) go to standard
    error, and the spool is a private directory made under $TMPDIR (or
    /tmp) and removed at the end, whatever spool_dir says. It runs as
    any user, root included (a hand test need not be postsift's user;
    rather not root, as for anything that parses hostile mail). The
    scanner is loaded once for all the files.
COUNTERS
    Every process of postsift-filter adds to the counters in one file,
    metrics_file (empty: metrics in the directory above spool_dir,
    /var/spool/postsift/metrics by default), mapped by all of them and
    updated with atomic additions, without locks: pipe mode, the workers
    of the smtpd daemon and of the milter, smtpd under spawn(8). Counted
    where the log line is written, so the counts and the log agree:
    messages and bytes by design (pipe, smtpd, spawn, lmtp, milter) and
    verdict; actions by design; the scan time (a histogram with
    Prometheus's buckets, 5 ms to 10 s); deferrals by cause (scanner,
    spool, timeout, downstream, other); reinjections of pass and tag
    (sent, refused, deferred; not in milter mode, where Postfix keeps the
    message); reloads (ok, failed); the loaded signatures (count,
    version, age of the newest database); and the busy and idle workers
    of each daemon. The file is made at the first count (mode 0600); one
    that cannot be opened is warned about once and nothing is counted;
    mail is never delayed for it. Processes running as root count
    nothing.

    The design of a message is where it came in: pipe is pipe mode;
    smtpd is the smtpd daemon (-m smtpd -d), which serves the advanced
    design and the before-queue proxy alike, so both count as smtpd;
    spawn is -m smtpd under spawn(8) (install spawn, or before-queue
    --spawn); lmtp is an LMTP session of either; milter is the milter.

    postsift-filter -m status prints them as a table (--json: one JSON
    object); it only reads the file, as any user that may. Exit status
    0, or 2 when there is no counter file to read or the output cannot
    be written.

    With metrics_listen set (for example 127.0.0.1:9135), the smtpd and
    milter daemons serve the same counters at http://metrics_listen/metrics
    in the Prometheus text format (version 0.0.4, names starting with
    postsift_), from a helper process of the daemon that runs as
    daemon_user, is started again when it dies and stops with the
    daemon. Only GET /metrics is answered (another path: 404, another
    method: 405; 503 while the counter file cannot be read). A helper
    that cannot listen logs "metrics_listen = ADDRESS: cannot listen" and
    tries again a minute later. A change of metrics_listen takes a
    restart, not a reload. The metrics:

        postsift_messages_total{design,verdict}
        postsift_message_bytes_total{design,verdict}
        postsift_actions_total{design,action}
        postsift_scan_duration_seconds (histogram: _bucket{le}, _sum, _count)
        postsift_tempfails_total{cause}
        postsift_reinjections_total{result}
        postsift_reloads_total{result}
        postsift_signatures
        postsift_signature_version
        postsift_signature_age_seconds (absent while the age is unknown)
        postsift_workers{design,state}

    design is pipe, smtpd, spawn, lmtp or milter (postsift_workers:
    smtpd or milter), verdict clean, unchecked, rejected, banned,
    infected or error, action pass, tag, reject, discard, quarantine or
    defer, cause scanner, spool, timeout, downstream or other, result
    sent, refused or deferred (reloads: ok or failed), state busy or
    idle.
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

    -m scan uses clamdscan's statuses instead, over all the messages:
    0
        Every message is clean.
    1
        A finding: some message is infected, banned, rejected (a command
        scanner refused it) or unchecked (encrypted, beyond a limit,
        ambiguous MIME, over message_size_limit: delivery would not call
        it clean either), and no error happened.
    2
        An error: a message that could not be read, verdict error (the
        scanner could not be loaded or failed, a MIME error, a mail
        loop), a bad option or setting. 2 wins over 1, since a message
        went unjudged.
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
    SIGUSR2
        Open log_file again by name (logrotate's postrotate, after it
        renamed the file): the master at once, logging "log file reopened
        (SIGUSR2)", each worker before its next line. Nothing is reloaded.
    smtpd_listen, daemon_user and smtpd_pid_file need a restart. Under
    systemd (Type=notify, -F) the master tells the service manager READY=1
    once the signatures are loaded and the workers are forked, RELOADING=1
    and READY=1 around a reload, and STOPPING=1 when it drains; without
    NOTIFY_SOCKET nothing is sent. The milter daemon does the same.

    Socket activation: when a service manager passes listening sockets
    (LISTEN_PID names this process, LISTEN_FDS counts the sockets from
    descriptor 3, as systemd's .socket units do), the daemon serves on
    them and does not bind smtpd_listen; it logs that it does so.
MILTER
    postsift-filter -m milter serves milter_listen (Postfix's syntax:
    inet:host:port, inet6:host:port or unix:/path; default
    inet:127.0.0.1:10027) and is the daemon of DAEMON above with the
    milter_ settings: milter_workers processes (Postfix keeps one milter
    connection per SMTP session, so count one per concurrent session),
    milter_max_sessions sessions each, milter_pid_file, and
    milter_timeout for each packet from Postfix. SIGHUP and a change of
    the signatures reload without refusing a connection, as above. In
    main.cf:
        smtpd_milters = inet:127.0.0.1:10027
        milter_default_action = tempfail
        milter_protocol = 6
    milter_default_action = tempfail makes Postfix answer 4xx while the
    milter is down or breaks off, so mail waits instead of passing
    unscanned. Postfix's milter_content_timeout (300s) must be longer
    than a scan takes (clamav_max_scantime, command_timeout).

    Headers and body are spooled as Postfix passes them and inspected at
    the end of the message, exactly as in the other modes. Then:
    pass, tag
        X-Virus-Scanned (and X-Virus-Status when tagged) are added with
        the milter's header requests; X-Virus-Scanned and X-Virus-Status
        headers that came with the message are renamed
        X-Untrusted-X-Virus-Scanned and X-Untrusted-X-Virus-Status
        (deleted and added back under that name, so they move to the end
        of the header); nothing else of the message changes. A command
        scanner's replacement message cannot be applied by a milter: it is
        not used, with a warning.
    reject
        554 5.7.1 (or a command scanner's own 5xx) with the reason, given
        by Postfix to the SMTP client at the end of DATA: nothing bounces.
    discard
        Postfix accepts the message and drops it (milter-discard).
    quarantine
        quarantine_method = hold puts the message in Postfix's hold queue
        (milter-hold; the reason is in our log line, status=held);
        postsuper -H QUEUEID releases it. quarantine_method = store (the
        default) keeps it in quarantine_dir, as the other modes do, and
        Postfix discards it; postsift-reinject --release ID sends it on.
        The pipe and smtpd modes cannot hold: with hold they warn once
        and store.
    defer, and every failure of ours
        451 4.x.x (a scanner error, a full spool, too many recipients): a
        milter failure is never a 5xx.

    Local submission: put the milter in non_smtpd_milters as well to scan
    mail from sendmail(1) and postdrop (the pickup service). There is no
    SMTP client to give a reject to: cleanup(8) refuses the message and
    sendmail(1) reports the error to the local submitter (or the mail
    bounces to the sender when submitted from a script that does not
    look); a milter that is down makes milter_default_action apply to
    local mail too (tempfail: postdrop keeps the message and pickup
    tries again). Mail reinjected by a content filter must not pass the
    milter again: use receive_override_options=no_milters on that smtpd.

DIAGNOSTICS
    The first line on standard output is an enhanced status code and a
    reason; pipe(8) puts it in the delivery status and the DSN. That holds
    for usage errors too: nothing is written to standard error first (the
    synopsis goes there only when it is a terminal). Problems are logged to
    syslog (facility mail, ident postsift/filter) or to log_file.
SECURITY
    postsift-filter refuses to run as root: pipe(8) runs it as the user= of
    the master.cf entry (-m scan, which delivers nothing, runs as anyone). spool_dir and quarantine_dir are 0700, files 0600,
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
 * postsift-filter - main program: the options, then the mode: pipe.c for
 * pipe mode, smtpd.c for one SMTP session (spawn(8)), daemon.c for the
 * daemons (smtpd.c or milter.c for each session). The scanning lives in scan/, shared by every mode, and what
 * each decision means for a mode in outcome.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filter/counters.h"
#include "filter/daemon.h"
#include "filter/outcome.h"
#include "filter/pipe.h"
#include "filter/scanmode.h"
#include "filter/smtpd.h"
#include "scan/banned.h"
#include "scan/verdict.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/envelope.h"
#include "lib/exitpolicy.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/progstart.h"

#define USAGE "usage: postsift-filter -m pipe [-v] [-c config] [-o name=value]... " \
    "[-q queue_id] [-X attr=value]... [-O orcpt]... -f sender -- recipient... | " \
    "postsift-filter -m smtpd [-d [-F]] [-v] [-c config] [-o name=value]... | " \
    "postsift-filter -m milter [-F] [-v] [-c config] [-o name=value]... | " \
    "postsift-filter -m scan [--json] [-v] [-c config] [-o name=value]... [FILE|-]... | " \
    "postsift-filter -m status [--json] [-c config] [-o name=value]..."

typedef struct FILTER_OPTS {
    PROG_OPTS po;
    PIPE_ARGS pa;
    const char *mode;
    int     print_config, print_all, daemon_mode, foreground, json;
} FILTER_OPTS;

static int scan_mode;               /* -m scan: errors exit 2, on stderr */
static int status_mode;             /* -m status: the same */

/* usage - a usage error is a temporary failure, never a bounce; the
 * first line of output is the 4.x.x line that pipe(8) reads, and the
 * synopsis goes to a person's terminal only */
PS_NORETURN static void usage(const char *why)
{
    if (scan_mode || status_mode) {
        fprintf(stderr, "postsift-filter: %s\n%s\n", why ? why : "usage", USAGE);
        scanmode_cleanup();
        exit(SCANMODE_ERROR);
    }
    if (why)
        msg_warn("%s", why);
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "%s\n", USAGE);
    exit_with(EXIT_TEMPFAIL, "4.3.5", "postsift-filter: %s", why ? why : USAGE);
}

/* option_error - getopt's complaint in our words: opterr is 0, because
 * getopt's own text on stderr would be the first line pipe(8) sees */
PS_NORETURN static void option_error(int ch)
{
    char    text[64];

    if (optopt > 0 && optopt < 256 && isprint(optopt))
        snprintf(text, sizeof(text), "%s -%c", ch == ':' ? "missing value for option"
                 : "unknown option", optopt);
    else
        snprintf(text, sizeof(text), "unknown option (byte 0x%02X)", (unsigned)(optopt & 0xff));
    usage(text);
}

/* option_envelope - -f, -q, -X and -O: the pipe-mode envelope; 0 when
 * ch is none of them */
static int option_envelope(PIPE_ARGS *pa, int ch, const char *arg, VBUF *err)
{
    switch (ch) {
    case 'f':
        pa->sender = arg;
        return 1;
    case 'q':
        pa->queue_id = arg;
        return 1;
    case 'X':
        if (envelope_xforward_option(&pa->xforward, arg, 0, err) < 0)
            usage(vbuf_str(err));
        return 1;
    case 'O':
        /* -O=${original_recipient}: pipe(8) repeats the argument once
         * per recipient; envelope_orcpt_option() reads each */
        pa->orcpts = myrealloc(pa->orcpts, (size_t)(pa->norcpt + 1) * sizeof(char *));
        pa->orcpts[pa->norcpt++] = arg;
        return 1;
    default:
        return 0;
    }
}

/* parse_options - the command line into fo; optind is left at the
 * first recipient */
static void parse_options(FILTER_OPTS *fo, int argc, char **argv, VBUF *err)
{
    int     ch;

    opterr = 0;
    while ((ch = getopt(argc, argv, ":ac:dFf:m:no:q:vX:O:")) != -1) {
        if (option_envelope(&fo->pa, ch, optarg, err))
            continue;
        switch (ch) {
        case 'a':
            fo->print_all = 1;
            break;
        case 'c':
            prog_opts_config(&fo->po, optarg);
            break;
        case 'd':
            fo->daemon_mode = 1;
            break;
        case 'F':
            fo->foreground = 1;
            break;
        case 'm':
            fo->mode = optarg;
            break;
        case 'n':
            fo->print_config = 1;
            break;
        case 'o':
            prog_opts_override(&fo->po, optarg);
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            option_error(ch);
        }
    }
}

/* configure - the settings, checked; a bad one is a temporary failure
 * (in -m scan an error, status 2) */
static void configure(FILTER_OPTS *fo, VBUF *err)
{
    if (prog_configure(&fo->po, err) < 0 || action_check(err) < 0
        || banned_settings_check(err) < 0 || outcome_method_check(err) < 0) {
        if (scan_mode || status_mode)
            usage(vbuf_str(err));
        msg_warn("configuration error: %s", vbuf_str(err));
        exit_with(EXIT_TEMPFAIL, "4.3.5", "postsift configuration error: %s", vbuf_str(err));
    }
}

/* scan_options - -m scan or (status) -m status: --json (getopt knows no
 * long options) taken out of argv, for -m scan the private spool set up
 * before the settings are read */
static void scan_options(FILTER_OPTS *fo, int *argc, char **argv, int status, VBUF *err)
{
    int     i, j;

    scan_mode = !status;
    status_mode = status;
    msg_set_flags(MSG_STDERR);          /* a person's command: no mail log */
    msg_set_fatal_status(SCANMODE_ERROR);
    msg_set_cleanup(scanmode_cleanup);
    for (i = j = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            while (i < *argc)
                argv[j++] = argv[i++];
            break;
        }
        if (strcmp(argv[i], "--json") == 0)
            fo->json = 1;
        else
            argv[j++] = argv[i];
    }
    argv[j] = NULL;
    *argc = j;
    if (scan_mode && scanmode_prepare(&fo->po, err) < 0)
        usage(vbuf_str(err));
}

/* mode_requested - -m mode among the arguments (before getopt) */
static int mode_requested(int argc, char **argv, const char *mode)
{
    int     i;

    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if ((strncmp(argv[i], "-m", 2) == 0 && strcmp(argv[i] + 2, mode) == 0)
            || (strcmp(argv[i], "-m") == 0 && i + 1 < argc && strcmp(argv[i + 1], mode) == 0))
            return 1;
    return 0;
}

/* status_main - -m status: nothing but -c and -o goes with it */
static int status_main(const FILTER_OPTS *fo, int argc)
{
    if (fo->daemon_mode || fo->foreground || fo->pa.sender || fo->pa.queue_id || optind < argc)
        usage("-m status takes only --json, -c and -o");
    return counters_status(fo->json);
}

int     main(int argc, char **argv)
{
    FILTER_OPTS fo;
    VBUF   *err;
    int     status;

    memset(&fo, 0, sizeof(fo));
    fo.pa.start = clock_now();
    prog_hygiene();
    prog_version(argc, argv, "postsift-filter");
    /* Under spawn(8) stderr is the socket: never log there unless it is
     * a terminal (a person trying the program by hand). */
    msg_init(argv[0], MSG_SYSLOG | (isatty(STDERR_FILENO) ? MSG_STDERR : 0));
    msg_set_fatal_status(EXIT_TEMPFAIL);
    prog_opts_init(&fo.po);
    err = vbuf_alloc(4096);

    if (mode_requested(argc, argv, "scan"))
        scan_options(&fo, &argc, argv, 0, err);
    else if (mode_requested(argc, argv, "status"))
        scan_options(&fo, &argc, argv, 1, err);
    parse_options(&fo, argc, argv, err);
    configure(&fo, err);
    if (fo.print_config) {
        scanmode_cleanup();
        config_print(stdout, fo.print_all);
        return 0;
    }
    if (fo.mode == NULL)
        usage("missing -m pipe, -m smtpd or -m milter");
    if (scan_mode != (strcmp(fo.mode, "scan") == 0)
        || status_mode != (strcmp(fo.mode, "status") == 0))
        usage("-m scan or -m status with another -m (write it on its own)");
    if (status_mode) {
        status = status_main(&fo, argc);
        vbuf_free(err);
        prog_opts_free(&fo.po);
        return status;
    }
    if (scan_mode) {
        if (fo.daemon_mode || fo.foreground || fo.pa.sender || fo.pa.queue_id)
            usage("-d, -F, -f and -q do not go with -m scan");
        status = scanmode_main(fo.json, &argv[optind], argc - optind);
        vbuf_free(err);
        prog_opts_free(&fo.po);
        return status;
    }
    if (strcmp(fo.mode, "smtpd") == 0 || strcmp(fo.mode, "milter") == 0) {
        if (strcmp(fo.mode, "milter") == 0)
            status = daemon_main(&fo.po, fo.foreground, DAEMON_MILTER);
        else if (fo.daemon_mode)
            status = daemon_main(&fo.po, fo.foreground, DAEMON_SMTPD);
        else
            status = smtpd_spawn_session();
        vbuf_free(err);
        prog_opts_free(&fo.po);
        return status;
    }
    if (strcmp(fo.mode, "pipe") != 0)
        usage("unknown mode (use -m pipe, -m smtpd, -m milter, -m scan or -m status)");
    if (fo.daemon_mode || fo.foreground)
        usage("-d and -F go with -m smtpd or -m milter");
    if (fo.pa.sender == NULL)
        usage("missing -f sender");
    if (optind >= argc)
        usage("missing recipients");
    fo.pa.rcpts = &argv[optind];
    fo.pa.nrcpt = argc - optind;
    pipe_mode(&fo.pa);
}
