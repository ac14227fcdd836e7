/*
 * netio - buffered socket I/O with deadlines and a line bound (see netio.h)
 *
 * Every read and write waits in poll() first, for no longer than the
 * per-operation timeout and the transaction deadline allow, and then does
 * one non-blocking transfer; EINTR and EAGAIN go back to poll(). Sockets
 * use recv()/send() with MSG_DONTWAIT (and MSG_NOSIGNAL, so a closed peer
 * is an EPIPE error, not a SIGPIPE); pipes and other descriptors use
 * read()/write(), writes in PIPE_BUF pieces so that a write after POLLOUT
 * cannot block. The descriptors' own flags are never changed: in spawn(8)
 * mode they are shared with Postfix.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/hostport.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/netio.h"
#include "lib/vbuf.h"

#define NETIO_BUFSIZE   8192
#define NETIO_ERR_CAP   1024
#define NETIO_NAME_MAX  300

struct NETIO {
    int     rfd, wfd;
    int     rsock, wsock;       /* descriptor is a socket */
    char    rbuf[NETIO_BUFSIZE];
    size_t  roff, rlen;         /* unread data is rbuf[roff..rlen) */
    char    wbuf[NETIO_BUFSIZE];
    size_t  wlen;
    int     timeout;            /* seconds per operation, 0 = none */
    int     has_deadline;
    struct timespec deadline;   /* CLOCK_MONOTONIC */
    struct timespec op_end;     /* end of the current operation */
    int     op_timed;           /* op_end is set */
    int     errkind;
    int     quickack;           /* TCP_QUICKACK after every read */
    const volatile sig_atomic_t *intr;  /* give up on EINTR while set */
    VBUF   *err;
    char    name[NETIO_NAME_MAX];   /* the peer, for error texts */
};

/* netio_ms_until - milliseconds from now until t, 0 when past */
static long long netio_ms_until(struct timespec t, struct timespec now)
{
    long long ms = clock_ms_between(now, t);

    if (ms < 0)
        return 0;
    /* round a sub-millisecond remainder up, so that we never spin */
    if (ms == 0 && (t.tv_sec > now.tv_sec
                    || (t.tv_sec == now.tv_sec && t.tv_nsec > now.tv_nsec)))
        return 1;
    return ms;
}

/* netio_seterr - remember what went wrong */
static void netio_seterr(NETIO *io, int kind, const char *fmt, ...) PS_PRINTF(3, 4);

static void netio_seterr(NETIO *io, int kind, const char *fmt, ...)
{
    va_list ap;

    io->errkind = kind;
    vbuf_reset(io->err);
    va_start(ap, fmt);
    if (vbuf_vsprintf_append(io->err, fmt, ap) < 0)
        vbuf_strcpy(io->err, "I/O error");
    va_end(ap);
}

/* netio_op_begin - start one operation: its own timeout begins now */
static void netio_op_begin(NETIO *io)
{
    io->errkind = NETIO_OK;
    vbuf_reset(io->err);
    if (io->timeout > 0) {
        io->op_end = clock_now();
        io->op_end.tv_sec += io->timeout;
        io->op_timed = 1;
    } else {
        io->op_timed = 0;
    }
}

/* netio_wait - poll fd for events within the limits; 0 ready, -1 timeout */
static int netio_wait(NETIO *io, int fd, short events, const char *what)
{
    struct pollfd pfd;
    long long ms;
    int n;

    for (;;) {
        struct timespec now = clock_now();

        ms = -1;
        if (io->op_timed)
            ms = netio_ms_until(io->op_end, now);
        if (io->has_deadline) {
            long long dl = netio_ms_until(io->deadline, now);

            if (ms < 0 || dl < ms)
                ms = dl;
        }
        if (ms == 0) {
            netio_seterr(io, NETIO_TIMEOUT, "timeout %s %s", what, io->name);
            return -1;
        }
        if (ms > INT_MAX)
            ms = INT_MAX;
        if (io->intr && *io->intr && (events & POLLIN)) {
            netio_seterr(io, NETIO_INTR, "interrupted %s %s", what, io->name);
            return -1;
        }
        pfd.fd = fd;
        pfd.events = events;
        pfd.revents = 0;
        n = poll(&pfd, 1, (int)ms);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            netio_seterr(io, NETIO_IOERR, "poll %s %s: %s", what, io->name, strerror(errno));
            return -1;
        }
        if (n > 0)
            return 0;               /* POLLHUP/POLLERR: the transfer says why */
    }
}

