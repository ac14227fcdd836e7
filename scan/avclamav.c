/*
 * avclamav - the "clamav" scanner backend: libclamav in-process
 *
 * One engine per backend. Signatures come from clamav_database_directory
 * when it is set (an error if that fails, never a fallback), else from
 * /var/lib/clamav when it holds a .cvd/.cld/.cud database, else nowhere:
 * no usable database is an error, and the scanner does not start (fail
 * closed). The two test signatures bundled below are loaded only when
 * the setting says "bundled"; they are written to a private directory
 * under spool_dir only for as long as cl_load() needs them, and the
 * version text (X-Virus-Scanned) then says TEST SIGNATURES ONLY.
 *
 * Signature age: the newest build time in the headers of the .cvd/.cld
 * files of the loaded directory (cl_cvdhead(): what freshclam fetched,
 * not when), or, in a directory without any, the newest modification
 * time of its files. Older than signature_max_age is a warning at every
 * load. A descriptor is scanned from offset 0 and its offset put back
 * where it was (libclamav moves it).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <time.h>
#include <unistd.h>

#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/spool.h"
#include "lib/vbuf.h"
#include "scan/avbackend.h"
#include "scan/clamlib.h"

#define AVCLAMAV_SYSTEM_DBDIR  "/var/lib/clamav"
#define AVCLAMAV_BUNDLED       "bundled"
#define AVCLAMAV_BUNDLED_TEXT  "TEST SIGNATURES ONLY"
#define AVCLAMAV_FIX    "run freshclam, or set clamav_database_directory; " \
                        "clamav_database_directory = bundled loads only the test signatures"

/*
 * The bundled test signatures: the MD5 and size of the ClamAV test file
 * /usr/share/clamav-testfiles/clam.exe (which the 44 files of package
 * clamav-testfiles contain, packed or archived) and the 68-byte EICAR test
 * string at offset 0. They detect test files and nothing else.
 */
static const char avclamav_test_hdb[] =
    "aa15bcf478d165efd2065190eb473bcb:544:ClamAV-Test-File\n";
static const char avclamav_test_ndb[] =
    "Eicar-Test-Signature:0:0:"
    "58354f2150254041505b345c505a58353428505e2937434329377d24"
    "45494341522d5354414e444152442d414e544956495255532d544553"
    "542d46494c452124482b482a\n";

typedef struct AVCLAMAV {
    char   *version;                    /* avclamav_version() text */
    struct cl_engine *engine;
    unsigned tmp_gen;                   /* the directory it uses (avclamav_tmp.gen) */
    struct cl_scan_options options;
    unsigned int sigs;                  /* as clamlib.cl_load() counted them */
    int     bundled;                    /* the bundled test signatures */
    long long built;                    /* newest database, epoch seconds; 0 unknown */
    int     watching;                   /* dbstat holds clamlib.cl_statinidir() state */
    struct cl_stat dbstat;              /* the loaded directory, for avclamav_changed() */
} AVCLAMAV;

 /*
  * libclamav's temporary files. It makes a directory for every scan under
  * CL_ENGINE_TMPDIR and writes what it decodes there; a process killed
  * mid-scan (pipe_deadline, pipe(8)'s time limit) leaves it behind. So
  * each process gives it a private directory of its own, locked for as
  * long as the process lives (spool_private_dir), and removes, on its way
  * in, those whose process is gone (spool_sweep). A daemon worker shares
  * the master's engine: at its first scan it makes its own directory and
  * points its copy of the engine there.
  *
  * Where (clamav_temp_dir): a directory of memory when one is at hand,
  * since libclamav makes and removes a directory per scan and per
  * container, a journaled metadata operation on a disk file system. By
  * default /dev/shm when it is a tmpfs, sticky and writable by us; else
  * spool_dir as before. In a shared sticky directory (/dev/shm, or one the
  * setting names) only the new directory is ours: mkdir 0700 with an
  * unpredictable name, never an existing one, so neither a symlink nor
  * another user's directory is ever used. A directory the setting names
  * that is not shared must be a private one of ours, as spool_dir is
  * (spool_dir_check: created 0700 when missing, not a symlink, ours).
  */
