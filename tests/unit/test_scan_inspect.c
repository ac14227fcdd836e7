/*
 * test_scan_inspect - crafted messages through the whole inspector:
 * GMime walk, libmagic, banned rules, and libclamav with the bundled test
 * signatures (EICAR and the ClamAV test file)
 *
 * Each message is written to a spool file, as the filter does, and
 * inspected from there. Expected details are checked by substring where
 * the signature name belongs to the scanner.
 */
#include <dirent.h>
#include <sys/resource.h>
#include <glib.h>

#include "scan/inspect.h"
#include "lib/config.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/spool.h"
#include "lib/vbuf.h"
#include "tests/unit/unittest.h"

static const char eicar[] =
    "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/* EICAR in quoted-printable: 'X' and '$' escaped, a soft line break */
static const char eicar_qp[] =
    "=585O!P%@AP[4\\PZX54(P^)7CC)7}=24EICAR-STAND=\r\n"
    "ARD-ANTIVIRUS-TEST-FILE!=24H+H*\r\n";

static char tmpdir[] = "/tmp/test_scan_inspect-XXXXXX";
static INSPECTOR *inspector;

/* b64 - base64 of bytes, folded at 76 columns, CRLF line ends */
static void b64(VBUF *out, const void *data, size_t len)
{
    gchar  *text = g_base64_encode(data, len);
    size_t  tlen = strlen(text), i;

    for (i = 0; i < tlen; i += 76) {
        vbuf_append(out, text + i, tlen - i < 76 ? tlen - i : 76);
        vbuf_strcat(out, "\r\n");
    }
    g_free(text);
}

/* elf - a minimal 64-bit x86-64 executable header (libmagic:
 * application/x-executable) followed by some padding */
static void elf(unsigned char buf[128])
{
    memset(buf, 0, 128);
    memcpy(buf, "\177ELF", 4);
    buf[4] = 2;                         /* ELFCLASS64 */
    buf[5] = 1;                         /* little endian */
    buf[6] = 1;                         /* EV_CURRENT */
    buf[16] = 2;                        /* ET_EXEC */
    buf[18] = 0x3e;                     /* EM_X86_64 */
    buf[20] = 1;                        /* EV_CURRENT */
}

/* uuencode - "begin 644 name" ... "end" of data, 45 bytes a line */
static void uuencode(VBUF *out, const char *name, const void *data, size_t len)
{
    const unsigned char *d = data;
    size_t  i, j, n;
    int     k;

    vbuf_sprintf_append(out, "begin 644 %s\r\n", name);
    for (i = 0; i < len; i += 45) {
        n = len - i < 45 ? len - i : 45;
        vbuf_addch(out, (int)n + 32);
        for (j = 0; j < n; j += 3) {
            unsigned v = 0;

            for (k = 0; k < 3; k++)
                v = v << 8 | (j + (size_t)k < n ? d[i + j + (size_t)k] : 0);
            for (k = 3; k >= 0; k--)
                vbuf_addch(out, ((v >> (6 * k)) & 63) ? (int)((v >> (6 * k)) & 63) + 32 : '`');
        }
        vbuf_strcat(out, "\r\n");
    }
    vbuf_strcat(out, "`\r\nend\r\n");
}

/* yencode - "=ybegin" ... "=yend" of data on one line */
static void yencode(VBUF *out, const char *name, const void *data, size_t len)
{
    const unsigned char *d = data;
    size_t  i;

    vbuf_sprintf_append(out, "=ybegin line=128 size=%zu name=%s\r\n", len, name);
    for (i = 0; i < len; i++) {
        int     c = (d[i] + 42) & 255;

        if (c == 0 || c == '\n' || c == '\r' || c == '=') {
            vbuf_addch(out, '=');
            c = (c + 64) & 255;
        }
        vbuf_addch(out, c);
    }
    vbuf_sprintf_append(out, "\r\n=yend size=%zu\r\n", len);
}

