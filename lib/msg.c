/*
 * msg - logging and the four kinds of trouble (see msg.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/printable.h"
#include "lib/safefile.h"
#include "lib/vbuf.h"

int msg_verbose;

static char msg_prog[64] = "postsift";
static char msg_ident[128] = "postsift/postsift";
static char msg_syslog_base[64] = "postsift";
static char msg_host[128];
static int msg_flags = MSG_SYSLOG;
static int msg_fatal_status = 75;
static int msg_logfd = -1;
static int msg_logfile_created;         /* this process made log_file */
static char *msg_logpath;               /* log_file, for msg_reopen() */
static volatile sig_atomic_t msg_reopen_pending;
static int msg_syslog_open;
static int msg_in_cleanup;
static void (*msg_cleanup_fn)(void);

/* msg_reident - rebuild the syslog ident from base name and program */
static void msg_reident(void)
{
    snprintf(msg_ident, sizeof(msg_ident), "%s/%s", msg_syslog_base, msg_prog);
    if (msg_syslog_open) {
        closelog();
        msg_syslog_open = 0;
    }
}

/* msg_init - name the program and choose where lines go */
void msg_init(const char *program, int flags)
{
    const char *slash = strrchr(program, '/');

    if (slash)
        program = slash + 1;
    if (strncmp(program, "postsift-", 9) == 0)
        program += 9;
    snprintf(msg_prog, sizeof(msg_prog), "%s", program);
    msg_flags = flags;
    msg_reident();
}

/* msg_set_flags - change destinations */
void msg_set_flags(int flags)
{
    msg_flags = flags;
}

/* msg_get_flags - current destinations */
int msg_get_flags(void)
{
    return msg_flags;
}

/* msg_set_syslog_name - the part of the ident before the slash */
void msg_set_syslog_name(const char *name)
{
    if (name && *name) {
        snprintf(msg_syslog_base, sizeof(msg_syslog_base), "%s", name);
        msg_reident();
    }
}

/* msg_set_hostname - host name for log_file lines */
void msg_set_hostname(const char *name)
{
    snprintf(msg_host, sizeof(msg_host), "%s", name ? name : "");
}

/* msg_logfile_owner - besides root and ourselves, who may own log_file:
 * for root, daemon_user (the daemon hands it the file it creates) */
static uid_t msg_logfile_owner(void)
{
    struct passwd *pw;

    if (geteuid() != 0 || var_daemon_user == NULL || *var_daemon_user == 0
        || (pw = getpwnam(var_daemon_user)) == NULL || pw->pw_uid == 0)
        return SAFEFILE_NO_OWNER;
    return pw->pw_uid;
}

/* msg_set_logfile - append lines to this file instead of syslog; only a
 * file that is what it seems (safefile.h): root must never write into,
 * or later give away, a link to some other file */
void msg_set_logfile(const char *path)
{
    VBUF   *err;
    int     fd;

    if (msg_logfd >= 0) {
        close(msg_logfd);
        msg_logfd = -1;
    }
    msg_logfile_created = 0;
    msg_reopen_pending = 0;
    if (path != msg_logpath) {
        myfree(msg_logpath);
        msg_logpath = (path && *path) ? mystrdup(path) : NULL;
    }
    if (path && *path) {
        err = vbuf_alloc(1024);
        if ((fd = safefile_open(path, O_WRONLY | O_APPEND, 0640, msg_logfile_owner(),
                                &msg_logfile_created, err)) < 0)
            msg_warn("cannot use log_file %s: it %s; using syslog", path, vbuf_str(err));
        msg_logfd = fd;
        vbuf_free(err);
    }
}

/* msg_logfile_give - hand a log_file that this process created as root to
 * the unprivileged user; never a file that was there before */
void msg_logfile_give(uid_t uid, gid_t gid)
{
    struct stat st;

    if (msg_logfd < 0 || !msg_logfile_created || fstat(msg_logfd, &st) < 0
        || !S_ISREG(st.st_mode) || st.st_uid != 0)
        return;
    if (fchown(msg_logfd, uid, gid) < 0)
        msg_warn("cannot give log_file to uid %ld: %s", (long)uid, strerror(errno));
}

