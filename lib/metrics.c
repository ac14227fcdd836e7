/*
 * metrics - counters shared by every process of postsift (see metrics.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "lib/metrics.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/safefile.h"

const char *const metrics_design_names[METRICS_DESIGNS] = {
    "none", "pipe", "smtpd", "spawn", "lmtp", "milter",
};
const char *const metrics_cause_names[METRICS_CAUSES] = {
    "scanner", "spool", "timeout", "downstream", "other",
};
const char *const metrics_relay_names[METRICS_RELAYS] = {
    "sent", "refused", "deferred",
};
const double metrics_bucket_le[METRICS_BUCKETS - 1] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

static char *metrics_file;              /* NULL: count nowhere */
static METRICS_DATA *metrics_map;       /* this process's mapping */
static int metrics_failed;              /* warned once; count nothing */

#define ADD(counter, n) atomic_fetch_add_explicit(&(counter), (n), memory_order_relaxed)
#define GET(counter)    atomic_load_explicit(&(counter), memory_order_relaxed)
#define SET(counter, v) atomic_store_explicit(&(counter), (v), memory_order_relaxed)

/* metrics_use - count into path from now on */
void    metrics_use(const char *path)
{
    if (metrics_map)
        munmap(metrics_map, sizeof(*metrics_map));
    metrics_map = NULL;
    metrics_failed = 0;
    myfree(metrics_file);
    metrics_file = path && *path ? mystrdup(path) : NULL;
}

/* metrics_path - metrics_file, or "metrics" beside spool_dir (in its
 * parent: spool_dir holds only messages in transit) */
const char *metrics_path(VBUF *buf)
{
    const char *spool = var_spool_dir && *var_spool_dir ? var_spool_dir : ".";
    size_t  len = strlen(spool);

    if (var_metrics_file && *var_metrics_file) {
        vbuf_strcpy(buf, var_metrics_file);
        return vbuf_str(buf);
    }
    while (len > 1 && spool[len - 1] == '/')
        len--;
    while (len > 0 && spool[len - 1] != '/')
        len--;
    while (len > 1 && spool[len - 1] == '/')
        len--;
    if (len == 0)
        vbuf_strcpy(buf, "metrics");
    else
        vbuf_sprintf(buf, "%.*s%smetrics", (int)len, spool, len == 1 ? "" : "/");
    return vbuf_str(buf);
}

/* metrics_header_ok - the file at fd has our magic, version and size */
static int metrics_header_ok(int fd, const struct stat *st)
{
    METRICS_DATA h;

    if ((size_t)st->st_size != sizeof(METRICS_DATA))
        return 0;
    if (pread(fd, &h, offsetof(METRICS_DATA, messages), 0)
        != (ssize_t)offsetof(METRICS_DATA, messages))
        return 0;
    return h.magic == METRICS_MAGIC && h.version == METRICS_VERSION
        && h.size == sizeof(METRICS_DATA);
}

/* metrics_init_fd - make the empty file at fd a fresh counter file */
static int metrics_init_fd(int fd)
{
    METRICS_DATA h;

    memset(&h, 0, offsetof(METRICS_DATA, messages));
    h.magic = METRICS_MAGIC;
    h.version = METRICS_VERSION;
    h.size = sizeof(METRICS_DATA);
    if (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)sizeof(METRICS_DATA)) < 0)
        return -1;
    if (pwrite(fd, &h, offsetof(METRICS_DATA, messages), 0)
        != (ssize_t)offsetof(METRICS_DATA, messages))
        return -1;
    return 0;
}

/* metrics_replace - put a fresh file in place of a foreign one (by
 * rename, so that processes mapping the old one are not hurt) */
static int metrics_replace(const char *path, VBUF *err)
{
    char    tmp[4096];
    int     fd, ret = -1;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp)) {
        vbuf_sprintf(err, "path too long");
    } else if ((fd = mkstemp(tmp)) < 0) {
        vbuf_sprintf(err, "create %s: %s", tmp, strerror(errno));
    } else {
        if (fchmod(fd, 0600) < 0 || metrics_init_fd(fd) < 0 || rename(tmp, path) < 0) {
            vbuf_sprintf(err, "replace %s: %s", path, strerror(errno));
            (void)unlink(tmp);
        } else {
            msg_info("%s: not a counter file of this version: started a fresh one", path);
            ret = 0;
        }
        close(fd);
    }
    return ret;
}

