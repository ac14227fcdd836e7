/*++
postsift-policy(8)
NAME
    postsift-policy - Postfix policy server: FILTER routing, signed expiring addresses, rate limits
SYNOPSIS
    postsift-policy [-m spawn] [-v] [-c config] [-o name=value]...
    postsift-policy -m daemon [-F] [-v] [-c config] [-o name=value]...
    postsift-policy -m mint [-c config] [-o name=value]... address days
    postsift-policy -m check [-c config] [-o name=value]...
    postsift-policy [-c config] [-o name=value]... -n [-a]
    postsift-policy --version
DESCRIPTION
    postsift-policy answers Postfix's policy delegation requests
    (SMTPD_POLICY_README, check_policy_service): Postfix sends the
    attributes of an SMTP transaction as name=value lines ended by an
    empty line, and postsift-policy answers action=ACTION and an empty
    line, for as many requests as Postfix sends on the connection. The
    answer comes from the rules of policy_rules: the first rule whose
    conditions hold decides, and DUNNO is the answer when none does.

    With -m spawn (the default) it serves one connection on standard
    input and output, as Postfix's spawn(8) runs it; standard error is the
    socket then, and nothing is written there. With -m daemon it binds
    policy_listen, drops to daemon_user and serves through policy_workers
    worker processes (see DAEMON).

    Requests are read with bounds: at most 128 attributes, names of 64
    bytes, values of 16384 bytes, 65536 bytes in all, and policy_timeout
    from the first line of a request to its empty line. A request that
    breaks a bound, repeats an attribute, has a line without '=', a NUL or
    another control byte, or no request=smtpd_access_policy is logged and
    answered DEFER_IF_PERMIT Service temporarily unavailable; the
    connection goes on when the request could be read to its empty line,
    and is closed when it could not (end of file, time-out, more than 16
    MB without an empty line). A connection that sends no request for
    policy_idle_timeout is closed.
RULES
    One rule per line of policy_rules; a line that starts with white
    space continues the rule before it; lines starting with '#' and blank
    lines are ignored:

        NAME: CONDITION... => ACTION

    NAME (letters, digits, _ - .) is unique in the file; it names the rule
    in the logs and its rate counters. All conditions must hold; a rule
    without conditions always matches. A condition is, with a leading !
    to negate it:

        attr=value
            Equal. Addresses and host or domain names (sender, recipient,
            sasl_sender, sender_domain, recipient_domain, client_name,
            reverse_client_name, helo_name) compare without case. For a
            domain attribute, .example.org matches every subdomain of
            example.org but not example.org itself. A value with white
            space is written in double quotes.
        attr!=value
            Not equal.
        attr~/regexp/
            A POSIX extended regular expression; /regexp/i ignores case; \/
            is a slash inside it.
        attr in a,b,c
            One of the values; for client_address and server_address, one
            of the network blocks (192.0.2.0/24, 2001:db8::/32, an address).
        attr in file:/path
            One of the keys of a table file: one key (or network block)
            per line, '#' comment lines; read when the rules are loaded.

    attr is an attribute of Postfix's request (request, protocol_state,
    protocol_name, helo_name, queue_id, sender, recipient,
    recipient_count, client_address, client_name, reverse_client_name,
    instance, sasl_method, sasl_username, sasl_sender, size, ccert_*,
    encryption_*, etrn_domain, stress, client_port, policy_context,
    server_address, server_port, compatibility_level, mail_version) or
    one that postsift-policy derives: sender_domain and recipient_domain
    (after the last @, lowercased), sasl (yes when sasl_username is set,
    else no). Another name is an error. An absent attribute is empty.

    ACTION is one of:

        DUNNO, OK, REJECT text, DEFER text, DEFER_IF_PERMIT text, DEFER_IF_REJECT text, HOLD text, DISCARD text, WARN text, INFO text, REDIRECT address, 4NN text, 5NN text
            That answer (access(5)); the texts are optional where
            Postfix allows.
        filter transport:destination
            FILTER transport:destination: the message goes through that
            content filter (selective filtering).
        signed_address [required|optional]
            The recipient must be a good signed address (see SIGNED
            ADDRESSES). An expired one gets REJECT 5.1.1 address expired,
            a wrong signature or date REJECT 5.1.1 address signature is
            not valid; an unsigned one REJECT 5.1.1 address needs a valid
            signature with required (the default) and goes on with
            optional.
        rate KEY/N/WINDOW[/ACTION]
            At most N messages per WINDOW (seconds, or with s, m, h or d)
            for each value of the attribute KEY (sasl_username,
            client_address, sender, sender_domain, recipient_domain...);
            past it the answer is ACTION (default DEFER_IF_PERMIT). See
            RATE LIMITS.
        command /path/to/program ATTR...
            Run the program, without a shell, with the values of the
            request attributes ATTR (1 to 8; an absent one is an empty
            argument) as its arguments, a clean environment
            (PATH=/usr/bin:/bin), stdin /dev/null, a process group of its
            own and policy_command_timeout; then it and its group are
            killed. Exit 0: no objection, the next rules are tried. Exit
            1: REJECT with the first line of its output as the text when
            that is printable ASCII of at most 200 bytes (not a 4.x.x
            code), else plain REJECT. Anything else, a signal, the time
            limit or a program that cannot run: DEFER_IF_PERMIT, logged
            with the reason. Answers of exit 0 and 1 are kept per process
            for policy_command_cache_ttl for the same arguments.

    Rules are tried in order. signed_address, rate and command are checks: when
    they refuse, that is the answer; when they let the request through,
    the next rules are tried. Any error in the file (or a table, or the
    secret a signed_address rule needs) names the file and line and
    refuses all of it: spawn mode then answers DEFER_IF_PERMIT to every
    request, the daemon keeps the rules it has. Example:

        # trusted networks are not filtered, authenticated users are
        local: client_address in 127.0.0.0/8,::1 => DUNNO
        users: sasl=yes => filter scan:[127.0.0.1]:10025
        users-rate: sasl=yes => rate sasl_username/200/1h/DEFER_IF_PERMIT 4.7.1 too many messages
        alice: recipient~/^alice\+/i recipient_domain=example.org
            => signed_address optional
        blocked: sender_domain in file:/etc/postsift/blocked-domains
            => REJECT 5.7.1 not accepted here
SIGNED ADDRESSES
    A signed address is user+YYYYMMDD.SIG@domain, minted by
    postsift-policy -m mint user@domain days. The separator is the first
    character of policy_recipient_delimiter (any of its characters is
    accepted when checking; make it Postfix's recipient_delimiter, so
    that the mail reaches user@domain). YYYYMMDD is the last day (UTC) it
    is good for. SIG is the first policy_signature_length characters of
    the base32 (a-z, 2-7) HMAC-SHA256 of "user|YYYYMMDD|domain", all
    lowercased, keyed with the secret of policy_secret_file; it is
    compared in constant time. Only an extension of eight digits, a dot
    and more counts as a signature; other extensions (user+list) are
    unsigned.

    Clock skew: an address is accepted until the end of its day (UTC)
    plus policy_signature_grace (one day by default), so a sender whose
    clock or time zone is a day off, or a message that waited in a queue
    overnight, still gets through; it is refused from then on.

    The secret: 16 to 4096 bytes (a trailing newline is not part of it),
    in a regular file owned by the user postsift-policy runs as, mode 0600
    or stricter; anything else is refused with an error that says why.
    Make one with: head -c 32 /dev/urandom | base64 > policy.key. A new
    secret invalidates every address minted with the old one.
RATE LIMITS
    Counters use a sliding window approximated with two fixed buckets:
    the count is the previous bucket's count times the part of it still
    inside the window, plus the current bucket's. Each counter is one
    small record, whatever N is. A message is counted only when it is let
    through; a refused attempt does not count.

    A message is counted once, not once per recipient: in protocol_state
    RCPT when recipient_count is 0 (the first recipient Postfix accepts
    into the transaction); later recipients of the same message are
    checked against the count without adding to it; other states are
    not counted (the rule lets them through). Call the policy service
    from smtpd_recipient_restrictions, after the restrictions that reject
    recipients, or a first recipient that is rejected later counts too.
    A request where KEY is empty (no sasl_username) is not counted.

    The counters live in the LMDB file policy_rate_db, shared by every
    postsift-policy process of the host and kept across restarts; the
    directory must be the running user's and writable by no one else
    (it is made, mode 0700, when it is missing). Counters not used for two
    windows are removed now and then. With policy_rate_db =
    redis:HOST:PORT (or redis:unix:/path) they live in a Redis server
    that several hosts share: each count is one server-side script (the
    same arithmetic), keys expire by themselves, every connection and
    command has policy_store_timeout, and a request reconnects once after
    an error. When the store cannot be opened or
    written, the rule answers policy_store_fail_action (DEFER_IF_PERMIT
    by default) and logs why.
LOGGING
    One line per decision:

        QUEUE_ID: client=NAME[ADDR], from=<sender>, to=<recipient>, state=RCPT, rule=NAME, matched=(attr="value", ...), action="ACTION", detail="why"

    NOQUEUE stands for an unknown queue id, and "unknown" for a missing
    client name or address; rule=none with action="DUNNO" when no rule
    answered. matched= is there when the rule had conditions, detail=
    when there is one; each value is cut at 256 bytes and shown printable.
    The daemon logs "policy rules loaded: WHAT" at start and "policy
    rules reloaded: WHAT" after a reload (WHAT: the rules, tables and
    secret, as -m check prints them). Malformed requests, store errors and rules
    that cannot be loaded are logged as warnings.
OPTIONS
    -m spawn
        One connection on standard input and output (spawn(8)); the default.
    -m daemon
        The daemon. -F keeps it in the foreground.
    -m mint
        Print the signed form of address, good for days days (0 to 3650)
        from today (UTC). Run it as the user that owns the secret.
    -m check
        Load the rules, the tables and the secret, print what was loaded
        or the error, and exit 0 or 1.
    -c config
        Read settings from this file instead of /etc/postsift/postsift.conf.
    -o name=value
        Override one setting; may be repeated.
    -n
        Print the settings that differ from their defaults; with -a, all.
    -v
        More logging.
    --version
        As the first argument: print "postsift-policy VERSION" and exit 0.
DAEMON
    Started as root, the daemon binds policy_listen, writes and locks
    policy_pid_file, drops to daemon_user and only then loads the rules;
    policy_workers processes share them, each serving
    policy_max_sessions connections before it is replaced. Postfix keeps
    one connection per smtpd process, so policy_workers should be at
    least the number of smtpd processes that use the service. Signals:
    SIGTERM, SIGINT
        Drain: idle connections close at once, a request being answered is
        answered first; then exit 0.
    SIGHUP
        Reload the settings and the rules beside the old ones; a bad file
        keeps the old ones. A change of the rules file, a table or the
        secret, checked every 60 seconds, does the same.
    SIGUSR2
        Open log_file again by name (logrotate); nothing is reloaded.
    Under systemd (Type=notify, -F) the master sends READY=1 once the rules
    are loaded and the workers are forked, RELOADING=1 and READY=1 around
    a reload, and STOPPING=1 when it drains; without NOTIFY_SOCKET nothing
    is sent. policy_listen, daemon_user and policy_pid_file need a
    restart. When a service manager passes listening sockets (LISTEN_PID,
    LISTEN_FDS, as systemd's .socket units do), the daemon serves on them
    and does not bind policy_listen.
EXIT STATUS
    0
        Done (spawn: the connection ended; check: the rules load; mint:
        the address is printed).
    1
        check or mint failed.
    75
        A usage or configuration error, or the daemon cannot start.
SECURITY
    postsift-policy never runs as root while serving: spawn mode answers
    DEFER_IF_PERMIT to every request when started as root, the daemon
    drops to daemon_user. Nothing from a request reaches a shell. Every
    read has a deadline, every buffer a bound.
SEE ALSO
    postsift(7), postsift.conf(5), postsift-filter(8), spawn(8),
    access(5), SMTPD_POLICY_README
--*/