#define AVCLAMAV_TMP_PREFIX     "clamtmp-"
#define AVCLAMAV_SHM_PREFIX     "postsift-clamtmp-"
#define AVCLAMAV_SHM            "/dev/shm"

static struct {
    pid_t   pid;                        /* the process that made it, or 0 */
    int     fd;                         /* holds the lock */
    char   *temp_dir;                   /* clamav_temp_dir it was made for */
    char   *spool_dir;                  /* and spool_dir */
    VBUF   *path;
    unsigned gen;                       /* counts the directories made */
    int     users;                      /* AVCLAMAVs pointed at this one */
} avclamav_tmp = {0, -1, NULL, NULL, NULL, 0, 0};

/* avclamav_tmp_atexit - remove the directory when its process exits */
static void avclamav_tmp_atexit(void)
{
    avclamav_tmpdir_remove();
}

/* avclamav_tmpdir_remove - see avscan_tmpdir_remove() in avscan.h */
void    avclamav_tmpdir_remove(void)
{
    if (avclamav_tmp.pid != getpid() || avclamav_tmp.fd < 0)
        return;
    spool_private_dir_remove(avclamav_tmp.fd, vbuf_str(avclamav_tmp.path));
    avclamav_tmp.fd = -1;
    avclamav_tmp.pid = 0;
}

/* avclamav_tmpdir - see avscan_tmpdir() in avscan.h */
const char *avclamav_tmpdir(void)
{
    return avclamav_tmp.pid == getpid() ? vbuf_str(avclamav_tmp.path) : NULL;
}

/* avclamav_shared_dir - 1 when dir is a shared sticky directory (mode
 * 1777 style, owned by root or us, not a symlink) that we may write,
 * and with tmpfs_only a tmpfs; 0 otherwise */
static int avclamav_shared_dir(const char *dir, int tmpfs_only)
{
    struct stat st;
    struct statfs sfs;

    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || !(st.st_mode & S_ISVTX)
        || (st.st_mode & S_IWOTH) == 0 || (st.st_uid != 0 && st.st_uid != geteuid())
        || access(dir, W_OK | X_OK) < 0)
        return 0;
    if (tmpfs_only && (statfs(dir, &sfs) < 0 || sfs.f_type != TMPFS_MAGIC))
        return 0;
    return 1;
}

/* avclamav_tmp_base - the directory to make ours in: clamav_temp_dir,
 * else /dev/shm when usable, else spool_dir; *prefix is the name prefix
 * to use there; NULL with why in err */
static const char *avclamav_tmp_base(const char **prefix, VBUF *err)
{
    const char *set = var_clamav_temp_dir ? var_clamav_temp_dir : "";

    *prefix = AVCLAMAV_SHM_PREFIX;
    if (*set != 0) {
        if (*set != '/') {
            vbuf_sprintf(err, "clamav_temp_dir = %s: not an absolute path", set);
            return NULL;
        }
        if (avclamav_shared_dir(set, 0))
            return set;
    } else if (avclamav_shared_dir(AVCLAMAV_SHM, 1)) {
        return AVCLAMAV_SHM;
    } else {
        set = var_spool_dir;
    }
    *prefix = AVCLAMAV_TMP_PREFIX;
    if (spool_dir_check(set, err) < 0) {
        if (set != var_spool_dir)
            vbuf_sprintf_append(err, " (clamav_temp_dir)");
        return NULL;
    }
    return set;
}

