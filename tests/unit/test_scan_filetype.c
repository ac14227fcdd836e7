/*
 * test_scan_filetype - true types of real samples, and the default
 * banned rules against them
 *
 * tests/data/samples/mksamples writes the samples (one per format, made
 * from the format's published layout) into a private directory. Each goes
 * through libmagic alone, through filetype_buffer() (a part decoded to
 * memory) and through filetype_fd() (a part on disk, of which libmagic
 * sees the first megabyte), then through banned_type(rules, ) under a harmless
 * name and without one, and through banned_name(rules, ) under its own name,
 * all with the default settings. The table is what file 5.44 (Debian 12)
 * says; with another libmagic the types are only reported, the banned or
 * not banned outcome is still checked.
 */
#include <dirent.h>
#include <fcntl.h>
#include <magic.h>
#include <sys/stat.h>

#include "scan/banned.h"
#include "scan/filetype.h"
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

#define REF_MAGIC_VERSION 544   /* the libmagic the table was written on */

#define PE      "application/vnd.microsoft.portable-executable"
#define OLE     "application/x-ole-storage"
#define OCTETS  "application/octet-stream"

typedef struct SAMPLE {
    const char *file;           /* name in the samples directory */
    const char *magic;          /* libmagic alone, on the first megabyte */
    const char *type;           /* filetype: libmagic and our checks */
    const char *rule;           /* the banned_types rule, NULL: not banned */
    int         name_banned;    /* banned_name(rules, file) with the defaults */
} SAMPLE;

