/*
 * test_lib_metrics - the shared counter file: concurrent adds from many
 * processes are exact, a foreign or unusable file is replaced or ignored
 * without harm, the Prometheus text and the table for a known state.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/metrics.h"
#include "lib/msg.h"
#include "lib/vbuf.h"
#include "tests/unit/unittest.h"

#define NPROC   8
#define NADD    20000

static char tmpdir[] = "/tmp/test_lib_metrics.XXXXXX";
static const char *const verdicts[] = {"clean", "infected"};
static const char *const actions[] = {"pass", "defer"};
static const METRICS_NAMES names = {verdicts, 2, actions, 2};

/* tpath - a name in the test directory (static buffers, 4 in rotation) */
static const char *tpath(const char *name)
{
    static char buf[4][512];
    static int n;

    n = (n + 1) % 4;
    snprintf(buf[n], sizeof(buf[n]), "%s/%s", tmpdir, name);
    return buf[n];
}

/* test_concurrent - NPROC processes add at once: the totals are exact */
static void test_concurrent(void)
{
    const METRICS_DATA *m;
    VBUF   *err = vbuf_alloc(1024);
    struct stat st;
    int     i, k, status, ok = 1;
    pid_t   pid;

    for (i = 0; i < NPROC; i++) {
        if ((pid = fork()) == 0) {
            metrics_use(tpath("concurrent"));
            for (k = 0; k < NADD; k++) {
                metrics_message(METRICS_DESIGN_PIPE, 1, 0, 10);
                metrics_scan_time(k % 2 ? 0.003 : 20.0);
            }
            _exit(metrics_shared() ? 0 : 1);
        }
    }
    while (wait(&status) > 0)
        ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
    UT_CHECK(ok, "every child counted");
    UT_CHECK(stat(tpath("concurrent"), &st) == 0 && (st.st_mode & 0777) == 0600,
             "the file is mode 0600");
    m = metrics_open_ro(tpath("concurrent"), err);
    UT_CHECK(m != NULL, "open read-only: %s", vbuf_str(err));
    if (m) {
        UT_EQ_INT(m->messages[METRICS_DESIGN_PIPE][1], NPROC * NADD, "messages");
        UT_EQ_INT(m->bytes[METRICS_DESIGN_PIPE][1], NPROC * NADD * 10, "bytes");
        UT_EQ_INT(m->actions[METRICS_DESIGN_PIPE][0], NPROC * NADD, "actions");
        UT_EQ_INT(m->scan_count, NPROC * NADD, "scan count");
        UT_EQ_INT(m->scan_bucket[0], NPROC * NADD / 2, "first bucket");
        UT_EQ_INT(m->scan_bucket[METRICS_BUCKETS - 1], NPROC * NADD / 2, "+Inf bucket");
        metrics_close_ro(m);
    }
    vbuf_free(err);
}

/* test_foreign - a file of another layout is replaced; a symlink, a
 * missing directory or a reader on junk fail safely */
static void test_foreign(void)
{
    VBUF   *err = vbuf_alloc(1024);
    int     fd;

    fd = open(tpath("foreign"), O_CREAT | O_WRONLY, 0600);
    UT_CHECK(fd >= 0 && write(fd, "not a counter file at all\n", 26) == 26, "write junk");
    close(fd);
    UT_CHECK(metrics_open_ro(tpath("foreign"), err) == NULL, "reader refuses junk");
    metrics_use(tpath("foreign"));
    metrics_message(METRICS_DESIGN_SMTPD, 0, 0, 5);
    UT_CHECK(metrics_shared() != NULL, "junk replaced by a fresh file");
    if (metrics_shared())
        UT_EQ_INT(metrics_shared()->messages[METRICS_DESIGN_SMTPD][0], 1, "counted in it");

    UT_CHECK(symlink(tpath("concurrent"), tpath("link")) == 0, "symlink");
    metrics_use(tpath("link"));
    metrics_message(METRICS_DESIGN_SMTPD, 0, 0, 5);     /* warns once, no harm */
    UT_CHECK(metrics_shared() == NULL, "a symbolic link is not followed");
    metrics_use(tpath("no/such/dir/metrics"));
    metrics_message(METRICS_DESIGN_SMTPD, 0, 0, 5);
    metrics_tempfail(METRICS_CAUSE_OTHER);
    UT_CHECK(metrics_shared() == NULL, "a missing directory counts nothing");
    UT_CHECK(metrics_open_ro(tpath("missing"), err) == NULL, "reader: missing file");
    metrics_use(NULL);
    vbuf_free(err);
}

