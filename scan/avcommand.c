/*
 * avcommand - the "command" scanner backend: an external program
 *
 * "command:/path" runs /path (with the words of command_arguments) once
 * for the whole message, in postprox's contract: $EMAIL names a copy of
 * the message (also on stdin), $OUTFILE an empty file that the program may
 * fill with a replacement message; exit 0 passes (a non-empty OUTFILE
 * replaces the message), exit 1 rejects with the last line of stderr as
 * the reason ("550 5.7.1 text" keeps its own 5xx code and enhanced
 * status, otherwise 554 5.7.1), anything else is an error. Unlike
 * postprox, death by a signal and running past command_timeout are errors
 * too (the message is deferred, never passed), and the program runs
 * without a shell, through lib/spawn: its own process group, killed
 * whole at the deadline, output read into bounded buffers.
 *
 * Each run gets a private directory spool_dir/cmdtmp-RANDOM (0700,
 * locked while in use, so that one left by a killed process is swept by
 * the next one that opens the backend) holding "message" and "outfile";
 * the program runs there, with TMPDIR pointing there too, and the
 * directory goes with all it holds when the run ends.
 *
 * The envelope reaches the program in environment variables. They are
 * data from the SMTP client, untrusted: a value is passed as it is, never
 * interpreted, but cut to AVCOMMAND_VALUE_MAX bytes, and the list of
 * recipients to AVCOMMAND_RCPT_MAX addresses and AVCOMMAND_LIST_MAX
 * bytes (RECIPIENTCOUNT is always the true count).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/printable.h"
#include "lib/smtpcode.h"
#include "lib/spawn.h"
#include "lib/spool.h"
#include "lib/vbuf.h"
#include "scan/avbackend.h"

#define AVCOMMAND_TMP_PREFIX "cmdtmp-"
#define AVCOMMAND_VALUE_MAX  SMTP_ADDRESS_MAX  /* bytes of one variable's value */
#define AVCOMMAND_LIST_MAX   (64 * 1024)        /* bytes of RECIPIENTS */
#define AVCOMMAND_RCPT_MAX   1000               /* addresses in RECIPIENTS */
#define AVCOMMAND_REASON_MAX 400                /* bytes of a reject reason */
#define AVCOMMAND_ENV_MAX    20                 /* variables we set */
#define AVCOMMAND_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

typedef struct AVCOMMAND {
    char   *path;           /* the program */
    char   *name;           /* its base name, for details and logs */
    char  **argv;           /* path, then the words of command_arguments */
    int     argc;
    char   *version;        /* "command NAME" */
} AVCOMMAND;

/* One run: its directory, files and environment. */
typedef struct AVCOMMAND_RUN {
    VBUF   *dir;            /* spool_dir/cmdtmp-RANDOM */
    int     lock;           /* holds the directory's lock */
    VBUF   *email;          /* dir/message */
    VBUF   *outfile;        /* dir/outfile */
    int     in;             /* the copy, read-only: the program's stdin */
    char   *env[AVCOMMAND_ENV_MAX + 1];
    int     nenv;
} AVCOMMAND_RUN;

/* avcommand_close - forget the program */
static void avcommand_close(void *h)
{
    AVCOMMAND *cmd = h;
    int     i;

    if (cmd == NULL)
        return;
    for (i = 0; i < cmd->argc; i++)
        myfree(cmd->argv[i]);
    if (cmd->argv)
        myfree(cmd->argv);
    if (cmd->path)
        myfree(cmd->path);
    if (cmd->name)
        myfree(cmd->name);
    if (cmd->version)
        myfree(cmd->version);
    myfree(cmd);
}

/* avcommand_argv - the path, then the words of command_arguments */
static void avcommand_argv(AVCOMMAND *cmd)
{
    static const char sep[] = " \t\r\n";
    const char *cp = var_command_arguments ? var_command_arguments : "";
    size_t  len;

    cmd->argv = mycalloc(strlen(cp) / 2 + 2, sizeof(char *));
    cmd->argv[cmd->argc++] = mystrdup(cmd->path);
    for (;;) {
        cp += strspn(cp, sep);
        if (*cp == 0)
            break;
        len = strcspn(cp, sep);
        cmd->argv[cmd->argc++] = mystrndup(cp, len);
        cp += len;
    }
    cmd->argv[cmd->argc] = NULL;
}