/*
 * postsift-policy - main program: the options, then the mode: session.c
 * for one connection (spawn(8)), pdaemon.c for the daemon, sigaddr.c
 * for mint, engine.c for check.
 */
#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/progstart.h"
#include "lib/vbuf.h"
#include "policy/engine.h"
#include "policy/pdaemon.h"
#include "policy/session.h"
#include "policy/sigaddr.h"

#define USAGE "usage: postsift-policy [-m spawn|daemon|check] [-F] [-v] [-c config] " \
    "[-o name=value]... | postsift-policy -m mint [-c config] [-o name=value]... address days"

#define EXIT_TEMPFAIL 75

typedef struct POLICY_OPTS {
    PROG_OPTS po;
    const char *mode;
    int     print_config, print_all, foreground;
} POLICY_OPTS;

/* usage - a usage error: logged, the synopsis on a terminal, exit 75 */
PS_NORETURN static void usage(const char *why)
{
    if (why)
        msg_warn("%s", why);
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "%s\n", USAGE);
    exit(EXIT_TEMPFAIL);
}

/* parse_options - the command line into o; optind at the first operand */
static void parse_options(POLICY_OPTS *o, int argc, char **argv)
{
    int     ch;

    opterr = 0;
    while ((ch = getopt(argc, argv, ":ac:Fm:no:v")) != -1) {
        switch (ch) {
        case 'a':
            o->print_all = 1;
            break;
        case 'c':
            prog_opts_config(&o->po, optarg);
            break;
        case 'F':
            o->foreground = 1;
            break;
        case 'm':
            o->mode = optarg;
            break;
        case 'n':
            o->print_config = 1;
            break;
        case 'o':
            prog_opts_override(&o->po, optarg);
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            usage(ch == ':' ? "missing option value" : "unknown option");
        }
    }
}