/* the expected text of test_render, in three pieces */
static const char want[] =
    "# HELP postsift_messages_total Messages handled, by design and verdict.\n"
    "# TYPE postsift_messages_total counter\n"
    "postsift_messages_total{design=\"pipe\",verdict=\"clean\"} 2\n"
    "postsift_messages_total{design=\"pipe\",verdict=\"infected\"} 0\n"
    "postsift_messages_total{design=\"smtpd\",verdict=\"clean\"} 0\n"
    "postsift_messages_total{design=\"smtpd\",verdict=\"infected\"} 0\n"
    "postsift_messages_total{design=\"spawn\",verdict=\"clean\"} 0\n"
    "postsift_messages_total{design=\"spawn\",verdict=\"infected\"} 0\n"
    "postsift_messages_total{design=\"lmtp\",verdict=\"clean\"} 0\n"
    "postsift_messages_total{design=\"lmtp\",verdict=\"infected\"} 0\n"
    "postsift_messages_total{design=\"milter\",verdict=\"clean\"} 0\n"
    "postsift_messages_total{design=\"milter\",verdict=\"infected\"} 1\n";
static const char want_hist[] =
    "postsift_scan_duration_seconds_bucket{le=\"0.005\"} 0\n"
    "postsift_scan_duration_seconds_bucket{le=\"0.01\"} 1\n"
    "postsift_scan_duration_seconds_bucket{le=\"0.025\"} 1\n"
    "postsift_scan_duration_seconds_bucket{le=\"0.05\"} 1\n"
    "postsift_scan_duration_seconds_bucket{le=\"0.1\"} 1\n"
    "postsift_scan_duration_seconds_bucket{le=\"0.25\"} 1\n"
    "postsift_scan_duration_seconds_bucket{le=\"0.5\"} 1\n"
    "postsift_scan_duration_seconds_bucket{le=\"1\"} 2\n"
    "postsift_scan_duration_seconds_bucket{le=\"2.5\"} 2\n"
    "postsift_scan_duration_seconds_bucket{le=\"5\"} 2\n"
    "postsift_scan_duration_seconds_bucket{le=\"10\"} 2\n"
    "postsift_scan_duration_seconds_bucket{le=\"+Inf\"} 3\n"
    "postsift_scan_duration_seconds_sum 11.510000\n"
    "postsift_scan_duration_seconds_count 3\n"
    "# HELP postsift_tempfails_total Messages deferred, by cause.\n"
    "# TYPE postsift_tempfails_total counter\n"
    "postsift_tempfails_total{cause=\"scanner\"} 0\n"
    "postsift_tempfails_total{cause=\"spool\"} 0\n"
    "postsift_tempfails_total{cause=\"timeout\"} 1\n";
static const char want_tail[] =
    "postsift_reloads_total{result=\"ok\"} 1\n"
    "postsift_reloads_total{result=\"failed\"} 0\n"
    "# HELP postsift_signatures Malware signatures loaded.\n"
    "# TYPE postsift_signatures gauge\n"
    "postsift_signatures 1234\n"
    "# HELP postsift_signature_version Version of the signature database.\n"
    "# TYPE postsift_signature_version gauge\n"
    "postsift_signature_version 27000\n"
    "# HELP postsift_signature_age_seconds Age of the newest signature database.\n"
    "# TYPE postsift_signature_age_seconds gauge\n"
    "postsift_signature_age_seconds 3600\n";
