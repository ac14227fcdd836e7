/*
 * test_lib_netio - line reading, bounds, timeouts, closed peers
 *
 * netio over socketpairs and pipes: CRLF and bare-LF lines, a line over the
 * bound (reported, consumed to its LF, the next line intact), EOF in the
 * middle of a line, a silent peer (timeout and deadline), writes to a
 * closed socket (an error, not SIGPIPE), pipes, and short reads.
 */
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "lib/netio.h"
#include "lib/vbuf.h"
#include "tests/unit/unittest.h"

/* now_ms - monotonic milliseconds */
static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* feed - write text into fd */
static void feed(int fd, const char *text)
{
    UT_CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text), "feed");
}

/* test_lines - line ends, the bound, EOF in a line */
static void test_lines(void)
{
    VBUF *line = vbuf_alloc(0);
    int sv[2], crlf = -1;
    NETIO *io;
    char big[100];

    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    io = netio_fdopen(sv[0], sv[0]);
    netio_set_timeout(io, 5);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    feed(sv[1], "one\r\ntwo\nthree\r\r\n");
    feed(sv[1], big);
    feed(sv[1], "\r\nafter\r\n1234567890\r\n12345678901\r\n\r\npartial");
    close(sv[1]);

    UT_EQ_INT(netio_read_line(io, line, 10, &crlf), 5, "one: consumed");
    UT_EQ_STR(vbuf_str(line), "one", "one");
    UT_EQ_INT(crlf, 1, "one: CRLF");
    UT_EQ_INT(netio_read_line(io, line, 10, &crlf), 4, "two: consumed");
    UT_EQ_STR(vbuf_str(line), "two", "two");
    UT_EQ_INT(crlf, 0, "two: bare LF");
    UT_EQ_INT(netio_read_line(io, line, 10, &crlf), 8, "three: consumed");
    UT_EQ_STR(vbuf_str(line), "three\r", "three: only one CR stripped");
    UT_EQ_INT(netio_read_line(io, line, 10, NULL), -1, "long line refused");
    UT_EQ_INT(netio_errkind(io), NETIO_TOOLONG, "long line kind");
    UT_EQ_INT(netio_read_line(io, line, 10, NULL), 7, "after: consumed");
    UT_EQ_STR(vbuf_str(line), "after", "line after the long one is intact");
    UT_EQ_INT(netio_read_line(io, line, 10, &crlf), 12, "at the bound");
    UT_EQ_STR(vbuf_str(line), "1234567890", "at the bound: text");
    UT_EQ_INT(netio_read_line(io, line, 10, NULL), -1, "one over the bound");
    UT_EQ_INT(netio_errkind(io), NETIO_TOOLONG, "one over: kind");
    UT_EQ_INT(netio_read_line(io, line, 10, NULL), 2, "empty line");
    UT_EQ_STR(vbuf_str(line), "", "empty line: text");
    UT_EQ_INT(netio_read_line(io, line, 10, NULL), -1, "EOF in a line");
    UT_EQ_INT(netio_errkind(io), NETIO_EOF, "EOF kind");
    UT_CHECK(strstr(netio_strerror(io), "lost connection") != NULL, "EOF text: %s",
             netio_strerror(io));
    netio_close(io);
    vbuf_free(line);
}

/* test_read_mixed - netio_read after a line gets the buffered rest first */
static void test_read_mixed(void)
{
    VBUF *line = vbuf_alloc(0);
    char buf[64];
    int sv[2];
    NETIO *io;

    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    io = netio_fdopen(sv[0], sv[0]);
    feed(sv[1], "HEAD\r\nbody bytes");
    UT_EQ_INT(netio_read_line(io, line, 100, NULL), 6, "head line");
    UT_EQ_INT(netio_pending(io), 10, "pending after the line");
    UT_EQ_INT(netio_read(io, buf, 4), 4, "read 4");
    UT_EQ_MEM(buf, 4, "body", 4, "read 4: bytes");
    UT_EQ_INT(netio_read(io, buf, sizeof(buf)), 6, "read the rest");
    close(sv[1]);
    UT_EQ_INT(netio_read(io, buf, sizeof(buf)), 0, "EOF");
    netio_close(io);
    vbuf_free(line);
}

