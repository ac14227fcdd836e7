/*
 * avclamd - the "clamd" scanner backend: a pool of clamd servers
 *
 * Every clamd:unix:/path and clamd:inet:host:port entry of the scanner
 * setting is one server of one pool, in the order listed. A scan speaks
 * INSTREAM ("z" commands, NUL-terminated) to each server in turn through
 * lib/netio, with one deadline (clamd_timeout) per exchange. A server
 * that fails to connect or breaks off is marked down and skipped by later
 * scans for AVCLAMD_RETRY seconds; when every server is down they are all
 * tried again. A reply, even an ERROR reply, is an answer: it ends the
 * scan without failover. A descriptor is read with pread(), so its offset
 * stays where it was. The down marks live in the backend: not for sharing
 * between threads.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/hostport.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/netio.h"
#include "lib/params.h"
#include "lib/printable.h"
#include "lib/vbuf.h"
#include "scan/avbackend.h"

#define AVCLAMD_CHUNK   (64 * 1024)     /* INSTREAM chunk size */
#define AVCLAMD_REPLY   4096            /* longest reply we accept */
#define AVCLAMD_RETRY   60              /* seconds a down server is skipped */
#define AVCLAMD_ERR_CAP 4096            /* bound on error texts we build */

typedef struct AVCLAMD_SERVER {
    char   *name;           /* "unix:/path" or "inet:host:port", for logs */
    char   *target;         /* for netio_connect: "unix:/path" or "[host]:port" */
    int     down;           /* failed last time */
    time_t  down_since;     /* when it failed */
} AVCLAMD_SERVER;

typedef struct AVCLAMD {
    AVCLAMD_SERVER *servers;
    int     nservers;
    char   *version;        /* "clamd ClamAV 1.4.6/27000" */
    int     version_known;  /* a server answered VERSION */
} AVCLAMD;

#define AVCLAMD_OK          0   /* got a reply */
#define AVCLAMD_SERVER_ERR  (-1)    /* connect/IO error: try the next server */
#define AVCLAMD_LOCAL_ERR   (-2)    /* our side failed (reading the message) */

/* What to send after the command: INSTREAM data from a file or memory. */
typedef struct AVCLAMD_DATA {
    int     fd;             /* >= 0: this file from offset 0 */
    const char *buf;        /* else these bytes */
    size_t  len;
} AVCLAMD_DATA;

/* avclamd_timeout - seconds for one exchange */
static int avclamd_timeout(void)
{
    return var_clamd_timeout > 0 && var_clamd_timeout < 86400 ? (int)var_clamd_timeout : 60;
}

/* avclamd_io_error - what went wrong on io, in err (a timeout says so in
 * those words, as it always has) */
static void avclamd_io_error(NETIO *io, const char *what, VBUF *err)
{
    if (netio_errkind(io) == NETIO_TIMEOUT)
        vbuf_sprintf(err, "%s: timed out", what);
    else
        vbuf_strcpy(err, netio_strerror(io));
}

/* avclamd_send_data - the INSTREAM chunks and the end marker; 0, or an
 * AVCLAMD_* error with why in err */
static int avclamd_send_data(NETIO *io, const AVCLAMD_DATA *data, VBUF *err)
{
    unsigned char *chunk = mymalloc(AVCLAMD_CHUNK + 4);
    off_t   off = 0;
    size_t  done = 0, n;
    ssize_t got;
    int     ret = 0;

    do {
        if (data->fd >= 0) {
            while ((got = pread(data->fd, chunk + 4, AVCLAMD_CHUNK, off)) < 0 && errno == EINTR)
                /* again */ ;
            if (got < 0) {
                vbuf_sprintf(err, "read message: %s", strerror(errno));
                ret = AVCLAMD_LOCAL_ERR;
                break;
            }
            n = (size_t)got;
            off += got;
        } else {
            n = data->len - done > AVCLAMD_CHUNK ? AVCLAMD_CHUNK : data->len - done;
            if (n)
                memcpy(chunk + 4, data->buf + done, n);
            done += n;
        }
        chunk[0] = (unsigned char)(n >> 24);
        chunk[1] = (unsigned char)(n >> 16);
        chunk[2] = (unsigned char)(n >> 8);
        chunk[3] = (unsigned char)n;
        if (netio_write(io, chunk, n + 4) < 0) {
            avclamd_io_error(io, "write", err);
            ret = AVCLAMD_SERVER_ERR;
            break;
        }
    } while (n > 0);                    /* the last one was the end marker */
    myfree(chunk);
    return ret;
}