static const SAMPLE samples[] = {
    /* Windows and MS-DOS programs */
    {"pe32-console.exe", PE, PE, PE, 1},
    {"pe32-gui.scr", PE, PE, PE, 1},
    {"pe32-library.dll", PE, PE, PE, 1},
    {"pe64-console.exe", PE, PE, PE, 1},
    {"pe64-library.dll", PE, PE, PE, 1},
    {"pe32-console.com", PE, PE, PE, 1},
    {"dos-mz.exe", "application/x-dosexec", "application/x-dosexec", "application/x-dosexec", 1},
    {"dos-program.com", "application/x-dosexec", "application/x-dosexec", "application/x-dosexec", 1},
    /* ELF: file(1) calls a PIE executable x-pie-executable only when it
     * can see the file's execute permission, never in a buffer */
    {"elf64-exec", "application/x-executable", "application/x-executable",
     "application/x-*executable*", 0},
    {"elf64-pie", "application/x-sharedlib", "application/x-sharedlib", "application/x-sharedlib", 0},
    {"elf64-shared.so", "application/x-sharedlib", "application/x-sharedlib",
     "application/x-sharedlib", 0},
    /* Mach-O, thin and universal; a Java class has the same first bytes */
    {"macho-x86_64", "application/x-mach-binary", "application/x-mach-binary",
     "application/x-mach-binary", 0},
    {"macho-arm64", "application/x-mach-binary", "application/x-mach-binary",
     "application/x-mach-binary", 0},
    {"macho-universal", "application/x-mach-binary", "application/x-mach-binary",
     "application/x-mach-binary", 0},
    {"java-class.class", "application/x-java-applet", "application/x-java-applet", NULL, 0},
    /* Scripts: libmagic knows shell scripts by their #! line and batch
     * files only when they start with "@"; the rest is text to it */
    {"script-sh", "text/x-shellscript", "text/x-shellscript", "text/x-shellscript", 0},
    {"script-bash-env", "text/x-shellscript", "text/x-shellscript", "text/x-shellscript", 0},
    {"batch-echo-off.bat", "text/x-msdos-batch", "text/x-msdos-batch", "text/x-msdos-batch", 1},
    {"batch-plain.cmd", "text/plain", "text/plain", NULL, 1},
    {"vbscript.vbs", "text/plain", "text/plain", NULL, 1},
    {"jscript.js", "text/plain", "text/plain", NULL, 1},
    {"powershell.ps1", "text/plain", "text/plain", NULL, 1},
    {"hta-application.hta", "text/html", "text/html", NULL, 1},
    {"registry-v5.reg", "text/x-ms-regedit", "text/x-ms-regedit", "text/x-ms-regedit", 1},
    {"registry-regedit4.reg", "text/x-ms-regedit", "text/x-ms-regedit", "text/x-ms-regedit", 1},
    {"shell-command.scf", "text/x-ms-scf", "text/x-ms-scf", "text/x-ms-scf", 1},
    {"internet-shortcut.url", "application/x-mswinurl", "application/x-mswinurl", NULL, 0},
    {"compiled-help.chm", "application/vnd.ms-htmlhelp", "application/vnd.ms-htmlhelp",
     "application/vnd.ms-htmlhelp", 1},
    {"shortcut.lnk", "application/x-ms-shortcut", "application/x-ms-shortcut",
     "application/x-ms-shortcut", 1},
    /* Windows Installer and legacy Office: both compound files */
    {"installer.msi", "application/x-msi", "application/x-msi", "application/x-msi", 1},
    {"installer-appname.msi", "application/vnd.ms-msi", "application/vnd.ms-msi",
     "application/vnd.ms-msi", 1},
    {"patch.msp", "application/vnd.ms-msi", "application/x-msi", "application/x-msi", 1},
    {"installer-nosummary.msi", OLE, "application/x-msi", "application/x-msi", 1},
    {"installer-big.msi", OLE, "application/x-msi", "application/x-msi", 1},
    {"legacy-word.doc", "application/msword", "application/msword", NULL, 0},
    {"legacy-word-big.doc", OLE, OLE, NULL, 0},
    {"legacy-excel.xls", "application/vnd.ms-excel", "application/vnd.ms-excel", NULL, 0},
    /* Disk images */
    {"disk-iso9660.iso", "application/x-iso9660-image", "application/x-iso9660-image",
     "application/x-iso9660-image", 1},
    {"disk-fat12.img", "application/x-ima", "application/x-ima", "application/x-ima", 1},
    {"disk-mbr.img", OCTETS, OCTETS, NULL, 1},
    {"disk-dynamic.vhd", "application/x-virtualbox-vhd", "application/x-virtualbox-vhd",
     "application/x-virtualbox-vhd*", 1},
    {"disk-fixed.vhd", OCTETS, "application/x-virtualbox-vhd", "application/x-virtualbox-vhd*", 1},
    {"disk-vhdx.vhdx", OCTETS, "application/x-virtualbox-vhdx", "application/x-virtualbox-vhd*", 1},
    {"disk-udif.dmg", OCTETS, "application/x-apple-diskimage", "application/x-apple-diskimage", 1},
    {"disk-udif-big.dmg", OCTETS, "application/x-apple-diskimage",
     "application/x-apple-diskimage", 1},
    /* Archives */
    {"cabinet.cab", "application/vnd.ms-cab-compressed", "application/vnd.ms-cab-compressed",
     "application/vnd.ms-cab-compressed", 1},
    {"java-archive.jar", "application/java-archive", "application/java-archive",
     "application/java-archive", 1},
    {"plain-archive.zip", "application/zip", "application/zip", NULL, 0},
    {"office-word.docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document", NULL, 0},
    {"office-excel.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", NULL, 0},
    /* Ordinary attachments */
    {"document.pdf", "application/pdf", "application/pdf", NULL, 0},
    {"image.png", "image/png", "image/png", NULL, 0},
    {"image.jpg", "image/jpeg", "image/jpeg", NULL, 0},
    {"mail-text.txt", "text/plain", "text/plain", NULL, 0},
    {"mail-text-shebang.txt", "text/plain", "text/plain", NULL, 0},
    {"page.html", "text/html", "text/html", NULL, 0},
};

#define NSAMPLES (sizeof(samples) / sizeof(samples[0]))

static char sample_dir[256];

