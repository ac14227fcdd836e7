/*
 * avscan - malware scanning backends: libclamav in-process, or clamd
 * (see avscan.h)
 *
 * "clamav" loads one engine per AVSCAN. Signatures come from
 * clamav_database_directory when it is set (an error if that fails, never
 * a fallback), else from /var/lib/clamav when it holds a .cvd/.cld/.cud
 * database, else from the two test signatures bundled below, which are
 * written to a private directory under spool_dir only for as long as
 * cl_load() needs them.
 *
 * "clamd:..." speaks INSTREAM ("z" commands, NUL-terminated) to each
 * server in turn, with one deadline (clamd_timeout) per exchange. A server
 * that fails to connect or breaks off is marked down and skipped by later
 * scans for AVSCAN_CLAMD_RETRY seconds; when every server is down they are
 * all tried again. A reply, even an ERROR reply, is an answer: it ends the
 * scan without failover. Both backends scan a descriptor from offset 0 and
 * leave its offset where it was (our clamd reader uses pread(); libclamav
 * moves it, so we put it back).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <clamav.h>

#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/spool.h"
#include "lib/vbuf.h"
#include "scan/avscan.h"

#define AVSCAN_CLAMAV   1
#define AVSCAN_CLAMD    2

#define AVSCAN_SYSTEM_DBDIR  "/var/lib/clamav"
#define AVSCAN_CLAMD_CHUNK   (64 * 1024)    /* INSTREAM chunk size */
#define AVSCAN_CLAMD_REPLY   4096           /* longest reply we accept */
#define AVSCAN_CLAMD_RETRY   60             /* seconds a down server is skipped */
#define AVSCAN_ERR_CAP       4096           /* bound on error texts we build */

/*
 * The bundled test signatures: the MD5 and size of the ClamAV test file
 * /usr/share/clamav-testfiles/clam.exe (which the 44 files of package
 * clamav-testfiles contain, packed or archived) and the 68-byte EICAR test
 * string at offset 0. They detect test files and nothing else.
 */
static const char avscan_test_hdb[] =
    "aa15bcf478d165efd2065190eb473bcb:544:ClamAV-Test-File\n";
static const char avscan_test_ndb[] =
    "Eicar-Test-Signature:0:0:"
    "58354f2150254041505b345c505a58353428505e2937434329377d24"
    "45494341522d5354414e444152442d414e544956495255532d544553"
    "542d46494c452124482b482a\n";

typedef struct CLAMD_SERVER {
    char   *name;           /* "unix:/path" or "inet:host:port", for logs */
    char   *path;           /* unix socket path, or NULL */
    char   *host;           /* inet host, or NULL */
    char   *port;           /* inet port */
    int     down;           /* failed last time */
    time_t  down_since;     /* when it failed */
} CLAMD_SERVER;

struct AVSCAN {
    int     kind;                       /* AVSCAN_CLAMAV or AVSCAN_CLAMD */
    char   *version;                    /* avscan_version() text */
    /* clamav */
    struct cl_engine *engine;
    unsigned tmp_gen;                   /* the directory it uses (avscan_tmp.gen) */
    struct cl_scan_options options;
    unsigned int sigs;                  /* as cl_load() counted them */
    int     bundled;                    /* the bundled test signatures */
    int     auto_dir;                   /* no clamav_database_directory given */
    int     watching;                   /* dbstat holds cl_statinidir() state */
    struct cl_stat dbstat;              /* the loaded directory, for avscan_changed() */
    /* clamd */
    CLAMD_SERVER *servers;
    int     nservers;
    int     version_known;              /* clamd answered VERSION */
};

 /*
  * libclamav's temporary files. It makes a directory for every scan under
  * CL_ENGINE_TMPDIR and writes what it decodes there; a process killed
  * mid-scan (pipe_deadline, pipe(8)'s time limit) leaves it behind. So
  * each process gives it a private directory of its own under spool_dir,
  * locked for as long as the process lives (spool_private_dir), and
  * removes, on its way in, those whose process is gone (spool_sweep).
  * A daemon worker shares the master's engine: at its first scan it makes
  * its own directory and points its copy of the engine there.
  */
#define AVSCAN_TMP_PREFIX   "clamtmp-"

static struct {
    pid_t   pid;                        /* the process that made it, or 0 */
    int     fd;                         /* holds the lock */
    char   *base;                       /* spool_dir it is in */
    VBUF   *path;
    unsigned gen;                       /* counts the directories made */
    int     users;                      /* AVSCANs pointed at this one */
} avscan_tmp = {0, -1, NULL, NULL, 0, 0};

/* avscan_tmp_atexit - remove the directory when its process exits */
static void avscan_tmp_atexit(void)
{
    avscan_tmpdir_remove();
}

