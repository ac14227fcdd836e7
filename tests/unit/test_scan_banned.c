/*
 * test_scan_banned - banned names and true types, table-driven: the
 * default rules, the names of every file(1) version, patterns in
 * banned_types, names of any length, and invalid settings
 */
#include "scan/banned.h"
#include "lib/config.h"
#include "lib/params.h"
#include "tests/unit/unittest.h"

/* The rules under test, compiled from the settings by rules_reload(). */
static BANNED *rules;

/* rules_reload - compile the banned_* settings as they are now */
static void rules_reload(void)
{
    banned_close(rules);
    rules = banned_open();
}

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
        UT_EQ_INT(banned_check(rules, cases[i].name, cases[i].type, detail), cases[i].banned, label);
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

/* utf8_valid - no sequence cut or broken */
static int utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    int     more;

    while (*p) {
        more = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2
            : (*p & 0xF8) == 0xF0 ? 3 : -1;
        if (more < 0)
            return 0;
        for (p++; more > 0; more--, p++)
            if ((*p & 0xC0) != 0x80)
                return 0;
    }
    return 1;
}

/* long_name - prefix, then filler bytes up to total bytes, then suffix */
static char *long_name(const char *prefix, const char *fill, size_t total, const char *suffix)
{
    size_t  plen = strlen(prefix), slen = strlen(suffix), flen = strlen(fill);
    char   *name = malloc(total + 1);
    size_t  i;

    memcpy(name, prefix, plen);
    for (i = plen; i < total - slen; i++)
        name[i] = fill[(i - plen) % flen];
    memcpy(name + total - slen, suffix, slen + 1);
    return name;
}

/* printable_tail - the last n bytes of name, controls as '?' */
static void printable_tail(char *dst, const char *name, size_t n)
{
    const char *cp = name + strlen(name) - n;
    size_t  i;

    for (i = 0; i < n; i++)
        dst[i] = ((unsigned char)cp[i] < 0x20 || cp[i] == 0x7f) ? '?' : cp[i];
    dst[n] = 0;
}

/* check_long_names - the rules see the end of a name of any length, and
 * the detail quotes a printable, bounded form of it */
static void check_long_names(void)
{
    static const struct {
        const char *prefix;
        const char *fill;
        size_t      total;
        const char *suffix;
        int         banned;
        const char *why;        /* the end of the detail */
    } table[] = {
        {"", "a", 1023, ".exe", 1, " (extension .exe)"},
        {"", "a", 1024, ".exe", 1, " (extension .exe)"},
        {"", "a", 1025, ".exe", 1, " (extension .exe)"},
        {"", "a", 5000, ".exe", 1, " (extension .exe)"},
        {"", "a", 5000, ".pdf.exe", 1, " (double extension .pdf.exe)"},
        {"", "a", 5000, ".exe. . .", 1, " (extension .exe)"},
        {"", "a", 5000, ".exe::$DATA", 1, " (extension .exe)"},
        {"C:\\Users\\x\\", "b", 5000, ".SCR", 1, " (extension .SCR)"},
        {"", "\xc3\xa9", 5000, ".lnk", 1, " (extension .lnk)"},
        {"", "a\nb\x7f", 5000, ".js", 1, " (extension .js)"},
        {"", "a", 1024, ".iso", 1, " (extension .iso)"},
        {"", "a", 5000, ".pdf", 0, NULL},
        {"x.exe", "a", 5000, ".txt", 0, NULL},
    };
    VBUF   *detail = vbuf_alloc(4096);
    char    label[128];
    char    tail[21];
    char   *name;
    const char *d;
    size_t  i, dlen, wlen;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        name = long_name(table[i].prefix, table[i].fill, table[i].total, table[i].suffix);
        snprintf(label, sizeof(label), "%zu-byte name ending %s", strlen(name), table[i].suffix);
        vbuf_reset(detail);
        UT_EQ_INT(banned_name(rules, name, detail), table[i].banned, label);
        if (table[i].banned) {
            d = vbuf_str(detail);
            dlen = strlen(d);
            wlen = strlen(table[i].why);
            UT_CHECK(strncmp(d, "banned name \"", 13) == 0 && dlen > wlen + 1
                     && strcmp(d + dlen - wlen, table[i].why) == 0, "%s: detail %s", label, d);
            UT_CHECK(dlen < BANNED_SHOWN_MAX + 64, "%s: detail of %zu bytes", label, dlen);
            UT_CHECK(strstr(d, "...") != NULL, "%s: no \"...\" in %s", label, d);
            UT_CHECK(strchr(d, '\n') == NULL && strchr(d, '\x7f') == NULL,
                     "%s: control bytes in the detail", label);
            UT_CHECK(utf8_valid(d), "%s: a UTF-8 sequence cut in %s", label, d);
            /* the start and the end of the name as it was given */
            UT_CHECK(strncmp(d + 13, table[i].prefix, strlen(table[i].prefix)) == 0,
                     "%s: the start is not shown: %s", label, d);
            printable_tail(tail, name, 20);
            UT_CHECK(dlen > wlen + 21 && strncmp(d + dlen - wlen - 21, tail, 20) == 0,
                     "%s: the end (%s) is not shown: %s", label, tail, d);
        }
        free(name);
    }

    /* the type detail bounds the name too */
    name = long_name("", "a", 5000, ".txt");
    vbuf_reset(detail);
    UT_EQ_INT(banned_type(rules, "application/x-dosexec", name, detail), 1, "type, 5000-byte name");
    UT_CHECK(vbuf_len(detail) < BANNED_SHOWN_MAX + 64, "type detail of %zu bytes", vbuf_len(detail));
    UT_CHECK(strstr(vbuf_str(detail), "aaa.txt\"") != NULL, "type detail: %s", vbuf_str(detail));
    free(name);
    vbuf_free(detail);
}