/* inspect - spool len bytes and inspect them */
static void inspect(const void *msg, size_t len, INSPECT_RESULT *res)
{
    VBUF   *err = vbuf_alloc(1024);
    int     fd = spool_create(var_spool_dir, err);

    if (fd < 0 || write(fd, msg, len) != (ssize_t)len)
        msg_fatal("spool: %s", vbuf_str(err));
    inspect_message(inspector, fd, res);
    UT_CHECK(lseek(fd, 0, SEEK_CUR) == (off_t)len, "fd offset moved");
    close(fd);
    vbuf_free(err);
}

/* expect - inspect and compare the verdict and a detail substring */
static void expect(const char *what, const void *msg, size_t len, VERDICT verdict,
                   const char *detail_has)
{
    INSPECT_RESULT res;

    inspect_result_init(&res);
    inspect(msg, len, &res);
    UT_CHECK(res.verdict == verdict, "%s: verdict %s, want %s (%s)", what,
             verdict_names[res.verdict], verdict_names[verdict], vbuf_str(res.detail));
    if (detail_has)
        UT_CHECK(strstr(vbuf_str(res.detail), detail_has) != NULL,
                 "%s: detail \"%s\" lacks \"%s\"", what, vbuf_str(res.detail), detail_has);
    if (verdict == VERDICT_INFECTED)
        UT_CHECK(strstr(vbuf_str(res.virname), "Eicar") != NULL
                 || strstr(vbuf_str(res.virname), "Clam") != NULL,
                 "%s: virname \"%s\"", what, vbuf_str(res.virname));
    else
        UT_EQ_STR(vbuf_str(res.virname), "", what);
    if (msg_verbose)
        fprintf(stderr, "%s: %s (%s) %d parts\n", what, verdict_names[res.verdict],
                vbuf_str(res.detail), res.nparts);
    inspect_result_free(&res);
}

#define EXPECT(what, text, verdict, has) expect((what), (text), strlen(text), (verdict), (has))

#define HDR "From: <a@example.org>\r\nTo: <b@example.org>\r\nSubject: test\r\nMIME-Version: 1.0\r\n"

/* test_simple - the fixed messages */
static void test_simple(void)
{
    EXPECT("plain text", HDR "Content-Type: text/plain\r\n\r\nHello, world.\r\n",
           VERDICT_CLEAN, NULL);
    EXPECT("headers only", HDR, VERDICT_CLEAN, NULL);
    EXPECT("garbage", "\001\002\003 this is \377\376 not mail\r\n\r\n:::\r\n",
           VERDICT_CLEAN, NULL);
    EXPECT("not a header line, EICAR at offset 0",
           "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*\r\n",
           VERDICT_INFECTED, "in part 1");
    EXPECT("rfc2047 name",
           HDR "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
           "--b1\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"
           "--b1\r\nContent-Type: application/octet-stream;\r\n"
           " name=\"=?UTF-8?B?aW52b2ljZS5wZGYuZXhl?=\"\r\n\r\nharmless\r\n--b1--\r\n",
           VERDICT_BANNED, "banned name \"invoice.pdf.exe\" (double extension .pdf.exe) in part 2");
    EXPECT("empty quoted-printable body",
           HDR "Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
           VERDICT_CLEAN, NULL);
    EXPECT("conflicting filename parameters",
           HDR "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
           "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
           "--b1\r\nContent-Type: application/pdf\r\n"
           "Content-Disposition: attachment; filename=\"a.pdf\"; filename=\"b.pdf\"\r\n\r\n"
           "%PDF-1.4\r\n--b1--\r\n",
           VERDICT_UNCHECKED, "ambiguous MIME (conflicting filename parameters");
    EXPECT("name in Content-Type, other filename in Content-Disposition",
           HDR "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
           "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
           "--b1\r\nContent-Type: application/octet-stream; name=\"run.scr\"\r\n"
           "Content-Disposition: attachment; filename=\"photo.jpg\"\r\n\r\n"
           "data\r\n--b1--\r\n",
           VERDICT_BANNED, "banned name \"run.scr\" (extension .scr) in part 2");
    EXPECT("encrypted",
           HDR "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";"
           " boundary=\"b1\"\r\n\r\n"
           "--b1\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
           "--b1\r\nContent-Type: application/octet-stream\r\n\r\n"
           "-----BEGIN PGP MESSAGE-----\r\nxx\r\n-----END PGP MESSAGE-----\r\n--b1--\r\n",
           VERDICT_UNCHECKED, "encrypted MIME part");
}

