/*
 * fuzz_mime - the inspection of arbitrary message bytes
 *
 * The input is a message as it lies in the spool. decide_message() runs
 * on it exactly as in pipe and smtpd mode: the header scan (our trace
 * headers, foreign X-Virus-* headers), inspect_message() (the GMime walk,
 * decoding, RFC 2047/2231 names, libmagic's true type of every part, the
 * banned rules, libclamav in process with the bundled test signatures,
 * and libclamav's own mail parser on ambiguous MIME), the action, the
 * renaming of untrusted headers into a new spool file and our headers.
 * GMime, libmagic and the libclamav engine are set up once.
 *
 * Checks: a verdict and an action from the tables; our header block is
 * one or two lines "X-Virus-...: text" of printable bytes (nothing the
 * message says can add a line or end the header block); the renamed copy
 * holds no header the scan would still call foreign; the spool file's
 * offset is where it was.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan/decide.h"
#include "scan/headers.h"
#include "scan/inspect.h"
#include "lib/params.h"
#include "lib/spool.h"
#include "lib/vbuf.h"
#include "tests/fuzz/fuzz.h"

static INSPECTOR *inspector;

/* mime_close - at exit */
static void mime_close(void)
{
    inspector_close(inspector);
    inspector = NULL;
}

/* system_database - /var/lib/clamav holds a signature database */
static int system_database(void)
{
    static const char *const ext[] = {".cvd", ".cld", ".cud", ".hdb", ".ndb", ".ldb", NULL};
    DIR    *d = opendir("/var/lib/clamav");
    struct dirent *e;
    size_t  n;
    int     i, found = 0;

    while (d && !found && (e = readdir(d)) != NULL) {
        n = strlen(e->d_name);
        for (i = 0; ext[i]; i++)
            if (n > 4 && strcmp(e->d_name + n - 4, ext[i]) == 0)
                found = 1;
    }
    if (d)
        closedir(d);
    return found;
}

/* LLVMFuzzerInitialize - once per process: GMime, libmagic, libclamav */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    VBUF   *err = vbuf_alloc(4096);
    char    dir[4096], file[4200];
    int     fd;

    (void)argc;
    (void)argv;
    fuzz_setup("mime");
    fuzz_set("scanner=clamav");
    if (system_database()) {
        /* The real database takes a gigabyte and a minute: the same two
         * test signatures as the bundled set, in a directory of ours. */
        fuzz_path(dir, sizeof(dir), "signatures");
        snprintf(file, sizeof(file), "%s/test.ndb", dir);
        if (mkdir(dir, 0700) < 0 || (fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0
            || spool_write_all(fd, "Eicar-Test-Signature:0:0:"
                               "58354f2150254041505b345c505a58353428505e2937434329377d24"
                               "45494341522d5354414e444152442d414e544956495255532d544553"
                               "542d46494c452124482b482a\n", 137) < 0 || close(fd) < 0)
            fuzz_fail("%s: %s", file, strerror(errno));
        fuzz_set("clamav_database_directory=%s", dir);
    } else {
        fuzz_set("clamav_database_directory=bundled");
    }
    if ((inspector = inspector_open(err)) == NULL)
        fuzz_fail("inspector_open: %s", vbuf_str(err));
    vbuf_free(err);
    fuzz_at_exit(mime_close);
    return 0;
}

/* check_prefix - our headers: whole lines "X-Virus-Name: printable" */
static void check_prefix(const VBUF *prefix, int tag)
{
    const char *p = vbuf_str(prefix), *end = p + vbuf_len(prefix), *nl, *q;
    int     lines = 0;

    for (; p < end; p = nl + 1) {
        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            fuzz_fail("headers: last line without LF: %s", p);
        if (strncmp(p, "X-Virus-Scanned: ", 17) != 0 && strncmp(p, "X-Virus-Status: ", 16) != 0)
            fuzz_fail("headers: not one of ours: %.200s", p);
        for (q = p; q < nl; q++)
            if ((unsigned char)*q < 0x20 || (unsigned char)*q == 0x7f)
                fuzz_fail("headers: byte 0x%02x in %.200s", (unsigned char)*q, p);
        lines++;
    }
    if (lines != 1 + (tag != 0))
        fuzz_fail("headers: %d lines for %s", lines, tag ? "tag" : "pass");
}

/* LLVMFuzzerTestOneInput - spool, decide, check */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    VBUF   *err = vbuf_alloc(4096);
    DECISION d;
    HEADER_INFO hinfo;
    int     fd;

    if ((fd = spool_create(var_spool_dir, err)) < 0 || (size && spool_write_all(fd, data, size) < 0))
        fuzz_fail("spool: %s", vbuf_str(err));
    decision_init(&d);
    decide_message(inspector, NULL, fd, 0, &d);
    if ((unsigned)d.verdict >= VERDICT_COUNT || (unsigned)d.action >= ACTION_COUNT)
        fuzz_fail("verdict %d, action %d", (int)d.verdict, (int)d.action);
    if (fuzz_verbose() > 1)
        fprintf(stderr, "verdict=%s action=%s detail=%s\n", verdict_names[d.verdict],
                action_names[d.action], vbuf_str(d.detail));
    if (lseek(fd, 0, SEEK_CUR) != (off_t)size)
        fuzz_fail("the spool file's offset moved");
    if (d.action == ACTION_PASS || d.action == ACTION_TAG) {
        check_prefix(d.prefix, d.action == ACTION_TAG);
        if (d.own_fd) {
            if (headers_scan(d.fd, &hinfo, err) < 0)
                fuzz_fail("headers_scan of the renamed copy: %s", vbuf_str(err));
            if (hinfo.foreign != 0 && !fuzz_known("neutralize"))
                fuzz_fail("the renamed copy still has %d foreign X-Virus headers", hinfo.foreign);
        }
    } else if (vbuf_len(d.prefix) != 0) {
        fuzz_fail("headers built for action %d", (int)d.action);
    }
    decision_free(&d);
    close(fd);
    vbuf_free(err);
    return 0;
}