/* avclamav_tmp_make - this process's directory, new; -1 with why in err */
static int avclamav_tmp_make(const char *temp_dir, VBUF *err)
{
    static int registered;
    const char *base, *prefix;
    int     fd, n;

    if (avclamav_tmp.pid == getpid())
        avclamav_tmpdir_remove();       /* the settings changed (a reload) */
    else if (avclamav_tmp.fd >= 0)
        (void)close(avclamav_tmp.fd);   /* the parent's: its lock stays with it */
    avclamav_tmp.fd = -1;
    avclamav_tmp.pid = 0;
    if (avclamav_tmp.path == NULL)
        avclamav_tmp.path = vbuf_alloc(PATH_MAX);
    if ((base = avclamav_tmp_base(&prefix, err)) == NULL
        || (fd = spool_private_dir(base, prefix, avclamav_tmp.path, err)) < 0)
        return -1;
    avclamav_tmp.fd = fd;
    avclamav_tmp.pid = getpid();
    avclamav_tmp.gen++;                 /* every engine must be pointed here */
    avclamav_tmp.users = 0;
    if (avclamav_tmp.temp_dir)
        myfree(avclamav_tmp.temp_dir);
    if (avclamav_tmp.spool_dir)
        myfree(avclamav_tmp.spool_dir);
    avclamav_tmp.temp_dir = mystrdup(temp_dir);
    avclamav_tmp.spool_dir = mystrdup(var_spool_dir);
    if (!registered) {
        atexit(avclamav_tmp_atexit);
        registered = 1;
    }
    if ((n = spool_sweep(base, prefix)) > 0)
        msg_info("removed %d scanner director%s left in %s by killed processes",
                 n, n == 1 ? "y" : "ies", base);
    return 0;
}

/* avclamav_tmp_ready - this process has its directory, and av's engine
 * uses it; -1 with why in err */
static int avclamav_tmp_ready(AVCLAMAV *av, VBUF *err)
{
    const char *temp_dir = var_clamav_temp_dir ? var_clamav_temp_dir : "";
    cl_error_t ret;

    if (var_spool_dir == NULL || *var_spool_dir == 0)
        return 0;                       /* no settings (some unit tests) */
    if ((avclamav_tmp.pid != getpid() || strcmp(avclamav_tmp.temp_dir, temp_dir) != 0
         || strcmp(avclamav_tmp.spool_dir, var_spool_dir) != 0)
        && avclamav_tmp_make(temp_dir, err) < 0)
        return -1;
    if (av->tmp_gen != avclamav_tmp.gen) {
        if ((ret = clamlib.cl_engine_set_str(av->engine, CL_ENGINE_TMPDIR,
                                             vbuf_str(avclamav_tmp.path))) != CL_SUCCESS) {
            vbuf_sprintf(err, "libclamav: cannot set the temporary directory %s: %s",
                         vbuf_str(avclamav_tmp.path), clamlib.cl_strerror(ret));
            return -1;
        }
        av->tmp_gen = avclamav_tmp.gen;
        avclamav_tmp.users++;
    }
    return 0;
}

 /*
  * libclamav, once per process.
  */

/* avclamav_clmsg - route libclamav's messages into our log */
/* Set by avclamav_clmsg when libclamav reports, during a scan, that it
 * could not make a temporary file or directory: libclamav 1.x then
 * returns CL_CLEAN for content it never looked at. One scan at a time
 * per process, so a static is enough. */
static char avclamav_temp_trouble[256];

static void avclamav_clmsg(enum cl_msg severity, const char *fullmsg,
                         const char *text, void *context)
{
    char    raw[512];
    char    buf[512];
    size_t  len;

    (void)fullmsg;
    (void)context;
    if (text == NULL)
        return;
    len = strlen(text);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    snprintf(raw, sizeof(raw), "%.*s", (int)(len < sizeof(raw) ? len : sizeof(raw) - 1), text);
    msg_printable(buf, sizeof(buf), raw);
    switch (severity) {
    case CL_MSG_ERROR:
        if (strcasestr(buf, "temp") != NULL && avclamav_temp_trouble[0] == 0)
            snprintf(avclamav_temp_trouble, sizeof(avclamav_temp_trouble), "%.*s",
                     (int)sizeof(avclamav_temp_trouble) - 1, buf);
        /* FALLTHROUGH */
    case CL_MSG_WARN:
        msg_warn("libclamav: %s", buf);
        break;
    case CL_MSG_INFO_VERBOSE:
    default:
        if (msg_verbose)
            msg_debug("libclamav: %s", buf);
        break;
    }
}

/* avclamav_init - open libclamav (clamlib_load) and cl_init() it the
 * first time; -1 with why in err */
