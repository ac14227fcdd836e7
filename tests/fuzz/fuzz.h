/*
 * fuzz - what postsift's fuzz targets share (tests/fuzz/README.md)
 *
 * Every tests/fuzz/fuzz_NAME.c defines LLVMFuzzerInitialize() and
 * LLVMFuzzerTestOneInput(); it is linked twice: with libFuzzer (make
 * fuzz) and with replay.c, a main() that runs every file of the seed
 * corpus once (make all builds it as build/tests/test_fuzz_replay_NAME).
 *
 * The harness gives each process a private work directory (spool_dir,
 * quarantine_dir, unix sockets), removed at exit, and scripted peers that
 * live in the same thread as the code under test: poll() and
 * clock_gettime() are wrapped at link time (-Wl,--wrap), every poll()
 * first lets the peers read and answer, and a poll() that nothing can
 * ever satisfy makes the clock jump by its timeout instead of sleeping.
 * So a session is deterministic, never sleeps, and a timeout costs
 * nothing.
 */
#ifndef POSTSIFT_FUZZ_H
#define POSTSIFT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "lib/msg.h"
#include "lib/vbuf.h"

/* The libFuzzer interface, defined by each target. */
int     LLVMFuzzerInitialize(int *argc, char ***argv);
int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_setup - once per process: quiet logging (POSTSIFT_FUZZ_VERBOSE=1
 * logs to stderr), default settings, the work directory with spool/ and
 * quarantine/ in it (spool_dir and quarantine_dir point there) */
void    fuzz_setup(const char *name);

/* fuzz_verbose - $POSTSIFT_FUZZ_VERBOSE: 0 quiet, 1 the log lines on
 * stderr, 2 also what the targets see (replies, verdicts) */
int     fuzz_verbose(void);

/* fuzz_workdir - the private work directory */
const char *fuzz_workdir(void);

/* fuzz_path - NAME under the work directory, into buf; aborts when it
 * does not fit */
const char *fuzz_path(char *buf, size_t len, const char *name);

/* fuzz_set - one setting, as -o gives it; aborts on error */
void    fuzz_set(const char *fmt, ...) PS_PRINTF(1, 2);

/* fuzz_at_exit - run fn at exit, before the work directory is removed
 * (last registered, first run) */
void    fuzz_at_exit(void (*fn)(void));

/* fuzz_fail - an invariant does not hold: say which, then abort (a crash
 * for libFuzzer, a failure for the replay) */
PS_NORETURN void fuzz_fail(const char *fmt, ...) PS_PRINTF(1, 2);

/* fuzz_known - the check named id is to be skipped: id is a word of
 * $POSTSIFT_FUZZ_IGNORE (to fuzz on past a finding that is known and not
 * fixed yet; the replay of the corpus does not set it) */
int     fuzz_known(const char *id);

/* fuzz_empty_dir - remove every entry of a directory (not recursive) */
void    fuzz_empty_dir(const char *dir);

/* fuzz_memfd - an anonymous file holding len bytes, offset 0 */
int     fuzz_memfd(const void *data, size_t len);

 /*
  * Scripted peers (peer.c).
  */

/* fuzz_script_pair - a connected socket pair: the code under test gets
 * *code_fd; the harness end sends data (as fast as the code reads it)
 * and then closes its sending side. lazy: close it only when the code
 * waits for more input than there is (an SMTP client that stays until
 * the server has answered everything), else as soon as all is sent. What
 * the code writes is kept (see fuzz_script_received). */
int     fuzz_script_pair(const void *data, size_t len, int lazy, int *code_fd);

/* fuzz_script_received - the bytes the code wrote to script peer id */
const char *fuzz_script_received(int id, size_t *len);

/* kinds of listener */
#define FUZZ_SMTP   1       /* a downstream SMTP server (smtpcli's peer) */
#define FUZZ_CLAMD  2       /* a clamd that answers INSTREAM and VERSION */
#define FUZZ_SCRIPT 3       /* sends the script set by fuzz_listen_script */

/* fuzz_listen - a unix socket in the work directory, served by the
 * harness; its path */
const char *fuzz_listen(int kind, const char *name);

/* fuzz_listen_script - what the next FUZZ_SCRIPT connection gets */
void    fuzz_listen_script(const void *data, size_t len);

/* fuzz_smtp_accepted - queue ids ("FZ<n>", space-separated) of the
 * messages the downstream accepted since fuzz_peers_reset */
const char *fuzz_smtp_accepted(void);

/* fuzz_smtp_body - what the downstream got as message id: the body
 * un-stuffed, every line ended by LF; NULL when it was not accepted (or
 * more than 64 were) */
const VBUF *fuzz_smtp_body(const char *id);

/* fuzz_peers_reset - end of one input: close every peer connection
 * (listeners stay) */
void    fuzz_peers_reset(void);

/* fuzz_clock_skipped - milliseconds the clock has jumped in all */
long long fuzz_clock_skipped(void);

 /*
  * The smtpd session runner (session.c), for fuzz_smtpd and fuzz_esmtp.
  */

/* fuzz_session_setup - settings, the downstream and clamd listeners and
 * the inspector (clamd backend), once */
void    fuzz_session_setup(const char *name);

/* fuzz_session_run - one smtpd session with these client bytes, then the
 * checks: well-formed replies, every message the downstream accepted
 * reported to the client, nothing bad relayed */
void    fuzz_session_run(const char *data, size_t len);

#endif