/* msg_reopen_request - reopen log_file before the next line (signal safe) */
void msg_reopen_request(void)
{
    msg_reopen_pending = 1;
}

/* msg_reopen - log_file again by name: after logrotate renamed it, lines
 * go to the new file, not the rotated one */
void msg_reopen(void)
{
    msg_reopen_pending = 0;
    if (msg_logpath != NULL)
        msg_set_logfile(msg_logpath);
}

/* msg_program - the short program name */
const char *msg_program(void)
{
    return msg_prog;
}

/* msg_set_fatal_status - exit status of msg_fatal() */
void msg_set_fatal_status(int status)
{
    msg_fatal_status = status;
}

/* msg_set_cleanup - hook run once before a fatal exit or panic */
void msg_set_cleanup(void (*fn)(void))
{
    msg_cleanup_fn = fn;
}

/* msg_printable - copy with control characters made visible, bounded */
char *msg_printable(char *dst, size_t dstlen, const char *s)
{
    return printable_copy(dst, dstlen, s, PRINTABLE_ALL, 0);
}

/* msg_vlog - format one line and send it where it belongs */
void msg_vlog(int level, const char *fmt, va_list ap)
{
    static const char *const level_name[] = {
        [LOG_ERR] = "fatal: ", [LOG_CRIT] = "panic: ",
        [LOG_WARNING] = "warning: ", [LOG_INFO] = "", [LOG_DEBUG] = "debug: ",
    };
    char text[2048];
    char line[2300];
    int saved_errno = errno;
    int len;
    size_t i;

    if (msg_reopen_pending)
        msg_reopen();
    len = vsnprintf(text, sizeof(text), fmt, ap);
    if (len < 0)
        snprintf(text, sizeof(text), "(unformattable message)");
    for (i = 0; text[i]; i++)
        if ((unsigned char)text[i] < 0x20 && text[i] != '\t')
            text[i] = '?';

    if (msg_logfd >= 0) {
        char stamp[64];
        char host[128] = "localhost";
        time_t now = time(NULL);
        struct tm tm;

        if (msg_host[0])
            snprintf(host, sizeof(host), "%s", msg_host);
        else
            gethostname(host, sizeof(host) - 1);
        strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", localtime_r(&now, &tm));
        len = snprintf(line, sizeof(line), "%s %s %s[%ld]: %s%s\n", stamp, host,
                       msg_ident, (long)getpid(), level_name[level], text);
        if (len > 0)
            (void)!write(msg_logfd, line, (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1);
    } else if (msg_flags & MSG_SYSLOG) {
        if (!msg_syslog_open) {
            openlog(msg_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
            msg_syslog_open = 1;
        }
        syslog(level, "%s%s", level_name[level], text);
    }
    if (msg_flags & MSG_STDERR) {
        len = snprintf(line, sizeof(line), "postsift-%s: %s%s\n", msg_prog, level_name[level], text);
        if (len > 0)
            (void)!write(STDERR_FILENO, line, (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1);
    }
    errno = saved_errno;
}

/* msg_info - report */
void msg_info(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(LOG_INFO, fmt, ap);
    va_end(ap);
}

/* msg_warn - report trouble we recover from */
void msg_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(LOG_WARNING, fmt, ap);
    va_end(ap);
}

/* msg_debug - report only when verbose */
void msg_debug(const char *fmt, ...)
{
    va_list ap;

    if (!msg_verbose)
        return;
    va_start(ap, fmt);
    msg_vlog(LOG_DEBUG, fmt, ap);
    va_end(ap);
}

/* msg_run_cleanup - run the hook once, never recursively */
static void msg_run_cleanup(void)
{
    if (msg_cleanup_fn && !msg_in_cleanup) {
        msg_in_cleanup = 1;
        msg_cleanup_fn();
    }
}

/* msg_fatal - broken environment: log, clean up, exit */
void msg_fatal(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(LOG_ERR, fmt, ap);
    va_end(ap);
    msg_run_cleanup();
    exit(msg_fatal_status);
}

/* msg_panic - our own bug: log, clean up, abort */
void msg_panic(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(LOG_CRIT, fmt, ap);
    va_end(ap);
    msg_run_cleanup();
    abort();
}