/* avcommand_open - "command:/path": an absolute path to an executable
 * regular file */
static void *avcommand_open(char *const *specs, int nspecs, const char *dbdir, VBUF *err)
{
    const char *path = specs[0] + sizeof("command:") - 1;
    const char *slash;
    struct stat st;
    AVCOMMAND *cmd;
    VBUF   *text;
    int     n;

    (void)nspecs;
    (void)dbdir;
    if (*path != '/') {
        vbuf_sprintf(err, "bad scanner \"%s\": expected command:/absolute/path", specs[0]);
        return NULL;
    }
    if (stat(path, &st) < 0) {
        vbuf_sprintf(err, "scanner %s: %s", specs[0], strerror(errno));
        return NULL;
    }
    if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0) {
        vbuf_sprintf(err, "scanner %s: not an executable file", specs[0]);
        return NULL;
    }
    cmd = mycalloc(1, sizeof(*cmd));
    cmd->path = mystrdup(path);
    slash = strrchr(path, '/');
    cmd->name = mystrdup(slash[1] ? slash + 1 : path);
    text = vbuf_alloc(0);
    vbuf_sprintf(text, "command %s", cmd->name);
    cmd->version = mystrdup(vbuf_str(text));
    vbuf_free(text);
    avcommand_argv(cmd);
    if (var_spool_dir && *var_spool_dir
        && (n = spool_sweep(var_spool_dir, AVCOMMAND_TMP_PREFIX)) > 0)
        msg_info("removed %d command director%s left in %s by killed processes",
                 n, n == 1 ? "y" : "ies", var_spool_dir);
    return cmd;
}

/* avcommand_setenv - one NAME=value, the value cut to max bytes */
static void avcommand_setenv(AVCOMMAND_RUN *run, const char *name, const char *value,
                             size_t max)
{
    size_t  nlen = strlen(name), vlen = value ? strlen(value) : 0;
    char   *var;

    if (run->nenv >= AVCOMMAND_ENV_MAX)
        msg_panic("avcommand_setenv: too many variables");
    if (vlen > max)
        vlen = max;
    var = mymalloc(nlen + vlen + 2);
    memcpy(var, name, nlen);
    var[nlen] = '=';
    if (vlen)
        memcpy(var + nlen + 1, value, vlen);
    var[nlen + 1 + vlen] = 0;
    run->env[run->nenv++] = var;
    run->env[run->nenv] = NULL;
}

/* avcommand_recipients - RECIPIENTS: one address a line, bounded */
static void avcommand_recipients(AVCOMMAND_RUN *run, const SMTP_ENVELOPE *env)
{
    VBUF   *list = vbuf_alloc(AVCOMMAND_LIST_MAX);
    char    count[32];
    size_t  len;
    int     i;

    for (i = 0; i < env->nrcpt && i < AVCOMMAND_RCPT_MAX; i++) {
        len = env->rcpt[i].addr ? strlen(env->rcpt[i].addr) : 0;
        if (vbuf_len(list) + len + 1 > AVCOMMAND_LIST_MAX)
            break;                      /* whole addresses only */
        if (i > 0)
            vbuf_addch(list, '\n');
        if (len)
            vbuf_append(list, env->rcpt[i].addr, len);
    }
    avcommand_setenv(run, "RECIPIENTS", vbuf_str(list), AVCOMMAND_LIST_MAX);
    snprintf(count, sizeof(count), "%d", env->nrcpt);
    avcommand_setenv(run, "RECIPIENTCOUNT", count, sizeof(count));
    vbuf_free(list);
}