/* avscan_tmpdir_remove - see avscan.h */
void avscan_tmpdir_remove(void)
{
    if (avscan_tmp.pid != getpid() || avscan_tmp.fd < 0)
        return;
    spool_private_dir_remove(avscan_tmp.fd, vbuf_str(avscan_tmp.path));
    avscan_tmp.fd = -1;
    avscan_tmp.pid = 0;
}

/* avscan_tmpdir - see avscan.h */
const char *avscan_tmpdir(void)
{
    return avscan_tmp.pid == getpid() ? vbuf_str(avscan_tmp.path) : NULL;
}

/* avscan_tmp_ready - this process has its directory, and av's engine
 * uses it; -1 with why in err */
static int avscan_tmp_ready(AVSCAN *av, VBUF *err)
{
    static int registered;
    const char *base = var_spool_dir;
    cl_error_t ret;
    int     fd, n;

    if (base == NULL || *base == 0)
        return 0;                       /* no settings (some unit tests) */
    if (avscan_tmp.pid != getpid() || strcmp(avscan_tmp.base, base) != 0) {
        if (avscan_tmp.pid == getpid())
            avscan_tmpdir_remove();     /* spool_dir changed (a reload) */
        else if (avscan_tmp.fd >= 0)
            (void)close(avscan_tmp.fd); /* the parent's: its lock stays with it */
        avscan_tmp.fd = -1;
        avscan_tmp.pid = 0;
        if (avscan_tmp.path == NULL)
            avscan_tmp.path = vbuf_alloc(PATH_MAX);
        if (spool_dir_check(base, err) < 0
            || (fd = spool_private_dir(base, AVSCAN_TMP_PREFIX, avscan_tmp.path, err)) < 0)
            return -1;
        avscan_tmp.fd = fd;
        avscan_tmp.pid = getpid();
        avscan_tmp.gen++;               /* every engine must be pointed here */
        avscan_tmp.users = 0;
        if (avscan_tmp.base)
            myfree(avscan_tmp.base);
        avscan_tmp.base = mystrdup(base);
        if (!registered) {
            atexit(avscan_tmp_atexit);
            registered = 1;
        }
        if ((n = spool_sweep(base, AVSCAN_TMP_PREFIX)) > 0)
            msg_info("removed %d scanner director%s left in %s by killed processes",
                     n, n == 1 ? "y" : "ies", base);
    }
    if (av->tmp_gen != avscan_tmp.gen) {
        if ((ret = cl_engine_set_str(av->engine, CL_ENGINE_TMPDIR,
                                     vbuf_str(avscan_tmp.path))) != CL_SUCCESS) {
            vbuf_sprintf(err, "libclamav: cannot set the temporary directory %s: %s",
                         vbuf_str(avscan_tmp.path), cl_strerror(ret));
            return -1;
        }
        av->tmp_gen = avscan_tmp.gen;
        avscan_tmp.users++;
    }
    return 0;
}

 /*
  * libclamav, once per process.
  */

/* avscan_clmsg - route libclamav's messages into our log */
/* Set by avscan_clmsg when libclamav reports, during a scan, that it
 * could not make a temporary file or directory: libclamav 1.x then
 * returns CL_CLEAN for content it never looked at. One scan at a time
 * per process, so a static is enough. */
static char avscan_temp_trouble[256];

