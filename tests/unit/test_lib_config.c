/*
 * test_lib_config - postsift.conf parsing, expansion, overrides and printing
 *
 * Table-driven: the unit parsers, then whole files written to a private
 * temporary directory, each with the exact error text config_load() or
 * config_finish() must give ("%F" in a table stands for the file's path).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/vbuf.h"
#include "tests/unit/unittest.h"

static char tmpdir[] = "/tmp/test_lib_config.XXXXXX";
static int file_count;

/* write_conf - a new file in tmpdir with the given content; the path */
static char *write_conf(const char *content, size_t len)
{
    VBUF *path = vbuf_alloc(0);
    FILE *fp;
    char *ret;

    vbuf_sprintf(path, "%s/c%d.conf", tmpdir, ++file_count);
    if ((fp = fopen(vbuf_str(path), "w")) == NULL
        || fwrite(content, 1, len, fp) != len || fclose(fp) != 0) {
        perror(vbuf_str(path));
        exit(1);
    }
    ret = mystrdup(vbuf_str(path));
    vbuf_free(path);
    return ret;
}

/* subst_file - want with every "%F" replaced by path */
static char *subst_file(const char *want, const char *path)
{
    VBUF *out = vbuf_alloc(0);
    const char *cp;
    char *ret;

    for (cp = want; *cp; cp++) {
        if (cp[0] == '%' && cp[1] == 'F') {
            vbuf_strcat(out, path);
            cp++;
        } else {
            vbuf_addch(out, *cp);
        }
    }
    ret = mystrdup(vbuf_str(out));
    vbuf_free(out);
    return ret;
}

/* system_hostname - what an empty myhostname becomes */
static const char *system_hostname(void)
{
    static char host[256];

    if (gethostname(host, sizeof(host) - 1) < 0)
        snprintf(host, sizeof(host), "localhost");
    return host;
}

/* test_units - the time, size and boolean parsers */
static void test_units(void)
{
    static const struct {
        const char *text;
        int     ok;
        long    want;
    } times[] = {
        {"0", 1, 0}, {"30", 1, 30}, {"30s", 1, 30}, {"5m", 1, 300},
        {"2h", 1, 7200}, {"1d", 1, 86400}, {"1w", 1, 604800},
        {"600s", 1, 600}, {"10x", 0, 0}, {"", 0, 0}, {"s", 0, 0},
        {"-1", 0, 0}, {"+1", 0, 0}, {"1.5h", 0, 0}, {"10ss", 0, 0},
        {"10 s", 0, 0}, {"5M", 0, 0}, {"99999999999999999999", 0, 0},
        {"9223372036854775807w", 0, 0},
    }, sizes[] = {
        {"0", 1, 0}, {"1024", 1, 1024}, {"1k", 1, 1024}, {"1K", 1, 1024},
        {"100m", 1, 100L * 1024 * 1024}, {"2G", 1, 2048L * 1024 * 1024},
        {"52428800", 1, 52428800}, {"10x", 0, 0}, {"", 0, 0}, {"k", 0, 0},
        {"1kb", 0, 0}, {"-5", 0, 0}, {"1.5m", 0, 0},
        {"99999999999999999999", 0, 0}, {"9223372036854775807k", 0, 0},
    };
    static const struct {
        const char *text;
        int     ok;
        int     want;
    } bools[] = {
        {"yes", 1, 1}, {"YES", 1, 1}, {"True", 1, 1}, {"1", 1, 1},
        {"no", 1, 0}, {"No", 1, 0}, {"FALSE", 1, 0}, {"0", 1, 0},
        {"maybe", 0, 0}, {"2", 0, 0}, {"", 0, 0}, {"yes ", 0, 0}, {"on", 0, 0},
    };
    size_t i;

    for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        long got = -42;
        int rc = config_parse_time(times[i].text, &got);

        UT_CHECK((rc == 0) == times[i].ok, "time \"%s\": rc %d", times[i].text, rc);
        UT_EQ_INT(got, times[i].ok ? times[i].want : -42, times[i].text);
    }
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        long got = -42;
        int rc = config_parse_size(sizes[i].text, &got);

        UT_CHECK((rc == 0) == sizes[i].ok, "size \"%s\": rc %d", sizes[i].text, rc);
        UT_EQ_INT(got, sizes[i].ok ? sizes[i].want : -42, sizes[i].text);
    }
    for (i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
        int got = -42;
        int rc = config_parse_bool(bools[i].text, &got);

        UT_CHECK((rc == 0) == bools[i].ok, "bool \"%s\": rc %d", bools[i].text, rc);
        UT_EQ_INT(got, bools[i].ok ? bools[i].want : -42, bools[i].text);
    }
}

