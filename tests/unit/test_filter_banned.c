/*
 * test_filter_banned - banned names and true types, table-driven
 */
#include "filter/banned.h"
#include "lib/config.h"
#include "lib/params.h"
#include "tests/unit/unittest.h"

typedef struct CASE {
    const char *name;           /* decoded file name, may be NULL */
    const char *type;           /* libmagic type, may be NULL */
    int         banned;
    const char *detail;         /* expected detail when banned */
} CASE;

/* run - every case of a table against the current rules */
static void run(const char *what, const CASE *cases, size_t n)
{
    VBUF   *detail = vbuf_alloc(1024);
    char    label[256];
    size_t  i;

    for (i = 0; i < n; i++) {
        vbuf_reset(detail);
        snprintf(label, sizeof(label), "%s: \"%s\" %s", what,
                 cases[i].name ? cases[i].name : "(null)", cases[i].type ? cases[i].type : "-");
        UT_EQ_INT(banned_check(cases[i].name, cases[i].type, detail), cases[i].banned, label);
        if (cases[i].banned)
            UT_EQ_STR(vbuf_str(detail), cases[i].detail, label);
    }
    vbuf_free(detail);
}

/* set - apply name=value as -o would, and finish */
static void set(const char *nameval)
{
    VBUF   *err = vbuf_alloc(1024);

    UT_CHECK(config_override(nameval, err) == 0 && config_finish(err) == 0,
             "set %s: %s", nameval, vbuf_str(err));
    vbuf_free(err);
}

int     main(void)
{
    static const CASE defaults[] = {
        {"invoice.pdf.exe", "application/x-dosexec", 1,
         "banned name \"invoice.pdf.exe\" (double extension .pdf.exe)"},
        {"INVOICE.PDF.EXE", "application/octet-stream", 1,
         "banned name \"INVOICE.PDF.EXE\" (double extension .PDF.EXE)"},
        {"setup.exe. . ", "application/octet-stream", 1,
         "banned name \"setup.exe. . \" (extension .exe)"},
        {"setup.exe::$DATA", "application/octet-stream", 1,
         "banned name \"setup.exe::$DATA\" (extension .exe)"},
        {"C:\\Users\\x\\run.bat", "text/plain", 1,
         "banned name \"C:\\Users\\x\\run.bat\" (extension .bat)"},
        {".exe", "application/octet-stream", 1, "banned name \".exe\" (extension .exe)"},
        {"v1.2.3.exe", "application/octet-stream", 1,
         "banned name \"v1.2.3.exe\" (extension .exe)"},
        {"report.txt", "application/x-executable", 1,
         "banned type application/x-executable in \"report.txt\""},
        {"report.txt", "application/x-pie-executable", 1,
         "banned type application/x-pie-executable in \"report.txt\""},
        {"photo.jpg", "application/x-dosexec", 1,
         "banned type application/x-dosexec in \"photo.jpg\""},
        {NULL, "application/x-sharedlib", 1, "banned type application/x-sharedlib"},
        {"", "text/x-shellscript", 1, "banned type text/x-shellscript"},
        {"clean.pdf", "application/pdf", 0, NULL},
        {"exe", "text/plain", 0, NULL},
        {"my.exe.pdf", "application/pdf", 0, NULL},
        {"", "text/plain", 0, NULL},
        {NULL, NULL, 0, NULL},
        {"notes.txt", "text/plain", 0, NULL},
    };
    static const CASE custom[] = {
        {"invoice.pdf.exe", "application/octet-stream", 1,
         "banned name \"invoice.pdf.exe\" (extension .exe)"},
        {"macro.DOCM", "application/zip", 1, "banned name \"macro.DOCM\" (extension .DOCM)"},
        {"Payload-2024.iso", "application/octet-stream", 1,
         "banned name \"Payload-2024.iso\" (matches \"payload-*\")"},
        {"README.TXT.LNK", "application/octet-stream", 1,
         "banned name \"README.TXT.LNK\" (matches \"*.txt.lnk\")"},
        {"report.txt", "application/x-executable", 1,
         "banned type application/x-executable in \"report.txt\""},
        {"archive.zip", "application/zip", 1, "banned type application/zip in \"archive.zip\""},
        {"setup.exe", "application/x-dosexec", 1, "banned name \"setup.exe\" (extension .exe)"},
        {"photo.jpg", "application/x-dosexec", 1,
         "banned type application/x-dosexec in \"photo.jpg\""},
        {"clean.pdf", "application/pdf", 0, NULL},
        {"", "text/x-shellscript", 0, NULL},
    };
    static const CASE off[] = {
        {"invoice.pdf.exe", "application/x-dosexec", 0, NULL},
        {"report.txt", "application/x-executable", 0, NULL},
    };

    UT_BEGIN("test_filter_banned");
    msg_init("test_filter_banned", MSG_STDERR);
    config_init();

    banned_init();
    run("defaults", defaults, sizeof(defaults) / sizeof(defaults[0]));

    set("banned_extensions=.EXE docm,bat");
    set("banned_double_extensions=no");
    set("banned_names=payload-*, *.txt.lnk");
    set("banned_types=application/zip");
    banned_init();
    run("custom", custom, sizeof(custom) / sizeof(custom[0]));

    set("banned_extensions=");
    set("banned_names=");
    set("banned_types=");
    banned_init();
    run("off", off, sizeof(off) / sizeof(off[0]));

    banned_free();
    return ut_done();
}