/* test_timeouts - a silent peer: per-operation timeout and deadline */
static void test_timeouts(void)
{
    VBUF *line = vbuf_alloc(0);
    long long t0, ms;
    int sv[2];
    NETIO *io;

    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    io = netio_fdopen(sv[0], sv[0]);
    netio_set_timeout(io, 1);
    t0 = now_ms();
    UT_EQ_INT(netio_read_line(io, line, 100, NULL), -1, "timeout");
    ms = now_ms() - t0;
    UT_EQ_INT(netio_errkind(io), NETIO_TIMEOUT, "timeout kind");
    UT_CHECK(strstr(netio_strerror(io), "timeout reading from") != NULL, "timeout text: %s",
             netio_strerror(io));
    UT_CHECK(ms >= 900 && ms < 2000, "timeout took %lld ms", ms);

    netio_set_timeout(io, 10);
    netio_set_deadline(io, 1);
    t0 = now_ms();
    UT_EQ_INT(netio_read_line(io, line, 100, NULL), -1, "deadline");
    ms = now_ms() - t0;
    UT_CHECK(ms >= 900 && ms < 2000, "deadline took %lld ms", ms);
    /* the deadline has passed: everything fails at once now */
    t0 = now_ms();
    UT_EQ_INT(netio_flush(io), 0, "empty flush is fine");
    UT_EQ_INT(netio_write(io, "x", 1), 0, "buffered write is fine");
    UT_EQ_INT(netio_flush(io), -1, "flush after the deadline");
    UT_EQ_INT(netio_errkind(io), NETIO_TIMEOUT, "flush kind");
    UT_CHECK(now_ms() - t0 < 200, "past deadline fails at once");
    netio_set_deadline(io, 0);
    netio_close(io);
    close(sv[1]);
    vbuf_free(line);
}

static volatile sig_atomic_t intr_flag;

/* on_alarm_intr - the "daemon's SIGTERM" of test_interrupt */
static void on_alarm_intr(int sig)
{
    (void)sig;
    intr_flag = 1;
}

/* test_interrupt - a read gives up on a signal only while the flag is
 * set; writes and buffered input are not affected */
static void test_interrupt(void)
{
    struct sigaction sa;
    struct itimerval it;
    VBUF *line = vbuf_alloc(0);
    long long t0, ms;
    char c;
    int sv[2];
    NETIO *io;

    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    io = netio_fdopen(sv[0], sv[0]);
    netio_set_timeout(io, 10);
    netio_set_interrupt(io, &intr_flag);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm_intr;
    sa.sa_flags = SA_RESTART;       /* poll() still returns EINTR */
    sigaction(SIGALRM, &sa, NULL);
    memset(&it, 0, sizeof(it));
    it.it_value.tv_usec = 200000;
    t0 = now_ms();
    setitimer(ITIMER_REAL, &it, NULL);
    UT_EQ_INT(netio_read_line(io, line, 100, NULL), -1, "interrupted read");
    ms = now_ms() - t0;
    UT_EQ_INT(netio_errkind(io), NETIO_INTR, "interrupt kind");
    UT_CHECK(ms >= 150 && ms < 2000, "interrupt took %lld ms", ms);
    UT_EQ_INT(netio_write(io, "421 bye\r\n", 9), 0, "write while the flag is set");
    UT_EQ_INT(netio_flush(io), 0, "flush while the flag is set");
    UT_EQ_INT(read(sv[1], line->data, 9), 9, "the peer got it");
    UT_EQ_INT(netio_read(io, &c, 1), -1, "read with the flag already set fails at once");
    netio_set_interrupt(io, NULL);
    UT_EQ_INT(write(sv[1], "x\n", 2), 2, "peer sends");
    UT_EQ_INT(netio_read_line(io, line, 100, NULL), 2, "no flag: reads again");
    netio_close(io);
    close(sv[1]);
    signal(SIGALRM, SIG_DFL);
    vbuf_free(line);
    alarm(60);
}

/* test_closed_peer - EPIPE is an error, never a signal */
static void test_closed_peer(void)
{
    static char chunk[65536];
    int sv[2], pfd[2], i, rc = 0;
    NETIO *io;

    signal(SIGPIPE, SIG_DFL);
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    close(sv[1]);
    io = netio_fdopen(sv[0], sv[0]);
    netio_set_timeout(io, 2);
    for (i = 0; i < 4 && rc == 0; i++)
        rc = netio_write(io, chunk, sizeof(chunk));
    if (rc == 0)
        rc = netio_flush(io);
    UT_EQ_INT(rc, -1, "write to a closed socket");
    UT_CHECK(netio_errkind(io) == NETIO_EOF, "closed socket kind %d: %s",
             netio_errkind(io), netio_strerror(io));
    netio_close(io);

    /* pipes: read side and write side apart */
    UT_CHECK(pipe(pfd) == 0, "pipe");
    io = netio_fdopen(pfd[0], pfd[1]);
    netio_set_timeout(io, 2);
    UT_EQ_INT(netio_printf(io, "%s %d\r\n", "hello", 42), 0, "printf to a pipe");
    UT_EQ_INT(netio_flush(io), 0, "flush to a pipe");
    {
        VBUF *line = vbuf_alloc(0);

        UT_EQ_INT(netio_read_line(io, line, 100, NULL), 10, "read back from the pipe");
        UT_EQ_STR(vbuf_str(line), "hello 42", "pipe line");
        vbuf_free(line);
    }
    netio_close(io);
    signal(SIGPIPE, SIG_IGN);
}

