/*
 * test_check_rules - the linter's rule table against saved instances
 *
 * Every directory of tests/data/snapshots (made by its mksnapshots from
 * real "postsift-postfix install" runs and postconf output) is checked
 * with --snapshot: the finding ids must be exactly those of its "expect"
 * file, the exit status 1 with findings and 0 without, and every finding
 * line in the format "postsift-postfix: ID: what (where) -- harm; fix:
 * fix" with every <NAME> of the table filled. Every rule of the table
 * must have a snapshot named after its id that reports it alone, and
 * each design a clean one. Also: the -v lines, the man page text, an
 * unreadable snapshot, the helpers. No root, no Postfix: nothing is run
 * or contacted.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check/check.h"
#include "tests/unit/unittest.h"

#define MAX_IDS 40
#define ID_LEN  64

typedef struct IDS {
    char    v[MAX_IDS][ID_LEN];
    int     n;
} IDS;

static char top_snap[1024];

/* run - check one snapshot; the output in *out (free it) */
static int run(const char *dir, int verbose, char **out)
{
    CK_OPTS opts;
    size_t  len;
    FILE   *fp = open_memstream(out, &len);
    FILE   *err = fopen("/dev/null", "w");
    int     status;

    memset(&opts, 0, sizeof(opts));
    opts.snapshot = dir;
    opts.verbose = verbose;
    status = check_run(&opts, fp, err);
    fclose(fp);
    fclose(err);
    return status;
}

/* ids_add - add id once, sorted */
static void ids_add(IDS *ids, const char *id, size_t len)
{
    int     i, j;

    if (len == 0 || len >= ID_LEN || ids->n == MAX_IDS)
        return;
    for (i = 0; i < ids->n; i++) {
        int     c = strncmp(ids->v[i], id, len);

        if (c == 0 && ids->v[i][len] == 0)
            return;
        if (c > 0 || (c == 0 && ids->v[i][len] != 0))
            break;
    }
    for (j = ids->n; j > i; j--)
        memcpy(ids->v[j], ids->v[j - 1], ID_LEN);
    memcpy(ids->v[i], id, len);
    ids->v[i][len] = 0;
    ids->n++;
}

/* ids_str - the ids, space-separated, into buf */
static const char *ids_str(const IDS *ids, char *buf, size_t len)
{
    int     i;

    buf[0] = 0;
    for (i = 0; i < ids->n; i++) {
        strncat(buf, ids->v[i], len - strlen(buf) - 1);
        if (i + 1 < ids->n)
            strncat(buf, " ", len - strlen(buf) - 1);
    }
    return buf;
}

/* line_ok - a finding line in the format, placeholders filled */
static int line_ok(const char *line, const char *id)
{
    const char *what = line + strlen(CK_PROG) + 2 + strlen(id) + 2;
    const char *dash = strstr(what, ") -- "), *fix = dash ? strstr(dash, "; fix: ") : NULL;

    return dash && fix && dash > what && strchr(what, '(') && strstr(line, "?") == NULL
        && strlen(fix) > strlen("; fix: ");
}

/* parse - the finding ids of output; bad lines counted in *bad */
static void parse(char *output, IDS *ids, int *bad)
{
    const char *prefix = CK_PROG ": ";
    char   *line, *next, *colon;
    size_t  plen = strlen(prefix);

    for (line = output; line && *line; line = next) {
        if ((next = strchr(line, '\n')) != NULL)
            *next++ = 0;
        if (strncmp(line, prefix, plen) != 0 || (colon = strchr(line + plen, ':')) == NULL)
            continue;
        *colon = 0;
        if (ck_rule(line + plen) != NULL) {
            char    id[ID_LEN];

            snprintf(id, sizeof(id), "%s", line + plen);
            ids_add(ids, id, strlen(id));
            *colon = ':';
            if (!line_ok(line, id))
                (*bad)++;
        }
        *colon = ':';
    }
}

/* expected - the ids of a snapshot's expect file */
static int expected(const char *dir, IDS *ids)
{
    char    path[1200], line[256];
    FILE   *fp;

    snprintf(path, sizeof(path), "%s/expect", dir);
    if ((fp = fopen(path, "r")) == NULL)
        return -1;
    while (fgets(line, sizeof(line), fp) != NULL)
        ids_add(ids, line, strcspn(line, " \t\r\n"));
    fclose(fp);
    return 0;
}

