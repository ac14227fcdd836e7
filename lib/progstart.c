/*
 * progstart - what every postsift program does first (see progstart.h)
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/progstart.h"
#include "lib/version.h"

/* prog_hygiene - a sane process before anything else happens */
void prog_hygiene(void)
{
    int fd;

    umask(077);
    /* Descriptors 0-2 must exist, or a file we open could become stdout. */
    while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
        /* keep going */ ;
    if (fd > 2)
        (void)close(fd);
    signal(SIGPIPE, SIG_IGN);
}

/* prog_version - --version as the first argument: say who we are, exit */
void prog_version(int argc, char **argv, const char *program)
{
    if (argc < 2 || strcmp(argv[1], "--version") != 0)
        return;
    if (printf("%s %s\n", program, version_string()) < 0 || fflush(stdout) != 0)
        exit(1);
    exit(0);
}

/* prog_opts_init - nothing given yet */
void prog_opts_init(PROG_OPTS *po)
{
    po->config = CONFIG_DEFAULT_PATH;
    po->config_given = 0;
    po->overrides = NULL;
    po->noverrides = 0;
}

/* prog_opts_free - release the override list */
void prog_opts_free(PROG_OPTS *po)
{
    myfree(po->overrides);
    po->overrides = NULL;
    po->noverrides = 0;
}

/* prog_opts_config - -c FILE */
void prog_opts_config(PROG_OPTS *po, const char *path)
{
    po->config = path;
    po->config_given = 1;
}

/* prog_opts_override - -o name=value */
void prog_opts_override(PROG_OPTS *po, const char *nameval)
{
    po->overrides = myrealloc(po->overrides, (size_t)(po->noverrides + 1) * sizeof(char *));
    po->overrides[po->noverrides++] = nameval;
}

/* prog_configure - read and check the settings, then set up logging */
int prog_configure(const PROG_OPTS *po, VBUF *err)
{
    int i;

    config_init();
    if (config_load(po->config, po->config_given, err) < 0)
        return -1;
    for (i = 0; i < po->noverrides; i++)
        if (config_override(po->overrides[i], err) < 0)
            return -1;
    if (config_finish(err) < 0)
        return -1;
    msg_set_syslog_name(var_syslog_name);
    msg_set_hostname(var_myhostname);
    if (var_log_file && *var_log_file)
        msg_set_logfile(var_log_file);
    return 0;
}
