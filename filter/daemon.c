/*
 * daemon - placeholder until the daemon lands (issue 3)
 */
#include "filter/daemon.h"
#include "lib/exitpolicy.h"
#include "lib/msg.h"

/* daemon_main - not available yet: refuse to start */
int daemon_main(const PROG_OPTS *po, int foreground)
{
    (void)po;
    (void)foreground;
    msg_warn("the smtpd daemon is not available in this build");
    return EXIT_TEMPFAIL;
}
