/*
 * daemon - postsift-filter -m smtpd -d and -m milter: the daemons
 *
 * One glue for both front ends: DAEMON_SMTPD serves the SMTP filter
 * (smtpd_* settings), DAEMON_MILTER the milter (milter_* settings,
 * milter_listen in Postfix's inet:HOST:PORT / unix:/PATH syntax). Below,
 * the SMTP daemon's settings; the milter's are their milter_ twins.
 *
 * Binds smtpd_listen (IPv4 and IPv6), or takes the listening sockets a
 * service manager passed (socket activation: LISTEN_PID, LISTEN_FDS), loads and compiles the scanner once,
 * drops privileges to daemon_user, writes smtpd_pid_file, then serves
 * through smtpd_workers worker processes forked after the load, so that
 * they share the engine; each worker serves smtpd_max_sessions sessions
 * and is replaced. SIGTERM drains: no new sessions, the ones in progress
 * finish. SIGHUP, or a change of the signature directory seen every
 * signature_check_interval, loads new settings and signatures beside the
 * old ones; new workers get the new engine, old workers finish their
 * sessions and exit; no connection is refused or tempfailed meanwhile.
 * Signals: the master takes SIGTERM/SIGINT (drain; twice: kill) and
 * SIGHUP (reload); workers take SIGTERM (drain: smtpd_shutdown) and
 * SIGUSR1 (retire after a reload: stop accepting, session ends normally).
 * Started by a user other than root, daemon_user must be that user.
 * The preforking itself is server/ (server.h); this is the SMTP glue.
 */
#ifndef POSTSIFT_DAEMON_H
#define POSTSIFT_DAEMON_H

#include "lib/progstart.h"

#include "lib/vbuf.h"

#define DAEMON_SMTPD    1               /* smtpd_session() */
#define DAEMON_MILTER   2               /* milter_session() */

/* daemon_main - run until SIGTERM; foreground: do not detach (systemd,
 * tests). po: the command line settings, re-read on SIGHUP; kind:
 * DAEMON_SMTPD or DAEMON_MILTER. Returns the exit status. */
int     daemon_main(const PROG_OPTS *po, int foreground, int kind);

/* daemon_milter_listen - milter_listen's addresses (inet:HOST:PORT,
 * inet6:HOST:PORT, unix:/PATH, local:/PATH) in the server's syntax
 * (HOST:PORT, [HOST]:PORT, unix:/PATH) in out; -1 with why in err */
int     daemon_milter_listen(const char *spec, VBUF *out, VBUF *err);

#endif