/* spawn_mode - one connection on stdin/stdout, as spawn(8) runs us */
static int spawn_mode(void)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    char    host[NI_MAXHOST] = "unknown";
    ENGINE *eng = NULL;
    VBUF   *err = vbuf_alloc(4096);

    if (getpeername(STDIN_FILENO, (struct sockaddr *)&ss, &sslen) == 0)
        (void)getnameinfo((struct sockaddr *)&ss, sslen, host, sizeof(host), NULL, 0,
                          NI_NUMERICHOST);
    if (geteuid() == 0)
        msg_warn("postsift-policy must not run as root; set user= in the master.cf spawn entry");
    else if ((eng = engine_load(err)) == NULL)
        msg_warn("cannot load the policy rules: %s", vbuf_str(err));
    (void)session_serve(STDIN_FILENO, STDOUT_FILENO, eng, host, NULL);
    engine_free(eng);
    vbuf_free(err);
    return 0;
}

/* mint_mode - print a signed address; 0, or 1 with the error on stderr */
static int mint_mode(int argc, char **argv)
{
    VBUF   *out = vbuf_alloc(4096), *err = vbuf_alloc(4096);
    SIGKEY *key = NULL;
    char   *end;
    long    days;
    int     status = 1;

    if (argc != 2)
        usage("-m mint needs an address and a number of days");
    days = strtol(argv[1], &end, 10);
    if (!isdigit((unsigned char)argv[1][0]) || *end)
        vbuf_sprintf(err, "days must be a number, not \"%s\"", argv[1]);
    else if ((key = sigaddr_key_load(var_policy_secret_file, err)) != NULL
             && sigaddr_mint(key, argv[0], days, time(NULL), out, err) == 0) {
        printf("%s\n", vbuf_str(out));
        status = 0;
    }
    if (status)
        fprintf(stderr, "postsift-policy: %s\n", vbuf_str(err));
    sigaddr_key_free(key);
    vbuf_free(out);
    vbuf_free(err);
    return status;
}

