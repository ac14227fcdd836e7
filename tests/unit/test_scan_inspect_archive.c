/*
 * test_scan_inspect_archive - the inspector's use of archive_walk():
 * every decoded part and inline file is offered, members' names and true
 * types go through the banned rules with details that name the member and
 * its container, ARCHIVE_UNCHECKED is an unchecked finding with the
 * reason, and the archive_* settings arrive as the limits.
 *
 * archive_walk() is replaced here by a stand-in that lists a made-up
 * format, so this test shows the inspector's side whatever the real
 * scan/archive.c does (which has its own tests): text starting with
 * "FAKEARC\n", then one member a line, "container|name|head", where a
 * head of "ELF" stands for an ELF header, or "!reason" to end the listing
 * unchecked, or "?reason" to end it as our own failure (ARCHIVE_ERROR:
 * libarchive cannot be loaded), which must be a scanner error, deferred
 * whatever unchecked_action says, never a pass.
 */
#include <glib.h>

#include "scan/archive.h"
#include "scan/inspect.h"
#include "scan/verdict.h"
#include "lib/config.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/spool.h"
#include "lib/vbuf.h"
#include "tests/unit/unittest.h"

#define HDR "From: <a@example.org>\r\nTo: <b@example.org>\r\nSubject: test\r\nMIME-Version: 1.0\r\n"

static char tmpdir[] = "/tmp/test_scan_inspect_archive-XXXXXX";
static INSPECTOR *inspector;
static int walks;                       /* archive_walk calls */
static int limits_ok = 1;               /* every call had the settings' limits */

/* elf - a minimal 64-bit x86-64 executable header */
static void elf(unsigned char buf[128])
{
    memset(buf, 0, 128);
    memcpy(buf, "\177ELF", 4);
    buf[4] = 2;
    buf[5] = 1;
    buf[6] = 1;
    buf[16] = 2;
    buf[18] = 0x3e;
    buf[20] = 1;
}

/* archive_walk - the stand-in: list a FAKEARC text */
int archive_walk(const unsigned char *data, size_t size, int fd, const char *name,
                 const ARCHIVE_LIMITS *limits, ARCHIVE_FN fn, void *context, VBUF *why)
{
    char   *text, *line, *next, *f2, *f3;
    unsigned char exe[128];
    ARCHIVE_MEMBER m;
    int     rc = ARCHIVE_OK;

    (void)name;
    walks++;
    if (limits->max_depth != var_archive_max_depth || limits->max_members != var_archive_max_members
        || limits->max_bytes != var_archive_max_bytes)
        limits_ok = 0;
    text = mymalloc(size + 1);
    if (data != NULL)
        memcpy(text, data, size);
    else if (pread(fd, text, size, 0) != (ssize_t)size)
        msg_fatal("pread: %s", strerror(errno));
    text[size] = 0;
    if (strncmp(text, "FAKEARC\n", 8) != 0) {
        myfree(text);
        return ARCHIVE_NONE;
    }
    elf(exe);
    for (line = text + 8; *line; line = next) {
        if ((next = strchr(line, '\n')) != NULL)
            *next++ = 0;
        else
            next = line + strlen(line);
        if (*line == '!') {
            vbuf_strcpy(why, line + 1);
            rc = ARCHIVE_UNCHECKED;
            break;
        }
        if (*line == '?') {
            vbuf_strcpy(why, line + 1);
            rc = ARCHIVE_ERROR;
            break;
        }
        if ((f2 = strchr(line, '|')) == NULL || (f3 = strchr(f2 + 1, '|')) == NULL)
            continue;
        *f2++ = 0;
        *f3++ = 0;
        memset(&m, 0, sizeof(m));
        m.container = line;
        m.name = f2;
        m.depth = strchr(line, '/') ? 2 : 1;
        m.head = strcmp(f3, "ELF") == 0 ? exe : (const unsigned char *)f3;
        m.headlen = strcmp(f3, "ELF") == 0 ? sizeof(exe) : strlen(f3);
        m.size = (long long)m.headlen;
        if (fn(&m, context))
            break;
    }
    myfree(text);
    return rc;
}

/* expect - inspect a message, compare verdict and a detail substring */
static void expect(const char *what, const char *msg, VERDICT verdict, const char *detail_has)
{
    INSPECT_RESULT res;
    VBUF   *err = vbuf_alloc(1024);
    size_t  len = strlen(msg);
    int     fd = spool_create(var_spool_dir, err);

    if (fd < 0 || write(fd, msg, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) < 0)
        msg_fatal("spool: %s", vbuf_str(err));
    inspect_result_init(&res);
    inspect_message(inspector, fd, &res);
    UT_CHECK(res.verdict == verdict, "%s: verdict %s, want %s (%s)", what,
             verdict_names[res.verdict], verdict_names[verdict], vbuf_str(res.detail));
    if (detail_has)
        UT_CHECK(strstr(vbuf_str(res.detail), detail_has) != NULL,
                 "%s: detail \"%s\" lacks \"%s\"", what, vbuf_str(res.detail), detail_has);
    inspect_result_free(&res);
    close(fd);
    vbuf_free(err);
}