/* test_defaults - config_init alone gives the table's defaults */
static void test_defaults(void)
{
    const CFG_PARAM *p;

    config_init();
    UT_EQ_INT(var_pipe_deadline, 600, "pipe_deadline");
    UT_EQ_INT(var_message_size_limit, 52428800, "message_size_limit");
    UT_EQ_INT(var_clamav_max_filesize, 100L * 1024 * 1024, "clamav_max_filesize");
    UT_EQ_INT(var_clamav_max_recursion, 17, "clamav_max_recursion");
    UT_EQ_INT(var_banned_double_extensions, 1, "banned_double_extensions");
    UT_EQ_STR(var_reinject_target, "[127.0.0.1]:10026", "reinject_target");
    UT_EQ_STR(var_virus_action, "quarantine", "virus_action");
    UT_EQ_STR(var_banned_names, "", "banned_names");
    UT_EQ_STR(var_myhostname, system_hostname(), "empty myhostname");
    UT_EQ_STR(var_smtp_helo_name, system_hostname(), "smtp_helo_name = $myhostname");
    UT_EQ_STR(config_lookup("smtp_helo_name"), "$myhostname", "lookup raw default");
    UT_EQ_STR(config_lookup("myhostname"), "", "lookup empty default");
    UT_CHECK(config_lookup("nosuch") == NULL, "lookup of an unknown setting");

    /* Every default converts, and lookup gives it back as written. */
    for (p = config_params; p->name; p++)
        UT_EQ_STR(config_lookup(p->name), p->defval, p->name);
}

typedef struct FILE_CASE {
    const char *label;
    const char *content;
    int     load_rc;            /* config_load() result */
    int     finish_rc;          /* config_finish() result, when load was 0 */
    const char *err;            /* exact error text, %F = path; NULL = none */
} FILE_CASE;