static int avclamav_init(VBUF *err)
{
    static int done;
    static cl_error_t status;

    if (clamlib_load(err) < 0)
        return -1;
    if (!done) {
        clamlib.cl_set_clcb_msg(avclamav_clmsg);
        status = clamlib.cl_init(CL_INIT_DEFAULT);
        done = 1;
    }
    if (status != CL_SUCCESS) {
        vbuf_sprintf(err, "cannot initialize libclamav: %s", clamlib.cl_strerror(status));
        return -1;
    }
    return 0;
}

/* avclamav_found - libclamav's detection callback: remember the first name.
   libclamav 1.4 returns CL_VIRUS with no name for a top-level file over
   max_filesize unless this callback is set; it is our second source. */
static void avclamav_found(int fd, const char *name, void *context)
{
    VBUF   *found = context;

    (void)fd;
    if (found != NULL && name != NULL && vbuf_len(found) == 0)
        vbuf_strcpy(found, name);
}

/* avclamav_set_limit - one engine limit, clamped to what the field holds */
static int avclamav_set_limit(struct cl_engine *engine, enum cl_engine_field field,
                            const char *what, long long value, long long max,
                            VBUF *err)
{
    cl_error_t ret;

    if (value > max)
        value = max;
    if ((ret = clamlib.cl_engine_set_num(engine, field, value)) != CL_SUCCESS) {
        vbuf_sprintf(err, "cannot set libclamav limit %s to %lld: %s",
                     what, value, clamlib.cl_strerror(ret));
        return -1;
    }
    return 0;
}

/* avclamav_is_cvd - a .cvd or .cld name (a signed database with a header) */
static int avclamav_is_cvd(const char *name)
{
    size_t  len = strlen(name);

    return len > 4 && (strcmp(name + len - 4, ".cvd") == 0
                       || strcmp(name + len - 4, ".cld") == 0);
}

/* avclamav_has_database - 1 when dir holds a .cvd, .cld or .cud database */
static int avclamav_has_database(const char *dir)
{
    DIR    *dp;
    struct dirent *de;
    int     found = 0;

    if ((dp = opendir(dir)) == NULL)
        return 0;
    while (!found && (de = readdir(dp)) != NULL) {
        size_t  len = strlen(de->d_name);

        if (avclamav_is_cvd(de->d_name)
            || (len > 4 && strcmp(de->d_name + len - 4, ".cud") == 0))
            found = 1;
    }
    closedir(dp);
    return found;
}

/* avclamav_no_files - 1 when the directory holds nothing but dot files
 * (libclamav would only say "Can't open file or directory"); closes dp */
static int avclamav_no_files(DIR *dp)
{
    struct dirent *de;
    int     none = 1;

    while (none && (de = readdir(dp)) != NULL)
        if (de->d_name[0] != '.')
            none = 0;
    closedir(dp);
    return none;
}

/* avclamav_load_dir - cl_load() a directory; -1 with why (and the fix)
 * in err */