/* test_peer_gone - the no-wait check for a peer that has closed */
static void test_peer_gone(void)
{
    int sv[2], pfd[2];
    char buf[8];
    NETIO *io;

    UT_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    io = netio_fdopen(sv[0], sv[0]);
    netio_set_timeout(io, 2);
    UT_EQ_INT(netio_peer_gone(io), 0, "an idle peer is there");
    UT_EQ_INT((int)write(sv[1], "QUIT\r\n", 6), 6, "peer writes");
    UT_EQ_INT(netio_peer_gone(io), 0, "a peer with data waiting is there");
    UT_EQ_INT((int)netio_read(io, buf, 2), 2, "read part of it");
    close(sv[1]);
    UT_EQ_INT(netio_peer_gone(io), 1, "closed after a pipelined command: gone");
    UT_EQ_INT((int)netio_read(io, buf, sizeof(buf)), 4, "the command is still there to read");
    UT_EQ_INT(netio_peer_gone(io), 1, "a closed socket peer is gone");
    netio_close(io);

    UT_CHECK(pipe(pfd) == 0, "pipe");
    io = netio_fdopen(pfd[0], -1);
    UT_EQ_INT(netio_peer_gone(io), 0, "a pipe with a writer is there");
    close(pfd[1]);
    UT_EQ_INT(netio_peer_gone(io), 1, "a pipe without a writer is gone");
    netio_close(io);
}

/* test_one_byte - a peer that sends one byte at a time */
static void test_one_byte(void)
{
    static const char text[] = "250-first\r\n250 second\r\n";
    VBUF *line = vbuf_alloc(0);
    int sv[2], st;
    size_t i;
    pid_t pid;
    NETIO *io;

    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    if ((pid = fork()) == 0) {
        close(sv[0]);
        for (i = 0; i < sizeof(text) - 1; i++) {
            if (write(sv[1], text + i, 1) != 1)
                _exit(1);
            usleep(1000);
        }
        _exit(0);
    }
    close(sv[1]);
    io = netio_fdopen(sv[0], sv[0]);
    netio_set_timeout(io, 5);
    UT_EQ_INT(netio_read_line(io, line, 100, NULL), 11, "slow: first");
    UT_EQ_STR(vbuf_str(line), "250-first", "slow: first text");
    UT_EQ_INT(netio_read_line(io, line, 100, NULL), 12, "slow: second");
    UT_EQ_STR(vbuf_str(line), "250 second", "slow: second text");
    waitpid(pid, &st, 0);
    netio_close(io);
    vbuf_free(line);
}

/* test_connect_errors - target syntax and refusal texts */
static void test_connect_errors(void)
{
    VBUF *err = vbuf_alloc(0);

    UT_CHECK(netio_connect("[127.0.0.1", 1, err) == NULL, "unclosed bracket");
    UT_CHECK(strstr(vbuf_str(err), "bad address") != NULL, "unclosed bracket: %s", vbuf_str(err));
    UT_CHECK(netio_connect("[127.0.0.1]x", 1, err) == NULL, "junk after bracket");
    UT_CHECK(netio_connect("host:", 1, err) == NULL, "empty port");
    UT_CHECK(netio_connect("unix:", 1, err) == NULL, "empty unix path");
    UT_CHECK(netio_connect("/nonexistent/sock", 1, err) == NULL, "missing unix socket");
    UT_EQ_STR(vbuf_str(err), "connect to /nonexistent/sock: No such file or directory",
              "missing unix socket: text");
    vbuf_free(err);
}

/* main - run the tests */
int main(void)
{
    UT_BEGIN("test_lib_netio");
    signal(SIGPIPE, SIG_IGN);
    alarm(60);
    test_lines();
    test_read_mixed();
    test_timeouts();
    test_interrupt();
    test_closed_peer();
    test_peer_gone();
    test_one_byte();
    test_connect_errors();
    return ut_done();
}