/* check_mode - load the engine, say what it holds or why it failed */
static int check_mode(void)
{
    VBUF   *buf = vbuf_alloc(4096);
    ENGINE *eng;
    int     status = 1;

    if ((eng = engine_load(buf)) != NULL) {
        engine_describe(eng, buf);
        printf("postsift-policy: loaded %s\n", vbuf_str(buf));
        status = 0;
    } else {
        fprintf(stderr, "postsift-policy: %s\n", vbuf_str(buf));
    }
    engine_free(eng);
    vbuf_free(buf);
    return status;
}

/* main - hygiene, options, settings, the mode */
int     main(int argc, char **argv)
{
    POLICY_OPTS o;
    VBUF   *err;
    int     status;

    memset(&o, 0, sizeof(o));
    prog_hygiene();
    prog_version(argc, argv, "postsift-policy");
    /* Under spawn(8) stderr is the socket: log there only on a terminal. */
    msg_init(argv[0], MSG_SYSLOG | (isatty(STDERR_FILENO) ? MSG_STDERR : 0));
    msg_set_fatal_status(EXIT_TEMPFAIL);
    prog_opts_init(&o.po);
    parse_options(&o, argc, argv);
    err = vbuf_alloc(4096);
    if (prog_configure(&o.po, err) < 0)
        msg_fatal("configuration error: %s", vbuf_str(err));
    vbuf_free(err);
    if (o.print_config) {
        config_print(stdout, o.print_all);
        return 0;
    }
    if (o.mode == NULL || strcmp(o.mode, "spawn") == 0 || strcmp(o.mode, "daemon") == 0
        || strcmp(o.mode, "check") == 0) {
        if (optind != argc)
            usage("unexpected arguments");
        if (o.foreground && (o.mode == NULL || strcmp(o.mode, "daemon") != 0))
            usage("-F goes with -m daemon");
    }
    if (o.mode == NULL || strcmp(o.mode, "spawn") == 0)
        status = spawn_mode();
    else if (strcmp(o.mode, "daemon") == 0)
        status = pdaemon_main(&o.po, o.foreground);
    else if (strcmp(o.mode, "mint") == 0)
        status = mint_mode(argc - optind, argv + optind);
    else if (strcmp(o.mode, "check") == 0)
        status = check_mode();
    else
        usage("unknown mode (use -m spawn, daemon, mint or check)");
    prog_opts_free(&o.po);
    return status;
}