/* part - a message with a text part and one base64 attachment */
static char *part(const char *filename, const char *content)
{
    gchar  *b64 = g_base64_encode((const guchar *)content, strlen(content));
    char   *msg = g_strdup_printf(HDR "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
                                  "--b1\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"
                                  "--b1\r\nContent-Type: application/zip; name=\"%s\"\r\n"
                                  "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b1--\r\n",
                                  filename, b64);

    g_free(b64);
    return msg;
}

/* test_members - names, types, unchecked */
static void test_members(void)
{
    char   *m;

    m = part("docs.zip", "FAKEARC\ndocs.zip|readme.txt|hello\ndocs.zip|invoice.exe|MZ\n");
    expect("banned member name", m, VERDICT_BANNED,
           "banned name \"invoice.exe\" (extension .exe) in archive \"docs.zip\" in part 2");
    g_free(m);

    m = part("docs.zip", "FAKEARC\ndocs.zip|readme.txt|hello\ndocs.zip/inner.zip|report.pdf|ELF\n");
    expect("banned member type, nested", m, VERDICT_BANNED,
           "banned type application/x-executable in \"report.pdf\" in archive \"docs.zip/inner.zip\" in part 2");
    g_free(m);

    m = part("docs.zip", "FAKEARC\ndocs.zip|readme.txt|hello\n!encrypted member\n");
    expect("archive unchecked", m, VERDICT_UNCHECKED,
           "archive not fully listed (encrypted member) in part 2 \"docs.zip\"");
    g_free(m);

    m = part("docs.zip", "FAKEARC\n!corrupt archive\ndocs.zip|run.js|x\n");
    expect("unchecked but a member already banned", m, VERDICT_UNCHECKED, "corrupt archive");
    g_free(m);

    m = part("docs.zip", "FAKEARC\ndocs.zip|run.js|x\n!corrupt archive\n");
    expect("banned beats unchecked", m, VERDICT_BANNED, "banned name \"run.js\"");
    g_free(m);

    m = part("docs.zip", "FAKEARC\ndocs.zip|readme.txt|hello\ndocs.zip|photo.jpg|jpeg\n");
    expect("clean archive", m, VERDICT_CLEAN, NULL);
    g_free(m);

    m = part("docs.zip", "FAKEARC\n?libarchive: cannot load libarchive.so.13: gone\n");
    expect("libarchive not loadable: a scanner error", m, VERDICT_ERROR,
           "archive scanner error in part 2 \"docs.zip\": libarchive: cannot load libarchive.so.13");
    UT_EQ_INT(action_for(VERDICT_ERROR), ACTION_DEFER, "a scanner error is deferred");
    UT_CHECK(action_for(VERDICT_ERROR) != action_for(VERDICT_UNCHECKED),
             "an error is not handled as unchecked (unchecked_action)");
    g_free(m);
}

/* test_places - inline files and parts too deep are listed as well */
static void test_places(void)
{
    char   *m;
    int     before;

    expect("archive in a uuencoded file",
           HDR "Content-Type: text/plain\r\n\r\nhi\r\nbegin 644 x.zip\r\n"
           "91D%+14%20PIX+GII<'QE=FEL+F)A='QX\"@``\r\n`\r\nend\r\n",
           VERDICT_BANNED, "banned name \"evil.bat\" (extension .bat) in archive \"x.zip\" "
           "in uuencoded file \"x.zip\" in part 1");

    ut_set("mime_max_depth=1");
    m = g_strdup_printf(HDR "Content-Type: multipart/mixed; boundary=\"o\"\r\n\r\n"
                        "--o\r\nContent-Type: multipart/mixed; boundary=\"i\"\r\n\r\n"
                        "--i\r\nContent-Type: application/zip; name=\"d.zip\"\r\n\r\n"
                        "FAKEARC\nd.zip|deep.scr|x\n--i--\r\n--o--\r\n");
    before = walks;
    expect("archive deeper than mime_max_depth", m, VERDICT_BANNED,
           "banned name \"deep.scr\" (extension .scr) in archive \"d.zip\" in part 1.1");
    UT_CHECK(walks > before, "listed");
    ut_set("mime_max_depth=20");
    g_free(m);
    UT_CHECK(limits_ok, "archive_walk got the archive_* settings");
}

int     main(void)
{
    VBUF   *err = vbuf_alloc(1024);
    char    setting[sizeof(tmpdir) + 20];

    UT_BEGIN("test_scan_inspect_archive");
    msg_init("test_scan_inspect_archive", MSG_STDERR);
    config_init();
    if (mkdtemp(tmpdir) == NULL)
        msg_fatal("mkdtemp: %s", strerror(errno));
    snprintf(setting, sizeof(setting), "spool_dir=%s", tmpdir);
    ut_set(setting);
    ut_set("scanner=clamav");
    ut_set("clamav_database_directory=bundled");
    ut_set("archive_max_members=77");
    if ((inspector = inspector_open(err)) == NULL)
        msg_fatal("inspector_open: %s", vbuf_str(err));
    test_members();
    test_places();
    UT_CHECK(walks > 0, "archive_walk was called");
    inspector_close(inspector);
    vbuf_free(err);
    if (rmdir(tmpdir) < 0)
        UT_CHECK(0, "rmdir %s: %s (left files behind?)", tmpdir, strerror(errno));
    return ut_done();
}
