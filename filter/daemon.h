/*
 * daemon - postsift-filter -m smtpd -d: the SMTP filter as a daemon
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

/* daemon_main - run until SIGTERM; foreground: do not detach (systemd,
 * tests). po: the command line settings, re-read on SIGHUP. Returns the
 * exit status. */
int daemon_main(const PROG_OPTS *po, int foreground);

#endif
