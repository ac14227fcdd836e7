/*
 * msg - logging and the four kinds of trouble
 *
 * msg_info() and msg_warn() report; msg_fatal() is a broken environment: it
 * logs, runs the cleanup hook, and exits with the fatal status (75,
 * EX_TEMPFAIL, unless the program set another); msg_panic() is our own bug
 * and aborts after the same cleanup. Lines go to syslog (facility mail,
 * ident "postsift/PROGRAM"), to a log file when log_file is set, and to
 * stderr when MSG_STDERR is asked for (a person running a command by hand).
 */
#ifndef POSTSIFT_MSG_H
#define POSTSIFT_MSG_H

#include <stdarg.h>
#include <sys/types.h>

#define MSG_SYSLOG 1  /* log to syslog(3), facility mail */
#define MSG_STDERR 2  /* also write to stderr */

#if defined(__GNUC__)
#define PS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define PS_NORETURN __attribute__((noreturn))
#else
#define PS_PRINTF(f, a)
#define PS_NORETURN
#endif

extern int msg_verbose;

void msg_init(const char *program, int flags);
void msg_set_flags(int flags);
int msg_get_flags(void);
/* msg_set_logfile - append to path (safefile.h: a regular file with one
 * link, owned by root, us or, for root, daemon_user, not a symlink) or,
 * when it is not usable, warn and use syslog */
void msg_set_logfile(const char *path);
/* msg_logfile_give - a log_file that this process created as root is
 * handed to uid/gid, so that the process can reopen it after dropping
 * privileges (a daemon's reload); an existing file is never given away */
void msg_logfile_give(uid_t uid, gid_t gid);
/* msg_reopen_request - safe in a signal handler: the next line is
 * written to a log_file opened again by name (logrotate renamed the old
 * one); nothing else changes (no settings, no signatures). */
void msg_reopen_request(void);
/* msg_reopen - open log_file again by name now (when one is in use) */
void msg_reopen(void);
void msg_set_syslog_name(const char *name);
/* msg_set_hostname - the host name in log_file lines (default: gethostname) */
void msg_set_hostname(const char *name);
const char *msg_program(void);
void msg_set_fatal_status(int status);
void msg_set_cleanup(void (*fn)(void));

void msg_info(const char *fmt, ...) PS_PRINTF(1, 2);
void msg_warn(const char *fmt, ...) PS_PRINTF(1, 2);
void msg_debug(const char *fmt, ...) PS_PRINTF(1, 2);
PS_NORETURN void msg_fatal(const char *fmt, ...) PS_PRINTF(1, 2);
PS_NORETURN void msg_panic(const char *fmt, ...) PS_PRINTF(1, 2);
void msg_vlog(int level, const char *fmt, va_list ap);

/* printable - copy of s safe for a log line (controls as '?'), bounded */
char *msg_printable(char *dst, size_t dstlen, const char *s);

#endif
