/*
 * metricsd - the counters over HTTP, for Prometheus (see metricsd.h)
 *
 * libmicrohttpd (and GnuTLS under it) is opened at run time, only when
 * metrics_listen is set: by metricsd_check() when the daemon starts, so
 * that a missing library stops it with a clear error, and then used by
 * the helper process alone. Nothing else pays for loading it.
 */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "filter/counters.h"
#include "filter/metricsd.h"
#include "lib/dynlib.h"
#include "lib/hostport.h"
#include "lib/metrics.h"
#include "lib/msg.h"
#include "lib/params.h"

#define METRICSD_TYPE   "text/plain; version=0.0.4; charset=utf-8"
#define METRICSD_MAX    (1 << 20)       /* bytes of one answer */

#ifndef METRICSD_MHD_SONAME
#define METRICSD_MHD_SONAME "libmicrohttpd.so.12"
#endif

#define METRICSD_FN(name)   __typeof__(name) *name

static struct {
    METRICSD_FN(MHD_start_daemon);
    METRICSD_FN(MHD_stop_daemon);
    METRICSD_FN(MHD_create_response_from_buffer);
    METRICSD_FN(MHD_add_response_header);
    METRICSD_FN(MHD_queue_response);
    METRICSD_FN(MHD_destroy_response);
} mhd;

static const DYNLIB_SYM metricsd_syms[] = {
    DYNLIB_SYM_OF(mhd, MHD_start_daemon),
    DYNLIB_SYM_OF(mhd, MHD_stop_daemon),
    DYNLIB_SYM_OF(mhd, MHD_create_response_from_buffer),
    DYNLIB_SYM_OF(mhd, MHD_add_response_header),
    DYNLIB_SYM_OF(mhd, MHD_queue_response),
    DYNLIB_SYM_OF(mhd, MHD_destroy_response),
};

/* metricsd_lib - open libmicrohttpd once; -1 with why in err */
static int metricsd_lib(VBUF *err)
{
    static void *handle;
    VBUF   *why;

    if (handle != NULL)
        return 0;
    why = vbuf_alloc(1024);
    handle = dynlib_open(METRICSD_MHD_SONAME, metricsd_syms,
                         (int)(sizeof(metricsd_syms) / sizeof(metricsd_syms[0])), why);
    if (handle == NULL)
        vbuf_sprintf(err, "metrics_listen = %s needs libmicrohttpd: %s",
                     var_metrics_listen, vbuf_str(why));
    vbuf_free(why);
    return handle != NULL ? 0 : -1;
}

/* metricsd_addr - metrics_listen as one socket address; -1 with why */
static int metricsd_addr(struct sockaddr_storage *ss, socklen_t *len, VBUF *err)
{
    struct addrinfo hints, *res;
    HOSTPORT hp;
    const char *why;
    int     rc;

    if (hostport_parse(var_metrics_listen, NULL, HOSTPORT_ANY_HOST, &hp, &why) < 0) {
        vbuf_sprintf(err, "metrics_listen = %s: %s", var_metrics_listen, why);
        return -1;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if ((rc = getaddrinfo(*hp.host ? hp.host : NULL, hp.port, &hints, &res)) != 0) {
        vbuf_sprintf(err, "metrics_listen = %s: %s", var_metrics_listen, gai_strerror(rc));
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* metricsd_check - metrics_listen is empty or usable */
int     metricsd_check(VBUF *err)
{
    struct sockaddr_storage ss;
    socklen_t len;

    if (*var_metrics_listen == 0)
        return 0;
    return metricsd_addr(&ss, &len, err) < 0 || metricsd_lib(err) < 0 ? -1 : 0;
}

/* metricsd_reply - one answer with code and text */
static enum MHD_Result metricsd_reply(struct MHD_Connection *c, unsigned code, const char *type,
                                      const char *text, size_t len)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    union {
        const char *c;
        void   *v;
    }       u;

    u.c = text;                         /* copied: MHD_RESPMEM_MUST_COPY */
    r = mhd.MHD_create_response_from_buffer(len, u.v, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    (void)mhd.MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
        (void)mhd.MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET");
    ret = mhd.MHD_queue_response(c, code, r);
    mhd.MHD_destroy_response(r);
    return ret;
}

/* metricsd_answer - libmicrohttpd's handler: GET /metrics */
static enum MHD_Result metricsd_answer(void *cls, struct MHD_Connection *c, const char *url,
                                       const char *method, const char *version,
                                       const char *upload, size_t *upload_size, void **state)
{
    const METRICS_DATA *m;
    VBUF   *out, *path;
    enum MHD_Result ret;

    (void)cls;
    (void)version;
    (void)upload;
    if (*state == NULL) {               /* the headers: answer once all is in */
        *state = (void *)1;
        return MHD_YES;
    }
    if (*upload_size) {                 /* a body: ignored */
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
        return metricsd_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "GET only\n", 9);
    if (strcmp(url, "/metrics") != 0)
        return metricsd_reply(c, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n", 10);
    out = vbuf_alloc(METRICSD_MAX);
    path = vbuf_alloc(4096);
    if ((m = metrics_open_ro(metrics_path(path), out)) == NULL) {
        vbuf_strcat(out, "\n");
        ret = metricsd_reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", vbuf_str(out),
                             vbuf_len(out));
    } else {
        metrics_prometheus(out, m, counters_names(), time(NULL));
        metrics_close_ro(m);
        ret = metricsd_reply(c, MHD_HTTP_OK, METRICSD_TYPE, vbuf_str(out), vbuf_len(out));
    }
    vbuf_free(path);
    vbuf_free(out);
    return ret;
}

/* metricsd_main - serve until SIGTERM */
void    metricsd_main(void)
{
    struct sockaddr_storage ss;
    socklen_t len;
    struct MHD_Daemon *d;
    VBUF   *err = vbuf_alloc(1024);
    sigset_t set;
    int     sig;

    if (metricsd_addr(&ss, &len, err) < 0 || metricsd_lib(err) < 0) {
        msg_warn("%s", vbuf_str(err));
        vbuf_free(err);
        return;
    }
    /* SIGTERM is waited for, in this thread only: block it before the
     * library's threads start, so they inherit the mask */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    d = mhd.MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                         metricsd_answer, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                         MHD_OPTION_CONNECTION_TIMEOUT, 10U,
                         MHD_OPTION_CONNECTION_LIMIT, 32U, MHD_OPTION_END);
    if (d == NULL) {
        msg_warn("metrics_listen = %s: cannot listen: %s; trying again in a minute",
                 var_metrics_listen, strerror(errno));
        (void)sigtimedwait(&set, NULL, &(struct timespec) {60, 0});
        vbuf_free(err);
        return;
    }
    msg_info("serving metrics at http://%s/metrics", var_metrics_listen);
    while (sigwait(&set, &sig) != 0)
         /* void */ ;
    mhd.MHD_stop_daemon(d);
    vbuf_free(err);
}
