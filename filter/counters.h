/*
 * counters - what the front ends count, in one place
 *
 * Each mode calls counters_message() where it writes its log line, with
 * what the line says (verdict, action, status, why), so the counters and
 * the log cannot drift apart; counters_decide() is decide_message_env()
 * timed for the scan-time histogram. The counters themselves are
 * lib/metrics (the file shared by every process).
 */
#ifndef POSTSIFT_COUNTERS_H
#define POSTSIFT_COUNTERS_H

#include "scan/decide.h"
#include "scan/inspect.h"
#include "scan/verdict.h"
#include "lib/envelope.h"
#include "lib/metrics.h"

/* counters_setup - count into metrics_file from now on (the file is
 * opened at the first count) */
void    counters_setup(void);

/* counters_names - verdict and action names for the renderers */
const METRICS_NAMES *counters_names(void);

/* counters_decide - decide_message_env(), timed */
void    counters_decide(INSPECTOR *in, const char *open_err, int fd, int oversize,
                        const SMTP_ENVELOPE *env, DECISION *d);

/* counters_message - one message as its log line tells it: design
 * (METRICS_DESIGN_*), size in bytes, verdict, action, the line's status
 * (sent, bounced, rejected, deferred...) and why */
void    counters_message(int design, long long size, VERDICT verdict, ACTION action,
                         const char *status, const char *why);

/* counters_cause - the tempfail cause of a deferral (exposed for tests) */
METRICS_CAUSE counters_cause(VERDICT verdict, ACTION action, const char *why);

/* counters_status - -m status: the counters of metrics_file on stdout,
 * as a table or (json) JSON; 0, or 2 with the reason on stderr */
int     counters_status(int json);

/* counters_signatures - the gauges of the signatures of in */
void    counters_signatures(INSPECTOR *in);

#endif
