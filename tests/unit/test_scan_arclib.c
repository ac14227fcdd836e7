/*
 * test_scan_arclib - libarchive is loaded only when a part may be an archive
 *
 * The programs do not link libarchive (scan/arclib.c opens it). This test
 * program does not either, so /proc/self/maps shows whether archive_walk()
 * loaded it: not for plain text (ASCII, Latin-1, ISO-2022-JP with ESC),
 * which no enabled reader can bid on, and once a zip is listed, with its
 * member seen as before.
 */
#include <stdio.h>
#include <string.h>

#include "scan/archive.h"
#include "lib/msg.h"
#include "tests/unit/unittest.h"

/* A zip (stored) with one member, invoice.exe. */
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

/* loaded - is libarchive mapped into this process */
static int loaded(void)
{
    FILE   *fp = fopen("/proc/self/maps", "r");
    char    line[1024];
    int     found = 0;

    if (fp == NULL)
        msg_fatal("/proc/self/maps: %m");
    while (!found && fgets(line, sizeof(line), fp) != NULL)
        found = strstr(line, "/libarchive.so") != NULL;
    fclose(fp);
    return found;
}

/* seen - archive_walk callback: remember the first member's name */
static int seen(const ARCHIVE_MEMBER *m, void *context)
{
    char   *name = context;

    if (*name == 0)
        snprintf(name, 64, "%s", m->name);
    return 0;
}

/* walk - archive_walk on a string or bytes; the result */
static int walk(const void *data, size_t size, char *name, VBUF *why)
{
    *name = 0;
    return archive_walk(data, size, -1, "part", NULL, seen, name, why);
}

/* test_lazy - text never loads libarchive, an archive does */
static void test_lazy(void)
{
    static const char *const texts[] = {
        "Hello,\r\n\tplease find the invoice below.\r\n-- \r\nBob\r\n",
        "Gr\xfc\xdf" "e aus K\xf6ln\n",                     /* Latin-1 */
        "\x1b$B\x46\x7c\x4b\x5c\x1b(B text\r\n",              /* ISO-2022-JP */
        "BZh is not bzip2 without its block magic\n",
    };
    VBUF   *why = vbuf_alloc(256);
    char    name[64];
    size_t  i;

    UT_CHECK(!loaded(), "libarchive not mapped at the start (not linked)");
    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        UT_EQ_INT(walk(texts[i], strlen(texts[i]), name, why), ARCHIVE_NONE, texts[i]);
        if (i < 3)
            UT_CHECK(!loaded(), "text %zu does not load libarchive", i);
    }
    UT_EQ_INT(walk(zip, sizeof(zip), name, why), ARCHIVE_OK, "zip listed");
    UT_EQ_STR(name, "invoice.exe", "zip member");
    UT_CHECK(loaded(), "libarchive mapped once an archive was listed");
    UT_EQ_INT(walk(zip, sizeof(zip) - 22, name, why), ARCHIVE_UNCHECKED,
              "zip without its end record");
    vbuf_free(why);
}

/* main - run every test */
int main(void)
{
    UT_BEGIN("test_scan_arclib");
    msg_init("test_scan_arclib", 0);
    test_lazy();
    return ut_done();
}