static const FILE_CASE file_cases[] = {
    {"empty file", "", 0, 0, NULL},
    {"comments and blanks", "# comment\n\n   # indented comment\n \t \n", 0, 0, NULL},
    {"unknown setting", "# a comment\n\nfoo = bar\n", -1, 0,
     "%F, line 3: unknown setting \"foo\""},
    {"line without =", "pipe_deadline = 5m\npipe_deadline 10\n", -1, 0,
     "%F, line 2: missing \"=\" in \"pipe_deadline 10\" (expected name = value)"},
    {"missing name", "= 10\n", -1, 0, "%F, line 1: missing setting name before \"=\""},
    {"bad name", "pipe deadline = 10\n", -1, 0, "%F, line 1: bad setting name \"pipe deadline\""},
    {"leading continuation", "  pipe_deadline = 10\n", -1, 0,
     "%F, line 1: continuation line (it starts with white space) without a setting before it"},
    {"NUL byte", "pipe_deadline = 1\nlog_file = a\0b\n", -1, 0,
     "%F, line 2: line contains a NUL byte"},
    {"bad time", "pipe_deadline = 10x\n", 0, -1,
     "%F, line 1: pipe_deadline: invalid time value \"10x\" (use s, m, h, d or w)"},
    {"bad size", "\nmessage_size_limit = 10 MB\n", 0, -1,
     "%F, line 2: message_size_limit: invalid size value \"10 MB\" (use bytes, or k, m or g)"},
    {"bad number", "clamav_max_files = 12a\n", 0, -1,
     "%F, line 1: clamav_max_files: invalid number \"12a\" (use digits only)"},
    {"negative number", "clamav_max_files = -1\n", 0, -1,
     "%F, line 1: clamav_max_files: invalid number \"-1\" (use digits only)"},
    {"bad boolean", "banned_double_extensions = maybe\n", 0, -1,
     "%F, line 1: banned_double_extensions: invalid boolean value \"maybe\" (use yes or no)"},
    {"empty number", "mime_max_parts =\n", 0, -1,
     "%F, line 1: mime_max_parts: invalid number \"\" (use digits only)"},
    {"below minimum", "mime_max_depth = 0\n", 0, -1,
     "%F, line 1: mime_max_depth: value 0 is below the minimum 1"},
    {"above maximum", "mime_max_depth = 1001\n", 0, -1,
     "%F, line 1: mime_max_depth: value 1001 is above the maximum 1000"},
    {"time below minimum", "pipe_deadline = 0s\n", 0, -1,
     "%F, line 1: pipe_deadline: value 0 is below the minimum 1"},
    {"no maximum", "clamav_max_files = 99999999\nmessage_size_limit = 0\n", 0, 0, NULL},
    {"at maximum", "mime_max_depth = 1000\nclamav_max_recursion = 100\n", 0, 0, NULL},
    {"error on a continued line", "banned_names = a,\n  b\nmime_max_depth =\n\n 0\n", 0, -1,
     "%F, line 3: mime_max_depth: value 0 is below the minimum 1"},
    {"first bad line wins", "pipe_deadline = 1x\nclamd_timeout = 2x\n", 0, -1,
     "%F, line 1: pipe_deadline: invalid time value \"1x\" (use s, m, h, d or w)"},
    {"last of two wins", "pipe_deadline = 1x\npipe_deadline = 20\n", 0, 0, NULL},
    {"unknown in expansion", "smtp_helo_name = mx.$nosuch.example\n", 0, -1,
     "%F, line 1: smtp_helo_name: unknown setting \"nosuch\" in $ expansion"},
    {"unknown in ${}", "log_file = /x/${nosuch}\n", 0, -1,
     "%F, line 1: log_file: unknown setting \"nosuch\" in $ expansion"},
    {"unclosed ${", "log_file = /x/${syslog_name\n", 0, -1,
     "%F, line 1: log_file: bad reference \"${syslog_name\": expected a setting name and \"}\""},
    {"lone $", "banned_names = a $ b\n", 0, -1,
     "%F, line 1: banned_names: \"$\" is not followed by a setting name "
     "(write $$ for a literal $)"},
    {"self loop", "banned_names = x $banned_names\n", 0, -1,
     "%F, line 1: banned_names: expansion loop through $banned_names"},
    {"two-setting loop", "myhostname = $smtp_helo_name\nsmtp_helo_name = ${myhostname}\n", 0, -1,
     "%F, line 1: myhostname: expansion loop through $smtp_helo_name"},
    {"three-setting loop", "log_file = $syslog_name\nsyslog_name = $(daemon_user)\n"
     "daemon_user = a$log_file\n", 0, -1,
     "%F, line 1: log_file: expansion loop through $syslog_name"},
    {"expansion gives a bad time", "log_file = 7x\npipe_deadline = $log_file\n", 0, -1,
     "%F, line 2: pipe_deadline: invalid time value \"7x\" (use s, m, h, d or w)"},
};

