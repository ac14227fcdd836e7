/*
 * test_scan_avscan - libclamav in-process with the bundled test
 * signatures, and the clamd INSTREAM client against a scripted peer
 *
 * The peer is a forked child on a unix (or TCP) socket made by the parent
 * before the fork. It answers zVERSION, and for zINSTREAM records every
 * byte it received (command, chunk headers, data, end marker) in a
 * transcript file before it replies, so the framing is checked byte for
 * byte. Modes: answer FOUND, answer OK, never answer, or stop reading after
 * a few bytes with clamd's StreamMaxLength error.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "lib/config.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/vbuf.h"
#include "scan/avscan.h"
#include "tests/unit/unittest.h"

#define TESTFILES "/usr/share/clamav-testfiles"

static const char eicar[] =
    "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

static char tmpdir[] = "/tmp/test_scan_avscan-XXXXXX";

#define PEER_FOUND   1      /* "stream: Eicar-Test-Signature FOUND" */
#define PEER_OK      2      /* "stream: OK" */
#define PEER_SILENT  3      /* read everything, never answer INSTREAM */
#define PEER_LIMIT   4      /* StreamMaxLength error after 1000 bytes */

/* tpath - a name in the test directory (static buffer, 4 in rotation) */
static const char *tpath(const char *name)
{
    static char buf[4][512];
    static int n;

    n = (n + 1) % 4;
    snprintf(buf[n], sizeof(buf[n]), "%s/%s", tmpdir, name);
    return buf[n];
}

/* write_file - create name with len bytes */
static void write_file(const char *path, const void *data, size_t len)
{
    int     fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd) < 0)
        msg_fatal("write %s: %s", path, strerror(errno));
}

/* read_file - whole file into a VBUF */
static VBUF *read_file(const char *path)
{
    VBUF   *vb = vbuf_alloc(0);
    char    buf[8192];
    ssize_t n;
    int     fd = open(path, O_RDONLY);

    if (fd < 0)
        return vb;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        vbuf_append(vb, buf, (size_t)n);
    close(fd);
    return vb;
}

