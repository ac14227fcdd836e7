/*
 * harness - the work directory, settings and failure reports of a fuzz
 * target (see fuzz.h)
 *
 * The work directory lives in memory when it can (/dev/shm): the targets
 * create spool files, quarantine entries (with fsync) and unix sockets at
 * every input, and a disk would make that the slowest part of a run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/msg.h"
#include "lib/params.h"
#include "lib/spool.h"
#include "lib/vbuf.h"
#include "tests/fuzz/fuzz.h"

#define FUZZ_EXIT_MAX   8

static char fuzz_dir[200];
static pid_t fuzz_pid;
static void (*fuzz_exit_fn[FUZZ_EXIT_MAX])(void);
static int fuzz_nexit;

/* fuzz_base - where work directories go: $POSTSIFT_FUZZ_TMPDIR, else
 * /dev/shm, else $TMPDIR, else /tmp */
static const char *fuzz_base(void)
{
    const char *d;
    struct stat st;

    if ((d = getenv("POSTSIFT_FUZZ_TMPDIR")) != NULL && *d)
        return d;
    if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK | X_OK) == 0)
        return "/dev/shm";
    if ((d = getenv("TMPDIR")) != NULL && *d)
        return d;
    return "/tmp";
}

/* fuzz_rm_one - nftw callback: remove one entry */
static int fuzz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        (void)rmdir(path);
    else
        (void)unlink(path);
    return 0;
}

/* fuzz_remove_dir - remove the work directory (unless asked to keep it) */
static void fuzz_remove_dir(void)
{
    if (fuzz_dir[0] && getpid() == fuzz_pid && getenv("POSTSIFT_FUZZ_KEEP") == NULL)
        (void)nftw(fuzz_dir, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* fuzz_cleanup - at exit: the targets' hooks, then the work directory */
static void fuzz_cleanup(void)
{
    if (getpid() != fuzz_pid)
        return;
    while (fuzz_nexit > 0)
        fuzz_exit_fn[--fuzz_nexit] ();
    fuzz_remove_dir();
}

/* fuzz_verbose - how much to say */
int fuzz_verbose(void)
{
    const char *v = getenv("POSTSIFT_FUZZ_VERBOSE");

    return v && *v >= '0' && *v <= '9' ? atoi(v) : 0;
}

/* fuzz_setup - once per process */
void fuzz_setup(const char *name)
{
    static int done;
    char    path[4096];

    if (done)
        return;
    done = 1;
    signal(SIGPIPE, SIG_IGN);
    msg_init(name, fuzz_verbose() ? MSG_STDERR : 0);
    config_init();
    if (snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/postsift-fuzz-%s-XXXXXX", fuzz_base(), name)
        >= (int)sizeof(fuzz_dir) || mkdtemp(fuzz_dir) == NULL)
        fuzz_fail("cannot make a work directory under %s: %s (set POSTSIFT_FUZZ_TMPDIR)",
                  fuzz_base(), strerror(errno));
    fuzz_pid = getpid();
    atexit(fuzz_cleanup);
    if (mkdir(fuzz_path(path, sizeof(path), "spool"), 0700) < 0)
        fuzz_fail("mkdir %s: %s", path, strerror(errno));
    fuzz_set("spool_dir=%s", path);
    if (mkdir(fuzz_path(path, sizeof(path), "quarantine"), 0700) < 0)
        fuzz_fail("mkdir %s: %s", path, strerror(errno));
    fuzz_set("quarantine_dir=%s", path);
    fuzz_set("myhostname=fuzz.example");
}

/* fuzz_workdir - the private work directory */
const char *fuzz_workdir(void)
{
    return fuzz_dir;
}

/* fuzz_path - NAME under the work directory */
const char *fuzz_path(char *buf, size_t len, const char *name)
{
    if (snprintf(buf, len, "%s/%s", fuzz_dir, name) >= (int)len)
        fuzz_fail("path too long: %s/%s", fuzz_dir, name);
    return buf;
}

/* fuzz_set - one setting */
void fuzz_set(const char *fmt, ...)
{
    VBUF   *nameval = vbuf_alloc(8192);
    VBUF   *err = vbuf_alloc(4096);
    va_list ap;

    va_start(ap, fmt);
    vbuf_vsprintf_append(nameval, fmt, ap);
    va_end(ap);
    if (config_override(vbuf_str(nameval), err) < 0 || config_finish(err) < 0)
        fuzz_fail("setting %s: %s", vbuf_str(nameval), vbuf_str(err));
    vbuf_free(nameval);
    vbuf_free(err);
}

/* fuzz_at_exit - a cleanup hook */
void fuzz_at_exit(void (*fn)(void))
{
    if (fuzz_nexit == FUZZ_EXIT_MAX)
        fuzz_fail("too many exit hooks");
    fuzz_exit_fn[fuzz_nexit++] = fn;
}

/* fuzz_fail - report a broken invariant and abort */
void fuzz_fail(const char *fmt, ...)
{
    char    text[4096];
    va_list ap;
    size_t  i;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    for (i = 0; text[i]; i++)
        if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] == 0x7f)
            text[i] = '?';
    fprintf(stderr, "postsift fuzz (%s): FAILED: %s\n", msg_program(), text);
    fflush(stderr);
    fuzz_remove_dir();              /* abort() skips the exit hooks */
    abort();
}

/* fuzz_known - id is listed in $POSTSIFT_FUZZ_IGNORE */
int fuzz_known(const char *id)
{
    const char *list = getenv("POSTSIFT_FUZZ_IGNORE"), *p;
    size_t  n = strlen(id);

    for (p = list; p && (p = strstr(p, id)) != NULL; p += n)
        if ((p == list || p[-1] == ' ' || p[-1] == ',') && (p[n] == 0 || p[n] == ' ' || p[n] == ','))
            return 1;
    return 0;
}

/* fuzz_empty_dir - remove every entry of dir */
void fuzz_empty_dir(const char *dir)
{
    DIR    *d = opendir(dir);
    struct dirent *e;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            (void)unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
}

/* fuzz_memfd - an anonymous file with these bytes, at offset 0 */
int fuzz_memfd(const void *data, size_t len)
{
    int     fd = memfd_create("postsift-fuzz", MFD_CLOEXEC);

    if (fd < 0)
        fuzz_fail("memfd_create: %s", strerror(errno));
    if (len > 0 && spool_write_all(fd, data, len) < 0)
        fuzz_fail("write memfd: %s", strerror(errno));
    if (lseek(fd, 0, SEEK_SET) < 0)
        fuzz_fail("lseek memfd: %s", strerror(errno));
    return fd;
}