/* check_setting_errors - an invalid banned_types or banned_extensions
 * value is refused with a clear error; banned_open() drops it */
static void check_setting_errors(void)
{
    static const struct {
        const char *nameval;
        const char *want;
    } table[] = {
        {"banned_types=application/x-msi, exe",
         "banned_types: \"exe\" is not a MIME type (write type/subtype, such as "
         "application/x-msi, or a shell pattern such as application/x-*executable*)"},
        {"banned_types=application/",
         "banned_types: \"application/\" is not a MIME type (write type/subtype, such as "
         "application/x-msi, or a shell pattern such as application/x-*executable*)"},
        {"banned_types=/x-msi",
         "banned_types: \"/x-msi\" is not a MIME type (write type/subtype, such as "
         "application/x-msi, or a shell pattern such as application/x-*executable*)"},
        {"banned_types=application/x/y",
         "banned_types: \"application/x/y\" is not a MIME type (write type/subtype, such as "
         "application/x-msi, or a shell pattern such as application/x-*executable*)"},
        {"banned_types=text/plain;charset=us-ascii",
         "banned_types: \"text/plain;charset=us-ascii\" has a character that no MIME type has"},
        {"banned_types=application/x-[ms",
         "banned_types: \"application/x-[ms\" has a \"[\" without \"]\""},
        {"banned_extensions=exe, *.scr",
         "banned_extensions: \"*.scr\" is not a file name extension (patterns go in banned_names)"},
        {"banned_extensions=tar.gz",
         "banned_extensions: \"tar.gz\" has a dot inside: only the last extension of a name "
         "is compared (list the last one, or use banned_names)"},
    };
    static const char *const good[] = {
        "banned_types=", "banned_types=application/x-msi", "banned_types=Application/X-*, image/[pj]*g",
        "banned_types=*/*", "banned_extensions=.exe, .SCR", "banned_extensions=",
    };
    VBUF   *err = vbuf_alloc(1024);
    VBUF   *detail = vbuf_alloc(1024);
    size_t  i;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        config_init();
        set(table[i].nameval);
        vbuf_reset(err);
        UT_EQ_INT(banned_settings_check(err), -1, table[i].nameval);
        UT_EQ_STR(vbuf_str(err), table[i].want, table[i].nameval);
    }
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        config_init();
        set(good[i]);
        vbuf_reset(err);
        UT_EQ_INT(banned_settings_check(err), 0, good[i]);
    }
    config_init();
    vbuf_reset(err);
    UT_EQ_INT(banned_settings_check(err), 0, "the defaults are valid");

    /* banned_open() keeps the valid entries and drops the others */
    set("banned_types=exe, application/zip");
    set("banned_extensions=*.scr, docm");
    rules_reload();
    UT_EQ_INT(banned_type(rules, "application/zip", "a.zip", detail), 1, "valid entry kept");
    UT_EQ_INT(banned_name(rules, "a.docm", detail), 1, "valid extension kept");
    UT_EQ_INT(banned_name(rules, "a.scr", detail), 0, "invalid extension dropped");
    config_init();
    vbuf_free(err);
    vbuf_free(detail);
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
        /* every name file(1) has given an executable, under a harmless name */
        {"statement.pdf", "application/vnd.microsoft.portable-executable", 1,
         "banned type application/vnd.microsoft.portable-executable in \"statement.pdf\""},
        {NULL, "Application/Vnd.Microsoft.Portable-Executable; charset=binary", 1,
         "banned type application/vnd.microsoft.portable-executable"},
        {"notes.txt", "application/x-msdownload", 1,
         "banned type application/x-msdownload in \"notes.txt\""},
        {"notes.txt", "application/x-ms-ne-executable", 1,
         "banned type application/x-ms-ne-executable in \"notes.txt\""},
        {"notes.txt", "application/x-mach-binary", 1,
         "banned type application/x-mach-binary in \"notes.txt\""},
        {"notes.txt", "application/x-msi", 1, "banned type application/x-msi in \"notes.txt\""},
        {"notes.txt", "application/vnd.ms-msi", 1,
         "banned type application/vnd.ms-msi in \"notes.txt\""},
        {"notes.txt", "application/x-ms-shortcut", 1,
         "banned type application/x-ms-shortcut in \"notes.txt\""},
        {"notes.txt", "application/x-virtualbox-vhdx", 1,
         "banned type application/x-virtualbox-vhdx in \"notes.txt\""},
        {"notes.txt", "application/x-iso9660-image", 1,
         "banned type application/x-iso9660-image in \"notes.txt\""},
        /* near neighbours of banned types that are ordinary documents */
        {"a.doc", "application/msword", 0, NULL},
        {"a.xls", "application/vnd.ms-excel", 0, NULL},
        {"a.doc", "application/x-ole-storage", 0, NULL},
        {"a.doc", "application/CDFV2", 0, NULL},
        {"a.doc", "application/vnd.ms-office", 0, NULL},
        {"a.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", 0, NULL},
        {"a.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 0, NULL},
        {"a.zip", "application/zip", 0, NULL},
        {"a.png", "image/png", 0, NULL},
        {"a.jpg", "image/jpeg", 0, NULL},
        {"a.mdb", "application/x-msaccess", 0, NULL},
        {"a.vdi", "application/x-virtualbox-vdi", 0, NULL},
        {"a.html", "text/html", 0, NULL},
        {"a.js", "application/javascript", 1, "banned name \"a.js\" (extension .js)"},
        {"notes.txt", "application/javascript", 0, NULL},
        {"a.class", "application/x-java-applet", 0, NULL},
        {"a.url", "application/x-mswinurl", 0, NULL},
        {"a.o", "application/x-object", 0, NULL},
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
        {"statement.pdf", "application/vnd.microsoft.portable-executable", 1,
         "banned type application/vnd.microsoft.portable-executable in \"statement.pdf\""},
        {"a.so.txt", "application/x-sharedlib", 1, "banned type application/x-sharedlib in \"a.so.txt\""},
        {"a.msi.txt", "application/x-msi", 0, NULL},
    };
    static const CASE patterns[] = {
        {"a.png", "image/png", 1, "banned type image/png in \"a.png\""},
        {"a.jpg", "image/jpeg", 1, "banned type image/jpeg in \"a.jpg\""},
        {"a.gif", "image/gif", 0, NULL},
        {"a.zip", "application/x-zip-compressed", 1,
         "banned type application/x-zip-compressed in \"a.zip\""},
        {"a.zip", "application/zip", 0, NULL},
        {"a.txt", "text/x-ms-regedit", 1, "banned type text/x-ms-regedit in \"a.txt\""},
        {"a.txt", "text/plain", 0, NULL},
        {"a.pdf", "application/vnd.microsoft.portable-executable", 1,
         "banned type application/vnd.microsoft.portable-executable in \"a.pdf\""},
    };
    static const CASE off[] = {
        {"invoice.pdf.exe", "application/x-dosexec", 0, NULL},
        {"report.txt", "application/x-executable", 0, NULL},
        {"report.txt", "application/vnd.microsoft.portable-executable", 0, NULL},
    };

    UT_BEGIN("test_scan_banned");
    msg_init("test_scan_banned", MSG_STDERR);
    config_init();

    rules_reload();
    run("defaults", defaults, sizeof(defaults) / sizeof(defaults[0]));

    set("banned_extensions=.EXE docm,bat");
    set("banned_double_extensions=no");
    set("banned_names=payload-*, *.txt.lnk");
    set("banned_types=application/zip");
    rules_reload();
    run("custom", custom, sizeof(custom) / sizeof(custom[0]));

    set("banned_types=IMAGE/P?G, image/jpeg, application/x-zip*, text/x-ms-*");
    rules_reload();
    run("patterns", patterns, sizeof(patterns) / sizeof(patterns[0]));
    UT_EQ_STR(banned_type_rule(rules, "image/png"), "image/p?g", "rule of image/png");
    UT_EQ_STR(banned_type_rule(rules, "application/x-pie-executable"), "application/x-*executable*",
              "rule of a PIE executable");
    UT_CHECK(banned_type_rule(rules, "image/gif") == NULL, "no rule for image/gif");

    set("banned_extensions=");
    set("banned_names=");
    set("banned_types=");
    rules_reload();
    run("off", off, sizeof(off) / sizeof(off[0]));
    UT_CHECK(banned_type_rule(rules, "application/x-dosexec") == NULL, "no rule when off");

    config_init();
    rules_reload();
    check_long_names();
    check_setting_errors();

    banned_close(rules);
    rules = NULL;
    return ut_done();
}
