/*
 * netio - buffered socket I/O with deadlines and a line bound
 *
 * One layer under all SMTP traffic, client and server side. Every read and
 * write polls first and loops on EINTR; no alarm(). Two limits apply at
 * once: a per-operation timeout and an absolute per-transaction deadline
 * (CLOCK_MONOTONIC). Lines end at LF; a CR before it is stripped; a line
 * longer than the bound is reported as such (and consumed to its end).
 */
#ifndef POSTSIFT_NETIO_H
#define POSTSIFT_NETIO_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "lib/vbuf.h"

typedef struct NETIO NETIO;

/* error kinds reported by netio_errkind() */
#define NETIO_OK       0
#define NETIO_TIMEOUT  1    /* timeout or deadline passed */
#define NETIO_EOF      2    /* peer closed */
#define NETIO_IOERR    3    /* read/write/connect failed (errno text) */
#define NETIO_TOOLONG  4    /* line over the bound */
#define NETIO_INTR     5    /* a signal came while the interrupt flag was set */

/* netio_connect - connect to "[host]:port", "host:port", "inet:host:port",
   "unix:/path" or "/path"; NULL with why in err (connect refused, ...) */
NETIO *netio_connect(const char *target, int timeout, VBUF *err);

/* netio_fdopen - wrap a connected descriptor pair (rfd may equal wfd) */
NETIO *netio_fdopen(int rfd, int wfd);

/* netio_close - flush nothing, close descriptors, free */
void netio_close(NETIO *io);

/* netio_set_quickack - on a TCP socket, acknowledge each read at once
 * (TCP_QUICKACK). For a peer that writes small messages back to back
 * without TCP_NODELAY and waits for our answer after the last one
 * (Postfix's milter client): Nagle's algorithm holds its last message
 * until our delayed ACK, 40 ms later. Elsewhere a no-op. */
void    netio_set_quickack(NETIO *io, int on);

/* netio_set_timeout - seconds allowed per read or write (0 = none) */
void netio_set_timeout(NETIO *io, int seconds);

/* netio_set_deadline - absolute limit, seconds from now (0 = none) */
void netio_set_deadline(NETIO *io, int seconds_from_now);

/* netio_set_interrupt - while *flag is non-zero, a wait that a signal
 * interrupts gives up with NETIO_INTR instead of waiting on (a daemon's
 * shutdown flag, so that an idle session ends at once); reads only:
 * buffered output still goes out. NULL = never */
void netio_set_interrupt(NETIO *io, const volatile sig_atomic_t *flag);

/* netio_read_line - next line without its CRLF/LF into line (reset first);
   returns the number of bytes consumed including the line end, or -1 on
   EOF/timeout/error/over-long (see netio_errkind). *ended_crlf, when not
   NULL, says whether the line ended in CRLF (1) or a bare LF (0). */
ssize_t netio_read_line(NETIO *io, VBUF *line, size_t bound, int *ended_crlf);

/* netio_read - up to len bytes (buffered data first); 0 on EOF, -1 error */
ssize_t netio_read(NETIO *io, void *buf, size_t len);

/* netio_pending - bytes already buffered for reading (pipelining checks) */
size_t netio_pending(const NETIO *io);

/* netio_peer_gone - without waiting: the peer has closed its side (EOF
 * or an error is waiting on the read descriptor, after whatever input is
 * still unread); 0 when it is still there or cannot be told */
int netio_peer_gone(const NETIO *io);

/* netio_write - buffer len bytes, flushing as the buffer fills; -1 error */
int netio_write(NETIO *io, const void *buf, size_t len);
int netio_puts(NETIO *io, const char *s);
int netio_printf(NETIO *io, const char *fmt, ...) PS_PRINTF(2, 3);

/* netio_flush - write out everything buffered; -1 on error */
int netio_flush(NETIO *io);

/* netio_errkind / netio_strerror - what went wrong last */
int netio_errkind(const NETIO *io);
const char *netio_strerror(const NETIO *io);

/* netio_fd - the read descriptor */
int netio_fd(const NETIO *io);

#endif
