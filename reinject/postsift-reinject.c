/*++
postsift-reinject(8)
NAME
    postsift-reinject - hand a message back to Postfix, or release one from quarantine
SYNOPSIS
    postsift-reinject [-v] [-c config] [-o name=value]... [-q queue_id]
        [-X attr=value]... [-O orcpt]... -f sender -- recipient...
    postsift-reinject [-v] [-c config] [-o name=value]... --list [--json]
    postsift-reinject [-v] [-c config] [-o name=value]... --show id [--full]
    postsift-reinject [-v] [-c config] [-o name=value]... --release id
        [--force] [--to address]...
    postsift-reinject [-v] [-c config] [-o name=value]... --delete id...
    postsift-reinject [-v] [-c config] [-o name=value]... --expire days
    postsift-reinject --version
DESCRIPTION
    postsift-reinject reads a message on standard input and hands it back to
    Postfix with the given envelope, the way postsift-filter does after a
    scan. It is a drop-in for "sendmail -G -i -f sender -- recipient..." in
    any shell content filter of the FILTER_README simple design, with the
    exit status that pipe(8) needs: it never makes Postfix bounce a message
    by accident.

    By default the message goes by SMTP to the reinjection smtpd at
    [127.0.0.1]:10026 (setting reinject_target), with XFORWARD attributes
    when the server offers them, so Postfix logs the original client. With
    reinject_target = sendmail it runs sendmail_path (with -C
    sendmail_config_directory for a second Postfix instance) without a
    shell, in its own process group, under the deadline.

    All recipients are accepted, or none: when the reinjection smtpd
    refuses some recipients and accepts others, nothing is sent and the
    exit status is 75, so that Postfix retries the whole request.

    The other forms manage quarantine_dir, where postsift-filter keeps a
    message whose action is quarantine: one file per message, named by its
    id (the one in the log line, "status=quarantined (id)"), holding the
    envelope, the verdict and its detail, and the message as received.
    The time of an entry is the modification time of its file. Run them as
    the user that owns quarantine_dir (the filter user).
QUARANTINE
    An entry is stored under a temporary name, written, synced to disk
    with its directory, and only then renamed to its id and the message
    acknowledged; a full file system is a temporary failure and Postfix
    keeps the message.

    A release takes the entry first: it locks the file (flock) and renames
    it to id.releasing, so that two releases of one message, run at the
    same time, deliver it once; the loser exits 75 with "being released
    by another process". After Postfix has accepted the message the file
    is deleted; when the reinjection fails it is renamed back to id, and
    the exit status is the reinjection's.

    A release that is killed or crashes in the middle leaves id.releasing
    behind. --list shows it with state=stale (state=releasing while a
    live process holds it). The message may or may not have reached
    Postfix: look for "release id" in postsift's log (log_file, or the
    mail log): a "started" line followed by one with status=sent and
    queued_as means it did, and the queue id shows where it went. Then delete it, or send it
    again with --release id --force. A release never takes over a stale
    entry on its own, since that could deliver the message twice; no
    option takes over an entry that a live process holds. --delete and
    --expire remove a stale entry.
OPTIONS
    -c config
        Read settings from this file instead of /etc/postsift/postsift.conf.
    -o name=value
        Override one setting; may be repeated.
    -f sender
        The envelope sender; an empty string is the null sender.
    -q queue_id
        The Postfix queue id of the message (pipe(8)'s ${queue_id}), sent as
        XFORWARD IDENT and used in the log.
    -X attr=value
        An XFORWARD attribute to pass on: addr, name, helo, proto, port,
        source or ident, in any case (pipe(8)'s ${client_address},
        ${client_hostname}, ${client_helo}, ${client_protocol}). Empty
        values are ignored; -q wins over -X ident.
    -O orcpt
        The original recipient of the n-th recipient, for the n-th -O
        (pipe(8)'s -O=${original_recipient}: a leading = is dropped, and
        an empty value sends no ORCPT); sent as ORCPT when the server
        offers DSN.
    --list
        List the quarantine, one entry per line:

            id from=<sender> to=<rcpt>,<rcpt> verdict=infected
              detail="Eicar-Signature" time=2026-12-06T04:43:55+01:00
              size=1234 queue_id=4XyzAbc

        (on one line). time is when the message was quarantined, in ISO
        8601 local time; size is the message in bytes; queue_id is the
        Postfix queue id it had. More than three recipients are shortened
        to to="12 recipients: <a>, <b>, <c>, ...". An entry in the middle
        of a release ends with state=releasing, or state=stale when the
        release stopped (see QUARANTINE). Control bytes are shown as \xHH.
        Anything in quarantine_dir that is not a regular file in the
        quarantine format (a FIFO, a link, a file whose envelope has a key
        twice) is skipped with a warning. An empty quarantine prints
        "quarantine DIR is empty".
    --json
        With --list: one JSON object per line, with id, state (stored,
        releasing or stale), time, unixtime, size, verdict, detail,
        queue_id, sender and every recipient; nothing for an empty
        quarantine. Bytes above 127 are passed as they are.
    --show id
        Print the envelope (time, size, verdict, detail, queue id, sender,
        recipients with their ORCPT and NOTIFY, client) and the header of
        the message, control bytes shown as \xHH.
    --full
        With --show: print the whole message after the envelope, byte for
        byte as stored (pipe it to a pager or a file).
    --release id
        Send a quarantined message on to its original recipients, with an
        X-Postsift-Released header, and remove it from the quarantine.
    --to address
        With --release: send it to this address instead of the original
        recipients (no ORCPT, no NOTIFY); may be repeated.
    --force
        With --release: take over a stale id.releasing (see QUARANTINE).
    --delete id...
        Delete entries without sending them, stale ones included.
    --expire days
        Delete every entry quarantined more than days days ago (1 to
        36500), printing "expired " and its listing line for each. Entries
        held by a running release are left alone. Safe to run from cron as
        the owner of quarantine_dir, for example:

            17 3 * * * postsift-reinject --expire 30
    -v
        Log more; repeat for more still.
    --version
        As the first argument: print "postsift-reinject VERSION" and exit 0.
EXIT STATUS
    0
        The message was handed to Postfix (or released); the quarantine
        command did what it was asked.
    69
        The reinjection smtpd refused the message or every recipient with a
        5xx reply. The first line of output is its enhanced status code and
        text.
    75
        Anything else: a usage or configuration error, a connection
        failure, a 4xx reply, a partial refusal, a timeout, an envelope
        address longer than 16384 bytes (shorter ones are relayed exactly
        as they came). Postfix retries. The first line of output is always
        the "4.x.x text" line, usage errors included. For the quarantine
        commands: no such entry, an entry held by another release, a stale
        entry without --force, an entry that could not be deleted.
SECURITY
    Envelope data never reaches a shell. Messages are spooled in anonymous
    files in spool_dir (0700, files 0600, unlinked from the start).
    NOTIFY and RET cannot be relayed in pipe mode: pipe(8) does not pass
    them.
SEE ALSO
    postsift(7), postsift-filter(8), postsift.conf(5), pipe(8), sendmail(1)
--*/

