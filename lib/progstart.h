/*
 * progstart - what every postsift program does first
 *
 * Process hygiene (umask 077, descriptors 0-2 open, SIGPIPE ignored),
 * --version, and the common configuration options: -c FILE, repeatable
 * -o name=value, and -n (print the settings that differ from the
 * defaults).
 */
#ifndef POSTSIFT_PROGSTART_H
#define POSTSIFT_PROGSTART_H

#include "lib/vbuf.h"

typedef struct PROG_OPTS {
    const char  *config;        /* -c FILE, or the default path */
    int          config_given;  /* -c was used: the file must exist */
    const char **overrides;     /* -o name=value, in order */
    int          noverrides;
} PROG_OPTS;

/* prog_hygiene - umask, open fds 0-2 on /dev/null, SIGPIPE ignored */
void prog_hygiene(void);

/* prog_version - when the first argument is --version: print "PROGRAM
 * VERSION" on stdout and exit 0; otherwise return. Only the first
 * argument counts, so that an address "--version" among a filter's
 * recipients (after "--") is never taken for the option. */
void prog_version(int argc, char **argv, const char *program);

void prog_opts_init(PROG_OPTS *po);
void prog_opts_free(PROG_OPTS *po);
void prog_opts_config(PROG_OPTS *po, const char *path);
void prog_opts_override(PROG_OPTS *po, const char *nameval);

/* prog_configure - defaults, file, overrides, expansion; then point the
 * logger at log_file/syslog_name. -1 with "FILE, line N: why" in err. */
int prog_configure(const PROG_OPTS *po, VBUF *err);

#endif
