/*
 * test_lib_spoolmem - transient spool files in memory
 *
 * spool_create_mem() gives a memfd (no entry in spool_dir, mode 0600)
 * while var_memory_spool_limit is above 0, a disk spool file when it is
 * 0, and refuses a broken spool_dir either way. spool_write_grow() keeps a
 * small message in memory and moves one that passes the limit to a disk
 * file under the same descriptor, every byte kept, in order.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/msg.h"
#include "lib/params.h"
#include "lib/spool.h"
#include "tests/unit/unittest.h"

static char tmpdir[] = "/tmp/test_lib_spoolmem.XXXXXX";

/* entries - names in tmpdir other than . and .. */
static int entries(void)
{
    DIR    *dp = opendir(tmpdir);
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

/* same_bytes - the file holds the len bytes of want from offset 0 */
static int same_bytes(int fd, const char *want, size_t len)
{
    char    buf[8192];
    size_t  off = 0;
    ssize_t n;

    while (off < len) {
        n = pread(fd, buf, sizeof(buf), (off_t)off);
        if (n <= 0 || memcmp(buf, want + off, (size_t)n) != 0)
            return 0;
        off += (size_t)n;
    }
    return pread(fd, buf, 1, (off_t)len) == 0;
}

/* test_small - stays in memory, private */
static void test_small(void)
{
    VBUF   *err = vbuf_alloc(256);
    struct stat st;
    int     fd;

    var_memory_spool_limit = 4096;
    fd = spool_create_mem(tmpdir, err);
    UT_CHECK(fd >= 0, "spool_create_mem: %s", vbuf_str(err));
    UT_CHECK(spool_is_mem(fd), "a memfd");
    UT_CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC, "close-on-exec");
    UT_CHECK(fstat(fd, &st) == 0 && (st.st_mode & 077) == 0, "no access for group or other (%o)",
             (unsigned)st.st_mode);
    UT_EQ_INT(spool_write_grow(fd, tmpdir, 0, "hello\n", 6), 0, "write");
    UT_EQ_INT(spool_write_grow(fd, tmpdir, 6, "world\n", 6), 0, "write");
    UT_CHECK(spool_is_mem(fd), "12 bytes: still in memory");
    UT_CHECK(same_bytes(fd, "hello\nworld\n", 12), "bytes kept");
    UT_EQ_INT(entries(), 0, "nothing in spool_dir");
    close(fd);
    vbuf_free(err);
}

/* test_spill - past the limit: on disk, same descriptor, same bytes */
static void test_spill(void)
{
    VBUF   *err = vbuf_alloc(256);
    static char data[20000];
    size_t  i, off;
    int     fd, fd0;

    for (i = 0; i < sizeof(data); i++)
        data[i] = (char)('a' + i % 26);
    var_memory_spool_limit = 10000;
    fd = fd0 = spool_create_mem(tmpdir, err);
    UT_CHECK(fd >= 0 && spool_is_mem(fd), "memory first");
    for (off = 0; off < sizeof(data); off += 3000) {
        size_t  n = sizeof(data) - off < 3000 ? sizeof(data) - off : 3000;

        UT_EQ_INT(spool_write_grow(fd, tmpdir, (off_t)off, data + off, n), 0, "write");
        UT_CHECK(spool_is_mem(fd) == (off + n <= 10000), "at %zu: in memory %d", off + n,
                 spool_is_mem(fd));
    }
    UT_EQ_INT(fd, fd0, "same descriptor");
    UT_CHECK(same_bytes(fd, data, sizeof(data)), "every byte, in order");
    UT_CHECK(lseek(fd, 0, SEEK_CUR) == (off_t)sizeof(data), "offset at the end");
    UT_EQ_INT(entries(), 0, "the disk file has no name");
    close(fd);
    vbuf_free(err);
}

/* test_disk - limit 0: always disk; a broken spool_dir: refused */
static void test_disk(void)
{
    VBUF   *err = vbuf_alloc(256);
    int     fd;

    var_memory_spool_limit = 0;
    fd = spool_create_mem(tmpdir, err);
    UT_CHECK(fd >= 0 && !spool_is_mem(fd), "limit 0: a disk file");
    UT_EQ_INT(spool_write_grow(fd, tmpdir, 0, "x", 1), 0, "write");
    UT_CHECK(same_bytes(fd, "x", 1), "byte kept");
    close(fd);
    var_memory_spool_limit = 1 << 20;
    vbuf_reset(err);
    UT_EQ_INT(spool_create_mem("/proc/no-such-dir/spool", err), -1, "broken spool_dir refused");
    UT_CHECK(vbuf_len(err) > 0, "with a reason: %s", vbuf_str(err));
    vbuf_free(err);
}

int     main(void)
{
    UT_BEGIN("test_lib_spoolmem");
    msg_init("test_lib_spoolmem", MSG_STDERR);
    if (mkdtemp(tmpdir) == NULL)
        msg_fatal("mkdtemp: %s", strerror(errno));
    test_small();
    test_spill();
    test_disk();
    if (rmdir(tmpdir) < 0)
        UT_CHECK(0, "rmdir %s: %s", tmpdir, strerror(errno));
    return ut_done();
}