static int avclamav_load_dir(AVCLAMAV *av, const char *dir, VBUF *err)
{
    struct stat st;
    cl_error_t ret;
    DIR    *dp;

    if (stat(dir, &st) < 0) {
        vbuf_sprintf(err, "cannot load signatures from %s: %s", dir, strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
        vbuf_sprintf(err, "cannot load signatures from %s: not a directory", dir);
    } else if ((dp = opendir(dir)) == NULL) {
        vbuf_sprintf(err, "cannot load signatures from %s: %s", dir, strerror(errno));
    } else if (avclamav_no_files(dp)) {
        vbuf_sprintf(err, "cannot load signatures from %s: the directory is empty", dir);
    } else {
        av->sigs = 0;
        ret = clamlib.cl_load(dir, av->engine, &av->sigs, CL_DB_STDOPT);
        if (ret != CL_SUCCESS)
            vbuf_sprintf(err, "cannot load signatures from %s: %s", dir, clamlib.cl_strerror(ret));
        else if (av->sigs == 0)
            vbuf_sprintf(err, "cannot load signatures from %s: no signatures found", dir);
        else
            return 0;
    }
    vbuf_strcat(err, "; " AVCLAMAV_FIX);
    return -1;
}

/* avclamav_newest - when the newest database of dir was built (epoch
 * seconds): the newest build time (cl_cvdhead) of its .cvd/.cld files,
 * or without any, the newest modification time of its files; 0 unknown */
static long long avclamav_newest(const char *dir)
{
    DIR    *dp;
    struct dirent *de;
    struct stat st;
    struct cl_cvd *cvd;
    VBUF   *path;
    long long cvd_newest = 0, file_newest = 0;

    if (dir == NULL || (dp = opendir(dir)) == NULL)
        return 0;
    path = vbuf_alloc(PATH_MAX);
    while ((de = readdir(dp)) != NULL) {
        if (de->d_name[0] == '.' || vbuf_sprintf(path, "%s/%s", dir, de->d_name) < 0)
            continue;
        if (stat(vbuf_str(path), &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (st.st_mtime > file_newest)
            file_newest = st.st_mtime;
        if (avclamav_is_cvd(de->d_name) && (cvd = clamlib.cl_cvdhead(vbuf_str(path))) != NULL) {
            if (cvd->stime > cvd_newest)
                cvd_newest = cvd->stime;
            clamlib.cl_cvdfree(cvd);
        }
    }
    closedir(dp);
    vbuf_free(path);
    return cvd_newest ? cvd_newest : file_newest;
}

/* avclamav_check_age - warn when the loaded database is older than
 * signature_max_age (0: never) */
static void avclamav_check_age(const AVCLAMAV *av, const char *dir)
{
    long long age;

    if (av->built <= 0 || var_signature_max_age <= 0)
        return;
    age = (long long)time(NULL) - av->built;
    if (age > var_signature_max_age)
        msg_warn("the newest signatures in %s are %lld days %lld hours old "
                 "(signature_max_age = %lds): run freshclam, and check that it "
                 "runs regularly (its log, its timer or cron job)",
                 dir, age / 86400, (age % 86400) / 3600, var_signature_max_age);
}

/* avclamav_write_file - create path 0600 with text; -1 with why in err */
static int avclamav_write_file(const char *path, const char *text, VBUF *err)
{
    size_t  len = strlen(text);
    size_t  done = 0;
    ssize_t n;
    int     fd;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        vbuf_sprintf(err, "create %s: %s", path, strerror(errno));
        return -1;
    }
    while (done < len) {
        if ((n = write(fd, text + done, len - done)) < 0) {
            if (errno == EINTR)
                continue;
            vbuf_sprintf(err, "write %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    if (close(fd) < 0) {
        vbuf_sprintf(err, "close %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* avclamav_load_bundled - load the test signatures via a private directory */
static int avclamav_load_bundled(AVCLAMAV *av, VBUF *err)
{
    const char *base = var_spool_dir;
    VBUF   *dir = vbuf_alloc(PATH_MAX);
    VBUF   *hdb = vbuf_alloc(PATH_MAX);
    VBUF   *ndb = vbuf_alloc(PATH_MAX);
    int     ret = -1;

    /* in this process's own directory, so that a kill meanwhile leaves
     * nothing that the next process does not sweep; without settings
     * (config_init not called) a private mkdtemp in /tmp */
    if (avclamav_tmpdir() != NULL)
        base = avclamav_tmpdir();
    else if (base == NULL || *base == 0)
        base = "/tmp";
    else if (spool_dir_check(base, err) < 0)
        goto out;
    if (vbuf_sprintf(dir, "%s/avscan-XXXXXX", base) < 0
        || vbuf_sprintf(hdb, "%s/avscan-XXXXXX/postsift-test.hdb", base) < 0
        || vbuf_sprintf(ndb, "%s/avscan-XXXXXX/postsift-test.ndb", base) < 0) {
        vbuf_sprintf(err, "spool_dir name too long: %s", base);
        goto out;
    }
    if (mkdtemp(dir->data) == NULL) {
        vbuf_sprintf(err, "cannot create a directory for the bundled test signatures "
                     "under %s: %s", base, strerror(errno));
        goto out;
    }
    /* same length: put the random part into the file names */
    memcpy(hdb->data, dir->data, dir->len);
    memcpy(ndb->data, dir->data, dir->len);
    if (avclamav_write_file(hdb->data, avclamav_test_hdb, err) == 0
        && avclamav_write_file(ndb->data, avclamav_test_ndb, err) == 0
        && avclamav_load_dir(av, dir->data, err) == 0)
        ret = 0;
    if (unlink(hdb->data) < 0 && errno != ENOENT)
        msg_warn("remove %s: %s", hdb->data, strerror(errno));
    if (unlink(ndb->data) < 0 && errno != ENOENT)
        msg_warn("remove %s: %s", ndb->data, strerror(errno));
    if (rmdir(dir->data) < 0)
        msg_warn("remove %s: %s", dir->data, strerror(errno));
    if (ret == 0) {
        av->bundled = 1;
        msg_warn("clamav_database_directory = bundled: scanning with the %u test "
                 "signatures only (EICAR and the ClamAV test files); real malware "
                 "passes as clean", av->sigs);
    }
out:
    vbuf_free(dir);
    vbuf_free(hdb);
    vbuf_free(ndb);
    return ret;
}

/* avclamav_watch - remember the state of the loaded directory (cl_statinidir)
 * for avclamav_changed(); a failure only means changes go unnoticed */
static void avclamav_watch(AVCLAMAV *av, const char *dir)
{
    cl_error_t ret;

    memset(&av->dbstat, 0, sizeof(av->dbstat));
    if ((ret = clamlib.cl_statinidir(dir, &av->dbstat)) == CL_SUCCESS)
        av->watching = 1;
    else
        msg_warn("cannot watch %s for signature updates: %s", dir, clamlib.cl_strerror(ret));
}

/* avclamav_load_signatures - the signatures the setting names into the
 * engine: "bundled", a directory, or with none /var/lib/clamav when it
 * holds a database; anything else is no database: -1 with why in err */
static int avclamav_load_signatures(AVCLAMAV *av, const char *dbdir, VBUF *err)
{
    if (dbdir && strcmp(dbdir, AVCLAMAV_BUNDLED) == 0)
        return avclamav_load_bundled(av, err);
    if (dbdir == NULL || *dbdir == 0) {
        if (!avclamav_has_database(AVCLAMAV_SYSTEM_DBDIR)) {
            vbuf_sprintf(err, "no signature database: clamav_database_directory is "
                         "empty and %s holds no *.cvd, *.cld or *.cud file; %s",
                         AVCLAMAV_SYSTEM_DBDIR, AVCLAMAV_FIX);
            return -1;
        }
        dbdir = AVCLAMAV_SYSTEM_DBDIR;
    }
    if (avclamav_load_dir(av, dbdir, err) < 0)
        return -1;
    avclamav_watch(av, dbdir);
    av->built = avclamav_newest(dbdir);
    avclamav_check_age(av, dbdir);
    return 0;
}

/* avclamav_set_version - the version text: engine and database version,
 * or that only the test signatures are loaded */
static void avclamav_set_version(AVCLAMAV *av)
{
    VBUF   *ver = vbuf_alloc(256);
    long long dbver;
    int     cerr;

    if (av->bundled) {
        vbuf_sprintf(ver, "ClamAV %s, " AVCLAMAV_BUNDLED_TEXT, clamlib.cl_retver());
    } else {
        dbver = clamlib.cl_engine_get_num(av->engine, CL_ENGINE_DB_VERSION, &cerr);
        if (cerr == CL_SUCCESS && dbver > 0)
            vbuf_sprintf(ver, "ClamAV %s/%lld", clamlib.cl_retver(), dbver);
        else
            vbuf_sprintf(ver, "ClamAV %s", clamlib.cl_retver());
    }
    av->version = mystrdup(vbuf_str(ver));
    vbuf_free(ver);
}

/* avclamav_load - engine, limits, signatures, compile */
static int avclamav_load(AVCLAMAV *av, const char *dbdir, VBUF *err)
{
    struct cl_engine *e;
    cl_error_t ret;

    if (avclamav_init(err) < 0)
        return -1;
    if ((e = av->engine = clamlib.cl_engine_new()) == NULL) {
        vbuf_strcpy(err, "cannot create a libclamav engine");
        return -1;
    }
    if (avclamav_set_limit(e, CL_ENGINE_MAX_SCANSIZE, "max_scansize",
                         var_clamav_max_scansize, LLONG_MAX, err) < 0
        || avclamav_set_limit(e, CL_ENGINE_MAX_FILESIZE, "max_filesize",
                            var_clamav_max_filesize, LLONG_MAX, err) < 0
        || avclamav_set_limit(e, CL_ENGINE_MAX_RECURSION, "max_recursion",
                            var_clamav_max_recursion, UINT32_MAX, err) < 0
        || avclamav_set_limit(e, CL_ENGINE_MAX_FILES, "max_files",
                            var_clamav_max_files, UINT32_MAX, err) < 0
        || avclamav_set_limit(e, CL_ENGINE_MAX_SCANTIME, "max_scantime",
                            var_clamav_max_scantime > UINT32_MAX / 1000 ?
                            UINT32_MAX : var_clamav_max_scantime * 1000LL,
                            UINT32_MAX, err) < 0)
        return -1;
    /* libclamav makes a directory for every scan and writes what it
     * unpacks there: in our own directory in spool_dir, not in /tmp */
    if (avclamav_tmp_ready(av, err) < 0)
        return -1;

    if (avclamav_load_signatures(av, dbdir, err) < 0)
        return -1;
    clamlib.cl_engine_set_clcb_virus_found(e, avclamav_found);
    if ((ret = clamlib.cl_engine_compile(e)) != CL_SUCCESS) {
        vbuf_sprintf(err, "cannot compile the libclamav engine: %s", clamlib.cl_strerror(ret));
        return -1;
    }

    memset(&av->options, 0, sizeof(av->options));
    av->options.parse = ~0U;
    av->options.general |= CL_SCAN_GENERAL_HEURISTICS;
    av->options.heuristic |= CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE
        | CL_SCAN_HEURISTIC_EXCEEDS_MAX;

    avclamav_set_version(av);
    return 0;
}

/* avclamav_result - map a libclamav return code to AV_* */
static int avclamav_result(AVCLAMAV *av, cl_error_t ret, const char *name,
                                VBUF *found, VBUF *virname, VBUF *err)
{
    static const char unofficial[] = ".UNOFFICIAL";
    size_t  len;

    switch (ret) {
    case CL_CLEAN:
        if (avclamav_temp_trouble[0]) {
            /* "clean" without a working temporary directory means unscanned */
            vbuf_sprintf(err, "libclamav: %s", avclamav_temp_trouble);
            return AV_ERROR;
        }
        return AV_CLEAN;
    case CL_VIRUS:
        if (name == NULL)
            name = vbuf_len(found) ? vbuf_str(found) : "unknown";
        vbuf_strcpy(virname, name);
        /* the bundled copies of official test signatures keep their names */
        len = vbuf_len(virname);
        if (av->bundled && len > sizeof(unofficial) - 1
            && strcmp(vbuf_str(virname) + len - (sizeof(unofficial) - 1), unofficial) == 0)
            vbuf_truncate(virname, len - (sizeof(unofficial) - 1));
        return AV_VIRUS;
    default:
        vbuf_sprintf(err, "libclamav: %s", clamlib.cl_strerror(ret));
        return AV_ERROR;
    }
}

/* avclamav_close - free the engine */
static void avclamav_close(void *h)
{
    AVCLAMAV *av = h;

    if (av == NULL)
        return;
    if (av->watching)
        clamlib.cl_statfree(&av->dbstat);
    if (av->engine)
        clamlib.cl_engine_free(av->engine);
    /* the last engine of this process pointed at its directory: nothing
     * will scan there any more */
    if (av->tmp_gen != 0 && av->tmp_gen == avclamav_tmp.gen
        && avclamav_tmp.pid == getpid() && --avclamav_tmp.users <= 0) {
        avclamav_tmp.users = 0;
        avclamav_tmpdir_remove();
    }
    if (av->version)
        myfree(av->version);
    myfree(av);
}

/* avclamav_open - the one entry "clamav" */
static void *avclamav_open(char *const *specs, int nspecs, const char *dbdir, VBUF *err)
{
    AVCLAMAV *av = mycalloc(1, sizeof(*av));

    (void)specs;
    (void)nspecs;
    if (avclamav_load(av, dbdir, err) < 0) {
        avclamav_close(av);
        return NULL;
    }
    return av;
}

/* avclamav_scan_fd - scan a whole file from offset 0 */
static int avclamav_scan_fd(void *h, int fd, VBUF *virname, VBUF *err)
{
    AVCLAMAV *av = h;
    const char *name = NULL;
    unsigned long scanned = 0;
    VBUF   *found;
    cl_error_t ret;
    off_t   pos;
    int     result;

    if (avclamav_tmp_ready(av, err) < 0)
        return AV_ERROR;
    /* libclamav scans from offset 0 but leaves the offset at 0: restore it */
    pos = lseek(fd, 0, SEEK_CUR);
    found = vbuf_alloc(1024);
    avclamav_temp_trouble[0] = 0;
    ret = clamlib.cl_scandesc_callback(fd, NULL, &name, &scanned, av->engine, &av->options, found);
    result = avclamav_result(av, ret, name, found, virname, err);
    vbuf_free(found);
    if (pos >= 0 && lseek(fd, pos, SEEK_SET) < 0)
        msg_warn("avscan: restore file offset: %s", strerror(errno));
    return result;
}

/* avclamav_scan_mem - scan bytes in memory */
static int avclamav_scan_mem(void *h, const void *buf, size_t len, VBUF *virname, VBUF *err)
{
    AVCLAMAV *av = h;
    const char *name = NULL;
    unsigned long scanned = 0;
    cl_fmap_t *map;
    VBUF   *found;
    cl_error_t ret;
    int     result;

    if (len == 0)
        return AV_CLEAN;
    if (avclamav_tmp_ready(av, err) < 0)
        return AV_ERROR;
    if ((map = clamlib.cl_fmap_open_memory(buf, len)) == NULL) {
        vbuf_strcpy(err, "libclamav: cannot map the buffer");
        return AV_ERROR;
    }
    found = vbuf_alloc(1024);
    avclamav_temp_trouble[0] = 0;
    ret = clamlib.cl_scanmap_callback(map, NULL, &name, &scanned, av->engine, &av->options, found);
    clamlib.cl_fmap_close(map);
    result = avclamav_result(av, ret, name, found, virname, err);
    vbuf_free(found);
    return result;
}

/* avclamav_version - engine and signature version text */
static const char *avclamav_version(void *h)
{
    AVCLAMAV *av = h;

    return av->version ? av->version : "ClamAV";
}

/* avclamav_signatures - signatures loaded */
static unsigned long avclamav_signatures(const void *h)
{
    const AVCLAMAV *av = h;

    return av->sigs;
}

/* avclamav_changed - has the signature directory changed since the load */
static int avclamav_changed(void *h)
{
    AVCLAMAV *av = h;

    if (!av->watching)
        return 0;
    /* 1 is a change; an error (the directory went away) is one too */
    return clamlib.cl_statchkdir(&av->dbstat) != 0;
}

/* avclamav_built - when the loaded database was built; 0 unknown */
static long long avclamav_built(const void *h)
{
    const AVCLAMAV *av = h;

    return av->built;
}

/* avclamav_test_only - 1 with the bundled test signatures */
static int avclamav_test_only(const void *h)
{
    const AVCLAMAV *av = h;

    return av->bundled;
}

const AVBACKEND avclamav_backend = {
    "clamav", 1, 0, 1, avclamav_open, avclamav_scan_fd, avclamav_scan_mem, NULL,
    avclamav_version, avclamav_signatures, avclamav_changed, avclamav_close,
    avclamav_built, avclamav_test_only,
};