/* netio_quickack - acknowledge what was read at once (the kernel falls
 * back to delayed ACKs after a while; the option is not sticky). A
 * descriptor where it does not work stops being asked. */
static void netio_quickack(NETIO *io)
{
#ifdef TCP_QUICKACK
    int     on = 1;

    if (setsockopt(io->rfd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof(on)) < 0)
        io->quickack = 0;
#else
    io->quickack = 0;
#endif
}

/* netio_fill - read more into rbuf; >0 bytes, 0 EOF, -1 error */
static ssize_t netio_fill(NETIO *io)
{
    ssize_t n;

    if (io->roff == io->rlen)
        io->roff = io->rlen = 0;
    else if (io->roff > 0) {
        memmove(io->rbuf, io->rbuf + io->roff, io->rlen - io->roff);
        io->rlen -= io->roff;
        io->roff = 0;
    }
    for (;;) {
        if (netio_wait(io, io->rfd, POLLIN, "reading from") < 0)
            return -1;
        if (io->rsock)
            n = recv(io->rfd, io->rbuf + io->rlen, sizeof(io->rbuf) - io->rlen, MSG_DONTWAIT);
        else
            n = read(io->rfd, io->rbuf + io->rlen, sizeof(io->rbuf) - io->rlen);
        if (n > 0) {
            io->rlen += (size_t)n;
            if (io->quickack)
                netio_quickack(io);
            return n;
        }
        if (n == 0) {
            netio_seterr(io, NETIO_EOF, "lost connection with %s", io->name);
            return 0;
        }
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
            continue;
        netio_seterr(io, NETIO_IOERR, "read from %s: %s", io->name, strerror(errno));
        return -1;
    }
}

/* netio_expired - the operation's time or the deadline is up */
static int netio_expired(NETIO *io)
{
    struct timespec now;

    if (!io->op_timed && !io->has_deadline)
        return 0;
    now = clock_now();
    return (io->op_timed && netio_ms_until(io->op_end, now) == 0)
        || (io->has_deadline && netio_ms_until(io->deadline, now) == 0);
}

/* netio_send_all - write len bytes to wfd within the limits; -1 on error.
 * A socket is tried at once (it nearly always has room, and the poll()
 * would cost a system call per reply); poll() only when it is full. */