/* run - run a program without a shell, output to /dev/null; exit status */
static int run(const char *const args[])
{
    pid_t   pid = fork();
    int     st = 0;

    if (pid == 0) {
        int     null = open("/dev/null", O_WRONLY);
        char   *argv[16];
        int     i;

        for (i = 0; i < 15 && args[i]; i++)
            argv[i] = mystrdup(args[i]);
        argv[i] = NULL;

        dup2(null, 1);
        dup2(null, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* entries - number of names in a directory, besides . and .. */
static int entries(const char *dir)
{
    DIR    *dp = opendir(dir);
    struct dirent *de;
    int     n = 0;

    if (dp == NULL)
        return -1;
    while ((de = readdir(dp)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(dp);
    return n;
}

 /*
  * The scripted clamd.
  */

/* peer_reply - write a NUL-terminated reply */
static void peer_reply(int fd, const char *text)
{
    ssize_t n = write(fd, text, strlen(text) + 1);

    (void)n;
}

/* peer_session - one connection */
static void peer_session(int fd, int mode)
{
    VBUF   *rec = vbuf_alloc(0);
    unsigned char hdr[4];
    char    cmd[64];
    char   *data;
    size_t  n = 0;
    size_t  total = 0;
    uint32_t clen;

    while (n < sizeof(cmd) - 1 && ut_read_exact(fd, cmd + n, 1) == 0 && cmd[n] != 0)
        n++;
    cmd[n] = 0;
    vbuf_append(rec, cmd, n + 1);
    if (strcmp(cmd, "zVERSION") == 0) {
        peer_reply(fd, "ClamAV 1.4.6/27000/Mon Nov 23 09:00:00 2026");
    } else if (strcmp(cmd, "zINSTREAM") == 0) {
        for (;;) {
            if (ut_read_exact(fd, hdr, 4) < 0)
                break;
            vbuf_append(rec, hdr, 4);
            clen = ((uint32_t)hdr[0] << 24) | ((uint32_t)hdr[1] << 16)
                | ((uint32_t)hdr[2] << 8) | hdr[3];
            if (clen == 0)
                break;
            if (mode == PEER_LIMIT && total + clen > 1000) {
                peer_reply(fd, "INSTREAM size limit exceeded. ERROR");
                break;
            }
            data = mymalloc(clen);
            if (ut_read_exact(fd, data, clen) < 0) {
                myfree(data);
                break;
            }
            vbuf_append(rec, data, clen);
            myfree(data);
            total += clen;
        }
        write_file(tpath("transcript"), rec->data, rec->len);
        if (mode == PEER_FOUND)
            peer_reply(fd, "stream: Eicar-Test-Signature FOUND");
        else if (mode == PEER_OK)
            peer_reply(fd, "stream: OK");
        else if (mode == PEER_SILENT)
            pause();
    } else {
        peer_reply(fd, "UNKNOWN COMMAND");
    }
    vbuf_free(rec);
}

/* peer_start - fork a peer serving the listening socket lfd */
static pid_t peer_start(int lfd, int mode)
{
    pid_t   pid = fork();
    int     fd;

    if (pid < 0)
        msg_fatal("fork: %s", strerror(errno));
    if (pid == 0) {
        signal(SIGPIPE, SIG_IGN);
        for (;;) {
            if ((fd = accept(lfd, NULL, NULL)) < 0) {
                if (errno == EINTR)
                    continue;
                _exit(1);
            }
            peer_session(fd, mode);
            close(fd);
        }
    }
    close(lfd);
    return pid;
}

/* peer_stop - end a peer */
static void peer_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

/* listen_unix - a listening unix socket at path */
static int listen_unix(const char *path)
{
    struct sockaddr_un sun;
    int     fd = socket(AF_UNIX, SOCK_STREAM, 0);

    unlink(path);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 8) < 0)
        msg_fatal("listen %s: %s", path, strerror(errno));
    return fd;
}

/* listen_tcp - a listening socket on 127.0.0.1, port in *port */
static int listen_tcp(int *port)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int     fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 8) < 0
        || getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
        msg_fatal("listen tcp: %s", strerror(errno));
    *port = ntohs(sin.sin_port);
    return fd;
}

/* instream_bytes - what a correct client sends for data */
static VBUF *instream_bytes(const char *data, size_t len)
{
    VBUF   *vb = vbuf_alloc(0);
    unsigned char hdr[4];
    size_t  off = 0;
    size_t  n;

    vbuf_append(vb, "zINSTREAM", 10);
    do {
        n = len - off > 65536 ? 65536 : len - off;
        hdr[0] = (unsigned char)(n >> 24);
        hdr[1] = (unsigned char)(n >> 16);
        hdr[2] = (unsigned char)(n >> 8);
        hdr[3] = (unsigned char)n;
        vbuf_append(vb, hdr, 4);
        vbuf_append(vb, data + off, n);
        off += n;
    } while (n > 0);
    return vb;
}

/* now - monotonic seconds */
static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

 /*
  * The tests.
  */

/* test_unchecked_names - avscan_heuristic_unchecked table */
static void test_unchecked_names(void)
{
    static const struct {
        const char *name;
        int     want;
    } cases[] = {
        {"Heuristics.Encrypted.Zip", 1},
        {"Heuristics.Encrypted.RAR", 1},
        {"Heuristics.Encrypted.PDF", 1},
        {"Heuristics.Limits.Exceeded.MaxFileSize", 1},
        {"Heuristics.Limits.Exceeded.MaxRecursion", 1},
        {"Heuristics.Phishing.Email.SpoofedDomain", 0},
        {"Eicar-Test-Signature", 0},
        {"Win.Test.EICAR_HDB-1", 0},
        {"Heuristics.Encrypted", 0},
        {"", 0},
    };
    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        UT_EQ_INT(avscan_heuristic_unchecked(cases[i].name), cases[i].want, cases[i].name);
    UT_EQ_INT(avscan_heuristic_unchecked(NULL), 0, "NULL");
}

/* test_clamav_bundled - the bundled test signatures in-process */
static void test_clamav_bundled(void)
{
    VBUF   *err = vbuf_alloc(0);
    VBUF   *vn = vbuf_alloc(0);
    AVSCAN *av;
    DIR    *dp;
    struct dirent *de;
    char   *big;
    const char *v;
    int     fd;
    int     n;
    int     found;
    const char *zipargv[] = {"zip", "-q", "-j", "-P", "secret", NULL, NULL, NULL};

    av = avscan_open("clamav", "bundled", err);
    UT_CHECK(av != NULL, "open clamav bundled: %s", vbuf_str(err));
    if (av == NULL)
        return;
    v = avscan_version(av);
    UT_CHECK(strncmp(v, "ClamAV 1.", 9) == 0 && strstr(v, ", TEST SIGNATURES ONLY") != NULL,
             "version \"%s\"", v);
    UT_EQ_INT(avscan_test_signatures(av), 1, "bundled: test signatures only");
    UT_EQ_INT(avscan_signature_age(av), -1, "bundled: no signature age");
    UT_EQ_INT(avscan_changed(av), 0, "bundled: never changes");
    UT_EQ_INT(avscan_signatures(av), 2, "bundled signature count");
    UT_EQ_INT(entries(var_spool_dir), 1, "spool_dir holds our scan directory only");
    UT_CHECK(avscan_tmpdir() != NULL && entries(avscan_tmpdir()) == 0,
             "no signature files left in it");
    avscan_close(av);
    av = avscan_open("clamav", "bundled", err);
    UT_CHECK(av != NULL, "reopen: %s", vbuf_str(err));
    if (av == NULL)
        return;

    /* EICAR in memory */
    UT_EQ_INT(avscan_scan_mem(av, eicar, strlen(eicar), vn, err), AV_VIRUS, "eicar mem");
    UT_EQ_STR(vbuf_str(vn), "Eicar-Test-Signature", "eicar mem name");

    /* EICAR in a file whose offset is at the end: scanned from 0, left there */
    write_file(tpath("eicar.com"), eicar, strlen(eicar));
    fd = open(tpath("eicar.com"), O_RDONLY);
    lseek(fd, 0, SEEK_END);
    UT_EQ_INT(avscan_scan_fd(av, fd, vn, err), AV_VIRUS, "eicar fd");
    UT_EQ_STR(vbuf_str(vn), "Eicar-Test-Signature", "eicar fd name");
    UT_EQ_INT(lseek(fd, 0, SEEK_CUR), (long long)strlen(eicar), "fd offset untouched");
    close(fd);

    /* the ClamAV test file */
    fd = open(TESTFILES "/clam.exe", O_RDONLY);
    UT_CHECK(fd >= 0, "open clam.exe: %s", strerror(errno));
    UT_EQ_INT(avscan_scan_fd(av, fd, vn, err), AV_VIRUS, "clam.exe");
    UT_EQ_STR(vbuf_str(vn), "ClamAV-Test-File", "clam.exe name");
    close(fd);

    /* every test file, packed or archived */
    n = found = 0;
    if ((dp = opendir(TESTFILES)) != NULL) {
        while ((de = readdir(dp)) != NULL) {
            char    path[512];
            int     r;

            if (de->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s", TESTFILES, de->d_name);
            if ((fd = open(path, O_RDONLY)) < 0)
                continue;
            n++;
            r = avscan_scan_fd(av, fd, vn, err);
            close(fd);
            if (r == AV_VIRUS && !avscan_heuristic_unchecked(vbuf_str(vn)))
                found++;
            else
                fprintf(stderr, "FAIL? %s: %d %s%s\n", de->d_name, r,
                        vbuf_str(vn), vbuf_str(err));
        }
        closedir(dp);
    }
    UT_EQ_INT(n, 44, "test files present");
    UT_EQ_INT(found, n, "test files detected");

    /* clean text, and nothing at all */
    write_file(tpath("clean.txt"), "Hello,\nthis is a clean message.\n", 33);
    UT_EQ_INT(avscan_scan_mem(av, "Hello, world\n", 13, vn, err), AV_CLEAN, "clean mem");
    UT_EQ_INT(avscan_scan_mem(av, "", 0, vn, err), AV_CLEAN, "empty mem");
    fd = open(tpath("clean.txt"), O_RDONLY);
    UT_EQ_INT(avscan_scan_fd(av, fd, vn, err), AV_CLEAN, "clean fd");
    close(fd);

    /* EICAR at the start of a larger part */
    big = mymalloc(200000);
    memset(big, 'a', 200000);
    memcpy(big, eicar, strlen(eicar));
    UT_EQ_INT(avscan_scan_mem(av, big, 200000, vn, err), AV_VIRUS, "eicar + padding");
    myfree(big);

    /* an encrypted archive cannot be inspected */
    zipargv[5] = tpath("enc.zip");
    zipargv[6] = tpath("clean.txt");
    if (run(zipargv) == 0) {
        fd = open(tpath("enc.zip"), O_RDONLY);
        UT_EQ_INT(avscan_scan_fd(av, fd, vn, err), AV_VIRUS, "encrypted zip");
        UT_CHECK(avscan_heuristic_unchecked(vbuf_str(vn)), "encrypted zip name \"%s\"",
                 vbuf_str(vn));
        close(fd);
    } else {
        printf("note: zip not available, encrypted archive check skipped\n");
    }

    /* libclamav's temporary files go to spool_dir, never to $TMPDIR; when
     * it cannot make them it says "clean" for what it never saw: that
     * must come out as an error */
    {
        char    moved[sizeof(tmpdir) + 32];
        const char *old_tmp = getenv("TMPDIR");

        setenv("TMPDIR", "/nonexistent/postsift-tmp", 1);
        UT_EQ_INT(avscan_scan_mem(av, eicar, strlen(eicar), vn, err), AV_VIRUS,
                  "eicar with $TMPDIR unusable: spool_dir is used");
        snprintf(moved, sizeof(moved), "%s/spool.moved", tmpdir);
        UT_CHECK(rename(var_spool_dir, moved) == 0, "move spool_dir away: %s", strerror(errno));
        UT_EQ_INT(avscan_scan_mem(av, eicar, strlen(eicar), vn, err), AV_ERROR,
                  "eicar without a temporary directory: an error, never clean");
        UT_CHECK(strstr(vbuf_str(err), "emporary") != NULL, "the error says why: \"%s\"",
                 vbuf_str(err));
        UT_CHECK(rename(moved, var_spool_dir) == 0, "move spool_dir back: %s", strerror(errno));
        UT_EQ_INT(avscan_scan_mem(av, eicar, strlen(eicar), vn, err), AV_VIRUS,
                  "eicar with spool_dir back");
        if (old_tmp)
            setenv("TMPDIR", old_tmp, 1);
        else
            unsetenv("TMPDIR");
    }
    avscan_close(av);

    /* limits: a part larger than clamav_max_filesize */
    ut_set("clamav_max_filesize=1000");
    av = avscan_open("clamav", "bundled", err);
    UT_CHECK(av != NULL, "open with small max_filesize: %s", vbuf_str(err));
    if (av) {
        big = mymalloc(5000);
        memset(big, 'b', 5000);
        UT_EQ_INT(avscan_scan_mem(av, big, 5000, vn, err), AV_VIRUS, "over max_filesize");
        UT_CHECK(avscan_heuristic_unchecked(vbuf_str(vn)), "over max_filesize name \"%s\"",
                 vbuf_str(vn));
        myfree(big);
        avscan_close(av);
    }
    ut_set("clamav_max_filesize=100m");

    vbuf_free(err);
    vbuf_free(vn);
}

/* tar_append - one ustar member of len bytes (data, repeated) */
static void tar_append(VBUF *tar, const char *name, const char *data, size_t len)
{
    char    hdr[512];
    unsigned sum = 0;
    size_t  i;

    memset(hdr, 0, sizeof(hdr));
    snprintf(hdr, 100, "%s", name);
    snprintf(hdr + 100, 8, "%07o", 0644);
    snprintf(hdr + 108, 8, "%07o", 0);
    snprintf(hdr + 116, 8, "%07o", 0);
    snprintf(hdr + 124, 12, "%011lo", (unsigned long)len);
    snprintf(hdr + 136, 12, "%011lo", 1700000000UL);
    memset(hdr + 148, ' ', 8);
    hdr[156] = '0';
    memcpy(hdr + 257, "ustar", 6);
    memcpy(hdr + 263, "00", 2);
    for (i = 0; i < sizeof(hdr); i++)
        sum += (unsigned char)hdr[i];
    snprintf(hdr + 148, 8, "%06o", sum & 0777777);
    vbuf_append(tar, hdr, sizeof(hdr));
    for (i = 0; i < len; i++)
        vbuf_addch(tar, data[i % strlen(data)]);
    while (vbuf_len(tar) % 512)
        vbuf_addch(tar, 0);
}

/* read_line_fd - one line from a pipe into buf (no newline); 0 or -1 */
static int read_line_fd(int fd, char *buf, size_t len)
{
    size_t  n = 0;
    char    c;

    while (n + 1 < len && read(fd, &c, 1) == 1 && c != '\n')
        buf[n++] = c;
    buf[n] = 0;
    return n > 0 ? 0 : -1;
}

/* scan_child - a process that opens the scanner, says where its scan
 * directory is on out, then scans the file forever, or (file NULL)
 * waits for a byte on in and scans EICAR then: exit 0 when found */
static pid_t scan_child(const char *file, int in, int out)
{
    VBUF   *err, *vn;
    AVSCAN *av;
    pid_t   pid;
    char    c;
    int     fd, found;

    fflush(stdout);
    if ((pid = fork()) != 0)
        return pid;
    alarm(60);
    err = vbuf_alloc(0);
    vn = vbuf_alloc(0);
    if ((av = avscan_open("clamav", "bundled", err)) == NULL || avscan_tmpdir() == NULL)
        _exit(2);
    (void)!write(out, avscan_tmpdir(), strlen(avscan_tmpdir()));
    (void)!write(out, "\n", 1);
    if (file != NULL) {
        fd = open(file, O_RDONLY);
        for (;;)
            (void)avscan_scan_fd(av, fd, vn, err);
    }
    if (read(in, &c, 1) != 1)
        _exit(3);
    found = avscan_scan_mem(av, eicar, strlen(eicar), vn, err) == AV_VIRUS;
    /* its last scanner closed, the directory goes (an exit() would do the
     * same; _exit() here keeps libclamav's own exit-time leaks out of the
     * sanitizer build's status) */
    avscan_close(av);
    vbuf_free(err);
    vbuf_free(vn);
    _exit(found ? 0 : 1);
}

/* test_clamav_tmpdir - a scan killed with SIGKILL leaves its directory
 * and what it decoded; the next process removes it; the directory of a
 * live process is never touched */
static void test_clamav_tmpdir(void)
{
    VBUF   *tar = vbuf_alloc(0), *err = vbuf_alloc(0);
    char    killed[600], live[600], member[32];
    int     p1[2], p2[2], i, st, tries, left = 0;
    struct stat sb;
    pid_t   pid, keeper;
    AVSCAN *ours = avscan_open("clamav", "bundled", err);

    UT_CHECK(ours != NULL && avscan_tmpdir() != NULL, "open: %s", vbuf_str(err));

    /* an archive whose members libclamav writes out to scan them */
    for (i = 0; i < 8; i++) {
        snprintf(member, sizeof(member), "part%d.txt", i);
        tar_append(tar, member, "an ordinary line of text, nothing to see here\n", 1 << 20);
    }
    for (i = 0; i < 1024; i++)
        vbuf_addch(tar, 0);
    write_file(tpath("big.tar"), vbuf_str(tar), vbuf_len(tar));

    /* kill a scanning process mid-scan, until one leaves content behind */
    for (tries = 0; tries < 20 && left == 0; tries++) {
        if (pipe(p1) < 0)
            break;
        pid = scan_child(tpath("big.tar"), -1, p1[1]);
        close(p1[1]);
        if (read_line_fd(p1[0], killed, sizeof(killed)) < 0) {
            close(p1[0]);
            waitpid(pid, &st, 0);
            UT_CHECK(0, "scanning child did not start (status %d)", st);
            break;
        }
        close(p1[0]);
        for (i = 0; i < 5000 && entries(killed) <= 0; i++)
            usleep(1000);
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        left = entries(killed) > 0;
    }
    UT_CHECK(left, "a SIGKILL mid-scan left the scan's files in %s", killed);

    /* a live process with its own directory, waiting */
    UT_CHECK(pipe(p1) == 0 && pipe(p2) == 0, "pipe: %s", strerror(errno));
    keeper = scan_child(NULL, p2[0], p1[1]);
    close(p1[1]);
    close(p2[0]);
    UT_CHECK(read_line_fd(p1[0], live, sizeof(live)) == 0, "live child started");
    close(p1[0]);

    /* the next run: a process that opens the scanner sweeps */
    fflush(stdout);
    if ((pid = fork()) == 0) {
        AVSCAN *av = avscan_open("clamav", "bundled", err);

        st = av != NULL ? 0 : 1;
        avscan_close(av);
        _exit(st);
    }
    waitpid(pid, &st, 0);
    UT_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the next run opened the scanner");
    UT_CHECK(lstat(killed, &sb) < 0 && errno == ENOENT,
             "the killed scan's directory is gone after the next run");
    UT_CHECK(lstat(live, &sb) == 0 && S_ISDIR(sb.st_mode),
             "the live process's directory is still there");
    UT_CHECK(avscan_tmpdir() != NULL && lstat(avscan_tmpdir(), &sb) == 0,
             "our own directory is still there");

    /* the live process scans on, then exits and takes its directory away */
    (void)!write(p2[1], "g", 1);
    close(p2[1]);
    waitpid(keeper, &st, 0);
    UT_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the live process still finds EICAR");
    UT_CHECK(lstat(live, &sb) < 0 && errno == ENOENT, "its directory went with its exit");
    UT_EQ_INT(entries(var_spool_dir), 1, "spool_dir: only our own directory left");
    avscan_close(ours);
    UT_EQ_INT(entries(var_spool_dir), 0, "spool_dir: empty once our last scanner is closed");
    unlink(tpath("big.tar"));
    vbuf_free(tar);
    vbuf_free(err);
}

/* log_has - the log file holds text */
static int log_has(const char *path, const char *text)
{
    char    buf[16384];
    ssize_t n;
    int     fd = open(path, O_RDONLY);

    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    return strstr(buf, text) != NULL;
}

/* test_clamav_failclosed - no database and no "bundled": no scanner, and
 * the error names the directory and the fix */
static void test_clamav_failclosed(void)
{
    VBUF   *err = vbuf_alloc(0);
    AVSCAN *av;
    const char *specs[] = {"", NULL};
    size_t  i;

    for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        av = avscan_open("clamav", specs[i], err);
        UT_CHECK(av == NULL, "no database (%s): the scanner started", specs[i] ? "empty" : "NULL");
        avscan_close(av);
        UT_CHECK(strstr(vbuf_str(err), "no signature database") != NULL
                 && strstr(vbuf_str(err), "/var/lib/clamav") != NULL
                 && strstr(vbuf_str(err), "run freshclam") != NULL
                 && strstr(vbuf_str(err), "clamav_database_directory = bundled") != NULL,
                 "no database: error \"%s\"", vbuf_str(err));
    }
    /* the default scanner setting is clamav too */
    av = avscan_open("", "", err);
    UT_CHECK(av == NULL && strstr(vbuf_str(err), "no signature database") != NULL,
             "default scanner, no database: \"%s\"", vbuf_str(err));
    avscan_close(av);
    vbuf_free(err);
}

/* test_clamav_age - signature_max_age: an old database is a warning at
 * load, and its age is known */
static void test_clamav_age(void)
{
    static const char hdb[] = "aa15bcf478d165efd2065190eb473bcb:544:ClamAV-Test-File\n";
    struct timespec ts[2];
    VBUF   *err = vbuf_alloc(0);
    AVSCAN *av;
    long long age;

    mkdir(tpath("olddb"), 0700);
    write_file(tpath("olddb/test.hdb"), hdb, strlen(hdb));
    ts[0].tv_sec = ts[1].tv_sec = time(NULL) - 10 * 86400 - 3600;
    ts[0].tv_nsec = ts[1].tv_nsec = 0;
    if (utimensat(AT_FDCWD, tpath("olddb/test.hdb"), ts, 0) < 0)
        msg_fatal("utimensat: %s", strerror(errno));
    msg_set_logfile(tpath("age.log"));
    av = avscan_open("clamav", tpath("olddb"), err);
    UT_CHECK(av != NULL, "old dbdir: %s", vbuf_str(err));
    if (av) {
        age = avscan_signature_age(av);
        UT_CHECK(age >= 10 * 86400 + 3600 && age < 10 * 86400 + 4200,
                 "old dbdir age %lld", age);
        avscan_close(av);
    }
    UT_CHECK(log_has(tpath("age.log"), "are 10 days 1 hours old (signature_max_age = 259200s)")
             && log_has(tpath("age.log"), tpath("olddb"))
             && log_has(tpath("age.log"), "run freshclam"),
             "old dbdir: a warning with the age, the directory and the fix");

    /* a longer limit: no warning */
    ut_set("signature_max_age=11d");
    (void)unlink(tpath("age.log"));
    msg_set_logfile(tpath("age.log"));
    av = avscan_open("clamav", tpath("olddb"), err);
    UT_CHECK(av != NULL && !log_has(tpath("age.log"), "old (signature_max_age"),
             "signature_max_age = 11d: no warning");
    avscan_close(av);
    ut_set("signature_max_age=3d");
    msg_set_logfile(NULL);
    (void)unlink(tpath("age.log"));
    (void)unlink(tpath("olddb/test.hdb"));
    vbuf_free(err);
}

/* test_clamav_dbdir - an explicit database directory */
static void test_clamav_dbdir(void)
{
    VBUF   *err = vbuf_alloc(0);
    VBUF   *vn = vbuf_alloc(0);
    AVSCAN *av;
    static const char hdb[] = "aa15bcf478d165efd2065190eb473bcb:544:ClamAV-Test-File\n";

    av = avscan_open("clamav", "/nonexistent/postsift-db", err);
    UT_CHECK(av == NULL, "missing dbdir opened");
    UT_CHECK(strstr(vbuf_str(err), "cannot load signatures from /nonexistent/postsift-db: ")
             == vbuf_str(err), "missing dbdir error \"%s\"", vbuf_str(err));

    mkdir(tpath("emptydb"), 0700);
    av = avscan_open("clamav", tpath("emptydb"), err);
    UT_CHECK(av == NULL, "empty dbdir opened");
    UT_CHECK(strncmp(vbuf_str(err), "cannot load signatures from ", 28) == 0
             && strstr(vbuf_str(err), tpath("emptydb")) != NULL
             && strstr(vbuf_str(err), ": the directory is empty; ") != NULL
             && strstr(vbuf_str(err), "run freshclam, or set clamav_database_directory") != NULL
             && strstr(vbuf_str(err), "clamav_database_directory = bundled") != NULL,
             "empty dbdir error names the directory and the fix: \"%s\"", vbuf_str(err));

    mkdir(tpath("db"), 0700);
    write_file(tpath("db/test.hdb"), hdb, strlen(hdb));
    av = avscan_open("clamav", tpath("db"), err);
    UT_CHECK(av != NULL, "dbdir with test.hdb: %s", vbuf_str(err));
    if (av) {
        int     fd = open(TESTFILES "/clam.zip", O_RDONLY);

        UT_EQ_INT(avscan_signatures(av), 1, "dbdir signature count");
        UT_EQ_INT(avscan_test_signatures(av), 0, "dbdir: real signatures");
        UT_CHECK(avscan_signature_age(av) >= 0 && avscan_signature_age(av) < 600,
                 "dbdir: a fresh file is young: %lld", avscan_signature_age(av));
        UT_EQ_INT(avscan_scan_fd(av, fd, vn, err), AV_VIRUS, "clam.zip via dbdir");
        /* a site's own signature keeps libclamav's name */
        UT_EQ_STR(vbuf_str(vn), "ClamAV-Test-File.UNOFFICIAL", "dbdir name");
        UT_EQ_INT(avscan_scan_mem(av, eicar, strlen(eicar), vn, err), AV_CLEAN,
                  "eicar not in this dbdir");
        close(fd);
        avscan_close(av);
    }

    av = avscan_open("clamd:nonsense", "", err);
    UT_CHECK(av == NULL && strstr(vbuf_str(err), "clamd:unix:/path"), "bad spec: %s",
             vbuf_str(err));
    av = avscan_open("clamd:unix:relative.sock", "", err);
    UT_CHECK(av == NULL, "relative unix path accepted");
    av = avscan_open("clamd:inet:hostonly", "", err);
    UT_CHECK(av == NULL, "inet without port accepted");
    av = avscan_open("clamd:inet:127.0.0.1:1,clamav", "", err);
    UT_CHECK(av == NULL, "mixed list accepted");
    av = avscan_open("sophos", "", err);
    UT_CHECK(av == NULL, "unknown scanner accepted");
    vbuf_free(err);
    vbuf_free(vn);
}

/* test_clamd - the INSTREAM client against the scripted peer */
static void test_clamd(void)
{
    VBUF   *err = vbuf_alloc(0);
    VBUF   *vn = vbuf_alloc(0);
    VBUF   *want;
    VBUF   *got;
    AVSCAN *av;
    char    spec[1024];
    char   *data;
    pid_t   pid;
    double  t0;
    int     fd;
    int     port;
    size_t  i;

    data = mymalloc(150000);
    for (i = 0; i < 150000; i++)
        data[i] = (char)(i * 7 + 3);

    /* one server: version, framing byte for byte, memory and file */
    pid = peer_start(listen_unix(tpath("peer.sock")), PEER_FOUND);
    snprintf(spec, sizeof(spec), "clamd:unix:%s", tpath("peer.sock"));
    av = avscan_open(spec, "", err);
    UT_CHECK(av != NULL, "open %s: %s", spec, vbuf_str(err));
    UT_EQ_STR(avscan_version(av), "clamd ClamAV 1.4.6/27000", "clamd version");
    UT_EQ_INT(avscan_signatures(av), 0, "clamd signatures");
    UT_EQ_INT(avscan_scan_mem(av, data, 150000, vn, err), AV_VIRUS, "clamd mem");
    UT_EQ_STR(vbuf_str(vn), "Eicar-Test-Signature", "clamd virus name");
    want = instream_bytes(data, 150000);
    got = read_file(tpath("transcript"));
    UT_EQ_INT(got->len, want->len, "instream length (3 chunks + end)");
    UT_CHECK(got->len == want->len && memcmp(got->data, want->data, want->len) == 0,
             "instream framing differs");
    vbuf_free(got);

    write_file(tpath("data.bin"), data, 150000);
    fd = open(tpath("data.bin"), O_RDONLY);
    lseek(fd, 1234, SEEK_SET);
    UT_EQ_INT(avscan_scan_fd(av, fd, vn, err), AV_VIRUS, "clamd fd");
    UT_EQ_INT(lseek(fd, 0, SEEK_CUR), 1234, "clamd fd offset untouched");
    close(fd);
    got = read_file(tpath("transcript"));
    UT_CHECK(got->len == want->len && memcmp(got->data, want->data, want->len) == 0,
             "instream framing from fd differs");
    vbuf_free(got);
    vbuf_free(want);

    /* empty data: just the end marker */
    UT_EQ_INT(avscan_scan_mem(av, "", 0, vn, err), AV_VIRUS, "clamd empty");
    got = read_file(tpath("transcript"));
    UT_EQ_MEM(got->data, got->len, "zINSTREAM\0\0\0\0\0", 14, "empty instream");
    vbuf_free(got);
    avscan_close(av);

    /* failover: the first server does not exist */
    snprintf(spec, sizeof(spec), "clamd:unix:%s, clamd:unix:%s",
             tpath("none.sock"), tpath("peer.sock"));
    av = avscan_open(spec, "", err);
    UT_CHECK(av != NULL, "open failover: %s", vbuf_str(err));
    UT_EQ_STR(avscan_version(av), "clamd ClamAV 1.4.6/27000", "failover version");
    UT_EQ_INT(avscan_scan_mem(av, eicar, strlen(eicar), vn, err), AV_VIRUS, "failover scan");
    UT_EQ_STR(vbuf_str(vn), "Eicar-Test-Signature", "failover name");
    UT_EQ_INT(avscan_scan_mem(av, eicar, strlen(eicar), vn, err), AV_VIRUS, "failover again");
    avscan_close(av);
    peer_stop(pid);

    /* clean answer over TCP */
    pid = peer_start(listen_tcp(&port), PEER_OK);
    snprintf(spec, sizeof(spec), "clamd:inet:127.0.0.1:%d", port);
    av = avscan_open(spec, "", err);
    UT_CHECK(av != NULL, "open %s: %s", spec, vbuf_str(err));
    UT_EQ_INT(avscan_scan_mem(av, "hello\n", 6, vn, err), AV_CLEAN, "clamd inet clean");
    avscan_close(av);
    peer_stop(pid);

    /* all down: open works, the scan is an error (the message is deferred) */
    snprintf(spec, sizeof(spec), "clamd:unix:%s clamd:unix:%s",
             tpath("none.sock"), tpath("none2.sock"));
    av = avscan_open(spec, "", err);
    UT_CHECK(av != NULL, "open all down: %s", vbuf_str(err));
    UT_EQ_STR(avscan_version(av), "clamd (version unknown)", "all down version");
    UT_EQ_INT(avscan_scan_mem(av, eicar, strlen(eicar), vn, err), AV_ERROR, "all down");
    UT_CHECK(strncmp(vbuf_str(err), "no clamd server answered: ", 26) == 0
             && strstr(vbuf_str(err), "none2.sock"), "all down error \"%s\"", vbuf_str(err));

    /* all down, then one comes back: it is retried at once */
    pid = peer_start(listen_unix(tpath("none2.sock")), PEER_FOUND);
    UT_EQ_INT(avscan_scan_mem(av, eicar, strlen(eicar), vn, err), AV_VIRUS, "back again");
    UT_EQ_STR(avscan_version(av), "clamd ClamAV 1.4.6/27000", "version learned late");
    avscan_close(av);
    peer_stop(pid);

    /* StreamMaxLength */
    pid = peer_start(listen_unix(tpath("limit.sock")), PEER_LIMIT);
    snprintf(spec, sizeof(spec), "clamd:unix:%s", tpath("limit.sock"));
    av = avscan_open(spec, "", err);
    UT_EQ_INT(avscan_scan_mem(av, data, 150000, vn, err), AV_ERROR, "size limit");
    UT_CHECK(strstr(vbuf_str(err), "INSTREAM size limit exceeded") != NULL,
             "size limit error \"%s\"", vbuf_str(err));
    avscan_close(av);
    peer_stop(pid);

    /* a server that never answers: an error within clamd_timeout */
    ut_set("clamd_timeout=2");
    pid = peer_start(listen_unix(tpath("silent.sock")), PEER_SILENT);
    snprintf(spec, sizeof(spec), "clamd:unix:%s", tpath("silent.sock"));
    av = avscan_open(spec, "", err);
    t0 = now();
    UT_EQ_INT(avscan_scan_mem(av, eicar, strlen(eicar), vn, err), AV_ERROR, "silent peer");
    t0 = now() - t0;
    UT_CHECK(t0 >= 1.5 && t0 < 4.0, "silent peer took %.2fs", t0);
    UT_CHECK(strstr(vbuf_str(err), "timed out") != NULL, "silent error \"%s\"",
             vbuf_str(err));
    avscan_close(av);
    peer_stop(pid);
    ut_set("clamd_timeout=60s");

    myfree(data);
    vbuf_free(err);
    vbuf_free(vn);
}

/* cleanup - remove the test directory */
static void cleanup(void)
{
    static const char *const names[] = {
        "spool", "eicar.com", "clean.txt", "enc.zip", "emptydb", "db/test.hdb", "db", "olddb",
        "peer.sock", "none2.sock", "limit.sock", "silent.sock", "transcript", "data.bin",
    };
    size_t  i;

    avscan_tmpdir_remove();
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (unlink(tpath(names[i])) < 0)
            rmdir(tpath(names[i]));
    if (rmdir(tmpdir) < 0)
        fprintf(stderr, "note: %s not removed: %s\n", tmpdir, strerror(errno));
}

int     main(void)
{
    char    nameval[600];
    DIR    *dp;
    struct dirent *de;
    int     sysdb = 0;

    UT_BEGIN("test_scan_avscan");
    msg_init("test_scan_avscan", MSG_STDERR);
    signal(SIGPIPE, SIG_IGN);
    config_init();
    if (mkdtemp(tmpdir) == NULL)
        msg_fatal("mkdtemp: %s", strerror(errno));
    snprintf(nameval, sizeof(nameval), "spool_dir=%s/spool", tmpdir);
    ut_set(nameval);
    /* the directories of libclamav on disk, in spool_dir: what the checks
     * below look at (the default, /dev/shm, is test_scan_clamtemp's) */
    snprintf(nameval, sizeof(nameval), "clamav_temp_dir=%s/spool", tmpdir);
    ut_set(nameval);

    test_unchecked_names();
    /* a system database would take a minute to load: test with none */
    if ((dp = opendir("/var/lib/clamav")) != NULL) {
        while ((de = readdir(dp)) != NULL)
            if (strstr(de->d_name, ".cvd") || strstr(de->d_name, ".cld")
                || strstr(de->d_name, ".cud"))
                sysdb = 1;
        closedir(dp);
    }
    if (sysdb)
        printf("note: /var/lib/clamav has a database; no-database checks skipped\n");
    else
        test_clamav_failclosed();
    test_clamav_bundled();
    test_clamav_tmpdir();
    test_clamav_dbdir();
    test_clamav_age();
    test_clamd();
    cleanup();
    return ut_done();
}