static void avscan_clmsg(enum cl_msg severity, const char *fullmsg,
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
        if (strcasestr(buf, "temp") != NULL && avscan_temp_trouble[0] == 0)
            snprintf(avscan_temp_trouble, sizeof(avscan_temp_trouble), "%.*s",
                     (int)sizeof(avscan_temp_trouble) - 1, buf);
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

/* avscan_clamav_init - cl_init() the first time; -1 with why in err */
static int avscan_clamav_init(VBUF *err)
{
    static int done;
    static cl_error_t status;

    if (!done) {
        cl_set_clcb_msg(avscan_clmsg);
        status = cl_init(CL_INIT_DEFAULT);
        done = 1;
    }
    if (status != CL_SUCCESS) {
        vbuf_sprintf(err, "cannot initialize libclamav: %s", cl_strerror(status));
        return -1;
    }
    return 0;
}

/* avscan_found - libclamav's detection callback: remember the first name.
   libclamav 1.4 returns CL_VIRUS with no name for a top-level file over
   max_filesize unless this callback is set; it is our second source. */
static void avscan_found(int fd, const char *name, void *context)
{
    VBUF   *found = context;

    (void)fd;
    if (found != NULL && name != NULL && vbuf_len(found) == 0)
        vbuf_strcpy(found, name);
}

/* avscan_set_limit - one engine limit, clamped to what the field holds */
static int avscan_set_limit(struct cl_engine *engine, enum cl_engine_field field,
                            const char *what, long long value, long long max,
                            VBUF *err)
{
    cl_error_t ret;

    if (value > max)
        value = max;
    if ((ret = cl_engine_set_num(engine, field, value)) != CL_SUCCESS) {
        vbuf_sprintf(err, "cannot set libclamav limit %s to %lld: %s",
                     what, value, cl_strerror(ret));
        return -1;
    }
    return 0;
}

/* avscan_has_database - 1 when dir holds a .cvd, .cld or .cud database */
static int avscan_has_database(const char *dir)
{
    DIR    *dp;
    struct dirent *de;
    int     found = 0;

    if ((dp = opendir(dir)) == NULL)
        return 0;
    while (!found && (de = readdir(dp)) != NULL) {
        size_t  len = strlen(de->d_name);

        if (len > 4 && (strcmp(de->d_name + len - 4, ".cvd") == 0
                        || strcmp(de->d_name + len - 4, ".cld") == 0
                        || strcmp(de->d_name + len - 4, ".cud") == 0))
            found = 1;
    }
    closedir(dp);
    return found;
}

/* avscan_load_dir - cl_load() a directory; -1 with why in err */
static int avscan_load_dir(AVSCAN *av, const char *dir, VBUF *err)
{
    struct stat st;
    cl_error_t ret;
    DIR    *dp;

    if (stat(dir, &st) < 0) {
        vbuf_sprintf(err, "cannot load signatures from %s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        vbuf_sprintf(err, "cannot load signatures from %s: not a directory", dir);
        return -1;
    }
    if ((dp = opendir(dir)) == NULL) {
        vbuf_sprintf(err, "cannot load signatures from %s: %s", dir, strerror(errno));
        return -1;
    }
    closedir(dp);
    av->sigs = 0;
    ret = cl_load(dir, av->engine, &av->sigs, CL_DB_STDOPT);
    if (ret != CL_SUCCESS) {
        vbuf_sprintf(err, "cannot load signatures from %s: %s", dir, cl_strerror(ret));
        return -1;
    }
    if (av->sigs == 0) {
        vbuf_sprintf(err, "cannot load signatures from %s: no signatures found", dir);
        return -1;
    }
    return 0;
}

/* avscan_write_file - create path 0600 with text; -1 with why in err */
static int avscan_write_file(const char *path, const char *text, VBUF *err)
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

/* avscan_load_bundled - load the test signatures via a private directory */
static int avscan_load_bundled(AVSCAN *av, VBUF *err)
{
    static int logged;
    const char *base = var_spool_dir;
    VBUF   *dir = vbuf_alloc(PATH_MAX);
    VBUF   *hdb = vbuf_alloc(PATH_MAX);
    VBUF   *ndb = vbuf_alloc(PATH_MAX);
    int     ret = -1;

    /* in this process's own directory, so that a kill meanwhile leaves
     * nothing that the next process does not sweep; without settings
     * (config_init not called) a private mkdtemp in /tmp */
    if (avscan_tmpdir() != NULL)
        base = avscan_tmpdir();
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
    if (avscan_write_file(hdb->data, avscan_test_hdb, err) == 0
        && avscan_write_file(ndb->data, avscan_test_ndb, err) == 0
        && avscan_load_dir(av, dir->data, err) == 0)
        ret = 0;
    if (unlink(hdb->data) < 0 && errno != ENOENT)
        msg_warn("remove %s: %s", hdb->data, strerror(errno));
    if (unlink(ndb->data) < 0 && errno != ENOENT)
        msg_warn("remove %s: %s", ndb->data, strerror(errno));
    if (rmdir(dir->data) < 0)
        msg_warn("remove %s: %s", dir->data, strerror(errno));
    if (ret == 0) {
        av->bundled = 1;
        if (!logged) {
            msg_info("no clamav_database_directory and no database in %s: "
                     "using the bundled test signatures, which detect only "
                     "test files (EICAR and the ClamAV test files)",
                     AVSCAN_SYSTEM_DBDIR);
            logged = 1;
        }
    }
out:
    vbuf_free(dir);
    vbuf_free(hdb);
    vbuf_free(ndb);
    return ret;
}

/* avscan_watch - remember the state of the loaded directory (cl_statinidir)
 * for avscan_changed(); a failure only means changes go unnoticed */
static void avscan_watch(AVSCAN *av, const char *dir)
{
    cl_error_t ret;

    memset(&av->dbstat, 0, sizeof(av->dbstat));
    if ((ret = cl_statinidir(dir, &av->dbstat)) == CL_SUCCESS)
        av->watching = 1;
    else
        msg_warn("cannot watch %s for signature updates: %s", dir, cl_strerror(ret));
}

/* avscan_clamav_open - engine, limits, signatures, compile */
static int avscan_clamav_open(AVSCAN *av, const char *dbdir, VBUF *err)
{
    struct cl_engine *e;
    cl_error_t ret;
    VBUF   *ver;
    int     cerr;
    long long dbver;

    if (avscan_clamav_init(err) < 0)
        return -1;
    if ((e = av->engine = cl_engine_new()) == NULL) {
        vbuf_strcpy(err, "cannot create a libclamav engine");
        return -1;
    }
    if (avscan_set_limit(e, CL_ENGINE_MAX_SCANSIZE, "max_scansize",
                         var_clamav_max_scansize, LLONG_MAX, err) < 0
        || avscan_set_limit(e, CL_ENGINE_MAX_FILESIZE, "max_filesize",
                            var_clamav_max_filesize, LLONG_MAX, err) < 0
        || avscan_set_limit(e, CL_ENGINE_MAX_RECURSION, "max_recursion",
                            var_clamav_max_recursion, UINT32_MAX, err) < 0
        || avscan_set_limit(e, CL_ENGINE_MAX_FILES, "max_files",
                            var_clamav_max_files, UINT32_MAX, err) < 0
        || avscan_set_limit(e, CL_ENGINE_MAX_SCANTIME, "max_scantime",
                            var_clamav_max_scantime > UINT32_MAX / 1000 ?
                            UINT32_MAX : var_clamav_max_scantime * 1000LL,
                            UINT32_MAX, err) < 0)
        return -1;
    /* libclamav makes a directory for every scan and writes what it
     * unpacks there: in our own directory in spool_dir, not in /tmp */
    if (avscan_tmp_ready(av, err) < 0)
        return -1;

    if (dbdir && *dbdir) {
        if (avscan_load_dir(av, dbdir, err) < 0)
            return -1;
        avscan_watch(av, dbdir);
    } else if (avscan_has_database(AVSCAN_SYSTEM_DBDIR)) {
        av->auto_dir = 1;
        if (avscan_load_dir(av, AVSCAN_SYSTEM_DBDIR, err) < 0)
            return -1;
        avscan_watch(av, AVSCAN_SYSTEM_DBDIR);
    } else {
        av->auto_dir = 1;
        if (avscan_load_bundled(av, err) < 0)
            return -1;
    }
    cl_engine_set_clcb_virus_found(e, avscan_found);
    if ((ret = cl_engine_compile(e)) != CL_SUCCESS) {
        vbuf_sprintf(err, "cannot compile the libclamav engine: %s", cl_strerror(ret));
        return -1;
    }

    memset(&av->options, 0, sizeof(av->options));
    av->options.parse = ~0U;
    av->options.general |= CL_SCAN_GENERAL_HEURISTICS;
    av->options.heuristic |= CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE
        | CL_SCAN_HEURISTIC_EXCEEDS_MAX;

    ver = vbuf_alloc(256);
    if (av->bundled) {
        vbuf_sprintf(ver, "ClamAV %s/test-signatures", cl_retver());
    } else {
        dbver = cl_engine_get_num(e, CL_ENGINE_DB_VERSION, &cerr);
        if (cerr == CL_SUCCESS && dbver > 0)
            vbuf_sprintf(ver, "ClamAV %s/%lld", cl_retver(), dbver);
        else
            vbuf_sprintf(ver, "ClamAV %s", cl_retver());
    }
    av->version = mystrdup(vbuf_str(ver));
    vbuf_free(ver);
    return 0;
}

/* avscan_clamav_result - map a libclamav return code to AV_* */
static int avscan_clamav_result(AVSCAN *av, cl_error_t ret, const char *name,
                                VBUF *found, VBUF *virname, VBUF *err)
{
    static const char unofficial[] = ".UNOFFICIAL";
    size_t  len;

    switch (ret) {
    case CL_CLEAN:
        if (avscan_temp_trouble[0]) {
            /* "clean" without a working temporary directory means unscanned */
            vbuf_sprintf(err, "libclamav: %s", avscan_temp_trouble);
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
        vbuf_sprintf(err, "libclamav: %s", cl_strerror(ret));
        return AV_ERROR;
    }
}

 /*
  * clamd client: socket helpers with a deadline, poll before every
  * read and write, EINTR looped, no alarm().
  */

/* clamd_now - monotonic seconds, as a double */
static double clamd_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* clamd_wait - poll fd for events until deadline; >0 ready, 0 timeout, -1 error */
static int clamd_wait(int fd, short events, double deadline, short *revents)
{
    struct pollfd pfd;
    double  left;
    int     n;

    for (;;) {
        left = deadline - clamd_now();
        if (left <= 0)
            return 0;
        pfd.fd = fd;
        pfd.events = events;
        pfd.revents = 0;
        n = poll(&pfd, 1, (int)(left * 1000) + 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0 && revents)
            *revents = pfd.revents;
        if (n == 0)
            continue;                   /* re-check the clock */
        return n;
    }
}

/* clamd_connect_addr - non-blocking connect with deadline; fd or -1 */
static int clamd_connect_addr(const struct sockaddr *sa, socklen_t salen,
                              int family, double deadline, VBUF *err)
{
    int     fd;
    int     soerr = 0;
    socklen_t len = sizeof(soerr);
    int     n;

    fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        vbuf_sprintf(err, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, sa, salen) == 0)
        return fd;
    if (errno != EINPROGRESS && errno != EINTR) {
        vbuf_sprintf(err, "connect: %s", strerror(errno));
        close(fd);
        return -1;
    }
    n = clamd_wait(fd, POLLOUT, deadline, NULL);
    if (n == 0) {
        vbuf_strcpy(err, "connect: timed out");
        close(fd);
        return -1;
    }
    if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) {
        vbuf_sprintf(err, "connect: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (soerr != 0) {
        vbuf_sprintf(err, "connect: %s", strerror(soerr));
        close(fd);
        return -1;
    }
    return fd;
}

/* clamd_connect - connect to one server before deadline; fd or -1 */
static int clamd_connect(const CLAMD_SERVER *srv, double deadline, VBUF *err)
{
    struct addrinfo hints;
    struct addrinfo *res;
    struct addrinfo *ai;
    struct sockaddr_un sun;
    int     fd = -1;
    int     gai;

    if (srv->path) {
        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        memcpy(sun.sun_path, srv->path, strlen(srv->path) + 1);   /* checked at open */
        return clamd_connect_addr((struct sockaddr *)&sun, sizeof(sun), AF_UNIX,
                                  deadline, err);
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if ((gai = getaddrinfo(srv->host, srv->port, &hints, &res)) != 0) {
        vbuf_sprintf(err, "%s", gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
        return -1;
    }
    for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        if (clamd_now() >= deadline) {
            vbuf_strcpy(err, "connect: timed out");
            break;
        }
        fd = clamd_connect_addr(ai->ai_addr, ai->ai_addrlen, ai->ai_family,
                                deadline, err);
    }
    freeaddrinfo(res);
    return fd;
}

/* clamd_write - send all of buf; 0 done, 1 the server already answered
   (stop sending and read), -1 error */
static int clamd_write(int fd, const void *buf, size_t len, double deadline, VBUF *err)
{
    const char *cp = buf;
    short   rev = 0;
    ssize_t n;
    int     w;

    while (len > 0) {
        w = clamd_wait(fd, POLLOUT | POLLIN, deadline, &rev);
        if (w == 0) {
            vbuf_strcpy(err, "write: timed out");
            return -1;
        }
        if (w < 0) {
            vbuf_sprintf(err, "poll: %s", strerror(errno));
            return -1;
        }
        if (rev & (POLLIN | POLLHUP))
            return 1;
        if (rev & POLLERR) {
            vbuf_strcpy(err, "write: connection error");
            return -1;
        }
        n = send(fd, cp, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            if (errno == EPIPE || errno == ECONNRESET)
                return 1;               /* perhaps a reply is waiting */
            vbuf_sprintf(err, "write: %s", strerror(errno));
            return -1;
        }
        cp += n;
        len -= (size_t)n;
    }
    return 0;
}

/* clamd_read_reply - read up to the terminating NUL (or EOF); -1 error */
static int clamd_read_reply(int fd, VBUF *reply, double deadline, VBUF *err)
{
    char    buf[512];
    char   *nul;
    ssize_t n;
    int     w;

    vbuf_reset(reply);
    for (;;) {
        w = clamd_wait(fd, POLLIN, deadline, NULL);
        if (w == 0) {
            vbuf_strcpy(err, "read: timed out");
            return -1;
        }
        if (w < 0) {
            vbuf_sprintf(err, "poll: %s", strerror(errno));
            return -1;
        }
        n = read(fd, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            if (vbuf_len(reply) > 0 && errno == ECONNRESET)
                break;
            vbuf_sprintf(err, "read: %s", strerror(errno));
            return -1;
        }
        if (n == 0)
            break;
        if ((nul = memchr(buf, 0, (size_t)n)) != NULL)
            n = nul - buf;
        if (vbuf_append(reply, buf, (size_t)n) < 0) {
            vbuf_strcpy(err, "reply too long");
            return -1;
        }
        if (nul)
            break;
    }
    if (vbuf_len(reply) == 0) {
        vbuf_strcpy(err, "connection closed without a reply");
        return -1;
    }
    while (vbuf_len(reply) > 0 && (reply->data[vbuf_len(reply) - 1] == '\n'
                                   || reply->data[vbuf_len(reply) - 1] == '\r'))
        vbuf_truncate(reply, vbuf_len(reply) - 1);
    return 0;
}

#define CLAMD_OK        0       /* got a reply */
#define CLAMD_SERVER_ERR (-1)   /* connect/IO error: try the next server */
#define CLAMD_LOCAL_ERR (-2)    /* our side failed (reading the message) */

/* clamd_exchange - one command (and INSTREAM data from fd or buf) to one
   server, reply in reply; CLAMD_* */
static int clamd_exchange(const CLAMD_SERVER *srv, const char *cmd, int instream,
                          int fd, const void *buf, size_t len,
                          VBUF *reply, VBUF *err)
{
    double  deadline = clamd_now() + (double)(var_clamd_timeout > 0 ? var_clamd_timeout : 60);
    unsigned char *chunk = NULL;
    off_t   off = 0;
    size_t  done = 0;
    size_t  n;
    ssize_t got;
    int     sock;
    int     w;
    int     ret = CLAMD_SERVER_ERR;

    if ((sock = clamd_connect(srv, deadline, err)) < 0)
        return CLAMD_SERVER_ERR;
    if ((w = clamd_write(sock, cmd, strlen(cmd) + 1, deadline, err)) < 0)
        goto out;
    if (instream && w == 0) {
        chunk = mymalloc(AVSCAN_CLAMD_CHUNK + 4);
        for (;;) {
            if (fd >= 0) {
                got = pread(fd, chunk + 4, AVSCAN_CLAMD_CHUNK, off);
                if (got < 0) {
                    if (errno == EINTR)
                        continue;
                    vbuf_sprintf(err, "read message: %s", strerror(errno));
                    ret = CLAMD_LOCAL_ERR;
                    goto out;
                }
                n = (size_t)got;
                off += got;
            } else {
                n = len - done > AVSCAN_CLAMD_CHUNK ? AVSCAN_CLAMD_CHUNK : len - done;
                if (n)
                    memcpy(chunk + 4, (const char *)buf + done, n);
                done += n;
            }
            chunk[0] = (unsigned char)(n >> 24);
            chunk[1] = (unsigned char)(n >> 16);
            chunk[2] = (unsigned char)(n >> 8);
            chunk[3] = (unsigned char)n;
            if ((w = clamd_write(sock, chunk, n + 4, deadline, err)) != 0)
                break;
            if (n == 0)
                break;                  /* that was the end marker */
        }
        if (w < 0)
            goto out;
    }
    if (clamd_read_reply(sock, reply, deadline, err) < 0)
        goto out;
    ret = CLAMD_OK;
out:
    if (chunk)
        myfree(chunk);
    close(sock);
    return ret;
}

/* clamd_printable - keep a clamd text fit for logs and headers */
static void clamd_printable(VBUF *text)
{
    size_t  i;

    for (i = 0; i < vbuf_len(text); i++)
        if ((unsigned char)text->data[i] < 0x20 || (unsigned char)text->data[i] > 0x7e)
            text->data[i] = '?';
}

/* clamd_version - ask srv for VERSION; 0 with av->version set, or -1 */
static int clamd_version(AVSCAN *av, const CLAMD_SERVER *srv, VBUF *err)
{
    VBUF   *reply = vbuf_alloc(AVSCAN_CLAMD_REPLY);
    char   *slash;
    int     ret = -1;

    if (clamd_exchange(srv, "zVERSION", 0, -1, NULL, 0, reply, err) == CLAMD_OK) {
        clamd_printable(reply);
        /* "ClamAV 1.4.6/27000/Mon Nov 23 ..." : drop the database date */
        if ((slash = strchr(reply->data, '/')) != NULL
            && (slash = strchr(slash + 1, '/')) != NULL)
            vbuf_truncate(reply, (size_t)(slash - reply->data));
        myfree(av->version);
        av->version = mymalloc(vbuf_len(reply) + sizeof("clamd "));
        snprintf(av->version, vbuf_len(reply) + sizeof("clamd "), "clamd %s", vbuf_str(reply));
        av->version_known = 1;
        ret = 0;
    }
    vbuf_free(reply);
    return ret;
}

/* clamd_parse_server - one "clamd:unix:/path" or "clamd:inet:host:port" */
static int clamd_parse_server(CLAMD_SERVER *srv, const char *spec, VBUF *err)
{
    struct sockaddr_un sun;
    const char *cp;
    const char *colon;
    const char *host;
    size_t  hlen;

    memset(srv, 0, sizeof(*srv));
    if (strncmp(spec, "clamd:", 6) != 0)
        goto bad;
    cp = spec + 6;
    if (strncmp(cp, "unix:", 5) == 0) {
        if (cp[5] != '/')
            goto bad;
        if (strlen(cp + 5) >= sizeof(sun.sun_path)) {
            vbuf_sprintf(err, "clamd socket path too long: %s", cp + 5);
            return -1;
        }
        srv->path = mystrdup(cp + 5);
    } else if (strncmp(cp, "inet:", 5) == 0) {
        host = cp + 5;
        if ((colon = strrchr(host, ':')) == NULL || colon[1] == 0)
            goto bad;
        hlen = (size_t)(colon - host);
        if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
            host++;
            hlen -= 2;
        }
        if (hlen == 0)
            goto bad;
        srv->host = mystrndup(host, hlen);
        srv->port = mystrdup(colon + 1);
    } else {
        goto bad;
    }
    srv->name = mystrdup(cp);
    return 0;
bad:
    vbuf_sprintf(err, "bad scanner \"%s\": expected clamav, or a list of "
                 "clamd:unix:/path and clamd:inet:host:port", spec);
    return -1;
}

/* avscan_clamd_open - parse the server list, ask for the version */
static int avscan_clamd_open(AVSCAN *av, const char *spec, VBUF *err)
{
    static const char seps[] = ", \t\r\n";
    char   *copy = mystrdup(spec);
    char   *save = NULL;
    char   *tok;
    VBUF   *why;
    int     i;

    for (tok = strtok_r(copy, seps, &save); tok; tok = strtok_r(NULL, seps, &save)) {
        av->servers = myrealloc(av->servers, (size_t)(av->nservers + 1) * sizeof(*av->servers));
        if (clamd_parse_server(av->servers + av->nservers, tok, err) < 0) {
            myfree(copy);
            return -1;
        }
        av->nservers++;
    }
    myfree(copy);
    if (av->nservers == 0) {
        vbuf_strcpy(err, "no clamd server given");
        return -1;
    }
    av->version = mystrdup("clamd (version unknown)");
    why = vbuf_alloc(AVSCAN_ERR_CAP);
    for (i = 0; i < av->nservers; i++) {
        if (clamd_version(av, av->servers + i, why) == 0)
            break;
        msg_warn("clamd %s: %s", av->servers[i].name, vbuf_str(why));
        av->servers[i].down = 1;
        av->servers[i].down_since = time(NULL);
    }
    vbuf_free(why);
    return 0;
}

/* clamd_result - map a clamd reply to AV_* */
static int clamd_result(const CLAMD_SERVER *srv, VBUF *reply, VBUF *virname, VBUF *err)
{
    const char *text;
    size_t  len;

    clamd_printable(reply);
    text = vbuf_str(reply);
    if (strncmp(text, "stream: ", 8) == 0) {
        text += 8;
        len = strlen(text);
        if (strcmp(text, "OK") == 0)
            return AV_CLEAN;
        if (len > 6 && strcmp(text + len - 6, " FOUND") == 0) {
            vbuf_reset(virname);
            vbuf_append(virname, text, len - 6);
            return AV_VIRUS;
        }
    }
    if (strstr(vbuf_str(reply), "INSTREAM size limit exceeded"))
        vbuf_sprintf(err, "clamd %s: INSTREAM size limit exceeded "
                     "(raise StreamMaxLength in clamd.conf)", srv->name);
    else
        vbuf_sprintf(err, "clamd %s: %s", srv->name, vbuf_str(reply));
    return AV_ERROR;
}

/* avscan_clamd_scan - INSTREAM with failover; AV_* */
static int avscan_clamd_scan(AVSCAN *av, int fd, const void *buf, size_t len,
                             VBUF *virname, VBUF *err)
{
    VBUF   *reply = vbuf_alloc(AVSCAN_CLAMD_REPLY);
    VBUF   *why = vbuf_alloc(AVSCAN_ERR_CAP);
    VBUF   *all = vbuf_alloc(AVSCAN_ERR_CAP);
    CLAMD_SERVER *srv;
    char   *tried = mycalloc((size_t)av->nservers, 1);
    time_t  now = time(NULL);
    int     pass;
    int     i;
    int     r;
    int     ret = AV_ERROR;

    /* pass 0: servers that are up (or due for a retry); pass 1: the rest */
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < av->nservers; i++) {
            srv = av->servers + i;
            if (tried[i])
                continue;
            if (pass == 0 && srv->down && now - srv->down_since < AVSCAN_CLAMD_RETRY)
                continue;
            tried[i] = 1;
            r = clamd_exchange(srv, "zINSTREAM", 1, fd, buf, len, reply, why);
            if (r == CLAMD_OK) {
                if (srv->down)
                    msg_info("clamd %s: answering again", srv->name);
                srv->down = 0;
                ret = clamd_result(srv, reply, virname, err);
                if (!av->version_known && clamd_version(av, srv, why) < 0)
                    msg_warn("clamd %s: VERSION: %s", srv->name, vbuf_str(why));
                goto out;
            }
            if (r == CLAMD_LOCAL_ERR) {
                vbuf_strcpy(err, vbuf_str(why));
                goto out;
            }
            msg_warn("clamd %s: %s", srv->name, vbuf_str(why));
            srv->down = 1;
            srv->down_since = time(NULL);
            vbuf_sprintf_append(all, "%s%s: %s", vbuf_len(all) ? "; " : "",
                                srv->name, vbuf_str(why));
        }
    }
    vbuf_sprintf(err, "no clamd server answered: %s", vbuf_str(all));
out:
    myfree(tried);
    vbuf_free(reply);
    vbuf_free(why);
    vbuf_free(all);
    return ret;
}

 /*
  * The interface.
  */

