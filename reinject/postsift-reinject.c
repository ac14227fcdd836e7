/*++
postsift-reinject(8)
NAME
    postsift-reinject - hand a message back to Postfix, or release one from quarantine
SYNOPSIS
    postsift-reinject [-v] [-c config] [-o name=value]... [-q queue_id]
        [-X attr=value]... [-O orcpt]... -f sender -- recipient...
    postsift-reinject [-v] [-c config] [-o name=value]... --release id
    postsift-reinject [-v] [-c config] [-o name=value]... --list
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

    With --release, the quarantined message id is sent on to its original
    recipients and removed from quarantine_dir. With --list, the
    quarantine is listed, one message per line.
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
    --release id
        Send a quarantined message on and remove it from the quarantine.
    --list
        List the quarantine: id, sender, recipients, verdict, reason (control
        bytes shown as \xHH). Anything in quarantine_dir that is not a
        regular file in the quarantine format (a FIFO, a link, a file whose
        envelope has a key twice) is skipped with a warning.
    -v
        Log more; repeat for more still.
EXIT STATUS
    0
        The message was handed to Postfix (or released).
    69
        The reinjection smtpd refused the message or every recipient with a
        5xx reply. The first line of output is its enhanced status code and
        text.
    75
        Anything else: a usage or configuration error, a connection
        failure, a 4xx reply, a partial refusal, a timeout, an envelope
        address longer than 16384 bytes (shorter ones are relayed exactly
        as they came). Postfix retries. The first line of output is always
        the "4.x.x text" line, usage errors included.
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
    "[-q queue_id] [-X attr=value]... [-O orcpt]... -f sender -- recipient... | --release id | --list"

/* Values of the long options: above any byte, so that getopt's optopt
 * tells a long option from a short one. */
#define OPT_RELEASE 256
#define OPT_LIST    257

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
    } else if (optopt == OPT_RELEASE || optopt == OPT_LIST || optopt == 0) {
        /* a long option: getopt_long has stepped past it */
        msg_printable(shown, sizeof(shown), optind > 0 ? argv[optind - 1] : "");
        snprintf(text, sizeof(text), "%s %s", ch == ':' ? "missing value for option"
                 : "bad option", shown);
    } else {
        snprintf(text, sizeof(text), "unknown option (byte 0x%02X)", (unsigned)(optopt & 0xff));
    }
    usage(text);
}

/* release - send a quarantined message on, then remove it */
static int release(const char *id)
{
    QUARANTINE_ENTRY qe;
    REINJECT_RESULT res;
    VBUF *err = vbuf_alloc(4096);
    VBUF *prefix = vbuf_alloc(4096);
    int status;

    if (quarantine_open(var_quarantine_dir, id, &qe, err) < 0)
        exit_with(EXIT_TEMPFAIL, "4.3.0", "%s", vbuf_str(err));
    quarantine_release_header(prefix, id, &qe);
    reinject_result_init(&res);
    status = reinject_message(var_reinject_target, &qe.env, vbuf_str(prefix), vbuf_len(prefix),
                              qe.fd, qe.body_offset, (int)var_reinject_timeout, &res);
    msg_info("release %s: from=<%s>, nrcpt=%d, status=%s, queued_as=%s, %s", id,
             qe.env.sender, qe.env.nrcpt, status == 0 ? "sent" : status == 69 ? "refused" : "deferred",
             *vbuf_str(res.queue_id) ? vbuf_str(res.queue_id) : "-", vbuf_str(res.text));
    if (status == EXIT_DONE) {
        if (quarantine_remove(var_quarantine_dir, id, err) < 0)
            msg_warn("%s", vbuf_str(err));
        printf("released %s to %d recipient%s%s%s\n", id, qe.env.nrcpt,
               qe.env.nrcpt == 1 ? "" : "s", *vbuf_str(res.queue_id) ? ", queued as " : "",
               vbuf_str(res.queue_id));
    } else {
        printf("%s %s\n", res.dsn, vbuf_str(res.text));
    }
    quarantine_close(&qe);
    reinject_result_free(&res);
    vbuf_free(err);
    vbuf_free(prefix);
    return status;
}

/* list - one line per quarantined message */
static int list(void)
{
    VBUF *err = vbuf_alloc(4096);
    int count;

    if ((count = quarantine_list(var_quarantine_dir, stdout, err)) < 0)
        exit_with(EXIT_TEMPFAIL, "4.3.0", "%s", vbuf_str(err));
    if (count == 0)
        printf("quarantine %s is empty\n", var_quarantine_dir);
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

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"release", required_argument, NULL, OPT_RELEASE},
        {"list", no_argument, NULL, OPT_LIST},
        {NULL, 0, NULL, 0},
    };
    PROG_OPTS po;
    SMTP_ENVELOPE env;
    VBUF *err;
    const char **orcpts = NULL;
    const char *sender = NULL, *release_id = NULL, *queue_id = NULL;
    int ch, norcpt = 0, do_list = 0;

    prog_hygiene();
    prog_version(argc, argv, "postsift-reinject");
    msg_init(argv[0], MSG_SYSLOG | (isatty(2) ? MSG_STDERR : 0));
    msg_set_fatal_status(EXIT_TEMPFAIL);
    prog_opts_init(&po);
    memset(&env, 0, sizeof(env));
    err = vbuf_alloc(4096);

    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":c:f:o:q:vX:O:", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            prog_opts_config(&po, optarg);
            break;
        case 'o':
            prog_opts_override(&po, optarg);
            break;
        case 'f':
            sender = optarg;
            break;
        case 'q':
            queue_id = optarg;
            break;
        case 'v':
            msg_verbose++;
            break;
        case 'X':
            if (envelope_xforward_option(&env, optarg, 0, err) < 0)
                usage(vbuf_str(err));
            break;
        case 'O':
            orcpts = myrealloc(orcpts, (size_t)(norcpt + 1) * sizeof(char *));
            orcpts[norcpt++] = optarg;
            break;
        case OPT_RELEASE:
            release_id = optarg;
            break;
        case OPT_LIST:
            do_list = 1;
            break;
        default:
            option_error(ch, argv);
        }
    }
    if (prog_configure(&po, err) < 0)
        exit_with(EXIT_TEMPFAIL, "4.3.5", "postsift configuration error: %s", vbuf_str(err));
    if (release_id)
        return release(release_id);
    if (do_list)
        return list();
    if (sender == NULL)
        usage("missing -f sender");
    if (optind >= argc)
        usage("missing recipients");
    if (queue_id)
        env.xf_ident = queue_id;

    envelope_addresses(&env, sender, argv + optind, argc - optind, orcpts, norcpt, err);
    reinject_stdin(&env, sender, queue_id, err);
}