/*
 * postsift-reinject - main program; the work is in reinject.c and
 * quarantine.c.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/envelope.h"
#include "lib/exitpolicy.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/progstart.h"
#include "lib/spool.h"
#include "lib/quarantine.h"
#include "reinject/reinject.h"

#define USAGE "usage: postsift-reinject [-v] [-c config] [-o name=value]... " \
    "[-q queue_id] [-X attr=value]... [-O orcpt]... -f sender -- recipient...\n" \
    "       postsift-reinject [options] --list [--json] | --show id [--full] | " \
    "--delete id... |\n" \
    "       --release id [--force] [--to address]... | --expire days"

/* Values of the long options: above any byte, so that getopt's optopt
 * tells a long option from a short one. */
#define OPT_RELEASE 256
#define OPT_LIST    257
#define OPT_JSON    258
#define OPT_SHOW    259
#define OPT_FULL    260
#define OPT_DELETE  261
#define OPT_TO      262
#define OPT_EXPIRE  263
#define OPT_FORCE   264

/* What the command line asks for */
typedef struct REINJECT_ARGS {
    const char *sender;
    const char *queue_id;
    const char **orcpts;
    int     norcpt;
    int     mode;           /* 0 (reinject stdin) or an OPT_ value */
    const char *id;         /* of --release, --show, --delete */
    const char *expire;     /* days */
    const char **to;        /* --to addresses */
    int     nto;
    int     json, full, force;
} REINJECT_ARGS;