/* test_render - the exact text for a small known state */
static void test_render(void)
{
    const METRICS_DATA *m;
    VBUF   *out = vbuf_alloc(1 << 20), *err = vbuf_alloc(1024);
    pid_t   pid;
    int     status;

    metrics_use(tpath("render"));
    metrics_message(METRICS_DESIGN_PIPE, 0, 0, 100);
    metrics_message(METRICS_DESIGN_MILTER, 1, 1, 100);
    metrics_scan_time(0.01);
    metrics_scan_time(1.0);
    metrics_scan_time(10.5);            /* past le=10: in +Inf only */
    metrics_tempfail(METRICS_CAUSE_TIMEOUT);
    metrics_reload(1);
    metrics_signatures(1234, 27000, 1000000);
    metrics_worker(METRICS_DESIGN_SMTPD, METRICS_WORKER_BUSY);
    /* a second opener is not locked out by this process's mapping */
    if ((pid = fork()) == 0) {
        alarm(10);
        metrics_use(tpath("render"));
        metrics_message(METRICS_DESIGN_PIPE, 0, 0, 100);
        _exit(metrics_shared() ? 0 : 1);
    }
    UT_CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
             "another process opens the file while this one maps it");
    m = metrics_open_ro(tpath("render"), err);
    UT_CHECK(m != NULL, "open: %s", vbuf_str(err));
    if (m == NULL)
        return;
    metrics_prometheus(out, m, &names, 1003600);
    UT_CHECK(strncmp(vbuf_str(out), want, strlen(want)) == 0, "messages: %s", vbuf_str(out));
    UT_CHECK(strstr(vbuf_str(out), want_hist) != NULL, "histogram and tempfails");
    UT_CHECK(strstr(vbuf_str(out), want_tail) != NULL, "reloads and signatures");
    UT_CHECK(strstr(vbuf_str(out), "postsift_workers{design=\"smtpd\",state=\"busy\"} 1\n")
             != NULL, "this process is a busy worker");
    metrics_worker(METRICS_DESIGN_SMTPD, METRICS_WORKER_GONE);
    UT_EQ_INT(metrics_workers(m, METRICS_DESIGN_SMTPD, METRICS_WORKER_BUSY), 0, "gone");
    metrics_table(out, m, &names, 1003600);
    UT_CHECK(strstr(vbuf_str(out), "pipe                2          0            200\n") != NULL,
             "table row: %s", vbuf_str(out));
    metrics_close_ro(m);
    metrics_use(NULL);
    vbuf_free(out);
    vbuf_free(err);
}

/* test_path - the default file is beside spool_dir, not in it */
static void test_path(void)
{
    static const struct {
        const char *spool, *file, *want;
    } t[] = {
        {"/var/spool/postsift/spool", "", "/var/spool/postsift/metrics"},
        {"/var/spool/postsift/spool//", "", "/var/spool/postsift/metrics"},
        {"/spool", "", "/metrics"},
        {"spool", "", "metrics"},
        {"/var/spool/postsift/spool", "/srv/m", "/srv/m"},
    };
    VBUF   *buf = vbuf_alloc(4096);
    char    set[300];
    size_t  i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        snprintf(set, sizeof(set), "spool_dir=%s", t[i].spool);
        ut_set(set);
        snprintf(set, sizeof(set), "metrics_file=%s", t[i].file);
        ut_set(set);
        UT_EQ_STR(metrics_path(buf), t[i].want, t[i].spool);
    }
    vbuf_free(buf);
}

int     main(void)
{
    char    cmd[600];

    UT_BEGIN("test_lib_metrics");
    msg_init("test_lib_metrics", 0);
    config_init();
    umask(077);
    if (mkdtemp(tmpdir) == NULL)
        msg_fatal("mkdtemp: %s", strerror(errno));
    test_concurrent();
    test_foreign();
    test_render();
    test_path();
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    (void)!system(cmd);
    return ut_done();
}