/* avscan_open - set up the backend named by spec */
AVSCAN *avscan_open(const char *spec, const char *dbdir, VBUF *err)
{
    AVSCAN *av = mycalloc(1, sizeof(*av));
    int     ret;

    vbuf_reset(err);
    if (spec == NULL || *spec == 0 || strcmp(spec, "clamav") == 0) {
        av->kind = AVSCAN_CLAMAV;
        ret = avscan_clamav_open(av, dbdir, err);
    } else {
        av->kind = AVSCAN_CLAMD;
        ret = avscan_clamd_open(av, spec, err);
    }
    if (ret < 0) {
        avscan_close(av);
        return NULL;
    }
    return av;
}

/* avscan_scan_fd - scan a whole file from offset 0 */
int avscan_scan_fd(AVSCAN *av, int fd, VBUF *virname, VBUF *err)
{
    const char *name = NULL;
    unsigned long scanned = 0;
    VBUF   *found;
    cl_error_t ret;
    off_t   pos;
    int     result;

    vbuf_reset(virname);
    vbuf_reset(err);
    if (av->kind == AVSCAN_CLAMD)
        return avscan_clamd_scan(av, fd, NULL, 0, virname, err);
    if (avscan_tmp_ready(av, err) < 0)
        return AV_ERROR;
    /* libclamav scans from offset 0 but leaves the offset at 0: restore it */
    pos = lseek(fd, 0, SEEK_CUR);
    found = vbuf_alloc(1024);
    avscan_temp_trouble[0] = 0;
    ret = cl_scandesc_callback(fd, NULL, &name, &scanned, av->engine, &av->options, found);
    result = avscan_clamav_result(av, ret, name, found, virname, err);
    vbuf_free(found);
    if (pos >= 0 && lseek(fd, pos, SEEK_SET) < 0)
        msg_warn("avscan: restore file offset: %s", strerror(errno));
    return result;
}