/* test_snapshot - one snapshot: exactly the expected findings */
static void test_snapshot(const char *name)
{
    char    dir[1200], got_s[2048], want_s[2048];
    char   *out = NULL;
    IDS     got = {0}, want = {0};
    int     status, bad = 0;

    snprintf(dir, sizeof(dir), "%s/%s", top_snap, name);
    UT_CHECK(expected(dir, &want) == 0, "%s: no expect file", name);
    status = run(dir, 0, &out);
    parse(out, &got, &bad);
    UT_EQ_STR(ids_str(&got, got_s, sizeof(got_s)), ids_str(&want, want_s, sizeof(want_s)), name);
    UT_EQ_INT(status, want.n ? CK_EXIT_FINDINGS : CK_EXIT_CLEAN, name);
    UT_EQ_INT(bad, 0, "finding lines out of format");
    free(out);
}

/* is_snapshot - a directory with a postconf-M */
static int is_snapshot(const char *name)
{
    char    path[1200];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s/postconf-M", top_snap, name);
    return name[0] != '.' && stat(path, &st) == 0;
}

/* test_all_snapshots - every snapshot directory; how many there were */
static int test_all_snapshots(void)
{
    DIR    *d = opendir(top_snap);
    struct dirent *e;
    int     n = 0;

    UT_CHECK(d != NULL, "cannot open %s", top_snap);
    while (d && (e = readdir(d)) != NULL) {
        if (!is_snapshot(e->d_name))
            continue;
        test_snapshot(e->d_name);
        n++;
    }
    if (d)
        closedir(d);
    return n;
}

/* test_every_rule - each rule has a snapshot of its own that reports it */
static void test_every_rule(void)
{
    static const char *const clean[] = {
        "clean-simple", "clean-advanced", "clean-spawn", "clean-before-queue",
        "clean-before-queue-spawn", "clean-only-simple", "clean-only-advanced", "clean-milter",
        "clean-milter-local", "clean-milter-unix", "clean-policy", "clean-policy-daemon",
        "clean-clamd", "clean-clamd-inet", NULL,
    };
    const CK_RULE *r;
    IDS     want;
    char    dir[1200];
    int     i, n = 0;

    for (r = ck_rules; r->id; r++, n++) {
        memset(&want, 0, sizeof(want));
        snprintf(dir, sizeof(dir), "%s/%s", top_snap, r->id);
        UT_CHECK(is_snapshot(r->id) && expected(dir, &want) == 0 && want.n == 1
                 && strcmp(want.v[0], r->id) == 0, "%s: no snapshot that reports it alone",
                 r->id);
        UT_CHECK(r->check && r->about && r->explain && r->harm && r->fix, "%s: texts", r->id);
        UT_CHECK(ck_rule(r->id) == r, "%s: id used twice", r->id);
    }
    UT_EQ_INT(n, 38, "rules in the table");
    for (i = 0; clean[i]; i++) {
        memset(&want, 0, sizeof(want));
        snprintf(dir, sizeof(dir), "%s/%s", top_snap, clean[i]);
        UT_CHECK(is_snapshot(clean[i]) && expected(dir, &want) == 0 && want.n == 0,
                 "%s: no clean snapshot", clean[i]);
    }
}

/* test_verbose - -v explains the checks and says how it went */
static void test_verbose(void)
{
    char    dir[1200];
    char   *out = NULL;

    snprintf(dir, sizeof(dir), "%s/clean-advanced", top_snap);
    UT_EQ_INT(run(dir, 1, &out), CK_EXIT_CLEAN, "clean-advanced -v");
    UT_CHECK(strstr(out, CK_PROG ": check reinject-content-filter (127.0.0.1:10026/inet): "),
             "-v: no check line");
    UT_CHECK(strstr(out, CK_PROG ": ok reinject-content-filter (127.0.0.1:10026/inet)\n"),
             "-v: no ok line");
    UT_CHECK(strstr(out, CK_PROG ": ok filter-not-answering (scan/unix -> [127.0.0.1]:10025): "
                    "220 "), "-v: the probe result from the snapshot");
    UT_CHECK(strstr(out, CK_PROG ": no findings\n"), "-v: the last line");
    free(out);
    out = NULL;
    snprintf(dir, sizeof(dir), "%s/pipe-time-limit", top_snap);
    UT_EQ_INT(run(dir, 1, &out), CK_EXIT_FINDINGS, "pipe-time-limit -v");
    UT_CHECK(strstr(out, CK_PROG ": 1 finding(s)\n"), "-v: the count");
    UT_CHECK(strstr(out, "(main.cf postsift_time_limit = 5s)")
             && strstr(out, "pipe_deadline (600s)"), "-v: lib/params.c's pipe_deadline");
    free(out);
}