static int netio_send_all(NETIO *io, const char *buf, size_t len)
{
    ssize_t n;
    size_t chunk;
    int     ready = io->wsock && !netio_expired(io);

    while (len > 0) {
        if (!ready && netio_wait(io, io->wfd, POLLOUT, "writing to") < 0)
            return -1;
        ready = 0;
        if (io->wsock) {
            n = send(io->wfd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        } else {
            chunk = len > PIPE_BUF ? PIPE_BUF : len;
            n = write(io->wfd, buf, chunk);
        }
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            if (errno == EPIPE || errno == ECONNRESET)
                netio_seterr(io, NETIO_EOF, "lost connection with %s", io->name);
            else
                netio_seterr(io, NETIO_IOERR, "write to %s: %s", io->name, strerror(errno));
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* netio_is_socket - the descriptor is a socket */
static int netio_is_socket(int fd)
{
    struct stat st;

    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* netio_fdopen - wrap a connected descriptor pair (rfd may equal wfd) */
NETIO *netio_fdopen(int rfd, int wfd)
{
    NETIO *io = mycalloc(1, sizeof(*io));

    io->rfd = rfd;
    io->wfd = wfd;
    io->rsock = netio_is_socket(rfd);
    io->wsock = (wfd == rfd) ? io->rsock : netio_is_socket(wfd);
    io->err = vbuf_alloc(NETIO_ERR_CAP);
    io->errkind = NETIO_OK;
    if (rfd == wfd)
        snprintf(io->name, sizeof(io->name), "fd %d", rfd);
    else
        snprintf(io->name, sizeof(io->name), "fd %d/%d", rfd, wfd);
    return io;
}

/* netio_close - flush nothing, close descriptors, free */
void netio_close(NETIO *io)
{
    if (io == NULL)
        return;
    if (io->rfd >= 0)
        close(io->rfd);
    if (io->wfd >= 0 && io->wfd != io->rfd)
        close(io->wfd);
    vbuf_free(io->err);
    myfree(io);
}

/* netio_set_quickack - see netio.h */
void    netio_set_quickack(NETIO *io, int on)
{
    io->quickack = on && io->rsock;
}

/* netio_set_timeout - seconds allowed per read or write (0 = none) */
void netio_set_timeout(NETIO *io, int seconds)
{
    io->timeout = seconds > 0 ? seconds : 0;
}

/* netio_set_interrupt - give up waiting while *flag is set */
void netio_set_interrupt(NETIO *io, const volatile sig_atomic_t *flag)
{
    io->intr = flag;
}

/* netio_set_deadline - absolute limit, seconds from now (0 = none) */
void netio_set_deadline(NETIO *io, int seconds_from_now)
{
    if (seconds_from_now > 0) {
        io->deadline = clock_now();
        io->deadline.tv_sec += seconds_from_now;
        io->has_deadline = 1;
    } else {
        io->has_deadline = 0;
    }
}

/* netio_read_line - next line without its line end, bounded */
ssize_t netio_read_line(NETIO *io, VBUF *line, size_t bound, int *ended_crlf)
{
    size_t consumed = 0;
    int toolong = 0;
    char *nl;
    size_t take;

    netio_op_begin(io);
    vbuf_reset(line);
    for (;;) {
        if (io->roff == io->rlen && netio_fill(io) <= 0)
            return -1;
        nl = memchr(io->rbuf + io->roff, '\n', io->rlen - io->roff);
        take = nl ? (size_t)(nl - (io->rbuf + io->roff)) : io->rlen - io->roff;
        /* keep up to bound+1 bytes: the extra one may be the CR of a CRLF */
        if (!toolong) {
            if (vbuf_len(line) + take > bound + 1
                || vbuf_append(line, io->rbuf + io->roff, take) < 0) {
                toolong = 1;
                vbuf_reset(line);
            }
        }
        consumed += take;
        io->roff += take;
        if (nl)
            break;
    }
    io->roff += 1;                  /* the LF */
    consumed += 1;
    if (!toolong && vbuf_len(line) > 0 && line->data[vbuf_len(line) - 1] == '\r') {
        vbuf_truncate(line, vbuf_len(line) - 1);
        if (ended_crlf)
            *ended_crlf = 1;
    } else if (ended_crlf) {
        *ended_crlf = 0;
    }
    if (toolong || vbuf_len(line) > bound) {
        vbuf_reset(line);
        netio_seterr(io, NETIO_TOOLONG, "line longer than %zu bytes from %s", bound, io->name);
        return -1;
    }
    return (ssize_t)consumed;
}

/* netio_read - up to len bytes (buffered data first); 0 on EOF, -1 error */
ssize_t netio_read(NETIO *io, void *buf, size_t len)
{
    size_t n;

    netio_op_begin(io);
    if (len == 0)
        return 0;
    if (io->roff == io->rlen) {
        ssize_t got = netio_fill(io);

        if (got <= 0)
            return got;
    }
    n = io->rlen - io->roff;
    if (n > len)
        n = len;
    memcpy(buf, io->rbuf + io->roff, n);
    io->roff += n;
    return (ssize_t)n;
}

/* netio_pending - bytes already buffered for reading */
size_t netio_pending(const NETIO *io)
{
    return io->rlen - io->roff;
}

/* netio_peer_gone - EOF or an error waits on the read side, now */
int netio_peer_gone(const NETIO *io)
{
    struct pollfd pfd = {.fd = io->rfd, .events = POLLIN | POLLRDHUP};
    char    c;

    if (poll(&pfd, 1, 0) != 1)
        return 0;
    if (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR))
        return 1;
    /* POLLIN alone: data (still there) or, for a socket, perhaps EOF;
     * what netio has buffered already does not count either way */
    return io->rsock && recv(io->rfd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/* netio_flush_buf - write out wbuf within the current operation */
static int netio_flush_buf(NETIO *io)
{
    int ret = 0;

    if (io->wlen > 0) {
        ret = netio_send_all(io, io->wbuf, io->wlen);
        io->wlen = 0;               /* on error the stream is broken anyway */
    }
    return ret;
}

/* netio_write - buffer len bytes, flushing as the buffer fills */
int netio_write(NETIO *io, const void *buf, size_t len)
{
    const char *p = buf;
    size_t room;

    netio_op_begin(io);
    while (len > 0) {
        if (io->wlen == 0 && len >= sizeof(io->wbuf))
            return netio_send_all(io, p, len);
        room = sizeof(io->wbuf) - io->wlen;
        if (room > len)
            room = len;
        memcpy(io->wbuf + io->wlen, p, room);
        io->wlen += room;
        p += room;
        len -= room;
        if (io->wlen == sizeof(io->wbuf) && netio_flush_buf(io) < 0)
            return -1;
    }
    return 0;
}

/* netio_puts - write a string */
int netio_puts(NETIO *io, const char *s)
{
    return netio_write(io, s, strlen(s));
}

/* netio_printf - formatted write */
int netio_printf(NETIO *io, const char *fmt, ...)
{
    va_list ap;
    VBUF *tmp = vbuf_alloc(0);
    int ret;

    va_start(ap, fmt);
    ret = vbuf_vsprintf_append(tmp, fmt, ap);
    va_end(ap);
    if (ret == 0)
        ret = netio_write(io, vbuf_str(tmp), vbuf_len(tmp));
    else
        netio_seterr(io, NETIO_IOERR, "cannot format output for %s", io->name);
    vbuf_free(tmp);
    return ret;
}

/* netio_flush - write out everything buffered */
int netio_flush(NETIO *io)
{
    netio_op_begin(io);
    return netio_flush_buf(io);
}

/* netio_errkind - what went wrong last */
int netio_errkind(const NETIO *io)
{
    return io->errkind;
}

/* netio_strerror - text of what went wrong last */
const char *netio_strerror(const NETIO *io)
{
    if (io->errkind == NETIO_OK)
        return "no error";
    return vbuf_str(io->err);
}

/* netio_fd - the read descriptor */
int netio_fd(const NETIO *io)
{
    return io->rfd;
}

 /*
  * Connecting.
  */

/* netio_connect_fd - non-blocking connect with timeout; fd or -1 (errno) */
static int netio_connect_fd(int family, const struct sockaddr *sa, socklen_t salen, int timeout)
{
    struct timespec end = clock_now();
    struct pollfd pfd;
    int fd, n, soerr, flags;
    socklen_t len;
    long long ms;

    end.tv_sec += timeout;
    fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, sa, salen) < 0) {
        if (errno != EINPROGRESS && errno != EINTR && errno != EAGAIN) {
            soerr = errno;
            close(fd);
            errno = soerr;
            return -1;
        }
        for (;;) {
            ms = timeout > 0 ? netio_ms_until(end, clock_now()) : -1;
            if (ms == 0) {
                close(fd);
                errno = ETIMEDOUT;
                return -1;
            }
            pfd.fd = fd;
            pfd.events = POLLOUT;
            pfd.revents = 0;
            n = poll(&pfd, 1, ms > INT_MAX ? INT_MAX : (int)ms);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                soerr = errno;
                close(fd);
                errno = soerr;
                return -1;
            }
            if (n > 0)
                break;
        }
        soerr = 0;
        len = sizeof(soerr);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
            soerr = errno;
        if (soerr != 0) {
            close(fd);
            errno = soerr;
            return -1;
        }
    }
    /* back to blocking mode: netio uses MSG_DONTWAIT per call anyway */
    if ((flags = fcntl(fd, F_GETFL)) >= 0)
        (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    return fd;
}

/* netio_connect_unix - connect to a UNIX-domain socket */
static NETIO *netio_connect_unix(const char *path, int timeout, VBUF *err)
{
    struct sockaddr_un sun;
    NETIO *io;
    int fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (*path == 0 || strlen(path) >= sizeof(sun.sun_path)) {
        vbuf_sprintf(err, "connect to %s: bad socket path", path);
        return NULL;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    if ((fd = netio_connect_fd(AF_UNIX, (struct sockaddr *)&sun, sizeof(sun), timeout)) < 0) {
        vbuf_sprintf(err, "connect to %s: %s", path, strerror(errno));
        return NULL;
    }
    io = netio_fdopen(fd, fd);
    snprintf(io->name, sizeof(io->name), "%s", path);
    return io;
}

/* netio_addr_name - "host[addr]:port", or "[addr]:port" for a literal */
static void netio_addr_name(char *buf, size_t len, const char *host,
                            const struct sockaddr *sa, socklen_t salen)
{
    char addr[NI_MAXHOST], serv[NI_MAXSERV];

    if (getnameinfo(sa, salen, addr, sizeof(addr), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(buf, len, "%s", host);
        return;
    }
    if (strcmp(host, addr) == 0)
        snprintf(buf, len, "[%.64s]:%.15s", addr, serv);
    else
        snprintf(buf, len, "%.200s[%.64s]:%.15s", host, addr, serv);
}

/* netio_connect - connect to a target; NULL with why in err */
NETIO *netio_connect(const char *target, int timeout, VBUF *err)
{
    char name[NETIO_NAME_MAX];
    struct addrinfo hints, *res, *ai;
    HOSTPORT hp;
    const char *why;
    int rc, fd = -1, saved = 0;
    NETIO *io;

    vbuf_reset(err);
    if (strncmp(target, "unix:", 5) == 0)
        return netio_connect_unix(target + 5, timeout, err);
    if (*target == '/')
        return netio_connect_unix(target, timeout, err);
    if (hostport_parse(target, "25", HOSTPORT_INET, &hp, &why) < 0) {
        vbuf_sprintf(err, "bad address \"%.200s\": expected [host]:port, host:port or "
                     "unix:/path (%s)", target, why);
        return NULL;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = strspn(hp.port, "0123456789") == strlen(hp.port) ? AI_NUMERICSERV : 0;
    if ((rc = getaddrinfo(hp.host, hp.port, &hints, &res)) != 0) {
        vbuf_sprintf(err, "connect to %s%s%s:%s: %s", hp.bracketed ? "[" : "", hp.host,
                     hp.bracketed ? "]" : "", hp.port,
                     rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return NULL;
    }
    name[0] = 0;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        netio_addr_name(name, sizeof(name), hp.host, ai->ai_addr, ai->ai_addrlen);
        if ((fd = netio_connect_fd(ai->ai_family, ai->ai_addr, ai->ai_addrlen, timeout)) >= 0)
            break;
        saved = errno;
        vbuf_sprintf(err, "connect to %s: %s", name, strerror(saved));
    }
    freeaddrinfo(res);
    if (fd < 0) {
        if (vbuf_len(err) == 0)
            vbuf_sprintf(err, "connect to %s: no address", hp.host);
        return NULL;
    }
    vbuf_reset(err);
    io = netio_fdopen(fd, fd);
    snprintf(io->name, sizeof(io->name), "%s", name);
    return io;
}