/* usage - a usage error is a temporary failure: never bounce on our
 * mistake; the first line of output is the 4.x.x line that pipe(8)
 * reads, and the synopsis goes to a person's terminal only */
static void usage(const char *why)
{
    if (why)
        msg_warn("%s", why);
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "%s\n", USAGE);
    exit_with(EXIT_TEMPFAIL, "4.3.5", "postsift-reinject: %s", why ? why : USAGE);
}

/* option_error - getopt's complaint in our words: opterr is 0, because
 * getopt's own text on stderr would be the first line pipe(8) sees */
static void option_error(int ch, char **argv)
{
    char    text[128], shown[80];

    if (optopt > 0 && optopt < 256 && isprint(optopt)) {
        snprintf(text, sizeof(text), "%s -%c", ch == ':' ? "missing value for option"
                 : "unknown option", optopt);
    } else if ((optopt >= OPT_RELEASE && optopt <= OPT_FORCE) || optopt == 0) {
        /* a long option: getopt_long has stepped past it */
        msg_printable(shown, sizeof(shown), optind > 0 ? argv[optind - 1] : "");
        snprintf(text, sizeof(text), "%s %s", ch == ':' ? "missing value for option"
                 : "bad option", shown);
    } else {
        snprintf(text, sizeof(text), "unknown option (byte 0x%02X)", (unsigned)(optopt & 0xff));
    }
    usage(text);
}

/* release_envelope - the envelope of a release: the entry's, or the
 * same with the --to addresses as its recipients (no ORCPT, no NOTIFY) */
static void release_envelope(SMTP_ENVELOPE *env, const QUARANTINE_ENTRY *qe,
                             const REINJECT_ARGS *args)
{
    VBUF   *buf;
    int     i;

    *env = qe->env;
    if (args->nto == 0)
        return;
    env->nrcpt = args->nto;
    env->rcpt = mycalloc((size_t)args->nto, sizeof(SMTP_RCPT));
    for (i = 0; i < args->nto; i++) {
        buf = vbuf_alloc(REINJECT_ADDRESS_BUF);
        if (*args->to[i] == 0 || (env->rcpt[i].addr = reinject_address(args->to[i], buf)) == NULL)
            exit_with(EXIT_TEMPFAIL, "4.1.3", "postsift-reinject: bad --to address \"%.100s\"",
                      args->to[i]);
    }
}

/* release - take a quarantined message, send it on, then delete it; on
 * failure put it back and exit with the reinjection's status */
static int release(const REINJECT_ARGS *args)
{
    QUARANTINE_ENTRY qe;
    SMTP_ENVELOPE env;
    REINJECT_RESULT res;
    VBUF   *err = vbuf_alloc(4096);
    VBUF   *prefix = vbuf_alloc(4096);
    const char *id = args->id;
    int     status;

    if (quarantine_claim(var_quarantine_dir, id, args->force, &qe, err) != QUARANTINE_CLAIMED)
        exit_with(EXIT_TEMPFAIL, "4.3.0", "%s", vbuf_str(err));
    release_envelope(&env, &qe, args);
    quarantine_release_header(prefix, id, &qe);
    reinject_result_init(&res);
    msg_info("release %s: from=<%s>, nrcpt=%d%s, started", id, env.sender, env.nrcpt,
             args->nto ? " (--to)" : "");
    status = reinject_message(var_reinject_target, &env, vbuf_str(prefix), vbuf_len(prefix),
                              qe.fd, qe.body_offset, (int)var_reinject_timeout, &res);
    msg_info("release %s: from=<%s>, nrcpt=%d, status=%s, queued_as=%s, %s", id,
             env.sender, env.nrcpt, status == 0 ? "sent" : status == 69 ? "refused" : "deferred",
             *vbuf_str(res.queue_id) ? vbuf_str(res.queue_id) : "-", vbuf_str(res.text));
    if (status == EXIT_DONE) {
        printf("released %s to %d recipient%s%s%s\n", id, env.nrcpt,
               env.nrcpt == 1 ? "" : "s", *vbuf_str(res.queue_id) ? ", queued as " : "",
               vbuf_str(res.queue_id));
        if (quarantine_finish(var_quarantine_dir, id, &qe, err) < 0)
            msg_warn("%s", vbuf_str(err));
    } else {
        printf("%s %s\n", res.dsn, vbuf_str(res.text));
        if (quarantine_unclaim(var_quarantine_dir, id, &qe, err) < 0)
            msg_warn("%s", vbuf_str(err));
    }
    reinject_result_free(&res);
    vbuf_free(err);
    vbuf_free(prefix);
    return status;
}

