/*
 * milter - postsift-filter's milter side (docs/DESIGN.md, milter contract)
 *
 * The Sendmail 8 mail filter protocol, version 6, as Postfix's
 * smtpd_milters and non_smtpd_milters speak it (milter_protocol = 6),
 * implemented here rather than through libmilter: one session is one
 * worker process of the daemon (server/), which libmilter's one process
 * with a thread per connection cannot give. A packet is a 4-byte
 * big-endian length, a command byte and its data; every packet is read
 * under milter_timeout and at most MILTER_PACKET_MAX bytes long.
 *
 * The session asks Postfix for the right to add and change headers and
 * to quarantine (hold), for no replies to the events before the end of
 * the message (one round trip per message), and for the macros it logs:
 * {i} (the queue id) at MAIL, end of headers and end of message, the
 * client at connect. Headers and body are spooled as the message would
 * be received (the same LF form as the other modes), and at the end of
 * the message decide_message() (scan/) says what to do: pass and tag add
 * X-Virus-Scanned (and X-Virus-Status) and rename forged ones to
 * X-Untrusted-*, reject is a 554 5.7.1 reply, discard a discard,
 * quarantine a hold in Postfix's hold queue (quarantine_method = hold)
 * or a copy in quarantine_dir and a discard (store), and every failure of
 * ours a 451 4.x.x reply. Anything the protocol does not allow ends the
 * connection: Postfix then applies milter_default_action (tempfail).
 */
#ifndef POSTSIFT_MILTER_H
#define POSTSIFT_MILTER_H

#include <signal.h>

#include "scan/inspect.h"
#include "lib/netio.h"
#include "lib/vbuf.h"

/* The largest packet taken: a body chunk of Postfix is 65535 bytes, a
 * header at most header_size_limit (102400 by default). */
#define MILTER_PACKET_MAX   (1024 * 1024)

/* Set by the daemon's SIGTERM handler: between messages the session
 * ends at once; a message in progress is finished first. */
extern volatile sig_atomic_t milter_shutdown;

/* milter_read_packet - one packet from io: the command byte in *cmd, the
 * data in data (reset first). 1 on success, 0 on a clean end of input
 * before a packet, -1 with why in err (a truncated packet, a length of 0
 * or over MILTER_PACKET_MAX, a timeout, a shutdown). */
int     milter_read_packet(NETIO *io, int *cmd, VBUF *data, VBUF *err);

/* milter_session - serve one milter connection on fd (which stays
 * open: the session works on a duplicate) until SMFIC_QUIT, the end of
 * input, a protocol error or a shutdown. in may be NULL (the scanner
 * could not be set up; open_err says why): every message then gets
 * error_action. peer is the MTA's address, for the logs. */
void    milter_session(int fd, const char *peer, INSPECTOR *in, const char *open_err);

#endif