/* metrics_open_rw - open (create, initialize, replace) and map path */
static METRICS_DATA *metrics_open_rw(const char *path, VBUF *err)
{
    struct stat st;
    void   *p = NULL;
    int     fd, created, tries, ok;

    for (tries = 0; tries < 3 && p == NULL; tries++) {
        if ((fd = safefile_open(path, O_RDWR, 0600, SAFEFILE_NO_OWNER, &created, err)) < 0)
            return NULL;
        if (flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0) {
            vbuf_sprintf(err, "lock %s: %s", path, strerror(errno));
            close(fd);
            return NULL;
        }
        ok = metrics_header_ok(fd, &st);
        if (!ok && st.st_size == 0)
            ok = metrics_init_fd(fd) == 0;
        if (ok) {
            p = mmap(NULL, sizeof(METRICS_DATA), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (p == MAP_FAILED) {
                vbuf_sprintf(err, "mmap %s: %s", path, strerror(errno));
                close(fd);
                return NULL;
            }
        }
        /* the mapping keeps the open file (and so a lock on it) alive
         * past close(): unlock first */
        (void)flock(fd, LOCK_UN);
        close(fd);
        if (!ok && metrics_replace(path, err) < 0)
            return NULL;
    }
    if (p == NULL)
        vbuf_sprintf(err, "%s keeps changing", path);
    return p;
}

/* metrics_shared - the mapping, made at the first call */
METRICS_DATA *metrics_shared(void)
{
    VBUF   *err;

    if (metrics_map || metrics_failed || metrics_file == NULL)
        return metrics_map;
    err = vbuf_alloc(1024);
    if ((metrics_map = metrics_open_rw(metrics_file, err)) == NULL) {
        metrics_failed = 1;
        msg_warn("metrics_file %s: %s: counting nothing", metrics_file, vbuf_str(err));
    }
    vbuf_free(err);
    return metrics_map;
}

/* metrics_message - one message of design with verdict and action */
void    metrics_message(int design, int verdict, int action, long long bytes)
{
    METRICS_DATA *m = metrics_shared();

    if (m == NULL || design < 0 || design >= METRICS_DESIGNS)
        return;
    if (verdict >= 0 && verdict < METRICS_VERDICTS) {
        ADD(m->messages[design][verdict], 1);
        ADD(m->bytes[design][verdict], bytes > 0 ? (uint64_t)bytes : 0);
    }
    if (action >= 0 && action < METRICS_ACTIONS)
        ADD(m->actions[design][action], 1);
}

/* metrics_scan_time - one scan that took seconds */
void    metrics_scan_time(double seconds)
{
    METRICS_DATA *m = metrics_shared();
    int     i;

    if (m == NULL)
        return;
    if (seconds < 0)
        seconds = 0;
    for (i = 0; i < METRICS_BUCKETS - 1 && seconds > metrics_bucket_le[i]; i++)
         /* void */ ;
    ADD(m->scan_bucket[i], 1);
    ADD(m->scan_sum_us, (uint64_t)(seconds * 1e6));
    ADD(m->scan_count, 1);
}

/* metrics_tempfail - one message deferred for cause */
void    metrics_tempfail(METRICS_CAUSE cause)
{
    METRICS_DATA *m = metrics_shared();

    if (m && cause < METRICS_CAUSES)
        ADD(m->tempfails[cause], 1);
}

/* metrics_relay - one reinjection with result */
void    metrics_relay(METRICS_RELAY result)
{
    METRICS_DATA *m = metrics_shared();

    if (m && result < METRICS_RELAYS)
        ADD(m->relays[result], 1);
}

/* metrics_reload - one reload, done or failed */
void    metrics_reload(int ok)
{
    METRICS_DATA *m = metrics_shared();

    if (m == NULL)
        return;
    if (ok)
        ADD(m->reloads_ok, 1);
    else
        ADD(m->reloads_failed, 1);
}

/* metrics_signatures - the loaded signatures (gauges) */
void    metrics_signatures(unsigned long count, unsigned long version, time_t newest)
{
    METRICS_DATA *m = metrics_shared();

    if (m == NULL)
        return;
    SET(m->sig_count, count);
    SET(m->sig_version, version);
    SET(m->sig_time, (int64_t)newest);
}

/* metrics_slot_free - slot i may be taken by us (free, or its process
 * is gone); pid is its current holder */
static int metrics_slot_free(int32_t pid)
{
    return pid == 0 || (kill((pid_t)pid, 0) < 0 && errno == ESRCH);
}

/* metrics_worker - this process is a worker of design in state */
void    metrics_worker(int design, int state)
{
    static int slot = -1;
    static pid_t slot_pid;
    METRICS_DATA *m = metrics_shared();
    int32_t me = (int32_t)getpid(), pid;
    int     i;

    if (m == NULL || design <= 0 || design >= METRICS_DESIGNS)
        return;
    if (slot_pid != me)
        slot = -1;                      /* a child of the slot's holder */
    for (i = 0; slot < 0 && state != METRICS_WORKER_GONE && i < METRICS_SLOTS; i++) {
        pid = GET(m->slots[i].pid);
        if (metrics_slot_free(pid)
            && atomic_compare_exchange_strong(&m->slots[i].pid, &pid, me)) {
            slot = i;
            slot_pid = me;
        }
    }
    if (slot < 0)
        return;
    SET(m->slots[slot].state, (int32_t)(design << 4 | state));
    if (state == METRICS_WORKER_GONE) {
        SET(m->slots[slot].pid, 0);
        slot = -1;
    }
}

/* metrics_workers - live workers of design in state */
long    metrics_workers(const METRICS_DATA *m, int design, int state)
{
    long    n = 0;
    int32_t pid;
    int     i;

    for (i = 0; i < METRICS_SLOTS; i++) {
        pid = GET(m->slots[i].pid);
        if (pid != 0 && !metrics_slot_free(pid) && GET(m->slots[i].state) == (design << 4 | state))
            n++;
    }
    return n;
}

/* metrics_open_ro - map path read-only */
const METRICS_DATA *metrics_open_ro(const char *path, VBUF *err)
{
    struct stat st;
    void   *p;
    int     fd;

    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        vbuf_sprintf(err, "open %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !metrics_header_ok(fd, &st)) {
        vbuf_sprintf(err, "%s: not a counter file of this version", path);
        close(fd);
        return NULL;
    }
    p = mmap(NULL, sizeof(METRICS_DATA), PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        vbuf_sprintf(err, "mmap %s: %s", path, strerror(errno));
        return NULL;
    }
    return p;
}

/* metrics_close_ro - unmap */
void    metrics_close_ro(const METRICS_DATA *m)
{
    union {
        const METRICS_DATA *c;
        void   *v;
    }       u;

    u.c = m;
    if (m)
        munmap(u.v, sizeof(*m));
}

 /*
  * Rendering. The Prometheus text format, version 0.0.4: a HELP and a
  * TYPE line per metric, then one line per label set.
  */

/* metrics_head - the HELP and TYPE lines */
static void metrics_head(VBUF *out, const char *name, const char *type, const char *help)
{
    vbuf_sprintf_append(out, "# HELP postsift_%s %s\n# TYPE postsift_%s %s\n",
                        name, help, name, type);
}

/* metrics_by_design - a counter per design and verdict or action */
static void metrics_by_design(VBUF *out, const char *name, const char *label,
                              const char *const *names, int count,
                              const _Atomic uint64_t (*v)[METRICS_VERDICTS])
{
    int     d, i;

    for (d = 1; d < METRICS_DESIGNS; d++)
        for (i = 0; i < count; i++)
            vbuf_sprintf_append(out, "postsift_%s{design=\"%s\",%s=\"%s\"} %llu\n", name,
                                metrics_design_names[d], label, names[i],
                                (unsigned long long)GET(v[d][i]));
}

/* metrics_histogram - the scan time histogram */
static void metrics_histogram(VBUF *out, const METRICS_DATA *m)
{
    unsigned long long sum = 0;
    int     i;

    metrics_head(out, "scan_duration_seconds", "histogram",
                 "Time taken to inspect a message and decide.");
    for (i = 0; i < METRICS_BUCKETS; i++) {
        sum += GET(m->scan_bucket[i]);
        if (i < METRICS_BUCKETS - 1)
            vbuf_sprintf_append(out, "postsift_scan_duration_seconds_bucket{le=\"%g\"} %llu\n",
                                metrics_bucket_le[i], sum);
        else
            vbuf_sprintf_append(out, "postsift_scan_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                                sum);
    }
    vbuf_sprintf_append(out, "postsift_scan_duration_seconds_sum %.6f\n",
                        (double)GET(m->scan_sum_us) / 1e6);
    vbuf_sprintf_append(out, "postsift_scan_duration_seconds_count %llu\n",
                        (unsigned long long)GET(m->scan_count));
}

/* metrics_labelled - a counter with one label over names */
static void metrics_labelled(VBUF *out, const char *name, const char *label,
                             const char *const *names, int count, const _Atomic uint64_t *v)
{
    int     i;

    for (i = 0; i < count; i++)
        vbuf_sprintf_append(out, "postsift_%s{%s=\"%s\"} %llu\n", name, label, names[i],
                            (unsigned long long)GET(v[i]));
}

/* metrics_gauges - signatures and workers */
static void metrics_gauges(VBUF *out, const METRICS_DATA *m, time_t now)
{
    static const int daemons[] = {METRICS_DESIGN_SMTPD, METRICS_DESIGN_MILTER};
    int64_t newest = GET(m->sig_time);
    size_t  i;

    metrics_head(out, "signatures", "gauge", "Malware signatures loaded.");
    vbuf_sprintf_append(out, "postsift_signatures %llu\n",
                        (unsigned long long)GET(m->sig_count));
    metrics_head(out, "signature_version", "gauge", "Version of the signature database.");
    vbuf_sprintf_append(out, "postsift_signature_version %llu\n",
                        (unsigned long long)GET(m->sig_version));
    if (newest > 0) {
        metrics_head(out, "signature_age_seconds", "gauge",
                     "Age of the newest signature database.");
        vbuf_sprintf_append(out, "postsift_signature_age_seconds %lld\n",
                            (long long)(now - (time_t)newest));
    }
    metrics_head(out, "workers", "gauge", "Daemon worker processes, busy or idle.");
    for (i = 0; i < sizeof(daemons) / sizeof(daemons[0]); i++) {
        vbuf_sprintf_append(out, "postsift_workers{design=\"%s\",state=\"busy\"} %ld\n",
                            metrics_design_names[daemons[i]],
                            metrics_workers(m, daemons[i], METRICS_WORKER_BUSY));
        vbuf_sprintf_append(out, "postsift_workers{design=\"%s\",state=\"idle\"} %ld\n",
                            metrics_design_names[daemons[i]],
                            metrics_workers(m, daemons[i], METRICS_WORKER_IDLE));
    }
}

/* metrics_prometheus - the text format 0.0.4 */
void    metrics_prometheus(VBUF *out, const METRICS_DATA *m, const METRICS_NAMES *n, time_t now)
{
    static const char *const ok_failed[] = {"ok", "failed"};
    const _Atomic uint64_t reloads[2] = {GET(m->reloads_ok), GET(m->reloads_failed)};

    vbuf_reset(out);
    metrics_head(out, "messages_total", "counter", "Messages handled, by design and verdict.");
    metrics_by_design(out, "messages_total", "verdict", n->verdicts, n->nverdicts, m->messages);
    metrics_head(out, "message_bytes_total", "counter",
                 "Bytes of messages handled, by design and verdict.");
    metrics_by_design(out, "message_bytes_total", "verdict", n->verdicts, n->nverdicts,
                      m->bytes);
    metrics_head(out, "actions_total", "counter", "Actions taken, by design and action.");
    metrics_by_design(out, "actions_total", "action", n->actions, n->nactions, m->actions);
    metrics_histogram(out, m);
    metrics_head(out, "tempfails_total", "counter", "Messages deferred, by cause.");
    metrics_labelled(out, "tempfails_total", "cause", metrics_cause_names, METRICS_CAUSES,
                     m->tempfails);
    metrics_head(out, "reinjections_total", "counter", "Messages handed back to Postfix, by result.");
    metrics_labelled(out, "reinjections_total", "result", metrics_relay_names, METRICS_RELAYS,
                     m->relays);
    metrics_head(out, "reloads_total", "counter", "Daemon reloads, by result.");
    metrics_labelled(out, "reloads_total", "result", ok_failed, 2, reloads);
    metrics_gauges(out, m, now);
}

/* metrics_table_design - rows of messages (and bytes) per design */
static void metrics_table_design(VBUF *out, const METRICS_DATA *m, const METRICS_NAMES *n)
{
    unsigned long long bytes;
    int     d, i;

    vbuf_sprintf_append(out, "%-10s", "messages");
    for (i = 0; i < n->nverdicts; i++)
        vbuf_sprintf_append(out, " %10s", n->verdicts[i]);
    vbuf_sprintf_append(out, " %14s\n", "bytes");
    for (d = 1; d < METRICS_DESIGNS; d++) {
        vbuf_sprintf_append(out, "%-10s", metrics_design_names[d]);
        for (bytes = 0, i = 0; i < n->nverdicts; i++) {
            vbuf_sprintf_append(out, " %10llu", (unsigned long long)GET(m->messages[d][i]));
            bytes += GET(m->bytes[d][i]);
        }
        vbuf_sprintf_append(out, " %14llu\n", bytes);
    }
    vbuf_sprintf_append(out, "\n%-10s", "actions");
    for (i = 0; i < n->nactions; i++)
        vbuf_sprintf_append(out, " %10s", n->actions[i]);
    vbuf_strcat(out, "\n");
    for (d = 1; d < METRICS_DESIGNS; d++) {
        vbuf_sprintf_append(out, "%-10s", metrics_design_names[d]);
        for (i = 0; i < n->nactions; i++)
            vbuf_sprintf_append(out, " %10llu", (unsigned long long)GET(m->actions[d][i]));
        vbuf_strcat(out, "\n");
    }
}

/* metrics_table - the counters for people */
void    metrics_table(VBUF *out, const METRICS_DATA *m, const METRICS_NAMES *n, time_t now)
{
    unsigned long long count = GET(m->scan_count);
    int64_t newest = GET(m->sig_time);
    int     i;

    vbuf_reset(out);
    metrics_table_design(out, m, n);
    vbuf_sprintf_append(out, "\nscans      %llu, mean %.3fs, ", count,
                        count ? (double)GET(m->scan_sum_us) / 1e6 / (double)count : 0.0);
    for (i = 0; i < METRICS_BUCKETS; i++)
        vbuf_sprintf_append(out, i < METRICS_BUCKETS - 1 ? "%s<=%gs:%llu" : "%s>%gs:%llu",
                            i ? " " : "", metrics_bucket_le[i < METRICS_BUCKETS - 1 ? i : i - 1],
                            (unsigned long long)GET(m->scan_bucket[i]));
    vbuf_strcat(out, "\ntempfails ");
    for (i = 0; i < METRICS_CAUSES; i++)
        vbuf_sprintf_append(out, " %s=%llu", metrics_cause_names[i],
                            (unsigned long long)GET(m->tempfails[i]));
    vbuf_strcat(out, "\nreinjected");
    for (i = 0; i < METRICS_RELAYS; i++)
        vbuf_sprintf_append(out, " %s=%llu", metrics_relay_names[i],
                            (unsigned long long)GET(m->relays[i]));
    vbuf_sprintf_append(out, "\nreloads    ok=%llu failed=%llu\n",
                        (unsigned long long)GET(m->reloads_ok),
                        (unsigned long long)GET(m->reloads_failed));
    vbuf_sprintf_append(out, "signatures %llu, version %llu, age %s%lld\n",
                        (unsigned long long)GET(m->sig_count),
                        (unsigned long long)GET(m->sig_version), newest > 0 ? "" : "unknown ",
                        newest > 0 ? (long long)(now - (time_t)newest) : 0LL);
    vbuf_sprintf_append(out, "workers    smtpd busy=%ld idle=%ld, milter busy=%ld idle=%ld\n",
                        metrics_workers(m, METRICS_DESIGN_SMTPD, METRICS_WORKER_BUSY),
                        metrics_workers(m, METRICS_DESIGN_SMTPD, METRICS_WORKER_IDLE),
                        metrics_workers(m, METRICS_DESIGN_MILTER, METRICS_WORKER_BUSY),
                        metrics_workers(m, METRICS_DESIGN_MILTER, METRICS_WORKER_IDLE));
}

/* metrics_json_design - "name":{"design":{"label":N,...},...} */
static void metrics_json_design(VBUF *out, const char *name, const char *const *names,
                                int count, const _Atomic uint64_t (*v)[METRICS_VERDICTS])
{
    int     d, i;

    vbuf_sprintf_append(out, "\"%s\":{", name);
    for (d = 1; d < METRICS_DESIGNS; d++) {
        vbuf_sprintf_append(out, "%s\"%s\":{", d > 1 ? "," : "", metrics_design_names[d]);
        for (i = 0; i < count; i++)
            vbuf_sprintf_append(out, "%s\"%s\":%llu", i ? "," : "", names[i],
                                (unsigned long long)GET(v[d][i]));
        vbuf_strcat(out, "}");
    }
    vbuf_strcat(out, "},");
}

/* metrics_json_list - "name":{"label":N,...} */
static void metrics_json_list(VBUF *out, const char *name, const char *const *names, int count,
                              const _Atomic uint64_t *v)
{
    int     i;

    vbuf_sprintf_append(out, "\"%s\":{", name);
    for (i = 0; i < count; i++)
        vbuf_sprintf_append(out, "%s\"%s\":%llu", i ? "," : "", names[i],
                            (unsigned long long)GET(v[i]));
    vbuf_strcat(out, "},");
}

/* metrics_json - the same as one JSON object (names are ours: no
 * escaping needed) */
void    metrics_json(VBUF *out, const METRICS_DATA *m, const METRICS_NAMES *n, time_t now)
{
    int64_t newest = GET(m->sig_time);

    vbuf_reset(out);
    vbuf_strcat(out, "{");
    metrics_json_design(out, "messages", n->verdicts, n->nverdicts, m->messages);
    metrics_json_design(out, "bytes", n->verdicts, n->nverdicts, m->bytes);
    metrics_json_design(out, "actions", n->actions, n->nactions, m->actions);
    vbuf_sprintf_append(out, "\"scans\":{\"count\":%llu,\"seconds\":%.6f},",
                        (unsigned long long)GET(m->scan_count),
                        (double)GET(m->scan_sum_us) / 1e6);
    metrics_json_list(out, "tempfails", metrics_cause_names, METRICS_CAUSES, m->tempfails);
    metrics_json_list(out, "reinjections", metrics_relay_names, METRICS_RELAYS, m->relays);
    vbuf_sprintf_append(out, "\"reloads\":{\"ok\":%llu,\"failed\":%llu},",
                        (unsigned long long)GET(m->reloads_ok),
                        (unsigned long long)GET(m->reloads_failed));
    vbuf_sprintf_append(out, "\"signatures\":{\"count\":%llu,\"version\":%llu,\"age\":%lld},",
                        (unsigned long long)GET(m->sig_count),
                        (unsigned long long)GET(m->sig_version),
                        newest > 0 ? (long long)(now - (time_t)newest) : -1LL);
    vbuf_sprintf_append(out, "\"workers\":{\"smtpd\":{\"busy\":%ld,\"idle\":%ld},"
                        "\"milter\":{\"busy\":%ld,\"idle\":%ld}}}\n",
                        metrics_workers(m, METRICS_DESIGN_SMTPD, METRICS_WORKER_BUSY),
                        metrics_workers(m, METRICS_DESIGN_SMTPD, METRICS_WORKER_IDLE),
                        metrics_workers(m, METRICS_DESIGN_MILTER, METRICS_WORKER_BUSY),
                        metrics_workers(m, METRICS_DESIGN_MILTER, METRICS_WORKER_IDLE));
}