/* avclamd_read_reply - up to the terminating NUL (or the end); -1 error */
static int avclamd_read_reply(NETIO *io, VBUF *reply, VBUF *err)
{
    char    buf[512];
    char   *nul;
    ssize_t n;

    vbuf_reset(reply);
    for (;;) {
        if ((n = netio_read(io, buf, sizeof(buf))) < 0) {
            if (vbuf_len(reply) > 0 && netio_errkind(io) != NETIO_TIMEOUT)
                break;                  /* a reset after the reply */
            avclamd_io_error(io, "read", err);
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

/* avclamd_exchange - one command (and INSTREAM data when data is not NULL)
 * to one server; the reply, printable ASCII, in reply; AVCLAMD_* */
static int avclamd_exchange(const AVCLAMD_SERVER *srv, const char *cmd,
                            const AVCLAMD_DATA *data, VBUF *reply, VBUF *err)
{
    VBUF   *raw = vbuf_alloc(AVCLAMD_REPLY);
    VBUF   *rerr;
    NETIO  *io;
    int     ret;

    if ((io = netio_connect(srv->target, avclamd_timeout(), err)) == NULL) {
        vbuf_free(raw);
        return AVCLAMD_SERVER_ERR;
    }
    netio_set_deadline(io, avclamd_timeout());
    ret = netio_write(io, cmd, strlen(cmd) + 1) < 0 ? AVCLAMD_SERVER_ERR : 0;
    if (ret < 0)
        avclamd_io_error(io, "write", err);
    else if (data != NULL)
        ret = avclamd_send_data(io, data, err);
    if (ret == 0 && netio_flush(io) < 0) {
        avclamd_io_error(io, "write", err);
        ret = AVCLAMD_SERVER_ERR;
    }
    /* a server that stops reading (StreamMaxLength) has answered first:
     * after a failed write, a reply still counts */
    if (ret != AVCLAMD_LOCAL_ERR) {
        rerr = vbuf_alloc(AVCLAMD_ERR_CAP);
        if (avclamd_read_reply(io, raw, rerr) == 0)
            ret = AVCLAMD_OK;
        else if (ret == 0) {
            vbuf_strcpy(err, vbuf_str(rerr));
            ret = AVCLAMD_SERVER_ERR;
        }
        vbuf_free(rerr);
    }
    vbuf_reset(reply);
    printable_append(reply, vbuf_str(raw), vbuf_len(raw), PRINTABLE_ALL, PRINTABLE_ASCII);
    netio_close(io);
    vbuf_free(raw);
    return ret;
}

/* avclamd_version_ask - ask srv for VERSION; 0 with the version set, or -1 */
static int avclamd_version_ask(AVCLAMD *cd, const AVCLAMD_SERVER *srv, VBUF *err)
{
    VBUF   *reply = vbuf_alloc(AVCLAMD_REPLY);
    char   *slash;
    int     ret = -1;

    if (avclamd_exchange(srv, "zVERSION", NULL, reply, err) == AVCLAMD_OK) {
        /* "ClamAV 1.4.6/27000/Mon Nov 23 ..." : drop the database date */
        if ((slash = strchr(reply->data, '/')) != NULL
            && (slash = strchr(slash + 1, '/')) != NULL)
            vbuf_truncate(reply, (size_t)(slash - reply->data));
        myfree(cd->version);
        cd->version = mymalloc(vbuf_len(reply) + sizeof("clamd "));
        snprintf(cd->version, vbuf_len(reply) + sizeof("clamd "), "clamd %s", vbuf_str(reply));
        cd->version_known = 1;
        ret = 0;
    }
    vbuf_free(reply);
    return ret;
}

/* avclamd_parse_server - one "clamd:unix:/path" or "clamd:inet:host:port" */
static int avclamd_parse_server(AVCLAMD_SERVER *srv, const char *spec, VBUF *err)
{
    struct sockaddr_un sun;
    const char *cp = spec + 6;
    const char *why = NULL;
    HOSTPORT hp;
    VBUF   *target;

    memset(srv, 0, sizeof(*srv));
    if (strncmp(spec, "clamd:", 6) == 0 && strncmp(cp, "unix:", 5) == 0 && cp[5] == '/') {
        if (strlen(cp + 5) >= sizeof(sun.sun_path)) {
            vbuf_sprintf(err, "clamd socket path too long: %s", cp + 5);
            return -1;
        }
        srv->target = mystrdup(cp);
    } else if (strncmp(spec, "clamd:", 6) == 0 && strncmp(cp, "inet:", 5) == 0
               && hostport_parse(cp, NULL, HOSTPORT_INET, &hp, &why) == 0 && *hp.host) {
        target = vbuf_alloc(0);
        vbuf_sprintf(target, "[%s]:%s", hp.host, hp.port);
        srv->target = mystrdup(vbuf_str(target));
        vbuf_free(target);
    } else {
        vbuf_sprintf(err, "bad scanner \"%s\": expected clamav, a list of "
                     "clamd:unix:/path and clamd:inet:host:port, or command:/path%s%s",
                     spec, why ? ": " : "", why ? why : "");
        return -1;
    }
    srv->name = mystrdup(cp);
    return 0;
}

/* avclamd_close - forget the pool */
static void avclamd_close(void *h)
{
    AVCLAMD *cd = h;
    int     i;

    if (cd == NULL)
        return;
    for (i = 0; i < cd->nservers; i++) {
        myfree(cd->servers[i].name);
        myfree(cd->servers[i].target);
    }
    if (cd->servers)
        myfree(cd->servers);
    if (cd->version)
        myfree(cd->version);
    myfree(cd);
}

/* avclamd_open - parse the servers, ask for the version */
static void *avclamd_open(char *const *specs, int nspecs, const char *dbdir, VBUF *err)
{
    AVCLAMD *cd = mycalloc(1, sizeof(*cd));
    VBUF   *why;
    int     i;

    (void)dbdir;
    cd->servers = mycalloc((size_t)nspecs, sizeof(*cd->servers));
    for (i = 0; i < nspecs; i++, cd->nservers++) {
        if (avclamd_parse_server(cd->servers + i, specs[i], err) < 0) {
            avclamd_close(cd);
            return NULL;
        }
    }
    cd->version = mystrdup("clamd (version unknown)");
    why = vbuf_alloc(AVCLAMD_ERR_CAP);
    for (i = 0; i < cd->nservers; i++) {
        if (avclamd_version_ask(cd, cd->servers + i, why) == 0)
            break;
        msg_warn("clamd %s: %s", cd->servers[i].name, vbuf_str(why));
        cd->servers[i].down = 1;
        cd->servers[i].down_since = time(NULL);
    }
    vbuf_free(why);
    return cd;
}

/* avclamd_result - map a clamd reply to AV_* */
static int avclamd_result(const AVCLAMD_SERVER *srv, VBUF *reply, VBUF *virname, VBUF *err)
{
    const char *text = vbuf_str(reply);
    size_t  len;

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

#define AVCLAMD_NEXT    (-10)   /* avclamd_try: the next server, please */

/* avclamd_try - one server; AV_* when it answered (or our side failed),
 * AVCLAMD_NEXT when the next one should be tried */
static int avclamd_try(AVCLAMD *cd, AVCLAMD_SERVER *srv, const AVCLAMD_DATA *data,
                       VBUF *virname, VBUF *err, VBUF *why)
{
    VBUF   *reply = vbuf_alloc(AVCLAMD_REPLY);
    int     r, ret;

    r = avclamd_exchange(srv, "zINSTREAM", data, reply, why);
    if (r == AVCLAMD_OK) {
        if (srv->down)
            msg_info("clamd %s: answering again", srv->name);
        srv->down = 0;
        ret = avclamd_result(srv, reply, virname, err);
        if (!cd->version_known && avclamd_version_ask(cd, srv, why) < 0)
            msg_warn("clamd %s: VERSION: %s", srv->name, vbuf_str(why));
    } else if (r == AVCLAMD_LOCAL_ERR) {
        vbuf_strcpy(err, vbuf_str(why));
        ret = AV_ERROR;
    } else {
        msg_warn("clamd %s: %s", srv->name, vbuf_str(why));
        srv->down = 1;
        srv->down_since = time(NULL);
        ret = AVCLAMD_NEXT;
    }
    vbuf_free(reply);
    return ret;
}

/* avclamd_scan - INSTREAM with failover; AV_* */
static int avclamd_scan(AVCLAMD *cd, const AVCLAMD_DATA *data, VBUF *virname, VBUF *err)
{
    VBUF   *why = vbuf_alloc(AVCLAMD_ERR_CAP);
    VBUF   *all = vbuf_alloc(AVCLAMD_ERR_CAP);
    char   *tried = mycalloc((size_t)cd->nservers, 1);
    time_t  now = time(NULL);
    AVCLAMD_SERVER *srv;
    int     pass, i, ret = AVCLAMD_NEXT;

    /* pass 0: servers that are up (or due for a retry); pass 1: the rest */
    for (pass = 0; pass < 2 && ret == AVCLAMD_NEXT; pass++) {
        for (i = 0; i < cd->nservers && ret == AVCLAMD_NEXT; i++) {
            srv = cd->servers + i;
            if (tried[i] || (pass == 0 && srv->down && now - srv->down_since < AVCLAMD_RETRY))
                continue;
            tried[i] = 1;
            vbuf_reset(why);
            if ((ret = avclamd_try(cd, srv, data, virname, err, why)) == AVCLAMD_NEXT)
                vbuf_sprintf_append(all, "%s%s: %s", vbuf_len(all) ? "; " : "",
                                    srv->name, vbuf_str(why));
        }
    }
    if (ret == AVCLAMD_NEXT) {
        vbuf_sprintf(err, "no clamd server answered: %s", vbuf_str(all));
        ret = AV_ERROR;
    }
    myfree(tried);
    vbuf_free(why);
    vbuf_free(all);
    return ret;
}

/* avclamd_scan_fd - a whole file */
static int avclamd_scan_fd(void *h, int fd, VBUF *virname, VBUF *err)
{
    AVCLAMD_DATA data = {fd, NULL, 0};

    return avclamd_scan(h, &data, virname, err);
}

/* avclamd_scan_mem - bytes in memory */
static int avclamd_scan_mem(void *h, const void *buf, size_t len, VBUF *virname, VBUF *err)
{
    AVCLAMD_DATA data = {-1, buf, len};

    return avclamd_scan(h, &data, virname, err);
}

/* avclamd_version - as the servers report it */
static const char *avclamd_version(void *h)
{
    return ((AVCLAMD *) h)->version;
}

const AVBACKEND avclamd_backend = {
    "clamd:", 0, 1, 1, avclamd_open, avclamd_scan_fd, avclamd_scan_mem, NULL,
    avclamd_version, NULL, NULL, avclamd_close, NULL, NULL,
};
