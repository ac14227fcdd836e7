/*
 * pdaemon - postsift-policy -m daemon: the policy server as a daemon
 */
#ifndef POSTSIFT_POLICY_PDAEMON_H
#define POSTSIFT_POLICY_PDAEMON_H

#include "lib/progstart.h"

/* pdaemon_main - run the daemon until SIGTERM; the exit status */
int     pdaemon_main(const PROG_OPTS *po, int foreground);

#endif
