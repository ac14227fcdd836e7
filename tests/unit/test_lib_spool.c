/*
 * test_lib_spool - private spool directories and nameless spool files
 *
 * spool_dir_check() must create a missing directory 0700, make a 0755 one
 * private, and refuse a symlink, a non-directory and a foreign owner;
 * spool_create() must give a 0600 file that has no name in the directory;
 * spool_copy_fd() copies from the start of the source, whatever its offset,
 * or all that a pipe holds.
 * Everything happens under a mkdtemp directory.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/msg.h"
#include "lib/spool.h"
#include "tests/unit/unittest.h"

static char tmpdir[] = "/tmp/test_lib_spool.XXXXXX";

/* path_in - tmpdir/name in a VBUF the caller frees */
static VBUF *path_in(const char *name)
{
    VBUF *vb = vbuf_alloc(0);

    vbuf_sprintf(vb, "%s/%s", tmpdir, name);
    return vb;
}

/* count_entries - names in a directory other than . and .., -1 on error */
static int count_entries(const char *dir)
{
    DIR *dp = opendir(dir);
    struct dirent *de;
    int n = 0;

    if (dp == NULL)
        return -1;
    while ((de = readdir(dp)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(dp);
    return n;
}

/* mode_of - permission bits of a path (lstat), -1 if it does not exist */
static int mode_of(const char *path)
{
    struct stat st;

    return lstat(path, &st) < 0 ? -1 : (int)(st.st_mode & 07777);
}

/* test_dir_check - create, fix, refuse */
static void test_dir_check(void)
{
    VBUF *err = vbuf_alloc(0);
    VBUF *dir = path_in("spool");
    VBUF *open_dir = path_in("open");
    VBUF *link = path_in("link");
    VBUF *file = path_in("file");
    VBUF *deep = path_in("no/such/spool");
    VBUF *foreign = path_in("foreign");
    VBUF *want = vbuf_alloc(0);
    int fd;

    /* Missing: created 0700, whatever the umask. */
    UT_EQ_INT(spool_dir_check(vbuf_str(dir), err), 0, vbuf_str(err));
    UT_EQ_INT(mode_of(vbuf_str(dir)), 0700, "created 0700");
    UT_EQ_INT(spool_dir_check(vbuf_str(dir), err), 0, "existing private directory");

    /* Open to group and other: made private. */
    UT_CHECK(mkdir(vbuf_str(open_dir), 0755) == 0 && chmod(vbuf_str(open_dir), 0755) == 0,
             "mkdir: %s", strerror(errno));
    UT_EQ_INT(spool_dir_check(vbuf_str(open_dir), err), 0, vbuf_str(err));
    UT_EQ_INT(mode_of(vbuf_str(open_dir)), 0700, "0755 fixed to 0700");

    /* A symlink to a good directory is still refused, and left alone. */
    UT_CHECK(symlink(vbuf_str(dir), vbuf_str(link)) == 0, "symlink: %s", strerror(errno));
    vbuf_strcpy(err, "");
    UT_EQ_INT(spool_dir_check(vbuf_str(link), err), -1, "symlink refused");
    vbuf_sprintf(want, "%s is not a directory", vbuf_str(link));
    UT_EQ_STR(vbuf_str(err), vbuf_str(want), "symlink error");

    /* A regular file is refused. */
    fd = open(vbuf_str(file), O_WRONLY | O_CREAT | O_EXCL, 0600);
    UT_CHECK(fd >= 0, "create file: %s", strerror(errno));
    close(fd);
    vbuf_strcpy(err, "");
    UT_EQ_INT(spool_dir_check(vbuf_str(file), err), -1, "regular file refused");
    vbuf_sprintf(want, "%s is not a directory", vbuf_str(file));
    UT_EQ_STR(vbuf_str(err), vbuf_str(want), "regular file error");

    /* A relative path, an empty one, and one whose parent is missing. */
    UT_EQ_INT(spool_dir_check("spool", err), -1, "relative path refused");
    UT_EQ_STR(vbuf_str(err), "spool directory \"spool\" is not an absolute path", "relative path");
    UT_EQ_INT(spool_dir_check("", err), -1, "empty path refused");
    UT_EQ_INT(spool_dir_check(vbuf_str(deep), err), -1, "missing parent");
    UT_CHECK(strstr(vbuf_str(err), "No such file or directory") != NULL,
             "missing parent: %s", vbuf_str(err));

    /* Owned by someone else (only root can arrange that). */
    if (geteuid() == 0) {
        UT_CHECK(mkdir(vbuf_str(foreign), 0700) == 0 && chown(vbuf_str(foreign), 1, 1) == 0,
                 "foreign dir: %s", strerror(errno));
        UT_EQ_INT(spool_dir_check(vbuf_str(foreign), err), -1, "foreign owner refused");
        UT_CHECK(strstr(vbuf_str(err), "is owned by uid 1, not by us") != NULL,
                 "foreign owner: %s", vbuf_str(err));
        rmdir(vbuf_str(foreign));
    }

    unlink(vbuf_str(link));
    unlink(vbuf_str(file));
    rmdir(vbuf_str(open_dir));
    vbuf_free(want);
    vbuf_free(foreign);
    vbuf_free(deep);
    vbuf_free(file);
    vbuf_free(link);
    vbuf_free(open_dir);
    vbuf_free(dir);
    vbuf_free(err);
}

/* test_create - 0600, no name left behind, usable for read and write */
static void test_create(void)
{
    VBUF *err = vbuf_alloc(0);
    VBUF *dir = path_in("spool");
    char buf[16];
    struct stat st;
    int fds[5], i, ok = 1;

    for (i = 0; i < 5; i++) {
        fds[i] = spool_create(vbuf_str(dir), err);
        UT_CHECK(fds[i] >= 0, "spool_create: %s", vbuf_str(err));
        if (fds[i] < 0 || fstat(fds[i], &st) < 0) {
            ok = 0;
            continue;
        }
        UT_CHECK(S_ISREG(st.st_mode), "spool file %d is a regular file", i);
        UT_EQ_INT(st.st_mode & 07777, 0600, "spool file mode");
        UT_EQ_INT(st.st_nlink, 0, "spool file has no link");
        UT_EQ_INT(st.st_uid, geteuid(), "spool file owner");
        UT_CHECK((fcntl(fds[i], F_GETFD) & FD_CLOEXEC) != 0, "spool file is close-on-exec");
    }
    UT_EQ_INT(count_entries(vbuf_str(dir)), 0, "no names in the spool directory");
    if (ok) {
        UT_EQ_INT(write(fds[0], "hello", 5), 5, "write");
        UT_EQ_INT(spool_size(fds[0]), 5, "spool_size");
        UT_EQ_INT(pread(fds[0], buf, sizeof(buf), 0), 5, "read back");
        UT_EQ_MEM(buf, 5, "hello", 5, "read back");
        UT_EQ_INT(spool_size(fds[1]), 0, "a new file is empty");
    }
    for (i = 0; i < 5; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    UT_EQ_INT(count_entries(vbuf_str(dir)), 0, "still no names after close");

    vbuf_strcpy(err, "");
    UT_EQ_INT(spool_create("/nonexistent/postsift-spool", err), -1, "missing directory");
    UT_CHECK(strstr(vbuf_str(err), "cannot create spool file in /nonexistent/postsift-spool")
             != NULL, "missing directory: %s", vbuf_str(err));
    UT_EQ_INT(spool_size(-1), -1, "spool_size of a bad descriptor");
    vbuf_free(dir);
    vbuf_free(err);
}

/* test_random_name - length, alphabet, and no repeats */
static void test_random_name(void)
{
    static const size_t lens[] = {1, 2, 17, 25, 65};
    char a[80], b[80];
    size_t i, j;

    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        int alnum = 1;

        memset(a, 'X', sizeof(a));
        spool_random_name(a, lens[i]);
        UT_EQ_INT(strlen(a), lens[i] - 1, "random name length");
        for (j = 0; a[j]; j++)
            if (!isalnum((unsigned char)a[j]))
                alnum = 0;
        UT_CHECK(alnum, "random name \"%s\" is alphanumeric", a);
        UT_CHECK(a[lens[i]] == 'X', "random name writes past len %zu", lens[i]);
    }
    spool_random_name(a, 25);
    spool_random_name(b, 25);
    UT_CHECK(strcmp(a, b) != 0, "two random names differ: %s %s", a, b);
}

/* test_copy - copy from the start of src, to the current offset of dst */
static void test_copy(void)
{
    static const size_t sizes[] = {0, 1, 65535, 65536, 65537, 300000};
    VBUF *err = vbuf_alloc(0);
    VBUF *dir = path_in("spool");
    char *data, *back;
    size_t i, n, max = 300000;
    int fds[2];

    data = malloc(max + 3);
    back = malloc(max + 3);
    for (n = 0; n < max; n++)
        data[n] = (char)(n * 7 + n / 251);
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        int src = spool_create(vbuf_str(dir), err);
        int dst = spool_create(vbuf_str(dir), err);
        char what[64];

        snprintf(what, sizeof(what), "copy of %zu bytes", sizes[i]);
        if (src < 0 || dst < 0) {
            UT_CHECK(0, "%s: spool_create: %s", what, vbuf_str(err));
            continue;
        }
        UT_EQ_INT(write(src, data, sizes[i]), sizes[i], what);
        UT_EQ_INT(write(dst, "HDR", 3), 3, what);
        UT_EQ_INT(spool_copy_fd(src, dst), 0, what);
        UT_EQ_INT(spool_size(dst), sizes[i] + 3, what);
        UT_EQ_INT(pread(dst, back, max + 3, 0), sizes[i] + 3, what);
        UT_EQ_MEM(back, 3, "HDR", 3, what);
        UT_CHECK(memcmp(back + 3, data, sizes[i]) == 0, "%s: content differs", what);
        close(src);
        close(dst);
    }

    /* Into a pipe, and the errors. */
    {
        int src = spool_create(vbuf_str(dir), err);
        ssize_t got;

        UT_CHECK(src >= 0 && pipe(fds) == 0, "pipe: %s", strerror(errno));
        UT_EQ_INT(write(src, "abc", 3), 3, "write");
        UT_EQ_INT(spool_copy_fd(src, fds[1]), 0, "copy into a pipe");
        close(fds[1]);
        got = read(fds[0], back, 16);
        UT_EQ_MEM(back, (size_t)(got < 0 ? 0 : got), "abc", 3, "copy into a pipe");
        close(fds[0]);
        /* A pipe as the source (postsift-reinject under a shell filter):
         * what it holds, read to its end, more than one buffer of it. */
        UT_CHECK(pipe(fds) == 0, "pipe: %s", strerror(errno));
        if (fork() == 0) {
            close(fds[0]);
            for (n = 0; n < 3; n++)
                if (spool_write_all(fds[1], data, 100000) < 0)
                    _exit(1);
            _exit(0);
        }
        close(fds[1]);
        UT_EQ_INT(spool_copy_fd(fds[0], src), 0, "a pipe as the source");
        UT_EQ_INT(spool_size(src), 300003, "a pipe as the source: all of it");
        UT_EQ_INT(pread(src, back, max + 3, 0), 300003, "a pipe as the source: read back");
        UT_CHECK(memcmp(back, "abc", 3) == 0 && memcmp(back + 3, data, 100000) == 0
                 && memcmp(back + 200003, data, 100000) == 0, "a pipe as the source: bytes");
        close(fds[0]);
        wait(NULL);
        UT_EQ_INT(spool_copy_fd(-1, src), -1, "bad source");
        UT_EQ_INT(spool_copy_fd(src, -1), -1, "bad destination");
        close(src);
    }
    {
        int src = spool_create(vbuf_str(dir), err);
        int ro = open("/dev/null", O_RDONLY);

        UT_EQ_INT(write(src, "abc", 3), 3, "write");
        UT_EQ_INT(spool_copy_fd(src, ro), -1, "read-only destination");
        close(ro);
        close(src);
    }
    UT_EQ_INT(count_entries(vbuf_str(dir)), 0, "no names after copies");
    free(back);
    free(data);
    vbuf_free(dir);
    vbuf_free(err);
}

/* main - run every test */
/* test_write_all - everything written, or -1 */
static void test_write_all(void)
{
    static char big[300000];
    char back[sizeof(big)];
    int fd = open(tmpdir, O_TMPFILE | O_RDWR, 0600);

    UT_CHECK(fd >= 0, "O_TMPFILE in %s", tmpdir);
    if (fd < 0)
        return;
    memset(big, 'x', sizeof(big));
    big[sizeof(big) - 1] = 'y';
    UT_EQ_INT(spool_write_all(fd, big, sizeof(big)), 0, "write_all of 300000 bytes");
    UT_EQ_INT(pread(fd, back, sizeof(back), 0), (long long)sizeof(back), "all bytes there");
    UT_CHECK(memcmp(big, back, sizeof(big)) == 0, "same bytes");
    UT_EQ_INT(spool_write_all(fd, "", 0), 0, "empty write_all");
    close(fd);
    UT_EQ_INT(spool_write_all(fd, "x", 1), -1, "write_all to a closed fd");
}

int main(void)
{
    VBUF *dir;

    UT_BEGIN("test_lib_spool");
    msg_init("test_lib_spool", 0);
    umask(022);
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_dir_check();
    test_create();
    test_write_all();
    test_random_name();
    test_copy();
    dir = path_in("spool");
    rmdir(vbuf_str(dir));
    vbuf_free(dir);
    if (rmdir(tmpdir) < 0)
        fprintf(stderr, "rmdir %s: %s\n", tmpdir, strerror(errno));
    return ut_done();
}