/* test_file_cases - every row of file_cases */
static void test_file_cases(void)
{
    VBUF *err = vbuf_alloc(0);
    size_t i;

    for (i = 0; i < sizeof(file_cases) / sizeof(file_cases[0]); i++) {
        const FILE_CASE *fc = file_cases + i;
        size_t len = strlen(fc->content);
        char *path, *want;
        int rc;

        /* The NUL case: its content goes on after the NUL. */
        if (strcmp(fc->label, "NUL byte") == 0)
            len += 1 + strlen(fc->content + len + 1);
        path = write_conf(fc->content, len);
        config_init();
        vbuf_strcpy(err, "");
        rc = config_load(path, 1, err);
        UT_EQ_INT(rc, fc->load_rc, fc->label);
        if (rc == 0) {
            rc = config_finish(err);
            UT_EQ_INT(rc, fc->finish_rc, fc->label);
        }
        want = subst_file(fc->err ? fc->err : "", path);
        UT_EQ_STR(vbuf_str(err), want, fc->label);
        myfree(want);
        myfree(path);
    }
    vbuf_free(err);
}

/* load_text - config_init, load text, finish; 0 or -1 with err */
static int load_text(const char *text, VBUF *err)
{
    char *path = write_conf(text, strlen(text));
    int rc;

    config_init();
    vbuf_reset(err);
    rc = config_load(path, 1, err);
    if (rc == 0)
        rc = config_finish(err);
    myfree(path);
    return rc;
}

/* test_syntax - continuation, comments, trimming, values */
static void test_syntax(void)
{
    VBUF *err = vbuf_alloc(0);
    VBUF *big = vbuf_alloc(0);
    char *path;
    int i;

    UT_EQ_INT(load_text("banned_names = a,\n  # comment inside\n\n   b ,  \n\tc\n"
                        "mime_max_depth=5\r\n"
                        "log_file = /var/log/x # not a comment\n"
                        "pipe_deadline = 1x\npipe_deadline = 2m\n"
                        "banned_double_extensions = No\n"
                        "spool_dir =   /tmp/s p  \n"
                        "clamav_max_scansize = 1g\n", err), 0, vbuf_str(err));
    UT_EQ_STR(var_banned_names, "a, b , c", "continuation lines");
    UT_EQ_INT(var_mime_max_depth, 5, "CRLF line, no spaces around =");
    UT_EQ_STR(var_log_file, "/var/log/x # not a comment", "# inside a value");
    UT_EQ_INT(var_pipe_deadline, 120, "last of two wins");
    UT_EQ_STR(config_lookup("pipe_deadline"), "2m", "raw value of the winner");
    UT_EQ_INT(var_banned_double_extensions, 0, "boolean");
    UT_EQ_STR(var_spool_dir, "/tmp/s p", "trimmed value");
    UT_EQ_INT(var_clamav_max_scansize, 1024L * 1024 * 1024, "size in g");

    /* A line just under the bound is fine; one over it is an error. */
    vbuf_strcpy(big, "banned_names = ");
    while (vbuf_len(big) < 60000)
        vbuf_strcat(big, "x,");
    vbuf_strcat(big, "\n");
    UT_EQ_INT(load_text(vbuf_str(big), err), 0, vbuf_str(err));
    UT_EQ_INT(strlen(var_banned_names), vbuf_len(big) - 16, "long value kept whole");
    vbuf_truncate(big, vbuf_len(big) - 1);
    for (i = 0; i < 4000; i++)
        vbuf_strcat(big, "yy");
    vbuf_strcat(big, "\npipe_deadline = 5\n");
    UT_EQ_INT(load_text(vbuf_str(big), err), -1, "over-long line");
    UT_CHECK(strstr(vbuf_str(err), ", line 1: line is longer than 65536 bytes") != NULL,
             "over-long line: %s", vbuf_str(err));

    /* The same bound for a logical line made of continuation lines. */
    vbuf_strcpy(big, "banned_names = a\n");
    for (i = 0; i < 2000; i++)
        vbuf_strcat(big, " continued continued continued continued\n");
    UT_EQ_INT(load_text(vbuf_str(big), err), -1, "over-long logical line");
    UT_CHECK(strstr(vbuf_str(err), ", line 1: setting is longer than 65536 bytes") != NULL,
             "over-long logical line: %s", vbuf_str(err));

    /* A missing file: fine unless it must exist. */
    config_init();
    path = subst_file("%F/no-such.conf", tmpdir);
    vbuf_strcpy(err, "");
    UT_EQ_INT(config_load(path, 0, err), 0, "missing file, must_exist 0");
    UT_EQ_STR(vbuf_str(err), "", "missing file, must_exist 0: no error");
    UT_EQ_INT(config_load(path, 1, err), -1, "missing file, must_exist 1");
    myfree(path);
    path = subst_file("cannot open %F/no-such.conf: No such file or directory", tmpdir);
    UT_EQ_STR(vbuf_str(err), path, "missing file, must_exist 1: error");
    myfree(path);

    /* A directory is not a file, even when it need not exist. */
    UT_EQ_INT(config_load(tmpdir, 0, err), -1, "directory");
    path = subst_file("error reading %F: Is a directory", tmpdir);
    UT_EQ_STR(vbuf_str(err), path, "directory: error");
    myfree(path);

    vbuf_free(big);
    vbuf_free(err);
}