/* LOG_ONLY - a log line that standard output already shows: to the log
 * alone, so that cron mails only what matters */
#define LOG_ONLY(call) do { int flags_ = msg_get_flags(); \
        msg_set_flags(flags_ & ~MSG_STDERR); call; msg_set_flags(flags_); } while (0)

/* list - one line per quarantined message */
static int list(int json)
{
    VBUF   *err = vbuf_alloc(4096);
    int     count;

    if ((count = quarantine_list(var_quarantine_dir, stdout, json ? QUARANTINE_LIST_JSON : 0,
                                 err)) < 0)
        exit_with(EXIT_TEMPFAIL, "4.3.0", "%s", vbuf_str(err));
    if (count == 0 && !json)
        printf("quarantine %s is empty\n", var_quarantine_dir);
    vbuf_free(err);
    return 0;
}

/* show - envelope and header (or the whole message) of one entry; an
 * entry being released is shown too */
static int show(const char *id, int full)
{
    QUARANTINE_ENTRY qe;
    VBUF   *err = vbuf_alloc(4096);
    int     rc;

    if (quarantine_open(var_quarantine_dir, id, &qe, err) < 0)
        exit_with(EXIT_TEMPFAIL, "4.3.0", "%s", vbuf_str(err));
    rc = quarantine_show(stdout, id, &qe, full);
    quarantine_close(&qe);
    if (rc < 0 || fflush(stdout) != 0)
        exit_with(EXIT_TEMPFAIL, "4.3.0", "cannot show %s: %s", id, strerror(errno));
    vbuf_free(err);
    return 0;
}

/* delete - the entries named on the command line */
static int delete(const char *first, char **more, int nmore)
{
    VBUF   *err = vbuf_alloc(4096);
    int     i, failed = 0;

    for (i = -1; i < nmore; i++) {
        const char *id = i < 0 ? first : more[i];

        if (quarantine_delete(var_quarantine_dir, id, err) < 0) {
            msg_warn("%s", vbuf_str(err));
            failed++;
        } else {
            LOG_ONLY(msg_info("delete %s: deleted from quarantine", id));
            printf("deleted %s\n", id);
        }
    }
    vbuf_free(err);
    if (failed)
        exit_with(EXIT_TEMPFAIL, "4.3.0", "%d of %d not deleted", failed, nmore + 1);
    return 0;
}

/* expire - delete what is older than days days */
static int expire(const char *days)
{
    VBUF   *err = vbuf_alloc(4096);
    char   *end;
    long    n;
    int     count;

    errno = 0;
    n = strtol(days, &end, 10);
    if (errno || end == days || *end || n < 1 || n > 36500)
        usage("--expire wants a number of days from 1 to 36500");
    if ((count = quarantine_expire(var_quarantine_dir, time(NULL) - (time_t)n * 86400,
                                   stdout, err)) < 0)
        exit_with(EXIT_TEMPFAIL, "4.3.0", "%s", vbuf_str(err));
    if (count > 0)
        LOG_ONLY(msg_info("expire: %d entr%s older than %ld days deleted", count,
                          count == 1 ? "y" : "ies", n));
    vbuf_free(err);
    return 0;
}

/* open_input - stdin itself when it is a file, else an anonymous spool copy */
static int open_input(VBUF *err)
{
    struct stat st;
    int fd;

    if (fstat(0, &st) == 0 && S_ISREG(st.st_mode))
        return 0;
    if (spool_dir_check(var_spool_dir, err) < 0
        || (fd = spool_create(var_spool_dir, err)) < 0) {
        /* A shell filter may run as a user without access to spool_dir. */
        const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

        msg_warn("%s; spooling in %s", vbuf_str(err), tmp);
        if ((fd = spool_create(tmp, err)) < 0)
            return -1;
    }
    if (spool_copy_fd(0, fd) < 0) {
        vbuf_sprintf(err, "cannot spool the message: %s", strerror(errno));
        return -1;
    }
    return fd;
}