/* make_samples - run mksamples into a private directory */
static int make_samples(void)
{
    const char *top = getenv("TOP");
    const char *tmp = getenv("TMPDIR");
    char    script[512];
    pid_t   pid;
    int     status;

    snprintf(script, sizeof(script), "%s/tests/data/samples/mksamples", top ? top : ".");
    snprintf(sample_dir, sizeof(sample_dir), "%s/test_filetype.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(sample_dir) == NULL) {
        perror("mkdtemp");
        return -1;
    }
    if ((pid = fork()) == 0) {
        execlp("python3", "python3", script, sample_dir, (char *)NULL);
        perror("python3");
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s %s did not work (python3 is needed)\n", script, sample_dir);
        return -1;
    }
    return 0;
}

/* remove_samples - the directory and everything in it */
static void remove_samples(void)
{
    char    path[512];
    DIR    *dir;
    struct dirent *de;

    if ((dir = opendir(sample_dir)) == NULL)
        return;
    while ((de = readdir(dir)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", sample_dir, de->d_name);
        unlink(path);
    }
    closedir(dir);
    rmdir(sample_dir);
}

/* read_file - a whole file into memory; NULL on error */
static unsigned char *read_file(const char *path, size_t *len)
{
    struct stat st;
    unsigned char *buf;
    int     fd;

    if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) < 0) {
        perror(path);
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL || ut_read_exact(fd, buf, (size_t)st.st_size) < 0) {
        perror(path);
        free(buf);
        close(fd);
        return NULL;
    }
    close(fd);
    *len = (size_t)st.st_size;
    return buf;
}

/* check_type - a type against the table: exact on the reference
 * libmagic, reported elsewhere */
static void check_type(const char *got, const char *want, const char *what)
{
    if (magic_version() == REF_MAGIC_VERSION)
        UT_EQ_STR(got, want, what);
    else if (strcmp(got, want) != 0)
        printf("note: %s: %s here, %s with file 5.44\n", what, got, want);
}

/* check_sample - one sample through every path */
static void check_sample(FILETYPE *ft, magic_t raw, const SAMPLE *s)
{
    VBUF   *detail = vbuf_alloc(1024);
    char    path[512];
    char    what[256];
    char    want[512];
    char   *type;
    const char *rule;
    unsigned char *data;
    size_t  len;
    off_t   pos;
    int     fd;

    snprintf(path, sizeof(path), "%s/%s", sample_dir, s->file);
    if ((data = read_file(path, &len)) == NULL) {
        UT_CHECK(0, "%s: cannot read the sample", s->file);
        vbuf_free(detail);
        return;
    }

    /* libmagic alone, as filetype calls it */
    snprintf(what, sizeof(what), "%s: libmagic", s->file);
    check_type(magic_buffer(raw, data, len > FILETYPE_BYTES_MAX ? FILETYPE_BYTES_MAX : len),
               s->magic, what);

    /* a part in memory, a part on disk (offset left alone) */
    snprintf(what, sizeof(what), "%s: filetype_buffer", s->file);
    type = strdup(filetype_buffer(ft, data, len));
    check_type(type, s->type, what);
    snprintf(what, sizeof(what), "%s: filetype_fd", s->file);
    fd = open(path, O_RDONLY);
    lseek(fd, 7, SEEK_SET);
    check_type(filetype_fd(ft, fd), s->type, what);
    pos = lseek(fd, 0, SEEK_CUR);
    UT_EQ_INT(pos, 7, "filetype_fd leaves the offset alone");
    close(fd);

    /* the default type rules, under a harmless name and without one */
    rule = banned_type_rule(rules, type);
    snprintf(what, sizeof(what), "%s (%s): rule", s->file, type);
    if (s->rule == NULL)
        UT_CHECK(rule == NULL, "%s: banned by %s", what, rule);
    else if (magic_version() == REF_MAGIC_VERSION)
        UT_EQ_STR(rule, s->rule, what);
    snprintf(what, sizeof(what), "%s (%s) as notes.txt", s->file, type);
    vbuf_reset(detail);
    UT_EQ_INT(banned_check(rules, "notes.txt", type, detail), s->rule != NULL, what);
    if (s->rule) {
        snprintf(want, sizeof(want), "banned type %s in \"notes.txt\"", type);
        UT_EQ_STR(vbuf_str(detail), want, what);
    }
    snprintf(what, sizeof(what), "%s (%s) without a name", s->file, type);
    vbuf_reset(detail);
    UT_EQ_INT(banned_check(rules, NULL, type, detail), s->rule != NULL, what);

    /* the name rules under the sample's own name */
    snprintf(what, sizeof(what), "%s: banned_name", s->file);
    vbuf_reset(detail);
    UT_EQ_INT(banned_name(rules, s->file, detail), s->name_banned, what);

    printf("%-24s %-46s %-46s %s%s\n", s->file, s->magic, type,
           rule ? rule : "-", s->name_banned ? " (name too)" : "");
    free(type);
    free(data);
    vbuf_free(detail);
}