/* avscan_scan_mem - scan bytes in memory */
int avscan_scan_mem(AVSCAN *av, const void *buf, size_t len, VBUF *virname, VBUF *err)
{
    const char *name = NULL;
    unsigned long scanned = 0;
    cl_fmap_t *map;
    VBUF   *found;
    cl_error_t ret;
    int     result;

    vbuf_reset(virname);
    vbuf_reset(err);
    if (av->kind == AVSCAN_CLAMD)
        return avscan_clamd_scan(av, -1, buf, len, virname, err);
    if (len == 0)
        return AV_CLEAN;
    if (avscan_tmp_ready(av, err) < 0)
        return AV_ERROR;
    if ((map = cl_fmap_open_memory(buf, len)) == NULL) {
        vbuf_strcpy(err, "libclamav: cannot map the buffer");
        return AV_ERROR;
    }
    found = vbuf_alloc(1024);
    avscan_temp_trouble[0] = 0;
    ret = cl_scanmap_callback(map, NULL, &name, &scanned, av->engine, &av->options, found);
    cl_fmap_close(map);
    result = avscan_clamav_result(av, ret, name, found, virname, err);
    vbuf_free(found);
    return result;
}

/* avscan_version - engine and signature version text */
const char *avscan_version(AVSCAN *av)
{
    return av->version ? av->version : "unknown";
}

