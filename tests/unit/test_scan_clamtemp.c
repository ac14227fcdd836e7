/*
 * test_scan_clamtemp - where libclamav's per-scan directories go
 * (clamav_temp_dir): by default a private directory in /dev/shm when it is
 * a tmpfs; in a shared sticky directory a new 0700 directory of ours with
 * an unpredictable name; any other directory only when it is a private
 * one of ours; a symlink, another owner's directory or a relative path is
 * a clear error, never used. The directory goes away with its last
 * scanner, and a killed process's is swept by the next.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/magic.h>

#include "lib/config.h"
#include "lib/msg.h"
#include "lib/params.h"
#include "lib/vbuf.h"
#include "scan/avscan.h"
#include "tests/unit/unittest.h"

static const char eicar[] =
    "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

static char tmpdir[] = "/tmp/test_scan_clamtemp-XXXXXX";
static char path_buf[4][700];

/* tpath - a name under the test directory (four at a time) */
static const char *tpath(const char *name)
{
    static int next;
    char   *p = path_buf[next++ % 4];

    snprintf(p, sizeof(path_buf[0]), "%s/%s", tmpdir, name);
    return p;
}

/* set_temp_dir - clamav_temp_dir = value */
static void set_temp_dir(const char *value)
{
    char    nameval[800];

    snprintf(nameval, sizeof(nameval), "clamav_temp_dir=%s", value);
    ut_set(nameval);
}

/* count_prefix - entries of dir whose name starts with prefix */
static int count_prefix(const char *dir, const char *prefix)
{
    DIR    *dp = opendir(dir);
    struct dirent *de;
    int     n = 0;

    if (dp == NULL)
        return -1;
    while ((de = readdir(dp)) != NULL)
        if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
            n++;
    closedir(dp);
    return n;
}

/* private_ours - path is a directory (not a link), 0700, ours */
static int private_ours(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700
        && st.st_uid == geteuid();
}

/* check_dir_in - open the scanner with clamav_temp_dir = setting: its
 * directory is a private one in want_base named want_prefix*, EICAR is
 * found, and closing the scanner removes the directory */
static void check_dir_in(const char *label, const char *setting, const char *want_base,
                         const char *want_prefix)
{
    VBUF   *err = vbuf_alloc(1024), *vn = vbuf_alloc(256);
    char    want[800], made[800];
    AVSCAN *av;

    set_temp_dir(setting);
    av = avscan_open("clamav", "bundled", err);
    UT_CHECK(av != NULL && avscan_tmpdir() != NULL, "%s: open: %s", label, vbuf_str(err));
    if (av == NULL || avscan_tmpdir() == NULL)
        return;
    snprintf(want, sizeof(want), "%s/%s", want_base, want_prefix);
    snprintf(made, sizeof(made), "%s", avscan_tmpdir());
    UT_CHECK(strncmp(made, want, strlen(want)) == 0 && strlen(made) >= strlen(want) + 16,
             "%s: the directory \"%s\" is %s + 16 random characters", label, made, want);
    UT_CHECK(private_ours(made), "%s: %s is a 0700 directory of ours", label, made);
    UT_EQ_INT(avscan_scan_mem(av, eicar, strlen(eicar), vn, err), AV_VIRUS,
              "EICAR is found");
    UT_EQ_INT(count_prefix(var_spool_dir, "clamtmp-"), strcmp(want_base, var_spool_dir) == 0,
              "spool_dir holds a scan directory only when it is the place");
    avscan_close(av);
    UT_CHECK(access(made, F_OK) < 0 && errno == ENOENT, "%s: %s removed at close", label, made);
    vbuf_free(err);
    vbuf_free(vn);
}

/* check_refused - clamav_temp_dir = setting is an error naming why */
static void check_refused(const char *label, const char *setting, const char *says)
{
    VBUF   *err = vbuf_alloc(1024);
    AVSCAN *av;

    set_temp_dir(setting);
    av = avscan_open("clamav", "bundled", err);
    UT_CHECK(av == NULL, "%s: the scanner does not start", label);
    UT_CHECK(strstr(vbuf_str(err), says) != NULL, "%s: the error says \"%s\": \"%s\"", label,
             says, vbuf_str(err));
    if (av)
        avscan_close(av);
    vbuf_free(err);
}

/* shm_usable - /dev/shm is a sticky tmpfs we may write */
static int shm_usable(void)
{
    struct statfs sfs;
    struct stat st;

    return statfs("/dev/shm", &sfs) == 0 && sfs.f_type == TMPFS_MAGIC
        && lstat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX)
        && access("/dev/shm", W_OK | X_OK) == 0;
}