/* test_expansion - $name, ${name}, $(name), $$, myhostname */
static void test_expansion(void)
{
    VBUF *err = vbuf_alloc(0);

    UT_EQ_INT(load_text("myhostname = mx.example\n"
                        "smtp_helo_name = ${myhostname}.out $(syslog_name) $$x $myhostname$$\n"
                        "log_file = /log/$banned_names/$syslog_name.log\n"
                        "banned_names = $daemon_user-$(daemon_user)\n"
                        "daemon_user = filter\n"
                        "clamav_max_files = 1$mime_max_depth\n"
                        "mime_max_depth = 2\n", err), 0, vbuf_str(err));
    UT_EQ_STR(var_myhostname, "mx.example", "myhostname");
    UT_EQ_STR(var_smtp_helo_name, "mx.example.out postsift $x mx.example$", "mixed references");
    UT_EQ_STR(var_log_file, "/log/filter-filter/postsift.log", "nested references");
    UT_EQ_INT(var_clamav_max_files, 12, "a number made by expansion");
    UT_EQ_STR(config_lookup("smtp_helo_name"),
              "${myhostname}.out $(syslog_name) $$x $myhostname$$", "lookup is raw");

    /* An empty myhostname is the system's name, also inside references. */
    UT_EQ_INT(load_text("smtp_helo_name = [$myhostname]\n", err), 0, vbuf_str(err));
    UT_EQ_STR(var_myhostname, system_hostname(), "empty myhostname");
    {
        VBUF *want = vbuf_alloc(0);

        vbuf_sprintf(want, "[%s]", system_hostname());
        UT_EQ_STR(var_smtp_helo_name, vbuf_str(want), "$myhostname when empty");
        vbuf_free(want);
    }
    UT_EQ_INT(load_text("myhostname = $log_file\n", err), 0, vbuf_str(err));
    UT_EQ_STR(var_myhostname, system_hostname(), "myhostname empty after expansion");
    vbuf_free(err);
}