/* avcommand_environment - the program's whole environment */
static void avcommand_environment(AVCOMMAND_RUN *run, const SMTP_ENVELOPE *env)
{
    static const SMTP_ENVELOPE none = {0};

    if (env == NULL)
        env = &none;
    run->env[run->nenv++] = mystrdup(AVCOMMAND_PATH);
    avcommand_setenv(run, "EMAIL", vbuf_str(run->email), PRINTABLE_ALL);
    avcommand_setenv(run, "OUTFILE", vbuf_str(run->outfile), PRINTABLE_ALL);
    avcommand_setenv(run, "TMPDIR", vbuf_str(run->dir), PRINTABLE_ALL);
    avcommand_setenv(run, "SENDER", env->sender, AVCOMMAND_VALUE_MAX);
    avcommand_setenv(run, "RECIPIENT", env->nrcpt > 0 ? env->rcpt[0].addr : "",
                     AVCOMMAND_VALUE_MAX);
    avcommand_recipients(run, env);
    avcommand_setenv(run, "REMOTEIP", env->xf_addr, AVCOMMAND_VALUE_MAX);
    avcommand_setenv(run, "CLIENT_ADDR", env->xf_addr, AVCOMMAND_VALUE_MAX);
    avcommand_setenv(run, "CLIENT_NAME", env->xf_name, AVCOMMAND_VALUE_MAX);
    avcommand_setenv(run, "HELO", env->xf_helo, AVCOMMAND_VALUE_MAX);
    avcommand_setenv(run, "PROTOCOL", env->xf_proto, AVCOMMAND_VALUE_MAX);
    avcommand_setenv(run, "QUEUE_ID", env->xf_ident, AVCOMMAND_VALUE_MAX);
}

