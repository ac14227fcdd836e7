/*
 * counters - what the front ends count, in one place (see counters.h)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "filter/counters.h"
#include "scan/avscan.h"
#include "lib/clock.h"
#include "lib/params.h"
#include "lib/vbuf.h"

static int counters_ready;

/* counters_setup - count into metrics_file */
void    counters_setup(void)
{
    VBUF   *path = vbuf_alloc(4096);

    /* root never counts: it would make a file the filter's user cannot
     * write (root is refused before serving anyway) */
    metrics_use(geteuid() == 0 ? NULL : metrics_path(path));
    vbuf_free(path);
    counters_ready = 1;
}

/* counters_names - verdict and action names */
const METRICS_NAMES *counters_names(void)
{
    static const METRICS_NAMES names = {verdict_names, VERDICT_COUNT, action_names,
    ACTION_COUNT};

    return &names;
}

/* counters_decide - decide_message_env(), timed */
void    counters_decide(INSPECTOR *in, const char *open_err, int fd, int oversize,
                        const SMTP_ENVELOPE *env, DECISION *d)
{
    struct timespec t0 = clock_now();

    decide_message_env(in, open_err, fd, oversize, env, d);
    if (!counters_ready)
        counters_setup();
    metrics_scan_time((double)clock_ms_since(t0) / 1000.0);
    counters_signatures(in);
}

/* counters_cause - why a message was deferred, from its log line */
METRICS_CAUSE counters_cause(VERDICT verdict, ACTION action, const char *why)
{
    const char *w = why ? why : "";

    if (strstr(w, "spool") || strstr(w, "disk") || strstr(w, "space"))
        return METRICS_CAUSE_SPOOL;
    if (strstr(w, "time") || strstr(w, "deadline"))
        return METRICS_CAUSE_TIMEOUT;
    if (verdict == VERDICT_ERROR)
        return METRICS_CAUSE_SCANNER;
    if (action == ACTION_PASS || action == ACTION_TAG)
        return METRICS_CAUSE_DOWNSTREAM;
    return METRICS_CAUSE_OTHER;
}

/* counters_message - one message as its log line tells it */
void    counters_message(int design, long long size, VERDICT verdict, ACTION action,
                         const char *status, const char *why)
{
    int     deferred = status && strcmp(status, "deferred") == 0;

    if (!counters_ready)
        counters_setup();
    metrics_message(design, (int)verdict, (int)action, size);
    if (deferred)
        metrics_tempfail(counters_cause(verdict, action, why));
    /* the milter hands nothing back: Postfix keeps the message */
    if ((action == ACTION_PASS || action == ACTION_TAG) && status
        && design != METRICS_DESIGN_MILTER) {
        if (strcmp(status, "sent") == 0)
            metrics_relay(METRICS_RELAY_SENT);
        else if (deferred)
            metrics_relay(METRICS_RELAY_DEFERRED);
        else if (strcmp(status, "bounced") == 0 || strcmp(status, "rejected") == 0)
            metrics_relay(METRICS_RELAY_REFUSED);
    }
}

/* counters_signatures - the signature gauges */
void    counters_signatures(INSPECTOR *in)
{
    AVSCAN *av;
    const char *v, *slash;
    long long age;

    if (in == NULL || (av = inspector_avscan(in)) == NULL)
        return;
    if (!counters_ready)
        counters_setup();
    v = avscan_version(av);
    slash = v ? strchr(v, '/') : NULL;
    age = avscan_signature_age(av);
    metrics_signatures(avscan_signatures(av), slash ? strtoul(slash + 1, NULL, 10) : 0,
                       age >= 0 ? time(NULL) - (time_t)age : 0);
}

/* counters_status - -m status */
int     counters_status(int json)
{
    VBUF   *path = vbuf_alloc(4096), *out = vbuf_alloc(1 << 20);
    const METRICS_DATA *m;
    int     status = 0;

    if ((m = metrics_open_ro(metrics_path(path), out)) == NULL) {
        fprintf(stderr, "postsift-filter: no counters: %s\n", vbuf_str(out));
        status = 2;
    } else {
        if (json)
            metrics_json(out, m, counters_names(), time(NULL));
        else
            metrics_table(out, m, counters_names(), time(NULL));
        metrics_close_ro(m);
        fputs(vbuf_str(out), stdout);
        if (fflush(stdout) != 0 || ferror(stdout))
            status = 2;
    }
    vbuf_free(out);
    vbuf_free(path);
    return status;
}