/* test_overrides - -o name=value and its errors */
static void test_overrides(void)
{
    static const struct {
        const char *arg;
        const char *err;
    } bad[] = {
        {"foo=bar", "-o foo: unknown setting"},
        {"foo bar = x", "-o foo bar: unknown setting"},
        {"pipe_deadline", "-o \"pipe_deadline\": missing \"=\" (use -o name=value)"},
        {" = 5", "-o \" = 5\": missing setting name (use -o name=value)"},
    };
    VBUF *err = vbuf_alloc(0);
    const char *text;
    char *path;
    size_t i;

    config_init();
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        vbuf_strcpy(err, "");
        UT_EQ_INT(config_override(bad[i].arg, err), -1, bad[i].arg);
        UT_EQ_STR(vbuf_str(err), bad[i].err, bad[i].arg);
    }

    /* Good ones, with or without spaces; -o wins over the file either way. */
    config_init();
    UT_EQ_INT(config_override("pipe_deadline=5m", err), 0, "-o before the file");
    text = "pipe_deadline = 1h\nclamd_timeout = 1h\nmime_max_depth = 9\n";
    path = write_conf(text, strlen(text));
    UT_EQ_INT(config_load(path, 1, err), 0, vbuf_str(err));
    UT_EQ_INT(config_override("clamd_timeout = 2m", err), 0, "-o after the file");
    UT_EQ_INT(config_override("smtp_helo_name=", err), 0, "-o empty value");
    UT_EQ_INT(config_finish(err), 0, vbuf_str(err));
    UT_EQ_INT(var_pipe_deadline, 300, "-o before the file wins");
    UT_EQ_INT(var_clamd_timeout, 120, "-o after the file wins");
    UT_EQ_INT(var_mime_max_depth, 9, "file value without -o");
    UT_EQ_STR(var_smtp_helo_name, "", "-o empty value");
    myfree(path);

    /* A bad -o value is reported as -o, and keeps the old values. */
    UT_EQ_INT(config_override("pipe_deadline=10x", err), 0, "-o bad time");
    UT_EQ_INT(config_override("mime_max_depth=1", err), 0, "-o good depth");
    UT_EQ_INT(config_finish(err), -1, "-o bad time: finish");
    UT_EQ_STR(vbuf_str(err), "-o pipe_deadline: invalid time value \"10x\" (use s, m, h, d or w)",
              "-o bad time: error");
    UT_EQ_INT(var_pipe_deadline, 300, "old value kept after an error");
    UT_EQ_INT(var_mime_max_depth, 9, "nothing committed after an error");
    UT_EQ_INT(config_override("smtp_helo_name=$nosuch", err), 0, "-o unknown reference");
    UT_EQ_INT(config_override("pipe_deadline=1", err), 0, "-o good time");
    UT_EQ_INT(config_finish(err), -1, "-o unknown reference: finish");
    UT_EQ_STR(vbuf_str(err), "-o smtp_helo_name: unknown setting \"nosuch\" in $ expansion",
              "-o unknown reference: error");
    vbuf_free(err);
}

/* print_to_string - config_print output as a string */
static char *print_to_string(int all)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);

    if (fp == NULL) {
        perror("open_memstream");
        exit(1);
    }
    config_print(fp, all);
    fclose(fp);
    return buf;
}

/* test_print - postconf -n style output, and config_init as a reset */
static void test_print(void)
{
    VBUF *err = vbuf_alloc(0);
    const CFG_PARAM *p;
    char *out, *line, *prev, *save;
    int count, nparams = 0;

    UT_EQ_INT(load_text("pipe_deadline = 10m\nbanned_names = *.zip,\n  *.rar\n"
                        "smtp_helo_name = $myhostname\nvirus_action = reject\n"
                        "log_file = \n", err), 0, vbuf_str(err));
    UT_EQ_INT(config_override("syslog_name=postsift-$myhostname", err), 0, "-o");
    UT_EQ_INT(config_finish(err), 0, vbuf_str(err));
    out = print_to_string(0);
    UT_EQ_STR(out, "banned_names = *.zip, *.rar\npipe_deadline = 10m\n"
              "syslog_name = postsift-$myhostname\nvirus_action = reject\n", "print non-defaults");
    free(out);

    /* All settings, one line each, sorted, raw values. */
    for (p = config_params; p->name; p++)
        nparams++;
    out = print_to_string(1);
    count = 0;
    prev = NULL;
    for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        count++;
        UT_CHECK(prev == NULL || strcmp(prev, line) < 0, "sorted: \"%s\" before \"%s\"",
                 prev, line);
        prev = line;
    }
    UT_EQ_INT(count, nparams, "print all: one line per setting");
    free(out);
    out = print_to_string(1);
    UT_CHECK(strstr(out, "\nsmtp_helo_name = $myhostname\n") != NULL, "raw default printed");
    UT_CHECK(strstr(out, "\nlog_file =\n") != NULL, "empty value printed as \"name =\"");
    UT_CHECK(strstr(out, "\npipe_deadline = 10m\n") != NULL, "set value printed");
    free(out);

    /* config_init resets everything. */
    config_init();
    out = print_to_string(0);
    UT_EQ_STR(out, "", "nothing differs after config_init");
    free(out);
    UT_EQ_INT(var_pipe_deadline, 600, "default again after config_init");
    UT_EQ_STR(var_syslog_name, "postsift", "string default again after config_init");
    UT_EQ_STR(config_lookup("pipe_deadline"), "600s", "raw default after config_init");
    vbuf_free(err);
}

