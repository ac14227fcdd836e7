/*
 * metricsd - the counters over HTTP, for Prometheus
 *
 * The daemons (smtpd -d, milter) serve metrics_file at
 * http://metrics_listen/metrics in the Prometheus text format 0.0.4,
 * through libmicrohttpd. It runs in a helper process of its own (the
 * server's SERVER_OPS helper): libmicrohttpd starts threads, and the
 * master, which forks workers, must have none. The helper has the
 * workers' privileges and only reads the file (mapped read-only, again
 * for each request, so a replaced file is seen). Only GET /metrics;
 * any other path is 404, any other method 405.
 */
#ifndef POSTSIFT_METRICSD_H
#define POSTSIFT_METRICSD_H

#include "lib/vbuf.h"

/* metricsd_check - metrics_listen is empty or a usable host:port; -1
 * with why in err */
int     metricsd_check(VBUF *err);

/* metricsd_main - serve until SIGTERM (the helper's body) */
void    metricsd_main(void);

#endif