/* avscan_signatures - signatures loaded (0 for clamd) */
unsigned long avscan_signatures(const AVSCAN *av)
{
    return av->kind == AVSCAN_CLAMAV ? av->sigs : 0;
}

/* avscan_close - free the engine or the server list */
/* avscan_changed - has the signature directory changed since the load */
int avscan_changed(AVSCAN *av)
{
    if (av->kind != AVSCAN_CLAMAV)
        return 0;
    if (av->bundled)
        return av->auto_dir && avscan_has_database(AVSCAN_SYSTEM_DBDIR);
    if (!av->watching)
        return 0;
    /* 1 is a change; an error (the directory went away) is one too */
    return cl_statchkdir(&av->dbstat) != 0;
}

void avscan_close(AVSCAN *av)
{
    int     i;

    if (av == NULL)
        return;
    if (av->watching)
        cl_statfree(&av->dbstat);
    if (av->engine)
        cl_engine_free(av->engine);
    /* the last engine of this process pointed at its directory: nothing
     * will scan there any more */
    if (av->kind == AVSCAN_CLAMAV && av->tmp_gen != 0 && av->tmp_gen == avscan_tmp.gen
        && avscan_tmp.pid == getpid() && --avscan_tmp.users <= 0) {
        avscan_tmp.users = 0;
        avscan_tmpdir_remove();
    }
    for (i = 0; i < av->nservers; i++) {
        myfree(av->servers[i].name);
        if (av->servers[i].path)
            myfree(av->servers[i].path);
        if (av->servers[i].host)
            myfree(av->servers[i].host);
        if (av->servers[i].port)
            myfree(av->servers[i].port);
    }
    if (av->servers)
        myfree(av->servers);
    if (av->version)
        myfree(av->version);
    myfree(av);
}

/* avscan_heuristic_unchecked - a name that means "could not be inspected" */
int avscan_heuristic_unchecked(const char *virname)
{
    static const char *const prefixes[] = {
        "Heuristics.Encrypted.",
        "Heuristics.Limits.Exceeded",
    };
    size_t  i;

    if (virname == NULL)
        return 0;
    for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(virname, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}