/* cleanup - remove the temporary files */
static void cleanup(void)
{
    VBUF *path = vbuf_alloc(0);
    int i;

    for (i = 1; i <= file_count; i++) {
        vbuf_sprintf(path, "%s/c%d.conf", tmpdir, i);
        (void)unlink(vbuf_str(path));
    }
    if (rmdir(tmpdir) < 0)
        fprintf(stderr, "rmdir %s: %s\n", tmpdir, strerror(errno));
    vbuf_free(path);
}

/* test_snapshot - a snapshot puts back every setting, $name references
   unexpanded, after other settings were loaded; a failed load in between
   does not matter */
static void test_snapshot(void)
{
    VBUF *err = vbuf_alloc(0);
    CONFIG_SNAPSHOT *snap;
    const char *text;
    char *path, *before, *after;

    config_init();
    text = "pipe_deadline = 7m\nsmtp_helo_name = h.$myhostname\nmyhostname = a.example\n";
    path = write_conf(text, strlen(text));
    UT_EQ_INT(config_load(path, 1, err), 0, vbuf_str(err));
    UT_EQ_INT(config_override("policy_timeout=3s", err), 0, "-o before the snapshot");
    UT_EQ_INT(config_finish(err), 0, vbuf_str(err));
    before = print_to_string(1);
    snap = config_snapshot();
    myfree(path);

    /* other settings (a reload), then a bad file: the snapshot wins */
    config_init();
    text = "pipe_deadline = 1h\nmyhostname = b.example\npolicy_timeout = 20s\n";
    path = write_conf(text, strlen(text));
    UT_EQ_INT(config_load(path, 1, err), 0, vbuf_str(err));
    UT_EQ_INT(config_finish(err), 0, vbuf_str(err));
    UT_EQ_INT(var_pipe_deadline, 3600, "the new settings are in force");
    myfree(path);
    config_init();
    text = "pipe_deadline = 10x\n";
    path = write_conf(text, strlen(text));
    UT_EQ_INT(config_load(path, 1, err), 0, vbuf_str(err));
    UT_EQ_INT(config_finish(err), -1, "a bad reload");
    myfree(path);

    UT_EQ_INT(config_snapshot_restore(snap, err), 0, vbuf_str(err));
    UT_EQ_INT(var_pipe_deadline, 420, "pipe_deadline back");
    UT_EQ_INT(var_policy_timeout, 3, "an -o value back");
    UT_EQ_STR(var_smtp_helo_name, "h.a.example", "a $name reference expands as before");
    UT_EQ_STR(config_lookup("smtp_helo_name"), "h.$myhostname", "the raw value kept");
    after = print_to_string(1);
    UT_EQ_STR(after, before, "every setting as before the snapshot");
    free(before);
    free(after);

    /* twice from one snapshot, then freed; NULL frees nothing */
    config_init();
    UT_EQ_INT(config_snapshot_restore(snap, err), 0, vbuf_str(err));
    UT_EQ_INT(var_pipe_deadline, 420, "a snapshot restores more than once");
    config_snapshot_free(snap);
    config_snapshot_free(NULL);
    vbuf_free(err);
}

/* main - run every test */
int main(void)
{
    UT_BEGIN("test_lib_config");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_units();
    test_defaults();
    test_file_cases();
    test_syntax();
    test_expansion();
    test_overrides();
    test_print();
    test_snapshot();
    cleanup();
    return ut_done();
}
