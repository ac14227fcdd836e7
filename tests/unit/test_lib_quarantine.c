/*
 * test_lib_quarantine - the quarantine tools of lib/quarantine.c
 *
 * Format (what store writes, and what a file of an older version without a
 * time line still gives), the listing (time, size, verdict, detail, many
 * recipients shortened, JSON), show, the release lock (processes racing
 * for one entry: exactly one wins; a crash leaves a stale ID.releasing
 * that only --force takes over), delete, expiry by mtime, the directory
 * fsync and a full file system. Everything happens under a mkdtemp
 * directory.
 */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/envelope.h"
#include "lib/quarantine.h"
#include "lib/spool.h"
#include "unittest.h"

static char tmpdir[] = "/tmp/test_lib_quarantine.XXXXXX";

/* message_fd - an anonymous file holding text */
static int message_fd(const char *text, size_t len)
{
    VBUF   *err = vbuf_alloc(1024);
    int     fd = spool_create(tmpdir, err);

    if (fd < 0 || spool_write_all(fd, text, len) < 0)
        UT_CHECK(0, "message file: %s", vbuf_str(err));
    vbuf_free(err);
    return fd;
}

/* store - one entry with nrcpt recipients r0@x... in qdir; its id in id */
static void store(const char *qdir, int nrcpt, const char *body, VBUF *id)
{
    SMTP_RCPT rc[8];
    SMTP_ENVELOPE env = {0};
    VBUF   *err = vbuf_alloc(1024);
    char    addr[8][16];
    int     i, fd = message_fd(body, strlen(body));

    memset(rc, 0, sizeof(rc));
    for (i = 0; i < nrcpt; i++) {
        snprintf(addr[i], sizeof(addr[i]), "r%d@x", i);
        rc[i].addr = addr[i];
    }
    env.sender = "s@x";
    env.rcpt = rc;
    env.nrcpt = nrcpt;
    UT_CHECK(quarantine_store(qdir, &env, fd, "infected", "Eicar-Signature", "QID9", id, err) == 0,
             "store: %s", vbuf_str(err));
    close(fd);
    vbuf_free(err);
}

/* set_mtime - the modification time of dir/name */
static void set_mtime(const char *dir, const char *name, time_t t)
{
    struct timeval tv[2] = {{t, 0}, {t, 0}};
    char    path[600];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    UT_CHECK(utimes(path, tv) == 0, "utimes %s: %s", path, strerror(errno));
}

/* exists - dir/name is there */
static int exists(const char *dir, const char *name, const char *suffix)
{
    char    path[600];

    snprintf(path, sizeof(path), "%s/%s%s", dir, name, suffix);
    return access(path, F_OK) == 0;
}

/* listing - what quarantine_list() writes, as a string (static buffer) */
static const char *listing(const char *qdir, int flags)
{
    static char out[8192];
    VBUF   *err = vbuf_alloc(1024);
    FILE   *fp = tmpfile();
    size_t  n;

    UT_CHECK(quarantine_list(qdir, fp, flags, err) >= 0, "list: %s", vbuf_str(err));
    rewind(fp);
    n = fread(out, 1, sizeof(out) - 1, fp);
    out[n] = 0;
    fclose(fp);
    vbuf_free(err);
    return out;
}

#define OLD_ENTRY "postsift-quarantine 1\nsender: old@x\nrecipient: r@x\n" \
    "verdict: infected\nreason: Old-Sig\n\nSubject: old\n\nbody\n"