/* check_guards - the trailer checks never turn a recognised format into
 * another; a sample the system ships, when it is there */
static void check_guards(FILETYPE *ft)
{
    unsigned char *pe, *dmg, *both;
    size_t  pelen, dmglen;
    char    path[512];

    snprintf(path, sizeof(path), "%s/pe32-console.exe", sample_dir);
    pe = read_file(path, &pelen);
    snprintf(path, sizeof(path), "%s/disk-udif.dmg", sample_dir);
    dmg = read_file(path, &dmglen);
    if (pe && dmg && (both = malloc(pelen + 512)) != NULL) {
        memcpy(both, pe, pelen);
        memcpy(both + pelen, dmg + dmglen - 512, 512);
        UT_EQ_STR(filetype_buffer(ft, both, pelen + 512), PE, "PE with a UDIF trailer");
        free(both);
    } else {
        UT_CHECK(0, "guard samples missing");
    }
    free(pe);
    free(dmg);

    if ((pe = read_file("/usr/share/clamav-testfiles/clam.exe", &pelen)) != NULL) {
        VBUF   *detail = vbuf_alloc(256);

        UT_EQ_INT(banned_check(rules, "statement.pdf", filetype_buffer(ft, pe, pelen), detail), 1,
                  "clam.exe as statement.pdf");
        vbuf_free(detail);
        free(pe);
    } else {
        printf("note: clamav-testfiles not installed, clam.exe not tried\n");
    }
}

int     main(void)
{
    VBUF   *err = vbuf_alloc(1024);
    FILETYPE *ft;
    magic_t raw;
    size_t  bytes_max = FILETYPE_BYTES_MAX;
    size_t  i;

    UT_BEGIN("test_scan_filetype");
    msg_init("test_scan_filetype", MSG_STDERR);
    config_init();
    rules_reload();

    if ((ft = filetype_open(err)) == NULL) {
        UT_CHECK(0, "filetype_open: %s", vbuf_str(err));
        return ut_done();
    }
    raw = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR | MAGIC_NO_CHECK_COMPRESS);
    UT_CHECK(raw != NULL && magic_load(raw, NULL) == 0, "magic_load");
    magic_setparam(raw, MAGIC_PARAM_BYTES_MAX, &bytes_max);
    printf("libmagic %d\n", magic_version());

    if (make_samples() < 0) {
        UT_CHECK(0, "no samples");
    } else {
        printf("%-24s %-46s %-46s %s\n", "sample", "libmagic", "filetype", "banned by");
        for (i = 0; i < NSAMPLES; i++)
            check_sample(ft, raw, &samples[i]);
        check_guards(ft);
    }
    remove_samples();
    magic_close(raw);
    filetype_close(ft);
    banned_close(rules);
    rules = NULL;
    vbuf_free(err);
    return ut_done();
}