/* test_places - the default and each kind of setting */
static void test_places(void)
{
    char    spool[700];

    /* a copy: a setting made anew frees the old values */
    snprintf(spool, sizeof(spool), "%s", var_spool_dir);
    if (shm_usable())
        check_dir_in("default", "", "/dev/shm", "postsift-clamtmp-");
    else
        check_dir_in("default without a usable /dev/shm", "", spool, "clamtmp-");
    if (mkdir(tpath("shared"), 0700) == 0)
        (void)chmod(tpath("shared"), 01777);
    check_dir_in("a shared sticky directory", tpath("shared"), tpath("shared"),
                 "postsift-clamtmp-");
    check_dir_in("a private directory, made", tpath("private"), tpath("private"), "clamtmp-");
    UT_CHECK(private_ours(tpath("private")), "the private directory was made 0700");
    check_dir_in("spool_dir, as before", spool, spool, "clamtmp-");
}

/* test_refused - what is never used */
static void test_refused(void)
{
    UT_CHECK(symlink(tpath("private"), tpath("link")) == 0, "symlink: %s", strerror(errno));
    check_refused("a symbolic link", tpath("link"), "is not a directory");
    check_refused("a relative path", "spool/tmp", "not an absolute path");
    check_refused("a plain file", "/etc/hostname", "clamav_temp_dir");
    if (geteuid() == 0) {
        UT_CHECK(mkdir(tpath("foreign"), 0700) == 0 && chown(tpath("foreign"), 65534, 65534) == 0,
                 "a directory of uid 65534");
        check_refused("another user's directory", tpath("foreign"), "is owned by uid 65534");
        UT_CHECK(mkdir(tpath("foreign-shared"), 0700) == 0
                 && chmod(tpath("foreign-shared"), 01777) == 0
                 && chown(tpath("foreign-shared"), 65534, 65534) == 0,
                 "a shared directory of uid 65534");
        check_refused("another user's shared directory", tpath("foreign-shared"),
                      "is owned by uid 65534");
    } else {
        printf("note: not root, foreign owner checks skipped\n");
    }
}

/* test_sweep - a killed process's directory in a shared directory is
 * removed by the next process that starts its scanner */
static void test_sweep(void)
{
    VBUF   *err = vbuf_alloc(1024);
    char    killed[800];
    int     p[2], st;
    ssize_t n;
    pid_t   pid;

    set_temp_dir(tpath("shared"));
    UT_CHECK(pipe(p) == 0, "pipe");
    fflush(stdout);
    if ((pid = fork()) == 0) {
        AVSCAN *av = avscan_open("clamav", "bundled", err);

        if (av != NULL && avscan_tmpdir() != NULL)
            (void)!write(p[1], avscan_tmpdir(), strlen(avscan_tmpdir()));
        close(p[1]);
        pause();
        _exit(0);
    }
    close(p[1]);
    n = read(p[0], killed, sizeof(killed) - 1);
    close(p[0]);
    killed[n > 0 ? n : 0] = 0;
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    UT_CHECK(n > 0 && access(killed, F_OK) == 0, "a killed scanner left %s", killed);
    if ((pid = fork()) == 0) {
        AVSCAN *av = avscan_open("clamav", "bundled", err);

        avscan_close(av);
        _exit(av != NULL ? 0 : 1);
    }
    waitpid(pid, &st, 0);
    UT_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the next process started its scanner");
    UT_CHECK(access(killed, F_OK) < 0 && errno == ENOENT, "and removed %s", killed);
    UT_EQ_INT(count_prefix(tpath("shared"), "postsift-clamtmp-"), 0,
              "nothing of ours left in the shared directory");
    vbuf_free(err);
}

int     main(void)
{
    char    nameval[800], cmd[800];

    UT_BEGIN("test_scan_clamtemp");
    msg_init("test_scan_clamtemp", MSG_STDERR);
    config_init();
    if (mkdtemp(tmpdir) == NULL)
        msg_fatal("mkdtemp: %s", strerror(errno));
    snprintf(nameval, sizeof(nameval), "spool_dir=%s/spool", tmpdir);
    ut_set(nameval);
    UT_CHECK(mkdir(var_spool_dir, 0700) == 0, "mkdir spool_dir");
    test_places();
    test_refused();
    test_sweep();
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        printf("note: %s not removed\n", tmpdir);
    return ut_done();
}