/* avcommand_file - create dir/name 0600 in path; its fd or -1 with why */
static int avcommand_file(AVCOMMAND_RUN *run, const char *name, VBUF *path, VBUF *err)
{
    int     fd;

    vbuf_sprintf(path, "%s/%s", vbuf_str(run->dir), name);
    fd = open(vbuf_str(path), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        vbuf_sprintf(err, "create %s: %s", vbuf_str(path), strerror(errno));
    return fd;
}

/* avcommand_prepare - the directory, the copy of the message, the empty
 * OUTFILE; -1 with why in err */
static int avcommand_prepare(AVCOMMAND_RUN *run, int fd, VBUF *err)
{
    int     copy, out;

    if (spool_dir_check(var_spool_dir, err) < 0
        || (run->lock = spool_private_dir(var_spool_dir, AVCOMMAND_TMP_PREFIX, run->dir,
                                          err)) < 0)
        return -1;
    if ((copy = avcommand_file(run, "message", run->email, err)) < 0)
        return -1;
    if (spool_copy_fd(fd, copy) < 0) {
        vbuf_sprintf(err, "copy the message to %s: %s", vbuf_str(run->email), strerror(errno));
        (void)close(copy);
        return -1;
    }
    (void)close(copy);
    if ((run->in = open(vbuf_str(run->email), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        vbuf_sprintf(err, "open %s: %s", vbuf_str(run->email), strerror(errno));
        return -1;
    }
    if ((out = avcommand_file(run, "outfile", run->outfile, err)) < 0)
        return -1;
    (void)close(out);
    return 0;
}

/* avcommand_run_free - the run's directory goes, with all it holds */
static void avcommand_run_free(AVCOMMAND_RUN *run)
{
    int     i;

    if (run->in >= 0)
        (void)close(run->in);
    if (run->lock >= 0)
        spool_private_dir_remove(run->lock, vbuf_str(run->dir));
    for (i = 0; i < run->nenv; i++)
        myfree(run->env[i]);
    vbuf_free(run->dir);
    vbuf_free(run->email);
    vbuf_free(run->outfile);
}

/* avcommand_reason - the reject reason from the last line of stderr: its
 * own "5xx" and "5.x.x" at the start are kept apart, printable ASCII */
static void avcommand_reason(const AVCOMMAND *cmd, const char *line, AVSCAN_REPLY *reply)
{
    size_t  dsn;

    reply->code = 554;
    snprintf(reply->dsn, sizeof(reply->dsn), "5.7.1");
    if (line[0] == '5' && line[1] >= '0' && line[1] <= '9' && line[2] >= '0'
        && line[2] <= '9' && (line[3] == ' ' || line[3] == '-' || line[3] == 0)) {
        reply->code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        line += line[3] ? 4 : 3;
        line += strspn(line, " ");
        if ((dsn = smtpcode_dsn_len(line, 5)) > 0 && dsn < sizeof(reply->dsn)) {
            snprintf(reply->dsn, sizeof(reply->dsn), "%.*s", (int)dsn, line);
            line += dsn;
            line += strspn(line, " ");
        }
    }
    vbuf_reset(reply->text);
    if (*line)
        printable_append(reply->text, line, strlen(line), AVCOMMAND_REASON_MAX,
                         PRINTABLE_ASCII);
    else
        vbuf_sprintf(reply->text, "rejected by %s", cmd->name);
}

/* avcommand_replacement - a non-empty OUTFILE as the new message: an open
 * descriptor (the file itself goes with the directory); -1 when empty,
 * -2 with why in err when it is not a plain file of ours */
static int avcommand_replacement(const AVCOMMAND_RUN *run, VBUF *err)
{
    struct stat st;
    int     fd;

    fd = open(vbuf_str(run->outfile), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        vbuf_sprintf(err, "OUTFILE %s: %s", vbuf_str(run->outfile), strerror(errno));
        if (fd >= 0)
            (void)close(fd);
        return -2;
    }
    if (!S_ISREG(st.st_mode) || st.st_nlink != 1 || st.st_uid != geteuid()) {
        vbuf_sprintf(err, "OUTFILE %s: not a plain file of ours", vbuf_str(run->outfile));
        (void)close(fd);
        return -2;
    }
    if (st.st_size == 0) {
        (void)close(fd);
        return -1;
    }
    return fd;
}

/* avcommand_outcome - what the program's end means; AV_* */
static int avcommand_outcome(const AVCOMMAND *cmd, const SPAWN_REQUEST *req,
                             const SPAWN_RESULT *sr, const AVCOMMAND_RUN *run,
                             AVSCAN_REPLY *reply, VBUF *err)
{
    int     fd;

    if (sr->status == SPAWN_EXITED && sr->code == 0) {
        if ((fd = avcommand_replacement(run, err)) < -1)
            return AV_ERROR;
        reply->fd = fd;
        return AV_CLEAN;
    }
    if (sr->status == SPAWN_EXITED && sr->code == 1) {
        avcommand_reason(cmd, vbuf_str(sr->err_last), reply);
        return AV_REJECT;
    }
    vbuf_strcpy(err, "");
    spawn_describe(req, sr, err);
    if (sr->status == SPAWN_EXITED && vbuf_len(sr->err_last)) {
        vbuf_strcat(err, ": ");
        printable_append(err, vbuf_str(sr->err_last), vbuf_len(sr->err_last),
                         AVCOMMAND_REASON_MAX, 0);
    }
    return AV_ERROR;
}

/* avcommand_scan_message - one run for the whole message; AV_* */
static int avcommand_scan_message(void *h, int fd, const SMTP_ENVELOPE *env,
                                  AVSCAN_REPLY *reply, VBUF *err)
{
    AVCOMMAND *cmd = h;
    AVCOMMAND_RUN run;
    SPAWN_REQUEST req;
    SPAWN_RESULT sr;
    int     ret = AV_ERROR;

    memset(&run, 0, sizeof(run));
    run.lock = run.in = -1;
    run.dir = vbuf_alloc(0);
    run.email = vbuf_alloc(0);
    run.outfile = vbuf_alloc(0);
    reply->fd = -1;
    vbuf_strcpy(reply->scanner, cmd->version);
    spawn_result_init(&sr);
    if (avcommand_prepare(&run, fd, err) == 0) {
        avcommand_environment(&run, env);
        spawn_request_init(&req);
        req.argv = cmd->argv;
        req.envp = run.env;
        req.cwd = vbuf_str(run.dir);
        req.stdin_fd = run.in;
        req.timeout = var_command_timeout > 0 ? (double)var_command_timeout : 60;
        spawn_run(&req, &sr);
        ret = avcommand_outcome(cmd, &req, &sr, &run, reply, err);
        if (msg_verbose)
            msg_debug("command %s: %s, %zu bytes of output%s", cmd->name,
                      spawn_status_names[sr.status], vbuf_len(sr.out) + vbuf_len(sr.err),
                      sr.out_cut || sr.err_cut ? " (cut)" : "");
    }
    if (ret == AV_ERROR) {
        VBUF   *why = vbuf_alloc(0);

        vbuf_sprintf(why, "%s: %s", cmd->version, vbuf_str(err));
        vbuf_strcpy(err, vbuf_str(why));
        vbuf_free(why);
    }
    spawn_result_free(&sr);
    avcommand_run_free(&run);
    return ret;
}

/* avcommand_version - "command NAME" */
static const char *avcommand_version(void *h)
{
    return ((AVCOMMAND *) h)->version;
}

const AVBACKEND avcommand_backend = {
    "command:", 0, 0, 0, avcommand_open, NULL, NULL, avcommand_scan_message,
    avcommand_version, NULL, NULL, avcommand_close, NULL, NULL,
};
