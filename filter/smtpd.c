/*
 * smtpd - placeholder until the session engine lands (issue 3): answers
 * every session with 421, so that nothing is accepted and lost.
 */
#include <string.h>
#include <unistd.h>

#include "filter/smtpd.h"
#include "lib/msg.h"

volatile sig_atomic_t smtpd_shutdown;

/* smtpd_session - refuse the session with a temporary error */
void smtpd_session(int rfd, int wfd, const SMTPD_PEER *peer, INSPECTOR *in,
                   const char *open_err)
{
    static const char text[] = "421 4.3.0 postsift smtpd mode not available in this build\r\n";

    (void)rfd;
    (void)in;
    (void)open_err;
    msg_warn("smtpd session from %s refused: not available in this build",
             peer && peer->addr ? peer->addr : "unknown");
    (void)!write(wfd, text, sizeof(text) - 1);
}