/* envelope_addresses - sender, recipients and -O values into env. An
 * address too long to relay exactly as it came is a temporary failure:
 * never the null sender, never a shortened address. */
static void envelope_addresses(SMTP_ENVELOPE *env, const char *sender, char **rcpts, int nrcpt,
                               const char **orcpts, int norcpt, VBUF *err)
{
    VBUF   *buf;
    int     i;

    env->nrcpt = nrcpt;
    env->rcpt = mycalloc((size_t)nrcpt, sizeof(SMTP_RCPT));
    buf = vbuf_alloc(REINJECT_ADDRESS_BUF);
    if ((env->sender = reinject_address(sender, buf)) == NULL)
        exit_with(EXIT_TEMPFAIL, "4.1.7", "postsift-reinject: sender address too long "
                  "(%zu bytes, at most %d)", strlen(sender), SMTP_ADDRESS_MAX);
    for (i = 0; i < nrcpt; i++) {
        buf = vbuf_alloc(REINJECT_ADDRESS_BUF);
        if ((env->rcpt[i].addr = reinject_address(rcpts[i], buf)) == NULL)
            exit_with(EXIT_TEMPFAIL, "4.1.3", "postsift-reinject: recipient address too long "
                      "(%zu bytes, at most %d)", strlen(rcpts[i]), SMTP_ADDRESS_MAX);
        if (i < norcpt && envelope_orcpt_option(env, i, orcpts[i], err) < 0)
            exit_with(EXIT_TEMPFAIL, "4.1.3", "postsift-reinject: %s", vbuf_str(err));
    }
}

/* reinject_stdin - the message on stdin to env's recipients; log (the
 * sender as -f gave it), exit */
PS_NORETURN static void reinject_stdin(SMTP_ENVELOPE *env, const char *sender,
                                       const char *queue_id, VBUF *err)
{
    REINJECT_RESULT res;
    int     fd, status;

    if ((fd = open_input(err)) < 0)
        exit_with(EXIT_TEMPFAIL, "4.3.0", "%s", vbuf_str(err));
    env->size = spool_size(fd);

    reinject_result_init(&res);
    status = reinject_message(var_reinject_target, env, "", 0, fd, 0,
                              (int)var_reinject_timeout, &res);
    msg_info("%s: from=<%s>, nrcpt=%d, size=%lld, status=%s, queued_as=%s, %s",
             queue_id ? queue_id : "NOQUEUE", sender, env->nrcpt, env->size,
             status == 0 ? "sent" : status == 69 ? "refused" : "deferred",
             *vbuf_str(res.queue_id) ? vbuf_str(res.queue_id) : "-", vbuf_str(res.text));
    exit_with(status, res.dsn, "%s", vbuf_str(res.text));
}

/* set_mode - one action per command */
static void set_mode(REINJECT_ARGS *args, int mode)
{
    if (args->mode && args->mode != mode)
        usage("--list, --show, --release, --delete and --expire exclude each other");
    args->mode = mode;
}

/* parse_long - a long option into args */
static void parse_long(REINJECT_ARGS *args, int ch)
{
    switch (ch) {
    case OPT_RELEASE:
    case OPT_SHOW:
    case OPT_DELETE:
        set_mode(args, ch);
        args->id = optarg;
        break;
    case OPT_LIST:
        set_mode(args, ch);
        break;
    case OPT_EXPIRE:
        set_mode(args, ch);
        args->expire = optarg;
        break;
    case OPT_TO:
        args->to = myrealloc(args->to, (size_t)(args->nto + 1) * sizeof(char *));
        args->to[args->nto++] = optarg;
        break;
    case OPT_JSON:
        args->json = 1;
        break;
    case OPT_FULL:
        args->full = 1;
        break;
    case OPT_FORCE:
        args->force = 1;
        break;
    }
}