/* test_format - store and read back; an older file lists too */
static void test_format(const char *qdir)
{
    QUARANTINE_ENTRY qe;
    VBUF   *id = vbuf_alloc(64), *err = vbuf_alloc(1024), *line = vbuf_alloc(0);
    char    want[512], path[600];
    int     fd;

    store(qdir, 1, "Subject: t\n\nhello\n", id);
    UT_CHECK(quarantine_open(qdir, vbuf_str(id), &qe, err) == 0, "open: %s", vbuf_str(err));
    UT_EQ_INT(qe.size, 18, "size is the message's, without the envelope block");
    UT_CHECK(qe.mtime > time(NULL) - 60 && qe.mtime <= time(NULL), "mtime is now");
    UT_EQ_STR(qe.queue_id, "QID9", "queue id");
    set_mtime(qdir, vbuf_str(id), 1700000000);
    quarantine_close(&qe);
    (void)quarantine_open(qdir, vbuf_str(id), &qe, err);
    quarantine_line(line, vbuf_str(id), &qe);
    snprintf(want, sizeof(want), "%s from=<s@x> to=<r0@x> verdict=infected "
             "detail=\"Eicar-Signature\" time=2023-11-14T23:13:20+01:00 size=18 queue_id=QID9",
             vbuf_str(id));
    UT_EQ_STR(vbuf_str(line), want, "listing line");
    quarantine_close(&qe);
    snprintf(path, sizeof(path), "%s/%s", qdir, vbuf_str(id));
    fd = open(path, O_RDONLY);
    UT_CHECK(fd >= 0, "open file");
    {
        char    head[512];
        ssize_t n = read(fd, head, sizeof(head) - 1);

        head[n > 0 ? n : 0] = 0;
        UT_CHECK(strstr(head, "\ntime: ") != NULL, "the envelope block records the time");
    }
    close(fd);
    UT_CHECK(quarantine_remove(qdir, vbuf_str(id), err) == 0, "remove: %s", vbuf_str(err));

    /* A file from before size and time were listed: no time line */
    snprintf(path, sizeof(path), "%s/OldAAAAAAAAAAAAA", qdir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    UT_CHECK(fd >= 0 && write(fd, OLD_ENTRY, strlen(OLD_ENTRY)) > 0 && close(fd) == 0, "old file");
    set_mtime(qdir, "OldAAAAAAAAAAAAA", 1700000000);
    UT_EQ_STR(listing(qdir, 0), "OldAAAAAAAAAAAAA from=<old@x> to=<r@x> verdict=infected "
              "detail=\"Old-Sig\" time=2023-11-14T23:13:20+01:00 size=19 queue_id=-\n",
              "an old file lists, time from its mtime");
    UT_CHECK(quarantine_delete(qdir, "OldAAAAAAAAAAAAA", err) == 0, "delete old: %s", vbuf_str(err));
    UT_CHECK(!exists(qdir, "OldAAAAAAAAAAAAA", "") && !exists(qdir, "OldAAAAAAAAAAAAA", ".releasing"),
             "deleted, under both names");
    UT_CHECK(quarantine_delete(qdir, "OldAAAAAAAAAAAAA", err) < 0
             && strstr(vbuf_str(err), "no quarantined message"), "delete twice: %s",
             vbuf_str(err));
    vbuf_free(id);
    vbuf_free(err);
    vbuf_free(line);
}

/* test_listing - many recipients, JSON, show */
static void test_listing(const char *qdir)
{
    QUARANTINE_ENTRY qe;
    VBUF   *id = vbuf_alloc(64), *err = vbuf_alloc(1024);
    char    want[1024], out[8192];
    FILE   *fp;
    size_t  n;

    store(qdir, 5, "Subject: many\r\nX-Evil: a\033b\r\n\r\nsecret body\r\n", id);
    set_mtime(qdir, vbuf_str(id), 1700000000);
    snprintf(want, sizeof(want), "%s from=<s@x> to=\"5 recipients: <r0@x>, <r1@x>, <r2@x>, ...\" "
             "verdict=infected detail=\"Eicar-Signature\" time=2023-11-14T23:13:20+01:00 "
             "size=43 queue_id=QID9\n", vbuf_str(id));
    UT_EQ_STR(listing(qdir, 0), want, "five recipients: the first three and the count");
    snprintf(want, sizeof(want), "{\"id\":\"%s\",\"state\":\"stored\",\"time\":"
             "\"2023-11-14T23:13:20+01:00\",\"unixtime\":1700000000,\"size\":43,"
             "\"verdict\":\"infected\",\"detail\":\"Eicar-Signature\",\"queue_id\":\"QID9\","
             "\"sender\":\"s@x\",\"recipients\":[\"r0@x\",\"r1@x\",\"r2@x\",\"r3@x\",\"r4@x\"]}\n",
             vbuf_str(id));
    UT_EQ_STR(listing(qdir, QUARANTINE_LIST_JSON), want, "JSON: one object, every recipient");

    UT_CHECK(quarantine_open(qdir, vbuf_str(id), &qe, err) == 0, "open: %s", vbuf_str(err));
    fp = tmpfile();
    UT_EQ_INT(quarantine_show(fp, vbuf_str(id), &qe, 0), 0, "show");
    rewind(fp);
    n = fread(out, 1, sizeof(out) - 1, fp);
    out[n] = 0;
    UT_CHECK(strstr(out, "\nsender: s@x\nrecipient: r0@x\n") != NULL, "show: envelope: %s", out);
    UT_CHECK(strstr(out, "\nverdict: infected\ndetail: Eicar-Signature\n") != NULL,
             "show: verdict and detail");
    UT_CHECK(strstr(out, "\n\nSubject: many\nX-Evil: a\\x1Bb\n") != NULL,
             "show: header, escape byte shown as \\x1B: %s", out);
    UT_CHECK(strstr(out, "secret body") == NULL, "show: no body");
    fclose(fp);
    fp = tmpfile();
    UT_EQ_INT(quarantine_show(fp, vbuf_str(id), &qe, 1), 0, "show full");
    rewind(fp);
    n = fread(out, 1, sizeof(out) - 1, fp);
    out[n] = 0;
    UT_CHECK(n > 43 && memcmp(out + n - 43, "Subject: many\r\nX-Evil: a\033b\r\n\r\nsecret body\r\n",
                              43) == 0, "show --full: the message unchanged at the end");
    fclose(fp);
    quarantine_close(&qe);
    UT_CHECK(quarantine_delete(qdir, vbuf_str(id), err) == 0, "delete: %s", vbuf_str(err));
    UT_EQ_STR(listing(qdir, 0), "", "empty after delete");
    vbuf_free(id);
    vbuf_free(err);
}

/* race - n processes claim id at once; each holding it for a while, then
 * finishing (or, with putback, putting it back); the number that won */
static int race(const char *qdir, const char *id, int n, int putback)
{
    int     go[2], i, st, won = 0;
    char    c;

    if (pipe(go) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        if (fork() == 0) {
            QUARANTINE_ENTRY qe;
            VBUF   *err = vbuf_alloc(1024);
            int     rc;

            close(go[1]);
            (void)!read(go[0], &c, 1);          /* all start together */
            if ((rc = quarantine_claim(qdir, id, 0, &qe, err)) != QUARANTINE_CLAIMED)
                _exit(rc == QUARANTINE_BUSY || rc == QUARANTINE_ERROR ? 1 : 3);
            usleep(300000);                     /* the reinjection */
            if (putback)
                rc = quarantine_unclaim(qdir, id, &qe, err);
            else
                rc = quarantine_finish(qdir, id, &qe, err);
            _exit(rc == 0 ? 0 : 2);
        }
    }
    close(go[0]);
    close(go[1]);                               /* EOF: go */
    for (i = 0; i < n; i++) {
        if (wait(&st) > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
            won++;
        else if (!WIFEXITED(st) || WEXITSTATUS(st) != 1)
            UT_CHECK(0, "racer ended with status %d", st);
    }
    return won;
}

/* test_lock - one release wins; a crash leaves a stale entry */
static void test_lock(const char *qdir)
{
    QUARANTINE_ENTRY qe, other;
    VBUF   *id = vbuf_alloc(64), *err = vbuf_alloc(1024);
    const char *list;
    int     rc, i;

    store(qdir, 1, "Subject: race\n\nx\n", id);
    for (i = 0; i < 3; i++)
        UT_EQ_INT(race(qdir, vbuf_str(id), 6, 1), 1, "six racers, the winner puts it back: one won");
    UT_CHECK(exists(qdir, vbuf_str(id), "") && !exists(qdir, vbuf_str(id), ".releasing"),
             "put back under its id");
    UT_EQ_INT(race(qdir, vbuf_str(id), 6, 0), 1, "six racers, the winner finishes: one won");
    UT_CHECK(!exists(qdir, vbuf_str(id), "") && !exists(qdir, vbuf_str(id), ".releasing"),
             "gone after the release");

    /* A holder in this process: a second claim is busy, even with force */
    store(qdir, 1, "Subject: held\n\nx\n", id);
    UT_EQ_INT(quarantine_claim(qdir, vbuf_str(id), 0, &qe, err), QUARANTINE_CLAIMED, "claim");
    UT_CHECK(exists(qdir, vbuf_str(id), ".releasing"), "renamed to ID.releasing");
    UT_CHECK(strstr(listing(qdir, 0), " state=releasing\n") != NULL, "listed as releasing");
    rc = quarantine_claim(qdir, vbuf_str(id), 1, &other, err);
    UT_EQ_INT(rc, QUARANTINE_BUSY, "second claim with --force while held: busy");
    UT_CHECK(quarantine_delete(qdir, vbuf_str(id), err) < 0, "delete while held: refused");

    /* The holder dies without finishing (closing is what a crash does) */
    quarantine_close(&qe);
    list = listing(qdir, 0);
    UT_CHECK(strstr(list, " state=stale\n") != NULL, "a crashed release is listed stale: %s", list);
    rc = quarantine_claim(qdir, vbuf_str(id), 0, &other, err);
    UT_EQ_INT(rc, QUARANTINE_STALE, "stale: not taken over without force");
    UT_CHECK(strstr(vbuf_str(err), "--force") != NULL, "says what to do: %s", vbuf_str(err));
    rc = quarantine_claim(qdir, vbuf_str(id), 1, &other, err);
    UT_EQ_INT(rc, QUARANTINE_CLAIMED, "stale: taken over with force");
    UT_EQ_INT(quarantine_unclaim(qdir, vbuf_str(id), &other, err), 0, "put back");
    UT_CHECK(exists(qdir, vbuf_str(id), ""), "stored again under its id");
    UT_CHECK(quarantine_delete(qdir, vbuf_str(id), err) == 0, "delete: %s", vbuf_str(err));
    vbuf_free(id);
    vbuf_free(err);
}

/* test_expire - older goes, newer stays, a held one is left alone */
static void test_expire(const char *qdir)
{
    VBUF   *old = vbuf_alloc(64), *young = vbuf_alloc(64), *held = vbuf_alloc(64);
    VBUF   *err = vbuf_alloc(1024);
    QUARANTINE_ENTRY qe;
    time_t  now = time(NULL);
    char    out[4096], want[256];
    FILE   *fp = tmpfile();
    size_t  n;

    store(qdir, 1, "Subject: old\n\nx\n", old);
    store(qdir, 1, "Subject: young\n\nx\n", young);
    store(qdir, 1, "Subject: held\n\nx\n", held);
    set_mtime(qdir, vbuf_str(old), now - 10 * 86400);
    set_mtime(qdir, vbuf_str(young), now - 86400 + 600);
    set_mtime(qdir, vbuf_str(held), now - 10 * 86400);
    UT_EQ_INT(quarantine_claim(qdir, vbuf_str(held), 0, &qe, err), QUARANTINE_CLAIMED, "hold one");
    UT_EQ_INT(quarantine_expire(qdir, now - 86400, fp, err), 1, "expire one day: one removed");
    rewind(fp);
    n = fread(out, 1, sizeof(out) - 1, fp);
    out[n] = 0;
    snprintf(want, sizeof(want), "expired %s from=<s@x> to=<r0@x> verdict=infected ",
             vbuf_str(old));
    UT_CHECK(strncmp(out, want, strlen(want)) == 0 && strchr(out, '\n') == out + n - 1,
             "prints what it removed: %s", out);
    UT_CHECK(!exists(qdir, vbuf_str(old), ""), "the older one is gone");
    UT_CHECK(exists(qdir, vbuf_str(young), ""), "the newer one stays");
    UT_CHECK(exists(qdir, vbuf_str(held), ".releasing"), "one being released stays");
    UT_EQ_INT(quarantine_unclaim(qdir, vbuf_str(held), &qe, err), 0, "put back");
    rewind(fp);
    UT_EQ_INT(quarantine_expire(qdir, now - 86400, fp, err), 1, "then it expires");
    UT_EQ_INT(quarantine_expire(qdir, now - 86400, fp, err), 0, "twice: nothing more");
    UT_CHECK(quarantine_delete(qdir, vbuf_str(young), err) == 0, "delete: %s", vbuf_str(err));
    fclose(fp);
    vbuf_free(old);
    vbuf_free(young);
    vbuf_free(held);
    vbuf_free(err);
}

/* test_sync - the directory fsync, and a full file system */
static void test_sync(const char *qdir)
{
    VBUF   *err = vbuf_alloc(1024);
    char    path[600];
    pid_t   pid;
    int     st;

    UT_EQ_INT(quarantine_sync_dir(qdir, err), 0, "fsync of the directory");
    snprintf(path, sizeof(path), "%s/none", qdir);
    UT_CHECK(quarantine_sync_dir(path, err) < 0 && strstr(vbuf_str(err), path),
             "a missing directory: %s", vbuf_str(err));

    /* ENOSPC: a 64 KiB tmpfs in a mount namespace of a child (root only) */
    if ((pid = fork()) == 0) {
        VBUF   *id = vbuf_alloc(64);
        SMTP_RCPT rc = {"r@x", NULL, NULL};
        SMTP_ENVELOPE env = {0};
        static char big[256 * 1024];
        int     fd;

        snprintf(path, sizeof(path), "%s/full", tmpdir);
        if (mkdir(path, 0700) < 0 || unshare(CLONE_NEWNS) < 0
            || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0
            || mount("tmpfs", path, "tmpfs", 0, "size=64k,mode=0700") < 0)
            _exit(77);
        memset(big, 'a', sizeof(big));
        fd = message_fd(big, sizeof(big));
        env.sender = "s@x";
        env.rcpt = &rc;
        env.nrcpt = 1;
        if (quarantine_store(path, &env, fd, "infected", "x", NULL, id, err) == 0)
            _exit(1);
        if (strstr(vbuf_str(err), "No space left") == NULL || strstr(vbuf_str(err), "full") == NULL)
            _exit(2);
        execlp("sh", "sh", "-c", "test -z \"$(ls -A \"$0\")\"", path, (char *)NULL);
        _exit(3);
    }
    waitpid(pid, &st, 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
        printf("# no mount namespace here: the full file system case is skipped\n");
    else
        UT_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                 "full file system: store fails, says so, leaves nothing (status %d)", st);
    vbuf_free(err);
}

int main(void)
{
    char    qdir[512], cmd[600];

    UT_BEGIN("test_lib_quarantine");
    if (mkdtemp(tmpdir) == NULL)
        return 2;
    setenv("TZ", "Europe/Paris", 1);
    tzset();
    config_init();
    snprintf(qdir, sizeof(qdir), "%s/quarantine", tmpdir);
    test_format(qdir);
    test_listing(qdir);
    test_lock(qdir);
    test_expire(qdir);
    test_sync(qdir);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    (void)!system(cmd);
    return ut_done();
}
