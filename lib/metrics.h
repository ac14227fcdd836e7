/*
 * metrics - counters shared by every process of postsift
 *
 * One file (metrics_file; empty: "metrics" in the parent of spool_dir,
 * /var/spool/postsift/metrics by default), mode 0600,
 * mapped with mmap(MAP_SHARED) by every process that counts: pipe-mode
 * processes, daemon workers, the milter. Counters are C11 atomics added
 * with relaxed fetch_add, so many processes add without a lock. The
 * file starts with a magic and a layout version; a file of another
 * layout (or size) is replaced by a fresh one, and processes that still
 * map the old one count into it until they exit.
 *
 * Counting never fails mail: when the file cannot be opened or mapped,
 * the first attempt warns and the process counts nothing from then on.
 *
 * lib/ knows nothing of verdicts and actions: they are indexes below
 * METRICS_VERDICTS and METRICS_ACTIONS, and the renderers get their
 * names from the caller (METRICS_NAMES).
 */
#ifndef POSTSIFT_METRICS_H
#define POSTSIFT_METRICS_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include "lib/vbuf.h"

#define METRICS_MAGIC    0x50534d54u    /* "PSMT" */
#define METRICS_VERSION  1u

#define METRICS_VERDICTS 8
#define METRICS_ACTIONS  8
#define METRICS_BUCKETS  12             /* the last one is +Inf */
#define METRICS_SLOTS    512            /* worker processes seen at once */

/* the designs (front ends); 0 is none */
typedef enum METRICS_DESIGN {
    METRICS_DESIGN_NONE = 0,
    METRICS_DESIGN_PIPE,
    METRICS_DESIGN_SMTPD,               /* the smtpd daemon (-m smtpd -d) */
    METRICS_DESIGN_SPAWN,               /* -m smtpd under spawn(8) */
    METRICS_DESIGN_LMTP,
    METRICS_DESIGN_MILTER,
    METRICS_DESIGNS
} METRICS_DESIGN;

/* why a message was deferred */
typedef enum METRICS_CAUSE {
    METRICS_CAUSE_SCANNER,              /* the scanner failed (verdict error) */
    METRICS_CAUSE_SPOOL,                /* spool or disk trouble */
    METRICS_CAUSE_TIMEOUT,
    METRICS_CAUSE_DOWNSTREAM,           /* the reinjection target said 4xx or was down */
    METRICS_CAUSE_OTHER,
    METRICS_CAUSES
} METRICS_CAUSE;

/* what became of a reinjection (hand-over downstream) */
typedef enum METRICS_RELAY {
    METRICS_RELAY_SENT,
    METRICS_RELAY_REFUSED,
    METRICS_RELAY_DEFERRED,
    METRICS_RELAYS
} METRICS_RELAY;

/* a worker's state, for the busy and idle gauges */
#define METRICS_WORKER_GONE 0
#define METRICS_WORKER_IDLE 1
#define METRICS_WORKER_BUSY 2

typedef struct METRICS_SLOT {
    _Atomic int32_t pid;                /* 0: free */
    _Atomic int32_t state;              /* design << 4 | METRICS_WORKER_* */
} METRICS_SLOT;

typedef struct METRICS_DATA {
    uint32_t magic;
    uint32_t version;
    uint64_t size;                      /* sizeof(METRICS_DATA) */
    _Atomic uint64_t messages[METRICS_DESIGNS][METRICS_VERDICTS];
    _Atomic uint64_t bytes[METRICS_DESIGNS][METRICS_VERDICTS];
    _Atomic uint64_t actions[METRICS_DESIGNS][METRICS_ACTIONS];
    _Atomic uint64_t scan_bucket[METRICS_BUCKETS];      /* not cumulative */
    _Atomic uint64_t scan_sum_us;
    _Atomic uint64_t scan_count;
    _Atomic uint64_t tempfails[METRICS_CAUSES];
    _Atomic uint64_t relays[METRICS_RELAYS];
    _Atomic uint64_t reloads_ok;
    _Atomic uint64_t reloads_failed;
    _Atomic uint64_t sig_count;
    _Atomic uint64_t sig_version;
    _Atomic int64_t sig_time;           /* newest signature, unix time; 0: unknown */
    METRICS_SLOT slots[METRICS_SLOTS];
} METRICS_DATA;

/* names for the renderers */
typedef struct METRICS_NAMES {
    const char *const *verdicts;
    int     nverdicts;                  /* at most METRICS_VERDICTS */
    const char *const *actions;
    int     nactions;                   /* at most METRICS_ACTIONS */
} METRICS_NAMES;

extern const char *const metrics_design_names[METRICS_DESIGNS];
extern const char *const metrics_cause_names[METRICS_CAUSES];
extern const char *const metrics_relay_names[METRICS_RELAYS];
extern const double metrics_bucket_le[METRICS_BUCKETS - 1];

/* metrics_use - count into the file at path from now on ("" or NULL:
 * nowhere); the file is opened at the first count */
void    metrics_use(const char *path);

/* metrics_path - the file of metrics_file and spool_dir, into buf:
 * metrics_file, or "metrics" in the directory above spool_dir */
const char *metrics_path(VBUF *buf);

/* metrics_shared - the mapped counters of this process, NULL when there
 * are none (not configured, or the file failed: warned once) */
METRICS_DATA *metrics_shared(void);

/* counting; each does nothing without a mapped file */
void    metrics_message(int design, int verdict, int action, long long bytes);
void    metrics_scan_time(double seconds);
void    metrics_tempfail(METRICS_CAUSE cause);
void    metrics_relay(METRICS_RELAY result);
void    metrics_reload(int ok);
void    metrics_signatures(unsigned long count, unsigned long version, time_t newest);
void    metrics_worker(int design, int state);

/* metrics_open_ro - map path read-only (a reader: -m status, the HTTP
 * endpoint); NULL with why in err (a missing file, a foreign layout) */
const METRICS_DATA *metrics_open_ro(const char *path, VBUF *err);
void    metrics_close_ro(const METRICS_DATA *m);

/* metrics_workers - live workers of design in state (slots whose
 * process still exists) */
long    metrics_workers(const METRICS_DATA *m, int design, int state);

/* metrics_prometheus - the text format 0.0.4 of m into out (reset
 * first); now: for the signature age */
void    metrics_prometheus(VBUF *out, const METRICS_DATA *m, const METRICS_NAMES *n,
                           time_t now);

/* metrics_json - the same as one JSON object and a newline */
void    metrics_json(VBUF *out, const METRICS_DATA *m, const METRICS_NAMES *n, time_t now);

/* metrics_table - the same as a table for people */
void    metrics_table(VBUF *out, const METRICS_DATA *m, const METRICS_NAMES *n, time_t now);

#endif