/* test_built - messages with encoded content */
static void test_built(void)
{
    VBUF   *m = vbuf_alloc(0);
    unsigned char exe[128];
    char   *big;
    size_t  bigsize = 1536 * 1024;
    int     i;

    /* base64 EICAR attachment */
    vbuf_strcpy(m, HDR "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
                "--b1\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"
                "--b1\r\nContent-Type: application/octet-stream; name=\"eicar.com\"\r\n"
                "Content-Disposition: attachment; filename=\"eicar.com\"\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n");
    b64(m, eicar, strlen(eicar));
    vbuf_strcat(m, "--b1--\r\n");
    expect("base64 EICAR", m->data, m->len, VERDICT_INFECTED, "in part 2 \"eicar.com\"");

    /* EICAR in a message/rfc822 inside multipart/mixed */
    vbuf_strcpy(m, HDR "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n"
                "--outer\r\nContent-Type: text/plain\r\n\r\nforwarded\r\n"
                "--outer\r\nContent-Type: message/rfc822\r\n\r\n"
                "From: <c@example.org>\r\nSubject: inner\r\nMIME-Version: 1.0\r\n"
                "Content-Type: multipart/mixed; boundary=\"inner\"\r\n\r\n"
                "--inner\r\nContent-Type: text/plain\r\n\r\ninner text\r\n"
                "--inner\r\nContent-Type: application/zip; name=\"x.bin\"\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n");
    b64(m, eicar, strlen(eicar));
    vbuf_strcat(m, "--inner--\r\n\r\n--outer--\r\n");
    expect("nested message/rfc822", m->data, m->len, VERDICT_INFECTED, "in part 2.2 \"x.bin\"");

    /* quoted-printable EICAR */
    vbuf_strcpy(m, HDR "Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
    vbuf_strcat(m, eicar_qp);
    UT_CHECK(strstr(m->data, "EICAR-STANDARD") == NULL, "QP hides the raw string");
    expect("quoted-printable EICAR", m->data, m->len, VERDICT_INFECTED, "in part 1");

    /* RFC 2231 file name, ELF content */
    elf(exe);
    vbuf_strcpy(m, HDR "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
                "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
                "--b1\r\nContent-Type: application/pdf\r\n"
                "Content-Disposition: attachment; filename*=UTF-8''invoice%2Epdf.exe\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n");
    b64(m, exe, sizeof(exe));
    vbuf_strcat(m, "--b1--\r\n");
    expect("rfc2231 name", m->data, m->len, VERDICT_BANNED,
           "banned name \"invoice.pdf.exe\" (double extension .pdf.exe) in part 2");

    /* ELF content under a harmless name: the true type */
    vbuf_strcpy(m, HDR "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
                "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
                "--b1\r\nContent-Type: text/plain; name=\"report.txt\"\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n");
    b64(m, exe, sizeof(exe));
    vbuf_strcat(m, "--b1--\r\n");
    expect("ELF named .txt", m->data, m->len, VERDICT_BANNED,
           "banned type application/x-executable in \"report.txt\" in part 2");

    /*
     * Two boundary parameters: GMime reads "AAA" (the first), where the
     * part between the AAA delimiters is text; the base64 EICAR is a part
     * only in the "BBB" reading. Never clean; infected when libclamav's
     * mail parser takes the other reading.
     */
    vbuf_strcpy(m, HDR "Content-Type: multipart/mixed; boundary=\"AAA\"; boundary=\"BBB\"\r\n\r\n"
                "--AAA\r\nContent-Type: text/plain\r\n\r\nnothing here\r\n--AAA--\r\n"
                "--BBB\r\nContent-Type: application/octet-stream; name=\"e.bin\"\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n");
    b64(m, eicar, strlen(eicar));
    vbuf_strcat(m, "--BBB--\r\n");
    {
        INSPECT_RESULT res;

        inspect_result_init(&res);
        inspect(m->data, m->len, &res);
        UT_CHECK(res.verdict == VERDICT_INFECTED || res.verdict == VERDICT_UNCHECKED,
                 "conflicting boundaries: verdict %s (%s)", verdict_names[res.verdict],
                 vbuf_str(res.detail));
        printf("conflicting boundaries: %s (%s)\n", verdict_names[res.verdict], vbuf_str(res.detail));
        inspect_result_free(&res);
    }

    /* too many parts (mime_max_parts = 5) */
    vbuf_strcpy(m, HDR "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n");
    for (i = 0; i < 8; i++)
        vbuf_sprintf_append(m, "--b1\r\nContent-Type: text/plain\r\n\r\npart %d\r\n", i);
    vbuf_strcat(m, "--b1--\r\n");
    ut_set("mime_max_parts=5");
    expect("too many parts", m->data, m->len, VERDICT_UNCHECKED, "too many MIME parts");
    ut_set("mime_max_parts=8");
    expect("just enough parts", m->data, m->len, VERDICT_CLEAN, NULL);
    ut_set("mime_max_parts=1000");

    /* too deep (mime_max_depth = 3) */
    vbuf_strcpy(m, HDR "Content-Type: multipart/mixed; boundary=\"d0\"\r\n\r\n");
    for (i = 1; i < 6; i++)
        vbuf_sprintf_append(m, "--d%d\r\nContent-Type: multipart/mixed; boundary=\"d%d\"\r\n\r\n",
                            i - 1, i);
    vbuf_strcat(m, "--d5\r\nContent-Type: text/plain\r\n\r\ndeep\r\n");
    for (i = 5; i >= 0; i--)
        vbuf_sprintf_append(m, "--d%d--\r\n", i);
    ut_set("mime_max_depth=3");
    expect("too deep", m->data, m->len, VERDICT_UNCHECKED, "MIME nesting too deep");
    ut_set("mime_max_depth=20");
    expect("deep enough", m->data, m->len, VERDICT_CLEAN, NULL);

    /* a part too big for memory: decoded into a spool file */
    big = mymalloc(bigsize);
    memset(big, 'A', bigsize);
    memcpy(big, eicar, strlen(eicar));
    vbuf_strcpy(m, HDR "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
                "--b1\r\nContent-Type: application/octet-stream; name=\"big.dat\"\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n");
    b64(m, big, bigsize);
    vbuf_strcat(m, "--b1--\r\n");
    expect("big part on disk", m->data, m->len, VERDICT_INFECTED, "in part 1 \"big.dat\"");
    memcpy(big, "clean...", 8);
    vbuf_strcpy(m, HDR "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
                "--b1\r\nContent-Type: application/octet-stream; name=\"big.dat\"\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n");
    b64(m, big, bigsize);
    vbuf_strcat(m, "--b1--\r\n");
    expect("big clean part on disk", m->data, m->len, VERDICT_CLEAN, NULL);
    myfree(big);
    vbuf_free(m);
}

/* test_hidden - payloads where only leaf parts used to go: preamble,
 * epilogue, uuencode, yEnc and BinHex in text */
static void test_hidden(void)
{
    VBUF   *m = vbuf_alloc(0);
    unsigned char exe[128];
    gchar  *hqx;
    gsize   hqxlen;

    vbuf_strcpy(m, HDR "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n");
    vbuf_sprintf_append(m, "%s\r\n--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b1--\r\n", eicar);
    expect("EICAR in the preamble", m->data, m->len, VERDICT_INFECTED, "in the preamble of the message");

    vbuf_strcpy(m, HDR "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
                "This is a multi-part message in MIME format.\r\n"
                "--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b1--\r\n");
    vbuf_sprintf_append(m, "%s\r\n", eicar);
    expect("EICAR in the epilogue", m->data, m->len, VERDICT_INFECTED, "in the epilogue of the message");

    vbuf_strcpy(m, HDR "Content-Type: multipart/mixed; boundary=\"o\"\r\n\r\n"
                "--o\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
                "--o\r\nContent-Type: multipart/alternative; boundary=\"i\"\r\n\r\n");
    vbuf_sprintf_append(m, "%s\r\n--i\r\nContent-Type: text/plain\r\n\r\nalt\r\n--i--\r\n--o--\r\n", eicar);
    expect("EICAR in a nested preamble", m->data, m->len, VERDICT_INFECTED, "in the preamble of part 2");

    vbuf_strcpy(m, HDR "Content-Type: text/plain\r\n\r\nSee the file below.\r\n\r\n");
    uuencode(m, "eicar.com", eicar, strlen(eicar));
    vbuf_strcat(m, "\r\nBye.\r\n");
    expect("uuencoded EICAR in a text body", m->data, m->len, VERDICT_INFECTED,
           "in uuencoded file \"eicar.com\" in part 1");

    vbuf_strcpy(m, HDR "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n");
    uuencode(m, "eicar.com", eicar, strlen(eicar));
    vbuf_strcat(m, "--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b1--\r\n");
    expect("uuencoded EICAR in the preamble", m->data, m->len, VERDICT_INFECTED,
           "in uuencoded file \"eicar.com\" in the preamble of the message");

    vbuf_strcpy(m, HDR "Content-Type: text/plain\r\n\r\nhi\r\n");
    uuencode(m, "evil.exe", "harmless", 8);
    expect("uuencoded banned name", m->data, m->len, VERDICT_BANNED,
           "banned name \"evil.exe\" (extension .exe) in uuencoded file \"evil.exe\" in part 1");

    elf(exe);
    vbuf_strcpy(m, HDR "Content-Type: text/plain\r\n\r\nhi\r\n");
    uuencode(m, "notes.txt", exe, sizeof(exe));
    expect("uuencoded ELF named .txt", m->data, m->len, VERDICT_BANNED,
           "banned type application/x-executable in \"notes.txt\" in uuencoded file");

    vbuf_strcpy(m, HDR "Content-Type: text/plain\r\n\r\nhi\r\nbegin 644 cut.dat\r\n"
                "M9F]O8F%R9F]O8F%R9F]O8F%R9F]O8F%R9F]O8F%R9F]O8F%R9F]O8F%R9F]O\r\n");
    expect("uuencode cut short", m->data, m->len, VERDICT_UNCHECKED,
           "uuencoded file \"cut.dat\" incomplete (no end line) in part 1");

    vbuf_strcpy(m, HDR "Content-Type: text/plain\r\n\r\nyEnc follows\r\n");
    yencode(m, "eicar.com", eicar, strlen(eicar));
    expect("yEnc EICAR", m->data, m->len, VERDICT_INFECTED, "in yEnc file \"eicar.com\" in part 1");

    if (!g_file_get_contents("/usr/share/clamav-testfiles/clam.exe.binhex", &hqx, &hqxlen, NULL))
        msg_fatal("cannot read clam.exe.binhex (package clamav-testfiles)");
    vbuf_strcpy(m, HDR "Content-Type: text/plain\r\n\r\n");
    vbuf_append(m, hqx, hqxlen);
    expect("BinHex ClamAV test file", m->data, m->len, VERDICT_INFECTED,
           "in BinHex file \"clam.exe\" in part 1");
    g_free(hqx);
    vbuf_free(m);
}

/* test_banned_wins - a banned attachment where the message is also
 * unchecked: beyond the part limit, too deep, many names, NUL in a name,
 * a boundary GMime finds inside a long line */
static void test_banned_wins(void)
{
    VBUF   *m = vbuf_alloc(0);
    int     i;

    vbuf_strcpy(m, HDR "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n");
    for (i = 0; i < 1100; i++)
        vbuf_sprintf_append(m, "--b1\r\nContent-Type: text/plain\r\n\r\npart %d\r\n", i);
    vbuf_strcat(m, "--b1\r\nContent-Type: application/octet-stream\r\n"
                "Content-Disposition: attachment; filename=\"late.exe\"\r\n\r\nMZ\r\n--b1--\r\n");
    expect("banned beyond mime_max_parts", m->data, m->len, VERDICT_BANNED,
           "banned name \"late.exe\" (extension .exe) in a MIME header at offset");

    vbuf_strcpy(m, HDR "Content-Type: multipart/mixed; boundary=\"d0\"\r\n\r\n");
    for (i = 1; i < 25; i++)
        vbuf_sprintf_append(m, "--d%d\r\nContent-Type: multipart/mixed; boundary=\"d%d\"\r\n\r\n",
                            i - 1, i);
    vbuf_strcat(m, "--d24\r\nContent-Type: application/octet-stream; name=\"deep.scr\"\r\n\r\nMZ\r\n");
    for (i = 24; i >= 0; i--)
        vbuf_sprintf_append(m, "--d%d--\r\n", i);
    expect("banned deeper than mime_max_depth", m->data, m->len, VERDICT_BANNED,
           "banned name \"deep.scr\" (extension .scr) in part 1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1");

    vbuf_strcpy(m, HDR "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n"
                "Content-Type: application/octet-stream");
    for (i = 0; i < 20; i++)
        vbuf_sprintf_append(m, ";\r\n name=\"file%02d.txt\"", i);
    vbuf_strcat(m, ";\r\n name=\"last.vbs\"\r\n\r\ndata\r\n--b1--\r\n");
    expect("banned 21st name", m->data, m->len, VERDICT_BANNED,
           "banned name \"last.vbs\" (extension .vbs) in part 1");

    EXPECT("NUL in an RFC 2231 name",
           HDR "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
           "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
           "--b1\r\nContent-Type: application/octet-stream\r\n"
           "Content-Disposition: attachment; filename*=UTF-8''evil%00.js\r\n\r\nx\r\n--b1--\r\n",
           VERDICT_BANNED, "(extension .js) in part 2");

    /* Some length of this line makes GMime 3.2 see "--BB--" inside it. */
    for (i = 4030; i < 4160; i++) {
        INSPECT_RESULT res;

        vbuf_strcpy(m, HDR "Content-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n"
                    "--BB\r\nContent-Type: text/plain\r\n\r\n");
        while (m->len < (size_t)i)
            vbuf_addch(m, 'x');
        vbuf_strcat(m, "--BB--\r\n--BB\r\nContent-Type: application/octet-stream; name=\"hid.exe\"\r\n"
                    "\r\nMZ\r\n--BB--\r\n");
        inspect_result_init(&res);
        inspect(m->data, m->len, &res);
        UT_CHECK(res.verdict == VERDICT_BANNED && strstr(vbuf_str(res.detail), "hid.exe"),
                 "long line %d: %s (%s)", i, verdict_names[res.verdict], vbuf_str(res.detail));
        inspect_result_free(&res);
    }
    vbuf_free(m);
}

/* test_raw_cost - a raw scan libclamav's mail parser would need hundreds
 * of MB for is not run: unchecked instead */
static void test_raw_cost(void)
{
    VBUF   *m = vbuf_alloc(0);
    struct rusage ru;
    long    before, grown;
    int     i;

    getrusage(RUSAGE_SELF, &ru);
    before = ru.ru_maxrss / 1024;
    vbuf_strcpy(m, HDR "Content-Type: multipart/mixed; boundary=\"d0\"\r\n\r\n");
    for (i = 1; i < 10; i++)
        vbuf_sprintf_append(m, "--d%d\r\nContent-Type: multipart/mixed; boundary=\"d%d\"\r\n\r\n",
                            i - 1, i);
    vbuf_strcat(m, "--d9\r\nContent-Type: text/plain\r\n"
                "Content-Disposition: inline; filename=\"a.txt\"; filename=\"b.txt\"\r\n\r\n");
    for (i = 0; i < 450000; i++)
        vbuf_strcat(m, "--x\r\n");
    /* The detail names the first reason; the raw scan's skip comes after. */
    expect("raw scan too costly", m->data, m->len, VERDICT_UNCHECKED, "ambiguous MIME");
    getrusage(RUSAGE_SELF, &ru);
    grown = ru.ru_maxrss / 1024 - before;
    printf("raw scan too costly: peak RSS grew %ld MB\n", grown);
#ifndef __SANITIZE_ADDRESS__
    UT_CHECK(grown < 100, "peak RSS grew %ld MB", grown);
#endif
    vbuf_free(m);
}

/* count_fds - open descriptors of this process */
static int count_fds(void)
{
    DIR    *dir = opendir("/proc/self/fd");
    struct dirent *de;
    int     n = 0;

    if (dir == NULL)
        return -1;
    while ((de = readdir(dir)) != NULL)
        n++;
    closedir(dir);
    return n;
}

/* test_repeat - many messages, no descriptors left behind */
static void test_repeat(void)
{
    static const char msg[] = HDR "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
        "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        "--b1\r\nContent-Type: application/octet-stream; name=\"a.bin\"\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
        "WDVPIVAlQEFQWzRcUFpYNTQoUF4pN0NDKTd9JEVJQ0FSLVNUQU5EQVJELUFOVElWSVJVUy1URVNU\r\n"
        "LUZJTEUhJEgrSCo=\r\n--b1--\r\n";
    INSPECT_RESULT res;
    int     before = count_fds(), i, infected = 0;

    inspect_result_init(&res);
    for (i = 0; i < 200; i++) {
        inspect(msg, sizeof(msg) - 1, &res);
        infected += res.verdict == VERDICT_INFECTED;
    }
    inspect_result_free(&res);
    UT_EQ_INT(infected, 200, "every repeat infected");
    UT_EQ_INT(count_fds(), before, "no descriptor leak");
}

int     main(int argc, char **argv)
{
    VBUF   *err = vbuf_alloc(1024);
    char    setting[sizeof(tmpdir) + 20];

    UT_BEGIN("test_scan_inspect");
    msg_init("test_scan_inspect", MSG_STDERR);
    msg_verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    config_init();
    if (mkdtemp(tmpdir) == NULL)
        msg_fatal("mkdtemp: %s", strerror(errno));
    snprintf(setting, sizeof(setting), "spool_dir=%s", tmpdir);
    ut_set(setting);
    ut_set("scanner=clamav");
    ut_set("clamav_database_directory=bundled");

    if ((inspector = inspector_open(err)) == NULL)
        msg_fatal("inspector_open: %s", vbuf_str(err));
    UT_CHECK(inspector_engine(inspector) && *inspector_engine(inspector), "engine version");

    test_simple();
    test_built();
    test_raw_cost();                    /* first of the big ones: it measures the peak RSS */
    test_hidden();
    test_banned_wins();
    test_repeat();

    inspector_close(inspector);
    vbuf_free(err);
    if (rmdir(tmpdir) < 0)
        UT_CHECK(0, "rmdir %s: %s (left files behind?)", tmpdir, strerror(errno));
    return ut_done();
}
