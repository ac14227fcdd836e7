/*
 * test_scan_arclibfail - libarchive that cannot be loaded
 *
 * scan/arclib.c is built in here with a soname that does not exist, in
 * place of the library's own (the linker then takes no arclib.o from
 * libscan.a). A part that may be an archive must then be ARCHIVE_ERROR,
 * naming the library, each time it is asked (never a crash, never
 * ARCHIVE_NONE, which would pass it unlisted); plain text must still be
 * ARCHIVE_NONE, proof that it never tries to load the library. The text
 * that libarchive could read as an archive (tar, cpio, ar, bzip2 and
 * zstd headers can be printable) must try.
 */
#define ARCLIB_SONAME "libpostsift-no-such-archive.so.0"
#include "scan/arclib.c"
#undef ARCHIVE_OK                       /* libarchive's; scan/archive.h has its own */

#include <string.h>
#include <unistd.h>

#include "scan/archive.h"
#include "lib/msg.h"
#include "lib/spool.h"
#include "tests/unit/unittest.h"

static const unsigned char zip[] =
    "\x50\x4b\x03\x04\x14\x00\x00\x00\x00\x00\x3a\x34\x86\x5d\xb1\x14"
    "\xe4\x89\x10\x00\x00\x00\x10\x00\x00\x00\x0b\x00\x00\x00\x69\x6e"
    "\x76\x6f\x69\x63\x65\x2e\x65\x78\x65\x4d\x5a\x20\x66\x61\x6b\x65"
    "\x20\x70\x72\x6f\x67\x72\x61\x6d\x0a\x50\x4b\x01\x02\x14\x03\x14"
    "\x00\x00\x00\x00\x00\x3a\x34\x86\x5d\xb1\x14\xe4\x89\x10\x00\x00"
    "\x00\x10\x00\x00\x00\x0b\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    "\x00\x80\x01\x00\x00\x00\x00\x69\x6e\x76\x6f\x69\x63\x65\x2e\x65"
    "\x78\x65\x50\x4b\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00\x39\x00"
    "\x00\x00\x39\x00\x00\x00\x00\x00";

/* nothing - archive_walk callback: no member may come */
static int nothing(const ARCHIVE_MEMBER *m, void *context)
{
    (void)m;
    (*(int *)context)++;
    return 0;
}

/* expect_error - archive_walk on data must be ARCHIVE_ERROR naming the soname */
static void expect_error(const char *what, const void *data, size_t size, int fd)
{
    VBUF   *why = vbuf_alloc(256);
    int     members = 0;

    UT_EQ_INT(archive_walk(data, size, fd, "x", NULL, nothing, &members, why), ARCHIVE_ERROR, what);
    UT_CHECK(strstr(vbuf_str(why), "libarchive: cannot load " ARCLIB_SONAME) != NULL,
             "%s: why: %s", what, vbuf_str(why));
    UT_EQ_INT(members, 0, what);
    vbuf_free(why);
}

/* expect_none - plain text: ARCHIVE_NONE, the library not tried */
static void expect_none(const char *what, const char *text)
{
    VBUF   *why = vbuf_alloc(256);
    int     members = 0;

    UT_EQ_INT(archive_walk((const unsigned char *)text, strlen(text), -1, "x", NULL, nothing,
                           &members, why), ARCHIVE_NONE, what);
    UT_EQ_INT(vbuf_len(why), 0, what);
    vbuf_free(why);
}

/* tarlike - 512 printable bytes with octal digits at the checksum field */
static void tarlike(char *buf, const char *sum)
{
    memset(buf, 'a', 512);
    memcpy(buf + 148, sum, 8);
    buf[512] = 0;
}

/* test_fail - every path with a missing library */
static void test_fail(void)
{
    VBUF   *err = vbuf_alloc(256);
    char    tar[513];
    int     fd;

    expect_none("text", "Dear customer,\r\nyour invoice is attached.\r\n");
    tarlike(tar, "abcdefgh");
    expect_none("512 bytes of text", tar);
    expect_error("zip", zip, sizeof(zip), -1);
    expect_error("zip again: the same answer", zip, sizeof(zip), -1);
    expect_error("cpio (odc, printable)", "070707000000000000", 18, -1);
    expect_error("ar (printable)", "!<arch>\n", 8, -1);
    expect_error("bzip2 magic (printable)", "BZh91AY&SY", 10, -1);
    expect_error("zstd magic (printable)", "(\xb5/\xfd", 4, -1);
    tarlike(tar, " 012345 ");
    expect_error("a printable tar header", tar, 512, -1);
    expect_error("a control byte", "text\001", 5, -1);
    /* A part on disk is not read ahead: the library is needed. */
    if ((fd = spool_create("/tmp", err)) < 0 || write(fd, "text\n", 5) != 5)
        msg_fatal("spool: %s", vbuf_str(err));
    expect_error("a part on disk", NULL, 0, fd);
    (void)close(fd);
    vbuf_free(err);
}

/* main - run every test */
int main(void)
{
    UT_BEGIN("test_scan_arclibfail");
    msg_init("test_scan_arclibfail", 0);
    test_fail();
    return ut_done();
}
