/*
 * smtpd - postsift-filter's SMTP server side (docs/DESIGN.md, smtpd mode)
 *
 * One session engine, three ways to run it: under spawn(8) on
 * stdin/stdout, in a worker of the daemon on an accepted socket, and as a
 * before-queue smtpd_proxy_filter (the same protocol, one message per
 * connection). MAIL and RCPT are relayed in lock-step to the downstream
 * (reinject_target, default [127.0.0.1]:10026) with every ESMTP parameter
 * and XFORWARD attribute; DATA is spooled (ending only at <CRLF>.<CRLF>),
 * inspected through decide_message() exactly as in pipe mode, and on pass
 * streamed to the downstream; its final reply goes upstream. 250 goes
 * upstream only after the downstream's 250.
 *
 * LMTP (RFC 2033): a session that greets with LHLO is an LMTP session,
 * so that Postfix's lmtp(8) can be the scan transport. MAIL and RCPT are
 * then answered here, the whole transaction goes downstream (by SMTP)
 * after the verdict, and the final dot gets one reply per accepted
 * recipient: the downstream's refusal of that recipient, or the
 * downstream's reply to the message.
 */
#ifndef POSTSIFT_SMTPD_H
#define POSTSIFT_SMTPD_H

#include <signal.h>

#include "scan/inspect.h"
#include "lib/vbuf.h"

/* Set by the daemon's SIGTERM handler: finish the transaction in progress,
 * then answer 421 and close. */
extern volatile sig_atomic_t smtpd_shutdown;

/* The session's protocol, fixed by its first greeting (or its first
 * MAIL without one) */
typedef enum SMTPD_PROTO {
    SMTPD_PROTO_NONE,           /* no greeting yet */
    SMTPD_PROTO_SMTP,           /* EHLO, HELO, or MAIL without a greeting */
    SMTPD_PROTO_LMTP,           /* LHLO */
} SMTPD_PROTO;

typedef struct SMTPD_PEER {
    const char *addr;       /* the upstream client's address, for logs */
    const char *port;
} SMTPD_PEER;

/* smtpd_session - serve one SMTP session on rfd/wfd until QUIT, EOF, a
 * timeout, smtpd_session_deadline, too many errors or shutdown. in may be
 * NULL (the scanner could not be set up; open_err says why): every
 * message then gets error_action. rfd and wfd stay open (the session
 * works on duplicates): the caller closes them. Never writes to stderr
 * (under spawn(8) it is the socket). Outside a transaction a shutdown
 * ends the session at once (421), inside one after it. peer is for the
 * logs only: who may send XFORWARD is decided from rfd itself (its
 * getpeername() address for TCP; a UNIX-domain socket, or a descriptor
 * that is no socket, counts as the loopback address), so a caller need
 * pass nothing more. */
void smtpd_session(int rfd, int wfd, const SMTPD_PEER *peer, INSPECTOR *in,
                   const char *open_err);

/* smtpd_spawn_session - postsift-filter -m smtpd without -d: one
 * session on stdin/stdout (spawn(8)), with the peer from getpeername()
 * and a scanner of its own; refuses to serve as root (every message then
 * gets error_action, the session itself runs). Returns the exit status,
 * 0. */
int     smtpd_spawn_session(void);

/* smtpd_state_reply - what the command table answers verb (any case) in
 * the state described, before the command's handler would run: 1 and
 * the reply line (a 501, 503, 550 or 554) in reply, 0 when the command
 * may run, -1 for an unknown verb. args: the command's arguments. Says
 * what the session does, for tests. */
int     smtpd_state_reply(const char *verb, int in_mail, int nrcpt, int xforward_ok,
                          const char *args, VBUF *reply);

/* smtpd_state_reply_proto - smtpd_state_reply() in a session whose
 * protocol is proto (smtpd_state_reply() is SMTPD_PROTO_NONE): EHLO and
 * HELO in an LMTP session, LHLO in an SMTP one, are unknown there (500);
 * DATA without a recipient is 503 in LMTP (RFC 2033), 554 in SMTP. */
int     smtpd_state_reply_proto(const char *verb, SMTPD_PROTO proto, int in_mail, int nrcpt,
                                int xforward_ok, const char *args, VBUF *reply);

/* smtpd_host_listed - addr (numeric IPv4 or IPv6; an IPv4-mapped IPv6
 * address counts as IPv4) matches an entry of list: numeric addresses
 * and networks (addr/bits, IPv6 perhaps in brackets) separated by commas
 * or white space, as smtpd_authorized_xforward_hosts. An entry that is
 * neither never matches and is logged with a warning. */
int smtpd_host_listed(const char *list, const char *addr);

#endif