/* test_unreadable - no snapshot there: exit 2 */
static void test_unreadable(void)
{
    char   *out = NULL;

    UT_EQ_INT(run("/nonexistent/snapshot", 0, &out), CK_EXIT_USAGE, "missing snapshot");
    UT_CHECK(out && *out == 0, "nothing on stdout");
    free(out);
}

/* test_man - the man page text has every rule, its harm and its fix */
static void test_man(void)
{
    const CK_RULE *r;
    char   *text = NULL, want[256];
    size_t  len, i, j;
    FILE   *fp = open_memstream(&text, &len);

    ck_man(fp);
    fclose(fp);
    for (r = ck_rules; r->id; r++) {
        for (i = j = 0; r->id[i] && j + 3 < sizeof(want) - 8; i++) {
            if (r->id[i] == '-')
                want[j++] = '\\';
            want[j++] = r->id[i];
        }
        want[j] = 0;
        UT_CHECK(strstr(text, want) != NULL, "--man: no %s", r->id);
    }
    UT_CHECK(strstr(text, "\\fISERVICE\\fR") != NULL, "--man: placeholders in italics");
    UT_CHECK(strstr(text, "<") == NULL, "--man: a placeholder left");
    free(text);
}

/* test_helpers - times and lists as Postfix writes them */
static void test_helpers(void)
{
    UT_EQ_INT(ck_seconds("600s"), 600, "600s");
    UT_EQ_INT(ck_seconds("20m"), 1200, "20m");
    UT_EQ_INT(ck_seconds("1h"), 3600, "1h");
    UT_EQ_INT(ck_seconds("100"), 100, "100");
    UT_EQ_INT(ck_seconds("x"), 0, "x");
    UT_CHECK(ck_has_opt("no_unknown_recipient_checks, no_milters", "no_milters"), "list");
    UT_CHECK(!ck_has_opt("no_milters_x", "no_milters"), "whole words");
    UT_CHECK(ck_is_loopback("127.0.0.2") && ck_is_loopback("::1") && !ck_is_loopback("10.0.0.1"),
             "loopback");
    UT_EQ_INT(ck_clamd_size("25M"), 26214400, "clamd 25M");
    UT_EQ_INT(ck_clamd_size("25m"), 26214400, "clamd 25m");
    UT_EQ_INT(ck_clamd_size("512K"), 524288, "clamd 512K");
    UT_EQ_INT(ck_clamd_size("1000"), 1000, "clamd bytes");
    UT_EQ_INT(ck_clamd_size("0"), 0, "clamd 0: no limit");
    UT_EQ_INT(ck_clamd_size("25G"), -1, "clamd has no G");
    UT_EQ_INT(ck_clamd_size("25MB"), -1, "clamd 25MB");
    UT_EQ_INT(ck_clamd_size(""), -1, "clamd empty size");
    UT_EQ_INT(ck_clamd_bool("yes") + ck_clamd_bool("TRUE") + ck_clamd_bool("1"), 3, "clamd on");
    UT_EQ_INT(ck_clamd_bool("no") + ck_clamd_bool("False") + ck_clamd_bool("0"), 0, "clamd off");
    UT_EQ_INT(ck_clamd_bool("on"), -1, "clamd: not a BOOL");
}

int     main(void)
{
    const char *top = getenv("TOP");
    int     n;

    UT_BEGIN("test_check_rules");
    snprintf(top_snap, sizeof(top_snap), "%s/tests/data/snapshots", top && *top ? top : ".");
    n = test_all_snapshots();
    UT_CHECK(n >= 30, "only %d snapshots in %s", n, top_snap);
    test_every_rule();
    test_verbose();
    test_unreadable();
    test_man();
    test_helpers();
    return ut_done();
}