/* parse_args - the command line into args, po and env */
static void parse_args(int argc, char **argv, REINJECT_ARGS *args, PROG_OPTS *po,
                       SMTP_ENVELOPE *env, VBUF *err)
{
    static const struct option longopts[] = {
        {"release", required_argument, NULL, OPT_RELEASE},
        {"list", no_argument, NULL, OPT_LIST},
        {"json", no_argument, NULL, OPT_JSON},
        {"show", required_argument, NULL, OPT_SHOW},
        {"full", no_argument, NULL, OPT_FULL},
        {"delete", required_argument, NULL, OPT_DELETE},
        {"to", required_argument, NULL, OPT_TO},
        {"expire", required_argument, NULL, OPT_EXPIRE},
        {"force", no_argument, NULL, OPT_FORCE},
        {NULL, 0, NULL, 0},
    };
    int     ch;

    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":c:f:o:q:vX:O:", longopts, NULL)) != -1) {
        if (ch == 'c') {
            prog_opts_config(po, optarg);
        } else if (ch == 'o') {
            prog_opts_override(po, optarg);
        } else if (ch == 'f') {
            args->sender = optarg;
        } else if (ch == 'q') {
            args->queue_id = optarg;
        } else if (ch == 'v') {
            msg_verbose++;
        } else if (ch == 'X') {
            if (envelope_xforward_option(env, optarg, 0, err) < 0)
                usage(vbuf_str(err));
        } else if (ch == 'O') {
            args->orcpts = myrealloc(args->orcpts, (size_t)(args->norcpt + 1) * sizeof(char *));
            args->orcpts[args->norcpt++] = optarg;
        } else if (ch >= OPT_RELEASE && ch <= OPT_FORCE) {
            parse_long(args, ch);
        } else {
            option_error(ch, argv);
        }
    }
}

/* check_combination - options that belong to another action, or stray
 * operands, are usage errors rather than silently ignored */
static void check_combination(const REINJECT_ARGS *args, int nargs)
{
    if (args->json && args->mode != OPT_LIST)
        usage("--json goes with --list");
    if (args->full && args->mode != OPT_SHOW)
        usage("--full goes with --show");
    if ((args->nto || args->force) && args->mode != OPT_RELEASE)
        usage("--to and --force go with --release");
    if (args->mode && args->mode != OPT_DELETE && nargs > 0)
        usage("unexpected arguments after the options");
}

int main(int argc, char **argv)
{
    REINJECT_ARGS args;
    PROG_OPTS po;
    SMTP_ENVELOPE env;
    VBUF   *err;

    prog_hygiene();
    prog_version(argc, argv, "postsift-reinject");
    msg_init(argv[0], MSG_SYSLOG | (isatty(2) ? MSG_STDERR : 0));
    msg_set_fatal_status(EXIT_TEMPFAIL);
    prog_opts_init(&po);
    memset(&env, 0, sizeof(env));
    memset(&args, 0, sizeof(args));
    err = vbuf_alloc(4096);

    parse_args(argc, argv, &args, &po, &env, err);
    check_combination(&args, argc - optind);
    if (prog_configure(&po, err) < 0)
        exit_with(EXIT_TEMPFAIL, "4.3.5", "postsift configuration error: %s", vbuf_str(err));
    /* The quarantine commands are run by a person or cron: warnings go to
     * standard error as well as to the log. */
    if (args.mode && args.mode != OPT_RELEASE)
        msg_set_flags(msg_get_flags() | MSG_STDERR);
    switch (args.mode) {
    case OPT_RELEASE:
        return release(&args);
    case OPT_LIST:
        return list(args.json);
    case OPT_SHOW:
        return show(args.id, args.full);
    case OPT_DELETE:
        return delete(args.id, argv + optind, argc - optind);
    case OPT_EXPIRE:
        return expire(args.expire);
    }
    if (args.sender == NULL)
        usage("missing -f sender");
    if (optind >= argc)
        usage("missing recipients");
    if (args.queue_id)
        env.xf_ident = args.queue_id;

    envelope_addresses(&env, args.sender, argv + optind, argc - optind, args.orcpts,
                       args.norcpt, err);
    reinject_stdin(&env, args.sender, args.queue_id, err);
}
